"""SqsPingQueue: the PingQueue port on Amazon SQS (the ping function on AWS).

SendMessage is one HTTPS POST in SQS's JSON protocol (AWS JSON 1.0), signed with
Signature Version 4 by the standard library (hmac, hashlib) and sent over one kept-alive
``http.client`` connection per container. Not boto3: building a boto3 SQS client cost
121-144 ms on the first ping of every container (importing ``botocore.auth`` alone,
the signer, is 64-81 ms and 200 modules; measured 2026-12-01 on the development
machine), four times the handler's own import, while this module loads no third-party
code at all. tests/integration/test_sqs_ping_queue.py keeps it honest: its signatures
must equal botocore's SigV4Auth for the same request, and it sends to moto's SQS
server over real HTTP.

Nothing is read or connected before the first ping (cold start; no environment reads
at import). It fails fast: a job's ping must never hang because SQS is slow, so after
a short connect/read timeout and one retry the edge answers 503 instead.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..domain.model import PingMessage
from ..ports import QueueFull

# SendMessage normally answers in tens of milliseconds; past these a 503 beats a hang.
CONNECT_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 1.0
# Total attempts including the first. The second one also covers a kept-alive
# connection that SQS closed while the container was frozen.
MAX_ATTEMPTS = 2
# Errors worth one more attempt (besides HTTP 5xx and network errors):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html
RETRYABLE_ERRORS = frozenset({"ThrottlingException", "RequestThrottled", "ServiceUnavailable"})

SERVICE = "sqs"
TARGET = "AmazonSQS.SendMessage"
CONTENT_TYPE = "application/x-amz-json-1.0"


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    """An access key pair and, for a role (Lambda), its session token."""

    access_key: str
    secret_key: str
    token: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AwsCredentials | None:
        """The credentials Lambda (and ``sam local invoke``) put in the environment."""
        e = os.environ if env is None else env
        key, secret = e.get("AWS_ACCESS_KEY_ID"), e.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            return None
        return cls(key, secret, e.get("AWS_SESSION_TOKEN") or None)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_headers(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """``headers`` plus Host, X-Amz-Date, the session token and Authorization: the
    request signed with AWS Signature Version 4 (every header given is signed).

    https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
    Only what SendMessage needs: a path without query string, a body in memory."""
    parts = urlsplit(url)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = stamp
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            parts.path or "/",
            "",  # no query string
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            _sha256(body),
        ]
    )
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{_sha256(canonical.encode())}"
    key = ("AWS4" + credentials.secret_key).encode()
    for part in (stamp[:8], region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return signed


class _Retryable(Exception):
    pass


class SqsPingQueue:
    def __init__(
        self,
        queue_url: str,
        region: str | None = None,
        *,
        endpoint_url: str | None = None,
        credentials: Callable[[], AwsCredentials | None] = AwsCredentials.from_env,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.queue_url = queue_url
        # The queue URL names its region (https://sqs.<region>.amazonaws.com/...).
        self.region = region or _region_from_url(queue_url)
        # SQS's JSON protocol posts to the service root: the queue URL's own host,
        # unless an endpoint is named (moto, LocalStack).
        endpoint = urlsplit(endpoint_url or queue_url)
        self.endpoint = f"{endpoint.scheme}://{endpoint.netloc}/"
        self._credentials = credentials
        self._clock = clock
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def enqueue(self, message: PingMessage) -> None:
        """Send the ping; QueueFull on any SQS or network error (the edge answers 503)."""
        text = message.to_json()
        body = json.dumps({"QueueUrl": self.queue_url, "MessageBody": text}).encode()
        with self._lock:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    self._send(body, text)
                    return
                except _Retryable as exc:
                    self._close()
                    if attempt == MAX_ATTEMPTS:
                        raise QueueFull(f"SQS: {exc}") from exc

    def _send(self, body: bytes, text: str) -> None:
        credentials = self._credentials()
        region = self.region or os.environ.get("AWS_REGION")
        if credentials is None or not region:
            raise QueueFull("SQS: no AWS credentials or region in the environment")
        headers = sigv4_headers(
            method="POST",
            url=self.endpoint,
            headers={"content-type": CONTENT_TYPE, "x-amz-target": TARGET},
            body=body,
            credentials=credentials,
            region=region,
            service=SERVICE,
            now=self._clock(),
        )
        try:
            conn = self._connection()
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            status, payload = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if status == 200:
            reply = _json(payload)
            md5 = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
            if reply.get("MD5OfMessageBody") != md5:
                raise _Retryable("the message arrived altered (MD5OfMessageBody differs)")
            return
        error = _json(payload)
        code = str(error.get("__type", "")).rsplit("#", 1)[-1] or f"HTTP {status}"
        reason = f"{code}: {error.get('message') or error.get('Message') or ''}".rstrip(": ")
        if status >= 500 or code in RETRYABLE_ERRORS:
            raise _Retryable(reason)
        raise QueueFull(f"SQS: {reason}")

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            parts = urlsplit(self.endpoint)
            host, port = parts.hostname or "", parts.port
            conn: http.client.HTTPConnection
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=CONNECT_TIMEOUT_S)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_S)
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(READ_TIMEOUT_S)
            self._conn = conn
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _json(payload: bytes) -> dict[str, object]:
    try:
        value = json.loads(payload or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _region_from_url(url: str) -> str | None:
    """sqs.<region>.amazonaws.com (current) or <region>.queue.amazonaws.com (legacy)."""
    host = urlsplit(url).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs":
        return parts[1]
    if len(parts) >= 4 and parts[1] == "queue":
        return parts[0]
    return None

"""The PingTargets port (ports.py; the set itself is domain/targets.py).

- ``LocalPingTargets``: the local mode's set, in process. The API and ingest publish into
  it in the same process as the edge, before they answer, so a check is known to the
  edge as soon as its creation is acknowledged.
- ``S3PingTargets``: one S3 object, the encoded set, on AWS. The ping function loads it
  in a background thread on its first ping (cold start: nothing is fetched before an
  answer), re-reads it every ``REFRESH_SECONDS`` with ``If-None-Match`` (a 304 costs a
  round trip, no body), and on a target missing from its copy asks S3 again at once: it
  answers "certainly not" only from a copy fetched after the ping arrived, so a check
  created (and published) before the ping is never denied. Writers publish with S3's
  conditional writes (``If-Match`` the ETag seen before reading the store, or
  ``If-None-Match: *`` for the first object), redoing the read on 412: the object
  written last was read from the store last, whatever the interleaving.

Requests are signed by ``adapters.sqs.sigv4_headers`` and sent with ``http.client``, as
the ping function's SQS client is (no boto3 on the ping path: its client alone costs
more than the function's whole import). Timeouts are short; any failure means "cannot
tell", and the edge accepts the ping.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from ..domain.targets import TargetSet
from .sqs import AwsCredentials, sigv4_headers

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
CONNECT_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 1.0
PUBLISH_ATTEMPTS = 5
OBJECT_KEY = "ping-targets/v1"


class LocalPingTargets:
    """In process: ``knows`` is None until the first ``publish`` (at start-up)."""

    def __init__(self) -> None:
        self._set: TargetSet | None = None
        self._lock = threading.Lock()

    def knows(self, target: str) -> bool | None:
        current = self._set
        return None if current is None else target in current

    def publish(self, build: Callable[[], Iterable[str]]) -> None:
        # Read and swap under one lock: the set swapped in last was read last.
        with self._lock:
            self._set = TargetSet.of(build())


class _S3Error(Exception):
    pass


class S3PingTargets:
    def __init__(
        self,
        bucket: str,
        region: str | None = None,
        *,
        endpoint_url: str | None = None,
        key: str = OBJECT_KEY,
        credentials: Callable[[], AwsCredentials | None] = AwsCredentials.from_env,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self._region = region
        self._endpoint = endpoint_url
        self._credentials = credentials
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._set: TargetSet | None = None
        self._etag: str | None = None
        self._fetch_lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self._failing = False

    # --- the edge ------------------------------------------------------------------------

    def knows(self, target: str) -> bool | None:
        current = self._set
        if current is None:
            self._start_loader()
            return None
        if target in current:
            return True
        # Not in our copy, which may predate the target: ask S3 again now.
        if not self.refresh():
            return None
        latest = self._set
        return None if latest is None else target in latest

    def refresh(self) -> bool:
        """Fetch the object if it changed; False when S3 could not be asked."""
        with self._fetch_lock:
            try:
                status, body, etag = self._request("GET", if_none_match=self._etag)
            except _S3Error as exc:
                # Once per failing stretch: the background refresh retries every 5 s.
                if not self._failing:
                    logger.warning("ping targets not refreshed: %s", exc)
                self._failing = True
                return False
            self._failing = False
            if status == 304:
                return True
            if status == 404:
                return False  # nothing published yet: cannot tell
            if status != 200:
                logger.warning("ping targets not refreshed: S3 answered %s", status)
                return False
            try:
                self._set = TargetSet.decode(body)
            except ValueError:
                logger.warning("ping targets not refreshed: the object is not a target set")
                return False
            self._etag = etag
            return True

    def _start_loader(self) -> None:
        if self._loader is not None and self._loader.is_alive():
            return
        self._loader = threading.Thread(target=self._keep_fresh, name="ping-targets", daemon=True)
        self._loader.start()

    def _keep_fresh(self) -> None:
        while True:
            self.refresh()
            time.sleep(self._refresh_seconds)

    # --- the writers (API, ingest) ---------------------------------------------------------

    def publish(self, build: Callable[[], Iterable[str]]) -> None:
        for _attempt in range(PUBLISH_ATTEMPTS):
            status, _, etag = self._request("HEAD")
            if status not in (200, 404):
                raise _S3Error(f"HEAD answered {status}")
            body = TargetSet.of(build()).encode()
            condition = {"if-match": etag} if status == 200 and etag else {"if-none-match": "*"}
            put_status, _, _ = self._request("PUT", body=body, extra=condition)
            if put_status == 200:
                return
            if put_status not in (409, 412):
                raise _S3Error(f"PUT answered {put_status}")
            # Another writer got in between: read the store again and retry.
        raise _S3Error("the ping targets changed too often to publish")

    # --- HTTP ------------------------------------------------------------------------------

    def _url(self) -> str:
        region = self._region or os.environ.get("AWS_REGION", "us-east-1")
        base = self._endpoint or os.environ.get("AWS_ENDPOINT_URL_S3")
        base = (base or f"https://s3.{region}.amazonaws.com").rstrip("/")
        return f"{base}/{quote(self.bucket)}/{quote(self.key)}"

    def _request(
        self,
        method: str,
        *,
        body: bytes = b"",
        if_none_match: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> tuple[int, bytes, str | None]:
        credentials = self._credentials()
        region = self._region or os.environ.get("AWS_REGION")
        if credentials is None or not region:
            raise _S3Error("no AWS credentials or region in the environment")
        url = self._url()
        headers = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest(), **(extra or {})}
        if if_none_match:
            headers["if-none-match"] = if_none_match
        signed = sigv4_headers(
            method=method,
            url=url,
            headers=headers,
            body=body,
            credentials=credentials,
            region=region,
            service="s3",
            now=self._clock(),
        )
        parts = urlsplit(url)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.netloc, timeout=CONNECT_TIMEOUT_S)
        else:
            conn = http.client.HTTPConnection(parts.netloc, timeout=CONNECT_TIMEOUT_S)
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(READ_TIMEOUT_S)
            conn.request(method, parts.path, body=body or None, headers=signed)
            response = conn.getresponse()
            data = response.read()
            return response.status, data, response.getheader("etag")
        except (OSError, http.client.HTTPException) as exc:
            raise _S3Error(f"{type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()

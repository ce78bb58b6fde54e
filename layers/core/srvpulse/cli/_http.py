"""The one HTTP helper of the `srvpulse` command: the standard library only (urllib),
short timeouts, a few retries, and a hard deadline, so a command that talks to srvpulse
from a job's machine never hangs the job."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

USER_AGENT = "srvpulse-cli/0.1"
# Per request; a ping is answered in milliseconds when srvpulse is healthy.
REQUEST_TIMEOUT = 2.0
ATTEMPTS = 3
# Total time one call may take, retries and pauses included.
DEADLINE = 6.0
RETRY_PAUSES = (0.5, 1.5)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the server answered; ``status`` 0 means it was not reached."""

    status: int
    text: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.text)

    def message(self) -> str:
        """The server's error message (its JSON ``error``), or what went wrong."""
        if self.error:
            return self.error
        try:
            data = json.loads(self.text)
        except ValueError:
            return self.text.strip()[:300] or f"HTTP {self.status}"
        if isinstance(data, dict) and "error" in data:
            field = f" (field {data['field']})" if data.get("field") else ""
            return f"{data['error']}{field}"
        return self.text.strip()[:300]


def _retryable(status: int) -> bool:
    return status == 0 or status == 429 or status >= 500


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
    attempts: int = ATTEMPTS,
    deadline: float = DEADLINE,
) -> Reply:
    """One HTTP call with retries on network errors, 429 and 5xx, never past ``deadline``
    seconds in all. Never raises for HTTP or network trouble: the reply says."""
    if not url.startswith(("http://", "https://")):
        return Reply(0, "", f"not an http(s) URL: {url}")
    end = time.monotonic() + deadline
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    reply = Reply(0, "", "not tried")
    for attempt in range(max(1, attempts)):
        left = end - time.monotonic()
        if left <= 0:
            break
        req = urllib.request.Request(url, data=body, headers=all_headers, method=method)  # noqa: S310
        try:
            # Only http(s): ``url`` is checked by ``request``'s first lines.
            with urllib.request.urlopen(req, timeout=min(timeout, left)) as resp:  # noqa: S310
                reply = Reply(resp.status, resp.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            reply = Reply(exc.code, exc.read().decode("utf-8", "replace"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            reply = Reply(0, "", f"cannot reach {url.split('?')[0]}: {reason}")
        if not _retryable(reply.status) or attempt == attempts - 1:
            break
        pause = RETRY_PAUSES[min(attempt, len(RETRY_PAUSES) - 1)]
        if time.monotonic() + pause >= end:
            break
        time.sleep(pause)
    return reply


def env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None

"""The management API as the command-line tools call it: SRVPULSE_URL and
SRVPULSE_API_KEY (or --url and --api-key), JSON in and out, errors as one line."""

from __future__ import annotations

import json
import sys
from typing import Any

from ._http import Reply, env, request


class ApiError(Exception):
    """The server refused (exit status 1) or could not be reached (exit status 3)."""

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status


class Api:
    def __init__(self, url: str | None, api_key: str | None, *, prefix: str = "/api/v3") -> None:
        base = url or env("SRVPULSE_URL")
        key = api_key or env("SRVPULSE_API_KEY")
        if not base:
            raise ApiError("which srvpulse? give --url or set SRVPULSE_URL", 2)
        if not key:
            raise ApiError("no API key: give --api-key or set SRVPULSE_API_KEY", 2)
        self.base = base.rstrip("/") + prefix
        self.key = key

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"X-Api-Key": self.key, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        # Management calls are not retried on 5xx when they change something.
        attempts = 3 if method == "GET" else 1
        reply = request(method, self.base + path, body=data, headers=headers, attempts=attempts)
        return _result(reply, method, path)


def _result(reply: Reply, method: str, path: str) -> Any:
    if reply.status == 0:
        raise ApiError(reply.message(), 3)
    if not reply.ok:
        raise ApiError(f"{method} {path}: HTTP {reply.status}: {reply.message()}", 1)
    try:
        return reply.json() if reply.text else None
    except ValueError as exc:
        raise ApiError(f"{method} {path}: the answer is not JSON", 1) from exc


def table(rows: list[list[str]], header: list[str]) -> str:
    """Rows as aligned columns (plain text, for a terminal)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines)


def fail(prog: str, exc: ApiError) -> int:
    print(f"{prog}: {exc}", file=sys.stderr)
    return exc.exit_status

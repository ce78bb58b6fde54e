"""The dashboard's built files (frontend/dist) served by the local mode, in front of the
API Gateway emulator: what CloudFront + S3 do on AWS.

- ``/api/...`` and ``/ping/...`` always go to the API (never shadowed by a file).
- Any other GET/HEAD: a file of dist when one matches the path, else ``index.html``
  (history-mode routes such as ``/checks/<uuid>`` or ``/reset-password`` are the
  SPA's). Hashed build output under ``/assets/`` is cached for a year (its name
  changes with its content); ``index.html`` is ``no-cache`` so a new build shows at
  once.
- Without a build, those paths answer a JSON 404 saying how to build it.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

API_PREFIXES = ("/api/", "/ping/")
IMMUTABLE = "public, max-age=31536000, immutable"
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
]


class SpaFiles:
    """WSGI middleware: the SPA's files for browser paths, everything else to ``app``."""

    def __init__(self, app: WsgiApp, dist: Path) -> None:
        self.app = app
        self.dist = dist.resolve()

    def _file(self, path: str) -> Path | None:
        relative = path.lstrip("/")
        if not relative:
            return None
        candidate = (self.dist / relative).resolve()
        # Never outside dist (../ in the path), never a directory.
        if self.dist not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO") or "/"
        method: str = environ.get("REQUEST_METHOD", "GET")
        if path == "/api" or path.startswith(API_PREFIXES) or method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        index = self.dist / "index.html"
        if not index.is_file():
            body = json.dumps(
                {"error": "the dashboard is not built: run `make frontend-build` (or `make run`)"}
            ).encode()
            start_response(
                "404 Not Found",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        found = self._file(path)
        if found is None and path.startswith("/assets/"):
            # A missing asset (an old build's chunk) is a 404, not the SPA's page.
            body = b'{"error": "not found"}'
            start_response(
                "404 Not Found",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        target = found or index
        cache = IMMUTABLE if found is not None and path.startswith("/assets/") else "no-cache"
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
            ctype += "; charset=utf-8"
        data = target.read_bytes()
        start_response(
            "200 OK",
            [
                ("Content-Type", ctype),
                ("Content-Length", str(len(data))),
                ("Cache-Control", cache),
                *SECURITY_HEADERS,
            ],
        )
        return [b""] if method == "HEAD" else [data]

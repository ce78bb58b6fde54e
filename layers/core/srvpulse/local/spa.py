"""The dashboard's built files (frontend/dist) for the local mode, as CloudFront serves
them on AWS: a request path in, a status, headers and a file (or a short body) out.
No HTTP server here: whatever server the local mode runs calls ``SpaFiles.answer``
before routing to the API and sends what it gets back.

- ``/api``, ``/api/...`` and ``/ping/...`` are never answered here (None): the API and
  the ping edge own them, including their JSON 404s. Only GET and HEAD are answered.
- A path naming a file of the build gets that file. Vite's hashed assets
  (``assets/<name>-<hash>.<ext>``) are cached for a year (``immutable``); everything else
  (index.html first) is ``no-cache``: revalidated each time (ETag -> 304), so a new build
  is seen at once.
- Any other path without a file extension is a page of the SPA's history-mode router
  (``/checks/<uuid>``, ``/reset-password``): index.html. A missing file with an
  extension (``/assets/gone.js``) is a 404, never index.html served as JavaScript.
- No path leaves the build directory: ``..`` segments, backslashes, NUL bytes and
  symbolic links pointing outside are refused (404).
- Without a build (no index.html), pages get a 503 saying how to build it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

HASHED_ASSET = re.compile(r"^assets/.+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$")
CACHE_HASHED = "public, max-age=31536000, immutable"
CACHE_REVALIDATE = "no-cache"
# Healthchecks' badge images and Prometheus metrics live outside /api/ too
# (chalicelib/api_compat.py).
NOT_OURS = ("/api/", "/ping/", "/badge/", "/b/")


def _metrics(path: str) -> bool:
    parts = path.strip("/").split("/")
    return len(parts) >= 3 and parts[0] == "projects" and parts[2] == "metrics"


# The browser's content types for what a Vite build contains; the rest from mimetypes.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".wasm": "application/wasm",
}
# Pages: no framing by other sites, no type sniffing, no referrer beyond this origin.
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}
NOT_BUILT = (
    "<!doctype html><title>srvpulse</title><h1>The dashboard is not built</h1>"
    "<p>Run <code>make run</code> (it builds frontend/ with Node.js 20 and npm), or "
    "<code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>. "
    "The API (<code>/api/v3/</code>) and the ping URLs work without it.</p>\n"
)


@dataclass(frozen=True, slots=True)
class SpaAnswer:
    """What to send: ``status``, ``headers``, and either ``file`` (send its bytes) or
    ``body``. For HEAD, send the headers only (Content-Length is the GET's)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    body: bytes = b""

    def content(self) -> bytes:
        return self.file.read_bytes() if self.file is not None else self.body


class SpaFiles:
    def __init__(self, dist: Path) -> None:
        self.dist = dist.resolve()

    @staticmethod
    def owns(path: str) -> bool:
        """Whether ``path`` may be a dashboard page or file (never the API or pings)."""
        return not (path in ("/api", "/ping") or path.startswith(NOT_OURS) or _metrics(path))

    def answer(self, method: str, path: str, if_none_match: str | None = None) -> SpaAnswer | None:
        """The answer for a request to ``path`` (decoded, without the query string), or
        None when the API or the ping edge must answer it."""
        if method not in ("GET", "HEAD") or not self.owns(path):
            return None
        relative = path.lstrip("/")
        if "\\" in relative or "\x00" in relative:
            return _not_found()
        parts = [p for p in relative.split("/") if p]
        if any(p in (".", "..") for p in parts):
            return _not_found()
        if parts:
            candidate = (self.dist / Path(*parts)).resolve()
            if not candidate.is_relative_to(self.dist):
                return _not_found()  # a symbolic link out of the build
            if candidate.is_file():
                return self._file(candidate, "/".join(parts), if_none_match)
            if "." in parts[-1]:
                return _not_found()  # a missing file, not a page
        index = self.dist / "index.html"
        if not index.is_file():
            return SpaAnswer(
                503,
                {
                    **PAGE_HEADERS,
                    "Content-Type": CONTENT_TYPES[".html"],
                    "Cache-Control": "no-store",
                },
                body=NOT_BUILT.encode(),
            )
        return self._file(index, "index.html", if_none_match)

    def _file(self, file: Path, relative: str, if_none_match: str | None) -> SpaAnswer:
        stat = file.stat()
        tag = (
            '"'
            + hashlib.sha256(f"{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:20]
            + '"'
        )
        headers = {
            "Content-Type": _content_type(file),
            "Cache-Control": CACHE_HASHED if HASHED_ASSET.match(relative) else CACHE_REVALIDATE,
            "ETag": tag,
            "X-Content-Type-Options": "nosniff",
        }
        if headers["Content-Type"].startswith("text/html"):
            headers.update(PAGE_HEADERS)
        if if_none_match and tag in [t.strip() for t in if_none_match.split(",")]:
            return SpaAnswer(304, headers)
        headers["Content-Length"] = str(stat.st_size)
        return SpaAnswer(200, headers, file=file)


def _content_type(file: Path) -> str:
    suffix = file.suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(file.name)
    return guessed or "application/octet-stream"


def _not_found() -> SpaAnswer:
    return SpaAnswer(
        404,
        {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
        body=b"not found\n",
    )

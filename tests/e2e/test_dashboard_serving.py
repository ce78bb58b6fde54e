"""The local mode serves the dashboard's build at / (a small fake build here): files
with their content types and caching, history-mode pages falling back to index.html,
the API and the ping URLs never shadowed, and no way out of the build directory.
Through the real local server, started as a subprocess."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.local_mode import LocalMode, running_local_mode

pytestmark = pytest.mark.e2e

INDEX = b"<!doctype html><div id=app></div><script type=module src=/assets/index-B1a2C3d4.js>"
SCRIPT = b"console.log('srvpulse')"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMode]:
    root = tmp_path_factory.mktemp("spa")
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "index-B1a2C3d4.js").write_bytes(SCRIPT)
    (dist / "assets" / "index-Zz9Yy8Xx.css").write_text("body{}")
    (dist / "assets" / "logo.svg").write_text("<svg/>")
    (dist / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (root / "secret.txt").write_text("outside the build")
    (dist / "assets" / "leak.txt").symlink_to(root / "secret.txt")
    with running_local_mode(root, SRVPULSE_DASHBOARD_DIR=str(dist)) as mode:
        yield mode


def _raw_get(mode: LocalMode, target: str) -> tuple[int, bytes]:
    """A request line sent byte for byte (HTTP clients normalise ``..`` away)."""
    host, port = mode.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_the_root_and_deep_links_get_index_html_which_is_never_cached(served: LocalMode) -> None:
    for path in ("/", "/checks/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278", "/reset-password", "/x/y/"):
        r = served.http.get(path)
        assert r.status_code == 200, path
        assert r.content == INDEX
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_hashed_assets_are_cached_for_a_year_and_other_files_revalidate(served: LocalMode) -> None:
    r = served.http.get("/assets/index-B1a2C3d4.js")
    assert r.status_code == 200 and r.content == SCRIPT
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    css = served.http.get("/assets/index-Zz9Yy8Xx.css")
    assert (css.headers["content-type"], css.headers["cache-control"]) == (
        "text/css; charset=utf-8",
        "public, max-age=31536000, immutable",
    )
    for path, kind in (("/assets/logo.svg", "image/svg+xml"), ("/favicon.ico", "image/x-icon")):
        r = served.http.get(path)
        assert (r.status_code, r.headers["content-type"]) == (200, kind)
        assert r.headers["cache-control"] == "no-cache"


def test_a_revalidated_file_that_did_not_change_is_a_304(served: LocalMode) -> None:
    first = served.http.get("/")
    again = served.http.get("/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = served.http.head("/assets/index-B1a2C3d4.js")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(SCRIPT))


def test_a_missing_file_is_a_404_not_index_html(served: LocalMode) -> None:
    for path in ("/assets/index-gone1234.js", "/robots.txt"):
        r = served.http.get(path)
        assert r.status_code == 404, path
        assert INDEX not in r.content


def test_the_api_and_the_ping_urls_are_never_shadowed(served: LocalMode) -> None:
    r = served.http.get("/api/v3/no-such-route")
    assert (r.status_code, r.json()) == (404, {"error": "not found"})
    assert served.http.get("/api/v3/checks/").status_code == 401
    assert served.http.get("/api").status_code == 404
    assert served.http.get("/api").headers["content-type"].startswith("application/json")
    r = served.http.get("/ping/not-a-check")
    assert r.status_code in (400, 404) and r.content != INDEX
    assert served.http.post("/", content=b"x").status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2E%2E/%2E%2E/secret.txt",
        "/..%5csecret.txt",
        "/assets/leak.txt",
        "/%00index.html",
    ],
)
def test_no_path_leaves_the_build_directory(served: LocalMode, target: str) -> None:
    status, body = _raw_get(served, target)
    assert b"outside the build" not in body
    assert status in (400, 404), (target, status)


def test_without_a_build_pages_say_how_to_build_it(tmp_path: Path) -> None:
    with running_local_mode(tmp_path, SRVPULSE_DASHBOARD_DIR=str(tmp_path / "none")) as mode:
        r = mode.http.get("/checks")
        assert r.status_code == 503
        assert b"make run" in r.content
        assert mode.http.get("/api/v3/openapi.json").status_code == 200

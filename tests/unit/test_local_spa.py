"""The local mode's dashboard files (srvpulse.local.spa): browser paths get the SPA,
the API and ping URLs are never shadowed, hashed assets are cached, index.html not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from srvpulse.local.spa import SpaFiles


def _api(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"api": true}']


def _get(app: SpaFiles, path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": method}, start_response))
    return seen["status"], seen["headers"], body


def _dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>")
    (tmp_path / "assets" / "index-AbC123.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("outside")
    return tmp_path


def test_history_mode_paths_get_index_html_without_caching(tmp_path: Path) -> None:
    app = SpaFiles(_api, _dist(tmp_path))
    for path in ("/", "/checks/0b1c", "/reset-password", "/verify-email"):
        status, headers, body = _get(app, path)
        assert status == "200 OK" and b"id=app" in body
        assert headers["Cache-Control"] == "no-cache"
        assert headers["Content-Type"].startswith("text/html")


def test_hashed_assets_are_cached_for_a_year_and_a_missing_one_is_a_404(tmp_path: Path) -> None:
    app = SpaFiles(_api, _dist(tmp_path))
    status, headers, body = _get(app, "/assets/index-AbC123.js")
    assert (status, body) == ("200 OK", b"console.log(1)")
    assert "immutable" in headers["Cache-Control"]
    assert "javascript" in headers["Content-Type"]
    assert _get(app, "/assets/gone-123.js")[0] == "404 Not Found"


def test_the_api_and_ping_urls_and_unsafe_methods_go_to_the_api(tmp_path: Path) -> None:
    app = SpaFiles(_api, _dist(tmp_path))
    for path, method in [("/api/v3/checks", "GET"), ("/ping/abc", "GET"), ("/checks", "POST")]:
        assert _get(app, path, method)[2] == b'{"api": true}'


def test_no_file_outside_the_build_is_served(tmp_path: Path) -> None:
    app = SpaFiles(_api, _dist(tmp_path))
    status, _, body = _get(app, "/../secret.txt")
    assert status == "200 OK" and b"outside" not in body


def test_without_a_build_browser_paths_say_how_to_make_one(tmp_path: Path) -> None:
    status, _, body = _get(SpaFiles(_api, tmp_path / "missing"), "/checks")
    assert status == "404 Not Found" and b"make frontend-build" in body

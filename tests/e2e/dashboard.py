"""Driving the dashboard in Debian's chromium for the browser tests: the browser, axe-core
on every page, and a screenshot of every page in e2e-screenshots/ (not committed; the
README's three in docs/ are copies of 05-checks-list, 06-check-page and 15-check-channels)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.e2e.local_mode import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
DIST = ROOT / "frontend" / "dist" / "index.html"
SCREENSHOTS = ROOT / "e2e-screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def require_dashboard() -> None:
    missing = [str(p) for p in (CHROMIUM, AXE, DIST) if not p.exists()]
    if missing:
        # CI must never pass without the browser tests: there a missing part fails.
        pytest.fail(
            "the dashboard's browser tests need "
            + ", ".join(missing)
            + " (infra/ensure-services.sh installs chromium; make frontend-build builds the SPA)"
        )


@contextmanager
def chromium() -> Iterator[Browser]:
    require_dashboard()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visits:
    """What the walk saw: axe-core's serious/critical findings per page, the console errors."""

    violations: dict[str, list[str]] = field(default_factory=dict)
    console_errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def look(self, page: Page, name: str) -> None:
        """Let the page settle, run axe-core on it and save a screenshot."""
        page.wait_for_load_state("networkidle")
        result: dict[str, Any] = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']})"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            self.violations[name] = bad
        SCREENSHOTS.mkdir(exist_ok=True)
        shot = SCREENSHOTS / f"{len(self.shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        self.shots.append(shot)


def new_page(browser: Browser, visits: Visits) -> Page:
    """A desktop-sized page with axe-core in every document. As an init script it is
    injected by the browser itself: the dashboard's Content-Security-Policy (no inline
    scripts) stays in force for everything the page does."""
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    watch_console(page, visits)
    return page


def watch_console(page: Page, visits: Visits) -> None:
    def on_console(msg: Any) -> None:
        # The browser logs every 4xx answer ("who am I" before sign-in, the schedule
        # preview while a zone is half typed): those are answers the pages handle.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            visits.console_errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: visits.console_errors.append(str(exc)))


def link_in(text: str, path: str) -> str:
    found = re.search(r"https?://\S+" + re.escape(path) + r"#token=[A-Za-z0-9_-]+", text)
    assert found, text
    return found.group(0)

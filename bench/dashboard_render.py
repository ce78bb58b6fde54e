"""First render of the dashboard's checks list with 500 checks, in Debian's chromium.

    .venv/bin/python bench/dashboard_render.py [--checks 500] [--repeats 5]

Starts the local mode (its own data dir, free port, SMTP caught locally), registers an
account through the mailed confirmation link, creates N checks through the API (a mix
of cron and period schedules, tags, half of them pinged once), then opens /checks in a
fresh browser page R times and measures, in the page, the time from navigation start to
the moment all N rows are in the table (median and spread). The baseline, measured in
the same run and the same way, is the first render of the empty state of a project with
no checks; the ratio says what the 500 checks themselves cost. Needs `make
frontend-build` and /usr/bin/chromium (infra/ensure-services.sh installs it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.alerting_peers import smtp_peer
from tests.e2e.dashboard import chromium, link_in
from tests.e2e.local_mode import running_local_mode

EMAIL = "bench@example.com"
PASSWORD = "bench passphrase long enough"
# Resolves when the list shows `want` rows (or the empty state, for want == 0), with
# performance.now(): milliseconds since this document's navigation started.
RENDERED = """(want) => new Promise((resolve) => {
  const done = () => want === 0
    ? document.querySelector('.empty-state') !== null
    : document.querySelectorAll('tr[data-check]').length >= want
  const check = () => done() ? resolve(performance.now()) : requestAnimationFrame(check)
  check()
})"""
API_TIMES = """() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/'))
  .map((e) => [e.name.split('/api/v3')[1], Math.round(e.startTime), Math.round(e.responseEnd)])"""


def seed(api: httpx.Client, project: str, count: int, ping_base: str) -> None:
    for i in range(count):
        tags = f"team{i % 7} {'prod' if i % 2 else 'staging'}"
        body: dict[str, object] = {"name": f"job {i:03d}", "tags": tags}
        if i % 3 == 0:
            body |= {"schedule": f"{i % 60} {i % 24} * * *", "tz": "Europe/Riga"}
        else:
            body |= {"timeout": 3600 * (1 + i % 24)}
        created = api.post("/api/v3/checks", json=body, headers={"X-Project": project})
        created.raise_for_status()
        if i % 2:
            httpx.get(ping_base + created.json()["uuid"])


def measure(url: str, new_page: Callable[[], Page], want: int, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        page = new_page()
        page.goto(url, wait_until="commit")
        times.append(float(page.evaluate(RENDERED, want)))
        if "--debug" in sys.argv:  # when each API answer came, ms since navigation start
            print(page.evaluate(API_TIMES))
        page.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description="First render of the checks list")
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        smtp_peer() as smtp,
        running_local_mode(Path(tmp), SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port)) as mode,
    ):
        session = httpx.Client(base_url=mode.base, timeout=30)
        session.post("/api/v3/auth/register", json={"email": EMAIL, "password": PASSWORD})
        mail = smtp.wait_for(1, timeout=30)[0].message.get_body(preferencelist=("plain",))
        assert mail is not None
        token = link_in(str(mail.get_content()), "/verify-email").split("#token=")[1]
        session.post("/api/v3/auth/verify-email", json={"token": token})
        creds = {"email": EMAIL, "password": PASSWORD}
        signed = session.post("/api/v3/auth/signin", json=creds)
        signed.raise_for_status()
        csrf = signed.json()["csrf_token"]
        session.headers["X-CSRF-Token"] = csrf
        projects = session.get("/api/v3/projects").json()["projects"]
        full = projects[0]["uuid"]
        empty = session.post("/api/v3/projects", json={"name": "empty"}).json()["uuid"]
        print(f"creating {args.checks} checks...", flush=True)
        seed(session, full, args.checks, mode.base + "/ping/")

        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for cookie in session.cookies.jar:
                context.add_cookies(
                    [{"name": cookie.name, "value": cookie.value or "", "url": mode.base}]
                )

            def in_project(uuid: str) -> Callable[[], Page]:
                def make() -> Page:
                    page = context.new_page()
                    page.add_init_script(f"localStorage.setItem('srvpulse.project', '{uuid}')")
                    return page

                return make

            url = mode.base + "/checks"
            measure(url, in_project(full), args.checks, 1)  # warm the caches once
            base = measure(url, in_project(empty), 0, args.repeats)
            full_times = measure(url, in_project(full), args.checks, args.repeats)
    b, f = statistics.median(base), statistics.median(full_times)
    print(f"empty list (baseline): median {b:7.0f} ms  (min {min(base):.0f}, max {max(base):.0f})")
    print(
        f"{args.checks} checks:         median {f:7.0f} ms  "
        f"(min {min(full_times):.0f}, max {max(full_times):.0f})"
    )
    print(f"ratio {f / b:.2f}x the empty list; target: under 1000 ms on this machine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

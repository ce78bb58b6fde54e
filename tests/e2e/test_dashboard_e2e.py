"""The dashboard in a real browser against the real local mode: a person registers,
confirms the address through the mailed link, creates a check, sees it go up and down
as a job pings it (without reloading), reads the failed run's report, turns on
two-factor and signs in with a code, resets the password through the mailed link,
alerts a local webhook after two failures, and pauses the check. axe-core runs on
every page; every page is saved as a screenshot (e2e-screenshots/)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.alerting_peers import HttpPeer, Reply, SmtpPeer, http_peer, smtp_peer
from tests.e2e.dashboard import PHONE, Visits, chromium, link_in, new_page
from tests.e2e.local_mode import LocalMode, running_local_mode

pytestmark = pytest.mark.e2e

EMAIL = "ops@example.com"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 2"
# The page updates itself (polling every 2 s); generous for a loaded 2-core machine.
LIVE = 15_000


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    with smtp_peer() as peer:
        yield peer


@pytest.fixture
def webhook() -> Iterator[HttpPeer]:
    with http_peer([Reply(200, "ok")]) as peer:
        yield peer


@pytest.fixture
def mode(tmp_path: Path, smtp: SmtpPeer) -> Iterator[LocalMode]:
    with running_local_mode(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port)) as m:
        yield m


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def mail_to(smtp: SmtpPeer, count: int) -> str:
    """The text of the count-th mail the server sent."""
    mails = smtp.wait_for(count, timeout=30)
    body = mails[count - 1].message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def sign_in(page: Page, base: str, password: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_person_does_the_whole_job_in_the_browser(
    mode: LocalMode, smtp: SmtpPeer, webhook: HttpPeer, browser: Browser
) -> None:
    base = mode.base
    visits = Visits()
    page = new_page(browser, visits)

    # Register, then confirm the address through the mailed link.
    page.goto(base + "/signup")
    visits.look(page, "signup")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/checks$|/signup$"))
    page.goto(link_in(mail_to(smtp, 1), "/verify-email"))
    expect(page.get_by_text("Your address is confirmed.")).to_be_visible()
    visits.look(page, "verify-email")
    if page.get_by_role("link", name="Sign in").is_visible():
        sign_in(page, base, PASSWORD)
    page.goto(base + "/checks")
    expect(page.get_by_role("heading", name="No checks yet")).to_be_visible()
    visits.look(page, "checks-empty")

    # Create a check; the form shows the schedule in words and the next runs.
    page.get_by_role("link", name="New check").click()
    page.get_by_label("Name", exact=True).fill("nightly backup")
    page.get_by_label("Tags").fill("prod db")
    page.get_by_label("Cron expression", exact=True).check()
    page.get_by_label("Time zone").fill("Europe/Riga")
    expect(page.get_by_text("At 03:00")).to_be_visible()
    expect(page.locator(".preview li")).to_have_count(5)
    page.get_by_label("Cron expression", exact=True).nth(0)
    visits.look(page, "check-new")
    page.get_by_role("radio", name="Every period").check()
    # The check rules' settings come from the server's rule catalog: "runs too often".
    interval = page.get_by_role("textbox", name=re.compile("^Alert when a run finishes within"))
    interval.fill("10")  # minutes, the input's default unit
    page.get_by_role("button", name="Create check").click()
    page.wait_for_url(re.compile(r"/checks/[0-9a-f-]{36}$"))
    check_url = page.url
    ping_url = page.locator(".ping-url code").inner_text()
    settings = page.locator("dl.settings")
    expect(settings).to_contain_text("Shortest time between runs")
    expect(settings).to_contain_text("10 min")
    expect(settings).to_contain_text("Longest run allowed")

    # A job pings it: the list shows "up" without a reload.
    page.get_by_role("link", name="Checks", exact=True).first.click()
    row = page.locator("tr", has_text="nightly backup")
    expect(row).to_contain_text("new")
    assert httpx.get(ping_url).text == "OK"
    expect(row).to_contain_text("up", timeout=LIVE)
    visits.look(page, "checks-list")

    # A failed run with its output: "down", the flip and the report on the check page.
    httpx.post(ping_url + "/start")
    httpx.post(ping_url + "/fail", content="rsync: disk full\n<b>not markup</b>\n")
    expect(row).to_contain_text("down", timeout=LIVE)
    page.goto(check_url)
    expect(page.get_by_text("the job reported a failure")).to_be_visible(timeout=LIVE)
    page.get_by_role("button", name=re.compile("^Report")).first.click()
    report = page.locator(".report-text")
    expect(report).to_contain_text("rsync: disk full")
    expect(report).to_contain_text("<b>not markup</b>")  # shown as text, not rendered
    visits.look(page, "check-page")

    # Two-factor: set up with the QR code's secret, ten recovery codes, sign in with a code.
    page.get_by_role("link", name="Account").click()
    page.get_by_role("button", name="Set up two-factor").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = page.locator(".totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Password, to turn two-factor on").fill(PASSWORD)
    page.get_by_label("Six-digit code").fill(totp.now())
    visits.look(page, "account-totp-setup")
    page.get_by_role("button", name="Turn on two-factor").click()
    codes = page.locator(".recovery-codes").inner_text().split()
    assert len(codes) == 10
    visits.look(page, "account-recovery-codes")
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(r"/signin"))
    sign_in(page, base, PASSWORD)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    visits.look(page, "signin-totp")
    # The next time step: the one used to turn two-factor on cannot be used again.
    page.get_by_label("Code from your authenticator app").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/checks$"))

    # Forgot the password: reset it through the mailed link, sign in with a recovery code.
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_role("link", name="Forgot your password?").click()
    # The form is filled once its page shows: filled earlier, the address went into the
    # sign-in page's Email field, and the reset was asked for with an empty address.
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_text("we sent it a link")).to_be_visible()
    visits.look(page, "forgot-password")
    page.goto(link_in(mail_to(smtp, 2), "/reset-password"))
    expect(page.get_by_label("New password")).to_be_visible()
    assert "token" not in page.url  # taken out of the address bar
    page.get_by_label("New password").fill(NEW_PASSWORD)
    visits.look(page, "reset-password")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    sign_in(page, base, NEW_PASSWORD)
    page.get_by_role("button", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/checks$"))

    # A webhook channel to a local receiver, a test send, assigned "after 2 failures".
    page.get_by_role("link", name="Channels").click()
    expect(page.get_by_role("heading", name="No channels yet")).to_be_visible()
    visits.look(page, "channels-empty")
    page.get_by_role("link", name="New channel").click()
    page.get_by_role("radio", name="Webhook").check()
    page.get_by_label("Name").fill("ops hook")
    page.get_by_label("URL (down)").fill(webhook.url + "/down")
    visits.look(page, "channel-new")
    page.get_by_role("button", name="Create channel").click()
    page.wait_for_url(re.compile(r"/channels$"))
    page.get_by_role("button", name="Send a test").click()
    expect(page.get_by_text("Test notification sent.")).to_be_visible(timeout=LIVE)
    assert webhook.wait_for(1)[0].path == "/down"
    visits.look(page, "channels")
    page.goto(check_url)
    page.get_by_label("Assign a channel").select_option(label="ops hook (webhook)")
    page.get_by_role("button", name="Assign…").click()
    page.get_by_label("Alert after this many failures in a row").fill("2")
    page.get_by_role("button", name="Save alert settings").click()
    expect(page.locator("ul.assigned")).to_contain_text("after 2 failures in a row")
    page.locator("#h-channels").scroll_into_view_if_needed()
    visits.look(page, "check-channels")

    # Pause it.
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("h1")).to_contain_text("paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()

    # The other pages, and the two main ones at a phone's width.
    for path, name in [
        ("/maintenance", "maintenance"),
        ("/project", "project"),
        ("/account", "account"),
    ]:
        page.goto(base + path)
        expect(page.locator("h1")).to_be_visible()
        visits.look(page, name)
    page.set_viewport_size(PHONE)
    for path, name in [("/checks", "checks-list-390"), (check_url, "check-page-390")]:
        page.goto(path if path.startswith("http") else base + path)
        expect(page.locator("h1")).to_be_visible()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name}: the page is {width} px wide"
        visits.look(page, name)

    # The server goes away: the list says so instead of going blank.
    page.goto(base + "/checks")
    expect(page.locator("tr", has_text="nightly backup")).to_be_visible()
    mode.proc.send_signal(2)
    mode.proc.wait(timeout=30)
    expect(page.get_by_text("srvpulse cannot be reached")).to_be_visible(timeout=LIVE)
    expect(page.locator("tr", has_text="nightly backup")).to_be_visible()
    visits.look(page, "server-down")

    assert visits.violations == {}
    assert visits.console_errors == []

"""The `srvpulse` command end to end: the installed console script against the local
mode started as a subprocess, as a user runs it next to cron or in a terminal."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from srvpulse.cli.run import REPORT_BYTES
from srvpulse.domain.model import MAX_REPORT_BYTES

from tests.alerting_peers import free_port
from tests.e2e.local_mode import API_KEY, LocalMode, running_local_mode

pytestmark = pytest.mark.e2e

SRVPULSE = str(Path(sys.executable).with_name("srvpulse"))


@pytest.fixture(scope="module")
def local_mode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMode]:
    with running_local_mode(tmp_path_factory.mktemp("cli")) as mode:
        yield mode


def cli(
    mode: LocalMode | None, *args: str, env: dict[str, str] | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SRVPULSE_")}
    if mode is not None:
        base |= {"SRVPULSE_URL": mode.base, "SRVPULSE_API_KEY": API_KEY}
    return subprocess.run(
        [SRVPULSE, *args], env=base | (env or {}), capture_output=True, text=True, timeout=60, **kw
    )


def eventually(fetch: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def new_check(mode: LocalMode, name: str, **fields: Any) -> str:
    r = mode.api.post("/api/v3/checks/", json={"name": name, **fields})
    assert r.status_code == 201, r.text
    return str(r.json()["uuid"])


def pings(mode: LocalMode, check: str, n: int) -> list[dict[str, Any]]:
    fetch = lambda: mode.api.get(f"/api/v3/checks/{check}/pings/").json()["pings"]  # noqa: E731
    found: list[dict[str, Any]] = eventually(fetch, lambda p: len(p) >= n)
    assert len(found) >= n, found
    return found


def test_srvpulse_run_reports_start_exit_status_duration_and_output_and_keeps_the_exit_status(
    local_mode: LocalMode,
) -> None:
    check = new_check(local_mode, "wrapped job")
    job = (
        "import sys, time; print('copied 12 files'); "
        "print('disk almost full', file=sys.stderr); time.sleep(0.3); sys.exit(3)"
    )
    done = cli(local_mode, "run", "--check", check, "--", sys.executable, "-c", job)

    assert done.returncode == 3
    assert done.stdout == "copied 12 files\n"  # passed through, untouched
    assert "disk almost full" in done.stderr
    completion, start = pings(local_mode, check, 2)[:2]
    assert start["type"] == "start" and completion["type"] == "fail"
    assert completion["rid"] == start["rid"] and completion["rid"]
    assert completion["exit_status"] == 3
    # The server times the run from the start ping, which goes out while the job already
    # runs (so a slow srvpulse never delays it); the summary has the job's own time.
    assert completion["duration"] > 0
    summary = re.fullmatch(
        r"exit status 3 after ([0-9.]+) s \(python[0-9.]*\)", completion["summary"]
    )
    assert summary is not None and float(summary.group(1)) >= 0.3, completion["summary"]
    report = local_mode.api.get(completion["body_url"].split(local_mode.base, 1)[1])
    assert "copied 12 files" in report.text and "disk almost full" in report.text
    status = local_mode.api.get(f"/api/v3/checks/{check}").json()["status"]
    assert status == "down"


def test_srvpulse_run_keeps_only_the_last_100_kb_of_a_long_output(local_mode: LocalMode) -> None:
    check = new_check(local_mode, "chatty job")
    job = "import sys\nfor i in range(30000): print(f'line {i:06d}')\n"
    done = cli(local_mode, "run", "--check", check, "--", sys.executable, "-c", job)

    assert done.returncode == 0 and done.stdout.count("\n") == 30000
    completion = pings(local_mode, check, 2)[0]
    assert completion["type"] == "success"
    report = local_mode.api.get(completion["body_url"].split(local_mode.base, 1)[1]).text
    assert report.rstrip().endswith("line 029999")
    assert "line 000000" not in report
    assert 90_000 < len(report.encode()) <= MAX_REPORT_BYTES


def test_a_job_killed_by_a_signal_is_reported_as_a_failure_with_its_signal(
    local_mode: LocalMode,
) -> None:
    check = new_check(local_mode, "long job")
    proc = subprocess.Popen(
        [SRVPULSE, "run", "--url", local_mode.base, "--check", check, "--",
         sys.executable, "-c", "import time; print('working', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == "working\n"
    proc.send_signal(signal.SIGTERM)  # srvpulse run forwards it to the job
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    completion = pings(local_mode, check, 2)[0]
    assert completion["type"] == "fail"
    assert completion["summary"].startswith("killed by SIGTERM")


def test_srvpulse_being_down_never_fails_or_holds_up_the_job(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    marker = tmp_path / "ran"
    job = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('yes')"
    done = cli(None, "run", "--url", closed, "--check", "5f1c2d3e-1111-2222-3333-444455556666",
               "--", sys.executable, "-c", job)  # fmt: skip

    assert done.returncode == 0
    assert marker.read_text() == "yes"
    assert "the completion ping failed: cannot reach" in done.stderr


def test_a_missing_command_exits_127_and_is_reported_as_a_failure(local_mode: LocalMode) -> None:
    check = new_check(local_mode, "typo job")
    done = cli(local_mode, "run", "--check", check, "--", "no-such-program-here")

    assert done.returncode == 127
    assert "command not found: no-such-program-here" in done.stderr
    assert pings(local_mode, check, 2)[0]["type"] == "fail"


def test_srvpulse_ping_sends_each_kind_and_says_why_a_ping_was_refused(
    local_mode: LocalMode,
) -> None:
    check = new_check(local_mode, "pinged by hand")
    assert cli(local_mode, "ping", check, "start").returncode == 0
    assert cli(local_mode, "ping", check, "fail", "--data", "disk full").returncode == 0
    assert cli(local_mode, "ping", check, "0").returncode == 0
    kinds = [p["type"] for p in pings(local_mode, check, 3)[:3]]
    assert kinds == ["success", "fail", "start"]

    bad = cli(local_mode, "ping", check, "300")
    assert bad.returncode == 2 and "exit status 0-255" in bad.stderr
    unknown = cli(local_mode, "ping", "not-a-uuid")
    assert unknown.returncode == 2 and "neither a check uuid nor a ping URL" in unknown.stderr
    unreachable = cli(
        None, "ping", f"http://127.0.0.1:{free_port()}/ping/{check}", "--timeout", "2"
    )
    assert unreachable.returncode == 3 and "cannot reach" in unreachable.stderr


def test_srvpulse_checks_creates_lists_pauses_and_resumes(local_mode: LocalMode) -> None:
    made = cli(local_mode, "checks", "create", "--name", "from the terminal", "--schedule",
               "0 3 * * *", "--tz", "Europe/Riga", "--grace", "600", "--json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    check = json.loads(made.stdout)
    assert check["schedule"] == "0 3 * * *" and check["tz"] == "Europe/Riga"

    table = cli(local_mode, "checks", "list")
    assert table.returncode == 0
    header, *rows = table.stdout.splitlines()
    assert header.split()[:2] == ["STATUS", "NAME"]
    row = next(r for r in rows if check["uuid"] in r)
    assert row.startswith("new") and "0 3 * * * (Europe/Riga)" in row

    paused = cli(local_mode, "checks", "pause", check["uuid"])
    assert paused.returncode == 0 and paused.stdout.strip() == "from the terminal: paused"
    assert cli(local_mode, "checks", "resume", check["uuid"]).stdout.strip().endswith(": new")

    refused = cli(local_mode, "checks", "create", "--name", "x", "--schedule", "every day")
    assert refused.returncode == 1 and "schedule" in refused.stderr
    no_key = cli(None, "checks", "list", env={"SRVPULSE_URL": local_mode.base})
    assert no_key.returncode == 2 and "SRVPULSE_API_KEY" in no_key.stderr


def test_the_job_side_commands_load_only_the_standard_library(tmp_path: Path) -> None:
    empty = "import sys; print(sorted({m.split('.')[0] for m in sys.modules}))"
    bare = subprocess.run([sys.executable, "-c", empty], capture_output=True, text=True, check=True)
    sorted_before = [m for m in eval(bare.stdout) if m not in sys.stdlib_module_names]
    probe = textwrap.dedent(
        f"""
        import sys
        from srvpulse.cli.main import main
        main(["run", "--quiet", "--url", "http://127.0.0.1:{free_port()}", "--check",
              "5f1c2d3e-1111-2222-3333-444455556666", "--", sys.executable, "-c", "pass"])
        main(["ping", "--timeout", "1", "--url", "http://127.0.0.1:{free_port()}",
              "5f1c2d3e-1111-2222-3333-444455556666"])
        top = {{m.split(".")[0] for m in sys.modules}}
        # What the interpreter itself loads (an editable install's finder, setuptools'
        # distutils shim) is there before srvpulse runs; srvpulse adds nothing else.
        before = set({sorted_before!r})
        print(sorted(top - set(sys.stdlib_module_names) - {{"srvpulse", "__main__"}} - before))
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


# --- srvpulse import healthchecks ------------------------------------------------------
HC_KEY = "hc-read-write-key"


class FakeHealthchecks(ThreadingHTTPServer):
    """Answers like Healthchecks' management API v3 for one project (GET only)."""

    def __init__(self, checks: list[dict[str, Any]], channels: list[dict[str, Any]]) -> None:
        self.checks, self.channels = checks, channels
        super().__init__(("127.0.0.1", 0), _HcHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HcHandler(BaseHTTPRequestHandler):
    server: FakeHealthchecks

    def do_GET(self) -> None:
        if self.headers.get("X-Api-Key") != HC_KEY:
            return self._send(401, {"error": "wrong api key"})
        path = self.path.rstrip("/")
        if path == "/api/v3/checks":
            return self._send(200, {"checks": self.server.checks})
        if path == "/api/v3/channels":
            return self._send(200, {"channels": self.server.channels})
        return self._send(404, {"error": "not found"})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def hc_check(uuid: str, name: str, slug: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name, "slug": slug, "tags": "prod", "desc": "", "grace": 600,
        "n_pings": 3, "status": "up", "manual_resume": False, "methods": "",
        "ping_url": f"https://hc-ping.com/{uuid}", "channels": "", **fields,
    }  # fmt: skip


def test_importing_a_healthchecks_project_keeps_uuids_and_a_second_run_changes_nothing(
    local_mode: LocalMode, tmp_path: Path
) -> None:
    ops = local_mode.api.post(
        "/api/v3/channels",
        json={"kind": "email", "name": "Ops mail", "config": {"to": "ops@example.com"}},
    ).json()
    hc = FakeHealthchecks(
        checks=[
            hc_check("0b7e3a52-9d1c-4f5e-8a2b-1c3d5e7f9a01", "Nightly backup", "nightly-backup",
                     schedule="0 3 * * *", tz="Europe/Riga", channels="c1,c2,c3"),
            hc_check("0b7e3a52-9d1c-4f5e-8a2b-1c3d5e7f9a02", "Heartbeat", "heartbeat",
                     timeout=300, grace=60, status="paused", channels="c2"),
        ],
        channels=[
            {"id": "c1", "name": "Ops mail", "kind": "email"},
            {"id": "c2", "name": "Deploy hook", "kind": "webhook"},
            {"id": "c3", "name": "Phone", "kind": "po"},
        ],
    )  # fmt: skip
    args = ["import", "healthchecks", "--url", hc.url, "--api-key", HC_KEY]

    plan = cli(local_mode, *args, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "check nightly-backup: would create" in plan.stdout
    assert "'Deploy hook' (webhook): needs set-up" in plan.stdout
    assert "'Phone' (po): skipped" in plan.stdout
    assert (
        local_mode.api.get("/api/v3/checks/0b7e3a52-9d1c-4f5e-8a2b-1c3d5e7f9a01").status_code == 404
    )

    hooks = tmp_path / "channels.json"
    hook_config = {"down": {"url": "https://hooks.example.com/deploy", "method": "POST"}}
    hooks.write_text(json.dumps({"Deploy hook": hook_config, "Phone": {"to": "x@example.com"}}))
    first = cli(local_mode, *args, "--channels", str(hooks))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "done: 2 created, 0 updated, 0 unchanged; 0 failed" in first.stdout

    backup = local_mode.api.get("/api/v3/checks/0b7e3a52-9d1c-4f5e-8a2b-1c3d5e7f9a01").json()
    assert (backup["name"], backup["schedule"], backup["tz"], backup["grace"]) == (
        "Nightly backup", "0 3 * * *", "Europe/Riga", 600,
    )  # fmt: skip
    hook = next(c for c in local_mode.api.get("/api/v3/channels").json()["channels"]
                if c["name"] == "Deploy hook")  # fmt: skip
    assert set(backup["channels"].split(",")) == {ops["id"], hook["id"]}
    heartbeat = local_mode.api.get("/api/v3/checks/0b7e3a52-9d1c-4f5e-8a2b-1c3d5e7f9a02").json()
    assert (heartbeat["timeout"], heartbeat["status"]) == (300, "paused")
    # The cron line keeps working with only its host changed.
    ping = local_mode.http.get("/ping/0b7e3a52-9d1c-4f5e-8a2b-1c3d5e7f9a01")
    assert ping.status_code == 200

    again = cli(local_mode, *args, "--channels", str(hooks))
    assert again.returncode == 0
    assert "done: 0 created, 0 updated, 2 unchanged; 0 failed" in again.stdout
    assert "'Deploy hook' (webhook): uses the srvpulse channel" in again.stdout
    replan = cli(local_mode, *args, "--channels", str(hooks), "--dry-run")
    assert "check nightly-backup: unchanged" in replan.stdout
    assert "plan: 0 would create, 0 would update, 2 unchanged" in replan.stdout
    names = [c["name"] for c in local_mode.api.get("/api/v3/checks/").json()["checks"]]
    assert names.count("Nightly backup") == 1

    hc.checks[0]["grace"] = 900
    changed = cli(local_mode, *args)
    assert "check nightly-backup: update (grace)" in changed.stdout
    assert (
        local_mode.api.get("/api/v3/checks/0b7e3a52-9d1c-4f5e-8a2b-1c3d5e7f9a01").json()["grace"]
        == 900
    )
    hc.shutdown()


def test_an_import_with_a_wrong_healthchecks_key_says_so(local_mode: LocalMode) -> None:
    hc = FakeHealthchecks(checks=[], channels=[])
    done = cli(local_mode, "import", "healthchecks", "--url", hc.url, "--api-key", "wrong")
    assert done.returncode == 1
    assert "HTTP 401: wrong api key" in done.stderr
    hc.shutdown()


def test_srvpulse_run_sends_as_much_output_as_the_server_keeps() -> None:
    assert REPORT_BYTES == MAX_REPORT_BYTES

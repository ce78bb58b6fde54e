"""`srvpulse detect`, run as the installed console command."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

SRVPULSE = str(Path(sys.executable).parent / "srvpulse")


def detect(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SRVPULSE, "detect", *args], capture_output=True, text=True, input=stdin, check=False
    )


def z(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def nightly_history(tmp_path: Path) -> Path:
    """40 nights of a 2-minute job at 03:00 Riga time (01:00 UTC in winter), one night 14 min 3 s,
    shuffled."""
    r = random.Random(4)
    lines = []
    for day in range(40):
        start = datetime(2026, 1, 5, 1, 0, 3, tzinfo=UTC) + timedelta(days=day)
        took = 843 if day == 30 else 120 * r.lognormvariate(0, 0.05)
        rid = f"00000000-0000-4000-8000-{day:012d}"
        lines.append({"ts": z(start), "kind": "start", "rid": rid})
        lines.append({"ts": z(start + timedelta(seconds=took)), "kind": "success", "rid": rid})
        if day == 35:
            lines.append({"ts": z(start + timedelta(minutes=5)), "kind": "log"})
    r.shuffle(lines)
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def test_detect_replays_a_shuffled_history_and_prints_one_json_line_per_anomaly(
    tmp_path: Path,
) -> None:
    path = nightly_history(tmp_path)
    done = detect("--history", str(path), "--schedule", "0 3 * * *", "--tz", "Europe/Riga")
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(text) for text in done.stdout.splitlines()]
    assert set(line) == {"ts", "kind", "explanation"}
    assert line["kind"] == "still_running_long"
    assert line["ts"].startswith("2026-02-04T01:0") and line["ts"].endswith("Z")
    assert "usually 1 min" in line["explanation"]
    assert "81 pings, 1 anomaly (1 still_running_long)" in done.stderr


def test_detect_with_a_period_reads_standard_input_and_knows_sensitivity(tmp_path: Path) -> None:
    text = nightly_history(tmp_path).read_text()
    quiet = detect("--history", "-", "--timeout", "86400", "--sensitivity", "low", stdin=text)
    assert quiet.returncode == 0, quiet.stderr
    assert [json.loads(x)["kind"] for x in quiet.stdout.splitlines()] == ["still_running_long"]


def test_detect_names_the_bad_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"ts": "2026-01-05T01:00:03.460Z", "kind": "start"})
    cases = {
        '{"ts": "yesterday", "kind": "start"}': "\"ts\" is not an ISO 8601 time: 'yesterday'",
        '{"ts": "2026-01-05T01:00:03", "kind": "start"}': '"ts" needs a time zone',
        '{"ts": "2026-01-05T01:00:03Z", "kind": "ping"}': '"kind" must be one of start, success',
        '{"ts": "2026-01-05T01:00:03Z", "kind": "fail", "exit_status": 300}': '"exit_status"',
        "[1, 2]": "each line must be a JSON object",
        "{oops": "not JSON",
    }
    for bad, message in cases.items():
        path.write_text(f"{good}\n\n{bad}\n")
        done = detect("--history", str(path), "--timeout", "3600")
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.startswith(f"srvpulse detect: {path}:3: "), done.stderr
        assert message in done.stderr


def test_detect_refuses_a_bad_schedule_a_bad_zone_and_a_missing_file(tmp_path: Path) -> None:
    path = nightly_history(tmp_path)
    bad_cron = detect("--history", str(path), "--schedule", "0 25 * * *")
    assert bad_cron.returncode == 2 and "bad hour field '25'" in bad_cron.stderr
    bad_zone = detect("--history", str(path), "--timeout", "3600", "--tz", "Mars/Olympus")
    assert bad_zone.returncode == 2 and "unknown time zone 'Mars/Olympus'" in bad_zone.stderr
    missing = detect("--history", str(tmp_path / "nope.jsonl"), "--timeout", "3600")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    neither = detect("--history", str(path))
    assert neither.returncode == 2 and "--schedule" in neither.stderr


def test_srvpulse_help_lists_detect() -> None:
    done = subprocess.run([SRVPULSE, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "detect" in done.stdout

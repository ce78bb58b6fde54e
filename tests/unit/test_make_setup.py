"""`make run &` and then `make test` on a fresh clone: the two set-ups must not both build
.venv. The Makefile's `setup` holds a lock; the second one waits and then finds the
first one's result. Run on a copy of the Makefile with a stand-in Python whose venv
creation and pip install only log what they are asked (and pause, so the two overlap)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/bin/bash
# python3 -m venv DIR: make DIR/bin/python and DIR/bin/pip, after a pause.
echo "venv $*" >> "$LOG"
touch "$STARTED"
while [ -e "$HOLD" ]; do sleep 0.05; done
mkdir -p "$3/bin"
printf '#!/bin/bash\\necho "pip $*" >> "$LOG"\\n' > "$3/bin/pip"
cp "$0" "$3/bin/python"
chmod +x "$3/bin/pip" "$3/bin/python"
"""


def test_two_set_ups_at_once_build_the_virtualenv_once(tmp_path: Path) -> None:
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt", "requirements-compat.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "layers" / "core").mkdir(parents=True)
    shutil.copy(ROOT / "layers" / "core" / "pyproject.toml", tmp_path / "layers" / "core")
    python = tmp_path / "fake-python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    log, started, hold = tmp_path / "log", tmp_path / "started", tmp_path / "hold"
    hold.touch()
    env = {
        "PATH": "/usr/bin:/bin",
        "LOG": str(log),
        "STARTED": str(started),
        "HOLD": str(hold),
    }
    command = ["make", "--no-print-directory", "setup", f"PYTHON={python}"]
    first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    while not started.exists():  # the first set-up is inside `python -m venv` now
        time.sleep(0.05)
    second = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)  # time enough for the second to build a venv of its own, if it could
    hold.unlink()
    first.communicate(timeout=60)
    out_second, _ = second.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (0, 0)
    calls = log.read_text().splitlines()
    # One venv and one set of installs (requirements, then the --no-deps clients), not two.
    assert [c.split()[0] for c in calls] == ["venv", "pip", "pip"]
    assert "is up to date" in out_second

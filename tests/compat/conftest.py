"""One local mode (`python -m srvpulse.local`, a subprocess on a free port) for all of
tests/compat: each test makes its own checks, so they share the server like users do."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.local_mode import API_KEY, LocalMode, running_local_mode


@pytest.fixture(scope="session")
def hc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMode]:
    # Pings from 127.0.0.1 count as coming through a proxy (X-Forwarded-* are read).
    with running_local_mode(tmp_path_factory.mktemp("compat"), TRUSTED_PROXIES="127.0.0.1") as mode:
        yield mode


@pytest.fixture
def api(hc: LocalMode) -> httpx.Client:
    """The Management API with the read-write key, as Healthchecks users call it."""
    return hc.api


@pytest.fixture(scope="session")
def read_only_key(hc: LocalMode) -> str:
    key = _printed_key(hc, "read-only")
    assert key != API_KEY
    return key


def _printed_key(hc: LocalMode, label: str) -> str:
    for line in hc.output().splitlines():
        if label in line and "key" in line:
            return line.rsplit(" ", 1)[-1].strip()
    raise AssertionError(f"no {label} key in the start-up output:\n{hc.output()}")


def eventually(fetch: Callable[[], Any], ok: Callable[[Any], bool], wait: float = 60) -> Any:
    """Poll until ``ok`` (pings are ingested asynchronously); the last value otherwise."""
    deadline = time.monotonic() + wait
    while True:
        value = fetch()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)

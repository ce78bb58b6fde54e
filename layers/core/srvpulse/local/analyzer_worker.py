"""The local mode's stand-in for the minutely analyzer function: a thread that runs the
same analyzer pass (services.analyzing) every few seconds."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from ..services.analyzing import Analyzer

log = logging.getLogger("srvpulse.local.analyzer")


class AnalyzerWorker:
    """A Worker (see runner.Worker) running ``analyzer.run_pass`` every ``interval``
    seconds. ``stop(drain=True)`` runs one last pass so nothing already due waits."""

    def __init__(
        self,
        analyzer: Analyzer,
        *,
        interval: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.analyzer = analyzer
        self.interval = interval
        self.clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="srvpulse-analyzer", daemon=True)
        self._thread.start()

    def stop(self, drain: bool) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        if drain:
            self._pass()

    def _pass(self) -> None:
        try:
            report = self.analyzer.run_pass(self.clock())
            self.passes += 1
            if report.flips or report.published:
                log.info(
                    "analyzer pass: %d due, %d flips, %d alert events published",
                    report.due,
                    report.flips,
                    report.published,
                )
        except Exception:
            # A database hiccup must not kill the thread: the next pass tries again.
            log.exception("analyzer pass failed")

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._pass()
            self._stopping.wait(self.interval)

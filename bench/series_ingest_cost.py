"""What writing every ping to the series store costs ingest.

    .venv/bin/python bench/series_ingest_cost.py [--pings 20000] [--checks 2000]
        [--backends sqlite,mysql] [--influx]

bench/ingest_throughput.py's workload and seed (checks holding their last 100 pings,
realistic start/success mix, SQS events of 100 records) through the real ingest
handler, per SQL backend, interleaved: without the series hooks (the baseline), with
the series store in the same SQL database (the local mode and SQL-only deployments:
points written in the batch's transaction), the same through the outbox (how InfluxDB
is fed), and with ``--influx`` with a private influxd 1.6.7. Prints
the process's CPU time per ping (steadier than wall time on a shared machine; SQLite
runs inside the process, MariaDB's and influxd's own work is not counted) and the
ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srvpulse import bootstrap
from srvpulse.adapters.sql.db import migrate
from srvpulse.bootstrap import Runtime
from srvpulse.services.ingesting import IngestHooks
from srvpulse.services.series import SeriesShipper
from srvpulse.settings import Settings

from bench.influx_server import influxd
from bench.ingest_throughput import backend, run, seed, workload


def rate(name: str, args: argparse.Namespace, mode: str, influx_url: str | None) -> float:
    with tempfile.TemporaryDirectory() as tmp, backend(name, Path(tmp)) as engine:
        migrate(engine)
        uuids = seed(engine, args.checks)
        rt = Runtime(Settings(data_dir=Path(tmp), influx_url=influx_url))
        rt.__dict__["engine"] = engine
        if mode == "no series":
            rt.__dict__["ingest_hooks"] = IngestHooks()
        elif mode == "SQL table, outbox":  # what the SQL table cost before direct writes
            rt.__dict__["series_shipper"] = SeriesShipper(
                lambda: rt.series_outbox, lambda: rt.series_store, lambda: datetime.now(UTC)
            )
        bootstrap.install(rt)
        rng = random.Random(7)
        run(workload(uuids, 500, rng), 100)  # warm-up
        messages = workload(uuids, args.pings, rng)
        cpu = time.process_time()
        run(messages, 100)
        cpu = time.process_time() - cpu
        if mode != "no series":
            assert rt.series_outbox.count() == 0
        bootstrap.install(None)
        # CPU time of this process (SQLite works in it; MariaDB's own work is not
        # counted): far steadier than wall time on a loaded machine.
        return cpu * 1000 / len(messages)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pings", type=int, default=20_000)
    p.add_argument("--checks", type=int, default=2_000)
    p.add_argument("--backends", default="sqlite,mysql")
    p.add_argument("--influx", action="store_true", help="also with a private influxd")
    args = p.parse_args()
    logging.disable(logging.WARNING)  # one log line per batch
    print(f"{args.pings} pings to {args.checks} checks, events of 100 records")
    modes = ["no series", "SQL table", "SQL table, outbox"] + (["InfluxDB"] if args.influx else [])
    for name in args.backends.split(","):
        with influxd() if args.influx else nullcontext() as server:
            results: dict[str, list[float]] = {m: [] for m in modes}
            for _round in range(2):  # interleaved, best of two
                for mode in modes:
                    url = server.url if server is not None and mode == "InfluxDB" else None
                    results[mode].append(rate(name, args, mode, url))
        base = min(results["no series"])
        for mode in modes:
            best = min(results[mode])
            print(
                f"{name:>7} {mode:>10}: {best:6.3f} ms CPU per ping  x{best / base:.2f}", flush=True
            )


if __name__ == "__main__":
    main()

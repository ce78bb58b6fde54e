"""`srvpulse checks list|create|pause|resume`: the management API from a terminal."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from ._api import Api, ApiError, fail, table

PROG = "srvpulse checks"
EXAMPLES = """\
examples:
  export SRVPULSE_URL=https://srvpulse.example.com SRVPULSE_API_KEY=...
  srvpulse checks list                         # a table: status, name, schedule, last ping
  srvpulse checks list --tag prod --json       # the API's JSON
  srvpulse checks create --name "nightly backup" --schedule "0 3 * * *" --tz Europe/Riga --grace 600
  srvpulse checks create --name heartbeat --timeout 300 --grace 60
  srvpulse checks pause 5f1c...e2; srvpulse checks resume 5f1c...e2

exit status: 0 done; 1 srvpulse refused (the reason is printed); 2 bad arguments or
no URL/key configured; 3 srvpulse could not be reached."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Manage checks through srvpulse's management API.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="the srvpulse server (or SRVPULSE_URL)")
    common.add_argument("--api-key", help="a project API key (or SRVPULSE_API_KEY)")
    common.add_argument("--json", action="store_true", help="print the API's JSON")
    sub = p.add_subparsers(dest="action", required=True, metavar="list|create|pause|resume")
    ls = sub.add_parser("list", parents=[common], help="every check with its status")
    ls.add_argument("--tag", action="append", default=[], help="only checks with this tag")
    mk = sub.add_parser("create", parents=[common], help="create a check")
    mk.add_argument("--name", required=True)
    mk.add_argument("--slug")
    mk.add_argument("--tags", help="space-separated tags")
    mk.add_argument("--desc")
    when = mk.add_mutually_exclusive_group()
    when.add_argument("--schedule", help='a crontab expression, e.g. "0 3 * * *"')
    when.add_argument("--timeout", type=int, help="a simple period in seconds")
    mk.add_argument("--tz", help="the crontab's time zone (default UTC)")
    mk.add_argument("--grace", type=int, help="seconds of grace after the expected time")
    for name in ("pause", "resume"):
        one = sub.add_parser(name, parents=[common], help=f"{name} a check")
        one.add_argument("check", help="the check's uuid")
    return p


def _when(iso: str | None, now: datetime) -> str:
    if not iso:
        return "-"
    seconds = int((now - datetime.fromisoformat(iso)).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            text = f"{seconds // size} {unit}"
            break
    else:
        text = f"{seconds} s"
    return f"in {text}" if future else f"{text} ago"


def _rows(checks: list[dict[str, Any]]) -> str:
    now = datetime.now(UTC)
    rows = [
        [
            c.get("status", ""),
            c.get("name") or "(unnamed)",
            c["schedule"] + f" ({c.get('tz', 'UTC')})"
            if "schedule" in c
            else f"every {c.get('timeout')} s",
            _when(c.get("last_ping"), now),
            _when(c.get("next_ping"), now),
            c.get("uuid") or c.get("unique_key", ""),
        ]
        for c in checks
    ]
    header = ["STATUS", "NAME", "SCHEDULE", "LAST PING", "NEXT PING", "UUID"]
    return table(rows, header) if rows else "no checks yet: srvpulse checks create --name ..."


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        api = Api(args.url, args.api_key)
        if args.action == "list":
            query = (
                ("?" + urllib.parse.urlencode([("tag", t) for t in args.tag])) if args.tag else ""
            )
            result = api.call("GET", "/checks/" + query)
            out = json.dumps(result, indent=2) if args.json else _rows(result["checks"])
        elif args.action == "create":
            body = {
                k: v
                for k, v in {
                    "name": args.name,
                    "slug": args.slug,
                    "tags": args.tags,
                    "desc": args.desc,
                    "schedule": args.schedule,
                    "timeout": args.timeout,
                    "tz": args.tz,
                    "grace": args.grace,
                }.items()
                if v is not None
            }
            result = api.call("POST", "/checks/", body)
            out = (
                json.dumps(result, indent=2)
                if args.json
                else (
                    f"created {result.get('name')!r}: {result.get('status')}\n"
                    f"ping URL: {result.get('ping_url')}"
                )
            )
        else:
            result = api.call("POST", f"/checks/{args.check}/{args.action}", {})
            out = (
                json.dumps(result, indent=2)
                if args.json
                else (f"{result.get('name') or args.check}: {result.get('status')}")
            )
    except ApiError as exc:
        return fail(PROG, exc)
    print(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))

"""`srvpulse ping`: send one ping from a shell, like curl but with srvpulse's retries and
deadline. Standard library only."""

from __future__ import annotations

import argparse
import sys
import urllib.parse

from ._http import DEADLINE, REQUEST_TIMEOUT, request
from ._target import UsageError, ping_url

EXAMPLES = """\
examples:
  srvpulse ping 5f1c...e2                     # success (SRVPULSE_URL names the server)
  srvpulse ping 5f1c...e2 start               # the job started
  srvpulse ping 5f1c...e2 fail --data "disk full"
  srvpulse ping 5f1c...e2 $?                  # exit status: 0 success, 1-255 failure
  some-job 2>&1 | srvpulse ping https://srvpulse.example.com/ping/5f1c...e2 log --data -
  srvpulse ping --slug nightly-backup --ping-key $KEY --url https://srvpulse.example.com

exit status: 0 the ping was accepted; 1 srvpulse refused it (the reason is printed);
3 srvpulse could not be reached within the deadline; 2 bad arguments."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="srvpulse ping",
        description="Send one ping to a check.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("check", nargs="?", help="the check's uuid or its whole ping URL")
    p.add_argument(
        "action",
        nargs="?",
        default="",
        help="start, fail, log or an exit status 0-255 (default: success)",
    )
    p.add_argument("--data", help="the ping's body (the report); '-' reads standard input")
    p.add_argument("--rid", help="run id, to pair a start with its completion")
    p.add_argument("--slug", help="the check's slug (with --ping-key)")
    p.add_argument("--ping-key", help="the project's ping key (or SRVPULSE_PING_KEY)")
    p.add_argument("--url", help="the srvpulse server (or SRVPULSE_URL)")
    p.add_argument("--timeout", type=float, default=DEADLINE, help="give up after (s)")
    return p


def _action(value: str) -> str:
    if value in ("", "start", "fail", "log"):
        return value
    if value.isdigit() and int(value) <= 255:
        return str(int(value))
    raise UsageError(f"action {value!r}: use start, fail, log or an exit status 0-255")


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        # "srvpulse ping --slug s --ping-key k start": the action comes first then.
        check, action = args.check, args.action
        if (args.slug or args.ping_key) and check and not action:
            check, action = None, check
        url = ping_url(check, slug=args.slug, ping_key=args.ping_key, server=args.url)
        suffix = _action(action)
    except UsageError as exc:
        print(f"srvpulse ping: {exc}", file=sys.stderr)
        return 2
    if suffix:
        url += "/" + suffix
    if args.rid:
        url += "?" + urllib.parse.urlencode({"rid": args.rid})
    body = None
    if args.data is not None:
        body = sys.stdin.buffer.read() if args.data == "-" else args.data.encode()
    reply = request(
        "POST" if body is not None else "GET",
        url,
        body=body,
        timeout=min(REQUEST_TIMEOUT, args.timeout),
        deadline=args.timeout,
    )
    if reply.ok:
        print(reply.text.strip() or "OK")
        return 0
    print(f"srvpulse ping: {reply.message()}", file=sys.stderr)
    return 3 if reply.status == 0 else 1

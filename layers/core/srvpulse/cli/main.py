"""Dispatch `srvpulse <command> ...` to the one module that implements the command.

The table below is the only registry: a new subcommand is a module in this package with
`main(argv: list[str]) -> int` plus one row here. Nothing is imported until a command is
chosen (the job-side commands must start fast and need only the standard library)."""

from __future__ import annotations

import importlib
import sys

# name -> (module, one line for `srvpulse --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("srvpulse.cli.run", "run a job and report its start, exit status and output"),
    "ping": ("srvpulse.cli.ping", "send one ping (success, start, fail, log, exit status)"),
    "checks": ("srvpulse.cli.checks", "list, create, pause and resume checks (management API)"),
    "import": ("srvpulse.cli.import_healthchecks", "copy a Healthchecks project's checks here"),
    "detect": ("srvpulse.cli.detect", "what pattern detection says on a recorded ping history"),
    "queue": ("srvpulse.cli.queue", "the local ping queue: stats, redrive dead letters"),
}

USAGE = "usage: srvpulse <command> [options]   (srvpulse <command> --help for each)"


def _help() -> str:
    width = max((len(name) for name in COMMANDS), default=0)
    rows = [f"  {name.ljust(width)}  {about}" for name, (_, about) in sorted(COMMANDS.items())]
    return "\n".join([USAGE, "", "commands:", *rows])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(_help())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"srvpulse: unknown command {name!r}\n\n{_help()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    code: int = module.main(rest)
    return code

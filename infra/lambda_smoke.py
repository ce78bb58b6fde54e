"""Call a function of a `sam build` output the way the Lambda Python runtime loads it.

Only the function's folder and the layer's python/ folder are on sys.path (nothing from
a virtualenv), so a module missing from the package, or a heavy import on the ping path,
shows up here before it does on AWS. The layer must be built for this machine's
architecture (see infra/README.md, "Checking a build without AWS").

    python3 -s infra/lambda_smoke.py BUILD_DIR EVENT [EVENT...]

EVENT is a file of events/ (``ping-success`` or ``events/ping-success.json``) or any
JSON file; the function is the one its name starts with (FUNCTIONS; a JSON file of
another name needs ``FUNCTION=...`` before it, e.g. ``ApiFunction=my-event.json``).
The same files are what ``sam local invoke -e`` takes and what
tests/integration/test_event_files.py invokes in-process, so they cannot rot.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any


class Context:
    """The attributes of a Lambda context object that srvpulse's handlers read."""

    function_name = "smoke"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:smoke"

    def get_remaining_time_in_millis(self) -> int:
        return 9000


EVENTS = Path(__file__).resolve().parents[1] / "events"

# Event name prefix -> (function logical id, handler), as in template.yaml (a test
# compares). alert-*.json serve both alerters; the web one is taken.
FUNCTIONS = {
    "ping": ("PingFunction", "handler.handler"),
    "ingest": ("IngestFunction", "handler.handler"),
    "analyzer": ("AnalyzerFunction", "handler.handler"),
    "alert": ("WebAlerterFunction", "handler.handler"),
    "api": ("ApiFunction", "api_entry.handler"),
    "migrate": ("MigrateFunction", "handler.handler"),
}


def resolve(argument: str) -> tuple[str, str, Path]:
    """(function, handler, event file) for one command-line EVENT."""
    function = None
    if "=" in argument:
        function, argument = argument.split("=", 1)
    path = Path(argument)
    if not path.exists():
        path = EVENTS / (argument if argument.endswith(".json") else argument + ".json")
    prefix = path.name.split("-")[0].removesuffix(".json")
    if function is None:
        if prefix not in FUNCTIONS:
            sys.exit(f"{argument}: name the function (FUNCTION={argument}); known: {FUNCTIONS}")
        return (*FUNCTIONS[prefix], path)
    handlers = dict(FUNCTIONS.values())
    return function, handlers.get(function, "handler.handler"), path


def main(build: str, *events: str) -> None:
    root = Path(build)
    for argument in events:
        function, handler, event_file = resolve(argument)
        # One function at a time on sys.path: every handler module is called handler.
        sys.path[:] = [str(root / function), str(root / "CoreLayer" / "python")] + [
            p for p in sys.path if "-packages" not in p and not p.startswith(str(root))
        ]
        sys.modules.pop(handler.rsplit(".", 1)[0], None)
        module_name, attribute = handler.rsplit(".", 1)
        module = importlib.import_module(module_name)
        event: dict[str, Any] = json.loads(event_file.read_text())
        print(f"== {function} {event_file.name}", file=sys.stderr)
        reply = getattr(module, attribute)(event, Context())
        print(json.dumps(reply, default=str, indent=1))
        loaded = {name: name in sys.modules for name in ("sqlalchemy", "chalice", "pydantic")}
        print("loaded:", loaded, file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], *sys.argv[2:])

"""Call a function of a `sam build` output the way the Lambda Python runtime loads it.

Only the function's folder and the layer's python/ folder are on sys.path (nothing from
a virtualenv), so a module missing from the package, or a heavy import on the ping path,
shows up here before it does on AWS. The layer must be built for this machine's
architecture (see infra/README.md, "Checking a build without AWS").

    python3 -s infra/lambda_smoke.py BUILD_DIR FUNCTION HANDLER EVENT_JSON_FILE
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


def main(build: str, function: str, handler: str, event_file: str) -> None:
    root = Path(build)
    sys.path[:0] = [str(root / function), str(root / "CoreLayer" / "python")]
    sys.path[:] = [p for p in sys.path if "-packages" not in p]
    module_name, attribute = handler.rsplit(".", 1)
    module = importlib.import_module(module_name)
    event: dict[str, Any] = json.loads(Path(event_file).read_text())
    reply = getattr(module, attribute)(event, Context())
    print(json.dumps(reply, default=str, indent=1))
    loaded = {name: name in sys.modules for name in ("sqlalchemy", "chalice", "pydantic")}
    print("loaded:", loaded, file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:5])

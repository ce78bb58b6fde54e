"""A Lambda context object for handlers invoked in-process by the local mode."""

from __future__ import annotations

import time
import uuid


class LocalLambdaContext:
    """The attributes handlers and Powertools read from a real Lambda context."""

    def __init__(self, function_name: str, timeout_s: float = 30.0, memory_mb: int = 512) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

"""The ``context`` object a Python Lambda handler receives (standard library only: workers load it by path)."""

from __future__ import annotations

import time
import uuid


class LambdaContext:
    def __init__(
        self,
        function_name: str,
        *,
        memory_limit_in_mb: int = 128,
        timeout_s: float = 3.0,
        request_id: str | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = version
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

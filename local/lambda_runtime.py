"""What the Lambda runtime gives the handlers, locally: the fixed part of their
environment (dummy credentials, Powertools quiet) and the context object."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "frontdoor",
    "POWERTOOLS_METRICS_NAMESPACE": "FrontDoorLocal",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class LocalContext:
    """The parts of LambdaContext that Powertools and the handler read."""

    function_name: str = "frontdoor-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:frontdoor-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/frontdoor-local"
    log_stream_name: str = "local"
    timeout_s: float = 28.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))

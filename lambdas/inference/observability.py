"""The one place that creates Powertools' logger, tracer and metrics, for every
function of the asset (front door, summarization worker, dead-letter consumer).

Service name and namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set per function by the stacks), so nothing is
hard-coded here.

The tracer is built on first use, not at import: Powertools' Tracer loads the
X-Ray SDK (~35 ms on the bench machine), which a cold start should not pay in
its init phase. ``traced`` builds it on the first invocation, and
``inference.clients.new_client`` patches botocore before the first client, so
handlers and AWS calls are still traced.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
# Fallback namespace only so that code importing this module without the Lambda
# environment (other packages' tests, tools) cannot fail at metrics flush.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "FrontDoor")

# Discovery routes publish no metric; Powertools would warn on every such request.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@functools.lru_cache(maxsize=1)
def tracer() -> Any:
    """Powertools' Tracer, without auto-patching (patching botocore imports it)."""
    from aws_lambda_powertools import Tracer

    return Tracer(auto_patch=False)


@functools.lru_cache(maxsize=1)
def trace_aws() -> None:
    """Patch botocore once so that every AWS call is an X-Ray subsegment."""
    tracer().patch(["botocore"])


def traced(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``Tracer.capture_lambda_handler`` (no response capture), applied on the first invocation."""
    wrapped: Callable[[Any, Any], Any] | None = None

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        nonlocal wrapped
        if wrapped is None:
            wrapped = tracer().capture_lambda_handler(handler, capture_response=False)
        return wrapped(event, context)

    return run

"""Lambda entry point (``idle_sleeper.handler.lambda_handler``), run hourly by
EventBridge Scheduler. Environment: ``ENDPOINTS_JSON`` (docs/contracts.md).

One endpoint's failure does not stop the others; the run fails at the end if any
endpoint failed, so the Errors metric shows it.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, Callable

from idle_sleeper import aws
from idle_sleeper.policy import Watch, decide, needs_metrics, parse_watches
from inference.clients import new_client
from inference.observability import logger, traced


class RunFailed(Exception):
    """At least one endpoint could not be checked or deleted."""


def check(watch: Watch, sagemaker: Any, cloudwatch: Any, now: datetime) -> dict[str, Any]:
    state = aws.describe(sagemaker, watch.endpoint_name)
    decision = needs_metrics(watch, state, now)
    if decision is None:
        count = aws.invocations(cloudwatch, watch, now - watch.window, now)
        decision = decide(watch, state, count, now)
    outcome = {"model": watch.name, "endpoint": watch.endpoint_name, "sleep": decision.sleep,
               "reason": decision.reason}
    if decision.sleep:
        outcome["deleted"] = aws.delete(sagemaker, watch.endpoint_name)
    return outcome


def run(watches: list[Watch], sagemaker: Any, cloudwatch: Any,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> list[dict[str, Any]]:
    results, failed = [], []
    for watch in watches:
        try:
            outcome = check(watch, sagemaker, cloudwatch, now())
        except Exception as exc:  # keep checking the other endpoints
            logger.exception("idle check failed", extra={"model": watch.name})
            failed.append(watch.name)
            outcome = {"model": watch.name, "endpoint": watch.endpoint_name, "error": type(exc).__name__}
        logger.info("endpoint checked", extra=outcome)
        results.append(outcome)
    if failed:
        raise RunFailed(f"idle check failed for: {', '.join(failed)}")
    return results


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event: dict[str, Any], context: Any) -> list[dict[str, Any]]:
    watches = parse_watches(os.environ["ENDPOINTS_JSON"])
    return run(watches, new_client("sagemaker"), new_client("cloudwatch"))

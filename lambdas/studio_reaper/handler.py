"""Lambda entry point (``studio_reaper.handler.lambda_handler``), run by EventBridge
Scheduler every `studio.deploy.reaper_rate_minutes`. Environment: IDLE_HOURS, TTL_HOURS,
RATE_MINUTES, DRY_RUN, TOPIC_ARN, PLATFORM_ENDPOINTS_JSON (stacks/constructs/studio_reaper.py).

`plan` is the read-only half (no tag, no notice, no delete), shared with the cost report
(tools/reaper_report.py). One endpoint's failure does not stop the others; the run fails at
the end if any failed, so the function's Errors metric shows it.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from typing import Any, Callable

from studio_reaper import aws
from studio_reaper.policy import Endpoint, Settings, Verdict, is_platform, judge, metric_window, notice

logger = logging.getLogger()
logger.setLevel(logging.INFO)


class RunFailed(Exception):
    """At least one endpoint could not be judged, announced or deleted."""


def assess(endpoint: Endpoint, sagemaker: Any, cloudwatch: Any, settings: Settings, now: datetime) -> Verdict:
    window = metric_window(endpoint, settings, now)
    usage = None
    if window is not None:
        usage = aws.usage(cloudwatch, endpoint.name, aws.variants(sagemaker, endpoint.name), *window)
    return judge(endpoint, usage, settings, now)


def plan(settings: Settings, sagemaker: Any, cloudwatch: Any, now: datetime) -> list[tuple[Endpoint, Verdict]]:
    """Every notebook endpoint and what the reaper would do with it now; changes nothing."""
    return [(e, assess(e, sagemaker, cloudwatch, settings, now)) for e in aws.notebook_endpoints(sagemaker, settings)]


def act(endpoint: Endpoint, verdict: Verdict, sagemaker: Any, sns: Any, settings: Settings,
        now: datetime) -> dict[str, Any]:
    outcome: dict[str, Any] = {"endpoint": endpoint.name, "owner": endpoint.owner, "action": verdict.action,
                               "reason": verdict.reason}
    if is_platform(endpoint.name, settings):  # listed out already; never act on one regardless
        return {**outcome, "action": "keep", "reason": "platform endpoint"}
    if settings.dry_run or verdict.action in ("keep", "wait"):
        return {**outcome, "dry_run": True} if settings.dry_run else outcome
    if verdict.action == "notify":
        sns.publish(**notice(endpoint, verdict, settings, now))
        aws.mark_notified(sagemaker, endpoint, now)
        return {**outcome, "notified": True}
    return {**outcome, "deleted": aws.delete_endpoint_config_and_models(sagemaker, endpoint.name)}


def run(settings: Settings, sagemaker: Any, cloudwatch: Any, sns: Any,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> list[dict[str, Any]]:
    results, failed = [], []
    for endpoint in aws.notebook_endpoints(sagemaker, settings):
        try:
            at = now()
            outcome = act(endpoint, assess(endpoint, sagemaker, cloudwatch, settings, at), sagemaker, sns,
                          settings, at)
        except Exception as exc:  # keep going with the other endpoints
            logger.exception("reaping %s failed", endpoint.name)
            failed.append(endpoint.name)
            outcome = {"endpoint": endpoint.name, "owner": endpoint.owner, "error": type(exc).__name__}
        logger.info("endpoint judged %s", json.dumps(outcome, default=str))
        results.append(outcome)
    if failed:
        raise RunFailed(f"reaping failed for: {', '.join(failed)}")
    return results


def lambda_handler(event: dict[str, Any], context: Any) -> list[dict[str, Any]]:
    import boto3

    settings = Settings.from_env(os.environ)
    return run(settings, boto3.client("sagemaker"), boto3.client("cloudwatch"), boto3.client("sns"))

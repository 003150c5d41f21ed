"""Usage per tenant: one CloudWatch embedded-metric-format (EMF) line and one daily counter
item per answered call.

The EMF line goes to stdout, where Lambda sends it to the function's log group and
CloudWatch extracts the metrics (dimensions Tenant+Model and Tenant, in the namespace the
functions' Powertools metrics use: POWERTOOLS_METRICS_NAMESPACE). The counter item (pk
tenant#<id>, sk day#<YYYY-MM-DD>#model#<name>) in the usage table is what
`tools/usage_report.py` reads. Recording never fails the call it records.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Literal

from tenants.aws import tables
from tenants.budget import KEEP_DAYS

logger = logging.getLogger(__name__)
TokenSource = Literal["model", "estimate"]
NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_NAMESPACE = "FmPlatform"  # what the stacks set (stacks/constructs/python_function.py)
FAILURE_METRIC = "UsageRecordFailures"


def record(tenant: str, model: str, prompt_tokens: int, completion_tokens: int, token_source: TokenSource,
           latency_ms: float, status: int, *, tier: str | None = None, now: datetime | None = None,
           end_user: str | None = None) -> bool:
    """Record one answered call; True when both the metric line and the counter were written.

    `token_source` says whose count the tokens are: the model container's ("model") or the
    front door's estimate ("estimate"). A failure is logged (its class only) and counted in
    the `UsageRecordFailures` metric, never raised."""
    now = now or datetime.now(timezone.utc)
    try:
        emit_metrics(tenant, model, prompt_tokens, completion_tokens, token_source, latency_ms, status,
                     tier=tier, now=now, end_user=end_user)
        add_daily(tenant, model, prompt_tokens, completion_tokens, token_source, latency_ms, status, now=now)
        return True
    except Exception as err:  # noqa: BLE001 - the call is answered; its usage line must not undo it
        logger.warning("usage not recorded", extra={"error": type(err).__name__, "model": model})
        _emit({FAILURE_METRIC: 1}, {}, now, units={FAILURE_METRIC: "Count"})
        return False


def emit_metrics(tenant: str, model: str, prompt_tokens: int, completion_tokens: int, token_source: str,
                 latency_ms: float, status: int, *, tier: str | None, now: datetime,
                 end_user: str | None = None) -> None:
    values = {"Requests": 1, "PromptTokens": int(prompt_tokens), "CompletionTokens": int(completion_tokens),
              "Latency": round(float(latency_ms), 1)}
    units = {"Requests": "Count", "PromptTokens": "Count", "CompletionTokens": "Count", "Latency": "Milliseconds"}
    # Status and token source are properties, not dimensions: each dimension value is a metric of its own.
    properties = {"Tenant": tenant, "Model": model, "Tier": tier or "", "TokenSource": token_source,
                  "Status": int(status)}
    if end_user:  # the request's `user` (OpenAI's end-user id): a property, never a dimension
        properties["EndUser"] = end_user
    _emit(values, properties, now, units=units, dimensions=[["Tenant", "Model"], ["Tenant"]])


def _emit(values: dict[str, float], properties: dict[str, object], now: datetime, *,
          units: dict[str, str], dimensions: list[list[str]] | None = None) -> None:
    namespace = os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE
    line = {
        "_aws": {
            "Timestamp": int(now.timestamp() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": namespace, "Dimensions": dimensions or [[]],
                "Metrics": [{"Name": name, "Unit": units[name]} for name in values],
            }],
        },
        **properties, **values,
    }
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def add_daily(tenant: str, model: str, prompt_tokens: int, completion_tokens: int, token_source: str,
              latency_ms: float, status: int, *, now: datetime) -> None:
    """ADD the call to its tenant's, day's and model's counter item (no usage table: nothing)."""
    t = tables()
    if not t.usage:
        return
    day = now.strftime("%Y-%m-%d")
    add = {":one": 1, ":prompt": int(prompt_tokens), ":completion": int(completion_tokens),
           ":latency": int(round(latency_ms)), ":estimated": int(token_source == "estimate"),
           ":errors": int(int(status) >= 400)}
    t.client.update_item(
        TableName=t.usage,
        Key={"pk": {"S": f"tenant#{tenant}"}, "sk": {"S": f"day#{day}#model#{model}"}},
        UpdateExpression=(
            "ADD requests :one, prompt_tokens :prompt, completion_tokens :completion, latency_ms :latency, "
            "estimated_requests :estimated, error_requests :errors "
            "SET tenant = :tenant, model = :model, #day = :day, #month = :month, "
            "expires_at = if_not_exists(expires_at, :exp)"
        ),
        ExpressionAttributeNames={"#day": "day", "#month": "month"},
        ExpressionAttributeValues={
            **{k: {"N": str(v)} for k, v in add.items()},
            ":tenant": {"S": tenant}, ":model": {"S": model}, ":day": {"S": day}, ":month": {"S": day[:7]},
            ":exp": {"N": str(int(time.time()) + KEEP_DAYS * 86400)},
        },
    )

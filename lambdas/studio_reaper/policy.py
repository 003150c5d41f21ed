"""When a notebook endpoint is reaped: pure functions, no AWS.

An endpoint is a *candidate* when it is InService and either expired (older than its
`ttl-hours` tag, default `studio.deploy.ttl_hours`) or idle (no CloudWatch `Invocations`
over the last `idle_hours`, and not created or changed within them). A candidate is never
deleted on the run that finds it: that run notifies the owner and tags the endpoint
(`fm:reap-notified-at`); a later run deletes it if it is still a candidate. The notice is
void when the owner used the endpoint after it (the idle window reaches back to the notice),
when it is older than `STALE_AFTER_RUNS` runs (the function failed in between, or the
endpoint was busy again: a fresh notice is due), and a run less than half a period after
the notice (someone invoked the function by hand) waits. Platform endpoints (named in
the deny list) are never judged at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping

from studio_reaper.tags import NOTIFIED_TAG, OWNER_TAG, TTL_HOURS_RANGE, TTL_TAG

# A notice counts for the runs up to this many periods after it.
STALE_AFTER_RUNS = 2.5


class ConfigError(ValueError):
    """The function's environment is malformed (a deployment bug, not an AWS fault)."""


@dataclass(frozen=True)
class Settings:
    idle_hours: int
    ttl_hours: int
    rate_minutes: int
    dry_run: bool
    topic_arn: str
    # Lower-cased names of the platform's own endpoints: never judged, never touched.
    platform: frozenset[str]

    @property
    def idle(self) -> timedelta:
        return timedelta(hours=self.idle_hours)

    @property
    def rate(self) -> timedelta:
        return timedelta(minutes=self.rate_minutes)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """From the function's environment (set by stacks/constructs/studio_reaper.py)."""
        try:
            platform = json.loads(env["PLATFORM_ENDPOINTS_JSON"])
            if not isinstance(platform, list) or not all(isinstance(n, str) and n for n in platform):
                raise ConfigError("PLATFORM_ENDPOINTS_JSON must be a JSON list of endpoint names")
            return cls(
                idle_hours=_positive(env, "IDLE_HOURS"), ttl_hours=_positive(env, "TTL_HOURS"),
                rate_minutes=_positive(env, "RATE_MINUTES"), dry_run=env.get("DRY_RUN", "false").lower() == "true",
                topic_arn=env["TOPIC_ARN"], platform=frozenset(n.lower() for n in platform),
            )
        except KeyError as exc:
            raise ConfigError(f"environment variable {exc.args[0]} is not set") from None
        except json.JSONDecodeError:
            raise ConfigError("PLATFORM_ENDPOINTS_JSON is not valid JSON") from None


def _positive(env: Mapping[str, str], name: str) -> int:
    value = env[name]
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Endpoint:
    """What ListEndpoints and ListTags say about one endpoint."""

    name: str
    arn: str
    status: str
    created: datetime
    modified: datetime
    tags: Mapping[str, str]

    @property
    def owner(self) -> str | None:
        return self.tags.get(OWNER_TAG) or None


@dataclass(frozen=True)
class Usage:
    """Invocations summed over the endpoint's variants in the metric window."""

    invocations: float
    last_invocation: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    action: str  # keep | notify | wait | delete
    reason: str
    # When the reaper deletes it at the latest if nothing changes (None: not InService).
    delete_by: datetime | None


def is_platform(name: str, settings: Settings) -> bool:
    return name.lower() in settings.platform


def ttl_hours(endpoint: Endpoint, settings: Settings) -> tuple[int, str]:
    """The endpoint's TTL and where it comes from (its tag, or the default)."""
    raw = endpoint.tags.get(TTL_TAG, "").strip()
    low, high = TTL_HOURS_RANGE
    if raw.isdigit() and low <= int(raw) <= high:
        return int(raw), f"its {TTL_TAG} tag"
    if raw:
        return settings.ttl_hours, f"the default; its {TTL_TAG} tag {raw!r} is not {low}-{high} hours"
    return settings.ttl_hours, "the default"


def notified_at(endpoint: Endpoint) -> datetime | None:
    raw = endpoint.tags.get(NOTIFIED_TAG)
    try:
        stamp = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return stamp.replace(tzinfo=timezone.utc) if stamp and stamp.tzinfo is None else stamp


def live_notice(endpoint: Endpoint, settings: Settings, now: datetime) -> datetime | None:
    """The notice time if one was given and has not gone stale."""
    notice = notified_at(endpoint)
    if notice is None or now - notice >= settings.rate * STALE_AFTER_RUNS or notice > now:
        return None
    return notice


def metric_window(endpoint: Endpoint, settings: Settings, now: datetime) -> tuple[datetime, datetime] | None:
    """The Invocations window to read, or None when no read is needed: not InService, or
    created or changed within the idle window (young endpoints count as not idle). The
    window reaches back to a live notice, so a call after the notice cancels the deletion."""
    if endpoint.status != "InService" or now - endpoint.modified < settings.idle:
        return None
    start = now - settings.idle
    notice = live_notice(endpoint, settings, now)
    return (min(start, notice) if notice else start), now


def judge(endpoint: Endpoint, usage: Usage | None, settings: Settings, now: datetime) -> Verdict:
    """keep, notify, wait (notified less than half a period ago) or delete."""
    if endpoint.status != "InService":
        return Verdict("keep", f"status is {endpoint.status}, not InService", None)
    ttl, ttl_source = ttl_hours(endpoint, settings)
    expires = endpoint.created + timedelta(hours=ttl)
    idle = usage is not None and usage.invocations == 0
    reasons = []
    if now >= expires:
        reasons.append(f"older than its {ttl} h TTL ({ttl_source})")
    if idle:
        reasons.append(f"no invocations in the last {settings.idle_hours} h")
    if not reasons:
        quiet_since = max(endpoint.modified, (usage.last_invocation if usage else None) or endpoint.modified)
        due = min(expires, quiet_since + settings.idle)
        return Verdict("keep", _keep_reason(endpoint, usage, settings, now, ttl, ttl_source),
                       due + settings.rate * 2)
    reason = "; ".join(reasons)
    notice = live_notice(endpoint, settings, now)
    if notice is None:
        return Verdict("notify", reason, now + settings.rate)
    if now - notice < settings.rate / 2:
        minutes = int((now - notice).total_seconds() // 60)
        return Verdict("wait", f"{reason}; owner notified {minutes} min ago", notice + settings.rate)
    return Verdict("delete", f"{reason}; owner notified at {notice.isoformat()}", now)


def _keep_reason(endpoint: Endpoint, usage: Usage | None, settings: Settings, now: datetime,
                 ttl: int, ttl_source: str) -> str:
    if usage is None:
        minutes = int((now - endpoint.modified).total_seconds() // 60)
        used = f"created or changed {minutes} min ago, within the {settings.idle_hours} h idle window"
    else:
        used = f"{usage.invocations:g} invocations in the last {settings.idle_hours} h"
    return f"{used}; TTL {ttl} h ({ttl_source})"


def notice(endpoint: Endpoint, verdict: Verdict, settings: Settings, now: datetime) -> dict:
    """The SNS Publish request telling the owner; `owner` is a message attribute, so each
    user subscribes with a filter policy on their own profile name (docs/studio.md)."""
    when = (now + settings.rate).strftime("%Y-%m-%d %H:%M UTC")
    message = (
        f"The SageMaker endpoint {endpoint.name}, deployed from Studio by {endpoint.owner}, will be deleted "
        f"with its endpoint config and model(s) by the reaper's next run, at about {when}.\n\n"
        f"Why: {verdict.reason}.\n\n"
        f"To keep it: invoke it (an idle endpoint) or set its {TTL_TAG} tag to more hours than its age "
        f"(an expired one). To stop paying now: delete it yourself (predictor.delete_model(); "
        f"predictor.delete_endpoint())."
    )
    return {
        "TopicArn": settings.topic_arn,
        "Subject": f"Studio endpoint {endpoint.name} will be deleted"[:100],
        "Message": message,
        "MessageAttributes": {
            "owner": {"DataType": "String", "StringValue": endpoint.owner or "unknown"},
            "endpoint": {"DataType": "String", "StringValue": endpoint.name},
        },
    }

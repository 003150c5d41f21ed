"""When an endpoint counts as idle: pure functions, no AWS.

An endpoint is put to sleep only if it is InService, has been for at least its
idle window (so an endpoint just woken by a call, a schedule or a deploy is not
deleted before anyone could use it), and CloudWatch counted zero invocations in
that window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from inference.errors import ConfigError, json_list


@dataclass(frozen=True)
class Watch:
    name: str
    endpoint_name: str
    variant_name: str
    idle_after_hours: int

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.idle_after_hours)


@dataclass(frozen=True)
class EndpointState:
    status: str
    # DescribeEndpoint's LastModifiedTime: creation, an update or the switch to InService.
    last_modified: datetime


@dataclass(frozen=True)
class Decision:
    sleep: bool
    reason: str


def parse_watches(raw: str) -> list[Watch]:
    return [_watch(entry, i) for i, entry in enumerate(json_list(raw, "ENDPOINTS_JSON"))]


def _watch(entry: Any, index: int) -> Watch:
    where = f"ENDPOINTS_JSON[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object")
    for key in ("name", "endpoint_name", "variant_name"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ConfigError(f"{where}.{key} must be a non-empty string")
    hours = entry.get("idle_after_hours")
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 168:
        raise ConfigError(f"{where}.idle_after_hours must be an integer 1-168, got {hours!r}")
    return Watch(entry["name"], entry["endpoint_name"], entry["variant_name"], hours)


def needs_metrics(watch: Watch, state: EndpointState | None, now: datetime) -> Decision | None:
    """A decision that needs no metrics, or None when the invocation count decides."""
    if state is None:
        return Decision(False, "already asleep (no endpoint)")
    if state.status != "InService":
        return Decision(False, f"status is {state.status}, not InService")
    in_service_for = now - state.last_modified
    if in_service_for < watch.window:
        minutes = int(in_service_for.total_seconds() // 60)
        return Decision(False, f"changed {minutes} min ago, within the {watch.idle_after_hours} h idle window")
    return None


def decide(watch: Watch, state: EndpointState | None, invocations: float | None, now: datetime) -> Decision:
    early = needs_metrics(watch, state, now)
    if early is not None:
        return early
    # SageMaker publishes no datapoint for a minute without invocations: none at all means zero.
    count = invocations or 0
    if count > 0:
        return Decision(False, f"{count:g} invocations in the last {watch.idle_after_hours} h")
    return Decision(True, f"no invocations in the last {watch.idle_after_hours} h")

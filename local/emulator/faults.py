"""Fault injection: what a call is made to fail with, and how it asks.

Faults are configured per endpoint or IC (``Emulator.inject``, ``POST /_emulator/faults``:
counters of the next calls to fail, a delay for the next calls, failures for bodies
containing a text) or asked for by one request (header ``x-emulator-fault`` or a
``[[emulator:FAULT]]`` marker anywhere in the body): ``throttle``, ``not-ready``,
``unavailable``, ``internal``, ``model-error``, ``delay=MS``; on a stream, the mid-stream
faults of ``STREAM_FAULTS`` (see local.emulator.streaming).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

FAULT_MARKER = re.compile(r"\[\[emulator:([a-z-]+(?:=\d+)?)\]\]")
FAULT_NAMES = {"throttle", "not-ready", "unavailable", "internal", "model-error", "delay"}
STREAM_FAULTS = {"stream-error", "stream-internal", "generation-error", "stream-timeout"}
# The AWS error an injected fault answers: status, error type, message ({endpoint}: the endpoint's name).
AWS_ERRORS = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "not-ready": (429, "ModelNotReadyException", "Model for endpoint {endpoint} is not ready."),
    "unavailable": (503, "ServiceUnavailable", "Service is unavailable. Try your call again."),
    "internal": (500, "InternalFailure", "An internal error occurred."),
}
# What the container answers (status 500) to an injected ``model-error``.
MODEL_ERROR_BODY = json.dumps({"error": "CUDA out of memory", "error_type": "generation"})
# The configured counters, in the order a call consumes them, and the fault each one injects.
_COUNTERS = (("throttle_next", "throttle"), ("not_ready_next", "not-ready"), ("unavailable_next", "unavailable"),
             ("internal_next", "internal"), ("model_error_next", "model-error"))


@dataclass
class Faults:
    throttle_next: int = 0
    not_ready_next: int = 0
    unavailable_next: int = 0
    internal_next: int = 0
    model_error_next: int = 0
    delay_next: int = 0
    delay_ms: float = 0.0
    fail_if_contains: list[dict[str, Any]] = field(default_factory=list)


def add_faults(current: Faults, **faults: Any) -> None:
    """Add faults: counters add up, ``delay_ms`` and ``fail_if_contains`` replace/extend.
    (A function, not a method: any attribute of ``Faults`` is taken for a fault's name.)"""
    for key, value in faults.items():
        if key == "fail_if_contains":
            current.fail_if_contains.extend(value)
        elif key == "delay_ms":
            current.delay_ms = float(value)
        elif hasattr(current, key):
            setattr(current, key, getattr(current, key) + int(value))
        else:
            raise ValueError(f"unknown fault {key!r}")


def consume_fault(configured: dict[str, Faults], keys: tuple[str, ...],
               body_text: str) -> tuple[str | None, float, dict[str, Any] | None]:
    """Consume one configured fault for this call, looking at ``keys`` in order (the IC,
    the endpoint, ``*``): (fault, extra delay ms, contains-rule). The caller holds the lock."""
    for key in keys:
        faults = configured.get(key)
        if faults is None:
            continue
        for rule in faults.fail_if_contains:
            if rule.get("text") and rule["text"] in body_text:
                return "contains", 0.0, rule
        for attr, name in _COUNTERS:
            if getattr(faults, attr) > 0:
                setattr(faults, attr, getattr(faults, attr) - 1)
                return name, 0.0, None
        if faults.delay_next > 0:
            faults.delay_next -= 1
            return None, faults.delay_ms, None
    return None, 0.0, None


def requested_fault(header: str | None, body_text: str) -> tuple[str | None, float]:
    """The fault one request asks for (its header, else the first marker in its body):
    (fault or None, extra delay ms); mid-stream faults are the stream's (``requested_stream_fault``)."""
    requested = header or (m.group(1) if (m := FAULT_MARKER.search(body_text)) else None)
    if not requested:
        return None, 0.0
    kind, _, value = requested.partition("=")
    if kind == "delay":
        return None, float(value or 0)
    return (kind if kind in FAULT_NAMES else None), 0.0


def requested_stream_fault(header: str | None, body_text: str) -> tuple[str, int | None]:
    """The mid-stream fault one request asks for (its header, else the first stream-fault
    marker in its body): (fault, tokens sent before it; None: no mid-stream fault)."""
    requested = header or next(
        (m.group(1) for m in FAULT_MARKER.finditer(body_text) if m.group(1).split("=")[0] in STREAM_FAULTS), None)
    fault, _, after = (requested or "").partition("=")
    return fault, (int(after or 0) if fault in STREAM_FAULTS else None)

"""Per-request values the error policy and the handler need (request id, model time).

ContextVars rather than module globals: the local server runs handlers in threads,
and a warm Lambda must never see the previous request's id.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="unknown")
model_ms: ContextVar[float | None] = ContextVar("model_ms", default=None)

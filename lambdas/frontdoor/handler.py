"""Lambda entry point (``frontdoor.handler.lambda_handler``).

Init validates the environment (a bad MODELS_JSON fails the cold start, not every
request) and loads only what every invocation needs. The resolver -- Powertools'
event handler, the routes and their pydantic models, ~100 ms to import on the
bench machine -- is built on the first request that passes the HTTP guards, and
the X-Ray SDK with it (``inference.observability.traced``); each route module is
mounted by the first request whose path it serves (``frontdoor.api.resolve``).
Each invocation: guards (``frontdoor.guards``), then the resolver; the request id
is stamped on every response, errors included.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from frontdoor import context, guards
from frontdoor.config import runtime
from frontdoor.errors import error_body
from inference.catalog import VISIBLE
from inference.observability import logger, metrics, traced
from tenants.context import TenantContext

# Validate the environment at cold start: a broken config fails init, not requests.
runtime()


@lru_cache(maxsize=1)
def resolver() -> Any:
    """The API (``frontdoor.api``), imported on first use; its ``resolve`` mounts the
    routes a request's path can reach, on the first request that needs them."""
    from frontdoor import api

    return api


def _request_id(event: dict[str, Any], lambda_context: Any) -> str:
    rid = (event.get("requestContext") or {}).get("requestId")
    return rid or getattr(lambda_context, "aws_request_id", None) or uuid.uuid4().hex


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
    rid = _request_id(event, lambda_context)
    rid_token = context.request_id.set(rid)
    ms_token = context.model_ms.set(None)
    # A tenant (api.auth: tenant_keys) sees only its tier's models, on every route.
    tenant = TenantContext.from_event(event)
    visible_token = VISIBLE.set(tenant.models if tenant is not None else None)
    try:
        event, response = guards.screen(event)
        if response is None:
            try:
                response = resolver().resolve(event, lambda_context)
            except Exception:  # the resolver's own failures, outside any route
                logger.exception("resolver failed")
                response = guards.raw_response(500, error_body("internal_error", "internal error"))
        guards.set_header(response, "x-request-id", rid)
        model_ms = context.model_ms.get()
        if model_ms is not None:
            guards.set_header(response, "Server-Timing", f"model;dur={model_ms:.1f}")
        return response
    finally:
        context.request_id.reset(rid_token)
        context.model_ms.reset(ms_token)
        VISIBLE.reset(visible_token)

"""Lambda entry point (``frontdoor.handler.lambda_handler``).

Wires observability around the resolver, enforces the body-size cap before any
parsing, and stamps the request id on every response, errors included.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from frontdoor import context
from frontdoor.api import app, error_body
from frontdoor.config import runtime
from frontdoor.observability import logger, metrics, tracer

# Well under Lambda's 6 MB sync payload: long documents take the async job path.
MAX_BODY_BYTES = 256 * 1024

# Validate the environment at cold start: a broken config fails init, not requests.
runtime()


def _request_id(event: dict[str, Any], lambda_context: Any) -> str:
    rid = (event.get("requestContext") or {}).get("requestId")
    return rid or getattr(lambda_context, "aws_request_id", None) or uuid.uuid4().hex


def _undecodable(event: dict[str, Any]) -> bool:
    """A base64 body (binary media type) that is not UTF-8 text cannot be JSON."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return False
    try:
        base64.b64decode(event["body"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return True
    return False


def _raw_response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps(body), "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": ["application/json"]}}


def _set_header(response: dict[str, Any], name: str, value: str) -> None:
    if "multiValueHeaders" in response:
        response["multiValueHeaders"][name] = [value]
    else:
        response.setdefault("headers", {})[name] = value


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], lambda_context: LambdaContext) -> dict[str, Any]:
    rid = _request_id(event, lambda_context)
    rid_token = context.request_id.set(rid)
    ms_token = context.model_ms.set(None)
    try:
        body = event.get("body") or ""
        if len(body) > MAX_BODY_BYTES:
            response = _raw_response(413, error_body(
                "payload_too_large", f"request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}"))
        elif _undecodable(event):
            response = _raw_response(400, error_body("invalid_json", "request body is not UTF-8 JSON"))
        else:
            try:
                response = app.resolve(event, lambda_context)
            except Exception:  # the resolver's own failures, outside any route
                logger.exception("resolver failed")
                response = _raw_response(500, error_body("internal_error", "internal error"))
        _set_header(response, "x-request-id", rid)
        model_ms = context.model_ms.get()
        if model_ms is not None:
            _set_header(response, "Server-Timing", f"model;dur={model_ms:.1f}")
        return response
    finally:
        context.request_id.reset(rid_token)
        context.model_ms.reset(ms_token)

"""Lambda entry point (``frontdoor.handler.lambda_handler``).

Wires observability around the resolver, enforces the per-route body-size cap and
the JSON media type before any parsing, and stamps the request id on every
response, errors included.
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
from inference.observability import logger, metrics, tracer

# Body caps in bytes as sent: the UTF-8 length of the body, or the decoded length
# of a base64-encoded (binary media type) body -- never characters.
MAX_BODY_BYTES = 256 * 1024  # every route but the ones below
# POST /v1/summarize takes a text of up to 5 MiB inline (summarizer.settings.
# MAX_INLINE_TEXT_BYTES). Lambda refuses a synchronous event over 6 MiB
# (6,291,456 bytes) *including* API Gateway's envelope: headers (twice, as headers
# and multiValueHeaders; a REST API caps them at 10 KiB), requestContext, and the
# body re-escaped as a JSON string. 6,000,000 leaves 291,456 bytes of that for the
# envelope and still holds a 5 MiB text with 757,120 bytes of JSON around it.
SUMMARIZE_MAX_BODY_BYTES = 6_000_000
MAX_BODY_BYTES_BY_ROUTE: dict[tuple[str, str], int] = {("POST", "/v1/summarize"): SUMMARIZE_MAX_BODY_BYTES}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# Validate the environment at cold start: a broken config fails init, not requests.
runtime()


def _request_id(event: dict[str, Any], lambda_context: Any) -> str:
    rid = (event.get("requestContext") or {}).get("requestId")
    return rid or getattr(lambda_context, "aws_request_id", None) or uuid.uuid4().hex


def body_limit(method: str | None, path: str | None) -> int:
    return MAX_BODY_BYTES_BY_ROUTE.get(((method or "").upper(), path or ""), MAX_BODY_BYTES)


def body_bytes(event: dict[str, Any]) -> int:
    """Size of the request body in bytes, without decoding base64 or copying ASCII."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        padding = 2 if body.endswith("==") else 1 if body.endswith("=") else 0
        return len(body) * 3 // 4 - padding
    if body.isascii():
        return len(body)
    return len(body.encode("utf-8", "surrogatepass"))


def _content_type(event: dict[str, Any]) -> tuple[str, str] | None:
    """(header name as sent, value) of the Content-Type header, if any."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "content-type":
            return name, value or ""
    return None


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()[:100]


def is_json_media_type(value: str) -> bool:
    """application/json or application/*+json (RFC 6839), parameters such as charset allowed."""
    media = _media(value)
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _json_event(event: dict[str, Any], header: tuple[str, str]) -> dict[str, Any]:
    """Present a JSON body as plain application/json: Powertools parses only that
    spelling (it refuses application/problem+json and Application/JSON)."""
    name, value = header
    if value.lstrip().startswith("application/json"):
        return event
    event = {**event, "headers": {**event["headers"], name: "application/json"}}
    if event.get("multiValueHeaders"):
        event["multiValueHeaders"] = {k: v for k, v in event["multiValueHeaders"].items()
                                      if k.lower() != "content-type"}
        event["multiValueHeaders"][name] = ["application/json"]
    return event


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
        method, path = event.get("httpMethod"), event.get("path")
        size, limit = body_bytes(event), body_limit(method, path)
        content_type = _content_type(event)
        # No Content-Type at all is read as JSON (Powertools does the same).
        wrong_type = content_type is not None and not is_json_media_type(content_type[1]) and (
            event.get("body") or (method or "").upper() in _BODY_METHODS)
        if size > limit:
            response = _raw_response(413, error_body(
                "payload_too_large", f"request body is {size} bytes; the limit for {method} {path} is {limit}"))
        elif wrong_type:
            response = _raw_response(415, error_body(
                "unsupported_media_type",
                f"Content-Type {_media(content_type[1])!r} is not JSON; send the body as application/json"))
        elif _undecodable(event):
            response = _raw_response(400, error_body("invalid_json", "request body is not UTF-8 JSON"))
        else:
            if content_type is not None and is_json_media_type(content_type[1]):
                event = _json_event(event, content_type)
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

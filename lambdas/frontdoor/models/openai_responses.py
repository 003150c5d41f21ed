"""The documented ``responses`` of the OpenAI-compatible operations.

Their functions answer errors in OpenAI's shape (``OpenAIErrorResponse``). API Gateway
answers some statuses itself before any function runs (401 a refused tenant key, 403
IAM/WAF/unknown route, 429 the stage's or the usage plan's throttle, 413 over its
payload limit) with the API's gateway-response body (``ErrorResponse``); the SDKs pick
their exception class by status alone, so those statuses document either body.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from frontdoor.models.openai_media import OpenAIErrorResponse
from frontdoor.models.responses import ErrorResponse, inline_schema

# The operation extension that marks an OpenAI-compatible route: its function validates
# the body (so a refusal has OpenAI's shape), and API Gateway adds no request validator.
OPENAI_EXTENSION = "x-fm-error-shape"
OPENAI = {OPENAI_EXTENSION: "openai"}

_ERRORS: dict[int, str] = {
    400: "Invalid request (`invalid_request_error`): not JSON, a field of the wrong type, out of range, "
         "unknown or unsupported (`param` names it); a prompt or max_tokens over the model's context "
         "(`context_length_exceeded`); special tokens of the model's prompt format; a model of the wrong kind",
    401: "No valid tenant key in `Authorization: Bearer <key>` (api.auth: tenant_keys; API Gateway answers it)",
    403: "API Gateway refused the request: credentials (IAM), an unknown path or method, or the WAF",
    404: "The model does not exist for you (`model_not_found`): unknown, or outside your tier",
    413: "Body over the route's cap, in bytes",
    415: "Content-Type is not application/json",
    429: "Rate limited (`rate_limit_exceeded`: the stage's, your tier's or the model's) or your monthly token "
         "budget is spent (`insufficient_quota`); see Retry-After",
    500: "Internal error (`internal_error`); quote the x-request-id when reporting it",
    502: "The model failed (`model_error`)",
    503: "The model is not ready, asleep or scaling up from zero (`model_not_ready`, `model_asleep`, "
         "`model_scaling_up`, `model_unavailable`); see Retry-After",
    504: "The model timed out (`model_timeout`)",
}
_ALWAYS = (401, 403, 413, 429, 500)
# Answered by API Gateway too, in the API's own error shape.
_EITHER = (401, 403, 413, 429)
_REQUEST_ID = {"x-request-id": {"description": "The request id (also in error bodies)", "schema": {"type": "string"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying, when known",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def openai_error_responses(*codes: int) -> dict[int, dict[str, Any]]:
    entries: dict[int, dict[str, Any]] = {}
    for code in sorted({*codes, *_ALWAYS}):
        headers = {**_REQUEST_ID, **(_RETRY_AFTER if code in (429, 503) else {})}
        content = ({"schema": {"anyOf": [_ref(OpenAIErrorResponse), _ref(ErrorResponse)]}} if code in _EITHER
                   else {"model": OpenAIErrorResponse})
        entries[code] = {"description": _ERRORS[code], "headers": headers, "content": {"application/json": content}}
    return entries


def stream_content(chunk: type[BaseModel]) -> dict[str, Any]:
    """A ``text/event-stream`` of ``chunk`` events (each one ``data:`` line of JSON, no
    ``event:`` name), ending with ``data: [DONE]``, as OpenAI streams."""
    events = {"description": "Server-sent events: `data: <chunk JSON>` each, then `data: [DONE]`; a failure "
                             "after the first chunk is a `data: {\"error\": {...}}` event and the stream ends",
              "type": "object", "required": ["data"],
              "properties": {"data": {"type": "string", "contentMediaType": "application/json",
                                      "contentSchema": inline_schema(chunk)}}}
    return {"text/event-stream": {"schema": json.loads(json.dumps(events))}}


def openai_responses(status: int, model: type[BaseModel], *errors: int,
                     stream: dict[str, Any] | None = None) -> dict[int, dict[str, Any]]:
    """An OpenAI-compatible operation's ``responses``: its answer (JSON, and ``stream``'s
    event stream when the request asks for ``stream``) and its errors."""
    content: dict[str, Any] = {"application/json": {"model": model}, **(stream or {})}
    ok = {status: {"description": "The answer (an event stream when the request sets `stream`)" if stream
                   else "The answer", "headers": dict(_REQUEST_ID), "content": content}}
    return {**ok, **openai_error_responses(*errors)}

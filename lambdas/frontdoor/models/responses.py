"""The error body every operation shares, and an operation's documented ``responses``."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

from frontdoor.models.base import ApiModel


class ErrorResponse(ApiModel):
    """Every error: the function's, and API Gateway's own (its gateway responses use this shape)."""

    error: str = Field(description="Stable error code")
    message: str
    request_id: str
    details: Optional[list[dict[str, Any]]] = None


_ERRORS: dict[int, str] = {
    401: "No valid tenant key in `Authorization: Bearer <key>` (api.auth: tenant_keys; API Gateway answers it)",
    400: "The request does not match this document: body not JSON (`invalid_json`), or a wrong type, "
         "missing or unknown field, value out of range, or path parameter (`validation_error`, "
         "`details` = [{loc, type, msg}])",
    403: "API Gateway refused the request: no or invalid credentials, an unknown path or method "
         "(`MISSING_AUTHENTICATION_TOKEN`), or the WAF; or, for a tenant with a token budget, a route "
         "its budget cannot meter (`not_metered`: POST /v1/summarize)",
    404: "Unknown model, template, job or uploaded object",
    413: "Body over the route's cap, in bytes (`payload_too_large`), or over API Gateway's 10 MB payload "
         "limit (`REQUEST_TOO_LARGE`); on any method, a GET with a body included",
    415: "Content-Type is not application/json or application/*+json (`unsupported_media_type`)",
    422: "The request matches this document, but the models or templates of this deployment cannot take it: "
         "no default model of the kind, a model of the other kind, a parameter the model's family lacks, "
         "max_new_tokens over the model's budget, template variables, a special token of the model's "
         "prompt format (`bad_request`, `special_tokens_rejected`); or the model refused the input "
         "(`model_validation_error`)",
    429: "Throttled: the stage's rate limit, the tier's usage plan, the model or the feedback table (`throttled`), "
         "or the tenant's monthly token budget is spent (`insufficient_quota`); see Retry-After",
    500: "Internal error (`internal_error`); quote request_id when reporting it",
    502: "The model failed (`model_error`)",
    503: "Model not ready, asleep, scaling up from zero copies or unavailable, or a store not configured "
         "(`model_not_ready`, `model_asleep`, `model_scaling_up`, `model_unavailable`); see Retry-After",
    504: "The model timed out (`model_timeout`)",
}
# What API Gateway or any handler can answer on every operation (413: any request may carry a body).
_ALWAYS = (401, 403, 413, 429, 500)
_REQUEST_ID = {"x-request-id": {"description": "The request id (also in error bodies)", "schema": {"type": "string"}}}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying, when known",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}


def error_responses(*codes: int) -> dict[int, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes an operation can return,
    with the ones every operation can return (401, 403, 413, 429, 500) added."""
    entries = {}
    for code in sorted({*codes, *_ALWAYS}):
        headers = {**_REQUEST_ID, **(_RETRY_AFTER if code in (429, 503) else {})}
        entries[code] = {"description": _ERRORS[code], "headers": headers,
                         "content": {"application/json": {"model": ErrorResponse}}}
    return entries


def responses(ok: dict[int, tuple[type[BaseModel], str]], *errors: int,
              links: dict[int, dict[str, Any]] | None = None) -> dict[int, dict[str, Any]]:
    """The complete ``responses`` of an operation: its successes (status -> model,
    description; ``links``: status -> OpenAPI links to the operations its body feeds)
    and its errors (``error_responses``)."""
    entries: dict[int, dict[str, Any]] = {}
    for code, (model, description) in ok.items():
        headers = dict(_REQUEST_ID)
        if code == 202:
            headers["Location"] = {"description": "Where to poll the job", "required": True,
                                   "schema": {"type": "string"}}
        entries[code] = {"description": description, "headers": headers,
                         "content": {"application/json": {"model": model}}}
        if links and code in links:
            entries[code]["links"] = links[code]
    return {**entries, **error_responses(*errors)}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema with its ``$defs`` inlined (a response schema of its own)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)

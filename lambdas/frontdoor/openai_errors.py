"""Errors on the OpenAI-compatible routes: OpenAI's body and the statuses its SDKs map.

The openai SDKs pick an exception class by status (400 BadRequestError, 401
AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError, 422
UnprocessableEntityError, 429 RateLimitError, >= 500 InternalServerError) and read
``error.code`` / ``error.param`` from ``{"error": {"message", "type", "param", "code"}}``.
OpenAI answers every request it cannot serve as asked with 400, so what the native
routes answer 422 (the deployment's models cannot take it) is 400 here; a prompt or
``max_tokens`` over the model's context is 400 ``context_length_exceeded``, as OpenAI
says it. Standard library only: the guards use it before anything is imported.
"""

from __future__ import annotations

from typing import Any

# The routes that answer in OpenAI's shapes (GET /v1/models is the native list, extended).
OPENAI_PATHS = frozenset({"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/images/generations"})
_MODEL_PREFIX = "/v1/models/"

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 413: "invalid_request_error", 415: "invalid_request_error",
          422: "invalid_request_error", 429: "rate_limit_error"}
# The native codes whose 422 is a 400 here (the request cannot be served as asked).
_NATIVE_422 = 422
CONTEXT_LENGTH = "context_length_exceeded"


def is_openai_path(path: str | None) -> bool:
    return bool(path) and (path in OPENAI_PATHS or (path.startswith(_MODEL_PREFIX) and len(path) > len(_MODEL_PREFIX)))


def openai_status(status: int) -> int:
    return 400 if status == _NATIVE_422 else status


def error_type(status: int, code: str | None) -> str:
    if code == "insufficient_quota":
        return "insufficient_quota"
    return _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def param_of(details: list[dict[str, Any]] | None) -> str | None:
    """The request field at fault: a detail's ``field`` (ours) or ``loc`` (validation), as a dotted path."""
    for detail in details or ():
        if detail.get("field"):
            return str(detail["field"])
        loc = [str(p) for p in detail.get("loc") or () if p != "body"]
        if loc:
            return ".".join(loc)
    return None


def openai_code(code: str, details: list[dict[str, Any]] | None) -> str | None:
    """OpenAI's ``code`` for one of ours: the context-length cases by name, the rest as they are."""
    kinds = {d.get("type") for d in details or ()}
    if code == "validation_error" and "extra_forbidden" in kinds:
        return "unsupported_parameter"
    if "budget" in kinds or "context_length" in kinds:
        return CONTEXT_LENGTH
    if code == "not_found" and param_of(details) == "model":
        return "model_not_found"
    return code


_PROMPT_FIELD = {"/v1/chat/completions": "messages", "/v1/completions": "prompt", "/v1/embeddings": "input",
                 "/v1/images/generations": "prompt"}


def details_of(exc: Any, path: str | None) -> list[dict[str, Any]] | None:
    """An ``inference.errors`` exception's details, with a model's own refusal of an input over
    its token limit (TGI's 422 states the count: ``ModelInputRejected.too_long``) named as such."""
    details = list(exc.details or [])
    if getattr(exc, "too_long", False):
        details.append({"field": _PROMPT_FIELD.get(path or "", "messages"), "type": "context_length"})
    return details or None


def openai_error_body(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
                      request_id: str | None = None) -> dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}`` (plus ``request_id``, which the SDKs
    also read from the ``x-request-id`` header)."""
    mapped = openai_code(code, details)
    body: dict[str, Any] = {"message": message, "type": error_type(status, mapped), "param": param_of(details),
                            "code": mapped}
    if request_id:
        body["request_id"] = request_id
    return {"error": body}


def openai_validation_message(details: list[dict[str, Any]]) -> str:
    """What OpenAI's clients show for a refused body: the first field at fault and why;
    a field OpenAI has and this API does not is "not supported" (docs/openai-compatibility.md)."""
    first = details[0] if details else {}
    where = ".".join(str(p) for p in first.get("loc") or () if p != "body") or "body"
    if first.get("type") == "extra_forbidden":
        return f"'{where}' is not supported by this API (docs/openai-compatibility.md lists every field)"
    return f"{where}: {first.get('msg') or 'invalid'}"

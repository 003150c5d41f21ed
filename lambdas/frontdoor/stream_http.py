"""HTTP pieces of the streaming function's server (``frontdoor.stream_server``) that its
route modules share: answers, and request validation with the Powertools resolver's
errors (so a body refused here is refused there the same way)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Iterator

from frontdoor.errors import INVALID_JSON_MESSAGE, SCHEMA_MISMATCH_MESSAGE, error_body

SSE_HEADERS = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
               ("X-Accel-Buffering", "no")]
JSON_HEADERS = [("Content-Type", "application/json")]


class RequestInvalid(Exception):
    """The request does not match the document (400), as ``frontdoor.api`` answers it."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def _details(errors: list[dict[str, Any]], prefix: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [{"loc": [*prefix, *e.get("loc", ())], "type": e.get("type"), "msg": e.get("msg")} for e in errors]


def validate_body(model: Any, body: str | None) -> Any:
    """``model`` from a JSON body, with the Powertools resolver's errors (its
    ``OpenAPIRequestValidationMiddleware``: JSON errors at ``["body", position]``, a missing
    or null body ``["body"]`` ``missing``, field errors under ``"body"``)."""
    from pydantic import ValidationError

    try:
        data = json.loads(body) if body else None
    except json.JSONDecodeError as exc:
        raise RequestInvalid("invalid_json", INVALID_JSON_MESSAGE,
                             [{"loc": ["body", exc.pos], "type": "json_invalid", "msg": "JSON decode error"}]) from exc
    if data is None:
        raise RequestInvalid("validation_error", SCHEMA_MISMATCH_MESSAGE,
                             [{"loc": ["body"], "type": "missing", "msg": "Field required"}])
    try:
        return adapter(model).validate_python(data, from_attributes=True)
    except ValidationError as exc:
        raise RequestInvalid("validation_error", SCHEMA_MISMATCH_MESSAGE, _details(exc.errors(), ("body",))) from exc


def validate_template_name(name: str) -> str:
    """The path parameter as ``routes.generation.TemplateName`` constrains it."""
    from pydantic import StringConstraints, ValidationError

    from frontdoor.services.templating import MAX_TEMPLATE_NAME_CHARS, TEMPLATE_NAME_PATTERN

    template_name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEMPLATE_NAME_CHARS,
                                                     pattern=TEMPLATE_NAME_PATTERN)]
    try:
        return adapter(template_name).validate_python(name)
    except ValidationError as exc:
        raise RequestInvalid("validation_error", SCHEMA_MISMATCH_MESSAGE,
                             _details(exc.errors(), ("path", "name"))) from exc


ADAPTERS: dict[Any, Any] = {}


def adapter(kind: Any) -> Any:
    """One pydantic ``TypeAdapter`` per type (by its repr: ``Annotated`` aliases compare by value)."""
    from pydantic import TypeAdapter

    key = repr(kind)
    if key not in ADAPTERS:
        ADAPTERS[key] = TypeAdapter(kind)
    return ADAPTERS[key]


@dataclass
class Answer:
    """What to send: a JSON body, or (``chunks``) a 200 event stream."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunks: Iterator[bytes] | None = None
    log: dict[str, Any] = field(default_factory=dict)


def json_answer(status: int, body: dict[str, Any], retry_after: int | None = None) -> Answer:
    headers = list(JSON_HEADERS) + ([("Retry-After", str(retry_after))] if retry_after else [])
    return Answer(status, headers, json.dumps(body).encode())


def no_route(method: str, path: str) -> Answer:
    return json_answer(404, error_body("not_found", f"no route for {method} {path}"))

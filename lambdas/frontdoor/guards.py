"""HTTP guards that run before any parsing: the per-route body cap, the JSON media
type and base64 bodies that are not text. Pure: an API Gateway event in, either
the event to route (possibly with its Content-Type normalised) or the error
response to send. Standard library only, so they cost nothing at cold start.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from frontdoor import context
from frontdoor.errors import error_body
from frontdoor.openai_errors import is_openai_path, openai_error_body

# Body caps in bytes as sent: the UTF-8 length of the body, or the decoded length
# of a base64-encoded (binary media type) body -- never characters.
MAX_BODY_BYTES = 256 * 1024  # every route but the ones below
# POST /v1/summarize takes a text of up to 5 MiB inline (summarizer.limits.
# MAX_INLINE_TEXT_BYTES). Lambda refuses a synchronous event over 6 MiB
# (6,291,456 bytes) *including* API Gateway's envelope: headers (twice, as headers
# and multiValueHeaders; a REST API caps them at 10 KiB), requestContext, and the
# body re-escaped as a JSON string. 6,000,000 leaves 291,456 bytes of that for the
# envelope and still holds a 5 MiB text with 757,120 bytes of JSON around it.
SUMMARIZE_MAX_BODY_BYTES = 6_000_000
MAX_BODY_BYTES_BY_ROUTE: dict[tuple[str, str], int] = {("POST", "/v1/summarize"): SUMMARIZE_MAX_BODY_BYTES}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


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


def raw_response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """A proxy response built without the resolver (guards, and the resolver's own failures)."""
    return {"statusCode": status, "body": json.dumps(body), "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": ["application/json"]}}


def set_header(response: dict[str, Any], name: str, value: str) -> None:
    if "multiValueHeaders" in response:
        response["multiValueHeaders"][name] = [value]
    else:
        response.setdefault("headers", {})[name] = value


def refusal(path: str | None, status: int, code: str, message: str) -> dict[str, Any]:
    """A guard's answer, in OpenAI's error shape on its routes (``frontdoor.openai_errors``)."""
    if is_openai_path(path):
        return raw_response(status, openai_error_body(status, code, message, request_id=context.request_id.get()))
    return raw_response(status, error_body(code, message))


def screen(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(event to route, None) or (event, the 4xx response to send instead)."""
    method, path = event.get("httpMethod"), event.get("path")
    size, limit = body_bytes(event), body_limit(method, path)
    content_type = _content_type(event)
    # No Content-Type at all is read as JSON (Powertools does the same).
    wrong_type = content_type is not None and not is_json_media_type(content_type[1])
    if size > limit:
        return event, refusal(path, 413, "payload_too_large",
                              f"request body is {size} bytes; the limit for {method} {path} is {limit}")
    if (method or "").upper() not in _BODY_METHODS:  # no operation reads it: only its size is refused
        return event, None
    if wrong_type:
        return event, refusal(path, 415, "unsupported_media_type",
                              f"Content-Type {_media(content_type[1])!r} is not JSON; send the body as application/json")
    if _undecodable(event):
        return event, refusal(path, 400, "invalid_json", "request body is not UTF-8 JSON")
    if content_type is not None and is_json_media_type(content_type[1]):
        event = _json_event(event, content_type)
    return event, None

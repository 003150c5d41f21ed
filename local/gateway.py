"""API Gateway's part of the local front door: the REST proxy events it hands the
function, the resources and methods it routes, and its own answers (gateway responses)."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # REST API payload limit
API_GATEWAY_MAX_BODY_MESSAGE = "Request Too Long"
MISSING_TOKEN_MESSAGE = "Missing Authentication Token"


def to_event(method: str, raw_path: str, headers: list[tuple[str, str]], body: bytes,
             source_ip: str = "127.0.0.1", stage: str = "local",
             identity: dict[str, str] | None = None, authorizer: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as a ``{proxy+}`` resource delivers it
    (``identity``: what IAM authorization adds to ``requestContext.identity``; ``authorizer``:
    a Lambda authorizer's principalId and context, ``requestContext.authorizer``)."""
    parts = urlsplit(raw_path)
    path = unquote(parts.path) or "/"
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in headers:
        single[key] = value
        multi.setdefault(key, []).append(value)
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        text, is_b64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(body).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": source_ip, "userAgent": single.get("User-Agent", ""), **(identity or {})},
            **({"authorizer": authorizer} if authorizer is not None else {}),
        },
        "body": text if body else None,
        "isBase64Encoded": is_b64,
    }


# A segment of a resource path: a literal, or a `{param}` that takes any one non-empty segment.
_PARAM = re.compile(r"^\{[^{}/+]+\}$")


class Routes:
    """The resources and methods of the deployed REST API: every operation of the
    contract (what `stacks/constructs/api_gateway.py` adds to the API), matched the
    way API Gateway matches them: segment by segment on the path as sent, so an
    encoded slash (`%2F`) stays inside its segment."""

    def __init__(self, operations: list[tuple[str, str]], streaming: list[tuple[str, str]] = ()) -> None:
        self._routes = self._table(operations)
        self._streaming = self._table(streaming)

    @classmethod
    def from_contract(cls) -> Routes:
        from stacks.contract import openapi

        ops = openapi.operations(openapi.load())
        return cls([(op.path, op.method) for op in ops], [(op.path, op.method) for op in ops if op.streams])

    def streams(self, method: str, raw_path: str) -> bool:
        """A method API Gateway integrates with the streaming function (``ResponseTransferMode: STREAM``)."""
        return self._find(self._streaming, method, raw_path)

    def allows(self, method: str, raw_path: str) -> bool:
        return self._find(self._routes, method, raw_path)

    @staticmethod
    def _table(operations: list[tuple[str, str]]) -> list[tuple[tuple[str, ...], str]]:
        return [(tuple(path.strip("/").split("/")), method.upper()) for path, method in operations]

    @staticmethod
    def _find(table: list[tuple[tuple[str, ...], str]], method: str, raw_path: str) -> bool:
        segments = urlsplit(raw_path).path.strip("/").split("/")
        return any(m == method.upper() and Routes._matches(t, segments) for t, m in table)

    @staticmethod
    def _matches(template: tuple[str, ...], segments: list[str]) -> bool:
        return len(template) == len(segments) and all(
            (segment != "" if _PARAM.match(part) else part == segment) for part, segment in zip(template, segments))


def gateway_response(response_type: str, message: str, error_type: str | None = None,
                     request_id: str | None = None) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of one of API Gateway's own answers (a gateway response), as the
    deployed API sends it: the body from its DEFAULT_4XX/5XX template
    (`stacks/constructs/api_gateway.py` ERROR_BODY, the shape of every error of the
    API), `x-amzn-RequestId` and `x-amzn-ErrorType` as API Gateway adds them, and
    `x-request-id` as the function's answers carry it."""
    request_id = request_id or str(uuid.uuid4())
    body = json.dumps({"error": response_type, "message": message, "request_id": request_id}).encode()
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id), ("x-request-id", request_id)]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return headers, body

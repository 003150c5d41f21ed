"""The token-streaming routes as the OpenAPI document (and so API Gateway) knows them.

Deployed, API Gateway integrates these two methods with the streaming function
(``frontdoor.stream_server`` behind the Lambda Web Adapter, ``ResponseTransferMode: STREAM``),
never with the buffered front door. Here they exist for the contract (request models,
statuses, the ``text/event-stream`` answer) and answer the same events in one buffered
body, so the resolver alone (unit tests, a call that reaches the buffered function by
mistake) still behaves as documented.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from frontdoor.config import runtime
from frontdoor.models.responses import error_responses, inline_schema
from frontdoor.models.streams import (GenerateStreamRequest, StreamDone, StreamError, StreamToken,
                                      TemplateRunStreamRequest)
from frontdoor.routes.generation import TEXT_ERRORS, TemplateName
from frontdoor.services.generation import PreparedText
from frontdoor.services.token_stream import EVENT_STREAM, open_stream

router = Router()
_EVENTS = (
    "Server-sent events (text/event-stream), each `event: <type>` and one `data:` line of JSON: "
    "`token` {text, index} as the model generates (special tokens and stop strings left out; text "
    "that may begin a stop string waits for the next token, so `index`, the model's token position, "
    "can skip); then `done` {text, finish_reason, model, usage: {input_tokens_estimate, max_new_tokens, "
    "generated_tokens, input_tokens}, template?, label?} whose text is the buffered route's output for "
    "the same request and seed; or, if the model fails after the first token, `error` {error, message, "
    "request_id, details?, status, retry_after?} with the code and status the buffered route would "
    "have answered. Failures before the first token are ordinary JSON error answers."
)


def _event(name: str, data: type[BaseModel]) -> dict[str, Any]:
    """One server-sent event as OpenAPI 3.1 tools read a `text/event-stream` schema (each event an
    object with `event` and `data`; Open API 3.2 spells this `itemSchema`): `data` is JSON."""
    return {"type": "object", "required": ["event", "data"],
            "properties": {"event": {"const": name},
                           "data": {"type": "string", "contentMediaType": "application/json",
                                    "contentSchema": inline_schema(data)}}}


def stream_responses() -> dict:
    events = {"description": _EVENTS, "oneOf": [_event("token", StreamToken), _event("done", StreamDone),
                                                 _event("error", StreamError)]}
    ok = {200: {"description": "The answer as it is generated",
                "headers": {"x-request-id": {"description": "The request id (also in error bodies)",
                                             "schema": {"type": "string"}}},
                "content": {EVENT_STREAM: {"schema": json.loads(json.dumps(events))}}}}
    # The buffered twins' statuses: errors before the first token are answered as they are.
    return {**ok, **error_responses(*TEXT_ERRORS)}


def _collect(call: PreparedText, candidates: int | None) -> Response:
    stream = open_stream(call, runtime().invoker, candidates)
    return Response(status_code=200, content_type=EVENT_STREAM, body=b"".join(stream.chunks()).decode())


@router.post("/v1/generate/stream", tags=["generation"], summary="Generate text, streamed token by token",
             responses=stream_responses())
def generate_stream(body: GenerateStreamRequest):  # no return annotation: the body is an event stream
    """``POST /v1/generate`` as server-sent events: the same body, validation, prompt
    format, parameters and stop handling; one event per token, then the whole answer.
    Models whose container cannot stream (ai21-j2) are 422; ``candidates`` is 1 at most."""
    call = runtime().text.prepare_generate(body.model, body.inputs, body.parameters.given(), system=body.system)
    return _collect(call, body.candidates)


@router.post("/v1/templates/<name>/stream", tags=["generation"], summary="Run a prompt template, streamed",
             responses=stream_responses())
def run_template_stream(name: TemplateName, body: TemplateRunStreamRequest):
    """``POST /v1/templates/{name}`` as server-sent events; the final event carries the
    template's ``label`` for label templates."""
    call = runtime().text.prepare_template(name, body.model, body.variables, body.parameters.given())
    return _collect(call, body.candidates)

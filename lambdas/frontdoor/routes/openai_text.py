"""``POST /v1/chat/completions`` and ``POST /v1/completions``: OpenAI's text routes.

Deployed, API Gateway sends both to the streaming function (their success answer may be
``text/event-stream``; ``frontdoor.stream_server`` serves them, streamed or not). Here
they exist for the contract and answer the same, a stream collected into one body, so
the resolver alone (unit tests, a call that reaches the buffered function) behaves as
documented. Both go through ``services.openai_serve.serve_text``, as the streaming server's do.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from frontdoor import tenancy
from frontdoor.config import runtime
from frontdoor.models.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    CompletionRequest,
    TextCompletion,
)
from frontdoor.models.openai_responses import OPENAI, openai_responses, stream_content
from frontdoor.services.openai_serve import CHAT, COMPLETIONS, serve_text
from frontdoor.services.openai_stream import ChunkStream
from frontdoor.services.token_stream import EVENT_STREAM

router = Router()
TEXT_ERRORS = (400, 404, 413, 415, 429, 502, 503, 504)


def _collected(stream: ChunkStream, admission: tenancy.Admission) -> Response:
    try:
        body = b"".join(stream.chunks())
    finally:
        admission.finish(stream.job.spec.name, stream.charged_usage(), 200)
    return Response(status_code=200, content_type=EVENT_STREAM, body=body.decode())


def _json(body: dict[str, Any]) -> Response:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


@router.post(CHAT, tags=["openai"], summary="Chat completion (OpenAI-compatible)",
             responses=openai_responses(200, ChatCompletion, *TEXT_ERRORS,
                                        stream=stream_content(ChatCompletionChunk)),
             openapi_extensions=OPENAI)
def chat_completions(body: ChatCompletionRequest):  # no return annotation: JSON or an event stream
    """OpenAI's Chat Completions: ``messages`` rendered in the model family's chat layout
    (``inference.chat``), answered as ``chat.completion``, or with ``stream`` as
    ``chat.completion.chunk`` events and ``data: [DONE]``. Errors in OpenAI's shape;
    a conversation over the model's input limit is 400 ``context_length_exceeded``."""
    out = serve_text(CHAT, body, runtime(), tenancy.tenant_of(router.current_event.raw_event), None, _collected)
    return out if isinstance(out, Response) else _json(out)


@router.post(COMPLETIONS, tags=["openai"], summary="Text completion (OpenAI-compatible, legacy)",
             responses=openai_responses(200, TextCompletion, *TEXT_ERRORS, stream=stream_content(TextCompletion)),
             openapi_extensions=OPENAI)
def completions(body: CompletionRequest):  # no return annotation: JSON or an event stream
    """OpenAI's (legacy) Completions for older clients: ``prompt`` (a string or a list) sent as
    it is, answered as ``text_completion`` (choices in prompt order, ``n`` per prompt)."""
    out = serve_text(COMPLETIONS, body, runtime(), tenancy.tenant_of(router.current_event.raw_event), None,
                     _collected)
    return out if isinstance(out, Response) else _json(out)

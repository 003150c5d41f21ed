"""The streaming function's OpenAI text routes (``POST /v1/chat/completions``,
``POST /v1/completions``): the request validated as the resolver validates it, the
tenant read from the request context the Lambda Web Adapter forwards
(``x-amzn-request-context``: API Gateway's ``requestContext``, the authorizer's
context in it), then ``services.openai_serve.serve_text``; errors in OpenAI's shape.
"""

from __future__ import annotations

from typing import Any

from frontdoor import context, tenancy
from frontdoor.errors import INTERNAL_ERROR_MESSAGE, status_of
from frontdoor.openai_errors import details_of, openai_error_body, openai_status, openai_validation_message
from frontdoor.services.openai_serve import CHAT, serve_text
from frontdoor.services.openai_stream import ChunkStream
from frontdoor.stream_http import SSE_HEADERS, Answer, RequestInvalid, json_answer, validate_body
from inference.errors import InferenceError
from inference.observability import logger


def _error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
           retry_after: int | None = None) -> Answer:
    status = openai_status(status)
    return json_answer(status, openai_error_body(status, code, message, details, context.request_id.get()),
                       retry_after)


def serve_openai(app: Any, path: str, headers: dict[str, str], body: str | None, limit: float) -> Answer:
    """One chat or completion request on the streaming server (``StreamApp``); ``limit``: when
    a stream must end (with a ``model_timeout`` error chunk) to finish within the function's time."""
    from frontdoor.models.chat import ChatCompletionRequest, CompletionRequest

    def on_stream(stream: ChunkStream, admission: tenancy.Admission) -> Answer:
        # Settled when the stream ends or its connection closes, whichever comes first (finish is idempotent).
        stream.on_close = lambda: admission.finish(stream.job.spec.name, stream.charged_usage(), 200)
        answer = Answer(200, list(SSE_HEADERS), chunks=stream.chunks(deadline=limit))
        answer.log = {"stream": stream}
        return answer

    try:
        request = validate_body(ChatCompletionRequest if path == CHAT else CompletionRequest, body)
        out = serve_text(path, request, app.runtime, tenancy.tenant_of_request_context(headers), app.invoker, on_stream)
    except RequestInvalid as exc:
        message = exc.message if exc.code == "invalid_json" else openai_validation_message(exc.details)
        return _error(400, exc.code, message, exc.details)
    except InferenceError as exc:
        status = status_of(exc)
        logger.warning("request failed", extra={"error": exc.code, "status": status, "reason": exc.message})
        return _error(status, exc.code, exc.message, details_of(exc, path), exc.retry_after)
    except Exception:  # noqa: BLE001 - a bug of ours: logged in full, answered as every route does
        logger.exception("unexpected error")
        return _error(500, "internal_error", INTERNAL_ERROR_MESSAGE)
    return out if isinstance(out, Answer) else json_answer(200, out)

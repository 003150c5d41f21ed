"""Serving one OpenAI text request (chat or completion), wherever it arrives: the
resolver's routes (``routes.openai_text``) and the streaming function's server
(``frontdoor.stream_server``) both call ``serve_text``. No Powertools here: the
streaming server imports it at init.
"""

from __future__ import annotations

from typing import Any, Callable

from frontdoor import context, tenancy
from frontdoor.services.openai_stream import ChunkStream, open_chunks
from frontdoor.services.openai_text import TextJob, answer, chat_job, completion_job, run
from inference.prompts import prompt_format

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"


def text_job(path: str, body: Any, rt: Any, tenant: Any) -> TextJob:
    """The request, mapped and checked: the model as the tenant sees the catalog, the prompt(s)."""
    spec = tenancy.resolve_model(rt.catalog, tenant, body.model, "text")
    if path == CHAT:
        return chat_job(spec, body)
    return completion_job(spec, body, prompt_format(spec.family).check)


def serve_text(path: str, body: Any, rt: Any, tenant: Any, invoker: Any,
               on_stream: Callable[[ChunkStream, tenancy.Admission], Any]) -> dict[str, Any] | Any:
    """A buffered answer's body (dict), or what ``on_stream`` makes of an opened chunk stream.
    The tenant's budget is charged up front (the most the call can use) and settled with
    what it used; a failure before the answer gives it all back."""
    job = text_job(path, body, rt, tenant)
    admission = tenancy.admit(tenant, job.reserve_tokens(), getattr(body, "user", None))
    try:
        if body.stream:
            stream = open_chunks(job, rt.text, rt.invoker if invoker is None else invoker, path)
        else:
            done = run(rt.text, job)
    except BaseException:
        admission.finish(job.spec.name, None, 0)
        raise
    if body.stream:  # ``on_stream`` finishes the admission once the stream has ended
        return on_stream(stream, admission)
    admission.finish(job.spec.name, done.usage, 200)
    context.model_ms.set(done.model_ms)  # Server-Timing, as the native routes send it
    return answer(job, done)

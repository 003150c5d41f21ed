"""Chat Completions and Completions as server-sent events, OpenAI's way: ``data: <chunk>``
events (no ``event:`` names), the assistant's role first, then content deltas, the
finish reason in the last choice chunk, a usage chunk when ``stream_options.include_usage``
asks, then ``data: [DONE]``.

One answer of a streaming family (TGI) goes token by token over the native token stream
(``services.token_stream``: same prompt, parameters, stop handling); anything else asked
to stream (several answers, several prompts, a family whose container does not stream)
is generated whole and sent as one content chunk per choice. Either way every failure
before the first byte is an ordinary error answer; after it, an ``{"error": ...}`` chunk.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

from frontdoor import context
from frontdoor.errors import INTERNAL_ERROR_MESSAGE, status_of
from frontdoor.openai_errors import details_of, openai_error_body, openai_status
from frontdoor.services.generation import TextService
from frontdoor.services.openai_text import (
    DONE,
    TextJob,
    chunk,
    error_chunk,
    finish_reason,
    run,
    usage,
    whole_chunks,
)
from frontdoor.services.token_stream import DoneEvent, OpenStream, Outcome, TokenEvent, open_stream
from inference.errors import InferenceError, ModelTimeout
from inference.prompts import StopFilter
from inference.tokens import lower_bound


class ChunkStream:
    """An answer whose first chunk is ready. ``usage`` is known once ``chunks`` has ended
    (``None`` if the stream failed first); ``outcome`` feeds the stream's log line."""

    def __init__(self, job: TextJob, path: str, clock: Callable[[], float]) -> None:
        self.job, self.path, self.clock = job, path, clock
        self.started = clock()
        self.usage: dict[str, Any] | None = None
        self.outcome = Outcome()
        self.on_close: Callable[[], None] | None = None  # e.g. settle the tenant's budget (idempotent)
        self._token_stream: OpenStream | None = None
        self._body: Iterator[bytes] = iter(())

    def close(self) -> None:
        """Close the model's stream, then ``on_close`` (the server closes every stream it sent,
        even one whose first chunk never went out)."""
        if self._token_stream is not None:
            self._token_stream.close()
        if self.on_close is not None:
            self.on_close()

    def charged_usage(self) -> dict[str, Any]:
        """``usage`` once the answer has finished; before that (a model error, the deadline, the
        caller gone) what was streamed, estimated: the prompt and a token per content chunk."""
        if self.usage is not None:
            return self.usage
        return usage(sum(lower_bound(p) for p in self.job.prompts), self.outcome.tokens, "estimate", "estimate")

    def chunks(self, deadline: float | None = None) -> Iterator[bytes]:
        try:
            if self._token_stream is not None:
                yield from self._tokens(self._token_stream, deadline)
            else:
                yield from self._body
        finally:
            self.outcome.total_ms = (self.clock() - self.started) * 1000
            self.close()

    def _tokens(self, stream: OpenStream, deadline: float | None) -> Iterator[bytes]:
        job, outcome = self.job, self.outcome
        item: TokenEvent | DoneEvent | None = stream.first
        cut = StopFilter(job.cut) if job.cut else None
        try:
            if job.kind == "chat":
                yield chunk(job, 0, role=True)
            while item is not None:
                if isinstance(item, TokenEvent):
                    outcome.tokens += 1
                    text = cut.push(item.text) if cut else item.text
                    if text:
                        yield chunk(job, 0, text=text)
                    if cut and cut.stopped:  # the layout's stop: the answer ends here
                        yield from self._cut_short()
                        return
                else:
                    tail = cut.finish() if cut else ""
                    if tail:
                        yield chunk(job, 0, text=tail)
                    yield from self._done(item)
                    return
                if deadline is not None and self.clock() > deadline:
                    raise ModelTimeout("the answer did not finish within the streaming function's time limit")
                item = next(stream.rest, None)
        except InferenceError as exc:
            outcome.error = exc.code
            yield error_chunk(openai_error_body(openai_status(status_of(exc)), exc.code, exc.message,
                                                details_of(exc, self.path), context.request_id.get()))
        except Exception:  # noqa: BLE001 - reported to the caller as the routes do, logged by the caller
            outcome.error = "internal_error"
            yield error_chunk(openai_error_body(500, "internal_error", INTERNAL_ERROR_MESSAGE,
                                                request_id=context.request_id.get()))
            raise

    def _cut_short(self) -> Iterator[bytes]:
        self.outcome.finish_reason = "stop_sequence"
        self.usage = self.charged_usage()
        yield chunk(self.job, 0, finish="stop", text="" if self.job.kind == "completion" else None)
        if self.job.include_usage:
            yield chunk(self.job, usage_=self.usage)
        yield DONE

    def _done(self, done: DoneEvent) -> Iterator[bytes]:
        self.outcome.finish_reason = done.finish_reason
        stats = done.usage
        prompt = stats.get("input_tokens")
        generated = stats.get("generated_tokens")
        self.usage = usage(prompt if prompt is not None else stats["input_tokens_estimate"],
                           generated if generated is not None else lower_bound(done.text),
                           "model" if prompt is not None else "estimate",
                           "model" if generated is not None else "estimate")
        reason = finish_reason(done.finish_reason)
        yield chunk(self.job, 0, finish=reason, text="" if self.job.kind == "completion" else None)
        if self.job.include_usage:
            yield chunk(self.job, usage_=self.usage)
        yield DONE


def open_chunks(job: TextJob, text: TextService, invoker: Any, path: str,
                clock: Callable[[], float] = time.monotonic) -> ChunkStream:
    """Start ``job`` and wait for its first chunk; raises ``inference.errors`` for every
    failure before it (the caller answers those as ordinary errors)."""
    out = ChunkStream(job, path, clock)
    if job.streams_tokens:
        prepared = text.prepare(job.spec, job.prompts[0], job.requested, None)
        out._token_stream = open_stream(prepared, invoker, None, clock=clock)
        out.outcome = out._token_stream.outcome
        return out
    done = run(text, job)
    out.usage = done.usage
    out.outcome.first_event_ms = (clock() - out.started) * 1000
    out.outcome.finish_reason = done.choices[0][1] if done.choices else None
    out.outcome.tokens = len(done.choices)
    out._body = whole_chunks(job, done)
    return out

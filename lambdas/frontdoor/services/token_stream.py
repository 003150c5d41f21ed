"""A prepared generation (``services.generation.PreparedText``) as a token stream.

Pure: payload-part bytes in (``inference.runtime.SageMakerRuntime.invoke_stream``),
events out. Special tokens are not shown (TGI's ``generated_text`` skips them too);
stop strings are cut as the buffered routes cut them, incrementally
(``inference.prompts.StopFilter``: text that could be the start of a stop string waits
until it is not); the final event's text is the buffered answer's text: TGI's own
``generated_text`` with its stop strings cut, exactly what ``TextService._complete``
returns for the same request and seed.

``sse`` writes the events as server-sent events (WHATWG HTML, "Server-sent events":
``event:`` and one ``data:`` line of JSON, then a blank line)::

    event: token
    data: {"text": " Paris", "index": 3}

    event: done
    data: {"text": "...", "finish_reason": "stop_sequence", "model": "...", "usage": {...}}

    event: error
    data: {"error": "model_error", "message": "...", "request_id": "..."}
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

from frontdoor.errors import INTERNAL_ERROR_MESSAGE, error_body, status_of
from frontdoor.services.generation import PreparedText
from inference.codecs import StreamEnd, StreamToken, TgiStreamParser, WireRequest
from inference.errors import BadRequest, InferenceError, ModelTimeout
from inference.params import TGI_FAMILIES
from inference.prompts import StopFilter, strip_stops

EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True)
class TokenEvent:
    """Text released by the model's ``index``-th generated token (0-based). Text that may
    start a stop string is released with a later token, so indices can skip."""

    text: str
    index: int


@dataclass(frozen=True)
class DoneEvent:
    text: str
    finish_reason: str | None
    model: str
    usage: dict[str, Any]
    template: str | None = None
    label: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_streamable(call: PreparedText, candidates: int | None) -> None:
    """What only the streaming routes refuse (422): a family whose container does not stream
    (AI21 Jurassic-2 model packages answer InvokeEndpoint only), and several candidates
    (one stream is one answer; the buffered routes return candidates)."""
    if call.spec.family not in TGI_FAMILIES:
        raise BadRequest(f"model {call.spec.name!r} ({call.spec.family}) does not stream its answers; "
                         "use the buffered route (without /stream)",
                         details=[{"field": "model", "type": "not_streamable"}])
    if candidates is not None and candidates > 1:
        raise BadRequest("a stream carries one answer; ask the buffered route for candidates",
                         details=[{"field": "candidates", "type": "not_streamable"}])


class StreamInvoker(Protocol):
    def invoke_stream(self, endpoint_name: str, request: WireRequest,
                      inference_component: str | None = None) -> Iterator[bytes]: ...


def stream_request(call: PreparedText) -> WireRequest:
    return call.codec.build_stream(call.prompt, call.params)  # type: ignore[attr-defined]


def events(call: PreparedText, parts: Iterable[bytes]) -> Iterator[TokenEvent | DoneEvent]:
    """Token events as the model's parts arrive, then one ``DoneEvent``. A model failure
    (an error event of TGI, a broken stream) raises ``inference.errors`` from the iteration."""
    parser = TgiStreamParser(call.spec.family)
    stops = StopFilter(call.params.stop)
    end: StreamEnd | None = None
    last = 0

    def released(batch: list[StreamToken | StreamEnd]) -> Iterator[TokenEvent]:
        nonlocal end, last
        for item in batch:
            if isinstance(item, StreamEnd):
                end = item
            elif not item.special:
                last = item.index
                text = stops.push(item.text)
                if text:
                    yield TokenEvent(text, item.index)

    for part in parts:
        yield from released(parser.feed(part))
    yield from released(parser.close())
    tail = stops.finish()
    if tail:
        yield TokenEvent(tail, last)
    assert end is not None  # parser.close() raises otherwise
    full = end.generated_text if end.generated_text is not None else stops.text
    text, stopped = strip_stops(full, call.params.stop)
    usage = {**call.usage(end.generated_tokens), "input_tokens": end.input_tokens}
    yield DoneEvent(text=text, finish_reason="stop_sequence" if stopped else end.finish_reason,
                    model=call.spec.name, usage=usage, template=call.template,
                    label=call.label_of(text) if call.label_of else None)


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def encode(item: TokenEvent | DoneEvent) -> bytes:
    if isinstance(item, TokenEvent):
        return sse("token", {"text": item.text, "index": item.index})
    data: dict[str, Any] = {"text": item.text, "finish_reason": item.finish_reason, "model": item.model,
                            "usage": item.usage}
    if item.template is not None:
        data["template"] = item.template
        data["label"] = item.label
    return sse("done", {**data, **item.extra})


@dataclass
class Outcome:
    """How one stream went, for its log line and metrics."""

    first_event_ms: float | None = None
    total_ms: float = 0.0
    tokens: int = 0
    finish_reason: str | None = None
    error: str | None = None


class OpenStream:
    """A stream whose first event has arrived: from here on the answer is a 200
    ``text/event-stream``; every failure before it was an ordinary error answer."""

    def __init__(self, first: TokenEvent | DoneEvent, rest: Iterator[TokenEvent | DoneEvent], started: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.first, self.rest, self.started, self.clock = first, rest, started, clock
        self.outcome = Outcome(first_event_ms=(clock() - started) * 1000)
        self.done: DoneEvent | None = None  # the final event, once sent (its usage: what the stream cost)

    def close(self) -> None:
        close = getattr(self.rest, "close", None)
        if close is not None:
            close()  # closes the model's stream too (inference.runtime._payload_parts)

    def chunks(self, deadline: float | None = None) -> Iterator[bytes]:
        """The SSE bytes: every event, or the events up to a failure and then one ``error``
        event with the body (code, message) the route would have answered before the first
        byte. ``deadline`` (a ``clock()`` value): the function's own time limit, reported as
        ``model_timeout`` rather than cut off mid-event."""
        outcome = self.outcome
        item: TokenEvent | DoneEvent | None = self.first
        try:
            while item is not None:
                if isinstance(item, TokenEvent):
                    outcome.tokens += 1
                else:
                    outcome.finish_reason = item.finish_reason
                yield encode(item)
                if isinstance(item, DoneEvent):
                    self.done = item
                    break
                if deadline is not None and self.clock() > deadline:
                    raise ModelTimeout("the answer did not finish within the streaming function's time limit")
                item = next(self.rest, None)
        except InferenceError as exc:
            outcome.error = exc.code
            body = error_body(exc.code, exc.message, exc.details)
            if exc.retry_after:
                body["retry_after"] = exc.retry_after
            body["status"] = status_of(exc)
            yield sse("error", body)
        except Exception:  # noqa: BLE001 - reported to the caller as the routes do, logged by the caller
            outcome.error = "internal_error"
            yield sse("error", {**error_body("internal_error", INTERNAL_ERROR_MESSAGE), "status": 500})
            raise
        finally:
            outcome.total_ms = (self.clock() - self.started) * 1000
            self.close()


def open_stream(call: PreparedText, invoker: StreamInvoker, candidates: int | None = None,
                clock: Callable[[], float] = time.monotonic) -> OpenStream:
    """Send ``call`` as a stream and wait for its first event. Raises ``inference.errors``
    for everything that fails before it: the streaming routes' refusals, the model call's
    (throttled, asleep, ...), and an error the model streams before any token (TGI
    reports an input over the model's limit that way)."""
    check_streamable(call, candidates)
    started = clock()
    parts = invoker.invoke_stream(call.spec.endpoint_name, stream_request(call), call.spec.inference_component)
    rest = events(call, parts)
    try:
        first = next(rest)
    except BaseException:
        rest.close()
        raise
    return OpenStream(first, rest, started, clock)

"""Chat Completions and Completions over the text service: requests mapped onto the
native generation (``TextService``), answers and chunks in OpenAI's shapes.

Pure apart from the injected services: the resolver's routes and the streaming
function's server both call ``complete`` / ``open_chunks``, so a request is served
the same wherever API Gateway sends it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from frontdoor.services.batch import first_error, run_bounded, workers_for
from frontdoor.services.generation import TextResult, TextService
from inference.catalog import ModelSpec
from inference.chat import Message, render_chat
from inference.errors import BadRequest
from inference.params import DEFAULT_MAX_NEW_TOKENS, MAX_STOP_SEQUENCES, TGI_FAMILIES
from inference.prompts import strip_stops
from inference.tokens import lower_bound

DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True)
class TextJob:
    """One OpenAI text request, mapped: the prompts to send (one per chat, one per completion
    prompt), the native parameters, and how to answer."""

    kind: str  # "chat" | "completion"
    spec: ModelSpec
    prompts: tuple[str, ...]
    requested: dict[str, Any]
    n: int = 1
    include_usage: bool = False
    # The layout's stop strings TGI's 4 left no room for: cut from the answer here instead.
    cut: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def object_id(self) -> str:
        return f"{'chatcmpl' if self.kind == 'chat' else 'cmpl'}-{self.id}"

    @property
    def streams_tokens(self) -> bool:
        """One answer of a family whose container streams: sent token by token; anything else
        streamed is answered whole, one content chunk per choice, once all are done."""
        return self.n == 1 and len(self.prompts) == 1 and self.spec.family in TGI_FAMILIES

    def reserve_tokens(self) -> int:
        """The most this request can cost: every prompt (estimated) and n answers of max_new_tokens,
        an answer capped at what the model's context leaves (a max_tokens over it is refused with
        400 context_length_exceeded once the call is prepared, not with a spent budget)."""
        wanted = int(self.requested.get("max_new_tokens") or DEFAULT_MAX_NEW_TOKENS)
        total = 0
        for prompt in self.prompts:
            tokens = lower_bound(prompt)
            room = wanted if self.spec.max_total_tokens is None else max(0, self.spec.max_total_tokens - tokens)
            total += tokens + self.n * min(wanted, room)
        return total


def sampling(body: Any) -> dict[str, Any]:
    """The native parameters (``inference.params.TEXT_PARAMETERS``) of an OpenAI body."""
    requested: dict[str, Any] = {}
    max_tokens = getattr(body, "max_completion_tokens", None) or body.max_tokens
    if max_tokens is not None:
        requested["max_new_tokens"] = max_tokens
    if body.temperature is not None:
        requested["temperature"] = body.temperature
    if body.top_p is not None and body.top_p < 1:  # 1 keeps every token: the container's default
        requested["top_p"] = body.top_p
    if body.seed is not None:
        requested["seed"] = body.seed
    if body.stop is not None:
        requested["stop"] = [body.stop] if isinstance(body.stop, str) else list(body.stop)
    return requested


def chat_messages(body: Any) -> list[Message]:
    out = []
    for m in body.messages:
        text = m.content if isinstance(m.content, str) else "".join(part.text for part in m.content)
        out.append(Message("system" if m.role == "developer" else m.role, text))
    return out


def check_context(spec: ModelSpec, prompt: str, field_name: str) -> None:
    """A prompt that cannot fit the model however it is tokenized (our count errs low) is
    refused before any model call, as OpenAI refuses it: 400 ``context_length_exceeded``."""
    estimate = lower_bound(prompt)
    if spec.max_input_length is not None and estimate > spec.max_input_length:
        raise BadRequest(
            f"model {spec.name!r} takes at most {spec.max_input_length} input tokens of its "
            f"{spec.max_total_tokens} context; the {field_name} are at least {estimate} tokens",
            details=[{"field": field_name, "type": "context_length", "max": spec.max_input_length}])


def chat_job(spec: ModelSpec, body: Any) -> TextJob:
    rendered = render_chat(spec.family, chat_messages(body))
    requested = sampling(body)
    stops = list(requested.get("stop") or ())
    cut = []
    for stop in rendered.stops:  # the layout's own: sent while TGI's 4 leave room, else cut here
        if stop in stops:
            continue
        (stops if len(stops) < MAX_STOP_SEQUENCES else cut).append(stop)
    if stops:
        requested["stop"] = stops
    check_context(spec, rendered.prompt, "messages")
    return TextJob("chat", spec, (rendered.prompt,), requested, body.n or 1, _include_usage(body), tuple(cut))


def completion_job(spec: ModelSpec, body: Any, check: Callable[[str, str], None]) -> TextJob:
    """``check(text, field)``: the family's special-tag refusal (a raw prompt still may not
    carry the chat layout's tags)."""
    prompts = (body.prompt,) if isinstance(body.prompt, str) else tuple(body.prompt)
    for i, prompt in enumerate(prompts):
        where = "prompt" if isinstance(body.prompt, str) else f"prompt[{i}]"
        check(prompt, where)
        check_context(spec, prompt, "prompt")
    return TextJob("completion", spec, prompts, sampling(body), body.n or 1, _include_usage(body))


def _include_usage(body: Any) -> bool:
    return bool(body.stream and body.stream_options is not None and body.stream_options.include_usage)


def finish_reason(reason: str | None) -> str:
    """OpenAI's two: ``length`` (the token limit), ``stop`` (an end token or a stop string)."""
    return "length" if reason == "length" else "stop"


@dataclass
class Answered:
    """What a buffered job produced: one (output, finish reason) per choice, and the usage."""

    choices: list[tuple[str, str]]
    usage: dict[str, Any]
    model_ms: float


def usage(prompt_tokens: int, completion_tokens: int, prompt_source: str, completion_source: str) -> dict[str, Any]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens, "prompt_tokens_source": prompt_source,
            "completion_tokens_source": completion_source}


def run(text: TextService, job: TextJob) -> Answered:
    """Every prompt of ``job``, ``n`` answers each, at once within the endpoint's capacity;
    the first failure fails the request (nothing is answered with a choice missing)."""
    def one(prompt: str) -> TextResult:
        return text.sample(job.spec, prompt, job.requested, job.n)

    workers = workers_for(job.spec.instance_count, len(job.prompts))
    outcomes = run_bounded(one, job.prompts, workers=workers)
    error = first_error(outcomes)
    if error is not None:
        raise error
    results = [o.value for o in outcomes]
    choices: list[tuple[str, str]] = []
    completion, source = 0, "model"
    for result in results:
        outputs = result.candidates or [result]
        for c in outputs:
            text, cut = strip_stops(c.output, job.cut)
            choices.append((text, "stop" if cut else finish_reason(c.finish_reason)))
            tokens = c.usage.get("generated_tokens")
            if tokens is None:
                tokens, source = lower_bound(c.output), "estimate"
            completion += tokens
    prompt = sum(r.usage["input_tokens_estimate"] for r in results)
    return Answered(choices, usage(prompt, completion, "estimate", source), max(r.model_ms for r in results))


def answer(job: TextJob, done: Answered) -> dict[str, Any]:
    """The ``chat.completion`` / ``text_completion`` body."""
    if job.kind == "chat":
        choices = [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": reason,
                    "logprobs": None} for i, (text, reason) in enumerate(done.choices)]
        return {"id": job.object_id, "object": "chat.completion", "created": job.created, "model": job.spec.name,
                "choices": choices, "usage": done.usage, "system_fingerprint": None}
    choices = [{"index": i, "text": text, "finish_reason": reason, "logprobs": None}
               for i, (text, reason) in enumerate(done.choices)]
    return {"id": job.object_id, "object": "text_completion", "created": job.created, "model": job.spec.name,
            "choices": choices, "usage": done.usage}


def chunk(job: TextJob, index: int | None = None, *, role: bool = False, text: str | None = None,
          finish: str | None = None, usage_: dict[str, Any] | None = None) -> bytes:
    """One server-sent event: ``data: <chunk>`` and a blank line (no ``event:`` name, as OpenAI)."""
    base = {"id": job.object_id, "created": job.created, "model": job.spec.name}
    if job.kind == "chat":
        choices = [] if index is None else [{
            "index": index, "delta": ({"role": "assistant", "content": ""} if role else
                                      {"content": text} if text is not None else {}),
            "finish_reason": finish, "logprobs": None}]
        data = {**base, "object": "chat.completion.chunk", "choices": choices}
    else:
        choices = [] if index is None else [{"index": index, "text": text or "", "finish_reason": finish,
                                              "logprobs": None}]
        data = {**base, "object": "text_completion", "choices": choices}
    if job.include_usage:
        data["usage"] = usage_
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def whole_chunks(job: TextJob, done: Answered) -> Iterator[bytes]:
    """A buffered answer as a stream: per choice its role, its whole text, its finish; then usage."""
    for i, (text, reason) in enumerate(done.choices):
        if job.kind == "chat":
            yield chunk(job, i, role=True)
        yield chunk(job, i, text=text)
        yield chunk(job, i, finish=reason, text="" if job.kind == "completion" else None)
    if job.include_usage:
        yield chunk(job, usage_=done.usage)
    yield DONE


def error_chunk(body: dict[str, Any]) -> bytes:
    """A failure after the first chunk: OpenAI's error object as a data event (the SDKs raise
    on a chunk with ``error``); no ``[DONE]`` follows."""
    return b"data: " + json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"

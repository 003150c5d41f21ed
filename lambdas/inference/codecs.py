"""Wire formats of the model containers: build request bodies, parse responses.

One codec per family on a shared interface, resolved through a registry, so a
new family is one class and one registry line. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from inference.errors import InferenceError, ModelFailed, ModelInputRejected, Throttled
from inference.params import TGI_FAMILIES, TextParams
from inference.tokens import parse_true_input_tokens

JSON = "application/json"


@dataclass(frozen=True)
class Generation:
    text: str
    generated_tokens: int | None = None
    finish_reason: str | None = None


@dataclass(frozen=True)
class WireRequest:
    body: bytes
    content_type: str = JSON
    accept: str = JSON


def _decode(raw: bytes, family: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFailed(f"the {family} model returned a response that is not JSON") from exc


class TextCodec(ABC):
    family: str

    @abstractmethod
    def build(self, prompt: str, params: TextParams) -> WireRequest: ...

    @abstractmethod
    def parse(self, raw: bytes) -> Generation: ...


class TgiCodec(TextCodec):
    """Hugging Face TGI: {"inputs", "parameters"} -> [{"generated_text", "details"}]."""

    def __init__(self, family: str) -> None:
        self.family = family

    def build(self, prompt: str, params: TextParams) -> WireRequest:
        parameters: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, **params.options}
        if params.stop:
            parameters["stop"] = list(params.stop)
        # details=true makes TGI report generated_tokens and finish_reason, which
        # give callers real usage numbers; return_full_text=false keeps the prompt out.
        parameters.update(return_full_text=False, details=True)
        return WireRequest(json.dumps({"inputs": prompt, "parameters": parameters}).encode())

    def build_stream(self, prompt: str, params: TextParams) -> WireRequest:
        """The same request, answered token by token: TGI's SageMaker route (``/invocations``)
        streams when the body says ``"stream": true`` (server-sent events, ``TgiStreamParser``)."""
        body = json.loads(self.build(prompt, params).body)
        body["stream"] = True
        return WireRequest(json.dumps(body).encode())

    def parse(self, raw: bytes) -> Generation:
        data = _decode(raw, self.family)
        item = data[0] if isinstance(data, list) and data else data
        if not isinstance(item, dict) or not isinstance(item.get("generated_text"), str):
            raise ModelFailed(f"the {self.family} model returned an unexpected response shape")
        details = item.get("details") if isinstance(item.get("details"), dict) else {}
        tokens = details.get("generated_tokens")
        return Generation(item["generated_text"], tokens if isinstance(tokens, int) else None,
                          details.get("finish_reason"))


class Ai21Codec(TextCodec):
    """AI21 Jurassic-2 model package: {prompt, maxTokens, ...} -> completions[i].data.text."""

    family = "ai21-j2"

    def build(self, prompt: str, params: TextParams) -> WireRequest:
        body: dict[str, Any] = {"prompt": prompt, "maxTokens": params.max_new_tokens, "numResults": 1}
        if "temperature" in params.options:
            body["temperature"] = params.options["temperature"]
        if "top_p" in params.options:
            body["topP"] = params.options["top_p"]
        if params.stop:
            body["stopSequences"] = list(params.stop)
        return WireRequest(json.dumps(body).encode())

    def parse(self, raw: bytes) -> Generation:
        data = _decode(raw, self.family)
        try:
            completion = data["completions"][0]
            text = completion["data"]["text"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelFailed("the ai21-j2 model returned an unexpected response shape") from exc
        if not isinstance(text, str):
            raise ModelFailed("the ai21-j2 model returned an unexpected response shape")
        tokens = completion["data"].get("tokens")
        reason = (completion.get("finishReason") or {}).get("reason")
        return Generation(text, len(tokens) if isinstance(tokens, list) and tokens else None, reason)


TEXT_CODECS: dict[str, TextCodec] = {
    **{family: TgiCodec(family) for family in TGI_FAMILIES},
    "ai21-j2": Ai21Codec(),
}


@dataclass(frozen=True)
class ImageParams:
    prompt: str
    width: int
    height: int
    steps: int
    guidance_scale: float
    count: int
    negative_prompt: str | None = None
    seed: int | None = None


class StableDiffusionCodec:
    """JumpStart txt2img: JSON in, ``Accept: application/json;jpeg`` -> base64 JPEGs."""

    family = "stable-diffusion"
    accept = "application/json;jpeg"

    def build(self, p: ImageParams) -> WireRequest:
        body: dict[str, Any] = {
            "prompt": p.prompt,
            "width": p.width,
            "height": p.height,
            "num_inference_steps": p.steps,
            "guidance_scale": p.guidance_scale,
            "num_images_per_prompt": p.count,
        }
        if p.negative_prompt:
            body["negative_prompt"] = p.negative_prompt
        if p.seed is not None:
            body["seed"] = p.seed
        return WireRequest(json.dumps(body).encode(), accept=self.accept)

    def parse(self, raw: bytes) -> list[str]:
        data = _decode(raw, self.family)
        images = data.get("generated_images") if isinstance(data, dict) else None
        if not isinstance(images, list) or not images or not all(isinstance(i, str) for i in images):
            raise ModelFailed("the stable-diffusion model returned no images")
        return images


def text_codec(family: str) -> TextCodec:
    return TEXT_CODECS[family]


# ------------------------------------------------------------- token streams (TGI)


@dataclass(frozen=True)
class StreamToken:
    """One generated token of a streamed answer; ``index`` counts generated tokens from 0."""

    index: int
    text: str
    special: bool = False


@dataclass(frozen=True)
class StreamEnd:
    """A finished stream: TGI's whole ``generated_text`` (what the buffered call returns) and
    its details (``input_tokens``: TGI's exact input count, when the container reports it)."""

    generated_text: str | None
    finish_reason: str | None = None
    generated_tokens: int | None = None
    input_tokens: int | None = None


StreamEvent = StreamToken | StreamEnd

_DATA = b"data:"


def stream_error(family: str, data: dict[str, Any]) -> InferenceError:
    """TGI's in-stream error ``{"error", "error_type"}`` as the buffered call would have
    answered it: ``validation`` is the input's fault (TGI's 422: too many tokens, a bad
    parameter), ``overloaded`` is TGI's 429; anything else (``generation``,
    ``incomplete_generation``) is the model's failure."""
    message = str(data.get("error") or "the model failed")
    kind = data.get("error_type")
    if kind == "validation":
        return ModelInputRejected(message, input_tokens=parse_true_input_tokens(message),
                                  details=[{"model_status": 422}])
    if kind == "overloaded":
        return Throttled("the model is busy", retry_after=1)
    return ModelFailed(f"the {family} model failed while generating")


class TgiStreamParser:
    """TGI's server-sent events, from the bytes of InvokeEndpointWithResponseStream's
    payload parts, as ``StreamToken``s and one final ``StreamEnd``.

    The wire format is TGI's router (text-generation-inference ``router/src/server.rs``,
    ``generate_stream``: axum SSE): one ``data:`` line per event, events separated by a
    blank line, each a ``StreamResponse``::

        data:{"index":1,"token":{"id":578,"text":" the","logprob":-0.4,"special":false},
              "generated_text":null,"details":null}

    The last event also carries ``generated_text`` (the whole answer, as the buffered
    call returns it) and, with ``details: true``, ``{"finish_reason", "generated_tokens",
    "seed", "input_length"}`` (``input_length`` since TGI 2.0). A failure is an event
    ``data:{"error": "...", "error_type": "validation" | "generation" | "overloaded" |
    "incomplete_generation"}`` -- TGI answers HTTP 200 and reports even its input
    validation in the stream. Lines starting with ``:`` are keep-alive comments.
    SageMaker cuts the byte stream into payload parts anywhere: a line, and a UTF-8
    character, may span parts. A container that ignores ``"stream": true`` answers its
    ordinary JSON; that arrives as one token.
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._buffer = b""
        self._tokens = 0
        self._ended = False
        self._plain: bytearray | None = None  # a non-SSE (buffered JSON) answer

    @property
    def ended(self) -> bool:
        return self._ended

    def feed(self, data: bytes) -> list[StreamEvent]:
        if self._plain is not None:
            self._plain += data
            return []
        self._buffer += data
        if self._tokens == 0 and not self._ended:
            head = self._buffer.lstrip()
            if head[:1] in (b"[", b"{"):
                self._plain, self._buffer = bytearray(self._buffer), b""
                return []
        events: list[StreamEvent] = []
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            events += self._line(line)
        return events

    def close(self) -> list[StreamEvent]:
        """The events of an unterminated last line; raises if the answer did not finish."""
        if self._plain is not None:
            generation = TgiCodec(self.family).parse(bytes(self._plain))
            self._ended = True
            return [StreamToken(0, generation.text), StreamEnd(generation.text, generation.finish_reason,
                                                               generation.generated_tokens)]
        incomplete = ModelFailed(f"the {self.family} model's stream ended before the answer was complete")
        try:
            events = self._line(self._buffer)  # a last event without its blank line
        except ModelFailed:
            raise incomplete from None  # a line cut off
        finally:
            self._buffer = b""
        if not self._ended:
            raise incomplete
        return events

    def _line(self, raw: bytes) -> list[StreamEvent]:
        line = raw.rstrip(b"\r")
        if self._ended or not line.startswith(_DATA):
            return []  # blank separators, ":" keep-alives, other SSE fields; anything after the end
        try:
            data = json.loads(line[len(_DATA):].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelFailed(f"the {self.family} model streamed an event that is not JSON") from exc
        if not isinstance(data, dict):
            raise ModelFailed(f"the {self.family} model streamed an unexpected event")
        if "error" in data:
            raise stream_error(self.family, data)
        token = data.get("token")
        if not isinstance(token, dict) or not isinstance(token.get("text"), str):
            raise ModelFailed(f"the {self.family} model streamed an event without a token")
        events: list[StreamEvent] = [StreamToken(self._tokens, token["text"], token.get("special") is True)]
        self._tokens += 1
        if data.get("generated_text") is not None:
            details = data.get("details") if isinstance(data.get("details"), dict) else {}
            generated = details.get("generated_tokens")
            inputs = details.get("input_length")
            self._ended = True
            events.append(StreamEnd(
                str(data["generated_text"]), details.get("finish_reason"),
                generated if isinstance(generated, int) else self._tokens,
                inputs if isinstance(inputs, int) else None))
        return events

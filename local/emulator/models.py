"""The fake models behind the emulator's endpoints: what each family's container answers
(the model behaviour the package docstring lists), and the endpoint config naming them.

A family's ``*_invoke`` takes the request body and answers ``(body, tokens)``: the
tokens set the latency the handler waits out. A container's own HTTP errors are
``ModelErr``; the handler wraps them as SageMaker does (ModelError, 424).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from inference.embeddings import EMBEDDING_FAMILIES, SPECIAL_TOKENS_PER_INPUT
from inference.params import TGI_FAMILIES  # the families whose containers are TGI: one list

from local.emulator.generation import count_tokens, generate_text, seeded_rng, token_pieces
from local.emulator.jpeg import solid_jpeg

FAMILIES = (*TGI_FAMILIES, "stable-diffusion", "ai21-j2", *EMBEDDING_FAMILIES)


@dataclass
class EndpointConfig:
    """A model behind an endpoint name: the endpoint's one model, or, with
    ``inference_component``, one of the ICs sharing the endpoint ``name``.

    ``copies`` and ``scale_out_after_s`` are the IC's: running copies (0: every call
    answers no capacity), and how long after the first such call a copy is running
    (None: never on its own). ``dimensions``: an embedding model's vector length (768:
    bge-base-en-v1.5's); ``max_input_length`` is then the tokens one input may have."""

    name: str
    family: str
    max_input_length: int = 1024
    max_total_tokens: int = 2048
    first_token_ms: float = 0.0
    per_token_ms: float = 0.0
    variant: str = "primary"
    max_stop_sequences: int = 4
    inference_component: str | None = None
    copies: int = 1
    scale_out_after_s: float | None = None
    dimensions: int = 768

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if self.copies < 0:
            raise ValueError(f"copies must be 0 or more, got {self.copies}")

    @property
    def key(self) -> tuple[str, str | None]:
        return self.name, self.inference_component


class ModelErr(Exception):
    """The container answered an HTTP error; SageMaker wraps it as ModelError (424)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _tgi_error(message: str, error_type: str = "validation") -> ModelErr:
    # TGI's router answers 422 {"error": "Input validation error: ...", "error_type": "validation"}.
    return ModelErr(422, json.dumps({"error": f"Input validation error: {message}", "error_type": error_type},
                                    separators=(",", ":")))


def tgi_invoke(cfg: EndpointConfig, raw: bytes) -> tuple[bytes, int]:
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise ModelErr(422, f"Failed to deserialize the JSON body into the target type: {exc}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), str):
        raise ModelErr(422, "Failed to deserialize the JSON body into the target type: inputs: invalid type")
    inputs: str = payload["inputs"]
    params = payload.get("parameters") or {}
    if not isinstance(params, dict):
        raise ModelErr(422, "Failed to deserialize the JSON body into the target type: parameters: invalid type")
    if not inputs:
        raise _tgi_error("`inputs` cannot be empty")
    temperature = params.get("temperature")
    if temperature is not None and temperature <= 0:
        raise _tgi_error("`temperature` must be strictly positive")
    if params.get("repetition_penalty") is not None and params["repetition_penalty"] <= 0:
        raise _tgi_error("`repetition_penalty` must be strictly positive")
    top_p = params.get("top_p")
    if top_p is not None and not 0.0 < top_p < 1.0:
        raise _tgi_error("`top_p` must be > 0.0 and < 1.0")
    if params.get("top_k") is not None and params["top_k"] <= 0:
        raise _tgi_error("`top_k` must be strictly positive")
    stop = params.get("stop") or []
    if len(stop) > cfg.max_stop_sequences:
        raise _tgi_error(f"`stop` supports up to {cfg.max_stop_sequences} stop sequences. Given: {len(stop)}")
    input_length = count_tokens(inputs)
    max_new = params.get("max_new_tokens")
    if max_new is not None and max_new <= 0:
        raise _tgi_error("`max_new_tokens` must be strictly positive")
    if max_new is None:  # TGI 2.x default: the rest of the budget
        max_new = max(1, cfg.max_total_tokens - input_length)
    if input_length + max_new > cfg.max_total_tokens:
        raise _tgi_error(f"`inputs` tokens + `max_new_tokens` must be <= {cfg.max_total_tokens}. "
                         f"Given: {input_length} `inputs` tokens and {max_new} `max_new_tokens`")
    if input_length > cfg.max_input_length:
        raise _tgi_error(f"`inputs` must have less than {cfg.max_input_length} tokens. Given: {input_length}")
    text, n, finish = generate_text(inputs, max_new, stop, params.get("seed"))
    item: dict[str, Any] = {"generated_text": (inputs + text) if params.get("return_full_text") else text}
    if params.get("details"):
        item["details"] = {"finish_reason": finish, "generated_tokens": n, "seed": params.get("seed"),
                           "prefill": [], "tokens": []}
    return json.dumps([item]).encode(), n


def _ai21_param(payload: dict, key: str, default: Any, kind: Any, low: float, high: float | None = None) -> Any:
    """A numeric J2 request field, type- and range-checked (400 like a malformed body)."""
    value = payload.get(key, default)
    if isinstance(value, bool) or not isinstance(value, kind) or value < low or (high is not None and value > high):
        bounds = f">= {low}" + (f" and <= {high}" if high is not None else "")
        raise ModelErr(400, json.dumps({"detail": f"{key} must be a number {bounds}, got {value!r}"}))
    return value


def ai21_invoke(cfg: EndpointConfig, raw: bytes) -> tuple[bytes, int]:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise ModelErr(400, json.dumps({"detail": "Invalid JSON body"})) from None
    prompt = payload.get("prompt") if isinstance(payload, dict) else None
    if not isinstance(prompt, str) or not prompt:
        raise ModelErr(400, json.dumps({"detail": "prompt is required"}))
    # J2 Complete API defaults (docs.ai21.com/reference/j2-complete-api-ref): maxTokens 16,
    # temperature 0.7 (0: greedy), topP 1, numResults 1; stopSequences a list of strings.
    max_tokens = _ai21_param(payload, "maxTokens", 16, int, 0)
    temperature = _ai21_param(payload, "temperature", 0.7, (int, float), 0)
    top_p = _ai21_param(payload, "topP", 1, (int, float), 0, 1)
    num_results = _ai21_param(payload, "numResults", 1, int, 1)
    stops = payload.get("stopSequences") or []
    if not isinstance(stops, list) or not all(isinstance(x, str) for x in stops):
        raise ModelErr(400, json.dumps({"detail": "stopSequences must be a list of strings"}))
    if count_tokens(prompt) + max_tokens > cfg.max_total_tokens:
        raise ModelErr(422, json.dumps({"detail": f"Prompt length plus maxTokens exceeds {cfg.max_total_tokens}"}))
    completions = []
    total = 0
    for i in range(num_results):
        # Greedy decoding (temperature 0) answers the same text every time; sampling differs per result.
        seed = "ai21-greedy" if temperature == 0 else f"ai21-{i}-{temperature}-{top_p}"
        text, n, finish = generate_text(prompt, max_tokens, stops, seed)
        reason: dict[str, Any] = {"reason": "endoftext" if finish == "eos_token" else "length"}
        for s in stops:  # J2 leaves the stop sequence out of the text
            if finish == "stop_sequence" and text.endswith(s):
                text, reason = text[: -len(s)], {"reason": "stop", "sequence": s}
                break
        completions.append({"data": {"text": text, "tokens": [{"generatedToken": {"token": t}} for t in text.split()]},
                            "finishReason": reason})
        total += n
    body = {"id": hashlib.sha256(prompt.encode()).hexdigest()[:16], "prompt": {"text": prompt, "tokens": []},
            "completions": completions}
    return json.dumps(body).encode(), total


def sd_invoke(cfg: EndpointConfig, raw: bytes, accept: str) -> tuple[bytes, int]:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise ModelErr(400, "Invalid JSON in request body") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("prompt"), str):
        raise ModelErr(400, "prompt is required")
    if accept.replace(" ", "") != "application/json;jpeg":
        raise ModelErr(400, f"Accept {accept!r} is not supported by this emulator; use application/json;jpeg")
    width, height = int(payload.get("width", 512)), int(payload.get("height", 512))
    if width % 8 or height % 8:
        raise ModelErr(400, f"`height` and `width` have to be divisible by 8 but are {height} and {width}.")
    count = int(payload.get("num_images_per_prompt", 1))
    images = []
    for i in range(count):
        shade = seeded_rng(payload["prompt"], payload.get("seed"), i).randrange(32, 224)
        images.append(base64.b64encode(solid_jpeg(width, height, shade)).decode())
    steps = int(payload.get("num_inference_steps", 50))
    return json.dumps({"generated_images": images, "prompt": payload["prompt"]}).encode(), steps


def _toolkit_error(message: str) -> ModelErr:
    """The Hugging Face inference toolkit's refusal: every exception in its handler becomes
    ``PredictionException(str(e), 400)`` (sagemaker-huggingface-inference-toolkit
    ``handler_service.handle``), which the model server answers with a pretty-printed JSON
    body that escapes ``'`` as ``\\u0027``, e.g. ``"message": "\\u0027text_inputs\\u0027"``
    for a body without ``text_inputs`` (a KeyError)."""
    body = json.dumps({"code": 400, "type": "InternalServerException", "message": message}, indent=2)
    for char, escaped in (("'", "\\u0027"), ("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("=", "\\u003d")):
        body = body.replace(char, escaped)
    return ModelErr(400, body + "\n")


def _embedding_texts(raw: bytes, content_type: str) -> list[Any]:
    """The inputs of a JumpStart sentence-similarity request: ``application/json``
    ``{"text_inputs": [...], "mode": "embedding"}``, or ``application/x-text`` (a JSON list
    of strings, or one text)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _toolkit_error(str(exc)) from None
    if content_type.split(";")[0].strip() == "application/x-text":
        try:
            payload = json.loads(text)
        except ValueError:
            return [text]
        return payload if isinstance(payload, list) else [text]
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise _toolkit_error(str(exc)) from None
    if not isinstance(payload, dict):
        raise _toolkit_error(f"Unsupported payload: expected a JSON object, got {type(payload).__name__}")
    if "text_inputs" not in payload:
        raise _toolkit_error(repr("text_inputs"))  # str(KeyError('text_inputs'))
    mode = payload.get("mode", "embedding")
    if mode != "embedding":
        raise _toolkit_error(f"mode {mode!r} is not emulated; only 'embedding' is")
    return payload["text_inputs"]


def unit_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic, hash-seeded unit vector for ``text`` (similar texts are not similar)."""
    rng = seeded_rng("embedding", dimensions, text)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [round(v / norm, 8) for v in values]


def embedding_invoke(cfg: EndpointConfig, raw: bytes, content_type: str = "application/json") -> tuple[bytes, int]:
    """``{"embedding": [[float x dimensions], ...]}``, one unit vector per input, in order. An
    input longer than ``max_input_length`` tokens is embedded all the same: the model truncates
    at its limit (sentence-transformers' max_seq_length) instead of refusing."""
    texts = _embedding_texts(raw, content_type)
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise _toolkit_error("text_inputs must be a list of strings")
    tokens = sum(min(count_tokens(t) + SPECIAL_TOKENS_PER_INPUT, cfg.max_input_length) for t in texts)
    return json.dumps({"embedding": [unit_vector(t, cfg.dimensions) for t in texts]}).encode(), tokens


def invoke(cfg: EndpointConfig, raw: bytes, accept: str, content_type: str = "application/json") -> tuple[bytes, int]:
    """The answer of ``cfg``'s container to an InvokeEndpoint body: (body, tokens)."""
    if cfg.family in TGI_FAMILIES:
        return tgi_invoke(cfg, raw)
    if cfg.family == "ai21-j2":
        return ai21_invoke(cfg, raw)
    if cfg.family in EMBEDDING_FAMILIES:
        return embedding_invoke(cfg, raw, content_type)
    return sd_invoke(cfg, raw, accept)


# TGI's stream of the same answer, for InvokeEndpointWithResponseStream (local.emulator.streaming).

_EOS = {"falcon": "<|endoftext|>"}  # others: </s>


def tgi_stream_events(cfg: EndpointConfig, raw: bytes) -> list[dict[str, Any]]:
    """The ``StreamResponse`` objects TGI streams for ``raw`` (its ``error`` object when it
    refuses the input), consistent with ``tgi_invoke``'s buffered answer."""
    try:
        body, _ = tgi_invoke(cfg, raw)
    except ModelErr as err:
        try:
            error = json.loads(err.body)
        except ValueError:
            raise err from None
        if isinstance(error, dict) and "error" in error:
            return [error]
        raise
    payload = json.loads(raw)
    params = payload.get("parameters") or {}
    item = json.loads(body)[0]
    text = item["generated_text"]
    details = item.get("details") or {}
    pieces = [{"text": p, "special": False} for p in token_pieces(text)]
    if details.get("finish_reason", "eos_token") == "eos_token" or not pieces:
        pieces.append({"text": _EOS.get(cfg.family, "</s>"), "special": True})
    events: list[dict[str, Any]] = []
    for i, piece in enumerate(pieces, start=1):
        rng = seeded_rng(piece["text"], i)
        events.append({"index": i, "token": {"id": rng.randrange(3, 65000), "text": piece["text"],
                                             "logprob": round(-rng.random() * 3, 4), "special": piece["special"]},
                       "generated_text": None, "details": None})
    last = events[-1]
    last["generated_text"] = text
    if params.get("details"):
        last["details"] = {"finish_reason": details.get("finish_reason"),
                           "generated_tokens": details.get("generated_tokens"), "seed": params.get("seed"),
                           "input_length": count_tokens(payload["inputs"])}
    return events

"""A SageMaker runtime emulator for tests and local runs.

Speaks the wire protocol of ``InvokeEndpoint`` (``POST /endpoints/{name}/invocations``,
service protocol ``rest-json``; and ``InvokeEndpointWithResponseStream``, see its section) well enough for a real boto3 ``sagemaker-runtime``
client pointed at it with ``endpoint_url`` (or ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``)
and dummy credentials. Errors carry ``x-amzn-ErrorType`` so botocore raises the
modeled exceptions: ValidationError 400, ThrottlingException 400, ModelError 424
(with OriginalStatusCode / OriginalMessage / LogStreamArn), ModelNotReadyException
429, InternalFailure 500, ServiceUnavailable 503.

Model behaviour, deterministic so tests can assert on it:
- TGI families (falcon, llama2, mistral, flan-t5): TGI's parameter checks and its
  exact validation texts, token limits (MAX_INPUT_LENGTH / MAX_TOTAL_TOKENS) with
  the emulator's *own* token counter, stop sequences honoured and left in the
  output, ``details`` and ``return_full_text``. Output is a hash-seeded word
  sequence of exactly ``max_new_tokens`` tokens, except: few-shot prompts
  ("Sentiment:", "=>") continue with one of the example answers, "categories: a,
  b" prompts answer one category, and summarization prompts get an extract of the
  leading sentences of the document.
- stable-diffusion: ``Accept: application/json;jpeg`` -> real (tiny, solid-grey)
  baseline JPEGs of the requested size, base64 in ``generated_images``.
- ai21-j2 (AWS Marketplace Jurassic-2): ``{prompt, maxTokens, temperature, topP,
  stopSequences, numResults}`` -> ``{completions: [{data: {text, tokens}, finishReason:
  {reason}}]}``, ``numResults`` completions (identical when temperature is 0), the stop
  sequence left out of the text, prompt + maxTokens within the instance's context.

Inference components (ICs): several models behind one endpoint name, each an
``EndpointConfig`` with the endpoint's ``name`` and its own ``inference_component``
(and its own latency and limits), selected by the ``InferenceComponentName`` parameter
(header ``X-Amzn-SageMaker-Inference-Component``). As SageMaker, an endpoint hosting
ICs refuses a call without the header and one without ICs refuses the header
(ValidationError 400, ``IC_REQUIRED`` / ``IC_NOT_ALLOWED``), and an IC whose
``copies`` are 0 (scaled to zero) answers ValidationError 400 ``NO_CAPACITY_MESSAGE``.
Scale-out as the NoCapacityInvocationFailures alarm + step scaling policy do it: the
first call that meets no capacity starts a clock, and ``scale_out_after_s`` later the
IC has 1 copy (None: only ``scale`` brings copies back). ``scale`` sets copies, now or
after N more answered calls (a scale-in in the middle of a job).

Faults and latency, per endpoint or IC (control API or Python) and per request (header
``x-emulator-fault`` or a ``[[emulator:FAULT]]`` marker anywhere in the body):
``throttle``, ``not-ready``, ``unavailable``, ``internal``, ``model-error``,
``delay=MS``. Control API:

    GET    /_emulator/health
    GET    /_emulator/endpoints          POST /_emulator/endpoints {EndpointConfig fields}
    POST   /_emulator/components {"inference_component": name, "copies": N,
                                  "scale_out_after_s": S|null (optional), "after_calls": N (optional)}
    POST   /_emulator/faults {"endpoint": "*"|endpoint or IC name, "throttle_next": N, "not_ready_next": N,
                              "unavailable_next": N, "internal_next": N, "model_error_next": N,
                              "delay_next": N, "delay_ms": MS,
                              "fail_if_contains": [{"text": X, "status": 424-original, "message": M}]}
    DELETE /_emulator/faults             GET/DELETE /_emulator/calls      POST /_emulator/reset

Run: ``python -m local.sagemaker_emulator --port 8081 --endpoint falcon:falcon`` (ICs:
``--component shared:ic-falcon:falcon``) or in-process:
``Emulator([EndpointConfig("e", "falcon")]).start()`` (port 0 = any).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# botocore's sagemaker-runtime model: InvokeEndpoint's InferenceComponentName travels in this header.
IC_HEADER = "X-Amzn-SageMaker-Inference-Component"
# InvokeEndpoint on an IC with no copy: ValidationError (400), verbatim as AWS shows it
# in "Unlock cost savings with the new scale down to zero feature in SageMaker Inference"
# (AWS Machine Learning Blog, 2024-12-03, "Test the solution"); inference.runtime maps it.
NO_CAPACITY_MESSAGE = ("Inference Component has no capacity to process this request. ApplicationAutoScaling "
                       "may be in-progress (if configured) or try to increase the capacity by invoking "
                       "UpdateInferenceComponentRuntimeConfig API.")
# The header missing on an endpoint with ICs, or present on one without (ValidationError 400),
# as SageMaker words them (quoted by SDK users, e.g. LiteLLM's SageMaker tests).
IC_REQUIRED = ("Inference Component Name header is required for endpoints to which you plan to deploy inference "
               "components. Please include Inference Component Name header or consider using SageMaker models.")
IC_NOT_ALLOWED = ("Inference Component Name header is not allowed for endpoints to which you dont plan to deploy "
                  "inference components. Please remove the Inference Component Name header and try again.")
TGI_FAMILIES = ("falcon", "llama2", "mistral", "flan-t5")
FAMILIES = (*TGI_FAMILIES, "stable-diffusion", "ai21-j2")

# --------------------------------------------------------------------------- tokens

# Deliberately NOT the app's estimator (chars/4) nor the summarizer's: words cost
# one token per 6 letters, digit runs one per 3 digits, any other symbol one each.
# Tests of recalibration rely on the two disagreeing.
_TOKEN = re.compile(r"[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d]")


def count_tokens(text: str) -> int:
    return sum(1 + (len(t) - 1) // 6 if t.isalpha() else 1 for t in _TOKEN.findall(text))


# ------------------------------------------------------------------------ endpoints


@dataclass
class EndpointConfig:
    """A model behind an endpoint name: the endpoint's one model, or, with
    ``inference_component``, one of the ICs sharing the endpoint ``name``.

    ``copies`` and ``scale_out_after_s`` are the IC's: running copies (0: every call
    answers no capacity), and how long after the first such call a copy is running
    (None: never on its own)."""

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

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if self.copies < 0:
            raise ValueError(f"copies must be 0 or more, got {self.copies}")

    @property
    def key(self) -> tuple[str, str | None]:
        return self.name, self.inference_component


@dataclass
class Faults:
    throttle_next: int = 0
    not_ready_next: int = 0
    unavailable_next: int = 0
    internal_next: int = 0
    model_error_next: int = 0
    delay_next: int = 0
    delay_ms: float = 0.0
    fail_if_contains: list[dict[str, Any]] = field(default_factory=list)


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


# ----------------------------------------------------------------------- generation

_VOCAB = (
    "the a model data cloud fast new answer simple value system light river green small "
    "quick step plan build test learn write read story city night water stone paper music "
    "market bright quiet open secure scale cost speed user team idea early later always "
    "often garden ocean forest bridge signal"
).split()
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _filler(rng: random.Random, n: int) -> list[str]:
    """``n`` pieces of text, each exactly one emulator token."""
    pieces: list[str] = []
    since_period = 0
    for _ in range(n):
        if since_period >= 8 and rng.random() < 0.25:
            pieces.append(".")
            since_period = 0
        else:
            pieces.append(rng.choice(_VOCAB))
            since_period += 1
    return pieces


def _join(pieces: list[str]) -> str:
    out = []
    for piece in pieces:
        out.append(piece if piece == "." else " " + piece)
    return "".join(out)


def _few_shot_answer(inputs: str, rng: random.Random) -> str | None:
    lines = [line for line in inputs.rstrip().split("\n") if line.strip()]
    if not lines:
        return None
    last = lines[-1].rstrip()
    if last.endswith("=>"):
        answers = [line.split("=>", 1)[1].strip() for line in lines[:-1] if "=>" in line]
        answers = [a for a in answers if a]
        return rng.choice(answers) if answers else None
    match = re.search(r"([A-Za-z][A-Za-z ]{0,30}):$", last)
    if match:
        key = match.group(1).split(" ")[-1]
        seen = [line.split(":", 1)[1].strip() for line in lines[:-1]
                if line.startswith(f"{key}:") and 0 < len(line.split(":", 1)[1].split()) <= 3]
        if seen:
            return rng.choice(seen)
        cats = re.search(r"(?:categories|labels|options)\s*:\s*([^\n]+?)\.?\s*$", inputs, re.I | re.M)
        if cats:
            options = [c.strip() for c in cats.group(1).split(",") if c.strip()]
            return rng.choice(options) if options else None
    return None


def _summary(inputs: str, budget: int) -> str | None:
    if not re.search(r"summar|tl;dr", inputs, re.I):
        return None
    # The document is everything but the instruction sentence(s).
    body = re.sub(r"[^.!?\n]*(?:summar|tl;dr)[^.!?\n]*[.!?:]?", " ", inputs, flags=re.I)
    sentences = [s.strip() for s in _SENTENCE.split(body.strip()) if s.strip()]
    out: list[str] = []
    used = 0
    for sentence in sentences:
        cost = count_tokens(sentence)
        if used + cost > budget:
            if not out:  # first sentence alone is too long: cut it word by word
                words: list[str] = []
                for word in sentence.split():
                    if used + count_tokens(word) > budget:
                        break
                    words.append(word)
                    used += count_tokens(word)
                out.append(" ".join(words))
            break
        out.append(sentence)
        used += cost
        if len(out) >= max(1, len(sentences) // 3):  # an extract, not a copy
            break
    return " " + " ".join(out) if out else None


def generate_text(inputs: str, max_new_tokens: int, stop: list[str], seed: Any = None) -> tuple[str, int, str]:
    """Deterministic output: (text, generated_tokens, finish_reason). Stops stay in the text."""
    rng = _rng(inputs, seed)
    answer = _few_shot_answer(inputs, rng)
    if answer is not None:
        head = f" {answer}\n###\n"
        text = head + _join(_filler(rng, max(0, max_new_tokens - count_tokens(head))))
        finish = "length"
    else:
        summary = _summary(inputs, max_new_tokens)
        if summary is not None:
            text, finish = summary, "eos_token"
        else:
            text, finish = _join(_filler(rng, max_new_tokens)), "length"
    # Trim to the token budget (the few-shot head may already exceed a tiny budget).
    while count_tokens(text) > max_new_tokens:
        text = text[:-1]
    cut = None
    for s in stop:
        pos = text.find(s)
        if s and pos != -1 and (cut is None or pos + len(s) < cut):
            cut = pos + len(s)
    if cut is not None:
        text, finish = text[:cut], "stop_sequence"
    return text, count_tokens(text), finish


# --------------------------------------------------------------------- family models


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
        shade = _rng(payload["prompt"], payload.get("seed"), i).randrange(32, 224)
        images.append(base64.b64encode(solid_jpeg(width, height, shade)).decode())
    steps = int(payload.get("num_inference_steps", 50))
    return json.dumps({"generated_images": images, "prompt": payload["prompt"]}).encode(), steps


# ---------------------------------------------------------------------------- JPEG


def solid_jpeg(width: int, height: int, gray: int) -> bytes:
    """A valid baseline greyscale JPEG of one flat shade, without any imaging library.

    Every 8x8 block has only a DC coefficient: the first codes the level, the rest a
    zero difference, so the file is ~3 bits per block.
    """
    dc = 8 * (gray - 128)  # DCT of a flat block of level-shifted value v is 8v
    cat = abs(dc).bit_length()
    symbols = sorted({cat, 0})
    dc_code = {sym: format(i, "02b") for i, sym in enumerate(symbols)}  # 2-bit canonical codes
    eob = "00"
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = [dc_code[cat]]
    if cat:
        bits.append(format(dc if dc > 0 else dc + (1 << cat) - 1, f"0{cat}b"))
    bits.append(eob)
    if blocks > 1:
        bits.append((dc_code[0] + eob) * (blocks - 1))
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    data = bytearray()
    for i in range(0, len(stream), 8):
        byte = int(stream[i:i + 8], 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0x00)

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload

    counts = bytearray(16)
    counts[1] = len(symbols)  # index 1 = codes of length 2
    ac_counts = bytearray(16)
    ac_counts[1] = 1
    return b"".join([
        b"\xff\xd8",
        segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        segment(0xDB, b"\x00" + b"\x01" * 64),
        segment(0xC0, b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x01\x01\x11\x00"),
        segment(0xC4, b"\x00" + bytes(counts) + bytes(symbols)),
        segment(0xC4, b"\x10" + bytes(ac_counts) + b"\x00"),
        segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        bytes(data),
        b"\xff\xd9",
    ])


# ------------------------------------------------------------------------ the server

_FAULT_MARKER = re.compile(r"\[\[emulator:([a-z-]+(?:=\d+)?)\]\]")
_FAULT_NAMES = {"throttle", "not-ready", "unavailable", "internal", "model-error", "delay"}


class Emulator:
    """In-process emulator; ``start()`` serves on ``host:port`` (0 = any free port)."""

    def __init__(self, endpoints: list[EndpointConfig] | None = None, host: str = "127.0.0.1", port: int = 0,
                 region: str = REGION) -> None:
        self.region = region
        self._lock = threading.Lock()
        self._endpoints: dict[tuple[str, str | None], EndpointConfig] = {}
        # Each IC's copies and scale-out delay as added: what reset() restores.
        self._initial: dict[tuple[str, str | None], tuple[int, float | None]] = {}
        for cfg in endpoints or []:
            self.add_endpoint(cfg)
        # IC -> when its pending scale-out (after a no-capacity call) completes.
        self._scale_out_at: dict[str, float] = {}
        # IC -> [answered calls still to go, copies then]: a scheduled scale.
        self._scale_after: dict[str, list[int]] = {}
        self._faults: dict[str, Faults] = {}
        self._calls: list[dict[str, Any]] = []
        emulator = self

        class Handler(_Handler):
            server_emulator = emulator

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sagemaker-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- control
    def add_endpoint(self, cfg: EndpointConfig) -> None:
        with self._lock:
            self._endpoints[cfg.key] = cfg
            self._initial[cfg.key] = (cfg.copies, cfg.scale_out_after_s)

    def remove_endpoint(self, name: str, inference_component: str | None = None) -> EndpointConfig | None:
        with self._lock:
            return self._endpoints.pop((name, inference_component), None)

    def scale(self, inference_component: str, copies: int, *, after_calls: int = 0,
              scale_out_after_s: Any = ...) -> None:
        """Set an IC's copies (0: scaled to zero), now or once ``after_calls`` more calls
        were answered; ``scale_out_after_s`` replaces the IC's (None: no scale-out on its own)."""
        if copies < 0 or after_calls < 0:
            raise ValueError("copies and after_calls must be 0 or more")
        with self._lock:
            cfg = self._component(inference_component)
            if scale_out_after_s is not ...:
                cfg.scale_out_after_s = None if scale_out_after_s is None else float(scale_out_after_s)
            if after_calls:
                self._scale_after[inference_component] = [after_calls, copies]
            else:
                self._set_copies(cfg, copies)

    def _component(self, inference_component: str) -> EndpointConfig:
        for (_, component), cfg in self._endpoints.items():
            if component == inference_component:
                return cfg
        raise ValueError(f"no inference component {inference_component!r}")

    def _set_copies(self, cfg: EndpointConfig, copies: int) -> None:
        cfg.copies = copies
        self._scale_out_at.pop(cfg.inference_component or "", None)
        self._scale_after.pop(cfg.inference_component or "", None)

    def _has_capacity(self, cfg: EndpointConfig) -> bool:
        """Whether an IC can take a call now; a call meeting zero copies starts the
        scale-out clock, as it raises NoCapacityInvocationFailures on AWS."""
        ic = cfg.inference_component or ""
        with self._lock:
            if cfg.copies > 0:
                return True
            due = self._scale_out_at.get(ic)
            if due is None:
                if cfg.scale_out_after_s is not None:
                    self._scale_out_at[ic] = time.monotonic() + cfg.scale_out_after_s
                return False
            if time.monotonic() < due:
                return False
            self._set_copies(cfg, 1)
            return True

    def _answered(self, cfg: EndpointConfig) -> None:
        """One more call answered by an IC: apply a scale scheduled after N calls."""
        ic = cfg.inference_component
        with self._lock:
            pending = self._scale_after.get(ic or "")
            if pending is not None:
                pending[0] -= 1
                if pending[0] <= 0:
                    self._set_copies(cfg, pending[1])

    def endpoints(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(e) for e in self._endpoints.values()]

    def inject(self, endpoint: str = "*", **faults: Any) -> None:
        """Add faults: counters add up, ``delay_ms`` and ``fail_if_contains`` replace/extend."""
        with self._lock:
            current = self._faults.setdefault(endpoint, Faults())
            for key, value in faults.items():
                if key == "fail_if_contains":
                    current.fail_if_contains.extend(value)
                elif key == "delay_ms":
                    current.delay_ms = float(value)
                elif hasattr(current, key):
                    setattr(current, key, getattr(current, key) + int(value))
                else:
                    raise ValueError(f"unknown fault {key!r}")

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def reset(self) -> None:
        """No faults, no calls, and every IC's copies and scale-out delay as added."""
        self.clear_faults()
        self.clear_calls()
        with self._lock:
            for key, cfg in self._endpoints.items():
                cfg.copies, cfg.scale_out_after_s = self._initial.get(key, (cfg.copies, cfg.scale_out_after_s))
            self._scale_out_at.clear()
            self._scale_after.clear()

    # -- internals
    def _take_fault(self, endpoint: str, body_text: str,
                    component: str | None = None) -> tuple[str | None, float, dict[str, Any] | None]:
        """Consume one configured fault for this call: (fault, extra delay ms, contains-rule)."""
        with self._lock:
            for key in (*((component,) if component else ()), endpoint, "*"):
                faults = self._faults.get(key)
                if faults is None:
                    continue
                for rule in faults.fail_if_contains:
                    if rule.get("text") and rule["text"] in body_text:
                        return "contains", 0.0, rule
                for attr, name in (("throttle_next", "throttle"), ("not_ready_next", "not-ready"),
                                   ("unavailable_next", "unavailable"), ("internal_next", "internal"),
                                   ("model_error_next", "model-error")):
                    if getattr(faults, attr) > 0:
                        setattr(faults, attr, getattr(faults, attr) - 1)
                        return name, 0.0, None
                if faults.delay_next > 0:
                    faults.delay_next -= 1
                    return None, faults.delay_ms, None
        return None, 0.0, None

    def _record(self, call: dict[str, Any]) -> None:
        with self._lock:
            self._calls.append(call)
            del self._calls[:-500]


# ------------------------------------------------- InvokeEndpointWithResponseStream
#
# POST /endpoints/{name}/invocations-response-stream answers HTTP 200 with
# Content-Type application/vnd.amazon.eventstream: a sequence of event-stream messages
# (the AWS event stream encoding, as botocore's ``botocore.eventstream`` parses it):
#
#   prelude  total length (uint32 BE) | headers length (uint32 BE) | CRC32 of those 8 bytes
#   headers  per header: name length (uint8), name, value type (7 = string), value length
#            (uint16 BE), value
#   payload
#   CRC32 of everything before it
#
# PayloadPart events carry ``:event-type PayloadPart``, ``:message-type event``,
# ``:content-type application/octet-stream`` and the model's bytes; a failure after the
# start is an exception message (``:message-type exception``, ``:exception-type
# ModelStreamError | InternalStreamFailure``, a JSON payload {Message, ErrorCode}) --
# the shapes of botocore's sagemaker-runtime model (``ResponseStream``). Every message goes
# out as its own HTTP chunk, so botocore's reader gets each one as it is sent.
#
# TGI's stream inside the parts (text-generation-inference ``generate_stream``): one
# ``data:{StreamResponse}`` line per token plus a blank line; the last carries
# ``generated_text`` (the buffered answer's text, ``tgi_invoke``'s) and ``details``; TGI's
# own failures -- input validation included -- are ``data:{"error", "error_type"}`` lines
# in a 200 stream. Each token's bytes are cut into 1-3 payload parts at random byte offsets
# (inside a UTF-8 character too), and from the second token on a part's tail sometimes waits
# for the next token's bytes: the boundaries SageMaker may put anywhere. Token i goes out ``first_token_ms +
# i * per_token_ms`` after the request. Faults, by marker in the body or the
# ``x-emulator-fault`` header: ``stream-error=N`` (ModelStreamError StreamBroken after N
# tokens), ``stream-internal=N`` (InternalStreamFailure), ``generation-error=N`` (TGI's
# in-stream ``generation`` error), ``stream-timeout=N`` (ModelStreamError
# ModelInvocationTimeExceeded).

EVENTSTREAM = "application/vnd.amazon.eventstream"
STREAM_FAULTS = {"stream-error", "stream-internal", "generation-error", "stream-timeout"}
_EOS = {"falcon": "<|endoftext|>"}  # others: </s>
# Emulator token pieces: exactly count_tokens' units (a run of up to 6 letters, up to 3
# digits, one other symbol), each with the whitespace before it.
_PIECE = re.compile(r"\s*(?:[A-Za-z]{1,6}|\d{1,3}|[^\sA-Za-z\d])")


def eventstream_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One message of the AWS event stream encoding (string headers only)."""
    import zlib

    encoded = b"".join(
        len(name.encode()).to_bytes(1, "big") + name.encode() + b"\x07"
        + len(value.encode()).to_bytes(2, "big") + value.encode()
        for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = total.to_bytes(4, "big") + len(encoded).to_bytes(4, "big")
    prelude += zlib.crc32(prelude).to_bytes(4, "big")
    message = prelude + encoded + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


def payload_part(data: bytes) -> bytes:
    return eventstream_message({":event-type": "PayloadPart", ":content-type": "application/octet-stream",
                                ":message-type": "event"}, data)


def stream_exception(kind: str, message: str, error_code: str | None = None) -> bytes:
    body: dict[str, Any] = {"Message": message}
    if error_code:
        body["ErrorCode"] = error_code
    return eventstream_message({":exception-type": kind, ":content-type": "application/json",
                                ":message-type": "exception"}, json.dumps(body).encode())


def token_pieces(text: str) -> list[str]:
    """``text`` as the emulator's tokens (``count_tokens`` of it pieces); joined, ``text``."""
    pieces: list[str] = []
    end = 0
    for match in _PIECE.finditer(text):
        pieces.append(match.group())
        end = match.end()
    if end < len(text):  # trailing whitespace: part of the last token
        if pieces:
            pieces[-1] += text[end:]
        else:
            pieces.append(text[end:])
    return pieces


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
        rng = _rng(piece["text"], i)
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


def sse_line(event: dict[str, Any]) -> bytes:
    return b"data:" + json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def split_parts(data: bytes, rng: random.Random) -> list[bytes]:
    """``data`` cut into 1-3 pieces at random byte offsets."""
    if len(data) < 2:
        return [data]
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 2))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]


class _StreamResponses:
    """InvokeEndpointWithResponseStream for ``_Handler`` (see the section above)."""

    def _stream(self, cfg: EndpointConfig, raw: bytes, component: str | None) -> int:
        emu = self.server_emulator  # type: ignore[attr-defined]
        if cfg.family not in TGI_FAMILIES:
            # The container answers InvokeEndpoint only: SageMaker refuses the stream.
            self._aws_error(400, "ValidationError",  # type: ignore[attr-defined]
                            f"Model container for endpoint {cfg.name} does not support streaming responses.")
            return 400
        try:
            payload = json.loads(raw)
            streaming = isinstance(payload, dict) and payload.get("stream") is True
            if streaming:
                lines = [sse_line(e) for e in tgi_stream_events(cfg, raw)]
            else:  # TGI answers a request without "stream": true with its JSON, in one part
                lines = [tgi_invoke(cfg, raw)[0]]
        except ValueError:
            lines = []
        except ModelErr as err:
            self._model_error(cfg, err.status, err.body)  # type: ignore[attr-defined]
            return 424
        if not lines:
            self._model_error(cfg, 422, "Failed to deserialize the JSON body into the target type")  # type: ignore[attr-defined]
            return 424
        text = raw.decode("utf-8", "replace")
        requested = self.headers.get("x-emulator-fault") or next(  # type: ignore[attr-defined]
            (m.group(1) for m in _FAULT_MARKER.finditer(text) if m.group(1).split("=")[0] in STREAM_FAULTS), None)
        fault, _, after = (requested or "").partition("=")
        fail_after = int(after or 0) if fault in STREAM_FAULTS else None
        call = getattr(self, "_call", None)
        if call is not None:
            call.update(status=200, stream=True)
        self.send_response(200)  # type: ignore[attr-defined]
        for name, value in (("Content-Type", EVENTSTREAM), ("Transfer-Encoding", "chunked"),
                            ("x-amzn-RequestId", str(uuid.uuid4())),
                            ("X-Amzn-SageMaker-Content-Type", "text/event-stream" if streaming else "application/json"),
                            ("x-Amzn-Invoked-Production-Variant", cfg.variant)):
            self.send_header(name, value)  # type: ignore[attr-defined]
        self.end_headers()  # type: ignore[attr-defined]
        rng = _rng("stream-parts", text)
        started = time.perf_counter()
        carried = b""
        try:
            for i, line in enumerate(lines):
                if fail_after is not None and i >= fail_after:
                    self._stream_fault(fault, carried)
                    carried = b""
                    break
                due = started + (cfg.first_token_ms + i * cfg.per_token_ms) / 1000
                if due > time.perf_counter():
                    time.sleep(due - time.perf_counter())
                parts = split_parts(carried + line, rng)
                carried = b""
                if 0 < i < len(lines) - 1 and len(parts) > 1 and rng.random() < 0.25:
                    carried = parts.pop()  # the tail waits for the next token's bytes (never the first's)
                for part in parts:
                    self._chunk(payload_part(part))
            if carried:
                self._chunk(payload_part(carried))
            self.wfile.write(b"0\r\n\r\n")  # type: ignore[attr-defined]
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away: stop generating
        if call is not None:
            call["duration_ms"] = round((time.perf_counter() - self._started) * 1000, 3)  # type: ignore[attr-defined]
        if component:
            emu._answered(cfg)
        return 200

    def _stream_fault(self, fault: str, carried: bytes) -> None:
        if carried:
            self._chunk(payload_part(carried))
        if fault == "generation-error":
            self._chunk(payload_part(sse_line({"error": "Request failed during generation: Server error: CUDA out of "
                                                        "memory", "error_type": "generation"})))
        elif fault == "stream-internal":
            self._chunk(stream_exception("InternalStreamFailure", "Internal stream failure"))
        elif fault == "stream-timeout":
            self._chunk(stream_exception("ModelStreamError", "Your model primary did not complete sending the "
                                         "inference response in the allotted time.", "ModelInvocationTimeExceeded"))
        else:
            self._chunk(stream_exception("ModelStreamError", "Your model primary stream was broken.", "StreamBroken"))

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))  # type: ignore[attr-defined]
        self.wfile.flush()  # type: ignore[attr-defined]


class _Handler(_StreamResponses, BaseHTTPRequestHandler):
    server_emulator: Emulator
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive
    # clients wait ~40 ms for a delayed ACK on every call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read calls() instead
        pass

    # -- plumbing
    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        call = getattr(self, "_call", None)
        if call is not None and "status" not in call:
            call["status"] = status
            call["duration_ms"] = round((time.perf_counter() - self._started) * 1000, 3)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode())

    def _aws_error(self, status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        body = {"message": message, **(extra or {})}
        self._send(status, json.dumps(body).encode(),
                   {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.sagemaker/"})

    def _model_error(self, cfg: EndpointConfig, status: int, original: str) -> None:
        emu = self.server_emulator
        kind = "client" if status < 500 else "server"
        group = (f"/aws/sagemaker/InferenceComponents/{cfg.inference_component}" if cfg.inference_component
                 else f"/aws/sagemaker/Endpoints/{cfg.name}")
        message = (f'Received {kind} error ({status}) from {cfg.variant} with message "{original}". '
                   f"See https://{emu.region}.console.aws.amazon.com/cloudwatch/home?region={emu.region}"
                   f"#logEventViewer:group={group} in account {ACCOUNT} for more information.")
        self._send(424, json.dumps({
            "ErrorCode": "CLIENT_ERROR_FROM_MODEL" if status < 500 else "SERVER_ERROR_FROM_MODEL",
            "LogStreamArn": f"arn:aws:logs:{emu.region}:{ACCOUNT}:log-group:{group}",
            "Message": message,
            "OriginalMessage": original,
            "OriginalStatusCode": status,
        }).encode(), {"x-amzn-ErrorType": "ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/"})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- routes
    def do_GET(self) -> None:
        emu = self.server_emulator
        if self.path == "/_emulator/health":
            return self._json(200, {"ok": True})
        if self.path == "/_emulator/endpoints":
            return self._json(200, emu.endpoints())
        if self.path == "/_emulator/calls":
            return self._json(200, emu.calls())
        self._json(404, {"message": "not found"})

    def do_DELETE(self) -> None:
        emu = self.server_emulator
        if self.path == "/_emulator/faults":
            emu.clear_faults()
            return self._json(200, {"ok": True})
        if self.path == "/_emulator/calls":
            emu.clear_calls()
            return self._json(200, {"ok": True})
        self._json(404, {"message": "not found"})

    def do_POST(self) -> None:
        emu = self.server_emulator
        self._call = None  # handler instances live across keep-alive requests
        raw = self._read_body()
        if self.path.startswith("/_emulator/"):
            try:
                data = json.loads(raw or b"{}")
                if self.path == "/_emulator/endpoints":
                    emu.add_endpoint(EndpointConfig(**data))
                elif self.path == "/_emulator/components":
                    options = {k: data[k] for k in ("after_calls", "scale_out_after_s") if k in data}
                    emu.scale(data["inference_component"], int(data["copies"]), **options)
                elif self.path == "/_emulator/faults":
                    emu.inject(data.pop("endpoint", "*"), **data)
                elif self.path == "/_emulator/reset":
                    emu.reset()
                else:
                    return self._json(404, {"message": "not found"})
            except (ValueError, TypeError, KeyError) as exc:
                return self._json(400, {"message": str(exc)})
            return self._json(200, {"ok": True})
        match = re.fullmatch(r"/endpoints/([^/]+)/invocations(-response-stream)?", self.path.split("?")[0])
        if not match:
            return self._aws_error(404, "UnknownOperationException", "Unknown operation")
        self._streaming = match.group(2) is not None  # InvokeEndpointWithResponseStream
        self._invoke(match.group(1), raw)

    def _invoke(self, name: str, raw: bytes) -> None:
        emu = self.server_emulator
        started = time.perf_counter()
        content_type = self.headers.get("Content-Type", "application/octet-stream")
        accept = self.headers.get("Accept", "application/json")
        if getattr(self, "_streaming", False):  # InvokeEndpointWithResponseStream's Accept header
            accept = self.headers.get("X-Amzn-SageMaker-Accept", accept)
        text = raw.decode("utf-8", "replace")
        call: dict[str, Any] = {"endpoint": name, "content_type": content_type, "accept": accept,
                                "body": _maybe_json(text)}
        if self.headers.get(IC_HEADER):
            call["inference_component"] = self.headers[IC_HEADER]
        # Recorded on arrival and completed in _send, before the reply leaves: a test
        # that has its reply always sees its call, and a slow call (a client that
        # timed out) cannot land in the log of a later test after its reset.
        self._call, self._started = call, started
        emu._record(call)
        self._dispatch(name, raw, text, accept)

    def _dispatch(self, name: str, raw: bytes, text: str, accept: str) -> int:
        emu = self.server_emulator
        if len(raw) > MAX_PAYLOAD_BYTES:
            self._aws_error(400, "ValidationError", f"Request payload size {len(raw)} exceeds {MAX_PAYLOAD_BYTES}")
            return 400
        component = self.headers.get(IC_HEADER)
        with emu._lock:
            hosted = {ic: cfg for (endpoint, ic), cfg in emu._endpoints.items() if endpoint == name}
        if not hosted:
            self._aws_error(400, "ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.")
            return 400
        shared = any(ic is not None for ic in hosted)
        if shared and not component:
            self._aws_error(400, "ValidationError", IC_REQUIRED)
            return 400
        if component and not shared:
            self._aws_error(400, "ValidationError", IC_NOT_ALLOWED)
            return 400
        cfg = hosted.get(component)
        if cfg is None:  # the emulator's own wording: an IC this endpoint does not host
            self._aws_error(400, "ValidationError", f"Inference Component {component} not found on endpoint {name}.")
            return 400
        if component and not emu._has_capacity(cfg):
            self._aws_error(400, "ValidationError", NO_CAPACITY_MESSAGE)
            return 400
        fault, delay_ms, rule = emu._take_fault(name, text, component)
        requested = self.headers.get("x-emulator-fault") or (m.group(1) if (m := _FAULT_MARKER.search(text)) else None)
        if requested:
            kind, _, value = requested.partition("=")
            if kind == "delay":
                delay_ms += float(value or 0)
            elif kind in _FAULT_NAMES:
                fault = fault or kind
        if delay_ms:
            time.sleep(delay_ms / 1000)
        if fault == "throttle":
            self._aws_error(400, "ThrottlingException", "Rate exceeded")
            return 400
        if fault == "not-ready":
            self._aws_error(429, "ModelNotReadyException", f"Model for endpoint {name} is not ready.")
            return 429
        if fault == "unavailable":
            self._aws_error(503, "ServiceUnavailable", "Service is unavailable. Try your call again.")
            return 503
        if fault == "internal":
            self._aws_error(500, "InternalFailure", "An internal error occurred.")
            return 500
        if fault == "model-error":
            self._model_error(cfg, 500, json.dumps({"error": "CUDA out of memory", "error_type": "generation"}))
            return 424
        if fault == "contains" and rule is not None:
            self._model_error(cfg, int(rule.get("status", 500)), str(rule.get("message", "injected failure")))
            return 424
        if getattr(self, "_streaming", False):  # InvokeEndpointWithResponseStream: _StreamResponses
            return self._stream(cfg, raw, component)
        try:
            if cfg.family in TGI_FAMILIES:
                body, tokens = tgi_invoke(cfg, raw)
            elif cfg.family == "ai21-j2":
                body, tokens = ai21_invoke(cfg, raw)
            else:
                body, tokens = sd_invoke(cfg, raw, accept)
        except ModelErr as err:
            self._model_error(cfg, err.status, err.body)
            return 424
        latency = cfg.first_token_ms + cfg.per_token_ms * tokens
        if latency:
            time.sleep(latency / 1000)
        if component:
            emu._answered(cfg)
        self._send(200, body, {"x-Amzn-Invoked-Production-Variant": cfg.variant})
        return 200


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse_endpoint(spec: str) -> EndpointConfig:
    """``name:family[:max_input_length:max_total_tokens]``."""
    parts = spec.split(":")
    if len(parts) not in (2, 4):
        raise argparse.ArgumentTypeError("use name:family or name:family:max_input:max_total")
    limits = {"max_input_length": int(parts[2]), "max_total_tokens": int(parts[3])} if len(parts) == 4 else {}
    return EndpointConfig(parts[0], parts[1], **limits)


def _parse_component(spec: str) -> EndpointConfig:
    """``endpoint:component:family[:max_input_length:max_total_tokens]``."""
    endpoint, _, rest = spec.partition(":")
    component, _, rest = rest.partition(":")
    if not endpoint or not component or not rest:
        raise argparse.ArgumentTypeError("use endpoint:component:family[:max_input:max_total]")
    cfg = _parse_endpoint(f"{endpoint}:{rest}")
    cfg.inference_component = component
    return cfg


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--endpoint", action="append", type=_parse_endpoint, default=[],
                        help="name:family[:max_input_length:max_total_tokens]; repeatable")
    parser.add_argument("--component", action="append", type=_parse_component, default=[],
                        help="endpoint:component:family[:max_input_length:max_total_tokens]: an inference "
                             "component on a shared endpoint; repeatable")
    parser.add_argument("--copies", type=int, default=1, help="initial copies of each inference component")
    parser.add_argument("--scale-out-after-s", type=float, default=None,
                        help="an inference component at 0 copies has 1 this long after a call met no capacity")
    parser.add_argument("--first-token-ms", type=float, default=0.0)
    parser.add_argument("--per-token-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    for ep in (*args.endpoint, *args.component):
        ep.first_token_ms, ep.per_token_ms = args.first_token_ms, args.per_token_ms
    for ep in args.component:
        ep.copies, ep.scale_out_after_s = args.copies, args.scale_out_after_s
    emulator = Emulator([*args.endpoint, *args.component], host=args.host, port=args.port)
    print(f"SageMaker runtime emulator on {emulator.url} endpoints={[e.name for e in args.endpoint]} "
          f"components={[f'{e.name}/{e.inference_component}' for e in args.component]}", flush=True)
    try:
        emulator._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

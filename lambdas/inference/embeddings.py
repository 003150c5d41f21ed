"""Text embeddings: the wire format of JumpStart's sentence-similarity models, their limits
and a token estimate for usage. Pure: texts in, bytes out, bytes in, vectors out.

The family ``hf-embedding`` is JumpStart's ``huggingface-sentencesimilarity-*`` models
(BAAI/bge-base-en-v1.5 is the one pinned, ``config/catalog/models.yaml``) on the Hugging
Face PyTorch inference container (``huggingface-pytorch-inference:1.13.1-transformers4.26.0``
in the pinned spec) with JumpStart's own ``inference.py`` from the model artifacts:

- request ``Content-Type: application/json``: ``{"text_inputs": ["...", ...], "mode": "embedding"}``
  (public JumpStart samples; ``mode`` also takes ``nn_corpus`` for nearest neighbours, unused);
- answer ``{"embedding": [[float x dimensions], ...]}``, one vector per input, in order;
- a refusal is the inference toolkit's: any exception in the handler becomes HTTP 400 with the
  model server's body ``{"code": 400, "type": "InternalServerException", "message": str(exc)}``
  (``sagemaker_huggingface_inference_toolkit.handler_service``: ``PredictionException(str(e), 400)``),
  which SageMaker wraps as ModelError (424).

Limits: ``max_input_tokens`` is the model's (BERT position embeddings: 512 tokens per input,
[CLS] and [SEP] included); ``max_batch_size`` is ours: 32 inputs of up to 512 tokens are
~16k tokens, a few seconds on the 4 vCPUs of ml.c6i.xlarge (SageMaker allows 60 s), and
32 x 768 floats as JSON (~0.5 MB) stay far below the 6 MB response limit. A caller with
more inputs sends several calls (``batches``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from inference.codecs import WireRequest
from inference.errors import BadRequest, ModelFailed
from inference.tokens import TokenEstimator, lower_bound

EMBEDDING_FAMILIES = ("hf-embedding",)

# [CLS] and [SEP] around every input: BERT-style tokenizers add both.
SPECIAL_TOKENS_PER_INPUT = 2
MAX_BATCH_SIZE = 32


@dataclass(frozen=True)
class EmbeddingModel:
    """What the front door needs to know of one embedding model (by JumpStart model id)."""

    model_id: str
    dimensions: int
    max_input_tokens: int
    max_batch_size: int = MAX_BATCH_SIZE


# The pinned embedding models: the same numbers as config/catalog/models.yaml (a test holds
# them equal); dimensions and token limit from the model card (huggingface.co/BAAI/bge-base-en-v1.5).
EMBEDDING_MODELS: dict[str, EmbeddingModel] = {
    m.model_id: m for m in (
        EmbeddingModel("huggingface-sentencesimilarity-bge-base-en-v1-5", dimensions=768, max_input_tokens=512),
    )
}


def embedding_model(model_id: str) -> EmbeddingModel | None:
    return EMBEDDING_MODELS.get(model_id)


def _decode(raw: bytes, family: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFailed(f"the {family} model returned a response that is not JSON") from exc


class EmbeddingCodec:
    """``{"text_inputs", "mode": "embedding"}`` -> ``{"embedding": [[...], ...]}``.

    ``dimensions`` (when known) is checked on every answer; ``max_input_tokens`` and
    ``max_batch_size`` are checked before a call, so a request the model cannot take is the
    caller's 400, never a model error.
    """

    def __init__(self, family: str, *, max_input_tokens: int = 512, max_batch_size: int = MAX_BATCH_SIZE,
                 dimensions: int | None = None) -> None:
        if family not in EMBEDDING_FAMILIES:
            raise ValueError(f"not an embedding family: {family!r}; known: {EMBEDDING_FAMILIES}")
        self.family = family
        self.max_input_tokens = max_input_tokens
        self.max_batch_size = max_batch_size
        self.dimensions = dimensions

    @property
    def max_batch(self) -> int:
        """``max_batch_size``, by the name the front door's batching reads."""
        return self.max_batch_size

    def check(self, texts: list[str]) -> None:
        """Refuse (BadRequest, naming the input) what the model cannot embed in one call:
        no inputs, too many, a non-string or empty one, or one over the token limit by a
        count that errs low (``tokens.lower_bound``: never refuses what the model takes)."""
        if not isinstance(texts, list) or not texts:
            raise BadRequest("input must be a non-empty list of strings", details=[{"field": "input"}])
        if len(texts) > self.max_batch_size:
            raise BadRequest(f"at most {self.max_batch_size} inputs per call to the {self.family} model, "
                             f"got {len(texts)}", details=[{"field": "input", "max": self.max_batch_size}])
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text:
                raise BadRequest(f"input[{i}] must be a non-empty string", details=[{"field": f"input[{i}]"}])
            tokens = lower_bound(text) + SPECIAL_TOKENS_PER_INPUT
            if tokens > self.max_input_tokens:
                raise BadRequest(
                    f"input[{i}] is at least {tokens} tokens; the model takes at most {self.max_input_tokens} "
                    "per input", details=[{"field": f"input[{i}]", "type": "context_length",
                                           "max": self.max_input_tokens}])

    def build(self, texts: list[str]) -> WireRequest:
        self.check(texts)
        return WireRequest(json.dumps({"text_inputs": texts, "mode": "embedding"}).encode())

    def parse(self, raw: bytes, count: int | None = None) -> list[list[float]]:
        """The vectors, one per input; ModelFailed on any other shape (not JSON, no
        ``embedding`` list, a non-number, vectors of different lengths or of another length
        than ``dimensions``, or not ``count`` of them)."""
        data = _decode(raw, self.family)
        vectors = data.get("embedding") if isinstance(data, dict) else None
        if not isinstance(vectors, list) or not vectors or not all(isinstance(v, list) and v for v in vectors):
            raise ModelFailed(f"the {self.family} model returned an unexpected response shape")
        if count is not None and len(vectors) != count:
            raise ModelFailed(f"the {self.family} model returned {len(vectors)} vectors for {count} inputs")
        lengths = {len(v) for v in vectors}
        if len(lengths) != 1 or (self.dimensions is not None and lengths != {self.dimensions}):
            raise ModelFailed(f"the {self.family} model returned vectors of {sorted(lengths)} dimensions"
                              + (f", not {self.dimensions}" if self.dimensions is not None else ""))
        out: list[list[float]] = []
        for v in vectors:
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v):
                raise ModelFailed(f"the {self.family} model returned a vector with a non-number")
            out.append([float(x) for x in v])
        return out

    def batches(self, texts: list[str]) -> list[list[str]]:
        """``texts`` in calls of at most ``max_batch_size``, in order."""
        return [texts[i:i + self.max_batch_size] for i in range(0, len(texts), self.max_batch_size)]

    @staticmethod
    def estimate_tokens(texts: list[str]) -> int:
        """Prompt tokens for usage, estimated (the container reports none): the estimator that
        errs high (``tokens.TokenEstimator``: ~1 token per short English word, WordPiece
        splits rare words much as BPE does) plus [CLS] and [SEP] per input."""
        estimator = TokenEstimator()
        return sum(estimator.count(t) + SPECIAL_TOKENS_PER_INPUT for t in texts)


def embedding_codec(family: str, model_id: str | None = None) -> EmbeddingCodec:
    """The family's codec; with a pinned ``model_id``, held to that model's dimensions and limits."""
    model = EMBEDDING_MODELS.get(model_id) if model_id else None
    if model is None:
        return EmbeddingCodec(family)
    return EmbeddingCodec(family, max_input_tokens=model.max_input_tokens, max_batch_size=model.max_batch_size,
                          dimensions=model.dimensions)

"""Texts to vectors on an embedding model, in batches its container takes."""

from __future__ import annotations

from typing import Any

from inference.catalog import ModelSpec


def embed_texts(invoker: Any, spec: ModelSpec, texts: list[str]) -> tuple[list[list[float]], int]:
    """(one vector per text, in order; the prompt tokens, estimated). Every text is checked
    against the model's limits before the first call (a text over its token limit is the
    caller's 400 ``context_length_exceeded``, and nothing is spent on the others); the texts
    go in batches of the model's ``max_batch_size``, each answer held to its batch's count."""
    from inference.embeddings import embedding_codec

    codec = embedding_codec(spec.family, spec.model_id)
    batches = codec.batches(texts)
    for batch in batches:
        codec.check(batch)
    vectors: list[list[float]] = []
    for batch in batches:
        raw = invoker.invoke(spec.endpoint_name, codec.build(batch), spec.inference_component)
        vectors += codec.parse(raw, count=len(batch))
    return vectors, codec.estimate_tokens(texts)

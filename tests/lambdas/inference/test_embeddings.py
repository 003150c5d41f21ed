"""The embedding codec (inference.embeddings): JumpStart's sentence-similarity wire format,
the limits checked before a call, the refusals of a malformed answer, and the catalog kind."""

from __future__ import annotations

import json

import pytest
import yaml

from inference.catalog import FAMILY_KINDS, KINDS, Catalog
from inference.codecs import WireRequest
from inference.embeddings import (
    EMBEDDING_FAMILIES,
    EMBEDDING_MODELS,
    MAX_BATCH_SIZE,
    EmbeddingCodec,
    embedding_codec,
    embedding_model,
)
from inference.errors import BadRequest, ConfigError, ModelFailed
from tests.lambdas.embedding_helpers import BGE, CATALOG_YAML, bge_entry

CODEC = embedding_codec("hf-embedding", BGE)


def _answer(*vectors: list[float]) -> bytes:
    return json.dumps({"embedding": [list(v) for v in vectors]}).encode()


def test_build_sends_text_inputs_in_embedding_mode_as_json():
    request = CODEC.build(["What is SageMaker?", "A managed ML service."])
    assert isinstance(request, WireRequest)
    assert (request.content_type, request.accept) == ("application/json", "application/json")
    assert json.loads(request.body) == {"text_inputs": ["What is SageMaker?", "A managed ML service."],
                                        "mode": "embedding"}


def test_parse_returns_one_float_vector_per_input_in_order():
    v1, v2 = [0.5] * 768, [-0.25] * 767 + [1]
    assert CODEC.parse(_answer(v1, v2), count=2) == [v1, [float(x) for x in v2]]


@pytest.mark.parametrize(("raw", "match"), [
    (b"not json", "not JSON"),
    (b'[[0.1, 0.2]]', "unexpected response shape"),  # a bare list: not the container's shape
    (b'{"embeddings": [[0.1]]}', "unexpected response shape"),
    (b'{"embedding": []}', "unexpected response shape"),
    (b'{"embedding": [0.1, 0.2]}', "unexpected response shape"),  # one flat vector
    (json.dumps({"embedding": [[0.1] * 768, [0.1] * 767]}).encode(), r"\[767, 768\] dimensions"),
    (json.dumps({"embedding": [[0.1] * 384]}).encode(), "not 768"),  # another model's length
    (json.dumps({"embedding": [["x"] * 768]}).encode(), "non-number"),
    (json.dumps({"embedding": [[True] * 768]}).encode(), "non-number"),
    (json.dumps({"embedding": [[float("nan")] * 768]}).encode(), "non-number"),
])
def test_a_malformed_answer_is_a_model_failure(raw, match):
    with pytest.raises(ModelFailed, match=match):
        CODEC.parse(raw)


def test_a_vector_count_other_than_the_inputs_is_a_model_failure():
    with pytest.raises(ModelFailed, match="1 vectors for 2 inputs"):
        CODEC.parse(_answer([0.0] * 768), count=2)


@pytest.mark.parametrize(("texts", "match"), [
    ([], "non-empty list"),
    ("just a string", "non-empty list"),
    (["ok", ""], r"input\[1\] must be a non-empty string"),
    (["ok", 3], r"input\[1\] must be a non-empty string"),
    (["x"] * (MAX_BATCH_SIZE + 1), f"at most {MAX_BATCH_SIZE} inputs"),
])
def test_build_refuses_what_the_model_cannot_take(texts, match):
    with pytest.raises(BadRequest, match=match):
        CODEC.build(texts)


def test_an_input_surely_over_512_tokens_is_refused_as_a_context_length_error():
    # lower_bound = chars / 4 errs low: 2040 characters are at least 510 + [CLS] + [SEP] tokens, which fit
    CODEC.build(["a" * 2040])
    with pytest.raises(BadRequest) as refused:
        CODEC.build(["fine", "a" * 2044])
    assert refused.value.details == [{"field": "input[1]", "type": "context_length", "max": 512}]
    assert "at least 513 tokens" in refused.value.message


def test_batches_split_in_order_within_the_limit():
    texts = [f"t{i}" for i in range(70)]
    batches = CODEC.batches(texts)
    assert [len(b) for b in batches] == [32, 32, 6] and sum(batches, []) == texts
    assert CODEC.max_batch == CODEC.max_batch_size == MAX_BATCH_SIZE


def test_token_estimate_counts_words_plus_cls_and_sep_and_errs_high():
    # 2 words x 1.08 (the 8% margin), rounded up per input, + [CLS] and [SEP]
    assert EmbeddingCodec.estimate_tokens(["hello world"]) == 3 + 2
    assert EmbeddingCodec.estimate_tokens(["a b", "c"]) == (3 + 2) + (2 + 2)


def test_family_codec_without_a_pinned_model_checks_no_dimension():
    codec = embedding_codec("hf-embedding")
    assert (codec.dimensions, codec.max_input_tokens, codec.max_batch_size) == (None, 512, MAX_BATCH_SIZE)
    assert codec.parse(_answer([0.1] * 384, [0.2] * 384)) == [[0.1] * 384, [0.2] * 384]
    with pytest.raises(ValueError, match="not an embedding family"):
        embedding_codec("falcon")


def test_limits_equal_the_stack_catalogs_facts():
    facts = yaml.safe_load(CATALOG_YAML.read_text())["models"]
    embedding_ids = {mid for mid, f in facts.items() if f["kind"] == "embedding"}
    assert embedding_ids == set(EMBEDDING_MODELS)
    for mid in embedding_ids:
        model = embedding_model(mid)
        assert (model.dimensions, model.max_input_tokens) == (facts[mid]["dimensions"], facts[mid]["max_input_tokens"])
        assert facts[mid]["family"] in EMBEDDING_FAMILIES


def test_catalog_knows_the_embedding_kind_and_family():
    assert "embedding" in KINDS and FAMILY_KINDS["hf-embedding"] == "embedding"
    catalog = Catalog.from_json(json.dumps([bge_entry()]))
    spec = catalog.resolve(None, "embedding")  # the one embedding model is the default
    assert (spec.name, spec.kind, spec.max_input_length, spec.max_total_tokens) == ("bge-base-en-v1-5", "embedding",
                                                                                   512, None)
    with pytest.raises(BadRequest, match="is a embedding model; this route needs a text model"):
        catalog.resolve("bge-base-en-v1-5", "text")


@pytest.mark.parametrize(("changes", "match"), [
    ({"max_input_length": None}, "embedding models need max_input_length"),
    ({"kind": "text"}, "kind must be 'embedding' for family 'hf-embedding'"),
])
def test_catalog_refuses_an_embedding_entry_without_its_limit_or_with_another_kind(changes, match):
    with pytest.raises(ConfigError, match=match):
        Catalog.from_json(json.dumps([bge_entry(**changes)]))


def test_one_default_per_kind_includes_embeddings():
    entries = [bge_entry(default=True), bge_entry(name="bge-2", endpoint_name="ep-2", default=True)]
    with pytest.raises(ConfigError, match="more than one default embedding model"):
        Catalog.from_json(json.dumps(entries))

"""Map-reduce through the real boto3 client against the SageMaker runtime emulator.

The emulator counts tokens its own way, answers with TGI's exact 422 texts
wrapped as ModelError, and injects throttling bursts, 424s and latency spikes.
Each run must either complete with every chunk mapped or fail naming the chunk.
"""

from __future__ import annotations

import re

import pytest

from inference.runtime import SageMakerRuntime
from local.emulator.models import EndpointConfig
from summarizer.errors import ChunkFailed
from summarizer.mapreduce import Summarizer
from summarizer.run_config import SummarizeConfig
from summarizer.model import make_generate
from summarizer_fakes import normalize
from tests.lambdas.emulated import runtime_client, serve

CONFIG = SummarizeConfig(max_concurrency=4, backoff_base_s=0.01, backoff_cap_s=0.05, map_max_new_tokens=64,
                         final_max_new_tokens=96)


@pytest.fixture(scope="module")
def emulator():
    yield from serve(EndpointConfig("falcon-ep", "falcon"))


@pytest.fixture
def generate(emulator, monkeypatch):
    client = runtime_client(emulator.url, monkeypatch, max_pool_connections=8)
    emulator.reset()
    return make_generate("falcon-ep", "falcon", SageMakerRuntime(client, max_attempts=1))


def mapped_bodies(emulator) -> str:
    prompts = [c.get("body") or c.get("inputs") or "" for c in emulator.calls()
               if str(c.get("status", 200)) == "200"]
    return "\x00".join(normalize(str(p)) for p in prompts)


def assert_every_sentence_reached_the_model(document: str, emulator) -> None:
    bodies = mapped_bodies(emulator)
    for sentence in re.split(r"(?<=[.!?])\s+|\n\n", document):
        assert normalize(sentence) in bodies, sentence


def test_emulator_records_what_the_assertions_read(emulator, generate):
    generate("Summarize this. The harbour reopened.", {"max_new_tokens": 8})
    call = emulator.calls()[-1]
    assert "The harbour reopened." in str(call.get("body") or call.get("inputs")), call.keys()


def test_throttling_bursts_424s_and_latency_spikes_are_absorbed_with_every_chunk_mapped(emulator, generate, short_document):
    emulator.inject("*", throttle_next=6, model_error_next=3, delay_next=4, delay_ms=300)
    result = Summarizer(generate, "falcon", config=CONFIG).summarize(short_document)
    assert result.stats.retries >= 9
    assert result.summary
    assert_every_sentence_reached_the_model(short_document, emulator)


def test_a_model_counting_more_tokens_recalibrates_and_resplits(emulator, generate):
    # Long words cost the emulator more than the estimator assumes.
    text = "\n\n".join(" ".join(["Internationalization counterrevolutionaries mischaracterization."] * 40)
                       for _ in range(12))
    result = Summarizer(generate, "falcon", config=CONFIG).summarize(text)
    assert result.stats.recalibrations >= 1
    assert any(c.get("status") in (424, "424") for c in emulator.calls())


def test_a_chunk_the_model_always_fails_fails_the_request_naming_it(emulator, generate, short_document):
    poison = short_document.split(". ")[50]
    emulator.inject("*", fail_if_contains=[{"text": poison, "status": 500, "message": "CUDA error: device-side assert"}])
    with pytest.raises(ChunkFailed) as info:
        Summarizer(generate, "falcon", config=CONFIG).summarize(short_document)
    assert re.search(r"map chunk \d+ failed after 4 attempt\(s\)", str(info.value))
    assert "ModelFailed" in str(info.value)

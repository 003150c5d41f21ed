"""Async jobs whose model runs as an inference component that scaled to zero copies.

The model answers ``ModelScalingUp`` until its scale-out finishes (minutes): the
worker hands the job back and re-queues its message with a delay (SQS DelaySeconds)
instead of failing it, keeps the chunks already done, and gives up after a total
wait with ``model_scaling_timeout``. Moto in-process, a scripted model.
"""

from __future__ import annotations

import json
import time

import pytest

from inference.catalog import Catalog
from inference.errors import ModelScalingUp
from summarizer.jobs import FAILED, MAX_DELAY_S, QUEUED, SUCCEEDED, new_job_id
from summarizer.run_config import ModelLimits, SummarizeConfig
from summarizer.settings import CAPACITY_RETRY_S, CAPACITY_WAIT_S, Settings
from summarizer.worker import Worker
from summarizer_aws import MODELS_JSON, make_job_infra
from summarizer_fakes import FakeTGI

CONFIG = SummarizeConfig(max_concurrency=4, backoff_base_s=0.001, backoff_cap_s=0.005)


@pytest.fixture
def store(aws, clock):
    return make_job_infra(clock)


class ScaledToZero:
    """A FakeTGI whose inference component goes to zero copies after ``answer`` calls
    were answered, until ``scale_out()``."""

    def __init__(self, answer: int = 10**9) -> None:
        self.zero = False
        self.refused = 0
        self.model = FakeTGI(chars_per_token=4.5, fail_when=self._capacity)
        self.answer = answer

    def _capacity(self, prompt: str):
        if self.zero or len(self.model.answered) >= self.answer:
            self.zero = True
            self.refused += 1
            return ModelScalingUp("model falcon-7b-instruct has no copy running", retry_after=60)
        return None

    def scale_out(self) -> None:
        self.zero, self.answer = False, 10**9


def make_worker(store, model, **kwargs) -> Worker:
    return Worker(store, Catalog.from_json(MODELS_JSON), lambda spec: model, lambda spec: ModelLimits(), CONFIG,
                  stop_margin_s=0.0, **kwargs)


def submit(store, text: str) -> str:
    job_id = new_job_id()
    store.create(job_id, model=None, style="paragraph", max_words=None, text=text)
    return job_id


@pytest.fixture
def sent(store, monkeypatch):
    """Every message the store sends: (body, DelaySeconds)."""
    messages: list[tuple[dict, int]] = []
    send = store.sqs.send_message

    def spy(**kwargs):
        messages.append((json.loads(kwargs["MessageBody"]), kwargs.get("DelaySeconds", 0)))
        return send(**kwargs)

    monkeypatch.setattr(store.sqs, "send_message", spy)
    return messages


def test_the_defaults_retry_every_minute_for_half_an_hour():
    assert (CAPACITY_RETRY_S, CAPACITY_WAIT_S) == (60, 1800)
    settings = Settings.from_env({})
    assert (settings.capacity_retry_s, settings.capacity_wait_s) == (60, 1800)
    settings = Settings.from_env({"SUMMARIZE_CAPACITY_RETRY_S": "5", "SUMMARIZE_CAPACITY_WAIT_S": "600"})
    assert (settings.capacity_retry_s, settings.capacity_wait_s) == (5, 600)


@pytest.mark.parametrize(("name", "value"), [("SUMMARIZE_CAPACITY_RETRY_S", "901"),
                                             ("SUMMARIZE_CAPACITY_RETRY_S", "0"),
                                             ("SUMMARIZE_CAPACITY_WAIT_S", "soon")])
def test_capacity_settings_out_of_range_fail_the_cold_start_naming_the_variable(name, value):
    from inference.errors import ConfigError

    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_a_delay_beyond_what_sqs_allows_is_refused(store):
    with pytest.raises(ValueError, match="900"):
        store.enqueue(new_job_id(), delay_s=MAX_DELAY_S + 1)
    with pytest.raises(ValueError):
        make_worker(store, FakeTGI(), capacity_retry_s=MAX_DELAY_S + 1)


def test_a_delayed_message_stays_invisible_for_its_delay(store):
    job_id = new_job_id()
    store.enqueue(job_id, delay_s=1)
    assert store.sqs.receive_message(QueueUrl=store.queue_url).get("Messages", []) == []
    time.sleep(1.2)
    [message] = store.sqs.receive_message(QueueUrl=store.queue_url)["Messages"]
    assert json.loads(message["Body"]) == {"job_id": job_id}


def test_given_copies_at_zero_mid_job_then_the_job_waits_and_resumes_from_its_checkpoints(
        store, sent, short_document):
    model = ScaledToZero(answer=5)
    job_id = submit(store, short_document)

    assert make_worker(store, model.model, capacity_retry_s=60).handle(job_id, 600, "w1") == "waiting"
    job = store.get(job_id)
    # Handed back, not failed: QUEUED again, its attempt given back, not a continuation.
    assert job.status == QUEUED and job.attempts == 0 and "continuations" not in job.item
    assert job.item["capacity_wait_s"] == 60 and "error" not in job.item
    assert sent == [({"job_id": job_id}, 60)]
    done_before = list(model.model.answered)
    assert len(done_before) >= 5 and model.refused >= 1

    # Still scaling: waits again, the waits add up.
    assert make_worker(store, model.model, capacity_retry_s=60).handle(job_id, 600, "w2") == "waiting"
    assert store.get(job_id).item["capacity_wait_s"] == 120 and sent[-1] == ({"job_id": job_id}, 60)

    model.scale_out()
    resumed = FakeTGI(chars_per_token=4.5)
    assert make_worker(store, resumed).handle(job_id, 600, "w3") == "succeeded"
    job = store.get(job_id)
    assert job.status == SUCCEEDED and job.chunks_done == job.chunks_total > 1
    # The chunks done before the scale-in were not asked again.
    assert job.item["stats"]["checkpoint_hits"] >= len(done_before)
    assert not set(resumed.answered) & set(done_before)


def test_a_job_that_waits_longer_than_the_bound_fails_with_its_own_code(store, sent, short_document):
    model = ScaledToZero(answer=0)
    job_id = submit(store, short_document)
    worker = make_worker(store, model.model, capacity_retry_s=300, max_capacity_wait_s=900)
    outcomes = [worker.handle(job_id, 600, f"w{n}") for n in range(4)]
    assert outcomes == ["waiting", "waiting", "waiting", "failed"]
    job = store.get(job_id)
    assert job.status == FAILED and job.item["capacity_wait_s"] == 900
    assert job.item["error"] == {
        "code": "model_scaling_timeout",
        "message": "model falcon-7b-instruct had no copy running for 15 minutes (its scale-out from zero did not "
                   "finish); submit the job again later"}
    assert [delay for _, delay in sent] == [300, 300, 300]


def test_the_sqs_handler_counts_the_waits(store, short_document, monkeypatch):
    from types import SimpleNamespace

    from summarizer import worker as worker_module

    model = ScaledToZero(answer=0)
    job_id = submit(store, short_document)
    monkeypatch.setattr(worker_module, "_worker", make_worker(store, model.model, capacity_retry_s=1))
    metrics: list[str] = []
    monkeypatch.setattr(worker_module.metrics, "add_metric", lambda name, **_: metrics.append(name))
    record = SimpleNamespace(body=json.dumps({"job_id": job_id}), message_id="m1", raw_event={"attributes": {}})
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 600_000, aws_request_id="r1")
    worker_module.record_handler(record, context)
    assert metrics == ["JobsWaitingForCapacity"] and store.get(job_id).status == QUEUED

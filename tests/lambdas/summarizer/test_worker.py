"""Async jobs end to end on moto (DynamoDB, S3, SQS) with a scripted model.

Every scenario ends in one of two states: SUCCEEDED with every chunk mapped,
or FAILED with an error naming what failed. Never a partial summary.
"""

from __future__ import annotations

import json
import math
import re
import time
from types import SimpleNamespace

import pytest

from inference.catalog import Catalog
from summarizer import jobs as jobs_module
from summarizer import worker as worker_module
from inference.errors import ModelFailed, ModelInputRejected
from inference.tokens import base_units
from summarizer.jobs import FAILED, INLINE_LIMIT_BYTES, QUEUED, RUNNING, SUCCEEDED, new_job_id
from summarizer.run_config import ModelLimits, SummarizeConfig
from summarizer.prompts import Stage, instruction
from summarizer.worker import MAX_ATTEMPTS, MAX_RECEIVES, JobBusy, Worker
from summarizer_aws import MODELS_JSON, make_job_infra, queued_job_ids
from summarizer_fakes import FakeTGI, normalize

CONFIG = SummarizeConfig(max_concurrency=4, backoff_base_s=0.001, backoff_cap_s=0.005)


class Crash(BaseException):
    """Stands in for the Lambda runtime killing the worker mid-job."""


@pytest.fixture
def store(aws, clock):
    return make_job_infra(clock)


def make_worker(store, model, **kwargs) -> Worker:
    return Worker(store, Catalog.from_json(MODELS_JSON), lambda spec: model, lambda spec: ModelLimits(), CONFIG,
                  stop_margin_s=kwargs.pop("stop_margin_s", 0.0), **kwargs)


def submit(store, text: str, **kwargs) -> str:
    job_id = new_job_id()
    store.create(job_id, model=None, style=kwargs.get("style", "paragraph"), max_words=kwargs.get("max_words"), text=text)
    return job_id


def sqs_record(message_id: str, job_id: str, receive_count: int | None = None) -> dict:
    attributes = {} if receive_count is None else {"ApproximateReceiveCount": str(receive_count)}
    return {"messageId": message_id, "receiptHandle": "r", "body": json.dumps({"job_id": job_id}),
            "attributes": attributes, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs"}


def lambda_context() -> SimpleNamespace:
    return SimpleNamespace(get_remaining_time_in_millis=lambda: 600_000, aws_request_id="req-1",
                           function_name="worker", memory_limit_in_mb=1024, invoked_function_arn="arn")


def assert_every_sentence_mapped(document: str, *models: FakeTGI) -> None:
    bodies = "\x00".join(normalize(p.split("\n\n", 1)[1]) for m in models for p in m.answered
                         if p.startswith(instruction(Stage.MAP)))
    for sentence in re.split(r"(?<=[.!?])\s+|\n\n", document):
        assert normalize(sentence) in bodies, sentence


def test_a_job_runs_to_success_with_progress_and_every_chunk_mapped(store, short_document):
    job_id = submit(store, short_document, style="bullets", max_words=80)
    model = FakeTGI(chars_per_token=4.5)
    assert make_worker(store, model).handle(job_id, 600, "w1") == "succeeded"
    job = store.get(job_id)
    assert job.status == SUCCEEDED
    assert job.chunks_done == job.chunks_total > 1
    assert store.load_result(job).startswith("S[")
    assert job.item["stats"]["chunks"] == job.chunks_total
    assert_every_sentence_mapped(short_document, model)


def test_a_redelivered_message_for_a_finished_job_does_no_work(store, short_document):
    job_id = submit(store, short_document)
    make_worker(store, FakeTGI(chars_per_token=4.5)).handle(job_id, 600, "w1")
    result = store.load_result(store.get(job_id))
    again = FakeTGI(chars_per_token=4.5)
    assert make_worker(store, again).handle(job_id, 600, "w2") == "already-succeeded"
    assert again.calls == 0 and store.load_result(store.get(job_id)) == result


def test_a_duplicate_delivery_while_another_worker_holds_the_lease_goes_back_to_the_queue(store, short_document):
    job_id = submit(store, short_document)
    assert store.claim(job_id, "w1", lease_s=900) is not None
    with pytest.raises(JobBusy):
        make_worker(store, FakeTGI()).handle(job_id, 600, "w2")
    assert store.get(job_id).item["owner"] == "w1"


def test_given_a_worker_crash_mid_job_when_the_message_returns_then_the_job_resumes_without_repeating_calls(
        store, clock, short_document):
    clean = FakeTGI(chars_per_token=4.5)
    reference = submit(store, short_document)
    make_worker(store, clean).handle(reference, 600, "ref")

    job_id = submit(store, short_document)
    crashing = FakeTGI(chars_per_token=4.5, fail_when=lambda p: Crash() if crashing.calls > 6 else None)
    with pytest.raises(Crash):
        make_worker(store, crashing).handle(job_id, 600, "w1")
    assert store.get(job_id).status == RUNNING

    # SQS brings the message back only after the visibility timeout; before the lease ends it must wait.
    with pytest.raises(JobBusy):
        make_worker(store, FakeTGI(chars_per_token=4.5)).handle(job_id, 600, "w2")
    clock.now += 700
    resumed = FakeTGI(chars_per_token=4.5)
    assert make_worker(store, resumed).handle(job_id, 600, "w3") == "succeeded"

    job = store.get(job_id)
    assert job.status == SUCCEEDED and job.item["stats"]["checkpoint_hits"] == len(crashing.answered) > 0
    assert not set(resumed.answered) & set(crashing.answered)
    assert store.load_result(job) == store.load_result(store.get(reference))
    assert_every_sentence_mapped(short_document, crashing, resumed)


def deliver(store, clock, job_id: str, receive_counts, model_for=lambda: FakeTGI(fail_when=lambda p: Crash())):
    """SQS delivering the job's message with these receive counts until one ends it.

    A delivery either crashes the worker (the message comes back after the visibility
    timeout, which outlives the lease) or returns, and then the event source deletes it.
    """
    outcomes = []
    for receive_count in receive_counts:
        try:
            outcomes.append(make_worker(store, model_for()).handle(job_id, 600, f"w{receive_count}", receive_count))
        except Crash:
            outcomes.append("crashed")
            clock.now += 700
            continue
        break
    return outcomes


def test_the_queue_allows_five_deliveries_and_the_worker_keeps_the_last_to_record_a_crash():
    # AWS recommends maxReceiveCount >= 5 for a queue feeding a Lambda event source;
    # stacks/constructs/summarizer.py JOB_MAX_RECEIVES must equal it (tests/stacks pins the two).
    assert MAX_RECEIVES == 5 and worker_module.MAX_RECEIVES is jobs_module.MAX_RECEIVES
    assert 1 <= MAX_ATTEMPTS < MAX_RECEIVES


def test_a_job_whose_worker_dies_on_every_delivery_sqs_makes_ends_failed(store, clock, short_document):
    # SQS delivers the message at most MAX_RECEIVES times (the queue's maxReceiveCount), then
    # moves it to the DLQ: the worker records the failure before that.
    job_id = submit(store, short_document)
    outcomes = deliver(store, clock, job_id, range(1, MAX_RECEIVES + 1))
    assert outcomes == ["crashed"] * MAX_ATTEMPTS + ["failed"] and len(outcomes) < MAX_RECEIVES
    job = store.get(job_id)
    assert job.status == FAILED and job.item["error"]["code"] == "worker_crashed"
    assert job.item["error"]["message"] == f"the worker stopped without finishing {MAX_ATTEMPTS} time(s)"
    assert "result" not in job.item


def test_throttled_deliveries_leave_the_worker_its_last_delivery_to_record_a_crash(store, clock, short_document):
    # Deliveries 1-2 were throttled (Lambda never ran), 3-4 crashed, 5 is the last SQS makes.
    job_id = submit(store, short_document)
    assert deliver(store, clock, job_id, range(3, MAX_RECEIVES + 1)) == ["crashed", "crashed", "failed"]
    error = store.get(job_id).item["error"]
    assert error == {"code": "worker_crashed", "message": "the worker stopped without finishing 2 time(s)"}


def test_a_job_that_never_crashed_still_runs_on_the_last_delivery(store, clock, short_document):
    # Deliveries 1-4 throttled: the 5th runs the job (if it dies too, the DLQ consumer fails it).
    job_id = submit(store, short_document)
    model = FakeTGI(chars_per_token=4.5)
    assert deliver(store, clock, job_id, [MAX_RECEIVES], lambda: model) == ["succeeded"]
    assert store.get(job_id).status == SUCCEEDED and model.calls > 0


def test_the_sqs_handler_drops_malformed_messages_instead_of_retrying_them_to_the_dlq(store, monkeypatch):
    monkeypatch.setattr(worker_module, "_worker", make_worker(store, FakeTGI()))
    event = {"Records": [dict(sqs_record(f"m{i}", "x"), body=raw)
                         for i, raw in enumerate(["not json", "[]", '{"job_id": 7}', '{"job_id": "abc"}'])]}
    assert worker_module.lambda_handler(event, lambda_context()) == {"batchItemFailures": []}


def test_on_the_last_delivery_a_job_that_crashed_before_is_failed_instead_of_run(store, clock, short_document):
    # E.g. a delivery bounced off a live lease (JobBusy) used up one receive.
    job_id = submit(store, short_document)
    with pytest.raises(Crash):
        make_worker(store, FakeTGI(fail_when=lambda p: Crash())).handle(job_id, 600, "w1", 1)
    clock.now += 700
    model = FakeTGI(chars_per_token=4.5)
    assert make_worker(store, model).handle(job_id, 600, "w4", MAX_RECEIVES) == "failed"
    assert model.calls == 0 and store.get(job_id).item["error"]["code"] == "worker_crashed"


def test_the_sqs_handler_passes_the_real_receive_count(store, clock, short_document, monkeypatch):
    job_id = submit(store, short_document)
    with pytest.raises(Crash):
        make_worker(store, FakeTGI(fail_when=lambda p: Crash())).handle(job_id, 600, "w1", 1)
    clock.now += 700
    monkeypatch.setattr(worker_module, "_worker", make_worker(store, FakeTGI(chars_per_token=4.5)))
    event = {"Records": [sqs_record("m1", job_id, receive_count=MAX_RECEIVES)]}
    assert worker_module.lambda_handler(event, lambda_context()) == {"batchItemFailures": []}
    assert store.get(job_id).item["error"]["code"] == "worker_crashed"


def test_a_chunk_that_keeps_failing_fails_the_job_naming_the_chunk_and_cause(store, short_document):
    poison = short_document.split(". ")[60]
    model = FakeTGI(chars_per_token=4.5,
                    fail_when=lambda p: ModelFailed("ModelError 424: CUDA error") if poison in p else None)
    job_id = submit(store, short_document)
    assert make_worker(store, model).handle(job_id, 600, "w1") == "failed"
    job = store.get(job_id)
    error = job.item["error"]
    assert job.status == FAILED and error["code"] == "chunk_failed" and error["stage"] == "map"
    assert f"map chunk {error['chunk']} failed after 4 attempt(s)" in error["message"]
    assert "CUDA error" in error["message"]
    assert store.load_result(job) is None


def test_given_the_invocation_runs_out_of_time_then_the_job_is_handed_back_and_finishes_next_time(
        store, short_document):
    job_id = submit(store, short_document)
    # One second left and no margin: five calls finish, then the model stalls past the end.
    slow = FakeTGI(chars_per_token=4.5, fail_when=lambda p: time.sleep(1.1) if slow.calls > 5 else None)
    assert make_worker(store, slow).handle(job_id, 1.0, "w1") == "continued"
    job = store.get(job_id)
    assert job.status == QUEUED and job.attempts == 0 and job.item["continuations"] == 1
    assert queued_job_ids(store) == [job_id]
    rest = FakeTGI(chars_per_token=4.5)
    assert make_worker(store, rest).handle(job_id, 600, "w2") == "succeeded"
    assert not set(rest.answered) & set(slow.answered)


def test_given_a_recalibration_then_a_hand_back_for_time_the_resumed_run_cuts_the_same_chunks_and_repeats_no_call(
        store, short_document):
    reference = submit(store, short_document)
    make_worker(store, FakeTGI(chars_per_token=4.5)).handle(reference, 600, "ref")

    job_id = submit(store, short_document)
    refused: list[str] = []

    def refuse_once_then_stall(prompt):
        # One 422 (say a copy of the model with a smaller limit took the call) stating 1.03 tokens per
        # base unit, under the estimate's 1.08: the run recalibrates but keeps a margin above the 2%
        # calibrated one, and its chunks stay as they were. Then, after six answers, the model
        # stalls past the invocation's end and the job is handed back.
        if slow.calls == 3 and not refused:
            refused.append(prompt)
            n = math.ceil(base_units(prompt) * 1.03)
            return ModelInputRejected(f"Input validation error: `inputs` must have less than {n - 1} tokens. "
                                      f"Given: {n}", input_tokens=n)
        if len(slow.answered) >= 6:
            time.sleep(1.1)
        return None

    slow = FakeTGI(chars_per_token=4.5, fail_when=refuse_once_then_stall)
    assert make_worker(store, slow).handle(job_id, 1.0, "w1") == "continued"
    job = store.get(job_id)
    assert refused and job.status == QUEUED and 1.0 < job.scale < 1.04
    rest = FakeTGI(chars_per_token=4.5)
    assert make_worker(store, rest).handle(job_id, 600, "w2") == "succeeded"

    # The resumed run planned the same prompts: every answer of the first run was a checkpoint hit.
    job = store.get(job_id)
    assert job.item["stats"]["checkpoint_hits"] == len(slow.answered) >= 6
    assert not set(rest.answered) & set(slow.answered)
    assert store.load_result(job) == store.load_result(store.get(reference))


def test_a_stale_worker_cannot_overwrite_the_result_of_the_worker_that_took_over(store, short_document):
    job_id = submit(store, short_document)
    store.claim(job_id, "stale", lease_s=-1)
    make_worker(store, FakeTGI(chars_per_token=4.5)).handle(job_id, 600, "fresh")
    assert store.succeed(job_id, "stale", "WRONG", {}) is False
    assert store.load_result(store.get(job_id)) != "WRONG"


def test_large_inputs_and_results_go_to_s3(store):
    big = "The reservoir reported water quality. " * (INLINE_LIMIT_BYTES // 30)
    job_id = submit(store, big)
    job = store.get(job_id)
    assert "input_text" not in job.item and job.item["input_key"] == f"jobs/{job_id}/input.txt"
    assert store.load_input(job, 10 * 1024 * 1024) == big
    store.claim(job_id, "w1", lease_s=60)
    assert store.succeed(job_id, "w1", big, {"chunks": 1})
    job = store.get(job_id)
    assert job.item["result_key"] == f"jobs/{job_id}/result.txt" and store.load_result(job) == big


def test_the_sqs_handler_reports_only_busy_jobs_as_batch_item_failures(store, short_document, monkeypatch):
    done, busy = submit(store, short_document), submit(store, short_document)
    store.claim(busy, "someone-else", lease_s=900)
    monkeypatch.setattr(worker_module, "_worker", make_worker(store, FakeTGI(chars_per_token=4.5)))
    event = {"Records": [sqs_record(f"m{i}", job_id) for i, job_id in enumerate([done, busy])]}
    response = worker_module.lambda_handler(event, lambda_context())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert store.get(done).status == SUCCEEDED

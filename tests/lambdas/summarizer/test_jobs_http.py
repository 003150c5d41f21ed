"""Summaries and async jobs over real HTTP: the local server (the front door's handler),
boto3 to the SageMaker emulator (0 ms latency), moto (own process) for the jobs table,
queue and bucket, and the local worker thread feeding summarizer.worker.lambda_handler
from the queue. The shared stack's sync budget is 15 s, so a 10-page document is a job.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from local.emulator.api import ACCOUNT
from summarizer_fakes import normalize

SENTENCE = "The harbour reopened after the storm, and the ferries ran on time again. "


@pytest.fixture
def worker(stack, emulator):
    """The local worker, idle before and after (no job of one test runs into the next)."""
    assert stack.worker is not None and stack.worker.wait_idle(30)
    yield stack.worker
    assert stack.worker.wait_idle(60), "a job was still running after the test"


def poll(api, job_id: str, timeout_s: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        reply = api.get(f"/v1/jobs/{job_id}")
        assert reply.status == 200, reply.body
        # moto's server applies an UpdateItem's SET clauses one by one while another thread may read
        # the item (DynamoDB applies them atomically): a FAILED status can be read before its error.
        half_written = reply.body["status"] == "FAILED" and reply.body["error"]["code"] == "unrecorded"
        if (reply.body["status"] in ("SUCCEEDED", "FAILED") and not half_written) or time.monotonic() > deadline:
            return reply.body
        time.sleep(0.1)


def mapped_text(emulator) -> str:
    return "\x00".join(normalize(str(c.get("body") or c.get("inputs") or "")) for c in emulator.calls()
                       if str(c.get("status", 200)) == "200")


def test_a_short_text_is_summarized_inline(api, worker, emulator):
    reply = api.post("/v1/summarize", {"text": SENTENCE * 4, "style": "bullets"})
    assert reply.status == 200, reply.body
    assert reply.body["stats"]["chunks"] == 1 and reply.body["stats"]["calls"] == 1
    assert reply.body["summary"] and reply.request_id
    assert len(emulator.calls()) == 1


def test_a_medium_document_is_a_job_that_succeeds_with_every_chunk(api, worker, emulator, short_document):
    reply = api.post("/v1/summarize", {"text": short_document, "max_words": 80})
    assert reply.status == 202, reply.body
    job_id = reply.body["job_id"]
    assert reply.headers["location"] == f"/v1/jobs/{job_id}" == reply.body["status_url"]
    job = poll(api, job_id)
    assert job["status"] == "SUCCEEDED", job
    stats = job["result"]["stats"]
    assert job["progress"]["chunks_done"] == job["progress"]["chunks_total"] == stats["chunks"] > 1
    assert job["result"]["summary"]
    bodies = mapped_text(emulator)
    for sentence in re.split(r"(?<=[.!?])\s+|\n\n", short_document):
        assert normalize(sentence) in bodies, sentence


def test_an_uploaded_text_is_summarized_by_its_key(api, worker, short_document):
    ticket = api.post("/v1/uploads", {})
    assert ticket.status == 200, ticket.body
    assert ticket.body["s3_key"].startswith("inputs/") and ticket.body["url"].startswith("http://127.0.0.1:")
    upload = requests.post(ticket.body["url"], data=ticket.body["fields"],
                           files={"file": ("doc.txt", short_document.encode())}, timeout=10)
    assert upload.status_code in (200, 204), upload.text
    reply = api.post("/v1/summarize", {"s3_key": ticket.body["s3_key"], "style": "bullets"})
    assert reply.status == 202, reply.body
    job = poll(api, reply.body["job_id"])
    assert job["status"] == "SUCCEEDED" and job["style"] == "bullets", job
    assert job["progress"]["chunks_done"] == job["progress"]["chunks_total"] > 1


def test_a_chunk_that_keeps_failing_fails_the_job_naming_the_chunk(api, worker, emulator, short_document):
    poison = short_document.split(". ")[40]
    emulator.inject("*", fail_if_contains=[{"text": poison, "status": 500, "message": "CUDA error: device-side assert"}])
    reply = api.post("/v1/summarize", {"text": short_document})
    assert reply.status == 202, reply.body
    job = poll(api, reply.body["job_id"])
    assert job["status"] == "FAILED" and "result" not in job, job
    error = job["error"]
    assert error["code"] == "chunk_failed" and error["stage"] == "map" and isinstance(error["chunk"], int)
    assert re.search(rf"map chunk {error['chunk']} failed after 4 attempt\(s\)", error["message"]), error


def test_a_job_whose_message_was_dead_lettered_ends_failed(api, worker, stack):
    # As after throttled deliveries: the job is QUEUED and its message sits in the DLQ.
    import boto3

    from local.moto_backend import JOBS_TABLE
    from summarizer.jobs import MAX_RECEIVES, JobStore, new_job_id

    assert stack.dead_letters is not None
    table = boto3.resource("dynamodb", endpoint_url=stack.moto.url, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local").Table(JOBS_TABLE)
    job_id = new_job_id()
    JobStore(table, None, "", None, "").create(job_id, model=None, style="paragraph", max_words=None, text=SENTENCE)
    stack.dead_letters.sqs.send_message(QueueUrl=stack.dead_letters.queue_url, MessageBody=json.dumps({"job_id": job_id}))
    job = poll(api, job_id, timeout_s=30)
    assert job["status"] == "FAILED" and "result" not in job, job
    assert job["error"] == {"code": "job_dead_lettered",
                            "message": f"the job could not be run after {MAX_RECEIVES} deliveries; submit it again"}


def test_an_unknown_job_is_404(api):
    reply = api.get("/v1/jobs/" + "0" * 32)
    assert reply.status == 404 and reply.body["error"] == "not_found"


def test_a_missing_endpoint_names_neither_the_endpoint_nor_the_account(api, worker):
    # "ghost" is configured but the emulator has no endpoint for it, like a deleted endpoint.
    reply = api.post("/v1/summarize", {"model": "ghost", "text": SENTENCE * 3})
    # Answered as the front door answers it on every route: 503 model_unavailable, naming the model.
    assert reply.status == 503 and reply.body["error"] == "model_unavailable", reply.body
    assert reply.body["message"] == "model ghost is not available right now"
    raw = str(reply.body)
    assert "ep-ghost" not in raw and ACCOUNT not in raw, reply.body


def test_a_job_for_a_missing_endpoint_fails_without_naming_it(api, worker, short_document):
    reply = api.post("/v1/summarize", {"model": "ghost", "text": short_document})
    assert reply.status == 202, reply.body
    job = poll(api, reply.body["job_id"])
    assert job["status"] == "FAILED" and job["error"]["code"] == "model_unavailable", job
    assert "ep-ghost" not in str(job) and ACCOUNT not in str(job)


# ------------------------------------------------------------------ a model scaled to zero copies (issue 11)
def refused_for_capacity(emulator) -> int:
    return sum(1 for c in emulator.calls() if c.get("inference_component") and c.get("status") == 400)


def test_a_job_for_a_model_at_zero_copies_waits_for_the_scale_out_and_succeeds(api, worker, emulator, short_document):
    # The model runs as an inference component on a shared endpoint; its copies are at
    # zero, and the first refused call starts the (emulated) scale-out.
    emulator.scale("ic-falcon-shared", 0, scale_out_after_s=1.0)
    reply = api.post("/v1/summarize", {"model": "falcon-shared", "text": short_document})
    assert reply.status == 202, reply.body
    job = poll(api, reply.body["job_id"])
    assert job["status"] == "SUCCEEDED", job
    assert job["model"] == "falcon-shared" and job["progress"]["chunks_done"] == job["progress"]["chunks_total"] > 1
    assert refused_for_capacity(emulator) >= 1
    bodies = mapped_text(emulator)
    for sentence in re.split(r"(?<=[.!?])\s+|\n\n", short_document):
        assert normalize(sentence) in bodies, sentence


def plain_document(sentences: int = 900) -> str:
    """Short words only, no digits or symbols but a period: the emulator counts fewer tokens than
    the estimator, so no chunk is refused as too long and the chunk plan never changes
    (a recalibration re-plans the chunks, and a re-planned chunk is a new prompt)."""
    import random

    words = ("ferry storm river bridge market garden signal forest report budget repair quay tide crane "
             "dock pier canal lock barge").split()  # <= 6 letters: one emulator token each
    rng = random.Random(11)
    return " ".join(" ".join(rng.choice(words) for _ in range(9)).capitalize() + "." for _ in range(sentences))


def test_a_job_whose_model_scales_to_zero_mid_job_resumes_from_its_checkpoints(api, worker, emulator):
    emulator.scale("ic-falcon-shared", 0, after_calls=3, scale_out_after_s=1.0)
    reply = api.post("/v1/summarize", {"model": "falcon-shared", "text": plain_document()})
    assert reply.status == 202, reply.body
    job = poll(api, reply.body["job_id"])
    assert job["status"] == "SUCCEEDED", job
    assert refused_for_capacity(emulator) >= 1
    stats = job["result"]["stats"]
    # The chunks answered before the scale-in were not asked again after it.
    assert stats["recalibrations"] == 0 and stats["checkpoint_hits"] >= 3, stats
    answered = [json.dumps(c["body"]) for c in emulator.calls() if c.get("status") == 200]
    assert len(answered) == len(set(answered)), "a chunk was summarized twice"

"""The routes mounted on the front door's resolver, with moto and a scripted model."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from frontdoor.routes import summarize as routes
from inference.catalog import Catalog
from inference.errors import ModelFailed
from summarizer.settings import Services, Settings
from summarizer_aws import MODELS_JSON, Clock, call, make_job_infra, queued_job_ids
from summarizer_fakes import FakeTGI


@pytest.fixture(scope="module")
def app():
    from frontdoor.api import app

    # The front door's api module mounts the router; mount it here only if it does not yet.
    if routes.router.api_resolver is not app:
        app.include_router(routes.router)
    return app


class FakeServices(Services):
    def __init__(self, store, model):
        super().__init__(Settings("jobs", store.queue_url, "jobs-bucket", 4), catalog=Catalog.from_json(MODELS_JSON),
                         store=store)
        self.model = model

    def generate_for(self, spec):
        return self.model


@pytest.fixture
def env(aws, monkeypatch):
    store = make_job_infra(Clock())
    services = FakeServices(store, FakeTGI(chars_per_token=4.5))
    monkeypatch.setattr(routes, "_services", lambda: services)
    # No model of MODELS_JSON sleeps: the front door's runtime has no waker.
    monkeypatch.setattr(routes, "runtime", lambda: SimpleNamespace(waker=None))
    return services


def test_a_short_text_is_summarized_inline_with_stats(app, env):
    status, body, _ = call(app, "POST", "/v1/summarize", {"text": "The harbour reopened after the storm. " * 20})
    assert status == 200, body
    assert body["model"] == "falcon-7b-instruct" and body["summary"].startswith("S[")
    assert body["stats"]["calls"] == 1 and body["stats"]["chunks"] == 1


def test_a_long_text_becomes_a_job_that_can_be_polled(app, env, long_document):
    status, body, headers = call(app, "POST", "/v1/summarize", {"text": long_document, "style": "bullets"})
    assert status == 202, body
    job_id = body["job_id"]
    assert headers["Location"] == f"/v1/jobs/{job_id}" and queued_job_ids(env.store) == [job_id]
    status, job, _ = call(app, "GET", f"/v1/jobs/{job_id}")
    assert status == 200 and job["status"] == "QUEUED" and job["progress"] == {"chunks_done": 0, "chunks_total": 0}
    assert env.model.calls == 0


def test_a_finished_job_shows_its_result_and_a_failed_one_its_error(app, env):
    ok, bad = "a" * 32, "b" * 32
    for job_id in (ok, bad):
        env.store.create(job_id, model="falcon-7b-instruct", style="paragraph", max_words=None, text="x")
        env.store.claim(job_id, "w", 60)
    env.store.succeed(ok, "w", "The summary.", {"chunks": 3, "calls": 5, "retries": 0, "resplits": 0,
                                                "recalibrations": 0, "checkpoint_hits": 0, "rounds": 2,
                                                "input_tokens": 10, "output_tokens": 5, "map_budget_tokens": 9,
                                                "elapsed_s": 1.5})
    env.store.fail(bad, {"code": "chunk_failed", "message": "map chunk 7 failed", "stage": "map", "chunk": 7}, "w")
    _, job, _ = call(app, "GET", f"/v1/jobs/{ok}")
    assert job["status"] == "SUCCEEDED" and job["result"]["summary"] == "The summary."
    assert job["result"]["stats"]["elapsed_s"] == 1.5
    _, job, _ = call(app, "GET", f"/v1/jobs/{bad}")
    assert job["status"] == "FAILED" and job["error"]["chunk"] == 7 and "result" not in job


def test_an_uploaded_s3_input_becomes_a_job(app, env):
    env.store.s3.put_object(Bucket="jobs-bucket", Key="inputs/report.txt", Body=b"The harbour reopened.")
    status, body, _ = call(app, "POST", "/v1/summarize", {"s3_key": "inputs/report.txt"})
    assert status == 202, body
    assert env.store.get(body["job_id"]).item["input_key"] == "inputs/report.txt"


@pytest.mark.parametrize(("request_body", "status", "code"), [
    ({"text": "x", "s3_key": "inputs/a.txt"}, 400, "validation_error"),
    ({}, 400, "validation_error"),
    ({"text": "x", "style": "haiku"}, 400, "validation_error"),
    ({"text": "x", "max_words": 3}, 400, "validation_error"),
    ({"s3_key": "jobs/other/result.txt"}, 400, "validation_error"),
    ({"s3_key": "inputs/missing.txt"}, 404, "not_found"),
    ({"text": "x", "model": "nope"}, 404, "not_found"),
    ({"text": "hello <|endoftext|> world"}, 422, "special_tokens_rejected"),  # valid, not for this family
    ("{not json", 400, "invalid_json"),
    ({"text": "x", "max_words": "50"}, 400, "validation_error"),  # strict, as every request
    ({"text": None, "s3_key": None}, 400, "validation_error"),  # exactly one, not null
])
def test_bad_requests_get_4xx_json_errors(app, env, request_body, status, code):
    got, body, _ = call(app, "POST", "/v1/summarize", request_body)
    assert (got, body["error"]) == (status, code), body


def test_an_inline_summary_whose_chunk_keeps_failing_is_a_502_naming_the_chunk(app, env):
    env.model.fail_when = lambda p: ModelFailed("ModelError 424: boom")
    status, body, _ = call(app, "POST", "/v1/summarize", {"text": "The harbour reopened after the storm. " * 5})
    assert status == 502 and body["error"] == "model_error"
    assert "single chunk 0 failed after 4 attempt(s)" in body["message"] and "boom" in body["message"]


@pytest.mark.parametrize("job_id", ["0" * 32, "not-a-job-id"])
def test_unknown_or_malformed_job_ids_are_4xx(app, env, job_id):
    status, body, _ = call(app, "GET", f"/v1/jobs/{job_id}")
    assert status in (400, 404) and "error" in body


ALICE = "arn:aws:iam::111122223333:user/alice"
BOB = "arn:aws:iam::111122223333:user/bob"


@pytest.mark.parametrize(("owner", "other"), [
    ({"user_arn": ALICE}, {"user_arn": BOB}),
    ({"sub": "3f6c-alice"}, {"sub": "9a1e-bob"}),
    ({"user_arn": ALICE}, {}),
])
def test_a_job_is_visible_only_to_the_caller_who_created_it(app, env, long_document, owner, other):
    status, body, _ = call(app, "POST", "/v1/summarize", {"text": long_document}, **owner)
    assert status == 202, body
    job_id = body["job_id"]
    assert call(app, "GET", f"/v1/jobs/{job_id}", **owner)[0] == 200
    status, body, _ = call(app, "GET", f"/v1/jobs/{job_id}", **other)
    # Exactly the answer for a job that does not exist: ids of others' jobs leak nothing.
    assert status == 404 and body["message"] == f"no job {job_id}; jobs expire after 7 days"


def test_a_job_created_without_an_identity_stays_readable(app, env, long_document):
    _, body, _ = call(app, "POST", "/v1/summarize", {"text": long_document})
    assert "caller" not in env.store.get(body["job_id"]).item
    assert call(app, "GET", f"/v1/jobs/{body['job_id']}", user_arn=BOB)[0] == 200


def _presigned_post(ticket: dict, data: bytes) -> int:
    import requests

    return requests.post(ticket["url"], data=ticket["fields"], files={"file": ("input.txt", data)}, timeout=10).status_code


def test_an_upload_ticket_is_a_presigned_post_capped_in_size_then_summarized_by_key(app, env):
    import base64

    status, ticket, _ = call(app, "POST", "/v1/uploads", {}, user_arn=ALICE)
    assert status == 200, ticket
    assert re.fullmatch(r"inputs/[0-9a-f-]{36}\.txt", ticket["s3_key"])
    assert ticket["method"] == "POST" and ticket["expires_in"] == 900 and ticket["max_bytes"] == 20 * 1024 * 1024
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    assert ["content-length-range", 1, 20 * 1024 * 1024] in policy["conditions"]
    assert {"key": ticket["s3_key"]} in policy["conditions"]
    assert {"x-amz-meta-caller": f"iam:{ALICE}"} in policy["conditions"]
    assert _presigned_post(ticket, b"The harbour reopened after the storm.") in (200, 204)
    # Only the uploader may summarize it.
    assert call(app, "POST", "/v1/summarize", {"s3_key": ticket["s3_key"]}, user_arn=BOB)[0] == 404
    status, body, _ = call(app, "POST", "/v1/summarize", {"s3_key": ticket["s3_key"]}, user_arn=ALICE)
    assert status == 202, body
    assert env.store.get(body["job_id"]).item["input_key"] == ticket["s3_key"]


def test_an_upload_of_a_declared_size_must_be_exactly_that_size(app, env):
    import base64

    status, ticket, _ = call(app, "POST", "/v1/uploads", {"content_length": 1234})
    assert status == 200 and ticket["max_bytes"] == 1234
    assert ["content-length-range", 1234, 1234] in json.loads(base64.b64decode(ticket["fields"]["policy"]))["conditions"]
    for bad in ({"content_length": 0}, {"content_length": 20 * 1024 * 1024 + 1}, {"size": 3}, "[]"):
        assert call(app, "POST", "/v1/uploads", bad)[0] == 400, bad

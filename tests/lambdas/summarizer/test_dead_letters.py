"""The jobs queue's dead-letter consumer on moto: a job whose message SQS gave up on ends
FAILED ``job_dead_lettered`` instead of QUEUED/RUNNING forever; nothing else is touched."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from frontdoor.routes import summarize as routes
from inference.catalog import Catalog
from summarizer import dead_letters
from summarizer.jobs import FAILED, MAX_RECEIVES, QUEUED, RUNNING, SUCCEEDED, new_job_id
from summarizer.settings import Services, Settings
from summarizer_aws import MODELS_JSON, make_job_infra

MESSAGE = f"the job could not be run after {MAX_RECEIVES} deliveries; submit it again"


@pytest.fixture
def store(aws, clock, monkeypatch):
    store = make_job_infra(clock)
    monkeypatch.setattr(dead_letters, "_store", store)
    return store


def submit(store) -> str:
    job_id = new_job_id()
    store.create(job_id, model=None, style="paragraph", max_words=None, text="The harbour reopened. " * 20)
    return job_id


def dlq_record(message_id: str, body: str) -> dict:
    return {"messageId": message_id, "receiptHandle": "r", "body": body,
            "attributes": {"ApproximateReceiveCount": "1",
                           "DeadLetterQueueSourceArn": "arn:aws:sqs:us-east-1:123456789012:jobs"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs-dlq"}


def dead_letter(*bodies: str) -> dict:
    """Run the handler on one batch; ``bodies`` become messages m0, m1, ..."""
    event = {"Records": [dlq_record(f"m{i}", body) for i, body in enumerate(bodies)]}
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 30_000, aws_request_id="req-1",
                              function_name="dead-letters", memory_limit_in_mb=256, invoked_function_arn="arn")
    return dead_letters.lambda_handler(event, context)


def body(job_id) -> str:
    return json.dumps({"job_id": job_id})


def get_job(store, job_id: str) -> tuple[int, dict]:
    """GET /v1/jobs/<id> through the front door's resolver, as a caller sees it."""
    from frontdoor.api import app

    if routes.router.api_resolver is not app:
        app.include_router(routes.router)
    services = Services(Settings("jobs", store.queue_url, "jobs-bucket", 4), catalog=Catalog.from_json(MODELS_JSON),
                        store=store)
    path = f"/v1/jobs/{job_id}"
    event = {
        "resource": path, "path": path, "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
        "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
        "stageVariables": None, "isBase64Encoded": False, "body": None,
        "requestContext": {"requestId": "req-1", "stage": "v1", "httpMethod": "GET", "path": path,
                           "resourcePath": path, "identity": {"sourceIp": "127.0.0.1"}},
    }
    original = routes._services
    routes._services = lambda: services
    try:
        response = app.resolve(event, SimpleNamespace(get_remaining_time_in_millis=lambda: 28_000,
                                                      aws_request_id="req-1"))
    finally:
        routes._services = original
    return response["statusCode"], json.loads(response["body"])


def test_a_dead_lettered_queued_job_ends_failed_and_its_caller_is_told_why(store, clock):
    job_id = submit(store)
    clock.now += 60
    assert dead_letter(body(job_id)) == {"batchItemFailures": []}
    job = store.get(job_id)
    assert job.status == FAILED and job.item["updated_at"] == int(clock.now)
    assert job.item["error"] == {"code": "job_dead_lettered", "message": MESSAGE}
    status, reply = get_job(store, job_id)
    assert status == 200 and reply["status"] == "FAILED", reply
    assert reply["error"] == {"code": "job_dead_lettered", "message": MESSAGE}
    assert "result" not in reply


def test_a_message_sqs_dead_letters_after_max_receives_fails_its_job(store):
    """Real redrive (moto): deliveries that never reach the worker (throttled) still count."""
    sqs = store.sqs
    dlq_url = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=store.queue_url, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})})
    job_id = submit(store)
    store.enqueue(job_id)
    for _ in range(MAX_RECEIVES):  # each one throttled: received, never deleted
        assert len(sqs.receive_message(QueueUrl=store.queue_url, VisibilityTimeout=0)["Messages"]) == 1
    assert "Messages" not in sqs.receive_message(QueueUrl=store.queue_url, VisibilityTimeout=0)
    assert store.get(job_id).status == QUEUED
    [message] = sqs.receive_message(QueueUrl=dlq_url, AttributeNames=["All"])["Messages"]
    assert dead_letter(message["Body"]) == {"batchItemFailures": []}
    assert store.get(job_id).item["error"]["code"] == "job_dead_lettered"


def test_a_running_job_whose_worker_died_is_failed_once_its_lease_is_over(store, clock):
    # E.g. the worker timed out on the message's last delivery.
    job_id = submit(store)
    store.claim(job_id, "w5", lease_s=930)
    # Still leased: the worker may finish, so the message comes back later.
    assert dead_letter(body(job_id)) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert store.get(job_id).status == RUNNING and store.get(job_id).item["owner"] == "w5"
    clock.now += 931
    assert dead_letter(body(job_id)) == {"batchItemFailures": []}
    job = store.get(job_id)
    assert job.status == FAILED and job.item["error"]["code"] == "job_dead_lettered"
    assert "lease_until" not in job.item
    # The dead worker's writes cannot bring it back.
    assert store.succeed(job_id, "w5", "late", {}) is False


def test_a_job_that_finished_is_left_alone(store):
    done, crashed = submit(store), submit(store)
    store.claim(done, "w1", lease_s=60)
    assert store.succeed(done, "w1", "the summary", {"chunks": 1})
    store.fail(crashed, {"code": "worker_crashed", "message": "the worker stopped without finishing 3 time(s)"})
    before = {job_id: store.get(job_id).item for job_id in (done, crashed)}
    assert dead_letter(body(done), body(crashed)) == {"batchItemFailures": []}
    assert {job_id: store.get(job_id).item for job_id in (done, crashed)} == before
    assert store.get(done).status == SUCCEEDED


@pytest.mark.parametrize("raw", [
    "not json", "", "[]", "null", '{"job_id": 7}', '{"job_id": "ABC"}', '{"nope": 1}',
    json.dumps({"job_id": "0" * 32 + "\n"}),
])
def test_an_unparseable_message_is_acknowledged(store, raw):
    assert dead_letter(raw) == {"batchItemFailures": []}


def test_a_message_for_a_job_that_does_not_exist_is_acknowledged_and_creates_nothing(store):
    missing = new_job_id()
    assert dead_letter(body(missing)) == {"batchItemFailures": []}
    assert store.get(missing) is None


class FlakyTable:
    """The jobs table, with UpdateItem throttled for one job."""

    def __init__(self, table, broken_job_id: str):
        self._table = table
        self._broken = broken_job_id

    def update_item(self, **kwargs):
        if kwargs["Key"]["job_id"] == self._broken:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                              "UpdateItem")
        return self._table.update_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_a_dynamodb_failure_returns_only_that_message_to_the_queue(store, monkeypatch):
    broken, fine = submit(store), submit(store)
    monkeypatch.setattr(store, "table", FlakyTable(store.table, broken))
    assert dead_letter(body(broken), body(fine), "garbage") == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert store.get(broken).status == QUEUED
    assert store.get(fine).item["error"]["code"] == "job_dead_lettered"


def test_the_handler_needs_only_the_jobs_table_name(aws, clock, monkeypatch):
    store = make_job_infra(clock)
    job_id = submit(store)
    for name in ("JOBS_QUEUE_URL", "JOBS_BUCKET_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOBS_TABLE_NAME", "jobs")
    monkeypatch.setattr(dead_letters, "_store", None)
    assert dead_letter(body(job_id)) == {"batchItemFailures": []}
    assert store.get(job_id).item["error"]["code"] == "job_dead_lettered"


def test_without_the_jobs_table_name_the_invocation_fails_so_every_message_comes_back(aws, monkeypatch):
    monkeypatch.delenv("JOBS_TABLE_NAME", raising=False)
    monkeypatch.setattr(dead_letters, "_store", None)
    with pytest.raises(RuntimeError, match="JOBS_TABLE_NAME must be set"):
        dead_letter(body(new_job_id()))

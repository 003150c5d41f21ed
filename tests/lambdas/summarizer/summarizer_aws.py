"""moto-backed job infrastructure for summarizer tests (in-process, no server), and the
API Gateway event the front door's summarization routes are called with."""

from __future__ import annotations

import json
from types import SimpleNamespace

import boto3

from summarizer.jobs import JobStore


class Clock:
    """Wall clock the tests can move forward to expire leases."""

    def __init__(self, now: float = 1_900_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_job_infra(clock: Clock) -> JobStore:
    ddb = boto3.resource("dynamodb", region_name="us-east-1")
    table = ddb.create_table(
        TableName="jobs", KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="jobs-bucket")
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    return JobStore(table, s3, "jobs-bucket", sqs, url, clock=clock)


def queued_job_ids(store: JobStore) -> list[str]:
    import json

    messages = store.sqs.receive_message(QueueUrl=store.queue_url, MaxNumberOfMessages=10).get("Messages", [])
    for m in messages:
        store.sqs.delete_message(QueueUrl=store.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return [json.loads(m["Body"])["job_id"] for m in messages]


MODELS_JSON = (
    '[{"name": "falcon-7b-instruct", "model_id": "huggingface-llm-falcon-7b-instruct-bf16", '
    '"endpoint_name": "falcon-ep", "family": "falcon", "kind": "text", "max_input_length": 1024, '
    '"max_total_tokens": 2048, "instance_type": "ml.g5.2xlarge", "instance_count": 1, "default": true}]'
)


def call(app, method: str, path: str, body=None, *, user_arn: str | None = None, sub: str | None = None):
    """``user_arn``: an IAM (SigV4) caller; ``sub``: a Cognito user, as API Gateway passes them."""
    identity = {"sourceIp": "127.0.0.1", **({"userArn": user_arn} if user_arn else {})}
    request_context = {"requestId": "req-1", "stage": "v1", "httpMethod": method, "path": path,
                       "resourcePath": path, "identity": identity}
    if sub:
        request_context["authorizer"] = {"claims": {"sub": sub, "email": "someone@example.com"}}
    event = {
        "resource": path, "path": path, "httpMethod": method, "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "isBase64Encoded": False,
        "requestContext": request_context,
        "body": None if body is None else (body if isinstance(body, str) else json.dumps(body)),
    }
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 28_000, aws_request_id="req-1")
    response = app.resolve(event, context)
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return response["statusCode"], json.loads(response["body"]), headers

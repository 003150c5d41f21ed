"""moto-backed job infrastructure for summarizer tests (in-process, no server)."""

from __future__ import annotations

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

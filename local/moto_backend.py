"""The AWS services behind the local stack: a moto server in its own process, and the
feedback table and the summarization jobs' table, queues and bucket in it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from typing import Any

from local.workers import WORKER_TIMEOUT_S

FEEDBACK_TABLE = "frontdoor-local-feedback"
JOBS_TABLE = JOBS_QUEUE = JOBS_BUCKET = "summarizer-local-jobs"
JOBS_DLQ = f"{JOBS_QUEUE}-dlq"
TENANT_KEYS_TABLE, TENANT_USAGE_TABLE = "tenants-local-keys", "tenants-local-usage"


class MotoProcess:
    """``python -m moto.server`` in its own process on a free loopback port.

    Not ``ThreadedMotoServer``: that shares moto's in-process backends, which any
    ``mock_aws()`` in the same process (the summarizer's unit tests) resets.
    """

    def __init__(self, host: str = "127.0.0.1", timeout_s: float = 30.0) -> None:
        with socket.socket() as probe:
            probe.bind((host, 0))
            self.host, self.port = probe.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server did not start on {self.url}") from None
                time.sleep(0.05)

    def get_host_and_port(self) -> tuple[str, int]:
        return self.host, self.port

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_moto() -> tuple[Any, str] | None:
    import importlib.util

    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("moto.server") is None:
        return None
    process = MotoProcess()
    return process, process.url


def create_feedback_table(endpoint_url: str) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint_url)
    client.create_table(
        TableName=FEEDBACK_TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )


def create_jobs_infra(endpoint_url: str) -> dict[str, str]:
    """The jobs table, bucket and queue (+ DLQ) as the Api stack makes them; returns their env."""
    import boto3

    from summarizer.worker import MAX_RECEIVES

    boto3.client("dynamodb", endpoint_url=endpoint_url).create_table(
        TableName=JOBS_TABLE, AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("s3", endpoint_url=endpoint_url).create_bucket(Bucket=JOBS_BUCKET)
    sqs = boto3.client("sqs", endpoint_url=endpoint_url)
    dlq_url = sqs.create_queue(QueueName=JOBS_DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=JOBS_QUEUE, Attributes={
        "VisibilityTimeout": str(int(WORKER_TIMEOUT_S) * 6),  # Lambda: >= 6x the function timeout
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}),
    })["QueueUrl"]
    return {"JOBS_TABLE_NAME": JOBS_TABLE, "JOBS_QUEUE_URL": queue_url, "JOBS_BUCKET_NAME": JOBS_BUCKET,
            "AWS_ENDPOINT_URL_SQS": endpoint_url, "AWS_ENDPOINT_URL_S3": endpoint_url}


def create_tenant_infra(endpoint_url: str, tiers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The tenant keys' resources as the Api stack makes them (stacks/constructs/tenants.py): the
    keys table (by key hash), the usage table (pk/sk) and one usage plan per tier (throttle and
    quota as configured; moto keeps them, nothing enforces them locally). Returns
    {"keys_table", "usage_table", "usage_plans": {tier: plan id}}."""
    import boto3

    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url)
    dynamodb.create_table(
        TableName=TENANT_KEYS_TABLE, AttributeDefinitions=[{"AttributeName": "key_hash", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key_hash", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName=TENANT_USAGE_TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    apigateway = boto3.client("apigateway", endpoint_url=endpoint_url)
    plans = {}
    for name, tier in tiers.items():
        kwargs: dict[str, Any] = {"throttle": {"rateLimit": float(tier["rate_limit"]),
                                               "burstLimit": int(tier["burst_limit"])}}
        if tier.get("quota"):
            kwargs["quota"] = {"limit": tier["quota"]["limit"], "period": tier["quota"]["period"]}
        plans[name] = apigateway.create_usage_plan(name=name, **kwargs)["id"]
    return {"keys_table": TENANT_KEYS_TABLE, "usage_table": TENANT_USAGE_TABLE, "usage_plans": plans}

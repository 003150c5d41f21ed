"""Async summarization jobs: DynamoDB job record, S3 for big payloads, SQS queue.

Job item (partition key ``job_id``): status QUEUED -> RUNNING -> SUCCEEDED |
FAILED, progress ``chunks_done``/``chunks_total``, ``result`` or ``result_key``,
``error``, TTL ``expires_at``. A RUNNING job carries a lease (``owner``,
``lease_until``): a redelivered message for a job whose lease is live backs
off; one whose lease expired (the worker crashed) takes over and resumes from
the checkpoints.

Checkpoints are items in the same table under ``<job_id>#ckpt#<hash>`` so the
single-key table needs no second index, and TTL cleans them with the job.
Public job ids are 32 hex characters, so no request can address them.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from botocore.exceptions import ClientError

from summarizer.limits import JOB_ID_PATTERN

INLINE_LIMIT_BYTES = 256 * 1024
JOB_ID_RE = re.compile(JOB_ID_PATTERN)
QUEUED, RUNNING, SUCCEEDED, FAILED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED"
TERMINAL = (SUCCEEDED, FAILED)
# Deliveries SQS makes of one job message before it moves the message to the
# dead-letter queue: the jobs queue's maxReceiveCount (stacks/constructs/summarizer.py
# JOB_MAX_RECEIVES; tests/stacks pins the two). AWS recommends at least 5 for a
# queue that feeds a Lambda event source, so a few throttled deliveries do not
# dead-letter a job. summarizer.worker spends them; summarizer.dead_letters
# fails the jobs whose message got through anyway.
MAX_RECEIVES = 5
# SQS's limit for a message's DelaySeconds.
MAX_DELAY_S = 900


def new_job_id() -> str:
    return uuid.uuid4().hex


def parse_job_message(body: str | None) -> str | None:
    """The job id in a queue message (``{"job_id": "<32 hex>"}``, as ``JobStore.enqueue``
    sends it), or None for anything else."""
    try:
        message = json.loads(body or "")
    except (TypeError, ValueError):
        return None
    job_id = message.get("job_id") if isinstance(message, dict) else None
    return job_id if isinstance(job_id, str) and JOB_ID_RE.fullmatch(job_id) else None


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _plain(value: Any) -> Any:
    """DynamoDB returns Decimals; the API speaks JSON numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dynamo(value: Any) -> Any:
    return json.loads(json.dumps(value), parse_float=Decimal)


@dataclass
class Job:
    job_id: str
    status: str
    model: str | None
    style: str
    max_words: int | None
    attempts: int
    chunks_done: int
    chunks_total: int
    item: dict

    @classmethod
    def from_item(cls, item: dict) -> Job:
        item = _plain(item)
        return cls(
            job_id=item["job_id"],
            status=item["status"],
            model=item.get("model"),
            style=item.get("style", "paragraph"),
            max_words=item.get("max_words"),
            attempts=item.get("attempts", 0),
            chunks_done=item.get("chunks_done", 0),
            chunks_total=item.get("chunks_total", 0),
            item=item,
        )

    @property
    def scale(self) -> float | None:
        return self.item.get("token_scale")

    @property
    def margin(self) -> float | None:
        """The token estimator's margin saved with ``scale`` (None on items written before it was)."""
        return self.item.get("token_margin")


class DynamoCheckpoints:
    """``summarizer.run_config.Checkpoints`` on the job table; first writer wins."""

    def __init__(self, table, job_id: str, expires_at: int):
        self._table = table
        self._prefix = f"{job_id}#ckpt#"
        self._expires_at = expires_at

    def get(self, key: str) -> str | None:
        item = self._table.get_item(Key={"job_id": self._prefix + key}, ConsistentRead=True).get("Item")
        return item["summary"] if item else None

    def put(self, key: str, summary: str) -> None:
        try:
            self._table.put_item(
                Item={"job_id": self._prefix + key, "summary": summary, "expires_at": self._expires_at},
                ConditionExpression="attribute_not_exists(job_id)",
            )
        except ClientError as exc:
            # A duplicate worker got there first with the same prompt's output.
            if not _conditional_failed(exc):
                raise


class JobStore:
    """Job records, payload offload and the work queue.

    Args:
        table: a boto3 DynamoDB ``Table`` resource (JOBS_TABLE_NAME).
        s3: a boto3 S3 client; bucket: JOBS_BUCKET_NAME.
        sqs: a boto3 SQS client; queue_url: JOBS_QUEUE_URL.
        ttl_days: how long job records and checkpoints live.
        clock: seconds since the epoch (injectable for lease tests).
    """

    def __init__(self, table, s3, bucket: str, sqs, queue_url: str, *, ttl_days: int = 7,
                 clock: Callable[[], float] = time.time):
        self.table = table
        self.s3 = s3
        self.bucket = bucket
        self.sqs = sqs
        self.queue_url = queue_url
        self.ttl_s = ttl_days * 86400
        self.clock = clock

    # -- payloads ----------------------------------------------------------
    def _put_text(self, key: str, text: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=text.encode(), ContentType="text/plain; charset=utf-8")

    def read_text(self, key: str, max_bytes: int) -> str:
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        if head["ContentLength"] > max_bytes:
            raise ValueError(f"object {key} is {head['ContentLength']} bytes; the limit is {max_bytes}")
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode("utf-8")

    def load_input(self, job: Job, max_bytes: int) -> str:
        if "input_text" in job.item:
            return job.item["input_text"]
        return self.read_text(job.item["input_key"], max_bytes)

    def load_result(self, job: Job) -> str | None:
        if "result" in job.item:
            return job.item["result"]
        if "result_key" in job.item:
            return self.s3.get_object(Bucket=self.bucket, Key=job.item["result_key"])["Body"].read().decode("utf-8")
        return None

    # -- lifecycle ---------------------------------------------------------
    def create(self, job_id: str, *, model: str | None, style: str, max_words: int | None,
               text: str | None = None, input_key: str | None = None, caller: str | None = None) -> Job:
        """``caller`` is the requester's identity; only they may read the job (None: anyone)."""
        now = int(self.clock())
        item: dict[str, Any] = {
            "job_id": job_id, "status": QUEUED, "style": style, "created_at": now, "updated_at": now,
            "expires_at": now + self.ttl_s, "attempts": 0, "chunks_done": 0, "chunks_total": 0,
        }
        if model:
            item["model"] = model
        if max_words:
            item["max_words"] = max_words
        if caller:
            item["caller"] = caller
        if text is not None and len(text.encode()) <= INLINE_LIMIT_BYTES:
            item["input_text"] = text
        elif text is not None:
            item["input_key"] = f"jobs/{job_id}/input.txt"
            self._put_text(item["input_key"], text)
        else:
            item["input_key"] = input_key
        self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(job_id)")
        return Job.from_item(item)

    def enqueue(self, job_id: str, delay_s: int = 0) -> None:
        """Queue the job's message; ``delay_s`` (0..``MAX_DELAY_S``) hides it that long."""
        if not 0 <= delay_s <= MAX_DELAY_S:
            raise ValueError(f"delay_s must be within 0..{MAX_DELAY_S}, got {delay_s}")
        extra = {"DelaySeconds": int(delay_s)} if delay_s else {}
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"job_id": job_id}), **extra)

    def get(self, job_id: str) -> Job | None:
        item = self.table.get_item(Key={"job_id": job_id}, ConsistentRead=True).get("Item")
        return Job.from_item(item) if item else None

    def claim(self, job_id: str, owner: str, lease_s: float) -> Job | None:
        """Take the job if it is QUEUED, or RUNNING under an expired lease."""
        now = self.clock()
        try:
            item = self.table.update_item(
                Key={"job_id": job_id},
                # updated_at is whole seconds like everywhere else (GET /v1/jobs returns it as an int).
                UpdateExpression="SET #s = :running, #o = :owner, lease_until = :until, updated_at = :now_s "
                                 "ADD attempts :one",
                ConditionExpression="attribute_exists(job_id) AND (#s = :queued OR (#s = :running AND lease_until < :now))",
                ExpressionAttributeNames={"#s": "status", "#o": "owner"},
                ExpressionAttributeValues={
                    ":running": RUNNING, ":queued": QUEUED, ":owner": owner, ":one": 1,
                    ":until": _dynamo(now + lease_s), ":now": _dynamo(now), ":now_s": int(now),
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return Job.from_item(item)

    def _owned_update(self, job_id: str, owner: str, set_expr: str, values: dict,
                      names: dict | None = None, tail: str = "") -> bool:
        try:
            self.table.update_item(
                Key={"job_id": job_id},
                UpdateExpression=f"SET {set_expr}, updated_at = :now {tail}".strip(),
                ConditionExpression="#s = :running AND #o = :owner",
                ExpressionAttributeNames={"#s": "status", "#o": "owner", **(names or {})},
                ExpressionAttributeValues={":running": RUNNING, ":owner": owner, ":now": int(self.clock()), **values},
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False  # we lost the lease; the new owner's writes win
            raise

    # token_scale and token_margin are the token estimator's state (TokenEstimator.state), saved
    # together so the run that resumes the job cuts the text into the same chunks (same checkpoints).
    def progress(self, job_id: str, owner: str, done: int, total: int, token_scale: float,
                 token_margin: float) -> bool:
        return self._owned_update(
            job_id, owner, "chunks_done = :d, chunks_total = :t, token_scale = :k, token_margin = :m",
            {":d": done, ":t": total, ":k": _dynamo(token_scale), ":m": _dynamo(token_margin)},
        )

    def release(self, job_id: str, owner: str, token_scale: float, token_margin: float) -> bool:
        """Hand the job back (out of time, not crashed): the next claim resumes it.

        A graceful hand-back is not a crash, so it gives its attempt back.
        """
        return self._owned_update(
            job_id, owner,
            "#s = :queued, token_scale = :k, token_margin = :m, "
            "continuations = if_not_exists(continuations, :zero) + :one",
            {":queued": QUEUED, ":k": _dynamo(token_scale), ":m": _dynamo(token_margin), ":zero": 0, ":one": 1,
             ":minus": -1},
            tail="REMOVE lease_until ADD attempts :minus",
        )

    def wait_for_capacity(self, job_id: str, owner: str, token_scale: float, token_margin: float,
                          wait_s: int) -> bool:
        """Hand the job back to wait ``wait_s`` for its model to scale out from zero copies.

        Neither a crash nor a continuation (the job did not run out of time): the attempt
        is given back and ``continuations`` is left alone; ``capacity_wait_s`` adds up
        the waits, so the worker can bound them.
        """
        return self._owned_update(
            job_id, owner,
            "#s = :queued, token_scale = :k, token_margin = :m, "
            "capacity_wait_s = if_not_exists(capacity_wait_s, :zero) + :wait",
            {":queued": QUEUED, ":k": _dynamo(token_scale), ":m": _dynamo(token_margin), ":zero": 0,
             ":wait": int(wait_s), ":minus": -1},
            tail="REMOVE lease_until ADD attempts :minus",
        )

    def succeed(self, job_id: str, owner: str, summary: str, stats: dict) -> bool:
        values: dict[str, Any] = {":done": SUCCEEDED, ":stats": _dynamo(stats)}
        if len(summary.encode()) > INLINE_LIMIT_BYTES:
            key = f"jobs/{job_id}/result.txt"
            self._put_text(key, summary)
            values[":key"] = key
            return self._owned_update(job_id, owner, "#s = :done, result_key = :key, stats = :stats, "
                                      "chunks_done = chunks_total", values, tail="REMOVE lease_until")
        values[":r"] = summary
        return self._owned_update(job_id, owner, "#s = :done, #r = :r, stats = :stats, chunks_done = chunks_total",
                                  values, {"#r": "result"}, tail="REMOVE lease_until")

    def fail(self, job_id: str, error: dict, owner: str | None = None) -> bool:
        """Mark FAILED. Without ``owner`` (giving up on a crashed job) any non-terminal state qualifies."""
        if owner is not None:
            return self._owned_update(job_id, owner, "#s = :failed, #e = :e",
                                      {":failed": FAILED, ":e": _dynamo(error)}, {"#e": "error"}, tail="REMOVE lease_until")
        try:
            self.table.update_item(
                Key={"job_id": job_id},
                UpdateExpression="SET #s = :failed, #e = :e, updated_at = :now REMOVE lease_until",
                ConditionExpression="attribute_exists(job_id) AND NOT #s IN (:ok, :failed)",
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues={":failed": FAILED, ":ok": SUCCEEDED, ":e": _dynamo(error),
                                           ":now": int(self.clock())},
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def fail_if_unfinished(self, job_id: str, error: dict) -> str:
        """Mark FAILED a job that no live worker holds: QUEUED, or RUNNING under an expired lease.

        For a job whose queue message is gone (dead-lettered), so nothing would
        ever run or fail it. Returns what happened: ``"failed"``; ``"missing"``
        (no such job); ``"finished"`` (already SUCCEEDED or FAILED: left alone);
        ``"leased"`` (a worker holds a live lease and may still finish the job,
        or the job changed meanwhile: ask again later).
        """
        now = self.clock()
        try:
            self.table.update_item(
                Key={"job_id": job_id},
                UpdateExpression="SET #s = :failed, #e = :e, updated_at = :now_s REMOVE lease_until",
                ConditionExpression="attribute_exists(job_id) AND (#s = :queued OR (#s = :running AND "
                                    "(attribute_not_exists(lease_until) OR lease_until < :now)))",
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues={":failed": FAILED, ":queued": QUEUED, ":running": RUNNING,
                                           ":e": _dynamo(error), ":now": _dynamo(now), ":now_s": int(now)},
            )
            return "failed"
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        job = self.get(job_id)
        if job is None:
            return "missing"
        return "finished" if job.status in TERMINAL else "leased"

    def checkpoints(self, job: Job) -> DynamoCheckpoints:
        return DynamoCheckpoints(self.table, job.job_id, int(job.item.get("expires_at", self.clock() + self.ttl_s)))

"""Async summarization jobs: the queue, its dead-letter queue, the job table and
bucket, the worker and the dead-letter handler."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.compliance.nag import acknowledge, finding_id
from stacks.config import ObjectLockConfig
from stacks.constructs.python_function import FunctionNetwork, PythonFunction
from stacks.constructs.roles import ManagedPolicyRole
from stacks.constructs.secure_bucket import SecureBucket
from stacks.constructs.tables import retained_table

# A worker run near its timeout hands the job back by re-enqueueing it, so runs can be
# short; short runs keep the visibility timeout (6x this) and a crashed job's retry near.
WORKER_TIMEOUT = Duration.minutes(5)
# Lambda, "Using Lambda with Amazon SQS": a visibility timeout of at least six times the
# function timeout, and a maxReceiveCount of at least 5 so that throttled or retried
# deliveries do not send a message to the dead-letter queue early.
VISIBILITY_PER_TIMEOUT = 6
# Deliveries of one job message before it moves to the dead-letter queue; the worker's
# last receive marks a crashed job FAILED (summarizer.worker.MAX_RECEIVES, a test pins it).
JOB_MAX_RECEIVES = 5
DEAD_LETTER_TIMEOUT = Duration.minutes(1)
# Why the jobs bucket, with config `object_lock`, gets Object Lock but no default retention:
# S3 refuses an upload with a retention period that carries neither Content-MD5 nor a
# checksum header (S3 API Reference, PutObject), and a POST upload may carry only the form
# fields its policy lists (S3 API Reference, "POST Policy"); the front door's presigned
# POST (/v1/uploads) lists neither, so every client upload would be refused.
NO_DEFAULT_RETENTION = (
    "API clients upload job inputs with presigned S3 POST forms whose policy admits no Content-MD5 "
    "or checksum field, and S3 refuses an upload under a retention period without one"
)


class SummarizeJobs(Construct):
    """Async summarization: SQS (with DLQ) -> worker Lambda; a DynamoDB job table
    with TTL and PITR; an encrypted bucket for inputs/results over 256 KB.

    Args:
        environment: what the worker shares with the front door (models, limits).
        max_concurrency: the worker's SQS event-source MaximumConcurrency.
        why_no_dlq, why_no_vpc: the worker's reasons (see `PythonFunction`).
        object_lock: the config's `object_lock`, for the jobs bucket (see `SecureBucket`).
        network: where the worker and the dead-letter handler attach (config
            `network.functions_in_vpc`); None runs them outside a VPC.

    Attributes: table, bucket, queue, dlq, worker, dead_letters, environment (the
    job variables the front door needs too).
    """

    def __init__(self, scope: Construct, id_: str, *, key: kms.IKey, access_logs: s3.IBucket,
                 log_retention: logs.RetentionDays, max_concurrency: int, environment: dict[str, str],
                 why_no_dlq: str, why_no_vpc: str, object_lock: ObjectLockConfig | None = None,
                 network: FunctionNetwork | None = None) -> None:
        super().__init__(scope, id_)
        self.key = key
        self.network = network
        self.table = retained_table(self, "Table", key, "job_id", ttl="expires_at")
        self.bucket = SecureBucket(
            self, "Bucket", key=key, access_logs=access_logs, log_prefix="jobs-bucket/",
            expire_after_days=7, object_lock=object_lock, why_no_default_retention=NO_DEFAULT_RETENTION,
        ).bucket
        self.dlq = self._build_dead_letter_queue(key)
        self.queue = self._build_queue(key)
        env = {
            "JOBS_TABLE_NAME": self.table.table_name,
            "JOBS_QUEUE_URL": self.queue.queue_url,
            "JOBS_BUCKET_NAME": self.bucket.bucket_name,
            **environment,
        }
        self.worker = self._build_worker(key, log_retention, env, max_concurrency, why_no_dlq, why_no_vpc)
        self.dead_letters = self._build_dead_letter_handler(key, log_retention, env, why_no_vpc)
        self._grant_jobs(self.worker.role)
        # A worker near its timeout hands the job back by re-enqueueing it.
        self._grant_enqueue(self.worker.role)
        self.environment = env

    def _build_dead_letter_queue(self, key: kms.IKey) -> sqs.Queue:
        """`DeadLetters`: where a job message goes after `JOB_MAX_RECEIVES` deliveries."""
        dlq = sqs.Queue(
            self, "DeadLetters", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
            enforce_ssl=True, retention_period=Duration.days(14),
            # Declared as a dead-letter queue (SQS's default, made explicit): a DLQ needs no DLQ
            # of its own (AWS Control Tower CT.SQS.PR.1 exempts queues declared so).
            redrive_allow_policy=sqs.RedriveAllowPolicy(redrive_permission=sqs.RedrivePermission.ALLOW_ALL),
            # Its consumer is the dead-letter handler: the same 6x rule applies.
            visibility_timeout=Duration.seconds(DEAD_LETTER_TIMEOUT.to_seconds() * VISIBILITY_PER_TIMEOUT),
        )
        acknowledge(
            dlq,
            "This is the dead-letter queue of the jobs queue; a DLQ of a DLQ would only move the problem.",
            "AwsSolutions-SQS3",
            "Serverless-SQSRedrivePolicy",
        )
        return dlq

    def _build_queue(self, key: kms.IKey) -> sqs.Queue:
        """`Queue`: the job messages the worker consumes, dead-lettered to `self.dlq`."""
        return sqs.Queue(
            self, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
            enforce_ssl=True,
            # Duplicate deliveries are harmless: the worker leases the job record and
            # checkpoints every model call.
            visibility_timeout=Duration.seconds(WORKER_TIMEOUT.to_seconds() * VISIBILITY_PER_TIMEOUT),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=JOB_MAX_RECEIVES),
        )

    def _build_worker(self, key: kms.IKey, log_retention: logs.RetentionDays, env: dict[str, str],
                      max_concurrency: int, why_no_dlq: str, why_no_vpc: str) -> PythonFunction:
        """`Worker`: runs one job per message of `self.queue`, at most `max_concurrency` at once."""
        worker = PythonFunction(
            self, "Worker", handler="summarizer.worker.lambda_handler",
            description="Runs queued summarization jobs", timeout=WORKER_TIMEOUT,
            # No reservation: the SQS poller does not respect reserved concurrency (throttled
            # deliveries still count as receives and end in the DLQ); MaximumConcurrency on
            # the event source is the documented bound ("Configuring scaling behavior for SQS
            # event source mappings").
            reserved_concurrency=None, environment=env,
            key=key, log_retention=log_retention, memory_mb=1024,
            why_no_dlq=why_no_dlq, why_no_vpc=why_no_vpc, network=self.network,
        )
        worker.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=1, report_batch_item_failures=True, max_concurrency=max_concurrency,
        ))
        acknowledge(
            worker.function,
            "SQS event source mappings take no on-failure destination; failed jobs go to the "
            "queue's dead-letter queue after 5 receives, where the dead-letter handler marks them FAILED.",
            "Serverless-LambdaEventSourceMappingDestination",
        )
        return worker

    def _build_dead_letter_handler(self, key: kms.IKey, log_retention: logs.RetentionDays,
                                   env: dict[str, str], why_no_vpc: str) -> PythonFunction:
        """A job whose message reached the DLQ (throttled, timed out or crashed 5 times)
        would otherwise stay QUEUED or RUNNING forever: this marks it FAILED so its caller
        learns it (GET /v1/jobs/{id} shows job_dead_lettered)."""
        handler = PythonFunction(
            self, "DeadLetterHandler", handler="summarizer.dead_letters.lambda_handler",
            description="Marks summarization jobs whose messages were dead-lettered as FAILED",
            timeout=DEAD_LETTER_TIMEOUT, reserved_concurrency=None, environment=env,
            key=key, log_retention=log_retention, memory_mb=256,
            why_no_dlq=(
                "Fed by an SQS event source on the jobs dead-letter queue: a message it cannot "
                "process stays in that queue (14 days) and is retried, so a further DLQ would "
                "never receive anything."
            ),
            why_no_vpc=why_no_vpc, network=self.network,
        )
        handler.function.add_event_source(sources.SqsEventSource(
            self.dlq, batch_size=10, report_batch_item_failures=True, max_concurrency=2,
        ))
        acknowledge(
            handler.function,
            "SQS event source mappings take no on-failure destination; a dead letter this "
            "handler fails on stays in the dead-letter queue and is retried.",
            "Serverless-LambdaEventSourceMappingDestination",
        )
        handler.role.add_to_policy(iam.PolicyStatement(
            sid="FailDeadLetteredJobs", actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
            resources=[self.table.table_arn],
        ))
        handler.role.add_to_policy(iam.PolicyStatement(
            sid="JobTable", actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
        ))
        return handler

    def _grant_jobs(self, role: ManagedPolicyRole) -> None:
        role.add_to_policy(iam.PolicyStatement(
            sid="JobItems", actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            resources=[self.table.table_arn],
        ))
        objects = self.bucket.arn_for_objects("*")
        role.add_to_policy(iam.PolicyStatement(
            sid="JobObjects", actions=["s3:GetObject", "s3:PutObject"], resources=[objects],
        ))
        role.add_to_policy(iam.PolicyStatement(
            sid="JobData", actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[self.key.key_arn],
        ))
        acknowledge(
            role.policy,
            "Job inputs and results are objects keyed by job id (jobs/<id>/...) or by the caller's "
            "upload key, unknown at deploy time; access is limited to this one jobs bucket.",
            finding_id(self, "AwsSolutions-IAM5", objects),
        )

    def grant_submit(self, role: ManagedPolicyRole) -> None:
        """What the front door needs: create/read jobs, stage inputs, read results, enqueue."""
        self._grant_jobs(role)
        self._grant_enqueue(role)

    def _grant_enqueue(self, role: ManagedPolicyRole) -> None:
        role.add_to_policy(iam.PolicyStatement(
            sid="EnqueueJobs", actions=["sqs:SendMessage"], resources=[self.queue.queue_arn],
        ))

"""Dead-letter consumer for the jobs queue (handler ``summarizer.dead_letters.lambda_handler``).

A job message lands in the dead-letter queue when SQS delivered it
``MAX_RECEIVES`` times without the worker deleting it: deliveries throttled
before they reached the worker, or a worker killed at its timeout on the last
delivery. Its job would then stay QUEUED or RUNNING forever, so this fails it
with ``job_dead_lettered`` and a message telling the caller to submit it again
(``GET /v1/jobs/{id}`` shows it as ``error: {code, message}``).

Only a job no live worker holds is failed (QUEUED, or RUNNING under an expired
lease); a SUCCEEDED or FAILED job is left alone. A message whose job still has
a live lease, or whose update failed (DynamoDB), is reported as a batch item
failure and comes back after the dead-letter queue's visibility timeout. An
unparseable message or one for a job that no longer exists is logged and
acknowledged. Fed by an SQS event source on the dead-letter queue (batch size
up to 10, ReportBatchItemFailures); needs only JOBS_TABLE_NAME and
dynamodb:GetItem/UpdateItem on the jobs table (with its KMS key).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from inference.observability import logger, traced
from summarizer.jobs import MAX_RECEIVES, JobStore, parse_job_message

DEAD_LETTERED = "job_dead_lettered"


class JobLeased(Exception):
    """A live worker holds the job (or it changed meanwhile); look again after the visibility timeout."""


def dead_letter_error() -> dict:
    return {"code": DEAD_LETTERED,
            "message": f"the job could not be run after {MAX_RECEIVES} deliveries; submit it again"}


def handle(store: JobStore, job_id: str) -> str:
    """Fail the job of one dead-lettered message; returns what happened (for logs and tests).

    Raises ``JobLeased`` while a worker may still finish the job.
    """
    outcome = store.fail_if_unfinished(job_id, dead_letter_error())
    if outcome == "leased":
        raise JobLeased(f"job {job_id} is held by a live worker")
    if outcome == "failed":
        logger.warning("job failed: its message was dead-lettered", extra={"job_id": job_id})
    elif outcome == "missing":
        logger.warning("dead-lettered message for a job that does not exist; dropped", extra={"job_id": job_id})
    return outcome


# A batch whose every message must come back (e.g. one message, its job still leased) is
# answered with batchItemFailures, not an invocation error: waiting is not a fault.
_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_store: JobStore | None = None


def _default_store() -> JobStore:
    """The jobs table only: this function reads and updates job items, nothing else."""
    global _store
    if _store is None:
        # Loaded on the first invocation, like the worker's services.
        import boto3

        from summarizer.settings import Settings

        settings = Settings.from_env()
        if not settings.jobs_table:
            raise RuntimeError("JOBS_TABLE_NAME must be set for the dead-letter consumer")
        _store = JobStore(boto3.resource("dynamodb").Table(settings.jobs_table), None, settings.jobs_bucket or "",
                          None, settings.jobs_queue_url or "")
    return _store


def record_handler(record: SQSRecord, lambda_context) -> None:
    attributes = record.raw_event.get("attributes") or {}
    job_id = parse_job_message(record.body)
    if job_id is None:
        logger.error("malformed dead-lettered message dropped",
                     extra={"message_id": record.message_id, "source": attributes.get("DeadLetterQueueSourceArn")})
        return
    try:
        outcome = handle(_default_store(), job_id)
    except JobLeased:
        logger.info("dead-lettered job is still leased; retrying later", extra={"job_id": job_id})
        raise
    except Exception:
        logger.exception("dead-lettered job could not be failed; retrying later", extra={"job_id": job_id})
        raise
    logger.info("dead-lettered job message handled",
                extra={"job_id": job_id, "outcome": outcome, "message_id": record.message_id})


@logger.inject_lambda_context(clear_state=True)
@traced
def lambda_handler(event, context):
    _default_store()  # a configuration error fails the invocation, not each message
    return process_partial_response(event=event, record_handler=record_handler, processor=_processor, context=context)

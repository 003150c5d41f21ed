"""SQS worker for async summarization jobs (handler ``summarizer.worker.lambda_handler``).

Idempotent under redelivery: a job is claimed with a conditional write and a
lease; a duplicate message for a leased job is returned to the queue, one for
a finished job is dropped, and one for a job whose worker died takes over and
resumes from per-call checkpoints. Deliver one message per invocation
(batch size 1): each job can use the whole function timeout.

A model on a shared endpoint whose copies scaled to zero answers ``ModelScalingUp``
(its scale-out takes minutes): the job is handed back and its message re-sent with
a delay, again and again up to a total wait, keeping the chunks already done.
"""

from __future__ import annotations

import time
from typing import Callable

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from inference.catalog import Catalog, ModelSpec
from inference.errors import InferenceError, ModelAsleep, ModelScalingUp, ModelUnavailable
from inference.observability import logger, metrics, traced
from summarizer.errors import ChunkFailed, DeadlineExceeded, SummarizerError
from summarizer.limits import MAX_S3_INPUT_BYTES
from summarizer.jobs import MAX_DELAY_S, MAX_RECEIVES, TERMINAL, JobStore, parse_job_message
from summarizer.mapreduce import Summarizer
from summarizer.run_config import Generate, ModelLimits, SummarizeConfig
from summarizer.settings import CAPACITY_RETRY_S, CAPACITY_WAIT_S
from inference.tokens import TokenEstimator


# Runs of one job that may end without a result (the worker was killed: timeout,
# out of memory) before the job is failed. SQS delivers a message MAX_RECEIVES
# times (the queue's maxReceiveCount, re-exported here; tests/stacks pins the
# two), at least one more than this, so a delivery is left to record the
# failure. The rest is slack for deliveries that never ran the job (throttled,
# or bounced off a live lease); on the last delivery a job that crashed at all
# is failed instead of run. A message that still runs out of deliveries is
# dead-lettered, and summarizer.dead_letters fails its job.
MAX_ATTEMPTS = 3


class JobBusy(Exception):
    """Another live worker holds the job; let SQS bring the message back later."""


class Worker:
    """Runs one job per message.

    Args:
        store: job records, payloads and queue.
        catalog: configured models.
        generate_for: builds the model call for a model spec.
        limits_for: token limits for a model spec.
        config: map-reduce knobs.
        max_attempts: claims that may end without a result (crashes) before
            the job is failed.
        max_receives: deliveries SQS makes of one message (the queue's
            maxReceiveCount); on the last one a job that has crashed before is
            failed instead of run, since a crash there would leave it RUNNING.
        max_continuations: graceful hand-backs at the time limit before the
            job is failed as too large.
        stop_margin_s: stop starting model calls this long before the
            invocation's end, so in-flight calls finish and checkpoint.
        capacity_retry_s: delay before the next run of a job whose model is
            scaling out from zero copies (SQS DelaySeconds, at most 900).
        max_capacity_wait_s: total of those delays after which the job fails
            (``model_scaling_timeout``).
    """

    def __init__(self, store: JobStore, catalog: Catalog, generate_for: Callable[[ModelSpec], Generate],
                 limits_for: Callable[[ModelSpec], ModelLimits], config: SummarizeConfig, *,
                 max_attempts: int = MAX_ATTEMPTS, max_receives: int = MAX_RECEIVES,
                 max_continuations: int = 40, stop_margin_s: float = 75.0,
                 progress_interval_s: float = 2.0, max_input_bytes: int = MAX_S3_INPUT_BYTES,
                 capacity_retry_s: int = CAPACITY_RETRY_S, max_capacity_wait_s: int = CAPACITY_WAIT_S):
        if not 1 <= capacity_retry_s <= MAX_DELAY_S:
            raise ValueError(f"capacity_retry_s must be within 1..{MAX_DELAY_S}, got {capacity_retry_s}")
        self.store = store
        self.catalog = catalog
        self.generate_for = generate_for
        self.limits_for = limits_for
        self.config = config
        self.max_attempts = max_attempts
        self.max_receives = max_receives
        self.max_continuations = max_continuations
        self.stop_margin_s = stop_margin_s
        self.progress_interval_s = progress_interval_s
        self.max_input_bytes = max_input_bytes
        self.capacity_retry_s = capacity_retry_s
        self.max_capacity_wait_s = max_capacity_wait_s

    def handle(self, job_id: str, remaining_s: float, owner: str, receive_count: int = 1) -> str:
        """Process one message; returns what happened (for logs and tests).

        ``receive_count`` is the message's ``ApproximateReceiveCount`` (1 on
        the first delivery).
        """
        job = self.store.get(job_id)
        if job is None:
            logger.warning("job not found; dropping message", extra={"job_id": job_id})
            return "missing"
        if job.status in TERMINAL:
            return "already-" + job.status.lower()
        # The lease outlives this invocation, so only a dead worker's lease expires.
        job = self.store.claim(job_id, owner, lease_s=remaining_s + 30)
        if job is None:
            current = self.store.get(job_id)
            if current is None or current.status in TERMINAL:
                return "already-done"
            raise JobBusy(f"job {job_id} is leased by another worker")
        # Earlier claims that neither finished nor handed the job back (a hand-back refunds its attempt).
        crashes = job.attempts - 1
        last_delivery = receive_count >= self.max_receives
        if crashes >= self.max_attempts or (last_delivery and crashes > 0):
            self.store.fail(job_id, {"code": "worker_crashed",
                                     "message": f"the worker stopped without finishing {crashes} time(s)"}, owner)
            return "failed"
        return self._run(job, remaining_s, owner)

    def _run(self, job, remaining_s: float, owner: str) -> str:
        job_id = job.job_id
        estimator = TokenEstimator.resume(job.scale, job.margin)
        last_report = [0.0]

        def on_progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done in (0, total) or now - last_report[0] >= self.progress_interval_s:
                last_report[0] = now
                self.store.progress(job_id, owner, done, total, *estimator.state())

        try:
            spec = self.catalog.resolve(job.model, "text")
            text = self.store.load_input(job, self.max_input_bytes)
            summarizer = Summarizer(
                self.generate_for(spec), spec.family, self.limits_for(spec), self.config,
                estimator=estimator, checkpoints=self.store.checkpoints(job), on_progress=on_progress,
                deadline=time.monotonic() + remaining_s - self.stop_margin_s,
            )
            result = summarizer.summarize(text, job.style, job.max_words)
        except DeadlineExceeded:
            if job.item.get("continuations", 0) >= self.max_continuations:
                self.store.fail(job_id, {"code": "too_large", "message": "the job did not finish within "
                                         f"{self.max_continuations} worker invocations"}, owner)
                return "failed"
            self.store.release(job_id, owner, *estimator.state())
            self.store.enqueue(job_id)
            return "continued"
        except ChunkFailed as exc:
            if isinstance(exc.cause, ModelScalingUp):
                return self._wait_for_capacity(job, owner, spec.name, estimator)
            logger.warning("job failed", extra={"job_id": job_id, "error": str(exc)})
            if isinstance(exc.cause, (ModelAsleep, ModelUnavailable)):
                # Not this chunk's fault: every call would fail the same way.
                self.store.fail(job_id, {"code": exc.cause.code, "message": exc.cause.message}, owner)
                return "failed"
            self.store.fail(job_id, {"code": "chunk_failed", "message": str(exc), "stage": exc.stage,
                                     "chunk": exc.index}, owner)
            return "failed"
        except (SummarizerError, InferenceError, ValueError, UnicodeDecodeError) as exc:
            self.store.fail(job_id, {"code": "invalid_input", "message": str(exc)}, owner)
            return "failed"
        stats = result.stats.as_dict()
        if not self.store.succeed(job_id, owner, result.summary, stats):
            return "lost-lease"
        logger.info("job succeeded", extra={"job_id": job_id, "stats": stats})
        return "succeeded"

    def _wait_for_capacity(self, job, owner: str, model: str, estimator: TokenEstimator) -> str:
        """The model has no copy running (its inference component scaled to zero) and
        is scaling out: run the job again in ``capacity_retry_s``, from its checkpoints,
        unless it has waited ``max_capacity_wait_s`` already."""
        waited = int(job.item.get("capacity_wait_s", 0))
        if waited + self.capacity_retry_s > self.max_capacity_wait_s:
            logger.warning("job failed waiting for capacity", extra={"job_id": job.job_id, "waited_s": waited})
            self.store.fail(job.job_id, {
                "code": "model_scaling_timeout",
                "message": f"model {model} had no copy running for {waited // 60} minutes (its scale-out from zero "
                           "did not finish); submit the job again later"}, owner)
            return "failed"
        if not self.store.wait_for_capacity(job.job_id, owner, *estimator.state(), self.capacity_retry_s):
            return "lost-lease"
        self.store.enqueue(job.job_id, delay_s=self.capacity_retry_s)
        logger.info("job waiting for model capacity", extra={
            "job_id": job.job_id, "model": model, "retry_in_s": self.capacity_retry_s, "waited_s": waited})
        return "waiting"


_processor = BatchProcessor(event_type=EventType.SQS)
# Outcomes worth a graph: how many jobs end each way, and how many need another run.
_OUTCOME_METRICS = {"succeeded": "JobsSucceeded", "failed": "JobsFailed", "continued": "JobsContinued",
                    "waiting": "JobsWaitingForCapacity"}
_worker: Worker | None = None


def _default_worker() -> Worker:
    global _worker
    if _worker is None:
        from summarizer.settings import default_services

        services = default_services()
        if services.store is None:
            raise RuntimeError("JOBS_TABLE_NAME, JOBS_QUEUE_URL and JOBS_BUCKET_NAME must be set for the worker")
        s = services.settings
        _worker = Worker(services.store, services.catalog, services.generate_for, services.limits,
                         services.config, max_input_bytes=MAX_S3_INPUT_BYTES,
                         capacity_retry_s=s.capacity_retry_s, max_capacity_wait_s=s.capacity_wait_s)
    return _worker


def record_handler(record: SQSRecord, lambda_context) -> None:
    job_id = parse_job_message(record.body)
    if job_id is None:
        # Redelivering it would only move it to the dead-letter queue after MAX_RECEIVES tries.
        logger.error("malformed job message dropped", extra={"message_id": record.message_id})
        return
    remaining_s = lambda_context.get_remaining_time_in_millis() / 1000
    attributes = record.raw_event.get("attributes") or {}
    try:
        receive_count = int(attributes.get("ApproximateReceiveCount") or 1)
    except (TypeError, ValueError):
        receive_count = 1
    outcome = _default_worker().handle(job_id, remaining_s, owner=f"{lambda_context.aws_request_id}:{record.message_id}",
                                       receive_count=receive_count)
    logger.info("job message handled", extra={"job_id": job_id, "outcome": outcome, "receive_count": receive_count})
    if outcome in _OUTCOME_METRICS:
        metrics.add_metric(name=_OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=_processor, context=context)

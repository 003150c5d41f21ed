"""``POST /v1/summarize``, ``GET /v1/jobs/<job_id>`` and ``POST /v1/uploads``, as a Powertools Router.

The summarizer package does the work (chunking, map-reduce, jobs); this
module is its HTTP face, and ``frontdoor.api`` maps its errors. A request whose estimated work fits the API's time budget runs inline;
anything larger, or any S3 input, becomes a job (202 + job id). Texts too big
for a request body are uploaded first: ``POST /v1/uploads`` hands out a
presigned S3 POST into the jobs bucket's ``inputs/`` prefix.

Jobs and uploads remember the caller (IAM user/role ARN, or the Cognito
``sub``); another caller gets 404 for them. Without an identity (the local
server) they are open to every caller.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

from frontdoor import tenancy
from frontdoor.config import runtime
from frontdoor.errors import PayloadTooLarge
from frontdoor.models.responses import responses
from frontdoor.models.summarize import (
    JobAccepted,
    JobError,
    JobResult,
    JobStatus,
    Progress,
    Stats,
    SummarizeRequest,
    SummarizeResponse,
    UploadRequest,
    UploadTicket,
)
from inference.control import wake_if_asleep
from inference.errors import BadRequest, ModelTimeout, NotFound
from inference.prompts import prompt_format
from summarizer.errors import DeadlineExceeded
from summarizer.limits import JOB_ID_PATTERN, MAX_S3_INPUT_BYTES

if TYPE_CHECKING:
    from summarizer.jobs import Job
    from summarizer.settings import Services

router = Router()

# How long a presigned upload stays usable.
UPLOAD_EXPIRES_S = 900


def _services() -> Services:
    return runtime().summaries


def _json(status: int, body: BaseModel, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump(mode="json", exclude_none=True), headers=headers)


def _remaining_s(default: float) -> float:
    try:
        return router.lambda_context.get_remaining_time_in_millis() / 1000
    except AttributeError:  # no Lambda context (local server, tests)
        return default


def caller() -> str | None:
    """Who is calling: the Cognito user's ``sub``, or the SigV4 caller's ARN (exact,
    role session name included); None when API Gateway passed no identity (local)."""
    ctx = router.current_event.raw_event.get("requestContext") or {}
    claims = (ctx.get("authorizer") or {}).get("claims") or {}
    if claims.get("sub"):
        return f"cognito:{claims['sub']}"
    arn = (ctx.get("identity") or {}).get("userArn")
    return f"iam:{arn}" if arn else None


def _visible(owner: str | None, who: str | None) -> bool:
    """Records made without an identity are open; others only to their maker."""
    return owner is None or owner == who


def _enqueue(services: Services, model: str, body: SummarizeRequest, text: str | None, who: str | None) -> Response:
    from summarizer.jobs import new_job_id

    store = services.store
    if store is None:
        raise PayloadTooLarge("this text needs an async job, and async jobs are not configured here")
    job_id = new_job_id()
    store.create(job_id, model=model, style=body.style, max_words=body.max_words, text=text, input_key=body.s3_key,
                 caller=who)
    try:
        store.enqueue(job_id)
    except Exception:
        # A job nobody will run must not look QUEUED forever.
        store.fail(job_id, {"code": "enqueue_failed", "message": "the job could not be queued; submit it again"})
        raise
    url = f"/v1/jobs/{job_id}"
    return _json(202, JobAccepted(job_id=job_id, status="QUEUED", status_url=url), {"Location": url})


@router.post(
    "/v1/summarize", tags=["summarization"], summary="Summarize a long document",
    responses=responses({200: (SummarizeResponse, "The summary"), 202: (JobAccepted, "Accepted as an async job")},
                        400, 404, 413, 415, 422, 502, 503, 504,
                        links={202: {"GetJob": {"operationId": "get_job_v1_jobs__job_id__get",
                                                "parameters": {"job_id": "$response.body#/job_id"},
                                                "description": "Poll the job"}}}),
)
def summarize(body: SummarizeRequest):
    """Summarize ``text`` (or an uploaded ``s3_key``) with a text model.

    Texts that fit one call are summarized in one call; longer ones map-reduce
    over token-budgeted chunks. If the work will not finish inside the API's
    time budget the answer is 202 with a job id to poll at ``/v1/jobs/{id}``.
    """
    from summarizer.mapreduce import Summarizer

    tenancy.refuse_unmetered(router.current_event.raw_event, "POST /v1/summarize")
    started = time.monotonic()
    services = _services()
    sync_budget_s = services.settings.sync_budget_s
    who = caller()
    spec = services.catalog.resolve(body.model, "text")
    if body.text is not None:
        prompt_format(spec.family).check(body.text, "text")
    if body.s3_key is not None:
        if services.store is None:
            raise BadRequest("s3_key needs async jobs, which are not configured here")
        try:
            head = services.store.s3.head_object(Bucket=services.store.bucket, Key=body.s3_key)
        except Exception:
            raise NotFound(f"no object {body.s3_key!r} in the jobs bucket") from None
        if not _visible(head.get("Metadata", {}).get("caller"), who):
            raise NotFound(f"no object {body.s3_key!r} in the jobs bucket")
        if head["ContentLength"] > MAX_S3_INPUT_BYTES:
            raise PayloadTooLarge(f"the object is larger than {MAX_S3_INPUT_BYTES} bytes")

    # A sleeping model answers 503 model_asleep (and is started) here, as on every
    # route, before any work is accepted: a job queued for it would only fail.
    wake_if_asleep(runtime().waker, spec)
    if body.s3_key is not None:
        return _enqueue(services, spec.name, body, None, who)

    try:
        summarizer = Summarizer(services.generate_for(spec), spec.family, services.limits(spec),
                                services.config,
                                deadline=started + min(sync_budget_s, _remaining_s(sync_budget_s) - 2))
        budget = min(sync_budget_s, _remaining_s(sync_budget_s)) - (time.monotonic() - started)
        if summarizer.estimate_work(body.text).seconds > budget:
            return _enqueue(services, spec.name, body, body.text, who)
        result = summarizer.summarize(body.text, body.style, body.max_words)
    except DeadlineExceeded:
        if services.store is None:
            raise ModelTimeout("the summary did not finish in time; async jobs are not configured here") from None
        return _enqueue(services, spec.name, body, body.text, who)
    return _json(200, SummarizeResponse(summary=result.summary, model=spec.name, style=body.style,
                                        stats=Stats(**result.stats.as_dict())))


UNRECORDED_ERROR = "unrecorded"


def _status(services: Services, job: Job) -> JobStatus:
    from summarizer.jobs import FAILED, SUCCEEDED

    item: dict[str, Any] = job.item
    result = error = None
    if job.status == SUCCEEDED:
        stats = item.get("stats")
        result = JobResult(summary=services.store.load_result(job) or "", stats=Stats(**stats) if stats else None)
    elif job.status == FAILED:
        # A FAILED item always carries its error (one UpdateItem sets both); a record without it is
        # still answered, never a 500.
        recorded = {k: v for k, v in (item.get("error") or {}).items() if k in JobError.model_fields}
        error = JobError(**{"code": UNRECORDED_ERROR, "message": "the job failed; its error was not recorded",
                            **recorded})
    return JobStatus(job_id=job.job_id, status=job.status, model=job.model, style=job.style,
                     progress=Progress(chunks_done=job.chunks_done, chunks_total=job.chunks_total),
                     result=result, error=error, created_at=item.get("created_at", 0),
                     updated_at=item.get("updated_at", 0))


@router.get(
    "/v1/jobs/<job_id>", tags=["summarization"], summary="Status of a summarization job",
    responses=responses({200: (JobStatus, "Job status")}, 400, 404),
)
def get_job(job_id: Annotated[str, Path(pattern=JOB_ID_PATTERN)]):
    """Status, progress (map chunks done / total), and the result or the error."""
    services = _services()
    if services.store is None:
        raise NotFound("async jobs are not configured here")
    job = services.store.get(job_id)
    # Another caller's job is answered exactly like a missing one.
    if job is None or not _visible(job.item.get("caller"), caller()):
        raise NotFound(f"no job {job_id}; jobs expire after 7 days")
    return _json(200, _status(services, job))


@router.post(
    "/v1/uploads", tags=["summarization"], summary="Upload a large text for /v1/summarize",
    responses=responses({200: (UploadTicket, "A presigned S3 POST")}, 400, 404, 413, 415),
)
def create_upload(body: UploadRequest):
    """A presigned S3 POST for one UTF-8 text object under ``inputs/`` in the jobs bucket.

    Send a multipart/form-data POST to ``url`` with every entry of ``fields`` and the
    text as the last field, ``file``, within ``expires_in`` seconds; then
    ``POST /v1/summarize {"s3_key": ...}``. S3 refuses bodies outside 1 byte ..
    ``max_bytes`` (exactly ``content_length`` when given).
    """
    services = _services()
    if services.store is None:
        raise NotFound("uploads need async jobs, which are not configured here")
    key = f"inputs/{uuid.uuid4()}.txt"
    low, high = (body.content_length, body.content_length) if body.content_length else (1, MAX_S3_INPUT_BYTES)
    fields: dict[str, str] = {}
    conditions: list[Any] = [["content-length-range", low, high]]
    who = caller()
    if who:
        # Signed into the policy: the object carries its uploader, and only they may summarize it.
        fields["x-amz-meta-caller"] = who
        conditions.append({"x-amz-meta-caller": who})
    post = services.store.s3.generate_presigned_post(
        Bucket=services.store.bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=UPLOAD_EXPIRES_S)
    return _json(200, UploadTicket(s3_key=key, url=post["url"], fields=post["fields"], expires_in=UPLOAD_EXPIRES_S,
                                   max_bytes=high))

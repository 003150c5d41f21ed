"""``POST /v1/summarize`` and ``GET /v1/jobs/<job_id>``, as a Powertools Router.

Mounted by the front door (``app.include_router(summarizer.routes.router)``),
so errors are the front door's domain exceptions and its resolver maps them.
A request whose estimated work fits the API's time budget runs inline;
anything larger, or any S3 input, becomes a job (202 + job id).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from frontdoor.errors import BadRequest, ModelFailed, ModelTimeout, NotFound, PayloadTooLarge
from frontdoor.services.prompts import prompt_format as frontdoor_prompt_format
from summarizer import settings as _settings
from summarizer.errors import ChunkFailed, DeadlineExceeded, InvalidInput
from summarizer.jobs import SUCCEEDED, FAILED, Job, new_job_id
from summarizer.mapreduce import Summarizer
from summarizer.settings import MAX_INLINE_TEXT_BYTES, MAX_S3_INPUT_BYTES, Services

router = Router()

# API Gateway gives up at 29 s; keep room for cold start, S3/Dynamo and the response.
SYNC_BUDGET_S = 25.0


class SummarizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, min_length=1, max_length=64)
    text: str | None = Field(default=None, min_length=1, max_length=MAX_INLINE_TEXT_BYTES)
    # Only objects the caller uploaded under inputs/ in the jobs bucket, never
    # another job's results.
    s3_key: str | None = Field(default=None, pattern=r"^inputs/[A-Za-z0-9!_.*'()/=-]{1,512}$")
    style: Literal["paragraph", "bullets"] = "paragraph"
    max_words: int | None = Field(default=None, ge=10, le=2000)

    @model_validator(mode="after")
    def _one_source(self) -> SummarizeRequest:
        if (self.text is None) == (self.s3_key is None):
            raise ValueError("send exactly one of 'text' or 's3_key'")
        return self


class Stats(BaseModel):
    chunks: int
    calls: int
    retries: int
    resplits: int
    recalibrations: int
    checkpoint_hits: int
    rounds: int
    input_tokens: int
    output_tokens: int
    map_budget_tokens: int
    elapsed_s: float


class SummarizeResponse(BaseModel):
    summary: str
    model: str
    style: str
    stats: Stats


class JobAccepted(BaseModel):
    job_id: str
    status: str
    status_url: str


class Progress(BaseModel):
    chunks_done: int
    chunks_total: int


class JobError(BaseModel):
    code: str
    message: str
    stage: str | None = None
    chunk: int | None = None


class JobResult(BaseModel):
    summary: str
    stats: Stats | None = None


class JobStatus(BaseModel):
    job_id: str
    status: Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
    model: str | None = None
    style: str
    progress: Progress
    result: JobResult | None = None
    error: JobError | None = None
    created_at: int
    updated_at: int


def _services() -> Services:
    return _settings.default_services()


def _json(status: int, body: BaseModel, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump(mode="json", exclude_none=True), headers=headers)


def _remaining_s() -> float:
    try:
        return router.lambda_context.get_remaining_time_in_millis() / 1000
    except AttributeError:  # no Lambda context (local server, tests)
        return SYNC_BUDGET_S


def _enqueue(services: Services, model: str, body: SummarizeRequest, text: str | None) -> Response:
    store = services.store
    if store is None:
        raise PayloadTooLarge("this text needs an async job, and async jobs are not configured here")
    job_id = new_job_id()
    store.create(job_id, model=model, style=body.style, max_words=body.max_words, text=text, input_key=body.s3_key)
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
    responses={
        200: {"description": "Summary", "content": {"application/json": {"model": SummarizeResponse}}},
        202: {"description": "Accepted as an async job", "content": {"application/json": {"model": JobAccepted}}},
    },
)
def summarize(body: SummarizeRequest):
    """Summarize ``text`` (or an uploaded ``s3_key``) with a text model.

    Texts that fit one call are summarized in one call; longer ones map-reduce
    over token-budgeted chunks. If the work will not finish inside the API's
    time budget the answer is 202 with a job id to poll at ``/v1/jobs/{id}``.
    """
    started = time.monotonic()
    services = _services()
    spec = services.catalog.resolve(body.model, "text")
    if body.text is not None:
        frontdoor_prompt_format(spec.family).check(body.text, "text")
    if body.s3_key is not None:
        if services.store is None:
            raise BadRequest("s3_key needs async jobs, which are not configured here")
        try:
            head = services.store.s3.head_object(Bucket=services.store.bucket, Key=body.s3_key)
        except Exception:
            raise NotFound(f"no object {body.s3_key!r} in the jobs bucket") from None
        if head["ContentLength"] > MAX_S3_INPUT_BYTES:
            raise PayloadTooLarge(f"the object is larger than {MAX_S3_INPUT_BYTES} bytes")
        return _enqueue(services, spec.name, body, None)

    try:
        summarizer = Summarizer(services.generate_for(spec), spec.family, services.limits(spec), services.config,
                                deadline=started + min(SYNC_BUDGET_S, _remaining_s() - 2))
        budget = min(SYNC_BUDGET_S, _remaining_s()) - (time.monotonic() - started)
        if summarizer.estimate_work(body.text).seconds > budget:
            return _enqueue(services, spec.name, body, body.text)
        result = summarizer.summarize(body.text, body.style, body.max_words)
    except DeadlineExceeded:
        if services.store is None:
            raise ModelTimeout("the summary did not finish in time; async jobs are not configured here") from None
        return _enqueue(services, spec.name, body, body.text)
    except ChunkFailed as exc:
        raise ModelFailed(str(exc), details=[{"stage": exc.stage, "chunk": exc.index, "attempts": exc.attempts}]) from exc
    except InvalidInput as exc:
        raise BadRequest(str(exc)) from exc
    return _json(200, SummarizeResponse(summary=result.summary, model=spec.name, style=body.style,
                                        stats=Stats(**result.stats.as_dict())))


def _status(services: Services, job: Job) -> JobStatus:
    item: dict[str, Any] = job.item
    result = error = None
    if job.status == SUCCEEDED:
        stats = item.get("stats")
        result = JobResult(summary=services.store.load_result(job) or "", stats=Stats(**stats) if stats else None)
    elif job.status == FAILED:
        error = JobError(**{k: v for k, v in item.get("error", {}).items() if k in JobError.model_fields})
    return JobStatus(job_id=job.job_id, status=job.status, model=job.model, style=job.style,
                     progress=Progress(chunks_done=job.chunks_done, chunks_total=job.chunks_total),
                     result=result, error=error, created_at=item.get("created_at", 0),
                     updated_at=item.get("updated_at", 0))


@router.get(
    "/v1/jobs/<job_id>", tags=["summarization"], summary="Status of a summarization job",
    responses={200: {"description": "Job status", "content": {"application/json": {"model": JobStatus}}}},
)
def get_job(job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]):
    """Status, progress (map chunks done / total), and the result or the error."""
    services = _services()
    if services.store is None:
        raise NotFound("async jobs are not configured here")
    job = services.store.get(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}; jobs expire after 7 days")
    return _json(200, _status(services, job))

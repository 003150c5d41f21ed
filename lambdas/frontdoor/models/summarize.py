"""Summarization: ``POST /v1/summarize``, ``GET /v1/jobs/{job_id}`` and ``POST /v1/uploads``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from frontdoor.models.base import ApiModel, Integral, RequestModel, exactly_one
from summarizer.limits import MAX_INLINE_TEXT_BYTES, MAX_S3_INPUT_BYTES
from summarizer.prompts import Style

StyleName = Literal[tuple(style.value for style in Style)]  # type: ignore[valid-type]


class SummarizeRequest(RequestModel):
    """Exactly one of ``text`` or ``s3_key``."""

    model_config = ConfigDict(json_schema_extra=exactly_one("text", "s3_key"))

    model: str | None = Field(default=None, min_length=1, max_length=64)
    text: str | None = Field(default=None, min_length=1, max_length=MAX_INLINE_TEXT_BYTES)
    # Only objects the caller uploaded under inputs/ in the jobs bucket, never
    # another job's results.
    s3_key: str | None = Field(default=None, pattern=r"^inputs/[A-Za-z0-9!_.*'()/=-]{1,512}$")
    style: StyleName = Style.PARAGRAPH.value
    max_words: Annotated[int, Field(ge=10, le=2000), Integral] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SummarizeRequest:
        if (self.text is None) == (self.s3_key is None):
            raise ValueError("send exactly one of 'text' or 's3_key'")
        return self


class UploadRequest(RequestModel):
    # When given, the upload must be exactly this many bytes; else 1 byte .. the S3 input limit.
    content_length: Annotated[int, Field(ge=1, le=MAX_S3_INPUT_BYTES), Integral] | None = None


class UploadTicket(ApiModel):
    s3_key: str
    url: str
    method: Literal["POST"] = "POST"
    fields: dict[str, str]
    expires_in: int
    max_bytes: int


class Stats(ApiModel):
    # summarizer.stats.SummaryStats' fields, in its order (a test keeps them equal).
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


class SummarizeResponse(ApiModel):
    summary: str
    model: str
    style: str
    stats: Stats


class JobAccepted(ApiModel):
    job_id: str
    status: str
    status_url: str


class Progress(ApiModel):
    chunks_done: int
    chunks_total: int


class JobError(ApiModel):
    code: str
    message: str
    stage: str | None = None
    chunk: int | None = None


class JobResult(ApiModel):
    summary: str
    stats: Stats | None = None


class JobStatus(ApiModel):
    job_id: str
    # summarizer.jobs' statuses (a test keeps them equal).
    status: Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
    model: str | None = None
    style: str
    progress: Progress
    result: JobResult | None = None
    error: JobError | None = None
    created_at: int
    updated_at: int

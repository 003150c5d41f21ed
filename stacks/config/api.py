"""The API front door: auth, throttling, concurrency, templates, the feedback loop."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.config.base import StrictModel


class FeedbackConfig(StrictModel):
    """What the front door keeps for the human-feedback loop (docs/feedback-loop.md).

    Prompts and outputs are user data: nothing is kept unless `store_generations` is on;
    then every text generation's prompt and outputs go to the KMS-encrypted feedback table
    and expire (DynamoDB TTL) `retention_days` after they were made, with their feedback."""

    store_generations: bool = Field(
        False, description="keep each text generation's prompt and outputs for feedback to join (user data)"
    )
    retention_days: int = Field(
        90, ge=1, le=3650, description="days stored generations and their feedback are kept (DynamoDB TTL)"
    )


class ApiConfig(StrictModel):
    enabled: bool = Field(True, description="deploy the API stack")
    auth: Literal["iam", "cognito"] = Field("iam", description="how callers authenticate: SigV4 (IAM) or a Cognito user pool")
    throttle_rate_limit: float = Field(50, gt=0, description="requests per second, stage-wide")
    throttle_burst_limit: int = Field(100, gt=0, description="requests, stage-wide")
    waf_rate_limit_per_5min: int = Field(
        1000, ge=10, le=2_000_000_000, description="per client IP (WAF rate-based rule)"
    )
    reserved_concurrency: int | None = Field(
        None,
        gt=0,
        description=(
            "front door reserved concurrency; None reserves nothing. AWS lets an account reserve "
            "up to its unreserved concurrency minus 100, and new accounts often have a quota of 10 "
            "or 50, so any value here needs a quota increase first (make preflight checks it)"
        ),
    )
    jobs_max_concurrency: int = Field(
        5, ge=2, le=1000,
        description="summarization jobs run at once (the SQS event source's MaximumConcurrency)",
    )
    summarize_max_concurrency: int = Field(8, gt=0, le=64, description="model calls one summary makes at once")
    extra_templates: list[dict] = Field(
        default_factory=list, description="operator prompt templates, same schema as the built-ins"
    )
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig, description="the human-feedback loop (docs/feedback-loop.md)")

"""The API front door: auth, throttling, concurrency, templates, the feedback loop."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.config.base import StrictModel

TIER_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
ALL_MODELS = "*"
AUTH_MODES = ("iam", "cognito", "tenant_keys")


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


class TierQuota(StrictModel):
    """A usage plan's request quota (API Gateway counts requests, best effort)."""

    limit: int = Field(gt=0, description="requests per period")
    period: Literal["DAY", "MONTH"] = Field(description="DAY or MONTH (UTC)")


class TenantTier(StrictModel):
    """One tier: one API Gateway usage plan (throttle and quota per tenant) plus the models
    its tenants may call and their monthly token budget (docs/tenants.md)."""

    rate_limit: float = Field(gt=0, description="requests per second per tenant (usage plan throttle)")
    burst_limit: int = Field(ge=0, description="requests per tenant at once (usage plan burst)")
    quota: TierQuota | None = Field(None, description="requests per DAY or MONTH per tenant; null: no quota")
    models: list[str] = Field(
        default_factory=lambda: [ALL_MODELS], min_length=1,
        description="model names its tenants may call (others are 404 for them); [\"*\"]: every model",
    )
    monthly_token_budget: int | None = Field(
        None, gt=0, description="prompt + completion tokens per tenant per UTC month (429 past it); null: no budget",
    )

    @field_validator("models")
    @classmethod
    def _star_alone(cls, models: list[str]) -> list[str]:
        if ALL_MODELS in models and len(models) > 1:
            raise ValueError(f"'*' means every model and stands alone, got {models}")
        return models


class TenantsConfig(StrictModel):
    """Tenant keys (api.auth: tenant_keys): the authorizer's cache and the tiers."""

    cache_ttl_seconds: int = Field(
        60, ge=0, le=3600,
        description="how long API Gateway caches the authorizer's answer per key; a revoked key keeps "
        "working for up to this long (0: no cache, one key lookup per request)",
    )
    tiers: dict[str, TenantTier] = Field(
        default_factory=dict, description="tier name -> limits; required (non-empty) with auth tenant_keys",
    )

    def authorizer_tiers(self) -> dict[str, dict]:
        """What the authorizer needs of each tier (its env TENANT_TIERS_JSON): the models its
        tenants may call and their monthly token budget (0: none)."""
        return {name: {"models": list(t.models), "monthly_token_budget": t.monthly_token_budget or 0}
                for name, t in sorted(self.tiers.items())}

    @field_validator("tiers")
    @classmethod
    def _tier_names(cls, tiers: dict[str, TenantTier]) -> dict[str, TenantTier]:
        bad = [name for name in tiers if not TIER_NAME_RE.match(name)]
        if bad:
            raise ValueError(
                f"tier names must match {TIER_NAME_RE.pattern} (lowercase letter, then lowercase letters, "
                f"digits or hyphens, at most 32), got {', '.join(repr(b) for b in bad)}"
            )
        return tiers


class ApiConfig(StrictModel):
    enabled: bool = Field(True, description="deploy the API stack")
    auth: Literal["iam", "cognito", "tenant_keys"] = Field(
        "iam", description="how callers authenticate: SigV4 (IAM), a Cognito user pool, or tenant keys "
        "(Authorization: Bearer, a Lambda authorizer and usage plans; docs/tenants.md)",
    )
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
    tenants: TenantsConfig = Field(
        default_factory=TenantsConfig, validate_default=True,
        description="tenant keys: tiers and the authorizer cache (docs/tenants.md); used with auth tenant_keys",
    )

    @field_validator("tenants")
    @classmethod
    def _tiers_with_tenant_keys(cls, tenants: TenantsConfig, info: ValidationInfo) -> TenantsConfig:
        auth = info.data.get("auth")
        if auth == "tenant_keys" and not tenants.tiers:
            raise ValueError(
                "tiers must name at least one tier when api.auth is 'tenant_keys', e.g. "
                "{free: {rate_limit: 1, burst_limit: 2, quota: {limit: 1000, period: DAY}, models: ['*']}}"
            )
        if auth in ("iam", "cognito") and tenants.tiers:
            raise ValueError(f"tiers apply only with api.auth 'tenant_keys' (got {auth!r}): set it or remove tiers")
        stage_rate, stage_burst = info.data.get("throttle_rate_limit"), info.data.get("throttle_burst_limit")
        for name, tier in tenants.tiers.items():
            # API Gateway applies the stricter of the stage's and the usage plan's limits: a
            # tier above the stage could never get what it promises.
            if stage_rate is not None and tier.rate_limit > stage_rate:
                raise ValueError(f"tiers.{name}.rate_limit ({tier.rate_limit}) must be <= api.throttle_rate_limit ({stage_rate})")
            if stage_burst is not None and tier.burst_limit > stage_burst:
                raise ValueError(f"tiers.{name}.burst_limit ({tier.burst_limit}) must be <= api.throttle_burst_limit ({stage_burst})")
        return tenants


def check_tier_models(api: ApiConfig, model_names: list[str]) -> None:
    """Refuse a tier naming a model this deployment does not serve (called with the whole config)."""
    for name, tier in api.tenants.tiers.items():
        unknown = [m for m in tier.models if m != ALL_MODELS and m not in model_names]
        if unknown:
            raise ValueError(
                f"tenants.tiers.{name}.models: {', '.join(repr(u) for u in unknown)} not served here; "
                f"allowed: '*' or {', '.join(sorted(model_names)) or '(no models)'}"
            )

"""The tenant a request carries: what the authorizer (`tenants.authorizer`) put in the
proxy event's `requestContext.authorizer`.

API Gateway passes a REST authorizer's `context` map to a Lambda proxy integration with
every value turned into a string ("Output from an API Gateway Lambda authorizer": "the
values ... are stringified"), so numbers are read back from strings here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

ALL_MODELS = "*"


@dataclass(frozen=True)
class TenantContext:
    """The calling tenant: its id and tier, the models its tier may call (None: all of
    them) and its monthly token budget (None: no budget)."""

    tenant: str
    tier: str
    models: frozenset[str] | None
    token_budget: int | None

    def allows(self, model: str) -> bool:
        """Whether the tenant's tier may call `model` (a model outside it is a 404 for the tenant)."""
        return self.models is None or model in self.models

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> "TenantContext | None":
        """The tenant of a proxy event, or None when no tenant authorizer ran (IAM or Cognito
        auth, the native local server)."""
        authorizer = ((event or {}).get("requestContext") or {}).get("authorizer") or {}
        tenant = authorizer.get("tenant")
        if not tenant:
            return None
        return cls(
            tenant=str(tenant),
            tier=str(authorizer.get("tier") or ""),
            models=parse_models(authorizer.get("models")),
            token_budget=_budget(authorizer.get("token_budget")),
        )


def format_models(models: list[str] | frozenset[str] | None) -> str:
    """The authorizer context's `models` value: comma-joined names, or "*" for all."""
    if models is None or ALL_MODELS in models:
        return ALL_MODELS
    return ",".join(sorted(models))


def parse_models(value: Any) -> frozenset[str] | None:
    """`format_models` read back; a missing value means every model."""
    text = str(value or ALL_MODELS).strip()
    if text == ALL_MODELS:
        return None
    return frozenset(name.strip() for name in text.split(",") if name.strip())


def _budget(value: Any) -> int | None:
    try:
        budget = int(str(value))
    except (TypeError, ValueError):
        return None
    return budget if budget > 0 else None

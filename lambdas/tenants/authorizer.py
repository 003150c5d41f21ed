"""The API Gateway REST REQUEST authorizer of config `api.auth: tenant_keys`.

Identity source: the Authorization header, `Bearer <key>`. A malformed, unknown or revoked
key raises Exception("Unauthorized"), which API Gateway answers with 401 ("Use API Gateway
Lambda authorizers": "raise an exception with the message Unauthorized"). A known key gets
an IAM policy allowing the API, the tenant as principalId, its API Gateway API key value as
`usageIdentifierKey` (apiKeySource AUTHORIZER: its tier's usage plan throttles and caps it)
and a context the front door reads (`tenants.context.TenantContext`).

Tiers come from env TENANT_TIERS_JSON ({tier: {"models": [...], "monthly_token_budget": n}}),
the key records from the table in env TENANT_KEYS_TABLE. Nothing here logs, returns or
raises the key, its hash or the header.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from typing import Any, NoReturn

from tenants.aws import tables
from tenants.context import format_models
from tenants.keys import ACTIVE, lookup

TIERS_ENV = "TENANT_TIERS_JSON"
logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


@functools.lru_cache(maxsize=1)
def tiers() -> dict[str, dict[str, Any]]:
    return json.loads(os.environ.get(TIERS_ENV) or "{}")


def bearer(headers: dict[str, str] | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (any case), else None."""
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def api_resource(method_arn: str) -> str:
    """Every method of every route of the method's API and stage: `<api arn>/<stage>/*/*`.

    API Gateway caches an authorizer's answer per identity source (the Authorization header)
    for the TTL, and reuses the cached POLICY for the tenant's next requests to ANY route.
    A policy naming only the first request's method would deny the tenant's other routes
    with 403 until the entry expires; so the policy allows the whole stage's methods."""
    api_arn, stage = method_arn.split("/")[:2]
    return f"{api_arn}/{stage}/*/*"


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """REQUEST authorizer: allow a known active key's tenant, refuse everything else with 401."""
    token = bearer(event.get("headers"))
    if token is None:
        _refuse("no bearer token")
    t = tables()
    record = lookup(t.client, t.keys, token)
    if record is None:
        _refuse("unknown key")
    if record.status != ACTIVE:
        _refuse("revoked key", record.key_id)
    tier = tiers().get(record.tier)
    if tier is None:
        # A tier removed from the config while keys still name it: no usage plan holds them.
        _refuse("tier not configured", record.key_id)
    models = tier.get("models") or ["*"]
    logger.info("authorized", extra={"tenant": record.tenant, "tier": record.tier, "key_id": record.key_id})
    return {
        "principalId": record.tenant,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                           "Resource": api_resource(event["methodArn"])}],
        },
        "usageIdentifierKey": record.api_key_value,
        "context": {
            "tenant": record.tenant,
            "tier": record.tier,
            "models": format_models(models),
            "token_budget": int(tier.get("monthly_token_budget") or 0),
        },
    }


def _refuse(reason: str, key_id: str | None = None) -> NoReturn:
    logger.info("refused", extra={"reason": reason, **({"key_id": key_id} if key_id else {})})
    raise Exception("Unauthorized")  # noqa: TRY002 - the exact exception API Gateway maps to 401

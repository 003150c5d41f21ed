"""What `tools/tenants.py` (and `make serve` for its demo tenant) does to tenants: key
records in the keys table, and the API Gateway API key and usage-plan key behind each.

Every key record maps to one API Gateway API key, in the usage plan of the record's tier.
Its value (random, chosen here) is what the authorizer returns as `usageIdentifierKey`;
with `apiKeySource: AUTHORIZER` it is no credential: API Gateway takes it only from the
authorizer. The tenant key itself is returned once by `create` and `rotate` and never
stored; the table holds its SHA-256 (`tenants.keys`).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tenants.keys import ACTIVE, REVOKED, KeyRecord, display_prefix, hash_key, new_key, new_key_id

TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
REPO = Path(__file__).resolve().parents[1]
# Written by `make serve` with a tenant_keys config: where the local stack's tables and plans are.
LOCAL_STATE = REPO / ".cache" / "local-tenants.json"
# CloudFormation outputs of the Api stack (stacks/constructs/tenants.py).
OUTPUT_KEYS_TABLE, OUTPUT_USAGE_TABLE, OUTPUT_PLANS = "TenantKeysTable", "TenantUsageTable", "TenantUsagePlans"


class TenantError(ValueError):
    """A refused admin operation; the message is for the operator (never holds a key)."""


@dataclass(frozen=True)
class Resources:
    """Where a deployment's tenants live: the keys table, the usage table and the usage plan
    of each tier (tier -> usage plan id); `endpoint_url` for the local stack's moto server."""

    keys_table: str
    usage_plans: dict[str, str]
    usage_table: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2)

    @classmethod
    def from_outputs(cls, outputs: dict[str, str], region: str | None = None) -> "Resources":
        missing = [k for k in (OUTPUT_KEYS_TABLE, OUTPUT_PLANS) if k not in outputs]
        if missing:
            raise TenantError(f"the stack has no outputs {', '.join(missing)}: is api.auth 'tenant_keys' deployed?")
        return cls(outputs[OUTPUT_KEYS_TABLE], json.loads(outputs[OUTPUT_PLANS]),
                   outputs.get(OUTPUT_USAGE_TABLE), region)

    @classmethod
    def from_stack(cls, stack_name: str, region: str | None = None, cloudformation: Any = None) -> "Resources":
        import boto3

        cfn = cloudformation or boto3.client("cloudformation", region_name=region)
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        return cls.from_outputs({o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}, region)

    @classmethod
    def local(cls, path: Path | None = None) -> "Resources":
        path = path or LOCAL_STATE
        if not path.is_file():
            raise TenantError(f"{path} not found: start `make serve CONFIG=<a tenant_keys config>` first")
        return cls(**json.loads(path.read_text()))

    def clients(self) -> tuple[Any, Any]:
        """(dynamodb, apigateway) boto3 clients for these resources."""
        import boto3

        kwargs = {"region_name": self.region, "endpoint_url": self.endpoint_url}
        if self.endpoint_url:  # moto takes any credentials; do not look for real ones
            kwargs.update(aws_access_key_id="local", aws_secret_access_key="local",
                          region_name=self.region or "us-east-1")
        return boto3.client("dynamodb", **kwargs), boto3.client("apigateway", **kwargs)


class TenantAdmin:
    """create, list, rotate, revoke and move tenants of one deployment."""

    def __init__(self, resources: Resources, dynamodb: Any = None, apigateway: Any = None) -> None:
        self.resources = resources
        if dynamodb is None or apigateway is None:
            dynamodb, apigateway = resources.clients()
        self.dynamodb, self.apigateway = dynamodb, apigateway

    # -- reads ------------------------------------------------------------------------

    def records(self, tenant: str | None = None) -> list[KeyRecord]:
        """Every key record (of `tenant`), oldest first."""
        items: list[dict] = []
        kwargs: dict[str, Any] = {"TableName": self.resources.keys_table, "ConsistentRead": True}
        if tenant:
            kwargs.update(FilterExpression="tenant = :t", ExpressionAttributeValues={":t": {"S": tenant}})
        for page in self.dynamodb.get_paginator("scan").paginate(**kwargs):
            items += page.get("Items", [])
        return sorted((KeyRecord.from_item(i) for i in items), key=lambda r: (r.tenant, r.created))

    def active(self, tenant: str) -> list[KeyRecord]:
        return [r for r in self.records(tenant) if r.status == ACTIVE]

    # -- writes -----------------------------------------------------------------------

    def create(self, tenant: str, tier: str) -> tuple[str, KeyRecord]:
        """A new tenant with one key: (the key, shown once; its record)."""
        self._check_tenant(tenant)
        self._check_tier(tier)
        if self.active(tenant):
            raise TenantError(f"tenant {tenant!r} already has an active key: rotate, move or revoke it")
        return self._issue(tenant, tier)

    def rotate(self, tenant: str) -> tuple[str, KeyRecord]:
        """A new key (and API key) for `tenant` in its tier; its previous keys are revoked."""
        old = self.active(tenant)
        if not old:
            raise TenantError(f"tenant {tenant!r} has no active key (create it)")
        key, record = self._issue(tenant, old[-1].tier)
        for previous in old:
            self._revoke(previous)
        return key, record

    def revoke(self, tenant: str, key_id: str | None = None) -> list[KeyRecord]:
        """Revoke `tenant`'s active keys (or only `key_id`); returns the revoked records."""
        targets = [r for r in self.active(tenant) if key_id in (None, r.key_id)]
        if not targets:
            raise TenantError(f"no active key {key_id or ''} for tenant {tenant!r}".replace("  ", " "))
        return [self._revoke(r) for r in targets]

    def move(self, tenant: str, tier: str) -> list[KeyRecord]:
        """Move `tenant`'s active keys to `tier`'s usage plan."""
        self._check_tier(tier)
        moved = []
        for record in self.active(tenant):
            if record.tier == tier:
                continue
            # An API key may be in only one usage plan per API stage: out of the old plan first.
            self._leave_plan(record)
            self.apigateway.create_usage_plan_key(
                usagePlanId=self.resources.usage_plans[tier], keyId=record.api_key_id, keyType="API_KEY")
            self.dynamodb.update_item(
                TableName=self.resources.keys_table, Key={"key_hash": {"S": record.key_hash}},
                UpdateExpression="SET tier = :tier", ExpressionAttributeValues={":tier": {"S": tier}})
            moved.append(replace(record, tier=tier))
        if not moved and not self.active(tenant):
            raise TenantError(f"tenant {tenant!r} has no active key")
        return moved

    def _issue(self, tenant: str, tier: str) -> tuple[str, KeyRecord]:
        key, key_id = new_key(), new_key_id()
        api_key = self.apigateway.create_api_key(
            name=f"{tenant}-{key_id}", enabled=True, value=secrets.token_urlsafe(30),
            description=f"tenant {tenant} ({key_id}); used through the tenant authorizer only",
        )
        record = KeyRecord(
            key_hash=hash_key(key), key_id=key_id, tenant=tenant, tier=tier, status=ACTIVE,
            created=_now(), api_key_id=api_key["id"], api_key_value=api_key["value"], key_prefix=display_prefix(key),
        )
        try:
            self.apigateway.create_usage_plan_key(
                usagePlanId=self.resources.usage_plans[tier], keyId=api_key["id"], keyType="API_KEY")
            self.dynamodb.put_item(TableName=self.resources.keys_table, Item=record.to_item(),
                                   ConditionExpression="attribute_not_exists(key_hash)")
        except Exception:
            self._delete_api_key(record)
            raise
        return key, record

    def _revoke(self, record: KeyRecord) -> KeyRecord:
        revoked = replace(record, status=REVOKED, revoked=_now())
        # The record first: the authorizer refuses the key from its next uncached answer on.
        self.dynamodb.update_item(
            TableName=self.resources.keys_table, Key={"key_hash": {"S": record.key_hash}},
            UpdateExpression="SET #s = :revoked, revoked = :at",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":revoked": {"S": REVOKED}, ":at": {"S": revoked.revoked}},
        )
        self._leave_plan(record)
        self._delete_api_key(record)
        return revoked

    def _leave_plan(self, record: KeyRecord) -> None:
        plan = self.resources.usage_plans.get(record.tier)
        if plan is None:
            return
        try:
            self.apigateway.delete_usage_plan_key(usagePlanId=plan, keyId=record.api_key_id)
        except self.apigateway.exceptions.NotFoundException:
            pass  # already gone: removing it again is what was asked

    def _delete_api_key(self, record: KeyRecord) -> None:
        try:
            self.apigateway.delete_api_key(apiKey=record.api_key_id)
        except self.apigateway.exceptions.NotFoundException:
            pass

    def _check_tenant(self, tenant: str) -> None:
        if not TENANT_RE.match(tenant):
            raise TenantError(f"tenant id {tenant!r} must match {TENANT_RE.pattern}")

    def _check_tier(self, tier: str) -> None:
        if tier not in self.resources.usage_plans:
            raise TenantError(f"unknown tier {tier!r}; this deployment's tiers: {', '.join(sorted(self.resources.usage_plans))}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

"""tools/tenants.py against moto: the key table and API Gateway's API keys and usage-plan keys
move together on create, rotate, move and revoke."""

from __future__ import annotations

import json

import boto3
import pytest

from tools import tenants
from tools.tenant_admin import Resources, TenantError


def plan_keys(resources: Resources) -> dict[str, set[str]]:
    client = boto3.client("apigateway")
    return {tier: {k["id"] for k in client.get_usage_plan_keys(usagePlanId=plan)["items"]}
            for tier, plan in resources.usage_plans.items()}


def api_keys() -> set[str]:
    return {k["id"] for k in boto3.client("apigateway").get_api_keys()["items"]}


def test_create_rotate_move_revoke(admin, tenant_aws):
    key, record = admin.create("acme", "free")
    assert key.startswith("sk-") and len(key) >= 46 and record.key_prefix == key[:7] + "…"
    assert plan_keys(tenant_aws) == {"free": {record.api_key_id}, "gold": set()}
    with pytest.raises(TenantError, match="already has an active key"):
        admin.create("acme", "gold")

    new_key, new = admin.rotate("acme")
    assert new_key != key and new.tier == "free"
    assert api_keys() == {new.api_key_id} and plan_keys(tenant_aws)["free"] == {new.api_key_id}
    assert sorted(r.status for r in admin.records("acme")) == ["active", "revoked"]

    [moved] = admin.move("acme", "gold")
    assert moved.tier == "gold" and plan_keys(tenant_aws) == {"free": set(), "gold": {new.api_key_id}}

    [revoked] = admin.revoke("acme")
    assert revoked.status == "revoked" and api_keys() == set() and plan_keys(tenant_aws)["gold"] == set()


def test_refusals_name_the_allowed_values(admin):
    with pytest.raises(TenantError, match="this deployment's tiers: free, gold"):
        admin.create("acme", "platinum")
    with pytest.raises(TenantError, match="must match"):
        admin.create("Acme Corp", "free")
    with pytest.raises(TenantError, match="no active key"):
        admin.rotate("nobody")


def test_the_cli_prints_the_key_once_and_lists_without_it(tenant_aws, capsys):
    flags = ["--keys-table", tenant_aws.keys_table, "--usage-plans", json.dumps(tenant_aws.usage_plans)]
    assert tenants.main([*flags, "create", "acme", "--tier", "gold"]) == 0
    key = capsys.readouterr().out.strip()
    assert tenants.main([*flags, "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert set(row) == {"key_id", "tenant", "tier", "status", "created", "api_key_id", "key_prefix", "revoked"}
    assert key not in json.dumps(row)
    assert tenants.main([*flags, "move", "acme", "--tier", "bronze"]) == 2
    assert "unknown tier 'bronze'" in capsys.readouterr().err


def test_resources_from_stack_outputs_and_the_local_state(tmp_path):
    outputs = {"TenantKeysTable": "keys", "TenantUsageTable": "usage", "TenantUsagePlans": '{"free": "p1"}'}

    class Cfn:
        def describe_stacks(self, StackName):  # noqa: N803 - boto3's spelling
            assert StackName == "fm-tenants-api"
            return {"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}

    resources = Resources.from_stack("fm-tenants-api", "us-east-1", cloudformation=Cfn())
    assert resources == Resources("keys", {"free": "p1"}, "usage", "us-east-1")
    with pytest.raises(TenantError, match="TenantUsagePlans"):
        Resources.from_outputs({"TenantKeysTable": "keys"})
    state = tmp_path / "local.json"
    state.write_text(Resources("k", {"free": "p"}, "u", "us-east-1", "http://127.0.0.1:1").to_json())
    assert Resources.local(state).endpoint_url == "http://127.0.0.1:1"
    with pytest.raises(TenantError, match="make serve"):
        Resources.local(tmp_path / "missing.json")

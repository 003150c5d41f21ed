"""moto-backed tenant resources (keys table, usage table, usage plans per tier) and the
environment the tenants package reads, for the tenants' unit tests."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

TIERS = {
    "free": {"rate_limit": 1, "burst_limit": 2, "quota": {"limit": 100, "period": "DAY"},
             "models": ["falcon-7b-instruct"], "monthly_token_budget": 1000},
    "gold": {"rate_limit": 10, "burst_limit": 20, "quota": None, "models": ["*"], "monthly_token_budget": None},
}


@pytest.fixture
def tenant_aws(monkeypatch):
    """In-process moto with the tenant tables and plans; yields tools.tenant_admin.Resources."""
    from local.moto_backend import create_tenant_infra
    from stacks.config import TenantsConfig
    from tenants import authorizer, aws
    from tools.tenant_admin import Resources

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        infra = create_tenant_infra(None, TIERS)
        tiers = TenantsConfig.model_validate({"tiers": TIERS}).authorizer_tiers()
        monkeypatch.setenv("TENANT_KEYS_TABLE", infra["keys_table"])
        monkeypatch.setenv("TENANT_USAGE_TABLE", infra["usage_table"])
        monkeypatch.setenv("TENANT_TIERS_JSON", json.dumps(tiers))
        aws.reset()
        authorizer.tiers.cache_clear()
        yield Resources(infra["keys_table"], infra["usage_plans"], infra["usage_table"], "us-east-1")
        aws.reset()
        authorizer.tiers.cache_clear()


@pytest.fixture
def admin(tenant_aws):
    from tools.tenant_admin import TenantAdmin

    return TenantAdmin(tenant_aws)

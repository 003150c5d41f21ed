"""Token budgets (one conditional counter per tenant and month) and usage records."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest

from tenants import budget, usage
from tenants.context import TenantContext

NOW = datetime(2026, 12, 31, 23, 59, 30, tzinfo=timezone.utc)


def counter(resources, tenant: str, month: str = "2026-12") -> int:
    item = boto3.client("dynamodb").get_item(TableName=resources.usage_table, Key=budget.counter_key(tenant, month))
    return int(item.get("Item", {}).get("used", {}).get("N", "0"))


def test_reserve_within_budget_then_settle_by_actual_use(tenant_aws):
    r = budget.reserve("acme", 100, 60, now=NOW)
    assert (r.month, r.tokens, r.budget) == ("2026-12", 60, 100)
    budget.settle(r, 25)
    assert counter(tenant_aws, "acme") == 25


def test_over_budget_is_refused_with_used_budget_and_retry_after(tenant_aws):
    budget.reserve("acme", 100, 80, now=NOW)
    with pytest.raises(budget.BudgetExhausted) as err:
        budget.reserve("acme", 100, 30, now=NOW)
    assert (err.value.used, err.value.budget, err.value.retry_after) == (80, 100, 30)
    assert str(err.value) == "monthly token budget exhausted: 80 of 100 tokens used this month"
    assert counter(tenant_aws, "acme") == 80  # the refused call counted nothing


def test_a_call_larger_than_the_whole_budget_is_refused_on_a_fresh_month(tenant_aws):
    with pytest.raises(budget.BudgetExhausted) as err:
        budget.reserve("new", 100, 101, now=NOW)
    assert err.value.used == 0


def test_settle_counts_past_the_budget_what_was_really_used(tenant_aws):
    r = budget.reserve("acme", 100, 90, now=NOW)
    budget.settle(r, 130)
    assert counter(tenant_aws, "acme") == 130
    with pytest.raises(budget.BudgetExhausted):
        budget.reserve("acme", 100, 0 + 1, now=NOW)


@pytest.mark.parametrize("no_budget", [None, 0])
def test_no_budget_makes_no_dynamodb_call(monkeypatch, no_budget):
    monkeypatch.setattr(budget, "tables", lambda: pytest.fail("no call expected"))
    r = budget.reserve("acme", no_budget, 10**9)
    budget.settle(r, 10**9)
    assert r.budget is None


def test_retry_after_runs_to_the_next_utc_month():
    assert budget.seconds_to_next_month(datetime(2026, 2, 28, 0, 0, tzinfo=timezone.utc)) == 86400
    assert budget.month_key(NOW) == "2026-12"


def test_usage_writes_one_emf_line_and_a_daily_counter(tenant_aws, capsys):
    assert usage.record("acme", "falcon-7b-instruct", 12, 30, "model", 123.4, 200, tier="free", now=NOW)
    usage.record("acme", "falcon-7b-instruct", 8, 0, "estimate", 50, 503, now=NOW)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    emf = lines[0]
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["Tenant", "Model"], ["Tenant"]]
    assert {m["Name"] for m in directive["Metrics"]} == {"Requests", "PromptTokens", "CompletionTokens", "Latency"}
    assert (emf["Tenant"], emf["Model"], emf["PromptTokens"], emf["CompletionTokens"], emf["TokenSource"]) == \
        ("acme", "falcon-7b-instruct", 12, 30, "model")
    [item] = boto3.client("dynamodb").scan(TableName=tenant_aws.usage_table)["Items"]
    assert item["sk"]["S"] == "day#2026-12-31#model#falcon-7b-instruct"
    assert {k: item[k]["N"] for k in ("requests", "prompt_tokens", "completion_tokens", "estimated_requests",
                                      "error_requests")} == {"requests": "2", "prompt_tokens": "20",
                                                            "completion_tokens": "30", "estimated_requests": "1",
                                                            "error_requests": "1"}


def test_usage_recording_never_fails_the_call(tenant_aws, monkeypatch, capsys, caplog):
    from tenants import aws

    monkeypatch.setenv("TENANT_USAGE_TABLE", "no-such-table")
    aws.reset()
    assert usage.record("acme", "m", 1, 1, "model", 1, 200) is False
    assert usage.FAILURE_METRIC in capsys.readouterr().out
    assert "usage not recorded" in caplog.text


def test_tenant_context_from_a_proxy_event():
    event = {"requestContext": {"authorizer": {"principalId": "acme", "tenant": "acme", "tier": "free",
                                               "models": "a,b", "token_budget": "1000", "integrationLatency": 3}}}
    ctx = TenantContext.from_event(event)
    assert ctx == TenantContext("acme", "free", frozenset({"a", "b"}), 1000)
    assert ctx.allows("a") and not ctx.allows("c")
    every = TenantContext.from_event({"requestContext": {"authorizer": {"tenant": "t", "models": "*",
                                                                        "token_budget": "0"}}})
    assert every.models is None and every.token_budget is None and every.allows("anything")
    assert TenantContext.from_event({"requestContext": {"identity": {}}}) is None
    assert TenantContext.from_event({}) is None

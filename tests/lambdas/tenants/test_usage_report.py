"""tools/usage_report.py over moto usage items: tokens and requests per tenant, GPU cost
apportioned by token share per endpoint, request costs, and a report section without AWS."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest

from tenants import usage
from tools import usage_report

MODELS = [
    {"name": "falcon-7b-instruct", "endpoint_name": "ep-text", "instance_type": "ml.g5.2xlarge", "instance_count": 1},
    {"name": "stable-diffusion-2-1-base", "endpoint_name": "ep-image", "instance_type": "ml.p3.2xlarge",
     "instance_count": 1},
]
DAY = datetime(2026, 11, 5, tzinfo=timezone.utc)


def test_cost_is_apportioned_by_token_share(tenant_aws, capsys):
    usage.record("acme", "falcon-7b-instruct", 300, 100, "model", 1000, 200, now=DAY)   # 400 tokens
    usage.record("beta", "falcon-7b-instruct", 50, 50, "estimate", 1000, 200, now=DAY)  # 100 tokens
    usage.record("beta", "stable-diffusion-2-1-base", 0, 0, "estimate", 4000, 200, now=DAY)  # no tokens: by requests
    usage.record("acme", "falcon-7b-instruct", 1, 1, "model", 1, 200,
                 now=datetime(2026, 12, 1, tzinfo=timezone.utc))  # another month
    lines = usage_report.report(boto3.client("dynamodb"), tenant_aws.usage_table, "2026-11", MODELS)
    rows = {line.split(" | ")[0].strip("| "): line for line in lines[3:]}
    hours = 30 * 24
    text, image = 1.515 * hours, 3.825 * hours
    tenants = usage_report.aggregate(usage_report.scan_month(boto3.client("dynamodb"), tenant_aws.usage_table, "2026-11"))
    usage_report.apportion(tenants, *usage_report.endpoint_costs(MODELS, "2026-11"))
    assert tenants["acme"].gpu_usd == pytest.approx(text * 0.8, rel=1e-3)
    assert tenants["beta"].gpu_usd == pytest.approx(text * 0.2 + image, rel=1e-2)
    assert (tenants["acme"].requests, tenants["acme"].prompt_tokens, tenants["acme"].completion_tokens) == (1, 300, 100)
    assert tenants["beta"].estimated_requests == 2
    # 2 requests: API Gateway 2 x $3.50/M, Lambda 2 x $0.20/M + 5 s x 0.5 GB x $0.0000133334
    assert tenants["beta"].request_usd == pytest.approx(2 * 3.7e-6 + 5 * 0.5 * 0.0000133334)
    assert set(rows) == {"acme", "beta"}


def test_no_usage_and_no_deployment_still_render(tenant_aws):
    assert usage_report.report(boto3.client("dynamodb"), tenant_aws.usage_table, "2026-01", MODELS) == \
        ["no usage recorded in 2026-01"]
    assert usage_report.section("config/default.yaml", "2026-01")[-1].startswith("not a tenant_keys deployment")
    # No stack in (moto's) CloudFormation: the section says so instead of failing the review.
    assert usage_report.section("config/examples/tenants.yaml", "2026-01")[-1].startswith("no usage table")

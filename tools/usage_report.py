"""Requests, tokens and cost per tenant for one month, from the tenant usage table.

    python -m tools.usage_report --month 2026-12 [--config config/examples/tenants.yaml]
    python -m tools.usage_report --month 2026-12 --table <usage table> [--region us-east-1]
    python -m tools.usage_report --month 2026-12 --local      # the `make serve` stack

Cost per tenant = for each endpoint, its GPU cost for the month (pinned on-demand price of
its instance type x its configured instance count x the month's hours: the configured count,
not the autoscaled one, which only CloudWatch knows) apportioned by the tenant's share of the
tokens on that endpoint's models (by requests for an endpoint that counts no tokens, e.g.
images), plus API Gateway REST requests at $3.50 per million (us-east-1, first 333 million a
month; aws.amazon.com/api-gateway/pricing) and Lambda at $0.20 per million requests plus
$0.0000133334 per GB-second on arm64 (us-east-1; aws.amazon.com/lambda/pricing) for the
front door's recorded latency at its 512 MB. Authorizer invocations (one per cache miss)
are not in the usage table and not counted. Reads the table with a paginated Scan
(dynamodb:Scan and kms:Decrypt on its key).
"""

from __future__ import annotations

import argparse
import calendar
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

APIGW_USD_PER_MILLION = 3.50
LAMBDA_USD_PER_MILLION = 0.20
LAMBDA_USD_PER_GB_SECOND_ARM = 0.0000133334
FRONT_DOOR_MEMORY_GB = 0.5  # stacks/constructs/python_function.py default memory_mb
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class TenantUsage:
    tenant: str
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    estimated_requests: int = 0
    by_model: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: {"tokens": 0, "requests": 0}))
    gpu_usd: float = 0.0

    @property
    def request_usd(self) -> float:
        apigw = self.requests * APIGW_USD_PER_MILLION / 1e6
        lam = self.requests * LAMBDA_USD_PER_MILLION / 1e6
        lam += self.latency_ms / 1000 * FRONT_DOOR_MEMORY_GB * LAMBDA_USD_PER_GB_SECOND_ARM
        return apigw + lam

    @property
    def total_usd(self) -> float:
        return self.gpu_usd + self.request_usd


def scan_month(client: Any, table: str, month: str) -> list[dict]:
    """The daily usage items of `month` (tenants.usage writes them)."""
    items: list[dict] = []
    for page in client.get_paginator("scan").paginate(
        TableName=table, FilterExpression="#m = :m AND begins_with(sk, :day)",
        ExpressionAttributeNames={"#m": "month"},
        ExpressionAttributeValues={":m": {"S": month}, ":day": {"S": "day#"}},
    ):
        items += page.get("Items", [])
    return items


def aggregate(items: Iterable[dict]) -> dict[str, TenantUsage]:
    tenants: dict[str, TenantUsage] = {}
    for item in items:
        n = {k: int(v["N"]) for k, v in item.items() if "N" in v}
        usage = tenants.setdefault(item["tenant"]["S"], TenantUsage(item["tenant"]["S"]))
        usage.requests += n.get("requests", 0)
        usage.prompt_tokens += n.get("prompt_tokens", 0)
        usage.completion_tokens += n.get("completion_tokens", 0)
        usage.latency_ms += n.get("latency_ms", 0)
        usage.estimated_requests += n.get("estimated_requests", 0)
        model = usage.by_model[item["model"]["S"]]
        model["tokens"] += n.get("prompt_tokens", 0) + n.get("completion_tokens", 0)
        model["requests"] += n.get("requests", 0)
    return tenants


def endpoint_costs(models: list[dict], month: str) -> tuple[dict[str, str], dict[str, float]]:
    """(model name -> endpoint, endpoint -> GPU USD for the month) from MODELS_JSON entries."""
    from stacks.config.catalog import instances

    year, mon = map(int, month.split("-"))
    hours = calendar.monthrange(year, mon)[1] * 24
    prices = instances().instances
    endpoint_of, cost = {}, {}
    for m in models:
        endpoint_of[m["name"]] = m["endpoint_name"]
        facts = prices.get(m["instance_type"])
        cost[m["endpoint_name"]] = facts.usd_per_hour * m["instance_count"] * hours if facts else 0.0
    return endpoint_of, cost


def apportion(tenants: dict[str, TenantUsage], endpoint_of: dict[str, str], cost: dict[str, float]) -> None:
    """Each endpoint's cost to its tenants by token share (request share where no tokens)."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"tokens": 0, "requests": 0})
    for usage in tenants.values():
        for model, n in usage.by_model.items():
            for k in ("tokens", "requests"):
                totals[endpoint_of.get(model, model)][k] += n[k]
    for usage in tenants.values():
        for model, n in usage.by_model.items():
            endpoint = endpoint_of.get(model, model)
            basis = "tokens" if totals[endpoint]["tokens"] else "requests"
            if totals[endpoint][basis]:
                usage.gpu_usd += cost.get(endpoint, 0.0) * n[basis] / totals[endpoint][basis]


def render(tenants: dict[str, TenantUsage], month: str) -> list[str]:
    if not tenants:
        return [f"no usage recorded in {month}"]
    lines = [f"Usage per tenant, {month} (GPU cost apportioned by token share; requests at API Gateway + Lambda prices)",
             "| tenant | requests | prompt tokens | completion tokens | estimated | GPU $ | requests $ | total $ |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for t in sorted(tenants.values(), key=lambda u: -u.total_usd):
        lines.append(f"| {t.tenant} | {t.requests:,} | {t.prompt_tokens:,} | {t.completion_tokens:,} | "
                     f"{t.estimated_requests:,} | {t.gpu_usd:,.2f} | {t.request_usd:,.4f} | {t.total_usd:,.2f} |")
    return lines


def report(client: Any, table: str, month: str, models: list[dict]) -> list[str]:
    tenants = aggregate(scan_month(client, table, month))
    apportion(tenants, *endpoint_costs(models, month))
    return render(tenants, month)


def section(config_path: str | None, month: str, client: Any = None, table: str | None = None) -> list[str]:
    """`make report`'s section: the table, or why there is none (never fails without AWS)."""
    from local.deployment import models_from_config
    from stacks.config import load_config, stack_name

    config = load_config(config_path)
    head = [f"## Usage per tenant ({month})", ""]
    if config.api.auth != "tenant_keys":
        return [*head, f"not a tenant_keys deployment (api.auth: {config.api.auth}): no usage per tenant"]
    try:
        if table is None:
            from tools.tenant_admin import Resources

            table = Resources.from_stack(stack_name(config, "api"), config.region).usage_table
        if client is None:
            import boto3

            client = boto3.client("dynamodb", region_name=config.region)
        return [*head, *report(client, table, month, models_from_config(config_path))]
    except Exception as err:  # noqa: BLE001 - a review must render without a deployment or credentials
        return [*head, f"no usage table ({type(err).__name__}: not deployed, or no AWS credentials here)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.usage_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--month", required=True, help="UTC month, YYYY-MM")
    parser.add_argument("--config", default="config/default.yaml")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--table", help="the usage table (default: the Api stack's TenantUsageTable output)")
    where.add_argument("--local", action="store_true", help="the `make serve` stack")
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    if not MONTH_RE.match(args.month):
        parser.error(f"--month must be YYYY-MM, got {args.month!r}")
    client = None
    table = args.table
    if args.local:
        from tools.tenant_admin import Resources

        resources = Resources.local()
        client, table = resources.clients()[0], resources.usage_table
    elif table:
        import boto3

        client = boto3.client("dynamodb", region_name=args.region)
    print("\n".join(section(args.config, args.month, client, table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Notebook endpoints the Studio reaper would delete, when, and what they cost per hour.

    python -m tools.reaper_report [--config config/examples/studio-vpc.yaml]

Reads the account and region the AWS credentials and the config point at, read-only:
ListEndpoints, ListTags, DescribeEndpoint, DescribeEndpointConfig, GetMetricData, and the
Endpoints stack's resources (CloudFormation ListStackResources) for the platform's own
endpoints, which the reaper never touches. Each notebook endpoint is judged by the reaper's
own code (`studio_reaper.handler.plan`, no tag, notice or delete) with the config's
`studio.deploy` windows. Prices: the pinned on-demand list prices of
config/catalog/instances.yaml (refreshed by `python -m tools.pricing`). `make report`
appends this section; without credentials or a deployed Studio it says so instead.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from studio_reaper.handler import plan
from studio_reaper.policy import Endpoint, Settings, Verdict

WHEN = {
    "delete": "the next run",
    "wait": "the next run (owner notified)",
    "notify": "the run after the next one (the next one notifies the owner)",
    "keep": "if still unused or past its TTL by then",
}


@dataclass(frozen=True)
class Row:
    endpoint: Endpoint
    verdict: Verdict
    instances: str
    usd_per_hour: float | None
    delete_by: datetime | None


def latest_deletion(verdict: Verdict, settings: Settings, now: datetime) -> datetime | None:
    """The verdict's time is as seen from a run at `now`; a report runs between runs, so
    the next run may be up to one period away."""
    if verdict.action in ("notify", "delete") and verdict.delete_by is not None:
        return verdict.delete_by + settings.rate
    return verdict.delete_by


def settings_from_config(config: Any, platform: list[str]) -> Settings:
    deploy = config.studio.deploy
    return Settings(idle_hours=deploy.idle_hours, ttl_hours=deploy.ttl_hours, rate_minutes=deploy.reaper_rate_minutes,
                    dry_run=True, topic_arn="", platform=frozenset(n.lower() for n in platform))


def platform_endpoints(cloudformation: Any, stack_name: str) -> list[str]:
    """Names of the endpoints the Endpoints stack declares (an endpoint's physical id is its ARN)."""
    names = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        names += [r["PhysicalResourceId"].rsplit(":endpoint/", 1)[-1] for r in page.get("StackResourceSummaries", [])
                  if r["ResourceType"] == "AWS::SageMaker::Endpoint" and r.get("PhysicalResourceId")]
    return names


def hourly_cost(sagemaker: Any, endpoint_name: str, prices: dict[str, float]) -> tuple[str, float | None]:
    """("2 x ml.g5.2xlarge", USD/h) from the endpoint's current instance counts and its config's types."""
    endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    counts = {v["VariantName"]: v.get("CurrentInstanceCount") for v in endpoint.get("ProductionVariants", [])}
    parts, total = [], 0.0
    for variant in config.get("ProductionVariants", []):
        kind = variant.get("InstanceType")
        if kind is None:
            parts.append("serverless")
            continue
        count = counts.get(variant["VariantName"]) or variant.get("InitialInstanceCount", 1)
        parts.append(f"{count} x {kind}")
        total = total + prices[kind] * count if kind in prices and total is not None else None
    return ", ".join(parts), total


def rows(settings: Settings, sagemaker: Any, cloudwatch: Any, now: datetime) -> list[Row]:
    from stacks.config.catalog import instances

    prices = {name: facts.usd_per_hour for name, facts in instances().instances.items()}
    found = []
    for endpoint, verdict in plan(settings, sagemaker, cloudwatch, now):
        described, cost = hourly_cost(sagemaker, endpoint.name, prices) if endpoint.status == "InService" else (
            endpoint.status, None)
        found.append(Row(endpoint, verdict, described, cost, latest_deletion(verdict, settings, now)))
    far = datetime.max.replace(tzinfo=timezone.utc)
    return sorted(found, key=lambda r: (r.delete_by or far, r.endpoint.name))


def render(found: list[Row], config: Any, now: datetime) -> list[str]:
    from stacks.config.catalog import instances, usd

    deploy = config.studio.deploy
    lines = [f"Judged {now:%Y-%m-%d %H:%M} UTC with idle_hours {deploy.idle_hours}, ttl_hours {deploy.ttl_hours}, "
             f"a run every {deploy.reaper_rate_minutes} min; times are the latest deletion if nothing changes."]
    if deploy.dry_run:
        lines.append("studio.deploy.dry_run is on: the reaper only reports; these are the times it would act.")
    if not found:
        return [*lines, "", "no notebook endpoints (none carries the owner tag)"]
    lines += ["", "| endpoint | owner | instances | $/h | deleted by (UTC) | when | why |", "|---|---|---|---:|---|---|---|"]
    for r in found:
        when = r.delete_by.strftime("%Y-%m-%d %H:%M") if r.delete_by else "not while " + r.endpoint.status
        cost = usd(r.usd_per_hour) if r.usd_per_hour is not None else "n/a"
        lines.append(f"| {r.endpoint.name} | {r.endpoint.owner} | {r.instances} | {cost} | {when} | "
                     f"{WHEN[r.verdict.action]} | {r.verdict.reason} |")
    total = sum(r.usd_per_hour or 0 for r in found)
    facts = instances()
    lines += ["", f"{len(found)} notebook endpoint(s): {usd(total)}/h while they run "
                  f"(on-demand {facts.price_region} list prices pinned {facts.pinned})"]
    return lines


def section(config_path: str | None, now: datetime, clients: dict[str, Any] | None = None) -> list[str]:
    """`make report`'s section: the table, or why there is none (never fails without AWS)."""
    from stacks.config import load_config, stack_name

    config = load_config(config_path)
    head = ["## Notebook endpoints the Studio reaper would delete", ""]
    if not (config.studio.enabled and config.studio.deploy.enabled):
        return [*head, "no notebook deployments in this config (studio.enabled and studio.deploy.enabled): no reaper"]
    try:
        if clients is None:
            import boto3

            clients = {n: boto3.client(n, region_name=config.region) for n in ("sagemaker", "cloudwatch", "cloudformation")}
        platform = platform_endpoints(clients["cloudformation"], stack_name(config, "endpoints"))
        settings = settings_from_config(config, platform)
        return [*head, *render(rows(settings, clients["sagemaker"], clients["cloudwatch"], now), config, now)]
    except Exception as err:  # noqa: BLE001 - a review must render without a deployment or credentials
        return [*head, f"needs AWS credentials for the deployed account ({type(err).__name__}: not deployed, "
                       "or no AWS credentials here); run `python -m tools.reaper_report --config <file>` with them"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reaper_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=None, help="deployment config (default: the embedded default)")
    args = parser.parse_args(argv)
    print("\n".join(section(args.config, datetime.now(timezone.utc))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

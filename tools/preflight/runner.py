"""Run every check against one account and region: the clients, what the synthesized assembly
says, and the order of the checks."""

from __future__ import annotations

from pathlib import Path

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from stacks.config import REPO, stack_name
from stacks.models.jumpstart import resolve_endpoints
from stacks.models.shared_endpoints import resolve_shared_endpoints
from stacks.models.marketplace import ResolvedPackage
from tools.preflight.account import (STUCK, check_bootstrap, check_leftover_stacks, check_network, check_waf_log_group,
                                     live_stacks)
from tools.preflight.capacity import check_endpoint_quotas, check_lambda_concurrency
from tools.preflight.models import check_artifacts, check_marketplace_packages
from tools.preflight.results import NO_CREDENTIALS, CannotRun, Result, guarded
from tools.report.assembly import Assembly

CLIENTS = ("service-quotas", "lambda", "cloudformation", "s3", "logs", "ec2", "sagemaker", "marketplace-agreement")
# Clients not in the deployment's region: the AWS Marketplace Agreement API answers in us-east-1.
CLIENT_REGIONS = {"marketplace-agreement": "us-east-1"}
STACK_SUFFIXES = ("network", "endpoints", "studio", "api", "monitoring")
# The minimum aws-cdk-lib's CheckBootstrapVersion rule demands today; the real one is
# read from a synthesized assembly when there is one.
DEFAULT_MIN_BOOTSTRAP = 6


def read_assembly(assembly: Path, names: list[str]) -> dict:
    """What this deployment's synthesized templates say, if an assembly holds them."""
    facts = {"min_bootstrap": None, "reserved": None, "log_groups": None}
    try:
        stacks = Assembly(assembly).stacks.values()
    except FileNotFoundError:
        return facts
    templates = [s.template for s in stacks if s.name in names]
    if not templates:
        return facts
    resources = [r for t in templates for r in t.get("Resources", {}).values()]
    facts["reserved"] = sum(r.get("Properties", {}).get("ReservedConcurrentExecutions", 0)
                            for r in resources if r.get("Type") == "AWS::Lambda::Function")
    facts["log_groups"] = {r["Properties"]["LogGroupName"] for r in resources
                           if isinstance(r.get("Properties", {}).get("LogGroupName"), str)}
    # CheckBootstrapVersion asserts: Fn::Not [Fn::Contains [[too-old versions], Ref BootstrapVersion]].
    for t in templates:
        for assertion in t.get("Rules", {}).get("CheckBootstrapVersion", {}).get("Assertions", []):
            too_old = assertion["Assert"]["Fn::Not"][0]["Fn::Contains"][0]
            facts["min_bootstrap"] = max(int(v) for v in too_old) + 1
    return facts


def run_checks(clients: dict, config, region: str, assembly: Path = REPO / "cdk.out") -> list[Result]:
    """Every check, in the order an operator fixes things (account first, then names)."""
    resolved = resolve_endpoints(config)
    packages = [r for r in resolved if isinstance(r, ResolvedPackage)]
    # Shared endpoints count with their max_instances; their models' artifacts are checked too.
    shared = resolve_shared_endpoints(config)
    components = [c for s in shared for c in s.components]
    names = [stack_name(config, s) for s in STACK_SUFFIXES]
    facts = read_assembly(assembly, names)
    # The assembly also counts the worker/sleep/Studio functions; the config value is the
    # front door's alone, where None (the new default) or 0 reserves nothing.
    reserved = facts["reserved"] if facts["reserved"] is not None else (config.api.reserved_concurrency or 0)
    stacks: dict[str, str] = {}  # stays empty when ListStacks is not allowed

    def leftovers() -> list[Result]:
        stacks.update(live_stacks(clients["cloudformation"], names))
        return check_leftover_stacks(stacks)

    leftover_rows = guarded("leftover stacks", leftovers)
    api = stack_name(config, "api")
    api_live = api in stacks and stacks[api] not in STUCK
    # Without an assembly, assume the fixed name older versions used.
    waf_fixed = facts["log_groups"] is None or f"aws-waf-logs-{api}" in facts["log_groups"]
    return [
        *guarded("endpoint instance quota", check_endpoint_quotas, clients["service-quotas"], [*resolved, *shared],
                 region),
        *guarded("lambda concurrency", check_lambda_concurrency, clients["lambda"], reserved, api_live),
        *guarded("cdk bootstrap", check_bootstrap, clients["cloudformation"],
                 facts["min_bootstrap"] or DEFAULT_MIN_BOOTSTRAP),
        *guarded("model artifacts", check_artifacts, clients["s3"], [*resolved, *components], region),
        *(guarded("marketplace package", check_marketplace_packages, clients["sagemaker"],
                  clients["marketplace-agreement"], packages, region) if packages else []),
        *leftover_rows,
        *guarded("leftover log group", check_waf_log_group, clients["logs"], config, api_live, waf_fixed),
        *guarded("vpc and subnets", check_network, clients["ec2"], config.network),
    ]


def _needs_credentials(region: str) -> CannotRun:
    return CannotRun(f"preflight needs AWS credentials for the target account (set AWS_PROFILE or run "
                     f"`aws sso login`) and region {region} (--region or config.region)")


def run(session: boto3.Session | None, config, region: str | None = None,
        assembly: Path = REPO / "cdk.out") -> list[Result]:
    """Build the region's clients and run every check; raises CannotRun."""
    region = region or config.region
    if region != config.region:
        # Artifact buckets and image URIs are per region: resolve for the one checked.
        config = config.model_copy(update={"region": region})
    try:
        session = session or boto3.Session()  # an unknown AWS_PROFILE fails here already
        if session.get_credentials() is None:
            raise NoCredentialsError()
        clients = {name: session.client(name, region_name=CLIENT_REGIONS.get(name, region)) for name in CLIENTS}
        return run_checks(clients, config, region, assembly)
    except NO_CREDENTIALS:
        raise _needs_credentials(region) from None
    except EndpointConnectionError as exc:
        raise CannotRun(f"preflight cannot reach AWS in {region}: {exc}") from None
    except ClientError as exc:  # only BAD_CREDENTIALS get this far
        raise CannotRun(f"{exc.response['Error'].get('Message')}: {_needs_credentials(region)}") from None

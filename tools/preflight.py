"""Read-only checks against the operator's AWS account before `cdk deploy`.

    python -m tools.preflight --config config/default.yaml [--region eu-west-1]

Prints a table (check, subject, PASS/WARN/FAIL/SKIP, detail; the fix under each non-PASS
row) and a summary line. Exit 0: no FAIL; 1: a FAIL; 2: cannot run (no credentials, no
network, bad config). Only List/Describe/Get/Head/Search calls; tested with botocore's Stubber.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import (ClientError, CredentialRetrievalError, EndpointConnectionError, NoCredentialsError,
                                 PartialCredentialsError, ProfileNotFound, SSOError, TokenRetrievalError)

from stacks.config import REPO, ConfigError, load_config, stack_name
from stacks.jumpstart import ResolvedEndpoint, resolve_endpoints
from stacks.shared_endpoints import resolve_shared_endpoints
from stacks.marketplace import ResolvedPackage
from tools.report.assembly import Assembly

CLIENTS = ("service-quotas", "lambda", "cloudformation", "s3", "logs", "ec2", "sagemaker", "marketplace-agreement")
# Clients not in the deployment's region: the AWS Marketplace Agreement API answers in us-east-1.
CLIENT_REGIONS = {"marketplace-agreement": "us-east-1"}
STACK_SUFFIXES = ("network", "endpoints", "studio", "api", "monitoring")
TOOLKIT_STACK = "CDKToolkit"  # `cdk bootstrap`'s default --toolkit-stack-name
# The minimum aws-cdk-lib's CheckBootstrapVersion rule demands today; the real one is
# read from a synthesized assembly when there is one.
DEFAULT_MIN_BOOTSTRAP = 6
LAMBDA_HEADROOM = 100  # unreserved concurrency Lambda never lets you reserve
STUCK = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}  # must be deleted first
NO_CREDENTIALS = (NoCredentialsError, PartialCredentialsError, ProfileNotFound, SSOError,
                  TokenRetrievalError, CredentialRetrievalError)
# Credentials that exist but do not work: every call fails the same way.
BAD_CREDENTIALS = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                   "UnrecognizedClientException", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


@dataclass(frozen=True)
class Result:
    check: str
    subject: str
    status: str  # PASS, WARN, FAIL or SKIP
    detail: str
    fix: str = ""


class CannotRun(Exception):
    """Preflight can say nothing about the account; the message is one line."""


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _guarded(check: str, fn, *args) -> list[Result]:
    """A check the caller may not run (e.g. AccessDenied) is a warning, not a verdict."""
    try:
        return fn(*args)
    except ClientError as exc:
        if _code(exc) in BAD_CREDENTIALS:
            raise
        return [Result(check, exc.operation_name, "WARN", f"could not check: {_code(exc)}",
                       "run with a role that may read it (e.g. the ReadOnlyAccess managed policy)")]


def instances_needed(endpoints: list[ResolvedEndpoint]) -> dict[str, int]:
    """Most instances each type can reach: autoscaling max, else the fixed count."""
    need: Counter[str] = Counter()
    for ep in endpoints:
        need[ep.instance_type] += ep.max_capacity
    return dict(need)


def _quota_values(sq, operation: str, names: set[str]) -> dict[str, float]:
    found = {}
    for page in sq.get_paginator(operation).paginate(ServiceCode="sagemaker"):
        found.update({q["QuotaName"]: q["Value"] for q in page["Quotas"] if q["QuotaName"] in names})
    return found


def check_endpoint_quotas(sq, endpoints: list[ResolvedEndpoint], region: str) -> list[Result]:
    """Quota "<type> for endpoint usage" per instance type; no quota row = not offered here.

    Sources: Service Quotas API ListServiceQuotas (a quota without an applied value is not
    listed, hence ListAWSDefaultServiceQuotas next; SageMaker has no "offered in region"
    API); SageMaker guide "Blue/Green Deployments" (updates provision the new fleet first).
    """
    need = instances_needed(endpoints)
    names = {f"{t} for endpoint usage": t for t in need}
    quotas = _quota_values(sq, "list_service_quotas", set(names))
    if missing := set(names) - set(quotas):
        quotas |= _quota_values(sq, "list_aws_default_service_quotas", missing)
    rows = []
    for name, itype in sorted(names.items()):
        if name not in quotas:
            rows.append(Result("instance type offered", itype, "FAIL", f"not offered in {region} (no quota {name!r})",
                               "pick an instance type the model supports that this region offers, or another region"))
            continue
        rows.append(Result("instance type offered", itype, "PASS", f"offered in {region}"))
        have, want = int(quotas[name]), need[itype]
        status = "FAIL" if have < want else "WARN" if have < 2 * want else "PASS"
        detail = f"quota {have}, config needs up to {want}" + (
            f"; an endpoint update (blue/green) needs up to {2 * want}" if status == "WARN" else "")
        fix = f"Service Quotas console -> Amazon SageMaker -> {name!r} -> request >= {2 * want}"
        rows.append(Result("endpoint instance quota", itype, status, detail, "" if status == "PASS" else fix))
    return rows


def check_lambda_concurrency(lam, reserved: int, already_deployed: bool = False) -> list[Result]:
    """Account concurrency vs. what the deployment reserves. Source: Lambda developer guide
    "Configuring reserved concurrency": you may reserve up to unreserved concurrency minus 100."""
    limit = lam.get_account_settings()["AccountLimit"]
    total, unreserved = limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]
    room = unreserved - LAMBDA_HEADROOM
    detail = f"account limit {total}, unreserved {unreserved}, reservable {max(room, 0)}, deployment reserves {reserved}"
    if reserved == 0 or reserved <= room:
        return [Result("lambda concurrency", "account", "PASS", detail)]
    fix = (f"request Lambda 'Concurrent executions' >= {total + reserved - room} in Service Quotas, "
           "or set api.reserved_concurrency to null")
    # A live deployment's own reservations are already subtracted from unreserved.
    status, note = ("WARN", " (counts the live stacks' own)") if already_deployed else ("FAIL", "")
    return [Result("lambda concurrency", "account", status, detail + note, fix)]


def check_bootstrap(cfn, min_version: int) -> list[Result]:
    """The CDK bootstrap stack exists, is stable and recent enough. Source: AWS CDK guide
    "Bootstrapping" (CDKToolkit's BootstrapVersion output; templates' CheckBootstrapVersion)."""
    fix = "cdk bootstrap aws://<account>/<region> with the project's CDK CLI (npx cdk)"
    try:
        stack = cfn.describe_stacks(StackName=TOOLKIT_STACK)["Stacks"][0]
    except ClientError as exc:
        if _code(exc) == "ValidationError" and "does not exist" in str(exc):
            return [Result("cdk bootstrap", TOOLKIT_STACK, "FAIL", "not bootstrapped in this region", fix)]
        raise
    status = stack["StackStatus"]
    # UPDATE_ROLLBACK_COMPLETE is stable (the previous bootstrap still works: the version
    # check judges it); ROLLBACK_COMPLETE never got created.
    if not status.endswith("_COMPLETE") or status == "ROLLBACK_COMPLETE":
        return [Result("cdk bootstrap", TOOLKIT_STACK, "FAIL", f"stack is {status}",
                       f"wait for or delete {TOOLKIT_STACK} (see its events), then {fix}")]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    version = int(outputs.get("BootstrapVersion", 0))
    if version < min_version:
        return [Result("cdk bootstrap", TOOLKIT_STACK, "FAIL", f"version {version}, needs >= {min_version}", fix)]
    return [Result("cdk bootstrap", TOOLKIT_STACK, "PASS", f"version {version} >= {min_version}")]


def _artifact_error(s3, ep: ResolvedEndpoint) -> str | None:
    """None when the artifacts are there, else what S3 said."""
    try:
        if ep.artifact_is_prefix:
            page = s3.list_objects_v2(Bucket=ep.artifact_bucket, Prefix=ep.artifact_key, MaxKeys=1)
            return None if page.get("KeyCount", 0) else "no objects under the prefix"
        s3.head_object(Bucket=ep.artifact_bucket, Key=ep.artifact_key)
        return None
    except ClientError as exc:
        # HeadObject has no error body: its code is the HTTP status.
        return {"403": "AccessDenied", "404": "NoSuchKey"}.get(_code(exc), _code(exc))


def check_artifacts(s3, endpoints: list[ResolvedEndpoint], region: str) -> list[Result]:
    """The S3 artifacts each Model points at exist. Sources: S3 API ListObjectsV2/HeadObject;
    JumpStart's jumpstart-cache-prod-<region> (gated: jumpstart-private-cache-prod-<region>)."""
    rows = []
    for ep in (e for e in endpoints if not isinstance(e, ResolvedPackage)):  # a package's are the seller's
        where = f"s3://{ep.artifact_bucket}/{ep.artifact_key}"
        error = _artifact_error(s3, ep)
        if error is None:
            rows.append(Result("model artifacts", ep.name, "PASS", f"{where} reachable"))
        elif error == "AccessDenied" and ep.gated:
            # SageMaker reads gated artifacts under AcceptEula; callers may not list them.
            rows.append(Result("model artifacts", ep.name, "WARN", f"{where}: AccessDenied (gated model)",
                               "expected for gated models; SageMaker reads them once accept_eula is true"))
        else:
            rows.append(Result("model artifacts", ep.name, "FAIL", f"{where}: {error}",
                               "python tools/jumpstart_metadata.py refresh (stale pinned metadata), check the "
                               f"region ({region}), and allow s3:ListBucket/s3:GetObject on the bucket"))
    return rows


# What CreateModel answers (and CloudFormation reports for the AWS::SageMaker::Model) when the
# deploying account has no subscription to the package's listing: ValidationException,
# verbatim in aws/amazon-sagemaker-examples issues #1552 and #2286.
NOT_SUBSCRIBED = "Caller is not subscribed to the marketplace offering."


def _subscription_filters(product_id: str) -> list[dict]:
    """SearchAgreements as the buyer: PartyType Acceptor + AgreementType + ResourceIdentifier + Status
    is one of the combinations the API supports for acceptors (botocore marketplace-agreement model)."""
    return [{"name": "PartyType", "values": ["Acceptor"]},
            {"name": "AgreementType", "values": ["PurchaseAgreement"]},
            {"name": "ResourceIdentifier", "values": [product_id]},
            {"name": "Status", "values": ["ACTIVE"]}]


def check_marketplace_packages(sm, agreements, packages: list[ResolvedPackage], region: str) -> list[Result]:
    """Each configured AWS Marketplace model package exists in the region, runs on the configured
    instance type, and this account has an ACTIVE agreement (subscription) for its product.

    Sources: SageMaker API DescribeModelPackage (InferenceSpecification:
    SupportedRealtimeInferenceInstanceTypes, Containers[].ProductId "the AWS Marketplace product ID
    of the model package"); AWS Marketplace Agreement API SearchAgreements (buyer side: PartyType
    Acceptor, AgreementType PurchaseAgreement, ResourceIdentifier = product id, Status ACTIVE).
    """
    rows = []
    for ep in packages:
        listing = ep.package.listing
        try:
            described = sm.describe_model_package(ModelPackageName=ep.model_package_arn)
        except ClientError as exc:
            if _code(exc) in BAD_CREDENTIALS:
                raise
            if "AccessDenied" in _code(exc):
                rows.append(Result("marketplace package", ep.name, "WARN", f"could not check: {_code(exc)}",
                                   "allow sagemaker:DescribeModelPackage on the package ARN"))
            else:
                rows.append(Result(
                    "marketplace package", ep.name, "FAIL",
                    f"{ep.model_package_arn}: {_code(exc)}: {exc.response['Error'].get('Message', '')}",
                    f"the seller may have withdrawn this version in {region}, or the account cannot see it: "
                    f"check {listing} and AI21's current ARN (AI21Labs/SageMaker versions/*/latest.json), then "
                    "config/catalog/marketplace.yaml"))
            continue
        spec = described.get("InferenceSpecification") or {}
        supported = spec.get("SupportedRealtimeInferenceInstanceTypes") or []
        if supported and ep.instance_type not in supported:
            rows.append(Result("marketplace package", ep.name, "FAIL",
                               f"{ep.instance_type} is not among the package's instance types ({', '.join(supported)})",
                               "set endpoints[].instance_type to one of them (and update config/catalog/marketplace.yaml)"))
        else:
            rows.append(Result("marketplace package", ep.name, "PASS",
                               f"{described['ModelPackageName']} in {region} ({described['ModelPackageStatus']})"))
        product = next((c["ProductId"] for c in spec.get("Containers", []) if c.get("ProductId")), None)
        fix = (f"subscribe the deploying account at {listing} (Continue to Subscribe, accept the offer), wait until "
               "the subscription is active, then run preflight again")
        if product is None:
            rows.append(Result("marketplace subscription", ep.name, "WARN",
                               "the package names no AWS Marketplace product id: cannot look up the agreement", fix))
            continue
        try:
            found = agreements.search_agreements(catalog="AWSMarketplace", filters=_subscription_filters(product),
                                                 maxResults=1).get("agreementViewSummaries", [])
        except ClientError as exc:
            if _code(exc) in BAD_CREDENTIALS:
                raise
            rows.append(Result("marketplace subscription", ep.name, "WARN", f"could not check: {_code(exc)}",
                               "allow aws-marketplace:SearchAgreements (read-only), or check Manage subscriptions "
                               "in the AWS Marketplace console"))
            continue
        if found:
            rows.append(Result("marketplace subscription", ep.name, "PASS",
                               f"{product}: agreement {found[0].get('agreementId', '?')} ACTIVE"))
        else:
            rows.append(Result("marketplace subscription", ep.name, "FAIL",
                               f"no ACTIVE agreement for {product}: the deploy would fail at the model with "
                               f"\"{NOT_SUBSCRIBED}\"", fix))
    return rows


def live_stacks(cfn, project_stacks: list[str]) -> dict[str, str]:
    """Status of each not-deleted stack of this deployment (CloudFormation ListStacks)."""
    statuses = [s for s in cfn.meta.service_model.shape_for("StackStatus").enum if s != "DELETE_COMPLETE"]
    found = {}
    for page in cfn.get_paginator("list_stacks").paginate(StackStatusFilter=statuses):
        found.update({s["StackName"]: s["StackStatus"] for s in page["StackSummaries"]
                      if s["StackName"] in project_stacks})
    return found


def check_leftover_stacks(stacks: dict[str, str]) -> list[Result]:
    """Stacks stuck after an earlier failed deploy. Source: CloudFormation user guide "Stack
    status codes" (ROLLBACK_COMPLETE can only be deleted; *_FAILED needs cleanup first)."""
    rows = [Result("leftover stacks", name, "FAIL", f"stack is {status}",
                   f"aws cloudformation delete-stack --stack-name {name}"
                   + (" after removing what blocks it (see its events)" if status == "DELETE_FAILED" else ""))
            for name, status in sorted(stacks.items()) if status in STUCK]
    return rows or [Result("leftover stacks", "stacks", "PASS", "none stuck in ROLLBACK/DELETE_FAILED")]


def check_waf_log_group(logs, config, api_live: bool, fixed_name: bool) -> list[Result]:
    """A retained fixed-name WAF log group makes the next create fail with AlreadyExists.

    Sources: CloudWatch Logs API DescribeLogGroups; CloudFormation "DeletionPolicy attribute"
    (Retain outlives the stack); AWS WAF guide on log groups (names start aws-waf-logs-).
    """
    name = f"aws-waf-logs-{stack_name(config, 'api')}"
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    if not any(g["logGroupName"] == name for g in groups):
        return [Result("leftover log group", name, "PASS", "absent")]
    if api_live:
        return [Result("leftover log group", name, "PASS", "belongs to the live Api stack")]
    fix = f"aws logs delete-log-group --log-group-name {name} (export what you need first)"
    if fixed_name:
        return [Result("leftover log group", name, "FAIL",
                       "retained from an earlier deploy; creating the Api stack would fail with AlreadyExists", fix)]
    return [Result("leftover log group", name, "WARN", "orphaned from an earlier deploy (costs storage)", fix)]


def check_network(ec2, network) -> list[Result]:
    """An imported VPC and its subnets exist, belong together and span >= 2 AZs.

    Sources: EC2 API DescribeVpcs/DescribeSubnets; SageMaker guide "Give SageMaker AI hosted
    endpoints access to resources in your Amazon VPC". No API says which AZ offers an ml.* type.
    """
    if network.mode != "import":
        note = "the Network stack creates the VPC" if network.mode == "create" else "no VPC in this config"
        return [Result("vpc and subnets", network.mode, "SKIP", note)]
    fix = "set network.vpc_id / network.subnet_ids to existing ids in this account and region"
    try:
        ec2.describe_vpcs(VpcIds=[network.vpc_id])
        subnets = ec2.describe_subnets(SubnetIds=list(network.subnet_ids))["Subnets"]
    except ClientError as exc:
        if not _code(exc).endswith(".NotFound"):
            raise
        return [Result("vpc and subnets", network.vpc_id, "FAIL", exc.response["Error"].get("Message", ""), fix)]
    if elsewhere := sorted(s["SubnetId"] for s in subnets if s["VpcId"] != network.vpc_id):
        return [Result("vpc and subnets", network.vpc_id, "FAIL", f"not in this VPC: {', '.join(elsewhere)}", fix)]
    azs = sorted({s["AvailabilityZone"] for s in subnets})
    if len(azs) < 2:
        return [Result("vpc and subnets", network.vpc_id, "FAIL", f"subnets span one AZ ({azs[0]})",
                       "add a private subnet in a second AZ to network.subnet_ids")]
    return [Result("vpc and subnets", network.vpc_id, "PASS", f"{len(subnets)} subnets in {', '.join(azs)}")]


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

    leftover_rows = _guarded("leftover stacks", leftovers)
    api = stack_name(config, "api")
    api_live = api in stacks and stacks[api] not in STUCK
    # Without an assembly, assume the fixed name older versions used.
    waf_fixed = facts["log_groups"] is None or f"aws-waf-logs-{api}" in facts["log_groups"]
    return [
        *_guarded("endpoint instance quota", check_endpoint_quotas, clients["service-quotas"], [*resolved, *shared],
                  region),
        *_guarded("lambda concurrency", check_lambda_concurrency, clients["lambda"], reserved, api_live),
        *_guarded("cdk bootstrap", check_bootstrap, clients["cloudformation"],
                  facts["min_bootstrap"] or DEFAULT_MIN_BOOTSTRAP),
        *_guarded("model artifacts", check_artifacts, clients["s3"], [*resolved, *components], region),
        *(_guarded("marketplace package", check_marketplace_packages, clients["sagemaker"],
                   clients["marketplace-agreement"], packages, region) if packages else []),
        *leftover_rows,
        *_guarded("leftover log group", check_waf_log_group, clients["logs"], config, api_live, waf_fixed),
        *_guarded("vpc and subnets", check_network, clients["ec2"], config.network),
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


def format_table(results: list[Result]) -> str:
    """Aligned columns; each non-PASS row's fix on its own line under it."""
    head = ("CHECK", "SUBJECT", "STATUS", "DETAIL")
    rows = [head, *[(r.check, r.subject, r.status, r.detail) for r in results]]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for result, row in zip([None, *results], rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[3])
        if result is not None and result.fix and result.status != "PASS":
            lines.append(" " * (sum(widths) + 6) + "fix: " + result.fix)
    return "\n".join(lines)


def summary(results: list[Result], config, region: str) -> str:
    counts = Counter(r.status for r in results)
    tally = ", ".join(f"{counts[s]} {s}" for s in ("PASS", "WARN", "FAIL", "SKIP") if counts[s])
    verdict = "not ready to deploy" if counts["FAIL"] else "ready to deploy"
    return f"preflight {config.project_name} in {region}: {tally} -> {verdict}"


def main(argv: list[str] | None = None, session: boto3.Session | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="deployment config (default: config/default.yaml)")
    parser.add_argument("--region", default=None, help="default: the config's region")
    parser.add_argument("--assembly", type=Path, default=REPO / "cdk.out", help="synthesized assembly, if any")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        region = args.region or config.region
        results = run(session, config, region, args.assembly)
    except (ConfigError, CannotRun) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(format_table(results))
    print(summary(results, config, region))
    return 1 if any(r.status == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Account state checks: the CDK bootstrap stack, stacks and a WAF log group left over from an
earlier deploy, and an imported VPC."""

from __future__ import annotations

from botocore.exceptions import ClientError

from stacks.config import stack_name
from tools.preflight.results import Result, error_code

TOOLKIT_STACK = "CDKToolkit"  # `cdk bootstrap`'s default --toolkit-stack-name
STUCK = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}  # must be deleted first


def check_bootstrap(cfn, min_version: int) -> list[Result]:
    """The CDK bootstrap stack exists, is stable and recent enough. Source: AWS CDK guide
    "Bootstrapping" (CDKToolkit's BootstrapVersion output; templates' CheckBootstrapVersion)."""
    fix = "cdk bootstrap aws://<account>/<region> with the project's CDK CLI (npx cdk)"
    try:
        stack = cfn.describe_stacks(StackName=TOOLKIT_STACK)["Stacks"][0]
    except ClientError as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
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
        if not error_code(exc).endswith(".NotFound"):
            raise
        return [Result("vpc and subnets", network.vpc_id, "FAIL", exc.response["Error"].get("Message", ""), fix)]
    if elsewhere := sorted(s["SubnetId"] for s in subnets if s["VpcId"] != network.vpc_id):
        return [Result("vpc and subnets", network.vpc_id, "FAIL", f"not in this VPC: {', '.join(elsewhere)}", fix)]
    azs = sorted({s["AvailabilityZone"] for s in subnets})
    if len(azs) < 2:
        return [Result("vpc and subnets", network.vpc_id, "FAIL", f"subnets span one AZ ({azs[0]})",
                       "add a private subnet in a second AZ to network.subnet_ids")]
    return [Result("vpc and subnets", network.vpc_id, "PASS", f"{len(subnets)} subnets in {', '.join(azs)}")]

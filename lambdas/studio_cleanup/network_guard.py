"""Custom resource in the Network stack: on Delete, find what would stop
CloudFormation from deleting the VPC's subnets and the VPC, and if anything is
found, FAIL the delete with a reason that lists it and says how to remove it.

Without this, a Studio domain's retained home EFS volume (its mount targets and
the two NFS security groups SageMaker created) makes the subnets and the VPC
fail with DependencyViolation after CloudFormation has already torn down the
endpoints and routes (cloudformation-coverage-roadmap #1085). The guard is
deleted before the subnets and the VPC (it depends on them), so the stack stops
early with the reason in its events, and the next `cdk destroy` re-checks.

What counts as a blocker (the VPC id and what this stack owns are resource
properties):
- EFS file systems with mount targets in the VPC;
- network interfaces in the VPC, except those of this stack's own interface
  endpoints and NAT gateways and those of the mount targets above (reported
  with their file system); these can be transient (a just-deleted SageMaker
  endpoint's interfaces are released after some minutes), so when only
  interfaces block, the guard waits for them within its time budget;
- security groups in the VPC other than `default`, this stack's own, and any
  tagged as this stack's by CloudFormation.

Create and Update do nothing. Read-only: it never deletes anything.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

try:  # the package, as the tests import it
    from .aws_calls import pages
    from .cfn_response import send_response
except ImportError:  # the Lambda runtime: the asset root is on sys.path
    from aws_calls import pages  # type: ignore[no-redef]
    from cfn_response import send_response  # type: ignore[no-redef]

logger = logging.getLogger()
logger.setLevel(logging.INFO)

POLL_SECONDS = 15
SAFETY_MARGIN_SECONDS = 30
# Items named in the reason; CloudFormation's response body is limited to 4 KiB.
MAX_LISTED = 8
FLAG = "studio.delete_home_efs_on_destroy"
SAGEMAKER_TAG = "ManagedByAmazonSageMakerResource"
STACK_ID_TAG = "aws:cloudformation:stack-id"


def _ids(props: dict, key: str) -> list[str]:
    value = props.get(key) or []
    return [value] if isinstance(value, str) else list(value)


def _efs_pages(call: Callable[..., dict], key: str, **kwargs: Any) -> list[dict]:
    return pages(call, key, request_token="Marker", response_token="NextMarker", **kwargs)


def file_systems_in_vpc(efs: Any, vpc_id: str) -> list[dict]:
    """[{id, owner (SageMaker resource ARN or ""), mount_targets: [...], interfaces: [...]}]."""
    found = []
    for fs in _efs_pages(efs.describe_file_systems, "FileSystems"):
        if not fs.get("NumberOfMountTargets"):
            continue
        mounts = _efs_pages(efs.describe_mount_targets, "MountTargets", FileSystemId=fs["FileSystemId"])
        targets = [t for t in mounts if t.get("VpcId") == vpc_id]
        if targets:
            tags = {t["Key"]: t["Value"] for t in fs.get("Tags", [])}
            found.append(
                {
                    "id": fs["FileSystemId"],
                    "owner": tags.get(SAGEMAKER_TAG, ""),
                    "mount_targets": sorted(t["MountTargetId"] for t in targets),
                    "interfaces": sorted(t["NetworkInterfaceId"] for t in targets if t.get("NetworkInterfaceId")),
                }
            )
    return found


def owned_interfaces(ec2: Any, endpoint_ids: list[str], nat_gateway_ids: list[str]) -> set[str]:
    """Network interfaces of this stack's interface endpoints and NAT gateways."""
    owned: set[str] = set()
    # Filters rather than ids: an id that no longer exists is no error.
    if endpoint_ids:
        by_id = [{"Name": "vpc-endpoint-id", "Values": endpoint_ids}]
        for endpoint in pages(ec2.describe_vpc_endpoints, "VpcEndpoints", Filters=by_id):
            owned.update(endpoint.get("NetworkInterfaceIds", []))
    if nat_gateway_ids:
        by_id = [{"Name": "nat-gateway-id", "Values": nat_gateway_ids}]
        for nat in pages(ec2.describe_nat_gateways, "NatGateways", Filter=by_id):
            owned.update(a["NetworkInterfaceId"] for a in nat.get("NatGatewayAddresses", []) if "NetworkInterfaceId" in a)
    return owned


def foreign_interfaces(ec2: Any, vpc_id: str, exclude: set[str]) -> list[dict]:
    interfaces = pages(
        ec2.describe_network_interfaces, "NetworkInterfaces", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )
    return sorted(
        (i for i in interfaces if i["NetworkInterfaceId"] not in exclude), key=lambda i: i["NetworkInterfaceId"]
    )


def foreign_security_groups(ec2: Any, vpc_id: str, owned: set[str], stack_id: str) -> list[dict]:
    groups = pages(
        ec2.describe_security_groups, "SecurityGroups", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )

    def ours(group: dict) -> bool:
        tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
        return group["GroupName"] == "default" or group["GroupId"] in owned or tags.get(STACK_ID_TAG) == stack_id

    return sorted((g for g in groups if not ours(g)), key=lambda g: g["GroupId"])


def find_blockers(ec2: Any, efs: Any, props: dict, stack_id: str) -> dict[str, list]:
    vpc_id = props["VpcId"]
    file_systems = file_systems_in_vpc(efs, vpc_id)
    exclude = owned_interfaces(ec2, _ids(props, "VpcEndpointIds"), _ids(props, "NatGatewayIds"))
    exclude.update(i for fs in file_systems for i in fs["interfaces"])
    return {
        "file_systems": file_systems,
        "interfaces": foreign_interfaces(ec2, vpc_id, exclude),
        "security_groups": foreign_security_groups(ec2, vpc_id, set(_ids(props, "SecurityGroupIds")), stack_id),
    }


def _domain_of(owner: str) -> str:
    # arn:aws:sagemaker:<region>:<account>:domain/d-xxxx
    return owner.rsplit("/", 1)[-1] if ":domain/" in owner else ""


def describe(vpc_id: str, blockers: dict[str, list]) -> str:
    """The failure reason CloudFormation shows: what blocks, then how to remove it."""
    found, steps = [], []
    domains = sorted({_domain_of(fs["owner"]) for fs in blockers["file_systems"]} - {""})
    for fs in blockers["file_systems"]:
        domain = _domain_of(fs["owner"])
        what = f"SageMaker Studio home volume of domain {domain}" if domain else "EFS file system"
        found.append(f"{what} {fs['id']} with mount targets {', '.join(fs['mount_targets'])}")
    for group in blockers["security_groups"]:
        found.append(f"security group {group['GroupId']} ({group['GroupName']})")
    for eni in blockers["interfaces"]:
        detail = eni.get("Description") or eni.get("InterfaceType", "")
        found.append(f"network interface {eni['NetworkInterfaceId']} ({eni.get('Status', '')}: {detail[:60]})")
    if domains:
        steps.append(
            "if the domain still exists: aws sagemaker delete-domain --domain-id <id> "
            "--retention-policy HomeEfsFileSystem=Delete (deletes users' home directories)"
        )
    if blockers["file_systems"]:
        steps.append(
            "otherwise aws efs delete-mount-target --mount-target-id <fsmt-id> for each mount target, "
            "then aws efs delete-file-system --file-system-id <fs-id>"
        )
    if blockers["security_groups"]:
        steps.append(
            "aws ec2 revoke-security-group-ingress/-egress for rules that reference the other group "
            "(SageMaker's inbound/outbound NFS groups reference each other), "
            "then aws ec2 delete-security-group --group-id <sg-id>"
        )
    if blockers["interfaces"]:
        steps.append(
            "wait for interfaces of deleted services to be released, or aws ec2 delete-network-interface "
            "--network-interface-id <eni-id> for detached (available) ones"
        )
    if len(found) > MAX_LISTED:
        found = found[:MAX_LISTED] + [f"and {len(found) - MAX_LISTED} more (listed in the function's log)"]
    return (
        f"VPC {vpc_id} cannot be deleted yet; found: {'; '.join(found)}. "
        f"To fix: {'; '.join(steps)}; then run cdk destroy again. "
        f"To have cdk destroy do this next time (it deletes users' home directories): set {FLAG}: true "
        "and deploy the Studio stack before destroying it."
    )


def check(
    ec2: Any,
    efs: Any,
    props: dict,
    stack_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, list]:
    """Blockers left at the end: none, or what to report. Interfaces alone may be
    transient and are waited for until `deadline`; file systems and security
    groups never go away by themselves, so they are reported at once."""
    while True:
        blockers = find_blockers(ec2, efs, props, stack_id)
        if not any(blockers.values()):
            return blockers
        if blockers["file_systems"] or blockers["security_groups"] or clock() + POLL_SECONDS >= deadline:
            return blockers
        logger.info("waiting for %d network interfaces to be released", len(blockers["interfaces"]))
        sleep(POLL_SECONDS)


def handle(
    event: dict,
    remaining_seconds: float,
    ec2: Any,
    efs: Any,
    respond: Callable[..., None] = send_response,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Answer one custom-resource event; always reports to CloudFormation."""
    props = event["ResourceProperties"]
    physical_id = event.get("PhysicalResourceId") or f"network-teardown-guard-{props['VpcId']}"
    try:
        if event["RequestType"] == "Delete":
            deadline = clock() + remaining_seconds - SAFETY_MARGIN_SECONDS
            blockers = check(ec2, efs, props, event["StackId"], deadline=deadline, clock=clock, sleep=sleep)
            if any(blockers.values()):
                reason = describe(props["VpcId"], blockers)
                logger.error("teardown blocked: %s; everything found: %s", reason, blockers)
                respond(event, "FAILED", reason, physical_id)
                return
        respond(event, "SUCCESS", "OK", physical_id)
    except Exception as exc:  # noqa: BLE001 - any failure must reach CloudFormation, or it waits an hour
        logger.exception("network teardown check failed")
        respond(event, "FAILED", f"teardown check of VPC {props.get('VpcId')} failed: {type(exc).__name__}: {exc}", physical_id)


def on_event(event: dict, context: Any) -> None:
    import boto3

    handle(event, context.get_remaining_time_in_millis() / 1000, boto3.client("ec2"), boto3.client("efs"))

"""Custom resource: before CloudFormation deletes a Studio domain's user profiles,
delete the apps and spaces users left behind, and wait until they are gone.

DeleteUserProfile and DeleteDomain fail while apps or spaces exist, so without
this `cdk destroy` stops half-way. Create and Update do nothing.

By default the home EFS volume is not touched: SageMaker retains it (with its
mount targets and the two NFS security groups it created) when CloudFormation
deletes the domain, and those then block deleting the VPC. With the resource
property `DeleteHomeEfsOnDestroy` true (config `studio.delete_home_efs_on_destroy`),
and only while the stack itself is being deleted, Delete goes on to:

1. delete the user profiles and wait until they are gone;
2. `DeleteDomain(RetentionPolicy={"HomeEfsFileSystem": "Delete"})` and wait until
   DescribeDomain answers ResourceNotFound;
3. delete `security-group-for-{inbound,outbound}-nfs-<domain-id>` in the VPC:
   revoke their rules (they reference each other) and retry DependencyViolation
   with backoff while the EFS mount targets release their network interfaces.

CloudFormation's own later deletes of the profiles and the domain then find
them gone, which it treats as deleted. Everything is idempotent: if time runs
out the Delete fails naming what is left, and the next `cdk destroy` resumes.

Plain boto3, no dependencies: the asset directory is the deployment package.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from typing import Any, Callable

from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

POLL_SECONDS = 15
# Leave time to report to CloudFormation before the Lambda timeout.
SAFETY_MARGIN_SECONDS = 60
APP_GONE = {"Deleted"}
SPACE_DELETING = {"Deleting"}
PROFILE_DELETING = {"Deleting"}
DELETE_FAILED = "Delete_Failed"
# Stack states in which the stack itself is going away: the only ones in which the
# cleanup deletes the domain and its home volume. A Delete in any other state (the
# custom resource replaced or removed by an update) leaves the domain alone.
STACK_GOING_AWAY = {"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"}
# SageMaker's names for the security groups it creates for the home EFS volume.
NFS_GROUP_NAMES = ("security-group-for-inbound-nfs-{}", "security-group-for-outbound-nfs-{}")
# DeleteSecurityGroup retries while mount-target interfaces are released.
BACKOFF_FIRST_SECONDS = 5
BACKOFF_MAX_SECONDS = 60


class CleanupTimeout(RuntimeError):
    """Something was still deleting when time ran out; the message names what is left."""


class CleanupFailed(RuntimeError):
    """SageMaker reported a failed deletion; the message names it and SageMaker's reason."""


def _pages(
    call: Callable[..., dict], key: str, *, request_token: str = "NextToken", response_token: str = "NextToken",
    **kwargs: Any,
) -> list[dict]:
    """Every item of a paginated List/Describe call (EFS names its tokens Marker/NextMarker)."""
    items: list[dict] = []
    token = None
    while True:
        page = call(**kwargs, **({request_token: token} if token else {}))
        items.extend(page.get(key, []))
        token = page.get(response_token)
        if not token:
            return items


def _code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def list_live_apps(client: Any, domain_id: str) -> list[dict]:
    apps = _pages(client.list_apps, "Apps", DomainIdEquals=domain_id, MaxResults=100)
    return [a for a in apps if a.get("Status") not in APP_GONE]


def list_spaces(client: Any, domain_id: str) -> list[dict]:
    return _pages(client.list_spaces, "Spaces", DomainIdEquals=domain_id, MaxResults=100)


def _delete_app(client: Any, domain_id: str, app: dict) -> None:
    if app.get("Status") == "Deleting":
        return
    owner = {"SpaceName": app["SpaceName"]} if app.get("SpaceName") else {"UserProfileName": app["UserProfileName"]}
    try:
        client.delete_app(DomainId=domain_id, AppType=app["AppType"], AppName=app["AppName"], **owner)
    except ClientError as err:
        # Gone or already deleting since the listing: the wait loop settles it.
        if _code(err) not in ("ResourceNotFound", "ResourceInUse"):
            raise


def _delete_space(client: Any, domain_id: str, space: dict) -> None:
    if space.get("Status") in SPACE_DELETING:
        return
    try:
        client.delete_space(DomainId=domain_id, SpaceName=space["SpaceName"])
    except ClientError as err:
        if _code(err) not in ("ResourceNotFound", "ResourceInUse"):
            raise


def _wait(
    what: str,
    remaining: Callable[[], list],
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    while True:
        left = remaining()
        if not left:
            return
        if clock() >= deadline:
            raise CleanupTimeout(f"{len(left)} {what} still deleting: {sorted(left)}")
        logger.info("waiting for %d %s to be deleted", len(left), what)
        sleep(POLL_SECONDS)


def delete_apps_and_spaces(
    client: Any,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Delete every app, then every space, of `domain_id`; return how many of each.

    Apps first: a space cannot be deleted while an app runs in it.
    Raises `CleanupTimeout` if they are not all gone by `deadline` (a `clock()` value).
    """
    try:
        apps = list_live_apps(client, domain_id)
    except ClientError as err:
        if _code(err) == "ResourceNotFound":
            return {"apps": 0, "spaces": 0}
        raise
    for app in apps:
        _delete_app(client, domain_id, app)
    def live_apps() -> list[str]:
        return [
            f"{a.get('SpaceName') or a.get('UserProfileName')}/{a['AppType']}/{a['AppName']}"
            for a in list_live_apps(client, domain_id)
        ]

    _wait("apps", live_apps, deadline, clock, sleep)
    spaces = list_spaces(client, domain_id)
    for space in spaces:
        _delete_space(client, domain_id, space)
    _wait("spaces", lambda: [s["SpaceName"] for s in list_spaces(client, domain_id)], deadline, clock, sleep)
    return {"apps": len(apps), "spaces": len(spaces)}


def _resume_hint() -> str:
    return "run `cdk destroy` again to resume (every step is idempotent)"


def list_user_profiles(client: Any, domain_id: str) -> list[dict]:
    return _pages(client.list_user_profiles, "UserProfiles", DomainIdEquals=domain_id, MaxResults=100)


def delete_user_profiles(
    client: Any,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Delete every user profile of `domain_id` and wait until none is listed.

    Profiles already `Deleting` are waited for, not deleted again. Raises
    `CleanupFailed` if SageMaker reports `Delete_Failed`, `CleanupTimeout` at `deadline`.
    """
    try:
        profiles = list_user_profiles(client, domain_id)
    except ClientError as err:
        if _code(err) == "ResourceNotFound":
            return 0
        raise
    for profile in profiles:
        if profile.get("Status") in PROFILE_DELETING:
            continue
        try:
            client.delete_user_profile(DomainId=domain_id, UserProfileName=profile["UserProfileName"])
        except ClientError as err:
            if _code(err) not in ("ResourceNotFound", "ResourceInUse"):
                raise

    def remaining() -> list[str]:
        left = list_user_profiles(client, domain_id)
        failed = sorted(p["UserProfileName"] for p in left if p.get("Status") == DELETE_FAILED)
        if failed:
            raise CleanupFailed(
                f"user profiles of domain {domain_id} failed to delete: {failed} "
                "(see DescribeUserProfile FailureReason); delete them, then " + _resume_hint()
            )
        return [p["UserProfileName"] for p in left]

    try:
        _wait("user profiles", remaining, deadline, clock, sleep)
    except CleanupTimeout as err:
        raise CleanupTimeout(f"domain {domain_id}: {err}; {_resume_hint()}") from None
    return len(profiles)


def describe_domain(client: Any, domain_id: str) -> dict | None:
    """DescribeDomain, or None once the domain is gone."""
    try:
        return client.describe_domain(DomainId=domain_id)
    except ClientError as err:
        if _code(err) == "ResourceNotFound":
            return None
        raise


def delete_domain_and_home(
    client: Any,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """DeleteDomain with the home EFS volume, and wait until DescribeDomain says
    ResourceNotFound. Return the home file system's id (None if the domain was
    already gone). Tolerates a domain already deleting or gone."""
    domain = describe_domain(client, domain_id)
    if domain is None:
        return None
    home = domain.get("HomeEfsFileSystemId")
    if domain.get("Status") != "Deleting":
        try:
            client.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
        except ClientError as err:
            if _code(err) == "ResourceNotFound":
                return home
            if _code(err) != "ResourceInUse":
                raise
    while True:
        domain = describe_domain(client, domain_id)
        if domain is None:
            logger.info("domain %s and home EFS %s deleted", domain_id, home)
            return home
        if domain.get("Status") == DELETE_FAILED:
            raise CleanupFailed(
                f"domain {domain_id} failed to delete: {domain.get('FailureReason', 'no reason given')}; "
                f"home EFS {home} may remain; fix the cause, then " + _resume_hint()
            )
        if clock() >= deadline:
            raise CleanupTimeout(
                f"domain {domain_id} still {domain.get('Status')} (home EFS {home} is deleted with it); "
                + _resume_hint()
            )
        logger.info("waiting for domain %s to be deleted (status %s)", domain_id, domain.get("Status"))
        sleep(POLL_SECONDS)


def find_nfs_security_groups(ec2: Any, vpc_id: str, domain_id: str) -> list[dict]:
    """The inbound/outbound NFS security groups SageMaker created for `domain_id` in `vpc_id`."""
    names = [n.format(domain_id) for n in NFS_GROUP_NAMES]
    return _pages(
        ec2.describe_security_groups,
        "SecurityGroups",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": names}],
    )


def _referencing(permissions: list[dict], group_ids: set[str]) -> list[dict]:
    """The permissions' group references to `group_ids`, as a revoke request wants them."""
    out = []
    for perm in permissions:
        pairs = [{"GroupId": p["GroupId"]} for p in perm.get("UserIdGroupPairs", []) if p.get("GroupId") in group_ids]
        if pairs:
            out.append(
                {
                    "IpProtocol": perm["IpProtocol"],
                    **{k: perm[k] for k in ("FromPort", "ToPort") if k in perm},
                    "UserIdGroupPairs": pairs,
                }
            )
    return out


def _tolerate(call: Callable[..., Any], gone: tuple[str, ...], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as err:
        if _code(err) not in gone:
            raise


def delete_nfs_security_groups(
    ec2: Any,
    vpc_id: str,
    domain_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Delete the domain's two NFS security groups; return the ids deleted.

    They reference each other, so their cross-references are revoked first.
    DeleteSecurityGroup answers DependencyViolation while network interfaces
    (the home volume's mount targets) still use a group: retried with
    exponential backoff until `deadline`, then `CleanupTimeout` naming them.
    """
    groups = find_nfs_security_groups(ec2, vpc_id, domain_id)
    ids = {g["GroupId"] for g in groups}
    gone = ("InvalidGroup.NotFound", "InvalidPermission.NotFound")
    for group in groups:
        ingress = _referencing(group.get("IpPermissions", []), ids)
        egress = _referencing(group.get("IpPermissionsEgress", []), ids)
        if ingress:
            _tolerate(ec2.revoke_security_group_ingress, gone, GroupId=group["GroupId"], IpPermissions=ingress)
        if egress:
            _tolerate(ec2.revoke_security_group_egress, gone, GroupId=group["GroupId"], IpPermissions=egress)
    names = {g["GroupId"]: g.get("GroupName", "") for g in groups}
    left = sorted(ids)
    delay = BACKOFF_FIRST_SECONDS
    while True:
        blocked = []
        for group_id in left:
            try:
                ec2.delete_security_group(GroupId=group_id)
            except ClientError as err:
                if _code(err) == "InvalidGroup.NotFound":
                    continue
                if _code(err) != "DependencyViolation":
                    raise
                blocked.append(group_id)
        if not blocked:
            return sorted(ids)
        if clock() + delay >= deadline:
            listed = ", ".join(f"{g} ({names[g]})" for g in blocked)
            raise CleanupTimeout(
                f"security groups still in use by network interfaces (DependencyViolation): {listed}; "
                "the home EFS mount targets may still be deleting; " + _resume_hint()
            )
        logger.info("security groups %s still in use; retrying in %ss", blocked, delay)
        sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX_SECONDS)
        left = blocked


def stack_is_going_away(cfn: Any, stack_id: str) -> bool:
    """True while the custom resource's own stack is being deleted (or rolled back
    after a failed create): only then may the cleanup delete users' data."""
    [stack] = cfn.describe_stacks(StackName=stack_id)["Stacks"]
    return stack["StackStatus"] in STACK_GOING_AWAY


def _truthy(value: Any) -> bool:
    # CloudFormation passes every custom-resource property to the function as a string.
    return value is True or str(value).lower() == "true"


def delete_domain_home_and_groups(
    client: Any,
    ec2: Any,
    domain_id: str,
    vpc_id: str,
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Steps 1-3 of the module docstring, in order."""
    profiles = delete_user_profiles(client, domain_id, deadline=deadline, clock=clock, sleep=sleep)
    home = delete_domain_and_home(client, domain_id, deadline=deadline, clock=clock, sleep=sleep)
    groups = delete_nfs_security_groups(ec2, vpc_id, domain_id, deadline=deadline, clock=clock, sleep=sleep)
    return {"profiles": profiles, "home_efs": home, "security_groups": groups}


def send_response(event: dict, status: str, reason: str, physical_id: str) -> None:
    """PUT the result to CloudFormation's pre-signed response URL."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - CloudFormation's https URL
        response.read()


def handle(
    event: dict,
    remaining_seconds: float,
    client: Any,
    respond: Callable[..., None] = send_response,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    ec2: Any = None,
    cfn: Any = None,
) -> None:
    """Answer one custom-resource event; always reports to CloudFormation.

    `ec2` and `cfn` (EC2 and CloudFormation clients) are needed only for a Delete
    with `DeleteHomeEfsOnDestroy` true.
    """
    props = event["ResourceProperties"]
    domain_id = props["DomainId"]
    physical_id = event.get("PhysicalResourceId") or f"studio-cleanup-{domain_id}"
    try:
        if event["RequestType"] == "Delete":
            deadline = clock() + remaining_seconds - SAFETY_MARGIN_SECONDS
            counts = delete_apps_and_spaces(client, domain_id, deadline=deadline, clock=clock, sleep=sleep)
            logger.info("domain %s: deleted %d apps and %d spaces", domain_id, counts["apps"], counts["spaces"])
            if _truthy(props.get("DeleteHomeEfsOnDestroy")):
                if stack_is_going_away(cfn, event["StackId"]):
                    done = delete_domain_home_and_groups(
                        client, ec2, domain_id, props["VpcId"], deadline=deadline, clock=clock, sleep=sleep
                    )
                    logger.info("domain %s: deleted with its home volume: %s", domain_id, done)
                else:
                    logger.info("stack is not being deleted: domain %s and its home volume are kept", domain_id)
        respond(event, "SUCCESS", "OK", physical_id)
    except Exception as exc:  # noqa: BLE001 - any failure must reach CloudFormation, or it waits an hour
        logger.exception("cleanup of domain %s failed", domain_id)
        respond(event, "FAILED", f"{type(exc).__name__}: {exc}", physical_id)


def on_event(event: dict, context: Any) -> None:
    import boto3

    handle(
        event,
        context.get_remaining_time_in_millis() / 1000,
        boto3.client("sagemaker"),
        ec2=boto3.client("ec2"),
        cfn=boto3.client("cloudformation"),
    )

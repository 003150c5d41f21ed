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

import logging
import time
from typing import Any, Callable

try:  # the package, as the tests import it
    from .cfn_response import send_response
    from .domain_teardown import delete_domain_home_and_groups, stack_is_going_away
    from .studio_apps import delete_apps_and_spaces
except ImportError:  # the Lambda runtime: the asset root is on sys.path
    from cfn_response import send_response  # type: ignore[no-redef]
    from domain_teardown import delete_domain_home_and_groups, stack_is_going_away  # type: ignore[no-redef]
    from studio_apps import delete_apps_and_spaces  # type: ignore[no-redef]

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# Leave time to report to CloudFormation before the Lambda timeout.
SAFETY_MARGIN_SECONDS = 60


def _truthy(value: Any) -> bool:
    # CloudFormation passes every custom-resource property to the function as a string.
    return value is True or str(value).lower() == "true"


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

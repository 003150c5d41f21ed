"""The API's DynamoDB tables: one shape (on-demand, customer-managed key,
point-in-time recovery, retained) for the feedback table and the jobs table."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.compliance.nag import acknowledge


def retained_table(scope: Construct, id_: str, key: kms.IKey, partition: str, sort: str | None = None,
                   ttl: str | None = None) -> dynamodb.Table:
    """A string-keyed table, child `id_` of `scope`, encrypted with `key` and kept
    when the stack is deleted or the table replaced."""
    table = dynamodb.Table(
        scope,
        id_,
        partition_key=dynamodb.Attribute(name=partition, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=sort, type=dynamodb.AttributeType.STRING) if sort else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=ttl,
        # No deletion protection: with RetainExceptOnCreate, the one time CloudFormation deletes
        # the table is the rollback of a failed first create, and protection would turn that
        # into ROLLBACK_FAILED; stack deletes and updates keep the table by DeletionPolicy.
        deletion_protection=False,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )
    acknowledge(
        table,
        "Point-in-time recovery (35 days of continuous backups) is on; an AWS Backup plan is an "
        "account- or organization-level choice this app does not impose.",
        "NIST.800.53.R5-DynamoDBInBackupPlan",
        "HIPAA.Security-DynamoDBInBackupPlan",
    )
    return table


# The feedback table's TTL attribute: epoch seconds after which DynamoDB deletes the item.
FEEDBACK_TTL_ATTRIBUTE = "expires_at"


def feedback_table(scope: Construct, key: kms.IKey) -> dynamodb.Table:
    """`FeedbackTable`: ratings and rankings of answers, and (with `api.feedback.store_generations`)
    the prompts and outputs they rate, keyed pk (request) / sk (entry). Items written with
    `expires_at` (stored generations and their feedback: `api.feedback.retention_days`) are
    deleted by DynamoDB's TTL, usually within a few days of that time; items without it stay."""
    return retained_table(scope, "FeedbackTable", key, "pk", sort="sk", ttl=FEEDBACK_TTL_ATTRIBUTE)

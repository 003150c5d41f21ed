"""Retained resources neither outlive a failed first deploy nor block the next one.

`DeletionPolicy: Retain` keeps a resource even when the stack operation that created it
rolls back: a failed first `cdk deploy` leaves keys, buckets, tables and log groups
behind, orphaned and billed. `RetainExceptOnCreate` keeps what must outlive the stack
on update and delete, and deletes what a rolled-back create made. Separately, a
resource kept after its stack is gone still holds its physical name: if the template
fixes that name (a literal, or one derived only from the stack name, account and
region), the next create of the same stack fails with AlreadyExists. These tests check
every resource of every stack for both.
"""

from __future__ import annotations

from tests.deploy.model import assert_none

RETAINED = {"Retain", "RetainExceptOnCreate"}

# Resource type -> the property that sets its physical name (CloudFormation resource
# reference of each type; see "CloudFormation resource custom naming").
PHYSICAL_NAME = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::SageMaker::Domain": "DomainName",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::WAFv2::WebACL": "Name",
}


def test_nothing_is_retained_when_its_create_rolls_back(deployment):
    """No resource has DeletionPolicy `Retain`: what must outlive the stack uses
    `RetainExceptOnCreate` (CDK RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE), which CloudFormation
    deletes when the stack operation that created it rolls back.

    Source: AWS CloudFormation Template Reference, "DeletionPolicy attribute"
    (RetainExceptOnCreate), https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
    """
    dep = deployment
    problems = [
        f"{dep.name}: {res} ({res.type}) has DeletionPolicy Retain"
        for res in dep.resources()
        if res.body.get("DeletionPolicy") == "Retain"
    ]
    assert_none(problems, "use RetainExceptOnCreate, not Retain")


def test_retained_resources_have_generated_names(deployment):
    """No resource that is kept after its stack is deleted (DeletionPolicy Retain or
    RetainExceptOnCreate) sets a fixed physical name: a literal, or a value built only from
    literals, parameters and pseudo parameters such as AWS::StackName. A value that
    includes a generated part (a resource's Ref/GetAtt, AWS::StackId) is fine.

    Source: AWS CloudFormation Template Reference, "CloudFormation resource custom naming"
    (names must be unique across active stacks; a custom-named resource cannot be replaced),
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html ;
    "DeletionPolicy attribute",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
    """
    dep = deployment
    problems = []
    for res in dep.resources(*PHYSICAL_NAME):
        if res.body.get("DeletionPolicy") not in RETAINED:
            continue
        prop = PHYSICAL_NAME[res.type]
        value = res.props.get(prop)
        if value is not None and not dep.generated(res.stack, value):
            problems.append(
                f"{dep.name}: {res} ({res.type}, DeletionPolicy {res.body['DeletionPolicy']}) has the fixed "
                f"{prop} {dep.render(res.stack, value)!r}: the next create of this stack fails with AlreadyExists"
            )
    assert_none(problems, "retained resources must not have fixed physical names")


# Properties that make CloudFormation's own delete of a resource fail.
DELETE_BLOCKERS = {
    "AWS::DynamoDB::Table": "DeletionProtectionEnabled",
    "AWS::Logs::LogGroup": "DeletionProtectionEnabled",
}


def test_resources_deleted_on_a_failed_create_can_be_deleted(deployment):
    """A `RetainExceptOnCreate` resource is deleted when the create that made it rolls back;
    deletion protection makes that delete fail and leaves the stack in ROLLBACK_FAILED
    (DynamoDB: "Resource cannot be deleted as it is currently protected against deletion").
    DeletionPolicy already keeps it on stack delete and replacement.

    Source: AWS CloudFormation Template Reference, "DeletionPolicy attribute"
    (RetainExceptOnCreate), https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html ;
    Amazon DynamoDB Developer Guide, "Using deletion protection",
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection
    """
    dep = deployment
    problems = [
        f"{dep.name}: {res} ({res.type}) is deleted on a failed create but has {DELETE_BLOCKERS[res.type]}"
        for res in dep.resources(*DELETE_BLOCKERS)
        if res.body.get("DeletionPolicy") != "Retain" and res.props.get(DELETE_BLOCKERS[res.type]) is True
    ]
    assert_none(problems, "deletion protection would fail the rollback of a first create")

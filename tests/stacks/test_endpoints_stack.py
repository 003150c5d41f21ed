"""Fine-grained assertions on the Endpoints stack: the properties reviewers care about."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from tests.synth import CONFIGS, synth


@pytest.fixture(scope="module")
def default() -> Template:
    s = synth(CONFIGS["default"])
    return Template.from_json(s.template(s.deployment.endpoints))


@pytest.fixture(scope="module")
def stable_diffusion() -> Template:
    s = synth(CONFIGS["stable-diffusion"])
    return Template.from_json(s.template(s.deployment.endpoints))


def test_model_is_network_isolated_with_resolved_image_artifacts_and_env(default):
    default.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "EnableNetworkIsolation": True,
            "PrimaryContainer": {
                "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
                "2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04",
                "ModelDataSource": {
                    "S3DataSource": {
                        "S3Uri": "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/"
                        "huggingface-llm-falcon-7b-instruct-bf16/artifacts/inference-prepack/v2.0.0/",
                        "S3DataType": "S3Prefix",
                        "CompressionType": "None",
                    }
                },
                "Environment": Match.object_like(
                    {"SM_NUM_GPUS": "1", "MAX_INPUT_LENGTH": "1024", "MAX_TOTAL_TOKENS": "2048"}
                ),
            },
        },
    )


def test_names_are_generated_by_cloudformation(default):
    for rtype, prop in [
        ("AWS::SageMaker::Model", "ModelName"),
        ("AWS::SageMaker::EndpointConfig", "EndpointConfigName"),
        ("AWS::SageMaker::Endpoint", "EndpointName"),
    ]:
        for resource in default.find_resources(rtype).values():
            assert prop not in resource["Properties"]


def test_nvme_instance_omits_kms_key_and_captures_encrypted(default):
    [config] = default.find_resources("AWS::SageMaker::EndpointConfig").values()
    props = config["Properties"]
    assert "KmsKeyId" not in props  # ml.g5 has local NVMe
    assert list(props["DataCaptureConfig"]["KmsKeyId"]) == ["Fn::GetAtt"]
    assert props["DataCaptureConfig"]["EnableCapture"] is True
    [variant] = props["ProductionVariants"]
    assert variant["InstanceType"] == "ml.g5.2xlarge"
    assert variant["InitialInstanceCount"] == 1
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 1200  # the TGI floor (stacks.models.jumpstart.TIMEOUT_FLOOR)


def test_instance_without_nvme_gets_kms_key(stable_diffusion):
    configs = stable_diffusion.find_resources(
        "AWS::SageMaker::EndpointConfig",
        {"Properties": {"ProductionVariants": [Match.object_like({"InstanceType": "ml.p3.2xlarge"})]}},
    )
    [config] = configs.values()
    assert "Fn::GetAtt" in config["Properties"]["KmsKeyId"]


def test_big_model_gets_longer_startup_timeout():
    s = synth(CONFIGS["falcon-40b-g5-48xlarge"])
    t = Template.from_json(s.template(s.deployment.endpoints))
    t.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like(
                    {"InstanceType": "ml.g5.48xlarge", "ContainerStartupHealthCheckTimeoutInSeconds": 1424}
                )
            ]
        },
    )
    t.has_resource_properties(
        "AWS::SageMaker::Model",
        {"PrimaryContainer": Match.object_like({"Environment": Match.object_like({"SM_NUM_GPUS": "8"})})},
    )


def test_autoscaling_tracks_invocations_per_instance_within_config_bounds(default):
    default.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 1, "MaxCapacity": 2, "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"},
    )
    default.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                    },
                    "TargetValue": 4,
                }
            ),
        },
    )


@pytest.mark.parametrize(
    ("metric", "namespace", "threshold"),
    [
        ("ModelLatency", "AWS/SageMaker", 20_000_000),
        ("Invocation5XXErrors", "AWS/SageMaker", 1),
        ("DiskUtilization", "/aws/sagemaker/Endpoints", 90),
    ],
)
def test_alarms_notify_the_topic(default, metric, namespace, threshold):
    default.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": metric,
            "Namespace": namespace,
            "Threshold": threshold,
            "AlarmActions": [{"Ref": Match.string_like_regexp("AlarmTopic")}],
        },
    )


def test_execution_role_is_least_privilege(default):
    [policy] = default.find_resources("AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "Sid" in s}
    assert statements["PullModelImage"]["Resource"] == (
        "arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"
    )
    assert statements["ListModelArtifacts"]["Condition"] == {
        "StringLike": {
            "s3:prefix": ["huggingface-llm/huggingface-llm-falcon-7b-instruct-bf16/artifacts/inference-prepack/v2.0.0/*"]
        }
    }
    wildcard = [s["Sid"] for s in statements.values() if s["Resource"] == "*"]
    assert sorted(wildcard) == ["EcrLogin", "PutEndpointMetrics"]
    actions = [a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in _list(s["Action"])]
    assert not [a for a in actions if a.endswith(":*") or a == "*"]
    default.resource_properties_count_is("AWS::IAM::Policy", {}, 0)


def test_buckets_are_private_tls_only_and_capture_bucket_uses_kms(default):
    buckets = default.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for bucket in buckets.values():
        # Kept on delete, not after a failed first create (nothing was stored yet).
        assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    default.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like({"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})})
                ]
            },
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "capture-bucket/"}),
        },
    )
    for policy in default.find_resources("AWS::S3::BucketPolicy").values():
        denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_key_rotates_and_is_retained(default):
    default.has_resource("AWS::KMS::Key", {"Properties": Match.object_like({"EnableKeyRotation": True}),
                                           "DeletionPolicy": "RetainExceptOnCreate"})


def test_no_alarm_on_gpu_memory_which_tgi_fills_by_design(default):
    """TGI pre-allocates its KV cache to fill GPU memory (text-generation-inference #832,
    #1863): an alarm on GPUMemoryUtilization would sit in ALARM on a healthy endpoint."""
    metrics = [a["Properties"].get("MetricName") for a in default.find_resources("AWS::CloudWatch::Alarm").values()]
    assert "GPUMemoryUtilization" not in metrics and "DiskUtilization" in metrics


def test_alarm_topic_policy_lets_this_accounts_alarms_publish(default):
    """enforce_ssl's topic policy replaces SNS's default one; without an Allow for
    cloudwatch.amazonaws.com no alarm is delivered (issue 9, fault 2)."""
    [policy] = default.find_resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "aws:SourceArn" in allow["Condition"]["ArnLike"]


def _list(value):
    return value if isinstance(value, list) else [value]

"""Studio stack: a private, encrypted domain with a least-privilege execution role."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from stacks.constructs.python_function import RUNTIME

DOMAIN_ID = "StudioDomain20F5E462"
KEY_ID = "Key961B73FD"
BUCKET_ID = "BucketD7FEB781"
ACCESS_LOGS_ID = "AccessLogsBucketCD784A59"
ROLE_ID = "StudioExecutionRoleB448AD59"


def studio(s) -> Template:
    return Template.from_json(s.template(s.deployment.studio))


def statements(t: Template, role_id: str = ROLE_ID) -> list[dict]:
    """Every statement of every managed policy attached to the role."""
    out = []
    for lid, policy in t.find_resources("AWS::IAM::ManagedPolicy").items():
        attached = {"Ref": role_id} in policy["Properties"].get("Roles", [])
        role = t.to_json()["Resources"][role_id]["Properties"]
        attached |= {"Ref": lid} in role.get("ManagedPolicyArns", [])
        if attached:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def actions(stmt: dict) -> list[str]:
    a = stmt["Action"]
    return [a] if isinstance(a, str) else a


@pytest.fixture(params=["studio_vpc", "studio_imported"])
def any_studio(request):
    return request.getfixturevalue(request.param)


def test_stateful_resources_keep_their_logical_ids(any_studio):
    resources = studio(any_studio).to_json()["Resources"]
    stateful = {
        lid: r["Type"]
        for lid, r in resources.items()
        if r["Type"] in {"AWS::SageMaker::Domain", "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::EC2::VPC"}
    }
    assert stateful == {
        DOMAIN_ID: "AWS::SageMaker::Domain",
        KEY_ID: "AWS::KMS::Key",
        BUCKET_ID: "AWS::S3::Bucket",
        ACCESS_LOGS_ID: "AWS::S3::Bucket",
    }


def test_key_and_buckets_are_retained_and_the_key_rotates(any_studio):
    t = studio(any_studio)
    res = t.to_json()["Resources"]
    assert res[KEY_ID]["Properties"]["EnableKeyRotation"] is True
    for lid in (KEY_ID, BUCKET_ID, ACCESS_LOGS_ID):
        assert (res[lid]["DeletionPolicy"], res[lid]["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain"), lid
    assert res[BUCKET_ID]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"KMSMasterKeyID": {"Fn::GetAtt": [KEY_ID, "Arn"]}, "SSEAlgorithm": "aws:kms"}


def test_domain_is_iam_auth_vpc_only_and_encrypted_with_the_cmk(studio_vpc):
    studio(studio_vpc).has_resource_properties(
        "AWS::SageMaker::Domain",
        {
            "AuthMode": "IAM",
            "AppNetworkAccessType": "VpcOnly",
            "KmsKeyId": {"Fn::GetAtt": [KEY_ID, "Arn"]},
            "DomainName": "fm-studio-studio",
            "DomainSettings": {"ExecutionRoleIdentityConfig": "USER_PROFILE_NAME"},
            "DefaultUserSettings": Match.object_like(
                {
                    "ExecutionRole": {"Fn::GetAtt": [ROLE_ID, "Arn"]},
                    "SharingSettings": {"NotebookOutputOption": "Disabled"},
                }
            ),
        },
    )


@pytest.mark.parametrize(
    ("fixture", "idle", "max_idle"), [("studio_vpc", 60, 480), ("studio_imported", 120, 720)]
)
def test_jupyterlab_and_code_editor_shut_down_when_idle_on_small_instances(request, fixture, idle, max_idle):
    [domain] = studio(request.getfixturevalue(fixture)).find_resources("AWS::SageMaker::Domain").values()
    props = domain["Properties"]
    expected = {
        "AppLifecycleManagement": {
            "IdleSettings": {
                "LifecycleManagement": "ENABLED",
                "IdleTimeoutInMinutes": idle,
                "MinIdleTimeoutInMinutes": 60,
                "MaxIdleTimeoutInMinutes": max_idle,
            }
        },
        "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"},
    }
    # JupyterLab also runs the lecture notebook's lifecycle config (test_lecture_notebook_shipping.py).
    lcc = props["DefaultUserSettings"]["JupyterLabAppSettings"]["DefaultResourceSpec"].get("LifecycleConfigArn")
    jupyter = {**expected, "DefaultResourceSpec": {**expected["DefaultResourceSpec"], "LifecycleConfigArn": lcc},
               "LifecycleConfigArns": [lcc]}
    assert props["DefaultUserSettings"]["JupyterLabAppSettings"] == jupyter
    assert props["DefaultUserSettings"]["CodeEditorAppSettings"] == expected
    assert props["DefaultSpaceSettings"]["JupyterLabAppSettings"] == jupyter


def test_imported_domain_uses_the_configured_vpc_and_subnets(studio_imported):
    studio(studio_imported).has_resource_properties(
        "AWS::SageMaker::Domain",
        {"VpcId": "vpc-0123456789abcdef0", "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]},
    )


def test_security_group_allows_nfs_and_app_traffic_only_within_itself(studio_vpc):
    t = studio(studio_vpc).to_json()["Resources"]
    [sg_id] = [lid for lid, r in t.items() if r["Type"] == "AWS::EC2::SecurityGroup"]
    ingress = sorted(
        (r["Properties"]["FromPort"], r["Properties"]["ToPort"], r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0])
        for r in t.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
    )
    assert ingress == [(2049, 2049, sg_id), (8192, 65535, sg_id)]
    assert "SecurityGroupIngress" not in t[sg_id]["Properties"]


def test_user_profiles_come_from_config(studio_vpc, studio_imported):
    for s, names in ((studio_vpc, ["data-scientist-1", "data-scientist-2"]), (studio_imported, ["analyst"])):
        profiles = studio(s).find_resources("AWS::SageMaker::UserProfile")
        assert sorted(p["Properties"]["UserProfileName"] for p in profiles.values()) == names
        assert all(p["Properties"]["DomainId"] == {"Fn::GetAtt": [DOMAIN_ID, "DomainId"]} for p in profiles.values())


def test_role_is_never_sagemaker_full_access_and_has_no_action_wildcards(any_studio):
    t = studio(any_studio)
    role = t.to_json()["Resources"][ROLE_ID]["Properties"]
    assert "AmazonSageMakerFullAccess" not in json.dumps(role)
    for stmt in statements(t):
        assert stmt["Effect"] == "Allow"
        assert all("*" not in a for a in actions(stmt)), stmt
    t.resource_count_is("AWS::IAM::Policy", 0)  # no inline policies


def test_role_invokes_and_describes_only_this_deployments_endpoints(studio_vpc):
    """Unconditionally; beyond them only endpoints tagged with the caller's own user profile
    (notebook deploys: tests/deploy/test_studio_notebook_deploys.py evaluates them)."""
    unconditional = [s for s in statements(studio(studio_vpc)) if "Condition" not in s]
    by_action = {a: s for s in unconditional for a in actions(s)}
    for s in statements(studio(studio_vpc)):
        if "sagemaker:InvokeEndpoint" in actions(s) and "Condition" in s:
            assert s["Condition"]["StringEquals"] == {"sagemaker:ResourceTag/fm:owner": "${aws:SourceIdentity}"}
    for action in ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream", "sagemaker:DescribeEndpoint"):
        # the endpoint's ARN, read from the Endpoints stack's output
        output = by_action[action]["Resource"]["Fn::GetStackOutput"]
        assert output["StackName"] == "fm-studio-endpoints", action
        assert output["OutputName"].startswith("PublishOutputRefFalcon7bInstructEndpoint"), action


def test_wildcard_resources_are_limited_to_list_actions(any_studio):
    for stmt in statements(studio(any_studio)):
        if stmt["Resource"] == "*":
            assert all(a.startswith("sagemaker:List") for a in actions(stmt)), stmt


def test_app_and_space_actions_are_scoped_to_this_domain(studio_vpc):
    t = studio(studio_vpc)
    by_sid = {s.get("Sid"): s for s in statements(t)}
    for sid, kind in (("RunAppsInThisDomain", ":app/"), ("ManageSpacesInThisDomain", ":space/")):
        parts = by_sid[sid]["Resource"]["Fn::Join"][1]
        assert kind in parts[2] and parts[3] == {"Fn::GetAtt": [DOMAIN_ID, "DomainId"]} and parts[4] == "/*"
    assert by_sid["DescribeThisDomain"]["Resource"] == {"Fn::GetAtt": [DOMAIN_ID, "DomainArn"]}


def test_bucket_access_is_limited_to_the_studio_prefix(studio_vpc):
    by_sid = {s.get("Sid"): s for s in statements(studio(studio_vpc))}
    assert by_sid["ReadWriteStudioPrefix"]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [BUCKET_ID, "Arn"]}, "/studio/*"]]
    }
    assert by_sid["ListStudioPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["studio/*"]}}
    jumpstart = json.dumps(by_sid["ReadJumpStartCatalogue"]["Resource"])
    assert ":s3:::jumpstart-cache-prod-" in jumpstart and actions(by_sid["ReadJumpStartCatalogue"]) == ["s3:GetObject"]


def test_cleanup_runs_before_profiles_and_domain_are_deleted(studio_vpc):
    t = studio(studio_vpc)
    [(lid, cleanup)] = t.find_resources("Custom::StudioCleanup").items()
    assert cleanup["Properties"]["DomainId"] == {"Fn::GetAtt": [DOMAIN_ID, "DomainId"]}
    profiles = set(t.find_resources("AWS::SageMaker::UserProfile"))
    assert profiles <= set(cleanup["DependsOn"])
    t.has_resource_properties(
        "AWS::Lambda::Function",
        # One builder, one runtime: the app's PythonFunction runtime.
        {"Handler": "index.on_event", "Runtime": RUNTIME.name, "Timeout": 900},
    )


def test_no_studio_stack_when_disabled_and_endpoints_have_no_vpc_without_network():
    from tests.synth import CONFIGS, synth

    s = synth(CONFIGS["default"])
    t = Template.from_json(s.template(s.deployment.endpoints))
    for model in t.find_resources("AWS::SageMaker::Model").values():
        assert "VpcConfig" not in model["Properties"]

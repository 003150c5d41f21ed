"""The options a Control Tower-governed account wants (config/examples/governed.yaml):
S3 Object Lock on the buckets that can take it (`object_lock`, CT.S3.PR.9) and the app's
Lambda functions in the network's private subnets (`network.functions_in_vpc`,
CT.LAMBDA.PR.3). Which acknowledgments remain is pinned in test_control_tower.py."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from stacks.config import ConfigError, ObjectLockConfig, parse_config
from stacks.constructs.network import FUNCTION_INTERFACE_ENDPOINTS
from stacks.constructs.secure_bucket import SecureBucket
from tests.synth import CONFIGS, REPO, Synth, synth

BASE = {
    "region": "us-east-1",
    "endpoints": [{"model_id": "huggingface-llm-falcon-7b-instruct-bf16", "instance_type": "ml.g5.2xlarge"}],
}
SSM_REF = re.compile(r"^\{\{resolve:ssm:(/fm-governed/network/[a-z0-9-]+)\}\}$")
# The app's own runtime functions: front door, streaming, jobs worker, dead-letter handler, idle checker.
APP_FUNCTIONS = {
    ("Api", "FrontDoorHandlerFunction"), ("Api", "FrontDoorStreamingFunction"),
    ("Api", "FrontDoorJobsWorkerFunction"), ("Api", "FrontDoorJobsDeadLetterHandlerFunction"),
    ("Endpoints", "IdleSleeperCheckerFunction"),
}


@pytest.fixture(scope="module")
def governed() -> Synth:
    return synth(CONFIGS["governed"])


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Synth:
    """studio-imported-vpc with functions_in_vpc (the VPC owner provides the endpoints) and
    a COMPLIANCE-mode object_lock."""
    data = yaml.safe_load((REPO / CONFIGS["studio-imported-vpc"]).read_text())
    data["network"]["functions_in_vpc"] = True
    data["object_lock"] = {"mode": "COMPLIANCE", "retention_days": 7}
    path = Path(tmp_path_factory.mktemp("cfg")) / "imported-functions.yaml"
    path.write_text(yaml.safe_dump(data))
    return synth(str(path))


def _refusal(data: dict) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    return str(err.value)


def _functions(s: Synth) -> dict[tuple[str, str], dict]:
    """(stack id, logical id prefix) -> properties of every Lambda function."""
    return {
        (stack_id, re.sub(r"[0-9A-F]{8}$", "", lid)): r["Properties"]
        for stack_id, template in s.templates().items()
        for lid, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"
    }


# -- config ----------------------------------------------------------------------


def test_functions_in_vpc_without_a_network_names_the_field_and_the_fix():
    assert _refusal({**BASE, "network": {"functions_in_vpc": True}}) == (
        "network.functions_in_vpc: applies to network.mode 'create' or 'import' only (mode is 'none'): the "
        "functions need private subnets; set network.mode to 'create' (a new private VPC) or 'import' (your "
        "VPC's ids), or functions_in_vpc to false"
    )


@pytest.mark.parametrize(("object_lock", "expected"), [
    ({"mode": "WORM", "retention_days": 30},
     "object_lock.mode: Input should be 'GOVERNANCE' or 'COMPLIANCE' (got 'WORM')"),
    ({"mode": "GOVERNANCE"}, "object_lock.retention_days: Field required"),
    ({"retention_days": 0}, "object_lock.retention_days: Input should be greater than or equal to 1"),
    ({"retention_days": 3651}, "object_lock.retention_days: Input should be less than or equal to 3650"),
    ({"retention_days": "30"}, "object_lock.retention_days: Input should be a valid integer"),
    ({"retention_days": 30, "years": 1}, "object_lock.years: unknown field; allowed: mode, retention_days"),
])
def test_object_lock_refusals_name_the_field_and_the_allowed_values(object_lock, expected):
    assert _refusal({**copy.deepcopy(BASE), "object_lock": object_lock}) == expected


def test_both_options_are_off_by_default():
    config = parse_config(copy.deepcopy(BASE))
    assert (config.object_lock, config.network.functions_in_vpc) == (None, False)
    assert parse_config({**BASE, "object_lock": {"retention_days": 7}}).object_lock.mode == "GOVERNANCE"


# -- S3 Object Lock ----------------------------------------------------------------


def _buckets(s: Synth) -> dict[tuple[str, str], dict]:
    return {
        (stack_id, re.sub(r"[0-9A-F]{8}$", "", lid)): r["Properties"]
        for stack_id, template in s.templates().items()
        for lid, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"
    }


def test_object_lock_with_default_retention_on_the_capture_bucket_none_on_log_targets(governed):
    """Object Lock needs versioning (S3 User Guide, "Configuring S3 Object Lock": "you must
    enable S3 Versioning and Object Lock"); every locked bucket is versioned. S3 refuses
    Object Lock buckets as server-access-log destinations (same page), so the access-log
    targets stay unlocked. The jobs bucket is locked without a default retention: S3 refuses
    an upload under a retention period without Content-MD5 or a checksum header (S3 API
    Reference, PutObject), and the front door's presigned POST admits neither (POST Policy:
    only the fields its conditions list)."""
    buckets = _buckets(governed)
    assert set(buckets) == {
        ("Endpoints", "AccessLogsBucket"), ("Endpoints", "CaptureBucket"),
        ("Api", "AccessLogsBucket"), ("Api", "FrontDoorJobsBucket"),
    }
    capture = buckets["Endpoints", "CaptureBucket"]
    assert capture["ObjectLockEnabled"] is True
    assert capture["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
    }
    jobs = buckets["Api", "FrontDoorJobsBucket"]
    assert jobs["ObjectLockEnabled"] is True and "ObjectLockConfiguration" not in jobs
    for key, props in buckets.items():
        if key[1] == "AccessLogsBucket":
            assert "ObjectLockEnabled" not in props and "ObjectLockConfiguration" not in props, key
        else:
            assert props["VersioningConfiguration"] == {"Status": "Enabled"}, key
    # The lifecycle rules stay: S3 applies them to locked versions once their retention has passed.
    assert {"ExpirationInDays": 90, "Status": "Enabled"} in capture["LifecycleConfiguration"]["Rules"]


@pytest.mark.parametrize("mode", ["GOVERNANCE", "COMPLIANCE"])
def test_secure_bucket_maps_the_config_to_the_default_retention(mode):
    """CloudFormation DefaultRetention: "If Object Lock is turned on, you must specify Mode and
    specify either Days or Years" (AWS::S3::Bucket DefaultRetention)."""
    stack = cdk.Stack(cdk.App())
    key = kms.Key(stack, "Key")
    logs = s3.Bucket(stack, "Logs")
    SecureBucket(stack, "Locked", key=key, access_logs=logs, log_prefix="x/",
                 object_lock=ObjectLockConfig(mode=mode, retention_days=400))
    SecureBucket(stack, "Plain", key=key, access_logs=logs, log_prefix="y/")
    buckets = Template.from_stack(stack).find_resources("AWS::S3::Bucket")
    [locked] = [b["Properties"] for lid, b in buckets.items() if lid.startswith("Locked")]
    [plain] = [b["Properties"] for lid, b in buckets.items() if lid.startswith("Plain")]
    assert locked["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": mode, "Days": 400}
    assert not {"ObjectLockEnabled", "ObjectLockConfiguration"} & set(plain)


# -- functions in the VPC ------------------------------------------------------------


def test_every_app_function_runs_in_the_private_subnets_with_the_function_security_group(governed):
    """VpcConfig names the subnets and the group as `{{resolve:ssm:...}}` strings: the
    CT.LAMBDA.PR.3 Guard rule accepts only non-empty strings or a same-template Ref/GetAtt
    there (a cross-stack Fn::GetStackOutput fails it), and CloudFormation resolves ssm
    dynamic references in resource properties at deploy time ("Get a plaintext value from
    Systems Manager Parameter Store"). The parameters hold the Network stack's private
    subnets and function security group."""
    functions = _functions(governed)
    assert APP_FUNCTIONS <= set(functions)
    names = set()
    for key in APP_FUNCTIONS:
        vpc = functions[key]["VpcConfig"]
        refs = [SSM_REF.match(v).group(1) for v in vpc["SubnetIds"] + vpc["SecurityGroupIds"]]
        assert len(vpc["SubnetIds"]) == 2 and len(vpc["SecurityGroupIds"]) == 1, key
        names.add(tuple(refs))
    [refs] = names  # one placement for all of them
    network = governed.template(governed.deployment.network)["Resources"]
    parameters = {r["Properties"]["Name"]: r["Properties"]["Value"]
                  for r in network.values() if r["Type"] == "AWS::SSM::Parameter"}
    assert set(parameters) == set(refs)
    subnets, [group] = refs[:2], refs[2:]
    private = {lid for lid, r in network.items()
               if r["Type"] == "AWS::EC2::Subnet" and lid.startswith("NetworkVpcPrivateSubnet")}
    assert {parameters[name]["Ref"] for name in subnets} == private
    assert parameters[group] == {"Fn::GetAtt": [_only(network, "NetworkFunctionSecurityGroup"), "GroupId"]}
    # The teardown guard and CDK's default-SG handler stay outside (pinned in test_control_tower.py).
    assert all("VpcConfig" not in props for (stack, _), props in functions.items() if stack == "Network")


def _only(resources: dict, prefix: str) -> str:
    [lid] = [lid for lid in resources if re.fullmatch(rf"{prefix}[0-9A-F]{{8}}", lid)]
    return lid


def test_function_stacks_deploy_after_the_network(governed):
    """The dynamic references carry no dependency CloudFormation or CDK could see: the
    parameters must exist before the Api and Endpoints stacks resolve them."""
    d = governed.deployment
    assert d.network in d.api.dependencies and d.network in d.endpoints.dependencies
    assert d.api not in d.network.dependencies and d.endpoints not in d.network.dependencies


def test_function_security_group_has_no_ingress_and_only_https_egress(governed):
    network = governed.template(governed.deployment.network)["Resources"]
    group = network[_only(network, "NetworkFunctionSecurityGroup")]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [(r["CidrIp"], r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in group["SecurityGroupEgress"]] == [
        ("0.0.0.0/0", "tcp", 443, 443)
    ]


def test_created_vpc_gets_the_endpoints_the_functions_call(governed):
    """What the functions call with boto3 (lambdas/): sagemaker-runtime, sagemaker and ssm
    (wake), dynamodb, s3, sqs (jobs) and cloudwatch (idle checker), plus X-Ray for active
    tracing. The Studio set already has SageMaker API/runtime, KMS, STS and Logs; S3 and
    DynamoDB are gateway endpoints. Each interface endpoint has private DNS, so the SDKs'
    default endpoints resolve to it, behind the endpoint group (HTTPS from the VPC)."""
    assert {e.short_name for e in FUNCTION_INTERFACE_ENDPOINTS.values()} == {"sqs", "ssm", "monitoring", "xray"}
    network = governed.template(governed.deployment.network)["Resources"]
    endpoints = [r["Properties"] for r in network.values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    interface = {e["ServiceName"].rsplit(".", 1)[-1] if "sagemaker" not in e["ServiceName"] else e["ServiceName"]: e
                 for e in endpoints if e["VpcEndpointType"] == "Interface"}
    for name in ("sqs", "ssm", "monitoring", "xray"):
        assert interface[name]["PrivateDnsEnabled"] is True
        assert interface[name]["SecurityGroupIds"] == [
            {"Fn::GetAtt": [_only(network, "NetworkEndpointSecurityGroup"), "GroupId"]}
        ]
    gateways = sorted(e["ServiceName"]["Fn::Join"][1][-1] for e in endpoints if e["VpcEndpointType"] == "Gateway")
    assert gateways == [".dynamodb", ".s3"]
    assert len(interface) == 12


def test_in_vpc_roles_get_only_the_vpc_access_lambda_needs(governed):
    """Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC":
    the execution role needs ec2:CreateNetworkInterface, DescribeNetworkInterfaces ("only
    works if it's allowed on all resources"), DescribeSubnets, DeleteNetworkInterface ("or
    include all resource IDs, for example arn:aws:ec2:us-west-2:123456789012:*/*"),
    AssignPrivateIpAddresses and UnassignPrivateIpAddresses (AWSLambdaVPCAccessExecutionRole).
    Only the describes are on `*`; the rest on this account's and region's EC2 resources."""
    functions = _functions(governed)
    for stack_id, prefix in APP_FUNCTIONS:
        role = functions[stack_id, prefix]["Role"]["Fn::GetAtt"][0]
        template = governed.templates()[stack_id]["Resources"]
        [policy] = [template[ref["Ref"]]["Properties"]["PolicyDocument"]
                    for ref in template[role]["Properties"]["ManagedPolicyArns"] if "Ref" in ref]
        statements = {s.get("Sid"): s for s in policy["Statement"]}
        manage, describe = statements["ManageVpcInterfaces"], statements["DescribeVpcInterfaces"]
        assert manage["Action"] == ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface",
                                    "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"]
        assert manage["Resource"] == {"Fn::Join": ["", ["arn:aws:ec2:us-east-1:", {"Ref": "AWS::AccountId"}, ":*/*"]]}
        assert describe["Action"] == ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
        assert describe["Resource"] == "*"
        wildcard = {a for s in policy["Statement"] if s["Resource"] == "*" for a in _list(s["Action"])}
        assert wildcard - {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:GetMetricData"} == {
            "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"
        }, (stack_id, prefix)


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_imported_vpc_takes_literal_subnets_and_creates_no_endpoints(imported):
    """network.mode import: the VPC's owner provides the endpoints (docs/governed-accounts.md); the config's
    subnet ids are literals in VpcConfig, only the function group comes from a parameter."""
    network = imported.template(imported.deployment.network)["Resources"]
    assert sorted(r["Type"] for r in network.values()) == [
        "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroup", "AWS::SSM::Parameter"
    ]
    vpc = _functions(imported)["Api", "FrontDoorHandlerFunction"]["VpcConfig"]
    assert vpc["SubnetIds"] == ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    [group] = vpc["SecurityGroupIds"]
    assert group == "{{resolve:ssm:/fm-studio-imp/network/function-security-group}}"


def test_imported_vpc_functions_may_attach_to_subnets_another_account_shares(imported):
    """An imported VPC may be shared through AWS RAM (common under Control Tower: a network
    account owns it), and a shared subnet's ARN carries the owner's account; interfaces and
    security groups stay this account's. A created VPC's subnets are this account's only."""
    role = _functions(imported)["Api", "FrontDoorHandlerFunction"]["Role"]["Fn::GetAtt"][0]
    template = imported.template(imported.deployment.api)["Resources"]
    [policy] = [template[ref["Ref"]]["Properties"]["PolicyDocument"]
                for ref in template[role]["Properties"]["ManagedPolicyArns"] if "Ref" in ref]
    [manage] = [s for s in policy["Statement"] if s.get("Sid") == "ManageVpcInterfaces"]
    assert sorted(manage["Resource"], key=str) == sorted([
        {"Fn::Join": ["", ["arn:aws:ec2:eu-west-1:", {"Ref": "AWS::AccountId"}, ":*/*"]]},
        "arn:aws:ec2:eu-west-1:*:subnet/*",
    ], key=str)


def test_studio_bucket_takes_the_default_retention_and_its_cleanup_stays_outside_the_vpc(imported):
    """The Studio bucket is a SecureBucket like the capture bucket; the Studio cleanup handler
    keeps its CT.LAMBDA.PR.3 exception (in the VPC, its own network interface would hold up
    the VPC's deletion after the domain's)."""
    from stacks.compliance.control_tower import control_acknowledgments

    buckets = _buckets(imported)
    assert buckets["Studio", "Bucket"]["ObjectLockConfiguration"]["Rule"] == {
        "DefaultRetention": {"Mode": "COMPLIANCE", "Days": 7}
    }
    assert buckets["Endpoints", "CaptureBucket"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    studio = imported.deployment.studio
    assert [(path, c) for path, c, _ in control_acknowledgments(studio) if c == "CT.LAMBDA.PR.3"] == [
        ("Studio/Studio/Cleanup/Function", "CT.LAMBDA.PR.3")
    ]
    assert "VpcConfig" not in _functions(imported)["Studio", "StudioCleanupFunction"]


def test_default_config_has_neither_option():
    templates = synth(CONFIGS["default"]).templates()
    for stack_id, template in templates.items():
        for lid, r in template["Resources"].items():
            assert "VpcConfig" not in r.get("Properties", {}), (stack_id, lid)
            assert "ObjectLockEnabled" not in r.get("Properties", {}), (stack_id, lid)

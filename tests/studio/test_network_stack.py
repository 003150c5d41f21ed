"""Network stack: a private two-AZ VPC with flow logs and endpoints, or an imported one."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from stacks.constructs.network import INTERFACE_ENDPOINTS

VPC_ID = "NetworkVpc7FB7348F"
LOG_KEY_ID = "NetworkLogKey5212F0C4"
FLOW_LOG_GROUP_ID = "NetworkFlowLogGroup4F8CEEEF"


def network(s) -> Template:
    return Template.from_json(s.template(s.deployment.network))


def test_created_vpc_keeps_its_logical_id_cidr_and_dns(studio_vpc):
    t = network(studio_vpc)
    assert list(t.find_resources("AWS::EC2::VPC")) == [VPC_ID]
    t.has_resource_properties(
        "AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True}
    )


def test_created_vpc_has_two_isolated_subnets_in_deploy_time_azs_and_no_internet_path(studio_vpc):
    t = network(studio_vpc)
    subnets = t.find_resources("AWS::EC2::Subnet")
    assert sorted(s["Properties"]["CidrBlock"] for s in subnets.values()) == ["10.40.0.0/18", "10.40.64.0/18"]
    # Fn::GetAZs at deploy time: no synth-time lookup, right AZ names in every account
    assert [s["Properties"]["AvailabilityZone"] for s in subnets.values()] == [
        {"Fn::Select": [i, {"Fn::GetAZs": ""}]} for i in range(2)
    ]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    for kind in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        t.resource_count_is(kind, 0)


def test_configured_azs_replace_the_deploy_time_ones(tmp_path):
    import yaml

    from tests.synth import CONFIGS, REPO, synth

    data = yaml.safe_load((REPO / CONFIGS["studio-vpc"]).read_text())
    data["network"]["availability_zones"] = ["us-east-1b", "us-east-1c"]
    data["studio"]["enabled"] = False
    path = tmp_path / "azs.yaml"
    path.write_text(yaml.safe_dump(data))
    s = synth(str(path))
    subnets = network(s).find_resources("AWS::EC2::Subnet")
    assert sorted(v["Properties"]["AvailabilityZone"] for v in subnets.values()) == ["us-east-1b", "us-east-1c"]
    assert s.deployment.studio is None


@pytest.mark.parametrize("name", sorted(INTERFACE_ENDPOINTS))
def test_interface_endpoint_is_private_dns_behind_the_endpoint_security_group(studio_vpc, name):
    service = INTERFACE_ENDPOINTS[name].short_name
    t = network(studio_vpc)
    t.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Interface",
            "ServiceName": Match.string_like_regexp(rf"\.{service.replace('.', '[.]')}$"),
            "PrivateDnsEnabled": True,
            "SecurityGroupIds": [{"Fn::GetAtt": [Match.string_like_regexp("^NetworkEndpointSecurityGroup"), "GroupId"]}],
        },
    )


def test_endpoint_set_is_what_vpc_only_studio_and_models_need(studio_vpc):
    names = {e.short_name for e in INTERFACE_ENDPOINTS.values()}
    # SAGEMAKER_STUDIO's short name is "studio" (aws.sagemaker.<region>.studio)
    assert names == {"sagemaker.api", "sagemaker.runtime", "studio", "sts", "logs", "ecr.api", "ecr.dkr", "kms"}
    t = network(studio_vpc)
    t.resource_properties_count_is("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Interface"}, 8)
    t.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"VpcEndpointType": "Gateway", "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}},
    )


def test_endpoint_security_group_admits_only_https_from_the_vpc(studio_vpc):
    t = network(studio_vpc)
    [sg] = [
        r for lid, r in t.find_resources("AWS::EC2::SecurityGroup").items() if lid.startswith("NetworkEndpointSecurityGroup")
    ]
    assert sg["Properties"]["SecurityGroupIngress"] == [
        {"CidrIp": "10.40.0.0/16", "Description": "HTTPS from the VPC", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]
    # allow_all_outbound=False: CDK's placeholder rule that matches no traffic
    assert [r["CidrIp"] for r in sg["Properties"]["SecurityGroupEgress"]] == ["255.255.255.255/32"]


def test_flow_logs_go_to_a_retained_kms_encrypted_group_with_config_retention(studio_vpc):
    t = network(studio_vpc)
    t.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceId": {"Ref": VPC_ID}, "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    t.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"KmsKeyId": {"Fn::GetAtt": [LOG_KEY_ID, "Arn"]}, "RetentionInDays": 365},
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    # the only other log group is the teardown guard's function log, with the same key
    groups = t.find_resources("AWS::Logs::LogGroup")
    assert sorted(groups) == sorted([FLOW_LOG_GROUP_ID, *[g for g in groups if g.startswith("TeardownGuardLogs")]])
    assert len(groups) == 2
    assert all(g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [LOG_KEY_ID, "Arn"]} for g in groups.values())
    t.has_resource("AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}, "DeletionPolicy": "RetainExceptOnCreate"})
    assert list(t.find_resources("AWS::KMS::Key")) == [LOG_KEY_ID]


def test_models_run_in_the_private_subnets_with_the_workload_security_group(studio_vpc):
    t = Template.from_json(studio_vpc.template(studio_vpc.deployment.endpoints))
    [model] = t.find_resources("AWS::SageMaker::Model").values()
    vpc_config = model["Properties"]["VpcConfig"]
    outputs = [ref["Fn::GetStackOutput"]["OutputName"] for ref in vpc_config["Subnets"] + vpc_config["SecurityGroupIds"]]
    assert [o for o in outputs if "PrivateSubnet" in o] and len(vpc_config["Subnets"]) == 2
    assert "WorkloadSecurityGroup" in outputs[-1]
    assert model["Properties"]["EnableNetworkIsolation"] is True


def test_workload_security_group_has_no_ingress_and_only_https_egress(studio_vpc):
    t = network(studio_vpc)
    [sg] = [r for lid, r in t.find_resources("AWS::EC2::SecurityGroup").items() if lid.startswith("NetworkWorkload")]
    assert "SecurityGroupIngress" not in sg["Properties"]
    assert [(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in sg["Properties"]["SecurityGroupEgress"]] == [
        ("0.0.0.0/0", 443, 443)
    ]


def test_nat_option_adds_public_subnets_nat_and_egress_capable_private_subnets(studio_nat):
    t = network(studio_nat)
    t.resource_count_is("AWS::EC2::NatGateway", 1)
    t.resource_count_is("AWS::EC2::InternetGateway", 1)
    subnets = t.find_resources("AWS::EC2::Subnet")
    types = sorted(
        next(tag["Value"] for tag in s["Properties"]["Tags"] if tag["Key"] == "aws-cdk:subnet-type") for s in subnets.values()
    )
    assert types == ["Private", "Private", "Public", "Public"]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    # the VPC keeps its logical id when NAT is switched on
    assert list(t.find_resources("AWS::EC2::VPC")) == [VPC_ID]


def test_imported_vpc_creates_only_the_workload_security_group(studio_imported):
    t = network(studio_imported)
    assert {r["Type"] for r in t.to_json()["Resources"].values()} == {"AWS::EC2::SecurityGroup"}
    t.has_resource_properties("AWS::EC2::SecurityGroup", {"VpcId": "vpc-0123456789abcdef0"})
    assert studio_imported.deployment.network.network.subnet_ids == [
        "subnet-0123456789abcdef0",
        "subnet-0fedcba9876543210",
    ]


def test_default_config_has_no_network_or_studio_stack():
    from tests.synth import CONFIGS, synth

    d = synth(CONFIGS["default"]).deployment
    assert (d.network, d.studio) == (None, None)
    assert not {"Network", "Studio"} & {s.node.id for s in d.stacks}

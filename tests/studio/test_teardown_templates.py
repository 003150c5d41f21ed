"""Templates for teardown: the Studio cleanup's flag, permissions and delete order,
and the Network stack's teardown guard.

CloudFormation deletes a resource only after every resource that depends on it
(DependsOn, Ref, Fn::GetAtt) is deleted ("DependsOn attribute", CloudFormation
User Guide). So a custom resource that must act before X is deleted depends on X.
"""

from __future__ import annotations

import json

import pytest

from stacks.config import StudioConfig

DOMAIN_ID = "StudioDomain20F5E462"
VPC_ID = "NetworkVpc7FB7348F"


def resources(s, stack) -> dict:
    return s.template(stack)["Resources"]


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        if "Ref" in node:
            return {node["Ref"]}
        if "Fn::GetAtt" in node:
            return {node["Fn::GetAtt"][0]}
        return set().union(*(_refs(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def depends_on(res: dict) -> dict[str, set[str]]:
    """Direct dependencies of each resource: DependsOn plus Ref/GetAtt in its properties."""
    graph = {}
    for lid, r in res.items():
        explicit = r.get("DependsOn", [])
        explicit = [explicit] if isinstance(explicit, str) else explicit
        graph[lid] = (set(explicit) | _refs(r.get("Properties", {}))) & set(res)
    return graph


def closure(graph: dict[str, set[str]], lid: str) -> set[str]:
    seen, todo = set(), [lid]
    while todo:
        for dep in graph[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def of_type(res: dict, kind: str) -> list[str]:
    return sorted(lid for lid, r in res.items() if r["Type"] == kind)


def cleanup_statements(res: dict) -> list[dict]:
    [policy] = [r for lid, r in res.items() if lid.startswith("StudioCleanupRolePolicy")]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def actions(stmt: dict) -> list[str]:
    a = stmt["Action"]
    return [a] if isinstance(a, str) else a


@pytest.fixture(params=["studio_vpc", "studio_teardown", "studio_imported"])
def any_studio(request):
    return request.getfixturevalue(request.param)


# -- config ----------------------------------------------------------------------


def test_the_flag_is_off_by_default_and_says_it_deletes_home_directories():
    field = StudioConfig.model_fields["delete_home_efs_on_destroy"]
    assert StudioConfig().delete_home_efs_on_destroy is False
    assert "HOME DIRECTORY" in field.description


# -- Studio cleanup --------------------------------------------------------------


def test_cleanup_is_deleted_before_the_domain_and_every_profile_and_after_its_function(any_studio):
    res = resources(any_studio, any_studio.deployment.studio)
    graph = depends_on(res)
    [cleanup] = of_type(res, "Custom::StudioCleanup")
    profiles = of_type(res, "AWS::SageMaker::UserProfile")
    assert profiles  # every shipped Studio config has some
    # explicit DependsOn on the domain and each profile
    assert {DOMAIN_ID, *profiles} <= set(res[cleanup]["DependsOn"])
    # and nothing it must outlive depends on it (that would reverse the order)
    for lid in (DOMAIN_ID, *profiles):
        assert cleanup not in closure(graph, lid), lid
    # the function, its role and the role's policy are deleted after it
    needed = closure(graph, cleanup)
    for prefix in ("StudioCleanupFunction", "StudioCleanupRole", "StudioCleanupRolePolicy", "StudioCleanupLogs"):
        assert any(lid.startswith(prefix) for lid in needed), prefix


@pytest.mark.parametrize(("fixture", "flag"), [("studio_vpc", False), ("studio_imported", False), ("studio_teardown", True)])
def test_the_flag_reaches_the_function_as_a_resource_property(request, fixture, flag):
    s = request.getfixturevalue(fixture)
    res = resources(s, s.deployment.studio)
    [cleanup] = [r for r in res.values() if r["Type"] == "Custom::StudioCleanup"]
    props = cleanup["Properties"]
    assert props["DeleteHomeEfsOnDestroy"] is flag
    if flag:
        # the created VPC's id, read from the Network stack
        assert props["VpcId"]["Fn::GetStackOutput"]["OutputName"].startswith(f"PublishOutputRef{VPC_ID}")
    else:
        assert "VpcId" not in props


@pytest.mark.parametrize("fixture", ["studio_vpc", "studio_imported"])
def test_without_the_flag_the_cleanup_cannot_delete_domains_profiles_or_security_groups(request, fixture):
    s = request.getfixturevalue(fixture)
    granted = {a for st in cleanup_statements(resources(s, s.deployment.studio)) for a in actions(st)}
    assert not {a for a in granted if a.startswith(("ec2:", "cloudformation:"))}
    assert not granted & {"sagemaker:DeleteDomain", "sagemaker:DeleteUserProfile", "sagemaker:ListUserProfiles"}


def test_with_the_flag_each_permission_is_scoped_to_this_domain_its_profiles_or_its_vpc(studio_teardown):
    statements = cleanup_statements(resources(studio_teardown, studio_teardown.deployment.studio))
    by_sid = {st.get("Sid"): st for st in statements}

    domain = by_sid["DeleteThisDomain"]
    assert actions(domain) == ["sagemaker:DeleteDomain", "sagemaker:DescribeDomain"]
    assert domain["Resource"] == {"Fn::GetAtt": [DOMAIN_ID, "DomainArn"]}

    profiles = by_sid["DeleteProfilesOfThisDomain"]
    assert actions(profiles) == ["sagemaker:DeleteUserProfile", "sagemaker:DescribeUserProfile"]
    parts = profiles["Resource"]["Fn::Join"][1]
    assert parts[-3].endswith(":user-profile/") and parts[-2] == {"Fn::GetAtt": [DOMAIN_ID, "DomainId"]} and parts[-1] == "/*"

    groups = by_sid["DeleteSecurityGroupsInThisVpc"]
    assert actions(groups) == ["ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"]
    assert groups["Resource"]["Fn::Join"][1][-1] == ":security-group/*"
    # ec2:Vpc: "the ARN of the VPC" (Service Authorization Reference, Amazon EC2 condition keys)
    vpc_arn = groups["Condition"]["ArnEquals"]["ec2:Vpc"]["Fn::Join"][1]
    assert vpc_arn[-2] == ":vpc/" and vpc_arn[-1]["Fn::GetStackOutput"]["OutputName"].startswith(f"PublishOutputRef{VPC_ID}")
    assert vpc_arn[0].startswith("arn:aws:ec2:")

    assert by_sid["ReadThisStacksStatus"] == {
        "Action": "cloudformation:DescribeStacks",
        "Effect": "Allow",
        "Resource": {"Ref": "AWS::StackId"},
        "Sid": "ReadThisStacksStatus",
    }
    # "*" only where IAM has no resource level, and never a wildcard action
    for st in statements:
        assert st["Effect"] == "Allow" and all("*" not in a for a in actions(st)), st
        if st["Resource"] == "*":
            assert set(actions(st)) <= {
                "sagemaker:ListApps",
                "sagemaker:ListSpaces",
                "sagemaker:ListUserProfiles",
                "ec2:DescribeSecurityGroups",
                "xray:PutTelemetryRecords",
                "xray:PutTraceSegments",
            }, st


def test_with_the_flag_the_function_has_lambdas_maximum_time_for_efs_deletion(studio_teardown):
    res = resources(studio_teardown, studio_teardown.deployment.studio)
    [fn] = [r for lid, r in res.items() if lid.startswith("StudioCleanupFunction") and r["Type"] == "AWS::Lambda::Function"]
    assert fn["Properties"]["Timeout"] == 900 and fn["Properties"]["Handler"] == "index.on_event"


# -- Network teardown guard ------------------------------------------------------


@pytest.fixture(params=["studio_vpc", "studio_nat"])
def created_network(request):
    s = request.getfixturevalue(request.param)
    return resources(s, s.deployment.network)


def guard(res: dict) -> tuple[str, dict]:
    [(lid, r)] = [(lid, r) for lid, r in res.items() if r["Type"] == "Custom::NetworkTeardownGuard"]
    return lid, r


def test_guard_is_deleted_before_the_subnets_and_the_vpc(created_network):
    res = created_network
    lid, r = guard(res)
    subnets = of_type(res, "AWS::EC2::Subnet")
    assert {VPC_ID, *subnets} <= set(r["DependsOn"])
    graph = depends_on(res)
    for other in (VPC_ID, *subnets, *of_type(res, "AWS::EC2::VPCEndpoint"), *of_type(res, "AWS::EC2::NatGateway")):
        assert lid not in closure(graph, other), other


def test_guard_knows_every_network_interface_and_security_group_the_stack_owns(created_network):
    res = created_network
    _, r = guard(res)
    props = r["Properties"]
    assert props["VpcId"] == {"Ref": VPC_ID}
    assert sorted(x["Ref"] for x in props["SubnetIds"]) == of_type(res, "AWS::EC2::Subnet")
    interface_endpoints = sorted(
        lid for lid in of_type(res, "AWS::EC2::VPCEndpoint") if res[lid]["Properties"]["VpcEndpointType"] == "Interface"
    )
    assert sorted(x["Ref"] for x in props["VpcEndpointIds"]) == interface_endpoints
    assert sorted(x["Ref"] for x in props.get("NatGatewayIds", [])) == of_type(res, "AWS::EC2::NatGateway")
    assert sorted(x["Fn::GetAtt"][0] for x in props["SecurityGroupIds"]) == of_type(res, "AWS::EC2::SecurityGroup")


def test_guard_function_only_reads_and_ships_with_the_studio_cleanup_code(studio_vpc):
    res = resources(studio_vpc, studio_vpc.deployment.network)
    _, r = guard(res)
    fn = res[r["Properties"]["ServiceToken"]["Fn::GetAtt"][0]]["Properties"]
    assert fn["Handler"] == "network_guard.on_event" and fn["Timeout"] <= 900
    studio = resources(studio_vpc, studio_vpc.deployment.studio)
    [cleanup_fn] = [v for k, v in studio.items() if k.startswith("StudioCleanupFunction") and v["Type"] == "AWS::Lambda::Function"]
    assert fn["Code"]["S3Key"] == cleanup_fn["Properties"]["Code"]["S3Key"]  # one asset: lambdas/studio_cleanup
    [policy] = [v for k, v in res.items() if k.startswith("TeardownGuardRolePolicy")]
    granted = {a for st in policy["Properties"]["PolicyDocument"]["Statement"] for a in actions(st)}
    writes = {a for a in granted if not a.split(":")[1].startswith("Describe")}
    assert writes == {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
    assert "elasticfilesystem:DescribeMountTargets" in granted and "ec2:DescribeNetworkInterfaces" in granted


def test_an_imported_vpc_has_no_guard(studio_imported):
    res = resources(studio_imported, studio_imported.deployment.network)
    assert not [r for r in res.values() if r["Type"].startswith("Custom::")]
    assert studio_imported.deployment.network.teardown_guard is None
    assert "Custom::NetworkTeardownGuard" not in json.dumps(res)


def test_teardown_variant_is_cfn_lint_clean(studio_teardown):
    from cfnlint.api import ManualArgs, lint

    args = ManualArgs(regions=[studio_teardown.deployment.config.region])
    for stack in (studio_teardown.deployment.network, studio_teardown.deployment.studio):
        found = [m for m in lint(json.dumps(studio_teardown.template(stack)), config=args) if m.rule.id[0] in "EW"]
        # W3005: CDK's explicit DependsOn duplicating a GetAtt, harmless.
        assert not [m for m in found if m.rule.id != "W3005"], f"{stack.node.id}: {found}"

"""tools.preflight against canned AWS responses: real boto3 clients under botocore's
Stubber (which validates every request and response against the service model), so
nothing here ever reaches AWS."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from botocore.stub import ANY, Stubber

from stacks.config import load_config
from stacks.models.jumpstart import resolve_endpoints
from tests.tools.preflight_stubs import (
    ACCOUNT, DEFAULT, IMPORTED, OK_BUCKET_PAGE, REPO, account_settings, client, queue_quotas, quota, session_for,
    stack_summary, statuses, subnet, toolkit)
from tools import preflight
from tools.preflight import Result


@pytest.fixture(scope="module")
def default_config():
    return load_config(DEFAULT)


@pytest.fixture(scope="module")
def default_endpoints(default_config):
    return resolve_endpoints(default_config)


def healthy(region: str = "us-east-1") -> dict:
    """How each service answers in a bootstrapped account with room for the default config."""
    prefix = "huggingface-llm/huggingface-llm-falcon-7b-instruct-bf16/artifacts/inference-prepack/v2.0.0/"
    return {
        "service-quotas": lambda stub: queue_quotas(
            stub, "list_service_quotas", [quota("ml.g5.xlarge for endpoint usage", 4.0, "L-1", region)],
            [quota("ml.g5.2xlarge for endpoint usage", 4.0, "L-2", region),
             quota("ml.g5.2xlarge for training job usage", 2.0, "L-3", region)]),
        "lambda": lambda stub: stub.add_response("get_account_settings", account_settings(1000, 1000), {}),
        "cloudformation": lambda stub: (
            stub.add_response("list_stacks", {"StackSummaries": []}, {"StackStatusFilter": ANY}),
            stub.add_response("describe_stacks", toolkit(), {"StackName": "CDKToolkit"})),
        "s3": lambda stub: stub.add_response("list_objects_v2", OK_BUCKET_PAGE, {
            "Bucket": f"jumpstart-cache-prod-{region}", "Prefix": prefix, "MaxKeys": 1}),
        "logs": lambda stub: stub.add_response("describe_log_groups", {"logGroups": []},
                                               {"logGroupNamePrefix": "aws-waf-logs-fm-platform-api"}),
        "ec2": lambda stub: None,
    }


def account(stubbed, region: str = "us-east-1", **answers) -> dict:
    """Stubbed clients answering like a healthy account, except for the services given."""
    clients, stubs = stubbed(region)
    for name, queue in (healthy(region) | answers).items():
        queue(stubs[name])
    return clients


# --- the whole run ----------------------------------------------------------------

def test_healthy_account_passes_every_check(stubbed, default_config, tmp_path):
    rows = preflight.run_checks(account(stubbed), default_config, "us-east-1", assembly=tmp_path)
    assert statuses(rows) == {
        ("instance type offered", "ml.g5.2xlarge"): "PASS",
        ("endpoint instance quota", "ml.g5.2xlarge"): "PASS",
        ("lambda concurrency", "account"): "PASS",
        ("cdk bootstrap", "CDKToolkit"): "PASS",
        ("model artifacts", "falcon-7b-instruct"): "PASS",
        ("leftover stacks", "stacks"): "PASS",
        ("leftover log group", "aws-waf-logs-fm-platform-api"): "PASS",
        ("vpc and subnets", "none"): "SKIP",
    }


def test_list_stacks_keeps_this_deployments_stacks_and_asks_for_all_but_deleted():
    cfn = client("cloudformation")
    with Stubber(cfn) as stub:
        stub.add_response("list_stacks", {"StackSummaries": [stack_summary("fm-platform-api", "UPDATE_COMPLETE"),
                                                             stack_summary("someone-else", "ROLLBACK_COMPLETE")]},
                          {"StackStatusFilter": ANY})
        seen = []
        cfn.meta.events.register("provide-client-params.cloudformation.ListStacks",
                                 lambda params, **_: seen.append(params["StackStatusFilter"]))
        found = preflight.live_stacks(cfn, ["fm-platform-api"])
    assert found == {"fm-platform-api": "UPDATE_COMPLETE"}
    assert "DELETE_COMPLETE" not in seen[0] and {"ROLLBACK_COMPLETE", "DELETE_FAILED"} <= set(seen[0])


def test_cli_prints_table_and_exits_1_on_any_fail(stubbed, monkeypatch, capsys, tmp_path):
    clients = account(stubbed, s3=lambda stub: stub.add_client_error(
        "list_objects_v2", "AccessDenied", "Access Denied", 403))
    code = preflight.main(["--config", str(DEFAULT), "--assembly", str(tmp_path)],
                          session=session_for(clients, monkeypatch))
    out = capsys.readouterr().out
    assert code == 1
    assert "fix: python tools/jumpstart_metadata.py refresh" in out
    artifacts = next(line for line in out.splitlines() if line.startswith("model artifacts"))
    assert "FAIL" in artifacts and artifacts.endswith("v2.0.0/: AccessDenied")
    assert out.strip().splitlines()[-1] == (
        "preflight fm-platform in us-east-1: 6 PASS, 1 FAIL, 1 SKIP -> not ready to deploy")


def test_cli_exits_0_and_region_flag_checks_that_regions_bucket(stubbed, monkeypatch, capsys, tmp_path):
    clients = account(stubbed, "eu-west-1")
    code = preflight.main(["--config", str(DEFAULT), "--region", "eu-west-1", "--assembly", str(tmp_path)],
                          session=session_for(clients, monkeypatch, "eu-west-1"))
    out = capsys.readouterr().out
    assert code == 0
    assert "s3://jumpstart-cache-prod-eu-west-1/" in out and out.rstrip().endswith("-> ready to deploy")


def test_without_credentials_exits_2_with_one_line(monkeypatch, capsys):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = preflight.main(["--config", str(DEFAULT)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "needs AWS credentials" in lines[0] and "AWS_PROFILE" in lines[0] and "aws sso login" in lines[0]
    assert "us-east-1" in lines[0]


def test_unknown_profile_is_a_credentials_problem_too(monkeypatch, capsys):
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    assert preflight.main(["--config", str(DEFAULT), "--region", "eu-west-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs AWS credentials" in err[0] and "eu-west-1" in err[0]


def test_expired_token_on_first_call_exits_2(stubbed, monkeypatch, capsys, tmp_path):
    clients, stubs = stubbed("us-east-1")
    stubs["cloudformation"].add_client_error("list_stacks", "ExpiredToken",
                                             "The security token included in the request is expired", 403)
    code = preflight.main(["--config", str(DEFAULT), "--assembly", str(tmp_path)],
                          session=session_for(clients, monkeypatch))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("The security token included in the request is expired: preflight needs AWS credentials")


# --- 1 and 5: endpoint quotas, instance type offered -------------------------------

def test_paged_quota_high_enough_passes(default_endpoints):
    sq = client("service-quotas")
    with Stubber(sq) as stub:
        queue_quotas(stub, "list_service_quotas", [quota("ml.g5.xlarge for endpoint usage", 8.0, "L-1")],
                     [], [quota("ml.g5.2xlarge for endpoint usage", 4.0, "L-2")])
        rows = preflight.check_endpoint_quotas(sq, default_endpoints, "us-east-1")
    assert statuses(rows)[("endpoint instance quota", "ml.g5.2xlarge")] == "PASS"
    assert rows[1].detail == "quota 4, config needs up to 2"


def test_quota_below_max_capacity_fails(default_endpoints):
    sq = client("service-quotas")
    with Stubber(sq) as stub:
        queue_quotas(stub, "list_service_quotas", [quota("ml.g5.2xlarge for endpoint usage", 1.0, "L-2")])
        rows = preflight.check_endpoint_quotas(sq, default_endpoints, "us-east-1")
    row = rows[1]
    assert (row.status, row.detail) == ("FAIL", "quota 1, config needs up to 2")
    assert "'ml.g5.2xlarge for endpoint usage'" in row.fix and ">= 4" in row.fix


def test_quota_without_room_for_a_blue_green_update_warns(default_endpoints):
    sq = client("service-quotas")
    with Stubber(sq) as stub:
        queue_quotas(stub, "list_service_quotas", [quota("ml.g5.2xlarge for endpoint usage", 2.0, "L-2")])
        rows = preflight.check_endpoint_quotas(sq, default_endpoints, "us-east-1")
    assert rows[1].status == "WARN" and "blue/green" in rows[1].detail


def test_quota_with_only_a_default_value_is_read_from_the_defaults(default_endpoints):
    sq = client("service-quotas")
    with Stubber(sq) as stub:
        queue_quotas(stub, "list_service_quotas", [quota("ml.g5.xlarge for endpoint usage", 4.0, "L-1")])
        queue_quotas(stub, "list_aws_default_service_quotas", [quota("ml.g5.2xlarge for endpoint usage", 0.0, "L-2")])
        rows = preflight.check_endpoint_quotas(sq, default_endpoints, "us-east-1")
    assert [r.status for r in rows] == ["PASS", "FAIL"]
    assert rows[1].detail == "quota 0, config needs up to 2"


def test_no_quota_at_all_means_not_offered_in_the_region(default_endpoints):
    sq = client("service-quotas")
    with Stubber(sq) as stub:
        queue_quotas(stub, "list_service_quotas", [quota("ml.g5.xlarge for endpoint usage", 4.0, "L-1")])
        queue_quotas(stub, "list_aws_default_service_quotas", [], [quota("ml.g5.xlarge for endpoint usage", 0.0, "L-1")])
        rows = preflight.check_endpoint_quotas(sq, default_endpoints, "us-east-1")
    assert rows == [Result("instance type offered", "ml.g5.2xlarge", "FAIL",
                           "not offered in us-east-1 (no quota 'ml.g5.2xlarge for endpoint usage')", rows[0].fix)]


def test_instances_needed_sums_max_capacity_or_count_per_type():
    config = load_config(REPO / "config/examples/stable-diffusion.yaml")
    assert preflight.instances_needed(resolve_endpoints(config)) == {"ml.p3.2xlarge": 1, "ml.g5.2xlarge": 1}
    assert preflight.instances_needed(resolve_endpoints(load_config(DEFAULT))) == {"ml.g5.2xlarge": 2}


# --- 2: Lambda concurrency ------------------------------------------------------------

@pytest.mark.parametrize(("limit", "unreserved", "reserved", "deployed", "expected"), [
    (1000, 1000, 20, False, "PASS"),
    (50, 50, 20, False, "FAIL"),     # a new account: nothing may be reserved
    (130, 120, 26, False, "FAIL"),   # 120 - 100 = 20 < 26
    (10, 10, 0, False, "PASS"),      # reserved_concurrency: null reserves nothing
    (130, 104, 26, True, "WARN"),    # the live deployment's own 26 are already subtracted
])
def test_reserved_concurrency_needs_unreserved_minus_100(limit, unreserved, reserved, deployed, expected):
    lam = client("lambda")
    with Stubber(lam) as stub:
        stub.add_response("get_account_settings", account_settings(limit, unreserved), {})
        [row] = preflight.check_lambda_concurrency(lam, reserved, already_deployed=deployed)
    assert row.status == expected
    if expected == "FAIL":
        assert "request Lambda 'Concurrent executions'" in row.fix and "reserved_concurrency to null" in row.fix


def test_reserved_none_in_config_reserves_nothing(stubbed, default_config, tmp_path):
    clients = account(stubbed, **{"lambda": lambda stub: stub.add_response(
        "get_account_settings", account_settings(10, 10), {})})
    api = default_config.api.model_copy(update={"reserved_concurrency": None})
    rows = preflight.run_checks(clients, default_config.model_copy(update={"api": api}), "us-east-1",
                                assembly=tmp_path)
    [row] = [r for r in rows if r.check == "lambda concurrency"]
    assert row.status == "PASS" and row.detail.endswith("deployment reserves 0")


def test_synthesized_reservations_count_over_the_config_value(stubbed, default_config, tmp_path):
    template = {"Resources": {
        "FrontDoor": {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 20}},
        "Worker": {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 5}}}}
    assembly = write_assembly(tmp_path, "fm-platform-api", template)
    clients = account(stubbed, **{"lambda": lambda stub: stub.add_response(
        "get_account_settings", account_settings(130, 120), {})})
    rows = preflight.run_checks(clients, default_config, "us-east-1", assembly=assembly)
    [row] = [r for r in rows if r.check == "lambda concurrency"]
    assert row.status == "FAIL" and row.detail.endswith("reservable 20, deployment reserves 25")


# --- 3: CDK bootstrap -----------------------------------------------------------------

@pytest.mark.parametrize(("response", "status", "detail"), [
    (toolkit(version="25"), "PASS", "version 25 >= 6"),
    (toolkit(version="5"), "FAIL", "version 5, needs >= 6"),
    (toolkit(status="ROLLBACK_COMPLETE"), "FAIL", "stack is ROLLBACK_COMPLETE"),
    (toolkit(status="UPDATE_IN_PROGRESS"), "FAIL", "stack is UPDATE_IN_PROGRESS"),
    (toolkit(status="UPDATE_ROLLBACK_COMPLETE", version="14"), "PASS", "version 14 >= 6"),  # stable, old works
])
def test_bootstrap_stack_status_and_version(response, status, detail):
    cfn = client("cloudformation")
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", response, {"StackName": "CDKToolkit"})
        [row] = preflight.check_bootstrap(cfn, 6)
    assert (row.status, row.detail) == (status, detail)


def test_missing_bootstrap_stack_fails_with_cdk_bootstrap_fix():
    cfn = client("cloudformation")
    with Stubber(cfn) as stub:
        stub.add_client_error("describe_stacks", "ValidationError", "Stack with id CDKToolkit does not exist", 400,
                              expected_params={"StackName": "CDKToolkit"})
        [row] = preflight.check_bootstrap(cfn, 6)
    assert (row.status, row.detail) == ("FAIL", "not bootstrapped in this region")
    assert row.fix.startswith("cdk bootstrap aws://")


# --- 4: artifacts -------------------------------------------------------------------

@pytest.mark.parametrize(("code", "http", "shown"), [
    ("AccessDenied", 403, "AccessDenied"), ("NoSuchBucket", 404, "NoSuchBucket")])
def test_unreachable_artifacts_fail_with_refresh_fix(default_endpoints, code, http, shown):
    s3 = client("s3")
    with Stubber(s3) as stub:
        stub.add_client_error("list_objects_v2", code, "denied or missing", http)
        [row] = preflight.check_artifacts(s3, default_endpoints, "us-east-1")
    assert row.status == "FAIL" and row.detail.endswith(f": {shown}")
    assert "python tools/jumpstart_metadata.py refresh" in row.fix and "us-east-1" in row.fix


def test_empty_prefix_fails(default_endpoints):
    s3 = client("s3")
    with Stubber(s3) as stub:
        stub.add_response("list_objects_v2", {"IsTruncated": False, "KeyCount": 0, "MaxKeys": 1})
        [row] = preflight.check_artifacts(s3, default_endpoints, "us-east-1")
    assert row.status == "FAIL" and row.detail.endswith("no objects under the prefix")


def test_tar_gz_artifact_is_checked_with_head_object(default_endpoints):
    ep = replace(default_endpoints[0], artifact_key="model/model.tar.gz", artifact_is_prefix=False)
    s3 = client("s3")
    with Stubber(s3) as stub:
        # HeadObject has no error body: the code is the HTTP status.
        stub.add_client_error("head_object", "403", "Forbidden", 403,
                              expected_params={"Bucket": ep.artifact_bucket, "Key": "model/model.tar.gz"})
        [row] = preflight.check_artifacts(s3, [ep], "us-east-1")
    assert row.status == "FAIL" and row.detail.endswith("AccessDenied")


# --- 6: leftovers -------------------------------------------------------------------

def test_rollback_complete_stack_must_be_deleted_first():
    rows = preflight.check_leftover_stacks({"fm-platform-endpoints": "ROLLBACK_COMPLETE",
                                            "fm-platform-network": "CREATE_COMPLETE"})
    assert rows == [Result("leftover stacks", "fm-platform-endpoints", "FAIL", "stack is ROLLBACK_COMPLETE",
                           rows[0].fix)]
    assert rows[0].fix.startswith("aws cloudformation delete-stack --stack-name fm-platform-endpoints")


def test_leftover_stack_found_through_the_whole_run(stubbed, default_config, tmp_path):
    clients = account(stubbed, cloudformation=lambda stub: (
        stub.add_response("list_stacks", {"StackSummaries": [stack_summary("fm-platform-api", "ROLLBACK_FAILED")]},
                          {"StackStatusFilter": ANY}),
        stub.add_response("describe_stacks", toolkit(), {"StackName": "CDKToolkit"})))
    rows = preflight.run_checks(clients, default_config, "us-east-1", assembly=tmp_path)
    assert statuses(rows)[("leftover stacks", "fm-platform-api")] == "FAIL"


def waf_group(name: str) -> dict:
    return {"logGroupName": name, "creationTime": 1767603600000, "retentionInDays": 30, "storedBytes": 2048,
            "metricFilterCount": 0, "arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}:*"}


@pytest.mark.parametrize(("groups", "api_live", "fixed", "status"), [
    ([], False, True, "PASS"),
    ([waf_group("aws-waf-logs-fm-platform-api-2")], False, True, "PASS"),  # only a longer name matched
    ([waf_group("aws-waf-logs-fm-platform-api")], True, True, "PASS"),     # the live stack owns it
    ([waf_group("aws-waf-logs-fm-platform-api")], False, True, "FAIL"),    # would collide
    ([waf_group("aws-waf-logs-fm-platform-api")], False, False, "WARN"),   # orphan, no longer named so
])
def test_retained_waf_log_group(default_config, groups, api_live, fixed, status):
    logs = client("logs")
    with Stubber(logs) as stub:
        stub.add_response("describe_log_groups", {"logGroups": groups},
                          {"logGroupNamePrefix": "aws-waf-logs-fm-platform-api"})
        [row] = preflight.check_waf_log_group(logs, default_config, api_live, fixed)
    assert row.status == status
    if status != "PASS":
        assert row.fix.startswith("aws logs delete-log-group --log-group-name aws-waf-logs-fm-platform-api ")


# --- 7: imported VPC for Studio -----------------------------------------------------

@pytest.fixture(scope="module")
def imported():
    return load_config(IMPORTED).network


def queue_vpc(stub: Stubber, vpc_id: str = "vpc-0123456789abcdef0") -> None:
    stub.add_response("describe_vpcs", {"Vpcs": [{"VpcId": vpc_id, "State": "available",
                                                   "CidrBlock": "10.0.0.0/16", "IsDefault": False}]},
                      {"VpcIds": [vpc_id]})


SUBNETS = {"SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]}


def test_imported_subnets_in_two_azs_pass(imported):
    ec2 = client("ec2", "eu-west-1")
    with Stubber(ec2) as stub:
        queue_vpc(stub)
        stub.add_response("describe_subnets", {"Subnets": [subnet("subnet-0123456789abcdef0", "eu-west-1a"),
                                                           subnet("subnet-0fedcba9876543210", "eu-west-1b")]}, SUBNETS)
        [row] = preflight.check_network(ec2, imported)
    assert (row.status, row.detail) == ("PASS", "2 subnets in eu-west-1a, eu-west-1b")


def test_missing_subnet_fails(imported):
    ec2 = client("ec2", "eu-west-1")
    with Stubber(ec2) as stub:
        queue_vpc(stub)
        stub.add_client_error("describe_subnets", "InvalidSubnetID.NotFound",
                              "The subnet ID 'subnet-0fedcba9876543210' does not exist", 400, expected_params=SUBNETS)
        [row] = preflight.check_network(ec2, imported)
    assert row.status == "FAIL" and "subnet-0fedcba9876543210" in row.detail and "network.subnet_ids" in row.fix


def test_missing_vpc_fails(imported):
    ec2 = client("ec2", "eu-west-1")
    with Stubber(ec2) as stub:
        stub.add_client_error("describe_vpcs", "InvalidVpcID.NotFound",
                              "The vpc ID 'vpc-0123456789abcdef0' does not exist", 400,
                              expected_params={"VpcIds": ["vpc-0123456789abcdef0"]})
        [row] = preflight.check_network(ec2, imported)
    assert row.status == "FAIL" and "vpc-0123456789abcdef0" in row.detail


@pytest.mark.parametrize(("subnets", "detail"), [
    ([subnet("subnet-0123456789abcdef0", "eu-west-1a"), subnet("subnet-0fedcba9876543210", "eu-west-1a")],
     "subnets span one AZ (eu-west-1a)"),
    ([subnet("subnet-0123456789abcdef0", "eu-west-1a"),
      subnet("subnet-0fedcba9876543210", "eu-west-1b", vpc="vpc-0aaaaaaaaaaaaaaaa")],
     "not in this VPC: subnet-0fedcba9876543210"),
])
def test_subnets_in_one_az_or_another_vpc_fail(imported, subnets, detail):
    ec2 = client("ec2", "eu-west-1")
    with Stubber(ec2) as stub:
        queue_vpc(stub)
        stub.add_response("describe_subnets", {"Subnets": subnets}, SUBNETS)
        [row] = preflight.check_network(ec2, imported)
    assert (row.status, row.detail) == ("FAIL", detail)


def test_created_vpc_is_skipped_with_a_note():
    network = load_config(REPO / "config/examples/studio-vpc.yaml").network
    [row] = preflight.check_network(None, network)  # no call at all
    assert (row.status, row.detail) == ("SKIP", "the Network stack creates the VPC")


# --- the synthesized assembly -------------------------------------------------------

def write_assembly(root: Path, stack: str, template: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Api.template.json").write_text(json.dumps(template))
    (root / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": {
        "Api": {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/us-east-1",
                "properties": {"templateFile": "Api.template.json", "stackName": stack}}}}))
    return root


def test_assembly_gives_minimum_bootstrap_reserved_total_and_fixed_names(tmp_path):
    template = {
        "Resources": {
            "FrontDoor": {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 20}},
            "Worker": {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 5}},
            "Other": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Waf": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "aws-waf-logs-fm-platform-api"}},
        },
        "Rules": {"CheckBootstrapVersion": {"Assertions": [{"Assert": {"Fn::Not": [{"Fn::Contains": [
            ["1", "2", "3", "4", "5", "6"], {"Ref": "BootstrapVersion"}]}]}, "AssertDescription": "..."}]}},
    }
    facts = preflight.read_assembly(write_assembly(tmp_path / "a", "fm-platform-api", template), ["fm-platform-api"])
    assert facts == {"min_bootstrap": 7, "reserved": 25, "log_groups": {"aws-waf-logs-fm-platform-api"}}
    # Another deployment's assembly says nothing about this one.
    other = preflight.read_assembly(write_assembly(tmp_path / "b", "other-api", template), ["fm-platform-api"])
    assert other == {"min_bootstrap": None, "reserved": None, "log_groups": None}


# --- formatting ---------------------------------------------------------------------

def test_table_aligns_columns_and_puts_fixes_under_failures():
    rows = [Result("cdk bootstrap", "CDKToolkit", "FAIL", "not bootstrapped in this region", "cdk bootstrap"),
            Result("model artifacts", "falcon-7b-instruct", "PASS", "reachable", "never shown")]
    lines = preflight.format_table(rows).splitlines()
    assert lines[0].split() == ["CHECK", "SUBJECT", "STATUS", "DETAIL"]
    assert lines[1].index("FAIL") == lines[0].index("STATUS") == lines[3].index("PASS")
    assert lines[2].strip() == "fix: cdk bootstrap"
    assert "never shown" not in "\n".join(lines)


def test_a_check_the_caller_may_not_run_warns_and_the_rest_still_run(stubbed, default_config, tmp_path):
    clients = account(stubbed, **{"service-quotas": lambda stub: stub.add_client_error(
        "list_service_quotas", "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: servicequotas:ListServiceQuotas", 400)})
    rows = preflight.run_checks(clients, default_config, "us-east-1", assembly=tmp_path)
    assert rows[0] == Result("endpoint instance quota", "ListServiceQuotas", "WARN",
                             "could not check: AccessDeniedException", rows[0].fix)
    assert [r.status for r in rows[1:]] == ["PASS", "PASS", "PASS", "PASS", "PASS", "SKIP"]

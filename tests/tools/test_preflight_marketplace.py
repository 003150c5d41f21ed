"""`make preflight` for AWS Marketplace model packages: the package exists in the region
and runs on the configured instance (SageMaker DescribeModelPackage), and the account has
an ACTIVE agreement for its product (Marketplace Agreement API SearchAgreements, as the
buyer). Real boto3 clients under botocore's Stubber, which validates every request and
response against the service models; nothing reaches AWS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from botocore.stub import ANY, Stubber

from stacks.config import load_config
from stacks.models.jumpstart import resolve_endpoints
from stacks.models.marketplace import ResolvedPackage
from tests.tools.preflight_stubs import (
    OK_BUCKET_PAGE, account_settings, client, queue_quotas, quota, session_for, statuses, toolkit)
from tools import preflight

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config/examples/ai21-marketplace.yaml"
WHEN = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
PRODUCT = "prod-0example0id"  # a stand-in: the real id comes from DescribeModelPackage
ARN = "arn:aws:sagemaker:us-east-1:865070037744:model-package/j2-ultra-v2-1-000-9a64fc1ffb633dc0a86fd4330c43a90a"


@pytest.fixture(scope="module")
def package() -> ResolvedPackage:
    return next(r for r in resolve_endpoints(load_config(EXAMPLE)) if isinstance(r, ResolvedPackage))


def described(instances=("ml.g5.12xlarge", "ml.g5.48xlarge", "ml.p4d.24xlarge"), product: str | None = PRODUCT) -> dict:
    container = {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ai21-j2-ultra:2.1.0"}
    if product:
        container["ProductId"] = product
    return {"ModelPackageName": ARN.rsplit("/", 1)[1], "ModelPackageArn": ARN, "CreationTime": WHEN,
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [{"Name": "validation", "Status": "Completed"}]},
            "CertifyForMarketplace": True,
            "InferenceSpecification": {"Containers": [container], "SupportedContentTypes": ["application/json"],
                                       "SupportedResponseMIMETypes": ["application/json"],
                                       "SupportedRealtimeInferenceInstanceTypes": list(instances)}}


SEARCH = {"catalog": "AWSMarketplace", "maxResults": 1, "filters": [
    {"name": "PartyType", "values": ["Acceptor"]}, {"name": "AgreementType", "values": ["PurchaseAgreement"]},
    {"name": "ResourceIdentifier", "values": [PRODUCT]}, {"name": "Status", "values": ["ACTIVE"]}]}
ACTIVE = {"agreementViewSummaries": [{"agreementId": "agmt-0example", "agreementType": "PurchaseAgreement",
                                      "status": "ACTIVE", "acceptor": {"accountId": "123456789012"}}]}


def check(package, describe=None, search=None):
    """Run the check with each client answering one way (None: not called)."""
    sm, agreements = client("sagemaker"), client("marketplace-agreement")
    with Stubber(sm) as sm_stub, Stubber(agreements) as ag_stub:
        if describe is not None:
            describe(sm_stub)
        if search is not None:
            search(ag_stub)
        rows = preflight.check_marketplace_packages(sm, agreements, [package], "us-east-1")
        sm_stub.assert_no_pending_responses()
        ag_stub.assert_no_pending_responses()
    return rows


def test_subscribed_package_passes(package):
    rows = check(package,
                 lambda s: s.add_response("describe_model_package", described(), {"ModelPackageName": ARN}),
                 lambda s: s.add_response("search_agreements", ACTIVE, SEARCH))
    assert statuses(rows) == {("marketplace package", "j2-ultra"): "PASS",
                              ("marketplace subscription", "j2-ultra"): "PASS"}
    assert rows[1].detail == f"{PRODUCT}: agreement agmt-0example ACTIVE"


def test_without_an_agreement_fails_quoting_the_deploy_error(package):
    rows = check(package,
                 lambda s: s.add_response("describe_model_package", described(), {"ModelPackageName": ARN}),
                 lambda s: s.add_response("search_agreements", {"agreementViewSummaries": []}, SEARCH))
    sub = rows[1]
    assert (sub.check, sub.status) == ("marketplace subscription", "FAIL")
    assert sub.detail == (f"no ACTIVE agreement for {PRODUCT}: the deploy would fail at the model with "
                          "\"Caller is not subscribed to the marketplace offering.\"")
    assert "https://aws.amazon.com/marketplace/pp/prodview-f4y5ksmu5kccy" in sub.fix


def test_package_missing_in_the_region_fails_with_what_sagemaker_said(package):
    rows = check(package, lambda s: s.add_client_error(
        "describe_model_package", "ValidationException", f"ModelPackage {ARN} does not exist.", 400))
    [row] = rows
    assert (row.check, row.status) == ("marketplace package", "FAIL")
    assert row.detail == f"{ARN}: ValidationException: ModelPackage {ARN} does not exist."
    assert "config/catalog/marketplace.yaml" in row.fix


def test_instance_type_the_package_does_not_list_fails(package):
    rows = check(package,
                 lambda s: s.add_response("describe_model_package", described(instances=("ml.p4d.24xlarge",)),
                                          {"ModelPackageName": ARN}),
                 lambda s: s.add_response("search_agreements", ACTIVE, SEARCH))
    assert rows[0].status == "FAIL"
    assert rows[0].detail == "ml.g5.12xlarge is not among the package's instance types (ml.p4d.24xlarge)"


@pytest.mark.parametrize(("describe", "search", "expected"), [
    (lambda s: s.add_client_error("describe_model_package", "AccessDeniedException", "not authorized", 400), None,
     [("marketplace package", "WARN", "could not check: AccessDeniedException")]),
    (lambda s: s.add_response("describe_model_package", described(), {"ModelPackageName": ARN}),
     lambda s: s.add_client_error("search_agreements", "AccessDeniedException", "not authorized", 400),
     [("marketplace package", "PASS", ANY), ("marketplace subscription", "WARN", "could not check: AccessDeniedException")]),
    (lambda s: s.add_response("describe_model_package", described(product=None), {"ModelPackageName": ARN}), None,
     [("marketplace package", "PASS", ANY), ("marketplace subscription", "WARN",
                                            "the package names no AWS Marketplace product id: cannot look up the agreement")]),
])
def test_what_cannot_be_checked_warns(package, describe, search, expected):
    rows = check(package, describe, search)
    assert [(r.check, r.status, r.detail) for r in rows] == expected


def test_whole_run_for_the_example_checks_the_package_and_skips_its_artifacts(stubbed, monkeypatch, capsys, tmp_path):
    clients, stubs = stubbed("us-east-1")
    queue_quotas(stubs["service-quotas"], "list_service_quotas",
                 [quota("ml.g5.2xlarge for endpoint usage", 2.0, "L-2"), quota("ml.g5.12xlarge for endpoint usage",
                                                                                2.0, "L-12")])
    stubs["lambda"].add_response("get_account_settings", account_settings(1000, 1000), {})
    stubs["cloudformation"].add_response("list_stacks", {"StackSummaries": []}, {"StackStatusFilter": ANY})
    stubs["cloudformation"].add_response("describe_stacks", toolkit(), {"StackName": "CDKToolkit"})
    # Only Falcon has S3 artifacts of its own: one ListObjectsV2, no call for the package.
    stubs["s3"].add_response("list_objects_v2", OK_BUCKET_PAGE, {"Bucket": "jumpstart-cache-prod-us-east-1",
                                                                 "Prefix": ANY, "MaxKeys": 1})
    stubs["sagemaker"].add_response("describe_model_package", described(), {"ModelPackageName": ARN})
    stubs["marketplace-agreement"].add_response("search_agreements", {"agreementViewSummaries": []}, SEARCH)
    stubs["logs"].add_response("describe_log_groups", {"logGroups": []}, {"logGroupNamePrefix": "aws-waf-logs-fm-ai21-api"})
    code = preflight.main(["--config", str(EXAMPLE), "--assembly", str(tmp_path)],
                          session=session_for(clients, monkeypatch))
    out = capsys.readouterr().out
    assert code == 1
    assert "marketplace subscription" in out and "Caller is not subscribed to the marketplace offering." in out
    assert out.count("model artifacts") == 1 and "falcon-7b-instruct" in out
    assert out.strip().splitlines()[-1].endswith("1 FAIL, 1 SKIP -> not ready to deploy")


def test_the_agreement_client_is_built_in_us_east_1():
    assert preflight.CLIENT_REGIONS == {"marketplace-agreement": "us-east-1"}
    assert {"sagemaker", "marketplace-agreement"} <= set(preflight.CLIENTS)

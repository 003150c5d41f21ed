"""Real boto3 clients for botocore's Stubber and responses shaped like AWS's, shared by
the preflight tests (the `stubbed` fixture itself is in tests/tools/conftest.py)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import boto3
from botocore.stub import Stubber

from tools.preflight import Result

REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO / "config/default.yaml"
IMPORTED = REPO / "config/examples/studio-imported-vpc.yaml"
ACCOUNT = "123456789012"
WHEN = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
OK_BUCKET_PAGE = {"IsTruncated": False, "KeyCount": 1, "MaxKeys": 1,
                  "Contents": [{"Key": "config.json", "Size": 1181, "StorageClass": "STANDARD"}]}


# --- real clients, stubbed ---------------------------------------------------------

def new_session(region: str) -> boto3.Session:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=region)


@functools.cache
def session(region: str) -> boto3.Session:
    """One session per region, so service models load once per test process."""
    return new_session(region)


def client(name: str, region: str = "us-east-1"):
    return session(region).client(name, region_name=region)


# --- canned responses shaped like AWS's -------------------------------------------

def quota(name: str, value: float, code: str, region: str = "us-east-1") -> dict:
    return {"ServiceCode": "sagemaker", "ServiceName": "Amazon SageMaker",
            "QuotaArn": f"arn:aws:servicequotas:{region}:{ACCOUNT}:sagemaker/{code}", "QuotaCode": code,
            "QuotaName": name, "Value": value, "Unit": "None", "Adjustable": True, "GlobalQuota": False}


def queue_quotas(stub: Stubber, operation: str, *pages: list[dict]) -> None:
    """One response per page, linked by NextToken, as the paginator asks for them."""
    for i, quotas in enumerate(pages):
        response = {"Quotas": quotas}
        if i < len(pages) - 1:
            response["NextToken"] = f"token-{i + 1}"
        params = {"ServiceCode": "sagemaker"} | ({"NextToken": f"token-{i}"} if i else {})
        stub.add_response(operation, response, params)


def account_settings(limit: int, unreserved: int) -> dict:
    return {"AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                             "CodeSizeZipped": 52428800, "ConcurrentExecutions": limit,
                             "UnreservedConcurrentExecutions": unreserved},
            "AccountUsage": {"TotalCodeSize": 1024, "FunctionCount": 3}}


def toolkit(status: str = "CREATE_COMPLETE", version: str = "25") -> dict:
    return {"Stacks": [{
        "StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/CDKToolkit/1f2e3d4c",
        "StackName": "CDKToolkit", "CreationTime": WHEN, "StackStatus": status,
        "Outputs": [{"OutputKey": "BucketName", "OutputValue": f"cdk-hnb659fds-assets-{ACCOUNT}-us-east-1"},
                    {"OutputKey": "BootstrapVersion", "OutputValue": version,
                     "Description": "The version of the bootstrap resources that are currently mastered in this stack"}],
    }]}


def stack_summary(name: str, status: str) -> dict:
    return {"StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{name}/9a8b7c6d",
            "StackName": name, "CreationTime": WHEN, "StackStatus": status}


def subnet(subnet_id: str, az: str, vpc: str = "vpc-0123456789abcdef0") -> dict:
    return {"SubnetId": subnet_id, "VpcId": vpc, "AvailabilityZone": az, "State": "available",
            "CidrBlock": "10.0.1.0/24", "AvailableIpAddressCount": 250}


def statuses(rows: list[Result]) -> dict[tuple[str, str], str]:
    return {(r.check, r.subject): r.status for r in rows}


def session_for(clients: dict, monkeypatch, region: str = "us-east-1") -> boto3.Session:
    """A real session whose clients are the stubbed ones."""
    s = new_session(region)
    monkeypatch.setattr(s, "client", lambda name, region_name=None: clients[name])
    return s

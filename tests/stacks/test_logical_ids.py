"""Stateful resources keep their logical IDs: a change would replace them
(a new, empty bucket; a new key that cannot decrypt old data)."""

from __future__ import annotations

import pytest

from tests.synth import CONFIGS, synth

STATEFUL = {"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::SageMaker::Domain", "AWS::EC2::VPC", "AWS::EFS::FileSystem"}

EXPECTED = {
    "Endpoints": {
        "AccessLogsBucketCD784A59": "AWS::S3::Bucket",
        "CaptureBucketBF76DDE3": "AWS::S3::Bucket",
        "DataKey2A0DE9E6": "AWS::KMS::Key",
    },
    "Api": {
        "DataKey2A0DE9E6": "AWS::KMS::Key",
        "AccessLogsBucketCD784A59": "AWS::S3::Bucket",
        "FrontDoorFeedbackTableF4DA87AD": "AWS::DynamoDB::Table",
        "FrontDoorJobsTable3B6F7BEC": "AWS::DynamoDB::Table",
        "FrontDoorJobsBucketA9DDA6D6": "AWS::S3::Bucket",
    },
}


# Stateful resources only some configs have: tenant keys (api.auth: tenant_keys).
EXTRA = {
    "tenants": {"Api": {"FrontDoorTenantsKeysTableD58B128A": "AWS::DynamoDB::Table",
                        "FrontDoorTenantsUsageTable11AEE042": "AWS::DynamoDB::Table"}},
}


def stateful(template: dict) -> dict[str, str]:
    return {lid: r["Type"] for lid, r in template["Resources"].items() if r["Type"] in STATEFUL}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_stateful_logical_ids_are_stable_across_configs(config):
    templates = synth(CONFIGS[config]).templates()
    for stack_id, expected in EXPECTED.items():
        expected = {**expected, **EXTRA.get(config, {}).get(stack_id, {})}
        assert stateful(templates[stack_id]) == expected, f"{config}/{stack_id}"

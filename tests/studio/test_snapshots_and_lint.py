"""Snapshots, cfn-lint and cdk-nag for the Network and Studio stacks, including the
NAT variant that no shipped config uses. Update snapshots with
`pytest tests/studio --snapshot-update` after reviewing the diff."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint
from syrupy.extensions.json import JSONSnapshotExtension

from tests.nag_report import acknowledgments
from tests.synth import normalize

VARIANTS = ["studio_vpc", "studio_imported", "studio_nat"]


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("variant", VARIANTS)
def test_network_and_studio_templates_match_snapshot(request, variant, snapshot_json):
    s = request.getfixturevalue(variant)
    for stack in (s.deployment.network, s.deployment.studio):
        assert normalize(s.template(stack)) == snapshot_json(name=f"{variant}-{stack.node.id}")


@pytest.mark.parametrize("variant", VARIANTS)
def test_templates_are_cfn_lint_clean(request, variant):
    s = request.getfixturevalue(variant)
    args = ManualArgs(regions=[s.deployment.config.region])
    for stack_id, template in s.templates().items():
        found = [m for m in lint(json.dumps(template), config=args) if m.rule.id[0] in "EW"]
        # W3005: CDK's explicit DependsOn duplicating a GetAtt, harmless.
        assert not [m for m in found if m.rule.id != "W3005"], f"{variant}/{stack_id}: {found}"


def test_nat_variant_acknowledges_only_the_igw_routes_beyond_the_shipped_configs(studio_vpc, studio_nat):
    # Synthesis of both already passed all four packs; compare what was acknowledged.
    def rules(s):
        return {(path.split("/", 1)[0], rule) for path, rule, _ in acknowledgments(s.deployment.stacks)}

    extra = rules(studio_nat) - rules(studio_vpc)
    assert extra == {
        ("Network", "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW"),
        ("Network", "HIPAA.Security-VPCNoUnrestrictedRouteToIGW"),
    }

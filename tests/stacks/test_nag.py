"""cdk-nag: all four packs pass, and every acknowledgment is a known, explained one."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from stacks.app_builder import build_app
from tests.nag_report import acknowledgments, counts_by_pack
from tests.synth import CONFIGS, REPO, cli_context, synth

LEDGER = Path(__file__).with_name("nag_ledger.json")


def _generic(rule: str) -> str:
    """Rule id without the granular part that names a (hashed) resource."""
    return re.sub(r"\[Resource::.*\]$", "[Resource::...]", rule)


def test_nag_packs_fail_synth_on_a_finding():
    # Given the default app plus one bucket that breaks several rules
    app = cdk.App(context={**cli_context()}, outdir=tempfile.mkdtemp())
    deployment = build_app(app, str(REPO / CONFIGS["default"]))
    s3.Bucket(deployment.endpoints, "Unencrypted")
    # Then synthesis refuses it
    with pytest.raises(Exception, match="AwsSolutions-S1|Validation failed"):
        app.synth()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_acknowledgment_is_in_the_ledger(name):
    s = synth(CONFIGS[name])  # synthesis itself fails on any unacknowledged finding
    acks = acknowledgments(s.deployment.stacks)
    ledger = json.loads(LEDGER.read_text())
    unexplained = sorted(
        {(_generic(rule), reason) for _, rule, reason in acks if reason not in ledger.get(_generic(rule), [])}
    )
    print(f"{name}: acknowledgments per pack {counts_by_pack(acks)}")
    assert not unexplained, (
        "new acknowledgments: review them, then add to tests/stacks/nag_ledger.json:\n"
        + json.dumps(unexplained, indent=1)
    )


def test_ledger_reasons_are_specific():
    ledger = json.loads(LEDGER.read_text())
    for rule, reasons in ledger.items():
        for reason in reasons:
            assert len(reason) >= 40 and "false positive" not in reason.lower(), (rule, reason)


def test_default_acknowledgment_counts_per_pack():
    acks = acknowledgments(synth(CONFIGS["default"]).deployment.stacks)
    counts = counts_by_pack(acks)
    print("default config acknowledgments per pack:", counts)
    expected = json.loads(LEDGER.with_name("nag_counts_default.json").read_text())
    assert counts == expected, "acknowledgment count changed: update nag_counts_default.json with a reason"

"""Collect the cdk-nag acknowledgments of a deployment, by pack."""

from __future__ import annotations

from collections import Counter

import aws_cdk as cdk

from stacks.compliance.control_tower import ACK_PREFIX
from stacks.compliance.nag import PACK_PREFIXES

ACK_KEY = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY


def acknowledgments(stacks: list[cdk.Stack]) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) for every acknowledgment in `stacks`."""
    found = []
    for stack in stacks:
        for construct in stack.node.find_all():
            for entry in construct.node.metadata:
                if entry.type == ACK_KEY:
                    for rule, reason in entry.data.items():
                        if rule.startswith(ACK_PREFIX):
                            continue  # Control Tower acknowledgments: tests/stacks/test_control_tower.py
                        found.append((construct.node.path, rule.removeprefix("Annotation::"), reason))
    return found


def pack_of(rule_id: str) -> str:
    return next((pack for pack, prefix in PACK_PREFIXES.items() if rule_id.startswith(prefix)), "other")


def counts_by_pack(acks: list[tuple[str, str, str]]) -> dict[str, int]:
    counts = Counter(pack_of(rule) for _, rule, _ in acks)
    return {pack: counts.get(pack, 0) for pack in PACK_PREFIXES}

"""The stacks section: each stack's resources, counted by type."""

from __future__ import annotations

from collections import Counter

from tools.report.assembly import Assembly


def stacks_section(asm: Assembly) -> list[dict]:
    rows = []
    for stack in asm.stacks.values():
        types = Counter(r["Type"] for r in stack.resources.values() if r["Type"] != "AWS::CDK::Metadata")
        rows.append(
            {
                "id": stack.id,
                "name": stack.name,
                "region": stack.region,
                "resource_count": sum(types.values()),
                "resources_by_type": dict(sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))),
            }
        )
    return rows

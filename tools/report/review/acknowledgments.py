"""The acknowledgments sections: cdk-nag and Control Tower acknowledgments, and scanner
skips recorded in resource metadata."""

from __future__ import annotations

from stacks.compliance.scanner import checkov_skips
from tools.report.assembly import Assembly, ResourceRef


def acknowledgments_section(asm: Assembly) -> list[dict]:
    """cdk-nag acknowledgments."""
    # Imported here: stacks.compliance.control_tower loads aws-cdk-lib (jsii), which the report's
    # other readers of the assembly (make preflight) do not need.
    from stacks.compliance.control_tower import ACK_PREFIX

    return [
        {"stack": stack, "path": path, "rule": rule, "reason": reason}
        for stack, path, rule, reason in asm.acknowledgments()
        if not rule.startswith(ACK_PREFIX)
    ]


def control_tower_section(asm: Assembly) -> list[dict]:
    """AWS Control Tower proactive-control acknowledgments, by control id."""
    from stacks.compliance.control_tower import ACK_PREFIX, control_of

    return [
        {"stack": stack, "path": path, "control": control_of(rule.removeprefix(ACK_PREFIX)), "reason": reason}
        for stack, path, rule, reason in asm.acknowledgments()
        if rule.startswith(ACK_PREFIX)
    ]


def scanner_skips_section(asm: Assembly) -> list[dict]:
    """checkov skips recorded as resource metadata (`Metadata.checkov.skip`)."""
    return [
        {
            "stack": stack.id,
            "path": asm.resource(ResourceRef(stack.id, logical_id)).path,
            "check": check,
            "reason": reason,
        }
        for stack in asm.stacks.values()
        for logical_id, check, reason in checkov_skips(stack.template)
    ]

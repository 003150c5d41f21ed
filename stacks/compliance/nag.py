"""cdk-nag 3 wiring: the four packs on the app, and acknowledgments on the
narrowest construct, each with a specific reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    ServerlessChecks,
)
from constructs import IConstruct

PACKS = (AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, ServerlessChecks)
# Rule-id prefix of each pack, for counting acknowledgments per pack.
PACK_PREFIXES = {
    "AwsSolutions": "AwsSolutions-",
    "NIST.800.53.R5": "NIST.800.53.R5-",
    "HIPAA.Security": "HIPAA.Security-",
    "Serverless": "Serverless-",
}


def attach_packs(app: App) -> None:
    """Register every pack once, on the app: unacknowledged findings fail synth."""
    for pack in PACKS:
        Validations.of(app).add_plugins(pack(app))


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge findings on one construct; the same reason for each rule id."""
    if len(reason) < 20:
        raise ValueError(f"acknowledgment reasons must be specific, got {reason!r}")
    for rule_id in rule_ids:
        Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def finding_id(scope: IConstruct, rule: str, value: str) -> str:
    """The granular finding id cdk-nag reports for `value` (which may hold tokens).

    cdk-nag renders a resolved value by writing `Ref`/`Fn::GetAtt` as
    `<Name>`/`<Logical.Attr>` and joining `Fn::Join` parts, e.g.
    `AwsSolutions-IAM5[Resource::<CaptureBucket1234.Arn>/datacapture/x/*]`.
    """
    from aws_cdk import Stack

    return f"{rule}[Resource::{_render(Stack.of(scope).resolve(value))}]"


def _render(node: object) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        if "Ref" in node:
            return f"<{node['Ref']}>"
        if "Fn::GetAtt" in node:
            return f"<{'.'.join(node['Fn::GetAtt'])}>"
        if "Fn::Join" in node:
            sep, parts = node["Fn::Join"]
            return sep.join(_render(p) for p in parts)
    raise ValueError(f"cannot render {node!r} as a cdk-nag finding")

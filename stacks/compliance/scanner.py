"""checkov, the independent IaC scanner: skips live in the template itself.

checkov reads `Metadata: {checkov: {skip: [{id, comment}]}}` on a CloudFormation
resource, so every skip ships with the resource it excuses and its reason, and
reviewers (and `tools.report`) read them from the synthesized templates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from constructs import IConstruct

METADATA_KEY = "checkov"


def skip_checkov(construct: IConstruct, check_id: str, reason: str) -> None:
    """Record a checkov skip on `construct`'s CloudFormation resource (an L1, or
    the default child of an L2), keeping skips already recorded there."""
    # Imported here: `checkov_skips` reads templates without aws-cdk-lib (the review report).
    from aws_cdk import CfnResource

    if len(reason) < 40:
        raise ValueError(f"checkov skip reasons must be specific, got {reason!r}")
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to carry a checkov skip")
    current = resource.get_metadata(METADATA_KEY) or {}
    skips = [s for s in current.get("skip", []) if s["id"] != check_id]
    skips.append({"id": check_id, "comment": reason})
    resource.add_metadata(METADATA_KEY, {**current, "skip": sorted(skips, key=lambda s: s["id"])})


def checkov_skips(template: dict) -> list[tuple[str, str, str]]:
    """(logical id, check id, reason) for every skip recorded in a synthesized template."""
    return [
        (logical_id, skip["id"], skip.get("comment", ""))
        for logical_id, resource in sorted(template.get("Resources", {}).items())
        for skip in (resource.get("Metadata", {}).get(METADATA_KEY) or {}).get("skip", [])
    ]

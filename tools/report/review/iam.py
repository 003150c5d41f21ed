"""The IAM section: every role, whom it trusts, and every action on every resource it is granted."""

from __future__ import annotations

from typing import Any

from tools.report.assembly import Assembly, Resource, ResourceRef, as_list


def _statements(asm: Assembly, stack: str, document: dict | None, source: str) -> list[dict]:
    out = []
    for st in as_list((document or {}).get("Statement")):
        entry = {
            "source": source,
            "sid": st.get("Sid"),
            "effect": st.get("Effect", "Allow"),
            "actions": sorted(asm.render(stack, a) for a in as_list(st.get("Action"))),
            "resources": [asm.render(stack, r) for r in as_list(st.get("Resource"))],
        }
        if "NotAction" in st:
            entry["not_actions"] = sorted(asm.render(stack, a) for a in as_list(st["NotAction"]))
        if "NotResource" in st:
            entry["not_resources"] = [asm.render(stack, r) for r in as_list(st["NotResource"])]
        if "Condition" in st:
            entry["condition"] = _render_tree(asm, stack, st["Condition"])
        out.append(entry)
    return out


def _render_tree(asm: Assembly, stack: str, node: Any) -> Any:
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)).startswith(("Fn::", "Ref")):
            return asm.render(stack, node)
        return {k: _render_tree(asm, stack, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_render_tree(asm, stack, v) for v in node]
    return node


def _principals(document: dict | None) -> list[str]:
    found = []
    for st in as_list((document or {}).get("Statement")):
        principal = st.get("Principal")
        if principal == "*":
            found.append("*")
        elif isinstance(principal, dict):
            for kind, values in principal.items():
                found += [f"{kind}: {v}" for v in as_list(values)]
    return found


def roles_section(asm: Assembly) -> list[dict]:
    attached: dict[ResourceRef, list[Resource]] = {}
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in asm.resources(kind):
            for ref in asm.refs(policy.ref.stack, policy.properties.get("Roles")):
                attached.setdefault(ref, []).append(policy)
    for policy in asm.resources("AWS::IAM::RolePolicy"):
        ref = asm.ref_of(policy.ref.stack, policy.properties.get("RoleName"))
        if ref:
            attached.setdefault(ref, []).append(policy)

    roles = []
    for role in asm.resources("AWS::IAM::Role"):
        stack, props = role.ref.stack, role.properties
        statements, aws_managed = [], []
        for inline in props.get("Policies", []):
            statements += _statements(
                asm, stack, inline.get("PolicyDocument"), f"inline {inline.get('PolicyName')}"
            )
        policies = list(attached.get(role.ref, []))
        for arn in props.get("ManagedPolicyArns", []):
            target = asm.get(asm.ref_of(stack, arn))
            if target is not None and target.type == "AWS::IAM::ManagedPolicy":
                if target not in policies:
                    policies.append(target)
            else:
                aws_managed.append(asm.render(stack, arn))
        for policy in policies:
            statements += _statements(
                asm,
                policy.ref.stack,
                policy.properties.get("PolicyDocument"),
                f"{policy.type.split('::')[-1]} {policy.path}",
            )
        roles.append(
            {
                "stack": stack,
                "logical_id": role.ref.logical_id,
                "path": role.path,
                "description": props.get("Description"),
                "trusted": _principals(props.get("AssumeRolePolicyDocument")),
                "aws_managed_policies": aws_managed,
                "permissions_boundary": asm.render(stack, props["PermissionsBoundary"])
                if "PermissionsBoundary" in props
                else None,
                "statements": statements,
            }
        )
    return roles

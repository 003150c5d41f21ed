"""The Studio roles' synthesized identity policies as plain JSON, for `tests.iam_evaluator`.

Every value is rendered with the deploy-contract model's fake account and the config's
region (`Fn::Sub`, `Fn::Join`, pseudo parameters, cross-stack outputs followed), and the
references a request names by ARN are given ARNs: a SageMaker endpoint's `Ref` (its ARN)
the one `Deployment.arn` gives it, an IAM role's or KMS key's `Arn` attribute
`arn:aws:iam::<account>:role/<logical id>` or the key's ARN.
"""

from __future__ import annotations

from typing import Any

from tests.deploy.model import ACCOUNT, Deployment, Res, identity_documents, listify, load, statements

# The construct id of stacks/constructs/studio_deploy.py in the Studio stack.
NOTEBOOK_DEPLOYS = "NotebookDeploys"


class ArnDeployment(Deployment):
    """`Deployment` whose rendering gives the referenced roles, keys and endpoints ARNs."""

    def render(self, stack: str, node: Any) -> str | None:
        found = self.target(stack, node) if isinstance(node, dict) else None
        if found:
            res, attr = found
            if res.type == "AWS::SageMaker::Endpoint" and attr is None:
                return self.arn(res)
            if attr == "Arn" and res.type == "AWS::IAM::Role":
                return role_arn(res)
            if attr == "Arn" and res.type == "AWS::KMS::Key":
                return self.arn(res)
        return super().render(stack, node)


def role_arn(role: Res) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{role.lid}"


def deployment(config_name: str) -> ArnDeployment:
    dep = load(config_name)
    return ArnDeployment(
        dep.name, dep.config, {sid: (dep.stack_names[sid], t) for sid, t in dep.templates.items()}
    )


def execution_role(dep: Deployment) -> Res:
    """The role the domain gives its users' apps (DefaultUserSettings.ExecutionRole)."""
    [domain] = dep.resources("AWS::SageMaker::Domain")
    role = dep.ref(domain.stack, domain.props["DefaultUserSettings"]["ExecutionRole"])
    assert role is not None and role.type == "AWS::IAM::Role"
    return role


def notebook_model_role(dep: Deployment) -> Res:
    [role] = [r for r in dep.resources("AWS::IAM::Role") if r.lid.startswith(f"{NOTEBOOK_DEPLOYS}ModelRole")]
    return role


def rendered_statements(dep: Deployment, role: Res) -> list[dict]:
    """Every statement of every identity policy of `role`, rendered to plain JSON."""
    out = []
    for stack, document in identity_documents(dep, role):
        for statement in statements(document):
            rendered = dict(statement)
            for field in ("Resource", "NotResource"):
                if field in statement:
                    rendered[field] = [dep.render(stack, v) for v in listify(statement[field])]
            rendered["Condition"] = {
                operator: {key: [dep.render(stack, v) for v in listify(values)] for key, values in block.items()}
                for operator, block in (statement.get("Condition") or {}).items()
            }
            out.append(rendered)
    return out

"""The Studio roles' conditions use only condition keys their actions support, and a role is
passed only with `iam:PassedToService`.

IAM does not refuse a policy whose condition names a key the action never puts in the
request context: a positive condition (StringEquals) on such a key then never holds, so
the grant silently never works, and a negated one (or `ForAllValues`, or `...IfExists`)
always holds, so the guardrail silently is not one. The AWS Service Authorization
Reference lists, per action, the condition keys of the request and of each resource type
it authorizes (tests/fixtures/iam/condition-keys.json: an excerpt of it, with its source).
Global keys (IAM User Guide, "AWS global condition context keys") apply to every action.

iam:PassRole: IAM User Guide, "Grant a user permissions to pass a role to an AWS service"
-- scope the resource to the role and condition on `iam:PassedToService`, else the role
could be handed to any service that accepts one.
"""

from __future__ import annotations

import json

import pytest

from tests.deploy.model import ACCOUNT
from tests.deploy.studio_policies import deployment, execution_role, notebook_model_role, rendered_statements
from tests.synth import REPO

STUDIO_CONFIGS = ["studio-vpc", "studio-imported-vpc"]
REFERENCE = json.loads((REPO / "tests/fixtures/iam/condition-keys.json").read_text())
# The global keys our policies use ("AWS global condition context keys", IAM User Guide).
GLOBAL_KEYS = {"aws:sourceidentity"}


def _supported(action: str, key: str) -> bool:
    entry = REFERENCE["actions"][action]
    keys = [*entry["condition_keys"], *(k for keys in entry["resource_types"].values() for k in keys)]
    # `aws:RequestTag/${TagKey}` covers `aws:RequestTag/fm:owner`, and so on.
    families = {k.split("${")[0].lower() for k in keys}
    return key.lower() in GLOBAL_KEYS or key.lower() in families or key.split("/")[0].lower() + "/" in families


@pytest.mark.parametrize("config_name", STUDIO_CONFIGS)
def test_every_condition_key_is_one_the_action_supports(config_name):
    dep = deployment(config_name)
    problems = []
    for role in (execution_role(dep), notebook_model_role(dep)):
        for s in rendered_statements(dep, role):
            keys = {k for block in s["Condition"].values() for k in block}
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            for action in actions if keys else []:
                if action not in REFERENCE["actions"]:
                    problems.append(f"{role.lid} {s.get('Sid')}: {action} is not in the fixture; add it from the reference")
                    continue
                problems += [f"{role.lid} {s.get('Sid')}: {action} does not support {k}"
                             for k in sorted(keys) if not _supported(action, k)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("config_name", STUDIO_CONFIGS)
def test_every_pass_role_names_its_role_and_service(config_name):
    dep = deployment(config_name)
    found = []
    for role in dep.resources("AWS::IAM::Role"):
        if role.stack != "Studio":
            continue
        for s in rendered_statements(dep, role):
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            if any(a.lower() in ("iam:passrole", "iam:*", "*") for a in actions):
                found.append((role.lid, s))
    assert found, "the notebook deploys pass a model role"
    for lid, s in found:
        assert "*" not in "".join(s["Resource"]), f"{lid}: iam:PassRole on a pattern: {s['Resource']}"
        assert s["Condition"].get("StringEquals", {}).get("iam:PassedToService") == ["sagemaker.amazonaws.com"], lid
        assert s["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/{notebook_model_role(dep).lid}"], lid


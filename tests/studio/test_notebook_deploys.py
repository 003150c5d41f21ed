"""Notebook deploys (`studio.deploy`, issue 21): the allow-list computed at synth, the config's
refusals, and `deploy.enabled: false` keeping today's read-only execution role exactly.
What the role then allows is evaluated in tests/deploy/test_studio_notebook_deploys.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from stacks.config import ConfigError, parse_config
from stacks.models.notebook_deploys import notebook_deploys
from tests.synth import CONFIGS, REPO, normalize, synth
from tools.summary import studio_lines

BASE = {
    "region": "us-east-1",
    "endpoints": [{"model_id": "huggingface-llm-falcon-7b-instruct-bf16", "instance_type": "ml.g5.2xlarge"}],
    "network": {"mode": "create"},
    "studio": {"enabled": True},
}
CONSTRUCT = "NotebookDeploys"


def deploys(**deploy):
    data = copy.deepcopy(BASE)
    data["studio"]["deploy"] = deploy
    return notebook_deploys(parse_config(data))


def test_the_default_allow_list_is_each_catalog_models_cheapest_fit_within_max_gpus():
    d = deploys()
    # Falcon-40B needs ~82 GiB (4 x A10G); Falcon-7B, Flan-T5-XL: one A10G; Stable Diffusion
    # a T4 (g4dn.4xlarge, JumpStart's cheapest supported); the embedding model a CPU instance.
    # Llama-2-7b's pinned spec has no image in any region, so it adds nothing.
    assert d.instance_types == ("ml.c6i.xlarge", "ml.g4dn.4xlarge", "ml.g5.12xlarge", "ml.g5.2xlarge")
    assert {c.model_id: c.instance_type for c in d.choices}["huggingface-llm-falcon-7b-instruct-bf16"] == "ml.g5.2xlarge"
    assert d.dearest == ("ml.g5.12xlarge", 7.09)
    assert d.max_usd_per_hour_per_user == pytest.approx(7.09 * 2)
    assert d.image_repositories == (("763104351884", "huggingface-pytorch-inference"),
                                    ("763104351884", "huggingface-pytorch-tgi-inference"))


def test_max_gpus_leaves_out_models_that_need_more():
    assert deploys(max_gpus=1).instance_types == ("ml.c6i.xlarge", "ml.g4dn.4xlarge", "ml.g5.2xlarge")
    assert deploys(max_gpus=0).instance_types == ("ml.c6i.xlarge",)


def test_a_configured_allow_list_is_used_as_given():
    d = deploys(instance_types=["ml.g5.xlarge", "ml.g5.2xlarge", "ml.g5.xlarge"], max_endpoints_per_user=1)
    assert (d.instance_types, d.choices, d.max_usd_per_hour_per_user) == (("ml.g5.2xlarge", "ml.g5.xlarge"), (), 1.515)


def test_off_or_without_studio_there_is_nothing_to_allow():
    assert deploys(enabled=False) is None
    assert notebook_deploys(parse_config({**BASE, "studio": {"enabled": False}})) is None


@pytest.mark.parametrize("deploy, message", [
    ({"instance_types": ["ml.g5.xlarge", "ml.x9.huge"]},
     "studio.deploy.instance_types[1]: no pinned facts for 'ml.x9.huge'"),
    ({"instance_types": []}, "studio.deploy.instance_types: the allow-list is empty"),
    ({"instance_types": ["g5.2xlarge"]}, "studio.deploy.instance_types[0]: String should match pattern"),
])
def test_refusals(deploy, message):
    with pytest.raises(ConfigError) as err:
        deploys(**deploy)
    assert message in str(err.value)


@pytest.fixture(scope="session")
def studio_vpc_read_only(tmp_path_factory):
    data = yaml.safe_load((REPO / CONFIGS["studio-vpc"]).read_text())
    data["studio"]["deploy"] = {"enabled": False}
    path = Path(tmp_path_factory.mktemp("cfg")) / "studio-read-only.yaml"
    path.write_text(yaml.safe_dump(data))
    return synth(str(path))


def _role_and_policies(template: dict) -> dict:
    """The execution role and every managed policy attached to it (its list or their Roles)."""
    resources = normalize(template)["Resources"]
    role_id = "StudioExecutionRoleB448AD59"
    arns = resources[role_id]["Properties"].get("ManagedPolicyArns", [])
    return {role_id: resources[role_id], **{
        lid: r for lid, r in resources.items()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        and ({"Ref": lid} in arns or {"Ref": role_id} in r["Properties"].get("Roles", []))
    }}


def test_deploys_off_keeps_todays_read_only_role_exactly(studio_vpc, studio_vpc_read_only):
    """With `studio.deploy.enabled: false` the execution role and its policies are those of
    the template before issue 21 (tests/fixtures/studio/read-only-execution-role.json, cut
    from that snapshot); with it on, the guardrails add one policy of their own through its
    Roles and leave the role's own policies alone."""
    before = json.loads((REPO / "tests/fixtures/studio/read-only-execution-role.json").read_text())["resources"]
    off = _role_and_policies(studio_vpc_read_only.template(studio_vpc_read_only.deployment.studio))
    assert off == before
    on = _role_and_policies(studio_vpc.template(studio_vpc.deployment.studio))
    added = sorted(lid for lid in on if lid not in before)
    assert [lid.startswith(f"{CONSTRUCT}Policy") for lid in added] == [True]
    assert on[added[0]]["Properties"]["Roles"] == [{"Ref": "StudioExecutionRoleB448AD59"}]

def test_the_synth_summary_says_what_a_notebook_may_do_and_costs_at_most():
    on = "\n".join(studio_lines(parse_config({**BASE, "studio": {"enabled": True, "user_profiles": ["a", "b"]}})))
    assert "ml.g5.2xlarge $1.52/h" in on and "tagged fm:owner=<own profile>" in on
    assert "$7.09/h per endpoint (ml.g5.12xlarge" in on and "= $14.18/h per user, $28.36/h for the 2 configured" in on
    assert "IAM cannot enforce" in on
    off = studio_lines(parse_config({**BASE, "studio": {"enabled": True, "deploy": {"enabled": False}}}))
    assert off[0] == "Studio notebooks (studio.deploy.enabled: false):" and "read-only" in off[1]
    assert studio_lines(parse_config({**BASE, "network": {"mode": "none"}, "studio": {"enabled": False}})) == []

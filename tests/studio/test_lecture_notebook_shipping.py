"""The lecture notebook's delivery (issue 21 item 3): a JupyterLab lifecycle configuration,
the domain's default for users and spaces, whose script carries the committed notebook and
the parameters of the deployment's config, within SageMaker's 16384-character limit."""

from __future__ import annotations

import base64
import re

import pytest

from stacks.constructs.studio_notebook import (MAX_CONTENT_CHARS, NOTEBOOK, ROLE_ARN_BOUND, lifecycle_script,
                                               notebook_parameters)
from stacks.models.notebook_deploys import notebook_deploys


@pytest.fixture(params=["studio_vpc", "studio_imported"])
def shipped(request):
    s = request.getfixturevalue(request.param)
    resources = s.template(s.deployment.studio)["Resources"]
    (lcc_id, lcc), = ((k, r) for k, r in resources.items() if r["Type"] == "AWS::SageMaker::StudioLifecycleConfig")
    (domain,) = (r for r in resources.values() if r["Type"] == "AWS::SageMaker::Domain")
    return s, resources, lcc_id, lcc["Properties"], domain["Properties"]


def test_a_jupyterlab_lifecycle_config_named_by_its_content(shipped):
    s, _, _, props, _ = shipped
    assert props["StudioLifecycleConfigAppType"] == "JupyterLab"
    assert re.fullmatch(rf"{s.deployment.config.project_name}-notebook-[0-9a-f]{{10}}",
                        props["StudioLifecycleConfigName"])


def test_the_script_is_the_notebook_with_the_configs_parameters_and_the_model_role(shipped):
    s, resources, _, props, _ = shipped
    before, role, after = props["StudioLifecycleConfigContent"]["Fn::Base64"]["Fn::Join"][1]
    (role_id,) = role["Fn::GetAtt"][:1]
    assert resources[role_id]["Type"] == "AWS::IAM::Role" and "ModelRole" in role_id
    config = s.deployment.config
    expected = lifecycle_script(notebook_parameters(config, notebook_deploys(config)), NOTEBOOK.read_bytes(), "ROLE")
    assert before + "ROLE" + after == expected
    worst = before + "r" * ROLE_ARN_BOUND + after
    assert len(base64.b64encode(worst.encode())) <= MAX_CONTENT_CHARS


def test_the_domain_runs_it_in_every_jupyterlab_space_and_nowhere_else(shipped):
    _, _, lcc_id, _, domain = shipped
    arn = {"Fn::GetAtt": [lcc_id, "StudioLifecycleConfigArn"]}
    for settings in (domain["DefaultUserSettings"], domain["DefaultSpaceSettings"]):
        jupyter = settings["JupyterLabAppSettings"]
        assert jupyter["DefaultResourceSpec"]["LifecycleConfigArn"] == arn
        assert jupyter["LifecycleConfigArns"] == [arn]
    assert "LifecycleConfigArn" not in domain["DefaultUserSettings"]["CodeEditorAppSettings"]["DefaultResourceSpec"]

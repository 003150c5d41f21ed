"""The lecture notebook, end to end and offline (issue 21, "Done when"): the notebook the
lifecycle configuration ships, laid out by that very script in a scratch home, executed by
nbclient in a kernel with the real SageMaker Python SDK (`.venv-notebook`), against local S3
(JumpStart's pinned metadata), the local SageMaker control plane and the runtime emulator
(tests/studio/notebook_offline.py). Checked: every cell's outputs, what the control plane
saw (tags, instance type, nothing left behind) and the prompts the emulator received, which
are the front door's templates.

Also here, without a kernel: the committed notebook is the one tools/notebook.py generates."""

from __future__ import annotations

import json
import re
import string

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from stacks.config import load_config
from stacks.config.studio import OWNER_TAG, TTL_TAG
from stacks.constructs.studio_notebook import NOTEBOOK, PARAMS_FILE, lifecycle_script, notebook_parameters
from stacks.models.notebook_deploys import notebook_deploys
from tests.studio.notebook_offline import (KERNEL, NOTEBOOK_PYTHON, OfflineAws, run_lifecycle_script,
                                          write_kernelspec)
from tests.synth import CONFIGS
from tools import notebook as generator

# Its servers and kernel on one worker, apart from the config groups (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("lecture-notebook")

USER = "alice"
ROLE_ARN = "arn:aws:iam::123456789012:role/fm-studio-notebook-model-role"
MODEL = "huggingface-llm-falcon-7b-instruct-bf16"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_committed_notebook_is_generated_from_the_templates():
    assert generator.main(["--check"]) == 0, "run: python -m tools.notebook"
    nbformat.validate(nbformat.reads(NOTEBOOK.read_text(), as_version=4))


def _outputs(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _errors(nb) -> list[str]:
    """Error outputs, and the tracebacks the SDK's rich handler displays instead of raising."""
    found = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        for o in cell.outputs:
            text = o.get("data", {}).get("text/plain", "") if o.output_type == "display_data" else ""
            if o.output_type == "error" or "Traceback" in text:
                plain = ANSI.sub("", text)[-1500:]
                found.append(f"{cell.id}: {o.get('ename', '')} {o.get('evalue', '')} {plain}")
    return found


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(executed notebook, control plane, emulator calls, params file) of one offline run."""
    if not NOTEBOOK_PYTHON.exists():
        pytest.fail(f"{NOTEBOOK_PYTHON} is missing: run `make notebook-setup` (make test does it)")
    scratch = tmp_path_factory.mktemp("lecture")
    config = load_config(CONFIGS["studio-vpc"])
    params = notebook_parameters(config, notebook_deploys(config))
    home = scratch / "home"
    home.mkdir()
    workdir = run_lifecycle_script(lifecycle_script(params, NOTEBOOK.read_bytes(), ROLE_ARN), home, USER)
    aws = OfflineAws()
    try:
        ksm = KernelSpecManager(kernel_dirs=[str(write_kernelspec(scratch, aws.env(scratch)))])
        km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=ksm)
        nb = nbformat.read(workdir / "falcon-jumpstart.ipynb", as_version=4)
        NotebookClient(nb, km=km, timeout=60, allow_errors=True,
                       resources={"metadata": {"path": str(workdir)}}).execute()
        calls = [c for c in aws.emulator.calls() if c["endpoint"] != "_emulator"]
        yield nb, aws.control, calls, json.loads((workdir / PARAMS_FILE).read_text())
    finally:
        aws.stop()


def test_the_lifecycle_script_injects_the_parameters(executed):
    _, _, _, params = executed
    assert params["owner"] == USER and params["role_arn"] == ROLE_ARN
    assert params["model_id"] == MODEL and params["instances"][MODEL] == "ml.g5.2xlarge"
    assert params["instances"]["huggingface-llm-falcon-40b-instruct-bf16"] == "ml.g5.12xlarge"
    assert (params["owner_tag"], params["ttl_tag"]) == (OWNER_TAG, TTL_TAG)


def test_every_cell_runs_and_prints_what_the_lecture_shows(executed):
    nb, _, _, _ = executed
    assert _errors(nb) == []
    cells = {c.id: c for c in nb.cells if c.cell_type == "code"}
    assert re.search(rf"model {MODEL} on ml\.g5\.2xlarge: \$1\.5\d/h until deleted", _outputs(cells["pick"]))
    assert "SM_NUM_GPUS" in _outputs(cells["model"])
    assert re.search(r"endpoint in service: \S+", _outputs(cells["deploy"]))
    assert _outputs(cells["payload"]).strip()
    for cell_id in ("code", "steps", "translate", "sentiment", "question", "recipe", "summarize"):
        header, _, text = _outputs(cells[cell_id]).partition("\n")
        assert header.startswith("### ") and text.strip(), f"{cell_id} printed no generated text"
    assert _outputs(cells["sentiment"]).split("\n", 1)[1].strip().split()[0] in ("Positive", "Negative", "Neutral")
    assert "Falcon 40B" in _outputs(cells["summarize"])
    assert _outputs(cells["loop"]).count("distinct words") == 9
    cleanup = _outputs(cells["cleanup"])
    endpoint = re.search(r"endpoint in service: (\S+)", _outputs(cells["deploy"])).group(1)
    assert f"deleted model of {endpoint}\ndeleted endpoint {endpoint}\nstill running: nothing" in cleanup


def test_deploy_went_through_the_control_plane_within_the_guardrails(executed):
    _, control, _, _ = executed
    operations = [op for op, _ in control.calls]
    for op in ("CreateModel", "CreateEndpointConfig", "CreateEndpoint", "DescribeEndpoint",
               "DeleteModel", "DeleteEndpointConfig", "DeleteEndpoint"):
        assert op in operations, op
    creates = {op: req for op, req in control.calls if op.startswith("Create")}
    for op, request in creates.items():
        tags = {t["Key"]: t["Value"] for t in request.get("Tags", [])}
        assert tags.get(OWNER_TAG) == USER and tags.get(TTL_TAG) == "24", op
    assert creates["CreateModel"]["ExecutionRoleArn"] == ROLE_ARN
    assert [v["InstanceType"] for v in creates["CreateEndpointConfig"]["ProductionVariants"]] == ["ml.g5.2xlarge"]
    assert all(not found for found in control.resources.values()), "the cleanup cell left resources behind"


def test_the_prompts_the_model_received_are_the_front_doors_templates(executed):
    _, _, calls, _ = executed
    received = [c["body"]["inputs"] for c in calls]
    templates = {t["name"]: t for t in json.loads(generator.TEMPLATES.read_text())["templates"]}

    def render(name: str, **values: str) -> str:
        defaults = {v["name"]: v["default"] for v in templates[name]["variables"]}
        return string.Template(templates[name]["template"]).substitute({**defaults, **values})

    lecture = [render("free-text"), render("code"), render("steps"), render("translate-en-fr"),
               render("sentiment"), render("question-answering", question=generator.C_QUESTION),
               render("recipe"), render("summarize")]
    assert received[:len(lecture)] == lecture
    assert len(received) == len(lecture) + 9
    assert all(c["status"] == 200 for c in calls)

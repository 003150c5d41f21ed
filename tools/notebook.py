"""Writes the lecture notebook shipped into each Studio user's home (issue 21;
docs/studio.md, "The lecture notebook") from the front door's built-in prompt templates,
so the notebook's prompts and parameters are the API's, never a copy that drifts.

    python -m tools.notebook            # (re)write studio/notebooks/falcon-jumpstart.ipynb
    python -m tools.notebook --check    # exit 1 if the committed file differs (a test runs it)

The notebook reads its parameters (model, smallest allowed instance, model role, tag keys,
owner) from `falcon-jumpstart.json` next to it, which the domain's lifecycle configuration
writes from the deployment's config (stacks/constructs/studio_notebook.py); its first code
cell is tagged `parameters`, so papermill can override them too.
"""

from __future__ import annotations

import argparse
import json
import pprint
import string
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "lambdas" / "frontdoor" / "templates" / "builtin.json"
NOTEBOOK = REPO / "studio" / "notebooks" / "falcon-jumpstart.ipynb"
PARAMS_FILE = "falcon-jumpstart.json"
# The lecture asks this question; the template's default words it differently.
C_QUESTION = "When was the C programming language invented?"

_PARAMETERS = f'''\
# Parameters (this cell is tagged "parameters": papermill may override them). The domain's
# lifecycle configuration writes {PARAMS_FILE} next to this notebook when your JupyterLab
# space starts, from the deployment's config (studio.deploy); do not edit it by hand.
import json
from pathlib import Path

params = json.loads(Path("{PARAMS_FILE}").read_text())
model_id = params["model_id"]
owner = params["owner"]  # your user profile: IAM lets you deploy only with this owner tag'''

_PICK = '''\
# Falcon 7B or 40B, instruct (tuned to follow instructions) or base: each with the smallest
# instance this deployment's allow-list has for it (IAM refuses every other instance type).
for candidate, instance in params["instances"].items():
    print(f"{candidate:42} {instance or '(not allowed in this deployment)'}")
# model_id = "huggingface-llm-falcon-40b-instruct-bf16"  # uncomment to switch model
instance_type = params["instances"][model_id]
assert instance_type, f"{model_id} fits no instance this deployment allows"
print(f"\\nmodel {model_id} on {instance_type}: ${params['usd_per_hour'][instance_type]:.2f}/h until deleted")'''

_MODEL = '''\
from sagemaker.jumpstart.model import JumpStartModel

# role: the only model execution role IAM lets you pass (pull the JumpStart image, read its weights).
model = JumpStartModel(model_id=model_id, role=params["role_arn"], instance_type=instance_type)
# On a bigger instance (more GPUs), let the container shard the model over all of them, e.g. on
# ml.g5.12xlarge (4 x A10G), if the allow-list has it:  model.env["SM_NUM_GPUS"] = "4"
print({k: v for k, v in model.env.items() if k in ("SM_NUM_GPUS", "MAX_INPUT_LENGTH", "MAX_TOTAL_TOKENS")})'''

_DEPLOY = '''\
# IAM requires the owner tag on every create; the reaper deletes the endpoint after ttl-hours,
# or sooner when idle: delete it yourself at the end of this notebook.
tags = [{"Key": params["owner_tag"], "Value": owner},
        {"Key": params["ttl_tag"], "Value": str(params["ttl_hours"])}]
predictor = model.deploy(initial_instance_count=1, instance_type=instance_type, tags=tags)
print("endpoint in service:", predictor.endpoint_name)'''

_HELPER = '''\
def query_endpoint(prompt, **parameters):
    """Send one prompt with TGI's generation parameters; print and return the generated text."""
    response = predictor.predict({"inputs": prompt, "parameters": parameters})
    text = response[0]["generated_text"]
    print(f"### {prompt.splitlines()[0][:70]}\\n{text}\\n")
    return text'''

_LOOP = '''\
# One prompt after another, each allowed more new tokens: with greedy decoding a longer answer
# drifts into repeating itself; the share of distinct words shows how far it degraded.
for prompt in prompts:
    for max_new_tokens in (32, 128, 384):
        words = query_endpoint(prompt, max_new_tokens=max_new_tokens, do_sample=False).split()
        print(f"max_new_tokens={max_new_tokens}: {len(set(words)) / max(len(words), 1):.0%} distinct words\\n")'''

_CLEANUP = '''\
# An endpoint bills by the hour until deleted: delete the model, then the endpoint and its config.
endpoint_name = predictor.endpoint_name
predictor.delete_model()
print("deleted model of", endpoint_name)
predictor.delete_endpoint()
print("deleted endpoint", endpoint_name)
left = predictor.sagemaker_session.sagemaker_client.list_endpoints(NameContains=endpoint_name)["Endpoints"]
print("still running:", [e["EndpointName"] for e in left] or "nothing")'''


def _templates() -> dict[str, dict]:
    return {t["name"]: t for t in json.loads(TEMPLATES.read_text())["templates"]}


def _render(template: dict, **values: str) -> str:
    """The prompt the front door sends for `template` (services/templating.py: string.Template)."""
    defaults = {v["name"]: v["default"] for v in template["variables"]}
    return string.Template(template["template"]).substitute({**defaults, **values})


def _literal(text: str) -> str:
    """A readable Python literal: triple-quoted when the text has several lines and allows it."""
    if "\n" in text.rstrip("\n") and '"""' not in text and "\\" not in text and not text.endswith('"'):
        return f'"""{text}"""'
    return json.dumps(text, ensure_ascii=False)


def _call(template: dict, **values: str) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in template["parameters"].items())
    return f"prompt = {_literal(_render(template, **values))}\nanswer = query_endpoint(prompt, {args})"


def _md(cell_id: str, text: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def _code(cell_id: str, source: str, tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id,
            "metadata": {"tags": tags} if tags else {}, "outputs": [], "source": source}


def _prompt_cells(t: dict[str, dict]) -> list[dict]:
    """The lecture's prompts, in its order, each the front door's template of the same prompt."""
    steps = [
        ("code", "Code: a Python factorial.", _call(t["code"])),
        ("steps", "A numbered list: building a website in 10 simple steps.", _call(t["steps"])),
        ("translate", "Translation, English to French, few-shot: cheese should come back as *fromage*.",
         _call(t["translate-en-fr"])),
        ("sentiment", "Few-shot tweet sentiment: three labelled tweets, then ours.", _call(t["sentiment"])),
        ("question", "A question.", _call(t["question-answering"], question=C_QUESTION)),
        ("recipe", "A recipe.", _call(t["recipe"])),
        ("summarize", "Summarizing the three-paragraph Falcon article.", _call(t["summarize"])),
    ]
    cells = []
    for cell_id, title, source in steps:
        cells += [_md(f"md-{cell_id}", f"### {title}"), _code(cell_id, source)]
    return cells


def _payload_cell(t: dict) -> str:
    payload = {"inputs": _render(t), "parameters": t["parameters"]}
    return (f"payload = {pprint.pformat(payload, sort_dicts=False, width=60)}\n"
            'response = predictor.predict(payload)\nprint(response[0]["generated_text"])')


_INTRO = """\
# Falcon on SageMaker JumpStart, within this platform's guardrails

The lecture's notebook: deploy Falcon from JumpStart with the SageMaker Python SDK, prompt it
(free text, code, steps, translation, sentiment, a question, a recipe, a summary, a loop), then
delete it. The prompts are the platform API's own templates (`GET /v1/templates`). **A deployed
endpoint bills by the hour until the last cell deletes it**; the platform's reaper deletes
forgotten ones. Run the cells in order; the parameters come from the deployment's config."""

_PAYLOAD_MD = """\
## 3. Tell me about Amazon SageMaker.

The payload is the Text Generation Inference container's: `inputs` is the prompt, `parameters`
how to generate: `max_new_tokens` (the length of the answer, in tokens), `do_sample` (false:
always the most likely token, greedy; true: sample), with sampling `top_k` (from the k likeliest
tokens), `top_p` (from the smallest set holding that probability) and `temperature` (below 1:
sharper, above 1: flatter); `stop` ends the answer at one of its strings."""


def build() -> dict:
    t = _templates()
    cells = [
        _md("intro", _INTRO),
        _code("parameters", _PARAMETERS, tags=["parameters"]),
        _md("md-pick", "## 1. Pick the model and the instance"),
        _code("pick", _PICK),
        _md("md-deploy", "## 2. Deploy\n\n`model.env` is the container's environment; `deploy()` "
            "creates the model, the endpoint config and the endpoint, and waits until it is in service "
            "(about 10 minutes for Falcon 7B)."),
        _code("model", _MODEL),
        _code("deploy", _DEPLOY),
        _md("md-payload", _PAYLOAD_MD),
        _code("payload", _payload_cell(t["free-text"])),
        _md("md-helper", "## 4. A small helper, then the lecture's prompts"),
        _code("helper", _HELPER),
        *_prompt_cells(t),
        _md("md-loop", "## 5. A range of prompts, one after another"),
        _code("prompts", "prompts = " + json.dumps(
            [_render(t["common-sense"]), _render(t["short-story"]), _render(t["free-text"])], indent=4)),
        _code("loop", _LOOP),
        _md("md-cleanup", "## 6. Clean up"),
        _code("cleanup", _CLEANUP),
    ]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed notebook is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not NOTEBOOK.is_file() or NOTEBOOK.read_text() != text:
            print(f"{NOTEBOOK.relative_to(REPO)} is stale: run python -m tools.notebook", file=sys.stderr)
            return 1
        return 0
    NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    NOTEBOOK.write_text(text)
    print(f"wrote {NOTEBOOK.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

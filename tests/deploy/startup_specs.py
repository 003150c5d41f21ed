"""What the deploy tests know of start-up timeouts: the CloudFormation properties, the
JumpStart spec keys they come from, each container family's floor, and which pinned spec
and family a synthesized model is (used by test_startup_timeouts and test_inference_components)."""

from __future__ import annotations

import json
from functools import lru_cache

from tests.deploy.model import Deployment, Res, containers
from tests.synth import REPO

TIMEOUTS = ("ModelDataDownloadTimeoutInSeconds", "ContainerStartupHealthCheckTimeoutInSeconds")
SPEC_KEYS = {
    "ModelDataDownloadTimeoutInSeconds": "model_data_download_timeout",
    "ContainerStartupHealthCheckTimeoutInSeconds": "container_startup_health_check_timeout",
}

# Container family (a substring of the image repository) -> the smallest deploy_kwargs value
# seen in JumpStart specs of that family. TGI ("huggingface-pytorch-tgi-inference"):
# huggingface-llm-gemma-7b-instruct carries 1200/1200 and huggingface-llm-falcon-180b-bf16
# 3600/3600 (JumpStart spec fixtures in aws/sagemaker-python-sdk
# tests/unit/sagemaker/jumpstart/constants.py); the LMI meta-textgeneration-llama-3-1-70b
# spec in ../shared/reference/jumpstart/sdk-format carries 1200/1200.
FAMILY_FLOOR = {"tgi": 1200}


@lru_cache(maxsize=None)
def _pinned_specs() -> tuple[dict, ...]:
    root = REPO / "config" / "jumpstart" / "community_models"
    return tuple(json.loads(p.read_text()) for p in sorted(root.glob("*/specs_*.json")))


def spec_of(dep: Deployment, model: Res | None) -> dict | None:
    """The pinned JumpStart spec whose artifacts the model loads."""
    for container in containers(model):
        source = ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
        uri = dep.render(model.stack, source or container.get("ModelDataUrl")) or ""
        for spec in _pinned_specs():
            keys = [spec.get("hosting_prepacked_artifact_key"), spec.get("hosting_artifact_key")]
            if any(k and k in uri for k in keys):
                return spec
    return None


def family_of(dep: Deployment, model: Res | None) -> str | None:
    for container in containers(model):
        repository = (dep.render(model.stack, container.get("Image")) or "").split("/", 1)[-1].split(":")[0]
        for family in FAMILY_FLOOR:
            if family in repository.lower():
                return family
    return None

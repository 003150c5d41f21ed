"""Endpoint start-up timeouts are valid and no shorter than JumpStart's own.

Creating an endpoint downloads the model (ModelDataDownloadTimeoutInSeconds) and waits
for the container's first successful /ping (ContainerStartupHealthCheckTimeoutInSeconds);
a value too short for the weights fails CreateEndpoint after minutes of paid instance
time, and the stack rolls back. SageMaker accepts 60-3600 s. The SageMaker Python SDK
has no per-family default of its own: `JumpStartModel.deploy` passes the
`deploy_kwargs` (`model_data_download_timeout`, `container_startup_health_check_timeout`)
of the model's JumpStart spec (sagemaker.core.jumpstart.types, JumpStartModelDeployKwargs).
Where our pinned spec (config/jumpstart) carries them, they are the floor; where it
does not, the floor is the smallest value JumpStart's specs of the same container family
carry (table below, with where each value was read).
"""

from __future__ import annotations

import json
from functools import lru_cache

from tests.deploy.conftest import Deployment, Res, assert_none, containers, listify
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


def _spec_of(dep: Deployment, model: Res | None) -> dict | None:
    """The pinned JumpStart spec whose artifacts the model loads."""
    for container in containers(model):
        source = ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
        uri = dep.render(model.stack, source or container.get("ModelDataUrl")) or ""
        for spec in _pinned_specs():
            keys = [spec.get("hosting_prepacked_artifact_key"), spec.get("hosting_artifact_key")]
            if any(k and k in uri for k in keys):
                return spec
    return None


def _family(dep: Deployment, model: Res | None) -> str | None:
    for container in containers(model):
        repository = (dep.render(model.stack, container.get("Image")) or "").split("/", 1)[-1].split(":")[0]
        for family in FAMILY_FLOOR:
            if family in repository.lower():
                return family
    return None


def _variants(dep: Deployment):
    for config in dep.resources("AWS::SageMaker::EndpointConfig"):
        for variant in listify(config.props.get("ProductionVariants")):
            model = dep.ref(config.stack, variant.get("ModelName"))
            yield config, variant, model


def test_startup_timeouts_within_sagemaker_range(deployment):
    """Every production variant sets ModelDataDownloadTimeoutInSeconds and
    ContainerStartupHealthCheckTimeoutInSeconds within SageMaker's valid range, 60-3600.

    Source: Amazon SageMaker API Reference, "ProductionVariant" (Valid Range: Minimum value of
    60. Maximum value of 3600.),
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html
    """
    dep = deployment
    problems = []
    for config, variant, _ in _variants(dep):
        for prop in TIMEOUTS:
            value = variant.get(prop)
            if value is None or not 60 <= int(value) <= 3600:
                problems.append(f"{dep.name}: {config} variant {variant.get('VariantName')}: {prop}={value}")
    assert_none(problems, "start-up timeouts must be set within 60-3600 s")


def test_startup_timeouts_not_below_jumpstart(deployment):
    """Every variant's start-up timeouts are at least what the SageMaker SDK would deploy the
    model with: the pinned JumpStart spec's deploy_kwargs, else the smallest value JumpStart
    uses for the container family (FAMILY_FLOOR).

    Source: SageMaker Python SDK, JumpStart deploy kwargs (sagemaker-core 2.27
    sagemaker/core/jumpstart/types.py, JumpStartModelDeployKwargs:
    model_data_download_timeout, container_startup_health_check_timeout), fed from each
    model's JumpStart spec; the family values as listed at FAMILY_FLOOR.
    """
    dep = deployment
    problems = []
    for config, variant, model in _variants(dep):
        spec = _spec_of(dep, model) or {}
        deploy_kwargs = spec.get("deploy_kwargs") or {}
        family = _family(dep, model)
        for prop in TIMEOUTS:
            floor = deploy_kwargs.get(SPEC_KEYS[prop]) or FAMILY_FLOOR.get(family)
            value = variant.get(prop)
            if floor and (value is None or int(value) < int(floor)):
                source = f"{spec.get('model_id')} spec deploy_kwargs" if deploy_kwargs.get(SPEC_KEYS[prop]) else (
                    f"JumpStart's {family} family"
                )
                problems.append(
                    f"{dep.name}: {config} ({model.lid if model else '?'}): {prop}={value} < {floor} ({source})"
                )
    assert_none(problems, "start-up timeouts must not be below JumpStart's")

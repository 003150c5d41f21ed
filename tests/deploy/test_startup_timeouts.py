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

from tests.deploy.model import Deployment, assert_none, listify
from tests.deploy.startup_specs import FAMILY_FLOOR, SPEC_KEYS, TIMEOUTS, family_of, spec_of

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
        spec = spec_of(dep, model) or {}
        deploy_kwargs = spec.get("deploy_kwargs") or {}
        family = family_of(dep, model)
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

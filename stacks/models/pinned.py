"""The pinned JumpStart metadata (config/jumpstart/, refreshed by tools/jumpstart_metadata.py)
read directly: which models and versions are pinned, their specs, the regions with an
image, start-up timeouts, and the refusals of a model that is not pinned or not accepted."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from stacks.config import AppConfig, ConfigError, catalog

METADATA_DIR = Path(__file__).resolve().parents[2] / "config" / "jumpstart"


@lru_cache(maxsize=4)
def read_manifest(metadata_dir: Path) -> dict[str, dict]:
    entries = json.loads((metadata_dir / "models_manifest.json").read_text())
    return {e["model_id"]: e for e in entries}


@lru_cache(maxsize=32)
def read_spec(metadata_dir: Path, spec_key: str) -> dict:
    return json.loads((metadata_dir / spec_key).read_text())


def supported_models(metadata_dir: Path = METADATA_DIR) -> list[str]:
    return sorted(set(read_manifest(metadata_dir)) & set(catalog.models().models))


def regions_with_image(spec: dict) -> list[str]:
    variants = spec.get("hosting_instance_type_variants") or {}
    return sorted((variants.get("regional_aliases") or {}).keys())





def check_region(config: AppConfig, model_id: str, spec: dict) -> None:
    """Refuse a region the pinned spec has no inference image for."""
    regions = regions_with_image(spec)
    if config.region not in regions:
        raise ConfigError(
            "region",
            f"{model_id} has no inference image in {config.region}; regions with an image: "
            f"{', '.join(regions) if regions else 'none in the pinned metadata'}",
        )

# SageMaker's range for both timeouts (CreateEndpointConfig, ProductionVariant).
TIMEOUT_RANGE = (60, 3600)
# Floor for sized timeouts: the smallest value JumpStart's own specs give TGI-hosted
# LLMs in `deploy_kwargs` (1200 s each, e.g. Gemma-7B-instruct and Llama-3.1-70B); our
# pinned specs carry none, so the SDK would pass nothing and SageMaker's default applies.
TIMEOUT_FLOOR = 1200


def startup_timeouts(spec: dict, weights_gib: float, override: int | None = None) -> tuple[int, int]:
    """(ModelDataDownloadTimeoutInSeconds, ContainerStartupHealthCheckTimeoutInSeconds).

    Order: the config's override (both); else JumpStart's own `deploy_kwargs` from the
    pinned spec where it carries them (what `JumpStartModel.deploy` would pass); else
    sized from the weights: ~15 s per GiB from S3 to GPU memory on a g5 plus 300 s of
    container start, never below TIMEOUT_FLOOR, capped at SageMaker's 3600 s.
    """
    if override:
        return override, override
    sized = int(min(TIMEOUT_RANGE[1], max(TIMEOUT_FLOOR, math.ceil(300 + 15 * weights_gib))))
    kwargs = spec.get("deploy_kwargs") or {}
    download = kwargs.get("model_data_download_timeout") or sized
    health = kwargs.get("container_startup_health_check_timeout") or sized
    low, high = TIMEOUT_RANGE
    return int(min(high, max(low, download))), int(min(high, max(low, health)))


def pinned_model(
    path: str, model_id: str, model_version: str | None, accept_eula: bool, metadata_dir: Path = METADATA_DIR
) -> tuple[str, dict, catalog.ModelFacts, bool]:
    """(version, spec, facts, gated) of a configured JumpStart model (at `path` in the
    config), refused unless it is pinned (metadata and catalog facts), at the pinned
    version, and its EULA accepted where it is gated."""
    entries = read_manifest(metadata_dir)
    model_facts = catalog.models().models
    if model_id not in entries or model_id not in model_facts:
        raise ConfigError(
            f"{path}.model_id",
            f"unknown model {model_id!r}; supported: {', '.join(supported_models(metadata_dir))}",
        )
    entry = entries[model_id]
    version = model_version or entry["version"]
    if version != entry["version"]:
        raise ConfigError(
            f"{path}.model_version",
            f"version {version!r} of {model_id} is not pinned; pinned: {entry['version']} "
            "(refresh config/jumpstart with tools/jumpstart_metadata.py)",
        )
    pinned_spec = read_spec(metadata_dir, entry["spec_key"])
    gated = bool(pinned_spec.get("gated_bucket"))
    if gated and not accept_eula:
        raise ConfigError(
            f"{path}.accept_eula",
            f"{model_id} is a gated model; read its EULA "
            f"({pinned_spec.get('hosting_eula_key', 'see the model card')}) and set accept_eula: true",
        )
    return version, pinned_spec, model_facts[model_id], gated


def pinned_fields(
    config: AppConfig, model_id: str, version: str, spec: dict, facts: catalog.ModelFacts, gated: bool,
    image_uri: str, artifact_uri: str, environment: dict[str, str], startup_health_check_timeout: int | None,
) -> dict:
    """The fields a resolved JumpStart model has wherever it is hosted (own endpoint or
    inference component): identity, image and artifacts, container environment, start-up
    timeouts (`startup_timeouts`)."""
    bucket, _, key = artifact_uri.removeprefix("s3://").partition("/")
    timeouts = startup_timeouts(spec, facts.weights_gib, startup_health_check_timeout)
    return {
        "model_id": model_id,
        "model_version": version,
        "family": facts.family,
        "kind": facts.kind,
        "region": config.region,
        "image_uri": image_uri,
        "artifact_bucket": bucket,
        "artifact_key": key,
        "artifact_is_prefix": not key.endswith(".tar.gz"),
        "gated": gated,
        "environment": environment,
        "weights_gib": facts.weights_gib,
        "model_data_download_timeout_seconds": timeouts[0],
        "startup_health_check_timeout_seconds": timeouts[1],
    }

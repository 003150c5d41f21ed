"""Offline JumpStart resolution and the synth-time refusals.

The SageMaker SDK (sagemaker-core) resolves image URIs, artifact locations and
per-instance environment from *local* metadata when both override variables
point at folders holding `models_manifest.json` and the spec files. We pin that
folder in config/jumpstart/ (refreshed by tools/jumpstart_metadata.py), so synth
needs neither network nor credentials.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from stacks import catalog
from stacks.config import AppConfig, ConfigError, EndpointConfig
from stacks.resolved import ContainerEnvironment, EndpointCapacity, JumpStartArtifacts, NamedModel

METADATA_DIR = Path(__file__).resolve().parent.parent / "config" / "jumpstart"
_OVERRIDES = (
    "AWS_JUMPSTART_MANIFEST_LOCAL_ROOT_DIR_OVERRIDE",
    "AWS_JUMPSTART_SPECS_LOCAL_ROOT_DIR_OVERRIDE",
)


@dataclass(frozen=True)
class ResolvedEndpoint(NamedModel, ContainerEnvironment, JumpStartArtifacts, EndpointCapacity):
    """Everything a JumpStartEndpoint construct needs, already validated."""

    name: str
    model_id: str
    model_version: str
    family: str
    kind: str
    region: str
    instance_type: str
    instance: catalog.InstanceFacts
    image_uri: str
    artifact_bucket: str
    artifact_key: str
    artifact_is_prefix: bool
    gated: bool
    environment: dict[str, str]
    weights_gib: float
    model_data_download_timeout_seconds: int
    startup_health_check_timeout_seconds: int
    is_default: bool
    settings: EndpointConfig = field(repr=False)
    # Why this instance type (chosen by default) or what a cheaper fit would save (named in
    # the config); the synth summary prints it. Empty when the named instance is the cheapest fit.
    instance_note: str = ""


@contextlib.contextmanager
def _local_metadata(metadata_dir: Path) -> Iterator[None]:
    """Point the SDK at the pinned folder for the duration of the calls only."""
    saved = {k: os.environ.get(k) for k in _OVERRIDES}
    for key in _OVERRIDES:
        os.environ[key] = str(metadata_dir)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@lru_cache(maxsize=4)
def _manifest(metadata_dir: Path) -> dict[str, dict]:
    entries = json.loads((metadata_dir / "models_manifest.json").read_text())
    return {e["model_id"]: e for e in entries}


@lru_cache(maxsize=32)
def _spec(metadata_dir: Path, spec_key: str) -> dict:
    return json.loads((metadata_dir / spec_key).read_text())


def supported_models(metadata_dir: Path = METADATA_DIR) -> list[str]:
    return sorted(set(_manifest(metadata_dir)) & set(catalog.models().models))


def _regions_with_image(spec: dict) -> list[str]:
    variants = spec.get("hosting_instance_type_variants") or {}
    return sorted((variants.get("regional_aliases") or {}).keys())


def _fits(facts: catalog.ModelFacts, instance: catalog.InstanceFacts) -> bool:
    return facts.weights_gib * catalog.models().memory_headroom <= instance.total_gpu_memory_gib


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
    manifest = _manifest(metadata_dir)
    model_facts = catalog.models().models
    if model_id not in manifest or model_id not in model_facts:
        raise ConfigError(
            f"{path}.model_id",
            f"unknown model {model_id!r}; supported: {', '.join(supported_models(metadata_dir))}",
        )
    entry = manifest[model_id]
    version = model_version or entry["version"]
    if version != entry["version"]:
        raise ConfigError(
            f"{path}.model_version",
            f"version {version!r} of {model_id} is not pinned; pinned: {entry['version']} "
            "(refresh config/jumpstart with tools/jumpstart_metadata.py)",
        )
    spec = _spec(metadata_dir, entry["spec_key"])
    gated = bool(spec.get("gated_bucket"))
    if gated and not accept_eula:
        raise ConfigError(
            f"{path}.accept_eula",
            f"{model_id} is a gated model; read its EULA "
            f"({spec.get('hosting_eula_key', 'see the model card')}) and set accept_eula: true",
        )
    return version, spec, model_facts[model_id], gated


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


def resolve_endpoint(
    config: AppConfig,
    index: int,
    metadata_dir: Path = METADATA_DIR,
    cache: ResolutionCache | None = None,
) -> ResolvedEndpoint:
    """Validate one configured endpoint against the pinned facts and resolve it."""
    ep = config.endpoints[index]
    if ep.model_package is not None:  # an AWS Marketplace model package, not a JumpStart model
        from stacks.marketplace import resolve_package

        return resolve_package(config, index)
    path = f"endpoints[{index}]"
    version, spec, facts, gated = pinned_model(path, ep.model_id, ep.model_version, ep.accept_eula, metadata_dir)
    supported = list(spec["supported_inference_instance_types"])
    known = catalog.instances().instances
    fitting = sorted((known[t].usd_per_hour, t) for t in supported if t in known and _fits(facts, known[t]))
    instance_type, instance_note = _choose_instance(ep, spec, fitting, known)
    cheapest = (
        f"the cheapest supported instance that fits is {fitting[0][1]} "
        f"({catalog.usd(fitting[0][0])}/h, {known[fitting[0][1]].total_gpu_memory_gib:g} GiB)"
        if fitting
        else "no supported instance fits"
    )
    # Memory first: "needs 82 GiB, has 24" says more than "not in the list".
    if instance_type in known and not _fits(facts, known[instance_type]):
        instance = known[instance_type]
        need = facts.weights_gib * catalog.models().memory_headroom
        raise ConfigError(
            f"{path}.instance_type",
            f"{ep.model_id} needs ~{need:.1f} GiB of GPU memory (bf16 weights "
            f"{facts.weights_gib:.1f} GiB x {catalog.models().memory_headroom} headroom) but "
            f"{instance_type} has {instance.total_gpu_memory_gib:g} GiB "
            f"({instance.gpus} x {instance.gpu} {instance.gpu_memory_gib:g} GiB); {cheapest}; "
            f"supported: {', '.join(supported)}",
        )
    if instance_type not in supported:
        raise ConfigError(
            f"{path}.instance_type",
            f"{instance_type!r} is not supported by {ep.model_id}; supported: {', '.join(supported)} "
            f"({cheapest})",
        )
    if instance_type not in known:
        raise ConfigError(
            f"{path}.instance_type",
            f"no pinned facts for {instance_type!r} (config/catalog/instances.yaml); "
            f"known: {', '.join(sorted(known))}",
        )
    instance = known[instance_type]
    regions = _regions_with_image(spec)
    if config.region not in regions:
        raise ConfigError(
            "region",
            f"{ep.model_id} has no inference image in {config.region}; regions with an image: "
            f"{', '.join(regions) if regions else 'none in the pinned metadata'}",
        )
    image_uri, artifact_uri, environment = _sdk_resolve(
        metadata_dir, config.region, ep.model_id, version, instance_type, cache
    )
    environment.update(ep.environment)
    return ResolvedEndpoint(
        name=ep.name or facts.short_name,
        **pinned_fields(config, ep.model_id, version, spec, facts, gated, image_uri, artifact_uri, environment,
                        ep.startup_health_check_timeout_seconds),
        instance_type=instance_type,
        instance=instance,
        is_default=ep.default,
        settings=ep,
        instance_note=instance_note,
    )


def _choose_instance(ep: EndpointConfig, spec: dict, fitting: list[tuple[float, str]],
                     known: dict[str, catalog.InstanceFacts]) -> tuple[str, str]:
    """(instance type, note). No `instance_type`: the cheapest supported instance whose GPU
    memory fits the weights, by the pinned list prices (us-east-1; other regions differ in
    level, rarely in order), falling back to JumpStart's default when none is priced. Named:
    kept as named (a later check refuses it if it does not fit), with a note when a cheaper
    supported instance fits too."""
    default = spec["default_inference_instance_type"]
    if ep.instance_type is None:
        if not fitting:
            return default, f"JumpStart's default {default} (no supported instance has pinned facts and fits)"
        price, chosen = fitting[0]
        note = (f"{chosen}: the cheapest supported instance whose GPU memory fits "
                f"({known[chosen].total_gpu_memory_gib:g} GiB, {catalog.usd(price)}/h us-east-1 list price)")
        if chosen != default and default in known:
            saved = (known[default].usd_per_hour - price) * catalog.HOURS_PER_MONTH
            note += f"; JumpStart's default {default} would cost {catalog.usd(saved)}/month more"
        return chosen, note
    named = ep.instance_type
    if fitting and named in known and fitting[0][1] != named and known[named].usd_per_hour > fitting[0][0]:
        price, cheaper = fitting[0]
        saved = (known[named].usd_per_hour - price) * catalog.HOURS_PER_MONTH
        return named, (f"{cheaper} also fits ({known[cheaper].total_gpu_memory_gib:g} GiB, "
                       f"{catalog.usd(price)}/h): {catalog.usd(saved)}/month less per instance than {named}")
    return named, ""


@lru_cache(maxsize=64)
def _sdk_resolve_cached(
    metadata_dir: Path, region: str, model_id: str, version: str, instance_type: str
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    # Imported here: sagemaker-core is slow to import and only synth needs it.
    logging.getLogger("sagemaker").setLevel(logging.WARNING)
    with _local_metadata(metadata_dir):
        from sagemaker.core import environment_variables, image_uris, model_uris

        image = image_uris.retrieve(
            framework=None,
            region=region,
            image_scope="inference",
            model_id=model_id,
            model_version=version,
            instance_type=instance_type,
        )
        artifact = model_uris.retrieve(
            region=region,
            model_id=model_id,
            model_version=version,
            model_scope="inference",
            instance_type=instance_type,
        )
        env = environment_variables.retrieve_default(
            region=region,
            model_id=model_id,
            model_version=version,
            instance_type=instance_type,
            include_aws_sdk_env_vars=False,
        )
    return image, artifact, tuple(sorted((k, str(v)) for k, v in env.items()))


class ResolutionCache:
    """A file cache of SDK resolutions, keyed by everything the answer depends on.

    Importing sagemaker-core costs ~1 s per synth, more than a third of a small
    app's synth time. The answer is a pure function of the pinned metadata files,
    the SDK version and the (region, model, version, instance) asked about, so a
    key over all of them makes stale hits impossible: a metadata refresh or SDK
    upgrade changes every key.
    """

    def __init__(self, path: Path, metadata_dir: Path = METADATA_DIR):
        self.path = path
        self._entries: dict[str, list] = json.loads(path.read_text()) if path.is_file() else {}
        digest = hashlib.sha256(importlib.metadata.version("sagemaker-core").encode())
        for file in sorted(metadata_dir.rglob("*.json")):
            digest.update(file.relative_to(metadata_dir).as_posix().encode() + file.read_bytes())
        self._salt = digest.hexdigest()

    def key(self, *parts: str) -> str:
        return hashlib.sha256("|".join((self._salt, *parts)).encode()).hexdigest()

    def get(self, key: str) -> list | None:
        return self._entries.get(key)

    def put(self, key: str, value: list) -> None:
        self._entries[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self._entries, indent=0, sort_keys=True))


def _sdk_resolve(
    metadata_dir: Path,
    region: str,
    model_id: str,
    version: str,
    instance_type: str,
    cache: ResolutionCache | None = None,
) -> tuple[str, str, dict[str, str]]:
    key = cache.key(region, model_id, version, instance_type) if cache else ""
    hit = cache.get(key) if cache else None
    if hit is None:
        image, artifact, env = _sdk_resolve_cached(metadata_dir, region, model_id, version, instance_type)
        hit = [image, artifact, dict(env)]
        if cache:
            cache.put(key, hit)
    image, artifact, env = hit
    return image, artifact, dict(env)


def resolve_endpoints(
    config: AppConfig, metadata_dir: Path = METADATA_DIR, cache: ResolutionCache | None = None
) -> list[ResolvedEndpoint]:
    """Resolve every configured endpoint; refuse duplicates and ambiguous defaults."""
    resolved = [resolve_endpoint(config, i, metadata_dir, cache) for i in range(len(config.endpoints))]
    seen: dict[str, int] = {}
    for i, ep in enumerate(resolved):
        if ep.name in seen:
            raise ConfigError(
                f"endpoints[{i}].name",
                f"name {ep.name!r} is already used by endpoints[{seen[ep.name]}]; set a unique name",
            )
        seen[ep.name] = i
    for kind in ("text", "image"):
        defaults = [i for i, ep in enumerate(resolved) if ep.kind == kind and ep.is_default]
        if len(defaults) > 1:
            raise ConfigError(
                f"endpoints[{defaults[1]}].default",
                f"only one {kind} model may be the default; endpoints{defaults} all say default: true",
            )
    return resolved

"""JumpStart models on their own endpoints: resolution and the synth-time refusals.

What the pinned metadata says (`stacks.models.pinned`) and what the SageMaker SDK resolves
from it offline (`stacks.models.sdk_resolution`) become one `ResolvedEndpoint` per
configured model, or a `ConfigError` naming the field: model x instance x region x GPU
memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stacks.config import AppConfig, ConfigError, EndpointConfig, catalog
from stacks.models import sizing
from stacks.models.pinned import METADATA_DIR, check_region, pinned_fields, pinned_model
from stacks.models.resolved import EndpointCapacity, PinnedJumpStartModel
from stacks.models.sdk_resolution import ResolutionCache, sdk_resolve


@dataclass(frozen=True)
class ResolvedEndpoint(PinnedJumpStartModel, EndpointCapacity):
    """Everything a JumpStartEndpoint construct needs, already validated."""

    instance_type: str
    instance: catalog.InstanceFacts
    settings: EndpointConfig = field(repr=False)
    # Why this instance type (chosen by default) or what a cheaper fit would save (named in
    # the config); the synth summary prints it. Empty when the named instance is the cheapest fit.
    instance_note: str = ""


def resolve_endpoint(
    config: AppConfig,
    index: int,
    metadata_dir: Path = METADATA_DIR,
    cache: ResolutionCache | None = None,
) -> ResolvedEndpoint:
    """Validate one configured endpoint against the pinned facts and resolve it."""
    ep = config.endpoints[index]
    if ep.model_package is not None:  # an AWS Marketplace model package, not a JumpStart model
        from stacks.models.marketplace import resolve_package

        return resolve_package(config, index)
    path = f"endpoints[{index}]"
    version, spec, facts, gated = pinned_model(path, ep.model_id, ep.model_version, ep.accept_eula, metadata_dir)
    known = catalog.instances().instances
    fitting = sorted(
        (known[t].usd_per_hour, t)
        for t in spec["supported_inference_instance_types"]
        if t in known and sizing.fits(facts, known[t])
    )
    instance_type, instance_note = _choose_instance(ep, spec, fitting)
    _check_instance(path, ep, spec, facts, fitting, instance_type)
    check_region(config, ep.model_id, spec)
    image_uri, artifact_uri, environment = sdk_resolve(
        metadata_dir, config.region, ep.model_id, version, instance_type, cache
    )
    environment.update(ep.environment)
    return ResolvedEndpoint(
        name=ep.name or facts.short_name,
        **pinned_fields(config, ep.model_id, version, spec, facts, gated, image_uri, artifact_uri, environment,
                        ep.startup_health_check_timeout_seconds),
        instance_type=instance_type,
        instance=known[instance_type],
        is_default=ep.default,
        settings=ep,
        instance_note=instance_note,
    )


def _check_instance(path: str, ep: EndpointConfig, spec: dict, facts: catalog.ModelFacts,
                    fitting: list[tuple[float, str]], instance_type: str) -> None:
    """Refuse an instance the model does not fit, JumpStart does not support, or the catalog
    does not price. Memory first: "needs 82 GiB, has 24" says more than "not in the list"."""
    supported = list(spec["supported_inference_instance_types"])
    known = catalog.instances().instances
    cheapest = (
        f"the cheapest supported instance that fits is {fitting[0][1]} "
        f"({catalog.usd(fitting[0][0])}/h, {known[fitting[0][1]].model_memory_gib:g} GiB)"
        if fitting
        else "no supported instance fits"
    )
    if instance_type in known and not sizing.fits(facts, known[instance_type]):
        instance = known[instance_type]
        need = facts.weights_gib * catalog.models().memory_headroom
        raise ConfigError(
            f"{path}.instance_type",
            f"{ep.model_id} needs ~{need:.1f} GiB of {instance.memory_kind} ({facts.precision} weights "
            f"{facts.weights_gib:.1f} GiB x {catalog.models().memory_headroom} headroom) but "
            f"{instance_type} has {instance.model_memory_gib:g} GiB "
            f"({instance.hardware}); {cheapest}; supported: {', '.join(supported)}",
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


def _choose_instance(ep: EndpointConfig, spec: dict, fitting: list[tuple[float, str]]) -> tuple[str, str]:
    """(instance type, note): `catalog.choose_instance` over the supported instances whose GPU
    memory fits the weights, by the pinned list prices (us-east-1; other regions differ in
    level, rarely in order), falling back to JumpStart's default when none is priced."""
    default = spec["default_inference_instance_type"]
    known = catalog.instances().instances

    def chosen_note(chosen: str, price: float) -> str:
        note = (f"{chosen}: the cheapest supported instance whose {known[chosen].memory_kind} fits "
                f"({known[chosen].model_memory_gib:g} GiB, {catalog.usd(price)}/h us-east-1 list price)")
        if chosen != default and default in known:
            saved = (known[default].usd_per_hour - price) * catalog.HOURS_PER_MONTH
            note += f"; JumpStart's default {default} would cost {catalog.usd(saved)}/month more"
        return note

    def cheaper_note(cheaper: str, price: float, saved: str) -> str:
        return (f"{cheaper} also fits ({known[cheaper].model_memory_gib:g} GiB, "
                f"{catalog.usd(price)}/h): {saved}/month less per instance than {ep.instance_type}")

    return sizing.choose_instance(
        ep.instance_type, fitting,
        fallback=(default, f"JumpStart's default {default} (no supported instance has pinned facts and fits)"),
        chosen_note=chosen_note, cheaper_note=cheaper_note,
    )


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
    for kind in catalog.KINDS:
        defaults = [i for i, ep in enumerate(resolved) if ep.kind == kind and ep.is_default]
        if len(defaults) > 1:
            raise ConfigError(
                f"endpoints[{defaults[1]}].default",
                f"only one {kind} model may be the default; endpoints{defaults} all say default: true",
            )
    return resolved

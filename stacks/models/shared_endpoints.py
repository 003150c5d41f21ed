"""Shared endpoints (issue 11): several JumpStart models on one real-time endpoint as
inference components (ICs), with managed instance scaling down to zero instances.

Resolution and the synth-time refusals, offline like `stacks.models.jumpstart` (whose pinned
metadata, SDK resolution and weights rule this module reuses). Every refusal is a
`ConfigError` naming the field and the fix. What is checked, per model and per endpoint:

- the model, its version and EULA as for a classic endpoint;
- the accelerators are whole GPUs of the instance and no more than it has;
- one copy fits the GPU memory of its accelerators (the weights rule of
  `stacks.config.catalog.fits`: bf16 weights x headroom <= GPU memory);
- JumpStart supports the model on that hardware (below: `reference_instance`);
- one copy fits one instance (GPUs and host memory), max_copies can be placed at all;
- the models' copies at their minimums fit on min_instances, and min_instances above 0
  is refused when every model scales to zero copies (instances billed, nothing on them);
- one copy of every model fits on max_instances (each IC starts with one copy on
  deploy, so CloudFormation proves the model loads before the stack completes).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from stacks.config import (
    AppConfig,
    ConfigError,
    SharedEndpointConfig,
    SharedModelConfig,
    catalog,
)
from stacks.models import sizing
from stacks.models.jumpstart import ResolvedEndpoint
from stacks.models.pinned import METADATA_DIR, check_region, pinned_fields, pinned_model
from stacks.models.placement import (
    MIB_PER_GIB,
    check_max_copies,
    check_min_instances,
    instance_family,
    instances_at_start,
    reference_instance,
)
from stacks.models.resolved import PinnedJumpStartModel
from stacks.models.sdk_resolution import ResolutionCache, sdk_resolve

# Inference component names: 1-63 characters, [a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?
# (SageMaker API reference, CreateInferenceComponent, InferenceComponentName).
IC_NAME_MAX = 63
_HASH_CHARS = 10


@dataclass(frozen=True)
class ResolvedComponent(PinnedJumpStartModel):
    """One model of a shared endpoint, validated: what its inference component needs."""

    accelerators: int
    memory_mib: int
    min_copies: int
    max_copies: int
    component_name: str
    # The JumpStart-listed instance type whose GPUs one copy's accelerators match (the
    # shared instance type itself when JumpStart lists it); env and image resolve for it.
    reference_instance_type: str
    # What the model would cost on its own classic endpoint: JumpStart's cheapest supported
    # instance whose GPU memory fits, one instance always on (a classic endpoint's minimum).
    classic_instance_type: str | None
    classic_usd_per_hour: float | None
    settings: SharedModelConfig = field(repr=False)

    @property
    def initial_copies(self) -> int:
        """CopyCount on create: at least one, so the deploy proves the model loads; target
        tracking scales an idle model back to min_copies (0) afterwards."""
        return max(1, self.min_copies)

    @property
    def sm_num_gpus(self) -> int:
        return int(self.environment["SM_NUM_GPUS"])


@dataclass(frozen=True)
class ResolvedSharedEndpoint:
    """A validated shared endpoint: instance type, instance range and its models."""

    name: str
    region: str
    instance_type: str
    instance: catalog.InstanceFacts
    min_instances: int
    max_instances: int
    initial_instances: int
    components: tuple[ResolvedComponent, ...]
    settings: SharedEndpointConfig = field(repr=False)

    @property
    def construct_id(self) -> str:
        """`text` -> `SharedText`: the SharedEndpoint construct's id in the Endpoints stack."""
        return "Shared" + "".join(part.capitalize() for part in self.name.split("-"))

    @property
    def scales_to_zero(self) -> bool:
        return self.min_instances == 0

    @property
    def max_capacity(self) -> int:
        """Most instances it can reach (as `ResolvedEndpoint.max_capacity`: quota checks)."""
        return self.max_instances

    @property
    def usd_per_hour_min(self) -> float:
        return self.instance.usd_per_hour * self.min_instances

    @property
    def usd_per_hour_max(self) -> float:
        return self.instance.usd_per_hour * self.max_instances

    def gpus_at(self, copies: str) -> dict[str, int]:
        """Model name -> GPUs its copies take at `min` or `max` copies."""
        return {c.name: c.accelerators * (c.min_copies if copies == "min" else c.max_copies) for c in self.components}

    def share_usd_per_hour(self, component: ResolvedComponent, copies: str) -> float:
        """The model's share of the endpoint's hourly cost at min or max scale, by the GPUs
        its copies take of the instances running then (instances at min or max)."""
        instances = self.min_instances if copies == "min" else self.max_instances
        total_gpus = self.instance.gpus * instances
        if not total_gpus:
            return 0.0
        return self.instance.usd_per_hour * instances * self.gpus_at(copies)[component.name] / total_gpus

    @property
    def classic_usd_per_hour(self) -> float | None:
        """The same models on classic endpoints (one always-on instance each), or None when
        a model has no classic fit with pinned facts."""
        prices = [c.classic_usd_per_hour for c in self.components]
        return None if any(p is None for p in prices) else sum(prices)

    @property
    def break_even_fraction(self) -> float | None:
        """The share of hours the shared endpoint may run at max scale before it costs more
        than the classic endpoints (only meaningful when it scales to zero)."""
        classic = self.classic_usd_per_hour
        if classic is None or not self.usd_per_hour_max or self.usd_per_hour_min:
            return None
        return min(1.0, classic / self.usd_per_hour_max)


def component_name(project_name: str, endpoint_name: str, instance_type: str, model_name: str) -> str:
    """The inference component's name: readable (`<project>-<model>`) plus a hash of
    everything its identity depends on, <= 63 characters.

    A fixed name, not a generated one: the scalable target's resource id
    (`inference-component/<name>`), the NoCapacityInvocationFailures alarm's dimension and
    the front door's InferenceComponentName all need it, and CloudFormation returns no
    name attribute for AWS::SageMaker::InferenceComponent. The hash includes the shared
    endpoint's name and instance type, which are in the logical IDs of the endpoint and of
    its ICs (`stacks.constructs.jumpstart_endpoint.endpoint_id`): when either changes,
    CloudFormation creates new ICs under new names before it deletes the old ones, so a
    replacement never collides with the name it replaces.
    """
    digest = hashlib.sha256("|".join((project_name, endpoint_name, instance_type, model_name)).encode())
    readable = f"{project_name}-{model_name}"[: IC_NAME_MAX - _HASH_CHARS - 1].rstrip("-")
    return f"{readable}-{digest.hexdigest()[:_HASH_CHARS]}"


def _default_memory_mib(spec: dict, weights_gib: float) -> int:
    """JumpStart's own hosting resource requirement when the pinned spec carries it (what
    the SageMaker SDK reserves for an IC deployment); else the bf16 weights rounded up to a
    whole GiB, which pass through host memory while the container loads them to the GPU."""
    requirements = spec.get("hosting_resource_requirements") or {}
    if requirements.get("min_memory_mb"):
        return int(requirements["min_memory_mb"])
    return int(math.ceil(weights_gib)) * MIB_PER_GIB


def resolve_component(
    config: AppConfig,
    shared: SharedEndpointConfig,
    index: int,
    model_index: int,
    metadata_dir: Path = METADATA_DIR,
    cache: ResolutionCache | None = None,
) -> ResolvedComponent:
    """Validate one model of a shared endpoint against the pinned facts and resolve it."""
    m = shared.models[model_index]
    path = f"shared_endpoints[{index}].models[{model_index}]"
    version, spec, facts, gated = pinned_model(path, m.model_id, m.model_version, m.accept_eula, metadata_dir)
    name = m.name or facts.short_name
    known = catalog.instances().instances
    _check_accelerators(path, shared, m, name, facts)
    supported = list(spec["supported_inference_instance_types"])
    reference = _reference_or_refuse(path, index, shared, m, supported)
    check_region(config, m.model_id, spec)
    memory_mib = _host_memory_mib(path, shared, m, name, spec, facts)
    image_uri, artifact_uri, environment = sdk_resolve(
        metadata_dir, config.region, m.model_id, version, reference, cache
    )
    environment.update(m.environment)
    if "SM_NUM_GPUS" in m.environment and m.environment["SM_NUM_GPUS"] != str(m.accelerators):
        raise ConfigError(
            f"{path}.environment",
            f"SM_NUM_GPUS ({m.environment['SM_NUM_GPUS']}) must equal accelerators ({m.accelerators}): each "
            "copy gets exactly its accelerators; drop SM_NUM_GPUS (it is set from accelerators)",
        )
    environment["SM_NUM_GPUS"] = str(m.accelerators)
    classic = sorted((known[t].usd_per_hour, t) for t in supported if t in known and sizing.fits(facts, known[t]))
    return ResolvedComponent(
        name=name,
        **pinned_fields(config, m.model_id, version, spec, facts, gated, image_uri, artifact_uri, environment,
                        m.startup_health_check_timeout_seconds),
        accelerators=m.accelerators,
        memory_mib=memory_mib,
        min_copies=m.min_copies,
        max_copies=m.max_copies,
        is_default=m.default,
        component_name=component_name(config.project_name, shared.name, shared.instance_type, name),
        reference_instance_type=reference,
        classic_instance_type=classic[0][1] if classic else None,
        classic_usd_per_hour=classic[0][0] if classic else None,
        settings=m,
    )


def _check_accelerators(path: str, shared: SharedEndpointConfig, m: SharedModelConfig, name: str,
                        facts: catalog.ModelFacts) -> None:
    """Refuse more GPUs per copy than an instance has, or too few for the weights."""
    instance = catalog.instances().instances[shared.instance_type]
    if m.accelerators > instance.gpus:
        raise ConfigError(
            f"{path}.accelerators",
            f"{name} asks for {m.accelerators} GPUs per copy but {shared.instance_type} has "
            f"{instance.gpus} ({instance.gpu}); a copy runs on one instance: at most {instance.gpus}",
        )
    headroom = catalog.models().memory_headroom
    need = facts.weights_gib * headroom
    have = m.accelerators * instance.gpu_memory_gib
    if need > have:
        fitting = math.ceil(need / instance.gpu_memory_gib)
        fix = (f"set accelerators: {fitting}" if fitting <= instance.gpus
               else f"no copy fits the {instance.gpus} GPUs of {shared.instance_type}; choose an instance "
                    "type with more GPU memory")
        raise ConfigError(
            f"{path}.accelerators",
            f"one copy of {m.model_id} needs ~{need:.1f} GiB of GPU memory ({facts.precision} weights "
            f"{facts.weights_gib:.1f} GiB x {headroom} headroom) but {m.accelerators} x {instance.gpu} "
            f"({instance.gpu_memory_gib:g} GiB each) hold {have:g} GiB; {fix}",
        )


def _reference_or_refuse(path: str, index: int, shared: SharedEndpointConfig, m: SharedModelConfig,
                         supported: list[str]) -> str:
    """The JumpStart-listed instance one copy corresponds to (`reference_instance`), or a
    refusal naming the field to change: accelerators when the family is supported."""
    known = catalog.instances().instances
    reference = reference_instance(supported, shared.instance_type, m.accelerators, known)
    if reference is not None:
        return reference
    instance = known[shared.instance_type]
    family = instance_family(shared.instance_type)
    same_family = sorted({known[t].gpus for t in supported if t in known and instance_family(t) == family})
    if same_family:
        fix = (f"JumpStart supports it on {', '.join(map(str, same_family))} {instance.gpu} GPU(s) of the "
               f"{family} family; set accelerators to one of these")
        field_name = f"{path}.accelerators"
    else:
        fix = f"JumpStart supports it on: {', '.join(supported)}; choose a shared instance type of those families"
        field_name = f"shared_endpoints[{index}].instance_type"
    raise ConfigError(
        field_name,
        f"{m.model_id} is not supported on {m.accelerators} GPU(s) of {shared.instance_type}: neither the "
        f"instance type nor a {family} instance type with {m.accelerators} GPU(s) is in JumpStart's "
        f"supported list; {fix}",
    )


def _host_memory_mib(path: str, shared: SharedEndpointConfig, m: SharedModelConfig, name: str, spec: dict,
                     facts: catalog.ModelFacts) -> int:
    """Host memory reserved per copy (configured or `_default_memory_mib`), refused above
    what one instance has."""
    instance = catalog.instances().instances[shared.instance_type]
    memory_mib = m.memory_mib or _default_memory_mib(spec, facts.weights_gib)
    host_mib = int(instance.memory_gib * MIB_PER_GIB)
    if memory_mib > host_mib:
        raise ConfigError(
            f"{path}.memory_mib",
            f"{name} reserves {memory_mib} MiB of host memory per copy but {shared.instance_type} has "
            f"{host_mib} MiB ({instance.memory_gib:g} GiB) in all; lower memory_mib",
        )
    return memory_mib


def resolve_shared_endpoint(
    config: AppConfig, index: int, metadata_dir: Path = METADATA_DIR, cache: ResolutionCache | None = None
) -> ResolvedSharedEndpoint:
    """Validate one shared endpoint and its models, and resolve them."""
    shared = config.shared_endpoints[index]
    path = f"shared_endpoints[{index}]"
    known = catalog.instances().instances
    if shared.instance_type not in known:
        raise ConfigError(
            f"{path}.instance_type",
            f"no pinned facts for {shared.instance_type!r} (config/catalog/instances.yaml); "
            f"known: {', '.join(sorted(known))}",
        )
    if not known[shared.instance_type].gpus:
        raise ConfigError(
            f"{path}.instance_type",
            f"{shared.instance_type} has no GPUs, and a shared endpoint places copies by GPU "
            "(NumberOfAcceleratorDevicesRequired); choose a GPU instance type, or host a CPU model "
            "(an embedding model) under endpoints[] on its own CPU instance",
        )
    components = tuple(
        resolve_component(config, shared, index, j, metadata_dir, cache) for j in range(len(shared.models))
    )
    names = [c.name for c in components]
    for j, c in enumerate(components):
        if names.index(c.name) != j:
            raise ConfigError(
                f"{path}.models[{j}].name",
                f"name {c.name!r} is already used by {path}.models[{names.index(c.name)}]; set a unique name",
            )
    check_max_copies(path, shared, components)
    check_min_instances(path, shared, components)
    at_start = instances_at_start(path, shared, components)
    return ResolvedSharedEndpoint(
        name=shared.name,
        region=config.region,
        instance_type=shared.instance_type,
        instance=known[shared.instance_type],
        min_instances=shared.min_instances,
        max_instances=shared.max_instances,
        initial_instances=max(1, shared.min_instances, at_start),
        components=components,
        settings=shared,
    )


def resolve_shared_endpoints(
    config: AppConfig, metadata_dir: Path = METADATA_DIR, cache: ResolutionCache | None = None
) -> list[ResolvedSharedEndpoint]:
    return [resolve_shared_endpoint(config, i, metadata_dir, cache) for i in range(len(config.shared_endpoints))]


def check_models(classic: list[ResolvedEndpoint], shared: list[ResolvedSharedEndpoint]) -> None:
    """Across classic and shared endpoints: model names unique (clients name models), at
    most one default per kind, and no shared endpoint named like a model (the Api stack
    maps both to endpoint names in one table)."""
    where: dict[str, str] = {}
    entries = [(f"endpoints[{i}]", r.name, r.kind, r.is_default) for i, r in enumerate(classic)]
    entries += [
        (f"shared_endpoints[{i}].models[{j}]", c.name, c.kind, c.is_default)
        for i, s in enumerate(shared) for j, c in enumerate(s.components)
    ]
    for path, name, _, _ in entries:
        if name in where:
            raise ConfigError(f"{path}.name", f"name {name!r} is already used by {where[name]}; set a unique name")
        where[name] = path
    for i, s in enumerate(shared):
        if s.name in where:
            raise ConfigError(
                f"shared_endpoints[{i}].name",
                f"{s.name!r} is also the name of the model at {where[s.name]}; give the shared endpoint another name",
            )
    for kind in catalog.KINDS:
        defaults = [path for path, _, k, is_default in entries if k == kind and is_default]
        if len(defaults) > 1:
            raise ConfigError(
                f"{defaults[1]}.default",
                f"only one {kind} model may be the default; {', '.join(defaults)} all say default: true",
            )

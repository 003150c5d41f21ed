"""Where copies of inference components go: the JumpStart-listed instance a copy's GPUs
correspond to, the fewest instances a set of copies packs onto, and the refusals of a
shared endpoint whose instance range cannot hold its models' copies."""

from __future__ import annotations

import math
from typing import Iterable, Protocol, Sequence

from stacks.config import ConfigError, SharedEndpointConfig, catalog


class Copies(Protocol):
    """What placement reads of a model on a shared endpoint (a `ResolvedComponent`)."""

    name: str
    accelerators: int
    memory_mib: int
    min_copies: int
    max_copies: int

    @property
    def initial_copies(self) -> int: ...

MIB_PER_GIB = 1024


def instance_family(instance_type: str) -> str:
    """`ml.g5.12xlarge` -> `g5`."""
    return instance_type.split(".")[1]


def reference_instance(
    supported: Iterable[str], instance_type: str, accelerators: int, known: dict[str, catalog.InstanceFacts]
) -> str | None:
    """The JumpStart-supported instance type one copy corresponds to, or None.

    JumpStart lists whole instance types for a model. A copy of an inference component
    runs on `accelerators` GPUs of the shared instance: the shared instance type itself
    counts when JumpStart lists it; otherwise a listed type of the same family (same GPU
    model and GPU memory) with exactly `accelerators` GPUs does, because the copy then runs
    on the hardware JumpStart supports the model on, with that instance's SM_NUM_GPUS
    (Falcon-7B is listed on 1-GPU ml.g5 types only, so one GPU of an ml.g5.12xlarge is
    that; two GPUs are not: Falcon-7B's 71 attention heads do not shard).
    """
    supported = list(supported)
    if instance_type in supported:
        return instance_type
    target = known.get(instance_type)
    if target is None:
        return None
    same = sorted(
        (known[t].usd_per_hour, t) for t in supported
        if t in known and instance_family(t) == instance_family(instance_type) and known[t].gpus == accelerators
        and (known[t].gpu, known[t].gpu_memory_gib) == (target.gpu, target.gpu_memory_gib)
    )
    return same[0][1] if same else None


def instances_needed(copies: list[tuple[int, int]], instance: catalog.InstanceFacts, limit: int) -> int | None:
    """The fewest instances (<= limit) on which copies of (GPUs, host MiB) can all be placed,
    each copy whole on one instance; None when `limit` instances are not enough.

    Exact (depth-first over copies, largest first, skipping instances with the same free
    capacity); copy counts here are small. 0 copies need 0 instances."""
    if not copies:
        return 0
    gpus, memory = instance.gpus, int(instance.memory_gib * MIB_PER_GIB)
    items = sorted(copies, reverse=True)
    if any(g > gpus or m > memory for g, m in items):
        return None
    lower = max(math.ceil(sum(g for g, _ in items) / gpus), math.ceil(sum(m for _, m in items) / memory), 1)
    for n in range(lower, limit + 1):
        if _pack(items, [(gpus, memory)] * n):
            return n
    return None


def _pack(items: list[tuple[int, int]], free: list[tuple[int, int]]) -> bool:
    if not items:
        return True
    (g, m), rest = items[0], items[1:]
    tried = set()
    for i, (fg, fm) in enumerate(free):
        if (fg, fm) in tried or g > fg or m > fm:
            continue
        tried.add((fg, fm))
        if _pack(rest, [*free[:i], (fg - g, fm - m), *free[i + 1:]]):
            return True
    return False


def _host_phrase(instance: catalog.InstanceFacts) -> str:
    return f"{instance.gpus} x {instance.gpu}, {instance.memory_gib:g} GiB host memory"


def check_max_copies(path: str, shared: SharedEndpointConfig, components: Sequence[Copies]) -> None:
    """Each model's max_copies must fit on max_instances on its own."""
    instance = catalog.instances().instances[shared.instance_type]
    for j, c in enumerate(components):
        alone = instances_needed([(c.accelerators, c.memory_mib)] * c.max_copies, instance, shared.max_instances)
        if alone is None:
            per = max(1, instance.gpus // c.accelerators)
            raise ConfigError(
                f"{path}.models[{j}].max_copies",
                f"{c.max_copies} copies of {c.name} ({c.accelerators} GPU(s) each) do not fit on "
                f"max_instances {shared.max_instances} x {shared.instance_type} ({_host_phrase(instance)}; "
                f"{per} copies per instance); lower max_copies to {per * shared.max_instances} or raise max_instances",
            )


def check_min_instances(path: str, shared: SharedEndpointConfig, components: Sequence[Copies]) -> None:
    """min_instances holds the models' min_copies, and is 0 when every model scales to zero."""
    instance = catalog.instances().instances[shared.instance_type]
    type_ = shared.instance_type
    minimum = [(c.accelerators, c.memory_mib) for c in components for _ in range(c.min_copies)]
    needed = instances_needed(minimum, instance, max(shared.max_instances, len(minimum)))
    if needed is None or needed > shared.min_instances:
        gpus = sum(g for g, _ in minimum)
        need = f"{needed} instance(s)" if needed is not None else "more instances than max_instances"
        raise ConfigError(
            f"{path}.min_instances",
            f"the models' min_copies ({', '.join(f'{c.name} {c.min_copies}' for c in components)}) take {gpus} "
            f"GPU(s) and need {need} of {type_} ({_host_phrase(instance)}), but min_instances is "
            f"{shared.min_instances}; raise min_instances to {needed if needed is not None else 'fit them'} "
            "or lower min_copies",
        )
    if shared.min_instances > 0 and not minimum:
        raise ConfigError(
            f"{path}.min_instances",
            f"every model scales to zero copies (min_copies 0), so min_instances {shared.min_instances} keeps "
            f"{shared.min_instances} x {type_} ({catalog.usd(instance.usd_per_hour)}/h each) billed with nothing "
            "on them; set min_instances: 0 (scale to zero), or min_copies: 1 on the model to keep warm "
            "(it then answers at once, for the same price)",
        )


def instances_at_start(path: str, shared: SharedEndpointConfig, components: Sequence[Copies]) -> int:
    """Instances one starting copy of every model needs; refused above max_instances."""
    instance = catalog.instances().instances[shared.instance_type]
    initial = [(c.accelerators, c.memory_mib) for c in components for _ in range(c.initial_copies)]
    at_start = instances_needed(initial, instance, shared.max_instances)
    if at_start is None:
        raise ConfigError(
            f"{path}.max_instances",
            f"every model starts one copy when deployed (so the deploy proves it loads): "
            f"{sum(g for g, _ in initial)} GPU(s) for {len(components)} model(s), more than max_instances "
            f"{shared.max_instances} x {shared.instance_type} ({_host_phrase(instance)}) hold; raise "
            "max_instances or move a model to another shared endpoint",
        )
    return at_start

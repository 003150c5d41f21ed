"""The endpoints and pricing sections: model, instance, count range, GPU-memory fit and cost
at min and max scale of each SageMaker endpoint, and where the prices come from."""

from __future__ import annotations

from typing import Any

from stacks.config import catalog
from stacks.models.jumpstart import ResolvedEndpoint
from stacks.models.shared_endpoints import ResolvedSharedEndpoint
from tools.report.assembly import Assembly, ResourceRef


def endpoint_facts(asm: Assembly) -> list[dict]:
    """What the templates say about each SageMaker endpoint: instance type and
    count range (from its endpoint config and scalable target)."""
    scaling: dict[ResourceRef, tuple[int, int]] = {}
    for target in asm.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
        if target.properties.get("ServiceNamespace") != "sagemaker":
            continue
        for ref in asm.refs(target.ref.stack, target.properties.get("ResourceId")):
            scaling[ref] = (int(target.properties["MinCapacity"]), int(target.properties["MaxCapacity"]))
    found = []
    for endpoint in asm.resources("AWS::SageMaker::Endpoint"):
        config = asm.get(asm.ref_of(endpoint.ref.stack, endpoint.properties.get("EndpointConfigName")))
        if config is None:
            continue
        for variant in config.properties.get("ProductionVariants", []):
            count = int(variant.get("InitialInstanceCount", 1))
            low, high = scaling.get(endpoint.ref, (count, count))
            model = asm.get(asm.ref_of(config.ref.stack, variant.get("ModelName")))
            # A shared endpoint (inference components): managed instance scaling sets the instance
            # range, the models are the ICs on it, and the construct sits one level further up.
            managed = variant.get("ManagedInstanceScaling")
            if managed:
                low, high = int(managed.get("MinInstanceCount", count)), int(managed.get("MaxInstanceCount", count))
            parts = endpoint.path.split("/")
            found.append(
                {
                    "ref": endpoint.ref,
                    "path": endpoint.path,
                    "construct": parts[-3 if managed else -2] if len(parts) > 2 else endpoint.path,
                    "shared": bool(managed),
                    "variant": variant.get("VariantName"),
                    "instance_type": variant.get("InstanceType"),
                    "initial_count": count,
                    "min_count": low,
                    "max_count": high,
                    "serverless": "ServerlessConfig" in variant,
                    "image": (
                        (model.properties.get("PrimaryContainer") or {}).get("Image") if model else None
                    ),
                    "in_vpc": bool(model and model.properties.get("VpcConfig") or config.properties.get("VpcConfig")),
                    "network_isolation": bool(
                        model and model.properties.get("EnableNetworkIsolation")
                        or config.properties.get("EnableNetworkIsolation")
                    ),
                    "components": sorted(
                        asm.render(ic.ref.stack, ic.properties.get("InferenceComponentName"))
                        for ic in asm.resources("AWS::SageMaker::InferenceComponent")
                        if asm.ref_of(ic.ref.stack, ic.properties.get("EndpointName")) == endpoint.ref
                    ),
                }
            )
    return found


money = catalog.usd  # dollars as the report prints them (the catalog's own formatting)


def _cost(per_hour: float, low: int, high: int) -> dict:
    return {
        "usd_per_instance_hour": per_hour,
        "min": {"usd_per_hour": round(per_hour * low, 4), "usd_per_month": round(per_hour * low * catalog.HOURS_PER_MONTH, 2)},
        "max": {"usd_per_hour": round(per_hour * high, 4), "usd_per_month": round(per_hour * high * catalog.HOURS_PER_MONTH, 2)},
    }


def shared_endpoint_row(ep: dict, s: ResolvedSharedEndpoint | None, warnings: list[str]) -> dict:
    """A shared endpoint: the instance range from its managed instance scaling, each model's
    inference component (GPU fit per copy, copies, cost share by GPUs at min and max), and
    the same models on classic endpoints for comparison."""
    row: dict[str, Any] = {
        "name": s.name if s else ep["construct"],
        "stack": ep["ref"].stack,
        "path": ep["path"],
        "shared": True,
        "model_id": None,
        "model_version": None,
        "instance_type": ep["instance_type"],
        "count": {"initial": ep["initial_count"], "min": ep["min_count"], "max": ep["max_count"]},
        "in_vpc": ep["in_vpc"],
        "network_isolation": ep["network_isolation"],
    }
    if s is None:
        warnings.append(f"shared endpoint {ep['path']} matches none of the config: was the assembly synthesized from another config?")
        return row
    expected = sorted(c.component_name for c in s.components)
    if ep["components"] != expected or (ep["min_count"], ep["max_count"]) != (s.min_instances, s.max_instances):
        warnings.append(f"shared endpoint {s.name}: the assembly differs from the config; synthesize again")
    i, headroom = s.instance, catalog.models().memory_headroom
    row["gpu"] = {"gpus": i.gpus, "gpu": i.gpu, "total_gib": i.total_gpu_memory_gib}
    row["cost"] = _cost(i.usd_per_hour, ep["min_count"], ep["max_count"])
    row["components"] = [
        {
            "name": c.name,
            "model_id": c.model_id,
            "model_version": c.model_version,
            "inference_component": c.component_name,
            "accelerators": c.accelerators,
            "memory_mib": c.memory_mib,
            "copies": {"min": c.min_copies, "max": c.max_copies},
            "gpu": {
                "weights_gib": round(c.weights_gib, 2),
                "needed_gib": round(c.weights_gib * headroom, 2),
                "copy_gib": c.accelerators * i.gpu_memory_gib,
                "fits": c.weights_gib * headroom <= c.accelerators * i.gpu_memory_gib,
                "jumpstart_instance": c.reference_instance_type,
            },
            "share_usd_per_hour": {scale: round(s.share_usd_per_hour(c, scale), 4) for scale in ("min", "max")},
            "classic": {"instance_type": c.classic_instance_type, "usd_per_hour": c.classic_usd_per_hour},
        }
        for c in s.components
    ]
    classic = s.classic_usd_per_hour
    if classic is not None:
        row["classic_comparison"] = {
            "usd_per_hour": round(classic, 4),
            "usd_per_month": round(classic * catalog.HOURS_PER_MONTH, 2),
            "saving_at_min_usd_per_month": round((classic - s.usd_per_hour_min) * catalog.HOURS_PER_MONTH, 2),
            "saving_at_max_usd_per_month": round((classic - s.usd_per_hour_max) * catalog.HOURS_PER_MONTH, 2),
            "break_even_fraction_at_max": round(s.break_even_fraction, 4) if s.break_even_fraction is not None else None,
        }
    return row


def endpoints_section(
    asm: Assembly, resolved: list[ResolvedEndpoint], shared: list[ResolvedSharedEndpoint] | None = None
) -> tuple[list[dict], list[str]]:
    facts = catalog.instances()
    models = catalog.models()
    by_construct = {r.construct_id: r for r in resolved}
    shared_by_construct = {s.construct_id: s for s in shared or []}
    rows, warnings = [], []
    for ep in endpoint_facts(asm):
        if ep["shared"]:
            rows.append(shared_endpoint_row(ep, shared_by_construct.get(ep["construct"]), warnings))
            continue
        rows.append(endpoint_row(ep, by_construct.get(ep["construct"]), facts, models, warnings))
    return rows, warnings


def endpoint_row(ep: dict, r: ResolvedEndpoint | None, facts, models, warnings: list[str]) -> dict:
    """A classic endpoint: its model from the config, GPU-memory fit and cost at min and max
    scale from the pinned catalog (`facts`: instances, `models`: the memory rule)."""
    instance = facts.instances.get(ep["instance_type"])
    row: dict[str, Any] = {
        "name": r.name if r else ep["construct"],
        "stack": ep["ref"].stack,
        "path": ep["path"],
        "model_id": r.model_id if r else None,
        "model_version": r.model_version if r else None,
        "instance_type": ep["instance_type"],
        "count": {"initial": ep["initial_count"], "min": ep["min_count"], "max": ep["max_count"]},
        "in_vpc": ep["in_vpc"],
        "network_isolation": ep["network_isolation"],
    }
    if r is None:
        warnings.append(
            f"endpoint {ep['path']} matches no endpoint of the config: was the assembly "
            "synthesized from another config?"
        )
    elif r.instance_type != ep["instance_type"]:
        warnings.append(
            f"endpoint {r.name}: the config says {r.instance_type}, the assembly {ep['instance_type']}; "
            "synthesize again"
        )
    if instance is not None:
        row["gpu"] = _gpu_fit(instance, r, models)
        row["cost"] = _cost(instance.usd_per_hour, ep["min_count"], ep["max_count"])
    else:
        warnings.append(f"no pinned price for {ep['instance_type']} (config/catalog/instances.yaml)")
    return row


def _gpu_fit(instance, r: ResolvedEndpoint | None, models) -> dict:
    """The instance's GPUs and, when the model's weights are known, whether they fit."""
    gpu = {
        "gpus": instance.gpus,
        "gpu": instance.gpu,
        "total_gib": instance.total_gpu_memory_gib,
    }
    if r is not None and r.weights_gib is not None:  # None: a Marketplace package, weights unpublished
        need = r.weights_gib * models.memory_headroom
        gpu.update(
            {
                "weights_gib": round(r.weights_gib, 2),
                "needed_gib": round(need, 2),
                "headroom_gib": round(instance.model_memory_gib - r.weights_gib, 2),
                "weights_share": round(r.weights_gib / instance.model_memory_gib, 3),
                "rule": (f"bf16 weights x {models.memory_headroom} <= total GPU memory" if instance.gpus else
                         f"weights x {models.memory_headroom} <= host memory - {catalog.HOST_RESERVE_GIB:g} GiB"),
                "fits": need <= instance.model_memory_gib,
            }
        )
    return gpu


def pricing_section(asm: Assembly, region: str) -> dict:
    facts = catalog.instances()
    return {
        "source": facts.source,
        "pinned": facts.pinned,
        "price_region": facts.price_region,
        "deployment_region": region,
        "hours_per_month": catalog.HOURS_PER_MONTH,
        "region_differs": region != facts.price_region,
    }

"""The review report's content, as plain data (written as JSON and rendered as Markdown).

Sections: stacks (resources by type), endpoints (model, instance, count range,
GPU-memory fit, cost at min and max scale), IAM roles (every action on every
resource), public surfaces (with their auth), cdk-nag acknowledgments and
scanner skips recorded in resource metadata.

One module per section: inventory (stacks), endpoints (endpoints and pricing), iam,
surfaces, acknowledgments (cdk-nag, Control Tower, scanner skips); build() puts them together.
"""

from __future__ import annotations

from pathlib import Path

from stacks.config import load_config
from stacks.models.jumpstart import ResolvedEndpoint, resolve_endpoints
from stacks.models.shared_endpoints import ResolvedSharedEndpoint, resolve_shared_endpoints
from tools.report.assembly import Assembly
from tools.report.review.acknowledgments import acknowledgments_section, control_tower_section, scanner_skips_section
from tools.report.review.endpoints import endpoints_section, money, pricing_section
from tools.report.review.iam import roles_section
from tools.report.review.inventory import stacks_section
from tools.report.review.surfaces import public_surfaces

__all__ = ["build", "money"]


def build(
    assembly_dir: Path | str,
    config_path: str | None = None,
    resolved: list[ResolvedEndpoint] | None = None,
    shared: list[ResolvedSharedEndpoint] | None = None,
) -> dict:
    """The report for one config and the assembly synthesized from it."""
    asm = Assembly(assembly_dir)
    config = load_config(config_path)
    if resolved is None:
        resolved = resolve_endpoints(config)
    if shared is None:
        shared = resolve_shared_endpoints(config)
    endpoints, warnings = endpoints_section(asm, resolved, shared)
    surfaces = public_surfaces(asm)
    for s in surfaces:
        if s["kind"] != "API Gateway REST API" and s["public"]:
            warnings.append(f"public surface other than the API: {s['kind']} at {s['path']}")
        if "NONE" in s["auth"] and s["kind"].startswith("API Gateway"):
            warnings.append(f"{s['path']} has methods without authorization")
    region = asm.region or config.region
    return {
        "deployment": {
            "project": config.project_name,
            "region": region,
            "config": str(config_path) if config_path else "default",
            "assembly": str(Path(assembly_dir)),
        },
        "pricing": pricing_section(asm, region),
        "stacks": stacks_section(asm),
        "endpoints": endpoints,
        "endpoint_totals": _totals(endpoints),
        "iam_roles": roles_section(asm),
        "public_surfaces": surfaces,
        "nag_acknowledgments": acknowledgments_section(asm),
        "control_tower_acknowledgments": control_tower_section(asm),
        "scanner_skips": scanner_skips_section(asm),
        "warnings": warnings,
    }


def _totals(endpoints: list[dict]) -> dict:
    """Cost of all endpoints together at min and at max scale."""
    return {
        scale: {
            "usd_per_hour": round(sum(e["cost"][scale]["usd_per_hour"] for e in endpoints if "cost" in e), 4),
            "usd_per_month": round(
                sum(e["cost"][scale]["usd_per_month"] for e in endpoints if "cost" in e), 2
            ),
        }
        for scale in ("min", "max")
    }

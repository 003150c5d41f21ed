"""Print what a synthesized deployment contains and roughly costs.

    python -m tools.summary [CLOUD_ASSEMBLY_DIR] [--config PATH]

Stacks and resource counts come from the cloud assembly; per-endpoint facts come
from resolving the same config (pure and offline, so they match the templates).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from stacks import catalog
from stacks.catalog import usd
from stacks.config import load_config
from stacks.jumpstart import ResolvedEndpoint, resolve_endpoints
from tools.report import short_summary


def stack_rows(assembly: Path) -> list[tuple[str, str, int, Counter]]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    rows = []
    for art_id, art in sorted(manifest["artifacts"].items()):
        if art["type"] != "aws:cloudformation:stack":
            continue
        template = json.loads((assembly / art["properties"]["templateFile"]).read_text())
        types = Counter(r["Type"] for r in template.get("Resources", {}).values())
        name = art["properties"].get("stackName", art_id)
        rows.append((art_id, name, sum(types.values()), types))
    return rows


def endpoint_lines(resolved: list[ResolvedEndpoint]) -> list[str]:
    facts = catalog.instances()
    lines = []
    for r in resolved:
        hourly_min = r.instance.usd_per_hour * r.min_capacity
        hourly_max = r.instance.usd_per_hour * r.max_capacity
        lines += [
            f"  {r.name}: {r.model_id}@{r.model_version} ({r.family}, {r.kind})",
            f"    instance       {r.instance_type} x {r.settings.instance_count}"
            f" (autoscaling {r.min_capacity}..{r.max_capacity}); {r.instance.gpus} x {r.instance.gpu}"
            f" {r.instance.gpu_memory_gib:g} GiB",
            *([f"    why            {r.instance_note}"] if r.settings.instance_type is None else
              [f"    note           {r.instance_note}"] if r.instance_note else []),
            f"    SM_NUM_GPUS    {r.sm_num_gpus if r.sm_num_gpus is not None else '-'}"
            f"; weights ~{r.weights_gib:.1f} GiB of {r.instance.total_gpu_memory_gib:g} GiB GPU memory",
            f"    image          {r.image_uri}",
            f"    artifacts      {r.artifact_s3_uri}",
            f"    cost           {usd(hourly_min)}/h, {usd(hourly_min * catalog.HOURS_PER_MONTH, 0)}/month"
            f" at min scale; {usd(hourly_max)}/h at max"
            + ("" if r.region == facts.price_region else f" ({facts.price_region} list price)"),
        ]
    return lines


def render(assembly: Path, config_path: str | None) -> str:
    config = load_config(config_path)
    resolved = resolve_endpoints(config)
    out = [f"Deployment {config.project_name} in {config.region} (config: {config_path or 'default'})", "Stacks:"]
    for art_id, name, count, types in stack_rows(assembly):
        top = ", ".join(f"{t.split('::', 1)[1]} {n}" for t, n in types.most_common(4))
        out.append(f"  {name} ({art_id}): {count} resources ({top}, ...)")
    out.append("Endpoints:")
    out += endpoint_lines(resolved)
    total = sum(r.instance.usd_per_hour * r.min_capacity for r in resolved)
    facts = catalog.instances()
    out.append(
        f"Total GPU cost at min scale: {usd(total)}/h, {usd(total * catalog.HOURS_PER_MONTH, 0)}/month "
        f"(prices pinned {facts.pinned}, {facts.source})"
    )
    out += short_summary(assembly, config_path, resolved=resolved)
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path)
    parser.add_argument("--config", default=None)
    args = parser.parse_args()
    print(render(args.assembly, args.config))


if __name__ == "__main__":
    main()

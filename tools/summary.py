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

from stacks.config import catalog
from stacks.config.catalog import usd
from stacks.config import AppConfig, load_config
from stacks.config.studio import OWNER_TAG
from stacks.models.jumpstart import ResolvedEndpoint, resolve_endpoints
from stacks.models.marketplace import ResolvedPackage
from stacks.models.notebook_deploys import notebook_deploys
from stacks.models.shared_endpoints import ResolvedSharedEndpoint, resolve_shared_endpoints
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


def _package_lines(r: ResolvedPackage) -> list[str]:
    """An AWS Marketplace model package: its ARN, where to subscribe, its context, its lifecycle."""
    return [
        f"    package        {r.model_package_arn}",
        f"    subscribe      {r.package.listing} (make preflight checks the subscription; the listing's "
        "software charge comes on top of the instance cost below)",
        f"    context        {r.context_tokens} tokens, prompt + completion; {r.package.context_source}",
        *([f"    lifecycle      {r.lifecycle_note}"] if r.lifecycle_note else []),
    ]


def endpoint_lines(resolved: list[ResolvedEndpoint]) -> list[str]:
    facts = catalog.instances()
    lines = []
    for r in resolved:
        hourly_min = r.instance.usd_per_hour * r.min_capacity
        hourly_max = r.instance.usd_per_hour * r.max_capacity
        lines += [
            f"  {r.name}: {r.model_id}@{r.model_version} ({r.family}, {r.kind})",
            f"    instance       {r.instance_type} x {r.settings.instance_count}"
            f" (autoscaling {r.min_capacity}..{r.max_capacity}); {r.instance.hardware}",
            *([f"    why            {r.instance_note}"] if r.settings.instance_type is None else
              [f"    note           {r.instance_note}"] if r.instance_note else []),
            *(_package_lines(r) if isinstance(r, ResolvedPackage) else [
                f"    SM_NUM_GPUS    {r.sm_num_gpus if r.sm_num_gpus is not None else '-'}"
                f"; weights ~{r.weights_gib:.1f} GiB of {r.instance.model_memory_gib:g} GiB {r.instance.memory_kind}",
                f"    image          {r.image_uri}",
                f"    artifacts      {r.artifact_s3_uri}",
            ]),
            f"    cost           {usd(hourly_min)}/h, {usd(hourly_min * catalog.HOURS_PER_MONTH, 0)}/month"
            f" at min scale; {usd(hourly_max)}/h at max"
            + ("" if r.region == facts.price_region else f" ({facts.price_region} list price)"),
        ]
    return lines


def shared_endpoint_lines(shared: list[ResolvedSharedEndpoint]) -> list[str]:
    """Each shared endpoint: its instances, its models (an inference component each), the
    cost at min and max scale with each model's share (by the GPUs its copies take), and the
    same models on classic endpoints (one always-on instance each) for comparison."""
    facts = catalog.instances()
    month = catalog.HOURS_PER_MONTH
    lines = []
    for s in shared:
        i = s.instance
        lines += [
            f"  {s.name}: {s.instance_type} x {s.min_instances}..{s.max_instances} (managed instance scaling"
            f"{', to zero' if s.scales_to_zero else ''}); {i.gpus} x {i.gpu} {i.gpu_memory_gib:g} GiB,"
            f" {i.memory_gib:g} GiB host memory",
        ]
        for c in s.components:
            lines += [
                f"    {c.name}: {c.model_id}@{c.model_version} ({c.family}, {c.kind})",
                f"      copies       {c.min_copies}..{c.max_copies} x {c.accelerators} GPU (SM_NUM_GPUS"
                f" {c.sm_num_gpus}), {c.memory_mib / 1024:g} GiB host memory each; weights ~{c.weights_gib:.1f}"
                f" GiB of {c.accelerators * i.gpu_memory_gib:g} GiB GPU memory",
                f"      component    {c.component_name} (JumpStart lists it on {c.reference_instance_type})",
                f"      image        {c.image_uri}",
                f"      artifacts    {c.artifact_s3_uri}",
            ]
        shares = ", ".join(
            f"{c.name} {usd(s.share_usd_per_hour(c, 'max'))}/h ({s.gpus_at('max')[c.name]} of"
            f" {i.gpus * s.max_instances} GPUs)"
            for c in s.components
        )
        lines += [
            f"    cost           {usd(s.usd_per_hour_min)}/h, {usd(s.usd_per_hour_min * month, 0)}/month at min"
            f"{' (scaled to zero)' if s.scales_to_zero else ''}; {usd(s.usd_per_hour_max)}/h,"
            f" {usd(s.usd_per_hour_max * month, 0)}/month at max"
            + ("" if s.region == facts.price_region else f" ({facts.price_region} list price)"),
            f"    share at max   {shares}",
        ]
        classic = s.classic_usd_per_hour
        if classic is not None:
            types = ", ".join(sorted({c.classic_instance_type for c in s.components}))
            saving = classic - s.usd_per_hour_min
            line = (
                f"    vs classic     {len(s.components)} endpoints ({types}, one instance each, always on):"
                f" {usd(classic)}/h, {usd(classic * month, 0)}/month; at min this saves {usd(saving)}/h"
                f" ({usd(saving * month, 0)}/month, {saving / classic:.0%})"
            )
            if s.break_even_fraction is not None:
                line += f"; cheaper while at max scale less than {s.break_even_fraction:.0%} of the hours"
            lines.append(line)
    return lines


def studio_lines(config: AppConfig) -> list[str]:
    """What a Studio notebook user may do and, with notebook deploys on, what it costs at most."""
    if not config.studio.enabled:
        return []
    profiles = config.studio.user_profiles
    who = f"{len(profiles)} user profile(s): {', '.join(profiles)}" if profiles else "no user profiles in config"
    d = notebook_deploys(config)
    if d is None:
        return ["Studio notebooks (studio.deploy.enabled: false):",
                f"  {who}; read-only: browse JumpStart, invoke and describe this deployment's endpoints"]
    facts = catalog.instances()
    known = facts.instances
    dearest, price = d.dearest
    where = "" if config.region == facts.price_region else f" ({facts.price_region} list prices)"
    allowed = ", ".join(f"{t} {usd(known[t].usd_per_hour)}/h" for t in d.instance_types)
    lines = [
        "Studio notebooks may deploy (studio.deploy; docs/studio.md):",
        f"  users          {who}; IAM tells them apart by the session's source identity (the user profile)",
        f"  may            create models, endpoint configs and endpoints tagged {OWNER_TAG}=<own profile>, passing"
        " only the notebook model role (output NotebookModelRoleArn); describe, invoke, update and delete only"
        " their own; invoke this deployment's endpoints",
        f"  instances      {allowed}{where}",
    ]
    lines += [f"    {c.model_id} -> {c.instance_type}: {c.note}" for c in d.choices]
    per_user = d.max_usd_per_hour_per_user
    lines.append(
        f"  cost at most   {usd(price)}/h per endpoint ({dearest}, one instance: the SDK's default; IAM cannot bound"
        f" the count); x {d.max_endpoints_per_user}"
        f" endpoints per user (studio.deploy.max_endpoints_per_user, which IAM cannot enforce: the reaper can)"
        f" = {usd(per_user)}/h per user" + (f", {usd(per_user * len(profiles))}/h for the {len(profiles)} configured" if profiles else "")
    )
    return lines


def render(assembly: Path, config_path: str | None) -> str:
    config = load_config(config_path)
    resolved = resolve_endpoints(config)
    shared = resolve_shared_endpoints(config)
    out = [f"Deployment {config.project_name} in {config.region} (config: {config_path or 'default'})", "Stacks:"]
    for art_id, name, count, types in stack_rows(assembly):
        top = ", ".join(f"{t.split('::', 1)[1]} {n}" for t, n in types.most_common(4))
        out.append(f"  {name} ({art_id}): {count} resources ({top}, ...)")
    if resolved:
        out.append("Endpoints:")
        out += endpoint_lines(resolved)
    if shared:
        out.append("Shared endpoints (inference components):")
        out += shared_endpoint_lines(shared)
    total = sum(r.instance.usd_per_hour * r.min_capacity for r in resolved) + sum(s.usd_per_hour_min for s in shared)
    facts = catalog.instances()
    out.append(
        f"Total GPU cost at min scale: {usd(total)}/h, {usd(total * catalog.HOURS_PER_MONTH, 0)}/month "
        f"(prices pinned {facts.pinned}, {facts.source})"
    )
    out += studio_lines(config)
    out += short_summary(assembly, config_path, resolved=resolved, shared=shared)
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path)
    parser.add_argument("--config", default=None)
    args = parser.parse_args()
    print(render(args.assembly, args.config))


if __name__ == "__main__":
    main()

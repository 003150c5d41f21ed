"""Review report and architecture picture for one config, from its cloud assembly.

    python -m tools.report [--config PATH] [--assembly cdk.out] [--out cdk.out/report] [--docs]

Writes report.md, report.json and architecture.{png,svg} into --out; with --docs
also docs/architecture.{png,svg}. Synthesize the same config first.
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.report.markdown import render
from tools.report.review import build, money

__all__ = ["build", "render", "short_summary", "write_report"]


def write_report(report: dict, out: Path, picture: str | None = "architecture.png") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "report.md", out / "report.json"
    md.write_text(render(report, picture))
    js.write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n")
    return [md, js]


def short_summary(assembly: Path | str, config_path: str | None = None, resolved=None, shared=None) -> list[str]:
    """A few lines for the `make synth` summary; `resolved` (and `shared`) save a second resolution."""
    report = build(assembly, config_path, resolved=resolved, shared=shared)
    surfaces = report["public_surfaces"]
    described = "; ".join(
        f"{s['kind']} ({len(s.get('methods', []))} methods, auth {'/'.join(s['auth'])}"
        + (", WAF" if s.get("waf") else "")
        + ")"
        for s in surfaces
    )
    t = report["endpoint_totals"]
    acks = report["nag_acknowledgments"]
    lines = [
        "Review (python -m tools.report):",
        f"  public surfaces  {len(surfaces)}: {described or 'none'}",
        f"  IAM roles        {len(report['iam_roles'])}, "
        f"{sum(len(r['statements']) for r in report['iam_roles'])} statements",
        f"  nag acks         {len(acks)} on {len({a['path'] for a in acks})} constructs",
        f"  Control Tower    {len(report.get('control_tower_acknowledgments', []))} acknowledged findings",
        f"  GPU cost         {money(t['min']['usd_per_hour'])}/h..{money(t['max']['usd_per_hour'])}/h"
        f" ({money(t['min']['usd_per_month'], 0)}..{money(t['max']['usd_per_month'], 0)}/month) from min to max scale",
    ]
    lines += [f"  WARNING          {w}" for w in report["warnings"]]
    return lines

"""Render the review report (tools.report.review.build) as Markdown."""

from __future__ import annotations

import json

from tools.report.review import money


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: object) -> str:
    return f"`{text}`" if text else ""


def _count(c: dict) -> str:
    return str(c["min"]) if c["min"] == c["max"] else f"{c['min']}..{c['max']}"


def cost_table(report: dict) -> list[str]:
    """The per-endpoint cost table (also pasted into docs/review.md)."""
    p = report["pricing"]
    lines = [
        "| endpoint | model | instance | count | $/hour (min) | $/month (min) | $/hour (max) | $/month (max) |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for e in report["endpoints"]:
        model = f"{e['model_id']}@{e['model_version']}" if e["model_id"] else (
            ", ".join(f"{c['model_id']}@{c['model_version']}" for c in e["components"]) if e.get("components") else "?"
        )
        if "cost" in e:
            lo, hi = e["cost"]["min"], e["cost"]["max"]
            prices = [
                money(lo["usd_per_hour"]),
                money(lo["usd_per_month"], 0),
                money(hi["usd_per_hour"]),
                money(hi["usd_per_month"], 0),
            ]
        else:
            prices = ["no price"] * 4
        lines.append(
            f"| {e['name']} | {_code(model)} | {e['instance_type']} | {_count(e['count'])} | "
            + " | ".join(prices)
            + " |"
        )
    t = report["endpoint_totals"]
    lines.append(
        f"| **total** | | | | **{money(t['min']['usd_per_hour'])}** | **{money(t['min']['usd_per_month'], 0)}** "
        f"| **{money(t['max']['usd_per_hour'])}** | **{money(t['max']['usd_per_month'], 0)}** |"
    )
    note = (
        f"On-demand list prices pinned {p['pinned']} ({p['source']}); {p['hours_per_month']} hours a month; "
        "GPU instances only (Lambda, API Gateway, storage and data transfer are usage-priced and not included)."
    )
    if p["region_differs"]:
        note += (
            f" **The deployment region {p['deployment_region']} is not the price region {p['price_region']}:**"
            f" these are {p['price_region']} list prices; {p['deployment_region']} prices differ."
        )
    return lines + ["", note]


def shared_endpoints(report: dict) -> list[str]:
    """Each shared endpoint: its models' inference components (GPU fit per copy, copies, cost
    share by GPUs at min and max) and the comparison with a classic endpoint per model."""
    rows = [e for e in report["endpoints"] if e.get("shared") and e.get("components")]
    if not rows:
        return []
    out = ["## Shared endpoints (inference components)", ""]
    for e in rows:
        g = e["gpu"]
        out += [
            f"**{e['name']}**: {e['instance_type']} ({g['gpus']} x {g['gpu']}), {_count(e['count'])} instances "
            "(managed instance scaling); each model's share is the GPUs its copies take of the instances "
            "running at that scale.",
            "",
            "| model | inference component | GPUs per copy | copies | weights | GPU memory per copy | fits | "
            "$/hour share (min) | $/hour share (max) | classic endpoint |",
            "|---|---|---:|---|---:|---:|---|---:|---:|---|",
        ]
        for c in e["components"]:
            fit = c["gpu"]
            classic = c["classic"]
            out.append(
                f"| {c['name']} | `{c['inference_component']}` | {c['accelerators']} | {_count(c['copies'])} | "
                f"{fit['weights_gib']:.1f} GiB | {fit['copy_gib']:g} GiB | {'yes' if fit['fits'] else '**NO**'} | "
                f"{money(c['share_usd_per_hour']['min'])} | {money(c['share_usd_per_hour']['max'])} | "
                + (f"{classic['instance_type']} {money(classic['usd_per_hour'])}/h |" if classic["instance_type"] else "none fits |")
            )
        cmp = e.get("classic_comparison")
        if cmp:
            line = (
                f"Classic endpoints for the same models (one always-on instance each): {money(cmp['usd_per_hour'])}/h, "
                f"{money(cmp['usd_per_month'], 0)}/month. This endpoint saves {money(cmp['saving_at_min_usd_per_month'], 0)}"
                "/month at min scale and "
                + (f"{money(cmp['saving_at_max_usd_per_month'], 0)}/month at max" if cmp["saving_at_max_usd_per_month"] >= 0
                   else f"costs {money(-cmp['saving_at_max_usd_per_month'], 0)}/month more at max")
            )
            if cmp.get("break_even_fraction_at_max") is not None:
                line += f"; it is cheaper while at max scale less than {cmp['break_even_fraction_at_max']:.0%} of the hours"
            out += ["", line + "."]
        out.append("")
    return out


def render(report: dict, picture: str | None = "architecture.png") -> str:
    out = _heading(report, picture)
    out += ["## Endpoints and cost", ""] + cost_table(report) + [""]
    out += _gpu_fit(report)
    out += shared_endpoints(report)
    out += _public_surfaces(report)
    out += _iam_roles(report)
    out += _stacks(report)
    out += _acknowledgments(report)
    out += _scanner_skips(report)
    return "\n".join(out)


def _heading(report: dict, picture: str | None) -> list[str]:
    """Title, where the facts come from, the warnings and the picture."""
    d = report["deployment"]
    out = [
        f"# Review report: {d['project']} in {d['region']}",
        "",
        f"Config `{d['config']}`, generated from the cloud assembly `{d['assembly']}` by `python -m tools.report`. "
        "Every fact below is read from the synthesized templates; prices come from the pinned catalog.",
        "",
    ]
    if report["warnings"]:
        out += ["## Warnings", ""] + [f"- {w}" for w in report["warnings"]] + [""]
    if picture:
        out += ["## Architecture", "", f"![architecture]({picture})", ""]
    return out


def _gpu_fit(report: dict) -> list[str]:
    """The GPU-memory fit of each classic endpoint."""
    out: list[str] = []
    classic = [e for e in report["endpoints"] if not e.get("shared")]  # shared ones: per copy, below
    if classic:
        out += [
            "GPU-memory fit:",
            "",
            "| endpoint | GPUs | weights | GPU memory | needed (rule) | headroom | fits |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
    for e in classic:
        g = e.get("gpu")
        if not g or "weights_gib" not in g:
            out.append(f"| {e['name']} | ? | ? | ? | ? | ? | ? |")
            continue
        out.append(
            f"| {e['name']} | {g['gpus']} x {g['gpu']} | {g['weights_gib']:.1f} GiB | {g['total_gib']:g} GiB "
            f"| {g['needed_gib']:.1f} GiB | {g['headroom_gib']:.1f} GiB ({1 - g['weights_share']:.0%}) | {'yes' if g['fits'] else '**NO**'} |"
        )
    if classic and "rule" in (classic[0].get("gpu") or {}):
        out += [
            "",
            f"Rule: {classic[0]['gpu']['rule']}; headroom is what remains for the KV cache and runtime.",
        ]
    out.append("")
    return out


def _public_surfaces(report: dict) -> list[str]:
    surfaces = report["public_surfaces"]
    out = ["## Public surfaces", "", f"{len(surfaces)} found (only the API should be one).", ""]
    for s in surfaces:
        out.append(
            f"- **{s['kind']}** `{s['path']}` ({s['stack']}): auth {', '.join(s['auth']) or 'NONE'}"
            + (f"; endpoint {'/'.join(s['endpoint_types'])}" if s.get("endpoint_types") else "")
            + ("; WAF attached" if s.get("waf") else ("; no WAF" if "waf" in s else ""))
        )
        if s.get("methods"):
            out += ["", "  | method | path | authorization |", "  |---|---|---|"]
            for m in s["methods"]:
                out.append(
                    f"  | {m.get('method', '')} | {_cell(m.get('path', m.get('route', '')))} | {m['authorization']} |"
                )
            out.append("")
    out.append("")
    return out


def _iam_roles(report: dict) -> list[str]:
    out = [
        "## IAM roles",
        "",
        f"{len(report['iam_roles'])} roles. Every statement each role is granted:",
        "",
    ]
    for r in report["iam_roles"]:
        out += [f"### {r['path'].removesuffix('/Resource')}", ""]
        if r["description"]:
            out.append(f"{r['description']}  ")
        out.append(f"Trusted: {', '.join(r['trusted']) or '-'}  ")
        if r["aws_managed_policies"]:
            out.append(f"AWS managed policies: {', '.join(_code(p) for p in r['aws_managed_policies'])}  ")
        out += ["", "| effect | actions | resources | condition |", "|---|---|---|---|"]
        for st in r["statements"]:
            cond = _code(json.dumps(st["condition"], sort_keys=True)) if st.get("condition") else ""
            actions = "<br>".join(_code(a) for a in st.get("actions") or st.get("not_actions", []))
            resources = "<br>".join(
                _code(_cell(x)) for x in st.get("resources") or st.get("not_resources", [])
            )
            out.append(f"| {st['effect']} | {actions} | {resources} | {_cell(cond)} |")
        if not r["statements"]:
            out.append("| | (no inline or customer-managed statements) | | |")
        out.append("")
    return out


def _stacks(report: dict) -> list[str]:
    out = ["## Stacks", ""]
    for s in report["stacks"]:
        out += [
            f"### {s['name']} ({s['id']}): {s['resource_count']} resources",
            "",
            "| type | count |",
            "|---|---:|",
        ]
        out += [f"| {t} | {n} |" for t, n in s["resources_by_type"].items()] + [""]
    return out


def _acknowledgments(report: dict) -> list[str]:
    """The cdk-nag and the Control Tower acknowledgments."""
    acks = report["nag_acknowledgments"]
    out = [
        "## cdk-nag acknowledgments",
        "",
        f"{len(acks)} acknowledged findings, each on the narrowest construct:",
        "",
        "| construct | rule | reason |",
        "|---|---|---|",
    ]
    out += [f"| `{a['path']}` | `{_cell(a['rule'])}` | {_cell(a['reason'])} |" for a in acks]
    out.append("")
    controls = report.get("control_tower_acknowledgments", [])
    out += [
        "## AWS Control Tower acknowledgments",
        "",
        f"{len(controls)} proactive-control findings acknowledged (the controls' Guard rules run at synth):",
        "",
        "| construct | control | reason |",
        "|---|---|---|",
    ]
    out += [f"| `{a['path']}` | {a['control']} | {_cell(a['reason'])} |" for a in controls]
    out.append("")
    return out


def _scanner_skips(report: dict) -> list[str]:
    skips = report["scanner_skips"]
    out = ["## Scanner skips", ""]
    if skips:
        out += ["| resource | check | reason |", "|---|---|---|"]
        out += [f"| `{s['path']}` | {s['check']} | {_cell(s['reason'])} |" for s in skips]
    else:
        out.append("None recorded in resource metadata.")
    out.append("")
    return out

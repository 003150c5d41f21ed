"""Draw the picture's graph with matplotlib into a PNG and an SVG."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tools.report.assembly import Assembly
from tools.report.diagram.derivation import derive
from tools.report.diagram.geometry import bezier, curve_length, label_spot, route
from tools.report.diagram.graph import Graph, Vpc
from tools.report.diagram.placement import BOX_H, COL_W, ROW_H, box_width, layout

# Fill colours per kind, close to the AWS icon families so the picture reads at a glance.
COLOURS = {
    "clients": "#eceff1",
    "waf": "#fde0dc",
    "api": "#f3e5f5",
    "function": "#fff3e0",
    "queue": "#fce4ec",
    "table": "#e3f2fd",
    "bucket": "#e8f5e9",
    "endpoint": "#e0f2f1",
    "studio": "#e0f7fa",
}

Box = tuple[float, float, float, float]  # left, top, right, bottom
Frame = tuple[Vpc, list[str], Box]


def draw(
    assembly: Path | str, out: Path, report: dict | None = None, stem: str = "architecture"
) -> list[Path]:
    """Write `<stem>.png` and `<stem>.svg` into `out`; returns the two paths."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    asm = Assembly(assembly)
    g = derive(asm, _endpoint_labels(report))
    if report:
        d = report["deployment"]
        g.title = f"{d['project']} in {d['region']} (config {Path(d['config']).name}), generated from the cloud assembly by tools.report"
    pos = layout(g)
    centre = {k: (c * COL_W, r * ROW_H) for k, (c, r) in pos.items()}
    boxes = {
        k: (x - box_width(g.nodes[k]) / 2, y - BOX_H / 2, x + box_width(g.nodes[k]) / 2, y + BOX_H / 2)
        for k, (x, y) in centre.items()
    }
    vpc_frames = _vpc_frames(g, boxes)

    extents = list(boxes.values()) + [f for _, _, f in vpc_frames]
    x0, x1 = min(e[0] for e in extents) - 0.3, max(e[2] for e in extents) + 0.3
    y0, y1 = min(e[1] for e in extents) - 0.8, max(e[3] for e in extents) + 0.3
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "fm-platform", "font.family": "DejaVu Sans"})
    fig = plt.figure(figsize=((x1 - x0) * 0.75, (y1 - y0) * 0.75))
    ax = fig.add_axes((0, 0, 1, 1))  # equal scale on both axes keeps route honest
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)  # rows grow downwards
    ax.axis("off")

    _draw_vpc_frames(ax, vpc_frames)
    patches = _draw_boxes(ax, g, boxes)
    pending = _draw_arrows(ax, g, centre, boxes, patches)
    _draw_labels(ax, pending, boxes)
    if g.title:
        ax.text(x0 + 0.2, y0 + 0.35, g.title, fontsize=9, color="#546e7a", va="center")

    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{stem}.png", out / f"{stem}.svg"
    fig.savefig(png, dpi=110, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return [png, svg]


def _endpoint_labels(report: dict | None) -> dict[str, tuple[str, list[str]]]:
    """Endpoint box titles and lines from the report (construct path -> title, lines): the
    model id, or a shared endpoint's models, which the templates do not carry."""
    labels = {}
    if report:
        for e in report.get("endpoints", []):
            model = f"{e['model_id']}@{e['model_version']}" if e.get("model_id") else ""
            if e.get("components"):  # a shared endpoint: its models, one inference component each
                labels[e["path"]] = (f"Shared endpoint {e['name']}",
                                     [", ".join(f"{c['name']} x {c['copies']['min']}..{c['copies']['max']}"
                                                for c in e["components"])])
                continue
            labels[e["path"]] = (f"Endpoint {e['name']}", [model] if model else [])
    return labels


def _vpc_frames(g: Graph, boxes: dict[str, Box]) -> list[Frame]:
    """Each VPC with members: its wrapped lines and the frame around its members' boxes."""
    vpc_frames = []
    for vpc in g.vpcs:
        members = [boxes[m] for m in vpc.members if m in boxes]
        if not members:
            continue
        left, right = min(b[0] for b in members) - 0.35, max(b[2] for b in members) + 0.35
        chars = int((right - left - 0.3) / 0.068)
        lines = [w for line in vpc.lines for w in textwrap.wrap(line, chars)]
        top = min(b[1] for b in members) - 0.45 - 0.25 * (len(lines) + 1)
        bottom = max(b[3] for b in members) + 0.3
        vpc_frames.append((vpc, lines, (left, top, right, bottom)))
    return vpc_frames


def _draw_vpc_frames(ax, vpc_frames: list[Frame]) -> None:
    from matplotlib.patches import FancyBboxPatch

    for vpc, lines, (left, top, right, bottom) in vpc_frames:
        ax.add_patch(
            FancyBboxPatch(
                (left, top),
                right - left,
                bottom - top,
                boxstyle="round,pad=0.02,rounding_size=0.15",
                fill=False,
                linestyle="--",
                edgecolor="#2e7d32",
                linewidth=1.2,
            )
        )
        ax.text(
            left + 0.15, top + 0.28, vpc.title, fontsize=9, fontweight="bold", color="#2e7d32", va="center"
        )
        for i, line in enumerate(lines):
            ax.text(left + 0.15, top + 0.55 + 0.25 * i, line, fontsize=6.5, color="#2e7d32", va="center")


def _draw_boxes(ax, g: Graph, boxes: dict[str, Box]) -> dict:
    """A rounded box per node with its title and up to three lines; returns the patches by key."""
    from matplotlib.patches import FancyBboxPatch

    patches = {}
    for key, (left, top, right, bottom) in boxes.items():
        node = g.nodes[key]
        cx, cy = (left + right) / 2, (top + bottom) / 2
        patch = FancyBboxPatch(
            (left, top),
            right - left,
            bottom - top,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=COLOURS.get(node.kind, "#ffffff"),
            edgecolor="#455a64",
            linewidth=1.0,
            zorder=2,
        )
        ax.add_patch(patch)
        patches[key] = patch
        lines = node.lines[:3]
        offset = 0.15 * len(lines)
        ax.text(
            cx, cy - offset, node.title, ha="center", va="center", fontsize=8.5, fontweight="bold", zorder=3
        )
        for i, line in enumerate(lines):
            ax.text(
                cx,
                cy - offset + 0.29 * (i + 1),
                line,
                ha="center",
                va="center",
                fontsize=6.8,
                color="#263238",
                zorder=3,
            )
    return patches


def _draw_arrows(
    ax, g: Graph, centre: dict[str, tuple[float, float]], boxes: dict[str, Box], patches: dict
) -> list[tuple[str, list]]:
    """An arrow per edge, bent around the other boxes; returns (label, curve) of the labelled ones."""
    from matplotlib.patches import FancyArrowPatch

    pending: list[tuple[str, list]] = []
    for edge in g.edges:
        if edge.src not in centre or edge.dst not in centre:
            continue
        p0, p2 = centre[edge.src], centre[edge.dst]
        others = [
            (left - 0.1, top - 0.1, right + 0.1, bottom + 0.1)
            for k, (left, top, right, bottom) in boxes.items()
            if k not in (edge.src, edge.dst)
        ]
        reverse = any(e.src == edge.dst and e.dst == edge.src for e in g.edges)
        # Same positive bend both ways puts the two arrows on opposite sides.
        rad = route(p0, p2, others, straight=not reverse)
        ax.add_patch(
            FancyArrowPatch(
                p0,
                p2,
                patchA=patches[edge.src],
                patchB=patches[edge.dst],
                arrowstyle="-|>",
                mutation_scale=11,
                linewidth=1.0,
                color="#37474f",
                connectionstyle=f"arc3,rad={rad}",
                zorder=1,
            )
        )
        if edge.label:
            pending.append((edge.label, bezier(p0, p2, rad)))
    return pending


def _draw_labels(ax, pending: list[tuple[str, list]], boxes: dict[str, Box]) -> None:
    placed: list[tuple[float, float, float]] = []  # labels so far: x, y, half width
    # Short arrows have the fewest free spots for a label: place theirs first.
    pending.sort(key=lambda item: curve_length(item[1]))
    for label, curve in pending:
        lx, ly = label_spot(curve, list(boxes.values()), placed)
        placed.append((lx, ly, 0.045 * len(label) + 0.2))
        ax.text(
            lx,
            ly,
            label,
            fontsize=6.2,
            ha="center",
            va="center",
            color="#37474f",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.9},
        )

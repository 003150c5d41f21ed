"""Where each box of the picture goes: a grid by role, and the boxes' sizes."""

from __future__ import annotations

from tools.report.diagram.graph import Graph, Node

STORE_KINDS = ("table", "bucket")
BOX_W, BOX_H = 2.6, 1.05
COL_W, ROW_H = 3.4, 1.55
TITLE_CHAR, LINE_CHAR = 0.095, 0.072  # data units per character at the fonts below

Positions = dict[str, tuple[float, float]]


def box_width(node: Node) -> float:
    widest = max([TITLE_CHAR * len(node.title)] + [LINE_CHAR * len(line) for line in node.lines[:3]])
    return max(BOX_W, widest + 0.35)


def layout(g: Graph) -> Positions:
    """Grid positions (column, row) by role: the request path reads left to right,
    the async path below it, data stores at the bottom under their writers,
    Studio above the endpoints it may call."""
    kinds = {k: n.kind for k, n in g.nodes.items()}
    out_edges: dict[str, list[str]] = {}
    in_edges: dict[str, list[str]] = {}
    for e in g.edges:
        out_edges.setdefault(e.src, []).append(e.dst)
        in_edges.setdefault(e.dst, []).append(e.src)
    pos: Positions = {}
    last = _place_request_path(kinds, in_edges, pos)
    last = _place_async_path(kinds, out_edges, pos, last)
    endpoints = [k for k, kind in kinds.items() if kind == "endpoint"]
    first = last / 2 - (len(endpoints) - 1) / 2
    for i, key in enumerate(endpoints):
        pos[key] = (6.0, first + i)
    for key, kind in kinds.items():
        if kind == "studio":
            pos[key] = (6.0, min(first, 0) - 1.35)
    bottom = max([r for _, r in pos.values()] + [0]) + 1.3
    if len(endpoints) > 1:
        _place_capture_stores(g, kinds, in_edges, pos, endpoints, first)
    _place_stores(g, kinds, in_edges, pos, bottom)
    return pos


def _place_request_path(kinds: dict[str, str], in_edges: dict[str, list[str]], pos: Positions) -> float:
    """Clients, WAF and API on the top row, the functions behind the API in the next column;
    returns the last row used."""
    for key, kind in kinds.items():
        if kind in ("clients", "waf", "api"):
            pos[key] = ({"clients": 0, "waf": 1, "api": 2}[kind], 0)
    front = [
        k
        for k, kind in kinds.items()
        if kind == "function" and any(kinds.get(s) == "api" for s in in_edges.get(k, []))
    ]
    for i, key in enumerate(front):
        pos[key] = (3, i)
    return max(len(front) - 1, 0)


def _place_async_path(kinds: dict[str, str], out_edges: dict[str, list[str]], pos: Positions, last: float) -> float:
    """Queues below the front functions, each with its consumer to the right and its
    dead-letter queue to the left, then any other function or queue; returns the last row."""
    queues = [
        k
        for k, kind in kinds.items()
        if kind == "queue" and any(kinds.get(d) == "function" for d in out_edges.get(k, []))
    ]
    for i, key in enumerate(queues):
        row = last + 1.25 + i
        pos[key] = (3.6, row)
        for dst in out_edges.get(key, []):
            if kinds.get(dst) == "function" and dst not in pos:
                pos[dst] = (4.75, row)
        for dst in out_edges.get(key, []):
            if kinds.get(dst) == "queue" and dst not in pos:  # its dead-letter queue
                pos[dst] = (2.45, row)
    if queues:
        last = max(r for _, r in pos.values())
    for key, kind in kinds.items():
        if key not in pos and kind in ("function", "queue"):
            last += 1
            pos[key] = (4.75, last)
    return last


def _place_capture_stores(
    g: Graph,
    kinds: dict[str, str],
    in_edges: dict[str, list[str]],
    pos: Positions,
    endpoints: list[str],
    first: float,
) -> None:
    # Arrows down from stacked endpoints would cross the ones below: put stores
    # only endpoints write to (data capture) to the right of the column instead.
    widest = max(box_width(g.nodes[k]) for k in endpoints)
    side = [
        k
        for k, kind in kinds.items()
        if kind in STORE_KINDS
        and in_edges.get(k)
        and all(kinds.get(s) == "endpoint" for s in in_edges[k])
    ]
    for i, key in enumerate(side):
        x = 6.0 + (widest + box_width(g.nodes[key])) / 2 / COL_W + 0.3
        pos[key] = (x, first + (len(endpoints) - 1) / 2 + i - (len(side) - 1) / 2)


def _place_stores(
    g: Graph, kinds: dict[str, str], in_edges: dict[str, list[str]], pos: Positions, bottom: float
) -> None:
    # Each store goes under the mean column of its writers, then the row is spread
    # so that no two boxes overlap.
    stores = sorted(
        (
            sum(pos[s][0] for s in in_edges.get(k, []) if s in pos)
            / max(1, sum(1 for s in in_edges.get(k, []) if s in pos)),
            k,
        )
        for k, kind in kinds.items()
        if kind in STORE_KINDS and k not in pos
    )
    placed: list[tuple[float, str]] = []
    for x, key in stores:
        if placed:
            prev_x, prev = placed[-1]
            gap = (box_width(g.nodes[prev]) + box_width(g.nodes[key])) / 2 / COL_W + 0.08
            x = max(x, prev_x + gap)
        placed.append((x, key))
    shift = max(0.0, placed[-1][0] - 6.0) if placed else 0.0
    for x, key in placed:
        pos[key] = (x - shift, bottom)

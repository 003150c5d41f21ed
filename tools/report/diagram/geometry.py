"""Arrow and label geometry in data coordinates: curves that miss the boxes, free label spots."""

from __future__ import annotations


def bezier(p0, p2, rad):
    """Points along matplotlib's arc3 curve between p0 and p2 (data coords, y down)."""
    (x1, y1), (x2, y2) = p0, p2
    # arc3 works in display space, where y points up: flip, bend, flip back.
    dx, dy = x2 - x1, -(y2 - y1)
    cx, cy = (x1 + x2) / 2 + rad * dy, -((-(y1 + y2) / 2) - rad * dx)
    return [
        (
            (1 - t) ** 2 * x1 + 2 * (1 - t) * t * cx + t**2 * x2,
            (1 - t) ** 2 * y1 + 2 * (1 - t) * t * cy + t**2 * y2,
        )
        for t in (i / 20 for i in range(1, 20))
    ]


def route(p0, p2, obstacles, straight: bool = True) -> float:
    """The smallest arc3 bend whose curve misses every other box (never straight
    when an arrow runs the other way between the same boxes: they would overlap)."""
    best, fewest = 0.0, None
    bends = (0.2, -0.2, 0.35, -0.35, 0.5, -0.5, 0.7, -0.7, 0.9, -0.9)
    for rad in ((0.0,) if straight else ()) + bends:
        hits = sum(1 for point in bezier(p0, p2, rad) for box in obstacles if inside(point, box))
        if hits == 0:
            return rad
        if fewest is None or hits < fewest:
            best, fewest = rad, hits
    return best


def label_spot(curve, boxes, placed) -> tuple[float, float]:
    """The point nearest the curve's middle that is off every box and clear of other labels."""
    free = [p for p in curve if not any(inside(p, b) for b in boxes)] or curve
    middle = len(free) // 2
    for p in sorted(free, key=lambda p: abs(free.index(p) - middle)):
        if all(abs(p[0] - x) > w + 0.3 or abs(p[1] - y) > 0.3 for x, y, w in placed):
            return p
    return free[middle]


def curve_length(curve) -> float:
    return sum(
        ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 for a, b in zip(curve, curve[1:], strict=False)
    )


def inside(point, box) -> bool:
    x, y = point
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]

"""Small text helpers shared by generation and templates."""

from __future__ import annotations

import math


def estimate_tokens(text: str) -> int:
    """A deliberately rough, slightly low input-token estimate (chars / 4).

    It only guards obvious budget overflows before a model call. Erring low means
    we never refuse what the model would accept; the model's own 422 (with the
    true count) covers the rest and is passed through to the caller.
    """
    return math.ceil(len(text) / 4)


def strip_stops(text: str, stops: list[str] | tuple[str, ...]) -> tuple[str, bool]:
    """Cut ``text`` at the earliest stop string (TGI leaves the stop in its output).

    Returns the cut text and whether a stop string was found.
    """
    cut = len(text)
    for stop in stops:
        if stop:
            pos = text.find(stop)
            if pos != -1 and pos < cut:
                cut = pos
    return text[:cut], cut != len(text)

"""Right-sizing: whether a model's weights fit an instance's memory, and which
instance a model gets when the config names none (the cheapest that can run it)."""

from __future__ import annotations

from typing import Callable

from stacks.config import catalog


def fits(facts: catalog.ModelFacts, instance: catalog.InstanceFacts) -> bool:
    """The memory rule: weights x the catalog's headroom <= the instance's GPU memory, or, on
    an instance without GPUs, its host memory less what the OS and model server keep
    (`InstanceFacts.model_memory_gib`). Only JumpStart's supported list puts a model on a
    CPU instance (TGI models list none); among those that fit, the cheapest wins, so a small
    embedding model lands on CPU (ml.c6i.xlarge, $0.204/h) rather than a GPU (from $0.94/h)."""
    return facts.weights_gib * catalog.models().memory_headroom <= instance.model_memory_gib


def choose_instance(
    named: str | None,
    candidates: list[tuple[float, str]],
    *,
    fallback: tuple[str, str],
    chosen_note: Callable[[str, float], str],
    cheaper_note: Callable[[str, float, str], str],
) -> tuple[str, str]:
    """(instance type, note) for a model, JumpStart or Marketplace alike.

    `candidates` are (us-east-1 $/h, type) of every instance the model can run on, cheapest
    first. Nothing named: the cheapest, with `chosen_note(type, price)`, or `fallback` when
    there is no candidate. Named: kept as named (the caller's checks refuse it if it cannot
    run the model), with `cheaper_note(cheaper, price, monthly saving)` when it costs more
    than the cheapest candidate.
    """
    if named is None:
        if not candidates:
            return fallback
        price, chosen = candidates[0]
        return chosen, chosen_note(chosen, price)
    known = catalog.instances().instances
    if candidates and named in known and known[named].usd_per_hour > candidates[0][0]:
        price, cheaper = candidates[0]
        saved = (known[named].usd_per_hour - price) * catalog.HOURS_PER_MONTH
        return named, cheaper_note(cheaper, price, catalog.usd(saved))
    return named, ""

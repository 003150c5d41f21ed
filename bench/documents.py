"""A deterministic long document for the summarization benchmarks: pages of plausible
report sentences from a seeded generator, so every run and every approach reads the same text."""

from __future__ import annotations

import random

_TOPICS = [
    "the reservoir", "the committee", "the regional grid", "the survey team", "the harbour",
    "the archive", "the vaccination programme", "the rail operator", "the insurer", "the council",
]
_VERBS = [
    "reported", "estimated", "reviewed", "postponed", "approved", "measured", "questioned",
    "documented", "expanded", "reduced", "audited", "recommended",
]
_OBJECTS = [
    "maintenance costs", "water quality", "the quarterly budget", "passenger numbers",
    "seasonal demand", "an independent assessment", "the procurement process", "staffing levels",
    "emergency procedures", "the long-term forecast", "infrastructure resilience",
    "interdepartmental coordination",
]
_TAILS = [
    "after a lengthy consultation", "despite objections from residents", "ahead of the winter season",
    "in line with the previous year", "following the storm in March", "with support from volunteers",
    "under the revised guidelines", "although several figures remain provisional",
]


def _sentence(rng: random.Random) -> str:
    parts = [rng.choice(_TOPICS).capitalize(), rng.choice(_VERBS), rng.choice(_OBJECTS)]
    if rng.random() < 0.6:
        parts.append(rng.choice(_TAILS))
    if rng.random() < 0.35:
        parts.append(f"by {rng.randint(2, 97)}.{rng.randint(0, 9)} percent")
    if rng.random() < 0.25:
        parts.append(f"and {rng.choice(_TOPICS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}")
    if rng.random() < 0.01:  # the occasional run-on list sentence
        parts.append("including " + ", ".join(rng.choice(_OBJECTS) for _ in range(rng.randint(30, 80))))
    end = rng.choice([".", ".", ".", ".", "!", "?"]) if rng.random() < 0.1 else "."
    return " ".join(parts) + end


def make_document(pages: int = 100, seed: int = 7, words_per_page: int = 500) -> str:
    """A deterministic report-like document: headings, paragraphs, sentences."""
    rng = random.Random(seed)
    target = pages * words_per_page
    out: list[str] = []
    words = 0
    section = 0
    while words < target:
        if rng.random() < 0.08 or not out:
            section += 1
            out.append(f"Section {section}: {rng.choice(_OBJECTS).title()}")
        paragraph = " ".join(_sentence(rng) for _ in range(rng.randint(2, 9)))
        out.append(paragraph)
        words += len(paragraph.split())
    return "\n\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# A loopback SageMaker-runtime endpoint with TGI semantics and a fixed latency
# model. It writes a fixed 64 tokens per call, so a full run takes minutes; the
# project's emulator (local/emulator/, used by the tests) writes up
# to max_new_tokens for summaries, which would make each call ~4 s.

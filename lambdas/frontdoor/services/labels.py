"""Map free-form model output to one of a template's labels.

Few-shot prompts make models answer "Positive", " positive.\n###" or
"Sentiment: Negative"; clients want one stable lowercase label.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z][a-z-]*")


def normalize_label(output: str, labels: list[str], synonyms: dict[str, list[str]] | None = None,
                    unknown: str = "unknown") -> str:
    """Return the label the output names first, else ``unknown``.

    The first word decides when it names a label (or a synonym); otherwise the
    earliest label mentioned anywhere wins, which handles "The sentiment is positive".
    """
    lookup: dict[str, str] = {}
    for label in labels:
        lookup[label.lower()] = label
        for alias in (synonyms or {}).get(label, []):
            lookup[alias.lower()] = label
    words = _WORD.findall(output.lower())
    if words and words[0] in lookup:
        return lookup[words[0]]
    for word in words:
        if word in lookup:
            return lookup[word]
    return unknown

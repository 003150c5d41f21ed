"""Summarization instructions per stage; the family's ``inference.prompts``
format lays an instruction and the user's text out as one prompt.

The instruction wording is family-neutral. A family summarizes when its format
has an instruction layout (``PromptFormat.instruct``).
"""

from __future__ import annotations

from enum import Enum

from inference import prompts as formats
from inference.prompts import PromptFormat
from summarizer.errors import InvalidInput

SUMMARIZING_FAMILIES = sorted(f for f, fmt in formats.FORMATS.items() if fmt.instruct)


class Stage(str, Enum):
    SINGLE = "single"  # the whole text fits one call
    MAP = "map"
    COLLAPSE = "collapse"
    REDUCE = "reduce"


class Style(str, Enum):
    PARAGRAPH = "paragraph"
    BULLETS = "bullets"


# Map and collapse instructions are sent once per chunk, so every word here is
# paid ~100 times per document: keep them short.
_INSTRUCTIONS = {
    Stage.SINGLE: "Summarize the following document{shape}.",
    Stage.MAP: "Summarize this part of a longer document, keeping key facts and numbers.",
    Stage.COLLAPSE: "Merge these summaries of consecutive parts of one document into one shorter summary.",
    Stage.REDUCE: (
        "The following are summaries of consecutive parts of one document. "
        "Write the final summary of the whole document{shape}."
    ),
}
_STYLE_SHAPES = {
    Style.PARAGRAPH: " as one concise paragraph",
    Style.BULLETS: " as a bulleted list, one point per line starting with '- '",
}


def prompt_format(family: str) -> PromptFormat:
    """The family's format, if it has an instruction layout to summarize with."""
    try:
        fmt = formats.prompt_format(family)
    except ValueError:
        fmt = None
    if fmt is None or fmt.instruct is None:
        raise InvalidInput(f"model family {family!r} cannot summarize; supported: {SUMMARIZING_FAMILIES}") from None
    return fmt


def instruction(stage: Stage, style: Style = Style.PARAGRAPH, max_words: int | None = None) -> str:
    shape = _STYLE_SHAPES[style]
    if max_words:
        shape += f" of at most {max_words} words"
    return _INSTRUCTIONS[stage].format(shape=shape)

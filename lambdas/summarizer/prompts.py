"""Summarization prompts, formatted per model family.

The instruction wording is family-neutral; a ``PromptFormat`` decides how an
instruction and the user's text become one prompt string. Adding a family means
adding one ``PromptFormat`` to ``FORMATS``. The user's text is only ever a
substitution value, never template code.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import Enum

from summarizer.errors import InvalidInput


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


@dataclass(frozen=True)
class PromptFormat:
    """How one model family wants an instruction and a text laid out.

    Args:
        family: the ``family`` value from MODELS_JSON.
        template: a ``string.Template`` with ``$instruction`` and ``$text``.
        reserved: strings with special meaning to the family's tokenizer or
            chat format; user text containing them is refused.
        stop: stop sequences sent with each call and stripped from outputs,
            because TGI leaves them in the generated text.
    """

    family: str
    template: str
    reserved: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()

    def render(self, instruction: str, text: str) -> str:
        return string.Template(self.template).substitute(instruction=instruction, text=text)

    def check_user_text(self, text: str) -> None:
        lowered = text.lower()
        for tag in self.reserved:
            if tag.lower() in lowered:
                raise InvalidInput(f"text contains {tag!r}, which is reserved by the {self.family} prompt format")

    def clean_output(self, generated: str) -> str:
        for stop in self.stop:
            cut = generated.find(stop)
            if cut != -1:
                generated = generated[:cut]
        return generated.strip()


def _reserved(family: str) -> tuple[str, ...]:
    # One list of special tags per family, owned by the front door.
    from frontdoor.services.prompts import prompt_format as frontdoor_format

    return frontdoor_format(family).special_tags



FORMATS: dict[str, PromptFormat] = {
    # Falcon instruct is trained on plain text; a trailing cue anchors the answer.
    "falcon": PromptFormat("falcon", "$instruction\n\n$text\n\nSummary:", _reserved("falcon"), ("\nUser:",)),
    "llama2": PromptFormat("llama2", "[INST] $instruction\n\n$text [/INST]", _reserved("llama2"), ("</s>",)),
    "mistral": PromptFormat("mistral", "[INST] $instruction\n\n$text [/INST]", _reserved("mistral"), ("</s>",)),
    "flan-t5": PromptFormat("flan-t5", "$instruction\n\n$text", _reserved("flan-t5")),
}


def prompt_format(family: str) -> PromptFormat:
    try:
        return FORMATS[family]
    except KeyError:
        raise InvalidInput(f"model family {family!r} cannot summarize; supported: {sorted(FORMATS)}") from None


def instruction(stage: Stage, style: Style = Style.PARAGRAPH, max_words: int | None = None) -> str:
    shape = _STYLE_SHAPES[style]
    if max_words:
        shape += f" of at most {max_words} words"
    return _INSTRUCTIONS[stage].format(shape=shape)

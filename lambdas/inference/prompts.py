"""Prompt formats per model family: how text becomes a prompt, which tags user
text may not carry, and which stop strings end an answer.

A user who can smuggle ``[/INST]`` or ``</s>`` into a prompt can close the
instruction block and speak as the system or the assistant; refusing those
strings (case-insensitively, since some tokenizers normalise case in markup) is
cheaper and safer than escaping them, because no tokenizer ships with the Lambda.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from inference.errors import SpecialTokensRejected

_INST_TAGS = ("[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "<s>", "</s>")
_FALCON_TAGS = (
    "<|endoftext|>",
    ">>QUESTION<<",
    ">>ANSWER<<",
    ">>SUMMARY<<",
    ">>INTRODUCTION<<",
    ">>ABSTRACT<<",
    ">>COMMENT<<",
    ">>TITLE<<",
    ">>DOMAIN<<",
)

STYLES = ("completion", "chat")


@dataclass(frozen=True)
class PromptFormat:
    """One family's prompt layout.

    Args:
        family: the ``family`` value from MODELS_JSON.
        special_tags: strings with special meaning to the family's tokenizer or
            chat format; user text containing them is refused.
        instruct: a ``string.Template`` with ``$instruction`` and ``$text`` for
            instruction prompts (the summarizer's); None: not offered for this family.
        stop: stop sequences sent with instruction prompts and cut from their
            outputs, because TGI leaves them in the generated text.
    """

    family: str
    special_tags: tuple[str, ...]
    instruct: str | None = None
    stop: tuple[str, ...] = ()

    def check(self, text: str, field: str) -> None:
        """Raise 400 if ``text`` contains any of this family's special tags."""
        lowered = text.lower()
        found = sorted({tag for tag in self.special_tags if tag.lower() in lowered})
        if found:
            raise SpecialTokensRejected(
                f"{field} contains special tags reserved by the {self.family} prompt format: {', '.join(found)}",
                details=[{"field": field, "tags": found}],
            )

    def wrap(self, text: str, *, system: str | None = None, style: str = "completion") -> str:
        """Put already-rendered user text into the family's prompt format."""
        if self.family in ("falcon", "ai21-j2"):
            if style == "chat":
                head = f"{system}\n" if system else ""
                return f"{head}User: {text}\nAssistant:"
            return f"{system}\n\n{text}" if system else text
        if self.family == "llama2":
            # No literal <s>: TGI's Llama tokenizer adds BOS itself.
            if system:
                return f"[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{text} [/INST]"
            return f"[INST] {text} [/INST]"
        if self.family == "mistral":
            # Mistral-instruct has no system role; the convention is to prepend it.
            body = f"{system}\n\n{text}" if system else text
            return f"[INST] {body} [/INST]"
        # flan-t5: plain text in, plain text out.
        return f"{system}\n\n{text}" if system else text

    def render(self, instruction: str, text: str) -> str:
        """An instruction prompt: the user's text is a substitution value, never template code."""
        if self.instruct is None:
            raise ValueError(f"the {self.family} format has no instruction layout")
        return string.Template(self.instruct).substitute(instruction=instruction, text=text)

    def clean(self, generated: str) -> str:
        """An instruction prompt's output without its stop string and surrounding space."""
        return strip_stops(generated, self.stop)[0].strip()


_INST_LAYOUT = "[INST] $instruction\n\n$text [/INST]"
FORMATS: dict[str, PromptFormat] = {
    # Falcon instruct is trained on plain text; a trailing cue anchors the answer.
    "falcon": PromptFormat("falcon", _FALCON_TAGS, "$instruction\n\n$text\n\nSummary:", ("\nUser:",)),
    "llama2": PromptFormat("llama2", _INST_TAGS, _INST_LAYOUT, ("</s>",)),
    "mistral": PromptFormat("mistral", _INST_TAGS, _INST_LAYOUT, ("</s>",)),
    "flan-t5": PromptFormat("flan-t5", ("</s>", "<pad>", "<unk>"), "$instruction\n\n$text"),
    "ai21-j2": PromptFormat("ai21-j2", ("<|endoftext|>",)),
}


def prompt_format(family: str) -> PromptFormat:
    try:
        return FORMATS[family]
    except KeyError:
        raise ValueError(f"no prompt format for family {family!r}") from None


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


class StopFilter:
    """``strip_stops`` for text that arrives piece by piece (a token stream).

    ``push`` returns the text that is safe to show now: everything before the earliest
    place a stop string starts or may still start. A stop that has completed is the cut
    only when no other stop could still complete *before* it (``["a#a", "#"]`` on "a#": the
    "#" at 1 waits, "a#a" may come at 0); text that could be the start of a stop (the
    longest suffix that is a proper prefix of one) is held back. ``finish`` decides what
    is left once the stream has ended. What is released in total is always
    ``strip_stops(all pushed text, stops)[0]``: a stop can start only in held-back text,
    never in text already released (it would have been a prefix then).
    """

    def __init__(self, stops: list[str] | tuple[str, ...]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.text = ""  # everything pushed
        self.sent = 0  # characters of ``text`` released
        self.cut: int | None = None  # where the earliest stop starts, once certain

    @property
    def stopped(self) -> bool:
        return self.cut is not None

    def push(self, piece: str) -> str:
        if self.cut is not None or not piece:
            return ""
        self.text += piece
        return self._advance(final=False)

    def finish(self) -> str:
        """What the end of the stream makes certain: the earliest completed stop is the cut,
        or, with none, the held-back tail is released."""
        if self.cut is not None:
            return ""
        return self._advance(final=True)

    def _advance(self, final: bool) -> str:
        found = [pos for pos in (self.text.find(stop, self.sent) for stop in self.stops) if pos != -1]
        earliest = min(found) if found else None
        pending = None if final else self._pending()  # where a stop may still be starting
        if earliest is not None and (pending is None or earliest <= pending):
            self.cut = earliest
            return self._release(earliest)
        return self._release(len(self.text) if pending is None else pending)

    def _pending(self) -> int | None:
        """Start of the longest unreleased suffix that is a proper prefix of some stop."""
        unreleased = len(self.text) - self.sent
        longest = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, unreleased), longest, -1):
                if self.text.endswith(stop[:size]):
                    longest = size
                    break
        return len(self.text) - longest if longest else None

    def _release(self, upto: int) -> str:
        out = self.text[self.sent:upto]
        self.sent = max(self.sent, upto)
        return out

"""Prompt formats per model family, and refusal of user text carrying special tags.

A user who can smuggle ``[/INST]`` or ``</s>`` into a prompt can close the
instruction block and speak as the system or the assistant; refusing those
strings (case-insensitively, since some tokenizers normalise case in markup) is
cheaper and safer than escaping them, because no tokenizer ships with the Lambda.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontdoor.errors import SpecialTokensRejected

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
    family: str
    special_tags: tuple[str, ...]

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


_FORMATS: dict[str, PromptFormat] = {
    "falcon": PromptFormat("falcon", _FALCON_TAGS),
    "llama2": PromptFormat("llama2", _INST_TAGS),
    "mistral": PromptFormat("mistral", _INST_TAGS),
    "flan-t5": PromptFormat("flan-t5", ("</s>", "<pad>", "<unk>")),
    "ai21-j2": PromptFormat("ai21-j2", ("<|endoftext|>",)),
}


def prompt_format(family: str) -> PromptFormat:
    try:
        return _FORMATS[family]
    except KeyError:
        raise ValueError(f"no prompt format for family {family!r}") from None

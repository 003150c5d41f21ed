"""A conversation (OpenAI-style ``messages``) as one prompt in a model family's format.

One renderer for every family, so ``/v1/chat/completions`` sends each model the
layout it was tuned on:

- ``llama2``: Meta's chat layout, ``[INST] <<SYS>>..<</SYS>> user [/INST] answer </s><s>[INST] ..``
  (the tokenizer reads the literal ``<s>``/``</s>`` between turns as BOS/EOS);
- ``mistral``: ``[INST] user [/INST]answer</s>[INST] ..``, the system text prepended to the
  first user turn (Mistral-instruct has no system role);
- ``falcon``, ``ai21-j2``, ``flan-t5``: a plain transcript, ``User: ..`` / ``Assistant: ..``
  ending with ``Assistant:``, system text first. Falcon-instruct and Jurassic-2 continue a
  transcript; without a stop they go on to write the user's next turn, so ``\\nUser:`` is
  a stop string of the layout (sent when the request leaves room among TGI's 4, and cut
  from the answer always).

Every message's text is checked for the family's special tags first
(``PromptFormat.check``): a user who could write ``[/INST]`` or ``<|endoftext|>``
could end the turn and speak as the assistant.
"""

from __future__ import annotations

from dataclasses import dataclass

from inference.errors import BadRequest
from inference.prompts import prompt_format

ROLES = ("system", "user", "assistant")
TRANSCRIPT_STOP = "\nUser:"
_TRANSCRIPT_FAMILIES = ("falcon", "ai21-j2", "flan-t5")


@dataclass(frozen=True)
class Message:
    role: str  # one of ROLES ("developer" arrives here as "system")
    content: str


@dataclass(frozen=True)
class RenderedChat:
    prompt: str
    stops: tuple[str, ...]  # the layout's own stop strings (cut from the answer)


def render_chat(family: str, messages: list[Message]) -> RenderedChat:
    """The prompt for ``messages`` in ``family``'s layout, after checking each message.

    System messages may come anywhere; their texts are joined in order into the one
    system text every layout has. The model answers as the assistant: after the last user
    message, or, when the conversation ends with an assistant message, by continuing that
    message (a "prefill" of the answer's start). System text alone is answered as if it
    opened the conversation.
    """
    fmt = prompt_format(family)
    for i, message in enumerate(messages):
        if message.role not in ROLES:
            raise BadRequest(f"messages[{i}].role {message.role!r} is not one of {list(ROLES)}",
                             details=[{"field": f"messages[{i}].role", "type": "unsupported"}])
        fmt.check(message.content, f"messages[{i}].content")
    turns = [m for m in messages if m.role != "system"]
    system = "\n\n".join(m.content for m in messages if m.role == "system") or None
    if family == "llama2":
        return RenderedChat(_llama2(system, turns), ())
    if family == "mistral":
        return RenderedChat(_mistral(system, turns), ())
    if family in _TRANSCRIPT_FAMILIES:
        return RenderedChat(_transcript(system, turns), (TRANSCRIPT_STOP,))
    raise ValueError(f"no chat layout for family {family!r}")


def _transcript(system: str | None, turns: list[Message]) -> str:
    head = f"{system}\n" if system else ""
    lines = [f"{'User' if m.role == 'user' else 'Assistant'}: {m.content}" for m in turns]
    if turns and turns[-1].role == "assistant":  # continue the assistant's message
        return head + "\n".join(lines)
    return head + "".join(f"{line}\n" for line in lines) + "Assistant:"


def _llama2(system: str | None, turns: list[Message]) -> str:
    out: list[str] = []
    pending_system = system
    opened = _with_opening(turns)
    for i, m in enumerate(opened):
        if m.role == "user":
            text = m.content
            if pending_system:
                text = f"<<SYS>>\n{pending_system}\n<</SYS>>\n\n{text}"
                pending_system = None
            # The first BOS is the tokenizer's own; later turns open with a literal <s>.
            out.append(f"{'<s>' if out else ''}[INST] {text} [/INST]")
        else:
            # An answer is closed with EOS, unless it is the last message: the model continues it.
            out.append(f" {m.content}" + ("" if i == len(opened) - 1 else " </s>"))
    return "".join(out)


def _with_opening(turns: list[Message]) -> list[Message]:
    """The [INST] layouts open with a user turn: system text alone (or an assistant first)
    gets an empty one to carry it."""
    return turns if turns and turns[0].role == "user" else [Message("user", ""), *turns]


def _mistral(system: str | None, turns: list[Message]) -> str:
    out: list[str] = []
    pending_system = system
    opened = _with_opening(turns)
    for i, m in enumerate(opened):
        if m.role == "user":
            text = f"{pending_system}\n\n{m.content}" if pending_system else m.content
            pending_system = None
            out.append(f"[INST] {text} [/INST]")
        else:
            out.append(m.content + ("" if i == len(opened) - 1 else "</s>"))
    return "".join(out)

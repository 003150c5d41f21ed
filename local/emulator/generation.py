"""The emulator's own tokens and its deterministic text: what every model family's
answer is made of, seeded by the request so tests can assert on it."""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

# Deliberately NOT the app's estimator (chars/4) nor the summarizer's: words cost
# one token per 6 letters, digit runs one per 3 digits, any other symbol one each.
# Tests of recalibration rely on the two disagreeing.
_TOKEN = re.compile(r"[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d]")


def count_tokens(text: str) -> int:
    return sum(1 + (len(t) - 1) // 6 if t.isalpha() else 1 for t in _TOKEN.findall(text))


# Emulator token pieces: exactly count_tokens' units (a run of up to 6 letters, up to 3
# digits, one other symbol), each with the whitespace before it.
_PIECE = re.compile(r"\s*(?:[A-Za-z]{1,6}|\d{1,3}|[^\sA-Za-z\d])")


def token_pieces(text: str) -> list[str]:
    """``text`` as the emulator's tokens (``count_tokens`` of it pieces); joined, ``text``."""
    pieces: list[str] = []
    end = 0
    for match in _PIECE.finditer(text):
        pieces.append(match.group())
        end = match.end()
    if end < len(text):  # trailing whitespace: part of the last token
        if pieces:
            pieces[-1] += text[end:]
        else:
            pieces.append(text[end:])
    return pieces


_VOCAB = (
    "the a model data cloud fast new answer simple value system light river green small "
    "quick step plan build test learn write read story city night water stone paper music "
    "market bright quiet open secure scale cost speed user team idea early later always "
    "often garden ocean forest bridge signal"
).split()
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def seeded_rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _filler(rng: random.Random, n: int) -> list[str]:
    """``n`` pieces of text, each exactly one emulator token."""
    pieces: list[str] = []
    since_period = 0
    for _ in range(n):
        if since_period >= 8 and rng.random() < 0.25:
            pieces.append(".")
            since_period = 0
        else:
            pieces.append(rng.choice(_VOCAB))
            since_period += 1
    return pieces


def _join(pieces: list[str]) -> str:
    out = []
    for piece in pieces:
        out.append(piece if piece == "." else " " + piece)
    return "".join(out)


def _few_shot_answer(inputs: str, rng: random.Random) -> str | None:
    lines = [line for line in inputs.rstrip().split("\n") if line.strip()]
    if not lines:
        return None
    last = lines[-1].rstrip()
    if last.endswith("=>"):
        answers = [line.split("=>", 1)[1].strip() for line in lines[:-1] if "=>" in line]
        answers = [a for a in answers if a]
        return rng.choice(answers) if answers else None
    match = re.search(r"([A-Za-z][A-Za-z ]{0,30}):$", last)
    if match:
        key = match.group(1).split(" ")[-1]
        seen = [line.split(":", 1)[1].strip() for line in lines[:-1]
                if line.startswith(f"{key}:") and 0 < len(line.split(":", 1)[1].split()) <= 3]
        if seen:
            return rng.choice(seen)
        cats = re.search(r"(?:categories|labels|options)\s*:\s*([^\n]+?)\.?\s*$", inputs, re.I | re.M)
        if cats:
            options = [c.strip() for c in cats.group(1).split(",") if c.strip()]
            return rng.choice(options) if options else None
    return None


def _summary(inputs: str, budget: int) -> str | None:
    if not re.search(r"summar|tl;dr", inputs, re.I):
        return None
    # The document is everything but the instruction sentence(s).
    body = re.sub(r"[^.!?\n]*(?:summar|tl;dr)[^.!?\n]*[.!?:]?", " ", inputs, flags=re.I)
    sentences = [s.strip() for s in _SENTENCE.split(body.strip()) if s.strip()]
    out: list[str] = []
    used = 0
    for sentence in sentences:
        cost = count_tokens(sentence)
        if used + cost > budget:
            if not out:  # first sentence alone is too long: cut it word by word
                words: list[str] = []
                for word in sentence.split():
                    if used + count_tokens(word) > budget:
                        break
                    words.append(word)
                    used += count_tokens(word)
                out.append(" ".join(words))
            break
        out.append(sentence)
        used += cost
        if len(out) >= max(1, len(sentences) // 3):  # an extract, not a copy
            break
    return " " + " ".join(out) if out else None


def generate_text(inputs: str, max_new_tokens: int, stop: list[str], seed: Any = None) -> tuple[str, int, str]:
    """Deterministic output: (text, generated_tokens, finish_reason). Stops stay in the text."""
    rng = seeded_rng(inputs, seed)
    answer = _few_shot_answer(inputs, rng)
    if answer is not None:
        head = f" {answer}\n###\n"
        text = head + _join(_filler(rng, max(0, max_new_tokens - count_tokens(head))))
        finish = "length"
    else:
        summary = _summary(inputs, max_new_tokens)
        if summary is not None:
            text, finish = summary, "eos_token"
        else:
            text, finish = _join(_filler(rng, max_new_tokens)), "length"
    # Trim to the token budget (the few-shot head may already exceed a tiny budget).
    while count_tokens(text) > max_new_tokens:
        text = text[:-1]
    cut = None
    for s in stop:
        pos = text.find(s)
        if s and pos != -1 and (cut is None or pos + len(s) < cut):
            cut = pos + len(s)
    if cut is not None:
        text, finish = text[:cut], "stop_sequence"
    return text, count_tokens(text), finish

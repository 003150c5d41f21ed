"""Token estimation without shipping a tokenizer, in both directions.

``lower_bound`` (characters / 4) errs low: the front door refuses a request only
when even that count overflows the model's budget, so it never refuses what the
model would accept (the model's own 422 covers the rest). ``TokenEstimator``
errs high: the summarizer packs chunks with it, so a chunk never overflows.

The Lambda asset may carry only stdlib + boto3 + Powertools, so there is no
Falcon tokenizer at run time. Instead we count cheap "base units" that track
BPE tokens for English prose (one per ASCII word, more for long words, one per
digit, punctuation mark or non-ASCII character), multiply by a per-model scale
and add a safety margin. Base units are additive over whitespace-separated
pieces, which is what lets the chunker pack sentences without re-counting.

When the model refuses a prompt it states the true token count (TGI 422). The
estimator then raises its scale to the observed ratio, so every later chunk of
the same request is sized with the model's own arithmetic, and trades its 8%
margin for 2% (what is left to absorb is how much one chunk's ratio differs
from another's); a chunk that still goes over draws another 422, which raises
the scale again.
"""

from __future__ import annotations

import math
import re
import threading

# One unit per started run of 7 ASCII letters: BPE vocabularies cover common
# words whole, rarer long words split into pieces of roughly 4-7 letters, so a
# word of n letters costs ceil(n / 7). Digits, punctuation and non-ASCII
# characters: one unit each (over-counts accented Latin text a little, which
# errs on the safe side). One regex, one scan: this is the chunker's hot path.
_UNIT = re.compile(r"[A-Za-z]{1,7}|[^A-Za-z\s]")

# Both variants of TGI's validation error state the true `inputs` count.
_TOTAL_TOKENS_RE = re.compile(r"Given: (\d+) `inputs` tokens and (\d+) `max_new_tokens`")
_INPUT_LENGTH_RE = re.compile(r"must have less than (\d+) tokens\. Given: (\d+)")


def lower_bound(text: str) -> int:
    """A deliberately rough, slightly low input-token count (chars / 4)."""
    return math.ceil(len(text) / 4)


def base_units(text: str) -> int:
    """Model-independent size of ``text``; additive over whitespace splits."""
    return len(_UNIT.findall(text))


# The same count with bytes operations only (no per-match objects), for packing
# a long text: ASCII letters -> "a", whitespace -> " ", anything else -> "#"
# (non-ASCII characters become "?" first, whitespace among them " "), then each
# run of 7 letters -> "a" and 6 spaces, so a word of n letters shows ceil(n / 7)
# run starts. Every step keeps one byte per character, so positions in the
# bytes are positions in the text.
_CLASSES = bytes(97 if chr(i).isascii() and chr(i).isalpha() else 32 if chr(i).isspace() else 35 for i in range(256))
_NON_ASCII_SPACE = re.compile(r"(?![\x00-\x7f])\s")


class TextUnits:
    """``base_units`` of many spans of one text, after one pass over it.

    ``units(start, end) == base_units(text[start:end])`` for any span that does
    not start or end inside a run of ASCII letters (paragraphs, sentences and
    words all qualify), at a few C-level counts per span and no re-scan of the
    text by a regex. This is what lets the chunker split megabytes in milliseconds.
    """

    def __init__(self, text: str):
        if not text.isascii():
            text = _NON_ASCII_SPACE.sub(" ", text)
        self._classes = text.encode("ascii", "replace").translate(_CLASSES).replace(b"aaaaaaa", b"a      ")

    def units(self, start: int, end: int) -> int:
        if start >= end:
            return 0
        c = self._classes
        return c.count(b"#", start, end) + c.count(b" a", start, end) + c.count(b"#a", start, end) + (c[start] == 97)


def parse_true_input_tokens(message: str) -> int | None:
    """Return the true ``inputs`` token count stated in a TGI 422 message.

    Works on the raw TGI text and on SageMaker's ModelError wrapping of it
    ("Received client error (422) from primary with message ..."), whose JSON
    escaping leaves the numbers and backticks intact.
    """
    match = _TOTAL_TOKENS_RE.search(message)
    if match:
        return int(match.group(1))
    match = _INPUT_LENGTH_RE.search(message)
    if match:
        return int(match.group(2))
    return None


class TokenEstimator:
    """Calibrated, thread-safe token estimate with a safety margin.

    Args:
        scale: model tokens per base unit. 1.0 fits Falcon's 65k BPE on English
            prose; a 422 raises it for the rest of the request.
        margin: fractional headroom added on top, absorbing estimate noise so a
            chunk packed to 100% of the estimated budget still fits.
        calibrated_margin: the headroom once the scale is an observed ratio (after
            a 422, or ``calibrated=True`` for a scale a run observed before): the
            estimate is then the model's own count for this text, so what is left
            to absorb is how much one chunk's ratio differs from another's (1.5%
            standard deviation for 1000-token chunks of the benchmark's text),
            and a chunk that still goes over draws a 422 that raises the scale again. Never below the headroom that keeps
            the estimate from shrinking on an observation.
        calibrated: ``scale`` is already an observed ratio (a resumed job's).
    """

    def __init__(self, scale: float = 1.0, margin: float = 0.08, *, calibrated_margin: float = 0.02,
                 calibrated: bool = False):
        if scale <= 0 or margin < 0 or calibrated_margin < 0:
            raise ValueError("scale must be > 0 and margins >= 0")
        self._scale = scale
        self.calibrated_margin = min(margin, calibrated_margin)
        self.calibrated = calibrated
        self._headroom = self.calibrated_margin if calibrated else margin
        self.recalibrations = 0
        self._lock = threading.Lock()

    @classmethod
    def resume(cls, scale: float | None, margin: float | None = None) -> TokenEstimator:
        """The estimator a run handed on: its saved ``scale`` and ``margin`` (see ``state``).

        The margin is restored as saved because an observation keeps the headroom
        from shrinking an estimate, so it can sit above ``calibrated_margin``: any
        other value would give other ``tokens_per_unit``, other chunks and so other
        prompts than the handing-over run's, and every checkpoint after its
        recalibration would be missed. A job saved without a margin (before it was
        recorded) resumes as it used to: the scale starts at 1.0 and only an
        observation raises it, so a saved scale above 1.0 is an observed ratio and
        is trusted with ``calibrated_margin``.
        """
        scale = scale or 1.0
        estimator = cls(scale=scale, calibrated=scale > 1.0)
        if margin is not None:
            estimator._headroom = margin
        return estimator

    def state(self) -> tuple[float, float]:
        """``(scale, margin)`` to save for ``resume``, read together (a 422 may change both)."""
        with self._lock:
            return self._scale, self._headroom

    @property
    def scale(self) -> float:
        return self._scale

    @property
    def margin(self) -> float:
        """The headroom in force: ``margin`` until calibrated, then (at most) ``calibrated_margin``."""
        return self._headroom

    @property
    def tokens_per_unit(self) -> float:
        return self._scale * (1.0 + self._headroom)

    def count(self, text: str) -> int:
        return self.from_units(base_units(text))

    def from_units(self, units: int) -> int:
        # The epsilon stops float noise (100 * 1.1 = 110.00000000000001) adding a token.
        return math.ceil(units * self.tokens_per_unit - 1e-9)

    def units_within(self, tokens: int) -> int:
        """Largest number of base units whose estimate stays within ``tokens``."""
        if tokens <= 0:
            return 0
        units = math.floor(tokens / self.tokens_per_unit)
        # Guard against float rounding pushing ceil() one over the budget.
        while units > 0 and self.from_units(units) > tokens:
            units -= 1
        return units

    def observe(self, text: str, true_tokens: int) -> bool:
        """Learn from a true count for ``text``; return True if the scale grew.

        The scale only ratchets up within a request: under-estimating costs a
        failed call, over-estimating costs a few percent of fill. The first
        observation also swaps ``margin`` for ``calibrated_margin``, but never
        so that an estimate shrinks: the headroom kept is at least what makes
        the new estimate as large as the old one.
        """
        units = base_units(text)
        if units <= 0 or true_tokens <= 0:
            return False
        observed = true_tokens / units
        with self._lock:
            if observed <= self._scale:
                return False
            before = self.tokens_per_unit
            self._scale = observed
            self._headroom = max(self.calibrated_margin, min(self._headroom, before / observed - 1.0))
            self.calibrated = True
            self.recalibrations += 1
            return True

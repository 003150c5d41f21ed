"""A scripted stand-in for a TGI endpoint, for pure-logic tests.

It counts tokens its own way (characters / 3.6, rounded up), unlike the
estimator, so calibration is exercised the way a real model exercises it.
"""

from __future__ import annotations

import math
import re
import threading
import time

from inference.errors import InvocationFailed, ModelFailed, ModelInputRejected


def true_tokens(text: str, chars_per_token: float = 3.6) -> int:
    return math.ceil(len(text) / chars_per_token)


class FakeTGI:
    """Callable ``generate(prompt, params)`` with TGI's length validation.

    Args:
        chars_per_token: the fake tokenizer's density.
        faults: ``{call_number: exception}`` raised instead of answering.
        fail_when: ``predicate(prompt) -> exception | None`` checked each call.
        latency_s: sleep per call, to exercise concurrency.
        count: ``count(prompt) -> tokens``, the fake tokenizer, instead of ``chars_per_token``.
    """

    def __init__(self, max_input_length=1024, max_total_tokens=2048, chars_per_token=3.6,
                 faults=None, fail_when=None, latency_s=0.0, count=None):
        self.max_input_length = max_input_length
        self.max_total_tokens = max_total_tokens
        self.chars_per_token = chars_per_token
        self.faults = dict(faults or {})
        self.fail_when = fail_when
        self.latency_s = latency_s
        self.count = count or (lambda prompt: true_tokens(prompt, chars_per_token))
        self.prompts: list[str] = []
        self.answered: list[str] = []
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def __call__(self, prompt: str, params: dict) -> str:
        with self._lock:
            self.calls += 1
            number = self.calls
            self.prompts.append(prompt)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.latency_s:
                time.sleep(self.latency_s)
            if number in self.faults:
                raise self.faults[number]
            if self.fail_when is not None:
                exc = self.fail_when(prompt)
                if exc is not None:
                    raise exc
            n = self.count(prompt)
            new = params["max_new_tokens"]
            if n > self.max_input_length:
                raise ModelInputRejected(
                    f"Input validation error: `inputs` must have less than {self.max_input_length} tokens. Given: {n}", input_tokens=n)
            if n + new > self.max_total_tokens:
                raise ModelInputRejected(
                    f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= {self.max_total_tokens}. "
                    f"Given: {n} `inputs` tokens and {new} `max_new_tokens`", input_tokens=n)
            # Deterministic "summary": the first words of the text part.
            body = prompt.split("\n\n", 1)[-1]
            words = body.split()[:12]
            out = "S[" + " ".join(words) + "]"
            with self._lock:
                self.answered.append(prompt)
            return out
        finally:
            with self._lock:
                self.active -= 1


__all__ = ["FakeTGI", "true_tokens", "InvocationFailed", "ModelFailed", "ModelInputRejected"]


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()

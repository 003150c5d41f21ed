"""The model calls of one summarization: checkpoints, retries, and the counters they keep.

A call whose prompt (with its output cap) finished before is read back from the
checkpoints (a resumed job). Any other is sent, and retried with full-jitter
backoff while the error is retryable; a 422 "too many tokens" goes back to the
caller, which re-splits; any other failure fails the chunk (``ChunkFailed``).
"""

from __future__ import annotations

import hashlib
import random
import threading
import time

from inference.errors import InferenceError, ModelFailed, ModelInputRejected
from inference.prompts import PromptFormat
from inference.tokens import TokenEstimator
from summarizer.errors import ChunkFailed, DeadlineExceeded
from summarizer.prompts import Stage
from summarizer.run_config import Checkpoints, Generate, SummarizeConfig
from summarizer.slots import Cancelled
from summarizer.stats import SummaryStats


class ModelCalls:
    """One run's model calls, from any of its threads: ``stats`` is updated under ``lock``,
    and ``abort`` (set when a sibling failed) stops every call at its next attempt."""

    def __init__(self, generate: Generate, fmt: PromptFormat, estimator: TokenEstimator,
                 config: SummarizeConfig, stats: SummaryStats, lock: threading.Lock, abort: threading.Event, *,
                 checkpoints: Checkpoints | None = None, deadline: float | None = None,
                 rng: random.Random | None = None):
        self._generate = generate
        self.format = fmt
        self.estimator = estimator
        self.config = config
        self.stats = stats
        self._lock = lock
        self._abort = abort
        self._checkpoints = checkpoints
        self._deadline = deadline
        self._rng = rng or random.Random()

    def call(self, stage: Stage, index: int, prompt: str, max_new: int) -> str:
        params = {"max_new_tokens": max_new, "do_sample": False, "return_full_text": False}
        if self.format.stop:
            params["stop"] = list(self.format.stop)
        key = hashlib.sha256(f"{max_new}\x00{prompt}".encode()).hexdigest()[:32]
        saved = self._saved(key)
        if saved is not None:
            return saved
        out = self._with_retries(stage, index, prompt, params)
        if self._checkpoints is not None:
            self._checkpoints.put(key, out)
        return out

    def _saved(self, key: str) -> str | None:
        if self._checkpoints is None:
            return None
        saved = self._checkpoints.get(key)
        if saved is not None:
            with self._lock:
                self.stats.checkpoint_hits += 1
        return saved

    def _with_retries(self, stage: Stage, index: int, prompt: str, params: dict) -> str:
        attempts = 0
        while True:
            if self._abort.is_set():
                raise Cancelled()
            if self._deadline is not None and time.monotonic() >= self._deadline:
                raise DeadlineExceeded(f"time budget ran out before {stage.value} chunk {index}")
            attempts += 1
            with self._lock:
                self.stats.calls += 1
                self.stats.retries += attempts > 1
                self.stats.input_tokens += self.estimator.count(prompt)
            try:
                generated = self._generate(prompt, params)
                raw = generated if isinstance(generated, str) else generated.text
                out_tokens = None if isinstance(generated, str) else getattr(generated, "generated_tokens", None)
                out = self.format.clean(raw)
                if not out:
                    raise ModelFailed("model returned an empty summary")
            except ModelInputRejected as exc:
                if exc.too_long:
                    raise
                raise ChunkFailed(stage.value, index, exc, attempts) from exc
            except InferenceError as exc:
                if not exc.retryable or attempts >= self.config.max_attempts:
                    raise ChunkFailed(stage.value, index, exc, attempts) from exc
                self._backoff(attempts, exc.retry_after)
                continue
            except Exception as exc:  # an adapter bug must still name the chunk
                raise ChunkFailed(stage.value, index, exc, attempts) from exc
            with self._lock:
                self.stats.output_tokens += out_tokens or self.estimator.count(out)
            return out

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        cfg = self.config
        delay = self._rng.uniform(0, min(cfg.backoff_cap_s, cfg.backoff_base_s * 2 ** (attempt - 1)))
        if retry_after:
            delay = max(delay, min(retry_after, cfg.backoff_cap_s))
        # Waiting on the abort event lets a sibling's failure cut the sleep short.
        if self._abort.wait(delay):
            raise Cancelled()

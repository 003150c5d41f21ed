"""What a summarization run is given: the model call, its checkpoints, the model's
token limits and the run's knobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

# Returns the generated text, or an object with ``.text`` and (optionally)
# ``.generated_tokens`` when the adapter knows the true output token count.
Generate = Callable[[str, dict], Any]


class Checkpoints(Protocol):
    """Durable per-call results so a resumed job skips finished calls.

    Keys are content hashes of the prompt and its parameters, so they stay
    valid even if a resumed run groups the work differently.
    """

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, summary: str) -> None: ...


@dataclass(frozen=True)
class ModelLimits:
    max_input_length: int = 1024
    max_total_tokens: int = 2048


@dataclass(frozen=True)
class SummarizeConfig:
    """Knobs of one summarization run.

    Args:
        max_concurrency: parallel model calls per stage (SUMMARIZE_MAX_CONCURRENCY).
        map_max_new_tokens: output cap for map and collapse summaries.
        final_max_new_tokens: output cap for the single or reduce call.
        max_attempts: tries per call, first included, for retryable errors.
        reserve_output_in_input: True sizes chunks as MAX_INPUT_LENGTH - prompt -
            max_new_tokens (issue 5's rule). The default, False, uses the limit
            TGI enforces, min(MAX_INPUT_LENGTH, MAX_TOTAL_TOKENS - max_new_tokens)
            - prompt: ~25% bigger chunks and fewer calls for Falcon's 1024/2048.
        seconds_per_call_base, seconds_per_output_token: latency model used
            only to decide sync vs async (defaults: 7B on a g5).
    """

    max_concurrency: int = 8
    map_max_new_tokens: int = 200
    final_max_new_tokens: int = 400
    max_attempts: int = 4
    backoff_base_s: float = 0.25
    backoff_cap_s: float = 8.0
    max_resplits: int = 2
    max_rounds: int = 8
    reserve_output_in_input: bool = False
    seconds_per_call_base: float = 0.05
    seconds_per_output_token: float = 0.03

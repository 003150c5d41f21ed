"""What a summarization run reports: its summary, its counters, and the work it
expects before it starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class SummaryStats:
    chunks: int = 0
    calls: int = 0
    retries: int = 0
    resplits: int = 0
    recalibrations: int = 0
    checkpoint_hits: int = 0
    rounds: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    map_budget_tokens: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SummaryResult:
    summary: str
    stats: SummaryStats = field(default_factory=SummaryStats)


@dataclass(frozen=True)
class WorkEstimate:
    chunks: int
    calls: int
    seconds: float

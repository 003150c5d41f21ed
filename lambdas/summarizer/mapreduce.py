"""Map-reduce summarization over an injected ``generate(prompt, params) -> text``.

Flow: one call when the whole text fits; otherwise map every chunk in parallel
(bounded) and, while the map runs, collapse groups of neighbouring summaries as
soon as each group is known (a collapse takes the next free slot before any
map chunk still waiting), planned so that the reduce can read the map's last
summaries as they are (see ``collapse_tree.CollapseTree``), then reduce what
is left, collapsing just enough of its end first if it does not fit one call.
Every model call is
retried with full-jitter backoff when the error is retryable. A 422 "too many
tokens" recalibrates the shared estimator and re-splits that chunk into parts
of about equal size, mapped side by side; the text not yet sent is re-split
under the new calibration before it goes out. If any chunk still fails, the
whole request fails with ``ChunkFailed`` naming it: there is no partial result.

The pieces: ``run_config`` (what a run is given), ``stats`` (what it reports),
``collapse_tree`` (which summaries to collapse), ``slots`` (bounded calls in
flight), ``model_calls`` (checkpoints and retries of each call); this module
schedules them.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from inference.errors import ModelInputRejected
from inference.prompts import PromptFormat
from inference.tokens import TokenEstimator, base_units
from summarizer.chunking import Chunk, split_text
from summarizer.collapse_tree import CollapseTree, Node
from summarizer.errors import ChunkFailed, InvalidInput, SummarizerError
from summarizer.model_calls import ModelCalls
from summarizer.prompts import Stage, Style, instruction, prompt_format
from summarizer.run_config import Checkpoints, Generate, ModelLimits, SummarizeConfig
from summarizer.slots import Slots
from summarizer.stats import SummaryResult, SummaryStats, WorkEstimate


@dataclass(frozen=True)
class _Parts:
    """What a map chunk that proved too long became: parts to map as chunks of their own."""

    texts: list[str]


@dataclass
class _MapQueue:
    """The map's work not yet sent, in the order it takes free slots: parts of
    re-split chunks, then closed collapse groups, then the next chunk of ``text``."""

    text: str
    chunks: list[Chunk]
    calibration: int  # the estimator's recalibrations when ``chunks`` were cut
    submitted: int = 0  # chunks sent
    pieces: int = 0  # map chunks done, counting re-split parts
    split_extra: int = 0  # map nodes added by re-splitting chunks into parts
    parts: list[tuple[Node, str]] = field(default_factory=list)  # parts of re-split chunks waiting for a slot
    ready: list[Node] = field(default_factory=list)  # closed collapse groups waiting for a slot, oldest first

    def waiting(self) -> bool:
        return bool(self.parts or self.ready or self.submitted < len(self.chunks))


class Summarizer:
    """One summarization request. Not reused across requests: it holds state.

    Args:
        generate: the model call; raises ``inference.errors`` (a 422 about
            length re-splits, a ``retryable`` error retries, any other fails the chunk).
        family: prompt family (``falcon``...).
        limits: the model's token limits.
        config: run knobs.
        estimator: token estimator; pass one with a saved scale to resume.
        checkpoints: optional durable store of finished calls.
        on_progress: ``(chunks_done, chunks_total)`` after each map chunk.
        deadline: ``time.monotonic()`` value after which no new call starts.
        rng: randomness for backoff jitter (injectable for tests).
    """

    def __init__(
        self,
        generate: Generate,
        family: str = "falcon",
        limits: ModelLimits = ModelLimits(),
        config: SummarizeConfig = SummarizeConfig(),
        *,
        estimator: TokenEstimator | None = None,
        checkpoints: Checkpoints | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        deadline: float | None = None,
        rng: random.Random | None = None,
    ):
        self.format: PromptFormat = prompt_format(family)
        self.limits = limits
        self.config = config
        self.estimator = estimator or TokenEstimator()
        self._on_progress = on_progress
        self._abort = threading.Event()
        self._lock = threading.Lock()
        self.stats = SummaryStats()
        self._extra_parts: dict[int, int] = {}  # map chunk index -> pieces added by re-splitting it
        self._calls = ModelCalls(generate, self.format, self.estimator, config, self.stats, self._lock, self._abort,
                                 checkpoints=checkpoints, deadline=deadline, rng=rng)

    # -- budgets ---------------------------------------------------------
    def prompt_limit(self, max_new_tokens: int) -> int:
        """Most tokens a whole prompt may have for a given output cap."""
        if self.config.reserve_output_in_input:
            return self.limits.max_input_length - max_new_tokens
        return min(self.limits.max_input_length, self.limits.max_total_tokens - max_new_tokens)

    def text_budget(self, instr: str, max_new_tokens: int) -> int:
        """Tokens left for the text once the prompt template is accounted for."""
        overhead = self.estimator.count(self.format.render(instr, ""))
        budget = self.prompt_limit(max_new_tokens) - overhead
        if budget < 16:
            raise InvalidInput(
                f"max_new_tokens={max_new_tokens} leaves {budget} tokens for text "
                f"within max_input_length={self.limits.max_input_length}"
            )
        return budget

    def _final_max_new(self, max_words: int | None) -> int:
        if not max_words:
            return self.config.final_max_new_tokens
        # ~1.3 tokens per English word plus room for bullet markers.
        return min(self.config.final_max_new_tokens, max(32, math.ceil(max_words * 1.5) + 16))

    # -- public API --------------------------------------------------------
    def estimate_work(self, text: str) -> WorkEstimate:
        """Calls and worst-case seconds, without splitting or calling anything."""
        cfg = self.config
        map_instr = instruction(Stage.MAP)
        units = base_units(text)
        fits_units = self.estimator.units_within(self.text_budget(instruction(Stage.SINGLE), cfg.final_max_new_tokens))
        per_call = cfg.seconds_per_call_base + cfg.seconds_per_output_token * cfg.map_max_new_tokens
        final_call = cfg.seconds_per_call_base + cfg.seconds_per_output_token * cfg.final_max_new_tokens
        if units <= fits_units:
            return WorkEstimate(1, 1, final_call)
        chunk_units = max(1, int(self.estimator.units_within(self.text_budget(map_instr, cfg.map_max_new_tokens)) * 0.95))
        chunks = math.ceil(units / chunk_units)
        calls, seconds, level = chunks, math.ceil(chunks / cfg.max_concurrency) * per_call, chunks
        # Each collapse round packs several map-sized outputs into one input.
        shrink = max(2, chunk_units // max(1, cfg.map_max_new_tokens))
        while level * cfg.map_max_new_tokens > fits_units and level > 1:
            level = math.ceil(level / shrink)
            calls += level
            seconds += math.ceil(level / cfg.max_concurrency) * per_call
        return WorkEstimate(chunks, calls + 1, seconds + final_call)

    def summarize(self, text: str, style: Style = Style.PARAGRAPH, max_words: int | None = None) -> SummaryResult:
        started = time.monotonic()
        try:
            summary = self._summarize(text, Style(style), max_words)
        finally:
            self.stats.elapsed_s = round(time.monotonic() - started, 3)
            self.stats.recalibrations = self.estimator.recalibrations
        return SummaryResult(summary, self.stats)

    # -- orchestration -----------------------------------------------------
    def _summarize(self, text: str, style: Style, max_words: int | None) -> str:
        if not text or not text.strip():
            raise InvalidInput("text is empty")
        self.format.check(text, "text")
        cfg = self.config
        final_new = self._final_max_new(max_words)

        single = instruction(Stage.SINGLE, style, max_words)
        if self.estimator.count(self.format.render(single, text)) <= self.prompt_limit(final_new):
            try:
                self.stats.chunks = self.stats.rounds = 1
                self._progress(0, 1)
                out = self._calls.call(Stage.SINGLE, 0, self.format.render(single, text), final_new)
                self._progress(1, 1)
                return out
            except ModelInputRejected as exc:
                # The estimate was optimistic: learn and fall through to map-reduce.
                self._learn(self.format.render(single, text), exc)

        map_instr = instruction(Stage.MAP)
        budget = self.text_budget(map_instr, cfg.map_max_new_tokens)
        self.stats.map_budget_tokens = budget
        reduce_instr = instruction(Stage.REDUCE, style, max_words)
        slots = Slots(self._abort, cfg.max_concurrency)
        try:
            tree = self._map_and_collapse(slots, text, budget, reduce_instr, final_new)
            return self._reduce(slots, tree, reduce_instr, final_new)
        finally:
            slots.close()

    # -- the map, with collapses in its slots --------------------------------
    def _map_and_collapse(self, slots: Slots, text: str, budget: int, reduce_instr: str,
                          final_new: int) -> CollapseTree:
        """Map every chunk and collapse neighbouring summaries while the map runs.

        Chunks are submitted in order and only as slots free up, so when a 422
        recalibrates the estimator the not-yet-submitted tail (one contiguous
        span of ``text``) is re-split under the new calibration instead of each
        of its chunks being halved later. A collapse is started as soon as its
        group is known (see ``CollapseTree.close_groups``) and goes before any map
        chunk still waiting for a slot, so the collapses finish with the map
        instead of forming rounds after it.
        """
        chunks = split_text(text, budget, self.estimator)
        self.stats.chunks = len(chunks)
        self._progress(0, len(chunks))
        tree = CollapseTree(self.config.max_rounds, keep_max=self.config.max_concurrency)
        queue = _MapQueue(text, chunks, self.estimator.recalibrations)
        while True:
            self._resplit_unsent(queue)
            tree.total = len(queue.chunks) + queue.split_extra
            queue.ready += tree.close_groups(*self._collapse_room(reduce_instr, final_new))
            self._fill_slots(slots, tree, queue)
            if not slots.busy():
                return tree
            self._collect_map(slots, tree, queue)

    def _resplit_unsent(self, queue: _MapQueue) -> None:
        """After a recalibration, split the chunks not sent yet again under it."""
        if self.estimator.recalibrations == queue.calibration or queue.submitted >= len(queue.chunks):
            return
        queue.calibration = self.estimator.recalibrations
        submitted, offset, before = queue.submitted, queue.chunks[queue.submitted].start, len(queue.chunks)
        budget = self.text_budget(instruction(Stage.MAP), self.config.map_max_new_tokens)
        tail = split_text(queue.text[offset:], budget, self.estimator)
        queue.chunks = queue.chunks[:submitted] + [
            Chunk(submitted + c.index, c.text, c.start + offset, c.end + offset, c.units) for c in tail
        ]
        with self._lock:
            self.stats.chunks += len(queue.chunks) - before

    def _collapse_room(self, reduce_instr: str, final_new: int) -> tuple[int, int]:
        """(limit, room): the units one collapse may read, and the units the reduce may read."""
        limit = self.estimator.units_within(self.text_budget(instruction(Stage.COLLAPSE), self.config.map_max_new_tokens))
        room = self.estimator.units_within(self.text_budget(reduce_instr, final_new))
        return limit, room

    def _fill_slots(self, slots: Slots, tree: CollapseTree, queue: _MapQueue) -> None:
        """Give every free slot the next piece of waiting work (``_MapQueue``'s order)."""
        max_new = self.config.map_max_new_tokens
        map_instr, collapse_instr = instruction(Stage.MAP), instruction(Stage.COLLAPSE)
        while slots.free() and queue.waiting():
            if queue.parts:
                node, part = queue.parts.pop(0)
                slots.submit(node, self._piece, Stage.MAP, node.index, map_instr, part, max_new, 1)
            elif queue.ready:
                node = queue.ready.pop(0)
                slots.submit(node, self._piece, Stage.COLLAPSE, node.index, collapse_instr, node.source, max_new, 0)
            else:
                chunk = queue.chunks[queue.submitted]
                queue.submitted += 1
                node = tree.add_map(chunk.index)
                slots.submit(node, self._piece, Stage.MAP, chunk.index, map_instr, chunk.text, max_new, 0, True)

    def _collect_map(self, slots: Slots, tree: CollapseTree, queue: _MapQueue) -> None:
        """Record the calls that finished; report map progress."""
        for node, summary in slots.next_done():
            if isinstance(summary, _Parts):
                # A chunk that proved too long: its parts take slots of their own,
                # in its place in the tree, instead of running one after another.
                queue.parts += zip(tree.split_map(node, len(summary.texts)), summary.texts)
                queue.split_extra += len(summary.texts) - 1
                continue
            node.finish(summary)
            if node.level == 0:
                with self._lock:
                    queue.pieces += 1 + self._extra_parts.pop(node.index, 0)
                self._progress(queue.pieces, self.stats.chunks)

    def _reduce(self, slots: Slots, tree: CollapseTree, reduce_instr: str, final_new: int) -> str:
        """The final call over what is left; collapse from the end first if it does not fit."""
        cfg = self.config
        collapse_instr = instruction(Stage.COLLAPSE)
        while True:
            nodes = tree.frontier()
            reduce_prompt = self.format.render(reduce_instr, "\n\n".join(n.summary for n in nodes))
            if self.estimator.count(reduce_prompt) <= self.prompt_limit(final_new):
                try:
                    out = self._calls.call(Stage.REDUCE, 0, reduce_prompt, final_new)
                    self.stats.rounds = 2 + max(n.level for n in nodes)
                    return out
                except ModelInputRejected as exc:
                    # Collapse once more under the corrected calibration.
                    self._learn(reduce_prompt, exc)
            for node in tree.collapse_tail(*self._collapse_room(reduce_instr, final_new)):
                slots.submit(node, self._piece, Stage.COLLAPSE, node.index, collapse_instr, node.source,
                             cfg.map_max_new_tokens, 0)
            while slots.busy():
                for node, summary in slots.next_done():
                    node.finish(summary)

    def _piece(self, stage: Stage, index: int, instr: str, text: str, max_new: int, depth: int,
               split_out: bool = False) -> str | _Parts:
        """Summarize one chunk, re-splitting it when it proves too long: in place
        (the parts' summaries joined), or with ``split_out`` by returning the
        parts for the scheduler to map side by side."""
        prompt = self.format.render(instr, text)
        cause = None
        if self.estimator.count(prompt) <= self.prompt_limit(max_new):
            try:
                return self._calls.call(stage, index, prompt, max_new)
            except ModelInputRejected as exc:
                self._learn(prompt, exc)
                cause = exc
        # Else split before the estimator learned the model's real arithmetic.
        parts = self._split_again(stage, index, instr, text, max_new, depth, cause)
        if split_out:
            return _Parts([p.text for p in parts])
        if stage is Stage.MAP:
            with self._lock:
                self._extra_parts[index] = self._extra_parts.get(index, 0) + len(parts) - 1
        return "\n\n".join(self._piece(stage, index, instr, p.text, max_new, depth + 1) for p in parts)

    def _split_again(self, stage, index, instr, text, max_new, depth, cause) -> list[Chunk]:
        """A too-long text in parts of about equal size under the current calibration.

        Equal parts rather than one full part and a remainder: each has room to
        spare if this text's ratio of tokens to units is not the one the scale
        now holds, so a part is not refused again.
        """
        if depth >= self.config.max_resplits:
            raise ChunkFailed(stage.value, index, cause or SummarizerError("still over budget after re-splitting"), depth + 1)
        budget = self.text_budget(instr, max_new)
        parts = split_text(text, budget, self.estimator)
        units = sum(p.units for p in parts)
        for slack in (1.1, 1.25, 1.5):
            if len(parts) < 2:
                break
            even = split_text(text, min(budget, self.estimator.from_units(math.ceil(units * slack / len(parts)))),
                              self.estimator)
            if len(even) == len(parts):
                parts = even
                break
        with self._lock:
            self.stats.resplits += 1
            if stage is Stage.MAP:
                self.stats.chunks += len(parts) - 1
        return parts

    def _learn(self, prompt: str, exc: ModelInputRejected) -> None:
        if exc.input_tokens:
            self.estimator.observe(prompt, exc.input_tokens)
        else:
            # No count stated: assume we were 25% short, enough to force a split.
            self.estimator.observe(prompt, math.ceil(self.estimator.count(prompt) * 1.25))

    def _progress(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)

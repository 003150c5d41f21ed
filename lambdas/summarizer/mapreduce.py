"""Map-reduce summarization over an injected ``generate(prompt, params) -> text``.

Flow: one call when the whole text fits; otherwise map every chunk in parallel
(bounded) and, while the map runs, collapse groups of neighbouring summaries as
soon as each group is known (a collapse takes the next free slot before any
map chunk still waiting), planned so that the reduce can read the map's last
summaries as they are (see ``_Tree``), then reduce what is left, collapsing
just enough of its end first if it does not fit one call. Every model call is
retried with full-jitter backoff when the error is retryable. A 422 "too many
tokens" recalibrates the shared estimator and re-splits that chunk into parts
of about equal size, mapped side by side; the text not yet sent is re-split
under the new calibration before it goes out. If any chunk still fails, the
whole request fails with ``ChunkFailed`` naming it: there is no partial result.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol

from summarizer.chunking import Chunk, split_text
from inference.errors import InferenceError, ModelFailed, ModelInputRejected
from summarizer.errors import ChunkFailed, DeadlineExceeded, InvalidInput, SummarizerError
from summarizer.prompts import PromptFormat, Stage, Style, instruction, prompt_format
from inference.tokens import TokenEstimator, base_units

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


@dataclass(frozen=True)
class _Parts:
    """What a map chunk that proved too long became: parts to map as chunks of their own."""

    texts: list[str]


class _Cancelled(Exception):
    """A sibling call failed; stop quietly so the real error surfaces."""


@dataclass(eq=False)
class _Node:
    """One summary in the collapse tree: a map chunk's (level 0) or a collapse's (level >= 1).

    ``source`` is what a collapse summarizes (its group's summaries, joined);
    ``summary`` is None until the call has finished. ``leaves`` and
    ``leaf_units`` are the map summaries it stands for and their units (set
    when a map summary finishes, or when its group is closed).
    """

    level: int
    index: int
    source: str = ""
    summary: str | None = None
    units: int = 0
    leaves: int = 1
    leaf_units: int = 0

    def finish(self, summary: str) -> None:
        self.summary, self.units, self.source = summary, base_units(summary), ""
        if self.level == 0:
            self.leaf_units = self.units


class _Tree:
    """The summaries so far, and which of them to collapse next.

    ``levels[d]`` holds the level-d summaries in document order and ``heads[d]``
    is the first of them not yet taken into a collapse; the frontier (what the
    reduce would read) is every level's untaken part, highest level first,
    which is document order. Groups are packed greedily from a head, so they
    depend only on the summaries' sizes and on the number of map chunks, never
    on which call finished first: every decision is taken on a prefix of one
    level's finished summaries, in document order, so a resumed or replayed
    job builds the same prompts and finds them in its checkpoints.

    The plan, once the map summaries are known to be more than the reduce can
    read (the ones finished so far, or the first ``keep_max`` of them times the
    number of chunks): the reduce reads the last ``keep`` map summaries as they
    are (``keep_max``, the concurrency, fewer when the reduce has little room):
    they finish in the map's last wave, too late for a collapse that would not
    hold the reduce up. Before them, map summaries are collapsed in groups as
    full as the collapse prompt allows, the last group closing at that
    boundary. While the map runs, once the expected reduce input (every summary
    still to come counted at the mean size so far) is over the reduce's room
    less one map summary, the first collapse outputs are collapsed one level
    further, in the smallest group that brings it one more summary under (the
    expectation moves by about that much as summaries come in), never with an
    output that comes too late to be collapsed again without holding the
    reduce up; the same rule holds one level up for a very long text. A group
    closes only while the expected reduce input is over that target, so a text
    whose summaries fit one reduce with a summary to spare pays for no collapse.
    """

    def __init__(self, max_rounds: int, keep_max: int = 8):
        self.levels: list[list[_Node]] = [[]]
        self.heads = [0]
        self.max_rounds = max_rounds
        self.total = 0  # map chunks planned (grows when a 422 re-splits the text not yet sent)
        self.keep_max = keep_max
        self.keep = 0  # the last ``keep`` map summaries go to the reduce as they are
        self._flat: list[_Node] | None = None  # the frontier, once the map is over
        self._mean = 0.0  # mean units of the map summaries that opened the plan; 0 until then
        self._prefix = self._prefix_units = 0
        self._taken_units = 0  # units of the map summaries before heads[0]

    def add_map(self, index: int) -> _Node:
        node = _Node(0, index)
        self.levels[0].append(node)
        return node

    def split_map(self, node: _Node, count: int) -> list[_Node]:
        """Replace an unfinished map node with ``count`` nodes in its place (its re-split parts).

        Safe at any time: no group, and no opening prefix, reaches past an unfinished node.
        """
        at = self.levels[0].index(node)
        parts = [_Node(0, node.index) for _ in range(count)]
        self.levels[0][at:at + 1] = parts
        return parts

    def frontier(self) -> list[_Node]:
        if self._flat is not None:
            return self._flat
        return [n for d in range(len(self.levels) - 1, -1, -1) for n in self.levels[d][self.heads[d]:]]

    def close_groups(self, limit: int, room: int) -> list[_Node]:
        """New collapses whose groups (at most ``limit`` units each) are decided."""
        if not self._open(room):
            return []
        target = room - self._mean
        closed = self._close_map_groups(limit, target)
        for level in range(1, len(self.levels)):
            closed += self._close_outputs(level, limit, target)
        return closed

    def _open(self, room: int) -> bool:
        mapped = self.levels[0]
        sample = min(self.total, max(2, self.keep_max))
        while not self._mean and self._prefix < len(mapped) and mapped[self._prefix].summary is not None:
            self._prefix_units += mapped[self._prefix].units
            self._prefix += 1
            mean = self._prefix_units / self._prefix
            expected = self._prefix_units + max(0, self.total - self._prefix) * mean
            if self._prefix_units > room or (self._prefix >= sample and expected > room - mean):
                self._mean = max(mean, 1.0)
        if self._mean:
            # Room for the kept summaries, three collapse outputs (one collapsed again, the
            # last one or two too late for that) and one summary to spare.
            self.keep = max(0, min(self.keep_max, self.total - 2, int(room / self._mean) - 4))
        return bool(self._mean)

    def _close_map_groups(self, limit: int, target: float) -> list[_Node]:
        """Full groups of map summaries, and the last one before the kept tail once
        complete; each only while the expected reduce input, with every map
        summary after it read as it is (each collapse counted at the mean map
        summary's size), is over ``target``."""
        nodes, head, closed = self.levels[0], self.heads[0], []
        boundary = self.total - self.keep
        groups = len(self.levels[1]) if len(self.levels) > 1 else 0
        while True:
            end, size, stop = head, 0, min(len(nodes), boundary)
            while end < stop and nodes[end].summary is not None and size + nodes[end].units <= limit:
                size += nodes[end].units
                end += 1
            if end == boundary and end - head >= 2:
                pass  # the last group before the kept tail (one summary alone is not worth a call)
            elif end < stop and nodes[end].summary is not None:
                end = max(end, head + 1)  # full; a summary over the limit on its own is collapsed alone
                size = sum(n.units for n in nodes[head:end])
            else:
                break
            mean = (self._taken_units + size) / end
            if groups * mean + size + (self.total - end) * mean <= target:
                break  # the rest fits the reduce as it is
            closed.append(self._collapse(nodes[head:end]))
            self._taken_units += size
            groups += 1
            head = end
        self.heads[0] = head
        return closed

    def _close_outputs(self, level: int, limit: int, target: float) -> list[_Node]:
        """Groups of collapse outputs (``level`` >= 1), decided on that level's
        summaries finished so far, in order.

        While the expected reduce input is over ``target``, the smallest group
        from the head that brings it one summary under closes; else a full one; else, when
        the next summary of this level would come too late to be collapsed
        again without holding the reduce up (it holds map summaries from the
        last ``level * keep_max`` before the kept tail: about one wave of calls
        per level above the map), whatever the group holds by then. Late
        summaries go to the reduce as they are.
        """
        nodes, head, closed = self.levels[level], self.heads[level], []
        boundary = self.total - self.keep
        late = boundary - level * self.keep_max  # a summary holding map summaries past this one is late
        higher = len(self.levels[level + 1]) if len(self.levels) > level + 1 else 0  # outputs of groups so far
        leaves = leaf_units = units = 0
        for n in nodes[:head]:
            leaves, leaf_units, units = leaves + n.leaves, leaf_units + n.leaf_units, units + n.units
        j, open_units = head, 0  # open_units: this level's summaries from head to j, not yet in a group
        while j < len(nodes) and nodes[j].summary is not None:
            leaves, leaf_units, units = leaves + nodes[j].leaves, leaf_units + nodes[j].leaf_units, units + nodes[j].units
            if leaves > late:
                break
            open_units += nodes[j].units
            mean_out, mean_map, per_group = units / (j + 1), leaf_units / max(1, leaves), leaves / (j + 1)
            rest = max(0, boundary - leaves)  # map summaries before the tail not in one of these yet
            to_come = (math.ceil(rest / per_group) * mean_out) if rest >= 2 else rest * mean_map
            expected = higher * mean_out + open_units + to_come + (self.total - boundary) * mean_map
            next_late = min(boundary, leaves + per_group) > late
            aim = target - mean_out  # once over, one summary further under: predictions move by about that
            while expected > target and j > head:
                end, size = head, 0
                while end <= j and size + nodes[end].units <= limit:
                    size += nodes[end].units
                    end += 1
                    if end - head >= 2 and expected - size + mean_out <= aim:
                        break
                if end > j and expected - size + mean_out > aim and not next_late:
                    break  # not enough yet: wait for the group to grow
                end = max(end, head + 1)  # a summary over the limit on its own is collapsed alone
                size = sum(n.units for n in nodes[head:end])
                closed.append(self._collapse(nodes[head:end]))
                higher += 1
                head = end
                open_units -= size
                expected += mean_out - size
            j += 1
        self.heads[level] = head
        return closed

    def collapse_tail(self, limit: int, room: int) -> list[_Node]:
        """After the map: collapse just enough of the frontier's end (its least
        summarized part) that the rest, with each new collapse counted at the
        mean size of the collapses so far, fits ``room`` units."""
        nodes = self.frontier()
        outputs = [n.units for n in nodes if n.level > 0] or [n.units for n in nodes]
        expected = sum(outputs) // len(outputs)
        total = sum(n.units for n in nodes)
        flat: list[_Node] = []
        end = len(nodes)
        while end > 0 and (total > room or not flat):
            start, size = end - 1, nodes[end - 1].units
            while start > 0 and size + nodes[start - 1].units <= limit and (
                    end - start < 2 or total - size + expected > room):
                start -= 1
                size += nodes[start].units
            flat.append(self._collapse(nodes[start:end]))
            total += expected - size
            end = start
        self._flat = nodes[:end] + flat[::-1]
        return flat[::-1]

    def _collapse(self, group: list[_Node]) -> _Node:
        level = 1 + max(n.level for n in group)
        if level >= self.max_rounds:
            raise ChunkFailed(Stage.COLLAPSE.value, 0, SummarizerError(
                f"summaries still too long for one call after {self.max_rounds} rounds"), 0)
        if level == len(self.levels):
            self.levels.append([])
            self.heads.append(0)
        node = _Node(level, len(self.levels[level]), "\n\n".join(n.summary for n in group),
                     leaves=sum(n.leaves for n in group), leaf_units=sum(n.leaf_units for n in group))
        self.levels[level].append(node)  # after the map only for numbering: the frontier is flat then
        return node


class _Slots:
    """At most ``size`` model calls in flight on one pool; the first real failure stops them all."""

    def __init__(self, abort: threading.Event, size: int):
        self._abort = abort
        self._size = max(1, size)
        self._pool = ThreadPoolExecutor(max_workers=self._size)
        self._pending: dict = {}

    def free(self) -> bool:
        return len(self._pending) < self._size

    def busy(self) -> bool:
        return bool(self._pending)

    def submit(self, tag: Any, fn: Callable, *args: Any) -> None:
        self._pending[self._pool.submit(fn, *args)] = tag

    def next_done(self) -> list[tuple[Any, Any]]:
        """(tag, result) of the calls that finished; raises the first failure."""
        finished, _ = wait(self._pending, return_when=FIRST_COMPLETED)
        results = []
        for fut in finished:
            tag = self._pending.pop(fut)
            exc = fut.exception()
            if exc is not None:
                self._abort.set()
                raise self._surface(exc)
            results.append((tag, fut.result()))
        return results

    def _surface(self, exc: BaseException) -> BaseException:
        """Prefer a real failure over the cancellations it caused in siblings."""
        if not isinstance(exc, _Cancelled):
            return exc
        for fut in self._pending:
            if fut.cancelled():
                continue
            other = fut.exception()  # waits: siblings stop at their next attempt
            if other is not None and not isinstance(other, _Cancelled):
                return other
        return SummarizerError("stage cancelled")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


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
        self._generate = generate
        self.format: PromptFormat = prompt_format(family)
        self.limits = limits
        self.config = config
        self.estimator = estimator or TokenEstimator()
        self._checkpoints = checkpoints
        self._on_progress = on_progress
        self._deadline = deadline
        self._rng = rng or random.Random()
        self._abort = threading.Event()
        self._lock = threading.Lock()
        self.stats = SummaryStats()
        self._extra_parts: dict[int, int] = {}  # map chunk index -> pieces added by re-splitting it

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
                out = self._call(Stage.SINGLE, 0, self.format.render(single, text), final_new)
                self._progress(1, 1)
                return out
            except ModelInputRejected as exc:
                # The estimate was optimistic: learn and fall through to map-reduce.
                self._learn(self.format.render(single, text), exc)

        map_instr = instruction(Stage.MAP)
        budget = self.text_budget(map_instr, cfg.map_max_new_tokens)
        self.stats.map_budget_tokens = budget
        reduce_instr = instruction(Stage.REDUCE, style, max_words)
        slots = _Slots(self._abort, cfg.max_concurrency)
        try:
            tree = self._map_and_collapse(slots, text, budget, reduce_instr, final_new)
            return self._reduce(slots, tree, reduce_instr, final_new)
        finally:
            slots.close()

    def _map_and_collapse(self, slots: _Slots, text: str, budget: int, reduce_instr: str, final_new: int) -> _Tree:
        """Map every chunk and collapse neighbouring summaries while the map runs.

        Chunks are submitted in order and only as slots free up, so when a 422
        recalibrates the estimator the not-yet-submitted tail (one contiguous
        span of ``text``) is re-split under the new calibration instead of each
        of its chunks being halved later. A collapse is started as soon as its
        group is known (see ``_Tree.close_groups``) and goes before any map
        chunk still waiting for a slot, so the collapses finish with the map
        instead of forming rounds after it.
        """
        cfg = self.config
        map_instr, collapse_instr = instruction(Stage.MAP), instruction(Stage.COLLAPSE)
        chunks = split_text(text, budget, self.estimator)
        calibration = self.estimator.recalibrations
        self.stats.chunks = len(chunks)
        self._progress(0, len(chunks))
        tree = _Tree(cfg.max_rounds, keep_max=cfg.max_concurrency)
        ready: list[_Node] = []  # closed collapse groups waiting for a slot, oldest first
        parts: list[tuple[_Node, str]] = []  # parts of re-split chunks waiting for a slot
        submitted = pieces = split_extra = 0  # pieces: map chunks done, counting re-split parts
        while True:
            if self.estimator.recalibrations != calibration and submitted < len(chunks):
                calibration = self.estimator.recalibrations
                offset, before = chunks[submitted].start, len(chunks)
                tail = split_text(text[offset:], self.text_budget(map_instr, cfg.map_max_new_tokens), self.estimator)
                chunks = chunks[:submitted] + [
                    Chunk(submitted + c.index, c.text, c.start + offset, c.end + offset, c.units) for c in tail
                ]
                with self._lock:
                    self.stats.chunks += len(chunks) - before
            limit = self.estimator.units_within(self.text_budget(collapse_instr, cfg.map_max_new_tokens))
            room = self.estimator.units_within(self.text_budget(reduce_instr, final_new))
            tree.total = len(chunks) + split_extra
            ready += tree.close_groups(limit, room)
            while slots.free() and (parts or ready or submitted < len(chunks)):
                if parts:
                    node, part = parts.pop(0)
                    slots.submit(node, self._piece, Stage.MAP, node.index, map_instr, part, cfg.map_max_new_tokens, 1)
                elif ready:
                    node = ready.pop(0)
                    slots.submit(node, self._piece, Stage.COLLAPSE, node.index, collapse_instr, node.source,
                                 cfg.map_max_new_tokens, 0)
                else:
                    chunk = chunks[submitted]
                    submitted += 1
                    node = tree.add_map(chunk.index)
                    slots.submit(node, self._piece, Stage.MAP, chunk.index, map_instr, chunk.text,
                                 cfg.map_max_new_tokens, 0, True)
            if not slots.busy():
                return tree
            for node, summary in slots.next_done():
                if isinstance(summary, _Parts):
                    # A chunk that proved too long: its parts take slots of their own,
                    # in its place in the tree, instead of running one after another.
                    parts += zip(tree.split_map(node, len(summary.texts)), summary.texts)
                    split_extra += len(summary.texts) - 1
                    continue
                node.finish(summary)
                if node.level == 0:
                    with self._lock:
                        pieces += 1 + self._extra_parts.pop(node.index, 0)
                    self._progress(pieces, self.stats.chunks)

    def _reduce(self, slots: _Slots, tree: _Tree, reduce_instr: str, final_new: int) -> str:
        """The final call over what is left; collapse from the end first if it does not fit."""
        cfg = self.config
        collapse_instr = instruction(Stage.COLLAPSE)
        while True:
            nodes = tree.frontier()
            reduce_prompt = self.format.render(reduce_instr, "\n\n".join(n.summary for n in nodes))
            if self.estimator.count(reduce_prompt) <= self.prompt_limit(final_new):
                try:
                    out = self._call(Stage.REDUCE, 0, reduce_prompt, final_new)
                    self.stats.rounds = 2 + max(n.level for n in nodes)
                    return out
                except ModelInputRejected as exc:
                    # Collapse once more under the corrected calibration.
                    self._learn(reduce_prompt, exc)
            limit = self.estimator.units_within(self.text_budget(collapse_instr, cfg.map_max_new_tokens))
            room = self.estimator.units_within(self.text_budget(reduce_instr, final_new))
            for node in tree.collapse_tail(limit, room):
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
                return self._call(stage, index, prompt, max_new)
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

    def _call(self, stage: Stage, index: int, prompt: str, max_new: int) -> str:
        params = {"max_new_tokens": max_new, "do_sample": False, "return_full_text": False}
        if self.format.stop:
            params["stop"] = list(self.format.stop)
        key = hashlib.sha256(f"{max_new}\x00{prompt}".encode()).hexdigest()[:32]
        if self._checkpoints is not None:
            saved = self._checkpoints.get(key)
            if saved is not None:
                with self._lock:
                    self.stats.checkpoint_hits += 1
                return saved
        attempts = 0
        while True:
            if self._abort.is_set():
                raise _Cancelled()
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
            if self._checkpoints is not None:
                self._checkpoints.put(key, out)
            return out

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        cfg = self.config
        delay = self._rng.uniform(0, min(cfg.backoff_cap_s, cfg.backoff_base_s * 2 ** (attempt - 1)))
        if retry_after:
            delay = max(delay, min(retry_after, cfg.backoff_cap_s))
        # Waiting on the abort event lets a sibling's failure cut the sleep short.
        if self._abort.wait(delay):
            raise _Cancelled()

    def _progress(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)

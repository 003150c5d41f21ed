"""The collapse tree of a map-reduce summary: every summary so far, and which
neighbours to collapse next (see ``CollapseTree``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from inference.tokens import base_units
from summarizer.errors import ChunkFailed, SummarizerError
from summarizer.prompts import Stage


@dataclass(eq=False)
class Node:
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


class CollapseTree:
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
        self.levels: list[list[Node]] = [[]]
        self.heads = [0]
        self.max_rounds = max_rounds
        self.total = 0  # map chunks planned (grows when a 422 re-splits the text not yet sent)
        self.keep_max = keep_max
        self.keep = 0  # the last ``keep`` map summaries go to the reduce as they are
        self._flat: list[Node] | None = None  # the frontier, once the map is over
        self._mean = 0.0  # mean units of the map summaries that opened the plan; 0 until then
        self._prefix = self._prefix_units = 0
        self._taken_units = 0  # units of the map summaries before heads[0]

    def add_map(self, index: int) -> Node:
        node = Node(0, index)
        self.levels[0].append(node)
        return node

    def split_map(self, node: Node, count: int) -> list[Node]:
        """Replace an unfinished map node with ``count`` nodes in its place (its re-split parts).

        Safe at any time: no group, and no opening prefix, reaches past an unfinished node.
        """
        at = self.levels[0].index(node)
        parts = [Node(0, node.index) for _ in range(count)]
        self.levels[0][at:at + 1] = parts
        return parts

    def frontier(self) -> list[Node]:
        if self._flat is not None:
            return self._flat
        return [n for d in range(len(self.levels) - 1, -1, -1) for n in self.levels[d][self.heads[d]:]]

    def close_groups(self, limit: int, room: int) -> list[Node]:
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

    def _close_map_groups(self, limit: int, target: float) -> list[Node]:
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

    def _close_outputs(self, level: int, limit: int, target: float) -> list[Node]:
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

    def collapse_tail(self, limit: int, room: int) -> list[Node]:
        """After the map: collapse just enough of the frontier's end (its least
        summarized part) that the rest, with each new collapse counted at the
        mean size of the collapses so far, fits ``room`` units."""
        nodes = self.frontier()
        outputs = [n.units for n in nodes if n.level > 0] or [n.units for n in nodes]
        expected = sum(outputs) // len(outputs)
        total = sum(n.units for n in nodes)
        flat: list[Node] = []
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

    def _collapse(self, group: list[Node]) -> Node:
        level = 1 + max(n.level for n in group)
        if level >= self.max_rounds:
            raise ChunkFailed(Stage.COLLAPSE.value, 0, SummarizerError(
                f"summaries still too long for one call after {self.max_rounds} rounds"), 0)
        if level == len(self.levels):
            self.levels.append([])
            self.heads.append(0)
        node = Node(level, len(self.levels[level]), "\n\n".join(n.summary for n in group),
                     leaves=sum(n.leaves for n in group), leaf_units=sum(n.leaf_units for n in group))
        self.levels[level].append(node)  # after the map only for numbering: the frontier is flat then
        return node

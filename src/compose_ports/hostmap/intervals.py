"""Host-port intervals: merged for point look-ups, and a tree for overlap queries."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable


class Merged:
    """Sorted disjoint intervals (touching ones joined), for point look-ups by bisection."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(intervals):
            if self.ends and start <= self.ends[-1] + 1:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def end_covering(self, port: int) -> int | None:
        """The end of the interval holding port, or None when port is outside all of them."""
        i = bisect_right(self.starts, port) - 1
        if i >= 0 and self.ends[i] >= port:
            return self.ends[i]
        return None

    def length(self) -> int:
        return sum(end - start + 1 for start, end in zip(self.starts, self.ends, strict=True))


class Overlaps:
    """Intervals with their claims' positions, for "which of them overlap [start, end]?".

    A segment tree over the pieces between the intervals' bounds: each interval is held by the
    O(log n) nodes that tile it, and each node also keeps the `limit` lowest positions held
    anywhere below it. A query meets O(log n) nodes, so "the first k that overlap" reads a few
    short lists, and "every one that overlaps" costs what it finds, however many intervals
    pile up on one port.
    """

    __slots__ = ("bounds", "held", "limit", "lowest", "size")

    def __init__(self, intervals: list[tuple[int, int, int]], limit: int) -> None:
        # intervals: (start, end, position), by position, so that every list below is sorted.
        self.limit = limit
        self.bounds = sorted({s for s, _, _ in intervals} | {e + 1 for _, e, _ in intervals})
        leaf = {bound: index for index, bound in enumerate(self.bounds)}
        self.size = 1
        while self.size < len(self.bounds) - 1:
            self.size *= 2
        self.held: dict[int, list[int]] = {}
        for start, end, position in intervals:
            for node in self._tiles(leaf[start], leaf[end + 1]):
                self.held.setdefault(node, []).append(position)
        nodes: set[int] = set()
        for node in self.held:
            while node and node not in nodes:
                nodes.add(node)
                node >>= 1
        self.lowest: dict[int, list[int]] = {}
        for node in sorted(nodes, reverse=True):  # children before their parent
            found = self.held.get(node, [])[:limit]
            found += self.lowest.get(2 * node, []) + self.lowest.get(2 * node + 1, [])
            self.lowest[node] = sorted(set(found))[:limit]

    def _tiles(self, low: int, high: int) -> list[int]:
        """The nodes that tile the leaves [low, high)."""
        tiles = []
        low += self.size
        high += self.size
        while low < high:
            if low & 1:
                tiles.append(low)
                low += 1
            if high & 1:
                high -= 1
                tiles.append(high)
            low >>= 1
            high >>= 1
        return tiles

    def _query(self, start: int, end: int) -> tuple[list[int], set[int]]:
        """(the nodes tiling [start, end], their ancestors): whatever they hold overlaps it."""
        leaves = len(self.bounds) - 1
        low = max(bisect_right(self.bounds, start) - 1, 0)
        high = min(bisect_right(self.bounds, end), leaves)
        if low >= high:
            return [], set()
        tiles = self._tiles(low, high)
        above: set[int] = set()
        for node in tiles:
            node >>= 1
            while node and node not in above:
                above.add(node)
                node >>= 1
        return tiles, above

    def smallest(self, start: int, end: int, count: int) -> list[int]:
        """The `count` (at most `limit`) lowest positions of the intervals overlapping it."""
        tiles, above = self._query(start, end)
        found = [p for node in tiles for p in self.lowest.get(node, ())]
        found += [p for node in above for p in self.held.get(node, ())[:count]]
        return sorted(set(found))[:count]

    def every(self, start: int, end: int) -> list[int]:
        """The positions of all the intervals overlapping it, sorted."""
        tiles, above = self._query(start, end)
        found: set[int] = set()
        for node in above:
            found.update(self.held.get(node, ()))
        while tiles:
            node = tiles.pop()
            if node not in self.lowest:
                continue  # nothing held below it
            found.update(self.held.get(node, ()))
            if node < self.size:
                tiles += (2 * node, 2 * node + 1)
        return sorted(found)


def covered(merged: Iterable[Merged], start: int, end: int) -> int:
    """How many ports of [start, end] the union of these merged intervals covers."""
    pieces = []
    for intervals in merged:
        i = max(bisect_right(intervals.starts, start) - 1, 0)
        while i < len(intervals.starts) and intervals.starts[i] <= end:
            low, high = max(intervals.starts[i], start), min(intervals.ends[i], end)
            if low <= high:
                pieces.append((low, high))
            i += 1
    return Merged(pieces).length()


def gaps(merged: Merged, start: int, end: int) -> list[tuple[int, int]]:
    """The ports of [start, end] that merged does not cover, as intervals."""
    gaps = []
    port = start
    for low, high in zip(merged.starts, merged.ends, strict=True):
        if high < port:
            continue
        if low > end:
            break
        if low > port:
            gaps.append((port, min(low - 1, end)))
        port = max(port, high + 1)
    if port <= end:
        gaps.append((port, end))
    return gaps

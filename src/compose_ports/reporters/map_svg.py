"""The picture of one machine in `map --format html`: an axis of the whole port space with the
policy ranges as coloured bands and every binding as a flag (a pole on the axis, its service and
port beside it; the SVG <title> gives the details as a tooltip, and a click jumps to its table
row), conflicts in red; a port that strays from the policy carries an amber warning sign, with a
ring on the axis at the port the registry gives it. Labels are placed in lanes so that none
overlaps another. Every text from the model goes through `escape.html_text`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from compose_ports.reporters.common import display_path
from compose_ports.reporters.escape import html_text as escape
from compose_ports.reporters.escape import visible
from compose_ports.reporters.map_markdown import (
    category_text,
    container_text,
    peer_text,
    stray_texts,
)
from compose_ports.reporters.registry_view import HostGroup, Row

RED = "#d62728"  # conflicts, and nothing else: red must mean "will not start"
STRAY = "#b45309"  # a port that strays from the policy: it starts, but not where it belongs
INK = "#1e293b"
MUTED = "#64748b"
NO_CATEGORY = "#94a3b8"
# Range colours in the config's order; no red in it, so that red stays the conflicts'.
PALETTE = (
    "#2563eb",  # blue
    "#059669",  # green
    "#d97706",  # amber
    "#7c3aed",  # violet
    "#0891b2",  # cyan
    "#a16207",  # ochre
    "#db2777",  # pink
    "#4d7c0f",  # olive
)

# The port axis. A linear axis of 1-65535 squeezes 80, 443 and the whole 3000-9999 zone, where
# development servers and team policy ranges usually live, into the first sixth of the width,
# while a plain logarithmic one spends as much width on 1-10 as on 10000-65535 and piles up
# 8000-8999. So the axis is piecewise: the well-known ports on a log scale (22, 80 and 443 stay
# apart), then linear pieces whose widths follow where ports are actually published, with half
# the width for 3000-9999 (about 0.1 px per port: a range of 1000 ports is a ~90 px band).
# (first port, last port, share of the width, logarithmic, caption)
SEGMENTS: tuple[tuple[int, int, float, bool, str], ...] = (
    (1, 1023, 0.13, True, "well-known 1-1023 (log scale)"),
    (1024, 2999, 0.07, False, "1024-2999"),
    (3000, 9999, 0.50, False, "3000-9999"),
    (10000, 29999, 0.12, False, "10000-29999"),
    (30000, 65535, 0.18, False, "30000-65535 (high, ephemeral)"),
)
TICKS = (1, 10, 100, 1024, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000)
TICKS_END = (40000, 50000, 65535)

WIDTH = 1280  # the SVG's own units; CSS scales it down on narrow screens
MARGIN = 24
LANE = 17  # the height of one row of labels above the axis
FONT = 11  # labels are monospace, so that their width is known without measuring text
CHAR = 0.62 * FONT  # DejaVu Sans Mono, Menlo and Consolas are all about 0.6 em wide
TRACK = 26  # the height of the axis band


def _x(port: float) -> float:
    """The x of a port: the left edge of its place on the axis (port 65536 is the right end)."""
    left = float(MARGIN)
    span = WIDTH - 2 * MARGIN
    for first, last, share, log, _ in SEGMENTS:
        if port <= last + 1:
            if log:
                fraction = math.log(max(port, first)) / math.log(last + 1)
            else:
                fraction = (port - first) / (last + 1 - first)
            return left + span * share * max(0.0, min(1.0, fraction))
        left += span * share
    return WIDTH - MARGIN


@dataclass(frozen=True)
class _Flag:
    """One flag of the picture: a pole on the axis, its label in a lane above it.

    A flag stands for a binding, or for a run of bindings of one service on consecutive host
    ports: Compose expands `"9000-9100:9000-9100"` into 101 bindings, which one flag shows better
    than 101 (the table keeps every row). A port that several bindings take, in conflict, is one
    flag with their count (a crowd): 5,000 bindings on 8080 would be 5,000 poles on one pixel.
    """

    rows: tuple[int, ...]  # the rows' indices in the group, by port
    start: int
    end: int
    x: float
    text: str
    text_start: float
    text_end: float
    anchor: str  # "start": the label right of its pole; "end": left of it, at the right edge
    crowd: bool = False  # the rows are bindings in conflict on the same host ports
    stray: bool = False  # the rows stray from the policy (their range, or the registry)

    @property
    def left(self) -> float:
        return min(self.x, self.text_start)

    @property
    def right(self) -> float:
        return max(self.x, self.text_end)


MAX_LANES = 16  # beyond that a label is left out (the marker and its tooltip stay)
GAP = 8  # between two labels of one lane


def _crowds(group: HostGroup) -> dict[int, list[int]]:
    """The crowds, by their first row: rows in conflict on the same ports and protocol."""
    crowds: dict[tuple[int, int | None, str], list[int]] = {}
    for index, row in enumerate(group.rows):
        if row.conflict and row.start is not None:
            crowds.setdefault((row.start, row.end, row.protocol.lower()), []).append(index)
    return {rows[0]: rows for rows in crowds.values() if len(rows) > 1}


def _crowd_text(group: HostGroup, rows: list[int], ports: str) -> str:
    """The first two services, the ports, and a multiplication sign with the count."""
    names = list(dict.fromkeys(group.rows[i].service for i in rows))
    shown = ", ".join(names[:2]) + (", …" if len(names) > 2 else "")
    return f"{shown} {ports} \u00d7{len(rows):,}"


def _flags(group: HostGroup) -> list[_Flag]:
    crowds = _crowds(group)
    return [_flag(group, run, run[0] in crowds) for run in _runs(group, crowds)]


def _runs(group: HostGroup, crowds: dict[int, list[int]]) -> list[list[int]]:
    """The rows of each flag: a crowd, the run of ports one written range expands to, or one
    row; ephemeral rows have no place on the axis."""
    runs: list[list[int]] = []
    current: dict[tuple[object, ...], list[int]] = {}
    crowded = {i for rows in crowds.values() for i in rows}
    for index, row in enumerate(group.rows):
        if row.start is None or row.end is None:
            continue
        if index in crowded:
            if index in crowds:
                runs.append(crowds[index])
            continue
        # Only the entries one written range expands to: two entries that happen to be
        # neighbours (5432 in the base file, 5433 in the override) stay two flags.
        key = (row.service, row.stack, row.project, row.file, row.line, row.column, row.protocol)
        run = current.get(key)
        if run is not None and _continues(group.rows[run[-1]], row):
            run.append(index)
            continue
        current[key] = run = [index]
        runs.append(run)
    return runs


def _continues(last: Row, row: Row) -> bool:
    return (
        last.end is not None
        and row.start == last.end + 1
        and row.container_port == last.container_end + 1
        and (row.host_ip, row.conflict, row.strays) == (last.host_ip, last.conflict, last.strays)
    )


def _flag(group: HostGroup, run: list[int], crowd: bool) -> _Flag:
    first, last = group.rows[run[0]], group.rows[run[-1]]
    assert first.start is not None and last.end is not None
    start, end = first.start, last.end
    x = _x(start) if start == end else (_x(start) + _x(end + 1)) / 2  # a range: its middle
    ports = str(start) if start == end else f"{start}-{end}"
    protocol = "" if first.protocol == "tcp" else f"/{first.protocol}"
    if crowd:
        text = _crowd_text(group, run, f"{ports}{protocol}")
    else:
        text = f"{first.service} {ports}{protocol}"
    text = visible(text)  # as shown, so that its width is the one measured
    width = len(text) * CHAR
    if x + 4 + width <= WIDTH - 4:
        box = (x + 4, x + 4 + width, "start")
    else:
        box = (x - 4 - width, x - 4, "end")
    stray = any(group.rows[i].strays for i in run)
    return _Flag(tuple(run), start, end, x, text, *box, crowd=crowd, stray=stray)


def _lanes(flags: list[_Flag]) -> dict[int, int]:
    """The lane of each flag (by position in flags), or -1 when its label finds no room.

    The lowest lane where its label hides no label and no pole: a pole runs from its label's
    lane down to the axis, so a label must keep clear of every pole from a higher lane, and its
    own pole of every label in a lower lane. Placing the flags from right to left makes clusters
    (8000, 8001, 8002...) climb as a staircase to the left, where no pole crosses a label. The
    few labels turned to the left of their pole (at the right edge) climb the other way, so they
    are placed first, from left to right.
    """
    order = sorted(
        range(len(flags)),
        key=lambda i: (0, flags[i].x, i) if flags[i].anchor == "end" else (1, -flags[i].x, i),
    )
    # Placed flags by slices of the width, so that a flag is checked only against its neighbours.
    slices: dict[int, list[tuple[_Flag, int]]] = {}
    lanes: dict[int, int] = {}
    for i in order:
        flag = flags[i]
        first, last = int((flag.left - GAP - 4) // 64), int((flag.right + GAP + 4) // 64)
        near = {id(f): (f, lane) for n in range(first, last + 1) for f, lane in slices.get(n, ())}
        lane = next((n for n in range(MAX_LANES) if _fits(flag, n, near.values())), -1)
        lanes[i] = lane
        if lane >= 0:
            for n in range(int(flag.left // 64), int(flag.right // 64) + 1):
                slices.setdefault(n, []).append((flag, lane))
    return lanes


def _fits(flag: _Flag, lane: int, placed: Iterable[tuple[_Flag, int]]) -> bool:
    for other, other_lane in placed:
        if other_lane == lane:
            if flag.text_start < other.text_end + GAP and other.text_start < flag.text_end + GAP:
                return False
        elif other_lane > lane:
            if flag.text_start - 2 <= other.x <= flag.text_end + 2:
                return False
        elif other.text_start - 2 <= flag.x <= other.text_end + 2:
            return False
    return True


def category_colours(group: HostGroup) -> dict[str, str]:
    return {band.name: PALETTE[i % len(PALETTE)] for i, band in enumerate(group.ranges)}


def row_id(group_index: int, row_index: int) -> str:
    return f"g{group_index}-r{row_index}"


def _address(row: Row) -> str:
    ip = row.host_ip or "*"
    if ":" in ip:
        ip = f"[{ip}]"
    return f"{ip}:{row.published or '(ephemeral)'}"


CROWD_TOOLTIP = 5  # the bindings a crowd's tooltip names; the table lists them all


def _crowd_tooltip(group: HostGroup, flag: _Flag, cwd: str | None) -> list[str]:
    row = group.rows[flag.rows[0]]
    ports = str(flag.start) if flag.start == flag.end else f"{flag.start}-{flag.end}"
    lines = [f"{ports}/{row.protocol}: {len(flag.rows):,} bindings in conflict"]
    for index in flag.rows[:CROWD_TOOLTIP]:
        other = group.rows[index]
        lines.append(
            f"{other.service} (stack {other.stack_title}) {_address(other)} "
            f"{display_path(other.file, cwd)}:{other.line}"
        )
    if len(flag.rows) > CROWD_TOOLTIP:
        lines.append(f"and {len(flag.rows) - CROWD_TOOLTIP:,} more: see the table")
    return lines


def _tooltip(group: HostGroup, flag: _Flag, cwd: str | None) -> list[str]:
    """The tooltip's lines, each escaped on its own: the escaping shows a line break in a
    value as `\\x0a`, and only the breaks between lines are meant."""
    if flag.crowd:
        return _crowd_tooltip(group, flag, cwd)
    row = group.rows[flag.rows[0]]
    if len(flag.rows) == 1:
        address = f"{_address(row)} -> container {container_text(row)}/{row.protocol}"
    else:
        last = group.rows[flag.rows[-1]]
        address = (
            f"{len(flag.rows)} bindings, host ports {flag.start}-{flag.end}/{row.protocol} "
            f"-> container {row.container_port}-{last.container_end}"
        )
    lines = [
        f"{row.service} (stack {row.stack_title}, project {row.project})",
        address,
        f"category: {category_text(row) or 'none'}",
        f"{display_path(row.file, cwd)}:{row.line}",
    ]
    if row.registered is not None:
        lines.append(f"registered: {row.registered}")
    if row.variable:
        lines.append(f"variable: {row.variable}")
    lines += [f"\u26a0 {text}" for text in dict.fromkeys(stray_texts(row))]
    if row.conflict:
        peers = {peer_text(p): None for i in flag.rows for p in group.rows[i].peers}
        lines += [f"\u26a0 {peer}" for peer in peers]
        others = max(group.rows[i].others for i in flag.rows)
        if others:
            lines.append(f"\u26a0 and {others:,} other binding{'' if others == 1 else 's'}")
    return lines


def picture(group: HostGroup, group_index: int, cwd: str | None) -> tuple[str, int]:
    """The picture, and how many of its flags found no room for their label."""
    colours = category_colours(group)
    flags = _flags(group)
    lanes = _lanes(flags)
    lane_count = max(lanes.values(), default=-1) + 1
    top = 12
    track = top + lane_count * LANE + 10  # the axis band's top edge
    bottom = track + TRACK
    height = bottom + 62
    e = escape
    out = [
        f'<svg class="portmap" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="host ports of {e(group.title)}">',
        f"<title>Host ports of {e(group.title)}</title>",
    ]
    out += _axis(group, colours, track, bottom)
    # The flags, conflicts last so that their red is drawn over anything near them.
    order = sorted(range(len(flags)), key=lambda i: (group.rows[flags[i].rows[0]].conflict, i))
    for i in order:
        out.append(_mark(group, group_index, flags[i], lanes[i], colours, track, bottom, cwd))
    out.append("</svg>")
    return "\n".join(out), sum(1 for lane in lanes.values() if lane < 0)


def _axis(group: HostGroup, colours: dict[str, str], track: int, bottom: int) -> list[str]:
    """The axis band with its scale's segments, the policy ranges and the ticks."""
    e = escape
    out: list[str] = []
    # The pieces of the axis, shaded alternately so that the change of scale shows.
    left = float(MARGIN)
    for n, (first, last, _, _, caption) in enumerate(SEGMENTS):
        right = _x(last + 1)
        shade = "#f1f5f9" if n % 2 == 0 else "#e2e8f0"
        out.append(
            f'<rect x="{left:.1f}" y="{track}" width="{right - left:.1f}" height="{TRACK}" '
            f'fill="{shade}"><title>{first}-{last}</title></rect>'
        )
        out.append(
            f'<text class="caption" x="{(left + right) / 2:.1f}" y="{bottom + 54}" '
            f'text-anchor="middle">{e(caption)}</text>'
        )
        if n:
            out.append(
                f'<line x1="{left:.1f}" x2="{left:.1f}" y1="{track - 4}" y2="{bottom + 44}" '
                'class="cut"/>'
            )
        left = right
    # The policy ranges: a translucent band on the axis with a solid edge on top, named below.
    for band in group.ranges:
        x1, x2 = _x(band.start), _x(band.end + 1)
        colour = colours[band.name]
        out.append(
            f'<g class="band"><title>{e(band.name)}: {band.start}-{band.end}</title>'
            f'<rect x="{x1:.1f}" y="{track}" width="{max(x2 - x1, 2):.1f}" height="{TRACK}" '
            f'fill="{colour}" fill-opacity="0.22"/>'
            f'<rect x="{x1:.1f}" y="{track}" width="{max(x2 - x1, 2):.1f}" height="3" '
            f'fill="{colour}"/>'
            f'<text class="bandname" x="{(x1 + x2) / 2:.1f}" y="{bottom + 14}" '
            f'text-anchor="middle" fill="{colour}">{e(band.name)}</text></g>'
        )
    for port in (*TICKS, *TICKS_END):
        x = _x(port)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 20}" class="tick"/>'
            f'<text class="ticklabel" x="{x:.1f}" y="{bottom + 32}" '
            f'text-anchor="middle">{port}</text>'
        )
    return out


def _mark(
    group: HostGroup,
    group_index: int,
    flag: _Flag,
    lane: int,
    colours: dict[str, str],
    track: int,
    bottom: int,
    cwd: str | None,
) -> str:
    """One flag: its pole, dot and label, linked to its table row, with its tooltip."""
    e = escape
    row = group.rows[flag.rows[0]]
    colour = RED if row.conflict else colours.get(row.category or "", NO_CATEGORY)
    mark = ['<g class="flag conflict">' if row.conflict else '<g class="flag">']
    tooltip = "\n".join(e(line) for line in _tooltip(group, flag, cwd))
    mark.append(f"<title>{tooltip}</title>")
    if flag.start != flag.end:
        x1, x2 = _x(flag.start), _x(flag.end + 1)
        mark.append(
            f'<rect x="{x1:.1f}" y="{track + 6}" width="{max(x2 - x1, 3):.1f}" '
            f'height="{TRACK - 12}" fill="{colour}" fill-opacity="0.7"/>'
        )
    if row.conflict:
        mark.append(
            f'<rect x="{flag.x - 5:.1f}" y="{track}" width="10" height="{TRACK}" '
            f'fill="{RED}" fill-opacity="0.25"/>'
        )
    lane_y = track - 10 - lane * LANE  # the label's baseline
    pole_top = lane_y - FONT + 2 if lane >= 0 else track - 6
    mark.append(
        f'<line x1="{flag.x:.1f}" x2="{flag.x:.1f}" y1="{pole_top}" y2="{bottom}" '
        f'stroke="{colour}" stroke-width="{2 if row.conflict else 1.5}"/>'
    )
    mark.append(
        f'<circle cx="{flag.x:.1f}" cy="{track + TRACK / 2:.1f}" '
        f'r="{4.5 if row.conflict else 3}" fill="{colour}" stroke="#fff" stroke-width="1"/>'
    )
    if flag.stray and not row.conflict:
        mark += _stray_marks(group, flag, track)
    if lane >= 0:
        text_x = flag.text_start if flag.anchor == "start" else flag.text_end
        weight = ' font-weight="700"' if row.conflict else ""
        mark.append(
            f'<text class="label" x="{text_x:.1f}" y="{lane_y}" text-anchor="{flag.anchor}" '
            f'fill="{RED if row.conflict else INK}"{weight}>{e(flag.text)}</text>'
        )
    mark.append("</g>")
    return f'<a href="#{row_id(group_index, flag.rows[0])}">' + "".join(mark) + "</a>"


def _stray_marks(group: HostGroup, flag: _Flag, track: int) -> list[str]:
    """A warning sign below the flag's dot, and a ring on the axis at each port the registry
    gives its service instead (dashed to the dot), so that both places show."""
    mid = track + TRACK / 2
    marks = [
        f'<path class="warn" d="M{flag.x:.1f},{track + TRACK - 1:.1f} l-5,8 h10 z" '
        f'fill="{STRAY}" stroke="#fff" stroke-width="0.8"/>'
    ]
    rings = sorted({r.registered for i in flag.rows if (r := group.rows[i]).drift and r.registered})
    for port in rings:
        x = _x(port)
        marks.append(
            f'<line x1="{x:.1f}" x2="{flag.x:.1f}" y1="{mid:.1f}" y2="{mid:.1f}" '
            f'stroke="{STRAY}" stroke-width="1" stroke-dasharray="3 2"/>'
            f'<circle class="registered" cx="{x:.1f}" cy="{mid:.1f}" r="4.5" fill="none" '
            f'stroke="{STRAY}" stroke-width="1.5"/>'
        )
    return marks

"""`map --format html`: the port registry as one self-contained page, with a picture per machine.

The page must open anywhere, offline, from a CI artifact or a mail attachment: inline CSS and
inline SVG only, no script, no font, image or stylesheet from the network. Every text from the
model goes through `escape.html_text` (`html.escape` after its control characters are shown as
`\\x1b`: the page is also printed to terminals), attributes included.

For each machine: the picture of its port space (map_svg), then the table of the same rows
as the markdown registry. What is shown comes from `registry_view`; this module only lays out
the page.
"""

from __future__ import annotations

from compose_ports.reporters.common import display_path
from compose_ports.reporters.escape import html_text as escape
from compose_ports.reporters.map_markdown import (
    category_text,
    container_text,
    others_text,
    peer_name,
    registered_text,
    stray_texts,
)
from compose_ports.reporters.map_svg import (
    FONT,
    INK,
    MUTED,
    NO_CATEGORY,
    RED,
    STRAY,
    category_colours,
    picture,
    row_id,
)
from compose_ports.reporters.registry_view import HostGroup, RegistryView, Row

HEADER = (
    "Host port",
    "Protocol",
    "Host IP",
    "Service",
    "Stack",
    "Project",
    "Container",
    "Category",
    "Variable",
    "Source",
    "Problems",
)
NUMERIC = ("Host port", "Container")


def _breakable(path: str) -> str:
    """The escaped path, allowed to wrap after each `/` only: never inside a name."""
    # Browsers also break at hyphens (`docker-` / `compose.yml`), so each name is kept whole.
    return "/<wbr>".join(f"<span>{escape(part)}</span>" for part in path.split("/"))


def _table(group: HostGroup, group_index: int, cwd: str | None) -> str:
    colours = category_colours(group)
    e = escape
    out = [
        '<div class="scroll"><table class="bindings">',
        "<thead><tr>"
        + "".join(
            f'<th class="num">{e(h)}</th>' if h in NUMERIC else f"<th>{e(h)}</th>" for h in HEADER
        )
        + "</tr></thead>",
        "<tbody>",
    ]
    for index, row in enumerate(group.rows):
        source = _breakable(f"{display_path(row.file, cwd)}:{row.line}")
        cells = (
            f'<td class="num port">{e(row.published or "(ephemeral)")}</td>',
            f"<td>{e(row.protocol)}</td>",
            f"<td>{e(row.host_ip or 'all')}</td>",
            f'<td class="service">{e(row.service)}</td>',
            f"<td>{e(row.stack or '')}</td>",
            f"<td>{e(row.project)}</td>",
            f'<td class="num">{e(container_text(row))}</td>',
            f'<td class="category">{_chip(row, colours)}</td>',
            f"<td><code>{e(row.variable or '')}</code></td>",
            f'<td class="source"><code>{source}</code></td>',
            f'<td class="conflict-cell">{_problems(row)}</td>',
        )
        css = ' class="conflict"' if row.conflict else (' class="stray"' if row.strays else "")
        out.append(f'<tr id="{row_id(group_index, index)}"{css}>' + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table></div>"]
    return "\n".join(out)


def _chip(row: Row, colours: dict[str, str]) -> str:
    """The category cell: the port's category, and what the service claims where it differs."""
    e = escape
    colour = colours.get(row.category or "", NO_CATEGORY)
    chip = (
        f'<span class="chip" style="--c:{colour}">{e(row.category)}</span>'
        if row.category
        else '<span class="none">-</span>'
    )
    if category_text(row) != (row.category or ""):
        # The service claims another category than its port's range (CP201's case).
        chip += f'<span class="claims">service: {e(row.service_category or "")}</span>'
    if row.registered is not None:
        chip += f'<span class="claims">{e(registered_text(row))}</span>'
    return chip


def _problems(row: Row) -> str:
    """The problems cell: what it collides with, then how it strays from the policy."""
    e = escape
    conflict = ""
    if row.conflict:
        conflict = "<br>".join(
            f"&#9888; {e(peer_name(p))}" + ("" if p.certain else " (pool overlap)")
            for p in row.peers
        )
        if row.others:
            conflict += f"<br>{e(others_text(row).strip())}"
        conflict = f'<span class="clash">{conflict}</span>'
    strays = "<br>".join(
        f'<span class="stray">&#9888; {e(text)}</span>' for text in stray_texts(row)
    )
    return "<br>".join(part for part in (conflict, strays) if part)


def _legend(group: HostGroup) -> str:
    colours = category_colours(group)
    e = escape
    items = [
        f'<li><span class="swatch" style="--c:{colours[b.name]}"></span>'
        f"<b>{e(b.name)}</b> {b.start}-{b.end}</li>"
        for b in group.ranges
    ]
    items.append(f'<li><span class="swatch" style="--c:{NO_CATEGORY}"></span>no category</li>')
    items.append(f'<li><span class="swatch" style="--c:{RED}"></span>conflict</li>')
    items.append(
        f'<li><span class="swatch warn" style="--c:{STRAY}"></span>outside its range, or not '
        "the registry&#8217;s port</li>"
    )
    items.append(f'<li><span class="ring" style="--c:{STRAY}"></span>the registered port</li>')
    return '<ul class="legend">' + "".join(items) + "</ul>"


def _section(group: HostGroup, group_index: int, cwd: str | None) -> str:
    e = escape
    kind = "host" if group.host is not None else "stack on no host"
    badge = (
        f'<span class="badge bad">&#9888; {group.conflicts} in conflict</span>'
        if group.conflicts
        else '<span class="badge ok">no conflict</span>'
    )
    if group.strays:
        badge += f' <span class="badge stray">&#9888; {group.strays} off the policy</span>'

    members = "".join(
        f'<span class="member" title="{e(", ".join(display_path(f, cwd) for f in m.files))}">'
        f"{e(m.title)}</span>"
        for m in group.members
    )
    policy = ""
    if group.config:
        policy = (
            f' <span class="policy">policy <code>{e(display_path(group.config, cwd))}</code></span>'
        )
    out = [
        f'<section class="group" id="g{group_index}">',
        f'<h2><span class="kind">{e(kind)}</span> {e(group.title)} '
        f'<span class="count">{len(group.rows)} bindings</span> {badge}</h2>',
        f'<p class="members">{members}{policy}</p>',
    ]
    if group.rows:
        svg, unlabelled = picture(group, group_index, cwd)
        out.append('<figure class="picture">' + svg)
        notes = []
        ephemeral = sum(1 for row in group.rows if row.start is None)
        if ephemeral:
            notes.append(
                f"Not on the axis: {ephemeral} binding(s) whose host port the engine picks "
                "(ephemeral)."
            )
        if unlabelled:
            notes.append(f"{unlabelled} marker(s) left without a label for room: hover them.")
        if notes:
            out.append(f"<figcaption>{' '.join(notes)}</figcaption>")
        out.append("</figure>")
        out.append(_legend(group))
        out.append(_table(group, group_index, cwd))
    else:
        out.append("<p>No published ports.</p>")
    out.append("</section>")
    return "\n".join(out)


# The colours the SVG attributes use, for the stylesheet too.
CSS_VARIABLES = (
    f":root {{ color-scheme: light; --red: {RED}; --stray: {STRAY}; --ink: {INK}; "
    f"--muted: {MUTED}; --label: {FONT}px; }}"
)


def _stylesheet() -> str:
    # A stylesheet is easier to read and edit as a file of its own; it ships as package data.
    from importlib.resources import files

    return files("compose_ports.reporters").joinpath("map_html.css").read_text(encoding="utf-8")


def render(view: RegistryView, cwd: str | None = None) -> str:
    e = escape
    total = len(view.rows)
    lead = f"{len(view.groups)} machine(s) or stack(s), {total} binding(s)"
    lead += f", {view.conflicts} in conflict." if view.conflicts else ", no conflict."
    links = []
    for i, group in enumerate(view.groups):
        if group.conflicts:
            links.append(
                f'<a href="#g{i}" class="bad">{e(group.title)} &#9888; {group.conflicts}</a>'
            )
        else:
            links.append(f'<a href="#g{i}">{e(group.title)}</a>')
    nav = "".join(links)
    body: list[str] = []
    for i, group in enumerate(view.groups):
        if group.host is None and (i == 0 or view.groups[i - 1].host is not None):
            body.append("<h3>Stacks on no host</h3>")
        body.append(_section(group, i, cwd))
    if not view.groups:
        body.append("<p>No compose projects found.</p>")
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Port registry</title>\n"
        f"<style>\n{CSS_VARIABLES}\n{_stylesheet()}</style>\n</head>\n<body>\n<main>\n"
        "<h1>Port registry</h1>\n"
        f'<p class="lead">{e(lead)} Hover a flag for its details; click it for its row.</p>\n'
        f"<nav>{nav}</nav>\n" + "\n".join(body) + "\n"
        "<footer>Generated by <code>compose-ports map --format html</code>.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )
    # Pure ASCII (`&#9888;` for the warning sign, the same for names): the page survives any
    # terminal encoding it is printed through, and a mail or CI artifact viewer's guess.
    return page.encode("ascii", "xmlcharrefreplace").decode("ascii")

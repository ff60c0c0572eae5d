"""`map --format markdown`: the port registry a team commits, one table per machine.

It is committed and diffed, so it is deterministic: no timestamps, no absolute paths below the
current directory, rows in host-port order. Everything shown is computed by `registry_view`.

A port in conflict is bold; one that strays from the policy (outside its service's range, or
not the registry's port on a host the registry speaks for) is in italics. The Problems cell
says why, conflicts first; the Category cell shows the port the registry gives the service.

Every value (names, paths, messages) renders as itself and stays in its cell: `escape.markdown`
writes `&<>` as entities, controls (CR and LF among them) as `\\x0d`, and Markdown syntax (the
pipe first) behind a backslash; a code span is used only for a value that needs no escape.
"""

from __future__ import annotations

from compose_ports.reporters.common import display_path
from compose_ports.reporters.escape import markdown, markdown_code
from compose_ports.reporters.registry_view import HostGroup, Peer, RegistryView, Row

HEADER = (
    "Host port",
    "Protocol",
    "Host IP",
    "Service",
    "Stack",
    "Project",
    "Container port",
    "Category",
    "Variable",
    "Source",
    "Problems",
)
# Ports and container ports right-aligned, as numbers read best.
ALIGN = ("---:", "---", "---", "---", "---", "---", "---:", "---", "---", "---", "---")


def peer_name(peer: Peer) -> str:
    return "its own replicas" if peer.itself else f"{peer.service} ({peer.stack})"


def peer_text(peer: Peer) -> str:
    # A pool that overlaps others but keeps free ports is CP101's warning, not a sure failure.
    what = "conflict" if peer.certain else "pool overlap"
    return f"{what} with {peer_name(peer)}"


def others_text(row: Row) -> str:
    """` and 4,996 other bindings`: the part of a crowded port's conflicts that is counted."""
    if not row.others:
        return ""
    return f" and {row.others:,} other binding{'' if row.others == 1 else 's'}"


def container_text(row: Row) -> str:
    if row.container_end != row.container_port:
        return f"{row.container_port}-{row.container_end}"
    return str(row.container_port)


def category_text(row: Row) -> str:
    category = row.category or ""
    if row.service_category and row.service_category != row.category:
        # The port sits in another category's range than its service claims (CP201's case).
        return f"{category} (service: {row.service_category})".strip()
    return category


def registered_text(row: Row) -> str:
    """`registry 5432`: the port the registry gives the service, or ""."""
    return f"registry {row.registered}" if row.registered is not None else ""


def stray_texts(row: Row) -> list[str]:
    """How the port strays from the policy (CP201's and CP204's cases), each in a few words."""
    texts = []
    if row.outside is not None:
        band = row.outside
        texts.append(f"outside the {band.name} range {band.start}-{band.end}")
    if row.drift and row.registered is not None:
        texts.append(f"not its registered port {row.registered}")
    if row.registered_to is not None:
        texts.append(f"registered to {row.registered_to}")
    return texts


def _row(row: Row, cwd: str | None) -> str:
    port = markdown(row.published or "(ephemeral)")
    problems = []
    if row.conflict:
        port = f"**{port}**"
        problems.append("⚠ " + "; ".join(peer_text(p) for p in row.peers) + others_text(row))
    elif row.strays:
        port = f"*{port}*"
    problems += [f"⚠ {text}" for text in stray_texts(row)]
    category = " · ".join(t for t in (category_text(row), registered_text(row)) if t)
    cells = (
        port,
        markdown(row.protocol),
        markdown(row.host_ip or "all"),
        markdown(row.service),
        markdown(row.stack or ""),
        markdown(row.project),
        markdown(container_text(row)),
        markdown(category),
        markdown_code(row.variable or ""),
        markdown_code(f"{display_path(row.file, cwd)}:{row.line}"),
        markdown("; ".join(problems)),
    )
    return "| " + " | ".join(cells) + " |"


def _group(group: HostGroup, level: str, cwd: str | None) -> list[str]:
    out = [f"{level} {markdown(group.title)}", ""]
    if group.host is not None:
        stacks = ", ".join(
            f"{markdown_code(m.title)} ("
            + ", ".join(markdown_code(display_path(f, cwd)) for f in m.files)
            + ")"
            for m in group.members
        )
        out += [f"Stacks: {stacks}", ""]
    else:
        files = [markdown_code(display_path(f, cwd)) for m in group.members for f in m.files]
        out += ["Files: " + ", ".join(files), ""]
    if group.conflicts:
        out += [f"⚠ **{group.conflicts} bindings in conflict** on this machine.", ""]
    if group.strays:
        out += [
            f"⚠ *{group.strays} {'port strays' if group.strays == 1 else 'ports stray'} from "
            "the policy* (a range, or the registry).",
            "",
        ]
    if group.rows:
        out.append("| " + " | ".join(HEADER) + " |")
        out.append("|" + "|".join(ALIGN) + "|")
        out += [_row(row, cwd) for row in group.rows]
    else:
        out.append("No published ports.")
    out.append("")
    if group.ranges:
        legend = " · ".join(f"{markdown_code(b.name)} {b.start}-{b.end}" for b in group.ranges)
        policy = f" ({markdown_code(display_path(group.config, cwd))})" if group.config else ""
        out += [f"Policy ranges{policy}: {legend}", ""]
    return out


def render(view: RegistryView, cwd: str | None = None) -> str:
    out = [
        "# Port registry",
        "",
        "The host ports that each machine's stacks publish, by host port. Generated by "
        "`compose-ports map --format markdown`: regenerate it rather than edit it.",
        "",
    ]
    for group in view.hosts:
        out += _group(group, "##", cwd)
    if view.unhosted:
        out += ["## Stacks on no host", ""]
        if view.hosts:
            out += ["No `hosts:` group of their config names these.", ""]
        for group in view.unhosted:
            out += _group(group, "###", cwd)
    if not view.groups:
        out += ["No compose projects found.", ""]
    return "\n".join(out).rstrip("\n") + "\n"

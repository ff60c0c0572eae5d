"""Where things are written in a compose file's text, for edits spliced into it.

The reader gives every scalar its line and column; these functions turn such positions into
character offsets, and find how a service's `ports:` list and its entries are written, so that
`fix` can rewrite a few characters instead of re-serializing the file.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from compose_ports.model import Source
from compose_ports.yamlread import _IMPLICIT, MappingNode, ScalarNode, SequenceNode, _Parser

__all__ = [
    "ScalarSpan",
    "SequenceLayout",
    "entry_text",
    "line_starts",
    "ports_layout",
    "scalar_span",
]


class ScalarSpan(NamedTuple):
    """Where a scalar's text sits in the document: character offsets, quote style, value."""

    start: int
    end: int
    style: str  # "" (plain), '"', "'", "|" or ">"
    value: str


# libyaml's line breaks (reader.c/scanner.c IS_BREAK, SKIP_LINE): CRLF counts once.
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# What may follow a one-line plain scalar: the end of the line, a comment or a flow indicator.
# (A `#` starts a comment only after a space; flow indicators end one only in flow context, and
# the value check before this one rules out the rest.)
_PLAIN_END = re.compile(r"[ \t]*(?:$|[\r\n\x85\u2028\u2029,\]}])|[ \t]+#")


def line_starts(text: str) -> list[int]:
    """The character offset where each line begins, as libyaml counts lines."""
    return [0, *(match.end() for match in _BREAK.finditer(text))]


def scalar_span(text: str, starts: list[int], src: Source, value: str) -> ScalarSpan | None:
    """Where the one-line scalar `value` that the reader placed at `src` sits in the text.

    `fix` needs offsets only for the few scalars it rewrites, so they come from the position
    and the value instead of a second parse of every file. None when the text there is not
    exactly that scalar on one line (a block scalar, escapes, a folded line): such a scalar is
    never rewritten.
    """
    if not 0 < src.line <= len(starts):
        return None
    start = starts[src.line - 1] + src.column - 1
    style = text[start : start + 1]
    if style in ('"', "'"):
        end = start + len(value) + 2
        if text[start + 1 : end - 1] != value or text[end - 1 : end] != style:
            return None
    elif style in ("|", ">") or "\n" in value:
        return None
    else:
        style = ""
        end = start + len(value)
        if text[start:end] != value or not _PLAIN_END.match(text, end):
            return None
    return ScalarSpan(start, end, style, value)


class SequenceLayout(NamedTuple):
    """How a service's `ports:` list is written, for inserting a tag and appending entries."""

    after_colon: int  # just after the `:` that follows the `ports` key
    tag: str | None  # its explicit tag, if any
    flow: bool  # `[a, b]` rather than a block of `- a` lines
    append_at: int  # flow: just after the last item (or the `]` of an empty list); block:
    #                 the end of the last item's last line
    empty: bool
    indent: str  # block: what stands before the `-` of the last item
    newline: str


def ports_layout(text: str, service: str) -> SequenceLayout | None:
    """Where `services.<service>.ports` sits in the text (its last definition), or None."""
    parser = _Parser(text)
    found: tuple[Any, Any] | None = None
    while parser.check_node():
        root = parser.get_node()
        services = _child(root, "services")
        entry = _child(services, service) if services is not None else None
        if entry is not None and isinstance(entry, MappingNode):
            for key, value in entry.value:
                if isinstance(key, ScalarNode) and key.value == "ports":
                    found = (key, value)
    if found is None or not isinstance(found[1], SequenceNode):
        return None
    key, value = found
    colon = text.index(":", key.end_mark.index) + 1
    newline = "\r\n" if "\r\n" in text else "\n"
    tag = value.tag if value.tag not in (_IMPLICIT, "tag:yaml.org,2002:seq") else None
    if value.flow_style:
        if not value.value:
            close = text.rindex("]", 0, value.end_mark.index)
            return SequenceLayout(colon, tag, True, close, True, "", newline)
        # Right after the last item, before any trailing comma or comment: `[a, # c\n]`
        # takes `[a, NEW, # c\n]`.
        end = _content_end(value.value[-1])
        return SequenceLayout(colon, tag, True, end, False, "", newline)
    if not value.value:
        return None
    last = value.value[-1]
    end = _content_end(last)
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_end - 1 : line_end] == "\r":
        line_end -= 1
    start = last.start_mark.index
    dash = text.rindex("-", 0, start + 1)
    line_start = text.rfind("\n", 0, dash) + 1
    return SequenceLayout(colon, tag, False, line_end, False, text[line_start:dash], newline)


def entry_text(text: str, src: Source, replace: str | None = None) -> str | None:
    """A `ports` entry of this text, written again as one flow item, as its author wrote it.

    src is where the entry's host port is written (a short-syntax scalar, or the `published`
    of a long-syntax entry, or the entry itself). Every scalar keeps its raw text (variables
    stay variables) and its type (plain stays plain); `replace`, when given, is the new text
    of the scalar at src. None when the entry holds something that cannot be written on one
    line, or is not found.
    """
    parser = _Parser(text)
    while parser.check_node():
        item = _ports_item(parser.get_node(), src)
        if item is not None:
            return _flow(item, src, replace)
    return None


def _ports_item(node: Any, src: Source) -> Any:
    """The item of some `ports` sequence that holds src, or None."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, ScalarNode)
                and key.value == "ports"
                and isinstance(value, SequenceNode)
            ):
                for item in value.value:
                    if _holds(item, src):
                        return item
            found = _ports_item(value, src)
            if found is not None:
                return found
    elif isinstance(node, SequenceNode):
        for item in node.value:
            found = _ports_item(item, src)
            if found is not None:
                return found
    return None


def _holds(node: Any, src: Source) -> bool:
    def at(n: Any) -> bool:
        return (n.start_mark.line + 1, n.start_mark.column + 1) == (src.line, src.column)

    if at(node):
        return True
    return isinstance(node, MappingNode) and any(at(v) for _, v in node.value)


def _flow(node: Any, src: Source, replace: str | None) -> str | None:
    if isinstance(node, ScalarNode):
        return _scalar(node, replace if _at(node, src) else None)
    if not isinstance(node, MappingNode):
        return None
    fields = []
    for key, value in node.value:
        if not isinstance(key, ScalarNode) or not isinstance(value, ScalarNode):
            return None  # an `x-` extension holding a collection: not worth the risk
        written = _scalar(value, replace if _at(value, src) else None)
        if written is None:
            return None
        fields.append(f"{_scalar(key, None)}: {written}")
    return "{" + ", ".join(fields) + "}"


def _at(node: Any, src: Source) -> bool:
    return (node.start_mark.line + 1, node.start_mark.column + 1) == (src.line, src.column)


# A plain scalar that means the same in a flow mapping as where it was written.
_SAFE_PLAIN = re.compile(r"[A-Za-z0-9_.+-]+")


def _scalar(node: ScalarNode, replace: str | None) -> str | None:
    if node.tag not in (_IMPLICIT, "tag:yaml.org,2002:str") and node.tag.startswith("!"):
        return None
    value: str = node.value
    if replace is not None:
        return json.dumps(replace)
    if not node.style and node.tag == _IMPLICIT and _SAFE_PLAIN.fullmatch(value):
        return value  # an int stays an int: `target: 80`
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


def _child(node: Any, name: str) -> Any:
    if not isinstance(node, MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == name:
            return value
    return None


def _content_end(node: Any) -> int:
    """Where a node's own text ends (block collections' end marks run into the next line)."""
    if isinstance(node, ScalarNode):
        return int(node.end_mark.index)
    if getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    children = (
        node.value if isinstance(node, SequenceNode) else [c for kv in node.value for c in kv]
    )
    return max((_content_end(c) for c in children), default=int(node.start_mark.index))

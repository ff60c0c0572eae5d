"""One port scalar written again: its host port named, moved, or the scalar quoted.

The new text replaces exactly the scalar's characters, quotes included; a quoted scalar keeps
its quote style, and a plain one is quoted only when it needs to be (`${...}`) or was asked to
be (CP302).
"""

from __future__ import annotations

import re

from compose_ports.compose.ports import split_host_part
from compose_ports.fix.layout import ScalarSpan

LITERAL = re.compile(r"[0-9]+(?:-[0-9]+)?")
# What a moved plain scalar may hold and still be the same kind of plain scalar.
_PLAIN_SAFE = re.compile(r"[0-9A-Za-z.:/-]+")
DEFAULTED = re.compile(r"\$\{(?P<name>[_A-Za-z][_A-Za-z0-9]*):-(?P<default>[0-9]+)\}")


def host_of(value: str, long_syntax: bool) -> tuple[str, str, str] | None:
    """(before, host port, after) of a scalar's text; None when it has no host part."""
    if long_syntax:
        return "", value, ""
    before, host, after = split_host_part(value)
    return (before, host, after) if after else None


def is_literal(value: str, long_syntax: bool) -> bool:
    """Whether the scalar's host port is written as a number or a range."""
    parts = host_of(value, long_syntax)
    return parts is not None and LITERAL.fullmatch(parts[1]) is not None


def named(value: str, long_syntax: bool, name: str) -> str | None:
    """The text with its literal host port as `${name:-PORT}`."""
    parts = host_of(value, long_syntax)
    if parts is None or LITERAL.fullmatch(parts[1]) is None:
        return None
    before, host, after = parts
    return f"{before}${{{name}:-{host}}}{after}"


def moved(value: str, long_syntax: bool, port: int, literal: bool = False) -> str | None:
    """The text with its host port (a number, or an unset variable's default) set to port;
    with `literal`, a variable's default is replaced by the number itself."""
    parts = host_of(value, long_syntax)
    if parts is None:
        return None
    before, host, after = parts
    if host.isdigit() or (literal and DEFAULTED.fullmatch(host)):
        host = str(port)
    elif (defaulted := DEFAULTED.fullmatch(host)) is not None:
        host = f"${{{defaulted['name']}:-{port}}}"
    else:
        return None
    return f"{before}{host}{after}"


def written(span: ScalarSpan, value: str, quote: bool) -> str | None:
    """The scalar's new text, in its own quote style (a plain one quoted when `quote`)."""
    style = span.style
    if style == "" and (quote or "${" in value):
        style = '"' if '"' not in value and "\\" not in value else "'"
    if style == '"' and ('"' in value or "\\" in value):
        return None
    if style == "'" and "'" in value:
        return None
    if style == "" and value != span.value and not _PLAIN_SAFE.fullmatch(value):
        return None
    return f"{style}{value}{style}"

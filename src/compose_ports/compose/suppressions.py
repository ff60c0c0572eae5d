"""`# compose-ports: ignore[CP101] reason`: the grammar of suppression comments.

- `# compose-ports: ignore[CP101,host-port-conflict]` silences those rules on its line, or on
  the next line when the comment stands alone on its line; text after the bracket is the
  reason people write down (as ruff accepts text after `# noqa: E501`).
- `# compose-ports: ignore` (optionally followed by a reason) silences every rule there.
- `# compose-ports: ignore-file` in the comment block at the top of a file silences the file.

A marker that does not parse silences nothing and says why (`problem`): the malformed-
suppression rule reports it. Markers are read while a file is read (the loader keeps them), so
lint never reads a file twice for them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MARK = "compose-ports:"
DIRECTIVES = ("ignore", "ignore-file")
_MARKER = re.compile(r"#\s*compose-ports:(?P<body>.*)$")
_DIRECTIVE = re.compile(r"\s*(?P<word>[A-Za-z][A-Za-z_-]*)(?P<rest>.*)$")
_CODE = re.compile(r"\s*CP[0-9]+\b")


class Marker(NamedTuple):
    line: int  # 1-based line of the comment
    column: int  # 1-based column of its `#`
    whole_file: bool  # `ignore-file`
    codes: tuple[str, ...] | None  # the rules named (codes or names); None: every rule
    lines: tuple[int, ...]  # the lines it silences
    problem: str | None = None  # why it silences nothing: it does not parse
    reason: str = ""  # the text after it, which people write for other people


def scan(text: str) -> tuple[Marker, ...]:
    """Every suppression comment of a file's text, parsed or not."""
    if MARK not in text:
        return ()
    markers = []
    top = True  # still in the comment block at the top of the file
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        alone = stripped.startswith("#")
        if stripped and not alone:
            top = False
        if MARK not in line:
            continue
        match = _MARKER.search(line)
        if match is None:
            continue
        column = match.start() + 1
        lines = (number, number + 1) if alone else (number,)
        markers.append(_parse(match["body"], number, column, lines, top and alone))
    return tuple(markers)


def _parse(body: str, line: int, column: int, lines: tuple[int, ...], at_top: bool) -> Marker:
    def broken(problem: str) -> Marker:
        return Marker(line, column, False, (), lines, problem)

    found = _DIRECTIVE.match(body)
    if found is None:
        return broken("a suppression names what to do: ignore, ignore[CP101] or ignore-file")
    word, rest = found["word"], found["rest"]
    if word == "ignore-file":
        if rest and not rest[0].isspace():
            return broken(f"unexpected {rest.strip()!r} after ignore-file")
        if not at_top:
            return broken("ignore-file works only in the comment block at the top of a file")
        return Marker(line, column, True, None, (), None, rest.strip())
    if word != "ignore":
        from compose_ports.didyoumean import near

        return broken(f"unknown directive {word!r}{near(word, DIRECTIVES)}")
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            return broken("the rule list has no closing ']'")
        codes = tuple(c.strip() for c in rest[1:close].split(","))
        if not any(codes) or not all(codes):
            return broken("an empty name in the rule list")
        after = rest[close + 1 :]
        if after and not after[0].isspace():
            return broken(f"unexpected {after.strip()!r} right after the rule list")
        return Marker(line, column, False, codes, lines, None, after.strip())
    if rest and not rest[0].isspace():
        return broken(f"unexpected {rest.strip()!r} after ignore")
    if _CODE.match(rest):
        # `ignore CP101` was meant as a rule list: silencing every rule would hide more.
        return broken(f"write the rules in brackets: ignore[{rest.split()[0].rstrip(',')}]")
    return Marker(line, column, False, None, lines, None, rest.strip())

"""Docker Compose's `.env` parser, which is NOT python-dotenv's.

A line-for-line port of compose-go@v2.9.1:dotenv/parser.go (the version inside Docker Compose
v2.40.3), checked against the real binary by tests/test_dotenv.py. Its quirks are kept on purpose:
a project reads exactly what Compose reads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from compose_ports.compose.interpolation import InterpolationError, go_quote, interpolate
from compose_ports.errors import ComposePortsError

__all__ = ["DotenvError", "parse_dotenv"]

# compose-go's exportRegex `^export\s+`; RE2's \s is only [\t\n\f\r ].
_EXPORT = re.compile(r"export[\t\n\f\r ]+")
# compose-go's escapeSeqRegex `(\\(?:[abcfnrtv$"\\]|0\d{0,3}))`; RE2's \d is ASCII only.
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
    # `\$` becomes `$$` so that interpolation, which runs next, yields a literal `$`.
    "$": "$$",
}
# parser.go isSpace: the spaces that do not end a line.
_LINE_SPACE = frozenset("\t\v\f\r \x85\xa0")
# Go's unicode.IsSpace (Python's str.isspace also accepts \x1c-\x1f, which Go does not).
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_KEY_PUNCTUATION = frozenset("_.-[]")
_BOM = "\ufeff"


class DotenvError(ComposePortsError):
    """A `.env` file that Compose refuses to load.

    ``message`` is Compose's text without its ``line N: `` prefix; ``line``/``column`` (1-based)
    point at the offending statement. ``compose_line`` is the line number Compose itself prints
    (0 when it prints none); it differs from ``line`` where Compose's counter drifts, e.g. an
    unterminated quote is reported at the end of the file.
    """

    def __init__(
        self,
        message: str,
        file: str | None = None,
        line: int = 0,
        column: int = 0,
        compose_line: int = 0,
    ) -> None:
        super().__init__(message, file, line, column)
        self.compose_line = compose_line

    @property
    def compose_message(self) -> str:
        """The text after ``failed to read PATH: `` in Compose's own error."""
        if self.compose_line:
            return f"line {self.compose_line}: {self.message}"
        return self.message


def parse_dotenv(
    text: str,
    lookup: Callable[[str], str | None],
    filename: str | None = None,
    places: dict[str, tuple[int, int]] | None = None,
) -> dict[str, str]:
    """The variables a `.env` file defines, as Docker Compose v2.40.3 reads them.

    lookup gives the value of a variable from outside the file (the OS environment, and the env
    files loaded before this one), or None. Values are interpolated looking there first, then at
    keys defined earlier in this file. Raises DotenvError where Compose fails.

    With `places`, each key's (line, column) is recorded there, 1-based: where its statement
    starts (the last one, for a key set twice), so that a finding can point at it.
    """
    # compose-go@v2.9.1:dotenv/godotenv.go skips a UTF-8 BOM at the start of the file only.
    if text.startswith(_BOM):
        text = text[1:]
    return _Parser(text, lookup, filename, places).parse()


def _is_space(c: str) -> bool:
    return c in _LINE_SPACE


def _is_key_char(c: str) -> bool:
    # parser.go accepts unicode.IsLetter / unicode.IsNumber, i.e. categories L* and N*.
    if c.isascii():
        return c.isalnum() or c in _KEY_PUNCTUATION
    return unicodedata.category(c)[0] in "LN"


def _go_rstrip(s: str) -> str:
    end = len(s)
    while end and s[end - 1] in _GO_SPACE:
        end -= 1
    return s[:end]


def _expand_escape(match: re.Match[str]) -> str:
    seq = match.group(0)
    simple = _SIMPLE_ESCAPES.get(seq[1])
    if simple is not None:
        return simple
    if seq == "\\c":
        # Go's strconv.UnquoteChar has no `\c`, so the sequence stays as it was.
        return seq
    # `\0NNN`: the `\0` is rewritten to `\` before strconv.UnquoteChar, and when that fails (not
    # exactly three octal digits, or above \377) the REWRITTEN text is kept: `\012` gives `\12`.
    octal = seq[2:]
    if len(octal) == 3 and all(d in "01234567" for d in octal) and int(octal, 8) <= 0o377:
        return chr(int(octal, 8))
    return "\\" + octal


class _Parser:
    def __init__(
        self,
        text: str,
        lookup: Callable[[str], str | None],
        filename: str | None,
        places: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        self.text = text
        self.lookup = lookup
        self.filename = filename
        # parser.go's own line counter, which only matters for the messages it produces.
        self.compose_line = 1
        self.out: dict[str, str] = {}
        self.places = places
        # Statements come in order: lines are counted from the previous one, not from the
        # start of the file each time.
        self._counted = (0, 1)  # (position, its line)

    def place(self, key: str, pos: int) -> None:
        if self.places is None:
            return
        counted, line = self._counted
        line += self.text.count("\n", counted, pos)
        self._counted = (pos, line)
        self.places[key] = (line, pos - (self.text.rfind("\n", 0, pos) + 1) + 1)

    def error(self, message: str, pos: int, numbered: bool = True) -> DotenvError:
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return DotenvError(
            message, self.filename, line, column, self.compose_line if numbered else 0
        )

    def parse(self) -> dict[str, str]:
        pos = 0
        while True:
            pos = self.statement_start(pos)
            if pos < 0:
                return self.out
            key_pos = pos
            key, pos, inherited = self.key_name(pos)
            if " " in key:
                raise self.error("key cannot contain a space", key_pos)
            if inherited:
                value = self.lookup(key)
                if value is not None:
                    self.out[key] = value
                    self.place(key, key_pos)
                continue
            value, pos = self.value(pos)
            # No override by lookup here: the OS environment wins later, when Compose merges
            # (types.Mapping.Merge never overwrites).
            self.out[key] = value
            self.place(key, key_pos)

    def statement_start(self, pos: int) -> int:
        """parser.go getStatementStart: skip blank space and comment lines; -1 at the end."""
        text = self.text
        n = len(text)
        while True:
            start = pos
            while pos < n and text[pos] in _GO_SPACE:
                pos += 1
            self.compose_line += text.count("\n", start, pos)
            if pos >= n:
                return -1
            if text[pos] != "#":
                return pos
            pos = text.find("\n", pos)
            if pos < 0:
                return -1

    def key_name(self, pos: int) -> tuple[str, int, bool]:
        """parser.go locateKeyName: the key, where its value starts, and whether it is bare."""
        text = self.text
        n = len(text)
        if _EXPORT.match(text, pos):
            pos += len("export")
            while pos < n and _is_space(text[pos]):
                pos += 1
        start = pos
        # When the last line has neither `=` nor `:` nor a newline (`S` at the very end of the
        # file), Go leaves the key empty and reads the whole line as the value of "" (verified:
        # `config --environment` prints `=S`).
        key = ""
        offset = pos
        inherited = False
        for i in range(pos, n):
            c = text[i]
            if _is_space(c):
                continue
            if c in "=:\n":
                # `:` too: the library accepts yaml-style `KEY: value`.
                key = text[start:i]
                offset = i + 1
                inherited = c == "\n"
                break
            if _is_key_char(c):
                continue
            end = text.find("\n", start)
            first_line = text[start:end] if end >= 0 else text[start:]
            raise self.error(
                f"unexpected character {go_quote(c)} in variable name {go_quote(first_line)}", i
            )
        if start >= n:
            raise self.error("zero length string", start, numbered=False)
        if inherited and " " not in key:
            # parser.go tests the key BEFORE trimming it, so a bare `S ` does not count its line
            # and every later line number Compose prints is one too small.
            self.compose_line += 1
        key = _go_rstrip(key)
        while offset < n and _is_space(text[offset]):
            offset += 1
        return key, offset, inherited

    def value(self, pos: int) -> tuple[str, int]:
        """parser.go extractVarValue: the value starting at pos and where the next one starts."""
        text = self.text
        n = len(text)
        quote = text[pos] if pos < n else ""
        if quote not in ("'", '"'):
            end = text.find("\n", pos)
            if end < 0:
                raw, rest = text[pos:], n
            else:
                raw, rest = text[pos:end], end + 1
            self.compose_line += 1
            # An inline comment needs a space before `#` (strings.Cut(value, " #")); since the
            # spaces after `=` were already skipped, `A= #x` is the value `#x`.
            raw = _go_rstrip(raw.split(" #", 1)[0])
            return self.expand(raw, pos), rest

        chars: list[str] = []
        escaped = False
        for i in range(pos + 1, n):
            c = text[i]
            if c == "\n":
                self.compose_line += 1
            if c != quote:
                if not escaped and c == "\\":
                    escaped = True
                    continue
                if escaped:
                    escaped = False
                    chars.append("\\")
                chars.append(c)
                continue
            if escaped:
                # `\"` in double quotes, and `\'` in single quotes too, is the quote itself.
                escaped = False
                chars.append(c)
                continue
            value = "".join(chars)
            if quote == '"':
                value = self.expand(_ESCAPE.sub(_expand_escape, value), pos)
            return value, i + 1

        end = text.find("\n", pos)
        shown = text[pos:end] if end >= 0 else text[pos:]
        raise self.error(f"unterminated quoted value {shown}", pos)

    def expand(self, value: str, pos: int) -> str:
        if "$" not in value:
            return value
        out = self.out
        lookup = self.lookup

        def mapping(name: str) -> str | None:
            found = lookup(name)
            return found if found is not None else out.get(name)

        try:
            return interpolate(value, mapping).value
        except InterpolationError as err:
            raise self.error(err.message, pos, numbered=False) from err

"""How a value from a file, a path or the system is written into each output, so that it stays
inside its field.

Service names are YAML keys (a quoted key holds anything: escape sequences, newlines, HTML), paths
are bytes on Linux (Python hands a byte that is not UTF-8 over as a lone surrogate, U+DC80 to
U+DCFF), and a process may rename itself. So every format escapes what it shows, here and
nowhere else:

- `visible`: for people (terminal, Markdown, HTML): C0, DEL and C1 controls (ESC among them), and
  a byte that is not UTF-8, as the four characters `\\x1b`, `\\xff` (U+2028 and U+2029 as
  `\\u2028`). A terminal then shows the text instead of obeying it.
- `line_safe`: no line may start with `::`, `##[` or `##vso[` (after blanks), which CI runners
  read as a command (GitHub's workflow commands, Azure's logging commands).
- `github_data`, `github_property`: a workflow command's message and property values, escaped as
  GitHub's runner unescapes them (`%25`, `%0D`, `%0A`; `%3A`, `%2C` in properties).
- `markdown`, `markdown_code`: a table cell or inline text of a committed Markdown file.
- `html_text`: text and attribute values of the HTML page.
- `json_safe`: a JSON encoder's output with each non-UTF-8 byte as `\\xff`: Python writes a lone
  surrogate as `\\udcff`, which strict parsers (Go, Rust, browsers' TextDecoder) reject.
- `uri_path`: a path in a URI, its raw bytes percent-encoded (`x%FF/compose.yaml`).

Output meant for another program (`fix --diff`) keeps its bytes and does not come here.
"""

from __future__ import annotations

import re
from functools import cache

# The patterns, compiled on first use: a character class over the surrogates takes most of a
# millisecond to compile, and one-file lint runs in under a tenth of a second.
_PATTERNS = {
    # C0, DEL and C1, the line and paragraph separators (line ends to Python's splitlines, to
    # JavaScript and to editors), and every surrogate (a path's undecodable bytes).
    "control": "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]",
    # CR and LF are GitHub's own escapes (`%0D`, `%0A`); every other control is shown visibly.
    "github": "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]",
    # What GitHub's runner (and Azure's) reads as a command: `::name`, or `##[` / `##vso[`, at
    # the start of a line after any leading white space (the runner trims it first). A Markdown
    # heading (`## Title`) is none of them.
    "command": r"(?m)^([^\S\n]*)(?::(?=:)|#(?=#\[|#vso\[))",
    # A JSON encoder writes a surrogate as `\udXXX`; a pair (an astral character such as an
    # emoji) is kept, a lone one is not. `\\` is matched first so that an escaped backslash
    # followed by the letters `udcff` is left alone.
    "json": r"(\\\\)|\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u(d[89a-f][0-9a-f]{2})",
    # What a Markdown cell shows literally: `&<>` as entities, backslash escapes for what would
    # be syntax (the pipe ends the cell; emphasis, links, code spans and strikethrough would
    # restyle it). Underscores between letters or digits cannot emphasize (CommonMark's
    # flanking rule): `my_db` and `test_the_name` stay as they are written.
    "markdown": r"[\\`*\[\]~|&<>]|(?<!\w)_+|_+(?!\w)",
    # Inside a code span no escape works: only text without these is shown as code.
    "code": r"[`\\|&<>]",
}
_MARKDOWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


@cache
def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(_PATTERNS[name])


def _char(code: int) -> str:
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode hands it over
        return f"\\x{code - 0xDC00:02x}"
    if code > 0xFF:
        return f"\\u{code:04x}"
    return f"\\x{code:02x}"


def _visible_match(match: re.Match[str]) -> str:
    return _char(ord(match.group()))


def visible(text: str) -> str:
    """Controls and undecodable bytes as `\\xNN`: what a person can read and a terminal ignores.

    Idempotent (its output has no control left), so a value escaped twice reads the same.
    """
    if text.isprintable():  # the common case, decided at C speed
        return text
    return _pattern("control").sub(_visible_match, text)


def _defuse(match: re.Match[str]) -> str:
    return match.group(1) + _char(ord(match.group()[-1]))


def line_safe(text: str) -> str:
    """Each line of `text` that would start a command (`::`, `##[`, `##vso[`) starts with `\\x3a:`
    or `\\x23#` instead.

    Only input can start a line so (the tool's own lines never do, but a path may).
    """
    if "::" not in text and "##" not in text:  # no command can start anywhere
        return text
    return _pattern("command").sub(_defuse, text)


def terminal(text: str) -> str:
    """One line built from input, for a terminal or a CI log."""
    return line_safe(visible(text))


def github_data(text: str) -> str:
    """The message of a workflow command (after `::`)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if text.isprintable():
        return text
    return _pattern("github").sub(_visible_match, text)


def github_property(text: str) -> str:
    """A property value (`file=...`, `title=...`): `:` and `,` delimit properties and the data."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def _markdown_match(match: re.Match[str]) -> str:
    chars = match.group()
    return _MARKDOWN_ESCAPES.get(chars) or "".join("\\" + char for char in chars)


def markdown(text: str) -> str:
    """Inline Markdown text (a table cell, a heading) that renders as exactly `text`: CR and LF
    (which would end the row) and other controls as `\\xNN`, `&<>` and edge spaces as
    references, Markdown syntax (the pipe, which GFM splits cells at, first) behind backslashes."""
    text = visible(text)
    text = _pattern("markdown").sub(_markdown_match, text)
    if text[:1] == " " or text[-1:] == " ":
        # A cell (and a heading) is trimmed: its own edge spaces are kept as references.
        core = text.strip(" ")
        lead = len(text) - len(text.lstrip(" "))
        trail = len(text) - len(text.rstrip(" ")) if core else 0
        text = "&#32;" * lead + core + "&#32;" * trail
    return text


def markdown_code(text: str) -> str:
    """`text` as a code span when it can be one, else as escaped plain text (a backtick would end
    the span, and inside one neither entities nor backslash escapes work)."""
    if not text:
        return ""
    shown = visible(text)
    # A code span also drops a space at each end (CommonMark): such a value is plain text.
    if _pattern("code").search(shown) is None and shown.strip(" ") == shown:
        return f"`{shown}`"
    return markdown(text)


def html_text(text: str) -> str:
    """Text or an attribute value of the HTML page."""
    from html import escape  # here: the text path never needs it (html.entities is large)

    return escape(visible(text))


def _json_match(match: re.Match[str]) -> str:
    if match.group(1) or match.group(2):
        return match.group()
    code = int(match.group(4), 16)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\\\x{code - 0xDC00:02x}"
    return f"\\\\u{code:04x}"


def json_safe(encoded: str) -> str:
    """A JSON encoder's ASCII output (`ensure_ascii`), each lone surrogate written as the text
    `\\xff` (an undecodable byte) or `\\ud800`, so that every parser accepts it."""
    if "\\ud" not in encoded:
        return encoded
    return _pattern("json").sub(_json_match, encoded)


def uri_path(path: str, safe: str = "/") -> str:
    """A POSIX path percent-encoded for a URI, from its raw bytes: `x%FF/a%20b.yaml`."""
    from urllib.parse import quote

    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is no byte (from a YAML `\uD800`): its code
        raw = path.encode("utf-8", "surrogatepass")
    return quote(raw, safe=safe)

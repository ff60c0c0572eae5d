"""Output cannot be hijacked by input: every value stays inside its field, in every format.

Service names come from compose files (a quoted YAML key holds anything: escape sequences,
newlines, HTML, pipes), paths are bytes on Linux (a byte that is not UTF-8 reaches Python as a
lone surrogate), and a process may rename itself. Hypothesis draws them from the whole range,
hostile pieces first; each output is then parsed back the way its reader parses it (a terminal,
`json` with strict strings, SARIF against the official schema, GitHub's runner with its
workflow-command grammar, a GFM table, `html.parser`) to show that each value comes back whole,
in its own field, and that nothing else was added: no escape sequence reaches a terminal, no
line becomes a workflow command, no cell or tag is opened.

The oracles here (`shown`, `in_json`, the parsers) are written independently of
`compose_ports.reporters.escape`, so that the module is not tested against itself.
"""

from __future__ import annotations

import html
import html.parser
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote_to_bytes

import jsonschema
import jsonschema.validators
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from compose_ports.commands import main
from compose_ports.findings import Finding, Related, Severity
from compose_ports.model import Diagnostic
from compose_ports.reporters import escape, lint_github, lint_json, lint_sarif, lint_text
from compose_ports.reporters.context import ReportContext, RuleInfo

TESTS = Path(__file__).resolve().parent
SARIF_SCHEMA = json.loads(
    (TESTS.parent.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json").read_text()
)
LINT_SCHEMA = json.loads(
    (TESTS.parent / "src" / "compose_ports" / "schemas" / "lint.schema.json").read_text()
)
MAP_SCHEMA = json.loads(
    (TESTS.parent / "src" / "compose_ports" / "schemas" / "map.schema.json").read_text()
)

# --- what may be drawn -----------------------------------------------------------------------

HOSTILE = (
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\x9b31m",  # a C1 CSI: one character, the same as ESC [ on many terminals
    "\n::error file=README.md,line=1::pwned",
    "\r",
    "\n",
    "::",
    "##[error]",
    "%",
    "%0A",
    "%25",
    ",",
    ":",
    "|",
    "<script>alert(1)</script>",
    "&amp;",
    "&",
    "`",
    "*",
    "_",
    "[x](1)",
    "~~",
    "\\",
    "\\|",
    "{0}",
    "\u2028",
    "\x85",
    "\x7f",
    "\x00",
    "\t",
    " ",
    "é",
    "😀",
    "\ufeff",
    "\u202e",
)
# Anything YAML can quote: every code point but the surrogates (libyaml refuses `\uD800`).
NAMES = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.characters(exclude_categories=("Cs",))),
    min_size=1,
    max_size=8,
).map("".join)

HOSTILE_BYTES = (
    b"\xff",
    b"\xc3",  # a UTF-8 lead byte without its continuation
    b"\x1b]0;pwned\x07",
    b"\x1b[31m",
    b"\n::error file=README.md,line=1::pwned",
    b"\r",
    b"::",
    b"##[error]",
    b"%",
    b"%FF",
    b",",
    b":",
    b"|",
    b"<b>",
    b"&",
    b" ",
    b"\\",
    b"`",
    "é".encode(),
    "\u2028".encode(),
)
# A directory name on Linux: any byte but `/` and NUL (not hidden, which a scan may skip).
SEGMENTS = (
    st.lists(
        st.one_of(st.sampled_from(HOSTILE_BYTES), st.binary(min_size=1, max_size=3)),
        min_size=1,
        max_size=5,
    )
    .map(b"".join)
    .filter(lambda b: b"/" not in b and b"\0" not in b and not b.startswith(b"."))
    .filter(lambda b: len(b) < 200)
)

# --- oracles: what a reader must get back -----------------------------------------------------


def shown(text: str) -> str:
    """What a person must see: each control, separator and undecodable byte as `\\xNN`."""
    out = []
    for char in text:
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code in (0x2028, 0x2029) or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def line_start(text: str) -> str:
    """`text` shown at the start of a line: if the runner would read a command there, its first
    character is shown escaped (`\\x3a:error`, `\\x23#[`)."""
    rest = text.lstrip(NET_SPACE)
    if rest.startswith(("::", "##[", "##vso[")):
        blank = text[: len(text) - len(rest)]
        return f"{blank}\\x{ord(rest[0]):02x}{rest[1:]}"
    return text


def github_shown(text: str) -> str:
    """What GitHub's runner must give back: CR and LF are its own escapes, the rest as shown."""
    return "".join(c if c in "\r\n" else shown(c) for c in text)


def in_json(text: str) -> str:
    """A JSON string's value: exact, but an undecodable byte as the four characters `\\xff`
    (any other lone surrogate as the six characters `\\ud800`)."""
    # A high and a low surrogate side by side are one character to every JSON parser.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return re.sub(
        "[\ud800-\udfff]",
        lambda m: (
            f"\\x{ord(m.group()) - 0xDC00:02x}"
            if 0xDC80 <= ord(m.group()) <= 0xDCFF
            else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


# What a terminal obeys or a reader splits on: C0 (but LF), DEL, C1, the separators, and any
# surrogate (which no encoder writes).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
# .NET's Char.IsWhiteSpace, which the runner trims before it looks for `::`.
NET_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
NET_SPACE += "\u2028\u2029\u202f\u205f\u3000"
COMMAND_NAMES = {"error", "warning", "notice"}


def assert_terminal_safe(output: str, colours: bool = False) -> None:
    """Nothing a terminal would obey, nothing a CI runner would run."""
    if colours:
        output = OUR_COLOURS.sub("", output)
    assert RAW_CONTROL.search(output) is None, repr(output)
    for line in output.split("\n"):
        assert runner_command(line) is None, line


def runner_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """What GitHub's runner makes of a log line (ActionCommand.TryParseV2, and the legacy
    `##[` form), or None when the line is just text."""
    trimmed = line.lstrip(NET_SPACE)
    if trimmed.startswith(("##[", "##vso[")):
        return ("legacy", {}, trimmed)
    if not trimmed.startswith("::"):
        return None
    end = trimmed.find("::", 2)
    if end < 0:
        return None
    name, _, properties = trimmed[2:end].partition(" ")
    parsed = {}
    for prop in properties.split(","):
        if prop:
            key, _, value = prop.partition("=")
            parsed[key] = _unescape(value, property_=True)
    return name, parsed, _unescape(trimmed[end + 2 :], property_=False)


def _unescape(text: str, property_: bool) -> str:
    table = {"%25": "%", "%0D": "\r", "%0A": "\n"}
    if property_:
        table |= {"%3A": ":", "%2C": ","}
    return re.sub("%25|%0D|%0A|%3A|%2C", lambda m: table.get(m.group(), m.group()), text)


def strict_json(text: str) -> object:
    """What a strict parser (Go, Rust, a browser's TextDecoder) accepts: UTF-8 text, no lone
    surrogate in any string."""
    text.encode("utf-8")  # strict: a surrogate in the output itself fails here
    document = json.loads(text)

    def walk(node: object) -> None:
        if isinstance(node, str):
            node.encode("utf-8")  # a `\udcff` escape decodes to a lone surrogate: refused
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return document


def _sarif_validator() -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(SARIF_SCHEMA)
    return cls(SARIF_SCHEMA, format_checker=cls.FORMAT_CHECKER)


SARIF_VALIDATOR = _sarif_validator()


def markdown_cells(row: str) -> list[str]:
    """A GFM table row's cells, split as GFM splits them: at every pipe not behind a backslash
    (a backslash escapes the character after it)."""
    assert row.startswith("|") and row.endswith("|"), row
    cells, current, index = [], [], 1
    while index < len(row) - 1:
        char = row[index]
        if char == "\\":
            current.append(row[index : index + 2])
            index += 2
            continue
        if char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current))
    return [cell.strip(" \t") for cell in cells]  # GFM trims a cell's spaces and tabs


def markdown_text(cell: str) -> str:
    """What a GFM renderer shows for a cell's inline text: a code span verbatim (GFM unescapes
    `\\|` in table cells first), else backslash escapes and entities resolved."""
    cell = cell.replace("\\|", "|") if cell.startswith("`") else cell
    if len(cell) >= 2 and cell.startswith("`") and cell.endswith("`") and "`" not in cell[1:-1]:
        return cell[1:-1]
    assert "`" not in re.sub(r"\\.", "", cell), cell  # an unescaped backtick opens a span
    assert "<" not in cell and ">" not in cell, cell  # no tag, no autolink
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", cell)
    return html.unescape(text)


class Page(html.parser.HTMLParser):
    """The tags of the page and the text of each table cell, as a browser's parser sees them."""

    TAGS: ClassVar[set[str]] = {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "nav",
        "a", "section", "span", "figure", "figcaption", "svg", "rect", "text", "line", "g",
        "circle", "ul", "li", "b", "div", "table", "thead", "tbody", "tr", "th", "td", "code",
        "wbr", "br", "footer",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, _ in attrs:
            assert not name.startswith("on"), name  # no event handler from anywhere
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


# --- the escaping functions, alone ------------------------------------------------------------


ANY_TEXT = st.text(st.characters(), max_size=30)  # surrogates included, as paths bring them


@given(ANY_TEXT)
def test_visible_leaves_nothing_to_obey_and_is_idempotent(text: str) -> None:
    out = escape.visible(text)
    assert out == shown(text)
    assert RAW_CONTROL.search(out) is None
    assert escape.visible(out) == out


@given(ANY_TEXT)
def test_github_escapes_decode_to_the_value(text: str) -> None:
    data = escape.github_data(text)
    prop = escape.github_property(text)
    assert not set("\r\n") & set(data + prop)
    assert "," not in prop and ":" not in prop
    assert _unescape(data, property_=False) == github_shown(text)
    assert _unescape(prop, property_=True) == github_shown(text)


@given(ANY_TEXT)
def test_markdown_renders_as_the_shown_value(text: str) -> None:
    cell = escape.markdown(text)
    assert markdown_cells(f"| {cell} | x |") == [cell, "x"]
    assert markdown_text(cell) == shown(text)
    code = escape.markdown_code(text)
    assert markdown_cells(f"| {code} |") == [code]
    assert markdown_text(code) == shown(text)


@given(st.lists(ANY_TEXT, max_size=4))
def test_json_is_strict_and_keeps_undecodable_bytes_as_text(values: list[str]) -> None:
    from compose_ports.reporters.common import encode, encode_compact

    for encoder in (encode, encode_compact):
        document = strict_json(encoder(values))
        assert document == [in_json(v) for v in values]


@given(st.binary(max_size=30))
def test_uris_carry_the_raw_bytes(raw: bytes) -> None:
    path = os.fsdecode(raw)
    uri = escape.uri_path(path)
    assert re.fullmatch(r"[A-Za-z0-9_.~/%-]*", uri), uri
    assert unquote_to_bytes(uri) == raw


@given(st.lists(st.sampled_from(["::", "##[", "##vso[", "#", ":", " ", "\u3000", "x", "\n"])))
def test_no_line_starts_a_command(pieces: list[str]) -> None:
    text = escape.line_safe("".join(pieces))
    assert all(runner_command(line) is None for line in text.split("\n"))


# --- the lint reporters, on drawn findings ----------------------------------------------------

ROOT = "/repo"
RULES = (
    RuleInfo("CP101", "host-port-conflict", Severity.ERROR, "Two bindings collide.", "Help."),
    RuleInfo("CP301", "hardcoded-host-port", Severity.INFO, "A literal host port.", "Help."),
)


def _findings(name: str, directory: str, message_part: str) -> tuple[Finding, ...]:
    conflict = Finding(
        code="CP101",
        rule="host-port-conflict",
        severity=Severity.ERROR,
        message=f"host port 8080/tcp of {name} is already bound by {name} {message_part}",
        file=f"{ROOT}/{directory}/compose.yaml",
        line=4,
        column=13,
        service=name,
        project="proj",
        stack=name,
        host=name,
        related=(Related(f"{ROOT}/{directory}/compose.yaml", 4, 24, name, "proj", name, name),),
    )
    hard_coded = conflict._replace(
        code="CP301",
        rule="hardcoded-host-port",
        severity=Severity.INFO,
        message=f"8080->80/tcp of {name} is hard-coded",
        related=(),
        fix="compose-ports fix",
    )
    return conflict, hard_coded


DIRECTORIES = SEGMENTS.map(os.fsdecode)


@settings(max_examples=150, deadline=None)
@given(name=NAMES, directory=DIRECTORIES, message_part=NAMES)
@example(name="web\x1b[31mRED\x1b]0;pwned\x07", directory="x\udcff", message_part="%0A")
def test_each_lint_format_keeps_each_value_in_its_field(
    name: str, directory: str, message_part: str
) -> None:
    findings = _findings(name, directory, message_part)
    error = f"{directory}/broken.yaml:3:1: bad {name}"
    broken = Diagnostic(f"{ROOT}/{directory}/broken.yaml", 3, 1, f"bad {name}")
    context = ReportContext(cwd=ROOT, rules=RULES, files_read=2, errors=(broken,), version="0.1.0")
    relative = f"{directory}/compose.yaml"

    # Text, with and without colour: the colours are the only escape sequences.
    for colour in (False, True):
        text = lint_text.render(findings, context._replace(color=colour))
        assert_terminal_safe(escape.line_safe(text), colours=colour)
        plain = OUR_COLOURS.sub("", text)
        assert f"[service: {shown(name)}, stack: {shown(name)}, host: {shown(name)}]" in plain
        assert f"{line_start(shown(relative))}:4:13:" in plain
        assert f"    also: {shown(relative)}:4:24 service {shown(name)}" in plain

    # JSON: strict, valid, each value exact in its own key.
    document = strict_json(lint_json.render(findings, context))
    jsonschema.Draft202012Validator(LINT_SCHEMA).validate(document)
    conflict = next(f for f in document["findings"] if f["code"] == "CP101")
    assert conflict["service"] == conflict["stack"] == conflict["host"] == in_json(name)
    assert conflict["file"] == in_json(relative)
    assert conflict["message"] == in_json(findings[0].message)
    assert conflict["related"][0]["message"] == in_json(name)
    assert document["errors"] == [in_json(error)]

    # SARIF: the official schema, raw bytes percent-encoded in URIs, text in properties.
    sarif = strict_json(lint_sarif.render(findings, context))
    SARIF_VALIDATOR.validate(sarif)
    [run] = sarif["runs"]
    result = next(r for r in run["results"] if r["ruleId"] == "CP101")
    assert result["properties"]["service"] == in_json(name)
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert unquote_to_bytes(uri) == os.fsencode(relative)
    related = result["relatedLocations"][0]
    assert unquote_to_bytes(related["physicalLocation"]["artifactLocation"]["uri"]) == (
        os.fsencode(relative)
    )
    text_of = result["message"]["text"].replace("{{", "{").replace("}}", "}")
    assert text_of == in_json(findings[0].message)

    # GitHub: one command per finding and error, each value back whole in its property or data.
    output = lint_github.render(findings, context)
    assert "\r" not in output and RAW_CONTROL.search(output) is None
    lines = output.rstrip("\n").split("\n")
    commands = [runner_command(line) for line in lines]
    assert [c[0] for c in commands if c] == ["error", "notice", "error"]
    assert all(c is None for c in commands[3:])  # the summary lines are text
    _, properties, data = next(c for c in commands if c and c[0] == "error")
    assert properties["file"] == github_shown(relative)
    assert properties["title"] == "CP101 host-port-conflict"
    assert (properties["line"], properties["col"]) == ("4", "13")
    assert data.startswith(github_shown(findings[0].message))
    assert f"[service: {github_shown(name)}, stack: {github_shown(name)}" in data
    error_command = commands[2]
    assert error_command is not None
    assert error_command[1]["file"] == github_shown(f"{directory}/broken.yaml")
    assert error_command[2] == github_shown(f"bad {name}")


# --- the whole command line, on drawn compose files and directories ---------------------------


def yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar of `text`: every character but printable ASCII escaped."""
    out = []
    for char in text:
        code = ord(char)
        if 0x20 <= code < 0x7F and char not in '"\\':
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def compose(name: str) -> str:
    # Two ports on 8080: a conflict (CP101) with a related binding, and two CP301s.
    return (
        f"name: proj\nservices:\n  {yaml_quoted(name)}:\n    image: nginx\n"
        '    ports: ["8080:80", "8080:81"]\n'
    )


def cli(root: Path, *args: str, **env: str) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(root)
    try:
        base = {"GITHUB_ACTIONS": None, "NO_COLOR": None, "COMPOSE_FILE": None}
        result = CliRunner().invoke(main, list(args), env={**base, **env})
    finally:
        os.chdir(old)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@contextmanager
def project(name: str, segment: bytes) -> Iterator[tuple[Path, str]]:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary).resolve()
        (root / ".git").mkdir()
        directory = os.path.join(os.fsencode(root), segment)
        os.mkdir(directory)
        with open(os.path.join(directory, b"compose.yaml"), "w") as handle:
            handle.write(compose(name))
        yield root, os.fsdecode(segment) + "/compose.yaml"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=NAMES, segment=SEGMENTS)
@example(name="web\x1b[31mRED\x1b]0;pwned\x07", segment=b"x\xff")
@example(name="a|b\rc<script>alert(1)</script>", segment=b"::error title=x::y\n##[error]z")
def test_every_command_output_keeps_names_and_paths_in_their_fields(
    name: str, segment: bytes
) -> None:
    with project(name, segment) as (root, relative):
        # lint, for people: nothing raw on the terminal, the name and path shown escaped.
        code, out, err = cli(root, "lint", "--format", "text")
        assert code == 1, (out, err)
        assert_terminal_safe(out + err)
        assert f"[service: {shown(name)}]" in out
        assert f"\n{line_start(shown(relative))}:5:13:" in "\n" + out

        # lint, for programs.
        code, out, err = cli(root, "lint", "--format", "json")
        document = strict_json(out)
        jsonschema.Draft202012Validator(LINT_SCHEMA).validate(document)
        assert {f["service"] for f in document["findings"]} == {in_json(name)}
        assert {f["file"] for f in document["findings"]} == {in_json(relative)}
        code, out, err = cli(root, "lint", "--format", "sarif")
        sarif = strict_json(out)
        SARIF_VALIDATOR.validate(sarif)
        for result in sarif["runs"][0]["results"]:
            assert result["properties"]["service"] == in_json(name)
            location = result["locations"][0]["physicalLocation"]["artifactLocation"]
            assert unquote_to_bytes(location["uri"]) == os.fsencode(relative)

        # lint inside GitHub Actions: exactly one command per finding, nothing else is one.
        code, out, err = cli(root, "lint", GITHUB_ACTIONS="true")
        assert_terminal_safe(err)
        commands = [runner_command(line) for line in out.split("\n")]
        found = [c for c in commands if c]
        assert [c[0] for c in found] == ["notice", "error", "notice"], out
        for _, properties, data in found:
            assert properties["file"] == github_shown(relative)
            assert f"[service: {github_shown(name)}]" in data

        # map, every format.
        code, out, err = cli(root, "map")
        assert code == 0, (out, err)
        assert_terminal_safe(out + err)
        assert f"8080/tcp   {shown(name)}" in out
        code, out, err = cli(root, "map", "--format", "json")
        document = strict_json(out)
        jsonschema.Draft202012Validator(MAP_SCHEMA).validate(document)
        assert {p["service"] for p in document["projects"][0]["ports"]} == {in_json(name)}
        assert document["projects"][0]["files"] == [in_json(relative)]
        code, out, err = cli(root, "map", "--format", "markdown")
        assert_terminal_safe(out + err)
        rows = [line for line in out.split("\n") if line.startswith("| **8080**")]
        assert len(rows) == 2
        for row in rows:
            cells = markdown_cells(row)
            assert len(cells) == 11, cells
            assert markdown_text(cells[3]) == shown(name)
            assert markdown_text(cells[9]) == shown(relative + ":5")
        code, out, err = cli(root, "map", "--format", "html")
        assert_terminal_safe(out + err)
        page = Page()
        page.feed(out)
        page.close()
        assert page.tags <= Page.TAGS, page.tags - Page.TAGS
        cells = [row for row in page.rows if row]
        assert len(cells) == 2 and all(len(row) == 11 for row in cells)
        assert {row[3] for row in cells} == {shown(name)}


# --- the cases, one by one ------------------------------------------------------------


def console(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """The console script in a process of its own: the exact bytes it writes to pipes."""
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "compose_ports", *args],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        env={**environ, **env},
    )


def test_a_service_name_cannot_drive_the_terminal_even_when_piped(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(compose("web\x1b[31mRED\x1b]0;pwned\x07"))
    result = console(tmp_path, "lint", "--format", "text")
    assert result.returncode == 1
    assert b"\x1b" not in result.stdout + result.stderr and b"\x07" not in result.stdout
    assert b"web\\x1b[31mRED\\x1b]0;pwned\\x07" in result.stdout


def test_colours_stay_on_a_terminal() -> None:
    [conflict, _] = _findings("web\x1b[31mRED", "shop", "")
    context = ReportContext(cwd=ROOT, rules=RULES, color=True)
    text = lint_text.render([conflict], context)
    assert "\x1b[1;31mCP101\x1b[0m \x1b[1;31merror\x1b[0m" in text
    assert "web\\x1b[31mRED" in text
    assert OUR_COLOURS.sub("", text).count("\x1b") == 0


def test_an_include_outside_the_repository_cannot_annotate_under_github_actions(
    tmp_path: Path,
) -> None:
    evil = "out\n::error file=README.md,line=1::pwned"
    (tmp_path / evil).mkdir()
    (tmp_path / evil / "inc.yaml").write_text(
        'services:\n  other:\n    image: x\n    ports: ["9090:80"]\n'
    )
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "compose.yaml").write_text(
        f"include:\n  - {json.dumps('../' + evil + '/inc.yaml')}\n"
        'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
    )
    result = console(repo, "lint", GITHUB_ACTIONS="true")
    out, err = result.stdout.decode(), result.stderr.decode()
    assert "outside the repository" in err
    assert "out\\x0a::error file=README.md" in err
    assert_terminal_safe(err)
    commands = [c for c in map(runner_command, out.split("\n")) if c]
    assert [c[0] for c in commands] == ["notice", "notice"]
    assert all(c[1]["file"] != "README.md" for c in commands)


def test_fix_names_a_file_without_letting_it_start_a_line(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    evil = "sub\n::error file=README.md,line=1::pwned"
    (tmp_path / evil).mkdir()
    (tmp_path / evil / "compose.yaml").write_text(compose("web"))
    checked = console(tmp_path, "fix", "--check", GITHUB_ACTIONS="true")
    assert checked.returncode == 1
    assert checked.stdout.decode() == f"would fix {shown(evil)}/compose.yaml\n"
    diff = console(tmp_path, "fix", "--diff")
    # The patch is for `patch` and `git apply`: it keeps the path's bytes.
    assert f"--- a/{evil}/compose.yaml\n".encode() in diff.stdout
    fixed = console(tmp_path, "fix", GITHUB_ACTIONS="true")
    assert fixed.stdout.decode() == f"fixed {shown(evil)}/compose.yaml\n"
    assert_terminal_safe((fixed.stdout + fixed.stderr).decode())


def test_a_path_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    directory = os.path.join(os.fsencode(tmp_path), b"x\xff")
    os.mkdir(directory)
    with open(os.path.join(directory, b"compose.yaml"), "w") as handle:
        handle.write(compose("web"))
    sarif = console(tmp_path, "lint", "--format", "sarif")
    assert sarif.returncode == 1, sarif.stderr
    document = strict_json(sarif.stdout.decode())
    SARIF_VALIDATOR.validate(document)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    }
    assert uris == {"x%FF/compose.yaml"}
    found = strict_json(console(tmp_path, "lint", "--format", "json").stdout.decode())
    assert {f["file"] for f in found["findings"]} == {"x\\xff/compose.yaml"}
    text = console(tmp_path, "lint", "--format", "text").stdout
    assert b"\xff" not in text and b"x\\xff/compose.yaml:5:13:" in text
    # The patch keeps the raw byte: `git apply` must find the file.
    diff = console(tmp_path, "fix", "--diff").stdout
    assert b"--- a/x\xff/compose.yaml\n" in diff


def test_the_markdown_registry_keeps_html_and_carriage_returns_out(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    name = "a|b\rc<script>alert(1)</script>"
    (tmp_path / "compose.yaml").write_text(compose(name))
    out = console(tmp_path, "map", "--format", "markdown").stdout.decode()
    assert "<script>" not in out and "\r" not in out
    row = next(line for line in out.split("\n") if line.startswith("| **8080**"))
    assert "a\\|b\\\\x0dc&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert markdown_text(markdown_cells(row)[3]) == "a|b\\x0dc<script>alert(1)</script>"


def _listeners(name: str) -> list:
    from compose_ports.live.sockets import Listener

    return [Listener(8080, "tcp", "0.0.0.0", 4242, name)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(process=NAMES)
def test_check_shows_a_process_name_escaped(process: str) -> None:
    from compose_ports.live import sockets as live

    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        (root / ".git").mkdir()
        (root / "compose.yaml").write_text(compose("web"))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(live, "listeners", lambda: _listeners(process))
            code, out, err = cli(root, "check")
    assert code == 1, (out, err)
    assert_terminal_safe(out + err)
    assert f"8080/tcp in use by {shown(process)} (pid 4242)" in out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_NAME) is Linux's")
def test_check_names_a_real_process_that_renamed_itself(tmp_path: Path) -> None:
    listener = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import ctypes, socket, sys, time\n"
            "ctypes.CDLL(None).prctl(15, b'\\x1b]0;pwned\\x07\\x1b[31m', 0, 0, 0)\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "print(s.getsockname()[1], flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert listener.stdout is not None
        port = int(listener.stdout.readline())
        (tmp_path / ".git").mkdir()
        (tmp_path / "compose.yaml").write_text(
            f'services:\n  web:\n    image: nginx\n    ports: ["127.0.0.1:{port}:80"]\n'
        )
        result = console(tmp_path, "check")
    finally:
        listener.kill()
        listener.wait()
    out = result.stdout.decode()
    assert result.returncode == 1, (out, result.stderr)
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout
    assert f"{port}/tcp in use by \\x1b]0;pwned\\x07\\x1b[31m (pid {listener.pid})" in out

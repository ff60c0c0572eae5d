"""The `.env` parser, judged by the real Docker Compose v2.40.3 binary (`config --environment`)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from oracle import binary

from compose_ports.compose.dotenv import DotenvError, parse_dotenv


@dataclass(frozen=True)
class Environment:
    ok: bool
    stdout: str  # `config --environment`: one `KEY=value` per variable, sorted as whole lines
    error: str  # what follows `failed to read PATH: ` when Compose refuses the file
    stderr: str


def compose_environment(
    directory: Path, dotenv: str | bytes, os_env: dict[str, str]
) -> Environment:
    (directory / "compose.yaml").write_text("services: {web: {image: x}}\n")
    data = dotenv.encode() if isinstance(dotenv, str) else dotenv
    (directory / ".env").write_bytes(data)
    proc = subprocess.Popen(
        [str(binary()), "config", "--environment"],
        cwd=directory,
        env=base_env(os_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    # Bytes, not text mode: universal newlines would hide the `\r` of values.
    stdout, stderr = out.decode(), err.decode()
    prefix = f"failed to read {directory / '.env'}: "
    error = ""
    if proc.returncode != 0:
        assert prefix in stderr, stderr
        error = stderr[stderr.index(prefix) + len(prefix) :].removesuffix("\n")
    return Environment(proc.returncode == 0, stdout, error, stderr)


def base_env(os_env: dict[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/", **os_env}


def render(directory: Path, parsed: dict[str, str], os_env: dict[str, str]) -> str:
    """What `config --environment` prints when the .env file gives `parsed`."""
    merged = dict(parsed)
    # The OS environment always wins (compose-go types/mapping.go Merge never overwrites).
    merged.update(base_env(os_env))
    # The default project name: the directory's basename, normalized (compose-facts.md §3.4).
    merged.setdefault("COMPOSE_PROJECT_NAME", re.sub(r"[^a-z0-9_-]", "", directory.name.lower()))
    merged["PWD"] = str(directory)
    return "".join(line + "\n" for line in sorted(f"{k}={v}" for k, v in merged.items()))


def check(
    directory: Path, dotenv: str | bytes, os_env: dict[str, str] | None = None
) -> dict[str, str]:
    """parse_dotenv agrees with Compose on this file; returns what it parsed."""
    os_env = os_env or {}
    compose = compose_environment(directory, dotenv, os_env)
    text = dotenv.decode() if isinstance(dotenv, bytes) else dotenv
    assert compose.ok, compose.stderr
    parsed = parse_dotenv(text, base_env(os_env).get)
    assert compose.stdout == render(directory, parsed, os_env)
    return parsed


def check_error(directory: Path, dotenv: str, os_env: dict[str, str] | None = None) -> DotenvError:
    os_env = os_env or {}
    compose = compose_environment(directory, dotenv, os_env)
    assert not compose.ok, compose.stdout
    with pytest.raises(DotenvError) as caught:
        parse_dotenv(dotenv, base_env(os_env).get, filename=".env")
    assert caught.value.compose_message == compose.error
    return caught.value


# Every row of compose-facts.md §4.3: (file, OS environment, values that must come out).
ROWS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("# comment\n   # indented comment\n\nX=1\n\t\n", {}, {"X": "1"}),
    ("WEB_PORT=8080 # inline\n", {}, {"WEB_PORT": "8080"}),
    ("A=val#notcomment\n", {}, {"A": "val#notcomment"}),
    ('B="quoted # not a comment" # comment\n', {}, {"B": "quoted # not a comment"}),
    (
        "WEB_PORT=8080\nC='single $WEB_PORT ${WEB_PORT}'\n",
        {},
        {"C": "single $WEB_PORT ${WEB_PORT}"},
    ),
    (
        'WEB_PORT=8080\nD="double $WEB_PORT ${WEB_PORT}"\nE=unquoted ${WEB_PORT}\n',
        {},
        {"D": "double 8080 8080", "E": "unquoted 8080"},
    ),
    # The OS environment is looked at before keys defined earlier in the file.
    (
        'WEB_PORT=8080\nD="double $WEB_PORT ${WEB_PORT}"\nE=unquoted ${WEB_PORT}\n',
        {"WEB_PORT": "9090"},
        {"WEB_PORT": "8080", "D": "double 9090 9090", "E": "unquoted 9090"},
    ),
    ("export F=exported\n", {}, {"F": "exported"}),
    ("G: colon-delim\nH = spaced value   \n", {}, {"G": "colon-delim", "H": "spaced value"}),
    (
        "I=\"tab\\there\"\nJ='tab\\there'\nK=tab\\there\n",
        {},
        {"I": "tab\there", "J": "tab\\there", "K": "tab\\there"},
    ),
    (
        'E="\\a\\b\\c\\f\\n\\r\\t\\v\\$\\"\\\\|\\0101"\n',
        {},
        {"E": '\a\b\\c\f\n\r\t\v$"\\|A'},
    ),
    (
        "L='multi\nline'\nM=\"multi\nline dq\"\n",
        {},
        {"L": "multi\nline", "M": "multi\nline dq"},
    ),
    ("N='Let\\'s go'\n", {}, {"N": "Let's go"}),
    (
        "WEB_PORT=8080\nA=val\nO=${UNDEF:-dflt}\nT=${WEB_PORT:-x}-${A}\n",
        {},
        {"O": "dflt", "T": "8080-val"},
    ),
    ('P=$$notvar\nQ="\\$escaped"\n', {}, {"P": "$notvar", "Q": "$escaped"}),
    ("R=\nU=${R-unset}\nV=${R:-empty}\n", {}, {"R": "", "U": "", "V": "empty"}),
    ("S\n", {"S": "from-os"}, {"S": "from-os"}),
    ("Z.a=1\nb-c=2\nx[1]=3\n_u=4\n", {}, {"Z.a": "1", "b-c": "2", "x[1]": "3", "_u": "4"}),
]


@pytest.mark.parametrize(("dotenv", "os_env", "values"), ROWS)
def test_verified_rows(
    tmp_path: Path, dotenv: str, os_env: dict[str, str], values: dict[str, str]
) -> None:
    parsed = check(tmp_path, dotenv, os_env)
    for key, value in values.items():
        assert parsed[key] == value


def test_bare_key_without_value_is_absent(tmp_path: Path) -> None:
    assert check(tmp_path, "S\nX=1\n") == {"X": "1"}


# Quirks found with the binary, beyond compose-facts.md.
QUIRKS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    # Spaces after the delimiter are skipped before the inline-comment rule applies.
    ("A= #x\nB=\t# y\n", {}, {"A": "#x", "B": "# y"}),
    # Only a SPACE before `#` starts a comment.
    ("A=x\t#c\nC=z\t # c\nD=v # c # d\n", {}, {"A": "x\t#c", "C": "z", "D": "v"}),
    # A last line without `=`, `:` or newline defines the variable named "" (Go leaves the key
    # empty and takes the whole line as the value).
    ("A=1\nS", {"S": "os"}, {"": "S", "A": "1"}),
    ("=1\n", {}, {"": "1"}),
    # `\0` octal: the `\0` is rewritten to `\` before Go's UnquoteChar, and kept when it fails.
    ('A="\\012|\\0|\\0777|\\08|\\x41|\\q"\n', {}, {"A": "\\12|\\|\\777|\\8|\\x41|\\q"}),
    # Text after a closing quote starts a new statement (`junk` is a bare key, absent here).
    ('E="q" junk\nF=1\n', {}, {"E": "q", "F": "1"}),
    ("exportA=1\nexport=2\nexport  B : 3\nexport\nC=4\n", {}, {"exportA": "1", "export": "2"}),
    # A tab is not a space for the key check.
    ("A\tB=1\n", {}, {"A\tB": "1"}),
    # Later definitions win; `$A` sees the value defined so far.
    ("A=1\nB=$A\nA=2\nC=$A\n", {}, {"A": "2", "B": "1", "C": "2"}),
    # A default is only looked at in the OS environment and the file.
    ("A=${B:-${C:-d}}\n", {"C": "c"}, {"A": "c"}),
    ("A='a\\\\'\nB=\"b\\\\\"\n", {}, {"A": "a\\\\", "B": "b\\"}),
]


@pytest.mark.parametrize(("dotenv", "os_env", "values"), QUIRKS)
def test_quirks(
    tmp_path: Path, dotenv: str, os_env: dict[str, str], values: dict[str, str]
) -> None:
    parsed = check(tmp_path, dotenv, os_env)
    for key, value in values.items():
        assert parsed[key] == value


def test_bom_and_crlf(tmp_path: Path) -> None:
    dotenv = '\ufeffA=1\r\nB="q"\r\nC\r\nD="x\r\ny"\r\nE=\'a\r\nb\'\r\nF=x # c\r\n'
    parsed = check(tmp_path, dotenv.encode(), {"C": "os"})
    assert parsed == {"A": "1", "B": "q", "C": "os", "D": "x\r\ny", "E": "a\r\nb", "F": "x"}


def test_bom_only_at_start(tmp_path: Path) -> None:
    error = check_error(tmp_path, "A=1\n\ufeffB=2\n")
    assert error.message == 'unexpected character "\\ufeff" in variable name "\\ufeffB=2"'
    assert (error.line, error.column) == (2, 1)


@pytest.mark.parametrize(
    ("dotenv", "message", "line", "column"),
    [
        ("A=1\n\nB$=2\n", 'unexpected character "$" in variable name "B$=2"', 3, 2),
        ("A=1\n  x y=1\n", "key cannot contain a space", 2, 3),
        ("A B\n", "key cannot contain a space", 1, 1),
        ('A=1\nB="x\n\ny\nC=3\n', 'unterminated quoted value "x', 2, 3),
        ("A='x\n", "unterminated quoted value 'x", 1, 3),
        ('C="a""b"\n', 'unexpected character "\\"" in variable name "\\"b\\""', 1, 6),
        ("A=1\nexport ", "zero length string", 2, 8),
        ("X=1\nA=${B:?need B}\n", "required variable B is missing a value: need B", 2, 3),
        ('X=1\nA="${}"\n', 'Invalid template: "${}"', 2, 3),
        ("X=1\nA=${B:-${C:?}}\n", "required variable C is missing a value", 2, 3),
    ],
)
def test_errors(tmp_path: Path, dotenv: str, message: str, line: int, column: int) -> None:
    error = check_error(tmp_path, dotenv)
    assert error.message == message
    assert (error.line, error.column) == (line, column)
    assert error.file == ".env"
    assert str(error) == f".env:{line}:{column}: {message}"


def test_compose_line_drifts(tmp_path: Path) -> None:
    # Compose counts the lines it scanned looking for the closing quote: it says line 6 (the end
    # of the file), where the quote opens on line 2.
    error = check_error(tmp_path, 'A=1\nB="x\n\ny\nC=3\n')
    assert (error.line, error.compose_line) == (2, 6)


def test_os_env_values_are_not_reparsed() -> None:
    # A value coming from lookup is used verbatim, `$` and all.
    assert parse_dotenv("A=$B\nS\n", {"B": "${X}", "S": "$$"}.get) == {"A": "${X}", "S": "$$"}


# Random files.

KEYS = ("A", "B", "WEB_PORT", "x1", "_u", "k.e-y[0]")
REF_NAMES = ("A", "B", "WEB_PORT", "OS1", "OS2", "NOPE")
TEXT = st.text(alphabet="ab1 #:=-_.{}", max_size=4)
REFS = st.one_of(
    st.sampled_from(REF_NAMES).map(lambda n: f"${n}"),
    st.sampled_from(REF_NAMES).map(lambda n: f"${{{n}}}"),
    st.tuples(
        st.sampled_from(REF_NAMES), st.sampled_from([":-", "-", ":+", "+", "?", ":?"]), TEXT
    ).map(lambda t: f"${{{t[0]}{t[1]}{t[2]}}}"),
    st.just("$$"),
)
ESCAPES = st.sampled_from(
    ["\\a", "\\c", "\\n", "\\t", "\\$", '\\"', "\\\\", "\\0101", "\\012", "\\x", "\\'", "\\"]
)


def fragments(extra: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(TEXT, TEXT, REFS, extra), max_size=4).map("".join)


UNQUOTED = fragments(st.sampled_from([" #c", "\\t", "'", '"', "\t"]))
SINGLE = fragments(st.sampled_from(["\n", "\\'", '"', "\\"])).map(lambda v: f"'{v}'")
DOUBLE = fragments(st.one_of(ESCAPES, st.just("\n"), st.just("'"))).map(lambda v: f'"{v}"')


@st.composite
def statements(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["pair", "pair", "pair", "pair", "bare", "comment", "blank"]))
    if kind == "comment":
        return draw(st.sampled_from(["", "  ", "\t"])) + "#" + draw(TEXT)
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t"]))
    export = draw(st.sampled_from(["", "", "export ", "export\t"]))
    key = draw(st.one_of(st.sampled_from(KEYS), st.sampled_from(["B$", "a b", "é", "exportA"])))
    if kind == "bare":
        return export + key + draw(st.sampled_from(["", " "]))
    delimiter = draw(st.sampled_from(["=", "=", ":", " = ", "= ", ": "]))
    value = draw(st.one_of(UNQUOTED, SINGLE, DOUBLE))
    tail = draw(st.sampled_from(["", "", " # comment", "  ", "#x"]))
    return export + key + delimiter + value + tail


DOTENV_FILES = st.tuples(
    st.lists(statements(), max_size=6),
    st.sampled_from(["\n", "\n", "\r\n"]),
    st.booleans(),
).map(lambda t: t[1].join(t[0]) + (t[1] if t[2] else ""))
OS_ENVS = st.dictionaries(
    st.sampled_from(["OS1", "OS2", "A", "WEB_PORT"]),
    st.text(alphabet="xy1$ {}", max_size=3),
    max_size=3,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dotenv=DOTENV_FILES, os_env=OS_ENVS)
def test_against_compose(dotenv: str, os_env: dict[str, str]) -> None:
    check_against_compose(dotenv, os_env)


def check_against_compose(dotenv: str, os_env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        compose = compose_environment(directory, dotenv, os_env)
        try:
            parsed = parse_dotenv(dotenv, base_env(os_env).get)
        except DotenvError as err:
            assert not compose.ok, f"Compose accepted {dotenv!r}"
            assert err.compose_message == compose.error
            return
        assert compose.ok, f"Compose rejected {dotenv!r}: {compose.stderr}"
        assert compose.stdout == render(directory, parsed, os_env)

"""Hostile and random input: nothing but the tool's own error may come out of the loader.

The number of examples is bounded; `.ci/run` runs a longer pass with COMPOSE_PORTS_FUZZ set.
"""

from __future__ import annotations

import contextlib
import os
import string
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compose_ports.compose.loading import LoadOptions, load_project
from compose_ports.compose.ports import PortError, parse_item, parse_short
from compose_ports.errors import ComposePortsError
from compose_ports.yamlread import read_documents

EXAMPLES = int(os.environ.get("COMPOSE_PORTS_FUZZ", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

YAML_ALPHABET = string.ascii_letters + string.digits + " \t\n:-[]{},'\"#&*!|>%@`$?.\\/"


@FUZZ
@given(st.text(alphabet=YAML_ALPHABET, max_size=300))
def test_random_text_never_escapes_the_reader(text: str) -> None:
    with contextlib.suppress(ComposePortsError):
        read_documents(text, "fuzz.yaml")


PORTISH = st.text(alphabet="0123456789:-/[]abcdefptuCPTUDS.$ {}", max_size=40)


@FUZZ
@given(PORTISH)
def test_random_port_strings_only_raise_port_errors(text: str) -> None:
    with contextlib.suppress(PortError):
        parse_short(text)


LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    PORTISH,
)
VALUE = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["target", "published", "host_ip", "protocol", "mode", "name", "x-a", "bogus"]
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=10,
)


@FUZZ
@given(VALUE)
def test_random_port_items_only_raise_port_errors(item: object) -> None:
    with contextlib.suppress(PortError):
        parse_item(item)


SCALAR = st.one_of(
    st.integers(min_value=-5, max_value=70000).map(str),
    PORTISH.map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"'),
    st.sampled_from(
        ["~", "null", "true", "1.5", "!reset", "!override []", "!!str 80", "*a", "&a 1"]
    ),
)


def _project(items: list[str], tags: list[str]) -> str:
    ports = "".join(f"      - {i}\n" for i in items)
    return f"services:\n  web:\n    image: x\n    ports:{tags[0] if tags else ''}\n{ports}"


@FUZZ
@given(
    st.lists(SCALAR, max_size=6),
    st.lists(st.sampled_from([" !reset", " !override", " !custom", ""]), max_size=1),
)
def test_random_projects_load_without_crashing(
    tmp_path_factory, items: list[str], tags: list[str]
) -> None:
    root: Path = tmp_path_factory.mktemp("fuzz")
    (root / "compose.yaml").write_text(_project(items, tags))
    project = load_project(LoadOptions(environ={}, cwd=str(root)))
    for diagnostic in project.diagnostics:
        assert diagnostic.message and "\n" not in diagnostic.message


# -- hostile files in place of the ones a project reads -------------------------------------

# The files of a small project: a main file that includes, extends and interpolates, its
# override, its `.env`, its config and its `.gitignore`. One of them is replaced per example.
HOSTILE_PROJECT = {
    "compose.yaml": (
        "include:\n  - inc.yaml\nservices:\n  web:\n    extends:\n      file: base.yml\n"
        '      service: base\n    ports: ["${{WEB_PORT:-{port}}}:80"]\n'
    ),
    "compose.override.yaml": "services:\n  web:\n    image: nginx:2\n",
    "inc.yaml": 'services:\n  side:\n    image: redis\n    ports: ["127.0.0.1:{other}:6379"]\n',
    "base.yml": "services:\n  base:\n    image: nginx\n",
    ".env": "WEB_PORT={port}\n",
    ".compose-ports.yaml": "rules: {{}}\n",
    ".gitignore": "*.log\n",
}
HOSTILE_TARGETS = {
    "main": "compose.yaml",
    "override": "compose.override.yaml",
    "include": "inc.yaml",
    "extends": "base.yml",
    "dotenv": ".env",
    "config": ".compose-ports.yaml",
    "gitignore": ".gitignore",
}
HOSTILE_KINDS = ("fifo", "dev-zero", "dev-null", "directory", "oversized")
HOSTILE_LIMIT = 2048  # every file of the project is smaller; "2 KiB" in the messages
HOSTILE_TIMEOUT = 20.0


def _make_hostile(path: Path, kind: str, extra: int) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "oversized":
        path.write_text("# big\n")
        os.truncate(path, HOSTILE_LIMIT + 1 + extra)  # sparse: no disk
    else:
        path.symlink_to(f"/dev/{kind.removeprefix('dev-')}")


def _hostile_expectation(
    target: str, kind: str, named: bool, config_named: bool
) -> tuple[set[int], str | None]:
    """The exit codes allowed and the one line that must be printed (None: no line about it).

    Named (`-f`, `--config`) and reached files (include, extends) are refused in one line, exit
    2; the scan's files are skipped with a note; a FIFO nobody writes to is an empty file; a
    `.env` or a config that is looked for and is not a regular file is not there.
    """
    name = HOSTILE_TARGETS[target]
    reason = "larger than 2 KiB" if kind == "oversized" else "not a regular file"
    as_usual = {0, 1}
    scanned = (target in ("main", "override") and not named) or target == "gitignore"
    looked_for = target == "dotenv" or (target == "config" and not config_named)
    if target == "gitignore" and named:
        return as_usual, None  # `-f`: no scan, no .gitignore read
    if scanned:
        if kind == "directory" and target != "gitignore":
            return as_usual, None  # a directory with a compose file's name is walked
        return as_usual, f"note: {name}: {reason}: skipped"
    if kind == "oversized":
        return {2}, f"{name}: {reason}"
    if looked_for:
        return as_usual, None  # found only if it is a regular file, as Compose's .env
    if kind == "fifo":
        # Nobody writes to it: empty. An empty main file is an error, an empty override or
        # include adds nothing, an empty extends file lacks the service (a note).
        return (
            ({2}, "compose.yaml:1:1: empty compose file") if target == "main" else (as_usual, None)
        )
    return {2}, f"{name}: {reason}"


def _statm_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _wait(pid: int, timeout: float) -> bool:
    """Whether the child ended within timeout (it is left to be reaped)."""
    import select
    import time

    if hasattr(os, "pidfd_open"):
        fd = os.pidfd_open(pid)
        try:
            return bool(select.select([fd], [], [], timeout)[0])
        finally:
            os.close(fd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        time.sleep(0.005)
    return False


def _run_forked(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str] | None:
    """The console script in a forked child: fast (nothing to import again), with its own
    address-space limit and a deadline, so a regression hangs or fills only the child."""
    import importlib
    import resource
    import signal
    import tempfile

    from compose_ports import commands

    # Imported once here rather than in every child: a child then takes milliseconds.
    importlib.import_module("compose_ports.lint")
    importlib.import_module("compose_ports.reporters.lint_text")

    with tempfile.TemporaryFile() as output:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 3
            try:
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update(env)
                os.dup2(output.fileno(), 1)
                os.dup2(output.fileno(), 2)
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
                sys.stderr = sys.stdout
                if os.path.exists("/proc/self/statm"):
                    limit = _statm_bytes() + (1 << 30)
                    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
                sys.argv = ["compose-ports", *args]
                from compose_ports.policy import config

                config._cache.clear()
                config._loaded.clear()
                commands.entry()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException as exc:  # anything else: the test reports it
                print(f"escaped: {type(exc).__name__}: {exc}")
            finally:
                sys.stdout.flush()
                os._exit(code)
        if not _wait(pid, HOSTILE_TIMEOUT):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        _, status = os.waitpid(pid, 0)
        output.seek(0)
        text = output.read().decode("utf-8", errors="replace")
    return os.waitstatus_to_exitcode(status), text


@pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "mkfifo"), reason="POSIX")
# A third of the others' examples: each runs the command line, and there are 140 shapes to draw.
@settings(FUZZ, max_examples=max(EXAMPLES // 3, 20))
@given(
    st.sampled_from(sorted(HOSTILE_TARGETS)),
    st.sampled_from(HOSTILE_KINDS),
    st.booleans(),
    st.booleans(),
    st.integers(min_value=1024, max_value=32767),
    st.integers(min_value=0, max_value=1 << 30),
)
def test_hostile_files_in_a_project_get_one_line_and_never_hang(
    tmp_path_factory,
    target: str,
    kind: str,
    named: bool,
    config_named: bool,
    port: int,
    extra: int,
) -> None:
    root: Path = tmp_path_factory.mktemp("hostile")
    (root / ".git").mkdir()
    for name, text in HOSTILE_PROJECT.items():
        (root / name).write_text(text.format(port=port, other=port + 1))
    _make_hostile(root / HOSTILE_TARGETS[target], kind, extra)
    args = ["lint", "--format", "text"]
    if named:
        args += ["-f", "compose.yaml", "-f", "compose.override.yaml"]
    if config_named:
        args += ["--config", ".compose-ports.yaml"]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NO_COLOR": "1",
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(root / ".cache")),
        "COMPOSE_PORTS_MAX_FILE_BYTES": str(HOSTILE_LIMIT),
    }
    result = _run_forked(args, root, env)
    assert result is not None, f"no answer within {HOSTILE_TIMEOUT} s: {args}"
    code, output = result
    codes, line = _hostile_expectation(target, kind, named, config_named)
    assert code in codes, output
    assert "Traceback" not in output and "internal error" not in output, output
    if line is not None:
        assert line in output.splitlines(), output
    else:
        assert f"{HOSTILE_TARGETS[target]}:" not in output, output


GLOB = st.text(alphabet="ab*?[]!\\-", max_size=6)


@given(st.lists(GLOB, max_size=4), st.text(alphabet="ab*?[]!\\-", max_size=5))
@settings(max_examples=300, deadline=None)
def test_policy_globs_match_as_fnmatchcase(globs: list[str], text: str) -> None:
    # Plain names take a set lookup and the rest one joined expression: the same answers.
    import fnmatch

    from compose_ports.policy.config import matches_any

    assert matches_any(globs, text) == any(fnmatch.fnmatchcase(text, g) for g in globs)


def _scalar_nodes(text: str) -> list:
    import yaml

    nodes, stack = [], []
    with contextlib.suppress(yaml.YAMLError):
        stack = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            nodes.append(node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        else:
            stack.extend(v for pair in node.value for v in pair)
    return nodes


def _spans_agree_with_the_parser(text: str) -> None:
    # What `fix` computes from a position and a value is where libyaml put that scalar.
    from compose_ports.fix.layout import line_starts, scalar_span
    from compose_ports.model import Source

    starts = line_starts(text)
    for node in _scalar_nodes(text):
        mark = node.start_mark
        if node.value == "" and mark.index == node.end_mark.index:
            # An implied null (`---` alone, `a:`) has no text to find, and libyaml may place it
            # past the last line break.
            continue
        src = Source("f", mark.line + 1, mark.column + 1)
        assert starts[mark.line] + mark.column == mark.index
        span = scalar_span(text, starts, src, node.value)
        one_line = node.end_mark.line == mark.line and node.style in (None, '"', "'")
        exact = text[mark.index : node.end_mark.index] in (
            node.value,
            f'"{node.value}"',
            f"'{node.value}'",
        )
        if one_line and exact:
            assert span is not None, (text, node)
            assert (span.start, span.end) == (mark.index, node.end_mark.index)
        elif span is not None:
            # Only ever the scalar itself, never a piece of a longer one.
            assert text[span.start : span.end] == text[mark.index : node.end_mark.index]


BREAKY = st.text(alphabet="ab 8:0-\"'#,[]{}\n\r\x85\u2028\u2029\t|>", max_size=120)


@FUZZ
@given(BREAKY)
def test_fix_finds_a_scalar_where_libyaml_put_it(text: str) -> None:
    _spans_agree_with_the_parser(text)


def test_fix_finds_every_corpus_scalar_where_libyaml_put_it() -> None:
    from conftest import CORPUS, FIXTURES

    files = [*CORPUS.rglob("*.y*ml"), *FIXTURES.rglob("*.y*ml")]
    assert len(files) > 100
    for path in files:
        with contextlib.suppress(UnicodeDecodeError):
            _spans_agree_with_the_parser(path.read_text(encoding="utf-8").lstrip("\ufeff"))


@pytest.mark.parametrize(
    ("text", "value", "found"),
    [
        ('- "8080:80" # web\n', "8080:80", (2, 11)),
        ("- 8080:80 # web\n", "8080:80", (2, 9)),
        ("[8080:80, 9000:90]", "8080:80", (1, 8)),
        ("- 8080:80#not-a-comment\n", "8080:80", None),  # the scalar is longer than the value
        ("- 8080:80 more\n", "8080:80", None),
        ('- "8080:\\x3080"\n', "8080:080", None),  # escapes: never rewritten
        ("- |\n  8080:80\n", "8080:80", None),  # a block scalar
    ],
)
def test_a_span_is_exactly_the_scalar_or_nothing(
    text: str, value: str, found: tuple[int, int] | None
) -> None:
    from compose_ports.fix.layout import line_starts, scalar_span
    from compose_ports.model import Source

    column = 3 if text.startswith("- ") else 2  # 1-based, after "- " or "["
    span = scalar_span(text, line_starts(text), Source("f", 1, column), value)
    assert (None if span is None else (span.start, span.end)) == found

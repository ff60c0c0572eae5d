"""Hostile and random input: nothing but the tool's own error may come out of the loader.

The number of examples is bounded; `.ci/run` runs a longer pass with COMPOSE_PORTS_FUZZ set.
"""

from __future__ import annotations

import contextlib
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compose_ports.errors import ComposePortsError
from compose_ports.loading import LoadOptions, load_project
from compose_ports.ports import PortError, parse_item, parse_short
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


GLOB = st.text(alphabet="ab*?[]!\\-", max_size=6)


@given(st.lists(GLOB, max_size=4), st.text(alphabet="ab*?[]!\\-", max_size=5))
@settings(max_examples=300, deadline=None)
def test_policy_globs_match_as_fnmatchcase(globs: list[str], text: str) -> None:
    # Plain names take a set lookup and the rest one joined expression: the same answers.
    import fnmatch

    from compose_ports.config import matches_any

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
    from compose_ports.model import Source
    from compose_ports.yamlread import line_starts, scalar_span

    starts = line_starts(text)
    for node in _scalar_nodes(text):
        mark = node.start_mark
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
    from compose_ports.model import Source
    from compose_ports.yamlread import line_starts, scalar_span

    column = 3 if text.startswith("- ") else 2  # 1-based, after "- " or "["
    span = scalar_span(text, line_starts(text), Source("f", 1, column), value)
    assert (None if span is None else (span.start, span.end)) == found

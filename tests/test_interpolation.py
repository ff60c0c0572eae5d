"""`${...}` substitution, judged by the real Docker Compose v2.40.3 binary."""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from oracle import ComposeResult, compose_config

from compose_ports.compose.interpolation import (
    Interpolated,
    InterpolationError,
    has_variables,
    interpolate,
)

PORT_PATH = "services.web.ports.[]"
_WARNING = re.compile(r'The \\"([^"\\]*)\\" variable is not set\. Defaulting to a blank string\.')


def format_error_text(path: str, template: str) -> str:
    # compose-go@v2.9.1:interpolation/interpolation.go newPathError
    return (
        f"invalid interpolation format for {path}.\n"
        f"You may need to escape any $ with another $.\n{template}"
    )


def config_escaped(value: str) -> str:
    # `config` doubles every `$` of its output so that the output loads back unchanged
    # (docker/compose@v2.40.3:cmd/compose/config.go escapeDollarSign).
    return value.replace("$", "$$")


def warned(stderr: str) -> set[str]:
    return set(_WARNING.findall(stderr))


def run_compose(directory: Path, service: dict[str, Any], env: dict[str, str]) -> ComposeResult:
    # JSON is YAML, and it carries any string without YAML quoting questions.
    document = {"services": {"web": {"image": "x", **service}}}
    (directory / "compose.yaml").write_text(json.dumps(document))
    return compose_config(directory, env=env)


def port_of(value: str) -> dict[str, Any] | str:
    """What Compose makes of a short port entry: the JSON port, or the error it gives."""
    spec, _, protocol = value.partition("/")
    parts = spec.split(":")
    published = parts[-2] if len(parts) >= 2 else ""
    host_ip = parts[-3] if len(parts) >= 3 else ""
    if published and not published.isdigit():
        return f"invalid hostPort: {published}"
    port: dict[str, Any] = {"mode": "ingress"}
    if host_ip:
        port["host_ip"] = host_ip
    port["target"] = int(parts[-1])
    if published:
        port["published"] = published
    port["protocol"] = protocol or "tcp"
    return port


# Every row of compose-facts.md §4.1 (plus the "left as is" `$` cases of the brief):
# (expression, environment, the string interpolate() must give, the port Compose must publish or
# the error it must give, the variables Compose must warn about).
Row = tuple[str, dict[str, str], str, "dict[str, Any] | str", set[str]]
TCP80 = {"mode": "ingress", "target": 80, "protocol": "tcp"}
ROWS: list[Row] = [
    ("${P}:80", {}, ":80", TCP80, {"P"}),
    ("$P:80", {"P": "8000"}, "8000:80", {**TCP80, "published": "8000"}, set()),
    ("${P}:80", {"P": "8000"}, "8000:80", {**TCP80, "published": "8000"}, set()),
    ("${P:-8080}:80", {"P": ""}, "8080:80", {**TCP80, "published": "8080"}, set()),
    ("${P:-8080}:80", {}, "8080:80", {**TCP80, "published": "8080"}, set()),
    ("${P-8080}:80", {"P": ""}, ":80", TCP80, set()),
    ("${P-8080}:80", {}, "8080:80", {**TCP80, "published": "8080"}, set()),
    ("${P?port required}:80", {"P": ""}, ":80", TCP80, set()),
    ("${P:+9000}:80", {"P": "1"}, "9000:80", {**TCP80, "published": "9000"}, set()),
    ("${P:+9000}:80", {"P": ""}, ":80", TCP80, set()),
    ("${P+9000}:80", {"P": ""}, "9000:80", {**TCP80, "published": "9000"}, set()),
    ("${P+9000}:80", {}, ":80", TCP80, set()),
    ("${A:-${B:-9000}}:80", {}, "9000:80", {**TCP80, "published": "9000"}, set()),
    ("${A:-${B:-9000}}:80", {"B": "9100"}, "9100:80", {**TCP80, "published": "9100"}, set()),
    ("${A:-${B:-9000}}:80", {"A": "9200"}, "9200:80", {**TCP80, "published": "9200"}, set()),
    (
        "${A:-${B:-9000}}:80",
        {"A": "", "B": "9100"},
        "9100:80",
        {**TCP80, "published": "9100"},
        set(),
    ),
    (
        "${SPEC:-127.0.0.1:8080:80}",
        {},
        "127.0.0.1:8080:80",
        {**TCP80, "host_ip": "127.0.0.1", "published": "8080"},
        set(),
    ),
    (
        "${HOSTIP:-127.0.0.1}:${P:-8080}:80",
        {},
        "127.0.0.1:8080:80",
        {**TCP80, "host_ip": "127.0.0.1", "published": "8080"},
        set(),
    ),
    (
        "${P:-8080}:${T:-80}/${PROTO:-udp}",
        {},
        "8080:80/udp",
        {**TCP80, "published": "8080", "protocol": "udp"},
        set(),
    ),
    ("$${P}:80", {"P": "1"}, "${P}:80", "invalid hostPort: ${P}", set()),
    ("$$P:80", {"P": "1"}, "$P:80", "invalid hostPort: $P", set()),
    # The operator found first wins: MY with the default VAR.
    ("${MY-VAR}:80", {"VAR": "1"}, "VAR:80", "invalid hostPort: VAR", set()),
    # `$` before something that is not a name, `{` or `$` is left alone.
    ("$1:80", {}, "$1:80", "invalid hostPort: $1", set()),
    ("8080$:80", {}, "8080$:80", "invalid hostPort: 8080$", set()),
    # Names are matched case-insensitively but looked up case-sensitively.
    ("${p:-7000}:80", {"P": "8000"}, "7000:80", {**TCP80, "published": "7000"}, set()),
    # v2.40.3 quirk: the default is evaluated even when unused, so B is warned about.
    ("${A:-${B}}:80", {"A": "9300"}, "9300:80", {**TCP80, "published": "9300"}, {"B"}),
    ("${A:+${B}9}:80", {}, ":80", TCP80, {"B"}),
]


@pytest.mark.parametrize(("expression", "env", "value", "port", "warnings"), ROWS)
def test_verified_rows(
    tmp_path: Path,
    expression: str,
    env: dict[str, str],
    value: str,
    port: dict[str, Any] | str,
    warnings: set[str],
) -> None:
    result = interpolate(expression, env.get)
    assert result.value == value
    assert set(result.warnings) == warnings
    assert port_of(result.value) == port

    compose = run_compose(tmp_path, {"ports": [expression]}, env)
    if isinstance(port, str):
        assert not compose.ok
        assert compose.error == port
    else:
        assert compose.ok, compose.stderr
        assert compose.config is not None
        assert compose.config["services"]["web"]["ports"] == [port]
    assert warned(compose.stderr) == warnings


REQUIRED_ROWS = [
    ("${P:?port required}:80", {}, "required variable P is missing a value: port required"),
    ("${P:?port required}:80", {"P": ""}, "required variable P is missing a value: port required"),
    ("${P?port required}:80", {}, "required variable P is missing a value: port required"),
    ("${P:?}:80", {}, "required variable P is missing a value"),
    # v2.40.3 quirk: the default of a set variable still fails (fixed in compose-go v2.10.1).
    ("${A:-${B:?need B}}:80", {"A": "9300"}, "required variable B is missing a value: need B"),
    ("${A:+${B:?need B}}:80", {}, "required variable B is missing a value: need B"),
    # The message is interpolated too.
    (
        "${P:?set P, e.g. ${EX:-8080}}:80",
        {},
        "required variable P is missing a value: set P, e.g. 8080",
    ),
]


@pytest.mark.parametrize(("expression", "env", "message"), REQUIRED_ROWS)
def test_required_rows(tmp_path: Path, expression: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate(expression, env.get)
    assert caught.value.kind == "required"
    assert caught.value.message == message
    assert str(caught.value) == message

    compose = run_compose(tmp_path, {"ports": [expression]}, env)
    assert not compose.ok
    assert compose.error == f"error while interpolating {PORT_PATH}: {message}"


FORMAT_ROWS = [
    ("${}:80", "${}:80"),
    ("${P:80", "${P:80"),
    ("${A.B}:80", "${A.B}:80"),
    ("${1P}:80", "${1P}:80"),
    # Compose names the innermost text it was substituting: a default, or what follows a `${..}`.
    ("${A:-${}}:80", "${}"),
    ("${A:-x}:${}", ":${}"),
    # Brace counting sees `{}${A` as one default, which is then invalid.
    ("${A:-{}${A}", "{}${A"),
    # U+0131 (dotless i) does not fold to i in Go, unlike in Python's IGNORECASE.
    ("${\u0131}:80", "${\u0131}:80"),
    # A braced default cannot span lines (Go's `.` stops at a newline).
    ("${A:-x\ny}", "${A:-x\ny}"),
]


@pytest.mark.parametrize(("expression", "template"), FORMAT_ROWS)
def test_format_rows(tmp_path: Path, expression: str, template: str) -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate(expression, {"A": "1"}.get)
    assert caught.value.kind == "format"
    assert caught.value.template == template

    compose = run_compose(tmp_path, {"ports": [expression]}, {"A": "1"})
    assert not compose.ok
    assert format_error_text(PORT_PATH, template) in compose.stderr


ENVIRONMENT_ROWS = [
    # compose-go@v2.9.1 getFirstBraceClosingIndex counts every `{`, not only `${`, and skips the
    # character after it: `{}` inside a default does not close the expression.
    ("${A:-{}x}", {}, "{}x"),
    ("${A:-x}}", {}, "x}"),
    ("${A:-a}${B:-b}}", {}, "ab}"),
    ("${A:-{x}y}", {"A": ""}, "{x}y"),
    ("${A-x}-${A:+y}", {"A": "v"}, "v-y"),
    ("$A$$A${A}", {"A": "v"}, "v$Av"),
]


@pytest.mark.parametrize(("template", "env", "value"), ENVIRONMENT_ROWS)
def test_environment_rows(tmp_path: Path, template: str, env: dict[str, str], value: str) -> None:
    assert interpolate(template, env.get).value == value
    compose = run_compose(tmp_path, {"environment": {"X": template}}, env)
    assert compose.ok, compose.stderr
    assert compose.config is not None
    assert compose.config["services"]["web"]["environment"]["X"] == config_escaped(value)


def test_yaml_quoting_does_not_matter(tmp_path: Path) -> None:
    # Compose interpolates every scalar value whatever its YAML quoting.
    lines = ["services:", "  web:", "    image: x", "    ports:"]
    lines += ["      - ${P:-8080}:80", "      - '${Q:-8081}:81'", '      - "${R:-8082}:82"']
    (tmp_path / "compose.yaml").write_text("\n".join(lines) + "\n")
    compose = compose_config(tmp_path)
    assert compose.ok, compose.stderr
    assert compose.config is not None
    published = [p["published"] for p in compose.config["services"]["web"]["ports"]]
    assert published == ["8080", "8081", "8082"]
    values = [interpolate(t, {}.get).value for t in ("${P:-8080}:80", "${Q:-8081}:81")]
    assert values == ["8080:80", "8081:81"]


def test_long_syntax(tmp_path: Path) -> None:
    port = {"published": "${P:-9000}", "target": "${T:-90}"}
    compose = run_compose(tmp_path, {"ports": [port]}, {})
    assert compose.ok, compose.stderr
    assert compose.config is not None
    assert compose.config["services"]["web"]["ports"] == [
        {"mode": "ingress", "target": 90, "published": "9000", "protocol": "tcp"}
    ]
    assert interpolate("${P:-9000}", {}.get).value == "9000"
    assert interpolate("${T:-90}", {}.get).value == "90"


def test_go_case_folding(tmp_path: Path) -> None:
    # KELVIN SIGN and LONG S fold into [a-z] in Go's (?i), so they start names.
    expression = "${\u212a:-d}${\u017f:-e}"
    assert interpolate(expression, {}.get).value == "de"
    compose = run_compose(tmp_path, {"environment": {"X": expression}}, {})
    assert compose.ok, compose.stderr
    assert compose.config is not None
    assert compose.config["services"]["web"]["environment"]["X"] == config_escaped("de")


# Provenance, which the binary does not show directly.


def test_no_dollar_fast_path() -> None:
    def lookup(name: str) -> str | None:
        raise AssertionError("looked up")

    assert interpolate("8080:80", lookup) == Interpolated("8080:80", (), (), False)
    assert not has_variables("8080:80")
    assert has_variables("$P")


def test_provenance() -> None:
    env = {"A": "1", "E": ""}.get
    result = interpolate("${A:-${B}}:${C:-80}/$A$E${D+x}", env)
    assert result.value == "1:80/1"
    assert result.variables == ("A", "B", "C", "E", "D")
    assert result.unset == ("B", "C", "D")
    assert result.warnings == ("B",)
    assert result.used_default is True

    assert interpolate("${A:-x}", env).used_default is False
    assert interpolate("${A:+x}", env).used_default is True
    assert interpolate("${E:+x}", env).used_default is False
    assert interpolate("${E-x}", env).used_default is False
    assert interpolate("${E:-x}", env).used_default is True
    # The inner default was used, but the outer variable was set: no default reached the value.
    assert interpolate("${A:-${B:-x}}", env).used_default is False
    assert interpolate("$$A", env) == Interpolated("$A", (), (), False)


def test_required_names_the_variable() -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate("x${P:?}", {}.get)
    assert caught.value.variable == "P"
    with pytest.raises(InterpolationError) as caught:
        interpolate("${P", {}.get)
    assert caught.value.kind == "format"
    assert caught.value.message == 'Invalid template: "${P"'


# Random templates against random environments.

NAMES = ("A", "B", "P", "a", "AB")
OPERATORS = (":-", "-", ":?", "?", ":+", "+")
LITERALS = st.text(alphabet="ab1 :/.-+?}{\n", max_size=4)
INVALID = st.sampled_from(["${", "${}", "${1P}", "${A.B}", "${P:80", "$", "$1", "$:"])


def templates(depth: int = 2) -> st.SearchStrategy[str]:
    name = st.sampled_from(NAMES)
    pieces: list[st.SearchStrategy[str]] = [
        LITERALS,
        st.just("$$"),
        name.map(lambda n: f"${n}"),
        name.map(lambda n: f"${{{n}}}"),
    ]
    if depth > 0:
        pieces.append(
            st.tuples(name, st.sampled_from(OPERATORS), templates(depth - 1)).map(
                lambda t: f"${{{t[0]}{t[1]}{t[2]}}}"
            )
        )
    weighted = st.one_of(*pieces, *pieces, *pieces, INVALID)
    return st.lists(weighted, max_size=4).map("".join)


ENVIRONMENTS = st.dictionaries(
    st.sampled_from(NAMES),
    st.one_of(st.just(""), st.text(alphabet="x1:-}{$ ", min_size=1, max_size=4)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates(), env=ENVIRONMENTS)
def test_against_compose(template: str, env: dict[str, str]) -> None:
    check_against_compose(template, env)


def check_against_compose(template: str, env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        compose = run_compose(Path(tmp), {"environment": {"X": template}}, env)
    path = "services.web.environment.X"
    try:
        result = interpolate(template, env.get)
    except InterpolationError as err:
        assert not compose.ok, f"Compose accepted {template!r}: {compose.config}"
        if err.kind == "format":
            assert err.template is not None
            assert format_error_text(path, err.template) in compose.stderr
        else:
            assert err.kind == "required"
            # Not compose.error: that is stripped, and a message may end in spaces.
            expected = f"error while interpolating {path}: {err.message}\n"
            assert compose.stderr.endswith(expected), compose.stderr
        return
    assert compose.ok, f"Compose rejected {template!r}: {compose.stderr}"
    assert compose.config is not None
    assert compose.config["services"]["web"]["environment"]["X"] == config_escaped(result.value)
    assert warned(compose.stderr) == set(result.warnings)

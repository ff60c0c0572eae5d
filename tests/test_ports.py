"""`compose_ports.compose.ports` against the real Docker Compose v2.40.3 binary.

Every case states its expected result and is also run through `docker-compose config`: cases
Compose accepts are batched into one project (one service each), rejected ones get a project of
their own because Compose stops at the first error.
"""

from __future__ import annotations

import atexit
import json
import math
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from oracle import compose_config

from compose_ports.compose.ports import (
    DECODE,
    INTERPOLATION,
    IP,
    KEYS,
    PARSE,
    SCHEMA,
    SCHEMA_LIST,
    TYPE,
    UNICITY,
    PortError,
    engine_error,
    go_quote,
    is_go_ip,
    missing_target_error,
    parse_long,
    spec_key,
    unicity_key,
    unique_items_error,
)
from compose_ports.compose.ports import parse_item as parse_runs
from compose_ports.compose.ports import parse_short as parse_short_runs
from compose_ports.model import PortSpec


def parse_item(item: object) -> list[PortSpec]:
    """The entries Compose prints for an item: runs (equal-length ranges) expanded."""
    return [entry for spec in parse_runs(item) for entry in spec.expand()]


def parse_short(text: str) -> list[PortSpec]:
    return [entry for spec in parse_short_runs(text) for entry in spec.expand()]


# --- The oracle ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What the binary made of one entry (or one list of entries) in service `service`."""

    ok: bool
    ports: list[PortSpec]
    error: str
    stderr: str
    file: str
    service: str


_ROOT = Path(tempfile.mkdtemp(prefix="compose-ports-test-ports-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
_POOL = ThreadPoolExecutor(max_workers=4)


def _spec(port: Mapping[str, object]) -> PortSpec:
    # `config --format json` omits empty fields (omitempty): absent means 0 / "" / None here.
    return PortSpec(
        target=port.get("target", 0),  # type: ignore[arg-type]
        published=port.get("published"),  # type: ignore[arg-type]
        host_ip=port.get("host_ip"),  # type: ignore[arg-type]
        protocol=port.get("protocol", ""),  # type: ignore[arg-type]
        mode=port.get("mode", ""),  # type: ignore[arg-type]
        name=port.get("name"),  # type: ignore[arg-type]
        app_protocol=port.get("app_protocol"),  # type: ignore[arg-type]
    )


def _run(services: Mapping[str, Sequence[str]]) -> dict[str, Verdict]:
    """One project: each service gets the YAML list items given, written exactly as given."""
    project = Path(tempfile.mkdtemp(dir=_ROOT))
    lines = ["services:"]
    for name, items in services.items():
        lines += [f"  {name}:", "    image: x", "    ports:"]
        lines += [f"      - {item}" for item in items]
    compose = project / "compose.yaml"
    compose.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = compose_config(project)
    verdicts = {}
    for name in services:
        ports = []
        if result.ok:
            service = (result.config or {}).get("services", {}).get(name, {})
            ports = [_spec(p) for p in service.get("ports") or []]
        verdicts[name] = Verdict(
            result.ok, ports, result.error, result.stderr, str(compose.resolve()), name
        )
    return verdicts


def run_items(items: Sequence[str]) -> Verdict:
    """One service `web` with the given YAML list items."""
    return _run({"web": items})["web"]


def run_entries(entries: Sequence[str], expect_ok: Sequence[bool]) -> list[Verdict]:
    """One verdict per YAML item, with as few binary runs as possible.

    Items expected to pass share one project (a service each); the others, and all of them if
    the shared project fails after all, run alone, in parallel.
    """
    verdicts: dict[int, Verdict] = {}
    batch = [i for i, ok in enumerate(expect_ok) if ok]
    alone = [i for i, ok in enumerate(expect_ok) if not ok]
    if batch:
        results = _run({f"s{i}": [entries[i]] for i in batch})
        if all(v.ok for v in results.values()):
            verdicts.update({i: results[f"s{i}"] for i in batch})
        else:
            alone += batch
    for i, verdict in zip(alone, _POOL.map(lambda i: run_items([entries[i]]), alone), strict=True):
        verdicts[i] = verdict
    return [verdicts[i] for i in range(len(entries))]


# --- Comparing ----------------------------------------------------------------------------


def predict(value: object) -> list[PortSpec] | PortError:
    """What this module says Compose does with one item (an engine error still passes config)."""
    try:
        specs = parse_item(value)
    except PortError as exc:
        return [exc.spec] if exc.engine and exc.spec is not None else exc
    if not isinstance(value, Mapping) and any(spec.target == 0 for spec in specs):
        return missing_target_error()
    return specs


def assert_agrees(value: object, verdict: Verdict) -> None:
    """parse_item(value) must say exactly what the binary said about it."""
    predicted = predict(value)
    if isinstance(predicted, PortError):
        assert not verdict.ok, f"{value!r}: binary accepted it: {verdict.ports}"
        index = 0
        if predicted.stage == UNICITY and not isinstance(value, Mapping):
            index = [s.target for s in parse_item(value)].index(0)
        text = predicted.compose_text(verdict.service, index, verdict.file)
        if predicted.stage == DECODE:
            # mapstructure reports every field it could not decode, one line each.
            assert text in verdict.stderr.splitlines(), (value, verdict.stderr)
        else:
            # The oracle strips stderr; "invalid proto: " ends in a space.
            assert text == verdict.stderr.rstrip("\n").splitlines()[-1], (value, verdict.error)
        assert predicted.message in verdict.error or predicted.message in verdict.stderr
        return
    assert verdict.ok, f"{value!r}: binary refused it: {verdict.error}"
    assert verdict.ports == predicted, value


def assert_expected(case: Case) -> None:
    """parse_item(case.value) must give the result written in the table."""
    got = predict(case.value)
    if isinstance(case.expect, Err):
        assert isinstance(got, PortError), got
        assert (got.message, got.stage) == (case.expect.message, case.expect.stage)
        if case.expect.field is not None:
            assert got.field == case.expect.field
    else:
        assert got == case.expect


# --- The tables ---------------------------------------------------------------------------


def S(  # reads like the JSON it stands for
    target: int,
    published: str | None = None,
    host_ip: str | None = None,
    protocol: str = "tcp",
    mode: str = "ingress",
    name: str | None = None,
    app_protocol: str | None = None,
) -> PortSpec:
    return PortSpec(target, published, host_ip, protocol, mode, name, app_protocol)


@dataclass(frozen=True)
class Err:
    message: str
    stage: str = PARSE
    field: str | None = None


MISSING = Err("is missing a target port", UNICITY)


@dataclass(frozen=True)
class Case:
    yaml: str  # the list item exactly as written in compose.yaml
    value: object  # what Compose holds after YAML decoding and interpolation
    expect: list[PortSpec] | Err

    def __str__(self) -> str:
        return self.yaml


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def short(text: str, expect: list[PortSpec] | Err | str) -> Case:
    """A quoted short-syntax string; a str expectation is a parser error message."""
    return Case(_q(text), text, Err(expect) if isinstance(expect, str) else expect)


# §1.1, "What config --format json produces", every row, plus findings of this module.
SHORT_ACCEPTED = [
    Case("80", 80, [S(80)]),
    short("80", [S(80)]),
    short("80-80", [S(80)]),
    short("3000-3005", [S(t) for t in range(3000, 3006)]),
    short("8000:8000", [S(8000, "8000")]),
    Case("8000:8000", "8000:8000", [S(8000, "8000")]),
    short("9090-9091:8080-8081", [S(8080, "9090"), S(8081, "9091")]),
    short("8000-9000:80", [S(80, "8000-9000")]),
    short("8000-8000:80", [S(80, "8000")]),
    short("8000-8001:80-80", [S(80, "8000-8001")]),
    short("127.0.0.1:8001:8001", [S(8001, "8001", "127.0.0.1")]),
    short(
        "127.0.0.1:5000-5010:5000-5010",
        [S(p, str(p), "127.0.0.1") for p in range(5000, 5011)],
    ),
    short("127.0.0.1::5001", [S(5001, None, "127.0.0.1")]),
    short("0.0.0.0::80", [S(80, None, "0.0.0.0")]),
    short("[::]::80", [S(80, None, "::")]),
    short("2001:db8::1::80", [S(80, None, "2001:db8::1")]),
    short(":80", [S(80)]),
    short("0:80", [S(80, "0")]),
    short("127.0.0.1:0:80", [S(80, "0", "127.0.0.1")]),
    short("6060:6060/udp", [S(6060, "6060", protocol="udp")]),
    short("7000:7000/UDP", [S(7000, "7000", protocol="udp")]),
    short("6002:6002/sctp", [S(6002, "6002", protocol="sctp")]),
    short("::1:6000:6000", [S(6000, "6000", "::1")]),
    short("[::1]:6001:6001", [S(6001, "6001", "::1")]),
    short("[::]:8080:80", [S(80, "8080", "::")]),
    short("[2001:db8::1]:8083:80", [S(80, "8083", "2001:db8::1")]),
    short("2001:db8::1:8084:80", [S(80, "8084", "2001:db8::1")]),
    short("[127.0.0.1]:8085:80", [S(80, "8085", "127.0.0.1")]),
    short("::ffff:127.0.0.1:8088:80", [S(80, "8088", "::ffff:127.0.0.1")]),
    short("00080:80", [S(80, "80")]),
    short("1-2-3:80", [S(80, "1-2")]),
    # Unquoted base-60 look-alikes are plain strings to go-yaml v3.
    Case("22:22", "22:22", [S(22, "22")]),
    Case("2222:22", "2222:22", [S(22, "2222")]),
    Case("1:30", "1:30", [S(30, "1")]),
    Case("59:59", "59:59", [S(59, "59")]),
    # go-yaml v3 reads ints with Go's rules: 0x, 0o, a leading 0 (octal) and "_".
    Case("0x50", 80, [S(80)]),
    Case("0o120", 80, [S(80)]),
    Case("0120", 80, [S(80)]),
    Case("1_000", 1000, [S(1000)]),
    Case("80 # comment", 80, [S(80)]),
    # Not in the doc: expanded ranges come out in string order of "port/proto".
    short("8-12", [S(10), S(11), S(12), S(8), S(9)]),
    short("98-101:198-201", [S(198, "98"), S(199, "99"), S(200, "100"), S(201, "101")]),
    short("80/", [S(80)]),
    short("8080:80/", [S(80, "8080")]),
    short("80-80-x:80", [S(80, "80")]),
    short("1-2-3", [S(1), S(2)]),
    short("[]:8080:80", [S(80, "8080")]),
    short("[]::80", [S(80)]),
    short("::0001:80:80", [S(80, "80", "::0001")]),
    short("1:2:3:4:5:6:7:8:80:80", [S(80, "80", "1:2:3:4:5:6:7:8")]),
    short("1:2:3:4:5:6:1.2.3.4:80:80", [S(80, "80", "1:2:3:4:5:6:1.2.3.4")]),
    short("::1.2.3.4:80:80", [S(80, "80", "::1.2.3.4")]),
    short("65535:65535", [S(65535, "65535")]),
    short("0000000000080:80", [S(80, "80")]),
]

# §1.1, "Short-syntax errors: exact text from v2.40.3", every row, plus findings.
SHORT_REJECTED = [
    Case("70000", 70000, Err("invalid containerPort: 70000")),
    short("70000", "invalid containerPort: 70000"),
    short("8000:70000", "invalid containerPort: 70000"),
    short("70000:80", "invalid hostPort: 70000"),
    short("abc", "invalid containerPort: abc"),
    short("abc:80", "invalid hostPort: abc"),
    short("8000-7000", "invalid containerPort: 8000-7000"),
    short("8000-7000:80", "invalid hostPort: 8000-7000"),
    short("80-81:90-95", "invalid ranges specified for container and host Ports: 90-95 and 80-81"),
    short("80:90-95", "invalid ranges specified for container and host Ports: 90-95 and 80"),
    short("80/foo", "invalid proto: foo"),
    short("8088:80/tcp/udp", "invalid proto: tcp/udp"),
    short("", "invalid proto: "),
    short("80:0", MISSING),
    short("0", MISSING),
    Case("0", 0, MISSING),
    short("127.0.0.1:80", "invalid hostPort: 127.0.0.1"),
    short("localhost:8087:80", "invalid IP address: localhost"),
    short("::8082:80", "invalid IP address: :"),
    short(":::8081", "invalid IP address: :"),
    short("[::1]:80", "invalid IP address [:: address [::: missing ']' in address"),
    short("80:80:80:80", "invalid IP address: 80:80"),
    short("fe80::1%eth0:8086:80", "invalid IP address: fe80::1%eth0"),
    short("[fe80::1%eth0]:8086:80", "invalid IP address: fe80::1%eth0"),
    short("+80:80", "invalid hostPort: +80"),
    short(" 80:80", "invalid hostPort:  80"),
    short("80:80 ", "invalid containerPort: 80 "),
    Case("-80", -80, Err("invalid containerPort: -80")),
    short("-80", "invalid containerPort: -80"),
    short("80-", "invalid containerPort: 80-"),
    Case("80.5", 80.5, Err("invalid type float64 for port", TYPE)),
    Case("80.0", 80.0, Err("invalid type float64 for port", TYPE)),
    Case("null", None, Err("must be a number", SCHEMA)),
    Case("~", None, Err("must be a number", SCHEMA)),
    short("$1:80", "invalid hostPort: $1"),
    short("8080$:80", "invalid hostPort: 8080$"),
    # Findings beyond the doc.
    Case("true", True, Err("must be a number", SCHEMA)),
    Case("[80]", [80], Err("must be a number", SCHEMA)),
    Case("9223372036854775807", 2**63 - 1, Err("invalid containerPort: 9223372036854775807")),
    Case("9223372036854775808", 2**63, Err("invalid type uint64 for port", TYPE)),
    Case("18446744073709551616", float(2**64), Err("invalid type float64 for port", TYPE)),
    Case(".inf", math.inf, Err("invalid type float64 for port", TYPE)),
    short("80:", "invalid proto: "),
    short("/udp", "invalid proto: "),
    short(":", "invalid proto: "),
    short("0-2", MISSING),
    short("80:80 # x", "invalid containerPort: 80 # x"),
    short("\uff18\uff10", "invalid containerPort: \uff18\uff10"),  # fullwidth digits
    short("[::1]x:80:80", "invalid IP address [::1]x: address [::1]x:: missing port in address"),
    short(
        "[a]:[b]:80:80",
        "invalid IP address [a]:[b]: address [a]:[b]:: too many colons in address",
    ),
    short("[a]b]:80:80", "invalid IP address [a]b]: address [a]b]:: missing port in address"),
    short("01.2.3.4:80:80", "invalid IP address: 01.2.3.4"),
    short("1.2.3.04:80:80", "invalid IP address: 1.2.3.04"),
    short("::ffff:01.2.3.4:80:80", "invalid IP address: ::ffff:01.2.3.4"),
    short("::00001:80:80", "invalid IP address: ::00001"),
    short("1:2:3:4:5:6:7::80:80", "invalid IP address: 1:2:3:4:5:6:7:"),
    short("1:2:3:4:5:1.2.3.4:80:80", "invalid IP address: 1:2:3:4:5:1.2.3.4"),
    short("[::1%lo]:80:80", "invalid IP address: ::1%lo"),
    short("1::2::3:80:80", "invalid IP address: 1::2::3"),
    short("::1:2:3:4:5:6:7:8:80:80", "invalid IP address: ::1:2:3:4:5:6:7:8"),
    short("abc:def", "invalid containerPort: def"),
    short("bad:abc:def/FOO", "invalid proto: foo"),
    short("bad:abc:def", "invalid IP address: bad"),
]


def long(yaml: str, value: Mapping[str, object], expect: list[PortSpec] | Err) -> Case:
    return Case(yaml, value, expect)


# §1.2, every row, plus findings. Engine rejections pass `config`: the expectation is its output.
LONG = [
    long("{target: 80}", {"target": 80}, [S(80)]),
    long('{target: "80"}', {"target": "80"}, [S(80)]),
    long("{published: 80}", {"published": 80}, MISSING),
    long(
        '{target: "80-81"}',
        {"target": "80-81"},
        Err(
            'failed to cast to expected type: strconv.Atoi: parsing "80-81": invalid syntax',
            INTERPOLATION,
        ),
    ),
    long(
        '{target: "abc"}',
        {"target": "abc"},
        Err(
            'failed to cast to expected type: strconv.Atoi: parsing "abc": invalid syntax',
            INTERPOLATION,
        ),
    ),
    long("{target: 70000}", {"target": 70000}, [S(70000)]),
    long(
        "{target: -5}",
        {"target": -5},
        Err("cannot parse value as 'uint32': -5 overflows uint", DECODE, "target"),
    ),
    long("{target: 0}", {"target": 0}, [S(0)]),
    long("{target: 80, published: 8081}", {"target": 80, "published": 8081}, [S(80, "8081")]),
    long(
        "{target: 80, published: 8082-8090}",
        {"target": 80, "published": "8082-8090"},
        [S(80, "8082-8090")],
    ),
    long(
        '{target: 80, published: "8083-9000"}',
        {"target": 80, "published": "8083-9000"},
        [S(80, "8083-9000")],
    ),
    long('{target: 80, published: "0"}', {"target": 80, "published": "0"}, [S(80, "0")]),
    long('{target: 80, published: ""}', {"target": 80, "published": ""}, [S(80)]),
    long('{target: 80, published: "abc"}', {"target": 80, "published": "abc"}, [S(80, "abc")]),
    long("{target: 80, published: 70000}", {"target": 80, "published": 70000}, [S(80, "70000")]),
    long("{target: 80, published: -1}", {"target": 80, "published": -1}, [S(80, "-1")]),
    long(
        '{target: 80, published: "8000-7000"}',
        {"target": 80, "published": "8000-7000"},
        [S(80, "8000-7000")],
    ),
    long(
        "{target: 80, published: 80.5}",
        {"target": 80, "published": 80.5},
        Err("must be a integer or string", SCHEMA, "published"),
    ),
    long(
        "{target: 80, host_ip: not-an-ip}",
        {"target": 80, "host_ip": "not-an-ip"},
        Err("invalid ip address: not-an-ip", IP),
    ),
    long(
        '{target: 80, host_ip: "[::1]"}',
        {"target": 80, "host_ip": "[::1]"},
        Err("invalid ip address: [::1]", IP),
    ),
    long('{target: 80, host_ip: "::"}', {"target": 80, "host_ip": "::"}, [S(80, host_ip="::")]),
    long("{target: 80, protocol: foo}", {"target": 80, "protocol": "foo"}, [S(80, protocol="foo")]),
    long("{target: 80, protocol: UDP}", {"target": 80, "protocol": "UDP"}, [S(80, protocol="UDP")]),
    long("{target: 80, mode: weird}", {"target": 80, "mode": "weird"}, [S(80, mode="weird")]),
    long(
        "{target: 80, app_protocol: http}",
        {"target": 80, "app_protocol": "http"},
        [S(80, app_protocol="http")],
    ),
    long("{target: 80, name: web}", {"target": 80, "name": "web"}, [S(80, name="web")]),
    long("{target: 80, x-foo: bar}", {"target": 80, "x-foo": "bar"}, [S(80)]),
    long(
        "{target: 80, bogus: 1}",
        {"target": 80, "bogus": 1},
        Err("additional properties 'bogus' not allowed", SCHEMA),
    ),
    # Findings beyond the doc.
    long('{target: "+80"}', {"target": "+80"}, [S(80)]),
    long('{target: "0080"}', {"target": "0080"}, [S(80)]),
    long('{target: "0"}', {"target": "0"}, [S(0)]),
    long(
        '{target: " 80"}',
        {"target": " 80"},
        Err(
            'failed to cast to expected type: strconv.Atoi: parsing " 80": invalid syntax',
            INTERPOLATION,
        ),
    ),
    long(
        '{target: ""}',
        {"target": ""},
        Err(
            'failed to cast to expected type: strconv.Atoi: parsing "": invalid syntax',
            INTERPOLATION,
        ),
    ),
    long(
        '{target: "99999999999999999999"}',
        {"target": "99999999999999999999"},
        Err(
            "failed to cast to expected type: strconv.Atoi: "
            'parsing "99999999999999999999": value out of range',
            INTERPOLATION,
        ),
    ),
    long(
        '{target: "-5"}',
        {"target": "-5"},
        Err("cannot parse value as 'uint32': -5 overflows uint", DECODE, "target"),
    ),
    long("{target: 4294967376}", {"target": 4294967376}, [S(80)]),
    long("{target: 4294967296}", {"target": 4294967296}, [S(0)]),
    long("{target: 9223372036854775807}", {"target": 2**63 - 1}, [S(4294967295)]),
    long("{target: 9223372036854775808}", {"target": 2**63}, [S(0)]),
    long("{target: 80.0}", {"target": 80.0}, [S(80)]),
    long("{target: 1e3}", {"target": 1000.0}, [S(1000)]),
    long("{target: 1e20}", {"target": 1e20}, [S(0)]),
    long("{target: -0.0}", {"target": -0.0}, [S(0)]),
    long(
        "{target: -1.0}",
        {"target": -1.0},
        Err("cannot parse value as 'uint32': -1.000000 overflows uint", DECODE, "target"),
    ),
    long(
        "{target: -9223372036854775809}",
        {"target": -(2**63) - 1},
        Err(
            "cannot parse value as 'uint32': -9223372036854775808.000000 overflows uint",
            DECODE,
            "target",
        ),
    ),
    long(
        "{target: 80.5}",
        {"target": 80.5},
        Err("must be a integer or string", SCHEMA, "target"),
    ),
    long("{target: true}", {"target": True}, Err("must be a integer or string", SCHEMA, "target")),
    long("{target: null}", {"target": None}, Err("must be a integer or string", SCHEMA, "target")),
    long(
        "{target: .inf}",
        {"target": math.inf},
        Err("must be a integer or string", SCHEMA, "target"),
    ),
    long(
        "{target: 80, published: 80.0}",
        {"target": 80, "published": 80.0},
        Err("expected type 'string', got unconvertible type 'float64'", DECODE, "published"),
    ),
    long(
        "{target: 80, published: 9223372036854775808}",
        {"target": 80, "published": 2**63},
        Err("expected type 'string', got unconvertible type 'uint64'", DECODE, "published"),
    ),
    long(
        "{target: 80, published: -9223372036854775808}",
        {"target": 80, "published": -(2**63)},
        [S(80, "-9223372036854775808")],
    ),
    long(
        "{target: 80, published: true}",
        {"target": 80, "published": True},
        Err("must be a integer or string", SCHEMA, "published"),
    ),
    long(
        "{target: 80, published: null}",
        {"target": 80, "published": None},
        Err("must be a integer or string", SCHEMA, "published"),
    ),
    long('{target: 80, published: " 80"}', {"target": 80, "published": " 80"}, [S(80, " 80")]),
    long(
        '{target: 80, published: "80/udp"}',
        {"target": 80, "published": "80/udp"},
        [S(80, "80/udp")],
    ),
    long(
        '{target: 80, host_ip: ""}',
        {"target": 80, "host_ip": ""},
        Err("invalid ip address: ", IP),
    ),
    long(
        "{target: 80, host_ip: 123}",
        {"target": 80, "host_ip": 123},
        Err("must be a string", SCHEMA, "host_ip"),
    ),
    long(
        '{target: 80, host_ip: "::ffff:1.2.3.4"}',
        {"target": 80, "host_ip": "::ffff:1.2.3.4"},
        [S(80, host_ip="::ffff:1.2.3.4")],
    ),
    long(
        '{target: 80, host_ip: "1.2.3.4%eth0"}',
        {"target": 80, "host_ip": "1.2.3.4%eth0"},
        Err("invalid ip address: 1.2.3.4%eth0", IP),
    ),
    long('{target: 80, protocol: ""}', {"target": 80, "protocol": ""}, [S(80, protocol="")]),
    long('{target: 80, mode: ""}', {"target": 80, "mode": ""}, [S(80, mode="")]),
    long('{target: 80, name: ""}', {"target": 80, "name": ""}, [S(80)]),
    long('{target: 80, app_protocol: ""}', {"target": 80, "app_protocol": ""}, [S(80)]),
    long(
        "{target: 80, protocol: null}",
        {"target": 80, "protocol": None},
        Err("must be a string", SCHEMA, "protocol"),
    ),
    long(
        "{target: 80, mode: 1}",
        {"target": 80, "mode": 1},
        Err("must be a string", SCHEMA, "mode"),
    ),
    long(
        "{target: 80, X-foo: 1}",
        {"target": 80, "X-foo": 1},
        Err("additional properties 'X-foo' not allowed", SCHEMA),
    ),
    long("{}", {}, MISSING),
    long("{bogus: 1}", {"bogus": 1}, MISSING),
    long(
        "{target: -5, host_ip: bad}",
        {"target": -5, "host_ip": "bad"},
        Err("invalid ip address: bad", IP),
    ),
    long(
        '{target: "abc", bogus: 1}',
        {"target": "abc", "bogus": 1},
        Err(
            'failed to cast to expected type: strconv.Atoi: parsing "abc": invalid syntax',
            INTERPOLATION,
        ),
    ),
    long(
        "{target: 80, bogus: 1, mode: 2}",
        {"target": 80, "bogus": 1, "mode": 2},
        Err("must be a string", SCHEMA, "mode"),
    ),
    long(
        "{target: -1, published: 80.0}",
        {"target": -1, "published": 80.0},
        Err("cannot parse value as 'uint32': -1 overflows uint", DECODE, "target"),
    ),
    long("{1: 2}", {1: 2}, Err("non-string key", KEYS)),  # type: ignore[dict-item]
]


@pytest.fixture(scope="module")
def table_verdicts() -> dict[str, Verdict]:
    """The binary's verdict on every table row, run once: accepted rows share one project."""
    cases = SHORT_ACCEPTED + SHORT_REJECTED + LONG + IP_CASES
    verdicts = run_entries([c.yaml for c in cases], [not isinstance(c.expect, Err) for c in cases])
    return {case.yaml: verdict for case, verdict in zip(cases, verdicts, strict=True)}


@pytest.mark.parametrize("case", SHORT_ACCEPTED + SHORT_REJECTED, ids=str)
def test_short_syntax(case: Case, table_verdicts: dict[str, Verdict]) -> None:
    assert_expected(case)
    assert_agrees(case.value, table_verdicts[case.yaml])


@pytest.mark.parametrize("case", LONG, ids=str)
def test_long_syntax(case: Case, table_verdicts: dict[str, Verdict]) -> None:
    assert_expected(case)
    assert_agrees(case.value, table_verdicts[case.yaml])


def test_non_string_key_message_matches_binary() -> None:
    verdict = run_items(["{1: 2}"])
    with pytest.raises(PortError) as caught:
        parse_long({1: 2})  # type: ignore[dict-item]
    assert caught.value.compose_text("web", 0, verdict.file) == verdict.error
    assert verdict.error == "non-string key in services.web.ports[0]: 1"


# --- Engine checks (no engine here: moby@v28.5.1 daemon/container.go, [S]) -----------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (S(80, "8080"), None),
        (S(80), None),
        (S(80, "0"), None),
        (S(80, "8000-9000"), None),
        (S(80, "1-2-3"), None),  # ParsePortRange reads two parts only
        (S(80, "8080/udp"), None),  # SplitProtoPort drops the "/udp"
        (S(80, "00080"), None),
        (S(65535, "65535"), None),
        (S(80, "abc"), 'invalid port specification: "abc"'),
        (S(80, "70000"), 'invalid port specification: "70000"'),
        (S(80, "8000-7000"), 'invalid port specification: "8000-7000"'),
        (S(80, "-1"), 'invalid port specification: "-1"'),
        (S(80, " 80"), 'invalid port specification: " 80"'),
        (S(80, "80-"), 'invalid port specification: "80-"'),
        (S(80, 'a"b'), 'invalid port specification: "a\\"b"'),
        (S(70000), 'invalid port specification: "70000"'),
        (S(70000, "abc"), 'invalid port specification: "70000"'),
    ],
)
def test_engine_error(spec: PortSpec, expected: str | None) -> None:
    assert engine_error(spec) == expected


def test_engine_errors_raise_only_after_config_checks() -> None:
    with pytest.raises(PortError) as caught:
        parse_long({"target": 80, "published": "abc", "mode": "host"})
    assert caught.value.engine
    assert caught.value.message == 'invalid port specification: "abc"'
    assert caught.value.spec == S(80, "abc", mode="host")
    # A config error wins over an engine one.
    with pytest.raises(PortError) as caught:
        parse_long({"target": 80, "published": "abc", "host_ip": "nope"})
    assert not caught.value.engine
    assert caught.value.stage == IP


# --- net.ParseIP --------------------------------------------------------------------------

IPS = {
    "127.0.0.1": True,
    "0.0.0.0": True,
    "255.255.255.255": True,
    "256.0.0.1": False,
    "01.2.3.4": False,
    "1.2.3.00": False,
    "1.2.3": False,
    "1.2.3.4.5": False,
    "1..2.3": False,
    ".1.2.3": False,
    "1.2.3.4.": False,
    "::": True,
    "::1": True,
    "1::": True,
    "2001:db8::1": True,
    "2001:DB8::ABCD": True,
    "::0001": True,
    "::00001": False,
    "1:2:3:4:5:6:7:8": True,
    "1:2:3:4:5:6:7:8:9": False,
    "1:2:3:4:5:6:7::": True,
    "1:2:3:4:5:6:7:8::": False,
    "::1:2:3:4:5:6:7:8": False,
    "1:2:3:4:5:6:7": False,
    "1::2::3": False,
    ":1::2": False,
    "1:2:": False,
    "::ffff:1.2.3.4": True,
    "::1.2.3.4": True,
    "1:2:3:4:5:6:1.2.3.4": True,
    "1:2:3:4:5:1.2.3.4": False,
    "1:2:3:4:5:6:7:1.2.3.4": False,
    "::ffff:01.2.3.4": False,
    "::a.2.3.4": False,
    "fe80::1%eth0": False,
    "1.2.3.4%eth0": False,
    "%eth0": False,
    "localhost": False,
    "": False,
    "[::1]": False,
    "\uff11.2.3.4": False,  # fullwidth digit
    "::g": False,
}


# Long-syntax host_ip goes straight to net.ParseIP, without the short syntax's brackets.
IP_CASES = [
    Case(
        "{target: 80, host_ip: " + _q(ip) + "}",
        {"target": 80, "host_ip": ip},
        [S(80, host_ip=ip)] if ok else Err(f"invalid ip address: {ip}", IP),
    )
    for ip, ok in IPS.items()
]


@pytest.mark.parametrize(("text", "expected"), list(IPS.items()))
def test_is_go_ip(text: str, expected: bool, table_verdicts: dict[str, Verdict]) -> None:
    assert is_go_ip(text) is expected
    case = IP_CASES[list(IPS).index(text)]
    assert_expected(case)
    assert_agrees(case.value, table_verdicts[case.yaml])


# --- Unicity (§1.3) -----------------------------------------------------------------------


def _unique(items: Iterable[object], key: Callable[[object], str]) -> list[object]:
    # compose-go@v2.9.1:override/uncity.go: a later duplicate replaces the earlier one in place.
    seq: list[object] = []
    seen: dict[str, int] = {}
    for item in items:
        k = key(item)
        if k in seen:
            seq[seen[k]] = item
        else:
            seen[k] = len(seq)
            seq.append(item)
    return seq


def _attempt(item: object) -> list[PortSpec] | PortError:
    try:
        return parse_item(item)
    except PortError as exc:
        return [exc.spec] if exc.engine and exc.spec is not None else exc


def _first(outcomes: Iterable[object], *stages: str) -> PortError | None:
    return next(
        (o for o in outcomes if isinstance(o, PortError) and o.stage in stages),
        None,
    )


def simulate(items: Sequence[object]) -> list[PortSpec]:
    """One service's `ports` through Compose's stages, built from this module's parts.

    compose-go@v2.9.1:loader/loader.go: string keys and interpolation, unicity, the schema
    (an item's error before the list's uniqueItems), canonicalisation, unicity again, then
    host_ip validation and decoding.
    """
    outcomes = [_attempt(item) for item in items]
    error = _first(outcomes, KEYS) or _first(outcomes, INTERPOLATION)
    if error:
        raise error
    kept = _unique(items, unicity_key)
    outcomes = [_attempt(item) for item in kept]
    error = _first(outcomes, SCHEMA) or unique_items_error(kept) or _first(outcomes, TYPE, PARSE)
    if error:
        raise error
    canonical: list[tuple[PortSpec, object]] = []
    for item, outcome in zip(kept, outcomes, strict=True):
        long_syntax = isinstance(item, Mapping)
        canonical.extend((spec, item if long_syntax else None) for spec in outcome)  # type: ignore[union-attr]

    def key(entry: object) -> str:
        spec, item = entry  # type: ignore[misc]
        return unicity_key(item) if item is not None else spec_key(spec)

    result = _unique(canonical, key)
    error = _first(outcomes, IP) or _first(outcomes, DECODE)
    if error:
        raise error
    return [entry[0] for entry in result]  # type: ignore[index]


_FILLERS = [f"{p}:{p}" for p in range(1001, 1021)]

UNICITY_CASES: list[tuple[list[str], list[object], list[PortSpec] | Err]] = [
    (['"8000:8000"', '"8000:8000"'], ["8000:8000", "8000:8000"], [S(8000, "8000")]),
    (
        ['"8000:8000"', '"0.0.0.0:8000:8000"'],
        ["8000:8000", "0.0.0.0:8000:8000"],
        [S(8000, "8000", "0.0.0.0")],
    ),
    (
        ['"8000-8002:8000-8002"', '"8001:8001"'],
        ["8000-8002:8000-8002", "8001:8001"],
        [S(8000, "8000"), S(8001, "8001"), S(8002, "8002")],
    ),
    (
        ['"8001:8001"', '"8000-8002:8000-8002"'],
        ["8001:8001", "8000-8002:8000-8002"],
        [S(8001, "8001"), S(8000, "8000"), S(8002, "8002")],
    ),
    (
        ['"8000:80"', '{target: 80, published: "8000", mode: host}'],
        ["8000:80", {"target": 80, "published": "8000", "mode": "host"}],
        [S(80, "8000", mode="host")],
    ),
    (
        ['{target: 80, published: "8000"}', "{target: 80, published: 8000}"],
        [{"target": 80, "published": "8000"}, {"target": 80, "published": 8000}],
        Err("items at 0 and 1 are equal", SCHEMA_LIST),
    ),
    (['"80"', "80", "80"], ["80", 80, 80], [S(80)]),
    # Not in the doc: jsonschema's equals() is asymmetric, so the other order passes...
    (
        ["{target: 80, published: 8000}", '{target: 80, published: "8000"}'],
        [{"target": 80, "published": 8000}, {"target": 80, "published": "8000"}],
        [S(80, "8000"), S(80, "8000")],
    ),
    (
        ['{target: 80, published: "8e3"}', "{target: 80, published: 8000}"],
        [{"target": 80, "published": "8e3"}, {"target": 80, "published": 8000}],
        Err("items at 0 and 1 are equal", SCHEMA_LIST),
    ),
    # ...and beyond 20 items only same-hash items are compared, so nothing is found.
    (
        [*map(_q, _FILLERS), '{target: 80, published: "8000"}', "{target: 80, published: 8000}"],
        [*_FILLERS, {"target": 80, "published": "8000"}, {"target": 80, "published": 8000}],
        [*(S(p, str(p)) for p in range(1001, 1021)), S(80, "8000"), S(80, "8000")],
    ),
    (
        [
            '{target: 80, published: "8000"}',
            "{target: 80, published: 8000}",
            "{target: 80, bogus: 1}",
        ],
        [
            {"target": 80, "published": "8000"},
            {"target": 80, "published": 8000},
            {"target": 80, "bogus": 1},
        ],
        Err("additional properties 'bogus' not allowed", SCHEMA),
    ),
    (['"80"', "80.0"], ["80", 80.0], Err("items at 0 and 1 are equal", SCHEMA_LIST)),
    (["80", "80.0"], [80, 80.0], Err("items at 0 and 1 are equal", SCHEMA_LIST)),
    (["80.0", '"80"'], [80.0, "80"], Err("invalid type float64 for port", TYPE)),
    # An int `published` keys as "%!s(int=8000)" and never meets the string "8000".
    (
        ['"8000:80"', "{target: 80, published: 8000, mode: host}"],
        ["8000:80", {"target": 80, "published": 8000, "mode": "host"}],
        [S(80, "8000"), S(80, "8000", mode="host")],
    ),
    (
        ["{target: 80, mode: a}", '{target: 80, mode: b, published: ""}'],
        [{"target": 80, "mode": "a"}, {"target": 80, "mode": "b", "published": ""}],
        [S(80, mode="a"), S(80, mode="b")],
    ),
    (
        ['"80"', "{target: 80, mode: host}"],
        ["80", {"target": 80, "mode": "host"}],
        [S(80, mode="host")],
    ),
    (
        ['{target: "80", mode: a}', "{target: 80, mode: b}"],
        [{"target": "80", "mode": "a"}, {"target": 80, "mode": "b"}],
        [S(80, mode="b")],
    ),
    (
        ["{target: 80, mode: a, host_ip: 0.0.0.0}", "{target: 80, mode: b}"],
        [{"target": 80, "mode": "a", "host_ip": "0.0.0.0"}, {"target": 80, "mode": "b"}],
        [S(80, mode="b")],
    ),
    # Floats, null and booleans all key as "": the last one stands in for the first.
    (["null", "80.5"], [None, 80.5], Err("invalid type float64 for port", TYPE)),
    (["80.5", "null"], [80.5, None], Err("must be a number", SCHEMA)),
    (
        ['"70000"', "true", "80.5", '"8080:80"'],
        ["70000", True, 80.5, "8080:80"],
        Err("invalid containerPort: 70000"),
    ),
    (
        ['"80:0"', "{published: 80}"],
        ["80:0", {"published": 80}],
        Err("is missing a target port", UNICITY),
    ),
]


@pytest.mark.parametrize(("yaml", "items", "expected"), UNICITY_CASES, ids=lambda v: str(v)[:60])
def test_unicity_matches_binary(
    yaml: list[str], items: list[object], expected: list[PortSpec] | Err
) -> None:
    verdict = run_items(yaml)
    try:
        got: list[PortSpec] | PortError = simulate(items)
    except PortError as exc:
        got = exc
    if isinstance(expected, Err):
        assert isinstance(got, PortError)
        assert (got.message, got.stage) == (expected.message, expected.stage)
    else:
        assert got == expected
    if isinstance(got, PortError):
        assert not verdict.ok
        assert got.message in verdict.error
        if got.stage in (SCHEMA_LIST, TYPE, PARSE):
            assert got.compose_text("web", 0, verdict.file) == verdict.error
    else:
        assert verdict.ok, verdict.error
        assert verdict.ports == got


def test_unicity_key_formats() -> None:
    assert unicity_key("8000:80") == "8000:80"
    assert unicity_key(80) == "80"
    assert unicity_key(2**63) == ""
    assert unicity_key(80.5) == ""
    assert unicity_key(None) == ""
    assert unicity_key(True) == ""
    assert unicity_key([80]) == ""
    assert unicity_key({"target": 80}) == "0.0.0.0:%!s(<nil>):80/tcp"
    assert unicity_key({"target": "0080", "published": "8000"}) == "0.0.0.0:8000:80/tcp"
    assert unicity_key({"target": 80, "published": 8000}) == "0.0.0.0:%!s(int=8000):80/tcp"
    assert (
        unicity_key({"target": 80.0, "published": 1e6, "host_ip": "::1", "protocol": "udp"})
        == "::1:%!s(float64=1e+06):%!d(float64=80)/udp"
    )
    assert unicity_key({"target": True, "published": False}) == (
        "0.0.0.0:%!s(bool=false):%!d(bool=true)/tcp"
    )
    with pytest.raises(PortError) as caught:
        unicity_key({"published": 80})
    assert caught.value.compose_text("api", 3) == (
        "service ports services.api.ports.[3] is missing a target port"
    )
    with pytest.raises(PortError) as caught:
        unicity_key({"target": "x"})
    assert caught.value.stage == INTERPOLATION


def test_spec_key() -> None:
    assert spec_key(S(80, "8000")) == "0.0.0.0:8000:80/tcp"
    assert spec_key(S(80, "8000", "0.0.0.0")) == "0.0.0.0:8000:80/tcp"
    assert spec_key(S(80, None, "::1", "udp")) == "::1:%!s(<nil>):80/udp"
    with pytest.raises(PortError) as caught:
        spec_key(S(0, "80"))
    assert caught.value.message == "is missing a target port"


# --- Helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("abc", '"abc"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("\t\n", '"\\t\\n"'),
        ("\x01", '"\\x01"'),
        ("\x7f", '"\\x7f"'),
        ("é", '"é"'),
        ("\u200b", '"\\u200b"'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


def test_parse_short_returns_fresh_lists() -> None:
    first = parse_short("3000-3001")
    first.clear()
    assert parse_short("3000-3001") == [S(3000), S(3001)]


def test_fast_path_agrees_with_general_path() -> None:
    for text in ["8080:80", "0:80", "65535:65535", "65536:80", "80:65536", "00000:1", "80:0"]:
        fast: list[PortSpec] | str
        try:
            fast = parse_short(text)
        except PortError as exc:
            fast = exc.message
        slow: list[PortSpec] | str
        try:
            slow = parse_short("[]:" + text)  # brackets with nothing inside: no host IP
        except PortError as exc:
            slow = exc.message
        assert fast == slow, text


def test_compose_text_prefixes() -> None:
    assert PortError("invalid type float64 for port", stage=TYPE).compose_text("db") == (
        "services.db.ports: invalid type float64 for port"
    )
    schema = PortError("must be a string", stage=SCHEMA, field="mode")
    assert schema.compose_text("db", 2, "/x/compose.yaml") == (
        "validating /x/compose.yaml: services.db.ports.2.mode must be a string"
    )


# --- Random entries against the binary ----------------------------------------------------

_NUMBERS = st.one_of(
    st.integers(1, 65535).map(str),
    st.integers(1, 65535).map(str),
    st.integers(0, 70000).map(str),
    st.integers(0, 9999).map(lambda n: "00" + str(n)),
    st.sampled_from(["0", "65535", "65536", "99999", "", "abc", "+80", " 80", "80 ", "-1", "٣"]),
)


@st.composite
def _port_or_range(draw: st.DrawFn) -> str:
    first = draw(_NUMBERS)
    shape = draw(st.sampled_from(["one", "one", "one", "range", "range", "range3", "open"]))
    if shape == "one":
        return first
    if shape == "open":
        return first + "-"
    start = int(first) if first.isdigit() and len(first) < 7 else 100
    end = str(max(start + draw(st.integers(-2, 3)), 0))
    if draw(st.booleans()):
        end = "0" + end
    if shape == "range3":
        return f"{first}-{end}-{draw(_NUMBERS)}"
    return f"{first}-{end}"


_IPS = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.ip_addresses(v=4).map(lambda a: f"[{a}]"),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.sampled_from([*IPS, "[::1", "[]", "[::1]x", "::1]", "[::1]:[::2]", "1.2.3.4%x"]),
    st.text(alphabet="0123456789abcdefABx:.[]%", max_size=12),
)


@st.composite
def short_entries(draw: st.DrawFn) -> tuple[str, object]:
    """(YAML item, value Compose sees) for a random short-syntax entry or a bare int."""
    if draw(st.integers(0, 9)) == 0:
        number = draw(st.integers(-100, 70000))
        return str(number), number
    container = draw(_port_or_range())
    host = draw(st.one_of(st.none(), st.just(""), _port_or_range()))
    ip = draw(st.one_of(st.none(), st.none(), st.just(""), _IPS))
    text = container
    if ip is not None:
        text = f"{ip}:{host or ''}:{container}"
    elif host is not None:
        text = f"{host}:{container}"
    proto = draw(
        st.one_of(
            st.none(),
            st.sampled_from(["tcp", "udp", "sctp", "UDP", "Tcp", "SCTP", "", "foo", "tcp/udp"]),
        )
    )
    if proto is not None:
        text += "/" + proto
    return _q(text), text


def _yaml_scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return _q(str(value))


_TARGETS = st.one_of(
    st.integers(-5, 70000),
    st.sampled_from([0, 4294967376, 2**63 - 1, 2**63, -(2**40)]),
    st.integers(0, 70000).map(str),
    st.sampled_from(["+80", "0080", " 80", "80-81", "abc", "", "-3", "0"]),
    st.sampled_from([80.0, -1.0, 1e3, -0.0]),
)
_PUBLISHED = st.one_of(
    st.integers(-2, 70000),
    st.integers(0, 70000).map(str),
    st.sampled_from(["", "0", "8000-9000", "9000-8000", "1-2-3", "abc", " 80", "80/udp", "80-"]),
    st.sampled_from([2**63, 8080.0]),
)
_HOST_IPS = st.one_of(
    st.ip_addresses().map(str), st.sampled_from(["", "[::1]", "bad", "01.2.3.4", "::", "fe80::1%x"])
)
_WRONG = {
    "target": st.sampled_from([True, None, 80.5, math.inf]),
    "published": st.sampled_from([False, None, 1.5]),
    "host_ip": st.sampled_from([1, None, True]),
    "protocol": st.sampled_from([6, None]),
    "mode": st.sampled_from([1, False]),
    "name": st.sampled_from([2, None]),
    "app_protocol": st.sampled_from([3.5, None]),
}


@st.composite
def long_entries(draw: st.DrawFn) -> tuple[str, object]:
    """(YAML item, mapping) for a random long-syntax entry.

    At most one field has a wrong type and at most one unknown key is added: with several,
    Compose names one of them at random (Go map order).
    """
    fields = {
        "target": _TARGETS,
        "published": _PUBLISHED,
        "host_ip": _HOST_IPS,
        "protocol": st.sampled_from(["tcp", "udp", "UDP", "foo", ""]),
        "mode": st.sampled_from(["host", "ingress", "", "weird"]),
        "name": st.sampled_from(["web", ""]),
        "app_protocol": st.sampled_from(["http", ""]),
    }
    entry: dict[str, object] = {}
    for key, strategy in fields.items():
        present = draw(st.integers(0, 9)) < (9 if key == "target" else 4)
        if present:
            entry[key] = draw(strategy)
    wrong = draw(st.sampled_from([*[None] * 20, *_WRONG]))
    if wrong is not None:
        entry[wrong] = draw(_WRONG[wrong])
    extra = draw(st.sampled_from([*[None] * 12, "x-note", "bogus", "Target"]))
    if extra is not None:
        entry[extra] = "v"
    keys = list(entry)
    order = draw(st.permutations(keys))
    yaml = "{" + ", ".join(f"{k}: {_yaml_scalar(entry[k])}" for k in order) + "}"
    return yaml, {k: entry[k] for k in order}


def _check_random(entries: list[tuple[str, object]]) -> None:
    expect_ok = [not isinstance(predict(value), PortError) for _, value in entries]
    verdicts = run_entries([yaml for yaml, _ in entries], expect_ok)
    for (_, value), verdict in zip(entries, verdicts, strict=True):
        assert_agrees(value, verdict)


_RANDOM = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_RANDOM
@given(st.lists(short_entries(), min_size=10, max_size=10))
def test_random_short_syntax_matches_binary(entries: list[tuple[str, object]]) -> None:
    _check_random(entries)


@_RANDOM
@given(st.lists(long_entries(), min_size=10, max_size=10))
def test_random_long_syntax_matches_binary(entries: list[tuple[str, object]]) -> None:
    _check_random(entries)


def test_go_printable_table_is_unicode_15_where_this_python_can_tell() -> None:
    """goprint's table says what Go 1.21+ (Unicode 15.0) prints; this Python's unicodedata
    must agree on every character both know, whatever its Unicode version."""
    import unicodedata

    from compose_ports.compose.goprint import UNICODE_VERSION, is_print

    python_version = tuple(map(int, unicodedata.unidata_version.split(".")))
    go_version = tuple(map(int, UNICODE_VERSION.split(".")))
    checked = 0
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        known_here = unicodedata.category(char) != "Cn"
        if python_version <= go_version and known_here:
            assert is_print(code) == char.isprintable(), hex(code)
            checked += 1
        elif python_version > go_version and is_print(code):
            assert char.isprintable(), hex(code)  # printable in 15.0 stays printable
            checked += 1
    assert checked > 100_000

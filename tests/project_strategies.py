"""Hypothesis strategies for random Docker Compose projects, written as YAML text by hand.

A generated project is 1-3 compose files (given with `-f`, in order), an optional `.env` next to
them, a process environment and a few `--profile`s. The files are built as text, not dumped, so
that the quoting of every scalar is chosen on purpose (plain, single, double, int items).

What gets generated (compose-facts §1-§4):
- short syntax: `[[IP:][HOST|RANGE]:]CONTAINER|RANGE[/proto]`, IPv4 and IPv6 with and without
  brackets, empty host ports, protocols in mixed case, int items and a few Go-style int literals;
- long syntax: target, published, host_ip, protocol, mode, name, app_protocol, in random order;
- interpolation (`$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:+x}`, `${V+x}`, `${V:?err}`, nested
  defaults) in host ports, IPs, protocols, targets and whole entries;
- a `.env` in a few of Compose's quoting styles, and a process environment where each variable is
  set, empty or unset;
- later files overriding ports with `!override` / `!reset`, whole services reset or replaced,
  entries repeated or slightly changed (unicity), and `profiles` with random `--profile`s.

Most ports are valid so that comparisons mean something; a small share is invalid on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import strategies as st

from compose_ports.compose.loading import LoadOptions

T = TypeVar("T")
Draw = Callable[[st.SearchStrategy[Any]], Any]

SERVICE_NAMES = ("web", "db", "api", "cache", "web-2")
PROFILE_NAMES = ("debug", "tools")
IMAGES = ("nginx", "postgres:16", "redis")

PORT_VARS = ("WEB_PORT", "DB_PORT", "P1", "p1")
IP_VARS = ("BIND_IP", "HOST_IP")
SPEC_VARS = ("SPEC", "PORT_SPEC")
TARGET_VARS = ("TARGET",)
PROTO_VARS = ("PROTO",)
ALL_VARS = PORT_VARS + IP_VARS + SPEC_VARS + TARGET_VARS + PROTO_VARS

HOST_PORTS = ("8080", "8000", "80", "443", "9000", "8081")
CONTAINER_PORTS = ("80", "443", "81", "5432", "8080")
HOST_RANGES = ("8000-8001", "9000-9002", "8080-8081")
CONTAINER_RANGES = ("80-81", "3000-3002", "8080-8081")
IPS_SHORT = (
    "127.0.0.1",
    "0.0.0.0",
    "[::1]",
    "[::]",
    "::1",
    "[2001:db8::1]",
    "2001:db8::1",
    "[127.0.0.1]",
    "::ffff:127.0.0.1",
)
IPS_LONG = ("127.0.0.1", "0.0.0.0", "::1", "::", "2001:db8::1")


def weighted(draw: Draw, options: Sequence[tuple[int, Any]]) -> Any:
    """One of the options, by weight; shrinks towards the first one.

    An option given as a function is only called (and its draws only made) when it is picked.
    """
    total = sum(w for w, _ in options)
    pick = draw(st.integers(0, total - 1))
    for weight, value in options:
        if pick < weight:
            return value() if callable(value) else value
        pick -= weight
    raise AssertionError("unreachable")


def one_of(draw: Draw, values: Sequence[T]) -> T:
    return draw(st.sampled_from(values))


def chance(draw: Draw, percent: int) -> bool:
    return weighted(draw, [(100 - percent, False), (percent, True)])


# -- YAML scalars ---------------------------------------------------------------------------------


_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_INDICATORS = set(",[]{}")


def plain_ok(text: str, flow: bool) -> bool:
    """Whether text can be written as a plain YAML scalar and still be read as a string or int.

    `:` followed by a non-space may start a plain scalar (YAML 1.2); go-yaml refuses it in flow
    collections, which is worth testing, so it is allowed there too.
    """
    if not text or text != text.strip() or ": " in text or " #" in text or text.endswith(":"):
        return False
    first = text[0]
    if first in _INDICATORS and not (first in "-?:" and len(text) > 1 and text[1] != " "):
        return False
    if flow and any(c in _FLOW_INDICATORS for c in text):
        return False
    return text.lower() not in {"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n"}


@dataclass(frozen=True)
class Scalar:
    """A YAML scalar: its text and how to write it (`plain`, `single`, `double`)."""

    value: str
    style: str = "double"

    def render(self, flow: bool = False) -> str:
        if self.style == "plain" and plain_ok(self.value, flow):
            return self.value
        if self.style == "single" and "'" not in self.value:
            return f"'{self.value}'"
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'


def string_scalar(draw: Draw, value: str) -> Scalar:
    """A string scalar in a random quoting style (plain where it stays a string)."""
    style = weighted(draw, [(4, "double"), (2, "single"), (3, "plain")])
    if style == "plain" and (re.fullmatch(r"[0-9_]+|0[xo][0-9a-f]+", value) or "." in value):
        style = "double"  # plain would read as a number
    return Scalar(value, style)


# -- interpolation ------------------------------------------------------------------------------

# Values a variable may hold, by the role it plays in a port; the invalid ones are rare.
VALID_VALUES: dict[str, tuple[str, ...]] = {
    "port": (*HOST_PORTS, *HOST_PORTS, "9000-9001", "0"),
    "ip": ("127.0.0.1", "0.0.0.0", "::1"),
    "spec": ("127.0.0.1:8080:80", "8081:81/udp", "82", "[::1]:8443:443", "8000:80"),
    "target": ("80", "443"),
    "proto": ("udp", "TCP", "sctp", "tcp"),
}
INVALID_VALUES: dict[str, tuple[str, ...]] = {
    "port": ("abc", "70000", "8000-7000"),
    "ip": ("[::1]", "localhost"),  # `[::1]` is fine in short syntax, refused as `host_ip`
    "spec": ("80:80:80:80", "abc:80"),
    "target": ("80-81", "abc"),
    "proto": ("foo",),
}
ROLES = ("port", "ip", "spec", "target", "proto")

# Roles whose value may be empty: an empty host port or short-syntax IP just means "none".
_EMPTY_OK = ("port", "ip")


def literal_for(draw: Draw, role: str, valid: bool = True) -> str:
    """A value a variable of this role could hold."""
    return draw(st.sampled_from(VALID_VALUES[role] if valid else INVALID_VALUES[role]))


def variables_of(role: str) -> tuple[str, ...]:
    return {
        "port": PORT_VARS,
        "ip": IP_VARS,
        "spec": SPEC_VARS,
        "target": TARGET_VARS,
        "proto": PROTO_VARS,
    }[role]


def role_of(name: str) -> str:
    return next(r for r in ROLES if name in variables_of(r))


def expression(
    draw: Draw, role: str, valid: bool = True, empty_ok: bool = True, depth: int = 0
) -> str:
    """A `$...` expression for a value of this role: `$V`, `${V:-default}`, nested defaults...

    A valid one yields a valid value whatever the environment holds (as long as the environment
    holds valid values): where an empty value would be an error (`empty_ok` False), it always has
    a `:-` default. An invalid one fails when its variable is unset (`${V:?err}`), or always (`$$`).
    """
    name = draw(st.sampled_from(variables_of(role)))
    if not valid:
        form = weighted(draw, [(3, ":?"), (2, "?"), (1, "$$"), (1, "bad-default")])
        if form == "$$":
            return f"$${{{name}}}"  # a literal `${NAME}`, which no port parser accepts
        if form == "bad-default":
            return f"${{{name}:-{literal_for(draw, role, valid=False)}}}"
        message = draw(st.sampled_from(("", "port required", "need-it")))
        return f"${{{name}{form}{message}}}"

    def default() -> str:
        if depth == 0 and chance(draw, 20):
            return expression(draw, role, True, empty_ok, depth + 1)
        return literal_for(draw, role)

    if not empty_ok:
        return f"${{{name}:-{default()}}}"
    form = weighted(
        draw,
        [(3, "braced"), (2, "bare"), (4, ":-"), (2, "-"), (1, ":+"), (1, "+")],
    )
    if form == "bare" and depth == 0:
        return f"${name}"
    if form in ("bare", "braced"):
        return f"${{{name}}}"
    return f"${{{name}{form}{default()}}}"


# -- port entries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShortEntry:
    """A short-syntax item: its string and how it is written."""

    text: str
    style: str  # plain, single, double, int (plain, never quoted), raw (plain even if unsafe)
    tag: str = ""  # a YAML tag on the item (`!reset`), which Compose ignores on items

    def render(self, flow: bool) -> str:
        prefix = f"{self.tag} " if self.tag else ""
        if self.style in ("int", "raw"):
            return prefix + self.text
        return prefix + Scalar(self.text, self.style).render(flow)


@dataclass(frozen=True)
class LongEntry:
    """A long-syntax item: its keys, in order, with their scalars."""

    fields: tuple[tuple[str, Scalar], ...]

    def render_flow(self) -> str:
        return "{" + ", ".join(f"{k}: {v.render(True)}" for k, v in self.fields) + "}"

    def render_block(self, indent: str) -> list[str]:
        lines = []
        for i, (key, value) in enumerate(self.fields):
            lead = f"{indent}- " if i == 0 else f"{indent}  "
            lines.append(f"{lead}{key}: {value.render(False)}")
        return lines


Entry = ShortEntry | LongEntry


@dataclass(frozen=True)
class ShortParts:
    """The pieces of a short-syntax entry, so that repeats can change one of them."""

    ip: str | None
    host: str | None
    container: str
    proto: str | None

    def text(self) -> str:
        body = self.container + (f"/{self.proto}" if self.proto is not None else "")
        if self.ip is not None:
            return f"{self.ip}:{self.host or ''}:{body}"
        if self.host is not None:
            return f"{self.host}:{body}"
        return body


def _same_length_range(draw: Draw, host: str) -> str:
    first, last = (int(x) for x in host.split("-"))
    start = int(draw(st.sampled_from(("80", "3000", "8080"))))
    return f"{start}-{start + last - first}"


@st.composite
def short_parts(draw: Draw, valid: bool = True) -> ShortParts:
    """`[[IP:][HOST|RANGE]:]CONTAINER|RANGE[/proto]`; an invalid one has exactly one bad part."""
    broken = (
        ""
        if valid
        else weighted(
            draw,
            [
                (2, "ip"),
                (2, "host"),
                (2, "container"),
                (2, "ranges"),
                (2, "proto"),
                (2, "variable"),
            ],
        )
    )
    ip = weighted(
        draw,
        [(14, None), (6, lambda: one_of(draw, IPS_SHORT)), (2, lambda: expression(draw, "ip"))],
    )
    if broken == "ip":
        ip = draw(st.sampled_from(("localhost", "::", "fe80::1%eth0", "80:80")))
    host_kind = weighted(
        draw,
        [(10, "port"), (4, "none"), (3, "range"), (3, "var"), (1, "empty"), (1, "odd")],
    )
    if broken == "ranges":
        host_kind = "range"
    host: str | None = None
    container: str | None = None
    if host_kind == "port":
        host = weighted(
            draw,
            [(9, lambda: one_of(draw, HOST_PORTS)), (1, lambda: str(draw(st.integers(1, 65535))))],
        )
    elif host_kind == "range":
        host = draw(st.sampled_from(HOST_RANGES))
        # a range of the same length maps one to one; a single container port makes a pool
        if broken == "ranges":
            container = draw(st.sampled_from(("80-85", "90-95")))
        elif chance(draw, 60):
            container = _same_length_range(draw, host)
    elif host_kind == "var":
        host = expression(draw, "port")
    elif host_kind == "empty":
        host = ""
    elif host_kind == "odd":
        # valid oddities: leading zeros are dropped, `1-2-3` reads as `1-2`, 0 means ephemeral
        host = draw(st.sampled_from(("00080", "008080", "1-2-3", "0")))
    if broken == "host":
        host = draw(st.sampled_from(("70000", "abc", "8000-7000", "+80", " 80")))
    elif broken == "variable":
        host = expression(draw, "port", valid=False)
    if ip is not None and host is None:
        host = ""  # `IP::CONTAINER`
    if container is None:
        if not host and chance(draw, 15):
            container = draw(st.sampled_from(CONTAINER_RANGES))
        else:
            container = weighted(
                draw,
                [
                    (20, lambda: one_of(draw, CONTAINER_PORTS)),
                    (1, lambda: expression(draw, "target", empty_ok=False)),
                ],
            )
    if broken == "container":
        container = draw(st.sampled_from(("70000", "0", "8000-7000", "abc", "-80")))
    proto = weighted(
        draw,
        [
            (12, None),
            (6, lambda: one_of(draw, ("tcp", "udp", "sctp", "UDP", "Tcp", "SCTP"))),
            (1, lambda: expression(draw, "proto", empty_ok=False)),
        ],
    )
    if broken == "proto":
        proto = draw(st.sampled_from(("foo", "tcp/udp", "")))
    return ShortParts(ip, host, container, proto)


def short_from_parts(draw: Draw, parts: ShortParts) -> ShortEntry:
    text = parts.text()
    if (
        parts.ip is None
        and parts.host is None
        and parts.proto is None
        and parts.container.isdigit()
    ):
        style = weighted(draw, [(3, "int"), (2, "double"), (1, "single"), (1, "plain")])
        return ShortEntry(text, style)
    return ShortEntry(text, weighted(draw, [(4, "double"), (2, "single"), (3, "plain")]))


@st.composite
def short_entries(draw: Draw, valid: bool = True) -> tuple[ShortEntry, ShortParts | None]:
    """A short-syntax item, and its parts when it has some (not a whole-entry variable)."""
    kind = weighted(draw, [(30, "parts"), (2, "whole"), (1, "goint")])
    if not valid:
        kind = weighted(draw, [(6, "parts"), (1, "whole"), (1, "float"), (1, "yaml")])
    if kind == "whole":
        # the whole mapping from one variable (`${SPEC:-127.0.0.1:8080:80}`)
        text = expression(draw, "spec", valid=valid, empty_ok=False)
        return ShortEntry(text, weighted(draw, [(2, "double"), (1, "single"), (1, "plain")])), None
    if kind == "goint":
        # Go-style int literals that go-yaml reads as ints (`0120` is octal for 80)
        return ShortEntry(draw(st.sampled_from(("0120", "1_000", "0x50", "0o120"))), "int"), None
    if kind == "float":
        return ShortEntry(draw(st.sampled_from(("80.5", "80.0", "080"))), "int"), None
    if kind == "yaml":
        # plain scalars go-yaml refuses: `[::1]:80:80` is a flow sequence
        return ShortEntry(draw(st.sampled_from(("[::1]:8080:80", "[::]:80:80"))), "raw"), None
    parts = draw(short_parts(valid))
    entry = short_from_parts(draw, parts)
    if chance(draw, 3):
        entry = ShortEntry(entry.text, entry.style, "!reset")
    return entry, parts


@st.composite
def long_entries(draw: Draw, valid: bool = True) -> LongEntry:
    """A long-syntax item; an invalid one has exactly one bad key."""
    broken = (
        ""
        if valid
        else weighted(
            draw, [(2, "target"), (1, "published"), (2, "host_ip"), (1, "bogus"), (1, "variable")]
        )
    )
    fields: dict[str, Scalar] = {}
    port = draw(st.sampled_from(CONTAINER_PORTS))
    target = weighted(draw, [(12, "int"), (4, "string"), (2, "var"), (1, "zero")])
    if target == "int":
        fields["target"] = Scalar(port, "plain")
    elif target == "string":
        fields["target"] = Scalar(port, draw(st.sampled_from(("double", "single"))))
    elif target == "var":
        fields["target"] = string_scalar(draw, expression(draw, "target", empty_ok=False))
    else:
        fields["target"] = Scalar("0", "plain")  # accepted, and dropped from the output
    if broken == "target":
        if chance(draw, 40):
            del fields["target"]
        else:
            fields["target"] = Scalar(draw(st.sampled_from(("abc", "80-81", "-5"))), "double")
    published = weighted(
        draw,
        [
            (8, "int"),
            (6, "string"),
            (3, "range"),
            (4, "omitted"),
            (3, "var"),
            (1, "empty"),
            (1, "odd"),
        ],
    )
    if published == "int":
        fields["published"] = Scalar(draw(st.sampled_from(HOST_PORTS)), "plain")
    elif published == "string":
        fields["published"] = Scalar(
            draw(st.sampled_from(HOST_PORTS)), draw(st.sampled_from(("double", "single")))
        )
    elif published == "range":
        fields["published"] = string_scalar(draw, draw(st.sampled_from(HOST_RANGES)))
    elif published == "var":
        fields["published"] = string_scalar(draw, expression(draw, "port"))
    elif published == "empty":
        fields["published"] = Scalar("", "double")
    elif published == "odd":
        # accepted by `config`, refused later by the engine
        fields["published"] = Scalar(draw(st.sampled_from(("abc", "70000", "8000-7000"))), "double")
    if broken == "published":
        fields["published"] = Scalar("80.5", "plain")
    elif broken == "variable":
        fields["published"] = string_scalar(draw, expression(draw, "port", valid=False))
    if chance(draw, 35) or broken == "host_ip":
        value = weighted(
            draw,
            [
                (8, lambda: one_of(draw, IPS_LONG)),
                (2, lambda: expression(draw, "ip", empty_ok=False)),
            ],
        )
        if broken == "host_ip":
            value = draw(st.sampled_from(("[::1]", "localhost", "")))
        fields["host_ip"] = string_scalar(draw, value)
    if chance(draw, 35):
        value = weighted(
            draw,
            [
                (8, lambda: one_of(draw, ("tcp", "udp", "sctp", "UDP"))),
                (1, lambda: expression(draw, "proto", empty_ok=False)),
                (1, "foo"),  # not validated, passed through
            ],
        )
        fields["protocol"] = string_scalar(draw, value)
    if chance(draw, 25):
        fields["mode"] = string_scalar(draw, draw(st.sampled_from(("host", "ingress", "weird"))))
    if chance(draw, 20):
        fields["name"] = string_scalar(draw, draw(st.sampled_from(("http", "web-admin", "dns"))))
    if chance(draw, 20):
        fields["app_protocol"] = string_scalar(
            draw, draw(st.sampled_from(("http", "https", "grpc")))
        )
    if chance(draw, 4):
        fields["x-note"] = string_scalar(draw, "kept in YAML only")
    if broken == "bogus":
        fields["bogus"] = Scalar("1", "plain")
    order = draw(st.permutations(list(fields)))
    return LongEntry(tuple((k, fields[k]) for k in order))


def as_long(parts: ShortParts) -> LongEntry | None:
    """The long-syntax twin of a simple short entry (`8000:80` -> target 80, published "8000")."""
    if not parts.container.isdigit() or (parts.host is not None and "$" in parts.host):
        return None
    if parts.ip is not None and ("$" in parts.ip or not parts.ip.strip("[]")):
        return None
    fields: list[tuple[str, Scalar]] = [("target", Scalar(parts.container, "plain"))]
    if parts.host:
        fields.append(("published", Scalar(parts.host, "double")))
    if parts.ip is not None:
        fields.append(("host_ip", Scalar(parts.ip.strip("[]"), "double")))
    if parts.proto is not None and "$" not in parts.proto:
        fields.append(("protocol", Scalar(parts.proto.lower(), "double")))
    return LongEntry(tuple(fields))


@dataclass
class ServiceHistory:
    """What was written for a service so far, so later entries can repeat or change it."""

    entries: list[Entry] = field(default_factory=list)
    parts: list[ShortParts] = field(default_factory=list)

    def clear(self) -> None:
        self.entries.clear()
        self.parts.clear()


INVALID_PERCENT = 3  # the share of entries with something wrong in them


@st.composite
def port_entry(draw: Draw, history: ServiceHistory) -> Entry:
    """A port entry; sometimes a repeat, a variant or the long twin of an earlier one."""
    valid = not chance(draw, INVALID_PERCENT)
    how = weighted(
        draw,
        [
            (14, "short"),
            (6, "long"),
            (3 if history.entries and valid else 0, "repeat"),
            (3 if history.parts and valid else 0, "variant"),
        ],
    )
    if how == "repeat":
        return draw(st.sampled_from(history.entries))
    if how == "variant":
        parts = draw(st.sampled_from(history.parts))
        change = weighted(draw, [(3, "ip"), (2, "target"), (2, "proto"), (3, "long")])
        if change == "long":
            twin = as_long(parts)
            if twin is not None:
                return twin
            change = "ip"
        if change == "ip":
            if parts.ip is None:
                parts = ShortParts("0.0.0.0", parts.host or "", parts.container, parts.proto)
            else:
                parts = ShortParts(None, parts.host or None, parts.container, parts.proto)
        elif change == "target":
            container = draw(st.sampled_from(CONTAINER_PORTS))
            if re.fullmatch(r"\d+-\d+", parts.host or ""):
                container = _same_length_range(draw, parts.host or "")
            parts = ShortParts(parts.ip, parts.host, container, parts.proto)
        else:
            proto = None if parts.proto else draw(st.sampled_from(("tcp", "TCP", "udp")))
            parts = ShortParts(parts.ip, parts.host, parts.container, proto)
        history.parts.append(parts)
        return short_from_parts(draw, parts)
    if how == "long":
        return draw(long_entries(valid))
    entry, parts = draw(short_entries(valid))
    if parts is not None:
        history.parts.append(parts)
    return entry


# -- files ----------------------------------------------------------------------------------------


def render_ports(draw: Draw, entries: list[Entry], tag: str, indent: str) -> list[str]:
    """The `ports:` key and its list, in block or flow style."""
    head = f"{indent}ports:" + (f" {tag}" if tag else "")
    if not entries:
        return [f"{head} []"]
    if chance(draw, 20):
        items = [e.render(True) if isinstance(e, ShortEntry) else e.render_flow() for e in entries]
        return [f"{head} [{', '.join(items)}]"]
    item_indent = indent + weighted(draw, [(3, "  "), (1, "")])
    lines = [head]
    for entry in entries:
        if isinstance(entry, ShortEntry):
            comment = "  # a comment" if chance(draw, 5) else ""
            lines.append(f"{item_indent}- {entry.render(False)}{comment}")
        elif chance(draw, 15):
            lines.append(f"{item_indent}- {entry.render_flow()}")
        else:
            lines.extend(entry.render_block(item_indent))
    return lines


@st.composite
def service_block(
    draw: Draw, name: str, history: ServiceHistory, override: bool, first_seen: bool
) -> list[str]:
    """One service of one file, as lines (2-space indented under `services:`)."""
    service_tag = ""
    if override and not first_seen:
        service_tag = weighted(draw, [(20, ""), (1, "!reset"), (1, "!override")])
    if service_tag == "!reset":
        history.clear()
        value = draw(st.sampled_from(("null", "{}", "")))
        return [f"  {name}: !reset {value}".rstrip()]
    if service_tag == "!override":
        history.clear()
    lines = [f"  {name}:" + (f" {service_tag}" if service_tag else "")]
    lines.append(f"    image: {draw(st.sampled_from(IMAGES))}")
    if chance(draw, 25 if first_seen else 10):
        profiles = draw(
            st.lists(st.sampled_from(PROFILE_NAMES), min_size=1, max_size=2, unique=True)
        )
        lines.append(f"    profiles: [{', '.join(profiles)}]")
    if chance(draw, 12):
        return lines  # no ports here
    tag = ""
    if not first_seen or chance(draw, 5):
        tag = weighted(draw, [(12, ""), (3, "!override"), (3, "!reset")])
    if tag == "!reset":
        history.clear()
        value = draw(st.sampled_from(("[]", "null", "")))
        lines.append(f"    ports: !reset {value}".rstrip())
        return lines
    if tag == "!override":
        history.clear()
    count = draw(st.integers(0, 4))
    entries: list[Entry] = []
    for _ in range(count):
        entry = draw(port_entry(history))
        entries.append(entry)
        history.entries.append(entry)
    lines.extend(render_ports(draw, entries, tag, "    "))
    return lines


# -- env ------------------------------------------------------------------------------------------


def dotenv_line(draw: Draw, name: str, value: str) -> str:
    """`NAME=value` in one of the styles Compose's .env parser reads (compose-facts §4.3)."""
    style = weighted(
        draw,
        [
            (4, "plain"),
            (2, "double"),
            (2, "single"),
            (1, "export"),
            (1, "spaced"),
            (1, "comment"),
            (1, "colon"),
        ],
    )
    if style == "double":
        return f'{name}="{value}"'
    if style == "single":
        return f"{name}='{value}'"
    if style == "export":
        return f"export {name}={value}"
    if style == "spaced":
        return f"{name} = {value}"
    if style == "comment" and value:
        return f"{name}={value} # inline comment"
    if style == "colon":
        return f"{name}: {value}" if value else f"{name}:"
    return f"{name}={value}"


@st.composite
def environments(draw: Draw) -> tuple[dict[str, str], str | None]:
    """A process environment and a `.env` text (or None), each variable set, empty or unset."""
    environ: dict[str, str] = {}
    lines: list[str] = []
    for name in ALL_VARS:
        role = role_of(name)
        state = weighted(draw, [(5, "unset"), (1, "empty"), (4, "set")])
        if state == "set":
            environ[name] = literal_for(draw, role, valid=not chance(draw, 2))
        elif state == "empty":
            environ[name] = ""
        in_file = weighted(draw, [(6, "absent"), (1, "empty"), (4, "set"), (1, "ref")])
        if in_file == "set":
            value = literal_for(draw, role, valid=not chance(draw, 2))
            lines.append(dotenv_line(draw, name, value))
        elif in_file == "empty":
            lines.append(dotenv_line(draw, name, ""))
        elif in_file == "ref":
            # interpolated in the .env itself (unquoted or double-quoted, never single)
            other = draw(st.sampled_from(variables_of(role)))
            value = f"${{{other}:-{literal_for(draw, role)}}}"
            lines.append(f'{name}="{value}"' if chance(draw, 50) else f"{name}={value}")
        if lines and chance(draw, 8):
            lines.append(draw(st.sampled_from(("# a comment", "", "   # indented comment"))))
    if chance(draw, 5):
        environ["COMPOSE_PROFILES"] = ",".join(
            draw(st.lists(st.sampled_from(PROFILE_NAMES), min_size=1, max_size=2, unique=True))
        )
    dotenv = "\n".join(lines) + "\n" if lines and chance(draw, 70) else None
    return environ, dotenv


# -- projects -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedProject:
    """A random project: what to write, and how to call Compose on it."""

    files: tuple[tuple[str, str], ...]  # (file name, YAML text), in `-f` order
    dotenv: str | None  # the `.env` next to the files
    environ: tuple[tuple[str, str], ...]  # the process environment (besides PATH and HOME)
    profiles: tuple[str, ...]  # `--profile`s

    def write(self, directory: Path) -> None:
        for name, text in self.files:
            (directory / name).write_text(text)
        if self.dotenv is not None:
            (directory / ".env").write_text(self.dotenv)

    @property
    def args(self) -> list[str]:
        args = [a for name, _ in self.files for a in ("-f", name)]
        for profile in self.profiles:
            args += ["--profile", profile]
        return args

    @property
    def env(self) -> dict[str, str]:
        return dict(self.environ)

    def options(self, directory: Path, environ: dict[str, str]) -> LoadOptions:
        """The loader's options for the same run as `docker compose {args} config`."""
        return LoadOptions(
            files=tuple(name for name, _ in self.files),
            profiles=self.profiles,
            environ=environ,
            cwd=str(directory),
        )

    def describe(self) -> str:
        """Everything needed to reproduce a run by hand."""
        out = ["== project =="]
        for name, text in self.files:
            out.append(f"--- {name} ---")
            out.append(text.rstrip("\n"))
        if self.dotenv is not None:
            out.append("--- .env ---")
            out.append(self.dotenv.rstrip("\n"))
        out.append("--- env ---")
        out.extend(f"{k}={v!r}" for k, v in self.environ)
        out.append(f"--- docker compose {' '.join(self.args)} config --format json ---")
        return "\n".join(out)


@st.composite
def compose_projects(draw: Draw, min_files: int = 1, max_files: int = 3) -> GeneratedProject:
    """1-3 compose files with 1-4 services each, an environment, a `.env` and profiles."""
    n_files = draw(st.integers(min_files, max_files))
    histories: dict[str, ServiceHistory] = {}
    files: list[tuple[str, str]] = []
    names = ("compose.yaml", "override.yaml", "local.yml")
    for index in range(n_files):
        override = index > 0
        if override and histories and chance(draw, 80):
            known = sorted(histories)
            picked = draw(
                st.lists(st.sampled_from(known), min_size=1, max_size=len(known), unique=True)
            )
            extra = draw(st.lists(st.sampled_from(SERVICE_NAMES), max_size=1))
            services = list(dict.fromkeys(picked + extra))
        else:
            services = draw(
                st.lists(st.sampled_from(SERVICE_NAMES), min_size=1, max_size=4, unique=True)
            )
        lines = ["services:"]
        for name in services:
            first_seen = name not in histories
            history = histories.setdefault(name, ServiceHistory())
            lines.extend(draw(service_block(name, history, override, first_seen)))
        files.append((names[index], "\n".join(lines) + "\n"))
    environ, dotenv = draw(environments())
    profiles = tuple(
        draw(st.lists(st.sampled_from((*PROFILE_NAMES, "other", "*")), max_size=2, unique=True))
    )
    return GeneratedProject(tuple(files), dotenv, tuple(sorted(environ.items())), profiles)

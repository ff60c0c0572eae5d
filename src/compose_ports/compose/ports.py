"""One `ports` entry, read exactly as Docker Compose v2.40.3 reads it.

Short syntax goes through go-connections@v0.6.0 `nat.ParsePortSpec` and compose-go@v2.9.1
`types.ParsePortConfig`; long syntax through compose-go's interpolation casts, schema, validation
and mapstructure decoding. Every accepted entry becomes the `PortSpec`s that
`docker compose config --format json` prints; every rejected one raises `PortError` carrying
Compose's own words. Facts marked [V] were checked against the v2.40.3 binary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from compose_ports.compose.golang import go_quote
from compose_ports.errors import ComposePortsError
from compose_ports.model import PortSpec

if TYPE_CHECKING:
    from fractions import Fraction

# The reader (yamlread) hands out plain bools; importing ruamel's round-trip types to recognise
# its boolean subclass cost a tenth of a one-file lint's start-up.
_BOOL_TYPES: tuple[type, ...] = (bool,)

__all__ = [
    "PortError",
    "engine_error",
    "go_quote",
    "is_go_ip",
    "missing_target_error",
    "parse_item",
    "parse_long",
    "parse_short",
    "spec_key",
    "unicity_key",
    "unique_items_error",
]

# Where in Compose's pipeline an error is raised. Each stage prints its own location prefix, so
# `PortError.compose_text` needs it to rebuild the exact line Compose prints.
PARSE = "parse"  # go-connections short-syntax parser: the message is printed bare
TYPE = "type"  # transform/ports.go: "services.web.ports: invalid type float64 for port"
SCHEMA = "schema"  # "validating FILE: services.web.ports.0[.field] must be a ..."
SCHEMA_LIST = "schema-list"  # "validating FILE: services.web.ports items at 0 and 1 are equal"
INTERPOLATION = "interpolation"  # loader/interpolate.go type casts of long-syntax `target`
UNICITY = "unicity"  # override/uncity.go portIndexer: "is missing a target port"
KEYS = "keys"  # loader.go convertToStringKeysRecursive
IP = "ip"  # validation/validation.go host_ip check
DECODE = "decode"  # mapstructure into types.ServicePortConfig
ENGINE = "engine"  # accepted by `config`, refused by the engine at container create

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UINT64_MAX = 2**64 - 1
_PROTOCOLS = frozenset(("tcp", "udp", "sctp"))
_LONG_KEYS = ("name", "mode", "host_ip", "target", "published", "protocol", "app_protocol")
_LONG_KEY_SET = frozenset(_LONG_KEYS)
_SIMPLE = re.compile(r"([0-9]{1,5}):([0-9]{1,5})")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# Exactly what netip's parseIPv4Fields accepts: four fields, no leading zero, each <= 255.
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
_ATOI = re.compile(r"[+-]?[0-9]+")
_HEX = frozenset("0123456789abcdefABCDEF")


class PortError(ComposePortsError):
    """An entry Compose (or the engine) rejects, with Compose's own text: 'invalid hostPort: 70000'.

    `message` is the text Compose prints after its location prefix; `compose_text` rebuilds the
    whole line. `engine` is True when `config` accepts the entry but the engine refuses it at
    container create; `spec` then holds what `config` prints for it.
    """

    def __init__(
        self,
        message: str,
        *,
        engine: bool = False,
        stage: str = PARSE,
        field: str | None = None,
        spec: PortSpec | None = None,
    ) -> None:
        super().__init__(message)
        self.engine = engine
        self.stage = ENGINE if engine else stage
        self.field = field
        self.spec = spec

    def compose_text(self, service: str = "web", index: int = 0, file: str = "compose.yaml") -> str:
        """The line `docker compose config` prints for this error.

        `index` is the entry's position in the list at the stage that failed: the list as written
        for KEYS; after the first de-duplication for SCHEMA; after canonicalisation (ranges
        expanded, second de-duplication) for UNICITY raised by `spec_key`, IP and DECODE.
        """
        msg = self.message
        stage = self.stage
        if stage == TYPE:
            return f"services.{service}.ports: {msg}"
        if stage == SCHEMA:
            where = f"services.{service}.ports.{index}" + (f".{self.field}" if self.field else "")
            return f"validating {file}: {where} {msg}"
        if stage == SCHEMA_LIST:
            return f"validating {file}: services.{service}.ports {msg}"
        if stage == INTERPOLATION:
            return f"error while interpolating services.{service}.ports.[].{self.field}: {msg}"
        if stage == UNICITY:
            return f"service ports services.{service}.ports.[{index}] {msg}"
        if stage == KEYS:
            return f"non-string key in services.{service}.ports[{index}]: {self.field}"
        if stage == IP:
            return f"services.{service}.ports.[]: {msg}"
        if stage == DECODE:
            return f"'services[{service}].ports[{index}].{self.field}' {msg}"
        return msg


def missing_target_error() -> PortError:
    """What Compose says when an entry has no target: short syntax with target 0, or no `target:`.

    compose-go@v2.9.1:override/uncity.go portIndexer. Short-syntax entries lose a zero target in
    `encode` (`target,omitempty`), so the second unicity pass finds no key; a long-syntax
    `target: 0` keeps its key and is accepted [V].
    """
    return PortError("is missing a target port", stage=UNICITY)


# --- Go helpers ---------------------------------------------------------------------------


def _go_lower(text: str) -> str:
    # Go's strings.ToLower maps rune by rune (unicode.ToLower); Python's only multi-rune lower
    # case is U+0130, which Go maps to a plain "i".
    if text.isascii():
        return text.lower()
    return "".join("i" if ch == "\u0130" else ch.lower() for ch in text)


def _parse_ipv4_fields(text: str, start: int, end: int) -> bool:
    # Go 1.24 net/netip parseIPv4Fields (see _IPV4).
    return _IPV4.fullmatch(text, start, end) is not None


def _parse_ipv6(text: str) -> bool:
    # Go 1.24 net/netip parseIPv6; a zone never survives net.ParseIP (net/ip.go parseIP).
    if "%" in text:
        return False
    n = len(text)
    pos = 0
    ellipsis = -1
    filled = 0  # bytes of the 16-byte address parsed so far
    if text.startswith("::"):
        ellipsis = 0
        pos = 2
        if pos == n:
            return True
    while filled < 16:
        off = 0
        while pos + off < n and text[pos + off] in _HEX:
            if off > 3:
                return False
            off += 1
        if off == 0:
            return False
        if pos + off < n and text[pos + off] == ".":
            if ellipsis < 0 and filled != 12:
                return False
            if filled + 4 > 16:
                return False
            if not _parse_ipv4_fields(text, pos, n):
                return False
            pos = n
            filled += 4
            break
        filled += 2
        pos += off
        if pos == n:
            break
        if text[pos] != ":" or pos + 1 == n:
            return False
        pos += 1
        if text[pos] == ":":
            if ellipsis >= 0:
                return False
            ellipsis = filled
            pos += 1
            if pos == n:
                break
    if pos != n:
        return False
    if filled < 16:
        return ellipsis >= 0
    return ellipsis < 0


@lru_cache(maxsize=1024)
def is_go_ip(text: str) -> bool:
    """Whether Go's `net.ParseIP` (Go 1.24, built on `netip.ParseAddr`) accepts text.

    IPv4 must be four decimal fields without leading zeros ("01.2.3.4" fails); IPv6 allows up to
    four hex digits per group, one "::", and a trailing dotted quad; zones ("%eth0") fail.
    """
    # netip.ParseAddr decides by the first ".", ":" or "%" it meets.
    for ch in text:
        if ch == ".":
            return _parse_ipv4_fields(text, 0, len(text))
        if ch == ":":
            return _parse_ipv6(text)
        if ch == "%":
            return False
    return False


def _split_host_port(hostport: str) -> tuple[str, str | None]:
    """Go's `net.SplitHostPort`: (host, None) or ("", the AddrError text)."""
    last = hostport.rfind(":")
    if last < 0:
        return "", f"address {hostport}: missing port in address"
    start, after = 0, 0
    if hostport[0] == "[":
        end = hostport.find("]")
        if end < 0:
            return "", f"address {hostport}: missing ']' in address"
        if end + 1 == len(hostport):
            return "", f"address {hostport}: missing port in address"
        if end + 1 != last:
            if hostport[end + 1] == ":":
                return "", f"address {hostport}: too many colons in address"
            return "", f"address {hostport}: missing port in address"
        host = hostport[1:end]
        start, after = 1, end + 1
    else:
        host = hostport[:last]
        if ":" in host:
            return "", f"address {hostport}: too many colons in address"
    if "[" in hostport[start:]:
        return "", f"address {hostport}: unexpected '[' in address"
    if "]" in hostport[after:]:
        return "", f"address {hostport}: unexpected ']' in address"
    return host, None


def _parse_uint16(text: str) -> int | None:
    # strconv.ParseUint(s, 10, 16): ASCII digits only (no sign, no space, no "_" in base 10).
    if not (text.isdigit() and text.isascii()):
        return None
    significant = text.lstrip("0")
    if len(significant) > 5:
        return None
    value = int(significant) if significant else 0
    return value if value <= 65535 else None


def _parse_port_range(text: str) -> tuple[int, int] | None:
    """go-connections@v0.6.0:nat/parse.go ParsePortRange, quirk included.

    Only the first two "-" parts are read, so "1-2-3" is the range 1-2 [V].
    """
    if not text:
        return None
    if "-" not in text:
        value = _parse_uint16(text)
        return None if value is None else (value, value)
    parts = text.split("-")
    start = _parse_uint16(parts[0])
    end = _parse_uint16(parts[1])
    if start is None or end is None or end < start:
        return None
    return start, end


# --- Short syntax -------------------------------------------------------------------------


def parse_short(text: str) -> list[PortSpec]:
    """One short-syntax entry (after interpolation) as `config --format json` prints it.

    A zero target ("80:0", "0") comes back as a spec with target 0: Compose reports it as
    "is missing a target port" with the entry's service and canonical index, which only the
    caller knows (see `missing_target_error`).
    """
    match = _SIMPLE.fullmatch(text)
    if match is not None:
        host = int(match.group(1))
        target = int(match.group(2))
        if host <= 65535 and target <= 65535:
            return [PortSpec(target=target, published=str(host))]
    return list(_parse_short(text))


@lru_cache(maxsize=8192)
def _parse_short(text: str) -> tuple[PortSpec, ...]:
    # go-connections@v0.6.0:nat/nat.go splitParts: beyond three parts, all but the last two
    # are the IP (so unbracketed IPv6 works, and "80:80:80:80" has IP "80:80").
    parts = text.split(":")
    count = len(parts)
    if count == 1:
        ip, host, container = "", "", parts[0]
    elif count == 2:
        ip, host, container = "", parts[0], parts[1]
    elif count == 3:
        ip, host, container = parts
    else:
        ip, host, container = ":".join(parts[:-2]), parts[-2], parts[-1]

    # nat.go SplitProtoPort (strings.Cut on "/"): an empty port yields an empty protocol, so
    # "", "80:" and "/udp" all fail as "invalid proto: " [V]; "80/" defaults to tcp.
    container, _, proto = container.partition("/")
    if not container:
        proto = ""
    elif not proto:
        proto = "tcp"
    if proto not in _PROTOCOLS:
        proto = _go_lower(proto)
        if proto not in _PROTOCOLS:
            raise PortError("invalid proto: " + proto)

    if ip and ip[0] == "[":
        # nat.go: brackets are stripped through net.SplitHostPort(ip + ":").
        stripped, error = _split_host_port(ip + ":")
        if error is not None:
            raise PortError(f"invalid IP address {ip}: {error}")
        ip = stripped
    if ip and not is_go_ip(ip):
        raise PortError("invalid IP address: " + ip)

    container_range = _parse_port_range(container)
    if container_range is None:
        raise PortError("invalid containerPort: " + container)
    start, end = container_range

    host_start = host_end = 0
    if host:
        host_range = _parse_port_range(host)
        if host_range is None:
            raise PortError("invalid hostPort: " + host)
        host_start, host_end = host_range
        # nat.go: a host range is allowed for a single container port only (a pool to pick from).
        if end - start != host_end - host_start and end != start:
            raise PortError(
                f"invalid ranges specified for container and host Ports: {container} and {host}"
            )

    host_ip = ip or None
    if start == end:
        published = None
        if host:
            published = str(host_start) if host_start == host_end else f"{host_start}-{host_end}"
        return (PortSpec(target=start, published=published, host_ip=host_ip, protocol=proto),)

    # Equal-length ranges map one to one (nat.go); a single container port was handled above.
    # One run stands for them all: PortSpec.expand gives Compose's order (sorted as strings).
    published = str(host_start) if host else None
    return (
        PortSpec(
            target=start,
            published=published,
            host_ip=host_ip,
            protocol=proto,
            count=end - start + 1,
        ),
    )


# --- Items and long syntax ----------------------------------------------------------------


def _is_bool(value: object) -> bool:
    return isinstance(value, _BOOL_TYPES)


def _go_kind(value: int) -> object:
    """What go-yaml v3 decodes a Python int into: int (int64), uint64, float64, or a string.

    Ints beyond int64 become uint64, then float64; beyond float64's range the plain scalar stays
    a string (go-yaml resolve.go). Returns the Python value standing for the Go one, tagged by type.
    """
    value = int(value)
    if _INT64_MIN <= value <= _INT64_MAX:
        return value
    if 0 <= value <= _UINT64_MAX:
        return _Uint64(value)
    try:
        return float(value)
    except OverflowError:
        return str(value)


class _Uint64(int):
    """An integer go-yaml decodes as uint64 (above int64's range)."""


def parse_item(item: object) -> list[PortSpec]:
    """One `ports` list item after YAML decoding and interpolation, as Compose reads it.

    A mapping that `config` accepts but the engine would refuse raises with `engine=True`; its
    `spec` is what `config` prints. A short entry with target 0 is returned as such (see
    `parse_short`), whereas a long-syntax `target: 0` is valid.
    """
    if isinstance(item, str):
        return parse_short(item)
    if _is_bool(item):
        # The schema's oneOf (number | string | object) reports the first branch [V].
        raise PortError("must be a number", stage=SCHEMA)
    if isinstance(item, int):
        value = _go_kind(item)
        if isinstance(value, _Uint64):
            raise PortError("invalid type uint64 for port", stage=TYPE)
        if isinstance(value, float):
            raise PortError("invalid type float64 for port", stage=TYPE)
        # transform/ports.go hands ints to ParsePortConfig as their decimal text [V].
        return parse_short(str(value))
    if isinstance(item, float):
        raise PortError("invalid type float64 for port", stage=TYPE)
    if isinstance(item, Mapping):
        return [parse_long(item)]
    raise PortError("must be a number", stage=SCHEMA)


def _atoi_error(text: str, reason: str) -> PortError:
    return PortError(
        f"failed to cast to expected type: strconv.Atoi: parsing {go_quote(text)}: {reason}",
        stage=INTERPOLATION,
        field="target",
    )


def _atoi(text: str) -> int:
    # loader/interpolate.go casts a string `target` with strconv.Atoi, even without a variable.
    if not _ATOI.fullmatch(text):
        raise _atoi_error(text, "invalid syntax")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 19:
        raise _atoi_error(text, "value out of range")
    value = int(digits) if digits else 0
    if text[0] == "-":
        value = -value
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _atoi_error(text, "value out of range")
    return value


def _is_schema_integer(value: object) -> bool:
    if _is_bool(value):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _schema_error(entry: Mapping[str, object]) -> PortError | None:
    # compose-go@v2.9.1 schema/compose-spec.json: ports items. When several properties are
    # wrong Compose names one of them at random (Go map order) [V]; this picks schema order.
    for key in _LONG_KEYS:
        if key not in entry:
            continue
        value = entry[key]
        if key == "target" or key == "published":
            ok = isinstance(value, str) or _is_schema_integer(value)
            if not ok:
                return PortError("must be a integer or string", stage=SCHEMA, field=key)
        elif not isinstance(value, str):
            return PortError("must be a string", stage=SCHEMA, field=key)
    extra = [k for k in entry if k not in _LONG_KEY_SET and not str(k).startswith("x-")]
    if extra:
        # The order of several names is random too [V]; sorted here.
        names = ", ".join(_schema_quote(k) for k in sorted(map(str, extra)))
        return PortError(f"additional properties {names} not allowed", stage=SCHEMA)
    return None


def _decode_target(value: object) -> int:
    # mapstructure into `Target uint32`: negative values fail, others wrap to 32 bits [V]
    # (4294967376 -> 80; floats go through Go's uint64(f), which is 1<<63 at or above 2**64).
    if isinstance(value, float):
        if value < 0:
            raise PortError(
                f"cannot parse value as 'uint32': {value:f} overflows uint",
                stage=DECODE,
                field="target",
            )
        as_uint = int(value) if value < 2.0**64 else 1 << 63
        return as_uint & 0xFFFFFFFF
    number: int = int(value)  # type: ignore[call-overload]
    if number < 0:
        raise PortError(
            f"cannot parse value as 'uint32': {number} overflows uint",
            stage=DECODE,
            field="target",
        )
    return number & 0xFFFFFFFF


def parse_long(entry: Mapping[str, object]) -> PortSpec:
    """One long-syntax entry (after interpolation) as `config --format json` prints it.

    Checks run in Compose's order: string keys, the `target` cast, the missing-target check, the
    schema, `host_ip`, decoding; engine checks come last and raise with `engine=True` and the
    spec attached. `target: 0` is accepted (the JSON output just omits `target`) [V].
    """
    for key in entry:
        if not isinstance(key, str):
            raise PortError("non-string key", stage=KEYS, field=_go_v(key))

    target = entry.get("target")
    if isinstance(target, str):
        target = _atoi(target)
    elif isinstance(target, int) and not _is_bool(target):
        target = _go_kind(target)
        if isinstance(target, str):
            target = _atoi(target)
    if "target" not in entry:
        raise missing_target_error()

    schema = _schema_error(entry)
    if schema is not None:
        raise schema

    host_ip = entry.get("host_ip")
    if host_ip is not None and not is_go_ip(host_ip):
        # validation/validation.go: "" is checked too, and brackets are not stripped [V].
        raise PortError(f"invalid ip address: {host_ip}", stage=IP)

    number = _decode_target(target)

    published = entry.get("published")
    if isinstance(published, str):
        published_text = published or None
    elif published is None:
        published_text = None
    else:
        kind = _go_kind(published) if isinstance(published, int) else published
        if isinstance(kind, _Uint64):
            raise PortError(
                "expected type 'string', got unconvertible type 'uint64'",
                stage=DECODE,
                field="published",
            )
        if isinstance(kind, float):
            raise PortError(
                "expected type 'string', got unconvertible type 'float64'",
                stage=DECODE,
                field="published",
            )
        published_text = str(kind) or None

    spec = PortSpec(
        target=number,
        published=published_text,
        host_ip=host_ip,  # type: ignore[arg-type]
        protocol=entry.get("protocol", "tcp"),  # type: ignore[arg-type]
        mode=entry.get("mode", "ingress"),  # type: ignore[arg-type]
        name=entry.get("name") or None,  # type: ignore[arg-type]
        app_protocol=entry.get("app_protocol") or None,  # type: ignore[arg-type]
    )
    problem = engine_error(spec)
    if problem is not None:
        raise PortError(problem, engine=True, spec=spec)
    return spec


def engine_error(spec: PortSpec) -> str | None:
    """What the engine says at container create about a spec `config` accepted, or None.

    moby@v28.5.1:daemon/container.go validatePortBindings: the container port must pass
    nat.ParsePort, the host port nat.NewPort(nat.SplitProtoPort(HostPort)), i.e. ParsePortRange
    on the text before any "/" (so "1-2-3", read as 1-2, and "8080/udp" pass; "abc", "70000",
    "8000-7000", "-1" and " 80" fail). [S], and dockerd 20.10 agrees (it makes a pool of 1-2 of
    "1-2-3": tests/test_engine_conflicts.py). A long-syntax protocol other than tcp, udp or sctp
    passes `config`; the engine refuses the container ("invalid transport protocol"), checked
    on dockerd 20.10.
    """
    if spec.target > 65535:
        return f"invalid port specification: {go_quote(str(spec.target))}"
    published = spec.published
    if published:
        port = published.partition("/")[0]
        if port and _parse_port_range(port) is None:
            return f"invalid port specification: {go_quote(published)}"
    if spec.protocol.lower() not in _PROTOCOLS:
        return f"invalid transport protocol: {spec.protocol}"
    return None


# --- Unicity ------------------------------------------------------------------------------


def _go_float_v(value: float) -> str:
    # fmt %v on a float64: strconv 'g' with the shortest digits, exponent form from 1e+06 on.
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    from decimal import Decimal  # floats as ports are rare: not worth its import at start-up

    sign, digits_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digits_tuple)).rstrip("0") or "0"
    point = len(digits_tuple) + int(exponent)  # position of the decimal point
    exp = point - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def _go_v(value: object) -> str:
    """fmt's %v of a decoded YAML value."""
    if value is None:
        return "<nil>"
    if _is_bool(value):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float_v(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = " ".join(f"{_go_v(k)}:{_go_v(value[k])}" for k in sorted(value, key=str))
        return f"map[{inner}]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    return str(value)


def _go_type(value: object) -> str:
    if value is None:
        return ""
    if _is_bool(value):
        return "bool"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, _Uint64):
        return "uint64"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    return type(value).__name__


def _go_format(value: object, verb: str) -> str:
    """fmt's %s or %d of one decoded value, with Go's "%!s(int=8000)" for a wrong verb."""
    if isinstance(value, int) and not _is_bool(value):
        value = _go_kind(value)
    if verb == "s" and isinstance(value, str):
        return value
    if verb == "d" and isinstance(value, int) and not _is_bool(value):
        return str(int(value))
    if value is None:
        return f"%!{verb}(<nil>)"
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        return "[" + " ".join(_go_format(v, verb) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = " ".join(
            f"{_go_format(k, verb)}:{_go_format(value[k], verb)}" for k in sorted(value, key=str)
        )
        return f"map[{inner}]"
    return f"%!{verb}({_go_type(value)}={_go_v(value)})"


_GO_ESCAPES = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v"}


def _schema_quote(text: str) -> str:
    """jsonschema v6 `quote`: Go's strconv.Quote with single quotes, so that a byte that is no
    UTF-8 (a `!!binary` key's, kept as a surrogate) shows as `\\xa6` [V]."""
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char in "\\'":
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append("\\" + _GO_ESCAPES[char] if char in _GO_ESCAPES else f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "'" + "".join(out) + "'"


def unicity_key(item: object) -> str:
    """Compose's first-pass de-duplication key for one `ports` item (after interpolation).

    compose-go@v2.9.1:override/uncity.go portIndexer: a string is its own key, an int its decimal
    text, a mapping `fmt.Sprintf("%s:%s:%d/%s", host_ip|"0.0.0.0", published, target,
    protocol|"tcp")`, so an int `published: 8000` keys as "%!s(int=8000)" and never matches the
    string "8000" [V]. Anything else (floats, booleans, null, lists, uint64) keys as "", so such
    entries collapse into one before the schema sees them. Raises "is missing a target port" for
    a mapping without `target`, and the interpolation error for an uncastable string `target`.
    """
    if isinstance(item, str):
        return str(item)
    if isinstance(item, int) and not _is_bool(item):
        value = _go_kind(item)
        return str(value) if type(value) is int else ""
    if not isinstance(item, Mapping):
        return ""
    target = item.get("target")
    if isinstance(target, str):
        target = _atoi(target)
    if "target" not in item:
        raise missing_target_error()
    host = _go_format(item["host_ip"], "s") if "host_ip" in item else "0.0.0.0"
    published = _go_format(item.get("published"), "s")
    protocol = _go_format(item["protocol"], "s") if "protocol" in item else "tcp"
    return f"{host}:{published}:{_go_format(target, 'd')}/{protocol}"


def spec_key(spec: PortSpec) -> str:
    """The second-pass key of a spec that came from short syntax (or an int item).

    After canonicalisation a short entry is the map `encode` made of it (`omitempty` fields), so
    an empty host IP keys as "0.0.0.0" (merging "8000:8000" with "0.0.0.0:8000:8000") and no
    published port as "%!s(<nil>)". A long-syntax entry keeps its original map through
    canonicalisation: key it with `unicity_key(item)` again instead. Raises "is missing a target
    port" for target 0, exactly where Compose does.
    """
    if not spec.target:
        raise missing_target_error()
    host = spec.host_ip or "0.0.0.0"
    published = spec.published if spec.published else "%!s(<nil>)"
    return f"{host}:{published}:{spec.target}/{spec.protocol or 'tcp'}"


# --- The schema's uniqueItems -------------------------------------------------------------


@lru_cache(maxsize=1)  # compiled for the first duplicate long-syntax entry: most runs meet none
def _rat_grammar() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Decimal, fraction, 0x/0o/0b, and where an underscore may not stand."""
    return (
        re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"),
        re.compile(r"([+-]?[0-9]+)/([0-9]+)"),
        re.compile(r"([+-]?)0([xXoObB])([0-9a-fA-F]+)"),
        re.compile(r"(?<![0-9a-fA-FxXoObB])_|_(?![0-9a-fA-F])"),
    )


def _rat(text: str) -> Fraction | None:
    """math/big `Rat.SetString` for the forms a port value can take (decimal, a/b, 0x/0o/0b)."""
    from fractions import Fraction  # only for duplicate long-syntax entries: not at start-up

    decimal, fraction, prefixed, bad_separator = _rat_grammar()
    if "_" in text:
        # It scans with base 0, where an underscore may stand between two digits or after a
        # base prefix ("1_0" is 10, so the string "1_0" equals a later 10) [V].
        if bad_separator.search(text):
            return None
        text = text.replace("_", "")
    if decimal.fullmatch(text):
        return Fraction(text)
    match = fraction.fullmatch(text)
    if match:
        denominator = int(match.group(2))
        return Fraction(int(match.group(1)), denominator) if denominator else None
    match = prefixed.fullmatch(text)
    if match:
        base = {"x": 16, "o": 8, "b": 2}[match.group(2).lower()]
        try:
            value = int(match.group(3), base)
        except ValueError:
            return None
        return Fraction(-value if match.group(1) == "-" else value)
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not _is_bool(value)


def _sprint_rat(value: object) -> Fraction | None:
    # santhosh-tekuri/jsonschema v6 util.go: numbers compare as big.Rat of fmt.Sprint(v).
    from fractions import Fraction

    if isinstance(value, float):
        return None if not math.isfinite(value) else Fraction(repr(value))
    if _is_number(value):
        return Fraction(int(value))  # type: ignore[call-overload]
    if isinstance(value, str):
        return _rat(value)
    return None


def _schema_equals(v1: object, v2: object) -> bool:
    """jsonschema v6 `equals(v1, v2)`: asymmetric, since only v1's type picks the comparison.

    A number v1 meets any v2 whose fmt.Sprint parses as the same rational, so the string "8000"
    equals a later 8000, but 8000 does not equal a later "8000" [V].
    """
    if isinstance(v1, Mapping):
        if not isinstance(v2, Mapping) or len(v1) != len(v2):
            return False
        return all(k in v2 and _schema_equals(v, v2[k]) for k, v in v1.items())
    if isinstance(v1, (list, tuple)):
        if not isinstance(v2, (list, tuple)) or len(v1) != len(v2):
            return False
        return all(_schema_equals(a, b) for a, b in zip(v1, v2, strict=True))
    if v1 is None:
        return v2 is None
    if _is_bool(v1):
        return _is_bool(v2) and bool(v1) == bool(v2)
    if isinstance(v1, str):
        return isinstance(v2, str) and v1 == v2
    first, second = _sprint_rat(v1), _sprint_rat(v2)
    return first is not None and second is not None and first == second


def _schema_hash(value: object) -> object:
    # jsonschema v6 util.go writeHash: the bucket of an item when the list is longer than 20.
    if isinstance(value, Mapping):
        return ("m", tuple((k, _schema_hash(value[k])) for k in sorted(value)))
    if isinstance(value, (list, tuple)):
        return ("l", tuple(_schema_hash(v) for v in value))
    if value is None:
        return ("n",)
    if _is_bool(value):
        return ("b", bool(value))
    if isinstance(value, str):
        return ("s", value)
    return ("#", _sprint_rat(value))


def unique_items_error(items: Sequence[object]) -> UniqueItemsError | None:
    """The schema's `uniqueItems` verdict on a `ports` list after the first unicity pass.

    santhosh-tekuri/jsonschema v6 `duplicates`: up to 20 items every later item is compared with
    each earlier one (`equals(later, earlier)`); beyond 20 only items of the same hash are, so a
    string "8000" and a later int 8000 stop clashing. Compose prints an item's own schema error
    in preference to this one [V].
    """
    if len(items) <= 20:
        for i in range(1, len(items)):
            for j in range(i):
                if _schema_equals(items[i], items[j]):
                    return _duplicates(j, i)
        return None
    buckets: dict[object, list[int]] = {}
    for i, item in enumerate(items):
        bucket = buckets.setdefault(_schema_hash(item), [])
        for j in bucket:
            if _schema_equals(item, items[j]):
                return _duplicates(j, i)
        bucket.append(i)
    return None


class UniqueItemsError(PortError):
    """The schema's uniqueItems failed: `later` is the index of the item that repeats."""

    def __init__(self, first: int, later: int) -> None:
        super().__init__(f"items at {first} and {later} are equal", stage=SCHEMA_LIST)
        self.later = later


def _duplicates(first: int, second: int) -> UniqueItemsError:
    return UniqueItemsError(first, second)


def split_host_part(text: str) -> tuple[str, str, str]:
    """A short-syntax entry as written: (what precedes the host port, the host port, the rest).

    `127.0.0.1:8080:80/tcp` -> ("127.0.0.1:", "8080", ":80/tcp"); colons inside `${...}` do not
    split, so `${P:-8080}:80` has the host part `${P:-8080}`. An entry with no colon is all
    host part: ("", text, ""), which is what a whole mapping from one variable
    (`${SPEC:-127.0.0.1:8080:80}`) needs; a container-only `80` is for the caller to tell.
    """
    if "${" not in text:
        # No variable: the colons all split (the common case, read for every port).
        head, colon, container = text.rpartition(":")
        if not colon:
            return "", text, ""
        before, colon, host = head.rpartition(":")
        return before + colon, host, ":" + container
    parts: list[str] = []
    depth = 0
    start = index = 0
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        char = text[index]
        if char == "}" and depth:
            depth -= 1
        elif char == ":" and not depth:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    if len(parts) < 2:
        return "", text, ""
    before = "".join(f"{part}:" for part in parts[:-2])
    return before, parts[-2], ":" + parts[-1]

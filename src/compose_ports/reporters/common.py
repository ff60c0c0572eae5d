"""What every reporter shares: how paths and host ports are shown."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import cache, lru_cache
from pathlib import Path

from compose_ports.model import Diagnostic, PortBinding
from compose_ports.reporters.escape import json_safe


def display_path(path: str | None, cwd: str | None = None) -> str:
    """Relative to the current directory when below it, else absolute; always with `/`."""
    if not path:
        return ""
    return _display(path, cwd or os.getcwd())


@lru_cache(maxsize=4096)
def _display(path: str, base: str) -> str:
    try:
        return Path(path).relative_to(base).as_posix() or "."
    except ValueError:
        return Path(path).as_posix()


def location(path: str, line: int, column: int) -> str:
    """`path:line:col`, leaving out what is unknown (0) rather than printing a false position."""
    if not line:
        return path
    return f"{path}:{line}:{column}" if column else f"{path}:{line}"


def error_line(diagnostic: Diagnostic, cwd: str | None = None) -> str:
    """`path:line:col: message`, `path: message` or `message`: every read error, one way."""
    if not diagnostic.file:
        return diagnostic.message
    where = location(display_path(diagnostic.file, cwd), diagnostic.line, diagnostic.column)
    return f"{where}: {diagnostic.message}"


def host_address(binding: PortBinding) -> str:
    """`127.0.0.1:8080/tcp`, `[::1]:8080/tcp`, `8000-9000/tcp`, `*/tcp` for an ephemeral port."""
    rng = binding.host_range
    published = binding.spec.published or "*"
    if rng and binding.spec.count > 1:
        published = f"{rng[0]}-{rng[1]}"
    ip = binding.spec.host_ip
    if ip and ":" in ip:
        ip = f"[{ip}]"
    address = f"{ip}:{published}" if ip else published
    return f"{address}/{binding.spec.protocol}"


def container_port(binding: PortBinding) -> str:
    """`80/tcp`, or `8000-8010/tcp` for a run of entries."""
    spec = binding.spec
    if spec.count > 1:
        return f"{spec.target}-{spec.target + spec.count - 1}/{spec.protocol}"
    return f"{spec.target}/{spec.protocol}"


def port_sort_key(binding: PortBinding) -> tuple[bool, tuple[int, int], str, str, str]:
    rng = binding.host_range
    return (
        rng is None,
        rng or (0, 0),
        binding.spec.protocol,
        binding.spec.host_ip or "",
        binding.service,
    )


class Encoded(list[str]):
    """Items already encoded as JSON, one per line: a large report never holds them all as
    dictionaries at once."""


def encode(value: object) -> str:
    """JSON on one line; a path's byte that is not UTF-8 as the text `\\xff` (see json_safe)."""
    return json_safe(_encoder(", ")(value))


def encode_compact(value: object) -> str:
    """As `encode`, without the blanks: for the formats nobody reads by eye (SARIF)."""
    return json_safe(_encoder(",")(value))


@cache
def _encoder(item_separator: str) -> Callable[[object], str]:
    """One encoder for every item of a report: a report encodes thousands of small ones, and
    `JSONEncoder.encode` sets up the C encoder again for each (it is json's own C encoder,
    built as `JSONEncoder.iterencode` builds it; where it is missing, the encoder itself)."""
    import json
    from json import encoder as stdlib

    key_separator = item_separator.replace(",", ":")
    fallback = json.JSONEncoder(separators=(item_separator, key_separator))
    make = getattr(stdlib, "c_make_encoder", None)
    try:
        # No markers: a report's values are trees built for it, never cycles, and markers
        # left over from an encoding that failed would refuse the next one.
        c_encode = make(  # type: ignore[misc]
            None,
            fallback.default,
            stdlib.encode_basestring_ascii,
            None,
            key_separator,
            item_separator,
            False,
            False,
            True,
        )
        c_encode({"probe": [1, 1.5, None, True, "é"]}, 0)
    except Exception:  # another Python's private signature: the public way, a little slower
        return fallback.encode

    def encode(value: object) -> str:
        if isinstance(value, str):
            return fallback.encode(value)
        return "".join(c_encode(value, 0))

    return encode


def json_text(value: object, depth: int, indent: str = "") -> str:
    """JSON indented down to `depth` levels, each deeper value on one line (see json_parts)."""
    return "".join(json_parts(value, depth, indent))


def json_parts(
    value: object, depth: int, indent: str = "", encoder: Callable[[object], str] = encode
) -> Iterator[str]:
    """JSON indented down to `depth` levels, each deeper value on one line, in pieces.

    Python's encoder is pure Python as soon as `indent` is set; one line per finding or port
    keeps it readable and lets the C encoder do the bulk. The pieces let a report of a large
    monorepo be written without ever holding it whole.
    """
    inner = indent + "  "
    if isinstance(value, Encoded):
        if not value:
            yield "[]"
            return
        yield "[\n"
        last = len(value) - 1
        for number, item in enumerate(value):
            yield inner + item + (",\n" if number < last else "\n")
        yield indent + "]"
        return
    if depth == 0 or not isinstance(value, (dict, list)) or not value:
        yield encoder(value)
        return
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    yield opening + "\n"
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    for number, (key, item) in enumerate(items):
        yield inner + (encoder(key) + ": " if isinstance(value, dict) else "")
        yield from json_parts(item, depth - 1, inner, encoder)
        yield ",\n" if number < len(items) - 1 else "\n"
    yield indent + closing

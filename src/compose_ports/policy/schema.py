"""Check a config's shape against schemas/config.schema.json, the schema editors use too.

jsonschema costs a noticeable part of start-up, so it is imported only when a config exists.
"""

from __future__ import annotations

import binascii
import contextlib
import os
from functools import cache
from pathlib import Path
from typing import Any

from compose_ports.didyoumean import near
from compose_ports.errors import ComposePortsError
from compose_ports.yamlread import YMap, YSeq, source_of


@cache
def _schema_text() -> str:
    # Beside this module in every installed copy (package data); importlib.resources would
    # cost a one-file lint more than reading it.
    return (Path(__file__).parent.parent / "schemas" / "config.schema.json").read_text(
        encoding="utf-8"
    )


def _verdict(content: bytes) -> tuple[Path, bytes]:
    """Where the verdict on this content is kept, and what that file holds when it is valid.

    The file holds the config and the schema themselves, compared byte for byte, so a checksum
    collision can never pass an unchecked config; crc32 only spreads the names. (hashlib would
    load OpenSSL, a few milliseconds of a one-file lint; binascii is already loaded.)
    """
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    record = content + b"\0" + _schema_text().encode()
    name = f"{binascii.crc32(record):08x}-{len(record)}"
    return Path(root) / "compose-ports" / "valid-configs" / name, record


def _known_valid(key: Path, record: bytes) -> bool:
    try:
        return key.read_bytes() == record
    except OSError:
        return False


def _remember(key: Path, record: bytes) -> None:
    # Best effort: a read-only home only costs the validation next time. Written to a
    # temporary name and renamed, so a concurrent run never reads half a record.
    with contextlib.suppress(OSError):
        key.parent.mkdir(parents=True, exist_ok=True)
        partial = key.with_name(f"{key.name}.{os.getpid()}.tmp")
        partial.write_bytes(record)
        os.replace(partial, key)


@cache
def _validator() -> Any:
    import json

    import jsonschema

    schema = json.loads(_schema_text())
    return jsonschema.Draft202012Validator(schema)


def validate(raw: Any, path: Path, content: bytes | None = None) -> None:
    """Raise the first problem, placed at its line and column, in words a person can act on.

    A config that passed once is remembered with the schema it passed in the user's cache
    directory: importing jsonschema costs more than a one-file lint may.
    """
    verdict = _verdict(content) if content is not None else None
    if verdict is not None and _known_valid(*verdict):
        return
    if isinstance(raw, dict) and isinstance(raw.get("rules"), dict):
        _check_rules(raw["rules"], path)
    errors = sorted(_validator().iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        if verdict is not None:
            _remember(*verdict)
        return
    error = errors[0]
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    message = f"{where}: {_explain(error)}"
    line, column = _position(raw, list(error.absolute_path))
    if error.validator == "additionalProperties" and isinstance(error.instance, YMap):
        # Point at the unknown key itself, not at the mapping that holds it.
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra and extra[0] in error.instance.key_src:
            src = error.instance.key_src[extra[0]]
            line, column = src.line, src.column
    raise ComposePortsError(message, str(path), line, column)


def _schema() -> dict[str, Any]:
    import json

    return json.loads(_schema_text())  # type: ignore[no-any-return]


def _check_rules(rules: dict[str, Any], path: Path) -> None:
    """The `rules:` section, in words a person can act on: unknown rules and options with the
    near miss, bad severities with the allowed ones, values of the wrong type with the type."""
    schema = _schema()
    defs = schema["$defs"]
    known = schema["properties"]["rules"]["properties"]
    severities = defs["severity"]["enum"]
    for rule, setting in rules.items():
        where = f"rules.{rule}"
        if rule not in known:
            raise _at(rules, rule, path, f"rules: unknown rule {rule!r}{near(str(rule), known)}")
        if isinstance(setting, str) or setting is None or not isinstance(setting, dict):
            if setting not in severities:
                raise _at(rules, rule, path, _bad_severity(where, setting, severities), setting)
            continue
        options = defs[known[rule]["$ref"].rsplit("/", 1)[1]]["oneOf"][1]["properties"]
        for option, value in setting.items():
            if option not in options:
                raise _at(
                    setting,
                    option,
                    path,
                    f"{where}: unknown option {option!r}{near(str(option), options)}; "
                    f"it takes {', '.join(options)}",
                )
            problem = _option_problem(options[option], value, defs)
            if option == "severity" and value not in severities:
                problem = _bad_severity(f"{where}.severity", value, severities)
            elif problem is not None:
                problem = f"{where}.{option}: {problem}"
            if problem is not None:
                raise _at(setting, option, path, problem, value)


def _bad_severity(where: str, value: Any, allowed: list[str]) -> str:
    hint = near(value, allowed) if isinstance(value, str) else ""
    return f"{where}: {value!r} is not a severity: use {', '.join(allowed)}{hint}"


def _option_problem(option: dict[str, Any], value: Any, defs: dict[str, Any]) -> str | None:
    """What is wrong with an option's value, in the words of its type, or None."""
    if option.get("$ref") == "#/$defs/range":
        from compose_ports.policy.config import parse_port_range

        if parse_port_range(value) is None:
            return f"{value!r} is not a port range such as 32768-60999"
        return None
    kind = option.get("type")
    if kind == "boolean" and not isinstance(value, bool):
        return f"{value!r} is not true or false"
    if kind == "array" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return f"{value!r} is not a list of names or globs"
    return None


def _at(parent: Any, key: Any, path: Path, message: str, value: Any = None) -> ComposePortsError:
    src = source_of(value) if value is not None else None
    if src is None and isinstance(parent, YMap):
        src = parent.key_src.get(key)
    if src is None:
        return ComposePortsError(message, str(path))
    return ComposePortsError(message, str(path), src.line, src.column)


def _explain(error: Any) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown key {', '.join(map(repr, extra))}"
    if error.validator == "propertyNames" or (
        error.validator == "enum" and error.schema.get("$comment") == "rule"
    ):
        return f"unknown rule {error.instance!r}"
    if error.validator == "oneOf" and isinstance(error.instance, (str, int)):
        return f"invalid value {error.instance!r}"
    return str(error.message)


def _position(raw: Any, path: list[Any]) -> tuple[int, int]:
    node, parent, key = raw, None, None
    for part in path:
        parent, key = node, part
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    src = source_of(node)
    if isinstance(parent, YMap) and key in parent.key_src and src is None:
        src = parent.key_src[key]
    if isinstance(parent, YSeq) and isinstance(key, int) and src is None:
        src = parent.item_src[key]
    if src is None and isinstance(raw, YMap) and path and path[0] in raw.key_src:
        src = raw.key_src[path[0]]
    return (src.line, src.column) if src else (0, 0)

"""Read YAML text the way Docker Compose's go-yaml v3 decodes it, keeping every value's position.

Parsing is libyaml's, through PyYAML's C extension: it bundles libyaml 0.2.x, which, like go-yaml
v3 (itself a port of libyaml), accepts `ports: [7000:7000]`, and composes about three times faster
than ruamel.yaml's C extension, whose libyaml 0.1.7 refuses that line. ruamel's parser is the
fallback where PyYAML was built without libyaml. Typing is ours, because no Python resolver agrees
with go-yaml v3: YAML 1.1 resolvers read `22:22` as 1342, YAML 1.2 ones read `0120` as 120 where
Go's `strconv.ParseInt(s, 0, 64)` gives octal 80 (compose-facts §1.1).

Values come back as plain Python containers and scalars; strings, ints and floats are subclasses
that carry their `Source`, so positions survive interpolation and merging without a parallel tree.
Nothing is ever constructed from a tag: `!reset` and `!override` are recorded, others reported.
"""

from __future__ import annotations

import codecs
import gc
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

try:
    from yaml._yaml import CParser as _CParser
    from yaml.error import MarkedYAMLError, YAMLError
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from yaml.scanner import ScannerError
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from _ruamel_yaml import CParser as _CParser  # type: ignore[no-redef,import-not-found]
    from ruamel.yaml.error import MarkedYAMLError, YAMLError  # type: ignore[assignment]
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode  # type: ignore[assignment]
    from ruamel.yaml.scanner import ScannerError  # type: ignore[assignment]

from compose_ports.errors import ComposePortsError
from compose_ports.model import Source

RESET_TAG = "!reset"
OVERRIDE_TAG = "!override"
_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_CORE_TAGS = {"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map", _STR_TAG}
_IMPLICIT = "?"

# Aliases share nodes, so a "billion laughs" document is small until it is expanded. Compose
# expands it and hangs; we count what expansion would cost and refuse past a generous bound.
_EXPANSION_FLOOR = 200_000
_EXPANSION_FACTOR = 20


class YStr(str):
    """A string value with the position of the scalar it came from."""

    __slots__ = ("interpolated", "quoted", "raw", "src")
    src: Source | None
    quoted: bool
    raw: str | None  # the text before interpolation, when interpolation changed it
    interpolated: Any  # the `Interpolated` record of that substitution

    def __new__(cls, value: str, src: Source | None = None, quoted: bool = False) -> YStr:
        obj = super().__new__(cls, value)
        obj.src = src
        obj.quoted = quoted
        obj.raw = None
        obj.interpolated = None
        return obj


class YInt(int):
    # int and float subclasses cannot have __slots__: their instances keep a small __dict__.
    src: Source | None
    text: str

    def __new__(cls, value: int, src: Source | None = None, text: str = "") -> YInt:
        obj = super().__new__(cls, value)
        obj.src = src
        obj.text = text
        return obj


class YFloat(float):
    src: Source | None
    text: str

    def __new__(cls, value: float, src: Source | None = None, text: str = "") -> YFloat:
        obj = super().__new__(cls, value)
        obj.src = src
        obj.text = text
        return obj


class YMap(dict[str, Any]):
    """A mapping with its own position, its tag, and each key's position.

    `plain` is True when nothing below it has a `$` or a `!reset`/`!override` tag: then
    interpolation and reset processing have nothing to do there, which is most of any file.
    """

    __slots__ = ("key_src", "plain", "src", "tag", "untagged")

    def __init__(self, src: Source | None = None, tag: str | None = None) -> None:
        super().__init__()
        self.src = src
        self.tag = tag
        self.key_src: dict[str, Source] = {}
        self.plain = False
        self.untagged = False  # no `!reset`/`!override` below: merging has nothing to undo


class YSeq(list[Any]):
    __slots__ = ("item_src", "plain", "src", "tag", "untagged")

    def __init__(self, src: Source | None = None, tag: str | None = None) -> None:
        super().__init__()
        self.src = src
        self.tag = tag
        self.item_src: list[Source] = []
        self.plain = False
        self.untagged = False  # no `!reset`/`!override` below: merging has nothing to undo


def _is_untagged(value: object) -> bool:
    if isinstance(value, (YMap, YSeq)):
        return value.untagged and value.tag is None
    return not isinstance(value, Reset)


def _is_plain(value: object) -> bool:
    if isinstance(value, str):
        return "$" not in value
    if isinstance(value, (YMap, YSeq)):
        return value.plain and value.tag is None
    return not isinstance(value, Reset)


@dataclass(frozen=True)
class Reset:
    """`!reset` on a scalar (`ports: !reset`, `!reset null`): remove what earlier files set."""

    src: Source


def source_of(value: object) -> Source | None:
    return getattr(value, "src", None)


def tag_of(value: object) -> str | None:
    return getattr(value, "tag", None)


class _Parser(_CParser):
    """libyaml's parser and composer, with resolution left to us (see module docstring)."""

    def descend_resolver(self, *args: object) -> None:
        pass

    def ascend_resolver(self, *args: object) -> None:
        pass

    def resolve(self, kind: type, value: object, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _IMPLICIT if implicit[0] else _STR_TAG
        return "tag:yaml.org,2002:seq" if kind is SequenceNode else "tag:yaml.org,2002:map"


def decode(data: bytes, file: str) -> str:
    """Bytes to text as Compose accepts them: UTF-8, with or without a BOM, or UTF-16 with a BOM."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ComposePortsError(f"invalid UTF-16: {exc.reason}", file) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ComposePortsError(
            f"invalid UTF-8 byte 0x{data[exc.start]:02x}: not a text file", file, line, column
        ) from None


def read_documents(text: str, file: str) -> list[Any]:
    """Every YAML document of the text as Python values (an empty document is None)."""
    try:
        parser = _Parser(text)
        nodes = []
        while parser.check_node():
            nodes.append(parser.get_node())
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = _go_yaml_message(exc)
        if mark is None:
            raise ComposePortsError(message, file) from None
        raise ComposePortsError(message, file, mark.line + 1, mark.column + 1) from None
    except YAMLError as exc:
        raise ComposePortsError(f"invalid YAML: {_one_line(str(exc))}", file) from None
    except RecursionError:
        raise ComposePortsError("invalid YAML: nested too deeply to read", file) from None
    if not nodes and text.strip() and not _only_comments(text):
        raise ComposePortsError("invalid YAML: no document found", file)
    converter = _Converter(file)
    # Building many small objects makes the cyclic collector run over and over for nothing:
    # none of them can form a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [converter.convert_document(node) for node in nodes]
    except RecursionError:
        raise ComposePortsError("invalid YAML: nested too deeply to read", file) from None
    finally:
        if collecting:
            gc.enable()


def _go_yaml_message(exc: MarkedYAMLError) -> str:
    """The words Compose prints for a YAML syntax error: go-yaml's `yaml: line N: problem`.

    go-yaml (yaml.go `parser.fail`) names the context mark's 0-based line when there is one,
    else the problem mark's, one more for scanner errors; our location is the problem's own.
    """
    scanner = isinstance(exc, ScannerError)
    line = 0
    for mark in (exc.context_mark, exc.problem_mark):
        if mark is not None and mark.line:
            line = mark.line + (1 if scanner else 0)
            break
    where = f"line {line}: " if line else ""
    return f"yaml: {where}{exc.problem or 'unknown problem parsing YAML content'}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


# go-yaml v3 resolve.go: the plain scalars that are not strings.
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_WORDS = _NULLS | _BOOLS.keys()  # the plain scalars that start with a letter and are no string
_FLOATS_SPECIAL = {
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
_INT_MIN, _UINT_MAX = -(2**63), 2**64 - 1


def go_int(text: str) -> int | None:
    """Go's `strconv.ParseInt(s, 0, 64)` (or ParseUint) after go-yaml drops underscores."""
    plain = text.replace("_", "")
    if not _GO_INT.match(plain):
        return None
    sign = -1 if plain[0] == "-" else 1
    digits = plain.lstrip("+-")
    lowered = digits.lower()
    if lowered.startswith("0x"):
        value = int(digits[2:], 16)
    elif lowered.startswith("0o"):
        value = int(digits[2:], 8)
    elif lowered.startswith("0b"):
        value = int(digits[2:], 2)
    elif len(digits) > 1 and digits[0] == "0":
        value = int(digits, 8)
    else:
        value = int(digits)
    value *= sign
    if value < _INT_MIN or value > _UINT_MAX:
        return None
    return value


def resolve_plain(text: str) -> object:
    """The Go value of an untagged plain scalar, as go-yaml v3 decodes it into `any`."""
    if not text:
        return None
    first = text[0]
    if first.isdigit() or first in "+-.":
        number = go_int(text)
        if number is not None:
            return number
        if text in _FLOATS_SPECIAL:
            return _FLOATS_SPECIAL[text]
        plain = text.replace("_", "")
        if _YAML_FLOAT.match(plain):
            return float(plain)
        return text
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    return text


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.memo: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.nodes = 0
        self.expanded = 0
        # compose-go's reset processor does not descend into an `!override` node: below one,
        # `!reset` and `!override` are plain values (a `!reset null` is a null) [V].
        self.overridden = 0

    def src(self, node: Any) -> Source:
        mark = node.start_mark
        return Source(self.file, mark.line + 1, mark.column + 1)

    def error(self, node: Any, message: str) -> ComposePortsError:
        src = self.src(node)
        return ComposePortsError(message, self.file, src.line, src.column)

    def convert_document(self, node: Any) -> Any:
        value = self.convert(node)
        limit = max(_EXPANSION_FLOOR, _EXPANSION_FACTOR * self.nodes)
        if self.expanded > limit:
            raise self.error(node, "YAML aliases expand past the size limit (an alias bomb?)")
        return value

    def convert(self, node: Any) -> Any:
        if node.__class__ is ScalarNode:
            # Most nodes. An alias of a scalar is read again (a scalar cannot make an alias
            # bomb), which spares every scalar the memo's bookkeeping.
            self.nodes += 1
            self.expanded += 1
            return self.scalar(node)
        key = id(node)
        if key in self.memo:
            # An alias: the value is shared, but a reader walking the result pays for it again.
            self.expanded += self.sizes[key]
            if self.expanded > max(_EXPANSION_FLOOR, _EXPANSION_FACTOR * self.nodes):
                raise self.error(node, "YAML aliases expand past the size limit (an alias bomb?)")
            return self.memo[key]
        before = self.expanded
        self.nodes += 1
        self.expanded += 1
        if isinstance(node, ScalarNode):
            value = self.scalar(node)
        elif isinstance(node, SequenceNode):
            value = self.sequence(node)
        elif isinstance(node, MappingNode):
            value = self.mapping(node)
        else:  # pragma: no cover - libyaml composes only these three
            raise self.error(node, "invalid YAML node")
        self.memo[key] = value
        self.sizes[key] = self.expanded - before
        return value

    def check_tag(self, node: Any, allowed: set[str]) -> str | None:
        tag = node.tag
        if tag == _IMPLICIT or tag in allowed:
            return None
        if tag in (RESET_TAG, OVERRIDE_TAG):
            return None if self.overridden else tag
        raise self.error(node, f"unsupported YAML tag {tag!r}: compose-ports constructs no objects")

    def scalar(self, node: Any) -> Any:
        tag = node.tag
        text: str = node.value
        mark = node.start_mark
        src = Source(self.file, mark.line + 1, mark.column + 1)
        if tag == _STR_TAG or (tag == _IMPLICIT and text[:1].isalpha() and text not in _WORDS):
            return YStr(text, src, bool(node.style))  # most scalars: quoted text and words
        if tag == RESET_TAG and not self.overridden:
            return Reset(src)
        if tag in (RESET_TAG, OVERRIDE_TAG):
            # `!override` on a scalar replaces it, which is what a later file does anyway.
            tag = _IMPLICIT if not node.style else _STR_TAG
        if tag == _IMPLICIT:
            value = resolve_plain(text)
        elif tag == _STR_TAG:
            value = text
        elif tag == _INT_TAG:
            value = go_int(text)
            if value is None:
                raise self.error(node, f"cannot decode !!int {text!r}")
        elif tag == _FLOAT_TAG:
            try:
                value = float(text.replace("_", ""))
            except ValueError:
                raise self.error(node, f"cannot decode !!float {text!r}") from None
        elif tag == _BOOL_TAG:
            if text not in _BOOLS:
                raise self.error(node, f"cannot decode !!bool {text!r}")
            value = _BOOLS[text]
        elif tag == _NULL_TAG:
            value = None
        else:
            raise self.error(
                node, f"unsupported YAML tag {tag!r}: compose-ports constructs no objects"
            )
        if isinstance(value, str):
            return YStr(value, src, bool(node.style))
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return YInt(value, src, text)
        return YFloat(cast(float, value), src, text)

    def sequence(self, node: Any) -> YSeq:
        return cast(YSeq, self._collection(node, "tag:yaml.org,2002:seq", self._sequence))

    def mapping(self, node: Any) -> YMap:
        return cast(YMap, self._collection(node, "tag:yaml.org,2002:map", self._mapping))

    def _collection(self, node: Any, own_tag: str, build: Callable[[Any, str | None], Any]) -> Any:
        tag = self.check_tag(node, {own_tag})
        if tag != OVERRIDE_TAG:
            return build(node, tag)
        self.overridden += 1
        try:
            return build(node, tag)
        finally:
            self.overridden -= 1

    def _sequence(self, node: Any, tag: str | None) -> YSeq:
        seq = YSeq(self.src(node), tag)
        plain = untagged = True
        for child in node.value:
            value = self.convert(child)
            if isinstance(value, Reset) or tag_of(value) == RESET_TAG:
                # compose-go drops a `!reset` item from its own list; it removes nothing that
                # earlier files set (loader/reset.go: "TODO support removal from sequence").
                continue
            seq.append(value)
            if value.__class__ is YStr:  # most items: its own position, the same place
                seq.item_src.append(value.src or self.src(child))
                plain = plain and "$" not in value
                continue
            seq.item_src.append(getattr(value, "src", None) or self.src(child))
            plain = plain and _is_plain(value)
            untagged = untagged and _is_untagged(value)
        seq.plain = plain
        seq.untagged = untagged
        return seq

    def _mapping(self, node: Any, tag: str | None) -> YMap:
        result = YMap(self.src(node), tag)
        plain = untagged = True
        merged: list[tuple[YMap, Source]] = []
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, ScalarNode)
                and key_node.value == "<<"
                and (key_node.tag == _IMPLICIT or key_node.tag == _MERGE_TAG)
            ):
                merged.extend(self.merge_sources(value_node))
                continue
            key = key_node.value
            if (
                key_node.tag != _IMPLICIT
                or key_node.__class__ is not ScalarNode
                or not key[:1].isalpha()
                or key in _WORDS
            ):
                key = self.key(key_node)  # the fast path above takes most keys: plain words
            if key in result:
                first = result.key_src[key]
                raise self.error(
                    key_node, f'mapping key "{key}" already defined at line {first.line}'
                )
            value = self.convert(value_node)
            result[key] = value
            mark = key_node.start_mark
            result.key_src[key] = Source(self.file, mark.line + 1, mark.column + 1)
            if value.__class__ is YStr:  # most values, checked here without two calls
                plain = plain and "$" not in value
            else:
                plain = plain and _is_plain(value)
                untagged = untagged and _is_untagged(value)
        # go-yaml v3 (decode.go merge): local keys win, then earlier merged maps over later ones.
        for source_map, _ in merged:
            for key, value in source_map.items():
                if key not in result:
                    result[key] = value
                    result.key_src[key] = source_map.key_src.get(key, source_map.src) or self.src(
                        node
                    )
                    plain = plain and _is_plain(value)
                    untagged = untagged and _is_untagged(value)
        result.plain = plain
        result.untagged = untagged
        return result

    def merge_sources(self, node: Any) -> list[tuple[YMap, Source]]:
        value = self.convert(node)
        if isinstance(value, YMap):
            return [(value, self.src(node))]
        if isinstance(value, YSeq) and all(isinstance(item, YMap) for item in value):
            return [(item, self.src(node)) for item in value]
        raise self.error(node, "map merge requires map or sequence of maps as the value")

    def key(self, node: Any) -> str:
        if not isinstance(node, ScalarNode):
            raise self.error(node, "invalid mapping key: only scalar keys are allowed")
        if node.tag == RESET_TAG or node.tag == OVERRIDE_TAG:
            raise self.error(node, f"{node.tag} cannot tag a mapping key")
        text: str = node.value
        if node.tag == _IMPLICIT:
            value = resolve_plain(text)
            if value is None:
                return "null" if text else ""
            if isinstance(value, bool):
                return "true" if value else "false"
        return text


class ScalarSpan(NamedTuple):
    """Where a scalar's text sits in the document: character offsets, quote style, value."""

    start: int
    end: int
    style: str  # "" (plain), '"', "'", "|" or ">"
    value: str


# libyaml's line breaks (reader.c/scanner.c IS_BREAK, SKIP_LINE): CRLF counts once.
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# What may follow a one-line plain scalar: the end of the line, a comment or a flow indicator.
# (A `#` starts a comment only after a space; flow indicators end one only in flow context, and
# the value check before this one rules out the rest.)
_PLAIN_END = re.compile(r"[ \t]*(?:$|[\r\n\x85\u2028\u2029,\]}])|[ \t]+#")


def line_starts(text: str) -> list[int]:
    """The character offset where each line begins, as libyaml counts lines."""
    return [0, *(match.end() for match in _BREAK.finditer(text))]


def scalar_span(text: str, starts: list[int], src: Source, value: str) -> ScalarSpan | None:
    """Where the one-line scalar `value` that the reader placed at `src` sits in the text.

    `fix` needs offsets only for the few scalars it rewrites, so they come from the position
    and the value instead of a second parse of every file. None when the text there is not
    exactly that scalar on one line (a block scalar, escapes, a folded line): such a scalar is
    never rewritten.
    """
    if not 0 < src.line <= len(starts):
        return None
    start = starts[src.line - 1] + src.column - 1
    style = text[start : start + 1]
    if style in ('"', "'"):
        end = start + len(value) + 2
        if text[start + 1 : end - 1] != value or text[end - 1 : end] != style:
            return None
    elif style in ("|", ">") or "\n" in value:
        return None
    else:
        style = ""
        end = start + len(value)
        if text[start:end] != value or not _PLAIN_END.match(text, end):
            return None
    return ScalarSpan(start, end, style, value)


class SequenceLayout(NamedTuple):
    """How a service's `ports:` list is written, for inserting a tag and appending entries."""

    after_colon: int  # just after the `:` that follows the `ports` key
    tag: str | None  # its explicit tag, if any
    flow: bool  # `[a, b]` rather than a block of `- a` lines
    append_at: int  # flow: the `]`; block: the end of the last item's last line
    empty: bool
    indent: str  # block: what stands before the `-` of the last item
    newline: str


def ports_layout(text: str, service: str) -> SequenceLayout | None:
    """Where `services.<service>.ports` sits in the text (its last definition), or None."""
    parser = _Parser(text)
    found: tuple[Any, Any] | None = None
    while parser.check_node():
        root = parser.get_node()
        services = _child(root, "services")
        entry = _child(services, service) if services is not None else None
        if entry is not None and isinstance(entry, MappingNode):
            for key, value in entry.value:
                if isinstance(key, ScalarNode) and key.value == "ports":
                    found = (key, value)
    if found is None or not isinstance(found[1], SequenceNode):
        return None
    key, value = found
    colon = text.index(":", key.end_mark.index) + 1
    newline = "\r\n" if "\r\n" in text else "\n"
    tag = value.tag if value.tag not in (_IMPLICIT, "tag:yaml.org,2002:seq") else None
    if value.flow_style:
        close = text.rindex("]", 0, value.end_mark.index)
        return SequenceLayout(colon, tag, True, close, not value.value, "", newline)
    if not value.value:
        return None
    last = value.value[-1]
    end = _content_end(last)
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_end - 1 : line_end] == "\r":
        line_end -= 1
    start = last.start_mark.index
    dash = text.rindex("-", 0, start + 1)
    line_start = text.rfind("\n", 0, dash) + 1
    return SequenceLayout(colon, tag, False, line_end, False, text[line_start:dash], newline)


def _child(node: Any, name: str) -> Any:
    if not isinstance(node, MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == name:
            return value
    return None


def _content_end(node: Any) -> int:
    """Where a node's own text ends (block collections' end marks run into the next line)."""
    if isinstance(node, ScalarNode):
        return int(node.end_mark.index)
    if getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    children = (
        node.value if isinstance(node, SequenceNode) else [c for kv in node.value for c in kv]
    )
    return max((_content_end(c) for c in children), default=int(node.start_mark.index))


def copy_map(value: Mapping[str, Any]) -> YMap:
    result = YMap(getattr(value, "src", None), getattr(value, "tag", None))
    result.update(value)
    result.key_src.update(getattr(value, "key_src", {}))
    # Interpolation and key removal add no tags: merging may still skip what has none.
    result.untagged = getattr(value, "untagged", False)
    return result


def raw_text(value: Any) -> str:
    raw = getattr(value, "raw", None)
    if raw is not None:
        return str(raw)
    text = getattr(value, "text", None)
    if text:
        return str(text)
    return str(value)

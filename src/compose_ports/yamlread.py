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
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any, cast

from compose_ports.errors import ComposePortsError
from compose_ports.model import Source


class _DeferredPattern:
    """A regular expression compiled the first time it is used, standing in for a `re.Pattern`."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name in _DeferredPattern.__slots__:  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        if self._compiled is None:
            self._compiled = _compile_now(*self._args)
        return getattr(self._compiled, name)


_compile_now = re.compile


@contextmanager
def _compiles_deferred() -> Iterator[None]:
    # PyYAML compiles ten patterns as it is imported, for its pure-Python reader and resolver,
    # which reading through the C parser with our own typing never calls. The reader's class of
    # printable characters alone, spanning all of Unicode, cost 13% of the instructions of a
    # one-file lint. Deferred, they cost nothing unless something (a test's yaml.safe_load)
    # uses them, and then behave as compiled ones. Only `import yaml` runs under this, once, at
    # start-up, before any thread.
    compile_before = re.compile
    re.compile = _DeferredPattern  # type: ignore[assignment]
    try:
        yield
    finally:
        re.compile = compile_before


try:
    with _compiles_deferred():
        from yaml._yaml import CParser as _CParser
    from yaml.error import MarkedYAMLError, YAMLError

    # Re-exported: fix's layout reads nodes too, and must see this parser's classes.
    from yaml.nodes import MappingNode as MappingNode
    from yaml.nodes import ScalarNode as ScalarNode
    from yaml.nodes import SequenceNode as SequenceNode
    from yaml.scanner import ScannerError
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from _ruamel_yaml import CParser as _CParser  # type: ignore[no-redef,import-not-found]
    from ruamel.yaml.error import MarkedYAMLError, YAMLError  # type: ignore[assignment]
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode  # type: ignore[assignment]
    from ruamel.yaml.scanner import ScannerError  # type: ignore[assignment]

RESET_TAG = "!reset"
OVERRIDE_TAG = "!override"
_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_BINARY_TAG = "tag:yaml.org,2002:binary"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# The tags go-yaml decodes a scalar by; any other leaves it a string.
_DECODERS = frozenset(
    {_STR_TAG, _INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG, _BINARY_TAG, _TIMESTAMP_TAG}
)
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


class YTime(str):
    """A plain scalar go-yaml reads as a time.Time (`2001-12-14`), kept as its text.

    Compose's schema refuses a time anywhere but below an `x-` key ("invalid jsonType
    time.Time"); interpolation, which only sees strings, passes it by.
    """

    __slots__ = ("src",)
    src: Source | None

    def __new__(cls, value: str, src: Source | None = None) -> YTime:
        obj = super().__new__(cls, value)
        obj.src = src
        return obj


class YMap(dict[str, Any]):
    """A mapping with its own position, its tag, and each key's position.

    `plain` is True when nothing below it has a `$`, a `!reset`/`!override` tag or a time:
    then interpolation, reset processing and the search for times have nothing to do there,
    which is most of any file.
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
    # A time is no string to interpolate, but `first_time` must find it: not plain either.
    if isinstance(value, str):
        return "$" not in value and value.__class__ is not YTime
    if isinstance(value, (YMap, YSeq)):
        return value.plain and value.tag is None
    return not isinstance(value, Reset)


class Reset:
    """`!reset` on a scalar (`ports: !reset`, `!reset null`): remove what earlier files set.

    A marker looked for with isinstance, never compared: a plain class costs a fifth of what a
    dataclass costs to create at import, which every run pays."""

    __slots__ = ("src",)

    def __init__(self, src: Source) -> None:
        self.src = src

    def __repr__(self) -> str:
        return f"Reset({self.src!r})"


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


class Documents(list[Any]):
    """The documents of one file, and whether any value in them is a time (`first_time` has
    then something to look for: most files have none, and need no walk)."""

    __slots__ = ("times",)

    def __init__(self, documents: Iterable[Any], times: bool) -> None:
        super().__init__(documents)
        self.times = times


def read_documents(text: str, file: str) -> Documents:
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
        documents = [converter.convert_document(node) for node in nodes]
        return Documents(documents, converter.times)
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
_INT_MIN, _INT_MAX, _UINT_MAX = -(2**63), 2**63 - 1, 2**64 - 1


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


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:")


def _cannot_decode(text: str, implicit: object, tag: str) -> str:
    """go-yaml's words for a scalar its tag does not fit: it names the text's own type."""
    if implicit is None:
        own = "!!null"
    elif isinstance(implicit, bool):
        own = "!!bool"
    elif isinstance(implicit, int):
        own = "!!int"
    elif isinstance(implicit, float):
        own = "!!float"
    else:
        own = "!!str"  # a time too: go-yaml only reads one where no other tag is asked
    return f"cannot decode {own} `{text}` as a {_short_tag(tag)}"


# go-yaml v3 resolve.go parseTimestamp: the layouts a plain scalar is a time in, as Go's
# time.Parse reads them ("2006-1-2T15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999",
# "2006-1-2"): a time with a `T` needs its zone, one with a space has none.
@cache  # compiled when a scalar first looks like a date: most runs meet none
def _go_timestamp() -> re.Pattern[str]:
    return re.compile(
        r"(\d{4})-(\d{1,2})-(\d{1,2})"
        r"(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?(Z|[-+]\d{2}:\d{2})"
        r"| (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?)?"
    )


_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def go_time(text: str) -> str | None:
    """The time go-yaml v3 reads this plain scalar as, the way Go's %#v prints it
    (`time.Date(2001, time.December, 14, 0, 0, 0, 0, time.UTC)`); None when it is no time."""
    if len(text) < 8 or text[4:5] != "-":
        return None  # most scalars, by go-yaml's own quick check
    match = _go_timestamp().fullmatch(text)
    if match is None:
        return None
    year, month, day = (int(g) for g in match.group(1, 2, 3))
    zoned = match.group(4) is not None
    clock = match.group(4, 5, 6, 7) if zoned else match.group(9, 10, 11, 12)
    hour, minute, second = (int(g or 0) for g in clock[:3])
    import datetime  # only for what looks like a date: rare in compose files

    try:
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    nanoseconds = int(((clock[3] or "") + "000000000")[:9])
    zone = match.group(8)
    where = 'time.Location("")' if zoned and zone != "Z" else "time.UTC"
    return (
        f"time.Date({year}, time.{_MONTHS[month - 1]}, {day}, {hour}, {minute}, {second}, "
        f"{nanoseconds}, {where})"
    )


def is_go_timestamp(text: str) -> bool:
    """Whether go-yaml v3 reads this plain scalar as a time (`2001-12-14`), not a string."""
    return go_time(text) is not None


def _go_sharp_v(value: object) -> str:
    """How Go's %#v prints a decoded key: `<nil>`, `true`, `1`, `0x...` (uint64), `1.5`."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value <= _INT_MAX else hex(value)
    assert isinstance(value, float)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    # strconv's 'g' with the shortest digits: an exponent below -4 or from 6 up.
    import decimal  # only for a float key's Go spelling: never on the lint path

    number = decimal.Decimal(repr(abs(value))).normalize()
    digits = "".join(map(str, number.as_tuple().digits))
    exponent = len(digits) - 1 + int(number.as_tuple().exponent)
    sign = "-" if value < 0 else ""
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return sign + format(number, "f")


def first_time(value: Any, path: str = "") -> tuple[str, YTime] | None:
    """The first time value of a decoded document outside `x-` extensions, with its path as
    Compose's schema names it (`services.web.ports.0.published`), or None."""
    if isinstance(value, YTime):
        return path, value
    if isinstance(value, (YMap, YSeq)) and value.plain:
        return None  # most of any file: nothing below is a time
    if isinstance(value, dict):
        items: Iterable[tuple[str, Any]] = (
            (str(k), v) for k, v in value.items() if not str(k).startswith("x-")
        )
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for name, item in items:
        found = first_time(item, f"{path}.{name}" if path else name)
        if found is not None:
            return found
    return None


def _walk(root: Any, overrides: bool = True) -> Iterator[tuple[Any, str]]:
    """Every mapping of a document in document order, with its path as Compose writes it
    (`services.a.ports[0]`), once each. What a `!reset` removes is not reached: Compose
    removes it before it looks (below an `!override`, a `!reset` is a plain value); nor,
    unless `overrides`, what an `!override` tags."""
    stack: list[tuple[Any, str, bool]] = [(root, "", False)]
    seen: set[int] = set()
    while stack:
        node, path, overridden = stack.pop()
        if id(node) in seen or (node.tag == RESET_TAG and not overridden):
            continue
        if node.tag == OVERRIDE_TAG and not overrides and not overridden:
            continue
        seen.add(id(node))
        overridden = overridden or node.tag == OVERRIDE_TAG
        children: list[tuple[Any, str, bool]] = []
        if isinstance(node, MappingNode):
            yield node, path
            for key, value in node.value:
                if key.value == "<<" and key.tag in (_IMPLICIT, _MERGE_TAG):
                    children.append((value, path, overridden))  # merged keys land here
                    continue
                name = str(key.value)
                children.append((value, f"{path}.{name}" if path else name, overridden))
        elif isinstance(node, SequenceNode):
            # A `!reset` item is dropped from its list before Compose looks: the items after
            # it move up, and the path names them so (`ports[0]` after `- !reset 80`) [V].
            kept = [item for item in node.value if overridden or item.tag != RESET_TAG]
            children = [(item, f"{path}[{i}]", overridden) for i, item in enumerate(kept)]
        stack.extend(reversed(children))


def _first_key(root: Any, wanted: set[int]) -> tuple[Any, str] | None:
    """The first of the wanted key nodes in document order, with its mapping's path."""
    for mapping, path in _walk(root):
        for key, _ in mapping.value:
            if id(key) in wanted:
                return key, path
    return None


def _first_duplicate(root: Any, overrides: bool) -> tuple[Any, Any] | None:
    """The first key of the document that repeats an earlier key of its mapping, and that
    earlier key. go-yaml compares the node kind and text only: `'k'` repeats `k`, `1.0` does
    not repeat `1`, two sequence keys repeat each other."""
    for mapping, _ in _walk(root, overrides):
        found = _repeat_in(mapping)
        if found is not None:
            return found
    return None


def _repeat_in(mapping: Any) -> tuple[Any, Any] | None:
    """The first key of a mapping node that repeats an earlier one, and that one."""
    first: dict[tuple[type, str], Any] = {}
    for key, _ in mapping.value:
        text = key.value if isinstance(key, ScalarNode) else ""
        earlier = first.setdefault((type(key), text), key)
        if earlier is not key:
            return key, earlier
    return None


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.memo: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.nodes = 0
        self.expanded = 0
        self.times = False  # a time was read: Compose's schema refuses it outside `x-`
        # compose-go's reset processor does not descend into an `!override` node: below one,
        # `!reset` and `!override` are tags like any other (`!reset null` is the text "null") [V].
        self.overridden = 0
        # The keys that decode to no string in Go (`1:`, `null:`, `!!int "8":`), with how
        # Compose prints each (%#v).
        self.non_string_keys: list[tuple[Any, str]] = []

    def src(self, node: Any) -> Source:
        mark = node.start_mark
        return Source(self.file, mark.line + 1, mark.column + 1)

    def error(self, node: Any, message: str) -> ComposePortsError:
        src = self.src(node)
        return ComposePortsError(message, self.file, src.line, src.column)

    def convert_document(self, node: Any) -> Any:
        self.non_string_keys = []
        self.root = node
        self.repeated_in_override = False
        try:
            value = self.convert(node)
        except ComposePortsError:
            # Compose looks for repeated keys in the whole document before it decodes any
            # of it, except below an `!override`: such a key is the error it names [V].
            self.check_duplicates(overrides=False)
            raise
        if self.repeated_in_override:
            # Found below an `!override` only after decoding, yet before key types [V].
            self.check_duplicates(overrides=True)
        limit = max(_EXPANSION_FLOOR, _EXPANSION_FACTOR * self.nodes)
        if self.expanded > limit:
            raise self.error(node, "YAML aliases expand past the size limit (an alias bomb?)")
        if self.non_string_keys:
            self.check_keys(node)
        return value

    def check_duplicates(self, overrides: bool = False) -> None:
        """Raises for the first repeated key (outside `!override`s, unless `overrides`)."""
        found = _first_duplicate(self.root, overrides)
        if found is not None:
            key, first = found
            text = key.value if isinstance(key, ScalarNode) else ""
            line = first.start_mark.line + 1
            raise self.error(key, f'mapping key "{text}" already defined at line {line}')

    def repeated(self) -> None:
        """A key of a mapping reads like an earlier one. Raises now, unless the two only
        read alike (`null` and `~`: Compose refuses those as non-string keys once the
        document is read) or the mapping is below an `!override`, which Compose checks
        after decoding the document."""
        if self.overridden:
            self.repeated_in_override = True
        else:
            self.check_duplicates()

    def check_keys(self, root: Any) -> None:
        """Compose's loader takes string keys only, anywhere in the file; it looks once the
        whole document is decoded, so any decoding error comes first. The first such key in
        the document is named (Compose names one at random: Go's map order)."""
        shown = dict(self.non_string_keys)
        found = _first_key(root, {id(key) for key, _ in self.non_string_keys})
        if found is None:
            return  # only under a `!reset`, which removes it before Compose looks
        key, path = found
        where = f"in {path}" if path else "at top level"
        raise self.error(key, f"non-string key {where}: {shown[key]}")

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

    def check_tag(self, node: Any) -> str | None:
        """The tag that matters on a sequence or mapping: `!reset`/`!override`, or None.

        go-yaml decodes a collection by its kind, whatever its tag (`!!str [a]` is a list) [V].
        """
        tag: str = node.tag
        return tag if tag in (RESET_TAG, OVERRIDE_TAG) and not self.overridden else None

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
            # `!override` on a scalar replaces it, which is what a later file does anyway; the
            # scalar is text as with any other tag: `target: !override 1.5` fails Compose's
            # cast to an integer, not its schema [V].
            return YStr(text, src, True)
        if tag == _IMPLICIT and node.style:
            # Quoted with the non-specific tag (`! '1.5'`): libyaml calls it untagged; go-yaml
            # reads a quoted scalar as a string whatever `!` says [V].
            return YStr(text, src, True)
        if tag == _IMPLICIT:
            value = resolve_plain(text)
        elif tag in _DECODERS:
            value = self.decode(node, tag, text)
        else:
            # Any other tag (`!foo`, `!`, `!!map` on a scalar): go-yaml leaves the text a
            # string, as if it were quoted [V].
            return YStr(text, src, True)
        if isinstance(value, str):
            if tag == _TIMESTAMP_TAG or (tag == _IMPLICIT and text[4:5] == "-" and go_time(text)):
                self.times = True
                return YTime(value, src)
            return YStr(value, src, bool(node.style))
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return YInt(value, src, text)
        return YFloat(cast(float, value), src, text)

    def decode(self, node: Any, tag: str, text: str) -> object:
        """A scalar with a core schema tag, as go-yaml v3 resolves it (resolve.go)."""
        implicit = resolve_plain(text)
        if tag == _STR_TAG:
            return text
        if tag == _BINARY_TAG:
            try:
                import base64  # only for `!!binary`, which no compose file needs

                data = base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
            except ValueError:
                raise self.error(node, "!!binary value contains invalid base64 data") from None
            # The bytes as go-yaml keeps them; the reporters show them escaped (`\\xb6`).
            return data.decode("utf-8", "surrogateescape")
        if tag == _TIMESTAMP_TAG:
            if not is_go_timestamp(text):
                raise self.error(node, _cannot_decode(text, implicit, tag))
            return text
        fits = {
            _INT_TAG: isinstance(implicit, int) and not isinstance(implicit, bool),
            _FLOAT_TAG: isinstance(implicit, (int, float)) and not isinstance(implicit, bool),
            _BOOL_TAG: isinstance(implicit, bool),
            _NULL_TAG: implicit is None,
        }
        if not fits[tag]:
            raise self.error(node, _cannot_decode(text, implicit, tag))
        if tag == _FLOAT_TAG:
            return float(cast(float, implicit))
        return implicit

    def sequence(self, node: Any) -> YSeq:
        return cast(YSeq, self._collection(node, "tag:yaml.org,2002:seq", self._sequence))

    def mapping(self, node: Any) -> YMap:
        return cast(YMap, self._collection(node, "tag:yaml.org,2002:map", self._mapping))

    def _collection(self, node: Any, own_tag: str, build: Callable[[Any, str | None], Any]) -> Any:
        tag = self.check_tag(node)
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
        if self.overridden and _repeat_in(node) is not None:
            # Below an `!override` go-yaml decodes as usual: a mapping with a repeated key
            # is noted and not decoded, and an error elsewhere comes first [V].
            self.repeated_in_override = True
            return result
        plain = untagged = True
        merged: list[tuple[YMap, Source]] = []
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, ScalarNode)
                and key_node.value == "<<"
                and (key_node.tag == _IMPLICIT or key_node.tag == _MERGE_TAG)
            ):
                if merged:
                    self.repeated()  # a second `<<` repeats the first
                merged.extend(self.merge_sources(value_node))
                continue
            key = key_node.value
            if value_node.tag == RESET_TAG and not self.overridden and isinstance(key, str):
                # The pair goes before Compose decodes anything: its key is only a name.
                pass
            elif (
                key_node.tag != _IMPLICIT
                or key_node.__class__ is not ScalarNode
                or not key[:1].isalpha()
                or key in _WORDS
            ):
                key = self.key(key_node)  # the fast path above takes most keys: plain words
            if (key in result or key_node.tag != _IMPLICIT) and _repeat_in(node) is not None:
                # go-yaml compares the keys as written, kind and text, not what they decode
                # to: `!!binary protocol` repeats `protocol` [V].
                self.repeated()
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
        """The key as text. A key that decodes to no string in Go is noted: Compose refuses
        it once the document is read (`check_keys`); a tag Compose ignores on a key, such as
        `!reset`, is ignored here too [V]."""
        if not isinstance(node, ScalarNode):
            raise self.error(node, "invalid mapping key: only scalar keys are allowed")
        tag = node.tag
        text: str = node.value
        if tag == _IMPLICIT:
            if node.style:
                return text
            value: object = resolve_plain(text)
            when = go_time(text) if isinstance(value, str) else None
            if when is not None:
                self.non_string_keys.append((node, when))
                return text
        elif tag in _DECODERS:
            value = self.decode(node, tag, text)
            if tag == _TIMESTAMP_TAG:
                self.non_string_keys.append((node, go_time(text) or text))
                return text
        else:
            return text
        if isinstance(value, str):
            return value
        self.non_string_keys.append((node, _go_sharp_v(value)))
        if value is None:
            return "null" if text else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return text


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

"""Each file's ports as Compose holds them once the file is merged: parsed, checked, unique.

compose-go applies unicity, validation and the canonical (long-syntax) transform after every
file (loader.go:470-498, compose-facts §2.1), so an entry a later file replaces was still
checked, and the next file's entries are compared with canonical ones. An entry is kept as an
`Entry` (its spec, the item it came from, where it is) or a `Failed` one (its error, kept in
place until its index in the list, which Compose's message names, is known).
"""

from __future__ import annotations

from typing import Any

from compose_ports.compose.merge import unique
from compose_ports.compose.ports import (
    ENGINE,
    UNICITY,
    PortError,
    missing_target_error,
    parse_item,
    spec_key,
    unicity_key,
    unique_items_error,
)
from compose_ports.compose.problems import Problems
from compose_ports.model import Diagnostic, Duplicate, PortSpec, Source
from compose_ports.yamlread import YMap, YSeq, copy_map, raw_text, source_of


class Dropped:
    """A port entry whose interpolation failed: reported once, then left out like Compose would."""

    def __init__(self, text: Any) -> None:
        self.text = text
        self.src = text.src


def canonicalize(model: YMap, problems: Problems) -> YMap:
    """The model as Compose holds it after each file: ports parsed, validated, unique.

    compose-go applies unicity, validation and the canonical transform after every file
    (loader.go:470-498), so an entry a later file replaces was still checked, and the next
    file's entries are compared with canonical ones.
    """
    services = model.get("services")
    if not isinstance(services, dict):
        return model
    changed = False
    new_services = copy_map(services)
    for name, service in services.items():
        if isinstance(service, dict) and isinstance(service.get("ports"), list):
            updated = canonical_ports(service, name, problems)
            if updated is not service:
                new_services[name] = updated
                changed = True
    if not changed:
        return model
    result = copy_map(model)
    result["services"] = new_services
    return result


def canonical_ports(service: dict[str, Any], name: str, problems: Problems) -> dict[str, Any]:
    ports = service.get("ports")
    if not isinstance(ports, list):
        return service
    if all(isinstance(p, (Entry, Failed)) for p in ports):
        return service

    def record(earlier: Any, later: Any) -> None:
        kept, repeat = _host_source(earlier), _host_source(later)
        if kept is not None and repeat is not None and kept != repeat:
            problems.duplicate(name, Duplicate(repeat, kept, _host_raw(later), _host_raw(earlier)))

    items = [p for p in ports if not isinstance(p, Dropped)]
    # Unicity comes before the schema. An entry without a target fails its key; Compose
    # stops there, so no uniqueItems error, and names the entry by its place in the list
    # as written, duplicates still in it [V]. It is reported below, with the others.
    try:
        items = unique(items, _first_key, record)
        unkeyed = False
    except PortError:
        unkeyed = True
    if not unkeyed:
        _check_unique_items(name, [p for p in items if not isinstance(p, Entry)], ports, problems)
    parsed = _parse_items(items, ports, unkeyed)
    parsed = unique(_expand_overlapping_runs(parsed), _entry_key, record)
    entries = _final_stage_entries(parsed, name, problems)
    updated = copy_map(service)
    seq = YSeq(getattr(ports, "src", None), getattr(ports, "tag", None))
    seq.extend(entries)
    updated["ports"] = seq
    return updated


def _parse_items(items: list[Any], ports: list[Any], unkeyed: bool) -> list[Entry | Failed]:
    """Each entry parsed; earlier files' entries come already parsed."""
    parsed: list[Entry | Failed] = []
    position = 0  # in the list the schema sees: earlier files' entries already expanded
    for item in items:
        if isinstance(item, (Entry, Failed)):
            parsed.append(item)
            position += item.spec.count if isinstance(item, Entry) else 1
            continue
        for entry in _parse_entry(item, ports, position):
            if unkeyed and isinstance(entry, Failed) and entry.error.stage == UNICITY:
                entry.by_position = True
            parsed.append(entry)
        position += 1
    return parsed


def _expand_overlapping_runs(parsed: list[Entry | Failed]) -> list[Entry | Failed]:
    specs = [e.spec for e in parsed if isinstance(e, Entry)]
    if len(specs) < 2 or not _runs_overlap(specs):
        return parsed
    # A run may hold a duplicate of another entry: unicity then needs its entries.
    expanded: list[Entry | Failed] = []
    for e in parsed:
        if isinstance(e, Entry):
            expanded.extend(Entry(one, e.item, e.src) for one in e.spec.expand())
        else:
            expanded.append(e)
    return expanded


def _final_stage_entries(
    parsed: list[Entry | Failed], name: str, problems: Problems
) -> list[Entry | Failed]:
    """The entries left for the final model, the others' errors recorded.

    Errors of the late stages name the entry by its place in the canonical list: ranges
    expanded and duplicates gone (PortError.compose_text).
    """
    entries: list[Entry | Failed] = []
    for entry in parsed:
        if isinstance(entry, Failed) and entry.error.stage == ENGINE:
            # What only the engine refuses is no error to `config`: the entry stays in the
            # list, where a later file's entries count it when Compose names their place
            # ("ports.[3]"). It is reported once, here, in the file that wrote it.
            if not entry.reported:
                problems.add(entry.diagnostic(name, index_of(entry, parsed)))
                entry.reported = True
            entries.append(entry)
            continue
        if isinstance(entry, Failed) and entry.error.stage not in FINAL_STAGES:
            problems.add(entry.diagnostic(name, index_of(entry, parsed)))
            continue
        # Decoding and the host_ip check happen once, on the final model: an entry a later
        # file replaces never reaches them.
        entries.append(entry)
    return entries


def _check_unique_items(name: str, items: list[Any], ports: Any, problems: Problems) -> None:
    clash = unique_items_error(items)
    if clash is None:
        return
    # The schema's uniqueItems (e.g. `published: "8000"` then `published: 8000`).
    later = items[clash.later]
    src = item_source(later, ports, ports.index(later))
    problems.add(
        Diagnostic(
            src.file,
            src.line,
            src.column,
            clash.compose_text(service=name, file=src.file),
            "port",
            name,
        )
    )


def _parse_entry(item: Any, ports: Any, position: int) -> list[Entry | Failed]:
    src = item_source(item, ports, ports.index(item) if item in ports else position)
    try:
        specs = parse_item(item)
    except PortError as exc:
        if exc.field and isinstance(item, dict) and source_of(item.get(exc.field)):
            src = source_of(item.get(exc.field)) or src
        return [Failed(exc, src, position)]
    if any(spec.target == 0 for spec in specs):
        # Compose accepts a long-syntax `target: 0` and publishes nothing; we report it as
        # what it is, a port without a container port, at its place in the list as written.
        return [Failed(missing_target_error(), src, position, isinstance(item, dict))]
    return [Entry(spec, item, src) for spec in specs]


class Entry:
    """A canonical port entry: one spec (or run), the item it came from, and where that is."""

    __slots__ = ("item", "spec", "src")

    def __init__(self, spec: PortSpec, item: Any, src: Source) -> None:
        self.spec = spec
        self.item = item
        self.src = src


# The stages compose-go runs once, on the model of all files, rather than after each file.
FINAL_STAGES = ("decode", "ip")


def index_of(failed: Failed, entries: list[Entry | Failed]) -> int:
    """Where Compose's message puts an entry: its place in the list as the failing stage saw it,
    the list as written (schema) or the canonical list (ranges expanded, duplicates gone)."""
    if failed.by_position or failed.error.stage in ("schema", "keys"):
        return failed.position
    index = 0
    for entry in entries:
        if entry is failed:
            return index
        index += entry.spec.count if isinstance(entry, Entry) else 1
    return index


class Failed:
    """An entry Compose refuses: kept in place until its index in the list is known."""

    __slots__ = ("by_position", "error", "position", "reported", "src")

    def __init__(
        self, error: PortError, src: Source, position: int, by_position: bool = False
    ) -> None:
        self.error = error
        self.src = src
        self.position = position
        self.by_position = by_position  # named by its place in the list as written
        self.reported = False  # an engine refusal kept in the list: said once

    def diagnostic(self, service: str, index: int) -> Diagnostic:
        message = _port_message(self.error, service, index, self.src.file)
        return Diagnostic(self.src.file, self.src.line, self.src.column, message, "port", service)


def _host_source(item: Any) -> Source | None:
    """Where an entry's host port is written: `published` in long syntax, as a binding's."""
    if isinstance(item, Entry):
        item = item.item
    if isinstance(item, dict):
        return source_of(item.get("published")) or source_of(item)
    return source_of(item)


def _host_raw(item: Any) -> str:
    """The text of the scalar _host_source points at, as written."""
    if isinstance(item, Entry):
        item = item.item
    if isinstance(item, dict):
        published = item.get("published")
        return raw_text(published) if published is not None else ""
    return raw_text(item)


def _first_key(item: Any) -> str:
    return _entry_key(item) if isinstance(item, Entry) else unicity_key(item)


def _entry_key(entry: Entry | Failed) -> str:
    """Compose's unicity key of a canonical entry (compose-go@v2.9.1:override/uncity.go).

    A long-syntax entry keeps its own map through the canonical transform, so it is keyed as
    written; a run is keyed as a whole, exact as long as no other entry overlaps it.
    """
    if isinstance(entry, Failed):
        return f"\0failed{id(entry)}"
    if isinstance(entry.item, dict):
        return unicity_key(entry.item)
    key = spec_key(entry.spec)
    return key if entry.spec.count == 1 else f"{key}+{entry.spec.count}"


def _runs_overlap(specs: list[PortSpec]) -> bool:
    runs = [s for s in specs if s.count > 1]
    for run in runs:
        end = run.target + run.count - 1
        for other in specs:
            if other is run or other.protocol != run.protocol:
                continue
            if other.target <= end and run.target <= other.target + other.count - 1:
                return True
    return False


def _port_message(exc: PortError, service: str, index: int, file: str) -> str:
    return exc.compose_text(service=service, index=index, file=file)


def item_source(item: Any, ports: Any, index: int) -> Source:
    src = source_of(item)
    if src is None:
        item_src = getattr(ports, "item_src", None)
        if item_src and index < len(item_src):
            src = item_src[index]
    if src is None:
        src = source_of(ports) or Source("", 0, 0)
    return src

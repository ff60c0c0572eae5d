"""Load one compose project (a stack of files) into the model, as Docker Compose loads it.

compose-go@v2.9.1:loader/loader.go:412-527, for each file and each document in it: parse,
interpolate, resolve `extends`, resolve `include`, merge over what came before; then unicity,
validation, the canonical (long-syntax) form of ports, and unicity again (compose-facts §2.1).

Where Compose would refuse the project for a reason outside ports (an unset `${SECRET:?}` in
`environment`, say), the ports are still mapped and the reason is kept as `Project.rejection`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compose_ports.compose import discovery, suppressions, validation
from compose_ports.compose.interpolation import InterpolationError, interpolate
from compose_ports.compose.merge import is_reset, merge_mapping, unique, without_resets
from compose_ports.compose.ports import (
    UNICITY,
    PortError,
    missing_target_error,
    parse_item,
    spec_key,
    split_host_part,
    unicity_key,
    unique_items_error,
)
from compose_ports.compose.readfile import read_bytes
from compose_ports.compose.variables import Environment, first_pass, second_pass
from compose_ports.compose.yamlread import (
    YMap,
    YSeq,
    YStr,
    decode,
    read_documents,
    source_of,
)
from compose_ports.errors import ComposePortsError
from compose_ports.model import (
    Diagnostic,
    Duplicate,
    Network,
    Origin,
    PortBinding,
    PortSpec,
    Project,
    Service,
    Source,
)


@dataclass(frozen=True)
class LoadOptions:
    """Compose's own options for one run (compose-facts §3)."""

    files: tuple[str, ...] = ()  # -f, in order
    env_files: tuple[str, ...] = ()  # --env-file
    project_directory: str | None = None
    project_name: str | None = None  # -p
    profiles: tuple[str, ...] = ()  # --profile
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: str = field(default_factory=os.getcwd)


class _Problems:
    """What a load found wrong, collected so one bad entry never stops the rest."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.rejections: list[str] = []
        self.warnings: list[str] = []
        self.duplicates: dict[str, list[Duplicate]] = {}
        # Every compose file the project reads (its own, and what include and extends reach),
        # and every variable an env file it interpolates from defines (an included project's
        # `.env` too): `fix` must know who else reads a scalar, and which names are taken.
        self.files: dict[str, None] = {}
        self.defined: set[str] = set()

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self.diagnostics:
            self.diagnostics.append(diagnostic)

    def error(self, exc: ComposePortsError, kind: str = "read", service: str | None = None) -> None:
        self.add(Diagnostic(exc.file, exc.line, exc.column, exc.message, kind, service))

    def duplicate(self, service: str, earlier: Any, later: Any) -> None:
        kept, repeat = _host_source(earlier), _host_source(later)
        if kept is not None and repeat is not None and kept != repeat:
            entry = Duplicate(repeat, kept, _host_raw(later), _host_raw(earlier))
            entries = self.duplicates.setdefault(service, [])
            if entry not in entries:
                entries.append(entry)

    def reject(self, reason: str) -> None:
        if reason not in self.rejections:
            self.rejections.append(reason)


class FileCache:
    """Files by path, read and parsed once per run: several stacks often share a file.

    It keeps the bytes it read, so that `fix` edits exactly what was checked, and it can be
    given new text for a path, so that `fix` can load its result before writing it.
    """

    def __init__(self, keep_text: bool = True) -> None:
        self._docs: dict[str, list[Any]] = {}
        self._data: dict[str, bytes] = {}
        self._text: dict[str, str] = {}
        # lint and map need a file's text only to parse it; fix needs it to edit it.
        self.keep_text = keep_text
        self.markers: dict[str, tuple[suppressions.Marker, ...]] = {}  # file -> its `ignore`s

    def read(self, path: str) -> bytes:
        if path in self._data:
            return self._data[path]
        try:
            data = read_bytes(path)
        except OSError as exc:
            raise ComposePortsError(f"cannot read file: {exc.strerror}", path) from None
        if self.keep_text:
            self._data[path] = data
        return data

    def text(self, path: str) -> str:
        if path in self._text:
            return self._text[path]
        text = decode(self.read(path), path)
        if self.keep_text:
            self._text[path] = text
        if path not in self.markers:
            # Read now, while the text is at hand: lint needs them, and never the text again.
            self.markers[path] = suppressions.scan(text)
        return text

    def documents(self, path: str) -> list[Any]:
        if path not in self._docs:
            self._docs[path] = read_documents(self.text(path), path)
        return self._docs[path]

    def forget(self, path: str) -> None:
        """Drop a file's parsed documents (its bytes and text stay)."""
        self._docs.pop(path, None)

    def replaced(self, texts: Mapping[str, str]) -> FileCache:
        """A cache that reads `texts` for their paths and the disk for the rest."""
        other = FileCache()
        other._data = dict(self._data)
        other._text = {**self._text, **texts}
        other._docs = {k: v for k, v in self._docs.items() if k not in texts}
        other.markers = {k: v for k, v in self.markers.items() if k not in texts}
        return other


def project_name_from(directory: Path) -> str:
    # compose-go@v2.9.1:cli/options.go:526-544: lower-cased, only [a-z0-9_-] kept.
    return re.sub(r"[^a-z0-9_-]", "", directory.name.lower())


def load_project(
    options: LoadOptions,
    stack: str | None = None,
    cache: FileCache | None = None,
) -> Project:
    """Load a project like `docker compose [options] config` would. Never raises for bad input."""
    cache = cache or FileCache()
    problems = _Problems()
    cwd = Path(options.cwd)
    files = [absolute_path(cwd, f) for f in options.files]
    workdir = (
        absolute_path(cwd, options.project_directory)
        if options.project_directory
        else (files[0].parent if files else cwd)
    )
    try:
        env = first_pass(options.environ, options.env_files, workdir, cwd)
    except ComposePortsError as exc:
        problems.error(exc)
        env = Environment(dict(options.environ))
    if not files and env.get("COMPOSE_FILE"):
        separator = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        files = [absolute_path(cwd, f) for f in env.values["COMPOSE_FILE"].split(separator) if f]
    if not files:
        found = discovery.default_files(workdir)
        if found is None:
            problems.add(
                Diagnostic(str(workdir), 0, 0, "no configuration file provided: not found")
            )
            return _project(options, stack, workdir, (), {}, problems, env, None)
        files = list(found)
    project_dir = (
        absolute_path(cwd, options.project_directory)
        if options.project_directory
        else files[0].parent
    )
    try:
        env = second_pass(env, project_dir)
    except ComposePortsError as exc:
        problems.error(exc)
    loader = _Loader(env, cache, problems)
    model: YMap = YMap()
    for index, path in enumerate(files):
        model = loader.merge_file(model, path, main=index == 0)
    name = _project_name(options, env, model, project_dir)
    return _project(options, stack, project_dir, tuple(map(str, files)), model, problems, env, name)


def absolute_path(cwd: Path, path: str | os.PathLike[str]) -> Path:
    """path made absolute against cwd and normalised (no symlinks resolved, as Compose)."""
    p = Path(path)
    return Path(os.path.normpath(p if p.is_absolute() else cwd / p))


def _project_name(options: LoadOptions, env: Environment, model: Mapping, directory: Path) -> str:
    if options.project_name:
        return options.project_name
    if env.get("COMPOSE_PROJECT_NAME"):
        return str(env.get("COMPOSE_PROJECT_NAME"))
    if isinstance(model.get("name"), str) and model["name"]:
        return str(model["name"])
    return project_name_from(directory)


class _Loader:
    def __init__(self, env: Environment, cache: FileCache, problems: _Problems) -> None:
        self.env = env
        self.cache = cache
        self.problems = problems
        self.lookup: Callable[[str], str | None] = env.values.get

    # -- files and documents -------------------------------------------------------------

    def merge_file(self, model: YMap, path: Path, main: bool) -> YMap:
        for document in self.documents(path, main):
            model = merge_mapping(model, document) if model else without_resets(document)
            model = self.canonicalize(model)
        return model

    def documents(self, path: Path, main: bool, seen: tuple[str, ...] = ()) -> list[YMap]:
        """The file's documents, interpolated, with `extends` and `include` resolved."""
        file = str(path)
        self.problems.files[file] = None
        try:
            raw = self.cache.documents(file)
        except ComposePortsError as exc:
            self.problems.error(exc)
            return []
        if main and all(doc is None for doc in raw):
            # compose-go rejects an empty main file; an empty override is fine.
            self.problems.add(Diagnostic(file, 1, 1, "empty compose file"))
            return []
        result = []
        for doc in raw:
            if doc is None:
                continue
            if not isinstance(doc, dict):
                src = source_of(doc) or Source(file, 1, 1)
                self.problems.add(
                    Diagnostic(file, src.line, src.column, "top-level object must be a mapping")
                )
                continue
            doc = self.interpolate(doc, "")
            if not self.check_structure(doc, file):
                continue
            doc = self.resolve_includes(doc, path, (*seen, file))
            doc = self.resolve_extends(doc, path)
            result.append(doc)
        return result

    def check_structure(self, doc: YMap, file: str) -> bool:
        """What Compose's schema refuses about the shape of services and ports: a read error."""
        services = doc.get("services")
        if services is None:
            return True
        if not isinstance(services, dict):
            self._shape_error(doc, "services", file, "services must be a mapping", value=services)
            return False
        ok = True
        for name, service in services.items():
            if is_reset(service):
                continue  # `web: !reset null` removes the service: that is for merging
            if service is None or not isinstance(service, dict):
                if service is not None and hasattr(service, "src"):
                    self._shape_error(services, name, file, f"services.{name} must be a mapping")
                    ok = False
                else:
                    # compose-go refuses `services: {nil: }` in its schema; the other
                    # services still have well-defined ports, so keep going.
                    self.problems.reject(f"validating {file}: services.{name} must be a mapping")
                continue
            ports = service.get("ports")
            if "ports" in service and not isinstance(ports, list) and not is_reset(ports):
                self._shape_error(
                    service, "ports", file, f"services.{name}.ports must be a array", value=ports
                )
                ok = False
        return ok

    def _shape_error(
        self, parent: Any, key: str, file: str, message: str, value: Any = None
    ) -> None:
        src = (
            source_of(value)
            or getattr(parent, "key_src", {}).get(key)
            or source_of(parent)
            or Source(file, 1, 1)
        )
        self.problems.add(Diagnostic(file, src.line, src.column, message))

    # -- interpolation -------------------------------------------------------------------

    def interpolate(self, value: Any, path: str) -> Any:
        """The value with every `${...}` substituted; keys are never interpolated (spec)."""
        if _nothing_to_interpolate(value):
            return value
        if isinstance(value, YStr):
            return self.interpolate_text(value, path)
        if isinstance(value, dict):
            changed = None
            for key, item in value.items():
                if _nothing_to_interpolate(item):
                    continue  # most values: not worth even the path string
                new = self.interpolate(item, f"{path}.{key}" if path else key)
                if new is not item:
                    if changed is None:
                        changed = _copy_map(value)
                    changed[key] = new
            return value if changed is None else changed
        if isinstance(value, list):
            child = f"{path}.[]"
            items = [self.interpolate(item, child) for item in value]
            if all(a is b for a, b in zip(items, value, strict=True)):
                return value
            seq = YSeq(getattr(value, "src", None), getattr(value, "tag", None))
            seq.extend(items)
            seq.item_src = list(getattr(value, "item_src", []))
            seq.untagged = getattr(value, "untagged", False)
            return seq
        return value

    def interpolate_text(self, text: YStr, path: str) -> Any:
        try:
            result = interpolate(str(text), self.lookup)
        except InterpolationError as exc:
            if exc.kind == "format":
                # compose-go@v2.9.1:template/template.go InvalidTemplateError, on one line.
                message = (
                    f"invalid interpolation format for {path}. "
                    f"You may need to escape any $ with another $. {exc.template or text}"
                )
            else:
                message = f"error while interpolating {path}: {exc.message}"
            if _is_port_path(path):
                src = text.src
                self.problems.add(
                    Diagnostic(
                        src.file if src else None,
                        src.line if src else 0,
                        src.column if src else 0,
                        message,
                        "variable" if exc.kind == "required" else "port",
                        path.split(".")[1] if path.startswith("services.") else None,
                    )
                )
                return _Dropped(text)
            self.problems.reject(message)
            return text
        new = YStr(result.value, text.src, text.quoted)
        new.raw = str(text)
        new.interpolated = result
        return new

    # -- include and extends -------------------------------------------------------------

    def note_outside(self, target: Path, referrer: Path, where: Any) -> None:
        """Compose reads what include and extends name, even outside the repository: so do
        we (nothing is ever executed), but the output names such a file."""
        root = discovery.repository_root(referrer.parent)
        if root is None or target == root or root in target.parents:
            return
        src = source_of(where) or Source(str(referrer), 0, 0)
        self.problems.warnings.append(
            f"{src.file}:{src.line}:{src.column}: reads {target}, outside the repository"
        )

    def resolve_includes(self, doc: YMap, path: Path, seen: tuple[str, ...]) -> YMap:
        includes = doc.get("include")
        if not includes:
            return doc
        if not isinstance(includes, list):
            self.problems.reject(f"validating {path}: include must be a array")
            return doc
        imported: YMap = YMap()
        for entry in includes:
            paths, env_files, project_dir = _include_entry(entry)
            if not paths:
                continue
            targets = [absolute_path(path.parent, p) for p in paths]
            for target in targets:
                self.note_outside(target, path, entry)
            if any(str(t) in seen for t in targets):
                self.problems.add(
                    Diagnostic(str(path), _line(entry), _column(entry), "include cycle detected")
                )
                continue
            base = absolute_path(path.parent, project_dir) if project_dir else targets[0].parent
            sub = self.included_loader(base, [absolute_path(path.parent, e) for e in env_files])
            model: YMap = YMap()
            for target in targets:
                for document in sub.documents(target, main=False, seen=seen):
                    model = merge_mapping(model, document) if model else without_resets(document)
            for name, service in (model.get("services") or {}).items():
                imported.setdefault("services", YMap())[name] = service
        if not imported:
            return doc
        local = doc.get("services") or {}
        for name in imported.get("services", {}):
            if name in local:
                self.problems.reject(f"services.{name} conflicts with imported resource")
        merged = merge_mapping(imported, {k: v for k, v in doc.items() if k != "include"})
        return merged

    def included_loader(self, directory: Path, env_files: Sequence[Path]) -> _Loader:
        """An included project: its own `.env` gives defaults, the including one's env wins."""
        from compose_ports.compose.variables import read_env_files

        paths = list(env_files) or ([directory / ".env"] if (directory / ".env").is_file() else [])
        try:
            extra, sources = read_env_files(paths, self.env.values)
        except ComposePortsError as exc:
            self.problems.error(exc)
            extra, sources = {}, {}
        self.problems.defined.update(extra)
        values = {**extra, **self.env.values}
        all_sources = {**sources, **self.env.sources}
        env = Environment(values, all_sources, self.env.files, True)
        return _Loader(env, self.cache, self.problems)

    def resolve_extends(self, doc: YMap, path: Path) -> YMap:
        services = doc.get("services")
        if not isinstance(services, dict) or not any(
            isinstance(s, dict) and "extends" in s for s in services.values()
        ):
            return doc
        resolved = YMap(services.src if isinstance(services, YMap) else None)
        for name, service in services.items():
            if isinstance(services, YMap) and name in services.key_src:
                resolved.key_src[name] = services.key_src[name]
            if isinstance(service, dict) and "extends" in service:
                resolved[name] = self.extended(service, services, path, ((str(path), name),))
            else:
                resolved[name] = service
        result = _copy_map(doc)
        result["services"] = resolved
        return result

    def extended(
        self, service: dict, siblings: Mapping, path: Path, chain: tuple[tuple[str, str], ...]
    ) -> dict:
        """The service merged over the service it extends (compose-facts §2.4)."""
        spec = service.get("extends")
        if isinstance(spec, str):
            base_name, base_file = spec, None
        elif isinstance(spec, dict) and isinstance(spec.get("service"), str):
            base_name, base_file = spec["service"], spec.get("file")
        else:
            self.problems.reject("extends must name a service")
            return _without(service, "extends")
        if base_file:
            base_path = absolute_path(path.parent, str(base_file))
            self.note_outside(base_path, path, spec)
            docs = self.documents_for_extends(base_path)
            base_services: Mapping = {}
            for document in docs:
                found = document.get("services")
                if isinstance(found, dict):
                    base_services = {**base_services, **found}
        else:
            base_path, base_services = path, siblings
        link = (str(base_path), base_name)
        if link in chain:
            src = source_of(spec) or source_of(service)
            self.problems.add(
                Diagnostic(
                    src.file if src else str(path),
                    src.line if src else 0,
                    src.column if src else 0,
                    "extends cycle: " + " -> ".join(n for _, n in (*chain, link)),
                )
            )
            return _without(service, "extends")
        base = base_services.get(base_name)
        if not isinstance(base, dict):
            self.problems.reject(
                f'cannot extend service "{chain[-1][1]}" in {path}: service "{base_name}" not found'
            )
            return _without(service, "extends")
        if "extends" in base:
            base = self.extended(base, base_services, base_path, (*chain, link))
        merged = merge_mapping(_without(base, "extends"), _without(service, "extends"))
        return self.canonical_ports(merged, chain[0][1])

    def documents_for_extends(self, path: Path) -> list[YMap]:
        self.problems.files[str(path)] = None
        try:
            raw = self.cache.documents(str(path))
        except ComposePortsError as exc:
            self.problems.error(exc)
            return []
        return [self.interpolate(d, "") for d in raw if isinstance(d, dict)]

    # -- unicity -------------------------------------------------------------------------

    def canonicalize(self, model: YMap) -> YMap:
        """The model as Compose holds it after each file: ports parsed, validated, unique.

        compose-go applies unicity, validation and the canonical transform after every file
        (loader.go:470-498), so an entry a later file replaces was still checked, and the next
        file's entries are compared with canonical ones.
        """
        services = model.get("services")
        if not isinstance(services, dict):
            return model
        changed = False
        new_services = _copy_map(services)
        for name, service in services.items():
            if isinstance(service, dict) and isinstance(service.get("ports"), list):
                updated = self.canonical_ports(service, name)
                if updated is not service:
                    new_services[name] = updated
                    changed = True
        if not changed:
            return model
        result = _copy_map(model)
        result["services"] = new_services
        return result

    def canonical_ports(self, service: dict, name: str) -> dict:
        ports = service.get("ports")
        if not isinstance(ports, list):
            return service
        if all(isinstance(p, (_Entry, _Failed)) for p in ports):
            return service

        def record(earlier: Any, later: Any) -> None:
            self.problems.duplicate(name, earlier, later)

        items = [p for p in ports if not isinstance(p, _Dropped)]
        # Unicity comes before the schema. An entry without a target fails its key; Compose
        # stops there, so no uniqueItems error, and names the entry by its place in the list
        # as written, duplicates still in it [V]. It is reported below, with the others.
        try:
            items = unique(items, _first_key, record)
            unkeyed = False
        except PortError:
            unkeyed = True
        if not unkeyed:
            self.check_unique_items(name, [p for p in items if not isinstance(p, _Entry)], ports)
        parsed: list[_Entry | _Failed] = []
        position = 0  # in the list the schema sees: earlier files' entries already expanded
        for item in items:
            if isinstance(item, (_Entry, _Failed)):
                parsed.append(item)
                position += item.spec.count if isinstance(item, _Entry) else 1
            else:
                for entry in self.parse_entry(name, item, ports, position):
                    if unkeyed and isinstance(entry, _Failed) and entry.error.stage == UNICITY:
                        entry.by_position = True
                    parsed.append(entry)
                position += 1
        specs = [e.spec for e in parsed if isinstance(e, _Entry)]
        if len(specs) > 1 and _runs_overlap(specs):
            # A run may hold a duplicate of another entry: unicity then needs its entries.
            parsed = [
                _Entry(one, e.item, e.src) if isinstance(e, _Entry) else e
                for e in parsed
                for one in (e.spec.expand() if isinstance(e, _Entry) else [None])
            ]
        parsed = unique(parsed, _entry_key, record)
        # Errors of the late stages name the entry by its place in the canonical list: ranges
        # expanded and duplicates gone (PortError.compose_text).
        entries: list[_Entry | _Failed] = []
        for entry in parsed:
            if isinstance(entry, _Failed) and entry.error.stage not in _FINAL_STAGES:
                self.problems.add(entry.diagnostic(name, _index_of(entry, parsed)))
                continue
            # Decoding and the host_ip check happen once, on the final model: an entry a later
            # file replaces never reaches them.
            entries.append(entry)
        updated = _copy_map(service)
        seq = YSeq(getattr(ports, "src", None), getattr(ports, "tag", None))
        seq.extend(entries)
        updated["ports"] = seq
        return updated

    def check_unique_items(self, name: str, items: list[Any], ports: Any) -> None:
        clash = unique_items_error(items)
        if clash is None:
            return
        # The schema's uniqueItems (e.g. `published: "8000"` then `published: 8000`).
        later = items[int(clash.message.split(" and ")[1].split()[0])]
        src = _item_source(later, ports, ports.index(later))
        self.problems.add(
            Diagnostic(
                src.file,
                src.line,
                src.column,
                clash.compose_text(service=name, file=src.file),
                "port",
                name,
            )
        )

    def parse_entry(
        self, name: str, item: Any, ports: Any, position: int
    ) -> list[_Entry | _Failed]:
        src = _item_source(item, ports, ports.index(item) if item in ports else position)
        try:
            specs = parse_item(item)
        except PortError as exc:
            if exc.field and isinstance(item, dict) and source_of(item.get(exc.field)):
                src = source_of(item.get(exc.field)) or src
            return [_Failed(exc, src, position)]
        if any(spec.target == 0 for spec in specs):
            # Compose accepts a long-syntax `target: 0` and publishes nothing; we report it as
            # what it is, a port without a container port, at its place in the list as written.
            return [_Failed(missing_target_error(), src, position, isinstance(item, dict))]
        return [_Entry(spec, item, src) for spec in specs]


class _Entry:
    """A canonical port entry: one spec (or run), the item it came from, and where that is."""

    __slots__ = ("item", "spec", "src")

    def __init__(self, spec: PortSpec, item: Any, src: Source) -> None:
        self.spec = spec
        self.item = item
        self.src = src


# The stages compose-go runs once, on the model of all files, rather than after each file.
_FINAL_STAGES = ("decode", "ip")


def _index_of(failed: _Failed, entries: list[_Entry | _Failed]) -> int:
    """Where Compose's message puts an entry: its place in the list as the failing stage saw it,
    the list as written (schema) or the canonical list (ranges expanded, duplicates gone)."""
    if failed.by_position or failed.error.stage in ("schema", "keys"):
        return failed.position
    index = 0
    for entry in entries:
        if entry is failed:
            return index
        index += entry.spec.count if isinstance(entry, _Entry) else 1
    return index


class _Failed:
    """An entry Compose refuses: kept in place until its index in the list is known."""

    __slots__ = ("by_position", "error", "position", "src")

    def __init__(
        self, error: PortError, src: Source, position: int, by_position: bool = False
    ) -> None:
        self.error = error
        self.src = src
        self.position = position
        self.by_position = by_position  # named by its place in the list as written

    def diagnostic(self, service: str, index: int) -> Diagnostic:
        message = _port_message(self.error, service, index, self.src.file)
        return Diagnostic(self.src.file, self.src.line, self.src.column, message, "port", service)


def _host_source(item: Any) -> Source | None:
    """Where an entry's host port is written: `published` in long syntax, as a binding's."""
    if isinstance(item, _Entry):
        item = item.item
    if isinstance(item, dict):
        return source_of(item.get("published")) or source_of(item)
    return source_of(item)


def _host_raw(item: Any) -> str:
    """The text of the scalar _host_source points at, as written."""
    if isinstance(item, _Entry):
        item = item.item
    if isinstance(item, dict):
        published = item.get("published")
        return _raw_text(published) if published is not None else ""
    return _raw_text(item)


def _first_key(item: Any) -> str:
    return _entry_key(item) if isinstance(item, _Entry) else unicity_key(item)


def _entry_key(entry: _Entry | _Failed) -> str:
    """Compose's unicity key of a canonical entry (compose-go@v2.9.1:override/uncity.go).

    A long-syntax entry keeps its own map through the canonical transform, so it is keyed as
    written; a run is keyed as a whole, exact as long as no other entry overlaps it.
    """
    if isinstance(entry, _Failed):
        return f"\0failed{id(entry)}"
    if isinstance(entry.item, dict):
        return unicity_key(entry.item)
    key = spec_key(entry.spec)
    return key if entry.spec.count == 1 else f"{key}+{entry.spec.count}"


class _Dropped:
    """A port entry whose interpolation failed: reported once, then left out like Compose would."""

    def __init__(self, text: YStr) -> None:
        self.text = text
        self.src = text.src


def _nothing_to_interpolate(value: object) -> bool:
    if isinstance(value, str):
        return "$" not in value
    return getattr(value, "plain", False) or not isinstance(value, (dict, list))


def _is_port_path(path: str) -> bool:
    parts = path.split(".")
    return len(parts) >= 3 and parts[0] == "services" and parts[2] == "ports"


def _copy_map(value: Mapping) -> YMap:
    result = YMap(getattr(value, "src", None), getattr(value, "tag", None))
    result.update(value)
    result.key_src.update(getattr(value, "key_src", {}))
    # Interpolation and key removal add no tags: merging may still skip what has none.
    result.untagged = getattr(value, "untagged", False)
    return result


def _without(value: Mapping, key: str) -> YMap:
    result = _copy_map(value)
    result.pop(key, None)
    return result


def _line(value: Any) -> int:
    src = source_of(value)
    return src.line if src else 0


def _column(value: Any) -> int:
    src = source_of(value)
    return src.column if src else 0


def _include_entry(entry: Any) -> tuple[list[str], list[str], str | None]:
    if isinstance(entry, str):
        return [entry], [], None
    if isinstance(entry, dict):
        paths = entry.get("path")
        paths = [paths] if isinstance(paths, str) else [str(p) for p in paths or []]
        env_files = entry.get("env_file")
        env_files = [env_files] if isinstance(env_files, str) else [str(e) for e in env_files or []]
        project_dir = entry.get("project_directory")
        return paths, env_files, str(project_dir) if project_dir else None
    return [], [], None


# -- from the merged model to the project model ------------------------------------------------


def _project(
    options: LoadOptions,
    stack: str | None,
    directory: Path,
    files: tuple[str, ...],
    model: Mapping,
    problems: _Problems,
    env: Environment,
    name: str | None,
) -> Project:
    active_profiles = set(options.profiles)
    if not active_profiles and env.get("COMPOSE_PROFILES"):
        active_profiles = {p for p in str(env.get("COMPOSE_PROFILES")).split(",") if p}
    services: list[Service] = []
    raw_services = model.get("services") if isinstance(model, Mapping) else None
    for service_name in sorted(raw_services or {}):
        raw = raw_services[service_name]
        if not isinstance(raw, dict):
            continue
        services.append(_service(service_name, raw, active_profiles, env, problems))
    services = _mark_shared(services)
    if not problems.rejections and files and isinstance(model, Mapping):
        active = {s.name for s in services if s.active}
        reason = validation.rejection(model, files[0], active)
        if reason:
            problems.reject(reason)
    return Project(
        name=name or project_name_from(directory),
        directory=str(directory),
        files=files,
        stack=stack,
        services=tuple(services),
        diagnostics=tuple(problems.diagnostics),
        rejection=problems.rejections[0] if problems.rejections else None,
        warnings=tuple(problems.warnings),
        defined=frozenset(env.values).union(problems.defined),
        env_files=env.files,
        reads=tuple(problems.files),
        networks=_networks(model.get("networks") if isinstance(model, Mapping) else None),
    )


def _networks(raw: Any) -> dict[str, Network]:
    """The project's networks, for what decides where ports go (model.Project.publishing)."""
    if not isinstance(raw, Mapping):
        return {}
    networks = {}
    for name, spec in raw.items():
        if not isinstance(spec, Mapping):
            networks[str(name)] = Network()
            continue
        options = spec.get("driver_opts")
        binding = options.get(_HOST_BINDING) if isinstance(options, Mapping) else None
        networks[str(name)] = Network(
            internal=spec.get("internal") is True,
            host_binding_ipv4=str(binding) if isinstance(binding, str) and binding else None,
        )
    return networks


_HOST_BINDING = "com.docker.network.bridge.host_binding_ipv4"


def _service(
    name: str, raw: Mapping, active_profiles: set[str], env: Environment, problems: _Problems
) -> Service:
    profiles = tuple(str(p) for p in raw.get("profiles") or [] if isinstance(p, str))
    active = not profiles or "*" in active_profiles or bool(active_profiles & set(profiles))
    # Inactive services stay known with their ports; Compose checked them all the same.
    bindings = _bindings(name, raw.get("ports"), env, problems)
    replicas = _replicas(raw)
    image = raw.get("image")
    network_mode = raw.get("network_mode")
    joined = raw.get("networks")
    if isinstance(joined, dict):
        networks = tuple(str(n) for n in joined)
    elif isinstance(joined, list):
        networks = tuple(str(n) for n in joined if isinstance(n, str))
    else:
        # Compose puts a service that names no network (and no network_mode) on `default`.
        networks = () if isinstance(network_mode, str) else ("default",)
    src = getattr(raw, "src", None)
    return Service(
        name=name,
        image=str(image) if isinstance(image, str) else None,
        profiles=profiles,
        active=active,
        network_mode=str(network_mode) if isinstance(network_mode, str) else None,
        replicas=replicas,
        networks=networks,
        ports=tuple(bindings),
        source=src,
        duplicates=tuple(problems.duplicates.get(name, ())) if active else (),
    )


def _replicas(raw: Mapping) -> int | None:
    deploy = raw.get("deploy")
    for value in (raw.get("scale"), deploy.get("replicas") if isinstance(deploy, dict) else None):
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
    return None


def _bindings(name: str, ports: Any, env: Environment, problems: _Problems) -> list[PortBinding]:
    if not isinstance(ports, list):
        return []
    for entry in ports:
        if isinstance(entry, _Failed):
            problems.add(entry.diagnostic(name, _index_of(entry, list(ports))))
    return [
        _binding(name, entry.spec, entry.item, ports, 0, env)
        for entry in ports
        if isinstance(entry, _Entry)
    ]


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


def _item_source(item: Any, ports: Any, index: int) -> Source:
    src = source_of(item)
    if src is None:
        item_src = getattr(ports, "item_src", None)
        if item_src and index < len(item_src):
            src = item_src[index]
    if src is None:
        src = source_of(ports) or Source("", 0, 0)
    return src


def _binding(
    service: str, spec: PortSpec, item: Any, ports: Any, index: int, env: Environment
) -> PortBinding:
    if isinstance(item, dict):
        published = item.get("published")
        holder = published if published is not None else item
        src = source_of(holder) or _item_source(item, ports, index)
        text = _raw_text(published) if published is not None else ""
        quoted = bool(getattr(published, "quoted", False))
        long_syntax = True
    else:
        src = _item_source(item, ports, index)
        holder = item
        text = _raw_text(item)
        quoted = bool(getattr(item, "quoted", False))
        long_syntax = False
    record = getattr(holder, "interpolated", None)
    variable = None
    origin = Origin.LITERAL
    unset: tuple[str, ...] = ()
    if record is not None:
        unset = tuple(record.warnings)
        host_text = text if long_syntax else _host_part(text)
        names = _VARIABLE.findall(host_text)
        variable = next((n[0] or n[1] for n in names), None)
        if variable is not None:
            value = env.get(variable)
            origin = Origin.ENVIRONMENT if value else Origin.DEFAULT
    if spec.published is None:
        origin = Origin.NONE
    return PortBinding(
        service=service,
        spec=spec,
        source=src,
        raw=text,
        long_syntax=long_syntax,
        variable=variable,
        origin=origin,
        unset_variables=unset,
        quoted=quoted,
    )


_VARIABLE = re.compile(r"\$(?:\{([_A-Za-z][_A-Za-z0-9]*)|([_A-Za-z][_A-Za-z0-9]*))")


def _raw_text(value: Any) -> str:
    raw = getattr(value, "raw", None)
    if raw is not None:
        return str(raw)
    text = getattr(value, "text", None)
    if text:
        return str(text)
    return str(value)


def _host_part(text: str) -> str:
    """The host-port part of a short-syntax entry, `${...}` left whole: `IP:HOST:CONTAINER`."""
    _, host, after = split_host_part(text)
    if not after:
        # The whole mapping may come from one variable (`${SPEC:-127.0.0.1:8080:80}`).
        return host if host.startswith("${") and host.endswith("}") else ""
    return host


def _mark_shared(services: list[Service]) -> list[Service]:
    """Flag bindings whose scalar serves several services (YAML aliases, `extends`)."""
    from dataclasses import replace

    # A range entry expands to several bindings of one service: that is not sharing.
    seen: dict[Source, set[str]] = {}
    for service in services:
        for binding in service.ports:
            seen.setdefault(binding.source, set()).add(service.name)
    if all(len(names) == 1 for names in seen.values()):
        return services
    return [
        replace(
            s,
            ports=tuple(replace(b, shared=len(seen[b.source]) > 1) for b in s.ports),
        )
        for s in services
    ]

"""A compose file's documents as Compose reads them: interpolated, with include and extends.

compose-go@v2.9.1:loader/loader.go:412-527, for each file and each document in it: parse,
interpolate, resolve `extends`, resolve `include`, merge over what came before; the ports are
made canonical after each file (canonical.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from compose_ports.compose import discovery
from compose_ports.compose.canonical import Dropped, canonical_ports, canonicalize
from compose_ports.compose.files import FileCache
from compose_ports.compose.interpolation import InterpolationError, interpolate
from compose_ports.compose.merge import is_reset, merge_mapping, without_resets
from compose_ports.compose.ports import (
    INTERPOLATION,
    SCHEMA,
    UNICITY,
    PortError,
    parse_item,
    unicity_key,
)
from compose_ports.compose.problems import Problems
from compose_ports.compose.variables import Environment
from compose_ports.errors import ComposePortsError
from compose_ports.model import Diagnostic, Source
from compose_ports.yamlread import YMap, YSeq, YStr, copy_map, first_time, source_of


def absolute_path(cwd: Path, path: str | os.PathLike[str]) -> Path:
    """path made absolute against cwd and normalised (no symlinks resolved, as Compose)."""
    p = Path(path)
    return Path(os.path.normpath(p if p.is_absolute() else cwd / p))


class Loader:
    def __init__(self, env: Environment, cache: FileCache, problems: Problems) -> None:
        self.env = env
        self.cache = cache
        self.problems = problems
        self.lookup: Callable[[str], str | None] = env.values.get

    # -- files and documents -------------------------------------------------------------

    def merge_file(self, model: YMap, path: Path, main: bool) -> YMap:
        for document in self.documents(path, main):
            model = merge_mapping(model, document) if model else without_resets(document)
            model = canonicalize(model, self.problems)
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
            if not self.check_structure(doc, file, getattr(raw, "times", True)):
                continue
            doc = self.resolve_includes(doc, path, (*seen, file))
            doc = self.resolve_extends(doc, path)
            result.append(doc)
        return result

    def check_structure(self, doc: YMap, file: str, times: bool = True) -> bool:
        """What Compose's schema refuses about the shape of services and ports: a read error.
        `times`: whether the file holds a time at all (yamlread.Documents)."""
        time = first_time(doc) if times else None
        if time is not None and not _ports_fail_first(doc):
            # go-yaml reads a plain `2001-01-01` as a time, which no JSON type is: Compose's
            # schema refuses it anywhere but below an `x-` key, before any port is parsed;
            # a port the unicity pass or the schema refuses is named first.
            path, value = time
            src = value.src or Source(file, 1, 1)
            message = f"validating {file}: {path} invalid jsonType time.Time"
            self.problems.add(Diagnostic(file, src.line, src.column, message))
            return False
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
                        changed = copy_map(value)
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
                return Dropped(text)
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
            model = self.included(entry, path, seen)
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

    def included(self, entry: Any, path: Path, seen: tuple[str, ...]) -> YMap:
        """The model one `include` entry of path brings in (empty when it brings nothing)."""
        model: YMap = YMap()
        paths, env_files, project_dir = _include_entry(entry)
        if not paths:
            return model
        targets = [absolute_path(path.parent, p) for p in paths]
        for target in targets:
            self.note_outside(target, path, entry)
        if any(str(t) in seen for t in targets):
            self.problems.add(
                Diagnostic(str(path), _line(entry), _column(entry), "include cycle detected")
            )
            return model
        base = absolute_path(path.parent, project_dir) if project_dir else targets[0].parent
        sub = self.included_loader(base, [absolute_path(path.parent, e) for e in env_files])
        for target in targets:
            for document in sub.documents(target, main=False, seen=seen):
                model = merge_mapping(model, document) if model else without_resets(document)
        return model

    def included_loader(self, directory: Path, env_files: Sequence[Path]) -> Loader:
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
        return Loader(env, self.cache, self.problems)

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
        result = copy_map(doc)
        result["services"] = resolved
        return result

    def extended(
        self,
        service: dict[str, Any],
        siblings: Mapping[str, Any],
        path: Path,
        chain: tuple[tuple[str, str], ...],
    ) -> dict[str, Any]:
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
            errors = len(self.problems.diagnostics)
            docs = self.documents_for_extends(base_path)
            base_services: Mapping[str, Any] = {}
            for document in docs:
                found = document.get("services")
                if isinstance(found, dict):
                    base_services = {**base_services, **found}
            shapeless = _no_services(docs) if len(self.problems.diagnostics) == errors else None
            if shapeless:
                self.problems.reject(
                    f'cannot extend service "{chain[-1][1]}" in {base_path}: {shapeless}'
                )
                return _without(service, "extends")
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
            # compose-go names the file being loaded, and the other file as it was written.
            elsewhere = f" in {_as_written(base_file, path, chain)}" if base_file else ""
            self.problems.reject(
                f'cannot extend service "{chain[-1][1]}" in {chain[0][0]}: '
                f'service "{base_name}" not found{elsewhere}'
            )
            return _without(service, "extends")
        if "extends" in base:
            base = self.extended(base, base_services, base_path, (*chain, link))
        merged = merge_mapping(_without(base, "extends"), _without(service, "extends"))
        return canonical_ports(merged, chain[0][1], self.problems)

    def documents_for_extends(self, path: Path) -> list[YMap]:
        self.problems.files[str(path)] = None
        try:
            raw = self.cache.documents(str(path))
        except ComposePortsError as exc:
            self.problems.error(exc)
            return []
        return [self.interpolate(d, "") for d in raw if isinstance(d, dict)]


def _no_services(docs: list[YMap]) -> str | None:
    """What compose-go says of an extended file without a `services` mapping, or None."""
    found = [d["services"] for d in docs if "services" in d]
    if not found:
        return "no services section"
    return None if all(isinstance(f, dict) for f in found) else "services must be a mapping"


def _as_written(base_file: object, path: Path, chain: tuple[tuple[str, str], ...]) -> str:
    """The extended file's name in compose-go's message: as the loaded file writes it; from a
    file that `extends` reached, joined to that file's directory relative to the first one's
    (loader/extends.go rebases the reached service's paths)."""
    text = str(base_file)
    top = Path(chain[0][0])
    if path == top or os.path.isabs(text):
        return text
    return os.path.normpath(os.path.join(os.path.relpath(path.parent, top.parent), text))


def _nothing_to_interpolate(value: object) -> bool:
    if isinstance(value, str):
        return "$" not in value
    return getattr(value, "plain", False) or not isinstance(value, (dict, list))


def _is_port_path(path: str) -> bool:
    parts = path.split(".")
    return len(parts) >= 3 and parts[0] == "services" and parts[2] == "ports"


def _without(value: Mapping[str, Any], key: str) -> YMap:
    result = copy_map(value)
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


def _ports_fail_first(doc: YMap) -> bool:
    """Whether an entry of the document fails before a time does: the unicity pass (no
    `target`, or one that does not cast to an integer), or the schema's own verdict on its
    shape, which Compose prefers to the time's [V]. A port that only fails to parse
    (`"abc"`) comes later."""
    services = doc.get("services")
    if not isinstance(services, dict):
        return False
    for service in services.values():
        ports = service.get("ports") if isinstance(service, dict) else None
        for item in ports if isinstance(ports, list) else ():
            item = without_resets(item)
            try:
                unicity_key(item)
                parse_item(item)
            except PortError as exc:
                if exc.stage in (UNICITY, INTERPOLATION, SCHEMA):
                    return True
    return False

"""From the fixable findings to the new texts: which scalars change, and to what.

The findings' rules say what to do (`rule.fix(problem)`: name a host port, quote an entry, tag
an override, move a port); this module decides the names and the ports, turns each action into
an edit of the file's text, and writes down what the run must then change in what Compose
publishes (the `Expected` the proof holds the result to). Where an action cannot be done
safely, it is left out whole, with a note that says why.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from compose_ports.config import DEFAULT_VARIABLE
from compose_ports.errors import ComposePortsError
from compose_ports.fix import layout, scalars
from compose_ports.fix.naming import Target, assign
from compose_ports.fix.readers import Reader
from compose_ports.fix.remap import Override, RemapPlan
from compose_ports.fix.splice import Edit, splice
from compose_ports.loading import FileCache
from compose_ports.model import PortBinding, Source
from compose_ports.ports import split_host_part
from compose_ports.rules.base import QuoteEntry, RenameHostPort
from compose_ports.workspace import Workspace, project_key


class Expected(NamedTuple):
    """What the run must change in what Compose publishes; nothing else may change."""

    dropped: dict[str, set[Source]]  # project key -> the bindings that stop being published
    moved: dict[Source, int]  # host-port scalar -> its new port
    # new variable -> its scalars, and the first port and width of the range they write today
    named: dict[str, tuple[frozenset[Source], int, int]]


class FixPlan(NamedTuple):
    texts: dict[str, str]  # file -> its new text
    variables: dict[str, str]  # new variable -> today's value, for the env file
    variable_files: dict[str, set[str]]  # new variable -> the files that read it
    notes: list[str]  # what was left alone, and why
    expected: Expected


class _Change:
    """What happens to one scalar: a name for its host port, a new port, quotes."""

    __slots__ = ("long_syntax", "name", "port", "quote", "raw")

    def __init__(self, raw: str | None, long_syntax: bool) -> None:
        self.raw = raw  # its text as the reader saw it, when a binding says so
        self.long_syntax = long_syntax
        self.name: str | None = None
        self.port: int | None = None
        self.quote = False


def plan(
    workspace: Workspace,
    readers: Sequence[Reader],
    renames: Sequence[RenameHostPort],
    quotes: Sequence[QuoteEntry],
    remap: RemapPlan | None,
    editable: Callable[[str], bool],
    cache: FileCache,
) -> FixPlan:
    notes: list[str] = []
    groups = _Groups(readers)
    changes: dict[Source, _Change] = {}
    texts = _Texts(cache)

    def change(source: Source, binding: PortBinding | None) -> _Change:
        if source not in changes:
            changes[source] = _Change(
                binding.raw if binding is not None else None,
                binding.long_syntax if binding is not None else _long(texts, groups, source),
            )
        return changes[source]

    for action in quotes:
        source = action.binding.source
        if editable(source.file):
            change(source, action.binding).quote = True

    moved: dict[Source, int] = {}
    overrides: list[Override] = []
    if remap is not None:
        for source, port in remap.moves.items():
            members = groups.members(source)
            reason = _group_problem(members, editable, texts)
            if reason is None and any(m.file != source.file for m in members):
                # Moving the other file's entry too would move a port a base file sets.
                reason = "it repeats an entry of another file, which would have to move too"
            if reason is not None:
                notes.append(f"{_where(source)}: not moved: {reason}")
                continue
            for member in members:
                change(member, groups.binding(member)).port = port
                moved[member] = port
        for override in remap.overrides:
            if editable(override.file):
                overrides.append(override)
            else:
                notes.append(
                    f"{override.file}: {override.service.name}'s ports not tagged "
                    "!override: this run does not edit that file"
                )

    named = _names(workspace, readers, renames, groups, editable, texts, notes)
    for name, (members, *_) in named.items():
        for member in members:
            change(member, groups.binding(member)).name = name

    edits: dict[str, list[Edit]] = {}
    variables: dict[str, str] = {}
    variable_files: dict[str, set[str]] = {}
    for source, item in sorted(changes.items()):
        edit = _edit(texts, source, item)
        if edit is None:
            notes.append(
                f"{_where(source)}: left as it is: the scalar is written in a way that cannot "
                "be rewritten safely (escapes, line breaks or a block scalar)"
            )
            continue
        edits.setdefault(source.file, []).append(edit)
        if item.name is not None:
            variables[item.name] = str(item.port) if item.port else _today(item, texts, source)
            variable_files.setdefault(item.name, set()).add(source.file)
    dropped: dict[str, set[Source]] = {}
    for override in overrides:
        override_edits = _override_edits(texts, override, changes)
        if override_edits is None:
            notes.append(
                f"{override.file}: {override.service.name}'s ports could not be tagged "
                "!override (the list or an entry is written in a way this tool does "
                "not rewrite)"
            )
            continue
        edits.setdefault(override.file, []).extend(override_edits)
        dropped.setdefault(project_key(override.project), set()).update(
            b.source for b in override.dropped
        )
    new_texts = {}
    for file, file_edits in edits.items():
        original = texts.text(file)
        new = splice(original, file_edits)
        if new != original:
            new_texts[file] = new
    applied = {s for s, c in changes.items() if s.file in new_texts}
    expected = Expected(
        dropped,
        {s: p for s, p in moved.items() if s in applied},
        {n: value for n, value in named.items() if value[0] <= applied},
    )
    return FixPlan(new_texts, variables, variable_files, notes, expected)


class _Texts:
    """The files' texts, and where their scalars are: each computed once."""

    def __init__(self, cache: FileCache) -> None:
        self.cache = cache
        self.starts: dict[str, list[int]] = {}
        self.spans: dict[Source, layout.ScalarSpan | None] = {}

    def text(self, file: str) -> str:
        return self.cache.text(file)

    def span(self, source: Source) -> layout.ScalarSpan | None:
        if source in self.spans:
            return self.spans[source]
        try:
            text = self.cache.text(source.file)
        except ComposePortsError:
            text = None
        span = None
        if text is not None:
            if source.file not in self.starts:
                self.starts[source.file] = layout.line_starts(text)
            span = layout.scalar_at(text, self.starts[source.file], source)
        self.spans[source] = span
        return span


class _Groups:
    """Host-port scalars that Compose merges as duplicates: they must change together.

    `"127.0.0.1:8404:8404"` and `"${PRIVATE_IP:-127.0.0.1}:8404:8404"` are one port to Compose;
    give only one of them a variable, and setting it publishes a second port instead of moving
    the first.
    """

    def __init__(self, readers: Sequence[Reader]) -> None:
        self.parent: dict[Source, Source] = {}
        self.bindings: dict[Source, PortBinding] = {}
        for reader in readers:
            for service in reader.project.active_services:
                for binding in service.ports:
                    self.bindings.setdefault(binding.source, binding)
                for duplicate in service.duplicates:
                    self._union(duplicate.source, duplicate.kept)
        self.groups: dict[Source, frozenset[Source]] = {}
        by_root: dict[Source, set[Source]] = {}
        for source in self.parent:
            by_root.setdefault(self._find(source), set()).add(source)
        for root, members in by_root.items():
            group = frozenset((root, *members))
            for member in group:
                self.groups[member] = group

    def _find(self, source: Source) -> Source:
        root = source
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        return root

    def _union(self, a: Source, b: Source) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self, source: Source) -> frozenset[Source]:
        return self.groups.get(source) or frozenset((source,))

    def binding(self, source: Source) -> PortBinding | None:
        return self.bindings.get(source)


def _long(texts: _Texts, groups: _Groups, source: Source) -> bool:
    """Whether the scalar is a long-syntax `published`: its binding says, else its text (a
    short-syntax entry with a host port always has a `:` outside `${...}`)."""
    binding = groups.binding(source)
    if binding is not None:
        return binding.long_syntax
    span = texts.span(source)
    return span is not None and not split_host_part(span.value)[2]


def _group_problem(
    members: Iterable[Source], editable: Callable[[str], bool], texts: _Texts
) -> str | None:
    for member in sorted(members):
        if not editable(member.file):
            return f"it repeats the entry at {_where(member)}, which this run does not edit"
        span = texts.span(member)
        if span is None:
            return f"the entry at {_where(member)} cannot be rewritten safely"
    return None


def _names(
    workspace: Workspace,
    readers: Sequence[Reader],
    renames: Sequence[RenameHostPort],
    groups: _Groups,
    editable: Callable[[str], bool],
    texts: _Texts,
    notes: list[str],
) -> dict[str, tuple[frozenset[Source], int, int]]:
    """A new variable per group of scalars to name, never a name any reader already knows."""
    services = {(id(r.project), s.name): s for r in readers for s in r.project.services}
    targets: dict[frozenset[Source], Target] = {}
    for action in sorted(renames, key=lambda a: (a.binding.source, project_key(a.project))):
        members = groups.members(action.binding.source)
        if members in targets:
            continue
        if not editable(action.binding.source.file):
            continue
        reason = _group_problem(members, editable, texts)
        if reason is None:
            for member in members:
                span = texts.span(member)
                long_syntax = _long(texts, groups, member)
                if span is None or not scalars.is_literal(span.value, long_syntax):
                    reason = (
                        f"it repeats the entry at {_where(member)}, whose host port is not "
                        "a plain number: give both the same variable by hand"
                    )
                    break
        if reason is not None:
            notes.append(f"{_where(action.binding.source)}: left as it is: {reason}")
            targets[members] = None  # type: ignore[assignment]
            continue
        service = services[id(action.project), action.binding.service]
        # A group is named after its first entry in the stack's file order: a port the base
        # file writes and an override repeats is the base's port.
        binding = action.binding
        if len(members) > 1:
            order = {f: i for i, f in enumerate(action.project.files)}
            first = min(members, key=lambda s: (order.get(s.file, len(order)), s.line, s.column))
            binding = dataclasses.replace(binding, source=first)
        targets[members] = Target(action.project, service, binding)
    chosen = {m: t for m, t in targets.items() if t is not None}
    taken = set().union(*(r.project.defined for r in readers)) if readers else set()
    taken |= _referenced(readers, texts)
    names = assign(chosen.values(), lambda t: _template(workspace, t), taken)
    result = {}
    for members, target in chosen.items():
        # The scalar's own text says which ports it writes: a range the model expanded is
        # still one `${NAME:-8000-8010}`.
        span = texts.span(target.binding.source)
        long_syntax = _long(texts, groups, target.binding.source)
        parts = scalars.host_of(span.value, long_syntax) if span else None
        first, _, last = (parts[1] if parts else "0").partition("-")
        start = int(first)
        result[names[target.binding.source]] = (members, start, int(last or first) - start)
    return result


def _template(workspace: Workspace, target: Target) -> str:
    config = workspace.config_of(target.project)
    return config.variable if config is not None else DEFAULT_VARIABLE


_REFERENCE = re.compile(r"\$\{?([_A-Za-z][_A-Za-z0-9]*)")


def _referenced(readers: Sequence[Reader], texts: _Texts) -> set[str]:
    """Variables the readers' compose files already use: a new name must not tie two ports."""
    names: set[str] = set()
    for file in {f for r in readers for f in (r.project.reads or r.project.files)}:
        try:
            names.update(_REFERENCE.findall(texts.text(file)))
        except ComposePortsError:
            continue
    return names


def _edit(texts: _Texts, source: Source, change: _Change) -> Edit | None:
    span = texts.span(source)
    if span is None or (change.raw is not None and span.value != change.raw):
        return None
    value = span.value
    if change.port is not None:
        value = scalars.moved(value, change.long_syntax, change.port)
        if value is None:
            return None
    if change.name is not None:
        value = scalars.named(value, change.long_syntax, change.name)
        if value is None:
            return None
    new = scalars.written(span, value, change.quote)
    if new is None:
        return None
    return Edit(span.start, span.end, new)


def _today(change: _Change, texts: _Texts, source: Source) -> str:
    """The value a new variable gets in the env file: the host port as written today."""
    span = texts.span(source)
    parts = scalars.host_of(span.value, change.long_syntax) if span else None
    return parts[1] if parts else ""


def _override_edits(
    texts: _Texts, override: Override, changes: Mapping[Source, _Change]
) -> list[Edit] | None:
    """`ports: !override`, plus the earlier files' entries that must stay published."""
    text = texts.text(override.file)
    found = layout.ports_layout(text, override.service.name)
    if found is None or found.tag not in (None, "!override"):
        return None
    edits = [] if found.tag else [Edit(found.after_colon, found.after_colon, " !override")]
    entries = []
    for binding in override.copied:
        source = binding.source
        item = changes.get(source)
        replace = None
        if item is not None and item.name is not None:
            span = texts.span(source)
            replace = scalars.named(span.value, binding.long_syntax, item.name) if span else None
            if replace is None:
                return None
        entry = layout.entry_text(texts.text(source.file), source, replace)
        if entry is None:
            return None
        entries.append(entry)
    if not entries:
        return edits
    if found.flow:
        joined = ", ".join(entries)
        edits.append(
            Edit(found.append_at, found.append_at, joined if found.empty else ", " + joined)
        )
    else:
        lines = "".join(f"{found.newline}{found.indent}- {e}" for e in entries)
        edits.append(Edit(found.append_at, found.append_at, lines))
    return edits


def _where(source: Source) -> str:
    return f"{source.file}:{source.line}:{source.column}"

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
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from compose_ports.compose.loading import FileCache
from compose_ports.compose.ports import split_host_part
from compose_ports.compose.workspace import Workspace, project_key
from compose_ports.errors import ComposePortsError
from compose_ports.fix import layout, scalars
from compose_ports.fix.readers import Reader
from compose_ports.fix.remap import Override, RemapPlan
from compose_ports.fix.splice import Edit, splice
from compose_ports.model import PortBinding, Service, Source
from compose_ports.policy.config import DEFAULT_VARIABLE
from compose_ports.policy.naming import Target, assign
from compose_ports.rules.actions import QuoteEntry, RenameHostPort


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
    unresolved: bool  # a finding `--remap` was asked to fix is not fixed


class _Group(NamedTuple):
    """What happens to scalars Compose merges into one port: a name, a new port, or both."""

    members: frozenset[Source]
    name: str | None
    port: int | None
    literal: bool  # the port is written as a number (its shared variable dropped)
    remap: bool  # asked by a `--remap` finding: not doing it leaves a finding unresolved


def plan(
    workspace: Workspace,
    readers: Sequence[Reader],
    renames: Sequence[RenameHostPort],
    quotes: Sequence[QuoteEntry],
    remap: RemapPlan | None,
    editable: Callable[[str], bool],
    remap_editable: Callable[[str], bool],
    cache: FileCache,
) -> FixPlan:
    """`editable` says which files plain fixes may edit (the trigger files, when given);
    `remap_editable` which files `--remap`'s moves and tags may (its override files)."""
    planner = _Planner(readers, cache, editable, remap_editable)
    moves: dict[frozenset[Source], int] = {}
    fresh: dict[frozenset[Source], Target] = {}
    overrides: list[Override] = []
    if remap is not None:
        moves, fresh = planner.moves(remap)
        overrides = planner.overrides(remap)
    named = planner.names(workspace, renames, fresh)
    quoted = {a.binding.source for a in quotes if editable(a.binding.source.file)}
    written = planner.rewrite_groups(moves, named, fresh, quoted)
    planner.quote(quoted - written.applied)
    dropped = planner.tag_overrides(overrides, named, written.applied)
    return FixPlan(
        planner.new_texts(),
        written.variables,
        written.variable_files,
        planner.notes,
        Expected(dropped, written.moved, written.named),
        planner.unresolved,
    )


class _Written(NamedTuple):
    """What rewriting the scalar groups did, and what the run must then publish."""

    applied: set[Source]  # the scalars rewritten
    moved: dict[Source, int]
    named: dict[str, tuple[frozenset[Source], int, int]]
    variables: dict[str, str]
    variable_files: dict[str, set[str]]


class _Planner:
    """One plan in the making: the edits per file, and the notes on what was left alone."""

    def __init__(
        self,
        readers: Sequence[Reader],
        cache: FileCache,
        editable: Callable[[str], bool],
        remap_editable: Callable[[str], bool],
    ) -> None:
        self.readers = readers
        self.editable = editable
        self.remap_editable = remap_editable
        self.groups = _Groups(readers)
        self.texts = _Texts(cache, self.groups)
        self.shared = _shared_names(readers, self.texts)
        self.edits: dict[str, list[Edit]] = {}
        self.notes: list[str] = []
        self.unresolved = False  # a finding `--remap` was asked to fix stays

    def leave(self, note: str, remap: bool) -> None:
        self.notes.append(note)
        self.unresolved = self.unresolved or remap

    def moves(
        self, remap: RemapPlan
    ) -> tuple[dict[frozenset[Source], int], dict[frozenset[Source], Target]]:
        """The groups `--remap` moves to a new port, and those of them that need a new name."""
        moves: dict[frozenset[Source], int] = {}
        fresh: dict[frozenset[Source], Target] = {}
        for source, (port, target) in sorted(remap.moves.items()):
            members = self.groups.members(source)
            reason = _group_problem(members, self.remap_editable, self.texts)
            if reason is None and any(m.file != source.file for m in members):
                # Moving the other file's entry too would move a port a base file sets.
                reason = "it repeats an entry of another file, which would have to move too"
            if reason is not None:
                self.leave(f"{_where(source)}: not moved: {reason}", remap=True)
                continue
            moves[members] = port
            variable = target.binding.variable
            if variable is not None and self.shared[variable] > len(members):
                # Other scalars read this variable too: a new default would make one name
                # stand for two ports. The moved port gets a name of its own.
                fresh[members] = target
        return moves, fresh

    def overrides(self, remap: RemapPlan) -> list[Override]:
        """The `!override` tags `--remap` asks for that this run may write."""
        kept: list[Override] = []
        for override in remap.overrides:
            if self.remap_editable(override.file):
                kept.append(override)
                continue
            self.leave(
                f"{override.file}: {override.service.name}'s ports not tagged "
                "!override: this run does not edit that file",
                remap=True,
            )
        return kept

    def names(
        self,
        workspace: Workspace,
        renames: Sequence[RenameHostPort],
        fresh: Mapping[frozenset[Source], Target],
    ) -> dict[frozenset[Source], str]:
        """Each group's new variable: those the findings name and those moves need."""
        readers = self.readers
        targets = _rename_targets(
            readers, renames, self.groups, self.editable, self.texts, self.notes
        )
        taken = set().union(*(r.project.defined for r in readers)) if readers else set()
        taken |= set(self.shared)
        chosen = {**targets, **fresh}
        names = assign(chosen.values(), lambda t: _template(workspace, t), taken)
        return {m: names[t.binding.source] for m, t in chosen.items()}

    def rewrite_groups(
        self,
        moves: Mapping[frozenset[Source], int],
        named: Mapping[frozenset[Source], str],
        fresh: Mapping[frozenset[Source], Target],
        quoted: set[Source],
    ) -> _Written:
        """Each group's scalars moved, named and quoted together, or left whole."""
        written = _Written(set(), {}, {}, {}, {})
        for members in sorted(set(moves) | set(named), key=min):
            group = _Group(
                members, named.get(members), moves.get(members), members in fresh, members in moves
            )
            group_edits = [_edit(self.texts, m, group, m in quoted) for m in sorted(members)]
            if any(e is None for e in group_edits):
                self.leave(
                    f"{_where(min(members))}: left as it is: the scalar is written in a way "
                    "that cannot be rewritten safely (escapes, line breaks or a block scalar)",
                    remap=group.remap,
                )
                continue
            for member, edit in zip(sorted(members), group_edits, strict=True):
                assert edit is not None
                self.edits.setdefault(member.file, []).append(edit)
                written.applied.add(member)
            start, width = _ports_written(self.texts, min(members))
            if group.port is not None:
                written.moved.update(dict.fromkeys(members, group.port))
            if group.name is not None:
                written.named[group.name] = (members, start, width)
                value = str(group.port) if group.port else _range(start, width)
                written.variables[group.name] = value
                written.variable_files[group.name] = {m.file for m in members}
        return written

    def quote(self, quoted: Iterable[Source]) -> None:
        """The entries only quoted (no group rewrote them)."""
        for source in sorted(quoted):
            group = _Group(frozenset((source,)), None, None, False, False)
            edit = _edit(self.texts, source, group, True)
            if edit is None:
                self.leave(f"{_where(source)}: left as it is: it cannot be quoted safely", False)
                continue
            self.edits.setdefault(source.file, []).append(edit)

    def tag_overrides(
        self,
        overrides: Sequence[Override],
        named: Mapping[frozenset[Source], str],
        applied: set[Source],
    ) -> dict[str, set[Source]]:
        """The `!override` tags written, and per project the bindings they stop publishing."""
        dropped: dict[str, set[Source]] = {}
        for override in overrides:
            override_edits = _override_edits(self.texts, override, named, applied)
            if override_edits is None:
                self.leave(
                    f"{override.file}: {override.service.name}'s ports could not be tagged "
                    "!override (the list or an entry is written in a way this tool does "
                    "not rewrite)",
                    remap=True,
                )
                continue
            self.edits.setdefault(override.file, []).extend(override_edits)
            dropped.setdefault(project_key(override.project), set()).update(
                b.source for b in override.dropped
            )
        return dropped

    def new_texts(self) -> dict[str, str]:
        new_texts = {}
        for file, file_edits in self.edits.items():
            original = self.texts.text(file)
            new = splice(original, file_edits)
            if new != original:
                new_texts[file] = new
        return new_texts


class _Texts:
    """The files' texts, and where their host-port scalars are: each computed once."""

    def __init__(self, cache: FileCache, groups: _Groups) -> None:
        self.cache = cache
        self.groups = groups
        self.starts: dict[str, list[int]] = {}
        self.spans: dict[Source, layout.ScalarSpan | None] = {}

    def text(self, file: str) -> str:
        return self.cache.text(file)

    def span(self, source: Source) -> layout.ScalarSpan | None:
        """Where the scalar at source is, checked against its text as the reader read it."""
        if source in self.spans:
            return self.spans[source]
        span = None
        raw = self.groups.raw(source)
        if raw is not None:
            try:
                text: str | None = self.cache.text(source.file)
            except ComposePortsError:
                text = None
            if text is not None:
                if source.file not in self.starts:
                    self.starts[source.file] = layout.line_starts(text)
                span = layout.scalar_span(text, self.starts[source.file], source, raw)
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
        self.raws: dict[Source, str] = {}
        for reader in readers:
            for service in reader.project.active_services:
                for binding in service.ports:
                    self.bindings.setdefault(binding.source, binding)
                    self.raws.setdefault(binding.source, binding.raw)
                for duplicate in service.duplicates:
                    self._union(duplicate.source, duplicate.kept)
                    self.raws.setdefault(duplicate.source, duplicate.raw)
                    self.raws.setdefault(duplicate.kept, duplicate.kept_raw)
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

    def raw(self, source: Source) -> str | None:
        """The scalar's text as the reader saw it (before interpolation)."""
        return self.raws.get(source) or None


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


def _rename_targets(
    readers: Sequence[Reader],
    renames: Sequence[RenameHostPort],
    groups: _Groups,
    editable: Callable[[str], bool],
    texts: _Texts,
    notes: list[str],
) -> dict[frozenset[Source], Target]:
    """The groups of scalars to name, each with the target its name is made from."""
    services = {(id(r.project), s.name): s for r in readers for s in r.project.services}
    targets: dict[frozenset[Source], Target | None] = {}
    for action in sorted(renames, key=lambda a: (a.binding.source, project_key(a.project))):
        members = groups.members(action.binding.source)
        if members in targets or not editable(action.binding.source.file):
            continue
        service = services[id(action.project), action.binding.service]
        reason = _group_problem(members, editable, texts) or _twin(action.binding, service)
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
            targets[members] = None
            continue
        # A group is named after its first entry in the stack's file order: a port the base
        # file writes and an override repeats is the base's port.
        binding = action.binding
        if len(members) > 1:
            order = {f: i for i, f in enumerate(action.project.files)}
            first = min(members, key=lambda s: (order.get(s.file, len(order)), s.line, s.column))
            binding = dataclasses.replace(binding, source=first)
        targets[members] = Target(action.project, service, binding)
    return {m: t for m, t in targets.items() if t is not None}


def _twin(binding: PortBinding, service: Service) -> str | None:
    """A long-syntax `published: 8080` (a number) beside an entry of the same port: Compose
    keeps the two apart only because one is a number. `${NAME:-8080}` is a string, which
    Compose would merge with the other."""
    if not binding.long_syntax or binding.quoted:
        return None
    for other in service.ports:
        if other.source != binding.source and other.spec == binding.spec:
            return (
                f"Compose keeps it apart from the same port at {_where(other.source)} only "
                "because it is written as a number; a variable would merge them"
            )
    return None


def _ports_written(texts: _Texts, source: Source) -> tuple[int, int]:
    """The first port and the width of the range the scalar's host port writes today (a
    range the model expanded is still one `${NAME:-8000-8010}`; an unset variable's default
    for `${NAME:-8080}`)."""
    span = texts.span(source)
    parts = scalars.host_of(span.value, _long(texts, texts.groups, source)) if span else None
    host = parts[1] if parts else "0"
    defaulted = scalars.DEFAULTED.fullmatch(host)
    if defaulted is not None:
        host = defaulted["default"]
    first, _, last = host.partition("-")
    if not first.isdigit():
        return 0, 0
    return int(first), int(last or first) - int(first)


def _range(start: int, width: int) -> str:
    return str(start) if width == 0 else f"{start}-{start + width}"


def _template(workspace: Workspace, target: Target) -> str:
    config = workspace.config_of(target.project)
    return config.variable if config is not None else DEFAULT_VARIABLE


_REFERENCE = re.compile(r"\$\{?([_A-Za-z][_A-Za-z0-9]*)")


def _shared_names(readers: Sequence[Reader], texts: _Texts) -> Counter[str]:
    """How many times each variable is written in the readers' compose files: a new name
    must not tie two ports together, nor a new default split one name in two."""
    names: Counter[str] = Counter()
    for file in {f for r in readers for f in (r.project.reads or r.project.files)}:
        try:
            names.update(_REFERENCE.findall(texts.text(file)))
        except ComposePortsError:
            continue
    return names


def _edit(texts: _Texts, source: Source, group: _Group, quote: bool) -> Edit | None:
    """One member's new text: moved, named, quoted; None when it cannot be done safely."""
    span = texts.span(source)
    if span is None:
        return None
    long_syntax = _long(texts, texts.groups, source)
    value: str | None = span.value
    if group.port is not None:
        value = scalars.moved(span.value, long_syntax, group.port, literal=group.literal)
    if value is not None and group.name is not None:
        value = scalars.named(value, long_syntax, group.name)
    new = scalars.written(span, value, quote) if value is not None else None
    return None if new is None else Edit(span.start, span.end, new)


def _override_edits(
    texts: _Texts,
    override: Override,
    named: Mapping[frozenset[Source], str],
    applied: set[Source],
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
        name = named.get(texts.groups.members(source)) if source in applied else None
        replace = None
        if name is not None:
            # The copy reads the variable this run gives the original: one port, one name.
            span = texts.span(source)
            replace = scalars.named(span.value, binding.long_syntax, name) if span else None
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

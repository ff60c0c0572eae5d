"""`compose-ports fix`: lint's fixable findings -> edits -> splice -> verify -> atomic write.

The findings come from the lint pipeline itself (so ignore comments hold for fix too); each edit
replaces one scalar's text, spliced into the original; the result is loaded again and must mean
what the original meant before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path

from compose_ports.config import DEFAULT_VARIABLE
from compose_ports.errors import ComposePortsError
from compose_ports.fix.naming import Target, assign
from compose_ports.fix.remap import RemapPlan, Replace
from compose_ports.fix.splice import Edit, encode_like, splice
from compose_ports.lint import chosen_rules, lint
from compose_ports.model import Origin, PortBinding, PortSpec, Project, Source
from compose_ports.workspace import Workspace, project_key
from compose_ports.yamlread import ScalarSpan, line_starts, ports_layout, scalar_span


@dataclass
class FixPlan:
    edits: dict[str, list[Edit]] = field(default_factory=dict)  # file -> edits
    variables: dict[str, str] = field(default_factory=dict)  # name -> today's value
    variable_files: dict[str, str] = field(default_factory=dict)  # name -> the file using it
    notes: list[str] = field(default_factory=list)  # what was left alone, and why
    texts: dict[str, str] = field(default_factory=dict)  # file -> new text

    @property
    def changed(self) -> list[str]:
        return sorted(self.texts)


def plan(
    workspace: Workspace, remap: RemapPlan | None = None, only: set[str] | None = None
) -> FixPlan:
    """The edits that move literal host ports to variables and quote unquoted entries.

    With a remap plan, also the new host ports it chose and its `!override` tags. With `only`,
    just the edits in those files (pre-commit passes the changed files: fix leaves the others).
    """
    assert workspace.cache is not None
    result = lint(workspace, chosen_rules(["CP301", "CP302"]))
    codes: dict[tuple[str | None, int, int], set[str]] = {}
    for finding in result.findings:
        codes.setdefault((finding.file, finding.line, finding.column), set()).add(finding.code)
    moved = remap.ports if remap else {}
    owners: dict[Source, Target] = {}
    for project in workspace.projects:
        for service in project.active_services:
            for binding in service.ports:
                src = binding.source
                key = (src.file, src.line, src.column)
                if (key in codes or src in moved) and src not in owners:
                    owners[src] = Target(project, service, binding)
    fix_plan = FixPlan()
    rename = []
    for source, target in sorted(owners.items()):
        if "CP301" not in codes.get((source.file, source.line, source.column), ()):
            continue  # only quoting, or an ignore comment said to leave the port alone
        if target.binding.shared:
            fix_plan.notes.append(
                f"{_where(source)}: left as it is: this port is reached by several services "
                "(an alias or extends), and one scalar cannot carry two names"
            )
            continue
        rename.append(target)
    taken = set().union(*(p.defined for p in workspace.projects)) if workspace.projects else set()
    taken |= _referenced(workspace)
    names = assign(rename, lambda t: _template(workspace, t), taken)
    starts_by_file: dict[str, list[int]] = {}
    for source, target in sorted(owners.items()):
        file = source.file
        if only is not None and file not in only:
            continue
        text = workspace.cache.text(file)
        if file not in starts_by_file:
            starts_by_file[file] = line_starts(text)
        span = scalar_span(text, starts_by_file[file], source, target.binding.raw)
        name = names.get(source)
        port = moved.get(source)
        edit = _edit(text, span, target.binding, name, port)
        if edit is None:
            fix_plan.notes.append(
                f"{_where(source)}: left as it is: the scalar is written in a way "
                "that cannot be rewritten safely (escapes, line breaks or a block scalar)"
            )
            continue
        fix_plan.edits.setdefault(file, []).append(edit)
        if name is not None:
            fix_plan.variables[name] = str(port) if port else _default(target.binding)
            fix_plan.variable_files[name] = file
    for replace in remap.replaces if remap else ():
        edits = _override_edits(workspace.cache.text(replace.file), replace, names)
        if edits is None:
            fix_plan.notes.append(
                f"{replace.file}: {replace.service.name}'s ports could not be tagged !override"
            )
            continue
        fix_plan.edits.setdefault(replace.file, []).extend(edits)
    for file, edits in fix_plan.edits.items():
        original = workspace.cache.text(file)
        new = splice(original, edits)
        if new != original:
            fix_plan.texts[file] = new
    return fix_plan


def _where(source: Source) -> str:
    return f"{source.file}:{source.line}:{source.column}"


def _template(workspace: Workspace, target: Target) -> str:
    config = workspace.config_of(target.project)
    return config.variable if config is not None else DEFAULT_VARIABLE


_REFERENCE = re.compile(r"\$\{?([_A-Za-z][_A-Za-z0-9]*)")


def _referenced(workspace: Workspace) -> set[str]:
    """Variables the compose files already use: a new name must not tie two ports together."""
    assert workspace.cache is not None
    files = {f for p in workspace.projects for f in p.files}
    names: set[str] = set()
    for file in files:
        try:
            names.update(_REFERENCE.findall(workspace.cache.text(file)))
        except ComposePortsError:
            continue
    return names


def _literal(binding: PortBinding) -> bool:
    return binding.origin is Origin.LITERAL and binding.host_range is not None


def _default(binding: PortBinding) -> str:
    if binding.long_syntax:
        return binding.spec.published or ""
    return _host_part(binding.raw)[1]


def _host_part(content: str) -> tuple[str, str, str]:
    """`IP:HOST:CONTAINER` -> (text before the host part, host part, text after it).

    Colons inside `${...}` do not split: `${P:-8080}:80` has the host part `${P:-8080}`.
    """
    parts: list[str] = []
    depth, current = 0, ""
    index = 0
    while index < len(content):
        char = content[index]
        if content.startswith("${", index):
            depth, current, index = depth + 1, current + "${", index + 2
            continue
        if char == "}" and depth:
            depth -= 1
        if char == ":" and not depth:
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    parts.append(current)
    if len(parts) < 2:
        return "", content, ""
    prefix = ":".join(parts[:-2])
    return (prefix + ":" if len(parts) > 2 else ""), parts[-2], ":" + parts[-1]


_DEFAULTED = re.compile(r"^\$\{(?P<name>[_A-Za-z][_A-Za-z0-9]*):-(?P<default>[^${}]*)\}$")


def _edit(
    text: str,
    span: ScalarSpan | None,
    binding: PortBinding,
    name: str | None,
    port: int | None = None,
) -> Edit | None:
    """One scalar rewritten: its host port to a variable (name), or to another port (remap)."""
    if span is None or span.style not in ("", '"', "'"):
        return None
    source_text = text[span.start : span.end]
    quote = span.style
    inner = source_text[1:-1] if quote else source_text
    if inner != binding.raw or "\n" in inner or (quote == '"' and "\\" in inner):
        return None
    if binding.long_syntax:
        before, host, after = "", inner, ""
    else:
        before, host, after = _host_part(inner)
    if port is not None:
        defaulted = _DEFAULTED.match(host)
        if defaulted:
            host = f"${{{defaulted['name']}:-{port}}}"
        elif host.isdigit():
            host = str(port)
        else:
            return None
    if name is not None:
        value = str(port) if port is not None else (_default(binding) or host)
        host = f"${{{name}:-{value}}}"
    quote = quote or '"'
    return Edit(span.start, span.end, f"{quote}{before}{host}{after}{quote}")


def _override_edits(text: str, replace: Replace, names: Mapping[Source, str]) -> list[Edit] | None:
    """`ports: !override`, plus the earlier files' entries that must stay published."""
    layout = ports_layout(text, replace.service.name)
    if layout is None or layout.tag not in (None, "!override"):
        return None
    edits = [] if layout.tag else [Edit(layout.after_colon, layout.after_colon, " !override")]
    entries = [_entry_text(b, names.get(b.source)) for b in replace.copied]
    if not entries:
        return edits
    if layout.flow:
        joined = ", ".join(entries)
        edits.append(
            Edit(layout.append_at, layout.append_at, joined if layout.empty else ", " + joined)
        )
    else:
        lines = "".join(f"{layout.newline}{layout.indent}- {e}" for e in entries)
        edits.append(Edit(layout.append_at, layout.append_at, lines))
    return edits


def _entry_text(binding: PortBinding, name: str | None) -> str:
    """An earlier file's entry, written again in the override: with its variables, and with the
    variable this very run gives its host port, so that the copy needs no second fix."""
    if not binding.long_syntax:
        raw = binding.raw
        if name is not None:
            before, host, after = _host_part(raw)
            raw = f"{before}${{{name}:-{host}}}{after}"
        return '"' + raw.replace("\\", "\\\\").replace('"', '\\"') + '"'
    spec = binding.spec
    fields = [f"target: {spec.target}"]
    if spec.published is not None:
        value = binding.raw or spec.published
        if name is not None:
            value = f"${{{name}:-{spec.published}}}"
        fields.append(f'published: "{value}"')
    if spec.host_ip:
        fields.append(f'host_ip: "{spec.host_ip}"')
    fields.append(f"protocol: {spec.protocol}")
    if spec.mode != "ingress":
        fields.append(f"mode: {spec.mode}")
    return "{" + ", ".join(fields) + "}"


def unified_diff(original: str, new: str, shown: str) -> str:
    """A diff that `patch` and `git apply` accept, down to a missing final newline."""
    import difflib

    lines = []
    for line in difflib.unified_diff(
        original.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"a/{shown}",
        f"b/{shown}",
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:
            lines.append(line + "\n\\ No newline at end of file\n")
    return "".join(lines)


# -- proof ------------------------------------------------------------------------------


def meaning(projects: Sequence[Project], remap: RemapPlan | None = None) -> dict[str, list]:
    """What the projects publish, without where it is written: what a fix must not change.

    With a remap plan: what they must publish after it, the entries an `!override` replaces
    gone and the moved ports moved; the order of a replaced list may change, so it is sorted.
    """
    dropped: dict[str, set[Source]] = {}
    for replace in remap.replaces if remap else ():
        dropped.setdefault(project_key(replace.project), set()).update(
            b.source for b in replace.dropped
        )
    result: dict[str, list] = {}
    for project in projects:
        key = project_key(project)
        gone = dropped.get(key, set())
        entries = []
        for binding in project.bindings:
            if binding.source in gone:
                continue
            # Plain types only: a value read as a YAML int and rewritten as a string is equal.
            spec = {
                k: (v if v is None or isinstance(v, int) else str(v))
                for k, v in _fields(binding.spec)
            }
            if remap and binding.source in remap.ports:
                spec["published"] = str(remap.ports[binding.source])
            entries.append({"service": binding.service, **spec})
        if remap:
            entries.sort(key=lambda e: sorted((k, str(v)) for k, v in e.items()))
        result[key] = entries
    return result


def _fields(spec: PortSpec) -> list[tuple[str, object]]:
    # Shallow: dataclasses.asdict deep-copies every value, the bulk of a monorepo's proof.
    return [(f.name, getattr(spec, f.name)) for f in dataclass_fields(spec)]


def difference(before: Mapping, after: Mapping) -> str | None:
    """A short account of what differs, or None."""
    if before == after:
        return None  # the common case, and a plain comparison is fast
    from deepdiff import DeepDiff

    diff = DeepDiff(before, after, ignore_order=False)
    if not diff:
        return None
    return diff.pretty().splitlines()[0] if hasattr(diff, "pretty") else str(diff)


def encoded(workspace: Workspace, file: str, text: str) -> bytes:
    assert workspace.cache is not None
    return encode_like(text, workspace.cache.read(file))


def original_bytes(workspace: Workspace, file: str) -> bytes:
    assert workspace.cache is not None
    return workspace.cache.read(file)


def append_env(path: Path, variables: Mapping[str, str], ordered: bool = False) -> list[str]:
    """Add the missing variables to an env file; existing lines are never changed.

    An env file Compose could not read is left alone (an error): its keys cannot be known.
    """
    from compose_ports.dotenv import parse_dotenv

    existing = path.read_bytes() if path.exists() else b""
    text = existing.decode("utf-8-sig") if existing else ""
    defined = parse_dotenv(text, lambda _: None, str(path))
    names = list(variables) if ordered else sorted(variables)
    missing = [name for name in names if name not in defined]
    if not missing:
        return []
    addition = "".join(f"{name}={variables[name]}\n" for name in missing)
    if text and not text.endswith(("\n", "\r")):
        addition = ("\r\n" if "\r\n" in text else "\n") + addition
    if "\r\n" in text:
        addition = addition.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    from compose_ports.fix.write import write_atomic

    data = existing + addition.encode("utf-8")
    if path.exists():
        write_atomic(path, data, existing)
    else:
        _create(path, data)
    return missing


def _create(path: Path, data: bytes) -> None:
    import os
    import tempfile

    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)

"""The proof `fix` runs before it writes: it does not trust the plan.

Every project that reads an edited file (the run's and the repository's others, each with its
own `.env`, env files and the process environment) is loaded again from the new texts, and
must publish exactly what it published before (host IP, host port, container port, protocol,
and the rest of each entry), except for what the findings asked: the entries an `!override`
drops and the ports a remap moves. The expectation is stated from the findings and the
projects as they were read; the model of the new texts is only ever compared with it.

Then once more with every new variable set to a port of its own: each must move exactly the
entries whose scalars it was written into. That catches a variable given to one of two entries
that Compose merges as duplicates (setting it would publish a second port instead of moving
the first), or a name another project already gives a value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from compose_ports.compose.loading import FileCache, load_project
from compose_ports.fix.planning import Expected
from compose_ports.fix.readers import Reader
from compose_ports.forked import map_split
from compose_ports.model import PortBinding, Project, Source
from compose_ports.rules.base import where

Entry = tuple[str, str | None, str | None, int, str, str, str | None, str | None, int]


def _entry(binding: PortBinding, published: str | None) -> Entry:
    spec = binding.spec
    return (
        binding.service,
        spec.host_ip,
        published,
        spec.target,
        spec.protocol,
        spec.mode,
        spec.name,
        spec.app_protocol,
        spec.count,
    )


def publishes(project: Project) -> Counter[Entry]:
    return Counter(_entry(b, b.spec.published) for b in project.bindings)


Shifts = Mapping[Source, tuple[int, int]]


def shifts_of(expected: Expected, sentinels: Mapping[str, int] | None = None) -> Shifts:
    """Scalar -> (the first port it writes today, the first port it must write after): the
    moves, and with sentinels, every new variable's scalars at its sentinel."""
    shifts: dict[Source, tuple[int, int]] = {s: (0, p) for s, p in expected.moved.items()}
    for name, port in (sentinels or {}).items():
        members, start, _ = expected.named[name]
        for source in members:
            shifts[source] = (start, port)
    return shifts


def expected_of(project: Project, key: str, expected: Expected, shifts: Shifts) -> Counter[Entry]:
    """What project must publish after the fix: the findings' drops gone, its scalars shifted."""
    gone = expected.dropped.get(key, ())
    result: Counter[Entry] = Counter()
    for binding in project.bindings:
        if binding.source in gone:
            continue
        published = binding.spec.published
        shift = shifts.get(binding.source)
        if shift is not None and published:
            published = _shifted(published, *shift)
        result[_entry(binding, published)] += 1
    return result


def _shifted(published: str, start: int, new: int) -> str:
    """A published port moved with its scalar: a move sets it (start 0), a sentinel shifts a
    range and the entries Compose expanded it into alike."""
    if not start:
        return str(new)
    return "-".join(str(new + int(p) - start) for p in published.split("-"))


def _value(port: int, width: int) -> str:
    return str(port) if width == 0 else f"{port}-{port + width}"


def sentinels(readers: Sequence[Reader], expected: Expected) -> dict[str, int]:
    """A port of its own for each new variable, used by no entry of the projects read."""
    used: set[int] = set()
    for reader in readers:
        for binding in reader.project.bindings:
            rng = binding.host_range
            if rng is not None and rng[1] - rng[0] < 4096:
                used.update(range(rng[0], rng[1] + 1))
    chosen: dict[str, int] = {}
    port = 20000
    for name, (_, _, width) in sorted(expected.named.items()):
        while port + width <= 65535 and any(p in used for p in range(port, port + width + 1)):
            port += 1
        if port + width > 65535:
            break  # out of room: the remaining names are proven with today's values only
        chosen[name] = port
        used.update(range(port, port + width + 1))
        port += width + 1
    return chosen


def prove(
    readers: Sequence[Reader],
    texts: Mapping[str, str],
    cache: FileCache,
    expected: Expected,
) -> str | None:
    """None when every reader of an edited file publishes what it must; else what differs."""
    edited = set(texts)
    affected = [r for r in readers if edited & set(r.project.reads or r.project.files)]
    new_cache = cache.replaced(texts)
    today = shifts_of(expected)
    chosen = sentinels(affected, expected)
    shifted = shifts_of(expected, chosen) if chosen else today
    # Each reader gets the variables its own files were given, each set to its sentinel.
    by_file: dict[str, list[str]] = {}
    for name in chosen:
        for file in {s.file for s in expected.named[name][0]}:
            by_file.setdefault(file, []).append(name)

    def check(reader: Reader) -> _Verdict:
        """Both proofs of one reader: with today's values, then with the new variables set."""
        after = load_project(reader.options, stack=reader.stack, cache=new_cache)
        problem = _compare(reader, after, expected, today)
        if problem is not None:
            return f"{where(reader.project)}: {problem}", None
        names = sorted(
            {n for f in reader.project.reads or reader.project.files for n in by_file.get(f, ())}
        )
        if not names:
            return None, None
        values = {n: _value(chosen[n], expected.named[n][2]) for n in names}
        options = replace(reader.options, environ={**reader.options.environ, **values})
        after = load_project(options, stack=reader.stack, cache=new_cache)
        problem = _compare(reader, after, expected, shifted)
        if problem is None:
            return None, None
        shown = ", ".join(f"{n}={v}" for n, v in list(values.items())[:3])
        more = f" and {len(values) - 3} more" if len(values) > 3 else ""
        return None, f"{where(reader.project)} with {shown}{more} set: {problem}"

    verdicts = list(_each(check, affected))
    # Today's values first: a reader that no longer publishes what it did says more than one
    # whose new variable does not move its port.
    for problems in (v[0] for v in verdicts), (v[1] for v in verdicts):
        for problem in problems:
            if problem is not None:
                return problem
    return None


# Below this many readers a second process costs more than it saves.
_PARALLEL_FROM = 16
_Verdict = tuple[str | None, str | None]  # (with today's values, with the new variables set)


def _each(check: Callable[[Reader], _Verdict], readers: Sequence[Reader]) -> list[_Verdict]:
    """Each reader's verdict, in order. The readers are independent: on a machine with more
    than one core, a forked worker proves the second half of them (it inherits every parsed
    file), so the proof of a monorepo costs about what one load of it costs."""
    return map_split(check, readers, _PARALLEL_FROM)


def _compare(reader: Reader, after: Project, expected: Expected, shifts: Shifts) -> str | None:
    before = reader.project
    new_problems = {(d.kind, d.message) for d in after.diagnostics} - {
        (d.kind, d.message) for d in before.diagnostics
    }
    if new_problems:
        return f"the new text reads with an error: {sorted(new_problems)[0][1]}"
    if after.rejection != before.rejection:
        return f"Compose would then refuse the project: {after.rejection}"
    wanted = expected_of(before, reader.key, expected, shifts)
    found = publishes(after)
    if wanted == found:
        return None
    extra = sorted(found - wanted, key=str)
    missing = sorted(wanted - found, key=str)
    parts = []
    if extra:
        parts.append(f"it would publish {_shown(extra[0])}")
    if missing:
        parts.append(f"it would no longer publish {_shown(missing[0])}")
    return "; ".join(parts)


def _shown(entry: Entry) -> str:
    service, host_ip, published, target, protocol, *_ = entry
    host = published or "(ephemeral)"
    if host_ip:
        host = f"[{host_ip}]:{host}" if ":" in host_ip else f"{host_ip}:{host}"
    return f"{host}->{target}/{protocol} of {service}"

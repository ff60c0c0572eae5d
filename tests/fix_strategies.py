"""Hypothesis strategies for random multi-project repositories and random `compose-ports fix` runs.

A generated repository has a `.git` directory at its root and 1-3 project directories (`a/`,
`b/`, `shared/`), each with a `compose.yaml`, sometimes a `compose.override.yaml` and a `.env`.
`a/` and `b/` may reach `shared/compose.yaml` through `extends` or `include`. The files are
written as text by hand, so that every port is spelled on purpose: quoted and unquoted short
syntax (`- 22:22`, which YAML 1.1 misreads), IP-bound, ranges, udp, long syntax with `name:`,
`app_protocol:` and `host_ip:`, variables with defaults or set in `.env`, entries Compose merges
as duplicates, overrides that append a host port for a container port the base publishes
(CP103), collide with another service (CP101) or only name a container port.

Most of what is generated is valid, so that the real binary accepts the projects and the test
has something to compare; the test skips what the binary refuses before the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

Draw = Callable[[st.SearchStrategy[Any]], Any]

SHARED_FILE = "../shared/compose.yaml"

# Each service's image (policy ranges match images) and the container ports it listens on.
IMAGES = {
    "web": "nginx",
    "api": "example/api:1",
    "db": "postgres:16",
    "cache": "redis:7",
    "dns": "coredns/coredns",
}
TARGETS = {"web": (80, 443), "api": (8000, 9000), "db": (5432,), "cache": (6379,), "dns": (53,)}
# Host ports, picked so that services and projects collide now and then.
HOST_PORTS = {
    "web": (8080, 8081, 8443),
    "api": (8000, 9000, 8080),
    "db": (5432, 5433),
    "cache": (6379, 6380),
    "dns": (53, 5353),
}
# Names `fix` would give ports (`{SERVICE}_PORT`, `{SERVICE}_{TARGET}_PORT`, `{STACK}_...`),
# which a `.env` may already define: `fix` must never reuse them.
TAKEN_NAMES = (
    "WEB_PORT",
    "API_PORT",
    "DB_PORT",
    "CACHE_PORT",
    "WEB_80_PORT",
    "A_WEB_PORT",
    "A_DB_PORT",
    "B_API_PORT",
)
# Variables the compose files read themselves.
OWN_VARIABLES = ("WEB_PORT", "API_PORT", "DB_PORT")
POLICY = """\
ranges:
  frontend: {ports: 8000-8999, services: ["web*", "api*"]}
  data: {ports: 5000-6999, images: ["postgres*", "redis*"]}
"""


def weighted(draw: Draw, options: Sequence[tuple[int, Any]]) -> Any:
    """One of the options, by weight; shrinks towards the first one. A callable option is only
    called (and its draws made) when picked."""
    total = sum(w for w, _ in options)
    pick = draw(st.integers(0, total - 1))
    for weight, value in options:
        if pick < weight:
            return value() if callable(value) else value
        pick -= weight
    raise AssertionError("unreachable")


def chance(draw: Draw, percent: int) -> bool:
    return bool(weighted(draw, [(100 - percent, False), (percent, True)]))


# -- port entries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One item of a `ports` list, in block form (lines relative to the item's `- `) and, when
    it can be written so, in flow form; with what it publishes where that is known."""

    block: tuple[str, ...]
    flow: str | None
    target: int
    host: int | None = None  # the literal host port (first of a range); None: none or a variable
    protocol: str = "tcp"
    variables: tuple[str, ...] = ()  # variables whose value the project's env must hold


def quoted(text: str, style: str) -> str:
    if style == "single":
        return f"'{text}'"
    if style == "plain":
        return text
    return f'"{text}"'


def short(text: str, target: int, host: int | None, style: str = "double", **kw: Any) -> Entry:
    """A short-syntax item; in a flow list it is always quoted (go-yaml and libyaml differ on a
    plain `a:b` there, which is not what this test is about)."""
    flow = quoted(text, "single" if style == "single" else "double")
    return Entry((f"- {quoted(text, style)}",), flow, target, host, **kw)


def long(fields: Sequence[tuple[str, str]], target: int, host: int | None, **kw: Any) -> Entry:
    block = tuple(("- " if i == 0 else "  ") + f"{k}: {v}" for i, (k, v) in enumerate(fields))
    flow = "{" + ", ".join(f"{k}: {v}" for k, v in fields) + "}"
    return Entry(block, flow, target, host, **kw)


@st.composite
def long_entry(draw: Draw, target: int, host: int | None, published: str | None = None) -> Entry:
    """`- target: T` with `published` as an int or a string, and sometimes the other keys."""
    fields: list[tuple[str, str]] = [("target", str(target))]
    if published is not None:
        fields.append(("published", published))
    elif host is not None:
        fields.append(("published", str(host) if chance(draw, 50) else f'"{host}"'))
    if chance(draw, 25):
        fields.append(("host_ip", '"127.0.0.1"'))
    if chance(draw, 25):
        fields.append(("name", draw(st.sampled_from(("http", "admin", "metrics")))))
    if chance(draw, 25):
        fields.append(("app_protocol", draw(st.sampled_from(("http", "grpc")))))
    if chance(draw, 15):
        fields.append(("protocol", "tcp"))
    order = draw(st.permutations(fields[1:])) if chance(draw, 30) else fields[1:]
    return long([fields[0], *order], target, host)


@st.composite
def base_entries(draw: Draw, service: str, taken_targets: set[int]) -> list[Entry]:
    """One to two items that publish something new for the service (or merge as duplicates)."""
    targets = [t for t in TARGETS[service] if t not in taken_targets] or [
        draw(st.sampled_from((81, 8081, 9090, 3000)))
    ]
    target = draw(st.sampled_from(targets))
    host = draw(st.sampled_from(HOST_PORTS[service]))
    style = weighted(draw, [(5, "double"), (2, "single"), (2, "plain")])
    kind = weighted(
        draw,
        [
            (8, "short"),
            (2, "yaml11"),
            (2, "ip"),
            (2, "range"),
            (2, "udp"),
            (1, "ipv6"),
            (1, "pool"),
            (5, "long"),
            (3, "variable"),
            (1, "env-variable"),
            (2, "private-ip"),
            (1, "container-only"),
        ],
    )
    if kind == "short":
        return [short(f"{host}:{target}", target, host, style)]
    if kind == "yaml11":
        # `22:22` and `2222:22` are sexagesimal ints to YAML 1.1 (1342, 133342): unquoted.
        host = draw(st.sampled_from((22, 2222)))
        return [short(f"{host}:22", 22, host, "plain")]
    if kind == "ip":
        return [short(f"127.0.0.1:{host}:{target}", target, host, style)]
    if kind == "range":
        start = draw(st.sampled_from((8000, 9100, 7000)))
        text = f"{start}-{start + 2}:{start}-{start + 2}"
        return [short(text, start, start, style)]
    if kind == "ipv6":
        return [short(f"[::1]:{host}:{target}", target, host, "double")]
    if kind == "pool":
        # one free port of the range for one container port
        return [short(f"{host}-{host + 5}:{target}", target, host, style)]
    if kind == "udp":
        return [short(f"{host}:{target}/udp", target, host, style, protocol="udp")]
    if kind == "long":
        return [draw(long_entry(target, host))]
    if kind == "variable":
        name = draw(st.sampled_from(OWN_VARIABLES))
        if chance(draw, 30):
            return [draw(long_entry(target, None, f'"${{{name}:-{host}}}"'))]
        return [short(f"${{{name}:-{host}}}:{target}", target, None, style)]
    if kind == "env-variable":
        return [short(f"${{X}}:{target}", target, None, "double", variables=("X",))]
    if kind == "private-ip":
        # Compose merges both into one entry: fix must give them one variable.
        literal = short("127.0.0.1:8404:8404", 8404, 8404, style)
        variable = short("${PRIVATE_IP:-127.0.0.1}:8404:8404", 8404, 8404, "double")
        return [literal, variable] if chance(draw, 70) else [variable, literal]
    # container only: an ephemeral host port
    if chance(draw, 50):
        return [long([("target", str(target))], target, None)]
    return [short(str(target), target, None, weighted(draw, [(1, "double"), (1, "plain")]))]


def short_text(entry: Entry) -> str | None:
    """The string of a one-line short-syntax item (`8080:80`), unquoted; None for others."""
    if len(entry.block) != 1 or re.match(r"- (\{|\w+: )", entry.block[0]):
        return None  # long syntax
    return entry.block[0][2:].strip("\"'")


def as_long_twin(draw: Draw, entry: Entry) -> Entry | None:
    """`"8080:80"` as `{target: 80, published: "8080"}`, which Compose merges with it; or with
    `published: 8080`, which it does not (its unicity key formats an int apart from a string)."""
    if entry.host is None or entry.protocol != "tcp":
        return None
    text = short_text(entry)
    fields = [("target", str(entry.target))]
    if text == f"{entry.host}:{entry.target}":
        pass
    elif text == f"127.0.0.1:{entry.host}:{entry.target}":
        fields.append(("host_ip", "127.0.0.1"))
    else:
        return None
    published = f'"{entry.host}"' if chance(draw, 60) else str(entry.host)
    return long([*fields, ("published", published)], entry.target, entry.host)


@st.composite
def repeated(draw: Draw, entries: Sequence[Entry]) -> Entry:
    """An earlier entry again, which Compose merges with it (or, with an int `published`, does
    not): the same text, another quoting, `0.0.0.0:` in front, or its long-syntax twin."""
    entry = draw(st.sampled_from(entries))
    how = weighted(draw, [(3, "same"), (2, "requote"), (1, "twin"), (1, "any-ip")])
    text = short_text(entry)
    if how == "twin":
        twin = as_long_twin(draw, entry)
        if twin is not None:
            return twin
    if how == "any-ip" and text is not None and entry.host is not None and text.count(":") == 1:
        # `0.0.0.0:8080:80` has the unicity key of `8080:80`: one entry
        return short(f"0.0.0.0:{text}", entry.target, entry.host, protocol=entry.protocol)
    if how == "requote" and text is not None:
        style = draw(st.sampled_from(("double", "single", "plain")))
        return short(text, entry.target, entry.host, style, protocol=entry.protocol)
    return entry


@dataclass
class Service:
    """A service as generated so far, in one project: its name and the entries it has."""

    name: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def targets(self) -> set[int]:
        return {e.target for e in self.entries}


@st.composite
def service_ports(draw: Draw, service: Service, count: int) -> list[Entry]:
    """`count` new items for a service in its first file, duplicates now and then."""
    entries: list[Entry] = []
    for _ in range(count):
        known = service.entries + entries
        if known and chance(draw, 12):
            entries.append(draw(repeated(known)))
        else:
            entries.extend(
                draw(base_entries(service.name, service.targets | {e.target for e in entries}))
            )
    return entries


def render_service(
    draw: Draw,
    name: str,
    entries: Sequence[Entry],
    image: bool = True,
    extends: bool = False,
    tag: str = "",
) -> list[str]:
    """A service as lines under `services:`, its ports in block or flow style."""
    lines = [f"  {name}:"]
    if image:
        lines.append(f"    image: {IMAGES[name]}")
    if extends:
        lines += ["    extends:", f"      file: {SHARED_FILE}", f"      service: {name}"]
    if not entries and not tag:
        return lines
    head = "    ports:" + (f" {tag}" if tag else "")
    flows = [e.flow for e in entries]
    if not entries:
        return [*lines, f"{head} []"]
    if all(f is not None for f in flows) and chance(draw, 20):
        return [*lines, f"{head} [{', '.join(f for f in flows if f is not None)}]"]
    lines.append(head)
    indent = "      " if chance(draw, 80) else "    "
    for entry in entries:
        comment = "  # the team's note" if chance(draw, 10) else ""
        lines.append(indent + entry.block[0] + comment)
        lines.extend(indent + line for line in entry.block[1:])
    return lines


# -- projects -----------------------------------------------------------------------------------


@dataclass
class ProjectDraft:
    """What one project directory holds, as it is generated."""

    directory: str
    services: dict[str, Service] = field(default_factory=dict)
    included: dict[str, Service] = field(default_factory=dict)  # reached through `include`
    variables: set[str] = field(default_factory=set)  # what its `.env` must define
    files: dict[str, str] = field(default_factory=dict)  # file name -> text


@st.composite
def base_file(draw: Draw, draft: ProjectDraft, shared: ProjectDraft | None) -> None:
    """`compose.yaml`: 1-3 services; outside `shared/`, maybe `extends` or `include` of it."""
    how = "plain"
    if shared is not None and draft.directory != "shared":
        how = weighted(draw, [(2, "plain"), (3, "extends"), (2, "include")])
    lines: list[str] = []
    names = list(IMAGES)
    if how == "include":
        assert shared is not None
        lines += ["include:", f"  - {SHARED_FILE}"]
        draft.included = {n: Service(n, list(s.entries)) for n, s in shared.services.items()}
        # Compose refuses a service defined both here and in the included file.
        names = [n for n in names if n not in shared.services]
    lines.append("services:")
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    extended: set[str] = set()
    if how in ("extends", "include"):
        assert shared is not None
        draft.variables |= shared.variables  # `${X}` there is read with this project's env
    if how == "extends":
        assert shared is not None
        extended = set(
            draw(
                st.lists(
                    st.sampled_from(sorted(shared.services)), min_size=1, max_size=2, unique=True
                )
            )
        )
        chosen = list(dict.fromkeys([*sorted(extended), *chosen]))
    for name in chosen:
        service = Service(name)
        if name in extended:
            assert shared is not None
            service.entries = list(shared.services[name].entries)
        count = draw(st.integers(0 if name in extended else 1, 2))
        if name in extended and count and chance(draw, 40):
            # the same entry as the extended service's: Compose merges the two
            new = [draw(repeated(service.entries))] if service.entries else []
        else:
            new = draw(service_ports(service, count))
        service.entries += new
        draft.services[name] = service
        for entry in new:
            draft.variables.update(entry.variables)
        lines += render_service(
            draw, name, new, image=name not in extended, extends=name in extended
        )
    draft.files["compose.yaml"] = "\n".join(lines) + "\n"


@st.composite
def override_file(draw: Draw, draft: ProjectDraft) -> None:
    """`compose.override.yaml`: entries appended to the base's services, or a new service."""
    # Copies: what an override adds is not what `extends`/`include` of the base file see.
    known = {
        n: Service(n, list(s.entries)) for n, s in {**draft.included, **draft.services}.items()
    }
    lines = ["services:"]
    picked = draw(st.lists(st.sampled_from(sorted(known)), min_size=1, max_size=2, unique=True))
    others = [n for n in IMAGES if n not in known]
    if others and chance(draw, 30):
        picked.append(draw(st.sampled_from(others)))
    for name in picked:
        service = known.get(name)
        if service is None:
            service = Service(name)
            new = draw(service_ports(service, draw(st.integers(1, 2))))
            collide = _collision(draw, known, service)
            if collide is not None:
                new.append(collide)
            known[name] = service
            service.entries += new
            lines += render_service(draw, name, new)
        else:
            new = [draw(_override_entry(known, service)) for _ in range(draw(st.integers(1, 2)))]
            service.entries += new
            tag = "!override" if chance(draw, 6) else ""
            lines += render_service(draw, name, new, image=chance(draw, 20), tag=tag)
        for entry in new:
            draft.variables.update(entry.variables)
    draft.files["compose.override.yaml"] = "\n".join(lines) + "\n"


def _collision(draw: Draw, known: dict[str, Service], service: Service) -> Entry | None:
    """A literal entry on a host port another service of the project publishes (CP101)."""
    ports = sorted(
        {
            (e.host, e.protocol)
            for s in known.values()
            if s.name != service.name
            for e in s.entries
            if e.host
        }
    )
    if not ports:
        return None
    host, protocol = draw(st.sampled_from(ports))
    target = 81 if service.name == "web" else TARGETS[service.name][0]
    suffix = "/udp" if protocol == "udp" else ""
    return short(f"{host}:{target}{suffix}", target, host, protocol=protocol)


@st.composite
def _override_entry(draw: Draw, known: dict[str, Service], service: Service) -> Entry:
    """An override's item for a service the project has: a second host port for a container
    port (CP103), a repeat, a container port alone, a collision (CP101), or something new."""
    published = [e for e in service.entries if e.host is not None]
    how = weighted(
        draw,
        [
            (5, "append"),
            (2, "same"),
            (2, "container-only"),
            (3, "collide"),
            (2, "new"),
        ],
    )
    if how == "append" and published:
        # A second host port for a container port the base publishes: CP103.
        base = draw(st.sampled_from(published))
        host = (base.host or 0) + draw(st.sampled_from((1, 10, 1000)))
        suffix = "/udp" if base.protocol == "udp" else ""
        if chance(draw, 30) and not suffix:
            return draw(long_entry(base.target, host))
        return short(f"{host}:{base.target}{suffix}", base.target, host, protocol=base.protocol)
    if how == "same" and service.entries:
        return draw(repeated(service.entries))
    if how == "container-only" and service.entries:
        target = draw(st.sampled_from(sorted(service.targets)))
        if chance(draw, 50):
            return long([("target", str(target))], target, None)
        return short(str(target), target, None, draw(st.sampled_from(("double", "plain"))))
    if how == "collide":
        entry = _collision(draw, known, service)
        if entry is not None:
            return entry
    entries = draw(base_entries(service.name, service.targets))
    return entries[0]


@st.composite
def dotenv(draw: Draw, draft: ProjectDraft) -> None:
    """A `.env` defining names fix would pick, and the variables the project reads."""
    lines: list[str] = []
    if chance(draw, 40):
        lines.append("# ports of this project")
    for name in draw(st.lists(st.sampled_from(TAKEN_NAMES), max_size=3, unique=True)):
        lines.append(f"{name}={draw(st.sampled_from((9999, 8090, 5442, 7001)))}")
    if "X" in draft.variables:
        lines.append("X=8088")
    if chance(draw, 20):
        lines.append("PRIVATE_IP=127.0.0.1")
    if lines:
        draft.files[".env"] = "\n".join(lines) + "\n"


# -- repositories and runs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Repository:
    """Files by their path from the repository's root."""

    files: tuple[tuple[str, str], ...]

    def write(self, root: Path) -> None:
        (root / ".git").mkdir(parents=True, exist_ok=True)
        for name, text in self.files:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    @property
    def projects(self) -> list[str]:
        """The directories `docker compose` reads as a project with no options."""
        return sorted(
            {name.rpartition("/")[0] for name, _ in self.files if name.endswith("/compose.yaml")}
        )

    def text(self, name: str) -> str | None:
        return dict(self.files).get(name)


@dataclass(frozen=True)
class FixRun:
    """One `compose-ports fix` command line, run from the repository's root."""

    paths: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # -f
    remap: bool = False
    env_file: str | None = None

    @property
    def args(self) -> list[str]:
        args = ["fix"]
        if self.remap:
            args.append("--remap")
        for file in self.files:
            args += ["-f", file]
        if self.env_file is not None:
            args += ["--env-file", self.env_file]
        return [*args, *self.paths]

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(p for p in self.paths if p.endswith(".yaml"))


@dataclass(frozen=True)
class Example:
    repository: Repository
    run: FixRun

    def describe(self) -> str:
        """Everything needed to reproduce the example by hand."""
        out = ["== repository (a `.git` directory at its root) =="]
        for name, text in self.repository.files:
            out += [f"--- {name} ---", text.rstrip("\n")]
        out.append(f"== from the root: compose-ports {' '.join(self.run.args)} ==")
        return "\n".join(out)


@st.composite
def repositories(draw: Draw) -> Repository:
    directories = draw(
        st.lists(st.sampled_from(("a", "b", "shared")), min_size=1, max_size=3, unique=True)
    )
    directories.sort(key=lambda d: d != "shared")  # shared first: the others reach it
    drafts: list[ProjectDraft] = []
    shared: ProjectDraft | None = None
    for directory in directories:
        draft = ProjectDraft(directory)
        draw(base_file(draft, shared))
        if chance(draw, 55):
            draw(override_file(draft))
        if draft.variables or chance(draw, 45):
            draw(dotenv(draft))
        if directory == "shared":
            shared = draft
        drafts.append(draft)
    files = [(f"{d.directory}/{name}", text) for d in drafts for name, text in d.files.items()]
    config = POLICY if chance(draw, 25) else ""
    if len(drafts) > 1 and chance(draw, 20):
        # One machine runs every project: their host ports collide across projects (CP101),
        # and `--remap` must find ports free on all of them. A stack per project, named after
        # its directory and reading the files `docker compose` reads there.
        lines = ["stacks:"]
        for draft in drafts:
            names = [n for n in ("compose.yaml", "compose.override.yaml") if n in draft.files]
            lines.append(
                f"  {draft.directory}: [{', '.join(f'{draft.directory}/{n}' for n in names)}]"
            )
        lines += ["hosts:", f"  box: [{', '.join(d.directory for d in drafts)}]"]
        config += "\n".join(lines) + "\n"
    if config:
        files.append((".compose-ports.yaml", config))
    return Repository(tuple(sorted(files)))


@st.composite
def fix_runs(draw: Draw, repository: Repository) -> FixRun:
    compose_files = [
        n for n, _ in repository.files if n.endswith(("compose.yaml", "override.yaml"))
    ]
    remap = chance(draw, 35)
    how = weighted(draw, [(4, "directory"), (3, "trigger"), (2, "stack")])
    paths: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    if how == "directory":
        paths = draw(st.sampled_from(((), (".",), (draw(st.sampled_from(repository.projects)),))))
    elif how == "trigger":
        paths = (draw(st.sampled_from(compose_files)),)
    else:
        project = draw(st.sampled_from(repository.projects))
        files = tuple(
            f"{project}/{name}"
            for name in ("compose.yaml", "compose.override.yaml")
            if repository.text(f"{project}/{name}") is not None
        )
        if len(files) > 1 and chance(draw, 20):
            files = files[:1]  # the main file alone: the override is not part of that stack
    env_file = "shared.env" if chance(draw, 20) else None
    return FixRun(paths, files, remap, env_file)


@st.composite
def examples(draw: Draw) -> Example:
    repository = draw(repositories())
    run = draw(fix_runs(repository))
    if run.env_file is not None and chance(draw, 50):
        # An env file that exists already, with a line fix must keep and a name it must avoid.
        text = draw(st.sampled_from(("# ports\nAPI_PORT=8091\n", "WEB_PORT=9998", "OTHER=1\n")))
        repository = Repository(tuple(sorted((*repository.files, (run.env_file, text)))))
    return Example(repository, run)

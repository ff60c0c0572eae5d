"""Random compose projects, loaded by us and by the real Docker Compose v2.40.3 binary.

The property: when the binary accepts a project, we read the same published ports, entry for
entry and in order, without a port, read or variable diagnostic; when it refuses one (a bad port,
bad YAML, a failed interpolation in ports), the binary's message is among ours. Compose stops at
its first error, so only that one is required.

The projects come from `project_strategies.compose_projects`. A failing example prints its files,
`.env`, environment and Compose command line (see `GeneratedProject.describe`).
Disagreements found so far are kept below as plain regression cases, in
`REGRESSIONS`, each with the smallest project that shows it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from compose_view import ours as compose_ours
from hypothesis import HealthCheck, Phase, given, note, settings
from oracle import ComposeResult, compose_config, compose_ports
from project_strategies import GeneratedProject, compose_projects

from compose_ports.compose.loading import load_project
from compose_ports.compose.ports import engine_error
from compose_ports.model import PortSpec, Project

FAILING_KINDS = ("port", "read", "variable")
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}

SETTINGS = settings(
    deadline=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
    print_blob=True,
    # Every run calls the binary: no "explain" phase, it reruns the failing case many times.
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
)


def theirs(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "service": p["service"],
            "host_ip": p.get("host_ip", ""),
            "published": p.get("published", ""),
            "target": p.get("target", 0),
            "protocol": p.get("protocol", ""),
            "mode": p.get("mode", ""),
            "name": p.get("name"),
            "app_protocol": p.get("app_protocol"),
        }
        for p in compose_ports(config)
    ]


def refused_by_engine(entry: dict[str, Any]) -> bool:
    """An entry `config` prints but the engine refuses at create: compose-ports leaves it out
    of the map and reports it (README: "What is read"), so it is not compared."""
    if not entry["target"]:
        return True
    spec = PortSpec(
        target=entry["target"],
        published=entry["published"] or None,
        protocol=entry["protocol"] or "tcp",
    )
    return engine_error(spec) is not None


ENGINE_MESSAGES = (
    "invalid port specification: ",
    "is missing a target port",
    "invalid transport protocol: ",
)


def ours(project: Project) -> list[dict[str, Any]]:
    fields = ("service", "host_ip", "published", "target", "protocol", "mode")
    optional = compose_ours(project, ("name", "app_protocol"), empty=None)
    return [
        {**entry, **extra}
        for entry, extra in zip(compose_ours(project, fields), optional, strict=True)
    ]


def run_both(generated: GeneratedProject, directory: Path) -> tuple[ComposeResult, Project]:
    generated.write(directory)
    environ = {**BASE_ENV, **generated.env}
    result = compose_config(directory, generated.args, generated.env, timeout=20)
    project = load_project(generated.options(directory, environ))
    return result, project


def check_agreement(generated: GeneratedProject, say: Callable[[str], None] = note) -> None:
    note = say
    note(generated.describe())
    with tempfile.TemporaryDirectory(prefix="random-project-") as tmp:
        directory = Path(tmp).resolve()
        result, project = run_both(generated, directory)
        note(f"binary: {'ok' if result.ok else 'error: ' + result.error}")
        note(f"ours: diagnostics={[str(d) for d in project.diagnostics]}")
        note(f"ours: rejection={project.rejection!r}")
        if result.ok:
            assert result.config is not None
            expected = [e for e in theirs(result.config) if not refused_by_engine(e)]
            note(f"binary ports: {expected}")
            errors = [
                str(d)
                for d in project.diagnostics
                if d.kind in FAILING_KINDS and not any(m in d.message for m in ENGINE_MESSAGES)
            ]
            assert errors == [], "the binary accepts the project, we report errors"
            assert project.rejection is None, "the binary accepts the project, we refuse it"
            assert ours(project) == expected
            files = {str(directory / name) for name, _ in generated.files}
            for binding in project.bindings:
                assert binding.source.file in files, binding
                assert binding.source.line >= 1, binding
        else:
            said = [d.message for d in project.diagnostics]
            error = result.error
            assert error, result.stderr
            # go-yaml lists every decoding error of a document, one per line; we name the first.
            listed = [error]
            if "unmarshal errors:" in result.stderr:
                tail = result.stderr.split("unmarshal errors:", 1)[1]
                listed = [line.strip().split(": ", 1)[-1] for line in tail.splitlines()]
            if not _agree(listed, said) and error.startswith(NON_STRING_KEY):
                # With several keys that are not strings, Compose names the first its map
                # iteration meets: Go's map order is random, so it names any of them from one
                # run to the next [V]. Ours (the first in the document) must be one it names.
                listed += _other_answers(generated, directory, NON_STRING_KEY)
            assert _agree(listed, said), (
                f"the binary says {error!r}; we said {said} (rejection {project.rejection!r})"
            )


NON_STRING_KEY = "non-string key in "


def _agree(listed: list[str], said: list[str]) -> bool:
    return any(e in s or s in e for e in listed if e for s in said if s)


def _other_answers(generated: GeneratedProject, directory: Path, prefix: str) -> list[str]:
    """What the binary says over more runs of a project it answers at random."""
    answers = set()
    for _ in range(40):
        again = compose_config(directory, generated.args, generated.env, timeout=20)
        if again.error.startswith(prefix):
            answers.add(again.error)
    return sorted(answers)


@settings(SETTINGS, max_examples=60)
@given(compose_projects(min_files=1, max_files=1))
def test_random_single_files_match_compose(generated: GeneratedProject) -> None:
    check_agreement(generated)


@settings(SETTINGS, max_examples=90)
@given(compose_projects(min_files=2, max_files=3))
def test_random_stacks_of_files_match_compose(generated: GeneratedProject) -> None:
    check_agreement(generated)


# -- disagreements found by the generator, kept as minimal reproducers ---------------------------


def _one(*items: str, profiles: str = "") -> str:
    """A compose file with one service `web` and these `ports` items (YAML text)."""
    lines = ["services:", "  web:", "    image: nginx"]
    if profiles:
        lines.append(f"    profiles: [{profiles}]")
    lines.append("    ports:")
    lines.extend(f"      - {item}" for item in items)
    return "\n".join(lines) + "\n"


def _project(*files: str, profiles: tuple[str, ...] = ()) -> GeneratedProject:
    names = ("compose.yaml", "override.yaml", "local.yml")
    return GeneratedProject(tuple(zip(names[: len(files)], files, strict=True)), None, (), profiles)


# Each: the smallest project the generator found for one disagreement. What the binary and we
# say is in the comment; the rule behind it is in the name.
REGRESSIONS: dict[str, GeneratedProject] = {
    # binary: 8080->80 and 127.0.0.1:80->80. ours (when found): "yaml: line 4: found
    # unexpected ':'". go-yaml v3 reads `a:b` as a plain scalar inside a flow sequence.
    # Passes since a concurrent fix of the loader.
    "flow-sequence-plain-colon": _project(
        "services:\n  web:\n    image: nginx\n    ports: [8080:80, 127.0.0.1:80:80]\n"
    ),
    # binary: published "70000" / "abc" / "8000-7000" kept as written. ours: "invalid port
    # specification". `config` does not validate long-syntax `published` (the engine does).
    "long-published-not-validated-70000": _project(_one('{target: 80, published: "70000"}')),
    "long-published-not-validated-abc": _project(_one('{target: 80, published: "abc"}')),
    "long-published-not-validated-reversed": _project(_one('{target: 80, published: "8000-7000"}')),
    # binary: accepted, {published "8080"} with no target. ours: "missing a target port", by
    # design (the engine can publish nothing to container port 0): reported, left out of the map.
    # Only a *missing* target is an error; `target: 0` passes and is dropped (omitempty).
    "long-target-zero-accepted": _project(_one("{target: 0, published: 8080}")),
    # binary: 'services[web].ports[2].target' ... -5 overflows uint. ours: ports[1].
    # The index is in the canonical list: after ranges expand and unicity collapses entries.
    "target-error-index-after-range-expansion": _project(
        _one('"8080-8081:80-81"', '{target: "-5"}')
    ),
    # binary: ports[1]. ours: ports[2].
    "target-error-index-after-unicity": _project(
        _one('"8080:80"', '"0.0.0.0:8080:80"', '{target: "-5"}')
    ),
    # binary: 'services.web.ports.[2] is missing a target port'. ours: '[1]', and 'items at 0
    # and 1 are equal'. Unicity fails on the entry without a target and Compose stops there:
    # duplicates still in the list, no schema check after it.
    "missing-target-index-before-unicity": _project(
        _one('"8080:5432"', '"8080:5432"', "{published: 8080}")
    ),
    # binary: "invalid hostPort: 70000". ours: nothing. Ports are parsed for every service;
    # profiles only filter the project afterwards.
    "inactive-service-ports-still-parsed": _project(_one('"70000:80"', profiles="debug")),
    "inactive-service-missing-target": _project(_one('{published: "8080"}', profiles="debug")),
    "inactive-service-float-port": _project(_one("80.5", profiles="debug")),
    # binary: "error while interpolating services.web.ports.[].target: failed to cast to
    # expected type: strconv.Atoi: parsing \"abc\": invalid syntax". ours: nothing.
    "inactive-service-target-cast": _project(_one('{target: "abc"}', profiles="debug")),
    "inactive-service-bad-host-ip": _project(_one('{target: 80, host_ip: "[::1]"}', profiles="x")),
    # binary: two entries 8080->80. ours: one. compose-go's unicity key formats `published`
    # with %s: an int published (8080) never equals a string one ("8080").
    "unicity-int-published-is-distinct": _project(
        _one("{target: 80, published: 8080}", '"8080:80"')
    ),
    # binary: two entries ->80. ours: one. `published: ""` and no published differ in the key.
    "unicity-empty-published-is-distinct": _project(_one('{target: 80, published: ""}', '"80"')),
    # binary: 140->81 without host_ip. ours: host_ip 0.0.0.0. Each file's merged model is
    # canonicalised and de-duplicated before the next file is merged, so the override's
    # "140:81" replaces the already collapsed "0.0.0.0:140:81" entry.
    "unicity-runs-after-each-file": _project(
        _one('"140:81"', '"0.0.0.0:140:81"'), _one('"140:81"')
    ),
    # binary: ->8080 without host_ip. ours: host_ip 0.0.0.0. Same rule, with long syntax.
    "unicity-runs-after-each-file-long": _project(
        _one('"8080"', '"0.0.0.0::8080"'), _one("8080", '{target: 8080, host_ip: "0.0.0.0"}')
    ),
    # binary: "invalid proto: tcp/udp". ours: nothing. The model is validated after each
    # file; a later `!override`/`!reset` does not save an entry that was bad before.
    "overridden-entry-still-validated": _project(
        _one('"80:80/tcp/udp"'),
        'services:\n  web:\n    image: nginx\n    ports: !override\n      - "81:81"\n',
    ),
    "reset-service-entry-still-validated": _project(
        _one('"80:80/tcp/udp"'), "services:\n  web: !reset null\n"
    ),
    # binary: "services.web.ports.1 additional properties 'bogus' not allowed". ours: ports.2.
    # Same rule as above: file 1's two entries were already one when file 2 was validated.
    "schema-error-index-after-each-file": _project(
        _one('"8080:80"', '"0.0.0.0:8080:80"'), _one("{target: 80, bogus: 1}")
    ),
    # binary: ->80 and ->81 (the item is kept). ours: nothing. compose-go does not process
    # `!reset` tags below an `!override` node: the overriding node is taken as written.
    "reset-item-inside-override-ports-kept": _project(
        _one('"1:1"'),
        'services:\n  web:\n    image: nginx\n    ports: !override [!reset "80-81"]\n',
    ),
    "reset-item-inside-override-service-kept": _project(
        'services:\n  web: !override\n    image: nginx\n    ports: [!reset "80-81"]\n'
    ),
    # binary: "validating .../override.yaml: services.web.ports must be a array". ours:
    # nothing (ports removed). Below `!override`, `!reset null` is a tag like any other: the
    # text "null".
    "reset-null-inside-override-service-is-null": _project(
        _one('"1:1"'),
        "services:\n  web: !override\n    image: nginx\n    ports: !reset null\n",
    ),
    # binary: "services.web.ports.[0] is missing a target port". ours: "!reset cannot tag a
    # mapping key". In a flow sequence `:80` is a value: the item is a mapping whose key is
    # an empty scalar tagged `!reset`, and Compose ignores a tag on a key
    # (tests/test_yaml_tags.py generates the whole class: tags, key types, repeated keys).
    "tag-on-mapping-key-ignored": _project(
        "services:\n  web:\n    image: nginx\n    ports: [!reset :80]\n"
    ),
    # binary: "error while interpolating services.web.ports.[].target: failed to cast to
    # expected type: strconv.Atoi: parsing "1.5"". ours: "target must be a integer or string".
    # A scalar tagged `!override` (or `!reset` below an `!override`) is text, as with `!foo`.
    "override-tag-on-scalar-is-text": _project(
        "services:\n  web:\n    image: nginx\n    ports:\n      - {target: !override 1.5}\n"
    ),
    "reset-tag-below-override-is-text": _project(
        "services:\n  web:\n    image: nginx\n    labels: !override {a: !reset null}\n"
        "    ports: !override\n      - {target: !reset 1.5}\n"
    ),
    # binary: "services.web.ports.[0] is missing a target port". ours: "target must be a
    # integer or string". `!reset` removes its key from every mapping of its file, those in
    # a list included, before Compose looks at the file.
    "reset-key-in-port-entry": _project(
        "services:\n  web:\n    image: nginx\n    ports:\n      - {target: !reset 80}\n"
    ),
    "reset-key-in-appended-port-entry": _project(
        _one('"1:1"'),
        "services:\n  web:\n    ports:\n      - {target: 81, published: !reset 8081}\n",
    ),
    # binary: "items at 0 and 1 are equal". ours: "invalid containerPort: 1_0". The schema
    # compares a number with a string as Go's big.Rat reads it, underscores between digits
    # included; the plain 1_0 is the int 10.
    "underscore-number-equals-its-text": _project(_one("'1_0'", "1_0")),
    # binary: "validating .../compose.yaml: services.web.ports.1.published invalid jsonType
    # time.Time", though the first entry does not parse: go-yaml reads a plain date as a
    # time, which the schema refuses anywhere but below `x-`; a quoted one is text.
    "time-value-refused-before-ports": _project(
        _one('"abc"', "{target: 80, published: 2001-01-01}")
    ),
    "time-value-in-extension-accepted": _project(
        "x-when: 2001-01-01\nservices:\n  web:\n    image: nginx\n"
        "    x-e: {a: !!timestamp 2001-01-01}\n    labels: {a: '2001-01-01'}\n"
        "    ports: ['8080:80']\n"
    ),
    # binary: "services.web.ports.[3] is missing a target port". ours: "[2]". An entry only the
    # engine refuses (`published: "abc"`) is no error to `config`: it stays in the list that a
    # later file's entries are counted in.
    "engine-refused-entry-keeps-its-place": _project(
        _one('"8080:80"', '"127.0.0.1:8080:80"', '{target: 80, published: "abc"}'),
        "services:\n  web:\n    ports:\n      - published: 8080\n",
    ),
    # binary: "non-string key in services.web.ports[0]: 1". ours: "ports[1]". A `!reset` item
    # is dropped from its list before Compose looks for keys that are not strings.
    "reset-item-before-a-non-string-key": _project(_one("!reset 80", "{1: 80}")),
    # binary, at random (Go's map order): "non-string key in services.web.ports[0]: <nil>" or
    # "... in services.web.x-extra: 1.5". ours: the first in the document, one of its answers.
    "non-string-keys-in-two-places": _project(
        "services:\n  web:\n    image: nginx\n    ports:\n      - {null: 80}\n"
        "    x-extra: {1.5: a}\n"
    ),
    # binary: 'strconv.Atoi: parsing "\\xd3\\x1et"'. ours: '"\\udcd3\\x1et"'. A `!!binary`
    # value's bytes that are not UTF-8 are quoted byte by byte, as Go's %q does.
    "binary-bytes-quoted-as-go-does": _project(_one("{target: !!binary 0x50}")),
    # binary: 'parsing "\U00031350"' with the character itself. ours: its escape. Go quotes by
    # its own Unicode version (15.0), not Python's (14.0 on 3.11); a 15.1 character is escaped.
    "quoted-as-go-unicode-15-does": _project(_one('{target: "\\U00031350"}')),
    "quoted-as-go-unicode-15-does-not": _project(_one('{target: "\\U0002EBF0a"}')),
    # binary: 8080->80. ours: "unsupported YAML tag '!foo'". go-yaml leaves a scalar with a
    # tag it does not know a string.
    "unknown-tag-is-a-string": _project(_one('!foo "8080:80"')),
    # Found early, since fixed: the go-yaml message for an unquoted `[::1]:8080:80` item.
    "yaml-error-message": _project(_one("[::1]:8080:80")),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regressions(name: str) -> None:
    check_agreement(REGRESSIONS[name], say=print)

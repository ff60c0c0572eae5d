"""Compose's refusals outside ports, each form asked of the binary (tests/oracle.py).

Where `docker compose config` refuses a project, `Project.rejection` must say why in Compose's
words; where it accepts, `rejection` must be None. Every case runs both, so a case whose
expectation is wrong fails on the binary's side first. `<dir>` stands for the project's
directory. The forms come from real projects: a missing `env_file`, a dependency on a service
that is not there (or that a profile switches off), `extends` from a file without the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from oracle import compose_config

from compose_ports.compose.loading import LoadOptions, load_project


@dataclass(frozen=True)
class Case:
    files: dict[str, str]  # path -> text; compose.yaml is the project's file
    refusal: str | None  # Compose's words, or None where it accepts the project
    profiles: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)  # other files that must exist


def service(body: str, name: str = "web") -> str:
    lines = [f"  {name}:", "    image: busybox"]
    lines += [f"    {line}" for line in body.strip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def compose(*services: str) -> dict[str, str]:
    return {"compose.yaml": "services:\n" + "".join(services)}


MONGO_OFF = service("profiles: [db]", "mongo")
UNDEFINED = 'service "web" depends on undefined service "mongo": invalid compose project'
MISSING = "env file <dir>/{0} not found: stat <dir>/{0}: no such file or directory"

CASES = {
    # -- env_file ---------------------------------------------------------------------------
    "env_file short, missing": Case(
        compose(service("env_file: missing.env")), MISSING.format("missing.env")
    ),
    "env_file list, second missing": Case(
        compose(service("env_file: [present.env, missing.env]")),
        MISSING.format("missing.env"),
        extra={"present.env": "A=1\n"},
    ),
    "env_file long, missing": Case(
        compose(service("env_file:\n  - path: missing.env")), MISSING.format("missing.env")
    ),
    "env_file long, required: true": Case(
        compose(service("env_file:\n  - path: missing.env\n    required: true")),
        MISSING.format("missing.env"),
    ),
    "env_file long, required: false": Case(
        compose(service("env_file:\n  - path: missing.env\n    required: false")), None
    ),
    "env_file long, required: 'false' (a string, cast)": Case(
        compose(service("env_file:\n  - path: missing.env\n    required: 'false'")), None
    ),
    "env_file present": Case(
        compose(service("env_file: present.env")), None, extra={"present.env": "A=1\n"}
    ),
    "env_file of an inactive service": Case(
        compose(service("profiles: [off]\nenv_file: missing.env")), None
    ),
    "env_file in a subdirectory": Case(
        compose(service("env_file: conf/missing.env")), MISSING.format("conf/missing.env")
    ),
    "env_file from an included file: from its directory": Case(
        {
            "compose.yaml": "include: [inc/compose.yaml]\nservices:\n" + service(""),
            "inc/compose.yaml": "services:\n" + service("env_file: i.env", "api"),
        },
        MISSING.format("inc/i.env"),
    ),
    "env_file from an extended file: from its directory": Case(
        {
            "compose.yaml": "services:\n"
            + service("extends: {file: ext/base.yaml, service: base}"),
            "ext/base.yaml": "services:\n" + service("env_file: e.env", "base"),
        },
        MISSING.format("ext/e.env"),
    ),
    # -- dependencies on undefined services -------------------------------------------------
    "depends_on list": Case(compose(service("depends_on: [mongo]")), UNDEFINED),
    "depends_on map": Case(
        compose(service("depends_on:\n  mongo: {condition: service_started}")), UNDEFINED
    ),
    "depends_on map, required: false, undefined": Case(
        compose(service("depends_on:\n  mongo: {condition: service_started, required: false}")),
        UNDEFINED,
    ),
    "links": Case(compose(service("links: [mongo]")), UNDEFINED),
    "links with an alias": Case(compose(service('links: ["mongo:db"]')), UNDEFINED),
    "volumes_from": Case(compose(service("volumes_from: [mongo]")), UNDEFINED),
    "volumes_from read-only": Case(compose(service('volumes_from: ["mongo:ro"]')), UNDEFINED),
    "volumes_from a container": Case(compose(service('volumes_from: ["container:mongo"]')), None),
    "network_mode service:": Case(compose(service('network_mode: "service:mongo"')), UNDEFINED),
    "depends_on list, profile off": Case(
        compose(service("depends_on: [mongo]"), MONGO_OFF), UNDEFINED
    ),
    "depends_on map, profile off": Case(
        compose(service("depends_on:\n  mongo: {condition: service_started}"), MONGO_OFF),
        UNDEFINED,
    ),
    "depends_on map, required: false, profile off": Case(
        compose(
            service("depends_on:\n  mongo: {condition: service_started, required: false}"),
            MONGO_OFF,
        ),
        None,
    ),
    "links, profile off": Case(compose(service("links: [mongo]"), MONGO_OFF), UNDEFINED),
    "volumes_from, profile off": Case(
        compose(service("volumes_from: [mongo]"), MONGO_OFF), UNDEFINED
    ),
    "network_mode service:, profile off": Case(
        compose(service('network_mode: "service:mongo"'), MONGO_OFF), UNDEFINED
    ),
    "depends_on list, profile on": Case(
        compose(service("depends_on: [mongo]"), MONGO_OFF), None, profiles=("db",)
    ),
    "the dependent service itself off": Case(
        compose(service("profiles: [w]\ndepends_on: [mongo]")), None
    ),
    # -- which reason Compose gives first ----------------------------------------------------
    "an undefined dependency before a missing env_file": Case(
        compose(service("depends_on: [mongo]\nenv_file: m.env")), UNDEFINED
    ),
    "an undefined secret before a missing env_file": Case(
        compose(service("secrets: [s]\nenv_file: m.env")),
        'service "web" refers to undefined secret s: invalid compose project',
    ),
    # One service: where a longer cycle starts is Go's map order, not the same twice.
    "a dependency cycle before a missing env_file": Case(
        compose(service("depends_on: [web]\nenv_file: m.env")),
        "dependency cycle detected: web -> web",
    ),
    "a missing env_file before a container name in use": Case(
        compose(
            service("container_name: same\nenv_file: m.env"), service("container_name: same", "w2")
        ),
        MISSING.format("m.env"),
    ),
    # -- extends from another file ------------------------------------------------------------
    "extends from a file without services": Case(
        {
            "compose.yaml": "services:\n" + service("extends: {file: base.yaml, service: base}"),
            "base.yaml": "x-nothing: 1\n",
        },
        'cannot extend service "web" in <dir>/base.yaml: no services section',
    ),
    "extends from an empty file": Case(
        {
            "compose.yaml": "services:\n" + service("extends: {file: base.yaml, service: base}"),
            "base.yaml": "",
        },
        'cannot extend service "web" in <dir>/base.yaml: no services section',
    ),
    "extends from a file whose services is a list": Case(
        {
            "compose.yaml": "services:\n" + service("extends: {file: base.yaml, service: base}"),
            "base.yaml": "services: []\n",
        },
        'cannot extend service "web" in <dir>/base.yaml: services must be a mapping',
    ),
    "extends from a file without the service": Case(
        {
            "compose.yaml": "services:\n" + service("extends: {file: base.yaml, service: base}"),
            "base.yaml": "services:\n" + service("", "other"),
        },
        'cannot extend service "web" in <dir>/compose.yaml: service "base" not found in base.yaml',
    ),
    "extends from a file named the long way": Case(
        {
            "compose.yaml": "services:\n"
            + service("extends: {file: ./sub/../sub/base.yaml, service: base}"),
            "sub/base.yaml": "services:\n" + service("", "other"),
        },
        'cannot extend service "web" in <dir>/compose.yaml: '
        'service "base" not found in ./sub/../sub/base.yaml',
    ),
    "extends within the file, no such service": Case(
        compose(service("extends: base")),
        'cannot extend service "web" in <dir>/compose.yaml: service "base" not found',
    ),
    "extends through a second file, no such service": Case(
        {
            "compose.yaml": "services:\n" + service("extends: {file: sub/ext.yaml, service: base}"),
            "sub/ext.yaml": "services:\n"
            + service("extends: {file: other.yaml, service: deeper}", "base"),
            "sub/other.yaml": "services: {}\n",
        },
        'cannot extend service "base" in <dir>/compose.yaml: '
        'service "deeper" not found in sub/other.yaml',
    ),
    "extends through a second file without services": Case(
        {
            "compose.yaml": "services:\n" + service("extends: {file: sub/ext.yaml, service: base}"),
            "sub/ext.yaml": "services:\n"
            + service("extends: {file: other.yaml, service: deeper}", "base"),
            "sub/other.yaml": "x: 1\n",
        },
        'cannot extend service "base" in <dir>/sub/other.yaml: no services section',
    ),
    "extends from a file with the service": Case(
        {
            "compose.yaml": "services:\n" + service("extends: {file: base.yaml, service: base}"),
            "base.yaml": "services:\n" + service("", "base"),
        },
        None,
    ),
}


def _write(case: Case, directory: Path) -> None:
    for name, text in {**case.files, **case.extra}.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _binary_error(stderr: str) -> str:
    # The refusal is the binary's last line that is not a logged warning.
    lines = [line.strip() for line in stderr.strip().splitlines()]
    return " ".join(line for line in lines if line and not line.startswith("time="))


@pytest.mark.parametrize("name", list(CASES))
def test_rejection_matches_compose(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    directory = (tmp_path / "project").resolve()
    directory.mkdir()
    _write(case, directory)
    args = [a for p in case.profiles for a in ("--profile", p)]
    result = compose_config(directory, args)
    expected = case.refusal.replace("<dir>", str(directory)) if case.refusal else None
    if expected is None:
        assert result.ok, _binary_error(result.stderr)
    else:
        assert not result.ok, "Compose accepts the project"
        assert _binary_error(result.stderr) == expected
    project = load_project(
        LoadOptions(files=("compose.yaml",), profiles=case.profiles, environ={}, cwd=str(directory))
    )
    assert [d.message for d in project.diagnostics] == []
    assert project.rejection == expected


def test_env_file_is_found_from_the_project_directory(tmp_path: Path) -> None:
    """`--project-directory` moves where Compose looks for a relative env_file."""
    files = tmp_path / "files"
    elsewhere = tmp_path / "elsewhere"
    files.mkdir()
    elsewhere.mkdir()
    (files / "compose.yaml").write_text("services:\n" + service("env_file: app.env"))
    (files / "app.env").write_text("A=1\n")
    args = ["-f", str(files / "compose.yaml"), "--project-directory", str(elsewhere)]
    result = compose_config(tmp_path, args)
    missing = elsewhere / "app.env"
    expected = f"env file {missing} not found: stat {missing}: no such file or directory"
    assert _binary_error(result.stderr) == expected
    project = load_project(
        LoadOptions(
            files=(str(files / "compose.yaml"),),
            project_directory=str(elsewhere),
            environ={},
            cwd=str(tmp_path),
        )
    )
    assert project.rejection == expected

"""Differential tests on small fixture projects: our loader against the real Docker Compose binary.

Each directory under `tests/fixtures/compose/` is one compose project plus a `case.json`:

    {"args": [...global options before `config`...], "env": {...}, "cwd": "sub/dir",
     "description": "...", "sources": ["file:line" | null, ...],
     "error": "...", "error_file": "...", "error_line": N, "error_column": N | null}

`args` may use `-f`, `--env-file`, `--profile`, `-p` and `--project-directory`. `sources`, when
given, is where each binding (in Compose's order) must say its host port was written. Directories
named `errors-*` are projects Compose rejects over a port or YAML problem; the others load.

Every case is copied to a fresh tmp directory and both the binary and our loader read that copy,
from the same cwd and with the same environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from compose_view import ours as compose_ours
from conftest import FIXTURES
from oracle import ComposeResult, compose_config, compose_ports

from compose_ports.compose.loading import LoadOptions, load_project
from compose_ports.model import Origin, PortBinding, Project

ROOT = FIXTURES / "compose"
FIELDS = ("service", "host_ip", "published", "target", "protocol", "mode", "name", "app_protocol")


@dataclass(frozen=True)
class Fixture:
    name: str
    directory: Path
    args: tuple[str, ...]
    env: dict[str, str]
    cwd: str
    description: str
    sources: tuple[str | None, ...] | None
    error: str | None
    error_file: str | None
    error_line: int | None
    error_column: int | None
    # Entries `config` prints but the engine refuses: the map leaves them out and reports them.
    engine_invalid: tuple[dict[str, Any], ...] = ()

    @property
    def rejected(self) -> bool:
        return self.name.startswith("errors-")

    def options(self, copy: Path) -> LoadOptions:
        """`args` as LoadOptions keywords, for the copy of the fixture at `copy`."""
        files: list[str] = []
        env_files: list[str] = []
        profiles: list[str] = []
        project_name: str | None = None
        project_directory: str | None = None
        args = list(self.args)
        while args:
            flag = args.pop(0)
            if not args:
                raise ValueError(f"{self.name}: option {flag} has no value")
            value = args.pop(0)
            if flag in ("-f", "--file"):
                files.append(value)
            elif flag == "--env-file":
                env_files.append(value)
            elif flag == "--profile":
                profiles.append(value)
            elif flag in ("-p", "--project-name"):
                project_name = value
            elif flag == "--project-directory":
                project_directory = value
            else:
                raise ValueError(f"{self.name}: unexpected option {flag}")
        return LoadOptions(
            files=tuple(files),
            env_files=tuple(env_files),
            profiles=tuple(profiles),
            project_name=project_name,
            project_directory=project_directory,
            environ=environment(self.env),
            cwd=str(copy / self.cwd),
        )


def environment(env: dict[str, str]) -> dict[str, str]:
    """Exactly the environment `oracle.compose_config` gives the binary."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    return {**base, **env}


def fixtures() -> list[Fixture]:
    result = []
    for directory in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        meta: dict[str, Any] = json.loads((directory / "case.json").read_text())
        sources = meta.get("sources")
        result.append(
            Fixture(
                name=directory.name,
                directory=directory,
                args=tuple(meta.get("args") or ()),
                env=dict(meta.get("env") or {}),
                cwd=meta.get("cwd") or ".",
                description=meta["description"],
                sources=tuple(sources) if sources is not None else None,
                error=meta.get("error"),
                error_file=meta.get("error_file"),
                error_line=meta.get("error_line"),
                error_column=meta.get("error_column"),
                engine_invalid=tuple(meta.get("engine_invalid") or ()),
            )
        )
    return result


FIXTURE_LIST = fixtures()
LOADED = [f for f in FIXTURE_LIST if not f.rejected]
REJECTED = [f for f in FIXTURE_LIST if f.rejected]


def _ids(fixture: Fixture) -> str:
    return fixture.name


def scratch(fixture: Fixture, tmp_path: Path) -> Path:
    """A private copy of the fixture: the binary only ever reads files under tmp."""
    copy = tmp_path / fixture.name
    shutil.copytree(fixture.directory, copy)
    return copy


def run_binary(fixture: Fixture, copy: Path) -> ComposeResult:
    return compose_config(copy / fixture.cwd, fixture.args, fixture.env, timeout=60)


def load(fixture: Fixture, copy: Path) -> Project:
    return load_project(LoadOptions(**vars(fixture.options(copy))))


def _unescape(value: Any) -> Any:
    # `config` re-escapes every `$` of a string value as `$$` so that its output loads back
    # unchanged; the value Compose works with has one `$`.
    return value.replace("$$", "$") if isinstance(value, str) else value


def theirs(result: ComposeResult) -> list[dict[str, Any]]:
    assert result.config is not None
    return [
        {
            "service": p["service"],
            "host_ip": _unescape(p.get("host_ip", "")),
            "published": _unescape(p.get("published", "")),
            # `target: 0` is accepted in long syntax and left out of the output (omitempty).
            "target": p.get("target", 0),
            "protocol": _unescape(p.get("protocol", "")),
            "mode": _unescape(p.get("mode", "")),
            "name": _unescape(p.get("name", "")),
            "app_protocol": _unescape(p.get("app_protocol", "")),
        }
        for p in compose_ports(result.config)
    ]


def ours(project: Project) -> list[dict[str, Any]]:
    return compose_ours(
        project,
        ("service", "host_ip", "published", "target", "protocol", "mode", "name", "app_protocol"),
    )


# -- the fixture set itself -------------------------------------------------------------------


def test_the_fixtures_are_there() -> None:
    assert len(LOADED) >= 40
    assert len(REJECTED) >= 10
    for fixture in REJECTED:
        assert fixture.error and fixture.error_file and fixture.error_line, fixture.name
    for fixture in LOADED:
        assert fixture.error is None and fixture.error_line is None, fixture.name


# -- projects Compose loads -------------------------------------------------------------------


@pytest.mark.parametrize("fixture", LOADED, ids=_ids)
def test_ports_match_compose(fixture: Fixture, tmp_path: Path) -> None:
    copy = scratch(fixture, tmp_path)
    result = run_binary(fixture, copy)
    assert result.ok, f"Compose rejects the fixture: {result.error}"
    project = load(fixture, copy)
    reported = [(d.line, d.message) for d in project.diagnostics]
    assert reported == [(e["line"], e["message"]) for e in fixture.engine_invalid]
    assert project.rejection is None
    refused = {e["published"] for e in fixture.engine_invalid}
    expected = [p for p in theirs(result) if p["published"] not in refused]
    assert ours(project) == expected


_NUMBER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|[0-9][0-9_]*)")
_RANGE = re.compile(r"(\d+)-(\d+)")


def _go_int(token: str) -> int | None:
    """A YAML int as go-yaml v3 reads it: strconv.ParseInt(s, 0, 64) after removing `_`."""
    text = token.replace("_", "").lstrip("+")
    try:
        if re.fullmatch(r"0[0-7]+", text):
            return int(text, 8)
        return int(text, 0)
    except ValueError:
        return None


def mentions_host_port(line: str, published: str) -> bool:
    """Whether a source line spells the host port `published` (as text, number or in a range)."""
    if published in line:
        return True
    if not published.isdigit():
        return False
    port = int(published)
    for token in _NUMBER.findall(line):
        digits = token.replace("_", "").lstrip("+")
        if _go_int(token) == port or (digits.isdigit() and int(digits) == port):
            return True
    return any(int(a) <= port <= int(b) for a, b in _RANGE.findall(line))


def _where(binding: PortBinding, copy: Path) -> str:
    return f"{Path(binding.source.file).relative_to(copy)}:{binding.source.line}"


@pytest.mark.parametrize("fixture", LOADED, ids=_ids)
def test_port_sources_point_at_the_host_port(fixture: Fixture, tmp_path: Path) -> None:
    copy = scratch(fixture, tmp_path)
    project = load(fixture, copy)
    bindings = project.bindings
    for binding in bindings:
        file = Path(binding.source.file)
        assert file.is_file() and file.resolve().is_relative_to(copy.resolve()), binding
        lines = file.read_text().splitlines()
        assert 1 <= binding.source.line <= len(lines), binding
        text = lines[binding.source.line - 1]
        published = binding.spec.published or ""
        if binding.origin is Origin.LITERAL and published:
            assert mentions_host_port(text, published), (_where(binding, copy), text, published)
        elif binding.origin in (Origin.ENVIRONMENT, Origin.DEFAULT):
            assert "$" in text, (_where(binding, copy), text)
    if fixture.sources is not None:
        assert len(bindings) == len(fixture.sources)
        pairs = zip(bindings, fixture.sources, strict=True)
        got = [_where(b, copy) if want else None for b, want in pairs]
        assert got == list(fixture.sources)


# -- projects Compose rejects -----------------------------------------------------------------


def binary_error(result: ComposeResult) -> str:
    """The binary's error message on one line: some Go errors span several lines of stderr
    (`invalid interpolation format ...`), and `oracle` keeps only the last one. Warnings logged
    before it (`time=... level=warning ...`) are not part of it."""
    lines = [line.strip() for line in result.stderr.strip().splitlines()]
    return " ".join(line for line in lines if line and not line.startswith("time="))


@pytest.mark.parametrize("fixture", REJECTED, ids=_ids)
def test_rejections_match_compose(fixture: Fixture, tmp_path: Path) -> None:
    copy = scratch(fixture, tmp_path)
    result = run_binary(fixture, copy)
    assert not result.ok, "Compose accepts a fixture meant to be rejected"
    assert fixture.error is not None
    error = binary_error(result)
    assert error == fixture.error.replace("<dir>", str(copy))
    project = load(fixture, copy)
    said = [d for d in project.diagnostics if d.message]
    matching = [d for d in said if d.message in error or error in d.message]
    assert matching, ([str(d) for d in said], project.rejection, error)
    expected_file = str(copy / str(fixture.error_file))
    where = [(d.file, d.line, d.column) for d in matching]
    column = fixture.error_column
    assert any(
        file == expected_file and line == fixture.error_line and column in (None, col)
        for file, line, col in where
    ), (where, (expected_file, fixture.error_line, column))

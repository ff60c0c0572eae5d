"""`compose-ports fix`: the diff it shows, the bytes it writes, and what it must never do.

Every project under `tests/fixtures/fix/` shows one way of writing a host port. Each is copied to
tmp (with a `.git` marker there, so that nothing above tmp is read) and:

- `fix --diff` is pinned with pytest-snapshot (`tests/snapshots/fix/NAME.diff`; a CR is shown as
  `\\r`), and `--diff` and `--check` write nothing;
- `fix` changes only port scalars (every other byte, the BOM, the line endings and the final
  newline stay), a second `fix` has nothing left to do, and the real Docker Compose binary
  publishes exactly the same ports before and after;
- whatever `fix` leaves alone that lint would still flag, it says so on stderr.

Then the same proof on every case of the shared corpus that Compose loads, and the safety of the
write itself: a failed rename, a file changed under our feet, read-only files and directories (as
an unprivileged user: CI runs as root, for whom permissions do not bite), modes, owners, links.
"""

from __future__ import annotations

import codecs
import difflib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURES
from corpus_cases import Case, cases
from oracle import compose_config, compose_ports

from compose_ports.commands import main
from compose_ports.fix import planning as fix_planning
from compose_ports.fix import write as write_module

FIX = FIXTURES / "fix"
SNAPSHOTS = Path(__file__).parent / "snapshots" / "fix"
FORMS = sorted(p.name for p in FIX.iterdir() if p.is_dir())
MAIN_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
NOBODY = 65534

# What fix puts around a literal host port: `${NAME:-LITERAL}`.
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*):-(?P<default>[0-9]+(?:-[0-9]+)?)\}")


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables of the machine running the tests must not change names or ports."""
    for name in list(os.environ):
        if name.startswith(("COMPOSE_", "DOCKER_")) or "PORT" in name.upper():
            monkeypatch.delenv(name)


def scratch(name: str, tmp_path: Path) -> Path:
    """A private copy of a fixture, inside a repository of its own."""
    copy = tmp_path / name
    shutil.copytree(FIX / name, copy, symlinks=True)
    (copy / ".git").mkdir()
    return copy


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (outside `.git`) by its relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def run_fix(monkeypatch: pytest.MonkeyPatch, cwd: Path, *args: str) -> Result:
    """`compose-ports fix ARGS` in cwd, in this process."""
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, ["fix", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def shown(text: str) -> str:
    """The diff as a snapshot can hold it: a CR is written `\\r`."""
    return text.replace("\r", "\\r")


def stacks(root: Path) -> list[Path]:
    """The directories Compose reads as a project with no options (a main file in them)."""
    found = {p.parent for name in MAIN_FILES for p in root.rglob(name) if ".git" not in p.parts}
    return sorted(found)


def published(root: Path) -> dict[str, list[dict]]:
    """What the real binary publishes for every project under root."""
    result = {}
    for directory in stacks(root):
        answer = compose_config(directory)
        assert answer.ok, f"{directory}: {answer.error}"
        assert answer.config is not None
        result[directory.relative_to(root).as_posix()] = compose_ports(answer.config)
    return result


BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _decode(data: bytes) -> tuple[bytes, str]:
    for bom, codec in BOMS:
        if data.startswith(bom):
            return bom, data[len(bom) :].decode(codec)
    return b"", data.decode("utf-8")


def changed_lines(old: bytes, new: bytes) -> list[tuple[str, str]]:
    """The lines a fix changed, after checking that nothing else did.

    Same BOM (or none), same encoding, same number of lines, the same line ending on every line
    and the same final newline (or none); on a changed line, the only differences are
    `${NAME:-` and `}` around a literal host port, and double quotes added around the scalar.
    """
    old_bom, old_text = _decode(old)
    new_bom, new_text = _decode(new)
    assert new_bom == old_bom, "the byte-order mark changed"
    old_lines, new_lines = old_text.split("\n"), new_text.split("\n")
    assert len(new_lines) == len(old_lines), "lines were added or removed"
    assert new_lines[-1].endswith("\r") == old_lines[-1].endswith("\r")
    assert (new_lines[-1] == "") == (old_lines[-1] == ""), "the final newline changed"
    changes = []
    for number, (before, after) in enumerate(zip(old_lines, new_lines, strict=True), 1):
        if before == after:
            continue
        assert after.endswith("\r") == before.endswith("\r"), f"line {number}: line ending"
        # Variables already there stay; new ones only wrap a literal host port.
        old_names = [m["name"] for m in VARIABLE.finditer(before)]
        new_names = [m["name"] for m in VARIABLE.finditer(after)]
        added = list(new_names)
        for existing in old_names:
            assert existing in added, f"line {number}: {existing} was renamed"
            added.remove(existing)
        plain = VARIABLE.sub(r"\g<default>", before)
        restored = VARIABLE.sub(r"\g<default>", after)
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
            None, plain, restored, autojunk=False
        ).get_opcodes():
            if tag == "equal":
                continue
            assert tag == "insert" and set(restored[j1:j2]) == {'"'}, (
                f"line {number}: not only a port scalar changed: {before!r} -> {after!r}"
            )
            assert i1 == i2
        changes.append((before, after))
    return changes


def assert_only_ports_changed(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    assert sorted(after) == sorted(before), "files were created or removed"
    for name in before:
        if after[name] != before[name]:
            assert changed_lines(before[name], after[name]), name


def _lines(text: str) -> list[str]:
    """Lines with their ends, split at LF only (a CR stays part of its line)."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def apply_diff(originals: dict[str, str], diff: str) -> dict[str, str]:
    """What a strict `patch -p1` makes of the files: every context and removed line must match."""
    result = dict(originals)
    lines = _lines(diff)
    i = 0
    while i < len(lines):
        assert lines[i].startswith("--- a/"), f"diff line {i + 1}: {lines[i]!r}"
        assert lines[i + 1].startswith("+++ b/"), f"diff line {i + 2}: {lines[i + 1]!r}"
        file = lines[i + 1][len("+++ b/") :].rstrip("\n")
        i += 2
        source, out, position = _lines(originals[file]), [], 0
        while i < len(lines) and lines[i].startswith("@@ "):
            header = re.fullmatch(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@\n", lines[i])
            assert header, f"diff line {i + 1}: {lines[i]!r}"
            start = int(header[1]) - 1
            old_count = int(header[2] or 1)
            new_count = int(header[3] or 1)
            out.extend(source[position:start])
            position = start
            i += 1
            while old_count or new_count:
                assert i < len(lines) and lines[i][:1] in (" ", "-", "+"), f"diff line {i + 1}"
                tag, body = lines[i][0], lines[i][1:]
                i += 1
                if i < len(lines) and lines[i].startswith("\\ "):
                    body = body.removesuffix("\n")  # "\\ No newline at end of file"
                    i += 1
                if tag in " -":
                    assert position < len(source) and source[position] == body, (
                        f"{file}: the diff's {body!r} is not line {position + 1}"
                    )
                    position += 1
                    old_count -= 1
                if tag in " +":
                    out.append(body)
                    new_count -= 1
        out.extend(source[position:])
        result[file] = "".join(out)
    return result


def diff_files(diff: str) -> list[str]:
    return [line[len("+++ b/") :] for line in diff.splitlines() if line.startswith("+++ b/")]


# -- 1. every form: the pinned diff, and what writing it does ---------------------------------


@pytest.mark.parametrize("name", FORMS)
def test_diff_is_pinned_and_writes_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot: Any
) -> None:
    copy = scratch(name, tmp_path)
    before = tree(copy)
    result = run_fix(monkeypatch, copy, "--diff")
    assert tree(copy) == before
    assert result.exit_code == 1, result.stderr
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(shown(result.stdout_bytes.decode()), f"{name}.diff")


@pytest.mark.parametrize("name", FORMS)
def test_check_names_the_files_and_writes_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = scratch(name, tmp_path)
    before = tree(copy)
    expected = diff_files((SNAPSHOTS / f"{name}.diff").read_text(encoding="utf-8"))
    result = run_fix(monkeypatch, copy, "--check")
    assert tree(copy) == before
    assert result.exit_code == 1, result.stderr
    assert result.stdout.splitlines() == [f"would fix {file}" for file in expected]


@pytest.mark.parametrize("name", FORMS)
def test_fix_changes_only_port_scalars(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = scratch(name, tmp_path)
    before = tree(copy)
    result = run_fix(monkeypatch, copy)
    assert result.exit_code == 1, result.stderr
    after = tree(copy)
    assert_only_ports_changed(before, after)
    changed = sorted(f for f in before if after[f] != before[f])
    assert result.stdout.splitlines() == [f"fixed {file}" for file in changed]
    # What was written is what --diff showed.
    expected = (SNAPSHOTS / f"{name}.diff").read_text(encoding="utf-8")
    assert changed == diff_files(expected)
    added = [
        line[1:]
        for line in expected.splitlines()
        if line.startswith("+") and not line.startswith("+++ b/")
    ]
    written = [
        shown(new) for file in changed for _, new in changed_lines(before[file], after[file])
    ]
    assert written == added


@pytest.mark.parametrize("name", FORMS)
def test_the_diff_applies_to_give_what_fix_writes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--diff` is a unified diff that `patch` understands, and means what `fix` does."""
    shown_copy = scratch(name, tmp_path / "diff")
    originals = {f: _decode(data)[1] for f, data in tree(shown_copy).items()}
    diff = run_fix(monkeypatch, shown_copy, "--diff").stdout_bytes.decode()
    fixed_copy = scratch(name, tmp_path / "fix")
    run_fix(monkeypatch, fixed_copy)
    fixed = {f: _decode(data)[1] for f, data in tree(fixed_copy).items()}
    assert apply_diff(originals, diff) == fixed


@pytest.mark.parametrize("name", FORMS)
def test_a_second_fix_has_nothing_to_do(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = scratch(name, tmp_path)
    first = run_fix(monkeypatch, copy)
    assert first.exit_code == 1, first.stderr
    fixed = tree(copy)
    for args in (("--diff",), ("--check",), ()):
        again = run_fix(monkeypatch, copy, *args)
        assert again.exit_code == 0, (args, again.stdout, again.stderr)
        assert again.stdout == "", args
        assert tree(copy) == fixed


@pytest.mark.parametrize("name", FORMS)
def test_compose_publishes_the_same_ports_after_fix(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = scratch(name, tmp_path)
    before = published(copy)
    assert before and all(before.values()), "the fixture publishes nothing"
    result = run_fix(monkeypatch, copy)
    assert result.exit_code == 1, result.stderr
    assert published(copy) == before


@pytest.mark.parametrize("name", FORMS)
def test_what_fix_leaves_alone_it_says(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every literal or unquoted port lint still reports after fix has a note on stderr."""
    copy = scratch(name, tmp_path)
    result = run_fix(monkeypatch, copy)
    lint = CliRunner().invoke(main, ["lint", "--select", "CP301,CP302", "--format", "json"])
    findings = json.loads(lint.stdout)["findings"]
    unexplained = [
        f"{f['file']}:{f['line']}:{f['column']}: {f['code']} {f['message']}"
        for f in findings
        if not any(
            line.startswith(f"{f['file']}:{f['line']}:") for line in result.stderr.splitlines()
        )
    ]
    assert unexplained == [], result.stderr


def test_the_fixtures_hold_the_bytes_they_are_about() -> None:
    """A checkout that rewrote line endings or encodings would make those fixtures pointless."""
    assert b"\r\n" in (FIX / "crlf" / "compose.yaml").read_bytes()
    assert b"\n" not in (FIX / "crlf" / "compose.yaml").read_bytes().replace(b"\r\n", b"")
    assert (FIX / "utf8-bom" / "compose.yaml").read_bytes().startswith(codecs.BOM_UTF8)
    assert (FIX / "utf16-bom" / "compose.yaml").read_bytes().startswith(codecs.BOM_UTF16_LE)
    assert not (FIX / "no-final-newline" / "compose.yaml").read_bytes().endswith(b"\n")
    assert b"\t" in (FIX / "flow-map-spacing" / "compose.yaml").read_bytes()


# -- what the fixtures are about, said plainly ----------------------------------------------------

NAMES = {
    # The override's ports carry the project's name (no stack name in a config: the directory).
    "override": {
        "shop/compose.yaml": ["WEB_80_PORT"],
        "shop/compose.override.yaml": ["SHOP_WEB_81_PORT", "SHOP_DB_PORT"],
    },
    # `.env` defines WEB_PORT for something else: never reuse it. Two services whose names
    # sanitize alike never share one either.
    "env-clash": {"compose.yaml": ["WEB_PORT_2", "WEB_APP_PORT", "WEB_APP_PORT_2"]},
    "config-template": {
        "compose.yaml": ["CONFIG_TEMPLATE_WEB_80", "CONFIG_TEMPLATE_DNS_53_UDP"],
    },
    # Each directory's config names its own ports; a directory without one gets the default.
    "config-per-directory": {
        "custom/compose.yaml": ["API_HOST_PORT"],
        "plain/compose.yaml": ["DB_PORT"],
    },
    # A variable the compose file already uses is taken, even when nothing defines it.
    "variable-in-use": {"compose.yaml": ["WEB_PORT_2", "WEB_PORT"]},
    # The stack prefix is for a later file of the stack, not for a file `extends` reads.
    "extends": {"common.yaml": ["FROM_FILE_PORT"], "compose.yaml": ["PLAIN_PORT"]},
    "override-tags": {"compose.override.yaml": ["OVERRIDE_TAGS_WEB_PORT"]},
    # Every document of a file is fixed.
    "multi-document": {"compose.yaml": ["WEB_PORT", "API_PORT"]},
    "protocols": {
        "compose.yaml": [
            "DNS_PORT_UDP",
            "DNS_PORT",
            "SIGNALLING_PORT_SCTP",
            "SYSLOG_514_PORT_UDP",
            "SYSLOG_601_PORT",
        ]
    },
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_variable_names(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = scratch(name, tmp_path)
    run_fix(monkeypatch, copy)
    for file, expected in NAMES[name].items():
        text = (copy / file).read_text(encoding="utf-8")
        assert [m["name"] for m in VARIABLE.finditer(text)] == expected, file


def test_a_port_reached_by_two_services_is_left_alone_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = scratch("anchors-merge-keys", tmp_path)
    original = (copy / "compose.yaml").read_text().splitlines()
    result = run_fix(monkeypatch, copy)
    assert result.exit_code == 1, result.stderr
    fixed = (copy / "compose.yaml").read_text().splitlines()
    # blue and green merge x-web; own and mirror share the `&redis` scalar.
    for number, text in ((4, '"8080:80"'), (21, '&redis "6379:6379"')):
        assert text in original[number - 1]
        assert fixed[number - 1] == original[number - 1]
        assert any(
            line.startswith(f"compose.yaml:{number}:") and "left as it is" in line
            for line in result.stderr.splitlines()
        ), result.stderr
    # An anchor reached by one service only is that service's: it is fixed.
    assert '"${SOLO_PORT:-9000}:9000"' in fixed[8]
    assert '"${ALONE_PORT:-5432}:5432"' in fixed[28]


def test_extends_shared_by_two_services_is_left_alone_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = scratch("extends", tmp_path)
    result = run_fix(monkeypatch, copy)
    assert result.exit_code == 1, result.stderr
    assert '      - "8080:80"\n' in (copy / "compose.yaml").read_text()
    assert any(
        line.startswith("compose.yaml:5:") and "left as it is" in line
        for line in result.stderr.splitlines()
    ), result.stderr


def test_port_ranges_are_rewritten_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One scalar publishing a range is one literal: `${NAME:-8000-8010}:8000-8010`."""
    copy = scratch("ranges", tmp_path)
    run_fix(monkeypatch, copy)
    text = (copy / "compose.yaml").read_text()
    assert re.search(r'"\$\{[A-Z0-9_]+:-8000-8010\}:8000-8010"', text), text
    assert re.search(r'"127\.0\.0\.1:\$\{[A-Z0-9_]+:-10000-10005\}:10000-10005/udp"', text), text
    assert re.search(r'"\$\{POOL_PORT:-9000-9010\}:80"', text), text


def test_ignore_cp301_on_an_unquoted_entry_only_quotes_what_yaml_1_1_misreads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = scratch("ignore-comment", tmp_path)
    run_fix(monkeypatch, copy)
    lines = (copy / "compose.yaml").read_text().splitlines()
    assert lines[4] == '      - "8080:80"  # compose-ports: ignore[CP301]'
    assert lines[6] == '      - "8443:443"'
    # No finding flags 7000:7000 (a string to YAML 1.1 too): fix leaves it unquoted.
    assert lines[11] == "      - 7000:7000  # compose-ports: ignore[CP301]"
    assert lines[12] == '      - "2222:22"  # compose-ports: ignore[CP301]'
    assert lines[16] == '      - "6000:6000"  # compose-ports: ignore'


# -- exit codes -----------------------------------------------------------------------------------


def test_nothing_to_do_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "clean"
    copy.mkdir()
    (copy / ".git").mkdir()
    (copy / "compose.yaml").write_text(
        'services:\n  web:\n    image: nginx\n    ports:\n      - "${WEB_PORT:-8080}:80"\n'
        '      - "9000"\n'
    )
    before = tree(copy)
    for args in (("--diff",), ("--check",), ()):
        result = run_fix(monkeypatch, copy, *args)
        assert (result.exit_code, result.stdout) == (0, ""), (args, result.stderr)
    assert tree(copy) == before


def test_an_unreadable_project_stops_fix_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing: an input that cannot be read is a one-line error, and nothing changes."""
    copy = tmp_path / "repo"
    (copy / ".git").mkdir(parents=True)
    (copy / "broken").mkdir()
    (copy / "broken" / "compose.yaml").write_text('services:\n  web:\n    ports: ["8080:80"\n')
    (copy / "good").mkdir()
    (copy / "good" / "compose.yaml").write_text(
        'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n'
    )
    before = tree(copy)
    for args in (("--diff",), ("--check",), ()):
        result = run_fix(monkeypatch, copy, *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "broken/compose.yaml" in result.stderr
        assert result.stdout == ""
        assert tree(copy) == before


def test_env_file_gets_the_new_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--env-file` gets today's values appended; its existing bytes never change."""
    copy = scratch("env-clash", tmp_path)
    env = copy / ".env"
    env.write_bytes(b"# another tool\r\nWEB_PORT=1234")  # CRLF, and no final newline
    before_env = env.read_bytes()
    before = published(copy)
    result = run_fix(monkeypatch, copy, "--env-file", ".env")
    assert result.exit_code == 1, result.stderr
    assert env.read_bytes() == before_env + (
        b"\r\nWEB_APP_PORT=8081\r\nWEB_APP_PORT_2=8082\r\nWEB_PORT_2=8080\r\n"
    )
    assert published(copy) == before
    again = run_fix(monkeypatch, copy, "--env-file", ".env")
    assert again.exit_code == 0, again.stderr
    assert env.read_bytes().count(b"WEB_PORT_2") == 1


def test_a_missing_env_file_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = scratch("short", tmp_path)
    result = run_fix(monkeypatch, copy, "--env-file", "ports.env")
    assert result.exit_code == 1, result.stderr
    assert (copy / "ports.env").read_text() == (
        "DB_PORT=5432\nWEB_443_PORT=8443\nWEB_80_PORT=8080\n"
    )


# -- 2. the corpus ------------------------------------------------------------------------------

LOADED = [c for c in cases() if c.ok]


def corpus_scratch(case: Case, tmp_path: Path) -> Path:
    copy = tmp_path / case.name
    shutil.copytree(case.directory, copy, symlinks=True)
    # The shared corpus is read-only; a checkout people fix is theirs to write.
    for path in (copy, *copy.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    for stub in case.stubs:
        (copy / stub).parent.mkdir(parents=True, exist_ok=True)
        (copy / stub).touch()
    (copy / ".git").mkdir(exist_ok=True)
    return copy


def _env_files(case: Case) -> set[str]:
    args = list(case.argv)
    return {
        Path(value).as_posix()
        for flag, value in zip(args[::2], args[1::2], strict=True)
        if flag == "--env-file"
    }


@pytest.mark.parametrize("case", LOADED, ids=lambda c: c.name)
def test_corpus_fix_keeps_what_compose_publishes(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = corpus_scratch(case, tmp_path)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    first = compose_config(copy, case.argv, case.env)
    assert first.ok, first.error
    assert first.config is not None
    before = tree(copy)
    result = run_fix(monkeypatch, copy, *case.argv)
    assert result.exit_code in (0, 1), result.stderr
    after = tree(copy)
    env_files = _env_files(case)
    changed = [f for f in after if after[f] != before.get(f)]
    assert (result.exit_code == 1) == any(f not in env_files for f in changed), result.stdout
    for file in changed:
        if file in env_files:
            assert after[file].startswith(before.get(file, b"")), f"{file}: lines changed"
        else:
            assert file in before, f"{file} was created"
            assert changed_lines(before[file], after[file]), file
    second = compose_config(copy, case.argv, case.env)
    assert second.ok, second.error
    assert second.config is not None
    assert compose_ports(second.config) == compose_ports(first.config)
    again = run_fix(monkeypatch, copy, *case.argv)
    assert (again.exit_code, again.stdout) == (0, ""), again.stderr
    assert tree(copy) == after


# -- 3. safety: never lose a file -----------------------------------------------------------------

SIMPLE = 'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n'
SIMPLE_FIXED = 'services:\n  web:\n    image: nginx\n    ports:\n      - "${WEB_PORT:-8080}:80"\n'


def _repository(tmp_path: Path, *projects: str) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    for project in projects:
        (root / project).mkdir(parents=True, exist_ok=True)
        (root / project / "compose.yaml").write_text(SIMPLE)
    return root


def _temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".compose.yaml."))


class _OsWith:
    """The os module, with one function replaced: for compose_ports.fix.write only."""

    def __init__(self, **replaced: Callable[..., Any]) -> None:
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced.get(name) or getattr(os, name)


def test_a_failed_rename_keeps_the_original_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repository(tmp_path, "app")

    def replace(src: Any, dst: Any) -> None:
        assert Path(src).read_text() == SIMPLE_FIXED  # the temporary is complete, then...
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write_module, "os", _OsWith(replace=replace))
    result = run_fix(monkeypatch, root)
    assert result.exit_code == 2, result.stderr
    assert "app/compose.yaml" in result.stderr
    assert "No space left on device" in result.stderr
    assert (root / "app" / "compose.yaml").read_text() == SIMPLE
    assert _temporaries(root / "app") == []


def test_an_interrupted_write_keeps_the_original_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repository(tmp_path, "app")

    def replace(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(write_module, "os", _OsWith(replace=replace))
    result = run_fix(monkeypatch, root)
    assert result.exit_code != 0
    assert (root / "app" / "compose.yaml").read_text() == SIMPLE
    assert _temporaries(root / "app") == []


def test_a_file_changed_after_it_was_read_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repository(tmp_path, "mine", "theirs")
    edited = SIMPLE + "  # someone's edit, saved while fix was thinking\n"
    planned = fix_planning.plan

    def plan(*args: Any, **kwargs: Any) -> Any:
        result = planned(*args, **kwargs)
        (root / "theirs" / "compose.yaml").write_text(edited)
        return result

    monkeypatch.setattr(fix_planning, "plan", plan)
    result = run_fix(monkeypatch, root)
    assert result.exit_code == 2, result.stderr
    assert (root / "theirs" / "compose.yaml").read_text() == edited
    assert "theirs/compose.yaml: changed on disk since it was read" in result.stderr
    assert (root / "mine" / "compose.yaml").read_text() == SIMPLE_FIXED
    assert _temporaries(root / "theirs") == []


def test_the_file_mode_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repository(tmp_path, "a", "b")
    (root / "a" / "compose.yaml").chmod(0o640)
    (root / "b" / "compose.yaml").chmod(0o604)
    result = run_fix(monkeypatch, root)
    assert result.exit_code == 1, result.stderr
    assert stat.S_IMODE((root / "a" / "compose.yaml").stat().st_mode) == 0o640
    assert stat.S_IMODE((root / "b" / "compose.yaml").stat().st_mode) == 0o604
    assert (root / "a" / "compose.yaml").read_text() == SIMPLE_FIXED


def test_the_file_owner_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root fixing a file of another user's checkout must not take the file over."""
    root = _repository(tmp_path, "app")
    file = root / "app" / "compose.yaml"
    owner = NOBODY if os.geteuid() == 0 else os.geteuid()
    os.chown(file, owner, owner if os.geteuid() == 0 else os.getegid())
    expected = (file.stat().st_uid, file.stat().st_gid)
    result = run_fix(monkeypatch, root)
    assert result.exit_code == 1, result.stderr
    assert file.read_text() == SIMPLE_FIXED
    assert (file.stat().st_uid, file.stat().st_gid) == expected


def test_a_symlinked_compose_file_stays_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repository(tmp_path)
    (root / "shared").mkdir()
    (root / "shared" / "web.yaml").write_text(SIMPLE)
    (root / "app").mkdir()
    (root / "app" / "compose.yaml").symlink_to("../shared/web.yaml")
    result = run_fix(monkeypatch, root)
    link = root / "app" / "compose.yaml"
    assert link.is_symlink(), "the symlink was replaced by a copy"
    assert os.readlink(link) == "../shared/web.yaml"
    # Either the file behind the link is fixed, or fix says why it did not.
    target = (root / "shared" / "web.yaml").read_text()
    assert target == SIMPLE_FIXED or "app/compose.yaml" in result.stderr
    assert _temporaries(root / "app") == []


# Read-only files and directories: as an unprivileged user, since root writes anyway.


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Path]:
    """A directory every user can reach (tmp_path's parents are private to root)."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    root = Path(tempfile.mkdtemp(prefix="compose-ports-fix-"))
    root.chmod(0o755)
    for parent in root.parents:
        assert parent.stat().st_mode & stat.S_IXOTH, f"{parent} is not traversable by others"
    try:
        yield root
    finally:
        for path in [root, *root.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root)


def _own(path: Path) -> None:
    """Give path to the unprivileged user that runs fix."""
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


def unprivileged(command: list[str]) -> list[str]:
    """The command, run as nobody when we are root (setpriv, from util-linux)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to test permissions when running as root"
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]


def run_unprivileged(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m compose_ports fix ARGS` as an unprivileged user (never as root)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        unprivileged([sys.executable, "-m", "compose_ports", "fix", *args]),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_read_only_file_and_directory_are_reported_and_skipped(world: Path) -> None:
    root = world / "repo"
    for directory in (root, root / ".git", root / "ok", root / "ro-file", root / "ro-dir"):
        directory.mkdir()
        _own(directory)
    for project in ("ok", "ro-file", "ro-dir"):
        (root / project / "compose.yaml").write_text(SIMPLE)
        _own(root / project / "compose.yaml")
    (root / "ro-file" / "compose.yaml").chmod(0o444)
    (root / "ro-dir").chmod(0o555)
    before = tree(root)

    result = run_unprivileged(root)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "ro-file/compose.yaml: file is read-only" in result.stderr
    assert "ro-dir/compose.yaml: cannot write in its directory" in result.stderr
    after = tree(root)
    assert after["ro-file/compose.yaml"] == before["ro-file/compose.yaml"]
    assert after["ro-dir/compose.yaml"] == before["ro-dir/compose.yaml"]
    assert after["ok/compose.yaml"].decode() == SIMPLE_FIXED
    assert result.stdout.splitlines() == ["fixed ok/compose.yaml"]
    for project in ("ok", "ro-file", "ro-dir"):
        assert _temporaries(root / project) == []
    assert stat.S_IMODE((root / "ro-file" / "compose.yaml").stat().st_mode) == 0o444


def test_the_unprivileged_user_really_cannot_write(world: Path) -> None:
    """The guard of the test above: its fix runs without root's powers, and does run."""
    (world / "locked").mkdir()
    (world / "locked").chmod(0o555)
    assert run_unprivileged(world / "locked", "--help").returncode == 0
    denied = subprocess.run(
        unprivileged([sys.executable, "-c", "open('x', 'w')"]),
        cwd=world / "locked",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert denied.returncode != 0 and "PermissionError" in denied.stderr, denied.stderr

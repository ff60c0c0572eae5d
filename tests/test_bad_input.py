"""Bad input: one clear `path:line:col: what is wrong` line, exit 2, and the rest still read."""

from __future__ import annotations

import codecs
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from compose_ports.commands import main

GOOD = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'

# name -> (file bytes, the line lint must print)
BROKEN: dict[str, tuple[bytes, str]] = {
    "tab": (
        b"services:\n\tweb:\n    image: x\n",
        "tab/compose.yaml:2:1: yaml: line 2: found character that cannot start any token",
    ),
    "unclosed-quote": (
        b'services:\n  web:\n    ports: ["80:80]\n',
        "unclosed-quote/compose.yaml:4:1: yaml: line 3: found unexpected end of stream",
    ),
    "duplicate-key": (
        b"services:\n  web:\n    image: x\n    image: y\n",
        'duplicate-key/compose.yaml:4:5: mapping key "image" already defined at line 3',
    ),
    "not-utf8": (
        b'services:\n  web:\n    image: "\xff"\n',
        "not-utf8/compose.yaml:3:13: invalid UTF-8 byte 0xff: not a text file",
    ),
    "empty": (b"", "empty/compose.yaml:1:1: empty compose file"),
    "comments-only": (b"# nothing here\n", "comments-only/compose.yaml:1:1: empty compose file"),
    "top-level-list": (
        b"- a\n- b\n",
        "top-level-list/compose.yaml:1:1: top-level object must be a mapping",
    ),
    "top-level-scalar": (
        b"hello\n",
        "top-level-scalar/compose.yaml:1:1: top-level object must be a mapping",
    ),
    "services-not-a-mapping": (
        b"services: [a, b]\n",
        "services-not-a-mapping/compose.yaml:1:11: services must be a mapping",
    ),
    "ports-not-a-list": (
        b'services:\n  web:\n    image: x\n    ports: "80:80"\n',
        "ports-not-a-list/compose.yaml:4:12: services.web.ports must be a array",
    ),
    "tag-does-not-fit": (
        b"services:\n  web:\n    image: !!int x\n",
        "tag-does-not-fit/compose.yaml:3:12: cannot decode !!str `x` as a !!int",
    ),
    "non-string-key": (
        b"services:\n  web:\n    image: x\n    labels: {1: one}\n",
        "non-string-key/compose.yaml:4:14: non-string key in services.web.labels: 1",
    ),
    "extends-cycle": (
        b"services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: a\n",
        "extends-cycle/compose.yaml:",
    ),
    "deep": (
        b"services:\n  web:\n    image: x\n    labels:\n      a: "
        + b"[" * 10000
        + b"]" * 10000
        + b"\n",
        "deep/compose.yaml",
    ),
}


def _bomb() -> bytes:
    lines = ['x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"x-{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("services:\n  web:\n    image: x\n    labels: *j")
    return ("\n".join(lines) + "\n").encode()


BROKEN["alias-bomb"] = (_bomb(), "alias-bomb/compose.yaml:")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    for name, (data, _) in BROKEN.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_bytes(data)
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "compose.yaml").write_text(GOOD)
    (tmp_path / "bom").mkdir()
    (tmp_path / "bom" / "compose.yaml").write_bytes(
        codecs.BOM_UTF8 + GOOD.replace("8080", "8081").encode()
    )
    (tmp_path / "utf16").mkdir()
    (tmp_path / "utf16" / "compose.yaml").write_bytes(GOOD.replace("8080", "8082").encode("utf-16"))
    return tmp_path


def lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return subprocess.run(
        [sys.executable, "-m", "compose_ports", "lint", "--format", "text", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_every_broken_file_is_one_line_and_the_rest_is_read(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    for name, (_, line) in BROKEN.items():
        assert line in out, name
        assert any(line.startswith(f"{name}/compose.yaml") for line in out.splitlines())
    # The good, the BOM and the UTF-16 projects are read and linted.
    for name, port in (("good", "8080"), ("bom", "8081"), ("utf16", "8082")):
        assert f"{name}/compose.yaml:4:13: CP301" in out and port in out
    assert f"({len(BROKEN) + 3} files read, {len(BROKEN)} unreadable)" in out


def test_an_empty_override_is_fine(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(GOOD)
    (tmp_path / "compose.override.yaml").write_text("# nothing to override yet\n")
    assert lint(tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["-f", "missing.yaml"], "missing.yaml: cannot read file: No such file or directory"),
        (["-f", "compose.yaml", "--env-file", "nope.env"], "nope.env: couldn't find env file"),
        (["empty-dir"], "empty-dir: no compose files found"),
        (["no-such-path"], "no-such-path: no such file or directory"),
    ],
)
def test_bad_arguments(tmp_path: Path, args: list[str], line: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(GOOD)
    (tmp_path / "empty-dir").mkdir()
    result = lint(tmp_path, *args)
    assert result.returncode == 2
    assert line in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A directory any user can traverse (pytest's own tmp dirs are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="compose-ports-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unreadable_file_as_an_unprivileged_user(open_tmp: Path) -> None:
    tmp_path = open_tmp
    (tmp_path / ".git").mkdir()
    for name in ("locked", "open"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_text(GOOD)
    (tmp_path / "locked" / "compose.yaml").chmod(0)
    for path in (tmp_path, *tmp_path.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    command = [sys.executable, "-m", "compose_ports", "lint", "--format", "text"]
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 2, result.stderr
    assert "locked/compose.yaml: cannot read file: Permission denied" in result.stdout
    assert "open/compose.yaml:4:13: CP301" in result.stdout


def test_include_cycle_and_outside_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "compose.yaml").write_text(
        "include:\n  - other.yaml\nservices:\n  web:\n    image: x\n"
        "  api:\n    extends:\n      file: ../shared.yaml\n      service: base\n"
    )
    (repo / "other.yaml").write_text("include:\n  - compose.yaml\nservices:\n  o:\n    image: x\n")
    (tmp_path / "shared.yaml").write_text(
        'services:\n  base:\n    image: x\n    ports: ["7000:7000"]\n'
    )
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["map", "--format", "json"])
    assert result.exit_code == 2
    (project,) = json.loads(result.stdout)["projects"]
    assert any("include cycle" in e["message"] for e in project["errors"])
    assert project["warnings"] == [
        f"{repo / 'compose.yaml'}:8:7: reads {tmp_path / 'shared.yaml'}, outside the repository"
    ]
    assert [p["published"] for p in project["ports"]] == ["7000"]


class _Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@pytest.mark.parametrize(
    ("raised", "code", "said"),
    [
        (RuntimeError("boom"), 2, "internal error: RuntimeError: boom (this is a bug"),
        (KeyboardInterrupt(), 130, ""),
        (SystemExit(1), 1, ""),
        (SystemExit(None), 0, ""),
        (SystemExit("plain text"), 1, "plain text"),
    ],
)
def test_the_console_script_ends_with_one_line_and_its_code(
    raised: BaseException,
    code: int,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from compose_ports import commands, console

    def fail(**_: object) -> None:
        raise raised

    def exit_(status: int) -> None:
        raise _Exited(status)

    monkeypatch.delenv("COMPOSE_PORTS_DEBUG", raising=False)
    monkeypatch.setattr(commands.main, "main", fail)
    monkeypatch.setattr(console.os, "_exit", exit_)
    with pytest.raises(_Exited) as ended:
        console.entry()
    assert ended.value.code == code
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 1


def test_a_reader_that_stops_early_costs_no_traceback(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    # Far more than a pipe holds, so the writer meets the closed pipe.
    services = "".join(
        f"  s{i}:\n    image: x\n    ports: ['{10000 + i}:80']\n" for i in range(3000)
    )
    (tmp_path / "compose.yaml").write_text(f"services:\n{services}")
    command = f"'{sys.executable}' -m compose_ports map --format json | head -c 1"
    result = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.stdout == "{"
    assert result.stderr == ""

"""Hostile files: devices, FIFOs, directories and huge files, wherever a run may meet them.

Each case runs the real console script in a subprocess, with a timeout and an address-space
limit, so a regression shows as a failed test rather than a hung or killed test run. A file the
user names or a project reaches gives one line `path: not a regular file` (or `larger than ...`)
and exit code 2; a file met while scanning a tree is skipped with a note.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest

from compose_ports import readfile
from compose_ports.errors import ComposePortsError

resource = pytest.importorskip("resource", reason="address-space limits, FIFOs, /dev/zero: POSIX")

TIMEOUT = 20  # seconds; a run here takes a fraction of one
MEMORY = 1 << 30  # address space: reading /dev/zero runs into it within a second
GOOD = 'services:\n  web:\n    image: nginx\n    ports: ["18613:80"]\n'
OTHER = 'services:\n  api:\n    image: nginx\n    ports: ["18614:80"]\n'
CONFIG = (
    "stacks:\n  web: [web/compose.yaml]\nhosts:\n  box: [web]\n"
    "env:\n  environments:\n    dev: {offset: 0}\n"
)
SMALL = {readfile.LIMIT_VARIABLE: "1000"}


class Run(NamedTuple):
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def launch(
    cwd: Path, args: list[str], env: dict[str, str] | None = None, shell: str = ""
) -> Run | None:
    """The console script on args (or a bash line, for process substitution), bounded; None
    when it did not answer in time."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COMPOSE_") and k not in ("GITHUB_ACTIONS", "NO_COLOR")
    }
    environ.update({"PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1", **(env or {})})
    command = [sys.executable, "-m", "compose_ports", *args]
    if shell:
        command = ["bash", "-c", f"exec {sys.executable} -m compose_ports {shell}"]
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=environ,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        return None
    return Run(done.returncode, done.stdout, done.stderr)


def answered(result: Run | None, what: object) -> Run:
    """The run's result, which must be an answer of the tool's own."""
    if result is None:
        pytest.fail(f"no answer within {TIMEOUT} s: {what}")
    assert "Traceback" not in result.output, result.output
    assert "internal error" not in result.output, result.output
    return result


def run(cwd: Path, args: list[str], env: dict[str, str] | None = None, shell: str = "") -> Run:
    return answered(launch(cwd, args, env, shell), shell or args)


def make_repo(root: Path) -> Path:
    """A repository root (nothing above it is read) with a config, a host and one good stack."""
    (root / ".git").mkdir()
    (root / ".compose-ports.yaml").write_text(CONFIG)
    (root / "web").mkdir()
    (root / "web" / "compose.yaml").write_text(GOOD)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def _file(relative: str, text: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return make


def _link(relative: str, target: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)

    return make


def _fifo(relative: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)

    return make


def _directory(relative: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).mkdir(parents=True)


def _big(relative: str, size: int) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(OTHER)
        # Sparse: the size is all that matters, and it costs no disk.
        os.truncate(path, size)

    return make


class Case(NamedTuple):
    setup: tuple[Callable[[Path], None], ...]
    args: tuple[str, ...]  # after the command and its own required options
    line: str  # the one line: an error (exit 2), or with `note: ...: skipped` (exit as usual)
    # Who reports it: "project" (a file a stack reads), "run" (an argument or the config, before
    # any stack is read), "scan" (a note about a file the scan met and skipped).
    where: str = "project"
    env: dict[str, str] | None = None

    @property
    def note(self) -> bool:
        return self.where == "scan"


CASES: dict[str, Case] = {
    "include /dev/zero": Case(
        (_file("inc/compose.yaml", "include:\n  - /dev/zero\nservices:\n  a:\n    image: x\n"),),
        (),
        "/dev/zero: not a regular file",
    ),
    "extends /dev/zero": Case(
        (
            _file(
                "ext/compose.yaml",
                "services:\n  a:\n    extends:\n      file: /dev/zero\n      service: b\n",
            ),
        ),
        (),
        "/dev/zero: not a regular file",
    ),
    "compose.yaml a link to /dev/zero, scanned": Case(
        (_link("app/compose.yaml", "/dev/zero"),),
        (),
        "app/compose.yaml: not a regular file",
        where="scan",
    ),
    "compose.yaml a link to /dev/zero, named": Case(
        (_link("app/compose.yaml", "/dev/zero"),),
        ("-f", "app/compose.yaml"),
        "app/compose.yaml: not a regular file",
    ),
    "compose.override.yaml a link to /dev/zero, scanned": Case(
        (_file("app/compose.yaml", OTHER), _link("app/compose.override.yaml", "/dev/zero")),
        (),
        "app/compose.override.yaml: not a regular file",
        where="scan",
    ),
    "compose.override.yaml a link to /dev/zero, named": Case(
        (_file("app/compose.yaml", OTHER), _link("app/compose.override.yaml", "/dev/zero")),
        ("-f", "app/compose.yaml", "-f", "app/compose.override.yaml"),
        "app/compose.override.yaml: not a regular file",
    ),
    "--config /dev/zero": Case(
        (), ("--config", "/dev/zero"), "/dev/zero: not a regular file", where="run"
    ),
    "--config a link to /dev/zero": Case(
        (_link("policy.yaml", "/dev/zero"),),
        ("--config", "policy.yaml"),
        "policy.yaml: not a regular file",
        where="run",
    ),
    "--config a directory": Case(
        (_directory("policy"),), ("--config", "policy"), "policy: not a regular file", where="run"
    ),
    "--env-file /dev/zero": Case((), ("--env-file", "/dev/zero"), "/dev/zero: not a regular file"),
    "--env-file a directory": Case(
        (_directory("envs"),), ("--env-file", "envs"), "envs: not a regular file"
    ),
    "-f a directory": Case(
        (_directory("stack.yaml"),), ("-f", "stack.yaml"), "stack.yaml: not a regular file"
    ),
    "a path argument that is a device": Case(
        (), ("/dev/zero",), "/dev/zero: not a regular file", where="run"
    ),
    "a FIFO beside a file given as an argument": Case(
        (_fifo("web/compose.override.yaml"),),
        ("web/compose.yaml",),
        "web/compose.override.yaml: not a regular file",
        where="scan",
    ),
    "a FIFO named compose.yaml": Case(
        (_fifo("app/compose.yaml"),), (), "app/compose.yaml: not a regular file", where="scan"
    ),
    "a FIFO deep in the tree": Case(
        (_fifo("a/b/sub/docker-compose.yml"),),
        (),
        "a/b/sub/docker-compose.yml: not a regular file",
        where="scan",
    ),
    ".gitignore a FIFO": Case(
        (_fifo(".gitignore"),), (), ".gitignore: not a regular file", where="scan"
    ),
    ".gitignore a link to /dev/zero": Case(
        (_link("web/.gitignore", "/dev/zero"),),
        (),
        "web/.gitignore: not a regular file",
        where="scan",
    ),
    "an oversized compose file, scanned": Case(
        (_big("big/compose.yaml", 1001),),
        (),
        "big/compose.yaml: larger than 1000 bytes",
        where="scan",
        env=SMALL,
    ),
    "an oversized compose file, named": Case(
        (_big("big/compose.yaml", 1001),),
        ("-f", "big/compose.yaml"),
        "big/compose.yaml: larger than 1000 bytes",
        env=SMALL,
    ),
    "an oversized include": Case(
        (
            _file("inc/compose.yaml", "include:\n  - big.yaml\nservices:\n  a:\n    image: x\n"),
            _big("inc/big.yaml", 1001),
        ),
        (),
        "inc/big.yaml: larger than 1000 bytes",
        env=SMALL,
    ),
    "an oversized .env": Case(
        (_big("web/.env", 1001),), (), "web/.env: larger than 1000 bytes", env=SMALL
    ),
    "an oversized config": Case(
        (_big("policy.yaml", 1001),),
        ("--config", "policy.yaml"),
        "policy.yaml: larger than 1000 bytes",
        where="run",
        env=SMALL,
    ),
    "a limit that is not a number": Case(
        (),
        (),
        f"{readfile.LIMIT_VARIABLE} must be a number of bytes, not 'lots'",
        where="run",
        env={readfile.LIMIT_VARIABLE: "lots"},
    ),
}

# The command line of each command, before a case's own arguments.
COMMANDS: dict[str, tuple[str, ...]] = {
    "lint": ("lint",),
    "map": ("map",),
    "fix": ("fix",),
    "check": ("check",),
    "env": ("env", "--host", "box", "--environment", "dev"),
    "suggest": ("suggest", "newsvc"),
}
# suggest takes paths and --config, not Compose's -f or --env-file.
_COMPOSE_ONLY = ("-f", "--env-file")


# The cases of the issue, which every command meets; the others are the same reading seen from
# other places, and the printing is each command's own: lint and map show it.
EVERY_COMMAND = (
    "include /dev/zero",
    "extends /dev/zero",
    "compose.yaml a link to /dev/zero, scanned",
    "compose.yaml a link to /dev/zero, named",
    "compose.override.yaml a link to /dev/zero, scanned",
    "compose.override.yaml a link to /dev/zero, named",
    "--config /dev/zero",
    "--env-file /dev/zero",
    "a FIFO named compose.yaml",
    "a FIFO deep in the tree",
    ".gitignore a FIFO",
    ".gitignore a link to /dev/zero",
    "an oversized compose file, scanned",
    "an oversized compose file, named",
    "a limit that is not a number",
)


def _commands(name: str) -> list[str]:
    case = CASES[name]
    commands = list(COMMANDS) if name in EVERY_COMMAND else ["lint", "map"]
    if any(a in _COMPOSE_ONLY for a in case.args):
        return [c for c in commands if c != "suggest"]
    return commands


def _matrix() -> list[object]:
    return [
        pytest.param(name, command, id=f"{command}: {name}")
        for name in CASES
        for command in _commands(name)
    ]


_OUTCOMES: dict[str, dict[str, Run | None]] = {}


def _outcome(name: str, command: str, tmp_path_factory: pytest.TempPathFactory) -> Run | None:
    """Every command on a case at once, each in its own copy of the repository: the runs are
    all waiting on Python's start-up, which overlaps well."""
    if name not in _OUTCOMES:
        case = CASES[name]
        jobs = {}
        with ThreadPoolExecutor(max_workers=len(COMMANDS)) as pool:
            for each in _commands(name):
                root = make_repo(tmp_path_factory.mktemp("case"))
                for make in case.setup:
                    make(root)
                args = [*COMMANDS[each], *case.args]
                jobs[each] = pool.submit(launch, root, args, case.env)
        _OUTCOMES[name] = {each: job.result() for each, job in jobs.items()}
    return _OUTCOMES[name][command]


@pytest.mark.parametrize(("name", "command"), _matrix())
def test_every_command_answers_in_one_line(
    name: str, command: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    case = CASES[name]
    result = answered(_outcome(name, command, tmp_path_factory), f"{command}: {name}")
    if case.note:
        assert f"note: {case.line}: skipped\n" in result.stderr, result.output
        assert result.code in (0, 1), result.output
    else:
        assert result.code == 2, result.output
        assert re.search(rf"(^|\s){re.escape(case.line)}$", result.output, re.M), result.output


def test_a_tree_whose_only_compose_file_is_skipped_has_no_compose_files(repo: Path) -> None:
    _fifo("lonely/compose.yaml")(repo)
    result = run(repo, ["lint", "lonely"])
    assert result.code == 2
    assert "note: lonely/compose.yaml: not a regular file: skipped\n" in result.stderr
    assert "lonely: no compose files found" in result.output


def test_the_default_limit_is_64_mib(repo: Path) -> None:
    _big("big/compose.yaml", (64 << 20) + 1)(repo)
    scanned = run(repo, ["lint"])
    assert scanned.code == 0, scanned.output
    assert "note: big/compose.yaml: larger than 64 MiB: skipped\n" in scanned.stderr
    named = run(repo, ["lint", "-f", "big/compose.yaml"])
    assert named.code == 2
    assert "big/compose.yaml: larger than 64 MiB\n" in named.stdout


def test_a_file_at_the_limit_is_read(repo: Path) -> None:
    text = OTHER + "#" * (1000 - len(OTHER) - 1) + "\n"
    _file("app/compose.yaml", text)(repo)
    assert len(text) == 1000
    result = run(repo, ["map", "-f", "app/compose.yaml"], SMALL)
    assert result.code == 0, result.output
    assert "18614/tcp" in result.stdout


# -- pipes the user means: bash process substitution ---------------------------------------


def test_a_compose_file_from_a_pipe_is_read(repo: Path) -> None:
    result = run(repo, [], shell=f"map -f <(printf '%s' '{OTHER}')")
    assert result.code == 0, result.output
    assert "18614/tcp" in result.stdout


def test_a_pipe_given_as_an_argument_is_read(repo: Path) -> None:
    result = run(repo, [], shell=f"map <(printf '%s' '{OTHER}')")
    assert result.code == 0, result.output
    assert "18614/tcp" in result.stdout


def test_env_and_config_files_from_pipes_are_read(repo: Path) -> None:
    _file("app/compose.yaml", 'services:\n  a:\n    image: x\n    ports: ["${P}:80"]\n')(repo)
    result = run(
        repo,
        [],
        shell="map -f app/compose.yaml --env-file <(echo P=18615) --config <(echo 'rules: {}')",
    )
    assert result.code == 0, result.output
    assert "18615/tcp" in result.stdout


def test_a_pipe_is_read_no_further_than_the_limit(repo: Path) -> None:
    # `yes` never ends: only the limit stops the read (the default one, 64 MiB).
    result = run(repo, [], shell="lint -f <(yes '# hostile')")
    assert result.code == 2
    assert re.search(r"^/dev/fd/\d+: larger than 64 MiB$", result.stdout, re.M), result.output


def test_a_fifo_nobody_writes_to_is_empty_rather_than_a_wait(repo: Path) -> None:
    _fifo("app/compose.yaml")(repo)
    result = run(repo, ["lint", "-f", "app/compose.yaml"])
    assert result.code == 2
    assert "app/compose.yaml:1:1: empty compose file" in result.stdout


# -- the reading rule itself, in process ---------------------------------------------------


def test_read_bytes_refuses_devices_and_directories(tmp_path: Path) -> None:
    for path in ("/dev/zero", "/dev/null", str(tmp_path)):
        for named in (True, False):
            with pytest.raises(readfile.Refused) as caught:
                readfile.read_bytes(path, named=named)
            assert str(caught.value) == f"{path}: not a regular file"


def test_read_bytes_reads_a_pipe_only_when_named(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # Nobody writes: named, it is empty at once; scanned, it is never opened.
    assert readfile.read_bytes(fifo) == b""
    with pytest.raises(readfile.Refused, match="not a regular file"):
        readfile.read_bytes(fifo, named=False)


def _pipe_with(data: bytes) -> tuple[str, threading.Thread]:
    read_end, write_end = os.pipe()

    def write() -> None:
        try:
            os.write(write_end, data)
        except BrokenPipeError:
            pass  # the reader stopped at the limit, as it should
        finally:
            os.close(write_end)

    writer = threading.Thread(target=write)
    writer.start()
    return f"/dev/fd/{read_end}", writer


def test_read_bytes_bounds_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(readfile.LIMIT_VARIABLE, "100000")
    path, writer = _pipe_with(b"x" * 100_000)
    try:
        assert readfile.read_bytes(path) == b"x" * 100_000
    finally:
        writer.join()
        os.close(int(path.rsplit("/", 1)[1]))
    path, writer = _pipe_with(b"x" * 300_000)
    try:
        with pytest.raises(readfile.Refused) as caught:
            readfile.read_bytes(path)
        assert str(caught.value) == f"{path}: larger than 100000 bytes"
    finally:
        os.close(int(path.rsplit("/", 1)[1]))
        writer.join()


def test_read_bytes_refuses_a_large_file_from_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(readfile.LIMIT_VARIABLE, str(4 << 10))
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * (4 << 10))
    assert len(readfile.read_bytes(path, named=False)) == 4 << 10
    os.truncate(path, (4 << 10) + 1)
    with pytest.raises(readfile.Refused) as caught:
        readfile.read_bytes(path, named=False)
    assert caught.value.message == "larger than 4 KiB"
    # Missing files are the caller's to word: the OSError comes through.
    with pytest.raises(FileNotFoundError):
        readfile.read_bytes(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("value", "limit"),
    [(None, 64 << 20), ("", 64 << 20), ("0", 0), ("1_000", 1000), ("abc", None), ("-1", None)],
)
def test_the_limit_comes_from_the_environment(
    value: str | None, limit: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv(readfile.LIMIT_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(readfile.LIMIT_VARIABLE, value)
    if limit is None:
        with pytest.raises(ComposePortsError, match="must be a number of bytes"):
            readfile.limit()
    else:
        assert readfile.limit() == limit


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (64 << 20, "64 MiB"),
        (1 << 30, "1 GiB"),
        (4096, "4 KiB"),
        (1000, "1000 bytes"),
        (1, "1 byte"),
    ],
)
def test_sizes_read_as_people_set_them(size: int, text: str) -> None:
    assert readfile.describe_size(size) == text

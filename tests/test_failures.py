"""Every failure is a sentence: one line naming what failed, exit code 2, never "internal error".

Each case runs the console script in a process of its own, so that what is checked is exactly
what a user sees: the streams, the exit code, and no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
# A config that is valid but for one unknown top-level key (and a hosts: group, an environment
# and a range, so that a command that skipped the check would get on with its work).
BAD_CONFIG = (
    "bogus: 1\n"
    "stacks:\n  shop: [compose.yaml]\n"
    "hosts:\n  h: [shop]\n"
    "ranges:\n  web: {ports: 8000-8999, services: [web]}\n"
    "env:\n  environments:\n    dev: {offset: 100}\n"
)
CONFIG_ERROR = "(top level): unknown key 'bogus'"


def run(cwd: Path, *args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "compose_ports", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        env={**environ, "COMPOSE_PORTS_DEBUG": ""},
    )


def one_sentence(stderr: str, *words: str) -> str:
    """The one line stderr holds, which must say each of `words`."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = stderr.strip("\n").split("\n")
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0], (word, stderr)
    return lines[0]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return tmp_path


# --- --output ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_report_into_a_missing_directory(repo: Path, fmt: str) -> None:
    result = run(repo, "lint", "--format", fmt, "--output", "/nonexistent/x.txt")
    assert result.returncode == 2
    line = one_sentence(result.stderr, "/nonexistent/x.txt", "No such file or directory")
    assert line == "/nonexistent/x.txt: cannot write the report: No such file or directory"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_report_onto_a_full_disk(repo: Path, fmt: str) -> None:
    result = run(repo, "lint", "--format", fmt, "--output", "/dev/full")
    assert result.returncode == 2
    one_sentence(result.stderr, "/dev/full: cannot write the report", "No space left on device")


def test_a_report_into_a_file_that_is_not_writable(repo: Path) -> None:
    # A path through a regular file: no permission check can make it writable, not even root's.
    result = run(repo, "lint", "--output", str(repo / "compose.yaml" / "x.txt"))
    assert result.returncode == 2
    one_sentence(result.stderr, f"{repo}/compose.yaml/x.txt: cannot write the report")


def test_a_report_named_with_control_characters_is_shown_escaped(repo: Path) -> None:
    result = run(repo, "lint", "--output", "/nonexistent/\x1b]0;x\x07.txt")
    assert result.returncode == 2
    one_sentence(result.stderr, "/nonexistent/\\x1b]0;x\\x07.txt: cannot write the report")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ("lint", "--format", "text"),
        ("lint", "--format", "sarif"),
        ("map",),
        ("map", "--format", "markdown"),
        ("fix", "--diff"),
        ("rules",),
    ],
)
def test_standard_output_onto_a_full_disk(repo: Path, args: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        result = run(repo, *args, stdout=full.fileno())
    assert result.returncode == 2
    one_sentence(result.stderr, "cannot write to stdout: No space left on device")


def test_a_good_report_is_still_written(repo: Path) -> None:
    target = repo / "report.json"
    result = run(repo, "lint", "--format", "json", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert '"findings"' in target.read_text()


# --- every command checks the config it uses ---------------------------------------------------

COMMANDS = [
    ("lint",),
    ("lint", "--format", "json"),
    ("map",),
    ("map", "--format", "markdown"),
    ("fix",),
    ("fix", "--check"),
    ("check",),
    ("check", "--host", "h"),
    ("env", "--host", "h", "--environment", "dev"),
    ("suggest", "web"),
    ("suggest", "web", "--host", "h"),
    ("suggest", "web", "--category", "web"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_refuses_the_nearest_config_when_it_is_invalid(
    repo: Path, args: tuple[str, ...]
) -> None:
    (repo / ".compose-ports.yaml").write_text(BAD_CONFIG)
    before = (repo / "compose.yaml").read_text()
    result = run(repo, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    said = result.stdout + result.stderr
    assert f".compose-ports.yaml:1:1: {CONFIG_ERROR}" in said
    assert "no hosts: group" not in said and "internal error" not in said
    if args[0] == "suggest":
        assert result.stdout == ""  # no port for a policy that could not be read
    if args[0] in ("fix", "env"):
        assert (repo / "compose.yaml").read_text() == before
        assert not (repo / ".env.dev").exists()


def test_fix_remap_on_a_host_refuses_an_invalid_config(repo: Path) -> None:
    (repo / ".compose-ports.yaml").write_text(BAD_CONFIG)
    result = run(repo, "fix", "--remap", "--host", "h")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f".compose-ports.yaml:1:1: {CONFIG_ERROR}" in result.stderr
    assert (repo / "compose.yaml").read_text() == COMPOSE


def test_fix_remap_on_a_host_says_only_the_config_error(repo: Path) -> None:
    (repo / ".compose-ports.yaml").write_text(BAD_CONFIG)
    result = run(repo, "fix", "--remap", "--host", "h")
    one_sentence(result.stderr, CONFIG_ERROR)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_refuses_a_given_config_when_it_is_invalid(
    repo: Path, args: tuple[str, ...]
) -> None:
    config = repo / "policy.yaml"
    config.write_text(BAD_CONFIG)
    result = run(repo, *args, "--config", str(config))
    assert result.returncode == 2, (result.stdout, result.stderr)
    # Shown relative to the current directory, as every path is.
    assert f"policy.yaml:1:1: {CONFIG_ERROR}" in result.stdout + result.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_says_a_missing_config_in_one_line(repo: Path, args: tuple[str, ...]) -> None:
    result = run(repo, *args, "--config", "/nonexistent/policy.yaml")
    assert result.returncode == 2, (result.stdout, result.stderr)
    said = result.stdout + result.stderr
    assert "/nonexistent/policy.yaml" in said and "No such file or directory" in said
    assert "Traceback" not in said and "internal error" not in said


def test_suggest_with_a_valid_config_still_suggests(repo: Path) -> None:
    (repo / ".compose-ports.yaml").write_text(BAD_CONFIG.replace("bogus: 1\n", ""))
    result = run(repo, "suggest", "web")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "8000\n"

"""Text output fits the terminal it is shown on, and only there.

The console script runs in a pseudo-terminal of 100 columns, as a person sees it: every line
fits (a finding's head, `path:line:col: CODE severity rule:`, is never split), words are never
cut, and the context of each finding is on indented lines. Piped, the same report is one line
per finding and its context, never wrapped, so that what scripts and snapshots read is stable.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def environment(**extra: str) -> dict[str, str]:
    drop = ("GITHUB_ACTIONS", "COLUMNS", "LINES", "NO_COLOR")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


def on_terminal(cwd: Path, *args: str, columns: int = 100, **env: str) -> tuple[int, str]:
    """The console script's stdout on a terminal `columns` wide (set on the terminal itself,
    as a window would, not through COLUMNS)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    with subprocess.Popen(
        [sys.executable, "-m", "compose_ports", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=environment(**env),
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is gone: the process closed it
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        code = process.wait(timeout=120)
    # The terminal writes each newline as CR LF.
    return code, b"".join(chunks).decode().replace("\r\n", "\n")


def piped(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "compose_ports", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(COLUMNS="100"),
    )
    return result.stdout


def test_a_report_fits_a_100_column_terminal(orchestra: Path) -> None:
    code, shown = on_terminal(orchestra, "lint", NO_COLOR="1")
    assert code == 1
    lines = shown.splitlines()
    # Only a finding's head may pass the width, never split (it ends at the rule's name).
    assert all(len(line) <= 100 or line.endswith(":") for line in lines), shown
    assert max(map(len, lines)) <= 100
    # Nothing is cut or lost: the same words as piped, where nothing wraps.
    pipe = piped(orchestra, "lint")
    assert max(map(len, pipe.splitlines())) > 100
    assert shown.split() == pipe.split()
    # `path:line:col: CODE` starts a finding; its context and continuations are indented.
    head = re.compile(r"^[\w./-]+:\d+:\d+: CP\d{3} ")
    heads = [line for line in lines if head.match(line)]
    assert len(heads) == len(pipe.split("\n    [service:")) - 1
    index = lines.index(
        "mcp/docker-compose.yml:26:9: CP101 [fix --remap] error host-port-conflict: host port "
        "8010/tcp of"
    )
    assert lines[index + 1 : index + 4] == [
        "      docker-api is already bound by api (stack development) on host dev-laptop",
        "    [service: docker-api, stack: mcp, host: dev-laptop]",
        "    also: docker-compose.override.yml:11:9 service api (stack development)",
    ]


def test_colours_and_width_together(orchestra: Path) -> None:
    _, coloured = on_terminal(orchestra, "lint")
    assert "\x1b[1;31mCP101\x1b[0m" in coloured
    _, plain = on_terminal(orchestra, "lint", NO_COLOR="1")
    # The colours take no room: painting does not change where lines break.
    assert COLOURS.sub("", coloured) == plain


def test_a_narrow_terminal_wraps_more(orchestra: Path) -> None:
    _, narrow = on_terminal(orchestra, "lint", columns=60, NO_COLOR="1")
    assert all(len(line) <= 60 or line.endswith(":") for line in narrow.splitlines())
    assert narrow.split() == piped(orchestra, "lint").split()


def test_concise_is_one_line_per_finding_even_on_a_terminal(orchestra: Path) -> None:
    _, concise = on_terminal(orchestra, "lint", "--format", "concise", NO_COLOR="1")
    findings = [line for line in concise.splitlines() if re.match(r"^\S+:\d+:\d+: CP\d{3} ", line)]
    report = piped(orchestra, "lint", "--format", "json")
    assert len(findings) == len(json.loads(report)["findings"])
    assert not any(line.startswith(" ") for line in concise.splitlines())
    assert concise == piped(orchestra, "lint", "--format", "concise")


def test_a_report_written_to_a_file_never_wraps(orchestra: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    on_terminal(orchestra, "lint", "--output", str(out), NO_COLOR="1")
    assert out.read_text() == piped(orchestra, "lint")

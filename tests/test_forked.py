"""The forked worker is a shortcut only: results, order, errors and files read are those of a
serial run, whatever the worker does (module compose_ports.forked)."""

from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path

import pytest

from compose_ports import forked
from compose_ports.compose import workspace
from compose_ports.compose.loading import LoadOptions
from compose_ports.compose.workspace import load_workspace
from compose_ports.forked import map_split

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture(autouse=True)
def two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(forked.JOBS_VARIABLE, "2")


def _with_pid(item: int) -> tuple[int, int]:
    return item, os.getpid()


def test_the_last_part_is_computed_by_another_process_and_comes_back_in_order() -> None:
    results = map_split(_with_pid, range(40), minimum=16)
    assert [item for item, _ in results] == list(range(40))
    pids = [pid for _, pid in results]
    assert pids[0] == os.getpid()
    assert pids[-1] != os.getpid()
    # The parent's part, then the worker's.
    assert len(set(pids)) == 2
    assert pids == sorted(pids, key=lambda pid: pid != os.getpid())


@pytest.mark.parametrize(
    ("count", "jobs"), [(15, "2"), (40, "1")], ids=["too few items", "COMPOSE_PORTS_JOBS=1"]
)
def test_no_worker_below_the_minimum_or_when_turned_off(
    count: int, jobs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(forked.JOBS_VARIABLE, jobs)
    results = map_split(_with_pid, range(count), minimum=16)
    assert {pid for _, pid in results} == {os.getpid()}


def test_a_worker_that_fails_leaves_its_part_to_the_parent() -> None:
    parent = os.getpid()

    def only_here(item: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the worker breaks")
        return item * 2

    assert map_split(only_here, range(30), minimum=16) == [i * 2 for i in range(30)]

    def unpicklable(item: int) -> object:
        return (lambda: item) if os.getpid() != parent else item

    results = map_split(unpicklable, range(30), minimum=16)
    assert results == list(range(30))

    def killed(item: int) -> int:
        if os.getpid() != parent:
            os._exit(3)
        return item

    assert map_split(killed, range(30), minimum=16) == list(range(30))


@pytest.mark.parametrize(
    ("failing", "raised"),
    [((25, 33), "item 25"), ((3, 33), "item 3"), ((33,), "item 33")],
    ids=["both in the worker's part", "one in each part", "the last item"],
)
def test_an_error_is_the_one_a_serial_run_raises(failing: tuple[int, ...], raised: str) -> None:
    def fails_at(item: int) -> int:
        if item in failing:
            raise ValueError(f"item {item}")
        return item

    with pytest.raises(ValueError, match=f"^{raised}$"):
        map_split(fails_at, range(40), minimum=16)


def test_an_error_in_the_parent_part_ends_the_worker() -> None:
    started: list[int] = []
    real_start = forked._Child.start

    def start(job):  # type: ignore[no-untyped-def]
        child = real_start(job)
        started.append(child.pid)
        return child

    def fails_first(item: int) -> int:
        if item == 0:
            raise KeyError("first")
        return item

    forked._Child.start = start  # type: ignore[method-assign,assignment]
    try:
        with pytest.raises(KeyError):
            map_split(fails_first, range(40), minimum=16)
    finally:
        forked._Child.start = real_start  # type: ignore[method-assign]
    assert len(started) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0], os.WNOHANG)  # reaped already: no zombie left behind


def test_what_the_worker_harvests_reaches_the_parent() -> None:
    seen: list[int] = []
    gathered: list[list[int]] = []
    results = map_split(
        lambda i: seen.append(i) or i,
        range(20),
        minimum=16,
        harvest=lambda: list(seen),  # in the worker: the items it saw
        absorb=gathered.append,
    )
    assert results == list(range(20))
    assert len(gathered) == 1 and gathered[0]
    assert seen + gathered[0] == list(range(20))


# -- the workspace: a monorepo loaded with and without the worker ----------------------------


def _monorepo(root: Path, stacks: int, seed: int) -> None:
    """Stacks of every shape the loader treats apart: overrides, includes, extends, `.env`,
    broken YAML, interpolation errors, suppression comments, a config with hosts."""
    rng = random.Random(seed)
    names = []
    stacks_files = []
    for index in range(stacks):
        name = f"s{index:02d}"
        names.append(name)
        folder = root / name
        folder.mkdir()
        shape = rng.choice(["plain", "override", "include", "extends", "env", "broken", "error"])
        port = 8000 + rng.randrange(40)
        comment = "  # compose-ports: ignore CP301 -- on purpose" if rng.random() < 0.3 else ""
        body = f'services:\n  web:\n    image: nginx\n    ports:\n      - "{port}:80"{comment}\n'
        if shape == "override":
            (folder / "compose.override.yaml").write_text(
                f'services:\n  web:\n    ports:\n      - "{port + 100}:80"\n'
            )
        elif shape == "include":
            (folder / "side.yaml").write_text(
                f'services:\n  side:\n    image: redis\n    ports: ["{port + 200}:6379"]\n'
            )
            body = "include:\n  - side.yaml\n" + body
        elif shape == "extends":
            (folder / "base.yaml").write_text(
                'services:\n  base:\n    image: nginx\n    ports: ["9000:80"]\n'
            )
            body += "  other:\n    extends: {file: base.yaml, service: base}\n"
        elif shape == "env":
            (folder / ".env").write_text(f"WEB_PORT={port + 300}\n")
            body = body.replace(f'"{port}:80"', '"${WEB_PORT:-1}:80"')
        elif shape == "broken":
            body += "  bad: [unclosed\n"
        elif shape == "error":
            body = body.replace(f'"{port}:80"', '"${WEB_PORT?is required}:80"')
        (folder / "compose.yaml").write_text(body)
        files = [f"{name}/compose.yaml"]
        if shape == "override":
            files.append(f"{name}/compose.override.yaml")
        stacks_files.append(f"  {name}: [{', '.join(files)}]\n")
    hosts = ", ".join(names[: stacks // 2])
    (root / ".compose-ports.yaml").write_text(
        f"stacks:\n{''.join(stacks_files)}hosts:\n  box: [{hosts}]\n"
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("keep_text", [False, True], ids=["lint", "fix"])
def test_a_monorepo_loads_alike_with_and_without_the_worker(
    tmp_path: Path, seed: int, keep_text: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    _monorepo(tmp_path, 24 + seed * 7, seed)
    options = LoadOptions(cwd=str(tmp_path), environ={})

    monkeypatch.setenv(forked.JOBS_VARIABLE, "1")
    serial = load_workspace(["."], options, keep_text=keep_text)
    assert not serial.errors and len(serial.projects) == 24 + seed * 7
    assert any(p.diagnostics for p in serial.projects[len(serial.projects) // 2 :])

    # Each project says which process loaded it: the worker's part must come back from it.
    real_load = workspace.load_project

    def tagged(*args, **kwargs):  # type: ignore[no-untyped-def]
        project = real_load(*args, **kwargs)
        return replace(project, name=f"{project.name}@{os.getpid()}")

    monkeypatch.setattr(workspace, "load_project", tagged)
    monkeypatch.setenv(forked.JOBS_VARIABLE, "2")
    split = load_workspace(["."], options, keep_text=keep_text)

    pids = {p.name.rpartition("@")[2] for p in split.projects}
    assert str(os.getpid()) in pids and len(pids) == 2
    untagged = tuple(replace(p, name=p.name.rpartition("@")[0]) for p in split.projects)
    assert untagged == serial.projects
    assert split.configs == serial.configs
    assert split.errors == serial.errors and split.notes == serial.notes
    assert split.cache is not None and serial.cache is not None
    assert split.cache.markers == serial.cache.markers
    for path in serial.cache.markers:
        assert split.cache.read(path) == serial.cache.read(path)
        if keep_text:
            assert split.cache.text(path) == serial.cache.text(path)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_worker_stops_when_the_parent_is_killed(tmp_path: Path) -> None:
    """`timeout` sends SIGTERM, which ends the parent at once: the worker must not go on."""
    import signal
    import subprocess
    import sys
    import time

    pids = tmp_path / "pids"
    script = f"""
import os, time
from compose_ports.forked import map_split

def slow(item):
    with open({str(pids)!r}, "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    time.sleep(0.2)
    return item

map_split(slow, range(200), minimum=16)
"""
    env = {**os.environ, forked.JOBS_VARIABLE: "2"}
    process = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = set(pids.read_text().split()) if pids.exists() else set()
        if len(seen) == 2:
            break
        time.sleep(0.05)
    assert len(seen) == 2, "the worker never started"
    [worker] = seen - {str(process.pid)}
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)

    def running() -> bool:
        try:  # an exited process nobody has reaped yet is a zombie: `Z` in its stat line
            return Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError):
            return False

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and running():
        time.sleep(0.05)
    assert not running(), "the worker outlived its parent"

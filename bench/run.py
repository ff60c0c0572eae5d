"""The benchmark: compose-ports against the C YAML parser's floor, in one run, on one machine.

    python bench/run.py [--quick] [--repeat N] [--check] [--keep DIR]

Generates synthetic monorepos (bench/generate.py) into a temporary directory, runs every command
in a fresh child process, and prints one Markdown table: each command's median wall time, CPU time
and peak memory, the libyaml floor, and the ratios with their targets, all from this run.

- The floor is libyaml's `compose()` (PyYAML's `CSafeLoader`) of every compose file of the
  monorepo, timed by the child around the reads and the `compose()` calls (interpreter start-up
  and imports excluded; the whole process's time is shown beside it).
- compose-ports' times are whole processes (start-up included), as users and CI see them.
- Peak memory is the child's `ru_maxrss` (from `wait4`), the largest of its runs.
- Commands are run in rounds, each round running every command of a group once, so that their
  ratios do not depend on how the machine's speed drifts: `--repeat` rounds (default 5; at
  least 21 for the tenth-of-a-second groups), the median counting, after one warm-up of the
  interpreter; fewer when a command's runs already took `--budget` seconds; a run is killed
  after `--timeout`.
- `--quick` runs once on tiny sizes: it checks that the benchmark works, not the timings.
- Exit code 0 (it reports); with `--check`, 1 when a target is missed. A command that breaks (exit
  code 2, a traceback) stops the run with its stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import (
    MANY_PORTS_SERVICES,
    ONE_PORT_SERVICES,
    RANGE_STACK_SERVICES,
    Stats,
    generate,
    generate_flat,
    generate_many_ports,
    generate_one_port,
    generate_single,
)

FLOOR_SCRIPT = """\
import json, sys, time
import yaml
paths = open(sys.argv[1], encoding="utf-8").read().splitlines()
start, cpu = time.perf_counter(), time.process_time()
for path in paths:
    with open(path, encoding="utf-8") as handle:
        yaml.compose(handle.read(), Loader=yaml.CSafeLoader)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu}))
"""

# Runs one command and reports its wall time and its own rusage (from wait4). The launcher is a
# small fresh process: a child's peak RSS starts at its parent's RSS at fork time, so forking the
# commands from this script directly would count this script's memory in theirs.
LAUNCHER = """\
import json, os, signal, subprocess, sys, time
report, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
killed = []
start = time.perf_counter()
proc = subprocess.Popen(cmd)
def kill(signum, frame):
    killed.append(True)
    os.kill(proc.pid, signal.SIGKILL)  # not reaped before wait4 below, so still our child
signal.signal(signal.SIGALRM, kill)
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(proc.pid, 0)
signal.setitimer(signal.ITIMER_REAL, 0)
wall = time.perf_counter() - start
with open(report, "w") as handle:
    json.dump({"code": os.waitstatus_to_exitcode(status), "wall": wall, "killed": bool(killed),
               "cpu": usage.ru_utime + usage.ru_stime, "maxrss": usage.ru_maxrss}, handle)
"""

RUAMEL_SCRIPT = """\
import json, sys, time
from ruamel.yaml import YAML
yaml = YAML(typ="safe", pure=False)
c_parser = "CParser" in yaml.Parser.__name__
paths = open(sys.argv[1], encoding="utf-8").read().splitlines()
start, cpu = time.perf_counter(), time.process_time()
for path in paths:
    with open(path, encoding="utf-8") as handle:
        yaml.compose(handle.read())
print(json.dumps({"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "c": c_parser}))
"""

LINT_TARGET = 5.0  # x the floor
MAP_FIX_TARGET = 10.0  # x the floor
ONE_FILE_TARGET = 0.100  # seconds
SCALING_TARGET = 11.0  # lint 10x / lint 1x
MEMORY_TARGET = 300.0  # MiB, lint of the 10x monorepo
ONE_FILE_RUNS = 21
RANGE_TARGET = 1.2  # "as fast as": the single-port stack's time, with 20% for noise
ONE_PORT_TIME = 2.0  # seconds, each command on 5,000 services publishing one host port
ONE_PORT_MEMORY = 300.0  # MiB, the same
ONE_PORT_OUTPUT = 5e6  # bytes of `lint --select CP101` output there, in each format
ONE_PORT_TIMEOUT = 60.0  # seconds: N x N output took minutes, and gigabytes
FLAT_TARGET = 5.0  # x the whole-process floor, lint of the flat monorepo
FIX_LINT_TARGET = 3.0  # x lint, `fix --check` of the 40,000-service file


def _tail(handle: IO[bytes], size: int) -> str:
    end = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, end - size))
    return handle.read().decode("utf-8", "replace")


class BenchError(Exception):
    """A measured command broke: the benchmark cannot go on."""


@dataclass
class Run:
    wall: float  # seconds, the whole child process
    cpu: float  # user + system seconds of the child
    rss: float  # peak resident set size, MiB
    inner: dict[str, float] = field(default_factory=dict)  # what the child timed itself
    output: int = 0  # bytes written to stdout


@dataclass
class Measure:
    runs: list[Run] = field(default_factory=list)
    failure: str | None = None  # killed (timeout, signal): the row fails, the run goes on

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs) if self.runs else float("inf")

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs) if self.runs else float("inf")

    @property
    def rss(self) -> float:
        return max((r.rss for r in self.runs), default=float("nan"))

    @property
    def output(self) -> int:
        return max((r.output for r in self.runs), default=0)

    def inner(self, key: str = "wall") -> float:
        return statistics.median(r.inner[key] for r in self.runs) if self.runs else float("inf")


@dataclass
class Row:
    label: str
    wall: str
    cpu: str
    rss: str
    runs: str
    measured: str
    target: str
    result: str


class Runner:
    """Runs commands in fresh child processes and measures them."""

    def __init__(self, budget: float, timeout: float) -> None:
        self.budget = budget
        self.timeout = timeout
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
        self.env.pop("GITHUB_ACTIONS", None)
        self.env["NO_COLOR"] = "1"

    def once(
        self, cmd: Sequence[str], cwd: Path, ok: Sequence[int], timeout: float
    ) -> tuple[Run | None, str]:
        """One run: (its measures, or None when it was killed; the failure, or stdout's end)."""
        with (
            tempfile.TemporaryFile() as out,
            tempfile.TemporaryFile() as err,
            tempfile.TemporaryDirectory() as tmp,
        ):
            report = Path(tmp) / "rusage.json"
            launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), str(timeout)]
            subprocess.run(
                [*launcher, *cmd],
                cwd=cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                check=True,
            )
            result = json.loads(report.read_text(encoding="utf-8"))
            size = out.seek(0, os.SEEK_END)
            stdout, stderr = _tail(out, 65536), _tail(err, 4000)
        code = result["code"]
        if result["killed"]:
            return None, f"killed after {timeout:.0f} s"
        if code < 0:
            return None, f"killed by signal {-code} (out of memory?)"
        if code not in ok:
            raise BenchError(
                f"`{' '.join(cmd)}` in {cwd} exited with {code} (expected {list(ok)}):\n"
                f"--- stderr (end):\n{stderr}\n--- stdout (end):\n{stdout[-4000:]}"
            )
        return Run(result["wall"], result["cpu"], result["maxrss"] / 1024, output=size), stdout

    def alternate(self, jobs: Sequence[Job], repeat: int) -> list[Measure]:
        """Commands whose ratios count, run in rounds: each round runs every one once.

        A shared machine's speed drifts over minutes: measured one after the other, each
        command would see a different machine, and their ratio would say more about the drift
        than about the tool. A job with `limit_of` is killed after 50x the first run of that
        job (at least 60 s): a command meant to cost what another costs cannot hold the
        benchmark for long. A job whose runs took `budget` seconds runs no more.
        """
        measures = [Measure() for _ in jobs]
        spent = [0.0 for _ in jobs]
        for _ in range(repeat):
            for number, job in enumerate(jobs):
                measure = measures[number]
                if measure.failure is not None or spent[number] >= self.budget:
                    continue
                timeout = min(self.timeout, job.timeout or self.timeout)
                base = measures[job.limit_of].runs if job.limit_of is not None else []
                if base:
                    timeout = kill_limit(base[0].wall, timeout)
                run, text = self.once(job.cmd, job.cwd, job.ok, timeout)
                if run is None:
                    measure.failure = text
                    continue
                if job.inner:
                    run.inner = json.loads(text.strip().splitlines()[-1])
                measure.runs.append(run)
                spent[number] += run.wall
        return measures


@dataclass
class Job:
    """One command of a group measured in rounds (`Runner.alternate`)."""

    cmd: Sequence[str]
    cwd: Path
    ok: Sequence[int] = (0,)
    inner: bool = False  # the command prints its own measures as JSON on its last line
    limit_of: int | None = None
    timeout: float | None = None  # kill a run after this many seconds (less than --timeout)


def compose_ports_command() -> list[str]:
    """The installed `compose-ports` beside this interpreter, else `python -m compose_ports`."""
    script = Path(sys.executable).parent / "compose-ports"
    if script.exists():
        return [str(script)]
    found = shutil.which("compose-ports")
    return [found] if found else [sys.executable, "-m", "compose_ports"]


def baseline_command(source: Path | None, cp: list[str]) -> list[str] | None:
    """The same console script importing compose-ports from another checkout's src/."""
    if source is None:
        return None
    import compileall

    # Byte-compiled as the measured tree is (compile_bytecode), so that neither pays for it.
    compileall.compile_dir(str(source / "compose_ports"), quiet=1)
    return ["env", f"PYTHONPATH={source.resolve()}", *cp]


def baseline_rows(
    source: Path | None,
    floor: float,
    flat_floor: float,
    pairs: list[tuple[str, Measure, Measure, float | None]],
) -> list[Row]:
    """This tree and the baseline, measured in the same rounds: (label, ours, theirs, floor);
    a floor of 0.0 stands for the flat monorepo's whole-process floor, None for no floor."""
    rows = []
    for label, ours, theirs, against in pairs:
        if ours.failure or theirs.failure or not ours.runs or not theirs.runs:
            continue
        reference = flat_floor if against == 0.0 else against
        ratio = f", {theirs.wall / reference:.1f}x floor" if reference else ""
        rows.append(
            command_row(
                f"baseline ({source}): {label}",
                theirs,
                f"this tree {ours.wall / theirs.wall:.2f}x it{ratio}",
                "info",
                None,
            )
        )
    return rows


def compose_lint_command() -> list[str] | None:
    """compose-lint, when it is installed (beside this interpreter or on PATH)."""
    script = Path(sys.executable).parent / "compose-lint"
    if script.exists():
        return [str(script)]
    found = shutil.which("compose-lint")
    return [found] if found else None


def machine() -> list[str]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30  # GiB
        memory_text = f", {memory:.1f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        memory_text = ""
    versions = []
    for name, module in (("PyYAML", "yaml"), ("ruamel.yaml", "ruamel.yaml")):
        try:
            versions.append(f"{name} {__import__(module, fromlist=['x']).__version__}")
        except ImportError:
            versions.append(f"{name} not installed")
    try:
        from compose_ports import __version__ as cp_version
    except ImportError:
        cp_version = "?"
    return [
        f"- CPU: {model}, {cores} cores ({usable} usable){memory_text}",
        f"- OS: {platform.system()} {platform.release()} {platform.machine()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}; "
        f"{', '.join(versions)}; compose-ports {cp_version}",
    ]


def seconds(value: float) -> str:
    if value == float("inf"):
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 100:
        return f"{value:.2f} s"
    return f"{value:.0f} s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


def kill_limit(baseline: float, timeout: float) -> float:
    """When a command meant to cost what `baseline` cost is killed: 50x it, at least 60 s."""
    return min(timeout, max(60.0, 50 * baseline))


def inner_row(label: str, m: Measure, measured: str, target: str) -> Row:
    """A row of a script that times itself (the floors): its own measures, no verdict."""
    return Row(
        label,
        seconds(m.inner("wall")),
        seconds(m.inner("cpu")),
        f"{m.rss:.0f} MiB",
        str(len(m.runs)),
        measured,
        target,
        "—",
    )


def command_row(label: str, m: Measure, measured: str, target: str, ok: bool | None) -> Row:
    if m.failure:
        return Row(label, m.failure, "—", "—", str(len(m.runs)), measured, target, "**FAIL**")
    return Row(
        label,
        seconds(m.wall),
        seconds(m.cpu),
        f"{m.rss:.0f} MiB",
        str(len(m.runs)),
        measured,
        target,
        "—" if ok is None else verdict(ok),
    )


def megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def under(m: Measure, seconds_target: float, memory_target: float) -> bool:
    return not m.failure and m.wall < seconds_target and m.rss < memory_target


def describe(stats: Stats) -> str:
    return (
        f"{stats.stacks:,} stacks, {len(stats.files):,} files, {stats.bytes / 1e6:.2f} MB, "
        f"{stats.ports:,} ports"
    )


def write_list(path: Path, stats: Stats) -> Path:
    path.write_text("".join(f"{f}\n" for f in stats.files), encoding="utf-8")
    return path


def benchmark(args: argparse.Namespace, work: Path) -> tuple[list[Row], list[str]]:
    quick = args.quick
    stacks_1x = 20 if quick else 400
    stacks_10x = 200 if quick else 4000
    range_services = 20 if quick else RANGE_STACK_SERVICES
    range_width = 200 if quick else 20_000
    one_port_services = 200 if quick else ONE_PORT_SERVICES
    flat_stacks = 20 if quick else 400
    many_services = 400 if quick else MANY_PORTS_SERVICES
    notes: list[str] = []

    log("generating the monorepos ...")
    one = generate(work / "mono-1x", stacks_1x)
    generate(
        work / "ranges",
        0,
        range_stack=True,
        range_width=range_width,
        range_services=range_services,
        config=False,
    )
    generate(
        work / "singles",
        0,
        range_stack=True,
        range_width=1,
        range_services=range_services,
        config=False,
    )
    bare = generate_single(work / "one-file", config=False)
    configured = generate_single(work / "one-file-config", config=True)
    list_1x = write_list(work / "files-1x.txt", one)
    crowded = generate_one_port(work / "one-port", one_port_services)
    flat = generate_flat(work / "flat", flat_stacks)
    list_flat = write_list(work / "files-flat.txt", flat)
    many = generate_many_ports(work / "many-ports", many_services)

    runner = Runner(args.budget, args.timeout)
    cp = compose_ports_command()
    python = sys.executable
    lint_json = ["lint", ".", "--format", "json", "--exit-zero"]

    # Warm-up (not measured): byte-code caches and the page cache of the interpreter's modules.
    if not quick:
        log("warming up ...")
        runner.once([*cp, "lint", "compose.yaml"], bare.parent, (0, 1), args.timeout)
        runner.once([*cp, "map", "--format", "json"], bare.parent, (0,), args.timeout)
        runner.once([*cp, "fix", "--check"], bare.parent, (0, 1), args.timeout)
        runner.once([python, "-c", FLOOR_SCRIPT, str(list_1x)], work, (0,), args.timeout)

    # The short, latency-bound groups first: this VM slows down for minutes after sustained
    # load (the 10x lint runs for a minute and a half; generating the 10x monorepo takes a
    # while too), and a one-file lint measured right after it took 40% longer than the same
    # command measured after a pause.
    # A tenth of a second per run: many runs cost little and steady the median on a shared
    # machine, whose start-up times move by tens of milliseconds from one moment to the next.
    short = args.repeat if quick else max(args.repeat, ONE_FILE_RUNS)
    one_file = [*cp, "lint", "compose.yaml", "--format", "text"]
    jobs = [Job(one_file, bare.parent, (0, 1)), Job(one_file, configured.parent, (0, 1))]
    compose_lint = compose_lint_command()
    if compose_lint is not None:
        jobs.append(Job([*compose_lint, "compose.yaml"], bare.parent, tuple(range(0, 126))))
    base = baseline_command(args.baseline, cp)
    if base is not None:
        jobs.append(Job([*base, *one_file[len(cp) :]], bare.parent, (0, 1)))
    log("measuring one-file lint, with and without a config (and compose-lint), in rounds ...")
    single, single_config, *others = runner.alternate(jobs, short)
    other: Measure | None = others[0] if compose_lint is not None else None
    base_single: Measure | None = others[-1] if base is not None else None
    log("measuring lint of the single-port and the range stacks, in rounds ...")
    singles, ranged = runner.alternate(
        [
            Job([*cp, *lint_json], work / "singles"),
            Job([*cp, *lint_json], work / "ranges", limit_of=0),
        ],
        short,
    )
    log(f"measuring {one_port_services:,} services on one host port (lint, map), in rounds ...")
    crowd_dir = crowded.files[0].parent
    crowd_jobs = [
        Job([*cp, "lint", ".", "--format", f, "--exit-zero"], crowd_dir)
        for f in ("text", "json", "sarif")
    ]
    crowd_jobs += [Job([*cp, "map", ".", "--format", f], crowd_dir) for f in ("markdown", "html")]
    crowd_jobs += [
        Job([*cp, "lint", ".", "--select", "CP101", "--format", f, "--exit-zero"], crowd_dir)
        for f in ("text", "json", "sarif")
    ]
    for job in crowd_jobs:
        job.timeout = ONE_PORT_TIMEOUT
    crowd_measures = runner.alternate(crowd_jobs, args.repeat)
    log("measuring the flat monorepo (its whole-process floor, lint) in rounds ...")
    flat_floor, flat_lint, *base_flat = runner.alternate(
        [
            Job([python, "-c", FLOOR_SCRIPT, str(list_flat)], work, inner=True),
            Job([*cp, *lint_json], work / "flat"),
            *([Job([*base, *lint_json], work / "flat")] if base is not None else []),
        ],
        args.repeat,
    )
    log("generating the 10x monorepo ...")
    ten = generate(work / "mono-10x", stacks_10x)
    list_10x = write_list(work / "files-10x.txt", ten)
    log("measuring the monorepos (floor, ruamel.yaml, lint, map, fix; 10x) in rounds ...")
    floor, ruamel, lint_1x, map_1x, fix_1x, floor_10x, lint_10x, *base_1x = runner.alternate(
        [
            Job([python, "-c", FLOOR_SCRIPT, str(list_1x)], work, inner=True),
            Job([python, "-c", RUAMEL_SCRIPT, str(list_1x)], work, inner=True),
            Job([*cp, *lint_json], work / "mono-1x"),
            Job([*cp, "map", ".", "--format", "json"], work / "mono-1x"),
            Job([*cp, "fix", ".", "--check"], work / "mono-1x", ok=(0, 1)),
            Job([python, "-c", FLOOR_SCRIPT, str(list_10x)], work, inner=True),
            Job([*cp, *lint_json], work / "mono-10x"),
            *(
                [
                    Job([*base, *lint_json], work / "mono-1x"),
                    Job([*base, "map", ".", "--format", "json"], work / "mono-1x"),
                    Job([*base, "fix", ".", "--check"], work / "mono-1x", ok=(0, 1)),
                ]
                if base is not None
                else []
            ),
        ],
        args.repeat,
    )
    # Last: `fix` of the 40,000-service file is the longest command of all.
    log(f"measuring lint and fix --check of one file of {many_services:,} services, in rounds ...")
    many_lint, many_fix = runner.alternate(
        [
            Job([*cp, *lint_json], work / "many-ports"),
            Job([*cp, "fix", ".", "--check"], work / "many-ports", ok=(0, 1)),
        ],
        args.repeat,
    )
    range_timeout = kill_limit(singles.runs[0].wall, args.timeout) if singles.runs else 0.0

    f = floor.inner("wall")
    rows = [
        inner_row(
            f"libyaml `compose()` floor, 1x ({describe(one)})",
            floor,
            f"the floor (whole process {seconds(floor.wall)})",
            "—",
        ),
        inner_row(
            "ruamel.yaml C `compose()`, 1x"
            + ("" if ruamel.runs and ruamel.runs[0].inner.get("c") else " (no C parser!)"),
            ruamel,
            f"{ruamel.inner('wall') / f:.1f}x floor",
            "info",
        ),
        command_row(
            "`lint . --format json --exit-zero`, 1x",
            lint_1x,
            f"{lint_1x.wall / f:.1f}x floor",
            f"≤ {LINT_TARGET:g}x",
            lint_1x.wall / f <= LINT_TARGET,
        ),
        command_row(
            "`map . --format json`, 1x",
            map_1x,
            f"{map_1x.wall / f:.1f}x floor",
            f"≤ {MAP_FIX_TARGET:g}x",
            map_1x.wall / f <= MAP_FIX_TARGET,
        ),
        command_row(
            "`fix . --check`, 1x",
            fix_1x,
            f"{fix_1x.wall / f:.1f}x floor",
            f"≤ {MAP_FIX_TARGET:g}x",
            fix_1x.wall / f <= MAP_FIX_TARGET,
        ),
        command_row(
            "one file: `lint compose.yaml`, no config",
            single,
            seconds(single.wall),
            f"< {ONE_FILE_TARGET * 1000:.0f} ms",
            single.wall < ONE_FILE_TARGET,
        ),
        command_row(
            "one file: `lint compose.yaml`, `.compose-ports.yaml` beside it",
            single_config,
            seconds(single_config.wall),
            f"< {ONE_FILE_TARGET * 1000:.0f} ms",
            single_config.wall < ONE_FILE_TARGET,
        ),
    ]
    if other is None:
        rows.append(
            Row(
                "one file: compose-lint",
                "not installed",
                "—",
                "—",
                "0",
                "—",
                "compose-ports below it",
                "SKIP",
            )
        )
    else:
        slower = max(single.wall, single_config.wall)
        rows.append(
            command_row(
                "one file: compose-lint",
                other,
                f"compose-ports {slower / other.wall:.2f}x it",
                "compose-ports below it",
                slower < other.wall,
            )
        )
    scale = lint_10x.wall / lint_1x.wall
    rows += [
        inner_row(
            f"libyaml `compose()` floor, 10x ({describe(ten)})",
            floor_10x,
            f"{floor_10x.inner('wall') / f:.1f}x the 1x floor",
            "info",
        ),
        command_row(
            "scaling: `lint`, 10x vs 1x",
            lint_10x,
            f"{scale:.1f}x the 1x lint ({lint_10x.wall / floor_10x.inner('wall'):.1f}x its floor)",
            f"≤ {SCALING_TARGET:g}x",
            scale <= SCALING_TARGET,
        ),
        command_row(
            "memory: `lint`, 10x",
            lint_10x,
            f"{lint_10x.rss:.0f} MiB peak",
            f"< {MEMORY_TARGET:.0f} MiB",
            lint_10x.rss < MEMORY_TARGET,
        ),
        command_row(
            f"ranges: `lint`, {range_services} services x {range_width:,}-port range",
            ranged,
            f"{ranged.wall / singles.wall:.2f}x single ports"
            if not ranged.failure
            else f"> {range_timeout / singles.wall:.0f}x single ports",
            f"≤ {RANGE_TARGET:g}x (≈ 1x)",
            ranged.wall / singles.wall <= RANGE_TARGET,
        ),
        command_row(
            f"ranges: `lint`, the same {range_services} services x single ports",
            singles,
            "the baseline",
            "—",
            None,
        ),
    ]
    if base is not None and base_single is not None:
        rows += baseline_rows(
            args.baseline,
            f,
            flat_floor.wall,
            [
                ("one file: `lint compose.yaml`, no config", single, base_single, None),
                ("`lint . --format json --exit-zero`, 1x", lint_1x, base_1x[0], f),
                ("`map . --format json`, 1x", map_1x, base_1x[1], f),
                ("`fix . --check`, 1x", fix_1x, base_1x[2], f),
                ("flat monorepo: `lint . --format json --exit-zero`", flat_lint, base_flat[0], 0.0),
            ],
        )
    rows += crowd_rows(crowd_measures, one_port_services)
    flat_whole = flat_floor.wall
    rows += [
        command_row(
            f"flat monorepo: libyaml `compose()` floor, whole process ({describe(flat)})",
            flat_floor,
            f"the floor (inside the process {seconds(flat_floor.inner('wall'))})",
            "—",
            None,
        ),
        command_row(
            "flat monorepo: `lint . --format json --exit-zero`",
            flat_lint,
            f"{flat_lint.wall / flat_whole:.1f}x the whole-process floor",
            f"≤ {FLAT_TARGET:g}x",
            flat_lint.wall / flat_whole <= FLAT_TARGET,
        ),
        command_row(
            f"one file of {many.services:,} one-port services: `lint . --format json --exit-zero`",
            many_lint,
            "the baseline",
            "—",
            None,
        ),
        command_row(
            f"one file of {many.services:,} one-port services: `fix . --check`",
            many_fix,
            f"{many_fix.wall / many_lint.wall:.1f}x lint",
            f"≤ {FIX_LINT_TARGET:g}x",
            many_fix.wall / many_lint.wall <= FIX_LINT_TARGET,
        ),
    ]
    if other is None:
        notes.append("compose-lint is not installed: its row is skipped.")
    return rows, notes


def crowd_rows(measures: list[Measure], services: int) -> list[Row]:
    """The rows of one host port taken `services` times: time and memory, then output size."""
    labels = [
        "one port: `lint` (all rules), text",
        "one port: `lint` (all rules), JSON",
        "one port: `lint` (all rules), SARIF",
        "one port: `map`, Markdown",
        "one port: `map`, HTML",
    ]
    rows = []
    target = f"< {ONE_PORT_TIME:g} s, < {ONE_PORT_MEMORY:.0f} MiB"
    for label, m in zip(labels, measures[:5], strict=True):
        measured = f"{seconds(m.wall)}, {m.rss:.0f} MiB, {megabytes(m.output)} out"
        rows.append(
            command_row(
                f"{label} ({services:,} services on 8080)",
                m,
                measured,
                target,
                under(m, ONE_PORT_TIME, ONE_PORT_MEMORY),
            )
        )
    for name, m in zip(("text", "JSON", "SARIF"), measures[5:], strict=True):
        rows.append(
            command_row(
                f"one port: `lint --select CP101`, {name} output ({services:,} services on 8080)",
                m,
                f"{megabytes(m.output)}",
                f"< {ONE_PORT_OUTPUT / 1e6:g} MB",
                not m.failure and m.output < ONE_PORT_OUTPUT,
            )
        )
    return rows


def table(rows: list[Row]) -> list[str]:
    header = ["Row", "Median wall", "CPU", "Peak RSS", "Runs", "Measured", "Target", "Result"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.label, row.wall, row.cpu, row.rss, row.runs, row.measured, row.target]
        lines.append("| " + " | ".join([*cells, row.result]) + " |")
    return lines


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="compose-ports' benchmark (see bench/README.md)")
    parser.add_argument(
        "--quick", action="store_true", help="1 run, tiny sizes: checks that it works"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="stop repeating a command once its runs took this many seconds (default 120)",
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="kill a run after this many seconds"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also measure the compose-ports of another checkout's src/ (e.g. a worktree of an "
        "older commit) in the same rounds, for the rows with a ratio target: the machine's "
        "share of a result, apart from the code's",
    )
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 1
    return args


def compile_bytecode() -> str:
    """Byte-compile compose-ports as `pip install` does.

    An editable install (or PYTHONDONTWRITEBYTECODE, set on some machines) leaves no .pyc
    files, and every run would then compile every module: tens of milliseconds that no
    installed copy pays.
    """
    import compileall

    import compose_ports

    package = Path(compose_ports.__file__).parent
    compileall.compile_dir(str(package), quiet=1)
    return f"compose-ports byte-compiled in {package} before measuring, as pip installs it"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    compiled = compile_bytecode()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            rows, notes = benchmark(args, args.keep.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="compose-ports-bench-") as tmp:
                rows, notes = benchmark(args, Path(tmp).resolve())
    except BenchError as exc:
        print(f"benchmark broken: {exc}", file=sys.stderr)
        return 2
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    mode = (
        "quick (1 run, tiny sizes: checks that the benchmark works, not the timings)"
        if args.quick
        else f"full, {args.repeat} rounds ({max(args.repeat, ONE_FILE_RUNS)} for the one-file "
        "group and the range pair), the median of each command's runs"
    )
    lines = [
        "## compose-ports benchmark",
        "",
        *machine(),
        f"- Run: {started:%Y-%m-%d %H:%M} UTC, {mode}; every command in a fresh process; "
        f"load average {load_before:.2f} before, {load_after:.2f} after",
        "",
        *table(rows),
        "",
    ]
    cores = os.cpu_count() or 1
    if max(load_before, load_after) > cores:
        notes.append(
            f"The machine was busy (load average above its {cores} cores): wall times are "
            "inflated; the CPU column is steadier."
        )
    notes.append(compiled)
    lines += [f"Note: {note}" for note in notes]
    print("\n".join(lines))
    failed = any("FAIL" in row.result for row in rows)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())

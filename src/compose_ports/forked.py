"""Many independent jobs shared with one forked worker: a monorepo's stacks, a fix's proofs.

On a machine with two cores or more, a forked child computes the second half of the items
while the parent computes the first, and sends its results back pickled through a pipe; the child
inherits everything the parent has read so far. The worker is a shortcut and nothing more: a
child that fails in any way (it crashed, raised, was killed, or sent what cannot be read back)
leaves its part to the parent, which then computes it as a serial run would, exceptions
included. So a run's result never depends on whether it forked.

Only `os.fork` is used (a spawned interpreter would import everything again, and pickle the
work's closures); where it is missing, or `COMPOSE_PORTS_JOBS=1`, everything runs in order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

JOBS_VARIABLE = "COMPOSE_PORTS_JOBS"

T = TypeVar("T")
R = TypeVar("R")


def workers() -> int:
    """How many processes a split may use: 1 or 2 (the cores this process may run on)."""
    setting = os.environ.get(JOBS_VARIABLE, "").strip()
    if setting.isdigit() and int(setting) >= 1:
        wanted = int(setting)
    else:
        try:
            wanted = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            wanted = os.cpu_count() or 1
    return 2 if wanted >= 2 and hasattr(os, "fork") else 1


def map_split(
    func: Callable[[T], R],
    items: Sequence[T],
    minimum: int,
    harvest: Callable[[], Any] | None = None,
    absorb: Callable[[Any], None] | None = None,
) -> list[R]:
    """`[func(item) for item in items]`, the second half computed by a forked child when there
    are at least `minimum` items and a second core.

    The parent computes the first half. `harvest`, called in the child after its part, returns
    what else its work left behind that the parent needs (files it read); `absorb` takes it in
    the parent.
    """
    if len(items) < max(minimum, 2) or workers() < 2:
        return [func(item) for item in items]
    cut = len(items) // 2
    first, rest = items[:cut], items[cut:]
    parent = os.getpid()

    def second_half() -> tuple[list[R], Any]:
        results = []
        for item in rest:
            if os.getppid() != parent:
                # The parent was killed (`timeout`, SIGTERM): nobody will read these.
                os._exit(1)
            results.append(func(item))
        return results, harvest() if harvest else None

    child = _Child.start(second_half)
    try:
        results = [func(item) for item in first]
        payload = child.result()
    finally:
        child.stop()
    if payload is None:
        return results + [func(item) for item in rest]
    theirs, left = payload
    if absorb is not None:
        absorb(left)
    return results + list(theirs)


_PIECE = 64  # results pickled together


class _End:
    """The last piece a child sends: what its work left behind besides its results."""

    def __init__(self, left: Any) -> None:
        self.left = left


class _Child:
    """A forked process running one job and writing its pickled results to a pipe."""

    def __init__(self, pid: int, reading: int) -> None:
        self.pid = pid
        self.reading = reading
        self.done = False

    @classmethod
    def start(cls, job: Callable[[], tuple[list[Any], Any]]) -> _Child:
        import pickle  # only a run that forks needs it: one-file lint does not import it

        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
            os.close(reading)
            code = 1
            try:
                results, left = job()
                with os.fdopen(writing, "wb") as pipe:
                    # In pieces: unpickling 2,000 projects at once made the parent's memory
                    # peak 25 MiB higher than loading them itself (the unpickler's memo).
                    for start in range(0, len(results), _PIECE):
                        piece = results[start : start + _PIECE]
                        pickle.dump(piece, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                    pickle.dump(_End(left), pipe, protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            except BaseException:  # the parent computes this part again, and reports it
                pass
            finally:
                # Neither the parent's exit handlers nor its buffered output are the child's.
                os._exit(code)
        os.close(writing)
        return cls(pid, reading)

    def result(self) -> tuple[list[Any], Any] | None:
        """What the child computed and what it harvested, or None if it failed."""
        import pickle

        results: list[Any] = []
        end = None
        with os.fdopen(self.reading, "rb") as pipe:
            self.reading = -1
            try:
                while end is None:
                    piece = pickle.load(pipe)
                    if isinstance(piece, _End):
                        end = piece
                    else:
                        results.extend(piece)
            except Exception:
                end = None  # a child that died half-way: its exit status says so below
        _, status = os.waitpid(self.pid, 0)
        self.done = True
        if end is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        return results, end.left

    def stop(self) -> None:
        """Ends the child if the parent stopped early (an exception, Ctrl-C) and reaps it."""
        if self.reading >= 0:
            os.close(self.reading)
            self.reading = -1
        if not self.done:
            import signal

            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.done = True


__all__ = ["JOBS_VARIABLE", "map_split", "workers"]

"""The one rule for reading a file: bounded, and never waiting on a pipe or device.

A file is either
- named: the user named it (`-f`, `--env-file`, `--config`, a path argument) or a project reaches
  it (`include`, `extends`, `.env`). It may be a pipe the user meant (`-f <(...)`), never a
  device, a socket or a directory: those are refused with `path: not a regular file`, exit 2.
- scanned: met while walking a tree (compose files, `.gitignore`). Only a regular file is read;
  the caller skips anything else with a note (`note: path: not a regular file: skipped`).

No file is read past the limit, 64 MiB unless `COMPOSE_PORTS_MAX_FILE_BYTES` says otherwise (the
config cannot: it is read under the same limit). A regular file is refused from its size before a
byte is read, a pipe once it has given one byte more than the limit.
"""

from __future__ import annotations

import os
import stat

from compose_ports.errors import ComposePortsError

LIMIT_VARIABLE = "COMPOSE_PORTS_MAX_FILE_BYTES"
DEFAULT_LIMIT = 64 << 20
NOT_REGULAR = "not a regular file"

# O_NONBLOCK: opening a FIFO nobody writes to would otherwise wait for a writer forever.
# O_NOCTTY: if a terminal slips in between the stat and the open, it must not become ours.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
# A pipe's default capacity on Linux: a larger request only allocates memory a read never fills.
_PIPE_CHUNK = 1 << 16


class Refused(ComposePortsError):
    """A file the rule does not read: not a regular file (nor a named pipe), or too large."""


def limit() -> int:
    """The largest file, in bytes, that is read."""
    text = os.environ.get(LIMIT_VARIABLE)
    if not text:
        return DEFAULT_LIMIT
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ComposePortsError(f"{LIMIT_VARIABLE} must be a number of bytes, not {text!r}")
    return value


def describe_size(size: int) -> str:
    """`64 MiB`, `4 KiB`, `1000 bytes`: the limit as people set it."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if size and not size % (1 << shift):
            return f"{size >> shift} {unit}"
    return "1 byte" if size == 1 else f"{size} bytes"


def refusal(
    path: str | os.PathLike[str], info: os.stat_result, named: bool = True
) -> Refused | None:
    """Why the file with this stat must not be read, or None: for scanners, which stat anyway."""
    if stat.S_ISREG(info.st_mode):
        cap = limit()
        if info.st_size > cap:
            return too_large(path, cap)
        return None
    if named and stat.S_ISFIFO(info.st_mode):
        return None
    return Refused(NOT_REGULAR, os.fspath(path))


def too_large(path: str | os.PathLike[str], cap: int) -> Refused:
    return Refused(f"larger than {describe_size(cap)}", os.fspath(path))


def read_bytes(path: str | os.PathLike[str], *, named: bool = True) -> bytes:
    """The file's bytes, under the rule of the module docstring.

    Raises Refused (a ComposePortsError: `path: not a regular file`, `path: larger than 64 MiB`)
    or OSError (missing, unreadable), which callers word as before (`cannot read file: ...`).
    A FIFO nobody writes to reads as empty rather than waiting for a writer forever.
    """
    name = os.fspath(path)
    # Judged before it is opened: opening some devices does something (a tape rewinds).
    problem = refusal(name, os.stat(name), named)
    if problem is not None:
        raise problem
    fd = os.open(name, _FLAGS)
    try:
        # What was opened, not what was stat'ed: the path may have changed in between.
        info = os.fstat(fd)
        problem = refusal(name, info, named)
        if problem is not None:
            raise problem
        regular = stat.S_ISREG(info.st_mode)
        if not regular:
            # From here a read waits for the writer, as `cat` would; without writers it ends.
            os.set_blocking(fd, True)
        return _read(fd, name, info.st_size if regular else 0, limit())
    finally:
        os.close(fd)


def _read(fd: int, name: str, size: int, cap: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    # A regular file in one read (its size is known; /proc's report 0), and one more for the end.
    want = size + 1 if size else _PIPE_CHUNK
    while True:
        chunk = os.read(fd, min(want, cap + 1 - total))
        if not chunk:
            break
        total += len(chunk)
        if total > cap:
            raise too_large(name, cap)
        chunks.append(chunk)
        want = _PIPE_CHUNK
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)

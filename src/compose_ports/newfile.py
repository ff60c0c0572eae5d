"""Creating a file that must not exist yet, whole or not at all: `fix` creates a missing env
file this way, `init` a new config. Neither may ever write over a file someone else created a
moment before, nor leave half a file behind if interrupted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

# Where hard links are refused (some network and FUSE file systems, a full link count).
_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK)


class NoTemporaryFile(OSError):
    """No temporary file could be made beside the target: its directory is not writable."""


def create_new(target: Path, data: bytes) -> bool:
    """Create target holding data; False when the name is taken. Raises NoTemporaryFile when
    nothing can be written in its directory, another OSError when the write fails."""
    directory = target.parent
    temporary, handle = _temporary(directory, target.name)
    try:
        write_all(handle, data)
        os.close(handle)
        handle = -1
        try:
            # A link, unlike a rename, never replaces what is there: the file gets its name
            # complete, or not at all.
            os.link(temporary, target)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            return _create_in_place(target, data)
        sync_directory(directory)
        return True
    finally:
        if handle >= 0:
            os.close(handle)
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _temporary(directory: Path, name: str) -> tuple[Path, int]:
    for _ in range(100):
        temporary = directory / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            # 0o666 less the umask: the mode any other new file would get.
            return temporary, os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise NoTemporaryFile(exc.errno, exc.strerror or str(exc)) from None
    raise NoTemporaryFile(errno.EEXIST, "cannot find a free temporary name")


def _create_in_place(target: Path, data: bytes) -> bool:
    """Where hard links are refused: created exclusively, then filled; removed on failure."""
    try:
        handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    try:
        write_all(handle, data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise
    finally:
        os.close(handle)
    sync_directory(target.parent)
    return True


def write_all(handle: int, data: bytes) -> None:
    """All of data through the descriptor (os.write may write less), then on disk."""
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]
    os.fsync(handle)


def sync_directory(directory: Path) -> None:
    # A new name is durable only once the directory entry is on disk too.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

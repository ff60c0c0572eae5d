"""Writing people's files without ever leaving a partial one behind."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from compose_ports.errors import ComposePortsError


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace path's content by data, if it still holds `expected`.

    A temporary file in the same directory is written, flushed to disk and renamed over the
    original, so a crash or Ctrl-C leaves either the old file or the new one. The file's mode is
    kept. A file that changed on disk since it was read is not overwritten.
    """
    # A symbolic link stays one: the file it points to is the one rewritten.
    path = Path(os.path.realpath(path))
    try:
        current = path.read_bytes()
        info = path.stat()
        mode = stat.S_IMODE(info.st_mode)
    except OSError as exc:
        raise ComposePortsError(f"cannot read file: {exc.strerror}", str(path)) from None
    if current != expected:
        raise ComposePortsError("changed on disk since it was read: not overwritten", str(path))
    if not os.access(path, os.W_OK):
        raise ComposePortsError("file is read-only: not fixed", str(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ComposePortsError(
            f"cannot write in its directory: {exc.strerror}", str(path)
        ) from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        if hasattr(os, "chown") and (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            # Only root can give a file away; for anyone else the new file is already theirs.
            with contextlib.suppress(OSError):
                os.chown(temporary, info.st_uid, info.st_gid)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise ComposePortsError(f"cannot write file: {exc.strerror}", str(path)) from None
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk too.
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

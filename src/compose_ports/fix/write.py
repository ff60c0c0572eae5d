"""Writing people's files without ever losing a byte: theirs, or anyone else's.

`fix` runs blindly in pre-commit hooks, next to editors and other tools, so a rewrite must never
leave a partial file, never undo someone else's write, and never touch a file it should not:

- A file is left alone, with one line saying why, when rewriting it would do harm: a hard link
  (a rename gives only one name the new text), a file whose mode bits deny writing (root too:
  permissions do not stop root, so its mode is the owner's only word), a symbolic link to a
  missing file, anything but a regular file, and a file outside the repository once symbolic
  links and `..` are resolved.
- The new text goes to a temporary file in the same directory, flushed to disk and renamed over
  the path, so a crash leaves the old file or the new one. A rename cannot stop someone else from
  writing to the old file meanwhile (`echo >>` takes no lock), so the old file stays open and is
  read again after the rename; a hard link to it, made before the rename, lets the very file they
  wrote into be put back at its name if it changed. What was written to the new file before it
  was put back is kept beside it, under a visible name.
- That second look cannot see a writer who opened the old file before the rename and writes
  after the look. Where Linux grants a read lease on the old file, such a writer is held back in
  open() until the lease is released, and the lease shows it: the old file is then put back
  first, and their write lands in it. A file someone keeps open for writing cannot be leased,
  and is left alone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import tempfile
import time
from pathlib import Path

from compose_ports.errors import ComposePortsError
from compose_ports.newfile import sync_directory

NOT_FIXED = "not fixed"
CHANGED_WHILE_FIXING = f"changed on disk while it was being fixed: {NOT_FIXED}"
CHANGED_SINCE_READ = f"changed on disk since it was read: {NOT_FIXED}"
# The name beside a file under which text that would otherwise be lost is kept: visible on
# purpose, since someone has to look at it, and no compose file pattern matches it.
KEPT_SUFFIX = ".edited-during-fix"

# About 50 ms: `echo >>` keeps a file open for microseconds, an editor or a logger far longer.
_LEASE_ATTEMPTS = 50

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    # A FIFO swapped in after the check must not hang the run on open().
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class ChangedOnDisk(ComposePortsError):
    """Someone else wrote to the file while it was being fixed; their text is where it was.

    ``kept`` names the file beside it that holds what was written to the fixed text meanwhile,
    or the text it had before another program replaced it, when there was such text.
    """

    def __init__(self, message: str, file: str, kept: str | None = None) -> None:
        super().__init__(message, file)
        self.kept = kept


def refusal(path: Path, repository: Path | None) -> str | None:
    """Why `fix` must leave the file at path alone (one line, ending in "not fixed"), or None.

    `repository` is the directory no write may leave (None: no such bound).
    """
    located = locate(path, repository)
    if isinstance(located, str):
        return located
    target, info = located
    return judge(target, info)


def locate(path: Path, repository: Path | None) -> tuple[Path, os.stat_result] | str:
    """The file a write to path lands in (symbolic links and `..` resolved) and its status; or
    why no write may happen there."""
    absolute = Path(os.path.abspath(path))
    try:
        link = os.lstat(absolute)
    except OSError as exc:
        return f"cannot read file: {_why(exc)}: {NOT_FIXED}"
    target = Path(os.path.realpath(absolute))
    linked = stat.S_ISLNK(link.st_mode) or target != absolute
    try:
        info = os.stat(target)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"a symbolic link that loops: {NOT_FIXED}"
        if stat.S_ISLNK(link.st_mode) and exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return f"a symbolic link to a missing file: {NOT_FIXED}"
        return f"cannot read file: {_why(exc)}: {NOT_FIXED}"
    if repository is not None and not inside(target, repository):
        if linked:
            return f"a symbolic link to a file outside the repository: {NOT_FIXED}"
        return f"outside the repository: {NOT_FIXED}"
    return target, info


def judge(target: Path, info: os.stat_result) -> str | None:
    """Why the regular file target, whose status is info, must not be rewritten, or None."""
    if stat.S_ISDIR(info.st_mode):
        return f"is a directory: {NOT_FIXED}"
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file: {NOT_FIXED}"
    links = _other_links(target, info) if info.st_nlink > 1 else info.st_nlink
    if links > 1:
        return (
            f"has {links} hard links, and a rewrite would give the new text to this "
            f"name only: {NOT_FIXED}"
        )
    if not _writable(target, info):
        return f"file is read-only: {NOT_FIXED}"
    return None


def _other_links(target: Path, info: os.stat_result) -> int:
    """The file's hard links, less the hidden ones a write in progress makes for a moment (its
    backup, or the temporary file a new env file is linked from): another run at the same time
    must not take them for someone's second name of the file."""
    links = info.st_nlink
    prefix = f".{target.name}."
    with contextlib.suppress(OSError), os.scandir(target.parent) as entries:
        for entry in entries:
            if not (entry.name.startswith(prefix) and entry.name.endswith((".tmp", ".bak"))):
                continue
            with contextlib.suppress(OSError):
                if _same_file(entry.stat(follow_symlinks=False), info):
                    links -= 1
    return links


def inside(target: Path, repository: Path) -> bool:
    return target.is_relative_to(os.path.realpath(repository))


def _writable(target: Path, info: os.stat_result) -> bool:
    euid = os.geteuid()
    mode = info.st_mode
    if euid == 0:
        # Root may write anything; a file without a single write bit says it must not be.
        return bool(mode & 0o222)
    # Only the first class the user is in counts (a 0464 file is read-only to its owner).
    if info.st_uid == euid:
        allowed = mode & stat.S_IWUSR
    elif info.st_gid == os.getegid() or info.st_gid in os.getgroups():
        allowed = mode & stat.S_IWGRP
    else:
        allowed = mode & stat.S_IWOTH
    # Access lists and read-only mounts say no where the mode bits say yes.
    return bool(allowed) and os.access(target, os.W_OK)


def write_atomic(path: Path, data: bytes, expected: bytes, repository: Path | None = None) -> None:
    """Replace path's content by data, if it still holds `expected`; never lose anyone's write.

    Raises ComposePortsError (ChangedOnDisk when someone else wrote to the file) with a one-line
    message for every refusal and failure; the file then holds what it held, with whatever others
    wrote to it. A symbolic link stays one: the file it points to is the one rewritten.
    """
    shown = str(path)
    located = locate(path, repository)
    if isinstance(located, str):
        raise ComposePortsError(located, shown)
    target, _ = located
    try:
        old = os.open(target, _OPEN_FLAGS)
    except OSError as exc:
        raise ComposePortsError(f"cannot read file: {_why(exc)}: {NOT_FIXED}", shown) from None
    try:
        # The status of the file that was opened, not of whatever the name held a moment ago.
        info = os.fstat(old)
        reason = judge(target, info)
        if reason is not None:
            raise ComposePortsError(reason, shown)
        # Before the comparison: from then on, nobody can open the file to write unseen.
        leased = _wait_for_lease(old)
        if leased is None:
            raise ComposePortsError(f"open for writing in another program: {NOT_FIXED}", shown)
        try:
            # One byte past what is expected tells a file that grew; no need to read the rest.
            current = read_all(old, len(expected) + 1)
        except OSError as exc:
            raise ComposePortsError(f"cannot read file: {_why(exc)}: {NOT_FIXED}", shown) from None
        if current != expected:
            raise ChangedOnDisk(CHANGED_SINCE_READ, shown)
        _Rewrite(target, shown, old, info, data, expected, leased).run()
    finally:
        os.close(old)  # which releases the lease: writers held back go on, into the right file


def _wait_for_lease(handle: int) -> bool | None:
    """Whether the kernel holds a lease on the open file for us; None while another program
    keeps it open for writing (a moment, for `echo >>`: it is asked again for a while)."""
    for _ in range(_LEASE_ATTEMPTS):
        try:
            return _lease(handle)
        except BlockingIOError:
            time.sleep(0.001)
    return None


def _lease(handle: int) -> bool:
    """A read lease (Linux): whoever opens the file to write is held back in open() until the
    lease is released, and the lease shows it. Without one, a writer who opened the file just
    before the rename could write after the last look at it, into a file with no name.

    False where there is no lease to be had (another user's file, a filesystem or system
    without them): the rewrite then relies on looking at the file again after the rename alone.
    Raises BlockingIOError while another program has the file open for writing.
    """
    try:
        import fcntl
        import signal
    except ImportError:
        return False
    if not hasattr(fcntl, "F_SETLEASE") or not hasattr(fcntl, "F_SETSIG"):
        return False
    try:
        # A broken lease is signalled, with SIGIO by default, which would end the process;
        # SIGURG is ignored unless handled. The lease itself is what is asked, not the signal.
        fcntl.fcntl(handle, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(handle, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except BlockingIOError:
        raise
    except OSError:
        return False
    return True


def _lease_broken(handle: int) -> bool:
    """Someone is waiting in open() to write to the leased file."""
    import fcntl

    return fcntl.fcntl(handle, fcntl.F_GETLEASE) != fcntl.F_RDLCK


class _Rewrite:
    """One rename over a file, undone if the file was written to meanwhile."""

    def __init__(
        self,
        target: Path,
        shown: str,
        old: int,
        info: os.stat_result,
        data: bytes,
        expected: bytes,
        leased: bool,
    ) -> None:
        self.target = target
        self.directory = target.parent
        self.shown = shown
        self.old = old  # the original file, open since it was compared with `expected`
        self.info = info
        self.data = data
        self.expected = expected
        self.leased = leased  # on the original: writers who open it wait for us, and show
        self.new = -1  # the new file, open to see whether anyone writes to it after the rename
        # Hidden names of ours that must be gone when we are, whatever happens.
        self.temporary: str | None = None
        self.backup: str | None = None
        self.copy: str | None = None
        self.put_back = False  # the original is at its name again, or kept aside

    def run(self) -> None:
        try:
            self.new, self.temporary = tempfile.mkstemp(
                prefix=f".{self.target.name}.", suffix=".tmp", dir=self.directory
            )
        except OSError as exc:
            raise ComposePortsError(
                f"cannot write in its directory: {_why(exc)}: {NOT_FIXED}", self.shown
            ) from None
        renamed = False
        try:
            _fill(self.new, self.data, self.info)
            self.backup = self._link_backup()
            os.replace(self.temporary, self.target)
            self.temporary = None
            renamed = True
            # Durable before the old file is let go; it also leaves a writer who opened the old
            # file just before the rename the time to write there, where the check below sees it.
            sync_directory(self.directory)
            if self._unchanged():
                return
            kept = self._undo()
            if kept is None:
                raise ChangedOnDisk(CHANGED_WHILE_FIXING, self.shown)
            what, name = kept
            raise ChangedOnDisk(
                f"{CHANGED_WHILE_FIXING}; {what} is kept in {name}", self.shown, name
            )
        except OSError as exc:
            if renamed and not self.put_back and not self._unchanged():
                # The undo failed: someone else's write is in the original, which has no name.
                rescued = self._rescue()
                where = (
                    f"its text is kept in {rescued}" if rescued else "its text could not be kept"
                )
                raise ChangedOnDisk(
                    f"{CHANGED_WHILE_FIXING}, and it could not be put back ({_why(exc)}): {where}",
                    self.shown,
                    rescued,
                ) from None
            raise ComposePortsError(
                f"cannot write file: {_why(exc)}: {NOT_FIXED}", self.shown
            ) from None
        finally:
            os.close(self.new)
            for leftover in (self.temporary, self.backup, self.copy):
                if leftover is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(leftover)

    def _unchanged(self) -> bool:
        """Nobody wrote to the original, nor waits to."""
        try:
            if self.leased and _lease_broken(self.old):
                return False
            return read_all(self.old, len(self.expected) + 1) == self.expected
        except OSError:
            return False

    def _rescue(self) -> str | None:
        """The original's text under a visible name, however much of the undo went wrong."""
        with contextlib.suppress(OSError):
            if self.backup is not None:
                kept = self._keep(self.backup)
                self.backup = None
                return kept
            return self._keep_bytes(read_all(self.old))
        return None

    def _link_backup(self) -> str | None:
        """A second, hidden name for the original file; None where hard links are refused."""
        for _ in range(100):
            name = str(self.directory / f".{self.target.name}.{secrets.token_hex(4)}.bak")
            try:
                os.link(self.target, name)
            except FileExistsError:
                continue
            except OSError:
                return None  # a filesystem without hard links: the content is restored instead
            if not _same_file(os.stat(name), os.fstat(self.old)):
                # Another program renamed its own file over the path since it was read.
                os.unlink(name)
                raise ChangedOnDisk(CHANGED_SINCE_READ, self.shown)
            return name
        return None

    def _undo(self) -> tuple[str, str] | None:
        """Put the original file back at its name; say what text was not put back, and where it
        is kept."""
        if self.backup is not None:
            original = self.backup
        else:
            # No second name to rename back: a copy of what the original holds now.
            handle, self.copy = tempfile.mkstemp(
                prefix=f".{self.target.name}.", suffix=".tmp", dir=self.directory
            )
            try:
                _fill(handle, read_all(self.old), self.info)
            finally:
                os.close(handle)
            original = self.copy
        if not _same_file(os.stat(self.target), os.fstat(self.new)):
            # Another program replaced the fixed file already: theirs stays where it is.
            kept = self._keep(original)
            self.backup = self.copy = None
            self.put_back = True
            return "another program replaced it meanwhile; the text it had", kept
        # The fixed file gets a visible name first, so that a write in flight to it still lands
        # in a file someone can find.
        aside = self._link_aside()
        try:
            os.replace(original, self.target)
        except OSError:
            if aside is not None:
                os.unlink(aside)  # the fixed file keeps its own name: no second one needed
            raise
        self.backup = self.copy = None
        self.put_back = True
        sync_directory(self.directory)
        written = read_all(self.new)
        if written == self.data:
            if aside is not None:
                os.unlink(aside)
            return None
        if aside is None:
            aside = self._keep_bytes(written)
        return "what was written to the fixed file meanwhile", aside

    def _aside_names(self) -> list[Path]:
        base = self.directory / f"{self.target.name}{KEPT_SUFFIX}"
        return [base, *(Path(f"{base}.{n}") for n in range(2, 100))]

    def _link_aside(self) -> str | None:
        for name in self._aside_names():
            try:
                os.link(self.target, name)
            except FileExistsError:
                continue
            except OSError:
                return None
            return str(name)
        return None

    def _keep(self, hidden: str) -> str:
        """Give a hidden file of ours a visible name, which it keeps."""
        for name in self._aside_names():
            try:
                os.link(hidden, name)
            except FileExistsError:
                continue
            except OSError:
                with open(hidden, "rb") as source:
                    kept = self._keep_bytes(source.read())
                os.unlink(hidden)
                return kept
            os.unlink(hidden)
            return str(name)
        return hidden  # a hundred of them already: this one stays where it is

    def _keep_bytes(self, data: bytes) -> str:
        for name in self._aside_names():
            try:
                handle = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            try:
                _fill(handle, data, self.info)
            finally:
                os.close(handle)
            return str(name)
        raise OSError(errno.EEXIST, "too many files kept aside already")


def _fill(handle: int, data: bytes, info: os.stat_result) -> None:
    """Write data to a new file, with the original's owner and mode, and flush it to disk."""
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]
    if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
        # Only root can give a file away; for anyone else the new file is already theirs.
        # Before the mode: a change of owner clears the set-user-ID and set-group-ID bits.
        with contextlib.suppress(OSError):
            os.fchown(handle, info.st_uid, info.st_gid)
    os.fchmod(handle, stat.S_IMODE(info.st_mode))
    os.fsync(handle)


def read_all(handle: int, limit: int | None = None) -> bytes:
    """What the open file holds now, from its first byte (at most limit bytes)."""
    chunks: list[bytes] = []
    offset = 0
    while limit is None or offset < limit:
        size = 1 << 16 if limit is None else min(1 << 16, limit - offset)
        chunk = os.pread(handle, size, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)

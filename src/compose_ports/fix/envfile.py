"""Adding variables to env files: only appended, each defined once, whoever else is writing.

Two `fix --env-file shared.env` runs at once must not lose each other's variables, nor define one
twice: every append happens under an exclusive lock, after reading again what is there. The lock
is taken on the file's directory, which stays the same inode while the file itself is replaced by
a rename (a lock on the file would be left behind on the old one) or does not exist yet. A file
that does not exist is created whole or not at all: a complete temporary file is hard-linked to
the name, which fails if someone created it first (the variables are then appended to theirs).

`check_env_target` says, before anything is written, why an env file cannot take the variables:
the caller checks every target first, so that a bad one leaves all files as they were.
"""

from __future__ import annotations

import codecs
import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from compose_ports import readfile
from compose_ports.compose.dotenv import parse_dotenv
from compose_ports.errors import ComposePortsError
from compose_ports.fix.write import (
    NOT_FIXED,
    ChangedOnDisk,
    inside,
    judge,
    locate,
    write_atomic,
)
from compose_ports.newfile import NoTemporaryFile, create_new

# Rounds of read, append and check lost to writers that take no lock before giving up.
_ATTEMPTS = 5


def check_env_target(path: Path, repository: Path | None) -> str | None:
    """Why the variables cannot be added to the env file at path (one line), or None.

    A missing file is fine where it can be created. `repository` is the directory no write may
    leave (None: no such bound).
    """
    try:
        # The reading rule first: a device or a pipe is "not a regular file", as anywhere.
        data = readfile.read_bytes(path)
    except (FileNotFoundError, NotADirectoryError):
        data = None  # nothing to read; where it would go is judged below
    except readfile.Refused as exc:
        return exc.message
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}: {NOT_FIXED}"
    reason = _place_problem(path, repository)
    if reason is not None or data is None:
        return reason
    return _content_problem(data, str(path))


def _place_problem(path: Path, repository: Path | None) -> str | None:
    """Why no env file may be written at path, whatever it holds, or None."""
    absolute = Path(os.path.abspath(path))
    try:
        os.lstat(absolute)
    except FileNotFoundError:
        return _creation_problem(absolute, repository)
    except NotADirectoryError:
        return f"its directory is not a directory: {NOT_FIXED}"
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}: {NOT_FIXED}"
    located = locate(absolute, repository)
    if isinstance(located, str):
        return located
    return judge(*located)


def _creation_problem(path: Path, repository: Path | None) -> str | None:
    target = Path(os.path.realpath(path))
    if repository is not None and not inside(target, repository):
        return f"outside the repository: {NOT_FIXED}"
    try:
        is_directory = target.parent.is_dir()
    except OSError as exc:
        return f"cannot reach its directory: {exc.strerror or exc}: {NOT_FIXED}"
    if not is_directory:
        if target.parent.exists():
            return f"its directory is not a directory: {NOT_FIXED}"
        return f"its directory does not exist: {NOT_FIXED}"
    if os.geteuid() != 0 and not os.access(target.parent, os.W_OK | os.X_OK):
        return f"cannot write in its directory: Permission denied: {NOT_FIXED}"
    return None


def _content_problem(data: bytes, shown: str) -> str | None:
    """Why the bytes of an env file cannot be read as Compose reads them, or None."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return f"is UTF-16 text, and Compose reads env files as UTF-8: {NOT_FIXED}"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return (
            f"is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}), and "
            f"Compose reads env files as UTF-8: {NOT_FIXED}"
        )
    if "\0" in text:
        # UTF-16 without a byte-order mark decodes as UTF-8 with a NUL after each ASCII letter.
        return f"holds NUL bytes (UTF-16 or binary), not the UTF-8 text Compose reads: {NOT_FIXED}"
    try:
        parse_dotenv(text, os.environ.get, shown)
    except ComposePortsError as exc:
        message = " ".join(exc.message.split())
        where = f"line {exc.line}: " if exc.line else ""
        return f"Compose cannot read it: {where}{message}: {NOT_FIXED}"
    return None


def append_env(
    path: Path,
    variables: Mapping[str, str],
    ordered: bool = False,
    repository: Path | None = None,
) -> list[str]:
    """Add the variables the env file does not define yet; return their names.

    The names come in the mapping's order when `ordered`, else sorted. Existing lines, values and
    comments are never changed; CRLF files get CRLF lines, and a missing final newline is added
    before the new lines. A missing file is created. Raises ComposePortsError (one line) where
    the file cannot take them.
    """
    shown = str(path)
    names = list(variables) if ordered else sorted(variables)
    if not names:
        return []  # and a missing file stays missing
    reason = check_env_target(path, repository)
    if reason is not None:
        raise ComposePortsError(reason, shown)
    with _locked(Path(os.path.realpath(path)).parent):
        for _ in range(_ATTEMPTS):
            # Again under the lock: the file may have changed while we waited for it.
            reason = _place_problem(path, repository)
            if reason is not None:
                raise ComposePortsError(reason, shown)
            target = Path(os.path.realpath(path))
            try:
                existing = readfile.read_bytes(target)
            except FileNotFoundError:
                data = _lines(names, variables, "\n").encode("utf-8")
                _prove(b"", data, {n: variables[n] for n in names}, shown)
                if _create(target, data, shown):
                    return names
                continue  # someone created it first: append to theirs
            except OSError as exc:
                raise ComposePortsError(
                    f"cannot read file: {exc.strerror or exc}: {NOT_FIXED}", shown
                ) from None
            reason = _content_problem(existing, shown)
            if reason is not None:
                raise ComposePortsError(reason, shown)
            text = existing.decode("utf-8-sig")
            defined = parse_dotenv(text, os.environ.get, shown)
            missing = [name for name in names if name not in defined]
            if not missing:
                return []
            data = existing + _addition(text, missing, variables).encode("utf-8")
            _prove(existing, data, {n: variables[n] for n in missing}, shown)
            try:
                write_atomic(target, data, existing, repository)
            except ChangedOnDisk as exc:
                if exc.kept is not None:
                    raise
                continue  # a writer that takes no lock got in: read what it wrote, and again
            return missing
    raise ComposePortsError(
        f"kept changing on disk while variables were added to it: {NOT_FIXED}", shown
    )


def _lines(names: list[str], variables: Mapping[str, str], newline: str) -> str:
    return "".join(f"{name}={variables[name]}{newline}" for name in names)


def _addition(text: str, missing: list[str], variables: Mapping[str, str]) -> str:
    """The new lines, in the file's line ending, after the newline its last line may lack."""
    # A lone CR does not end a line for Compose: the next line would join the last value.
    crlf = "\r\n" in text or text.endswith("\r")
    newline = "\r\n" if crlf else "\n"
    if text.endswith("\r"):
        start = "\n"
    elif text and not text.endswith("\n"):
        start = newline
    else:
        start = ""
    return start + _lines(missing, variables, newline)


def _prove(before: bytes, after: bytes, added: Mapping[str, str], shown: str) -> None:
    """The new file reads as the old one plus exactly the added values, or nothing is written."""
    old = parse_dotenv(before.decode("utf-8-sig"), os.environ.get, shown) if before else {}
    expected = {**old, **added}
    try:
        new = parse_dotenv(after.decode("utf-8-sig"), os.environ.get, shown)
    except ComposePortsError:  # the new lines make the file unreadable: theirs is the blame
        new = old
    wrong = sorted(k for k in {*new, *expected} if new.get(k) != expected.get(k))
    if wrong:
        raise ComposePortsError(
            f"{', '.join(wrong)} would not read back as written: {NOT_FIXED}", shown
        )


def _create(target: Path, data: bytes, shown: str) -> bool:
    """Create target holding data, all of it at once; False if someone else created it first."""
    try:
        return create_new(target, data)
    except NoTemporaryFile as exc:
        raise ComposePortsError(
            f"cannot write in its directory: {exc.strerror or exc}: {NOT_FIXED}", shown
        ) from None
    except OSError as exc:
        raise ComposePortsError(
            f"cannot write file: {exc.strerror or exc}: {NOT_FIXED}", shown
        ) from None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock between compose-ports runs on the env files of one directory."""
    try:
        import fcntl
    except ImportError:  # no flock here: the checks of each write still hold, without it
        yield
        return
    try:
        handle = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # a directory we may not read: the same
        yield
        return
    try:
        with contextlib.suppress(OSError):  # a filesystem without locks: the same
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # which releases the lock

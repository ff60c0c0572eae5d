"""The writes of `fix` and `env`: nothing anyone wrote is ever lost, and what must be left alone is.

`fix` runs blindly in pre-commit hooks, so every write is checked here where it could go wrong:

- what is left alone, with one line saying why: read-only files (by their mode bits, for root
  too), hard links, symbolic links that dangle or lead out of the repository, anything outside
  the repository, env files Compose could not read or that cannot be created;
- someone else writing while a file is rewritten, made to happen at the worst moment on purpose
  (just before, on both sides of, and during the undo of the rename; a writer the kernel's lease
  holds back in open()), and for real, by another process appending to 300 files while they are
  fixed;
- two processes adding variables to one env file at once: each defined exactly once;
- no temporary or backup file left behind, by any test (an autouse fixture checks).
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from compose_ports import newfile as newfile_module
from compose_ports.errors import ComposePortsError
from compose_ports.fix import write as write_module
from compose_ports.fix.envfile import append_env, check_env_target
from compose_ports.fix.write import (
    CHANGED_SINCE_READ,
    CHANGED_WHILE_FIXING,
    KEPT_SUFFIX,
    ChangedOnDisk,
    refusal,
    write_atomic,
)

SIMPLE = b'services:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n'
FIXED = b'services:\n  web:\n    image: nginx\n    ports:\n      - "${WEB_PORT:-8080}:80"\n'
THEIRS = b"# a line another program wrote\n"
NOBODY = 65534
ROOT = os.geteuid() == 0


# -- helpers ------------------------------------------------------------------------------------


def leftovers(root: Path) -> list[str]:
    """Our hidden temporary and backup files: none may outlive a call."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob(".*")
        if p.name.endswith((".tmp", ".bak")) and ".git" not in p.parts
    )


def kept_aside(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if KEPT_SUFFIX in p.name)


@pytest.fixture(autouse=True)
def _nothing_left_behind(tmp_path: Path) -> Iterator[None]:
    yield
    assert leftovers(tmp_path) == []


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def compose_file(directory: Path, data: bytes = SIMPLE, name: str = "compose.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    return path


def snapshot(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every entry under root: its kind, its bytes (or link target) and its mode."""
    entries: dict[str, tuple[str, bytes | str, int]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        name = str(path.relative_to(root))
        if stat.S_ISLNK(info.st_mode):
            entries[name] = ("link", os.readlink(path), 0)
        elif stat.S_ISDIR(info.st_mode):
            entries[name] = ("dir", b"", stat.S_IMODE(info.st_mode))
        else:
            entries[name] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return entries


def assert_one_line(reason: str | None, expected: str) -> None:
    assert reason is not None
    assert "\n" not in reason and "\r" not in reason, reason
    assert reason.endswith((": not fixed", "not a regular file")), reason
    assert expected in reason, reason


class _OsWith:
    """The os module with some functions replaced: for one module of compose_ports only."""

    def __init__(self, **replaced: Callable[..., Any]) -> None:
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced.get(name) or getattr(os, name)


def append(path: Path | str, data: bytes) -> None:
    """What `echo >> path` does: no lock, no rename, just an append."""
    with open(path, "ab") as out:
        out.write(data)


# -- what is left alone: mode bits --------------------------------------------------------------


def test_a_file_without_write_bits_is_read_only_even_to_root(repo: Path) -> None:
    path = compose_file(repo / "app")
    path.chmod(0o444)
    inode = path.stat().st_ino
    assert_one_line(refusal(path, repo), "file is read-only")
    with pytest.raises(ComposePortsError) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    assert str(caught.value) == f"{path}: file is read-only: not fixed"
    assert path.read_bytes() == SIMPLE
    assert (path.stat().st_ino, stat.S_IMODE(path.stat().st_mode)) == (inode, 0o444)


@pytest.mark.parametrize(
    ("mode", "owner"),
    [(0o644, None), (0o600, None), (0o640, NOBODY), (0o604, NOBODY), (0o2664, None)],
    ids=["644", "600", "640-nobody", "604-nobody", "2664-setgid"],
)
def test_a_writable_file_is_rewritten_with_its_mode_and_owner(
    repo: Path, mode: int, owner: int | None
) -> None:
    path = compose_file(repo / "app")
    if owner is not None:
        if not ROOT:
            pytest.skip("only root can give a file to another user")
        os.chown(path, owner, owner)
    path.chmod(mode)
    before = path.stat()
    assert refusal(path, repo) is None
    write_atomic(path, FIXED, SIMPLE, repo)
    after = path.stat()
    assert path.read_bytes() == FIXED
    assert after.st_ino != before.st_ino, "not written through a rename"
    assert stat.S_IMODE(after.st_mode) == mode
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)


@pytest.mark.parametrize(
    ("mode", "uid", "gid", "read_only"),
    [
        (0o644, 1000, 1000, False),  # the owner may write
        (0o464, 1000, 1000, True),  # the owner may not, though the group may: the owner's bits
        (0o464, 2000, 1000, False),  # a member of the group may
        (0o646, 2000, 1000, True),  # the group may not, though others may: the group's bits
        (0o646, 2000, 2000, False),  # anyone may
        (0o664, 2000, 2000, True),  # anyone else may not
        (0o644, 2000, 3000, True),  # a supplementary group is a group too: 3000 has r only
        (0o664, 2000, 3000, False),
    ],
)
def test_the_mode_bits_of_the_class_the_user_is_in_decide(
    repo: Path, monkeypatch: pytest.MonkeyPatch, mode: int, uid: int, gid: int, read_only: bool
) -> None:
    if not ROOT:
        pytest.skip("files of other owners are made with chown, as root")
    path = compose_file(repo / "app")
    os.chown(path, uid, gid)
    path.chmod(mode)
    # Seen as the unprivileged user 1000, in groups 1000 and 3000.
    user = _OsWith(geteuid=lambda: 1000, getegid=lambda: 1000, getgroups=lambda: [1000, 3000])
    monkeypatch.setattr(write_module, "os", user)
    reason = refusal(path, repo)
    if read_only:
        assert_one_line(reason, "file is read-only")
    else:
        assert reason is None


# -- what is left alone: links and places -------------------------------------------------------


def test_a_hard_linked_file_is_left_alone(repo: Path) -> None:
    path = compose_file(repo / "app")
    other = repo / "other" / "compose.yaml"
    other.parent.mkdir()
    os.link(path, other)
    inode = path.stat().st_ino
    assert_one_line(refusal(path, repo), "has 2 hard links")
    with pytest.raises(ComposePortsError, match="has 2 hard links"):
        write_atomic(path, FIXED, SIMPLE, repo)
    assert path.read_bytes() == other.read_bytes() == SIMPLE
    assert path.stat().st_ino == other.stat().st_ino == inode
    assert path.stat().st_nlink == 2


def test_the_hidden_links_of_a_write_in_progress_are_no_hard_links(repo: Path) -> None:
    """Another run writing the same file at the same moment links it to a hidden backup name."""
    path = compose_file(repo)
    os.link(path, repo / ".compose.yaml.0123abcd.bak")
    assert refusal(path, repo) is None
    os.link(path, repo / "copy.yaml")
    assert_one_line(refusal(path, repo), "has 2 hard links")
    for name in (".compose.yaml.0123abcd.bak", "copy.yaml"):
        (repo / name).unlink()


def test_a_symlink_loop_is_left_alone(repo: Path) -> None:
    (repo / "compose.yaml").symlink_to("compose.yml")
    (repo / "compose.yml").symlink_to("compose.yaml")
    assert_one_line(refusal(repo / "compose.yaml", repo), "a symbolic link that loops")


def test_a_symlink_inside_the_repository_is_rewritten_through(repo: Path) -> None:
    shared = compose_file(repo / "shared", name="web.yaml")
    link = repo / "app" / "compose.yaml"
    link.parent.mkdir()
    link.symlink_to("../shared/web.yaml")
    assert refusal(link, repo) is None
    write_atomic(link, FIXED, SIMPLE, repo)
    assert link.is_symlink() and os.readlink(link) == "../shared/web.yaml"
    assert shared.read_bytes() == FIXED


def test_a_symlink_to_a_file_outside_the_repository_is_left_alone(
    repo: Path, tmp_path: Path
) -> None:
    outside = compose_file(tmp_path / "elsewhere")
    link = repo / "compose.yaml"
    link.symlink_to(outside)
    before = snapshot(tmp_path)
    assert_one_line(refusal(link, repo), "a symbolic link to a file outside the repository")
    with pytest.raises(ComposePortsError, match="outside the repository"):
        write_atomic(link, FIXED, SIMPLE, repo)
    assert snapshot(tmp_path) == before


def test_a_directory_symlink_out_of_the_repository_is_left_alone(
    repo: Path, tmp_path: Path
) -> None:
    compose_file(tmp_path / "elsewhere")
    (repo / "vendored").symlink_to(tmp_path / "elsewhere")
    path = repo / "vendored" / "compose.yaml"
    before = snapshot(tmp_path)
    with pytest.raises(ComposePortsError, match="outside the repository"):
        write_atomic(path, FIXED, SIMPLE, repo)
    assert snapshot(tmp_path) == before


def test_a_file_outside_the_repository_is_left_alone(repo: Path, tmp_path: Path) -> None:
    outside = compose_file(tmp_path / "elsewhere")
    assert_one_line(refusal(outside, repo), "outside the repository")
    assert_one_line(refusal(repo / ".." / "elsewhere" / "compose.yaml", repo), "outside")
    with pytest.raises(ComposePortsError, match="outside the repository"):
        write_atomic(outside, FIXED, SIMPLE, repo)
    assert outside.read_bytes() == SIMPLE
    # Without a repository to stay in, only the other checks apply.
    write_atomic(outside, FIXED, SIMPLE)
    assert outside.read_bytes() == FIXED


def test_a_dangling_symlink_is_left_alone(repo: Path) -> None:
    link = repo / "compose.yaml"
    link.symlink_to("gone.yaml")
    assert_one_line(refusal(link, repo), "a symbolic link to a missing file")
    with pytest.raises(ComposePortsError, match="a symbolic link to a missing file"):
        write_atomic(link, FIXED, SIMPLE, repo)
    assert link.is_symlink() and not (repo / "gone.yaml").exists()


def test_what_is_not_a_regular_file_is_left_alone(repo: Path) -> None:
    fifo = repo / "compose.yaml"
    os.mkfifo(fifo)
    assert_one_line(refusal(fifo, repo), "not a regular file")
    with pytest.raises(ComposePortsError, match="not a regular file"):
        write_atomic(fifo, FIXED, SIMPLE, repo)  # and it does not hang on the FIFO
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


# -- writes that fail ---------------------------------------------------------------------------


def test_a_file_changed_since_it_was_read_is_left_as_it_is(repo: Path) -> None:
    path = compose_file(repo, SIMPLE + THEIRS)
    with pytest.raises(ChangedOnDisk) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    assert caught.value.message == CHANGED_SINCE_READ
    assert path.read_bytes() == SIMPLE + THEIRS


def test_a_failed_rename_keeps_the_original(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = compose_file(repo)
    inode = path.stat().st_ino

    def replace(src: Any, dst: Any) -> None:
        assert Path(src).read_bytes() == FIXED  # the temporary file is complete, then...
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(write_module, "os", _OsWith(replace=replace))
    with pytest.raises(ComposePortsError) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    assert caught.value.message == "cannot write file: No space left on device: not fixed"
    assert (path.read_bytes(), path.stat().st_ino, path.stat().st_nlink) == (SIMPLE, inode, 1)


def test_an_interrupted_write_keeps_the_original(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = compose_file(repo)

    def replace(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(write_module, "os", _OsWith(replace=replace))
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, FIXED, SIMPLE, repo)
    assert (path.read_bytes(), path.stat().st_nlink) == (SIMPLE, 1)


# -- someone else writes while the file is rewritten --------------------------------------------


def no_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    """As where the kernel grants no lease (another user's file, NFS, macOS); and for writers in
    this very process, whose open() a lease of ours would hold back until it timed out."""
    monkeypatch.setattr(write_module, "_lease", lambda handle: False)


def _around_the_rename(
    monkeypatch: pytest.MonkeyPatch,
    before: Callable[[str], None] | None = None,
    after: Callable[[str], None] | None = None,
    lease: bool = False,
    **replaced: Callable[..., Any],
) -> None:
    """Run `before(path)` just before the rename of the new text over path, `after` just after."""
    if not lease:
        no_lease(monkeypatch)
    real = os.replace
    calls = []

    def replace(src: Any, dst: Any) -> None:
        calls.append(dst)
        first = len(calls) == 1
        if first and before:
            before(str(dst))
        real(src, dst)
        if first and after:
            after(str(dst))

    monkeypatch.setattr(write_module, "os", _OsWith(replace=replace, **replaced))


def test_a_write_just_before_the_rename_is_kept(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = compose_file(repo)
    inode = path.stat().st_ino
    _around_the_rename(monkeypatch, before=lambda p: append(p, THEIRS))
    with pytest.raises(ChangedOnDisk) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    assert str(caught.value) == f"{path}: {CHANGED_WHILE_FIXING}"
    assert caught.value.kept is None
    # The very file they wrote into is back at its name: a writer still holding it is not lost.
    assert (path.read_bytes(), path.stat().st_ino, path.stat().st_nlink) == (
        SIMPLE + THEIRS,
        inode,
        1,
    )
    assert kept_aside(repo) == []


def test_writes_on_both_sides_of_the_rename_are_both_kept(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = compose_file(repo)
    later = b"# written to the fixed file\n"
    _around_the_rename(
        monkeypatch, before=lambda p: append(p, THEIRS), after=lambda p: append(p, later)
    )
    with pytest.raises(ChangedOnDisk) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    aside = repo / f"compose.yaml{KEPT_SUFFIX}"
    assert caught.value.kept == str(aside)
    assert caught.value.message == (
        f"{CHANGED_WHILE_FIXING}; what was written to the fixed file meanwhile is kept in {aside}"
    )
    assert path.read_bytes() == SIMPLE + THEIRS
    assert aside.read_bytes() == FIXED + later
    assert kept_aside(repo) == [aside]


@pytest.mark.parametrize("both_sides", [False, True])
def test_without_hard_links_the_old_text_is_written_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch, both_sides: bool
) -> None:
    """A filesystem that refuses hard links: the original's text is copied back instead."""
    path = compose_file(repo)
    path.chmod(0o640)
    later = b"# written to the fixed file\n"

    def link(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    _around_the_rename(
        monkeypatch,
        before=lambda p: append(p, THEIRS),
        after=(lambda p: append(p, later)) if both_sides else None,
        link=link,
    )
    with pytest.raises(ChangedOnDisk, match="changed on disk while it was being fixed"):
        write_atomic(path, FIXED, SIMPLE, repo)
    assert path.read_bytes() == SIMPLE + THEIRS
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    if both_sides:
        assert [p.read_bytes() for p in kept_aside(repo)] == [FIXED + later]
    else:
        assert kept_aside(repo) == []


def test_a_file_replaced_by_another_program_after_the_rename_stays_theirs(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = compose_file(repo)
    saved = b"# an editor saved this with a rename of its own\n"

    def editor_save(target: str) -> None:
        (repo / "editor.tmp~").write_bytes(saved)
        os.replace(repo / "editor.tmp~", target)

    _around_the_rename(monkeypatch, before=lambda p: append(p, THEIRS), after=editor_save)
    with pytest.raises(ChangedOnDisk) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    assert "another program replaced it meanwhile" in caught.value.message
    assert path.read_bytes() == saved
    assert [p.read_bytes() for p in kept_aside(repo)] == [SIMPLE + THEIRS]


def test_a_file_replaced_before_the_rename_stays_theirs(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = compose_file(repo)
    saved = b"# an editor saved this with a rename of its own\n"
    real_link = os.link

    def link(src: Any, dst: Any, **kwargs: Any) -> None:
        (repo / "editor.tmp~").write_bytes(saved)
        os.replace(repo / "editor.tmp~", path)
        real_link(src, dst, **kwargs)

    monkeypatch.setattr(write_module, "os", _OsWith(link=link))
    with pytest.raises(ChangedOnDisk) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    assert caught.value.message == CHANGED_SINCE_READ
    assert path.read_bytes() == saved


def test_when_putting_the_original_back_fails_its_text_is_kept_aside(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = compose_file(repo)
    no_lease(monkeypatch)
    real = os.replace
    calls = []

    def replace(src: Any, dst: Any) -> None:
        calls.append(src)
        if len(calls) == 1:
            append(dst, THEIRS)
            real(src, dst)
            return
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(write_module, "os", _OsWith(replace=replace))
    with pytest.raises(ChangedOnDisk) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    aside = repo / f"compose.yaml{KEPT_SUFFIX}"
    assert caught.value.kept == str(aside)
    assert "could not be put back (Input/output error)" in caught.value.message
    assert aside.read_bytes() == SIMPLE + THEIRS
    assert path.read_bytes() == FIXED


@pytest.fixture
def leases(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.write_bytes(b"")
    handle = os.open(probe, os.O_RDONLY)
    try:
        if not write_module._lease(handle):
            pytest.skip("no file leases here")
    finally:
        os.close(handle)
        probe.unlink()


def test_a_writer_held_back_by_the_lease_writes_into_the_file_put_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch, leases: None
) -> None:
    """Another process opens the file to append just before the rename: the lease holds it in
    open() on the original; the original is put back, and its line lands there."""
    path = compose_file(repo)
    inode = path.stat().st_ino
    granted: list[int] = []
    real_lease = write_module._lease

    def lease(handle: int) -> bool:
        assert real_lease(handle)
        granted.append(handle)
        return True

    monkeypatch.setattr(write_module, "_lease", lease)
    writers: list[subprocess.Popen[bytes]] = []

    def another_process_appends(target: str) -> None:
        script = "import sys; open(sys.argv[1], 'ab').write(sys.argv[2].encode())"
        writers.append(subprocess.Popen([sys.executable, "-c", script, target, THEIRS.decode()]))
        while not write_module._lease_broken(granted[0]):  # until it waits in open()
            assert writers[0].poll() is None, "the writer was not held back"
            time.sleep(0.001)

    _around_the_rename(monkeypatch, before=another_process_appends, lease=True)
    try:
        with pytest.raises(ChangedOnDisk) as caught:
            write_atomic(path, FIXED, SIMPLE, repo)
        assert caught.value.message == CHANGED_WHILE_FIXING
        assert writers[0].wait(timeout=60) == 0
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()
    assert (path.read_bytes(), path.stat().st_ino) == (SIMPLE + THEIRS, inode)
    assert kept_aside(repo) == []


def test_a_file_another_program_keeps_open_for_writing_is_left_alone(
    repo: Path, leases: None
) -> None:
    path = compose_file(repo)
    with open(path, "ab"), pytest.raises(ComposePortsError) as caught:
        write_atomic(path, FIXED, SIMPLE, repo)
    assert caught.value.message == "open for writing in another program: not fixed"
    assert path.read_bytes() == SIMPLE


APPENDER = textwrap.dedent(
    """
    import sys
    paths = sys.argv[2:]
    line = sys.argv[1].encode()
    original = open(paths[0], "rb").read()
    print("ready", flush=True)
    while open(paths[0], "rb").read() == original:
        pass
    for path in paths:
        with open(path, "ab") as out:  # what `echo >>` does
            out.write(line)
    """
)


def test_no_line_another_process_appends_during_fix_is_lost(tmp_path: Path) -> None:
    """The issue's scenario: another process waits for the first rewrite, then appends a line to
    every file while the others are being rewritten. Whatever is reported, every line stays."""
    line = "# appended by another process\n"
    for attempt in range(5):
        directory = tmp_path / f"round-{attempt}"
        directory.mkdir()
        paths = [compose_file(directory, name=f"compose-{n:03}.yaml") for n in range(300)]
        child = subprocess.Popen(
            [sys.executable, "-c", APPENDER, line, *map(str, paths)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
            reported: dict[Path, str] = {}
            for path in paths:
                try:
                    write_atomic(path, FIXED, SIMPLE, directory)
                    reported[path] = "fixed"
                except ChangedOnDisk as exc:
                    reported[path] = exc.message
            assert child.wait(timeout=60) == 0
        finally:
            child.kill()
            child.wait()
        assert reported[paths[0]] == "fixed"
        for path in paths:
            if reported[path] == "fixed":
                assert path.read_bytes() == FIXED + line.encode(), path
            else:
                assert reported[path] in (CHANGED_SINCE_READ, CHANGED_WHILE_FIXING)
                assert path.read_bytes() == SIMPLE + line.encode(), path
        assert sorted(directory.iterdir()) == paths, "files beside them"


# -- env files ----------------------------------------------------------------------------------


def test_a_missing_env_file_is_created_whole(repo: Path) -> None:
    env = repo / "ports.env"
    added = append_env(env, {"WEB_PORT": "8080", "DB_PORT": "5432"}, repository=repo)
    assert added == ["DB_PORT", "WEB_PORT"]
    assert env.read_bytes() == b"DB_PORT=5432\nWEB_PORT=8080\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(env.stat().st_mode) == 0o666 & ~umask
    assert append_env(env, {"WEB_PORT": "1", "DB_PORT": "2"}, repository=repo) == []
    assert env.read_bytes() == b"DB_PORT=5432\nWEB_PORT=8080\n"


def test_ordered_names_keep_the_mapping_order(repo: Path) -> None:
    env = repo / ".env.dev"
    added = append_env(env, {"WEB_PORT": "8080", "DB_PORT": "5432"}, ordered=True)
    assert added == ["WEB_PORT", "DB_PORT"]
    assert env.read_text() == "WEB_PORT=8080\nDB_PORT=5432\n"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # CRLF and no final newline: the newline is added, in CRLF, before the new lines
        (b"# theirs\r\nWEB_PORT=1", b"# theirs\r\nWEB_PORT=1\r\nDB_PORT=5432\r\n"),
        (b"# theirs\r\nWEB_PORT=1\r\n", b"# theirs\r\nWEB_PORT=1\r\nDB_PORT=5432\r\n"),
        (b"WEB_PORT=1", b"WEB_PORT=1\nDB_PORT=5432\n"),
        (b"\xef\xbb\xbfWEB_PORT=1\n", b"\xef\xbb\xbfWEB_PORT=1\nDB_PORT=5432\n"),
        # A lone CR ends no line for Compose: the next line would join the value.
        (b"WEB_PORT=1\r", b"WEB_PORT=1\r\nDB_PORT=5432\r\n"),
        (b"# only a comment", b"# only a comment\nDB_PORT=5432\nWEB_PORT=8080\n"),
        (b"", b"DB_PORT=5432\nWEB_PORT=8080\n"),
    ],
    ids=["crlf-no-newline", "crlf", "lf-no-newline", "utf8-bom", "lone-cr", "comment", "empty"],
)
def test_existing_bytes_are_never_changed(repo: Path, before: bytes, after: bytes) -> None:
    env = repo / ".env"
    env.write_bytes(before)
    append_env(env, {"WEB_PORT": "8080", "DB_PORT": "5432"}, repository=repo)
    assert env.read_bytes() == after


@pytest.mark.parametrize("value", ["8080 #x", '"8080', "$OTHER"])
def test_a_value_that_would_not_read_back_is_not_written(repo: Path, value: str) -> None:
    env = repo / ".env"
    env.write_bytes(b"A=1\n")
    with pytest.raises(ComposePortsError) as caught:
        append_env(env, {"B": value}, repository=repo)
    assert caught.value.message == "B would not read back as written: not fixed"
    assert env.read_bytes() == b"A=1\n"
    assert append_env(repo / "new.env", {}) == []
    assert not (repo / "new.env").exists()


def test_an_env_file_created_by_someone_else_meanwhile_is_appended_to(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = repo / "shared.env"
    real = os.link

    def link(src: Any, dst: Any, **kwargs: Any) -> None:
        if Path(dst).name == "shared.env" and not env.exists():
            env.write_bytes(b"WEB_PORT=1\n")  # another program, which takes no lock
        real(src, dst, **kwargs)

    # The link that names the new file complete is newfile's, which envfile creates with.
    monkeypatch.setattr(newfile_module, "os", _OsWith(link=link))
    added = append_env(env, {"WEB_PORT": "8080", "DB_PORT": "5432"}, repository=repo)
    assert added == ["DB_PORT"]
    assert env.read_bytes() == b"WEB_PORT=1\nDB_PORT=5432\n"


def test_an_env_file_appended_to_by_someone_else_meanwhile_keeps_their_line(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = repo / "shared.env"
    env.write_bytes(b"WEB_PORT=1\n")
    _around_the_rename(monkeypatch, before=lambda p: append(p, b"DB_PORT=2\n"))
    added = append_env(env, {"WEB_PORT": "8080", "DB_PORT": "5432", "API_PORT": "9000"})
    # Read again after the undo: their DB_PORT stays, and is not defined twice.
    assert added == ["API_PORT"]
    assert env.read_bytes() == b"WEB_PORT=1\nDB_PORT=2\nAPI_PORT=9000\n"


def test_an_env_symlink_inside_the_repository_is_appended_through(repo: Path) -> None:
    (repo / "config").mkdir()
    (repo / "config" / "ports.env").write_bytes(b"A=1\n")
    (repo / ".env").symlink_to("config/ports.env")
    assert append_env(repo / ".env", {"B": "2"}, repository=repo) == ["B"]
    assert (repo / ".env").is_symlink()
    assert (repo / "config" / "ports.env").read_bytes() == b"A=1\nB=2\n"


ENV_WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from compose_ports.fix.envfile import append_env

    root, first, last = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    names = [f"V{n:03}" for n in range(first, last)]
    for line in sys.stdin:
        target = root / line.strip() / "shared.env"
        for start in range(0, len(names), 40):
            chunk = names[start : start + 40]
            append_env(target, {name: str(10000 + int(name[1:])) for name in chunk}, True, root)
        print("done", flush=True)
    """
)
# Existing files each round starts from (or none): what they hold must stay, byte for byte.
ENV_STARTS = [None, b"# theirs\r\nV150=1", b"V007=7\n", b"\xef\xbb\xbf# a comment"]


def test_two_processes_adding_to_one_env_file_define_each_variable_once(tmp_path: Path) -> None:
    """Two `fix --env-file shared.env` at once, the file often not there yet: the first worker
    adds V000-V199, the second V100-V299, 40 at a time, both starting each round together."""
    rounds = 16
    for number in range(rounds):
        directory = tmp_path / f"round-{number:02}"
        directory.mkdir()
        start = ENV_STARTS[number % len(ENV_STARTS)]
        if start is not None:
            (directory / "shared.env").write_bytes(start)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", ENV_WORKER, str(tmp_path), first, last],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for first, last in (("0", "200"), ("100", "300"))
    ]
    try:
        for number in range(rounds):
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write(f"round-{number:02}\n")
                worker.stdin.flush()
            for worker in workers:
                assert worker.stdout is not None
                assert worker.stdout.readline() == "done\n", "a worker failed"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.close()
            assert worker.wait(timeout=60) == 0
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    for number in range(rounds):
        start = ENV_STARTS[number % len(ENV_STARTS)]
        data = (tmp_path / f"round-{number:02}" / "shared.env").read_bytes()
        assert data.startswith(start or b""), f"round {number}: existing bytes changed"
        added = data[len(start or b"") :]
        crlf = start is not None and b"\r\n" in start
        newline = b"\r\n" if crlf else b"\n"
        if start and not start.endswith(b"\n"):
            assert added.startswith(newline), f"round {number}: the final newline"
            added = added[len(newline) :]
        lines = added.split(newline)
        assert lines.pop() == b"", f"round {number}: the final newline"
        assert all(b"\n" not in line and b"\r" not in line for line in lines), "line endings"
        defined_before = {b"V150"} if start and b"V150=1" in start else set()
        defined_before |= {b"V007"} if start and b"V007=7" in start else set()
        expected = sorted(
            b"V%03d=%d" % (n, 10000 + n) for n in range(300) if b"V%03d" % n not in defined_before
        )
        assert sorted(lines) == expected, f"round {number}: not each variable exactly once"


# -- env targets that cannot take the variables: checked before anything is written -----------


def _unterminated(repo: Path) -> Path:
    env = repo / ".env"
    env.write_bytes(b'A=1\nB="never closed\nC=3\n')
    return env


def _utf16(repo: Path) -> Path:
    env = repo / ".env"
    env.write_bytes("A=1\n".encode("utf-16"))
    return env


def _utf16_without_bom(repo: Path) -> Path:
    env = repo / ".env"
    env.write_bytes("A=1\n".encode("utf-16-le"))
    return env


def _latin1(repo: Path) -> Path:
    env = repo / ".env"
    env.write_bytes("A=café\n".encode("latin-1"))
    return env


def _directory(repo: Path) -> Path:
    (repo / "ports.env").mkdir()
    return repo / "ports.env"


def _missing_directory(repo: Path) -> Path:
    return repo / "missing" / "ports.env"


def _file_as_directory(repo: Path) -> Path:
    (repo / "notes").write_bytes(b"a file\n")
    return repo / "notes" / "ports.env"


def _dangling(repo: Path) -> Path:
    (repo / ".env").symlink_to("gone.env")
    return repo / ".env"


def _outside_relative(repo: Path) -> Path:
    (repo / "deploy").mkdir()
    os.chdir(repo / "deploy")
    return Path("../../x")


def _outside_absolute(repo: Path) -> Path:
    (repo.parent / "elsewhere").mkdir()
    return repo.parent / "elsewhere" / "ports.env"


def _symlink_outside(repo: Path) -> Path:
    (repo.parent / "elsewhere").mkdir()
    (repo.parent / "elsewhere" / "ports.env").write_bytes(b"A=1\n")
    (repo / ".env").symlink_to(repo.parent / "elsewhere" / "ports.env")
    return repo / ".env"


def _hard_linked(repo: Path) -> Path:
    (repo / ".env").write_bytes(b"A=1\n")
    os.link(repo / ".env", repo / "copy.env")
    return repo / ".env"


def _read_only(repo: Path) -> Path:
    (repo / ".env").write_bytes(b"A=1\n")
    (repo / ".env").chmod(0o444)
    return repo / ".env"


BAD_TARGETS: list[tuple[Callable[[Path], Path], str]] = [
    (_unterminated, "Compose cannot read it: line 2: unterminated quoted value"),
    (_utf16, "is UTF-16 text"),
    (_utf16_without_bom, "holds NUL bytes"),
    (_latin1, "is not UTF-8 text (byte 0xe9 at offset 5)"),
    # The reading rule's own line, as for any file the user names (`--env-file DIR`).
    (_directory, "not a regular file"),
    (_missing_directory, "its directory does not exist"),
    (_file_as_directory, "its directory is not a directory"),
    (_dangling, "a symbolic link to a missing file"),
    (_outside_relative, "outside the repository"),
    (_outside_absolute, "outside the repository"),
    (_symlink_outside, "a symbolic link to a file outside the repository"),
    (_hard_linked, "has 2 hard links"),
    (_read_only, "file is read-only"),
]


@pytest.mark.parametrize(
    ("make", "expected"), BAD_TARGETS, ids=[m.__name__.strip("_") for m, _ in BAD_TARGETS]
)
def test_a_bad_env_target_gets_one_line_and_is_left_as_it_is(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path], Path],
    expected: str,
) -> None:
    monkeypatch.chdir(repo)
    target = make(repo)
    before = snapshot(tmp_path)
    reason = check_env_target(target, repo)
    assert_one_line(reason, expected)
    with pytest.raises(ComposePortsError) as caught:
        append_env(target, {"WEB_PORT": "8080"}, repository=repo)
    assert caught.value.message == reason
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "data", [None, b"", b"\xef\xbb\xbfA=1\n", b"A='x'\r\nexport B=2"], ids=repr
)
def test_a_good_env_target_passes_the_check(repo: Path, data: bytes | None) -> None:
    env = repo / ".env"
    if data is not None:
        env.write_bytes(data)
    assert check_env_target(env, repo) is None
    assert check_env_target(env, None) is None

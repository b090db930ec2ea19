"""The drop folder's file-system layer: everything by handle, nothing through a link.

Whoever can write the drop folder can put anything in it: a symbolic link to a file or
a folder elsewhere, a FIFO, a socket, a name that is not UTF-8. So every operation here
is relative to an open directory handle (``dir_fd``) and never follows a link: a
sub-folder is opened with ``O_NOFOLLOW | O_DIRECTORY`` (a link in its place is refused,
not followed), a move is ``linkat``/``unlinkat`` between two such handles, a ``.reason``
file is created with ``O_EXCL | O_NOFOLLOW``. Swapping a name for a link after a check
changes nothing, because nothing is looked up by path twice.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from bot.ingest.files import file_kind

__all__ = [
    "DIR_FLAGS",
    "FILE_FLAGS",
    "DropFolderError",
    "FileReplaced",
    "display_name",
    "move_no_overwrite",
    "open_for_writing",
    "open_subdir",
    "write_new_file",
]

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class DropFolderError(OSError):
    """The drop folder cannot be used as configured (not a folder, a sub-folder is a link)."""

    def __str__(self) -> str:
        return str(self.strerror)


def display_name(name: str) -> str:
    """A file name as safe, printable UTF-8: undecodable bytes become ``\\xNN``, and
    control or invisible characters ``\\xNN``/``\\uNNNN`` (no terminal tricks in logs).

    Names come from the file system as bytes; one that is not valid UTF-8 could not be
    stored, logged as JSON or shown in chat, and was retried forever.
    """
    raw = os.fsencode(name)
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def open_subdir(root_fd: int, name: str, where: Path) -> int:
    """A no-follow handle on ``root/name``, created if missing; refuses a link or a file."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=root_fd)
    try:
        return os.open(name, DIR_FLAGS, dir_fd=root_fd)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        try:
            kind = file_kind(os.stat(name, dir_fd=root_fd, follow_symlinks=False).st_mode)
        except OSError:
            kind = "not a folder"
        raise DropFolderError(
            exc.errno,
            f"{where / name} is {kind}, not a real folder; the drop folder refuses to move "
            "files through it (replace it with a folder)",
        ) from exc


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _unique_target(dir_fd: int, name: str) -> str:
    """A name for ``name`` in the folder that does not exist yet (timestamp, then counter)."""
    if not _exists(dir_fd, name):
        return name
    base = Path(name)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    for counter in range(1, 10_000):
        extra = stamp if counter == 1 else f"{stamp}-{counter}"
        target = f"{base.stem}.{extra}{base.suffix}"
        if not _exists(dir_fd, target):
            return target
    raise FileExistsError(errno.EEXIST, "no free name", name)


def _linked_into(src_fd: int, name: str, dst_fd: int) -> str | None:
    """The name the file ``name`` already has in the target folder (same inode), if any."""
    try:
        st = os.stat(name, dir_fd=src_fd, follow_symlinks=False)
    except OSError:
        return None
    if st.st_nlink < 2:  # the common case: no other name anywhere
        return None
    with os.scandir(dst_fd) as entries:
        others = [entry.name for entry in entries]
    for candidate in (name, *others):
        try:
            other = os.stat(candidate, dir_fd=dst_fd, follow_symlinks=False)
        except OSError:
            continue
        if (other.st_ino, other.st_dev) == (st.st_ino, st.st_dev):
            return candidate
    return None


class FileReplaced(OSError):
    """The name no longer refers to the file that was read: someone swapped it meanwhile."""


def move_no_overwrite(
    src_fd: int, name: str, dst_fd: int, *, expect: tuple[int, int] | None = None
) -> str:
    """Move ``name`` between two folder handles without replacing a file; return its new name.

    ``os.rename`` silently replaces on POSIX, so the move is a hard link (which fails
    if the target exists) followed by unlinking the source. A crash between the two
    leaves the file in both places (one inode, two names): it is re-ingested (a no-op)
    and the interrupted move is finished by unlinking the source, so no second copy is
    filed and nothing is lost. File systems without hard links fall back to
    check-then-rename, which is safe against ourselves because moves are serialised.
    Links are never followed: a symbolic link is moved as the link itself.

    ``expect`` (inode, device): the file that was read. If the name now refers to another
    one (swapped after the read), nothing is moved (``FileReplaced``): filing the swapped-in
    file as processed would lose it unread.
    """
    if expect is not None:
        st = os.stat(name, dir_fd=src_fd, follow_symlinks=False)
        if (st.st_ino, st.st_dev) != expect:
            raise FileReplaced(errno.ESTALE, "replaced by another file after it was read", name)
    linked = _linked_into(src_fd, name, dst_fd)
    if linked is not None:
        os.unlink(name, dir_fd=src_fd)
        return linked
    for _ in range(100):
        target = _unique_target(dst_fd, name)
        try:
            os.link(name, target, src_dir_fd=src_fd, dst_dir_fd=dst_fd, follow_symlinks=False)
        except FileExistsError:
            continue  # someone took the name between the check and the link
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if _exists(dst_fd, target):
                continue
            os.rename(name, target, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
            return target
        os.unlink(name, dir_fd=src_fd)
        return target
    raise FileExistsError(errno.EEXIST, "no free name", name)


def write_new_file(dir_fd: int, name: str, text: str) -> str:
    """Write a new file in the folder, never replacing one nor following a link; its name.

    A stray ``.reason`` already there gets the new one a counter. A write that fails
    halfway removes the file, so no empty ``.reason`` is left behind.
    """
    data = text.encode("utf-8", "backslashreplace")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    target = name
    for counter in range(2, 1000):
        try:
            fd = os.open(target, flags, 0o644, dir_fd=dir_fd)
        except FileExistsError:
            target = f"{name}.{counter}"
            continue
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(target, dir_fd=dir_fd)
            raise
        os.close(fd)
        return target
    raise FileExistsError(errno.EEXIST, "no free name", name)


_F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)  # Linux; the name exists from Python 3.12


def open_for_writing(dir_fd: int, name: str) -> bool | None:
    """Whether some process has the file open for writing: True, False, or None (unknown).

    Asked with a read lease (``F_SETLEASE``), which the kernel grants only while no one
    has the file open for writing, and which is let go at once. Leases need the file's
    owner (or ``CAP_LEASE``) and a local file system: otherwise the answer is None.
    """
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        # A link or a socket is no file anyone writes: it is filed as failed at once.
        return False if exc.errno in (errno.ELOOP, errno.ENXIO) else None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_RDLCK)
        except OSError as exc:
            return True if exc.errno in (errno.EAGAIN, errno.EBUSY) else None
        fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)

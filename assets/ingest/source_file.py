"""Reads one source file safely: only a regular file inside the sources folder, within size caps,
so no input (a FIFO, a device, a symlink loop, a huge file) can hang or exhaust a run."""

from __future__ import annotations

import errno
import os
import stat

#: Largest source file read, in bytes (the shipped files are all under 2 KiB per row, 300 KiB total).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Longest physical line, in characters.
MAX_LINE_CHARS = 65_536
#: Longest single field, in characters.
MAX_FIELD_CHARS = 16_384
#: Most columns a header may have.
MAX_COLUMNS = 256

SOURCES_SETTING = "OUTLOOK_SOURCES"

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class Unreadable(Exception):
    """Why a source file cannot be read (line 0: the file as a whole)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def folder_problem(folder: str) -> str | None:
    """Why the sources folder cannot be used (naming the setting to fix), or None."""
    try:
        mode = os.stat(folder).st_mode
    except FileNotFoundError:
        return f"the sources folder does not exist (set {SOURCES_SETTING} to the folder of source CSVs)"
    except PermissionError:
        return (
            f"permission denied on the sources folder (give read access or set {SOURCES_SETTING})"
        )
    except OSError as exc:
        return f"the sources folder cannot be opened: {exc.strerror} (check {SOURCES_SETTING})"
    if not stat.S_ISDIR(mode):
        return f"{SOURCES_SETTING} names a file, not a folder (set it to the folder of source CSVs)"
    if not os.access(folder, os.R_OK | os.X_OK):
        return (
            f"permission denied on the sources folder (give read access or set {SOURCES_SETTING})"
        )
    return None


def _resolve(path: str, folder: str) -> str:
    """The real path of a source file, which must stay inside the real sources folder."""
    try:
        real = os.path.realpath(path, strict=True)
    except FileNotFoundError:
        if os.path.islink(path):
            raise Unreadable("is a symlink to a file that does not exist") from None
        raise Unreadable(
            "file not found (missing, or removed while the run was reading it)"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable("is a symlink loop (it points back at itself)") from None
        if exc.errno == errno.EACCES:
            raise Unreadable(
                f"permission denied resolving the path (give read access or set {SOURCES_SETTING})"
            ) from None
        raise Unreadable(f"cannot be resolved: {exc.strerror}") from None
    root = os.path.realpath(folder)
    if os.path.commonpath([real, root]) != root:
        raise Unreadable(
            f"is a symlink to {real}, outside the sources folder; copy the file into "
            f"{SOURCES_SETTING} instead"
        )
    return real


def read_source_bytes(path: str, folder: str | None = None) -> bytes:
    """The bytes of a source file, or :class:`Unreadable` saying why not; never blocks on a FIFO
    or device and never reads more than ``MAX_FILE_BYTES``."""
    real = _resolve(path, folder or os.path.dirname(path))
    try:
        info = os.stat(real)
    except PermissionError:
        raise Unreadable(f"permission denied (give read access or set {SOURCES_SETTING})") from None
    for test, what in _KINDS:
        if test(info.st_mode):
            raise Unreadable(f"is {what}, expected a regular CSV file")
    if info.st_size > MAX_FILE_BYTES:
        raise Unreadable(
            f"is {info.st_size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a source file"
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(real, flags)
    except PermissionError:
        raise Unreadable(
            f"permission denied reading the file (give read access or set {SOURCES_SETTING})"
        ) from None
    except FileNotFoundError:
        raise Unreadable("file not found (removed while the run was reading it)") from None
    except OSError as exc:
        raise Unreadable(f"cannot be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise Unreadable("was replaced by something that is not a regular file while reading")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"grew over the {MAX_FILE_BYTES:,}-byte limit while being read")
    return data

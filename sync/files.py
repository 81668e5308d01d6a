"""Writing a file whole or not at all: the one atomic write of the project.

Everything the job writes to disk for people to open (the workbook, the period's report and its side
files, the outbox's messages, the witness of sent reports) goes through `replace`:

1. a new temporary file beside the target, in the same folder (so the final move is a rename on one file
   system), named `.<name>.cchc-<pid>-<random>.tmp`: hidden, and recognisable as ours, so the leftover of a
   killed run is removed by `remove_leftovers` and never mistaken for a file of the Office's;
2. created with the mode the umask gives (not mkstemp's private 0600): a report or a workbook is meant to be
   shared like any other file the Office saves;
3. the content written by the caller, flushed and synced to disk;
4. when the target already exists, its mode (and its owner and group, where we may) carried over;
5. the caller's last checks (`before_replace`: it raises to abandon the write), then `os.replace` over the
   target, then the folder synced so the rename itself survives a power cut.

On any failure before the replace the temporary file is removed and the target is untouched: a reader sees
the old file or the new one, never a partial one.
"""
from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

TEMP_MARK = ".cchc-"
TEMP_SUFFIX = ".tmp"
#: A temporary file this old (seconds) is a killed run's leftover, not one being written: for writers that
#: hold no lock on their file (the workbook's leftovers are removed under its lock, at any age).
LEFTOVER_AGE_S = 3600


def temp_prefix(path: Path) -> str:
    """How every temporary file for `path` begins."""
    return f".{path.name}{TEMP_MARK}"


def new_temp(path: Path) -> Path:
    """A new empty file beside `path`, created with the mode the umask gives (not mkstemp's 0600)."""
    while True:
        tmp = path.with_name(f"{temp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def is_temp_of(path: Path, candidate: Path) -> bool:
    """Whether `candidate` is named like one of our temporary files for `path`."""
    return candidate.name.startswith(temp_prefix(path)) and candidate.name.endswith(TEMP_SUFFIX)


def remove_leftovers(path: Path, older_than: float) -> list[Path]:
    """Our temporary files beside `path` last written before `older_than` (epoch seconds): left by a run that
    was killed. The caller makes sure no run of ours is writing one right now (a lock, or an age)."""
    removed: list[Path] = []
    try:
        candidates = [p for p in path.parent.iterdir() if is_temp_of(path, p)]
    except OSError:
        return removed
    for p in candidates:
        try:
            if p.is_file() and not p.is_symlink() and p.stat().st_mtime < older_than:
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed


def keep_owner_and_mode(tmp: Path, original: os.stat_result) -> None:
    """Give `tmp` the mode of the file it replaces, and its owner and group as far as we are allowed."""
    os.chmod(tmp, stat.S_IMODE(original.st_mode))
    current = tmp.stat()
    if (current.st_uid, current.st_gid) != (original.st_uid, original.st_gid):
        try:
            os.chown(tmp, original.st_uid, original.st_gid)
        except OSError:  # only root may give a file away; the group may still be kept
            try:
                os.chown(tmp, -1, original.st_gid)
            except OSError:
                pass


def fsync_dir(folder: Path) -> None:
    """Sync a folder, so a rename in it is on disk (best effort: some file systems refuse it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace(path: Path, write: Callable[[Path], object],
            before_replace: Callable[[Path], object] | None = None) -> None:
    """Write `path` atomically: `write(tmp)` fills the temporary file (by its path), which is then synced,
    given the existing file's mode and owner, checked by `before_replace(tmp)` and moved over `path`.
    On any failure the temporary file is removed and `path` is untouched.

    A link is followed (the file it points to is replaced, the link stays); anything at `path` that is not a
    regular file (a device such as /dev/null, a pipe, a folder) is refused with IsADirectoryError or
    FileExistsError, never replaced by a file."""
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        kind = "thư mục" if path.is_dir() else "thiết bị hoặc đường ống, không phải tệp"
        error = IsADirectoryError if path.is_dir() else FileExistsError
        raise error(errno.EISDIR if path.is_dir() else errno.EEXIST, f"'{path}' là {kind}", str(path))
    tmp = new_temp(path)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            original: os.stat_result | None = path.stat()
        except FileNotFoundError:
            original = None
        if original is not None:
            keep_owner_and_mode(tmp, original)
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes(path: Path, data: bytes) -> None:
    """`data` as the whole content of `path`, atomically (see `replace`); the folder is created when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """`text` as the whole content of `path`, atomically (see `replace`)."""
    write_bytes(path, text.encode(encoding))

"""The errors that end a command, each with its documented exit code (docs/operations.md).

Messages are for the Office's staff: they name the file, tab, header or config key and say how to fix it.
"""
from __future__ import annotations

#: The option that accepts a new, empty state file for a workbook that has passes (messages name it).
NEW_STATE = "--new-state"


class SyncError(Exception):
    exit_code = 1


class UserError(SyncError):
    """Bad config, usage or workbook shape: the Office can fix it. Exit 2."""

    exit_code = 2


class Unreachable(SyncError):
    """Backend or mail server unreachable after retries. Exit 3."""

    exit_code = 3


class Busy(SyncError):
    """Another pass holds the job lock (cron and daemon together, or a slow pass). Nothing was done.

    Exit 0: skipping an overlapping run is normal operation; `status` alerts if passes stop altogether."""

    exit_code = 0


class StaleSnapshot(Exception):
    """The workbook changed between our read and our write; the pass must re-read and redo."""


class WriteUnknown(StaleSnapshot):
    """A write whose outcome is unknown (it timed out, its connection dropped or its answer was cut, or the
    server failed): it may have landed. The pass re-reads to find out before writing again."""

    def __init__(self, message: str, server_error: bool = False):
        super().__init__(message)
        self.server_error = server_error


class WriteGaveUp(Unreachable):
    """A write the server kept failing until the command's retry budget ran out: it may have landed. Exit 3; the
    pass log counts it as a write whose outcome is unknown (a server error), like WriteUnknown."""

    server_error = True


class WorkbookHeld(Unreachable):
    """The workbook is open in an office program (its owner file is beside it): computed, not written. Exit 3."""


def bug_text(exc: BaseException) -> str:
    """A bug as it may be shown and stored: its type and where it was raised, never its arguments, which may
    hold a secret (a password that failed to encode is repeated whole in a UnicodeEncodeError's arguments).
    CCHC_DEBUG=1 prints the whole traceback for whoever fixes it."""
    import traceback
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    paths = [f.filename.replace("\\", "/") for f in frames]
    ours = [(f, p[p.rindex("/sync/") + 1:]) for f, p in zip(frames, paths, strict=True) if "/sync/" in p]
    if not (ours or frames):
        return type(exc).__name__
    frame, where = ours[-1] if ours else (frames[-1], "/".join(paths[-1].split("/")[-2:]))
    return f"{type(exc).__name__} ({where}, dòng {frame.lineno})"

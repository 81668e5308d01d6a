"""`python -m sync ARGS` run inside the test process, for checks whose point is the command's logic: its exit
code, its messages, what it leaves on disk. Starting an interpreter costs ~0.3 s of CPU per command; what only
a real process shows (the interpreter's exit status, signals, pipes, dropped capabilities, a lock between two
processes) is tested with real processes, in the few tests that are about that.

The stand-in does what `python -m sync` does (sync/__main__.py: the command line, the daemon plugged in) in the
command's folder, with CCHC_DEBUG unset as cron has it, and returns a `subprocess.CompletedProcess`, so that the
same assertions read a real process and this one alike. An exception other than SystemExit is not caught: it
fails the test, as it would have printed a traceback and exited 1. A warning the command raises is added to
stderr as the interpreter would print it, so that a check for a clean stderr sees it.
"""
from __future__ import annotations

import contextlib
import io
import os
import subprocess
import warnings
from pathlib import Path

import pytest

from sync.__main__ import serve
from sync.entry.cli import main


def in_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m sync ARGS` in folder `cwd`, run by this interpreter; stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("default")  # as `python -m sync` shows them (once per place)
        mp.chdir(cwd)
        mp.delenv("CCHC_DEBUG", raising=False)
        if "COLUMNS" not in os.environ:  # help text wrapped as for a pipe (80 columns), not for pytest's terminal
            mp.setenv("COLUMNS", "80")
        try:
            code = main(list(args), serve=serve)
        except SystemExit as exc:  # argparse's --help ends this way; the interpreter exits with its code
            assert exc.code is None or isinstance(exc.code, int), exc.code
            code = exc.code or 0
    shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in raised)
    return subprocess.CompletedProcess(["python", "-m", "sync", *args], code, out.getvalue(), err.getvalue() + shown)

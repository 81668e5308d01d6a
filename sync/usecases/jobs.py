"""A command as the daemon runs it: settings loaded afresh, the use case called, a failure turned into its exit
code and message.

The daemon never goes through the command line (tests/test_architecture.py), yet each of its actions must
behave exactly as the command cron would run: the same job lock, state file and ledger, the same exit code
and lines. `perform` is that command without argparse; `reload` reads the config and the plan's year as cron
would before each command, so the year's turn needs no restart.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from sync.core.config import Settings
from sync.usecases.common import Lines, SenderFactory, failure, locked_if
from sync.usecases.ports import open_plan, open_ports
from sync.usecases.remind import RemindRequest, remind
from sync.usecases.report import ReportRequest, report
from sync.usecases.run import RunRequest, run


@dataclass(frozen=True)
class Job:
    """One action of the daemon's timetable, as the command a person would type for it."""

    command: str  # run | report | remind
    as_of: dt.date | None = None
    period: str | None = None
    issued: dt.date | None = None
    send: bool = False

    def argv(self) -> list[str]:
        """The command line that does the same (for the log)."""
        out = [self.command]
        if self.period is not None:
            out += ["--period", self.period]
        if self.send:
            out.append("--send")
        if self.issued is not None:
            out += ["--date", self.issued.isoformat()]
        if self.as_of is not None:
            out += ["--as-of", self.as_of.isoformat()]
        return out


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    lines: tuple[str, ...] = field(default_factory=tuple)


def perform(load: Callable[[], Settings], job: Job, clock: Callable[[], dt.datetime],
            sender: SenderFactory | None = None) -> Outcome:
    """Do `job` as its command would from cron: the settings read afresh by `load`, the job lock, the state file,
    the ledger; every line it says kept. A failure becomes its exit code and message, never an exception."""
    lines = Lines()
    try:
        settings = load()
        with locked_if(settings, job.command):
            now = clock()
            if job.command == "run":
                ran = run(settings, lambda: open_ports(settings), now, RunRequest(job.as_of), lines)
                text = [line.text for line in lines.all()] + list(ran.text)
                if ran.error:
                    text.append(f"Lỗi: {ran.error}")
                return Outcome(ran.exit_code, tuple(text))
            if job.command == "report":
                report(settings, open_ports(settings, read_only=True), now,
                       ReportRequest(job.period or "auto", job.issued, job.as_of, job.send), sender, lines)
            elif job.command == "remind":
                remind(settings, open_ports(settings, read_only=True), now, RemindRequest(job.as_of, job.send), sender,
                       lines)
            else:
                raise ValueError(f"unknown job {job.command!r}")
            return Outcome(0, tuple(line.text for line in lines.all()))
    except Exception as exc:
        code, said = failure(exc, debug=bool(os.environ.get("CCHC_DEBUG")))
        return Outcome(code, tuple(line.text for line in lines.all()) + tuple(said))


def reloader(settings: Settings) -> Callable[[], Settings]:
    """The settings as cron would read them for each command: from their file again (a change is taken up at the
    next action), or these when they came from no file."""
    from sync.core.config import load_settings
    source = settings.source
    return (lambda: load_settings(str(source))) if source is not None else (lambda: settings)


def plan_year(settings: Settings) -> int:
    """The year of the configured plan: the daemon's timetable sends that year's reports."""
    return open_plan(settings).year


def reload(load: Callable[[], Settings]) -> tuple[Settings, int] | None:
    """The config and its plan's year as they are now, as cron reads them for each command (after the year's
    turn, a new plan, workbook and state file); None when either does not load: the action that needs them says
    what is wrong."""
    from sync.core.errors import SyncError
    try:
        settings = load()
        return settings, plan_year(settings)
    except SyncError:
        return None

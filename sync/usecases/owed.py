"""Which report is owed, and when the timetable sends it: decided here once, for `report --period auto` (a
person at the command line) and for the daemon's timetable alike, so that the two never disagree on a period.

A period is owed from the day after its cut-off (sync/core/periods.py: on the cut-off day itself units still
type). The timetable sends it on the first working day after that cut-off, and catches a missed day up for
`daemon.report_catch_up_days` more days; later than that the Office sends it by hand. Nothing is owed before
the plan year's first cut-off, and nothing after its last report went: next year's plan is needed then.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from sync.core import periods
from sync.core.config import Settings
from sync.core.periods import Period

if TYPE_CHECKING:
    from sync.core.deadlines import WorkCalendar
    from sync.state.identity import Witness
    from sync.state.store import State


class Ask(Enum):
    """Whose sending of the owed report to look up in the ledger and the witness beside the report."""

    ALWAYS = "always"  # the timetable: a report every recipient has is owed no more
    FINAL = "final"  # a person's `report --send`: only the plan year's last report (an earlier one goes on)
    NEVER = "never"  # a preview: who has it does not matter


@dataclass(frozen=True)
class Owed:
    """The report owed on a day, and what the timetable does about it."""

    period: Period | None  # the last period of the plan's year whose cut-off is past; None: none yet
    first: Period  # the plan year's first period (what is said before its cut-off)
    final: bool  # `period` is the plan year's last: once it went, next year's plan is needed
    sent: bool  # every recipient of mail.report_to has it (False when not asked)
    due: dt.date | None = None  # with a timetable: the first working day after its cut-off, when it is sent
    until: dt.date | None = None  # with a timetable: the last day it is still sent by itself

    def to_send(self, day: dt.date) -> Period | None:
        """The period the timetable sends on `day`: owed, not sent yet, and within its days."""
        if self.period is None or self.sent or self.due is None or self.until is None:
            return None
        return self.period if self.due <= day <= self.until else None

    @property
    def year_done(self) -> bool:
        """The plan year's last report went: no report is owed until next year's plan is in the config."""
        return self.final and self.sent


@dataclass(frozen=True)
class Timetable:
    """The Office's working days and how long a missed report is caught up (the config's `daemon` keys). The
    daemon keeps the one it started with; a command reads the config's."""

    calendar: WorkCalendar
    catch_up_days: int

    @classmethod
    def of(cls, settings: Settings) -> Timetable:
        from sync.core.deadlines import WorkCalendar  # the law's holidays: only what keeps a timetable pays for them
        cfg = settings.daemon
        return cls(WorkCalendar(frozenset(cfg.extra_holidays), frozenset(cfg.extra_workdays)), cfg.report_catch_up_days)

    def report_days(self, period: Period, cutoff_day: int) -> tuple[dt.date, dt.date]:
        """The days `period`'s report is sent on: the first working day after its cut-off, and the
        `catch_up_days` after it."""
        due = self.calendar.first_working_day_after(period.cutoff(cutoff_day))
        return due, due + dt.timedelta(days=self.catch_up_days)


def report_owed(settings: Settings, plan_year: int, day: dt.date, state: State | None = None,
                ask: Ask = Ask.ALWAYS, timetable: Timetable | None = None) -> Owed:
    """The report owed on `day` by the plan of `plan_year` (the one `report --period auto` builds and the
    timetable sends), and who has it already when `ask` says to look (the ledger of `state`, by default the
    configured state file, and the witness beside the report). With the daemon's `timetable`, also the days it
    is sent on; a person's command sends whenever asked."""
    rs = settings.report
    period = periods.auto(day, plan_year, settings.deadlines.quarter_cutoff_day, rs.cycle, rs.third)
    first = periods.first(plan_year, rs.cycle, rs.third)
    if period is None:
        return Owed(None, first, False, False)
    final = period == periods.last(plan_year, rs.cycle, rs.third)
    sent = (ask is Ask.ALWAYS or (ask is Ask.FINAL and final)) and all_sent(settings, period, state)
    if timetable is None:
        return Owed(period, first, final, sent)
    due, until = timetable.report_days(period, settings.deadlines.quarter_cutoff_day)
    return Owed(period, first, final, sent, due, until)


def all_sent(settings: Settings, period: Period, state: State | None = None) -> bool:
    """Every configured recipient has `period`'s report, by the send ledger or the witness beside the report."""
    from sync.state.store import State
    return report_all_sent(settings, state or State(settings.state), period)


def next_report(settings: Settings, plan_year: int, now: dt.datetime, at: dt.time,
                timetable: Timetable | None = None) -> tuple[Period, dt.datetime] | None:
    """The next report the timetable would send after `now` (at `at` on a working day), and when: the periods
    of the plan's cycle, each on its days (report_days) unless already sent; None when none is left."""
    timetable = timetable or Timetable.of(settings)
    rs = settings.report
    for period in periods.cycle(plan_year, rs.cycle, rs.third):
        due, until = timetable.report_days(period, settings.deadlines.quarter_cutoff_day)
        first = dt.datetime.combine(due, at, tzinfo=now.tzinfo)
        when = first if first >= now else next_working(timetable.calendar, now, at)
        if when.date() > until or all_sent(settings, period):
            continue
        return period, when
    return None


def next_working(calendar: WorkCalendar, now: dt.datetime, at: dt.time, weekday: int | None = None) -> dt.datetime:
    """The next moment at `at` on a working day (of `weekday`, when given), today included while `at` is to come."""
    day = now.date() if now.time() <= at else now.date() + dt.timedelta(days=1)
    while not calendar.is_working_day(day) or (weekday is not None and day.weekday() != weekday):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, at, tzinfo=now.tzinfo)


def cutoff_days(settings: Settings, plan_year: int) -> set[dt.date]:
    """The cut-off days of the plan year's reporting periods: each gets a pass at `work_end`, whatever day of
    the week it is (a period's figures are those of the end of its cut-off day)."""
    cutoff_day, rs = settings.deadlines.quarter_cutoff_day, settings.report
    return {p.cutoff(cutoff_day) for p in periods.cycle(plan_year, rs.cycle, rs.third)}


def report_witness(settings: Settings, period: Period) -> Witness:
    """The witness beside the period's report file (sync.state.identity.Witness)."""
    from sync.reports.build import report_path
    from sync.state.identity import Witness
    return Witness(report_path(settings, period), period.key)


def report_received_by(settings: Settings, state: State, period: Period) -> set[str]:
    """Who has the period's report (lower case), by the send ledger or by the witness beside the report:
    the one answer to "already sent?" for the CLI and the daemon."""
    have = {r.lower() for r in state.sent_to("report", period.key)}
    return have | set(report_witness(settings, period).sent())


def report_all_sent(settings: Settings, state: State, period: Period) -> bool:
    """Every configured recipient has the period's report."""
    wanted = {r.lower() for r in settings.mail.report_to}
    return bool(wanted) and wanted <= report_received_by(settings, state, period)

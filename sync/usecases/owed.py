"""Which report is owed, when the timetable sends it, and to whom: decided here once, for `report --period auto` (a
person at the command line) and for the daemon's timetable alike, so that the two never disagree on a period.

A period is owed from the day after its cut-off (sync/core/periods.py: on the cut-off day itself units still
type). The timetable sends it on the first working day after that cut-off, and catches a missed day up for
`daemon.report_catch_up_days` more days; later than that the Office sends it by hand. Nothing is owed before
the plan year's first cut-off, and nothing after its last report went: next year's plan is needed then.

A period's report goes once per recipient. Two records say who has a report: the send ledger in the state file and the
witness beside the report file (sync/state/store.py). A state file lost or replaced forgets its ledger; the witness
does not, so a recipient it lists is never sent the report again without `--force`. Who a sending goes to is settled
before anything is built, so that a refusal leaves the files as they were.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from sync.core import periods
from sync.core.config import Settings
from sync.core.errors import UserError
from sync.core.periods import Period
from sync.core.schema import bare_address
from sync.usecases.common import SenderFactory

if TYPE_CHECKING:
    from sync.core.deadlines import WorkCalendar
    from sync.reports.build import Figures
    from sync.reports.content import Report
    from sync.state.store import State, Witness


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
    """The witness beside the period's report file (sync.state.store.Witness)."""
    from sync.reports.build import report_path
    from sync.state.store import Witness
    return Witness(report_path(settings, period), period.key)


def report_received_by(settings: Settings, state: State, period: Period) -> set[str]:
    """Who has the period's report (lower case), by the send ledger or by the witness beside the report:
    the one answer to "already sent?" for the CLI and the daemon."""
    have = {bare_address(r) for r in state.sent_to("report", period.key)}
    return have | {bare_address(r) for r in report_witness(settings, period).sent()}


def report_all_sent(settings: Settings, state: State, period: Period) -> bool:
    """Every configured recipient has the period's report."""
    wanted = {bare_address(r) for r in settings.mail.report_to}
    return bool(wanted) and wanted <= report_received_by(settings, state, period)


@dataclass(frozen=True)
class Recipients:
    """Who a report's sending goes to, after the witness beside the report has had its say."""

    to: list[str] | None  # None: everyone in mail.report_to (the ledger still skips who has it)
    lost: list[str]  # those the witness lists and the state file does not
    refused: bool  # everyone left has it already by the witness: nothing to send, say so (exit 2)


def report_recipients(report_to: list[str], ledger: list[str], lost: list[str], force: bool) -> Recipients:
    """The witness is per recipient: refuse only those it lists, send to the others. With `force`, everyone."""
    if not lost or force:
        return Recipients(None, lost, False)
    lost_set = {bare_address(r) for r in lost}
    to = [r for r in report_to if bare_address(r) not in lost_set]
    known = {bare_address(r) for r in ledger}
    return Recipients(to, lost, not any(bare_address(r) not in known for r in to))


def audience(settings: Settings, state: State, period: periods.Period, witness: Witness, force: bool,
             say: Callable[[str], None]) -> Recipients:
    """Who a sending of the period's report may go to: refused (exit 2) when all left have it by the witness."""
    from sync.mail.letters import NO_RECIPIENTS
    if not settings.mail.report_to:
        raise UserError(NO_RECIPIENTS)
    ledger = state.sent_to("report", period.key)
    recipients = report_recipients(settings.mail.report_to, ledger, witness.unknown_to(ledger), force)
    if recipients.refused:
        raise UserError(f"Báo cáo {period.name} đã gửi cho {', '.join(recipients.lost)} (ghi nhận tại "
                        f"'{witness.path}') nhưng tệp trạng thái '{settings.state}' không ghi lần gửi đó (tệp bị xóa "
                        "hoặc thay?). Không gửi lại để tránh gửi trùng; nếu thật sự cần gửi lại, chạy lại với --force.")
    if recipients.to is not None:
        say(f"Không gửi lại cho {', '.join(recipients.lost)}: tệp ghi nhận '{witness.path}' cho biết họ đã nhận báo "
            f"cáo {period.name} (tệp trạng thái '{settings.state}' không ghi lần gửi đó). Chỉ gửi cho người nhận chưa "
            "có trong tệp ghi nhận; dùng --force nếu thật sự cần gửi lại cho mọi người.")
    return recipients


def deliver(settings: Settings, state: State, figures: Figures | Report, files: list[Path], now: dt.datetime,
            force: bool, witness: Witness, recipients: Recipients, sender: SenderFactory | None,
            say: Callable[[str], None]) -> int:
    """Send to `recipients` (sync.mail.letters.mail_report: the letters and the ledger); the number sent."""
    from sync.mail.letters import mail_report as send
    return send(settings, state, figures, files, now, force, say, witness, recipients.to,
                sender=sender(settings.mail) if sender else None)

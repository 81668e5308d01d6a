"""The long-running job: a timetable (package `schedule`) around the same commands cron would run.

* a pass at start and then every `daemon.every_minutes`, on working days between `work_start` and
  `work_end`; and one at `work_end` of every period's cut-off day, whatever day of the week it is;
* `report --send` on the first working day after each period's cut-off (Quý I, 6 tháng, Quý III, năm:
  sync/core/periods.py), at `report_at`; a day missed
  (machine off, mail server down) is caught up on the following working days, for up to
  `report_catch_up_days` — later than that the Office sends it by hand, so a daemon started in
  September does not surprise anyone with the June report;
* `remind --send` weekly on `remind_weekday` at `remind_at` (skipped on a holiday).

Each action calls the same use case as its command (sync.usecases.jobs.perform), so the job lock, the state
file and the send ledger work exactly as from cron; the daemon never goes through the command line. A
failing action is logged and the loop goes on; SIGTERM/SIGINT stop it between actions. `schedule` reads the
process's local clock, so the daemon sets TZ to the configured zone at start; tests drive the same loop
with a fake clock instead of sleeping.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections.abc import Callable

import schedule

from sync.core.config import Settings
from sync.core.workdays import WorkCalendar
from sync.state.store import State
from sync.usecases.jobs import Job, Outcome, perform, reloader

log = logging.getLogger("cchc.daemon")

Runner = Callable[[Job], Outcome]
WEEKDAYS = {"monday": "thứ Hai", "tuesday": "thứ Ba", "wednesday": "thứ Tư", "thursday": "thứ Năm",
            "friday": "thứ Sáu"}


class Daemon:
    def __init__(self, settings: Settings, plan_year: int, clock: Callable[[], dt.datetime],
                 runner: Runner | None = None):
        self.settings = settings
        self.cfg = settings.daemon
        self.plan_year = plan_year
        self.clock = clock
        load = reloader(settings)
        self._load = load
        self.runner: Runner = runner or (lambda job: perform(load, job, clock))
        self.calendar = WorkCalendar(frozenset(self.cfg.extra_holidays), frozenset(self.cfg.extra_workdays))
        self.scheduler = schedule.Scheduler()
        self.stopping = threading.Event()
        self.actions: list[tuple[str, int]] = []  # (action, exit code): what ran, for tests and the last log line
        self.scheduler.every(self.cfg.every_minutes).minutes.do(self._guarded, "run", self.sync_pass)
        self.scheduler.every().day.at(self.cfg.work_end.strftime("%H:%M")).do(self._guarded, "run", self.cutoff_pass)
        self.scheduler.every().day.at(self.cfg.report_at.strftime("%H:%M")).do(self._guarded, "report", self.report)
        weekly = getattr(self.scheduler.every(), self.cfg.remind_weekday)
        weekly.at(self.cfg.remind_at.strftime("%H:%M")).do(self._guarded, "remind", self.remind)

    # --- the actions -----------------------------------------------------------------------------------

    def working_now(self) -> bool:
        now = self.clock()
        return self.calendar.is_working_day(now.date()) and self.cfg.work_start <= now.time() <= self.cfg.work_end

    def sync_pass(self) -> str | None:
        if not self.working_now():
            return None
        return self._command(Job("run", as_of=self.clock().date()))

    def cutoff_pass(self) -> str | None:
        """A pass at `work_end` of every cut-off day, weekend or holiday (docs/operations.md): a period's figures are
        those of the end of its cut-off day, and units type on a Saturday 14/09 too."""
        today = self.clock().date()
        if today not in self.cutoff_days():
            return None
        return self._command(Job("run", as_of=today))

    def cutoff_days(self) -> set[dt.date]:
        """The cut-off days of the plan year's reporting periods (sync.core.periods)."""
        from sync.core import periods
        cutoff_day, rs = self.settings.deadlines.quarter_cutoff_day, self.settings.report
        return {p.cutoff(cutoff_day) for p in periods.cycle(self.plan_year, rs.cycle, rs.third)}

    def report(self) -> str | None:
        """The period `auto` names today, on the first working day after its cut-off (or a few days later
        when that day was missed). Never a period outside the plan's year; nothing after the annual report."""
        from sync.core import periods
        from sync.usecases.notify import report_all_sent
        today = self.clock().date()
        if not self.calendar.is_working_day(today):
            return None
        self.refresh()
        cutoff_day, rs = self.settings.deadlines.quarter_cutoff_day, self.settings.report
        period = periods.auto(today, self.plan_year, cutoff_day, rs.cycle, rs.third)
        if period is None:
            return None  # before the plan year's first cut-off: no report owed yet
        if report_all_sent(self.settings, State(self.settings.state), period):
            if period == periods.last(self.plan_year, rs.cycle, rs.third):
                log.info("report: báo cáo %s đã gửi; cần kế hoạch năm %d (python -m sync plan import).",
                         period.name, self.plan_year + 1)
            return None
        due = self.calendar.first_working_day_after(period.cutoff(cutoff_day))
        if not due <= today <= due + dt.timedelta(days=self.cfg.report_catch_up_days):
            log.warning("report: báo cáo %s chưa gửi hết nhưng đã quá hạn gửi tự động (%s + %d ngày); gửi bằng "
                        "tay: python -m sync report --period %s --send", period.name, due.strftime("%d/%m/%Y"),
                        self.cfg.report_catch_up_days, period.key)
            return None
        return self._command(Job("report", period=period.key, send=True, issued=today))

    def refresh(self) -> None:
        """The config and the plan as they are now, as cron reads them for each command: after the year's turn
        (a new plan, workbook and state file in the config) the new year's reports are the ones looked for,
        without a restart. A config that does not load keeps the last good one; the action says what is wrong."""
        from sync.core.errors import SyncError
        from sync.core.plan import load_plan
        try:
            settings = self._load()
            year = load_plan(settings.plan_path()).year
        except SyncError:
            return
        self.settings, self.plan_year = settings, year

    def remind(self) -> str | None:
        if not self.calendar.is_working_day(self.clock().date()):
            log.info("remind: hôm nay là ngày nghỉ (%s); bỏ qua tuần này.",
                     self.calendar.holiday_name(self.clock().date()) or "cuối tuần")
            return None
        return self._command(Job("remind", send=True, as_of=self.clock().date()))

    def _command(self, job: Job) -> str:
        outcome = self.runner(job)
        code = outcome.exit_code
        self.actions.append((job.command, code))
        lines = [line.strip() for said in outcome.lines for line in said.splitlines() if line.strip()]
        last = lines[-1] if lines else ""
        # every line the command said: its figures (rows, overdue, errors), the reports and reminders sent
        (log.info if code == 0 else log.error)("%s → %s (mã %d): %s", " ".join(job.argv()),
                                               "xong" if code == 0 else "thất bại", code,
                                               " | ".join(lines) or "(không có thông báo)")
        return last

    def _guarded(self, name: str, action: Callable[[], str | None]) -> None:
        """A failing action must not end the loop: log it and wait for the next turn."""
        if self.stopping.is_set():
            return
        try:
            action()
        except Exception as exc:
            self.actions.append((name, 1))
            log.exception("%s thất bại: %r; tiếp tục chờ lượt sau.", name, exc)

    # --- what comes next (for the start-up log line) -----------------------------------------------------

    def next_actions(self) -> str:
        """When the daemon will next make a pass, send a report and send reminders, in words."""
        now = self.clock()
        self.refresh()
        try:
            report = self._next_report(now)
        except Exception as exc:
            report = f"chưa biết ({exc})"
        return f"lượt kiểm tra {self._next_pass(now)}; báo cáo {report}; nhắc việc {self._next_remind(now)}"

    def _next_working(self, now: dt.datetime, at: dt.time, weekday: int | None = None) -> dt.datetime:
        day = now.date() if now.time() <= at else now.date() + dt.timedelta(days=1)
        while not self.calendar.is_working_day(day) or (weekday is not None and day.weekday() != weekday):
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, at, tzinfo=now.tzinfo)

    def _next_pass(self, now: dt.datetime) -> str:
        if self.working_now():
            return f"ngay bây giờ, rồi mỗi {self.cfg.every_minutes} phút"
        return f"từ {_when(self._next_working(now, self.cfg.work_start))}"

    def _next_report(self, now: dt.datetime) -> str:
        """The next report the loop would send: the periods of the plan's cycle (sync.core.periods), each from the
        first working day after its cut-off for `report_catch_up_days`, unless already sent."""
        from sync.core import periods
        cutoff_day, rs, at = self.settings.deadlines.quarter_cutoff_day, self.settings.report, self.cfg.report_at
        for period in periods.cycle(self.plan_year, rs.cycle, rs.third):
            cutoff = period.cutoff(cutoff_day)
            due = self.calendar.first_working_day_after(cutoff)
            last = due + dt.timedelta(days=self.cfg.report_catch_up_days)
            first = dt.datetime.combine(due, at, tzinfo=now.tzinfo)
            when = first if first >= now else self._next_working(now, at)
            if when.date() > last or self._report_sent(period):
                continue
            return f"{_when(when)} (sau ngày chốt số liệu {cutoff:%d/%m/%Y})"
        return f"không có (các kỳ báo cáo của kế hoạch năm {self.plan_year} đã gửi hoặc đã quá hạn gửi tự động)"

    def _report_sent(self, period) -> bool:
        from sync.usecases.notify import report_all_sent
        return report_all_sent(self.settings, State(self.settings.state), period)

    def _next_remind(self, now: dt.datetime) -> str:
        weekday = list(WEEKDAYS).index(self.cfg.remind_weekday)
        return _when(self._next_working(now, self.cfg.remind_at, weekday))

    # --- the loop -------------------------------------------------------------------------------------

    def tick(self) -> None:
        self.scheduler.run_pending()

    def serve(self, sleep: Callable[[float], bool] | None = None) -> None:
        """Run until stopped; `sleep` returns True when woken by a stop request."""
        sleep = sleep or self.stopping.wait
        log.info("Bắt đầu: lượt kiểm tra mỗi %d phút (%s–%s ngày làm việc), báo cáo lúc %s, nhắc việc %s lúc %s.",
                 self.cfg.every_minutes, self.cfg.work_start.strftime("%H:%M"), self.cfg.work_end.strftime("%H:%M"),
                 self.cfg.report_at.strftime("%H:%M"), WEEKDAYS[self.cfg.remind_weekday],
                 self.cfg.remind_at.strftime("%H:%M"))
        log.info("Lịch tới: %s.", self.next_actions())
        self._guarded("run", self.sync_pass)  # a pass now, if in working hours, not an interval from now
        while not self.stopping.is_set():
            self.tick()
            idle = self.scheduler.idle_seconds
            if sleep(min(max(idle if idle is not None else 60, 1), 60)):
                break
        log.info("Đã dừng.")

    def stop(self, signum=None, _frame=None) -> None:
        if signum is not None:
            log.info("Nhận tín hiệu %s; dừng sau việc đang làm.", signal.Signals(signum).name)
        self.stopping.set()


def _when(moment: dt.datetime) -> str:
    return f"{moment:%H:%M} ngày {moment:%d/%m/%Y}"


def use_zone(zone: str) -> None:
    """`schedule` works in the process's local time: make that the Office's zone."""
    os.environ["TZ"] = zone
    time.tzset()


def main(settings: Settings, plan_year: int, clock: Callable[[], dt.datetime]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S")
    use_zone(settings.timezone)
    daemon = Daemon(settings, plan_year, clock)
    signal.signal(signal.SIGTERM, daemon.stop)
    signal.signal(signal.SIGINT, daemon.stop)
    daemon.serve()
    return 0

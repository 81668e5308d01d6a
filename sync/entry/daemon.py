"""The long-running job: a timetable (package `schedule`) around the same commands cron would run.

* a pass at start and then every `daemon.every_minutes`, on working days between `work_start` and
  `work_end`; and one at `work_end` of every period's cut-off day, whatever day of the week it is;
* `report --send` on the first working day after each period's cut-off (Quý I, 6 tháng, Quý III, năm:
  sync/core/periods.py), at `report_at`, for the period `report --period auto` names that day (both ask
  sync/usecases/owed.py); a day missed (machine off, mail server down) is caught up on the following working
  days, for up to `report_catch_up_days` — later than that the Office sends it by hand, so a daemon started
  in September does not surprise anyone with the June report;
* `remind --send` weekly on `remind_weekday` at `remind_at` (skipped on a holiday).

Each action calls the same use case as its command (`perform`, below), so the job lock, the state
file and the send ledger work exactly as from cron; the daemon never goes through the command line. A
failing action is logged and the loop goes on; SIGTERM/SIGINT stop it between actions. `schedule` reads the
process's local clock, so the daemon sets TZ to the configured zone at start; tests drive the same loop
with a fake clock instead of sleeping.

A command as the daemon runs it: settings loaded afresh, the use case called, a failure turned into its exit
code and message (tests/test_architecture.py checks the daemon imports no CLI), each action behaving exactly as
the command cron would run: the same job lock, state file and ledger, the same exit code and lines. `perform`
is that command without argparse; `reload` reads the config and the plan's year as cron would before each
command, so the year's turn needs no restart.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

import schedule

from sync.core.config import Settings
from sync.usecases import owed
from sync.usecases.common import Lines, SenderFactory, failure, locked_if
from sync.usecases.owed import Timetable
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
                ran = run(settings, open_ports(settings), now, RunRequest(job.as_of), lines)
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
        self.timetable = Timetable.of(settings)  # the working days and catch-up of the config it started with
        self.calendar = self.timetable.calendar
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
        """The cut-off days of the plan year's reporting periods (sync.usecases.owed.cutoff_days)."""
        return owed.cutoff_days(self.settings, self.plan_year)

    def report(self) -> str | None:
        """The report owed today (sync.usecases.owed, the same answer as `report --period auto`), on the first
        working day after its cut-off (or a few days later when that day was missed). Never a period outside the
        plan's year; nothing after the annual report."""
        today = self.clock().date()
        if not self.calendar.is_working_day(today):
            return None
        self.refresh()
        found = owed.report_owed(self.settings, self.plan_year, today, timetable=self.timetable)
        if found.period is None:
            return None  # before the plan year's first cut-off: no report owed yet
        period = found.to_send(today)
        if found.year_done:
            log.info("report: báo cáo %s đã gửi; cần kế hoạch năm %d (python -m sync plan import).",
                     found.period.name, self.plan_year + 1)
        elif period is None and not found.sent and found.due is not None:
            log.warning("report: báo cáo %s chưa gửi hết nhưng đã quá hạn gửi tự động (%s + %d ngày); gửi bằng "
                        "tay: python -m sync report --period %s --send", found.period.name,
                        found.due.strftime("%d/%m/%Y"), self.timetable.catch_up_days, found.period.key)
        if period is None:
            return None
        return self._command(Job("report", period=period.key, send=True, issued=today))

    def refresh(self) -> None:
        """The config and the plan as they are now, as cron reads them for each command: after the year's turn
        (a new plan, workbook and state file in the config) the new year's reports are the ones looked for,
        without a restart. A config that does not load keeps the last good one; the action says what is wrong."""
        current = reload(self._load)
        if current is not None:
            self.settings, self.plan_year = current

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

    def _next_pass(self, now: dt.datetime) -> str:
        if self.working_now():
            return f"ngay bây giờ, rồi mỗi {self.cfg.every_minutes} phút"
        return f"từ {_when(owed.next_working(self.calendar, now, self.cfg.work_start))}"

    def _next_report(self, now: dt.datetime) -> str:
        """The next report the loop would send (sync.usecases.owed.next_report)."""
        found = owed.next_report(self.settings, self.plan_year, now, self.cfg.report_at, self.timetable)
        if found is None:
            return f"không có (các kỳ báo cáo của kế hoạch năm {self.plan_year} đã gửi hoặc đã quá hạn gửi tự động)"
        period, when = found
        cutoff = period.cutoff(self.settings.deadlines.quarter_cutoff_day)
        return f"{_when(when)} (sau ngày chốt số liệu {cutoff:%d/%m/%Y})"

    def _next_remind(self, now: dt.datetime) -> str:
        weekday = list(WEEKDAYS).index(self.cfg.remind_weekday)
        return _when(owed.next_working(self.calendar, now, self.cfg.remind_at, weekday))

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

    def stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info("Nhận tín hiệu %s; dừng sau việc đang làm.", signal.Signals(signum).name)
        self.stopping.set()


def _when(moment: dt.datetime) -> str:
    return f"{moment:%H:%M} ngày {moment:%d/%m/%Y}"


def use_zone(zone: str) -> None:
    """`schedule` works in the process's local time: make that the Office's zone."""
    os.environ["TZ"] = zone
    time.tzset()


def serve(settings: Settings) -> int:
    """`python -m sync daemon`: runs until SIGTERM or Ctrl-C, on the configured plan's year and the settings'
    time zone."""
    from sync.usecases.common import now_in
    return main(settings, plan_year(settings), lambda: now_in(settings))


def main(settings: Settings, plan_year: int, clock: Callable[[], dt.datetime]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S")
    use_zone(settings.timezone)
    daemon = Daemon(settings, plan_year, clock)
    signal.signal(signal.SIGTERM, daemon.stop)
    signal.signal(signal.SIGINT, daemon.stop)
    daemon.serve()
    return 0

"""The use cases (DESIGN.md §5): init, run, report (build and send), remind, status, history, restore, export
and plan import, one function each.

Each takes the settings and its ports (the workbook backend, the state file, the plan, the time `now`, the
mail sender's factory) and returns a frozen result holding its figures and its Vietnamese message lines.
No printing and no argparse here: sync/entry/cli.py parses, opens the ports, calls one use case and prints its
result; sync/entry/daemon.py calls the same functions on its timetable. Messages a use case says while it works go
to a `Lines` (kept for the result, and echoed as they come by whoever wants them live: the CLI prints them,
so a failure after a report was built still shows what was done).

The dependency direction is core ← services ← entry points (tests/test_architecture.py checks it).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sync.core import history, periods
from sync.core.config import MailSettings, Settings
from sync.core.errors import Busy, StaleSnapshot, SyncError, Unreachable, UserError, bug_text
from sync.core.history import HISTORY_KEYS, RESTORABLE_KEYS
from sync.core.plan import Plan
from sync.core.schema import Layout
from sync.core.workbook import Backend, Cell, Snapshot, WriteSet

if TYPE_CHECKING:
    from sync.core.summary import RowResult, Summary
    from sync.core.tasks import TaskState
    from sync.core.trends import TrendRow
    from sync.mail.delivery import Sender
    from sync.reports.content import Report
    from sync.state.history import HistoryStore
    from sync.state.store import State
    from sync.state.witness import Witness
    from sync.usecases.report_build import Figures

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.
LOCKED = frozenset({"init", "run", "report", "remind", "restore"})

#: Opens the mail sender for the mail settings; None in a use case: the configured one (notify.open_sender).
SenderFactory = Callable[[MailSettings], "Sender"]


# --- messages ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One message: on the main channel (stdout; stderr beside --json), or a warning (always stderr)."""

    text: str
    warning: bool = False


class Lines:
    """Where a use case's messages go, in order; `echo` sees each one as it is said."""

    def __init__(self, echo: Callable[[Line], None] | None = None):
        self._lines: list[Line] = []
        self._echo = echo

    def _add(self, line: Line) -> None:
        self._lines.append(line)
        if self._echo is not None:
            self._echo(line)

    def say(self, text: str) -> None:
        self._add(Line(text))

    def warn(self, text: str) -> None:
        self._add(Line(text, warning=True))

    def all(self) -> tuple[Line, ...]:
        return tuple(self._lines)


# --- the clock, the lock, the ports, a failure -------------------------------------------------------------

def now_in(settings: Settings | None) -> dt.datetime:
    tz = ZoneInfo(settings.timezone if settings else "Asia/Ho_Chi_Minh")
    return dt.datetime.now(tz).replace(microsecond=0)


@contextmanager
def job_lock(settings: Settings) -> Iterator[None]:
    """One pass, report or reminder run at a time per state file, whoever started it (cron, daemon, a person)."""
    from filelock import FileLock, Timeout
    path = Path(f"{settings.state}.lock")
    lock = FileLock(str(path), timeout=settings.lock_wait_s)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise Busy(f"Bỏ qua: một lượt khác vẫn đang chạy sau {settings.lock_wait_s:g} giây chờ (khóa '{path}'). "
                   "Nếu không có lượt nào đang chạy, kiểm tra tiến trình treo bằng 'python -m sync status'.") from None
    except OSError as exc:  # a read-only folder refuses the lock file: the state file's fix, exit 2
        from sync.state.faults import lock_error
        raise lock_error(exc, path, settings.state) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def locked_if(settings: Settings, command: str) -> Iterator[None]:
    """The job lock when `command` is one of LOCKED, else nothing."""
    if command not in LOCKED:
        yield
        return
    with job_lock(settings):
        yield


def failure(exc: BaseException, debug: bool = False) -> tuple[int, list[str]]:
    """The exit code and the message lines of a use case that raised: the same for the CLI and the daemon."""
    if isinstance(exc, Busy):
        return exc.exit_code, [str(exc)]
    if isinstance(exc, SyncError):
        return exc.exit_code, [f"Lỗi: {exc}"]
    lines = [f"Lỗi trong chương trình (xin báo cho người phát triển): {bug_text(exc)}"]
    if not debug:
        lines.append("Chạy lại với biến môi trường CCHC_DEBUG=1 để xem chi tiết.")
    return 1, lines


@dataclass(frozen=True)
class Ports:
    """What a use case works on: the plan, the workbook and the state file of the settings."""

    plan: Plan
    backend: Backend
    state: State


def open_ports(settings: Settings) -> Ports:
    from sync.backends import open_backend
    from sync.core.plan import load_plan
    from sync.state.store import State
    plan = load_plan(settings.plan_path())
    return Ports(plan, open_backend(settings, rows_hint=len(plan.assignments())), State(settings.state))


def _record_failure(state: State, command: str, started: dt.datetime, row: int | None, summary: dict[str, Any],
                    exc: Exception) -> None:
    """A failed pass is recorded with its message, for `status` (unless the state file itself failed)."""
    from sync.state.faults import StateFileBusy, StateFileError
    if isinstance(exc, (StateFileError, StateFileBusy)):
        return
    message = str(exc) if isinstance(exc, SyncError) else f"Lỗi trong chương trình: {bug_text(exc)}"
    state.record_pass(command, started, False, summary, message, started_row=row)


# --- the state file's checks at the start of every command ------------------------------------------------

@dataclass(frozen=True)
class StateGuard:
    """What a use case learnt of its state file before touching anything: it is whole (and writable when the
    command writes), it belongs to the configuration's workbook and plan, and whether it knows nothing (new,
    empty or 0 bytes), in which case the workbook's `Nhật ký` must hold no pass (sync/state/identity.py)."""

    state: State
    identity: dict[str, str]
    fresh: bool
    accept_new: bool  # --new-state: a state file that knows nothing is taken as this workbook's new one

    def witness(self, snapshot: Snapshot, layout: Layout, where: str) -> None:
        """Refuse (exit 2) a state file that knows nothing of a workbook whose `Nhật ký` holds passes."""
        from sync.state.identity import witness
        if self.fresh and not self.accept_new:
            witness(snapshot, layout, self.state.path, where)

    def adopt(self) -> None:
        """Record the workbook and plan in the state file (once; the check above has compared them)."""
        self.state.adopt(self.identity)


def state_identity(settings: Settings, plan: Plan) -> dict[str, str]:
    """The workbook and plan of the configuration, as a state file records them."""
    from sync.state.identity import PLAN, WORKBOOK, plan_of, workbook_of
    return {WORKBOOK: workbook_of(settings.backend, settings.google.spreadsheet_id, settings.local.path,
                                  settings.state),
            PLAN: plan_of(plan.number, plan.year)}


def guard_state(settings: Settings, state: State, plan: Plan, write: bool, accept_new: bool = False,
                checked: bool = False) -> StateGuard:
    """Every command's first step, as `run`'s: the state file damaged, truncated, unreadable, read-only (when
    the command writes) or on a failing disk stops it (exit 2 or 3) before any workbook cell, mail or ledger
    is touched; so does a state file of another workbook or plan (`checked`: the file's own checks were just
    made, by begin_pass)."""
    from sync.state.identity import check
    if not checked:
        state.check(write=write, accept_new=accept_new)
    current = state_identity(settings, plan)
    check(state.identity(), current, state.path)
    return StateGuard(state, current, write and state.knows_nothing(), accept_new)


# --- init ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InitResult:
    skipped: bool
    cells_written: int
    new_tabs: tuple[str, ...]
    lines: tuple[Line, ...]


def init(settings: Settings, ports: Ports, now: dt.datetime, if_missing: bool = False,
         lines: Lines | None = None, accept_new: bool = False) -> InitResult:
    from sync.core.merges import message, withhold
    from sync.sheet.aids import Aids
    from sync.sheet.layout import build_init
    lines = lines or Lines()
    plan, backend, state = ports.plan, ports.backend, ports.state
    guard = guard_state(settings, state, plan, write=True, accept_new=accept_new)
    snapshot = backend.read() if backend.exists() else backend.empty_snapshot()
    guard.witness(snapshot, settings.layout, backend.describe())
    tracking = settings.layout.tabs["tracking"]
    if if_missing and snapshot.find_tab(tracking) is not None:
        lines.say(f"{backend.describe()} đã có tab '{tracking}'; bỏ qua khởi tạo.")
        return InitResult(True, 0, (), lines.all())
    changes = build_init(plan, snapshot, settings.layout, backend.describe(), Aids.from_settings(settings))
    withheld = withhold(changes, snapshot)  # cells a merged range hides cannot take a header or a new row
    row = state.begin_pass("init", now, accept_new)  # the state file takes the record before the workbook is written
    try:
        try:
            backend.write(snapshot, changes)
        except StaleSnapshot as exc:  # the workbook moved under us: nothing written, try again (exit 3)
            raise Unreachable(f"Chưa ghi: {exc}. Chạy lại 'python -m sync init'.") from None
    except Exception as exc:
        _record_failure(state, "init", now, row, {"backend": backend.name}, exc)
        raise
    for note in getattr(backend, "notes", ()):
        lines.warn(note)
    if withheld:
        lines.warn(message(withheld))
    added = changes.cell_count()
    laid_out = after(snapshot, changes)
    with recorded_after_write("init", backend.describe(), settings.layout):
        guard.adopt()
        day = init_date(state, plan, laid_out, settings.layout, now.date())
        state.record_pass("init", now, True, {"backend": backend.name, "cells_written": added,
                                              "as_of": (day or now.date()).isoformat()},
                          then=recorder(state, day, laid_out, plan, settings.layout, backend.describe())
                          if day else None,
                          started_row=row)
    tabs = ", ".join(f"'{t}'" for t in changes.new_tabs)
    lines.say(f"Đã khởi tạo {backend.describe()}: "
              + (f"tạo tab {tabs}; " if tabs else "")
              + (f"ghi {added} ô mới (tiêu đề, nhiệm vụ, dòng theo dõi)." if added else "không có gì mới cần thêm.")
              + " Định dạng, danh sách chọn và tô màu đã được cập nhật.")
    return InitResult(False, added, tuple(changes.new_tabs), lines.all())


@contextmanager
def recorded_after_write(command: str, where: str, layout: Layout, pass_id: str = "") -> Iterator[None]:
    """A state file that fails once the workbook was written (a disk filling, a file damaged meanwhile): the
    message says exactly that the workbook was written, that nothing needs to run again for it, and what
    `status` shows, instead of a bare "chạy lại" that reads as if nothing had happened."""
    from sync.state.faults import StateFileBusy, StateFileError
    try:
        yield
    except (StateFileError, StateFileBusy) as exc:
        line = f" và dòng mã {pass_id} trong tab '{layout.tabs['log']}'" if pass_id else ""
        raise type(exc)(
            f"Lệnh '{command}' đã ghi xong vào {where}{line}, nhưng tệp trạng thái không ghi nhận được lần ghi đó: "
            f"{exc} Bảng tính đã đúng, không cần chạy lại để sửa nó. Cho tới lượt chạy ghi được tiếp theo, "
            f"'python -m sync status' hiện lệnh này là 'DỞ' (chưa xong); những gì các đơn vị đã nhập được ghi vào "
            "lịch sử ở lượt chạy đó, khi tệp trạng thái đã được sửa.") from exc


# --- run -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunResult:
    summary: dict[str, Any]  # the JSON summary (DESIGN §5: its keys are a contract)
    text: tuple[str, ...]  # the figures in a sentence, for the text output (and the daemon's log)
    error: str | None  # computed but not written (the workbook is held): said as "Lỗi: …"
    exit_code: int
    lines: tuple[Line, ...]


def run(settings: Settings, state: State, now: dt.datetime, as_of: dt.date | None = None, dry_run: bool = False,
        lines: Lines | None = None, ports: Callable[[], Ports] | None = None, accept_new: bool = False) -> RunResult:
    """One pass. `ports` opens the plan and the workbook after the state file's own checks (a broken state file
    is named first); by default from the settings. `accept_new` (--new-state): a state file that knows nothing
    is taken as the workbook's new one even though `Nhật ký` holds passes."""
    from sync.core.products import sentence as products_sentence
    from sync.usecases.pipeline import PassOptions, run_pass
    lines = lines or Lines()
    if as_of and as_of > now.date() and not dry_run:  # a typo would stop history for years
        raise UserError(f"--as-of {as_of:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y}): một lượt "
                        "ghi vào bảng tính không được đề ngày tương lai. Kiểm tra lại ngày, hoặc thêm --dry-run để "
                        "chỉ tính thử.")
    # The state file takes this pass's record before anything else: broken, it stops the pass (exit 2)
    # before the workbook gains a log line; after this, every failure is recorded with its message.
    row = None if dry_run else state.begin_pass("run", now, accept_new)
    day = as_of or now.date()
    try:
        opened = (ports or (lambda: open_ports(settings)))()
        plan, backend = opened.plan, opened.backend
        guard = guard_state(settings, state, plan, write=not dry_run, accept_new=accept_new, checked=not dry_run)
        if as_of and not dry_run:  # after begin_pass: a broken state file is named as such first
            if refused := not_recorded(state, as_of):
                raise UserError(refused)
        source = None
        if dry_run:  # a past date, computed and not written: from history when it covers the date
            from sync.state.past import source_for
            source = source_for(settings.state, plan, day, now.date())
        # a dry run of a past date gives that date's figures, at its end (past.Source); a pass during today,
        # or a writing pass dated D, judges deadlines during the day
        opts = PassOptions.from_settings(settings, day, now, dry_run=dry_run, emails_sent=state.unlogged_sends(),
                                         trends=trends_for(state, settings, plan, save=not dry_run),
                                         witness=None if dry_run else (
                                             lambda read: guard.witness(read, settings.layout, backend.describe())),
                                         **(source.options() if source else {}))
        result = run_pass(backend, plan, settings.layout, opts)
    except Exception as exc:
        _record_failure(state, "run", now, row, {"backend": settings.backend, "as_of": day.isoformat(),
                                                 "dry_run": dry_run}, exc)
        raise
    summary: dict[str, Any] = {**result.to_json(backend, dry_run), "emails_sent": opts.emails_sent}
    if source is not None:
        summary["source"] = source.kind
        lines.say(source.sentence())
    held = result.held
    summary["written"] = not (dry_run or held)
    if held:  # computed, not written: the figures still go out, the exit code says "try later"
        summary["cells_written"] = 0
        summary["not_written_reason"] = str(held)
        state.record_pass("run", now, False, summary, str(held), started_row=row)
    elif not dry_run:
        read = result.snapshot
        assert read is not None  # a written pass keeps what it read
        with recorded_after_write("run", backend.describe(), settings.layout, result.pass_id):
            guard.adopt()
            record = recorder(state, opts.as_of, read, plan, settings.layout, backend.describe(),
                              at_day_end(result.summary, plan, settings))

            def then(db: sqlite3.Connection, pass_row: int) -> None:  # one transaction: the pass, its history,
                record(db, pass_row)                                    # the e-mails its line counted
                state.mark_logged(db)
            state.record_pass("run", now, True, summary, "\n".join(result.messages), then=then, started_row=row)
    for message in result.messages:
        lines.warn(message)
    k = result.summary.kpis
    prefix = "[Chạy thử, không ghi] " if dry_run else "[Chưa ghi] " if held else ""
    text = [f"{prefix}Tính đến {opts.as_of:%d/%m/%Y}: {k.rows} dòng, "
            f"{k.done} hoàn thành, {k.in_progress} đang thực hiện, {k.not_started} chưa thực hiện, "
            f"{k.cancelled} không thực hiện, {k.unknown_status} chưa rõ tình trạng"
            f"{f', {n} dòng ngoài kế hoạch hoặc trùng' if (n := k.not_counted) else ''}; "
            f"{k.overdue} quá hạn, {k.due_soon} sắp đến hạn, {k.missing_quarterly} kết quả quý còn thiếu, "
            f"{k.errors} lỗi nhập liệu."]
    if result.summary.products is not None:
        text.append(products_sentence(result.summary.products))
    if not (dry_run or held):
        text.append(f"Xem tab '{settings.layout.tabs['dashboard']}' trong {backend.describe()}.")
    return RunResult(summary, tuple(text), str(held) if held else None, held.exit_code if held else 0, lines.all())


# --- status ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusResult:
    last_good_pass: str | None
    age_hours: float | None
    stale: bool
    passes: list[dict[str, Any]] | None  # None: the state file could not be read
    sends: list[dict[str, Any]]
    unsent: int
    problem: Exception | None
    new_plan_needed: str | None
    text: tuple[str, ...]  # the text output (stdout)
    exit_code: int
    refused: tuple[str, ...] = ()  # recipients the mail server refused for good (the ledger's last answer)
    units_without_email: tuple[str, ...] = ()  # unit codes that can never get a reminder

    def to_json(self) -> dict[str, Any]:
        return {"last_good_pass": self.last_good_pass, "age_hours": self.age_hours, "stale": self.stale,
                "passes": self.passes, "sends": self.sends, "unsent": self.unsent,
                "problem": self.problem and str(self.problem), "new_plan_needed": self.new_plan_needed,
                "refused": list(self.refused), "units_without_email": list(self.units_without_email)}


def status(settings: Settings, state: State, now: dt.datetime) -> StatusResult:
    """Exit 4 when the last good pass is older than status.max_age_hours (or there is none): for monitors."""
    from sync.state.faults import StateFileBusy, StateFileError
    from sync.state.store import STARTED
    problem = state.problem()  # what would stop the next pass (damaged, read-only, foreign): said, exit 2
    passes: list[dict[str, Any]] | None
    sends: list[dict[str, Any]]
    last: dict[str, Any] | None
    try:
        if isinstance(problem, StateFileBusy):  # already waited the busy timeout once: do not wait it again
            raise problem
        passes, sends, last = state.passes(10), state.sends(10), state.last_good_pass()
    except (StateFileError, StateFileBusy, sqlite3.Error) as exc:
        if problem is None and not isinstance(exc, SyncError):
            raise
        passes, sends, last, problem = None, [], None, problem or exc
    age_h = None
    if last:
        try:
            age_h = (now - dt.datetime.fromisoformat(last["started_at"])).total_seconds() / 3600
        except (TypeError, ValueError):  # a pass row damaged in the state file: stale, and said
            problem = problem or StateFileError(
                f"Tệp trạng thái '{settings.state}': lượt chạy ghi thời điểm '{last['started_at']}' không đọc được "
                "(tệp bị sửa tay hoặc hỏng). Khôi phục tệp từ bản sao lưu, hoặc đổi tên nó để bắt đầu tệp mới.")
        if age_h is not None and age_h < -1:  # "in the future" (a clock that jumped): must not silence monitoring
            problem = problem or StateFileError(
                f"Tệp trạng thái '{settings.state}': lượt chạy tốt gần nhất ghi thời điểm {last['started_at']}, ở "
                f"sau hiện tại ({now:%d/%m/%Y %H:%M}). Kiểm tra đồng hồ của máy; không thể biết đã bao lâu không có "
                "lượt chạy tốt.")
            age_h = None
    stale = age_h is None or age_h > settings.status.max_age_hours
    unsent = [x for x in sends if x["status"] != "sent"]
    needed = _new_plan_needed(settings, now.date())
    out = ["Các lượt chạy gần nhất:" if passes else "Chưa có lượt chạy nào." if passes is not None
           else "Không đọc được các lượt chạy (xem lỗi tệp trạng thái bên dưới)."]
    for p in passes or ():
        first = (p["message"] or "").splitlines()[0] if p["message"] else ""
        if p["ok"] and p["command"] != "run":  # init, restore: what they wrote, not figures they never computed
            written = (json.loads(p["summary"] or "{}") or {}).get("cells_written")
            what = f"ghi {written} ô" if written else "không ghi ô nào" if written == 0 else ""
            out.append(f"  {p['started_at']}  {p['command']:<6} OK   {what}  {first}".rstrip())
        elif p["ok"]:
            out.append(f"  {p['started_at']}  {p['command']:<6} OK   tính đến {p['as_of'] or '-'}  {p['rows'] or 0} "
                       f"dòng, {p['errors'] or 0} lỗi, {p['overdue'] or 0} quá hạn  {first}".rstrip())
        else:  # a failed pass shows why, not figures it never had
            out.append(f"  {p['started_at']}  {p['command']:<6} {'DỞ ' if first == STARTED else 'LỖI'}  "
                       f"tính đến {p['as_of'] or '-'}  {first}".rstrip())
    if sends:
        out.append("Thư đã gửi gần nhất:")
        labels = {"sent": "ĐÃ GỬI", "failed": "LỖI", "sending": "ĐANG GỬI (bị ngắt?)"}
        for x in sends:
            kind = "báo cáo" if x["kind"] == "report" else "nhắc việc"
            out.append(f"  {x['sent_at'] or x['attempted_at']}  {kind} {x['period']} → {x['recipient']}: "
                       f"{labels.get(x['status'], x['status'])}{'  ' + x['error'] if x['error'] else ''}")
    if unsent:
        out.append(f"{len(unsent)} thư chưa gửi được; lần chạy sau sẽ gửi lại.")
    if last is None and passes is not None:
        out.append(f"Chưa có lượt chạy 'run' nào thành công (tệp trạng thái '{settings.state}').")
    elif last is not None and age_h is not None:
        out.append(f"Lượt chạy tốt gần nhất: {last['started_at']} ({age_h:.1f} giờ trước; "
                   f"ngưỡng cảnh báo {settings.status.max_age_hours:g} giờ).")
    if stale and passes is not None:
        out.append("CẢNH BÁO: đã quá lâu không có lượt chạy thành công; kiểm tra cron/daemon và 'Lỗi' ở trên.")
    if needed:
        out.append(needed)
    from sync.mail.delivery import REFUSED
    refused = [x for x in sends if x["status"] == "failed" and (x["error"] or "").startswith(REFUSED)]
    if refused:
        out.append("Địa chỉ bị máy chủ thư từ chối (sửa địa chỉ rồi gửi lại): "
                   + "; ".join(f"{x['recipient']} ({x['error'][len(REFUSED):].lstrip(': ')})" for x in refused) + ".")
    no_email = _units_without_email(settings)
    if no_email:
        from sync.usecases.notify import no_email_sentence
        out.append(no_email_sentence(no_email, settings))
    code = int(getattr(problem, "exit_code", 2)) if problem else 4 if stale else 0
    return StatusResult(last["started_at"] if last else None, age_h, stale, passes, sends, len(unsent), problem, needed,
                        tuple(out), code, tuple(x["recipient"] for x in refused), tuple(no_email))


def _units_without_email(settings: Settings) -> list[str]:
    from sync.core.plan import load_plan
    from sync.usecases.notify import units_without_email
    try:
        return units_without_email(load_plan(settings.plan_path()))
    except SyncError:
        return []  # the plan's own problem is reported by the commands that read it


def _new_plan_needed(settings: Settings, today: dt.date) -> str | None:
    """After the plan year's last cut-off no report is owed any more: say that next year's plan is needed."""
    from sync.core.plan import load_plan
    try:
        year = load_plan(settings.plan_path()).year
    except SyncError:
        return None  # the plan's own problem is reported by the commands that read it
    last = periods.last(year, settings.report.cycle, settings.report.third)
    if today <= last.cutoff(settings.deadlines.quarter_cutoff_day):
        return None
    return (f"Kế hoạch năm {year} đã qua kỳ báo cáo cuối ({last.name}); cần kế hoạch năm {year + 1}: "
            "python -m sync plan import <tệp kế hoạch .docx> -o <tệp .yaml>, rồi đặt khóa cấu hình 'plan'.")


# --- report ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRequest:
    period: str = "auto"  # a period's spelling (sync.core.periods.parse), or auto
    issued: dt.date | None = None  # --date; default today
    as_of: dt.date | None = None  # default: the period's cut-off
    send: bool = False
    force: bool = False
    pdf: bool = False
    new_state: bool = False  # --new-state: a state file that knows nothing is this workbook's new one


@dataclass(frozen=True)
class ReportResult:
    figures: dict[str, Any] | None  # the JSON output (DESIGN §5); None: no report owed (nothing done)
    emails_sent: int
    lines: tuple[Line, ...]


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
    lost_set = set(lost)
    to = [r for r in report_to if r.lower() not in lost_set]
    known = {r.lower() for r in ledger}
    return Recipients(to, lost, not any(r.lower() not in known for r in to))


def report(settings: Settings, ports: Ports, now: dt.datetime, request: ReportRequest,
           sender: SenderFactory | None = None, lines: Lines | None = None) -> ReportResult:
    """Build the period's report (never overwriting one already sent, unless forced) and send it once to each
    recipient."""
    from sync.reports.content import vn_date
    from sync.state.witness import Witness
    from sync.usecases import report_build as build
    from sync.usecases.notify import report_all_sent
    lines = lines or Lines()
    say = lines.say
    plan, state, rs = ports.plan, ports.state, settings.report
    # only a sending writes the state file (its ledger); any report reads it (the ledger, history's figures)
    guard = guard_state(settings, state, plan, write=request.send, accept_new=request.new_state)
    issued = request.issued or now.date()
    if issued > now.date():  # a mistyped year would send, once and for all, a report dated years ahead
        raise UserError(f"--date {issued:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y}): báo cáo không "
                        "được đề ngày ban hành sau hôm nay. Bỏ --date (mặc định là hôm nay) hoặc sửa lại ngày.")
    cutoff_day = settings.deadlines.quarter_cutoff_day
    if periods.is_auto(request.period):
        found = periods.auto(issued, plan.year, cutoff_day, rs.cycle, rs.third)
        if found is None:
            first = periods.first(plan.year, rs.cycle, rs.third)
            say(f"Chưa đến kỳ báo cáo nào của Kế hoạch năm {plan.year}: kỳ đầu tiên ({first.name}) chốt số liệu "
                f"ngày {first.cutoff(cutoff_day):%d/%m/%Y}.")
            return ReportResult(None, 0, lines.all())
        period = found
        if period == periods.last(plan.year, rs.cycle, rs.third) and request.send and not request.force \
                and report_all_sent(settings, state, period):
            say(f"Báo cáo {period.name} đã gửi; Kế hoạch năm {plan.year} không còn kỳ báo cáo nào. Cần kế hoạch "
                f"năm {plan.year + 1}: python -m sync plan import <tệp kế hoạch .docx> -o <tệp .yaml>, rồi đặt "
                "khóa cấu hình 'plan'.")
            return ReportResult(None, 0, lines.all())
    else:
        period = periods.parse(request.period, rs.cycle, rs.third)
        if period.year != plan.year:
            raise UserError(f"Kỳ báo cáo {period.name} không thuộc năm của Kế hoạch ({plan.year}, tệp "
                            f"'{settings.plan_path()}'): năm {period.year} khác năm {plan.year}. Chọn một kỳ của năm "
                            f"{plan.year} ({periods.FORMS}), hoặc nhập kế hoạch năm {period.year} bằng "
                            "'python -m sync plan import'.")
    as_of = request.as_of or period.cutoff(cutoff_day)
    start = period.window(cutoff_day)[0]
    if as_of < start:
        raise UserError(f"Ngày số liệu {as_of:%d/%m/%Y} (--as-of) ở trước kỳ báo cáo {period.name} (số liệu từ "
                        f"{start:%d/%m/%Y} đến {period.cutoff(cutoff_day):%d/%m/%Y}); báo cáo không thể mang số liệu "
                        "của trước kỳ. Bỏ --as-of (mặc định là ngày chốt của kỳ) hoặc chọn một ngày trong kỳ.")
    if issued < as_of:
        raise UserError(f"Ngày ban hành {issued:%d/%m/%Y} (--date) ở trước ngày số liệu {as_of:%d/%m/%Y} "
                        f"({'--as-of' if request.as_of else 'ngày chốt của ' + period.name}); báo cáo không thể ban "
                        "hành trước khi có số liệu. Dùng --date YYYY-MM-DD hoặc dd/mm/yyyy không trước ngày số liệu "
                        "(hoặc --as-of để xem trước số liệu đến một ngày sớm hơn).")
    if request.send and as_of >= now.date():  # "tính đến" a day not over yet: its figures can still change
        raise UserError(f"Chưa gửi báo cáo {period.name}: ngày chốt số liệu {as_of:%d/%m/%Y} chưa hết (hôm nay "
                        f"{now:%d/%m/%Y}), các đơn vị còn nhập được đến hết ngày. Gửi từ ngày "
                        f"{as_of + dt.timedelta(days=1):%d/%m/%Y} (lịch của daemon làm vậy); bỏ --send để xem trước.")
    if request.send and as_of != period.cutoff(cutoff_day):  # the report sent up is the period's, of its cut-off
        raise UserError(f"Không gửi báo cáo {period.name} với số liệu đến {as_of:%d/%m/%Y} (--as-of): báo cáo gửi "
                        f"cấp trên mang số liệu đến ngày chốt {period.cutoff(cutoff_day):%d/%m/%Y}. Bỏ --as-of để gửi; "
                        "--as-of chỉ dùng để xem trước (không có --send).")
    pdf_wanted = request.pdf or rs.pdf
    if pdf_wanted:
        build.require_soffice()  # say so before anything is written
    from sync.files import check_folder
    check_folder(rs.out_dir, "report.out_dir", "thư mục báo cáo")  # read-only: exit 2 before anything is built
    path = build.report_path(settings, period)
    preview = as_of != period.cutoff(cutoff_day)  # figures of another day: never the period's official file
    if preview:
        path = path.with_name(f"{path.stem}.xem-truoc-{as_of:%Y%m%d}{path.suffix}")
        say(f"Bản xem trước với số liệu đến {as_of:%d/%m/%Y} (--as-of), ghi riêng; báo cáo chính thức của kỳ "
            f"{period.name} (số liệu đến ngày chốt) không đổi.")
    witness = Witness(path, period.key)
    if request.send and guard.fresh and not guard.accept_new:  # a lost ledger must not send the report again
        guard.witness(ports.backend.read(), settings.layout, ports.backend.describe())
    # who it goes to is settled before anything is built: a refusal leaves the files as they were
    audience = _audience(settings, state, period, witness, request.force, say) if request.send else None
    if request.send:
        guard.adopt()
    ledger = [] if preview else state.sent_to("report", period.key)
    sent = bool(ledger or witness.sent())
    keep = sent and path.exists() and not request.force  # never overwrite what was sent, unless asked
    # --send sends the draft the Office built and reviewed (after the data date), never a rebuilt one
    draft = build.built_draft(path, period, as_of) if request.send and not (keep or request.force) else None
    keep = keep or draft is not None
    # a kept report is e-mailed with the figures it prints (saved beside it), never today's sheet's
    built = None if keep else build.gather(settings, plan, ports.backend, period, as_of, issued, now)
    if built is not None:  # a draft for Văn thư: the date only when given; another data date is a preview
        built.dated, built.preview = request.issued is not None, preview
    out: dict[str, Any] = {"period": period.key, "quarter": period.key, "path": str(path), "built": not keep,
                           "pdf": None, "issued": issued.isoformat(), "annex": None}
    pdf = path.with_suffix(".pdf")
    if built is None:
        kept = draft or _kept_figures(path, period)
        if kept is not None:  # the JSON tells the kept file's dates and figures: it is not issued again
            out.update(issued=kept.issued.isoformat() if kept.issued else None, as_of=kept.as_of.isoformat(),
                       **kept.kpis.to_json(), missing_listed=kept.missing_count)
        if draft is not None:
            built_on = f" ngày {draft.built:%d/%m/%Y %H:%M}" if draft.built else ""
            say(f"Gửi bản dự thảo báo cáo {period.name} đã tạo{built_on}: '{path}' (không tạo lại; chạy 'report' "
                f"không có --send để tạo lại sau khi sửa số liệu hoặc tab '{settings.layout.tabs['office']}').")
        else:
            say(f"Báo cáo {period.name} đã gửi; giữ nguyên tệp '{path}' (dùng --force để tạo lại).")
    else:
        try:
            if sent and (copy := build.keep_sent_copy(path, now)):
                witness.moved_to(copy)  # the witness names the file each recipient received, not the rebuilt one
                say(f"Đã lưu bản đã gửi trước đây thành '{copy}'.")
            build.write(built, settings, path, now)
        except OSError as exc:  # a full or read-only report folder: said, naming it (exit 3 or 2)
            from sync.files import folder_error
            raise folder_error(exc, path.parent, "report.out_dir", "thư mục báo cáo") from None
        annex = build.annex_path(path)
        out.update(as_of=built.as_of.isoformat(), has_data=built.has_data, **built.kpis.to_json(),
                   missing_listed=built.missing_count, annex=str(annex) if annex.exists() else None)
        say(f"Đã tạo báo cáo {period.name} (ban hành {vn_date(issued)}, số liệu tính đến {built.as_of:%d/%m/%Y}): "
            f"'{path}'." + ("" if built.has_data else " Kỳ này chưa có số liệu; báo cáo ghi rõ điều đó."))
        if out["annex"]:
            say(f"Tệp nội bộ của Văn phòng ({len(built.errors)} lỗi nhập liệu, kết quả còn thiếu; không gửi kèm): "
                f"'{annex}'. Đoạn trích cho báo cáo CCHC của Sở: '{build.excerpt_path(path)}'.")
        out.update(office=sorted(built.office), computed_sections=_office_lines(built, settings, say))
        if (listed := build.evidence.path_for(path)).exists() and period.kind == "Y":
            out["evidence"] = str(listed)
            say(f"Tài liệu kiểm chứng của năm (tự đánh giá Chỉ số CCHC): '{listed}'.")
        if gap := typing_gap(state, as_of, now.date(), as_of == period.cutoff(cutoff_day)):
            lines.warn(gap)
        if pdf.exists() and not pdf_wanted:
            pdf.unlink()  # never a PDF older than its .docx beside it
            say(f"Đã xóa '{pdf}' cũ (không còn khớp với tệp .docx mới; dùng --pdf để tạo lại).")
    if pdf_wanted and (not keep or not pdf.exists() or pdf.stat().st_mtime < path.stat().st_mtime):
        out["pdf"] = str(build.to_pdf(path))
        say(f"Đã chuyển sang PDF: '{out['pdf']}'.")
    elif pdf_wanted:
        out["pdf"] = str(pdf)
    emails = 0
    if audience is not None:  # a kept file goes with its PDF when one was made from it
        made = keep and pdf.exists() and pdf.stat().st_mtime >= path.stat().st_mtime
        files = [path] + ([pdf] if pdf_wanted or made else [])
        figures = build.saved_figures(path, period) if built is None else built
        emails = _deliver(settings, state, figures, files, now, request.force, witness, audience, sender, say)
        out["emails_sent"] = emails
    return ReportResult(out, emails, lines.all())


def _office_lines(report: Report, settings: Settings, say: Callable[[str], None]) -> list[str]:
    """Say what of the Báo cáo tab the report could not use, and which sections got a sentence computed from the
    data because the Office typed nothing for them (`Report.computed_sections`, Vietnamese section names)."""
    tab = settings.layout.tabs["office"]
    problems = [e for e in report.errors if e.tab == "office"]
    if problems:
        shown = "; ".join(f"dòng {e.row}: {e.message}" for e in problems[:5])
        say(f"Tab '{tab}': {len(problems)} lỗi, các dòng đó không đưa vào báo cáo (cột Kiểm tra ghi rõ sau lượt chạy "
            f"tới): {shown}" + ("; …" if len(problems) > 5 else "."))
    computed = list(getattr(report, "computed_sections", None) or [])
    if computed:
        say(f"Chưa có nội dung do Văn phòng nhập: {', '.join(computed)} (báo cáo dùng câu tính từ số liệu). Nhập ở "
            f"tab '{tab}' (Kỳ báo cáo: {report.period.name}) rồi chạy lại 'report' để tạo lại dự thảo.")
    return computed


def _kept_figures(path: Path, period: periods.Period) -> Figures | None:
    """The figures saved with a kept report, or None when they cannot be read (sending then says why)."""
    from sync.usecases.report_build import saved_figures
    try:
        return saved_figures(path, period)
    except UserError:
        return None


def typing_gap(state: State, as_of: dt.date, today: dt.date, cutoff: bool) -> str | None:
    """What a report of `as_of` may miss when the last pass recorded on or before it is older (sync.core.typing_gap)."""
    from sync.core.typing_gap import gap_warning
    from sync.state.history import HistoryStore
    if as_of >= today:
        return None  # today's entries are read as they are
    found = HistoryStore(state).pass_at(as_of)
    return gap_warning(found.as_of if found else None, as_of, cutoff)


def send_report(settings: Settings, state: State, figures: Figures, files: list[Path], now: dt.datetime,
                force: bool = False, sender: SenderFactory | None = None, lines: Lines | None = None) -> int:
    """E-mail a built report (`files`: the .docx first, then its PDF) to each recipient of `mail.report_to` once:
    the send ledger in the state file and the witness beside the report both say who has it (a lost state file
    sends nobody twice); `force` sends to everyone again. The number of messages sent."""
    from sync.state.witness import Witness
    from sync.usecases.report_build import report_path
    lines = lines or Lines()
    witness = Witness(report_path(settings, figures.period), figures.period.key)
    audience = _audience(settings, state, figures.period, witness, force, lines.say)
    return _deliver(settings, state, figures, files, now, force, witness, audience, sender, lines.say)


def _audience(settings: Settings, state: State, period: periods.Period, witness: Witness, force: bool,
              say: Callable[[str], None]) -> Recipients:
    """Who a sending of the period's report may go to: refused (exit 2) when all left have it by the witness."""
    from sync.usecases.notify import NO_RECIPIENTS
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


def _deliver(settings: Settings, state: State, figures: Figures | Report, files: list[Path], now: dt.datetime,
             force: bool, witness: Witness, audience: Recipients, sender: SenderFactory | None,
             say: Callable[[str], None]) -> int:
    from sync.usecases.notify import send_report as send
    return send(settings, state, figures, files, now, force, say, witness, audience.to,
                sender=sender(settings.mail) if sender else None)


# --- remind ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RemindResult:
    as_of: dt.date
    units: list[dict[str, Any]]
    emails_sent: int
    lines: tuple[Line, ...]

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "units": self.units, "emails_sent": self.emails_sent}


def remind(settings: Settings, ports: Ports, now: dt.datetime, as_of: dt.date | None = None, send: bool = False,
           sender: SenderFactory | None = None, lines: Lines | None = None, accept_new: bool = False) -> RemindResult:
    from sync.usecases.notify import remind as remind_units
    from sync.usecases.pipeline import PassOptions, compute
    lines = lines or Lines()
    backend = ports.backend
    guard = guard_state(settings, ports.state, ports.plan, write=send, accept_new=accept_new)
    opts = PassOptions.from_settings(settings, as_of or now.date(), now, dry_run=True)
    snapshot = backend.read()
    guard.witness(snapshot, settings.layout, backend.describe())
    summary = compute(snapshot, ports.plan, settings.layout, opts, backend.describe()).summary
    if send:
        guard.adopt()
    units = remind_units(settings, ports.plan, summary, ports.state, now, send, lines.say,
                         sender=(lambda: sender(settings.mail)) if sender else None)
    return RemindResult(opts.as_of, units, sum(len(u["sent"]) for u in units), lines.all())


# --- plan import -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanImportResult:
    yaml: str  # the draft plan
    output: Path | None  # where it was written; None: for the CLI to print
    tasks: int
    lines: tuple[Line, ...]


def plan_import(settings: Settings, source: Path, output: Path | None = None, force: bool = False,
                lines: Lines | None = None) -> PlanImportResult:
    """Read the plan's annex table (.docx) into a draft plan YAML, atomically into `output` when given."""
    from sync.core.plan import load_plan
    from sync.plan_import import import_plan, review, to_yaml
    lines = lines or Lines()
    if not source.exists():
        raise UserError(f"Không tìm thấy tệp '{source}'.")
    if output is not None and output.exists() and not force:
        raise UserError(f"Tệp '{output}' đã có; chọn tên khác hoặc thêm --force để ghi đè.")
    imported = import_plan(source, load_plan(settings.plan_path()))
    draft, drafts = imported.plan, imported.drafts
    text = to_yaml(draft, source, drafts, now_in(settings).date())
    if output is not None:
        write_output(output, lambda tmp: tmp.write_text(text, encoding="utf-8"), settings)
        lines.say(f"Đã đọc {len(drafts)} nhiệm vụ từ '{source}' vào '{output}'. Kiểm tra lại đơn vị chủ trì/phối "
                  f"hợp của từng nhiệm vụ, rồi đặt khóa cấu hình 'plan: {output}', một bảng tính ('local.path' hoặc "
                  f"Google Sheet) và tệp 'state' mới cho năm {draft['year']}, và chạy 'python -m sync init'.")
    for line in review(draft, drafts, imported):
        lines.warn(f"Cần xem lại: {line}")
    return PlanImportResult(text, output, len(drafts), lines.all())


# --- what the daemon asks for --------------------------------------------------------------------------------

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
    from sync.state.store import State
    lines = Lines()
    try:
        settings = load()
        with locked_if(settings, job.command):
            now = clock()
            if job.command == "run":
                ran = run(settings, State(settings.state), now, job.as_of, lines=lines)
                text = [line.text for line in lines.all()] + list(ran.text)
                if ran.error:
                    text.append(f"Lỗi: {ran.error}")
                return Outcome(ran.exit_code, tuple(text))
            if job.command == "report":
                report(settings, open_ports(settings), now,
                       ReportRequest(job.period or "auto", job.issued, job.as_of, job.send), sender, lines)
            elif job.command == "remind":
                remind(settings, open_ports(settings), now, job.as_of, job.send, sender, lines)
            else:
                raise ValueError(f"unknown job {job.command!r}")
            return Outcome(0, tuple(line.text for line in lines.all()))
    except Exception as exc:  # noqa: BLE001 - every failure is the job's exit code and message, as from cron
        code, said = failure(exc, debug=bool(os.environ.get("CCHC_DEBUG")))
        return Outcome(code, tuple(line.text for line in lines.all()) + tuple(said))


def reloader(settings: Settings) -> Callable[[], Settings]:
    """The settings as cron would read them for each command: from their file again (a change is taken up at the
    next action), or these when they came from no file."""
    from sync.core.config import load_settings
    source = settings.source
    return (lambda: load_settings(str(source))) if source is not None else (lambda: settings)


# --- history, restore, export ------------------------------------------------------------------------------

def recorder(state: State, as_of: dt.date, snapshot: Snapshot, plan: Plan, layout: Layout,
             where: str, summary: Summary | None = None) -> Callable[[sqlite3.Connection, int], object]:
    """What State.record_pass(then=…) calls: the unit cells of the snapshot a pass read (and wrote on),
    recorded as that pass, of date `as_of`, in the pass's own transaction; with the pass's `summary`, also
    its figures per unit (the trends)."""
    from sync.state.history import HistoryStore
    record: Callable[[sqlite3.Connection, int], object] = HistoryStore(state).recorder(
        as_of, history.snapshot_rows(snapshot, plan, layout, where),
        figures=unit_figures(summary) if summary is not None else None,
        plan=history.plan_values(snapshot, layout, where))
    return record


def at_day_end(summary: Summary, plan: Plan, settings: Settings) -> Summary:
    """The same rows judged at the end of their date (flags.Rules.as_of_ended): what a pass records for the
    trends, so a recorded date's figures are those of a report or a dry run of that date, not of the hour the
    pass ran (a result due that day and still empty is missing once the day is over)."""
    from sync.core import summary as summaries
    from sync.core.flags import Rules
    rules = Rules(summary.as_of, plan.year, plan.issued, settings.deadlines.quarter_cutoff_day,
                  settings.deadlines.due_soon_days, as_of_ended=True)
    rows = summaries.evaluate([r.checked for r in summary.results], rules)
    return summaries.summarize(rows, plan, summary.as_of, judged_on=rules.today, kinds=settings.product_kinds,
                               cutoff_day=settings.deadlines.quarter_cutoff_day)


def unit_figures(summary: Summary) -> dict[str, tuple[int, int, int]]:
    """A summary's figures per unit for the trends: done, overdue, missing quarterly results."""
    return {u.code: (u.done, u.overdue, u.missing) for u in summary.by_unit}


def trends_for(state: State, settings: Settings, plan: Plan, save: bool) -> Callable[[Summary], list[TrendRow]]:
    """For PassOptions.trends: the "Diễn biến" rows of a pass, from what earlier passes recorded."""
    from sync.state.history import HistoryStore

    def rows(summary: Summary) -> list[TrendRow]:
        cutoffs = [(p.label, p.cutoff(settings.deadlines.quarter_cutoff_day))
                   for p in periods.cycle(plan.year, settings.report.cycle, settings.report.third)]
        found = HistoryStore(state).trend_rows(summary.as_of, unit_figures(summary), plan.year, cutoffs, save)
        return found or []
    return rows


def not_recorded(state: State, as_of: dt.date) -> str | None:
    """Why a pass of date `as_of` records no history (dated before the last recorded pass), or None."""
    from sync.state.history import HistoryStore
    return HistoryStore(state).refusal(as_of)


def init_date(state: State, plan: Plan, laid_out: Snapshot, layout: Layout, today: dt.date) -> dt.date | None:
    """The history date of what `init` lays out (headers, the plan's rows: the Office's, not a unit's).

    Never after what history already has, so that init does not move history's clock forward and a replay
    of earlier dates with `run --as-of` stays recordable: the last recorded date, if any; before the first
    pass, when no unit has typed anything yet (true then: the rows stood empty), the start of the plan's
    reporting year (1 December before it, ahead of ND 09/2019's first window from 15/12); else None: init
    records nothing and the first pass, of its own date, is the baseline (no date would be true for it)."""
    from sync.core.schema import UNIT_COLUMNS
    from sync.state.history import HistoryStore
    last = HistoryStore(state).last_date()
    if last is not None:
        return last
    rows = history.snapshot_rows(laid_out, plan, layout)
    typed = any(k in UNIT_COLUMNS for row in rows for k in row.values)
    return None if typed else min(today, dt.date(plan.year - 1, 12, 1))


def after(snapshot: Snapshot, changes: WriteSet) -> Snapshot:
    """The snapshot with `changes` applied, as the workbook now holds it (no second read)."""
    from sync.backends.memory import apply
    tabs = copy.deepcopy(snapshot.tabs)
    apply(tabs, changes)
    return Snapshot(tabs, snapshot.token)


KIND_LABELS = {"baseline": "ghi nhận ban đầu", "added": "dòng mới", "deleted": "dòng bị xóa",
               "restore": "khôi phục", "change": ""}


def _store(settings: Settings) -> HistoryStore:
    from sync.state.history import HistoryStore
    from sync.state.store import State
    store = HistoryStore(State(settings.state))
    if store.first_date() is None:
        raise UserError(f"Chưa có lịch sử trong tệp trạng thái '{settings.state}': lịch sử bắt đầu từ lượt "
                        "'python -m sync run' (hoặc 'init') đầu tiên có ghi.")
    return store


def _task(text: str | None, plan: Plan, store: HistoryStore) -> str | None:
    if text is None:
        return None
    key = history.stt_key(text)
    known = {str(t.stt) for t in plan.tasks} | {k[0] for k in store.known_rows()}
    if key not in known:
        shown = sorted(known, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))
        raise UserError(f"Không có nhiệm vụ STT '{text}'. Các STT có: {', '.join(s or '(trống)' for s in shown)}.")
    return key


def _unit(text: str | None, plan: Plan, store: HistoryStore) -> str | None:
    if text is None:
        return None
    codes = [u.code for u in plan.registry.units]
    if text in codes or text in {k[1] for k in store.known_rows()}:
        return text
    unit = plan.registry.match(text)
    if unit:
        return unit.code
    raise UserError(f"Không có đơn vị '{text}'. Mã đơn vị trong kế hoạch: {', '.join(codes)}.")


def _column(text: str | None, layout: Layout, allowed: tuple[str, ...]) -> str | None:
    from sync.core.text import fold
    if text is None:
        return None
    if text in allowed:
        return text
    by_header = {fold(layout.tracking_columns[k]): k for k in allowed if k in layout.tracking_columns}
    if fold(text) in by_header:
        return by_header[fold(text)]
    raise UserError(f"Không có cột '{text}'. Các khóa cột: "
                    + ", ".join(f"{k} ({layout.tracking_columns.get(k, k)})" for k in allowed) + ".")


def _day(day: dt.date, store: HistoryStore, today: dt.date, option: str = "--at") -> None:
    first = store.first_date()
    if day > today:
        raise UserError(f"{option} {day:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    if first is None or day < first:
        since = f"{first:%d/%m/%Y}" if first else "-"
        raise UserError(f"{option} {day:%d/%m/%Y} trước lượt chạy đầu tiên có lịch sử ({since}); "
                        f"chọn một ngày từ {since} trở đi.")


def _unit_label(plan: Plan, code: str | None) -> str:
    unit = next((u for u in plan.registry.units if u.code == code), None)
    return unit.label if unit else str(code)


def _header(layout: Layout, key: str) -> str:
    return str(layout.tracking_columns.get(key, key))


@dataclass(frozen=True)
class HistoryQuery:
    task: str | None = None
    unit: str | None = None
    column: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    at: dt.date | None = None
    output: Path | None = None  # with `at`: the rows as a workbook laid out like the tracking tab


@dataclass(frozen=True)
class HistoryResult:
    data: Any  # the --json output
    text: tuple[str, ...]  # the text output
    lines: tuple[Line, ...]


def history_of(settings: Settings, plan: Plan, today: dt.date, query: HistoryQuery,
               lines: Lines | None = None) -> HistoryResult:
    """What units typed in the tracking tab: the changes that match `query`, or the rows at a day."""
    from sync.state.store import State
    lines = lines or Lines()
    layout = settings.layout
    guard_state(settings, State(settings.state), plan, write=False)
    store = _store(settings)
    stt, unit = _task(query.task, plan, store), _unit(query.unit, plan, store)
    column = _column(query.column, layout, HISTORY_KEYS)
    if query.at is not None:
        return _history_at(settings, plan, store, today, query.at, query.output, stt, unit, column, lines)
    if query.output:
        raise UserError("-o chỉ dùng cùng --at (ghi các dòng tại một ngày thành tệp .xlsx).")
    if query.since and query.until and query.since > query.until:
        raise UserError(f"--since {query.since:%d/%m/%Y} sau --until {query.until:%d/%m/%Y}: không có ngày nào ở "
                        "giữa; đặt --since trước hoặc bằng --until.")
    if query.since and query.since > today:
        raise UserError(f"--since {query.since:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    records = store.records(stt, unit, column, query.since, query.until)
    data = [{"date": r.as_of.isoformat(), "pass_id": r.pass_id, "command": r.command,
             "task": r.key[0], "unit": r.key[1], "ordinal": r.key[2], "column": r.column,
             "header": _header(layout, r.column), "old": history.to_json(r.old),
             "new": history.to_json(r.new), "kind": r.kind} for r in records]
    if not records:
        return HistoryResult(data, ("Không có thay đổi nào khớp điều kiện.",), lines.all())
    collapse = stt is None and unit is None and column is None
    baseline: set[tuple[int, dt.date]] = set()
    text = [f"Lịch sử tab '{layout.tabs['tracking']}' ({len(records)} ghi nhận):"]
    for r in records:
        if collapse and r.kind == "baseline":
            if (r.pass_id, r.as_of) not in baseline:
                baseline.add((r.pass_id, r.as_of))
                rows = {x.key for x in records if x.pass_id == r.pass_id and x.kind == "baseline"}
                cells = sum(1 for x in records if x.pass_id == r.pass_id and x.kind == "baseline")
                text.append(f"{r.as_of:%d/%m/%Y}  ghi nhận ban đầu: {len(rows)} dòng, {cells} ô có nội dung "
                            "(xem từng ô với --task/--unit)")
            continue
        label = KIND_LABELS.get(r.kind, r.kind)
        who = f"NV {r.key[0] or '(trống)'} · {_unit_label(plan, r.key[1])}" + (f" (dòng trùng {r.key[2] + 1})"
                                                                                if r.key[2] else "")
        text.append(f"{r.as_of:%d/%m/%Y}  {who}  {_header(layout, r.column)}: {history.shown(r.old)} → "
                    f"{history.shown(r.new)}" + (f"  [{label}]" if label else ""))
    return HistoryResult(data, tuple(text), lines.all())


def _history_at(settings: Settings, plan: Plan, store: HistoryStore, today: dt.date, at: dt.date,
                output: Path | None, stt: str | None, unit: str | None, column: str | None,
                lines: Lines) -> HistoryResult:
    layout = settings.layout
    _day(at, store, today)
    found, rows = store.rows_at(at)
    assert found is not None  # `at` is on or after the first recorded pass (_day)
    rows = {k: v for k, v in rows.items() if (stt is None or k[0] == stt) and (unit is None or k[1] == unit)}
    if column:
        rows = {k: {c: t for c, t in v.items() if c == column} for k, v in rows.items()}
    if output is not None:
        if output.suffix.lower() != ".xlsx":
            raise UserError(f"Tệp '{output}': --at ghi tệp .xlsx (đặt tên kết thúc bằng .xlsx).")
        refuse_own_file(output, settings)
        write_workbook(output, history.grid(rows, plan, layout), plan, layout)
        lines.say(f"Đã ghi {len(rows)} dòng như tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}) "
                  f"vào '{output}'.")
    data = {"at": at.isoformat(), "pass": {"id": found.pass_id, "as_of": found.as_of.isoformat()},
            "rows": [{"task": k[0], "unit": k[1], "ordinal": k[2],
                      "values": {c: history.to_json(t) for c, t in v.items()}}
                     for k, v in history.ordered(rows, plan)]}
    text: list[str] = []
    if output is None:
        text.append(f"Các dòng như tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}), {len(rows)} dòng:")
        for k, v in history.ordered(rows, plan):
            cells = "; ".join(f"{_header(layout, c)} {history.shown(t)}" for c, t in v.items()
                              if c not in ("task", "unit", "role"))
            text.append(f"  NV {k[0]} · {_unit_label(plan, k[1])}: {cells or '(chưa nhập gì)'}")
    return HistoryResult(data, tuple(text), lines.all())


def write_workbook(out: Path, grid: list[list[Cell]], plan: Plan, layout: Layout) -> None:
    """A workbook with one tab laid out like `Theo dõi` (the formatting `init` gives it), saved atomically."""
    import openpyxl

    from sync.backends.local import apply_changes
    from sync.sheet.layout import build_init
    from sync.sheet.safe_cells import save_workbook, text_cell
    name = layout.tabs["tracking"]
    init = build_init(plan, Snapshot({}), layout)
    changes = WriteSet(new_tabs=[name], formats=[f for f in init.formats if f.tab == name])
    for r, line in enumerate(grid, start=1):
        for c, value in enumerate(line, start=1):
            if value is not None:  # a control character or an endless number: shown, never a failed save
                changes.set(name, r, c, text_cell(value))
    wb = openpyxl.Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    apply_changes(wb, changes)
    write_output(out, lambda tmp: save_workbook(wb, tmp))


@dataclass(frozen=True)
class RestoreRequest:
    task: str
    unit: str
    at: dt.date
    column: str | None = None
    dry_run: bool = False
    yes: bool = False  # write (without it: only show the change)
    force: bool = False  # also cells changed after the last pass


@dataclass(frozen=True)
class RestoreResult:
    cells: int  # cells that differ from the day's values (restored when `written`)
    written: bool
    lines: tuple[Line, ...]


def restore(settings: Settings, ports: Ports, now: dt.datetime, request: RestoreRequest,
            lines: Lines | None = None) -> RestoreResult:
    """Put a row's cells back to what history recorded at a day: shown first, written with `yes`, recorded."""
    from sync.core.passlog import new_pass_id
    from sync.core.schema import LOG_COLUMNS
    lines = lines or Lines()
    say = lines.say
    layout, plan, backend, state = settings.layout, ports.plan, ports.backend, ports.state
    writes_cells = request.yes and not request.dry_run
    guard = guard_state(settings, state, plan, write=writes_cells)
    store = _store(settings)
    stt, unit = _task(request.task, plan, store), _unit(request.unit, plan, store)
    column = _column(request.column, layout, RESTORABLE_KEYS)
    today, at = now.date(), request.at
    _day(at, store, today)
    key = (stt, unit, 0)
    found, rows = store.rows_at(at)
    assert found is not None  # `at` is on or after the first recorded pass (_day)
    if key not in rows:
        raise UserError(f"Tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}) không có dòng của nhiệm vụ "
                        f"{stt}, đơn vị {unit}: không có gì để khôi phục.")
    target = rows[key]
    snapshot = backend.read()
    table = history.tracking_table(snapshot, layout, backend.describe())
    live = next((r for r in history.rows_of(table, plan) if r.key == key), None)
    if live is None:
        raise UserError(f"{backend.describe()}: tab '{table.tab.name}' không còn dòng của nhiệm vụ {stt}, đơn vị "
                        f"{unit}. Chạy 'python -m sync init' để tạo lại dòng đó, rồi chạy lại lệnh khôi phục.")
    seen = store.seen(key) or {}
    keys = [column] if column else [k for k in RESTORABLE_KEYS if k in table.columns]
    if column and column not in table.columns:
        raise UserError(f"{backend.describe()}: tab '{table.tab.name}' không có cột '{_header(layout, column)}'.")
    changes: list[tuple[str, str | None, str | None]] = []
    conflicts: list[tuple[str, str | None, str | None]] = []
    for k in keys:
        want, now_value = target.get(k), live.values.get(k)
        if want == now_value:
            continue
        changes.append((k, now_value, want))
        if now_value != seen.get(k):
            conflicts.append((k, seen.get(k), now_value))
    who = f"nhiệm vụ {stt}, {_unit_label(plan, unit)} (dòng {live.row} của tab '{table.tab.name}')"
    if not changes:
        say(f"Không có gì để khôi phục: {who} đã giống như tại {at:%d/%m/%Y}.")
        return RestoreResult(0, False, lines.all())
    say(f"Khôi phục {who} về giá trị tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}):")
    for k, old, new in changes:
        say(f"  {_header(layout, k)}: {history.shown(old)} → {history.shown(new)}")
    if conflicts and not request.force:
        said = "; ".join(f"'{_header(layout, k)}' lượt chạy gần nhất thấy {history.shown(s)}, nay là "
                         f"{history.shown(n)}" for k, s, n in conflicts)
        raise UserError(f"Không khôi phục: có ô đã bị sửa sau lượt chạy gần nhất ({said}). Chạy 'python -m sync run' "
                        "để ghi nhận thay đổi đó rồi xem lại, hoặc thêm --force để ghi đè.")
    from sync.core.merges import FIX
    from sync.core.tables import merge_a1
    for k, _old, _new in changes:  # a merged cell holds one value for several rows: not one unit's to restore
        col = table.columns[k]
        for m in table.tab.merged:
            if m[0] <= live.row <= m[2] and m[1] <= col <= m[3] and (m[0], m[2]) != (live.row, live.row):
                raise UserError(f"Không khôi phục '{_header(layout, k)}': ô nằm trong vùng ô gộp {merge_a1(m)} của "
                                f"tab '{table.tab.name}', chung cho nhiều dòng (của cả đơn vị khác). {FIX}, rồi chạy "
                                "lại.")
    if request.dry_run or not request.yes:
        say("Chưa ghi gì" + (" (chạy thử)." if request.dry_run else ": thêm --yes để ghi."))
        return RestoreResult(len(changes), False, lines.all())
    writes = WriteSet(unit_cells=True)
    writes.keys[table.tab.name] = (table.columns["stt"], table.columns["unit"])
    writes.unit_columns[table.tab.name] = tuple(table.columns[k] for k in RESTORABLE_KEYS if k in table.columns)
    for k, _old, new in changes:
        value = history.decode(new)
        writes.set(table.tab.name, live.row, table.columns[k], "" if value is None else value)
    from sync.core.tables import refuse_overwrite
    refuse_overwrite(snapshot, layout.tabs["log"], "log", {"tracking": layout.tracking_columns,
                                                           "plan": layout.plan_columns}, backend.describe())
    log = snapshot.find_tab(layout.tabs["log"])
    text = (f"Khôi phục nhiệm vụ {stt}, đơn vị {unit} về ngày {at:%d/%m/%Y}: "
            + ", ".join(_header(layout, k) for k, _o, _n in changes))
    if log is not None:
        line: dict[str, Cell] = {"time": now.strftime("%d/%m/%Y %H:%M:%S"), "as_of": today.strftime("%d/%m/%Y"),
                                 "rows": 1, "emails": 0, "pass_id": new_pass_id(), "note": text}
        writes.append[log.name] = [[line.get(key) for key in LOG_COLUMNS]]
    day = store.record_date(today)  # history's dates never go back: today, or the last recorded date if later
    row = state.begin_pass("restore", now)  # the state file takes the record before a unit cell is written
    try:
        try:
            backend.write(snapshot, writes)
        except StaleSnapshot as exc:
            raise Unreachable(f"Chưa ghi: {exc}. Chạy lại lệnh khôi phục.") from None
    except Exception as exc:
        _record_failure(state, "restore", now, row, {"backend": backend.name}, exc)
        raise
    before = history.rows_of(table, plan)
    restored = history.snapshot_rows(after(snapshot, writes), plan, layout, backend.describe())

    def record(db: sqlite3.Connection, pass_id: int) -> None:  # what units changed since the last pass first
        store.record_in(db, pass_id, day, before)
        store.record_in(db, pass_id, day, restored, kind="restore")

    with recorded_after_write("restore", backend.describe(), layout):
        store.ensure()
        guard.adopt()
        state.record_pass("restore", now, True, {"backend": backend.name, "as_of": day.isoformat(),
                                                 "cells_written": writes.cell_count()}, text, then=record,
                          started_row=row)
    say(f"Đã khôi phục {len(changes)} ô; ghi vào lịch sử (ngày {day:%d/%m/%Y}) và tab '{layout.tabs['log']}'.")
    say(f"Cột '{_header(layout, 'check')}' và '{_header(layout, 'flags')}' của dòng này vẫn là của lượt chạy "
        "trước: chạy 'python -m sync run' để cập nhật Kiểm tra/Cảnh báo.")
    return RestoreResult(len(changes), True, lines.all())


EXPORT_COLUMNS = {"stt": "STT", "task": "Nhiệm vụ", "unit_code": "Mã đơn vị", "unit": "Đơn vị", "role": "Vai trò",
                  "status": "Tình trạng", "task_state": "Tình trạng nhiệm vụ",
                  "deadline": "Hạn hoàn thành (tính được)", "done_date": "Ngày hoàn thành",
                  "quantity": "Số lượng sản phẩm", "q1": "Kết quả Quý I", "q2": "Kết quả Quý II",
                  "q3": "Kết quả Quý III", "q4": "Kết quả Quý IV", "evidence": "Minh chứng",
                  "flags": "Cảnh báo", "overdue_days": "Số ngày quá hạn", "missing_quarters": "Quý thiếu kết quả",
                  "errors": "Lỗi nhập liệu", "counted": "Được tính", "as_of": "Tính đến ngày"}


def write_output(output: Path, write: Callable[[Path], object], settings: Settings | None = None) -> None:
    """A file a person asked for (`-o`): written atomically (sync.files), readable as the umask allows; a
    folder that cannot take it is the user's to fix (exit 2), not a bug. Never one of the job's own files
    (the units' workbook, the state file, the plan, the settings): a typo in `-o` must not replace them."""
    from sync import files
    if settings is not None:
        refuse_own_file(output, settings)
    if output.is_symlink():  # it would replace the file the link points to, perhaps another workbook
        raise UserError(f"Không ghi ra '{output}': đó là một liên kết (symlink) tới '{os.path.realpath(output)}'; "
                        "ghi qua liên kết sẽ thay tệp đó. Chọn một tên tệp khác cho tùy chọn -o.")
    if output.exists() and not files.writable(output):
        raise UserError(f"Không ghi ra '{output}': tệp chỉ đọc (đã được khóa ghi). Chọn một tên tệp khác cho tùy "
                        "chọn -o, hoặc mở khóa ghi tệp đó nếu muốn thay nó.")
    if output.parent.exists() and not files.writable(output.parent):
        raise UserError(f"Không ghi được tệp '{output}': thư mục '{output.parent}' chỉ đọc. Chọn một thư mục có quyền "
                        "ghi (tùy chọn -o).")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        files.replace(output, write)
    except OSError as exc:  # a full disk is the environment's (exit 3), a read-only folder the user's (exit 2)
        error = Unreachable if exc.errno in files.DISK_ERRNOS else UserError
        raise error(f"Không ghi được tệp '{output}' ({exc.strerror or type(exc).__name__}): chọn một thư mục có "
                    "quyền ghi và còn chỗ trống (tùy chọn -o).") from None


def refuse_own_file(output: Path, settings: Settings) -> None:
    own = {"local.path (bảng tính của các đơn vị)": settings.local.path, "state (tệp trạng thái)": settings.state,
           "plan (tệp kế hoạch)": settings.plan_path(), "tệp cấu hình": settings.source}
    target = output.resolve()
    for what, path in own.items():
        if path is not None and Path(path).resolve() == target:
            raise UserError(f"Không ghi ra '{output}': đó là {what} của chương trình, ghi đè sẽ mất dữ liệu. "
                            "Chọn một tên tệp khác cho tùy chọn -o.")


def export_rows(results: list[RowResult], as_of: dt.date, tasks: Sequence[TaskState] = ()) -> list[dict[str, Any]]:
    """One flat row per tracking row, from the rows a pass computed (the same flags as the dashboard's), with
    its task's state (sync.core.tasks: the one rule the dashboard and the report use)."""
    from sync.core.schema import ROLES, ROMAN, STATUSES, FlagKind
    from sync.core.text import nfc
    task_states = {t.stt: t.label for t in tasks}
    out = []
    for r in results:
        c, e = r.checked, r.checked.entry
        out.append({
            "stt": c.task.stt if c.task else nfc(e.stt), "task": c.task.task if c.task else e.task,
            "unit_code": c.unit.code if c.unit else "", "unit": c.unit.name if c.unit else e.unit,
            "role": ROLES.get(c.role, "") if c.role else e.role,
            "status": STATUSES.get(c.status, e.status) if c.status else e.status,
            "task_state": task_states.get(c.task.stt, "") if c.task and c.counted else "",
            "deadline": c.due, "done_date": c.done_date, "quantity": c.quantity,
            **{f"q{q}": e.results.get(q, "") for q in range(1, 5)}, "evidence": e.evidence,
            "flags": "; ".join(f.text for f in r.flags),
            "overdue_days": next((f.days for f in r.flags if f.kind == FlagKind.OVERDUE), None),
            "missing_quarters": ", ".join(f"Quý {ROMAN[f.quarter]}" for f in r.flags if f.kind == FlagKind.MISSING),
            "errors": "\n".join(i.message for i in c.issues), "counted": "Có" if c.counted else "Không",
            "as_of": as_of})
    return out


def with_products(frame: Any, summary: Summary) -> Any:
    """One column per kind of product (sync.core.products) before the date column: each counted row's products, the
    year to the date (empty for a row not counted)."""
    from sync.core.products import DEFAULT_KINDS
    products = summary.products
    labels = products.labels if products else tuple(k.label for k in DEFAULT_KINDS)
    counts = [products.of_row(c.task.stt, c.unit.code) if products and c.counted and c.task and c.unit else None
              for c in (r.checked for r in summary.results)]
    import pandas as pd
    at = len(frame.columns) - 1  # before "Tính đến ngày", which stays last
    for n, label in enumerate(labels):
        frame.insert(at + n, f"{PRODUCT_COLUMN}{label}",
                     pd.array([row[label] if row else None for row in counts], dtype="Int64"))
    return frame


#: The export's product columns: this, then the kind's label ("Sản phẩm: tin, bài").
PRODUCT_COLUMN = "Sản phẩm: "


@dataclass(frozen=True)
class ExportResult:
    rows: int
    as_of: dt.date
    csv: str | None  # the CSV when no file was asked for (for the CLI to print)
    output: Path | None
    lines: tuple[Line, ...]


def export(settings: Settings, ports: Ports, now: dt.datetime, at: dt.date | None = None,
           output: Path | None = None, lines: Lines | None = None) -> ExportResult:
    """Every tracking row flat, with its computed deadline, flags and errors, as of today or of `at`."""
    import pandas as pd  # only here: the pass does not pay for it

    from sync.usecases.pipeline import PassOptions, compute
    lines = lines or Lines()
    plan, backend = ports.plan, ports.backend
    today = now.date()
    as_of, source = at or today, None
    if as_of > today:
        raise UserError(f"--at {as_of:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    if at is not None:  # the entries `run --as-of D --dry-run` and `report` compute from (sync/state/past.py)
        from sync.state.past import source_for
        guard_state(settings, ports.state, plan, write=False)
        source = source_for(settings.state, plan, as_of, today)
    # the same computation as a dry run of that date (past.Source: a past day is judged at its end)
    opts = PassOptions.from_settings(settings, as_of, now, dry_run=True, **(source.options() if source else {}))
    computed = compute(backend.read(), plan, settings.layout, opts, backend.describe())
    if source is not None:
        (lines.say if output else lines.warn)(source.sentence())
    frame = pd.DataFrame(export_rows(computed.summary.results, as_of, computed.summary.tasks),
                         columns=list(EXPORT_COLUMNS))
    for key in ("quantity", "overdue_days"):
        frame[key] = frame[key].astype("Int64")  # whole numbers stay whole where some rows are empty
    frame = frame.rename(columns=EXPORT_COLUMNS)
    frame = with_products(frame, computed.summary)
    # what units typed stays inert text in the file, whatever opens it (sync/sheet/safe_cells.py)
    from sync.sheet.safe_cells import csv_field, write_xlsx
    inert = frame.astype(object).map(csv_field)
    if output is None:
        return ExportResult(len(frame), as_of, inert.to_csv(index=False), None, lines.all())
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(f"Tệp '{output}': export ghi tệp .csv hoặc .xlsx (đặt tên kết thúc bằng một trong hai).")
    if suffix == ".csv":  # the BOM lets Excel read Vietnamese
        write_output(output, lambda tmp: inert.to_csv(tmp, index=False, encoding="utf-8-sig"), settings)
    else:
        values = frame.astype(object).where(frame.notna(), None).itertuples(index=False)
        write_output(output, lambda tmp: write_xlsx(tmp, list(frame.columns), list(values), "Xuất dữ liệu"),
                     settings)
    lines.say(f"Đã xuất {len(frame)} dòng (tính đến {as_of:%d/%m/%Y}) vào '{output}'.")
    return ExportResult(len(frame), as_of, None, output, lines.all())

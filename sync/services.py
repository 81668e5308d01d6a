"""The use cases (DESIGN.md §5): init, run, report (build and send), remind, status, history, restore, export
and plan import, one function each.

Each takes the settings and its ports (the workbook backend, the state file, the plan, the time `now`, the
mail sender's factory) and returns a frozen result holding its figures and its Vietnamese message lines.
No printing and no argparse here: sync/cli.py parses, opens the ports, calls one use case and prints its
result; sync/daemon.py calls the same functions on its timetable. Messages a use case says while it works go
to a `Lines` (kept for the result, and echoed as they come by whoever wants them live: the CLI prints them,
so a failure after a report was built still shows what was done).

The dependency direction is core ← services ← entry points (tests/test_architecture.py checks it).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import periods
from .config import MailSettings, Settings
from .errors import Busy, StaleSnapshot, SyncError, Unreachable, UserError
from .plan import Plan
from .workbook import Backend

if TYPE_CHECKING:
    from .delivery import Sender
    from .state import State

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.
LOCKED = frozenset({"init", "run", "report", "remind", "restore"})

#: Opens the mail sender for the mail settings; None in a use case: the configured one (sync.notify.open_sender).
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
        from .state_faults import lock_error
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
    lines = [f"Lỗi trong chương trình (xin báo cho người phát triển): {exc!r}"]
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
    from .backends import open_backend
    from .plan import load_plan
    from .state import State
    plan = load_plan(settings.plan_path())
    return Ports(plan, open_backend(settings), State(settings.state))


def _record_failure(state: State, command: str, started: dt.datetime, row: int | None, summary: dict[str, Any],
                    exc: Exception) -> None:
    """A failed pass is recorded with its message, for `status` (unless the state file itself failed)."""
    from .state_faults import StateFileBusy, StateFileError
    if isinstance(exc, (StateFileError, StateFileBusy)):
        return
    message = str(exc) if isinstance(exc, SyncError) else f"Lỗi trong chương trình: {exc!r}"
    state.record_pass(command, started, False, summary, message, started_row=row)


# --- init ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InitResult:
    skipped: bool
    cells_written: int
    new_tabs: tuple[str, ...]
    lines: tuple[Line, ...]


def init(settings: Settings, ports: Ports, now: dt.datetime, if_missing: bool = False,
         lines: Lines | None = None) -> InitResult:
    from . import history_cli
    from .layout import build_init
    from .merges import message, withhold
    lines = lines or Lines()
    plan, backend, state = ports.plan, ports.backend, ports.state
    snapshot = backend.read() if backend.exists() else backend.empty_snapshot()
    tracking = settings.layout.tabs["tracking"]
    if if_missing and snapshot.find_tab(tracking) is not None:
        lines.say(f"{backend.describe()} đã có tab '{tracking}'; bỏ qua khởi tạo.")
        return InitResult(True, 0, (), lines.all())
    changes = build_init(plan, snapshot, settings.layout, backend.describe())
    withheld = withhold(changes, snapshot)  # cells a merged range hides cannot take a header or a new row
    row = state.begin_pass("init", now)  # the state file takes the record before the workbook is written
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
    laid_out = history_cli.after(snapshot, changes)
    day = history_cli.init_date(state, plan, laid_out, settings.layout, now.date())
    state.record_pass("init", now, True, {"backend": backend.name, "cells_written": added,
                                          "as_of": (day or now.date()).isoformat()},
                      then=history_cli.recorder(state, day, laid_out, plan, settings.layout, backend.describe())
                      if day else None,
                      started_row=row)
    tabs = ", ".join(f"'{t}'" for t in changes.new_tabs)
    lines.say(f"Đã khởi tạo {backend.describe()}: "
              + (f"tạo tab {tabs}; " if tabs else "")
              + (f"ghi {added} ô mới (tiêu đề, nhiệm vụ, dòng theo dõi)." if added else "không có gì mới cần thêm.")
              + " Định dạng, danh sách chọn và tô màu đã được cập nhật.")
    return InitResult(False, added, tuple(changes.new_tabs), lines.all())


# --- run -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunResult:
    summary: dict[str, Any]  # the JSON summary (DESIGN §5: its keys are a contract)
    text: tuple[str, ...]  # the figures in a sentence, for the text output (and the daemon's log)
    error: str | None  # computed but not written (the workbook is held): said as "Lỗi: …"
    exit_code: int
    lines: tuple[Line, ...]


def run(settings: Settings, state: State, now: dt.datetime, as_of: dt.date | None = None, dry_run: bool = False,
        lines: Lines | None = None, ports: Callable[[], Ports] | None = None) -> RunResult:
    """One pass. `ports` opens the plan and the workbook after the state file's own checks (a broken state file
    is named first); by default from the settings."""
    from .pipeline import PassOptions, run_pass
    lines = lines or Lines()
    if as_of and as_of > now.date() and not dry_run:  # a typo would stop history for years
        raise UserError(f"--as-of {as_of:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y}): một lượt "
                        "ghi vào bảng tính không được đề ngày tương lai. Kiểm tra lại ngày, hoặc thêm --dry-run để "
                        "chỉ tính thử.")
    # The state file takes this pass's record before anything else: broken, it stops the pass (exit 2)
    # before the workbook gains a log line; after this, every failure is recorded with its message.
    row = None if dry_run else state.begin_pass("run", now)
    day = as_of or now.date()
    try:
        if as_of and not dry_run:  # after begin_pass: a broken state file is named as such first
            from .history_cli import not_recorded
            if refused := not_recorded(state, as_of):
                raise UserError(refused)
        opened = (ports or (lambda: open_ports(settings)))()
        plan, backend = opened.plan, opened.backend
        source = None
        if dry_run:  # a past date, computed and not written: from history when it covers the date
            from .past import source_for
            source = source_for(settings.state, plan, day, now.date())
        opts = PassOptions.from_settings(settings, day, now, dry_run=dry_run, emails_sent=state.unlogged_sends(),
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
        from .history_cli import recorder
        read = result.snapshot
        assert read is not None  # a written pass keeps what it read
        state.record_pass("run", now, True, summary, "\n".join(result.messages),
                          then=recorder(state, opts.as_of, read, plan, settings.layout, backend.describe()),
                          started_row=row)
        state.mark_logged()
    for message in result.messages:
        lines.warn(message)
    k = summary
    prefix = "[Chạy thử, không ghi] " if dry_run else "[Chưa ghi] " if held else ""
    text = [f"{prefix}Tính đến {opts.as_of:%d/%m/%Y}: {k['rows']} dòng, "
            f"{k['done']} hoàn thành, {k['in_progress']} đang thực hiện, {k['not_started']} chưa thực hiện, "
            f"{k['cancelled']} không thực hiện, {k['unknown_status']} chưa rõ tình trạng"
            f"{f', {n} dòng ngoài kế hoạch hoặc trùng' if (n := k['not_counted']) else ''}; "
            f"{k['overdue']} quá hạn, {k['due_soon']} sắp đến hạn, {k['missing_quarterly']} kết quả quý còn thiếu, "
            f"{k['errors']} lỗi nhập liệu."]
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

    def to_json(self) -> dict[str, Any]:
        return {"last_good_pass": self.last_good_pass, "age_hours": self.age_hours, "stale": self.stale,
                "passes": self.passes, "sends": self.sends, "unsent": self.unsent,
                "problem": self.problem and str(self.problem), "new_plan_needed": self.new_plan_needed}


def status(settings: Settings, state: State, now: dt.datetime) -> StatusResult:
    """Exit 4 when the last good pass is older than status.max_age_hours (or there is none): for monitors."""
    from .state import STARTED
    from .state_faults import StateFileBusy, StateFileError
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
        age_h = (now - dt.datetime.fromisoformat(last["started_at"])).total_seconds() / 3600
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
    code = int(getattr(problem, "exit_code", 2)) if problem else 4 if stale else 0
    return StatusResult(last["started_at"] if last else None, age_h, stale, passes, sends, len(unsent), problem, needed,
                        tuple(out), code)


def _new_plan_needed(settings: Settings, today: dt.date) -> str | None:
    """After the plan year's last cut-off no report is owed any more: say that next year's plan is needed."""
    from .plan import load_plan
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
    period: str = "auto"  # a period's spelling (sync.periods.parse), or auto
    issued: dt.date | None = None  # --date; default today
    as_of: dt.date | None = None  # default: the period's cut-off
    send: bool = False
    force: bool = False
    pdf: bool = False


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
    from reports import build
    from reports.content import vn_date

    from .notify import NO_RECIPIENTS, report_all_sent, send_report
    from .witness import Witness
    lines = lines or Lines()
    say = lines.say
    plan, state, rs = ports.plan, ports.state, settings.report
    issued = request.issued or now.date()
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
    pdf_wanted = request.pdf or rs.pdf
    if pdf_wanted:
        build.require_soffice()  # say so before anything is written
    if request.send and not settings.mail.report_to:  # before anything is built, not after
        raise UserError(NO_RECIPIENTS)
    path = build.report_path(settings, period)
    witness = Witness(path, period.key)
    ledger = state.sent_to("report", period.key)
    recipients = report_recipients(settings.mail.report_to, ledger, witness.unknown_to(ledger), request.force) \
        if request.send else Recipients(None, [], False)
    if recipients.refused:
        raise UserError(f"Báo cáo {period.name} đã gửi cho {', '.join(recipients.lost)} (ghi nhận tại "
                        f"'{witness.path}') nhưng tệp trạng thái '{settings.state}' không ghi lần gửi đó (tệp bị xóa "
                        "hoặc thay?). Không gửi lại để tránh gửi trùng; nếu thật sự cần gửi lại, chạy lại với --force.")
    if recipients.to is not None:
        say(f"Không gửi lại cho {', '.join(recipients.lost)}: tệp ghi nhận '{witness.path}' cho biết họ đã nhận báo "
            f"cáo {period.name} (tệp trạng thái '{settings.state}' không ghi lần gửi đó). Chỉ gửi cho người nhận chưa "
            "có trong tệp ghi nhận; dùng --force nếu thật sự cần gửi lại cho mọi người.")
    sent = bool(ledger or witness.sent())
    keep = sent and path.exists() and not request.force  # never overwrite what was sent, unless asked
    # a kept report is e-mailed with the figures it prints (saved beside it), never today's sheet's
    built = None if keep else build.gather(settings, plan, ports.backend, period, as_of, issued, now)
    out: dict[str, Any] = {"period": period.key, "quarter": period.key, "path": str(path), "built": not keep,
                           "pdf": None, "issued": issued.isoformat(), "annex": None}
    pdf = path.with_suffix(".pdf")
    if built is None:
        say(f"Báo cáo {period.name} đã gửi; giữ nguyên tệp '{path}' (dùng --force để tạo lại).")
    else:
        if sent and (copy := build.keep_sent_copy(path, now)):
            say(f"Đã lưu bản đã gửi trước đây thành '{copy}'.")
        build.write(built, settings, path)
        annex = build.annex_path(path)
        out.update(as_of=built.as_of.isoformat(), has_data=built.has_data, **built.kpis,
                   missing_listed=built.missing_count, annex=str(annex) if annex.exists() else None)
        say(f"Đã tạo báo cáo {period.name} (ban hành {vn_date(issued)}, số liệu tính đến {built.as_of:%d/%m/%Y}): "
            f"'{path}'." + ("" if built.has_data else " Kỳ này chưa có số liệu; báo cáo ghi rõ điều đó."))
        if out["annex"]:
            say(f"Danh sách {len(built.errors)} lỗi nhập liệu (nội bộ, không gửi kèm): '{annex}'.")
        if pdf.exists() and not pdf_wanted:
            pdf.unlink()  # never a PDF older than its .docx beside it
            say(f"Đã xóa '{pdf}' cũ (không còn khớp với tệp .docx mới; dùng --pdf để tạo lại).")
    if pdf_wanted and (not keep or not pdf.exists() or pdf.stat().st_mtime < path.stat().st_mtime):
        out["pdf"] = str(build.to_pdf(path))
        say(f"Đã chuyển sang PDF: '{out['pdf']}'.")
    elif pdf_wanted:
        out["pdf"] = str(pdf)
    emails = 0
    if request.send:
        files = [path] + ([pdf] if pdf_wanted else [])
        figures = build.saved_figures(path, period) if built is None else built
        emails = send_report(settings, state, figures, files, now, request.force, say, witness, recipients.to,
                             sender=sender(settings.mail) if sender else None)
        out["emails_sent"] = emails
    return ReportResult(out, emails, lines.all())


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
           sender: SenderFactory | None = None, lines: Lines | None = None) -> RemindResult:
    from .notify import remind as remind_units
    from .pipeline import PassOptions, compute
    lines = lines or Lines()
    backend = ports.backend
    opts = PassOptions.from_settings(settings, as_of or now.date(), now, dry_run=True)
    summary = compute(backend.read(), ports.plan, settings.layout, opts, backend.describe()).summary
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
    from .plan import load_plan
    from .plan_import import import_plan, review, to_yaml
    lines = lines or Lines()
    if not source.exists():
        raise UserError(f"Không tìm thấy tệp '{source}'.")
    if output is not None and output.exists() and not force:
        raise UserError(f"Tệp '{output}' đã có; chọn tên khác hoặc thêm --force để ghi đè.")
    imported = import_plan(source, load_plan(settings.plan_path()))
    draft, drafts = imported.plan, imported.drafts
    text = to_yaml(draft, source, drafts)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)
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
    from .state import State
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
    from .config import load_settings
    source = settings.source
    return (lambda: load_settings(str(source))) if source is not None else (lambda: settings)

"""The command line (DESIGN.md §5): `python -m sync COMMAND [--config PATH]`. Thin: parse, call, print.

Exit codes: 0 done (data problems are reported in the sheet; also a run skipped by the job lock), 2 bad config,
usage, workbook shape or state file, 3 backend, state file or mail server unreachable or busy, 4 `status`: no
good pass for too long, 1 a bug.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from filelock import FileLock, Timeout

from . import deadlines
from .config import Settings, load_settings
from .errors import Busy, SyncError, UserError
from .workbook import Backend


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "cách dùng: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):  # argparse's own headings, in Vietnamese
        super().__init__(*args, **{"formatter_class": _Formatter, **kwargs})
        self._positionals.title, self._optionals.title = "tham số", "tùy chọn"
        if "-h" in self._option_string_actions:
            self._option_string_actions["-h"].help = "in hướng dẫn này rồi thoát"

    def error(self, message: str):  # usage errors: exit 2 with the message, like every bad input
        from .problems import argparse_message
        self.print_usage(sys.stderr)
        raise UserError(f"{self.prog}: {argparse_message(message)}")


def parse_day(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"ngày '{text}' không hợp lệ; dùng YYYY-MM-DD hoặc dd/mm/yyyy")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sync", description="Theo dõi kế hoạch tuyên truyền CCHC.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="tệp cấu hình (mặc định: $CCHC_CONFIG, config/settings.yaml, "
                                         "config/settings.example.yaml)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    init = sub.add_parser("init", parents=[common], help="tạo hoặc nâng cấp các tab từ kế hoạch")
    init.add_argument("--if-missing", action="store_true", help="chỉ khởi tạo khi chưa có tab theo dõi")
    run = sub.add_parser("run", parents=[common], help="một lượt đồng bộ")
    run.add_argument("--as-of", type=parse_day, help="tính như thể hôm nay là ngày này")
    run.add_argument("--dry-run", action="store_true", help="tính toán nhưng không ghi gì")
    run.add_argument("--json", action="store_true", help="in bản tóm tắt dạng JSON")
    status = sub.add_parser("status", parents=[common], help="các lượt chạy gần nhất")
    status.add_argument("--json", action="store_true")
    report = sub.add_parser("report", parents=[common], help="báo cáo kỳ: quý I, 6 tháng, quý III, năm (.docx)")
    report.add_argument("--period", "--quarter", dest="period", default="auto",
                        help="kỳ báo cáo: 2024Q1, 2024H1 ('6 tháng đầu năm 2024'), 2024Q3, 2024M9, 2024Y "
                             "('năm 2024'), Q1/2024 hoặc auto (kỳ gần nhất đã qua ngày chốt số liệu)")
    report.add_argument("--date", type=parse_day, help="ngày ban hành báo cáo (mặc định: hôm nay)")
    report.add_argument("--as-of", type=parse_day, help="tính số liệu đến ngày này (mặc định: ngày chốt của kỳ)")
    report.add_argument("--send", action="store_true", help="gửi báo cáo qua e-mail (mỗi kỳ một lần)")
    report.add_argument("--force", action="store_true", help="tạo lại và gửi lại dù đã gửi")
    report.add_argument("--pdf", action="store_true", help="chuyển thêm sang PDF bằng LibreOffice")
    report.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    remind = sub.add_parser("remind", parents=[common], help="thư nhắc từng đơn vị")
    remind.add_argument("--as-of", type=parse_day, help="tính như thể hôm nay là ngày này")
    remind.add_argument("--send", action="store_true", help="gửi thư (không có: chỉ in ra để xem trước)")
    remind.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    plan_cmd = sub.add_parser("plan", help="kế hoạch: nhập từ tệp Word")
    plan_sub = plan_cmd.add_subparsers(dest="plan_command", required=True, parser_class=_Parser)
    imp = plan_sub.add_parser("import", parents=[common], help="đọc bảng phụ lục của kế hoạch (.docx) thành tệp YAML")
    imp.add_argument("file", help="tệp kế hoạch .docx")
    imp.add_argument("-o", "--output", help="tệp YAML cần ghi (mặc định: in ra màn hình)")
    imp.add_argument("--force", action="store_true", help="ghi đè tệp YAML đã có")
    sub.add_parser("daemon", parents=[common], help="chạy thường trực theo lịch (khóa cấu hình 'daemon')")
    from .history_cli import add_parsers
    add_parsers(sub, common, parse_day)
    dl = sub.add_parser("deadline", parents=[common], help="phân tích một cụm từ tiến độ")
    dl.add_argument("phrase")
    dl.add_argument("--year", type=int, help="năm dùng khi cụm từ không ghi năm (mặc định: năm của kế hoạch "
                                             "trong khóa cấu hình 'plan')")
    return parser


@contextmanager
def job_lock(settings: Settings):
    """One pass, report or reminder run at a time per state file, whoever started it (cron, daemon, a person)."""
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


def _settings(args) -> Settings:
    """The settings, read once per command (the job lock needs them before the command runs)."""
    if getattr(args, "settings", None) is None:
        args.settings = load_settings(args.config)
    return args.settings


def now_in(settings: Settings | None) -> dt.datetime:
    tz = ZoneInfo(settings.timezone if settings else "Asia/Ho_Chi_Minh")
    return dt.datetime.now(tz).replace(microsecond=0)


class _Output:
    """stdout for a reader that may stop early (`status | head -5`): once it has closed the pipe, the rest of
    the output goes to /dev/null (as Python's docs on SIGPIPE advise) and the command finishes with its own
    exit code. A closed pipe is not a fault of the job, and never a bug (exit 1)."""

    def __init__(self, stream):
        self._stream = stream

    def _gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # what is still buffered now goes nowhere, without a second error
        os.close(devnull)

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    """The command's exit code (DESIGN §5). Output to a pipe its reader closed is dropped (see _Output)."""
    stdout = sys.stdout
    if not isinstance(stdout, _Output) and hasattr(stdout, "fileno"):
        try:
            stdout.fileno()
            sys.stdout = _Output(stdout)
        except (OSError, ValueError):  # captured by a test harness: no file to redirect
            pass
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not as a message at the interpreter's exit
        return code
    except BrokenPipeError:  # written around sys.stdout (its binary buffer): the work was done, the reader left
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        return 0
    finally:
        sys.stdout = stdout


def _main(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command not in LOCKED:
            return COMMANDS[args.command](args)
        with job_lock(_settings(args)):
            return COMMANDS[args.command](args)
    except Busy as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except SyncError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:  # a bug: say so plainly, keep the details for whoever fixes it
        print(f"Lỗi trong chương trình (xin báo cho người phát triển): {exc!r}", file=sys.stderr)
        if os.environ.get("CCHC_DEBUG"):
            traceback.print_exc()
        else:
            print("Chạy lại với biến môi trường CCHC_DEBUG=1 để xem chi tiết.", file=sys.stderr)
        return 1


# --- commands ------------------------------------------------------------------------------------------

def cmd_deadline(args) -> int:
    year = args.year
    if year is not None and not 2000 <= year <= 2100:
        raise UserError(f"--year {year}: năm phải trong khoảng 2000–2100 (ví dụ --year 2025).")
    if year is None:  # the plan's year, not the calendar's: in January the plan being read is often last year's
        from .plan import load_plan
        try:
            year = load_plan(_settings(args).plan_path()).year
        except UserError as exc:
            raise UserError(f"{exc} Cần năm của kế hoạch để hiểu cụm từ; hoặc ghi rõ --year.") from None
    print(json.dumps(deadlines.parse(args.phrase, year).to_json(args.phrase, year), ensure_ascii=False))
    return 0


def _context(args):
    from .backends import open_backend
    from .plan import load_plan
    from .state import State
    settings = _settings(args)
    plan = load_plan(settings.plan_path())
    return settings, plan, open_backend(settings), State(settings.state)


def cmd_init(args) -> int:
    from .layout import build_init
    settings, plan, backend, state = _context(args)
    started = now_in(settings)
    snapshot = backend.read() if _exists(backend) else backend.empty_snapshot()
    if args.if_missing and snapshot.find_tab(settings.layout.tabs["tracking"]) is not None:
        print(f"{backend.describe()} đã có tab '{settings.layout.tabs['tracking']}'; bỏ qua khởi tạo.")
        return 0
    changes = build_init(plan, snapshot, settings.layout, backend.describe())
    from .merges import message, withhold
    withheld = withhold(changes, snapshot)  # cells a merged range hides cannot take a header or a new row
    row = state.begin_pass("init", started)  # the state file takes the record before the workbook is written
    try:
        backend.write(snapshot, changes)
    except Exception as exc:
        _record_failure(state, "init", started, row, {"backend": backend.name}, exc)
        raise
    for note in getattr(backend, "notes", ()):
        print(note, file=sys.stderr)
    if withheld:
        print(message(withheld), file=sys.stderr)
    added = changes.cell_count()
    from . import history_cli
    laid_out = history_cli.after(snapshot, changes)
    day = history_cli.init_date(state, plan, laid_out, settings.layout, started.date())
    state.record_pass("init", started, True, {"backend": backend.name, "cells_written": added,
                                              "as_of": (day or started.date()).isoformat()},
                      then=day and history_cli.recorder(state, day, laid_out, plan, settings.layout,
                                                        backend.describe()),
                      started_row=row)
    tabs = ", ".join(f"'{t}'" for t in changes.new_tabs)
    print(f"Đã khởi tạo {backend.describe()}: "
          + (f"tạo tab {tabs}; " if tabs else "")
          + (f"ghi {added} ô mới (tiêu đề, nhiệm vụ, dòng theo dõi)." if added else "không có gì mới cần thêm.")
          + " Định dạng, danh sách chọn và tô màu đã được cập nhật.")
    return 0


def _exists(backend: Backend) -> bool:
    return getattr(backend, "exists", lambda: True)()


def cmd_run(args) -> int:
    from .pipeline import PassOptions, run_pass
    from .state import State
    settings = _settings(args)
    now, state = now_in(settings), State(settings.state)
    if args.as_of and args.as_of > now.date() and not args.dry_run:  # a typo would stop history for years
        raise UserError(f"--as-of {args.as_of:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y}): một lượt "
                        "ghi vào bảng tính không được đề ngày tương lai. Kiểm tra lại ngày, hoặc thêm --dry-run để "
                        "chỉ tính thử.")
    # The state file takes this pass's record before anything else: broken, it stops the pass (exit 2)
    # before the workbook gains a log line; after this, every failure is recorded with its message.
    row = None if args.dry_run else state.begin_pass("run", now)
    as_of = args.as_of or now.date()
    try:
        if args.as_of and not args.dry_run:  # after begin_pass: a broken state file is named as such first
            from .history_cli import not_recorded
            if refused := not_recorded(state, args.as_of):
                raise UserError(refused)
        settings, plan, backend, _ = _context(args)
        source = None
        if args.dry_run:  # a past date, computed and not written: from history when it covers the date
            from .past import source_for
            source = source_for(settings.state, plan, as_of, now.date())
        from .history_cli import trends_for
        opts = PassOptions.from_settings(settings, as_of, now, dry_run=args.dry_run, emails_sent=state.unlogged_sends(),
                                         trends=trends_for(state, settings, plan, save=not args.dry_run),
                                         **(source.options() if source else {}))
        result = run_pass(backend, plan, settings.layout, opts)
    except Exception as exc:
        _record_failure(state, "run", now, row, {"backend": settings.backend, "as_of": as_of.isoformat(),
                                                     "dry_run": args.dry_run}, exc)
        raise
    summary = {**result.to_json(backend, args.dry_run), "emails_sent": opts.emails_sent}
    if source is not None:
        summary["source"] = source.kind
        print(source.sentence(), file=sys.stderr if args.json else sys.stdout)
    held = result.held
    summary["written"] = not (args.dry_run or held)
    if held:  # computed, not written: the figures still go out, the exit code says "try later"
        summary["cells_written"] = 0
        summary["not_written_reason"] = str(held)
        state.record_pass("run", now, False, summary, str(held), started_row=row)
    elif not args.dry_run:
        from .history_cli import recorder
        state.record_pass("run", now, True, summary, "\n".join(result.messages),
                          then=recorder(state, opts.as_of, result.snapshot, plan, settings.layout, backend.describe(),
                                        result.summary),
                          started_row=row)
        state.mark_logged()
    for message in result.messages:
        print(message, file=sys.stderr)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        k = summary
        prefix = "[Chạy thử, không ghi] " if args.dry_run else "[Chưa ghi] " if held else ""
        print(f"{prefix}Tính đến {opts.as_of:%d/%m/%Y}: {k['rows']} dòng, "
              f"{k['done']} hoàn thành, {k['in_progress']} đang thực hiện, {k['not_started']} chưa thực hiện, "
              f"{k['cancelled']} không thực hiện, {k['unknown_status']} chưa rõ tình trạng"
              f"{f', {n} dòng ngoài kế hoạch hoặc trùng' if (n := k['not_counted']) else ''}; "
              f"{k['overdue']} quá hạn, {k['due_soon']} sắp đến hạn, {k['missing_quarterly']} kết quả quý còn thiếu, "
              f"{k['errors']} lỗi nhập liệu.")
        if not (args.dry_run or held):
            print(f"Xem tab '{settings.layout.tabs['dashboard']}' trong {backend.describe()}.")
    if held:
        print(f"Lỗi: {held}", file=sys.stderr)
        return held.exit_code
    return 0


def _record_failure(state, command: str, started: dt.datetime, row: int | None, summary: dict,
                    exc: Exception) -> None:
    """A failed pass is recorded with its message, for `status` (unless the state file itself failed)."""
    from .state_faults import StateFileBusy, StateFileError
    if isinstance(exc, (StateFileError, StateFileBusy)):
        return
    message = str(exc) if isinstance(exc, SyncError) else f"Lỗi trong chương trình: {exc!r}"
    state.record_pass(command, started, False, summary, message, started_row=row)


def cmd_status(args) -> int:
    """Exit 4 when the last good pass is older than status.max_age_hours (or there is none): for monitors."""
    import sqlite3

    from .state import STARTED, State
    from .state_faults import StateFileBusy, StateFileError
    settings = _settings(args)
    state = State(settings.state)
    problem = state.problem()  # what would stop the next pass (damaged, read-only, foreign): said, exit 2
    try:
        if isinstance(problem, StateFileBusy):  # already waited the busy timeout once: do not wait it again
            raise problem
        passes, sends, last = state.passes(10), state.sends(10), state.last_good_pass()
    except (StateFileError, StateFileBusy, sqlite3.Error) as exc:
        if problem is None and not isinstance(exc, SyncError):
            raise
        passes, sends, last, problem = None, [], None, problem or exc
    now = now_in(settings)
    age_h = None
    if last:
        age_h = (now - dt.datetime.fromisoformat(last["started_at"])).total_seconds() / 3600
    stale = age_h is None or age_h > settings.status.max_age_hours
    unsent = [x for x in sends if x["status"] != "sent"]
    if args.json:
        print(json.dumps({"last_good_pass": last and last["started_at"], "age_hours": age_h, "stale": stale,
                          "passes": passes, "sends": sends, "unsent": len(unsent),
                          "problem": problem and str(problem),
                          "new_plan_needed": _new_plan_needed(settings, now.date())},
                         ensure_ascii=False, default=str))
        return problem.exit_code if problem else 4 if stale else 0
    print("Các lượt chạy gần nhất:" if passes else "Chưa có lượt chạy nào." if passes is not None
          else "Không đọc được các lượt chạy (xem lỗi tệp trạng thái bên dưới).")
    for p in passes or ():
        first = (p["message"] or "").splitlines()[0] if p["message"] else ""
        if p["ok"] and p["command"] != "run":  # init, restore: what they wrote, not figures they never computed
            written = (json.loads(p["summary"] or "{}") or {}).get("cells_written")
            what = f"ghi {written} ô" if written else "không ghi ô nào" if written == 0 else ""
            print(f"  {p['started_at']}  {p['command']:<6} OK   {what}  {first}".rstrip())
        elif p["ok"]:
            print(f"  {p['started_at']}  {p['command']:<6} OK   tính đến {p['as_of'] or '-'}  {p['rows'] or 0} dòng, "
                  f"{p['errors'] or 0} lỗi, {p['overdue'] or 0} quá hạn  {first}".rstrip())
        else:  # a failed pass shows why, not figures it never had
            print(f"  {p['started_at']}  {p['command']:<6} {'DỞ ' if first == STARTED else 'LỖI'}  "
                  f"tính đến {p['as_of'] or '-'}  {first}".rstrip())
    if sends:
        print("Thư đã gửi gần nhất:")
        labels = {"sent": "ĐÃ GỬI", "failed": "LỖI", "sending": "ĐANG GỬI (bị ngắt?)"}
        for x in sends:
            kind = "báo cáo" if x["kind"] == "report" else "nhắc việc"
            print(f"  {x['sent_at'] or x['attempted_at']}  {kind} {x['period']} → {x['recipient']}: "
                  f"{labels.get(x['status'], x['status'])}{'  ' + x['error'] if x['error'] else ''}")
    if unsent:
        print(f"{len(unsent)} thư chưa gửi được; lần chạy sau sẽ gửi lại.")
    if last is None and passes is not None:
        print(f"Chưa có lượt chạy 'run' nào thành công (tệp trạng thái '{settings.state}').")
    elif last is not None:
        print(f"Lượt chạy tốt gần nhất: {last['started_at']} ({age_h:.1f} giờ trước; "
              f"ngưỡng cảnh báo {settings.status.max_age_hours:g} giờ).")
    if stale and passes is not None:
        print("CẢNH BÁO: đã quá lâu không có lượt chạy thành công; kiểm tra cron/daemon và 'Lỗi' ở trên.")
    if (needed := _new_plan_needed(settings, now.date())):
        print(needed)
    if problem:
        print(f"Lỗi: {problem}", file=sys.stderr)
        return problem.exit_code
    return 4 if stale else 0


def _new_plan_needed(settings: Settings, today: dt.date) -> str | None:
    """After the plan year's last cut-off no report is owed any more: say that next year's plan is needed."""
    from . import periods
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


def cmd_report(args) -> int:
    from reports import build
    from reports.content import vn_date

    from . import periods
    from .notify import send_report
    from .witness import Witness
    settings, plan, backend, state = _context(args)
    say, now, rs = _say(args), now_in(settings), settings.report
    issued = args.date or now.date()
    cutoff_day = settings.deadlines.quarter_cutoff_day
    if periods.is_auto(args.period):
        period = periods.auto(issued, plan.year, cutoff_day, rs.cycle, rs.third)
        if period is None:
            first = periods.first(plan.year, rs.cycle, rs.third)
            say(f"Chưa đến kỳ báo cáo nào của Kế hoạch năm {plan.year}: kỳ đầu tiên ({first.name}) chốt số liệu "
                f"ngày {first.cutoff(cutoff_day):%d/%m/%Y}.")
            return 0
        if period == periods.last(plan.year, rs.cycle, rs.third) and args.send and not args.force \
                and _all_sent(settings, state, period):
            say(f"Báo cáo {period.name} đã gửi; Kế hoạch năm {plan.year} không còn kỳ báo cáo nào. Cần kế hoạch "
                f"năm {plan.year + 1}: python -m sync plan import <tệp kế hoạch .docx> -o <tệp .yaml>, rồi đặt "
                "khóa cấu hình 'plan'.")
            return 0
    else:
        period = periods.parse(args.period, rs.cycle, rs.third)
        if period.year != plan.year:
            raise UserError(f"Kỳ báo cáo {period.name} không thuộc năm của Kế hoạch ({plan.year}, tệp "
                            f"'{settings.plan_path()}'): năm {period.year} khác năm {plan.year}. Chọn một kỳ của năm "
                            f"{plan.year} ({periods.FORMS}), hoặc nhập kế hoạch năm {period.year} bằng "
                            "'python -m sync plan import'.")
    as_of = args.as_of or period.cutoff(cutoff_day)
    start = period.window(cutoff_day)[0]
    if as_of < start:
        raise UserError(f"Ngày số liệu {as_of:%d/%m/%Y} (--as-of) ở trước kỳ báo cáo {period.name} (số liệu từ "
                        f"{start:%d/%m/%Y} đến {period.cutoff(cutoff_day):%d/%m/%Y}); báo cáo không thể mang số liệu "
                        "của trước kỳ. Bỏ --as-of (mặc định là ngày chốt của kỳ) hoặc chọn một ngày trong kỳ.")
    if issued < as_of:
        raise UserError(f"Ngày ban hành {issued:%d/%m/%Y} (--date) ở trước ngày số liệu {as_of:%d/%m/%Y} "
                        f"({'--as-of' if args.as_of else 'ngày chốt của ' + period.name}); báo cáo không thể ban "
                        "hành trước khi có số liệu. Dùng --date YYYY-MM-DD hoặc dd/mm/yyyy không trước ngày số liệu (hoặc "
                        "--as-of để xem trước số liệu đến một ngày sớm hơn).")
    pdf_wanted = args.pdf or rs.pdf
    if pdf_wanted:
        build.require_soffice()  # say so before anything is written
    if args.send and not settings.mail.report_to:  # before anything is built, not after
        from .notify import NO_RECIPIENTS
        raise UserError(NO_RECIPIENTS)
    path = build.report_path(settings, period)
    witness = Witness(path, period.key)
    ledger = state.sent_to("report", period.key)
    lost = witness.unknown_to(ledger)
    recipients = None  # everyone in mail.report_to (the ledger still skips who has it)
    if args.send and lost and not args.force:
        # the witness is per recipient: refuse only those it lists, send to the others
        recipients = [r for r in settings.mail.report_to if r.lower() not in lost]
        known = {r.lower() for r in ledger}
        if not any(r.lower() not in known for r in recipients):
            raise UserError(f"Báo cáo {period.name} đã gửi cho {', '.join(lost)} (ghi nhận tại '{witness.path}') "
                            f"nhưng tệp trạng thái '{settings.state}' không ghi lần gửi đó (tệp bị xóa hoặc thay?). "
                            "Không gửi lại để tránh gửi trùng; nếu thật sự cần gửi lại, chạy lại với --force.")
        say(f"Không gửi lại cho {', '.join(lost)}: tệp ghi nhận '{witness.path}' cho biết họ đã nhận báo cáo "
            f"{period.name} (tệp trạng thái '{settings.state}' không ghi lần gửi đó). Chỉ gửi cho người nhận chưa có "
            "trong tệp ghi nhận; dùng --force nếu thật sự cần gửi lại cho mọi người.")
    sent = bool(ledger or witness.sent())
    keep = sent and path.exists() and not args.force  # never overwrite what was sent, unless asked
    # a kept report is e-mailed with the figures it prints (saved beside it), never today's sheet's
    report = None if keep else build.gather(settings, plan, backend, period, as_of, issued, now)
    out = {"period": period.key, "quarter": period.key, "path": str(path), "built": not keep, "pdf": None,
           "issued": issued.isoformat(), "annex": None}
    pdf = path.with_suffix(".pdf")
    if keep:
        say(f"Báo cáo {period.name} đã gửi; giữ nguyên tệp '{path}' (dùng --force để tạo lại).")
    else:
        if sent and (copy := build.keep_sent_copy(path, now)):
            say(f"Đã lưu bản đã gửi trước đây thành '{copy}'.")
        build.write(report, settings, path)
        annex = build.annex_path(path)
        out.update(as_of=report.as_of.isoformat(), has_data=report.has_data, **report.kpis,
                   missing_listed=report.missing_count, annex=str(annex) if annex.exists() else None)
        say(f"Đã tạo báo cáo {period.name} (ban hành {vn_date(issued)}, số liệu tính đến {report.as_of:%d/%m/%Y}): "
            f"'{path}'." + ("" if report.has_data else " Kỳ này chưa có số liệu; báo cáo ghi rõ điều đó."))
        if out["annex"]:
            say(f"Danh sách {len(report.errors)} lỗi nhập liệu (nội bộ, không gửi kèm): '{annex}'.")
        if pdf.exists() and not pdf_wanted:
            pdf.unlink()  # never a PDF older than its .docx beside it
            say(f"Đã xóa '{pdf}' cũ (không còn khớp với tệp .docx mới; dùng --pdf để tạo lại).")
    if pdf_wanted and (not keep or not pdf.exists() or pdf.stat().st_mtime < path.stat().st_mtime):
        out["pdf"] = str(build.to_pdf(path))
        say(f"Đã chuyển sang PDF: '{out['pdf']}'.")
    elif pdf_wanted:
        out["pdf"] = str(pdf)
    if args.send:
        files = [path] + ([pdf] if pdf_wanted else [])
        figures = build.saved_figures(path, period) if keep else report
        out["emails_sent"] = send_report(settings, state, figures, files, now, args.force, say, witness, recipients)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


def _all_sent(settings: Settings, state, period) -> bool:
    from .notify import report_all_sent
    return report_all_sent(settings, state, period)


def _say(args):
    """Human messages go to stdout, or to stderr when stdout carries --json."""
    stream = sys.stderr if getattr(args, "json", False) else sys.stdout
    return lambda text: print(text, file=stream)


def cmd_remind(args) -> int:
    from .notify import remind
    from .pipeline import PassOptions, compute
    settings, plan, backend, state = _context(args)
    now = now_in(settings)
    opts = PassOptions.from_settings(settings, args.as_of or now.date(), now, dry_run=True)
    summary = compute(backend.read(), plan, settings.layout, opts, backend.describe()).summary
    units = remind(settings, plan, summary, state, now, args.send, _say(args))
    if args.json:
        print(json.dumps({"as_of": opts.as_of.isoformat(), "units": units,
                          "emails_sent": sum(len(u["sent"]) for u in units)}, ensure_ascii=False))
    return 0


def cmd_plan(args) -> int:
    from .plan import load_plan
    from .plan_import import import_plan, review, to_yaml
    settings = _settings(args)
    source = Path(args.file)
    if not source.exists():
        raise UserError(f"Không tìm thấy tệp '{source}'.")
    if args.output and Path(args.output).exists() and not args.force:
        raise UserError(f"Tệp '{args.output}' đã có; chọn tên khác hoặc thêm --force để ghi đè.")
    imported = import_plan(source, load_plan(settings.plan_path()))
    draft, drafts = imported.plan, imported.drafts
    text = to_yaml(draft, source, drafts)
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        print(f"Đã đọc {len(drafts)} nhiệm vụ từ '{source}' vào '{out}'. Kiểm tra lại đơn vị chủ trì/phối hợp "
              f"của từng nhiệm vụ, rồi đặt khóa cấu hình 'plan: {out}', một bảng tính ('local.path' hoặc Google "
              f"Sheet) và tệp 'state' mới cho năm {draft['year']}, và chạy 'python -m sync init'.")
    else:
        print(text, end="")
    for line in review(draft, drafts, imported):
        print(f"Cần xem lại: {line}", file=sys.stderr)
    return 0


def cmd_daemon(args) -> int:
    from . import daemon
    from .plan import load_plan
    settings = _settings(args)
    plan = load_plan(settings.plan_path())
    return daemon.main(settings, args.config or str(settings.source), plan.year, lambda: now_in(settings))


def cmd_history(args) -> int:
    from .history_cli import cmd_history as history
    from .plan import load_plan
    settings = _settings(args)
    return history(args, settings, load_plan(settings.plan_path()), now_in(settings).date())


def cmd_restore(args) -> int:
    from .history_cli import cmd_restore as restore
    settings, plan, backend, state = _context(args)
    return restore(args, settings, plan, backend, state, now_in(settings))


def cmd_export(args) -> int:
    from .history_cli import cmd_export as export
    settings, plan, backend, _state = _context(args)
    return export(args, settings, plan, backend, now_in(settings))


LOCKED = {"init", "run", "report", "remind", "restore"}
COMMANDS = {"init": cmd_init, "run": cmd_run, "report": cmd_report, "remind": cmd_remind, "plan": cmd_plan, "daemon": cmd_daemon,
            "status": cmd_status, "history": cmd_history, "restore": cmd_restore, "export": cmd_export,
            "deadline": cmd_deadline}

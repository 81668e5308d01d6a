"""The command line (DESIGN.md §5): `python -m sync COMMAND [--config PATH]`. Thin: parse, call, print.

Exit codes: 0 done (data problems are reported in the sheet), 2 bad config or usage, 3 backend or mail
server unreachable, 1 a bug.
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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: exit 2 with the message, like every bad input
        self.print_usage(sys.stderr)
        raise UserError(f"{self.prog}: {message}")


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
    report = sub.add_parser("report", parents=[common], help="báo cáo quý (.docx)")
    report.add_argument("--quarter", default="auto", help="quý báo cáo: 2024Q1, Q1/2024, 'Quý I/2024' hoặc auto "
                                                          "(quý gần nhất đã qua ngày chốt số liệu)")
    report.add_argument("--as-of", type=parse_day, help="tính số liệu đến ngày này (mặc định: ngày chốt của quý)")
    report.add_argument("--send", action="store_true", help="gửi báo cáo qua e-mail (mỗi quý một lần)")
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
    dl = sub.add_parser("deadline", parents=[common], help="phân tích một cụm từ tiến độ")
    dl.add_argument("phrase")
    dl.add_argument("--year", type=int)
    return parser


@contextmanager
def job_lock(settings: Settings):
    """One pass, report or reminder run at a time per state file, whoever started it (cron, daemon, a person)."""
    path = Path(f"{settings.state}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=settings.lock_wait_s)
    try:
        lock.acquire()
    except Timeout:
        raise Busy(f"Bỏ qua: một lượt khác vẫn đang chạy sau {settings.lock_wait_s:g} giây chờ (khóa '{path}'). "
                   "Nếu không có lượt nào đang chạy, kiểm tra tiến trình treo bằng 'python -m sync status'.") from None
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


def main(argv: list[str] | None = None) -> int:
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
    except Exception as exc:  # a bug: say so plainly, keep the details for whoever fixes it
        print(f"Lỗi trong chương trình (xin báo cho người phát triển): {exc!r}", file=sys.stderr)
        if os.environ.get("CCHC_DEBUG"):
            traceback.print_exc()
        else:
            print("Chạy lại với biến môi trường CCHC_DEBUG=1 để xem chi tiết.", file=sys.stderr)
        return 1


# --- commands ------------------------------------------------------------------------------------------

def cmd_deadline(args) -> int:
    year = args.year or dt.date.today().year
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
    changes = build_init(plan, snapshot, settings.layout)
    backend.write(snapshot, changes)
    added = changes.cell_count()
    state.record_pass("init", started, True, {"backend": backend.name, "cells_written": added})
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
    settings, plan, backend, state = _context(args)
    now = now_in(settings)
    opts = PassOptions.from_settings(settings, args.as_of or now.date(), now, dry_run=args.dry_run,
                                     emails_sent=state.unlogged_sends())
    try:
        result = run_pass(backend, plan, settings.layout, opts)
    except SyncError as exc:
        state.record_pass("run", now, False, {"backend": backend.name, "as_of": opts.as_of.isoformat()}, str(exc))
        raise
    summary = {**result.to_json(backend, args.dry_run), "emails_sent": opts.emails_sent}
    if not args.dry_run:
        state.record_pass("run", now, True, summary, "\n".join(result.messages), result.writes.cells)
        state.mark_logged()
    for message in result.messages:
        print(message, file=sys.stderr)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        k = summary
        print(f"{'[Chạy thử, không ghi] ' if args.dry_run else ''}Tính đến {opts.as_of:%d/%m/%Y}: {k['rows']} dòng, "
              f"{k['done']} hoàn thành, {k['in_progress']} đang thực hiện, {k['not_started']} chưa thực hiện, "
              f"{k['cancelled']} không thực hiện, {k['unknown_status']} chưa rõ tình trạng"
              f"{f', {n} dòng ngoài kế hoạch hoặc trùng' if (n := k['not_counted']) else ''}; "
              f"{k['overdue']} quá hạn, {k['due_soon']} sắp đến hạn, {k['missing_quarterly']} kết quả quý còn thiếu, "
              f"{k['errors']} lỗi nhập liệu.")
        if not args.dry_run:
            print(f"Xem tab '{settings.layout.tabs['dashboard']}' trong {backend.describe()}.")
    return 0


def cmd_status(args) -> int:
    """Exit 4 when the last good pass is older than status.max_age_hours (or there is none): for monitors."""
    from .state import State
    settings = _settings(args)
    state = State(settings.state)
    passes, sends, last = state.passes(10), state.sends(10), state.last_good_pass()
    now = now_in(settings)
    age_h = None
    if last:
        age_h = (now - dt.datetime.fromisoformat(last["started_at"])).total_seconds() / 3600
    stale = age_h is None or age_h > settings.status.max_age_hours
    unsent = [x for x in sends if x["status"] != "sent"]
    if args.json:
        print(json.dumps({"last_good_pass": last and last["started_at"], "age_hours": age_h, "stale": stale,
                          "passes": passes, "sends": sends, "unsent": len(unsent)}, ensure_ascii=False, default=str))
        return 4 if stale else 0
    print("Các lượt chạy gần nhất:" if passes else "Chưa có lượt chạy nào.")
    for p in passes:
        print(f"  {p['started_at']}  {p['command']:<6} {'OK ' if p['ok'] else 'LỖI'}  "
              f"tính đến {p['as_of'] or '-'}  {p['rows'] or 0} dòng, {p['errors'] or 0} lỗi, "
              f"{p['overdue'] or 0} quá hạn  {(p['message'] or '').splitlines()[0] if p['message'] else ''}".rstrip())
    if sends:
        print("Thư đã gửi gần nhất:")
        labels = {"sent": "ĐÃ GỬI", "failed": "LỖI", "sending": "ĐANG GỬI (bị ngắt?)"}
        for x in sends:
            kind = "báo cáo" if x["kind"] == "report" else "nhắc việc"
            print(f"  {x['sent_at'] or x['attempted_at']}  {kind} {x['period']} → {x['recipient']}: "
                  f"{labels.get(x['status'], x['status'])}{'  ' + x['error'] if x['error'] else ''}")
    if unsent:
        print(f"{len(unsent)} thư chưa gửi được; lần chạy sau sẽ gửi lại.")
    if last is None:
        print(f"Chưa có lượt chạy 'run' nào thành công (tệp trạng thái '{settings.state}').")
    else:
        print(f"Lượt chạy tốt gần nhất: {last['started_at']} ({age_h:.1f} giờ trước; "
              f"ngưỡng cảnh báo {settings.status.max_age_hours:g} giờ).")
    if stale:
        print("CẢNH BÁO: đã quá lâu không có lượt chạy thành công; kiểm tra cron/daemon và 'Lỗi' ở trên.")
    return 4 if stale else 0


def cmd_report(args) -> int:
    from reports import build, content

    from .notify import send_report
    settings, plan, backend, state = _context(args)
    say, now = _say(args), now_in(settings)
    today = args.as_of or now.date()
    quarter = content.parse_quarter(args.quarter, today, settings.deadlines.quarter_cutoff_day)
    if args.pdf:
        build.require_soffice()  # say so before anything is written
    path = build.report_path(settings, quarter)
    sent = state.sent_to("report", quarter.key)
    keep = bool(sent) and path.exists() and not args.force  # never overwrite what was sent, unless asked
    report = None if keep and not args.send else build.gather(settings, plan, backend, quarter, args.as_of, today,
                                                               now)
    out = {"quarter": quarter.key, "path": str(path), "built": not keep, "pdf": None}
    if keep:
        say(f"Báo cáo {quarter.label}/{quarter.year} đã gửi cho {len(sent)} người nhận; giữ nguyên tệp '{path}' "
            "(dùng --force để tạo lại).")
    else:
        if sent and (copy := build.keep_sent_copy(path, now)):
            say(f"Đã lưu bản đã gửi trước đây thành '{copy}'.")
        build.write(report, settings, path)
        out.update(as_of=report.as_of.isoformat(), has_data=report.has_data, **report.kpis)
        say(f"Đã tạo báo cáo {quarter.label}/{quarter.year} (số liệu tính đến {report.as_of:%d/%m/%Y}): '{path}'."
            + ("" if report.has_data else " Quý này chưa có số liệu; báo cáo ghi rõ điều đó."))
    if args.pdf:
        out["pdf"] = str(build.to_pdf(path))
        say(f"Đã chuyển sang PDF: '{out['pdf']}'.")
    if args.send:
        out["emails_sent"] = send_report(settings, state, report, path, now, args.force, say)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


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
    from .plan_import import build_draft, review, to_yaml
    settings = _settings(args)
    source = Path(args.file)
    if not source.exists():
        raise UserError(f"Không tìm thấy tệp '{source}'.")
    if args.output and Path(args.output).exists() and not args.force:
        raise UserError(f"Tệp '{args.output}' đã có; chọn tên khác hoặc thêm --force để ghi đè.")
    draft, drafts = build_draft(source, load_plan(settings.plan_path()))
    text = to_yaml(draft, source, drafts)
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        print(f"Đã đọc {len(drafts)} nhiệm vụ từ '{source}' vào '{out}'. Kiểm tra lại đơn vị chủ trì/phối hợp "
              f"của từng nhiệm vụ, rồi đặt khóa cấu hình 'plan: {out}' và chạy 'python -m sync init'.")
    else:
        print(text, end="")
    for line in review(draft, drafts):
        print(f"Cần xem lại: {line}", file=sys.stderr)
    return 0


def cmd_daemon(args) -> int:
    from . import daemon
    from .plan import load_plan
    settings = _settings(args)
    plan = load_plan(settings.plan_path())
    return daemon.main(settings, args.config or str(settings.source), plan.year, lambda: now_in(settings))


LOCKED = {"init", "run", "report", "remind"}
COMMANDS = {"init": cmd_init, "run": cmd_run, "report": cmd_report, "remind": cmd_remind, "plan": cmd_plan, "daemon": cmd_daemon,
            "status": cmd_status,
            "deadline": cmd_deadline}

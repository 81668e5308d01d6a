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
from zoneinfo import ZoneInfo

from . import deadlines
from .config import Settings, load_settings
from .errors import SyncError, UserError
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
    dl = sub.add_parser("deadline", parents=[common], help="phân tích một cụm từ tiến độ")
    dl.add_argument("phrase")
    dl.add_argument("--year", type=int)
    return parser


def now_in(settings: Settings | None) -> dt.datetime:
    tz = ZoneInfo(settings.timezone if settings else "Asia/Ho_Chi_Minh")
    return dt.datetime.now(tz).replace(microsecond=0)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
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
    settings = load_settings(args.config)
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
    opts = PassOptions(as_of=args.as_of or now.date(), now=now, cutoff_day=settings.deadlines.quarter_cutoff_day,
                       due_soon_days=settings.deadlines.due_soon_days, dry_run=args.dry_run)
    try:
        result = run_pass(backend, plan, settings.layout, opts)
    except SyncError as exc:
        state.record_pass("run", now, False, {"backend": backend.name, "as_of": opts.as_of.isoformat()}, str(exc))
        raise
    summary = result.to_json(backend, args.dry_run)
    if not args.dry_run:
        state.record_pass("run", now, True, summary, "\n".join(result.messages), result.writes.cells)
    for message in result.messages:
        print(message, file=sys.stderr)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        k = summary
        print(f"{'[Chạy thử, không ghi] ' if args.dry_run else ''}Tính đến {opts.as_of:%d/%m/%Y}: {k['rows']} dòng, "
              f"{k['done']} hoàn thành, {k['in_progress']} đang thực hiện, {k['not_started']} chưa thực hiện; "
              f"{k['overdue']} quá hạn, {k['due_soon']} sắp đến hạn, {k['missing_quarterly']} kết quả quý còn thiếu, "
              f"{k['errors']} lỗi nhập liệu.")
        if not args.dry_run:
            print(f"Xem tab '{settings.layout.tabs['dashboard']}' trong {backend.describe()}.")
    return 0


def cmd_status(args) -> int:
    from .state import State
    settings = load_settings(args.config)
    state = State(settings.state)
    passes = state.passes(10)
    last = state.last_good_pass()
    now = now_in(settings)
    age_h = None
    if last:
        age_h = (now - dt.datetime.fromisoformat(last["started_at"])).total_seconds() / 3600
    stale = age_h is None or age_h > settings.status.max_age_hours
    if args.json:
        print(json.dumps({"last_good_pass": last and last["started_at"], "age_hours": age_h, "stale": stale,
                          "passes": passes}, ensure_ascii=False, default=str))
    else:
        for p in passes:
            print(f"{p['started_at']}  {p['command']:<6} {'OK ' if p['ok'] else 'LỖI'}  "
                  f"tính đến {p['as_of'] or '-'}  {p['rows'] or 0} dòng, {p['errors'] or 0} lỗi, "
                  f"{p['overdue'] or 0} quá hạn  {p['message'] or ''}".rstrip())
        if last is None:
            print(f"Chưa có lượt chạy 'run' nào thành công (tệp trạng thái '{settings.state}').")
        else:
            print(f"Lượt chạy tốt gần nhất: {last['started_at']} ({age_h:.1f} giờ trước; "
                  f"ngưỡng cảnh báo {settings.status.max_age_hours:g} giờ).")
    return 4 if stale else 0


COMMANDS = {"init": cmd_init, "run": cmd_run, "status": cmd_status, "deadline": cmd_deadline}

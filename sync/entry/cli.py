"""The command line (docs/operations.md): `python -m sync COMMAND [--config PATH]`. Thin: parse the arguments,
call one use case of sync/usecases/ (which opens its own ports: no adapter is opened here), print its result
(text, or --json). The daemon calls the same use cases without this module (sync/entry/daemon.py), so a command
behaves the same from cron, from the daemon and by hand.

Exit codes: 0 done (data problems are reported in the sheet; also a run skipped by the job lock), 2 bad config,
usage, workbook shape or state file, 3 backend, state file or mail server unreachable or busy, 4 `status`: no
good pass for too long, 1 a bug.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

from sync.core import deadlines
from sync.core.config import Settings, load_settings
from sync.core.errors import UserError
from sync.usecases.common import LOCKED, Line, Lines, failure, job_lock, now_in
from sync.usecases.ports import open_ports, plan_ports


class _Formatter(argparse.RawDescriptionHelpFormatter):  # the epilog's example keeps its lines
    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup], prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "cách dùng: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:  # argparse's own headings, in Vietnamese
        super().__init__(*args, **{"formatter_class": _Formatter, **kwargs})
        self._positionals.title, self._optionals.title = "tham số", "tùy chọn"
        if "-h" in self._option_string_actions:
            self._option_string_actions["-h"].help = "in hướng dẫn này rồi thoát"

    def error(self, message: str) -> NoReturn:  # usage errors: exit 2 with the message, like every bad input
        from sync.core.problems import argparse_message
        self.print_usage(sys.stderr)
        raise UserError(f"{self.prog}: {argparse_message(message)}")


def parse_day(text: str) -> dt.date:
    """A day on the command line, read by the core's one date reader (sync.core.deadlines.parse_date): 2024-09-20
    or 20/09/2024. The year is written in full here (a unit's "20/9/24" in the sheet is read, a command's is not:
    a typo in a command dates a pass or a report)."""
    day = None
    if re.search(r"(?<!\d)\d{4}(?!\d)", text):  # a year in full
        try:
            day = deadlines.parse_date(text)
        except deadlines.DateError:
            day = None
    if day is None:
        raise argparse.ArgumentTypeError(f"ngày '{text}' không hợp lệ; dùng YYYY-MM-DD hoặc dd/mm/yyyy")
    return day


# --- the commands' arguments -------------------------------------------------------------------------------

def _new_state_arg(p: argparse.ArgumentParser) -> None:
    from sync.core.errors import NEW_STATE
    p.add_argument(NEW_STATE, action="store_true", help="chấp nhận tệp trạng thái mới (trống) cho bảng tính đã có lượt "
                                                        "chạy trong tab Nhật ký: lịch sử và sổ gửi thư cũ không còn")


def _init_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--if-missing", action="store_true", help="chỉ khởi tạo khi chưa có tab theo dõi")
    _new_state_arg(p)


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=parse_day, help="tính như thể hôm nay là ngày này")
    p.add_argument("--dry-run", action="store_true", help="tính toán nhưng không ghi gì")
    p.add_argument("--json", action="store_true", help="in bản tóm tắt dạng JSON")
    _new_state_arg(p)


def _status_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", "--quarter", dest="period", default="auto",
                   help="kỳ báo cáo: 2024Q1, 2024H1 ('6 tháng đầu năm 2024'), 2024Q3, 2024M9, 2024Y "
                        "('năm 2024'), Q1/2024 hoặc auto (kỳ gần nhất đã qua ngày chốt số liệu)")
    p.add_argument("--date", type=parse_day, help="ngày ban hành báo cáo (mặc định: hôm nay)")
    p.add_argument("--as-of", type=parse_day, help="tính số liệu đến ngày này (mặc định: ngày chốt của kỳ)")
    p.add_argument("--send", action="store_true", help="gửi báo cáo qua e-mail (mỗi kỳ một lần)")
    p.add_argument("--force", action="store_true", help="tạo lại và gửi lại dù đã gửi")
    p.add_argument("--pdf", action="store_true", help="chuyển thêm sang PDF bằng LibreOffice")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    _new_state_arg(p)


def _remind_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=parse_day, help="tính như thể hôm nay là ngày này")
    p.add_argument("--send", action="store_true", help="gửi thư (không có: chỉ in ra để xem trước)")
    p.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    _new_state_arg(p)


def _plan_import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="tệp kế hoạch .docx")
    p.add_argument("-o", "--output", help="tệp YAML cần ghi (mặc định: in ra màn hình)")
    p.add_argument("--force", action="store_true", help="ghi đè tệp YAML đã có")


def _history_args(h: argparse.ArgumentParser) -> None:
    h.add_argument("--task", help="chỉ nhiệm vụ có STT này")
    h.add_argument("--unit", help="chỉ đơn vị này (mã đơn vị trong kế hoạch, hoặc tên)")
    h.add_argument("--column", help="chỉ cột này (khóa cột, ví dụ status, q1, done_date, hoặc tên cột)")
    h.add_argument("--since", type=parse_day, help="từ ngày (theo ngày số liệu của lượt chạy)")
    h.add_argument("--until", type=parse_day, help="đến ngày")
    h.add_argument("--at", type=parse_day, help="các dòng như đã có tại ngày này (từ lượt chạy cuối cùng đến ngày đó)")
    h.add_argument("-o", "--output", help="với --at: ghi thành tệp .xlsx bố cục như tab theo dõi")
    h.add_argument("--json", action="store_true", help="in dạng JSON")


def _restore_args(r: argparse.ArgumentParser) -> None:
    r.add_argument("--task", required=True, help="STT của nhiệm vụ")
    r.add_argument("--unit", required=True, help="mã đơn vị (hoặc tên)")
    r.add_argument("--at", required=True, type=parse_day, help="ngày có giá trị cần khôi phục")
    r.add_argument("--column", help="chỉ khôi phục cột này (khóa cột hoặc tên cột)")
    r.add_argument("--dry-run", action="store_true", help="chỉ cho xem thay đổi, không ghi")
    r.add_argument("--yes", action="store_true", help="ghi thật (không có: chỉ cho xem thay đổi)")
    r.add_argument("--force", action="store_true", help="ghi cả ô đã bị sửa sau lượt chạy gần nhất")


def _export_args(e: argparse.ArgumentParser) -> None:
    e.add_argument("--at", type=parse_day, help="các dòng như đã có tại ngày này, tính đến ngày đó")
    e.add_argument("-o", "--output", help="tệp .csv hoặc .xlsx (mặc định: in CSV ra màn hình)")


def _deadline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("phrase")
    p.add_argument("--year", type=int, help="năm dùng khi cụm từ không ghi năm (mặc định: năm của kế hoạch "
                                            "trong khóa cấu hình 'plan')")


#: One example per command (and group), shown at the end of its `--help`: the command line, then what it does.
EXAMPLES: dict[str, tuple[str, str]] = {
    "": ("python -m sync run --config config/demo.yaml --as-of 2024-09-20",
         "một lượt trên bản demo (tạo bằng 'make demo'); 'python -m sync LỆNH --help' cho từng lệnh"),
    "init": ("python -m sync init --config config/demo.yaml",
             "thêm vào bảng tính những tab, dòng, danh sách chọn còn thiếu; không xóa, không ghi đè ô đã nhập"),
    "run": ("python -m sync run --as-of 2024-09-20 --dry-run",
            "tính số liệu như tại ngày 20/09/2024 mà không ghi gì"),
    "status": ("python -m sync status --json", "các lượt chạy và thư gần nhất, dạng JSON (mã thoát 4 khi quá lâu "
                                               "không có lượt tốt)"),
    "report": ("python -m sync report --period 2024Q3 --date 2024-09-20 --send",
               "báo cáo quý III năm 2024, ban hành ngày 20/09/2024, gửi mỗi người nhận một lần"),
    "remind": ("python -m sync remind --as-of 2024-09-20",
               "xem trước thư nhắc từng đơn vị; thêm --send để gửi"),
    "plan": ("python -m sync plan import ke-hoach-2025.docx -o config/plans/ke-hoach-2025.yaml",
             "đọc bảng phụ lục của kế hoạch năm mới thành tệp kế hoạch nháp"),
    "plan import": ("python -m sync plan import ke-hoach-2025.docx -o config/plans/ke-hoach-2025.yaml",
                    "đọc bảng phụ lục của kế hoạch năm mới thành tệp kế hoạch nháp, rồi liệt kê chỗ cần xem lại"),
    "daemon": ("python -m sync daemon --config config/settings.yaml",
               "chạy thường trực: các lượt trong giờ làm việc, báo cáo sau ngày chốt, thư nhắc hằng tuần"),
    "history": ("python -m sync history --task 4 --unit CNTT --column status",
                "những lần cột Tình trạng của nhiệm vụ 4, đơn vị CNTT được sửa"),
    "restore": ("python -m sync restore --task 3 --unit VP --at 2024-09-25",
                "xem các ô của dòng sẽ trở về giá trị tại 25/09/2024; thêm --yes để ghi"),
    "export": ("python -m sync export --at 2024-09-14 -o theo-doi-14-09-2024.xlsx",
               "mọi dòng theo dõi, tính đến ngày chốt quý III, thành tệp .xlsx"),
    "deadline": ('python -m sync deadline "Hàng quý, trước ngày 10 tháng cuối quý"',
                 "công cụ hiểu cụm từ tiến độ này thế nào (JSON)"),
}


def example(name: str) -> str:
    """The epilog of a command's `--help`: its one example."""
    line, what = EXAMPLES[name]
    return f"ví dụ:\n  {line}\n      {what}"


@functools.cache
def build_parser() -> argparse.ArgumentParser:
    """The parser, one sub-command per entry of COMMANDS (in its order), each `--help` ending with its example.
    Built once per process: parsing leaves it as it was, and a process that runs several commands (tests, a
    shell loop in Python) reuses it."""
    parser = _Parser(prog="python -m sync", description="Theo dõi kế hoạch tuyên truyền CCHC.", epilog=example(""))
    common = argparse.ArgumentParser(add_help=False)  # lends --config to each command (its headings stay out)
    common.add_argument("--config", help="tệp cấu hình (mặc định: $CCHC_CONFIG, config/settings.yaml, "
                                         "config/settings.example.yaml)")
    sub: Any = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    groups: dict[str, Any] = {}
    for name, command in COMMANDS.items():
        group, _, leaf = name.rpartition(" ")
        if group:  # `plan import`: a sub-command of its own group
            if group not in groups:
                holder = sub.add_parser(group, help=GROUPS[group], epilog=example(group))
                groups[group] = holder.add_subparsers(dest=f"{group}_command", required=True, parser_class=_Parser)
            p = groups[group].add_parser(leaf, parents=[common], help=command.help, epilog=example(name))
        else:
            p = sub.add_parser(name, parents=[common], help=command.help, epilog=example(name))
        if command.arguments is not None:
            command.arguments(p)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, read once per command (the job lock needs them before the command runs)."""
    settings: Settings | None = getattr(args, "settings", None)
    if settings is None:
        settings = args.settings = load_settings(args.config)
    return settings


class _Output:
    """stdout for a reader that may stop early (`status | head -5`): once it has closed the pipe, the rest of
    the output goes to /dev/null (as Python's docs on SIGPIPE advise) and the command finishes with its own
    exit code. A closed pipe is not a fault of the job, and never a bug (exit 1)."""

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self.failed: OSError | None = None  # the output's disk full or failing: said once, exit 3

    def _gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # what is still buffered now goes nowhere, without a second error
        os.close(devnull)

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
        except OSError as exc:  # stdout on a full or failing disk (`> /dev/full`): the environment's fault
            self.failed = self.failed or exc
            self._gone()
        return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()
        except OSError as exc:
            self.failed = self.failed or exc
            self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None, serve: Serve | None = None) -> int:
    """The command's exit code (docs/operations.md). Output to a pipe its reader closed is dropped (see _Output).
    `serve` runs the daemon for `daemon` (given by sync/__main__.py)."""
    stdout = sys.stdout
    if not isinstance(stdout, _Output) and hasattr(stdout, "fileno"):
        try:
            stdout.fileno()
            sys.stdout = _Output(stdout)
        except (OSError, ValueError):  # captured by a test harness: no file to redirect
            pass
    try:
        code = _main(argv, serve)
        sys.stdout.flush()  # a closed pipe shows here, not as a message at the interpreter's exit
        failed = getattr(sys.stdout, "failed", None)
        if failed is not None:
            with contextlib.suppress(OSError):
                print(f"Lỗi: không ghi được kết quả ra đầu ra chuẩn ({failed.strerror or failed}); kiểm tra chỗ "
                      "trống của ổ đĩa hoặc tệp nhận kết quả.", file=sys.stderr)
            return code or 3
        return code
    except BrokenPipeError:  # written around sys.stdout (its binary buffer): the work was done, the reader left
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        return 0
    finally:
        sys.stdout = stdout


def _name(args: argparse.Namespace) -> str:
    """The command's key in COMMANDS: `plan import` for a grouped one."""
    group = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {group}" if group else args.command


def _main(argv: list[str] | None, serve: Serve | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        args.serve = serve
        name = _name(args)
        if name not in LOCKED:
            return COMMANDS[name].handler(args)
        with job_lock(_settings(args)):
            return COMMANDS[name].handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:  # a SyncError is its message and code; anything else a bug, said plainly
        debug = bool(os.environ.get("CCHC_DEBUG"))
        code, lines = failure(exc, debug)
        for line in lines[:1]:
            print(line, file=sys.stderr)
        if code == 1 and debug:  # the details for whoever fixes it
            traceback.print_exc()
        for line in lines[1:]:
            print(line, file=sys.stderr)
        return code


# --- commands: open the ports, call one use case, print ---------------------------------------------------

def _lines(args: argparse.Namespace) -> Lines:
    """A use case's messages, printed as they come: stdout, or stderr when stdout carries --json."""
    main_stream = sys.stderr if getattr(args, "json", False) else sys.stdout

    def echo(line: Line) -> None:
        print(line.text, file=sys.stderr if line.warning else main_stream)
    return Lines(echo)


def _json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str))


def cmd_deadline(args: argparse.Namespace) -> int:
    from sync.usecases.plan_import import DeadlineRequest, deadline
    result = deadline(plan_ports(lambda: _settings(args)), DeadlineRequest(args.phrase, args.year))
    print(json.dumps(result.data, ensure_ascii=False))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from sync.usecases.run import InitRequest, init
    settings = _settings(args)
    init(settings, open_ports(settings), now_in(settings), InitRequest(args.if_missing, args.new_state),
         _lines(args))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from sync.usecases.run import RunRequest, run
    settings = _settings(args)
    result = run(settings, open_ports(settings, read_only=args.dry_run), now_in(settings),
                 RunRequest(args.as_of, args.dry_run, args.new_state), _lines(args))
    if args.json:
        _json(result.summary)
    else:
        for text in result.text:
            print(text)
    if result.error:
        print(f"Lỗi: {result.error}", file=sys.stderr)
    return result.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    from sync.usecases.status import status
    settings = _settings(args)
    result = status(settings, open_ports(settings, read_only=True), now_in(settings))
    if args.json:
        _json(result.to_json())
        return result.exit_code
    for text in result.text:
        print(text)
    if result.problem:
        print(f"Lỗi: {result.problem}", file=sys.stderr)
    return result.exit_code


def cmd_report(args: argparse.Namespace) -> int:
    from sync.usecases.report import ReportRequest, report
    settings = _settings(args)
    request = ReportRequest(args.period, args.date, args.as_of, args.send, args.force, args.pdf,
                                     args.new_state)
    result = report(settings, open_ports(settings, read_only=True), now_in(settings), request, lines=_lines(args))
    if args.json and result.figures is not None:
        _json(result.figures)
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    from sync.usecases.remind import RemindRequest, remind
    settings = _settings(args)
    request = RemindRequest(args.as_of, args.send, args.new_state)
    result = remind(settings, open_ports(settings, read_only=True), now_in(settings), request, lines=_lines(args))
    if args.json:
        _json(result.to_json())
    return 0


def cmd_plan_import(args: argparse.Namespace) -> int:
    from sync.usecases.plan_import import PlanImportRequest, plan_import
    settings = _settings(args)
    request = PlanImportRequest(Path(args.file), Path(args.output) if args.output else None, args.force)
    result = plan_import(settings, open_ports(settings, read_only=True), now_in(settings), request, _lines(args))
    if result.output is None:
        print(result.yaml, end="")
    return 0


#: Runs the daemon on the settings until it is stopped; its exit code. The daemon is the other entry point
#: (sync/entry/daemon.py): `python -m sync` plugs it in (sync/__main__.py), the command line never imports it.
Serve = Callable[[Settings], int]


def cmd_daemon(args: argparse.Namespace) -> int:
    serve: Serve | None = args.serve
    if serve is None:
        raise UserError("Lệnh 'daemon' chạy thường trực bằng: python -m sync daemon --config ĐƯỜNG_DẪN.")
    return serve(_settings(args))


def cmd_history(args: argparse.Namespace) -> int:
    from sync.usecases.history import HistoryQuery, history_of
    settings = _settings(args)
    query = HistoryQuery(args.task, args.unit, args.column, args.since, args.until, args.at,
                         Path(args.output) if args.output else None)
    result = history_of(settings, open_ports(settings, read_only=True), now_in(settings), query, _lines(args))
    if args.json:
        _json(result.data)
    else:
        for text in result.text:
            print(text)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from sync.usecases.restore import RestoreRequest, restore
    settings = _settings(args)
    request = RestoreRequest(args.task, args.unit, args.at, args.column, args.dry_run, args.yes, args.force)
    restore(settings, open_ports(settings, read_only=request.dry_run or not request.yes), now_in(settings), request,
            _lines(args))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sync.usecases.export import ExportRequest, export
    settings = _settings(args)
    request = ExportRequest(args.at, Path(args.output) if args.output else None)
    result = export(settings, open_ports(settings, read_only=True), now_in(settings), request, _lines(args))
    if result.csv is not None:
        sys.stdout.write(result.csv)
    return 0


@dataclass(frozen=True)
class Command:
    handler: Callable[[argparse.Namespace], int]
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


#: Groups of sub-commands (`plan import`), with their help.
GROUPS = {"plan": "kế hoạch: nhập từ tệp Word"}

#: The command table, once: name → handler, help and arguments (in the order `--help` lists them). Which of
#: them take the job lock is the use cases' fact: LOCKED.
COMMANDS: dict[str, Command] = {
    "init": Command(cmd_init, "tạo hoặc nâng cấp các tab từ kế hoạch", _init_args),
    "run": Command(cmd_run, "một lượt đồng bộ", _run_args),
    "status": Command(cmd_status, "các lượt chạy gần nhất", _status_args),
    "report": Command(cmd_report, "báo cáo kỳ: quý I, 6 tháng, quý III, năm (.docx)", _report_args),
    "remind": Command(cmd_remind, "thư nhắc từng đơn vị", _remind_args),
    "plan import": Command(cmd_plan_import, "đọc bảng phụ lục của kế hoạch (.docx) thành tệp YAML",
                           _plan_import_args),
    "daemon": Command(cmd_daemon, "chạy thường trực theo lịch (khóa cấu hình 'daemon')"),
    "history": Command(cmd_history, "lịch sử các ô đơn vị đã nhập trong tab theo dõi", _history_args),
    "restore": Command(cmd_restore, "đưa các ô của một dòng về giá trị tại một ngày", _restore_args),
    "export": Command(cmd_export, "bảng phẳng mọi dòng theo dõi (.csv hoặc .xlsx)", _export_args),
    "deadline": Command(cmd_deadline, "phân tích một cụm từ tiến độ", _deadline_args),
}

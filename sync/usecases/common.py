"""What every use case shares: its message lines, the job lock, the state guard, failures told as exit codes, and
writing an output file the Office asked for.

A use case prints nothing: it says its messages into `Lines` and returns a frozen result, so that the command
line prints them, the daemon logs them and tests read them, all from the same call. The job lock and the
state guard are here because every writing command must take them the same way, whoever started it (cron,
the daemon, a person): one pass at a time per state file, and a broken or foreign state file stopping the
command before any cell, mail or ledger is touched.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sync.core.config import MailSettings, Settings
from sync.core.errors import Busy, SyncError, Unreachable, UserError, bug_text
from sync.core.plan import Plan
from sync.core.schema import Layout
from sync.core.workbook import Snapshot

if TYPE_CHECKING:
    from sync.mail.mailer import Sender
    from sync.state.store import State

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.
LOCKED = frozenset({"init", "run", "report", "remind", "restore"})


#: Opens the mail sender for the mail settings; None in a use case: the configured one (sync.mail.mailer.open_sender).
SenderFactory = Callable[[MailSettings], "Sender"]


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


def record_failure(state: State, command: str, started: dt.datetime, row: int | None, summary: dict[str, Any],
                    exc: Exception) -> None:
    """A failed pass is recorded with its message, for `status` (unless the state file itself failed)."""
    from sync.state.faults import StateFileBusy, StateFileError
    if isinstance(exc, (StateFileError, StateFileBusy)):
        return
    message = str(exc) if isinstance(exc, SyncError) else f"Lỗi trong chương trình: {bug_text(exc)}"
    state.record_pass(command, started, False, summary, message, started_row=row)


@dataclass(frozen=True)
class StateGuard:
    """What a use case learnt of its state file before touching anything: it is whole (and writable when the
    command writes), it belongs to the configuration's workbook and plan, and whether it knows nothing (new,
    empty or 0 bytes), in which case the workbook's `Nhật ký` must hold no pass (sync/state/store.py)."""

    state: State
    identity: dict[str, str]
    fresh: bool
    accept_new: bool  # --new-state: a state file that knows nothing is taken as this workbook's new one

    def witness(self, snapshot: Snapshot, layout: Layout, where: str) -> None:
        """Refuse (exit 2) a state file that knows nothing of a workbook whose `Nhật ký` holds passes."""
        from sync.state.store import witness
        if self.fresh and not self.accept_new:
            witness(snapshot, layout, self.state.path, where)

    def adopt(self) -> None:
        """Record the workbook and plan in the state file (once; the check above has compared them)."""
        self.state.adopt(self.identity)


def state_identity(settings: Settings, plan: Plan) -> dict[str, str]:
    """The workbook and plan of the configuration, as a state file records them."""
    from sync.state.store import PLAN, WORKBOOK, plan_of, workbook_of
    return {WORKBOOK: workbook_of(settings.backend, settings.google.spreadsheet_id, settings.local.path,
                                  settings.state),
            PLAN: plan_of(plan.number, plan.year)}


def guard_state(settings: Settings, state: State, plan: Plan, write: bool, accept_new: bool = False,
                checked: bool = False) -> StateGuard:
    """Every command's first step, as `run`'s: the state file damaged, truncated, unreadable, read-only (when
    the command writes) or on a failing disk stops it (exit 2 or 3) before any workbook cell, mail or ledger
    is touched; so does a state file of another workbook or plan (`checked`: the file's own checks were just
    made, by begin_pass)."""
    from sync.state.store import check
    if not checked:
        state.check(write=write, accept_new=accept_new)
    current = state_identity(settings, plan)
    check(state.identity(), current, state.path)
    return StateGuard(state, current, write and state.knows_nothing(), accept_new)


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
    if settings is not None and output.suffix.lower() == ".xlsx" and output.is_file():
        refuse_someones_workbook(output, settings)
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


def refuse_someones_workbook(output: Path, settings: Settings) -> None:
    """An existing tracking workbook (one holding both the plan's and the units' tables: a copy of the units'
    workbook, last year's) is never replaced by `-o`. The job's outputs never hold both, so an earlier `-o`'s
    file is replaced as before."""
    from sync.backends.xlsx_file import check_readable
    from sync.backends.xlsx_read import first_rows
    from sync.core.tables import units_table_in
    if output.stat().st_size == 0:
        return
    try:
        check_readable(output)  # a workbook with a password, an old .xls, a zip too large to look into: not ours
        tabs = first_rows(output)
    except UserError:
        tabs = None
    if tabs is None:  # every workbook the job writes opens: one that does not is someone's, perhaps a rescue
        raise UserError(f"Không ghi ra '{output}': đã có tệp này nhưng chương trình không đọc được (bảng tính được "
                        "đặt mật khẩu, bị hỏng hoặc quá lớn), nên không biết ghi đè có làm mất dữ liệu không. Chọn "
                        "một tên tệp khác cho tùy chọn -o, hoặc xóa tệp đó nếu chắc chắn không cần.")
    layout = settings.layout
    tables = {"tracking": layout.tracking_columns, "plan": layout.plan_columns}
    kinds = {kind: tab.name for tab in tabs if (kind := units_table_in(tab, tables))}
    if {"tracking", "plan"} <= set(kinds):
        raise UserError(f"Không ghi ra '{output}': tệp này là một bảng tính theo dõi (tab '{kinds['plan']}' và "
                        f"'{kinds['tracking']}' chứa kế hoạch và các dòng của đơn vị); ghi đè sẽ mất dữ liệu. Chọn "
                        "một tên tệp khác cho tùy chọn -o.")

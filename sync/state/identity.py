"""One state file per workbook: which workbook and plan a state file belongs to, and the workbook's own
witness of the passes it has seen.

A state file is the memory of one workbook (its history, its send ledger). Used with another workbook it
answers wrongly ("the report was already sent", a history of foreign rows), and a state file lost or
replaced by an empty one forgets what was sent. So the state file records, on first use, the identity of
its workbook (the spreadsheet id, or the workbook file as seen from the state file's folder, so that a
project folder copied or moved as a whole keeps it) and of its plan; a command whose configuration names
another stops (exit 2) naming both. The workbook's `Nhật ký` is the second witness: its lines carry the
pass ids, so a state file that knows nothing while `Nhật ký` holds passes has been lost or replaced, and
nothing is written until it is restored or a new one is accepted (`--new-state`).

The report e-mails have their second witness too (`Witness`): the send ledger in the state file says who has
received a period's report; if that file is lost (deleted, restored from an old backup, a new machine), the
ledger forgets and `report --send` would mail everyone again. The witness is a JSON file next to the report in
`report.out_dir` (`<report>.da-gui.json`), rewritten atomically after each recipient's message is accepted; a
send the witness knows and the ledger does not is refused until `--force`.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import TypedDict

from sync import files
from sync.core.errors import UserError
from sync.core.schema import Layout
from sync.core.workbook import Snapshot, id_column
from sync.state.store import KEY, NEW_STATE

WORKBOOK, PLAN = "workbook", "plan"


class StateMismatch(UserError):
    """The state file belongs to another workbook or plan, or has forgotten this workbook's passes. Exit 2.
    (Not a fault of the file itself: the refused command is recorded in it, for `status`.)"""


def workbook_of(backend: str, spreadsheet_id: str | None, workbook: Path, state: Path) -> str:
    """The workbook as a state file records it."""
    if backend == "google":
        return f"google:{spreadsheet_id}"
    here = Path(os.path.realpath(state)).parent  # a link is the file it points to (the one units type into)
    return "local:" + os.path.relpath(os.path.realpath(workbook), here)


def plan_of(number: str, year: int) -> str:
    return f"{year}|{number}"


def mail_scope(backend: str, spreadsheet_id: str | None, workbook: Path) -> str:
    """What tells this configuration's e-mails from another's (their Message-IDs, hence their outbox file
    names): the workbook the report is of, wherever the command runs."""
    return f"google:{spreadsheet_id}" if backend == "google" else f"local:{os.path.realpath(workbook)}"


def _shown_workbook(value: str, state: Path) -> str:
    kind, _, where = value.partition(":")
    if kind == "google":
        return f"Google Sheet id '{where}'"
    return f"tệp '{os.path.normpath(Path(os.path.realpath(state)).parent / where)}'"


def _shown_plan(value: str) -> str:
    year, _, number = value.partition("|")
    return f"kế hoạch {('số ' + number + ' ') if number else ''}năm {year}"


def check(recorded: dict[str, str], current: dict[str, str], state: Path) -> None:
    """Raise StateMismatch when the state file recorded another workbook or plan than the configuration's."""
    was, now = recorded.get(WORKBOOK), current[WORKBOOK]
    if was is not None and was != now:
        raise StateMismatch(
            f"Tệp trạng thái '{state}' (khóa cấu hình {KEY}) là của bảng tính khác: {_shown_workbook(was, state)}; "
            f"cấu hình này dùng {_shown_workbook(now, state)}. Mỗi bảng tính có tệp trạng thái riêng (lịch sử, sổ "
            f"gửi thư). Sửa: đặt khóa {KEY} của cấu hình này sang một tệp khác (ví dụ 'state/thu-nghiem.sqlite'), "
            "hoặc sửa khóa 'local.path' / 'google.spreadsheet_id' nếu chọn nhầm bảng tính. Chưa ghi gì.")
    was, now = recorded.get(PLAN), current[PLAN]
    if was is not None and was != now:
        raise StateMismatch(
            f"Tệp trạng thái '{state}' (khóa cấu hình {KEY}) là của {_shown_plan(was)}; cấu hình này dùng "
            f"{_shown_plan(now)} (khóa 'plan'). Mỗi kế hoạch có bảng tính và tệp trạng thái riêng. Sửa: đặt khóa "
            f"{KEY} sang một tệp mới cho kế hoạch này, hoặc sửa khóa 'plan' nếu chọn nhầm. Chưa ghi gì.")


def logged_passes(snapshot: Snapshot, layout: Layout) -> list[str]:
    """The pass ids in the workbook's `Nhật ký` (column `Mã lượt chạy`), oldest first."""
    tab = snapshot.find_tab(layout.tabs["log"])
    col = id_column(tab, layout.log_columns)
    if tab is None or col is None:
        return []
    return [v.strip() for row in tab.rows[1:] if len(row) >= col and isinstance(v := row[col - 1], str) and v.strip()]


def witness(snapshot: Snapshot, layout: Layout, state: Path, where: str) -> None:
    """Raise StateMismatch when `Nhật ký` holds passes (to be called only for a state file that knows nothing)."""
    ids = logged_passes(snapshot, layout)
    if not ids:
        return
    raise StateMismatch(
        f"Tệp trạng thái '{state}' (khóa cấu hình {KEY}) chưa ghi lượt chạy nào (tệp mới, trống hoặc 0 byte), nhưng "
        f"tab '{layout.tabs['log']}' của {where} đã có {len(ids)} lượt chạy (gần nhất mã {ids[-1]}): tệp trạng thái "
        "của bảng tính này đã mất hoặc bị thay, cùng lịch sử các ô và sổ gửi thư. Sửa: khôi phục tệp từ bản sao lưu "
        f"(hoặc đặt khóa {KEY} về đúng tệp); nếu chấp nhận bắt đầu tệp trạng thái mới (mất lịch sử cũ; báo cáo đã "
        f"gửi có thể bị gửi lại), chạy lại lệnh với {NEW_STATE}. Chưa ghi gì.")


# --- the second witness of report e-mails ---------------------------------------------------------------------

WITNESS_SUFFIX = ".da-gui.json"


class SentEntry(TypedDict):
    """What the witness keeps of one recipient's message (records written before `file` existed lack it)."""

    at: str  # ISO time the server accepted it
    message_id: str
    file: str  # the report's file the message carried


class Witness:
    def __init__(self, report: Path, period: str):
        self.report = report
        self.period = period
        self.path = report.with_name(report.stem + WITNESS_SUFFIX)

    def _load(self) -> tuple[dict[str, object], dict[str, object]]:
        """The record as read (JSON: "period", "report", "sent") and its "sent": recipient → SentEntry, as
        written or edited by hand (each entry is checked where it is used)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            empty: dict[str, object] = {}
            return {"period": self.period, "report": self.report.name, "sent": empty}, empty
        except (OSError, ValueError) as exc:
            raise UserError(f"Không đọc được tệp ghi nhận thư đã gửi '{self.path}' ({exc}). Tệp này chứng "
                            "nhận báo cáo đã gửi cho ai; sửa hoặc xóa nó (nếu chắc chắn chưa gửi) rồi chạy "
                            "lại.") from None
        if not isinstance(data, dict) or not isinstance(sent := data.get("sent"), dict):
            raise UserError(f"Tệp ghi nhận thư đã gửi '{self.path}' không đúng dạng; sửa hoặc xóa nó rồi chạy lại.")
        return data, sent

    def sent(self) -> dict[str, object]:
        """recipient (lower case) → its SentEntry."""
        return dict(self._load()[1])

    def record(self, recipient: str, at: dt.datetime, message_id: str) -> None:
        """Called after each accepted message; atomic, so a crash leaves the previous record or this one."""
        data, sent = self._load()
        entry: SentEntry = {"at": at.isoformat(), "message_id": message_id, "file": self.report.name}
        sent[recipient.lower()] = entry
        self._save(data)

    def moved_to(self, copy: Path) -> None:
        """The report was sent, kept as `copy` and is about to be rebuilt (`--force`): what each recipient
        received is now the copy, not the file of the report's name (which will not have been sent)."""
        data, sent = self._load()
        changed = False
        for entry in sent.values():
            if isinstance(entry, dict) and entry.get("file", self.report.name) == self.report.name:
                entry["file"] = copy.name
                changed = True
        if changed:
            self._save(data)

    def _save(self, data: dict[str, object]) -> None:
        files.remove_leftovers(self.path, time.time() - files.LEFTOVER_AGE_S)
        try:
            files.write_text(self.path, json.dumps(data, ensure_ascii=False, indent=1))
        except OSError as exc:
            raise files.folder_error(exc, self.path.parent, "report.out_dir", "thư mục báo cáo") from None

    def unknown_to(self, ledger: list[str]) -> list[str]:
        """Recipients the witness shows as sent and the ledger does not: the state file lost them."""
        known = {r.lower() for r in ledger}
        return [r for r in self.sent() if r not in known]

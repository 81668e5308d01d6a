"""A second witness of report e-mails, outside the state file: a small record beside the sent report.

The send ledger in the state file says who has received a period's report. If that file is lost
(deleted, restored from an old backup, a new machine), the ledger forgets and `report --send` would
mail everyone again. The witness is a JSON file next to the report in `report.out_dir`
(`<report>.da-gui.json`), rewritten atomically after each recipient's message is accepted; a send the
witness knows and the ledger does not is refused until `--force`.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import TypedDict

from sync import files
from sync.core.errors import UserError

SUFFIX = ".da-gui.json"


class SentEntry(TypedDict):
    """What the witness keeps of one recipient's message (records written before `file` existed lack it)."""

    at: str  # ISO time the server accepted it
    message_id: str
    file: str  # the report's file the message carried


class Witness:
    def __init__(self, report: Path, period: str):
        self.report = report
        self.period = period
        self.path = report.with_name(report.stem + SUFFIX)

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

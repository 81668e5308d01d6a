"""The spreadsheet contract (DESIGN.md §3): tab names, headers, the status vocabulary, flag texts.

This is the one place these facts live. Code refers to columns by the English keys below; the
Vietnamese header texts are what the sheet shows, and may be renamed in config (`tabs`, `headers`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .text import fold

# --- tabs -------------------------------------------------------------------------------------------
TABS = {
    "plan": "Kế hoạch",
    "tracking": "Theo dõi",
    "dashboard": "Tổng hợp",
    "log": "Nhật ký",
}

# --- headers, in the order `init` lays them out ------------------------------------------------------
PLAN_COLUMNS = {
    "stt": "STT",
    "task": "Nhiệm vụ",
    "results": "Kết quả/sản phẩm",
    "schedule": "Tiến độ",
    "assignment": "Phân công và cách thức thực hiện",
    "note": "Ghi chú",
    "lead": "Đơn vị chủ trì",
    "support": "Đơn vị phối hợp",
    "deadline": "Hạn hoàn thành",
}

TRACKING_COLUMNS = {
    "stt": "STT",
    "task": "Nhiệm vụ",
    "unit": "Đơn vị",
    "role": "Vai trò",
    "deadline": "Hạn hoàn thành",
    "status": "Tình trạng",
    "q1": "Kết quả Quý I",
    "q2": "Kết quả Quý II",
    "q3": "Kết quả Quý III",
    "q4": "Kết quả Quý IV",
    "quantity": "Số lượng sản phẩm",
    "evidence": "Minh chứng",
    "done_date": "Ngày hoàn thành",
    "note": "Ghi chú",
    "check": "Kiểm tra",
    "flags": "Cảnh báo",
}

LOG_COLUMNS = {
    "time": "Thời điểm chạy",
    "as_of": "Số liệu tính đến ngày",
    "rows": "Số dòng đã đọc",
    "errors": "Số lỗi nhập liệu",
    "overdue": "Số việc quá hạn",
    "emails": "Số email đã gửi",
    "duration": "Thời gian chạy (giây)",
    "note": "Ghi chú",  # what a line other than a pass did (a restore: which row and cells)
    "pass_id": "Mã lượt chạy",  # the pass's identity, last: a retried write never logs a pass twice
}

QUARTER_KEYS = ("q1", "q2", "q3", "q4")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

#: Other names units and the Office really give the job's columns. A missing header with one of these in
#: its place (or a typo of it) is a renamed column: the job stops and says so, never adds an empty twin.
#: Compared folded (case, accents, dashes ignored); the header itself need not be listed.
HEADER_SYNONYMS = {
    "stt": ("TT", "Số TT", "Số thứ tự"),
    "task": ("Tên nhiệm vụ", "Nội dung nhiệm vụ", "Nội dung"),
    "unit": ("Tên đơn vị", "Đơn vị thực hiện", "Đơn vị phụ trách", "Phòng, đơn vị", "Phòng/đơn vị"),
    "role": ("Vai trò đơn vị", "Chủ trì/Phối hợp", "Chủ trì/phối hợp"),
    "deadline": ("Hạn", "Hạn HT", "Thời hạn", "Thời hạn hoàn thành", "Hạn chót"),
    "status": ("Trạng thái", "Trạng thái thực hiện", "Tình trạng thực hiện", "Tình hình thực hiện"),
    **{f"q{q}": tuple(f"{head} {quarter}" for head in ("Kết quả", "KQ")
                      for quarter in (f"Q{q}", f"Quý {q}", f"Quý {ROMAN[q]}", f"Q.{q}"))
       + (f"Quý {ROMAN[q]}", f"Quý {q}") for q in (1, 2, 3, 4)},
    "quantity": ("Số lượng", "Số sản phẩm", "SL sản phẩm", "Số lượng SP"),
    "evidence": ("Tài liệu minh chứng", "Văn bản minh chứng", "Link minh chứng", "Minh chứng kèm theo"),
    "done_date": ("Ngày HT", "Ngày hoàn thành thực tế", "Thời gian hoàn thành", "Ngày xong"),
    "note": ("Chú thích",),
    "check": ("Kiểm tra tự động", "Kiểm tra dữ liệu", "Lỗi nhập liệu"),
    "flags": ("Cảnh báo hạn", "Cảnh báo tự động"),
    "results": ("Kết quả, sản phẩm", "Kết quả - sản phẩm", "Sản phẩm"),
    "schedule": ("Thời gian thực hiện", "Thời gian"),
    "assignment": ("Phân công", "Cách thức thực hiện", "Phân công thực hiện"),
    "lead": ("Chủ trì", "Đơn vị chủ trì thực hiện"),
    "support": ("Phối hợp", "Đơn vị phối hợp thực hiện"),
}

#: Columns units (or the Office) type into. The job reads them and never writes them.
UNIT_COLUMNS = ("status", *QUARTER_KEYS, "quantity", "evidence", "done_date", "note")
#: The only tracking columns a pass writes.
JOB_COLUMNS = ("check", "flags")
#: Columns a pass cannot work without (the rest are optional and skipped when absent).
REQUIRED_TRACKING = ("stt", "unit", "status", "check", "flags")

# --- vocabulary ---------------------------------------------------------------------------------------
STATUSES = {
    "not_started": "Chưa thực hiện",
    "in_progress": "Đang thực hiện",
    "done": "Hoàn thành",
    "cancelled": "Không thực hiện",
}
#: What units type instead of the dropdown values; used only to suggest the right one.
STATUS_SYNONYMS = {
    "xong": "done", "da xong": "done", "da hoan thanh": "done", "hoan tat": "done", "ht": "done",
    "dang lam": "in_progress", "dang trien khai": "in_progress", "dang thuc hien": "in_progress",
    "chua lam": "not_started", "chua": "not_started", "chua trien khai": "not_started",
    "khong lam": "cancelled", "huy": "cancelled", "tam dung": "cancelled",
}
ROLES = {"lead": "Chủ trì", "support": "Phối hợp"}

JOB_NOTE_PREFIX = "[Kiểm tra tự động] "
JOB_AUTHOR = "Văn phòng Sở (tự động)"


_STATUS_BY_FOLD = {fold(label): key for key, label in STATUSES.items()}


def status_key(text: str) -> str | None:
    """The status key for a typed status, or None. Empty counts as not started."""
    folded = fold(text)
    return _STATUS_BY_FOLD.get(folded) if folded else "not_started"


@dataclass(frozen=True)
class Flag:
    """One deadline flag on a tracking row; `kind` drives colours and counts, `text` is what users read."""

    kind: str  # overdue | late | due_soon | missing | undated
    text: str
    days: int = 0
    quarter: int = 0
    due: dt.date | None = None  # the deadline the flag is about (the quarter's cut-off for "missing")


def _dmy(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def flag_overdue(days: int, due: dt.date | None = None) -> Flag:
    when = f" (hạn {_dmy(due)})" if due else ""
    return Flag("overdue", f"Quá hạn {days} ngày{when}", days=days, due=due)


def flag_late(days: int, due: dt.date | None = None) -> Flag:
    when = f" (hạn {_dmy(due)})" if due else ""
    return Flag("late", f"Hoàn thành trễ {days} ngày{when}", days=days, due=due)


def flag_due_soon(days: int, due: dt.date | None = None) -> Flag:
    when = f", hạn {_dmy(due)}" if due else ""
    return Flag("due_soon", f"Sắp đến hạn (còn {days} ngày{when})", days=days, due=due)


def flag_missing(quarter: int, due: dt.date | None = None) -> Flag:
    when = f" (hạn {_dmy(due)})" if due else ""
    return Flag("missing", f"Thiếu kết quả Quý {ROMAN[quarter]}{when}", quarter=quarter, due=due)


def flag_undated() -> Flag:
    return Flag("undated", "Chưa xác định hạn")


#: Row colours by flag, most urgent first (text searched in the Cảnh báo cell, fill colour RGB).
#: Fill of header rows, on every backend.
HEADER_COLOUR = "D9E2F3"

FLAG_COLOURS = (
    ("Quá hạn", "F4CCCC"),
    ("Thiếu kết quả", "FCE5CD"),
    ("Sắp đến hạn", "FFF2CC"),
    ("Hoàn thành trễ", "D9D2E9"),
    ("Chưa xác định hạn", "EFEFEF"),
)


@dataclass(frozen=True)
class Layout:
    """Tab and header names in force: the defaults above, overridden by config."""

    tabs: dict = field(default_factory=lambda: dict(TABS))
    plan_columns: dict = field(default_factory=lambda: dict(PLAN_COLUMNS))
    tracking_columns: dict = field(default_factory=lambda: dict(TRACKING_COLUMNS))
    log_columns: dict = field(default_factory=lambda: dict(LOG_COLUMNS))

    @classmethod
    def from_overrides(cls, tabs: dict | None = None, headers: dict | None = None) -> "Layout":
        layout = cls()
        layout.tabs.update(tabs or {})
        for key, name in (headers or {}).items():
            for table in (layout.plan_columns, layout.tracking_columns):
                if key in table:
                    table[key] = name
        return layout

"""The spreadsheet's words: the contract (docs/workbook.md) — tab names, headers, the status vocabulary, flag
texts — and how the words units type are matched to them (Vietnamese text normalisation).

This is the one place these facts live. Code refers to columns by the English keys below; the
Vietnamese header texts are what the sheet shows, and may be renamed in config (`tabs`, `headers`).

Units type names, statuses and headers by hand, with or without diacritics, with hyphens or en dashes,
sometimes pasted from OCR'd documents. Everything that matches text goes through `fold`, so that
"Phòng CNTT – BCVT", "phong cntt-bcvt" and "PHÒNG CNTT - BCVT" are the same key.
"""
from __future__ import annotations

import datetime as dt
import difflib
import email.utils
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

_DASHES = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212]+\s*")
_SPACES = re.compile(r"\s+")


def nfc(value: object) -> str:
    """Text of a cell, NFC-normalised and stripped; None becomes ""."""
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def fold(value: object) -> str:
    """Matching key: lower case, no diacritics (đ → d), one kind of dash, single spaces."""
    return _fold(value) if isinstance(value, str) else _fold(nfc(value))


@lru_cache(maxsize=8192)  # statuses, unit names and headers repeat on every row
def _fold(value: str) -> str:
    text = unicodedata.normalize("NFD", nfc(value).lower()).replace("đ", "d")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _DASHES.sub("-", text)
    text = _SPACES.sub(" ", text)
    return text.strip(" .,;:")


def closest(value: str, choices: list[str], cutoff: float = 0.6) -> str | None:
    """The choice that looks most like `value` (compared folded), or None."""
    folded = {fold(c): c for c in choices}
    hit = difflib.get_close_matches(fold(value), list(folded), n=1, cutoff=cutoff)
    return folded[hit[0]] if hit else None


def shorten(text: str, limit: int = 90) -> str:
    """First line of `text`, cut at a word boundary to at most `limit` characters, with an ellipsis."""
    line = nfc(text).split("\n", 1)[0]
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


#: Characters an .xlsx or a .docx (XML 1.0) cannot hold: control characters but tab and line breaks, lone
#: surrogates, U+FFFE and U+FFFF. Settings and plans are refused with them; cells show them (sync.files.visible).
NOT_IN_DOCUMENTS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: How much of a user's value a message quotes back.
QUOTE_LIMIT = 80


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value someone typed, quoted in a message ('…') on one line (its line breaks and runs of spaces as one
    space), cut to its first `limit` characters: a message says what is wrong and where, it does not copy a
    pasted page back (an Excel cell or note holds at most 32,767)."""
    return f"'{shorten(' '.join(nfc(str(value)).split()), limit)}'"


#: A whole number written with thousands dots, as Vietnamese write them: "1.200", "12.500.000".
THOUSANDS = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{3})+$")
#: More digits than any count has: read as TOO_MANY (int() refuses thousands of digits).
MAX_DIGITS = 18
TOO_MANY: int = 10 ** MAX_DIGITS


def whole_number(value: object) -> int | None:
    """A typed count as a whole number: an int or integral float cell, or ASCII digits ("12", "05", "1.200");
    None when it is not one (a fraction, words, "²", empty). The sign is the caller's to judge (-5 is -5). A
    number of more than MAX_DIGITS digits reads as TOO_MANY, so every limit refuses it without int() failing."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return int(value) if float(value).is_integer() else None
        except OverflowError:  # an int too large for a float
            return TOO_MANY if value > 0 else -TOO_MANY
    text = nfc(value).replace(" ", "")
    digits: str = text.replace(".", "") if THOUSANDS.match(text) else text
    if not (digits and digits.isascii() and digits.isdigit()):
        return None
    return int(digits) if len(digits) <= MAX_DIGITS else TOO_MANY


def vn_number(value: float | int | None) -> str:
    """Vietnamese decimal comma: 83,3."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return f"{value:,}".replace(",", ".")


def mailbox(item: str) -> tuple[str, str] | None:
    """The name and the address of one e-mail address as the Office writes it ("Tên <a@b.vn>", "a@b.vn",
    "a@b.vn (Tên)"), or None when it is not one the mail can carry: one "@", ASCII, no spaces, a form the e-mail
    headers accept. The name may hold a comma or quotes ("Văn phòng, Sở TT&TT"): it is quoted when sent."""
    from email.errors import HeaderParseError
    from email.headerregistry import Address
    text = item.strip()
    if "\n" in item or "\r" in item:
        return None
    found = re.fullmatch(r"(.*?)\s*<([^<>]*)>[\s;,]*", text)
    if found:
        name, address = found.group(1).strip(), found.group(2).strip()
        if any(ch in name for ch in "@<>"):  # "A <a@x.vn>, B <b@x.vn>": two addresses in one entry
            return None
        if len(name) > 1 and name[0] == name[-1] == '"':
            name = name[1:-1].strip()
    else:
        text = text.rstrip(" ;,")
        if re.search(r"[,;]", re.sub(r"\([^()]*\)", "", text)):  # "a@x.vn, b@x.vn": two (a comment may hold one)
            return None
        name, address = email.utils.parseaddr(text)  # "a@b.vn", "a@b.vn (Tên)"
    local, at, domain = address.partition("@")
    if not (at and local and "." in domain.strip(".") and "@" not in domain and address.isascii()
            and not any(ch.isspace() or ch in '<>,;:"()[]\\' for ch in address)):
        return None
    try:
        Address(display_name=name, addr_spec=address)  # what build_message will make of it: refused there = here
    except (ValueError, IndexError, HeaderParseError):
        return None
    return name, address


def is_address(item: str) -> bool:
    """Whether `item` is one e-mail address ("Tên <a@b.vn>" or "a@b.vn"): the one check of an address the Office
    typed (the sender, report recipients, the units' and the Office's editors of the shared sheet)."""
    return mailbox(item) is not None


def bare_address(item: str) -> str:
    """The address of "Tên <a@b.vn>", lower case (Google compares editors' addresses so)."""
    box = mailbox(item)
    return (box[1] if box else item.strip()).lower()


# --- tabs -------------------------------------------------------------------------------------------
TABS = {
    "plan": "Kế hoạch",
    "tracking": "Theo dõi",
    "dashboard": "Tổng hợp",
    "log": "Nhật ký",
    "guide": "Hướng dẫn",  # job-owned: how units fill the sheet (sync/sheet/layout.py)
    "office": "Báo cáo",
}
#: The tabs the job rewrites or appends to: never one that holds the units' or the plan's rows (tables.refuse_overwrite)
JOB_TABS = ("dashboard", "log", "guide")
#: How the job's own rewritten tabs begin (their title cell): a tab of that name that begins otherwise is
#: someone's, and the job does not write over it (tables.refuse_overwrite).
JOB_TAB_TITLES = {"dashboard": "TỔNG HỢP TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH", "guide": "HƯỚNG DẪN CẬP NHẬT TAB"}

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

#: The Office's own words for each period's report (docs/reports.md): typed by the Office, read by `report`;
#: the job writes only `Kiểm tra`. Not renamed by `headers:` (its keys would clash with the tracking tab's).
OFFICE_COLUMNS = {
    "period": "Kỳ báo cáo",
    "section": "Mục",
    "text": "Nội dung",
    "check": "Kiểm tra",
}
#: The sections the data cannot know, by the key `sync.reports.content.Report.office` uses, in the report's order.
OFFICE_SECTIONS = {
    "chi_dao": "Chỉ đạo, điều hành",
    "uu_diem": "Ưu điểm",
    "nguyen_nhan": "Nguyên nhân",
    "phuong_huong": "Phương hướng",
    "kien_nghi": "Kiến nghị",
    "van_ban_yeu_cau": "Văn bản yêu cầu",
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
class Status(StrEnum):
    """What a unit says of its row (the `Tình trạng` dropdown); the words the sheet shows are in STATUSES."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


#: The sheet's words for each status, in the dropdown's order.
STATUSES: dict[Status, str] = {
    Status.NOT_STARTED: "Chưa thực hiện",
    Status.IN_PROGRESS: "Đang thực hiện",
    Status.DONE: "Hoàn thành",
    Status.CANCELLED: "Không thực hiện",
}
#: What units type instead of the dropdown values; used only to suggest the right one.
STATUS_SYNONYMS: dict[str, Status] = {
    "xong": Status.DONE, "da xong": Status.DONE, "da hoan thanh": Status.DONE, "hoan tat": Status.DONE,
    "ht": Status.DONE,
    "dang lam": Status.IN_PROGRESS, "dang trien khai": Status.IN_PROGRESS, "dang thuc hien": Status.IN_PROGRESS,
    "chua lam": Status.NOT_STARTED, "chua": Status.NOT_STARTED, "chua trien khai": Status.NOT_STARTED,
    "khong lam": Status.CANCELLED, "huy": Status.CANCELLED, "tam dung": Status.CANCELLED,
}
ROLES = {"lead": "Chủ trì", "support": "Phối hợp"}

JOB_NOTE_PREFIX = "[Kiểm tra tự động] "
JOB_AUTHOR = "Văn phòng Sở (tự động)"


_STATUS_BY_FOLD = {fold(label): key for key, label in STATUSES.items()}


def status_key(text: str) -> Status | None:
    """The status key for a typed status, or None. Empty counts as not started."""
    folded = fold(text)
    return _STATUS_BY_FOLD.get(folded) if folded else Status.NOT_STARTED


class FlagKind(StrEnum):
    """What a deadline flag says; drives colours and counts."""

    OVERDUE = "overdue"
    LATE = "late"
    DUE_SOON = "due_soon"
    MISSING = "missing"
    UNDATED = "undated"


#: How each flag's text in `Cảnh báo` begins, most urgent first: the one place these words live (the flag
#: texts, the row colours and the dashboard's task states all start with them).
FLAG_PREFIXES: dict[FlagKind, str] = {
    FlagKind.OVERDUE: "Quá hạn",
    FlagKind.MISSING: "Thiếu kết quả",
    FlagKind.DUE_SOON: "Sắp đến hạn",
    FlagKind.LATE: "Hoàn thành trễ",
    FlagKind.UNDATED: "Chưa xác định hạn",
}


@dataclass(frozen=True)
class Flag:
    """One deadline flag on a tracking row; `kind` drives colours and counts, `text` is what users read."""

    kind: FlagKind
    text: str
    days: int = 0
    quarter: int = 0
    due: dt.date | None = None  # the deadline the flag is about (the quarter's cut-off for "missing")


def _dmy(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def flag_overdue(days: int, due: dt.date | None = None) -> Flag:
    when = f" (hạn {_dmy(due)})" if due else ""
    return Flag(FlagKind.OVERDUE, f"{FLAG_PREFIXES[FlagKind.OVERDUE]} {days} ngày{when}", days=days, due=due)


def flag_late(days: int, due: dt.date | None = None) -> Flag:
    when = f" (hạn {_dmy(due)})" if due else ""
    return Flag(FlagKind.LATE, f"{FLAG_PREFIXES[FlagKind.LATE]} {days} ngày{when}", days=days, due=due)


def flag_due_soon(days: int, due: dt.date | None = None) -> Flag:
    when = f", hạn {_dmy(due)}" if due else ""
    return Flag(FlagKind.DUE_SOON, f"{FLAG_PREFIXES[FlagKind.DUE_SOON]} (còn {days} ngày{when})", days=days, due=due)


def flag_missing(quarter: int, due: dt.date | None = None) -> Flag:
    when = f" (hạn {_dmy(due)})" if due else ""
    return Flag(FlagKind.MISSING, f"{FLAG_PREFIXES[FlagKind.MISSING]} Quý {ROMAN[quarter]}{when}", quarter=quarter,
                due=due)


def flag_undated() -> Flag:
    return Flag(FlagKind.UNDATED, FLAG_PREFIXES[FlagKind.UNDATED])


#: Fill of header rows, on every backend.
HEADER_COLOUR = "D9E2F3"
#: Fill of every other row of a job-owned table's list (banded rows instead of a border round each cell: cell
#: borders on merged ranges cost openpyxl seconds to load on a long dashboard, and banding reads as well).
BAND_COLOUR = "F2F5FB"

#: Fill colours of the flags (row colours in Theo dõi, task states on the dashboard).
FLAG_FILLS = {FlagKind.OVERDUE: "F4CCCC", FlagKind.MISSING: "FCE5CD", FlagKind.DUE_SOON: "FFF2CC",
               FlagKind.LATE: "D9D2E9", FlagKind.UNDATED: "EFEFEF"}
#: Row colours by flag, most urgent first (text searched in the Cảnh báo cell, fill colour RGB).
FLAG_COLOURS = tuple((prefix, FLAG_FILLS[kind]) for kind, prefix in FLAG_PREFIXES.items())


@dataclass(frozen=True)
class Layout:
    """Tab and header names in force: the defaults above, overridden by config."""

    tabs: dict[str, str] = field(default_factory=lambda: dict(TABS))
    plan_columns: dict[str, str] = field(default_factory=lambda: dict(PLAN_COLUMNS))
    tracking_columns: dict[str, str] = field(default_factory=lambda: dict(TRACKING_COLUMNS))
    log_columns: dict[str, str] = field(default_factory=lambda: dict(LOG_COLUMNS))
    office_columns: dict[str, str] = field(default_factory=lambda: dict(OFFICE_COLUMNS))

    @classmethod
    def from_overrides(cls, tabs: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Layout:
        layout = cls()
        layout.tabs.update(tabs or {})
        for key, name in (headers or {}).items():
            for table in (layout.plan_columns, layout.tracking_columns):
                if key in table:
                    table[key] = name
        return layout

"""Checks on what units and the Office typed. Pure: entries and the plan in, `Checked` rows with Vietnamese
issues out; the `Báo cáo` tab's rows in, the Office's words for the reports out.

An issue names the column and says what to fix; it goes to the row's `Kiểm tra` cell, a note on the
offending cell and the dashboard's error list. Nothing here raises on bad input: users' mistakes are
data, reported in the sheet.

The Office's own words for the period reports: the `Báo cáo` tab (docs/reports.md). The data cannot know how the Sở
directed the work, what went well and why, what comes next, what it asks of the province, or which letter of Sở Nội vụ
the report answers. The Office types those paragraphs in `Báo cáo`, one row per period and section (`Kỳ báo cáo | Mục |
Nội dung`); the report puts each valid one in its section as typed. A row the job cannot use is said in the row's `Kiểm
tra` and in the dashboard's list of input errors, like any unit's mistake, and the report falls back to its sentence
from the data.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sync.core import deadlines, periods
from sync.core.deadlines import DateError, Schedule, ScheduleKind, format_date
from sync.core.errors import UserError
from sync.core.periods import Period
from sync.core.plan import Plan, Task, Unit
from sync.core.schema import (
    OFFICE_SECTIONS,
    ROMAN,
    STATUS_SYNONYMS,
    STATUSES,
    Layout,
    Status,
    closest,
    fold,
    nfc,
    quoted,
    status_key,
    vn_number,
    whole_number,
)
from sync.core.tables import Entry, Table, as_stt, find_tab, locate
from sync.core.workbook import Cell, Snapshot

#: What a spreadsheet would evaluate (docs/workbook.md, "bullets are text"): "=" anything; "+", "-" or "@" followed
#: at once by a number, a cell reference (alone or before an operator: "-A1", "+B2*3"), a sheet reference or a
#: function call ("@SUM(", "-HYPERLINK("). A bullet ("+ Tổ chức…", "-Đăng 05 tin", "• …", "* …") is text.
FORMULA_START = re.compile(
    r"^[\t\r]*(?:="
    r"|[-+@](?:[.,]?[0-9]"
    r"|\$?[A-Za-z]{1,3}\$?[0-9]+(?=\s*(?:$|[-+*/^&=<>:!,;)%]))"
    r"|'?[A-Za-z_][A-Za-z0-9_.]*'?!"
    r"|[A-Za-z_][A-Za-z0-9_.]*\())")
URL_LIKE = re.compile(r"(?i)\b(?:https?|ftp|htt?ps?|hxxps?)\S*|\bwww\.\S+|\S+://\S*")
#: More than this many products of one task by one unit is a typing slip (news items, meetings, documents)
MAX_QUANTITY = 1_000_000


@dataclass(frozen=True)
class Issue:
    row: int
    column: str  # column key (schema.TRACKING_COLUMNS)
    message: str
    unit: str = ""
    tab: str = "tracking"


@dataclass
class Checked:
    """A tracking row, interpreted: the pure core's working record."""

    entry: Entry
    task: Task | None = None
    unit: Unit | None = None
    role: str | None = None
    status: Status | None = None  # None when unreadable
    done_date: dt.date | None = None
    quantity: int | None = None
    schedule: Schedule = field(default_factory=lambda: Schedule(ScheduleKind.UNKNOWN))
    issues: list[Issue] = field(default_factory=list)
    counted: bool = True  # False for rows outside the plan and duplicates: no flags, not in totals

    @property
    def due(self) -> dt.date | None:
        return self.schedule.due

    def add(self, column: str, message: str) -> None:
        unit = self.unit.name if self.unit else self.entry.unit
        self.issues.append(Issue(self.entry.row, column, message, unit))


def resolve_schedule(value: Cell, year: int) -> Schedule | None:
    """A Hạn hoàn thành cell as a schedule: a date, a phrase, or None when empty."""
    if value is None or nfc(value) == "":
        return None
    try:
        day = deadlines.parse_date(value)
    except DateError:
        day = None
    if day:
        return Schedule(ScheduleKind.ONCE, due=day)
    return deadlines.parse(value, year)


def check_all(entries: list[Entry], plan: Plan, plan_overrides: dict[int, Cell], as_of: dt.date) -> list[Checked]:
    """Validate every row; duplicates are judged across rows, the rest row by row."""
    schedules = plan_schedules(plan, plan_overrides)
    seen: dict[tuple[int, str], int] = {}
    out = []
    for entry in entries:
        checked = _check_row(entry, plan, schedules, as_of)
        if checked.task and checked.unit:
            key = (checked.task.stt, checked.unit.code)
            if key in seen:
                checked.add("unit", f"Trùng với dòng {seen[key]} (cùng nhiệm vụ {key[0]}, cùng đơn vị): mỗi đơn "
                                    f"vị chỉ có một dòng cho một nhiệm vụ; gộp nội dung vào dòng {seen[key]} rồi xóa "
                                    "dòng này.")
                checked.counted = False
            else:
                seen[key] = entry.row
        out.append(checked)
    _leads_behind_support(out)
    return out


def _leads_behind_support(checked: list[Checked]) -> None:
    """A lead row still 'Chưa thực hiện' while a supporting unit reports the task done: the task is judged by its
    lead (docs/workbook.md), so the lead's row is the one to update; said on that row."""
    done: dict[int, list[str]] = {}
    for c in checked:
        if c.counted and c.task and c.unit and c.role == "support" and c.status == Status.DONE:
            done.setdefault(c.task.stt, []).append(c.unit.label)
    for c in checked:
        if c.counted and c.task and c.role == "lead" and c.status == Status.NOT_STARTED and c.task.stt in done:
            units = ", ".join(done[c.task.stt])
            c.add("status", f"Đơn vị phối hợp ({units}) đã báo '{STATUSES[Status.DONE]}' nhưng dòng của đơn vị chủ "
                            f"trì vẫn là '{STATUSES[Status.NOT_STARTED]}': nhiệm vụ được tính theo đơn vị chủ trì; "
                            "cập nhật Tình trạng của dòng này.")


def plan_issues(plan: Plan, plan_overrides: dict[int, Cell], rows_by_stt: dict[int, int]) -> list[Issue]:
    """Problems in the plan tab's Hạn hoàn thành, which the Office types."""
    issues = []
    for stt, value in plan_overrides.items():
        schedule = resolve_schedule(value, plan.year)
        if schedule and schedule.kind == ScheduleKind.UNKNOWN:
            issues.append(Issue(rows_by_stt.get(stt, 0), "deadline", _bad_deadline(value), tab="plan"))
    return issues


def missing_rows(plan: Plan, checked: list[Checked]) -> list[Issue]:
    """Assignments of the plan with no tracking row (a row deleted by hand): said in the error list, since the
    totals silently leave such a row out until `init` lays it out again."""
    present = {(c.task.stt, c.unit.code) for c in checked if c.counted and c.task and c.unit}
    return [Issue(0, "unit", f"Không có dòng theo dõi của {unit.label} cho nhiệm vụ {task.stt} (dòng đã bị xóa?): "
                  "số liệu tạm không tính phần việc này. Chạy 'python -m sync init' để thêm lại dòng, rồi đơn vị "
                  "nhập lại nội dung.", unit.name)
            for task, unit, _role in plan.assignments() if (task.stt, unit.code) not in present]


def plan_schedules(plan: Plan, overrides: dict[int, Cell]) -> dict[int, Schedule]:
    """Each task's schedule: the plan tab's Hạn hoàn thành when it is readable, else the plan's Tiến độ."""
    out = {}
    for task in plan.tasks:
        override = resolve_schedule(overrides.get(task.stt), plan.year)
        out[task.stt] = override if override and override.kind != ScheduleKind.UNKNOWN else plan.schedule(task)
    return out


def row_schedule(entry: Entry, schedules: dict[int, Schedule], year: int) -> Schedule | None:
    """The schedule a row is judged by: its own readable Hạn hoàn thành, else its task's (None: no task)."""
    override = resolve_schedule(entry.deadline, year)
    if override and override.kind != ScheduleKind.UNKNOWN:
        return override
    stt = as_stt(entry.stt)
    return schedules.get(stt) if stt is not None else None


def _bad_deadline(value: Cell) -> str:
    return (f"Không hiểu hạn hoàn thành {quoted(value)}; ghi ngày dạng dd/mm/yyyy (ví dụ 30/06/2024) "
            "hoặc một tiến độ như 'Quý II/2024', hoặc để trống để dùng tiến độ của kế hoạch.")


def _check_row(entry: Entry, plan: Plan, schedules: dict[int, Schedule], as_of: dt.date) -> Checked:
    c = Checked(entry)
    _check_identity(c, plan)
    if c.task:
        c.schedule = schedules[c.task.stt]
        override = resolve_schedule(entry.deadline, plan.year)
        if override and override.kind == ScheduleKind.UNKNOWN:
            c.add("deadline", _bad_deadline(entry.deadline))
        elif override:
            c.schedule = override
    _check_status(c)
    _check_done_date(c, as_of)
    _check_results_against_status(c)
    _check_quantity(c)
    _check_evidence(c)
    _check_formulas(c)
    return c


def _check_identity(c: Checked, plan: Plan) -> None:
    entry = c.entry
    stt = as_stt(entry.stt)
    if stt is None:
        if nfc(entry.stt):
            c.add("stt", f"STT {quoted(entry.stt)} không phải số thứ tự nhiệm vụ; ghi số như ở tab Kế hoạch "
                         f"(1–{len(plan.tasks)}).")
        else:
            c.add("stt", "Thiếu STT nhiệm vụ; ghi số thứ tự như ở tab Kế hoạch.")
    elif stt not in plan.by_stt:
        c.add("stt", f"Nhiệm vụ số {stt} không có trong kế hoạch (chỉ có 1–{len(plan.tasks)}); sửa lại STT.")
    else:
        c.task = plan.by_stt[stt]
    c.unit = plan.registry.match(entry.unit)
    if c.unit is None:
        names = ", ".join(u.name for u in plan.registry.units)
        if not entry.unit:
            c.add("unit", f"Thiếu tên đơn vị; ghi một trong: {names}.")
        else:
            hint = plan.registry.suggest(entry.unit)
            c.add("unit", f"Không nhận ra đơn vị {quoted(entry.unit)}"
                          + (f"; có phải '{hint.name}'?" if hint else ".")
                          + f" Ghi đúng tên một đơn vị thuộc Sở: {names}.")
    if c.task and c.unit:
        c.role = plan.role_of(c.task.stt, c.unit.code)
        if c.role is None:
            c.add("unit", f"{c.unit.name} không được phân công nhiệm vụ {c.task.stt} trong kế hoạch "
                          "(dòng không có trong kế hoạch); kiểm tra lại STT hoặc tên đơn vị.")
    if not (c.task and c.unit and c.role):
        c.counted = False


def _check_status(c: Checked) -> None:
    text = c.entry.status
    c.status = status_key(text)
    if c.status is None:
        synonym = STATUS_SYNONYMS.get(fold(text))
        hint = STATUSES[synonym] if synonym else closest(text, list(STATUSES.values()), cutoff=0.5)
        c.add("status", f"Tình trạng {quoted(text)} không hợp lệ"
                        + (f"; có phải '{hint}'?" if hint else ".")
                        + f" Chọn một trong: {', '.join(STATUSES.values())}.")
    elif c.status == Status.CANCELLED and not c.entry.note:
        c.add("note", "Tình trạng 'Không thực hiện': ghi lý do vào cột Ghi chú.")


def _check_done_date(c: Checked, as_of: dt.date) -> None:
    raw = c.entry.done_date
    try:
        c.done_date = deadlines.parse_date(raw)
    except DateError as exc:
        c.add("done_date", f"Ngày hoàn thành: {exc}.")
        return
    if c.done_date and c.done_date > as_of:
        c.add("done_date", f"Ngày hoàn thành {format_date(c.done_date)} ở sau ngày {format_date(as_of)}; "
                           "không thể hoàn thành trong tương lai, sửa lại ngày.")
    if c.status == Status.DONE:
        if not c.done_date:
            c.add("done_date", "Đã 'Hoàn thành' nhưng chưa có Ngày hoàn thành; ghi ngày dạng dd/mm/yyyy.")
        if not c.entry.evidence:
            c.add("evidence", "Đã 'Hoàn thành' nhưng chưa có Minh chứng; ghi đường dẫn (https://...) "
                              "hoặc số văn bản (ví dụ: Số 123/KH-STTTT).")
    elif c.done_date and c.status == Status.CANCELLED:
        c.add("status", f"Có Ngày hoàn thành {format_date(c.done_date)} nhưng Tình trạng là "
                        f"'{STATUSES[Status.CANCELLED]}'; chọn 'Hoàn thành' nếu đã xong, hoặc xóa Ngày hoàn thành.")
    elif c.done_date and c.status in (Status.NOT_STARTED, Status.IN_PROGRESS):
        c.add("status", f"Có Ngày hoàn thành nhưng Tình trạng là '{STATUSES[c.status]}'; chọn 'Hoàn thành' "
                        "nếu đã xong, hoặc xóa Ngày hoàn thành.")


def _check_results_against_status(c: Checked) -> None:
    """Quarterly results typed on a row whose status says nothing was done: one of the two is wrong."""
    if c.status not in (Status.NOT_STARTED, Status.CANCELLED) or not nfc(c.entry.status):
        return  # an empty status is read as "not started" but says nothing the results could contradict
    typed = [q for q, text in sorted(c.entry.results.items()) if nfc(text)]
    if not typed:
        return
    quarters = ", ".join(f"Quý {ROMAN[q]}" for q in typed)
    if c.status == Status.CANCELLED:
        c.add("status", f"Tình trạng là 'Không thực hiện' nhưng đã ghi Kết quả {quarters}; chọn 'Đang thực hiện' "
                        "hoặc 'Hoàn thành' nếu đã triển khai, hoặc xóa kết quả.")
    else:
        c.add("status", f"Tình trạng là 'Chưa thực hiện' nhưng đã ghi Kết quả {quarters}; chọn 'Đang thực hiện' "
                        "hoặc 'Hoàn thành' nếu đã triển khai, hoặc xóa kết quả.")


def _check_quantity(c: Checked) -> None:
    raw = c.entry.quantity
    if raw is None or nfc(raw) == "":
        return
    value = whole_number(raw)
    if value is None or value < 0:
        c.add("quantity", f"Số lượng sản phẩm {quoted(raw)} phải là số nguyên không âm (ví dụ: 12); "
                          "ghi chú thích vào cột Ghi chú.")
    elif value > MAX_QUANTITY:  # 1e308 typed by a slip: not a count of news items or meetings
        c.add("quantity", f"Số lượng sản phẩm {quoted(raw)} lớn bất thường (quá {MAX_QUANTITY:,}".replace(",", ".")
              + "); kiểm tra lại số đã nhập.")
    else:
        c.quantity = value


def bad_link(token: str) -> bool:
    parts = urlsplit(token.rstrip(".,;)"))
    host = parts.hostname or ""
    return (parts.scheme.lower() not in ("http", "https") or "." not in host.strip(".")
            or any(ch.isspace() for ch in token) or token.lower().startswith("www."))


def _check_evidence(c: Checked) -> None:
    for token in URL_LIKE.findall(c.entry.evidence):
        if bad_link(token):
            c.add("evidence", f"Đường dẫn {quoted(token)} không hợp lệ; ghi đầy đủ dạng https://ten-mien.vn/... "
                              "(sao chép từ thanh địa chỉ của trình duyệt).")
            return


def formula_risk(text: str) -> bool:
    """Whether a spreadsheet would evaluate `text` typed into a cell (FORMULA_START); a bullet is text."""
    return bool(text) and FORMULA_START.match(text) is not None


def _check_formulas(c: Checked) -> None:
    """Text a spreadsheet would evaluate, unless its cell is stored as text (a leading apostrophe): both fixes
    offered clear the flag (the apostrophe makes the cell text; without the sign it is not a formula)."""
    for key, text in c.entry.texts().items():
        if key in c.entry.as_text or not formula_risk(text):
            continue
        sign = text.lstrip("\t\r")[0]
        c.add(key, f"Nội dung bắt đầu bằng '{sign}' có thể bị hiểu là công thức khi mở bằng Excel (nguy cơ chèn "
                   "công thức); gõ thêm dấu nháy đơn (') trước nội dung để ô được lưu dạng văn bản, hoặc bỏ dấu "
                   f"'{sign}' ở đầu.")


#: The longest paragraph (characters) one section takes: about two thirds of an A4 page of the report's body
#: (Times New Roman 14 pt on 165 mm of line: some 80 characters a line, 25-28 lines a page with its spacing),
#: so that a section never runs over a page and the outline stays readable. Longer: said in Kiểm tra.
MAX_CHARS = 1500
TAB_KEY = "office"  # Issue.tab of this tab's problems, and its key in Layout.tabs

#: Other ways the Office names a section (compared after `_section_words`).
SECTION_SYNONYMS = {
    "chi_dao": ("Chỉ đạo điều hành", "Công tác chỉ đạo, điều hành", "Chỉ đạo"),
    "uu_diem": ("Ưu điểm, kết quả", "Đánh giá ưu điểm"),
    "nguyen_nhan": ("Nguyên nhân tồn tại", "Nguyên nhân của tồn tại, hạn chế", "Tồn tại, hạn chế và nguyên nhân"),
    "phuong_huong": ("Phương hướng, nhiệm vụ", "Phương hướng nhiệm vụ kỳ tới", "Nhiệm vụ kỳ tới"),
    "kien_nghi": ("Đề xuất, kiến nghị", "Đề xuất", "Kiến nghị, đề xuất"),
    "van_ban_yeu_cau": ("Văn bản", "Công văn yêu cầu", "Văn bản đề nghị báo cáo"),
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUMBERING = re.compile(r"^(?:[ivx]+|\d+|[a-z])\s*[.)/-]\s*")


def clean(value: object) -> str:
    """The cell's text as the report may print it: NFC, stripped, control characters removed (a docx cannot
    hold them), Windows line ends made plain."""
    return _CONTROL.sub("", nfc(value).replace("\r\n", "\n").replace("\r", "\n")).strip()


def _section_words(text: str) -> str:
    words = _NUMBERING.sub("", fold(text))
    return " ".join(re.sub(r"[^\w]+", " ", words).split())


_SECTION_BY_WORDS = {_section_words(name): key for key, name in OFFICE_SECTIONS.items()} | {
    _section_words(s): key for key, names in SECTION_SYNONYMS.items() for s in names}


def section_key(text: str) -> str | None:
    """The section a Mục cell names (accents, case, dashes, punctuation and a leading "1." ignored), or None."""
    return _SECTION_BY_WORDS.get(_section_words(text)) if nfc(text) else None


@dataclass(frozen=True)
class OfficeText:
    row: int
    period: Period
    section: str  # a key of schema.OFFICE_SECTIONS
    text: str


@dataclass
class OfficeTexts:
    """What the tab holds: the usable paragraphs and the problems of the others (rows of the tab)."""

    texts: list[OfficeText] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    table: Table | None = None  # None: no such tab (an older workbook), or one the job cannot read

    def for_period(self, period: Period) -> dict[str, str]:
        """Section key → the paragraph typed for `period` (valid rows only), in the sections' order."""
        found = {t.section: t.text for t in self.texts if t.period == period}
        return {key: found[key] for key in OFFICE_SECTIONS if key in found}


def read(snapshot: Snapshot, layout: Layout, year: int, cycle: str = "cchc", third: str = "quarter",
         where: str = "") -> tuple[OfficeTexts, list[str]]:
    """The tab's paragraphs and problems, and warnings for the output. A workbook without the tab (made before
    it existed) has no Office texts: nothing to say until `init` adds it. A tab of that name whose headers the
    job cannot find is left alone with a warning: it may be the Office's own sheet, and the pass goes on."""
    name = layout.tabs[TAB_KEY]
    if snapshot.find_tab(name) is None:
        return OfficeTexts(), []
    headers = layout.office_columns
    try:
        table = locate(snapshot, name, headers, ("period", "section", "text"), where)
    except UserError as exc:
        tab = find_tab(snapshot, name, where)
        return OfficeTexts(), [f"Lưu ý: không đọc tab '{tab.name}' (phần nội dung Văn phòng nhập cho báo cáo): {exc} "
                               "Báo cáo dùng các câu tính từ số liệu."]
    return check(table, headers, year, cycle, third), table.warnings


def check(table: Table, headers: dict[str, str], year: int, cycle: str = "cchc",
          third: str = "quarter") -> OfficeTexts:
    """Every typed row read and checked; a row with a problem gives an Issue and no text."""
    out = OfficeTexts(table=table)
    usable: dict[tuple[Period, str], list[OfficeText]] = defaultdict(list)
    for row in table.rows():
        raw_period, raw_section, text = table.text(row, "period"), table.text(row, "section"), clean(
            table.value(row, "text"))
        if not (raw_period or raw_section or text):
            continue
        problems: list[tuple[str, str]] = []
        period = _period(raw_period, headers, year, cycle, third, problems)
        section = section_key(raw_section)
        if not raw_section:
            if text:
                problems.append(("section", f"Thiếu {headers['section']}: ghi một trong {_names()}."))
        elif section is None:
            hint = closest(raw_section, list(OFFICE_SECTIONS.values()))
            problems.append(("section", f"{headers['section']} {quoted(raw_section)} không có trong báo cáo"
                             + (f" (có phải '{hint}'?)" if hint else "") + f"; ghi một trong {_names()}."))
        if text and FORMULA_START.match(text) and not table.stored_as_text(row, "text"):
            problems.append(("text", f"{headers['text']} bắt đầu như một công thức bảng tính ('{text[:20]}…'), "
                             "không đưa vào báo cáo; gõ lại dạng chữ (thêm dấu ' ở đầu ô)."))
        if len(text) > MAX_CHARS:
            problems.append(("text", f"{headers['text']} dài {vn_number(len(text))} ký tự, quá "
                             f"{vn_number(MAX_CHARS)} ký tự (khoảng hai phần ba trang báo cáo): rút gọn lại; trong "
                             "khi chờ, báo cáo dùng câu tính từ số liệu."))
        out.issues += [Issue(row, column, message, tab=TAB_KEY) for column, message in problems]
        if not problems and period is not None and section is not None and text:
            usable[(period, section)].append(OfficeText(row, period, section, text))
    for (period, section), found in usable.items():
        if len(found) == 1:
            out.texts.append(found[0])
            continue
        rows = ", ".join(str(t.row) for t in found)
        for t in found:  # never a guess which one the Office meant
            out.issues.append(Issue(t.row, "section", (
                f"Trùng {headers['period']} và {headers['section']} ({period.name}, {OFFICE_SECTIONS[section]}) ở "
                f"các dòng {rows}: mỗi mục của một kỳ chỉ nhập ở một dòng (gộp các đoạn vào một ô). Báo cáo chưa "
                "dùng các dòng này."), tab=TAB_KEY))
    out.texts.sort(key=lambda t: t.row)
    out.issues.sort(key=lambda i: i.row)
    return out


def _period(raw: str, headers: dict[str, str], year: int, cycle: str, third: str,
            problems: list[tuple[str, str]]) -> Period | None:
    if not raw:
        problems.append(("period", f"Thiếu {headers['period']}: ghi kỳ như \"6 tháng đầu năm {year}\", "
                         f"\"{year}H1\" hoặc \"Quý I/{year}\"."))
        return None
    try:
        period = periods.parse(raw, cycle, third)
    except UserError as exc:
        if _parses(raw):  # a period of another cycle (a 6-month period in the quarterly cycle): say which key
            problems.append(("period", str(exc)))
            return None
        forms = periods.FORMS.replace("2024", str(year)).replace("; hoặc auto", "")
        problems.append(("period", f"{headers['period']} {quoted(raw)} không đọc được; ghi một trong các dạng: "
                         f"{forms}."))
        return None
    if period.year != year:
        problems.append(("period", f"{headers['period']} {quoted(raw)} ({period.name}) không thuộc năm của Kế hoạch "
                         f"({year}); sửa năm, hoặc xóa dòng của năm cũ."))
        return None
    return period


def _parses(raw: str) -> bool:
    try:
        periods.parse(raw)
    except UserError:
        return False
    return True


def _names() -> str:
    return ", ".join(f"'{n}'" for n in OFFICE_SECTIONS.values())

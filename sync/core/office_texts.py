"""The Office's own words for the period reports: the `Báo cáo` tab (docs/reports.md). Pure: no I/O.

The data cannot know how the Sở directed the work, what went well and why, what comes next, what it asks
of the province, or which letter of Sở Nội vụ the report answers. The Office types those paragraphs in
`Báo cáo`, one row per period and section (`Kỳ báo cáo | Mục | Nội dung`); the report puts each valid one
in its section as typed. A row the job cannot use is said in the row's `Kiểm tra` and in the dashboard's
list of input errors, like any unit's mistake, and the report falls back to its sentence from the data.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from sync.core import periods
from sync.core.errors import UserError
from sync.core.periods import Period
from sync.core.schema import OFFICE_SECTIONS, Layout, closest, fold, nfc, vn_number
from sync.core.tables import Table, find_tab, locate
from sync.core.validation import FORMULA_START, Issue
from sync.core.workbook import Snapshot

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
            problems.append(("section", f"{headers['section']} '{raw_section}' không có trong báo cáo"
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
        problems.append(("period", f"{headers['period']} '{raw}' không đọc được; ghi một trong các dạng: {forms}."))
        return None
    if period.year != year:
        problems.append(("period", f"{headers['period']} '{raw}' ({period.name}) không thuộc năm của Kế hoạch "
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

"""The year's list of evidence (tài liệu kiểm chứng) beside the annual report, for the CCHC index self-assessment.

When the Sở scores itself on the provincial CCHC index, each criterion needs its evidence: the links and document
numbers units typed in `Minh chứng`. This file gathers them per task and unit (valid cells only: a cell flagged
in `Kiểm tra` is left out), with the tasks that have none, so the Office sees the gaps. It is a workbook the
Office opens and edits: every text cell is stored as text (a unit's "=…" never becomes a live formula) with
control characters removed, and it is written atomically (sync.files).
"""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync import files
from sync.core.deadlines import format_date
from sync.core.periods import Period
from sync.core.plan import Plan
from sync.core.schema import HEADER_COLOUR, ROLES
from sync.core.summary import Summary
from sync.core.validation import URL_LIKE, clean

if TYPE_CHECKING:
    from openpyxl.cell import Cell, MergedCell

SUFFIX = ".tai-lieu-kiem-chung.xlsx"
NONE = "(chưa có minh chứng)"
#: A document's number and symbol as offices write it: "123/KH-STTTT", "09/2019/NĐ-CP", "45/QĐ-UBND".
DOC_NUMBER = re.compile(r"(?<![\w/])\d{1,5}/(?:\d{4}/)?[A-ZĐ][A-ZĐ0-9]*(?:-[A-ZĐ0-9]+)*(?![\w/])")
HEADERS = ("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Tình trạng nhiệm vụ", "Đơn vị", "Vai trò", "Minh chứng",
           "Đường dẫn", "Số, ký hiệu văn bản", "Ngày hoàn thành")
WIDTHS = (6, 50, 30, 28, 30, 10, 50, 45, 24, 14)


@dataclass(frozen=True)
class Evidence:
    """One unit's evidence for one task (or a task with none: `unit` empty, `text` NONE)."""

    stt: int
    task: str
    lead: str
    state: str
    unit: str = ""
    role: str = ""
    text: str = NONE
    links: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    done: str = ""


def path_for(report: Path) -> Path:
    return report.with_name(report.stem + SUFFIX)


def rows(summary: Summary, plan: Plan) -> list[Evidence]:
    """Every task in plan order, each with its units' evidence in registry order. Pure."""
    names = {u.code: u.name for u in plan.registry.units}
    order = {u.code: n for n, u in enumerate(plan.registry.units)}
    states = {t.stt: t.label for t in summary.tasks}
    found: dict[int, list[tuple[int, Evidence]]] = {}
    for r in summary.results:
        c = r.checked
        if not (c.counted and c.task and c.unit) or any(i.column == "evidence" for i in c.issues):
            continue
        text = clean(c.entry.evidence)
        if not text:
            continue
        task = c.task
        found.setdefault(task.stt, []).append((order[c.unit.code], Evidence(
            task.stt, clean(task.task), "; ".join(names[code] for code in task.lead if code in names),
            states.get(task.stt, ""), c.unit.name, ROLES.get(c.role or "", ""), text,
            tuple(clean(u).rstrip(".,;") for u in URL_LIKE.findall(text)), tuple(DOC_NUMBER.findall(text)),
            format_date(c.done_date) if c.done_date else "")))
    out = []
    for task in plan.tasks:
        got = [e for _, e in sorted(found.get(task.stt, []), key=lambda pair: pair[0])]
        out += got or [Evidence(task.stt, clean(task.task),
                                "; ".join(names[code] for code in task.lead if code in names),
                                states.get(task.stt, ""))]
    return out


def to_bytes(items: list[Evidence], period: Period, as_of: dt.date) -> bytes:
    """The workbook: a title line, the header, one row per item; every text cell inert."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    ws = wb.worksheets[0]
    ws.title = "Tài liệu kiểm chứng"
    _text(ws.cell(row=1, column=1), f"Tài liệu kiểm chứng kết quả thực hiện Kế hoạch tuyên truyền cải cách hành "
                                    f"chính {period.name} (số liệu đến ngày {format_date(as_of)}), phục vụ tự "
                                    "đánh giá Chỉ số cải cách hành chính")
    ws.cell(row=1, column=1).font = Font(bold=True)
    for col, (name, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = ws.cell(row=2, column=col)
        _text(cell, name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_COLOUR)
        ws.column_dimensions[get_column_letter(col)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, e in enumerate(items, start=3):
        values: tuple[int | str, ...] = (e.stt, e.task, e.lead, e.state, e.unit, e.role, e.text,
                                         "\n".join(e.links), "\n".join(e.numbers), e.done)
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col)
            if isinstance(value, int):
                cell.value = value
            else:
                _text(cell, str(value))
            cell.alignment = wrap
    ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text(cell: Cell | MergedCell, value: str) -> None:
    """Text stored as text: never evaluated, even when it starts like a formula (and marked so for Excel)."""
    value = clean(value)
    cell.value = value or None
    if value:
        cell.data_type = "s"
        if value[0] in "=+-@":
            cell.quotePrefix = True


def write(path: Path, items: list[Evidence], period: Period, as_of: dt.date) -> Path:
    files.write_bytes(path, to_bytes(items, period, as_of))
    return path

"""The Office's internal companion to a period report (`….noi-bo.xlsx`): what the document leaves out on purpose
— the figures by row (unit × task), rows whose status cannot be read, overdue rows, the quarterly results still
owed per unit, the input errors, where the figures come from — in Vietnamese column names. Never attached to
the report's e-mail (sync.notify sends the .docx and its PDF only).

Every text cell is stored as text (an inline string), never as a formula, whatever it starts with: a unit's
"=HYPERLINK(…)" is shown as typed and cannot run when the Office opens the file.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from sync.deadlines import format_date
from sync.periods import ROMAN

from .content import Report

SUFFIX = ".noi-bo.xlsx"
TITLE = "Tài liệu nội bộ của Văn phòng Sở, không gửi kèm báo cáo"


def to_bytes(report: Report) -> bytes:
    book = Workbook()
    book.remove(book.worksheets[0])
    k = report.kpis
    _sheet(book, "Số liệu theo dòng", ["Chỉ số", "Số liệu"],
           [(label, value) for label, value in report.kpi_rows] + [("Nguồn số liệu", report.source_sentence())],
           report, (52, 60))
    _sheet(book, "Quá hạn theo dòng", ["STT nhiệm vụ", "Nhiệm vụ", "Đơn vị", "Hạn hoàn thành", "Số ngày quá hạn"],
           [(o.stt, o.task, o.unit, format_date(o.due), o.days) for o in report.overdue], report, (10, 70, 28, 16, 14))
    _sheet(book, "Kết quả còn thiếu", ["Đơn vị", "Quý", "STT nhiệm vụ"],
           [(unit, f"Quý {ROMAN[q]}", stt) for unit, items in report.missing for q, stt in items], report, (30, 10, 14))
    _sheet(book, "Lỗi nhập liệu", ["Tab", "Dòng", "Đơn vị", "Cột", "Nội dung"],
           [(e.tab, e.row, e.unit, e.column, e.message) for e in report.errors], report, (16, 8, 28, 14, 80))
    if k.unknown_status or k.not_counted:
        _sheet(book, "Dòng chưa tính", ["Loại", "Số dòng"],
               [("Chưa rõ tình trạng (ghi sai, chờ đơn vị sửa)", k.unknown_status),
                ("Dòng ngoài Kế hoạch hoặc trùng lặp (không tính)", k.not_counted)], report, (52, 12))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _sheet(book: Workbook, name: str, header: Sequence[str], rows: Iterable[Sequence[object]], report: Report,
           widths: Sequence[int]) -> None:
    sheet = book.create_sheet(name)
    _put(sheet, 1, [f"{TITLE} ({report.period.name}, số liệu tính đến {format_date(report.as_of)})"])
    sheet.cell(1, 1).font = Font(italic=True)
    _put(sheet, 2, header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    n = 2
    for n, row in enumerate(rows, 3):
        _put(sheet, n, row)
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    for line in sheet.iter_rows(min_row=3, max_row=n):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A3"


def _put(sheet, row: int, values: Sequence[object]) -> None:
    """Numbers as numbers; everything else as inert text (never a formula)."""
    for col, value in enumerate(values, 1):
        cell = sheet.cell(row, col)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell.value = value
        else:
            cell.value = "" if value is None else str(value)
            cell.data_type = "s"

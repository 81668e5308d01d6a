"""The Office's internal companion to a period report (`….noi-bo.xlsx`): what the document leaves out on purpose
— the figures by row (unit × task), rows whose status cannot be read, overdue rows, the quarterly results still
owed per unit, the input errors, where the figures come from — in Vietnamese column names. Never attached to
the report's e-mail (sync.usecases.notify sends the .docx and its PDF only).

Every text cell is stored as text (an inline string), never as a formula, whatever it starts with: a unit's
"=HYPERLINK(…)" is shown as typed and cannot run when the Office opens the file.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from sync.core.deadlines import format_date
from sync.core.periods import ROMAN
from sync.reports.content import Report

TITLE = "Tài liệu nội bộ của Văn phòng Sở, không gửi kèm báo cáo"


def to_bytes(report: Report) -> bytes:
    book = Workbook(write_only=True)  # streamed: a 10,000-row workbook's lists in a second
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
    sheet = book.create_sheet(name)  # a WriteOnlyWorksheet: the book is write-only
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A3"
    sheet.append(_cells(sheet, [f"{TITLE} ({report.period.name}, số liệu tính đến {format_date(report.as_of)})"],
                        Font(italic=True)))
    sheet.append(_cells(sheet, header, Font(bold=True)))
    for row in rows:  # unstyled: a style per cell costs more than the rest of the file
        sheet.append(_cells(sheet, row))


def _cells(sheet: WriteOnlyWorksheet, values: Sequence[object], font: Font | None = None) -> list[Cell]:
    """Numbers as numbers; everything else as inert text (never a formula)."""
    out = []
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell = WriteOnlyCell(sheet, value)
        else:
            cell = WriteOnlyCell(sheet, "" if value is None else str(value))
            cell.data_type = "s"
        if font:
            cell.font = font
        out.append(cell)
    return out

"""Applying a WriteSet to the openpyxl workbook (`Sheets`, a `sync.core.workbook.WriteTarget`), and the
formatting `init` gives a tab. Values are written RAW: text that starts with '=' stays text, dates get a
Vietnamese date format. sync.backends.local saves the result atomically.
"""
from __future__ import annotations

import datetime as dt
import errno
import gc
import io
import sys
from collections.abc import Iterable
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from sync.backends.local_render import apply_inputs, fit_heights, fit_rows, render_styled
from sync.backends.xlsx_read import read_sheet
from sync.core.schema import FLAG_COLOURS, HEADER_COLOUR, JOB_AUTHOR
from sync.core.tables import append_row
from sync.core.workbook import Cell, Pos, Styled, TabFormat, WriteSet
from sync.files import put_text_safe

DATE_FORMAT = "DD/MM/YYYY"
HEADER_FILL = PatternFill("solid", fgColor=HEADER_COLOUR)


def apply_changes(wb: openpyxl.Workbook, changes: WriteSet) -> None:
    changes.apply_to(Sheets(wb, {fmt.tab: fmt.header_row for fmt in changes.formats}))


class Sheets:
    """The workbook's tabs as a WriteSet's target.

    `formatted`: the tabs the same WriteSet formats, by their header row. Formatting sets every data row's
    alignment and height itself, so the cells written there are fitted then, once, not twice (`init` and
    `history --at -o` at 10,000 rows spent a third of their time fitting rows twice)."""

    def __init__(self, wb: openpyxl.Workbook, formatted: dict[str, int] | None = None):
        self.wb = wb
        self.formatted = formatted or {}
        self.deferred: dict[str, list[Pos]] = {}

    def add_tab(self, name: str) -> None:
        if name not in self.wb.sheetnames:
            self.wb.create_sheet(name)

    def set_cells(self, tab: str, cells: dict[Pos, Cell]) -> None:
        ws = self.wb[tab]
        for (r, c), value in cells.items():
            put(ws, r, c, value)
        header = self.formatted.get(tab)
        if header is None:
            fit_rows(ws, cells)
            return
        fit_rows(ws, [p for p in cells if p[0] <= header])
        self.deferred.setdefault(tab, []).extend(p for p in cells if p[0] > header)

    def set_notes(self, tab: str, notes: dict[Pos, str | None]) -> None:
        ws = self.wb[tab]
        for (r, c), text in notes.items():
            cell = ws.cell(row=r, column=c)
            if text is None:
                cell.comment = None
            else:
                comment = Comment(text, JOB_AUTHOR)
                comment.width, comment.height = 320, 40 + 16 * (len(text) // 45 + text.count("\n"))
                cell.comment = comment

    def replace_tab(self, tab: str, styled: Styled) -> None:
        old = self.wb[tab]
        # its place among every sheet (Workbook.index counts worksheets only: a chart sheet before it moved it)
        index, protection = self.wb.sheetnames.index(old.title), old.protection
        self.wb.remove(old)
        ws = self.wb.create_sheet(tab, index)
        ws.protection = protection
        render_styled(ws, styled, put)
        _print_landscape(ws)

    def append_rows(self, tab: str, rows: list[list[Cell]]) -> None:
        ws = self.wb[tab]
        start = append_row(read_sheet(ws))  # read as a pass reads it: a stray far cell is not walked to
        for offset, values in enumerate(rows):
            for c, value in enumerate(values, start=1):
                put(ws, start + offset, c, value)

    def apply_format(self, fmt: TabFormat) -> None:
        ws = self.wb[fmt.tab]
        last = apply_format(ws, fmt)
        fit_rows(ws, [p for p in self.deferred.pop(fmt.tab, []) if p[0] > last])  # below the data: not formatted


def put(ws: Worksheet, row: int, col: int, value: Cell) -> None:
    """Write a value RAW: text that starts with '=' stays text, dates get a Vietnamese date format."""
    cell = ws.cell(row=row, column=col)
    cell.value = None if value == "" else value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    elif isinstance(value, (dt.date, dt.datetime)):
        cell.number_format = DATE_FORMAT


def _print_landscape(ws: Worksheet) -> None:
    """A4 landscape, all columns on one page width: how the Office prints a tab."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    fit = ws.sheet_properties.pageSetUpPr
    if fit is None:  # openpyxl makes one with every sheet; a sheet read from a file may lack it
        fit = ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    fit.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


def apply_format(ws: Worksheet, fmt: TabFormat) -> int:
    """Format the tab as `init` lays it out; the data's last row (the rows below it are not formatted)."""
    ws.freeze_panes = f"A{fmt.frozen_rows + 1}" if fmt.frozen_rows else None
    for c, width in fmt.widths.items():
        ws.column_dimensions[get_column_letter(c)].width = width
    last = len(read_sheet(ws).rows)  # the data's last row as a pass reads it (not ws.max_row: a stray far cell)
    if fmt.widths:  # a table's tab; the dashboard draws its own title, styles and heights (local_render)
        _headers_and_alignment(ws, fmt, last)
        fit_heights(ws, range(fmt.header_row + 1, last + 1))
    _print_landscape(ws)
    ws.print_title_rows = f"{fmt.header_row}:{fmt.header_row}" if fmt.frozen_rows else None
    _dropdowns(ws, fmt)
    apply_inputs(ws, fmt)
    if fmt.row_colours:
        _row_colours(ws, fmt)
    if fmt.protect_tab:
        ws.protection.sheet = True
        for c in fmt.editable_columns:
            for r in range(fmt.header_row + 1, last + 1):
                ws.cell(row=r, column=c).protection = Protection(locked=False)
    return last


def _headers_and_alignment(ws: Worksheet, fmt: TabFormat, last: int) -> None:
    # as wide as the table's headers, not ws.max_column: a stray cell in column XFD would style 16,384 cells a row
    heads = {c: cell for (r, c), cell in ws._cells.items() if r == fmt.header_row and cell.value not in (None, "")}
    width = max([*heads, *fmt.widths, *fmt.wrap_columns], default=0)
    for head in heads.values():
        head.font, head.fill = Font(bold=True), HEADER_FILL
        head.alignment = Alignment(wrap_text=True, vertical="center")
    wrapped, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    for r in range(fmt.header_row + 1, last + 1):
        for c in range(1, width + 1):
            ws.cell(row=r, column=c).alignment = wrapped if c in fmt.wrap_columns else top


def _dropdowns(ws: Worksheet, fmt: TabFormat) -> None:
    for dd in fmt.dropdowns:
        formula = '"' + ",".join(dd.values) + '"'
        ws.data_validations.dataValidation = [v for v in ws.data_validations.dataValidation
                                              if v.formula1 != formula]
        rule = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                              errorTitle="Tình trạng không hợp lệ",
                              error="Chọn một giá trị trong danh sách: " + ", ".join(dd.values))
        col = get_column_letter(dd.column)
        rule.add(f"{col}{dd.first_row}:{col}{dd.last_row}")
        ws.add_data_validation(rule)


def _our_rule(rule: Rule) -> bool:
    return any(f'SEARCH("{text}"' in f for f in (rule.formula or []) for text, _ in FLAG_COLOURS)


def _row_colours(ws: Worksheet, fmt: TabFormat) -> None:
    """The flag column's text colours its row (conditional formats), replacing the ones made before."""
    kept = ConditionalFormattingList()
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if not _our_rule(rule):
                kept.add(str(cf.sqref), rule)
    ws.conditional_formatting = kept
    flag_col = get_column_letter(fmt.colour_column)
    area = f"A{fmt.header_row + 1}:{get_column_letter(fmt.colour_last_col)}{fmt.colour_last_row}"
    for text, rgb in fmt.row_colours:
        rule = Rule(type="expression", formula=[f'ISNUMBER(SEARCH("{text}",${flag_col}{fmt.header_row + 1}))'],
                    stopIfTrue=True)  # what openpyxl's FormulaRule makes, typed
        rule.dxf = DifferentialStyle(fill=PatternFill(bgColor=rgb, fill_type="solid"))
        ws.conditional_formatting.add(area, rule)


# --- workbooks the job writes for people (the export, history's tab as it stood) ----------------------

def write_xlsx(path: Path, header: list[str], rows: Iterable[Iterable[Cell]], sheet: str) -> None:
    """One tab: a bold header row, then the rows, every text a string cell (see `put_text_safe`)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook has its one tab
    ws.title = sheet
    for c, name in enumerate(header, start=1):
        put_text_safe(ws.cell(row=1, column=c), name)
        ws.cell(row=1, column=c).font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            if value is not None:
                put_text_safe(ws.cell(row=r, column=c), value)
    ws.freeze_panes = "A2"
    save_workbook(wb, path)


def save_new(changes: WriteSet, path: Path) -> None:
    """A new workbook holding only what `changes` lays out (history's `--at -o` copy of `Theo dõi`), saved."""
    wb = openpyxl.Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    apply_changes(wb, changes)
    save_workbook(wb, path)


def save_workbook(wb: openpyxl.Workbook, path: Path) -> None:
    """Save an openpyxl workbook to `path` through memory. openpyxl writes each sheet through a temporary file
    first: on a full disk (there or at `path`) the failure is one OSError, never lxml's own error nor the
    traceback its half-closed writers print when they are collected."""
    from lxml.etree import SerialisationError
    buffer = io.BytesIO()
    failure: tuple[int, str] | None = None
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _: None  # the failed save's writers fail again as they are collected: said once
    try:
        try:
            wb.save(buffer)
        except (OSError, SerialisationError) as exc:
            failure = (getattr(exc, "errno", None) or errno.ENOSPC,
                       getattr(exc, "strerror", None) or f"không ghi được tệp tạm ({exc})")
        gc.collect()
    finally:
        sys.unraisablehook = hook
    if failure is not None:
        raise OSError(*failure)
    Path(path).write_bytes(buffer.getvalue())


def clear_rows(path: Path, tab: str) -> None:
    """Delete every row of `tab` below its header (the demo's log: it is no state file's workbook)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[tab]
    if ws.max_row > 1:
        ws.delete_rows(2, ws.max_row - 1)
    wb.save(path)


def keep_only(path: Path, tab: str, out: Path) -> Path:
    """A copy of the workbook at `path` holding only `tab`, saved as `out` (the dashboard's picture)."""
    wb = openpyxl.load_workbook(path)
    for ws in list(wb.worksheets):
        if ws.title != tab:
            wb.remove(ws)
    wb.save(out)
    return out

"""What the job draws on the local workbook beyond cell values: a job-owned `Styled` grid (the dashboard) rendered
into an openpyxl worksheet, and typed input.

Widths, merges, wrapping, alignment (headers centred, numbers right, all vertically centred), row
heights for wrapped text (spreadsheet programs do not grow rows that openpyxl wrote), banded list rows and the
stacked bar chart. Kept apart from the backend's file handling so both can change independently.

A table's header and total rows are boxed with thin borders; its list rows are banded, never bordered. Cell
borders on a merged range are what makes openpyxl slow to open a file: for each range it re-derives the border
of every edge cell (`MergedCellRange.format`), which on a dashboard of thousands of overdue lines doubled the
time to read the workbook, on every pass.

Typed input on the local workbook: Excel data validations that warn (never reject) with a help message.
`apply_inputs` replaces the validations it made before (known by their
error title) and adds one per rule, so running `init` again never stacks them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from copy import copy
from typing import Any

from openpyxl.cell.cell import MergedCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from sync.core.workbook import Cell, Chart, InputRule, Styled, TabFormat
from sync.sheet.layout import row_height, wrapped_lines

STYLE_FONTS = {"title": Font(bold=True, size=14), "subtitle": Font(italic=True),
               "section": Font(bold=True, size=12), "header": Font(bold=True), "total": Font(bold=True)}
THIN = Side(style="thin", color="BFBFBF")
GRID_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
PX_PER_CM = 37.8


def render_styled(ws: Worksheet, styled: Styled, put: Callable[[Worksheet, int, int, Cell], None]) -> None:
    """Write `styled` into the empty sheet `ws`; `put` writes one value the backend's way (RAW, dates)."""
    boxed = _boxed_rows(styled)
    covered = {(r, c) for r1, c1, r2, c2 in styled.merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
               if (r, c) != (r1, c1)}
    looks: dict[tuple[object, ...], object] = {}  # one openpyxl style per distinct look, copied: setting styles one by
    for r, values in enumerate(styled.rows, start=1):  # one hashes them per cell (seconds on a big tab)
        style = styled.styles.get(r)
        for c, value in enumerate(values, start=1):
            if value is None and (r, c) in covered:
                continue  # the merge below makes it a merged cell
            put(ws, r, c, value)
            cell: Any = ws.cell(row=r, column=c)  # Any: openpyxl's stubs omit the `_style` it has
            horizontal = styled.alignment(r, c)
            colour = styled.background(r, c)
            look = (style, colour, r in boxed, styled.number_formats.get((r, c)), cell.number_format, horizontal,
                    (r, c) in styled.wrap)
            if look in looks:
                cell._style = copy(looks[look])
                continue
            if style in STYLE_FONTS:
                cell.font = STYLE_FONTS[style]
            if colour:
                cell.fill = PatternFill("solid", fgColor=colour)
            if r in boxed:
                cell.border = GRID_BORDER
            fmt = styled.number_formats.get((r, c))
            if fmt:
                cell.number_format = fmt
            cell.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=(r, c) in styled.wrap,
                                       indent=1 if horizontal == "left" and style is None else 0)
            looks[look] = copy(cell._style)
    _merge(ws, styled.merges, boxed)
    for c, width in styled.widths.items():
        ws.column_dimensions[get_column_letter(c)].width = width
    for r, lines in styled.lines.items():
        ws.row_dimensions[r].height = row_height(lines)
    if styled.chart:
        anchor = f"{get_column_letter(styled.chart.anchor[1])}{styled.chart.anchor[0]}"
        ws.add_chart(bar_chart(styled.chart, ws), anchor)


def _merge(ws: Worksheet, merges: tuple[tuple[int, int, int, int], ...], boxed: set[int]) -> None:
    """What ws.merge_cells() does, without its costs on a long tab: it checks each new range against every
    earlier one (ours never overlap) and sums borders cell by cell. Covered cells become merged cells; in a
    boxed row they carry the grid border so the merged cell's edges are drawn."""
    bordered = None
    for r1, c1, r2, c2 in merges:
        ws.merged_cells.ranges.add(MergedCellRange(ws, f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"))
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) == (r1, c1):
                    continue
                merged: Any = MergedCell(ws, row=r, column=c)  # Any: openpyxl's stubs omit the `_style` it has
                if r in boxed:
                    if bordered is None:
                        merged.border = GRID_BORDER
                        bordered = copy(merged._style)
                    merged._style = copy(bordered)
                ws._cells[(r, c)] = merged


def _boxed_rows(styled: Styled) -> set[int]:
    """A table's header row and its total rows (a header row and the rows under it, up to the next blank row or
    title, make a table) get borders; its list rows do not (banded instead: see the module's docstring)."""
    rows, inside = set(), False
    for r, values in enumerate(styled.rows, start=1):
        style = styled.styles.get(r)
        if style == "header":
            inside = True
        elif not values or style in ("section", "title", "subtitle"):
            inside = False
        if inside and style in ("header", "total"):
            rows.add(r)
    return rows


def bar_chart(spec: Chart, ws: Worksheet) -> BarChart:
    chart = BarChart()
    chart.type = "bar"  # horizontal bars: unit names stay readable
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.gapWidth = 60
    chart.title = spec.title
    chart.style = 10
    chart.y_axis.title = spec.axis_title
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"  # first unit on top, as in the table
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    # centimetres, fractions kept: openpyxl takes any number, its stubs say int
    object.__setattr__(chart, "width", spec.width_px / PX_PER_CM)
    chart.height = spec.height_px / PX_PER_CM
    cats = Reference(ws, min_col=spec.category_column, min_row=spec.first_row, max_row=spec.last_row)
    for i, col in enumerate(spec.series_columns):
        data = Reference(ws, min_col=col, min_row=spec.header_row, max_row=spec.last_row)
        chart.add_data(data, titles_from_data=True)
        if i < len(spec.colours):
            chart.series[-1].graphicalProperties.solidFill = spec.colours[i]
            chart.series[-1].graphicalProperties.line.solidFill = spec.colours[i]
    chart.set_categories(cats)
    return chart


def fit_rows(ws: Worksheet, positions: Iterable[tuple[int, int]]) -> None:
    """After a pass wrote cells (Kiểm tra, Cảnh báo): text of several lines wraps, and each row written is as
    tall as its longest wrapped cell, so every message of a multi-message cell shows."""
    rows = set()
    for r, c in positions:
        cell = ws.cell(row=r, column=c)
        if isinstance(cell.value, str) and "\n" in cell.value and not cell.alignment.wrap_text:
            cell.alignment = Alignment(wrap_text=True, vertical=cell.alignment.vertical or "top")
        rows.add(r)
    fit_heights(ws, rows)


def fit_heights(ws: Worksheet, rows: Iterable[int]) -> None:
    """Each of `rows` as tall as its longest wrapping cell (spreadsheet programs do not grow rows that openpyxl
    wrote), by the one formula of sync.sheet.layout; a row of one-line cells gets the program's own height.
    Only the cells the sheet stores are looked at (ws._cells; ws.cell() would create one at every position, and a
    stray cell in column XFD would make that 16,384 a row)."""
    lines = dict.fromkeys(rows, 1)
    widths: dict[int, float] = {}
    for (r, c), cell in ws._cells.items():
        value = cell.value
        if r not in lines or not isinstance(value, str) or not value or not cell.alignment.wrap_text:
            continue
        if c not in widths:
            dim = ws.column_dimensions.get(get_column_letter(c))  # .get: no empty column entry made
            widths[c] = (dim.width if dim is not None else None) or 8.43
        if len(value) + 2 < widths[c] and "\n" not in value:
            continue  # short enough for one line whatever the font
        lines[r] = max(lines[r], wrapped_lines(value, widths[c]))
    for r, count in lines.items():
        ws.row_dimensions[r].height = row_height(count)


#: The error title of every validation made here: how they are found again (and the title of the warning box).
MARK = "Kiểm tra nhập liệu"
#: Excel's limits on a validation's texts (characters); longer texts make the file unreadable to Excel.
TITLE_MAX, PROMPT_MAX, ERROR_MAX = 32, 255, 225


def apply_inputs(ws: Worksheet, fmt: TabFormat) -> None:
    ws.data_validations.dataValidation = [v for v in ws.data_validations.dataValidation if v.errorTitle != MARK]
    for rule in fmt.inputs:
        validation = _validation(rule)
        col = get_column_letter(rule.column)
        validation.add(f"{col}{rule.first_row}:{col}{rule.last_row}")
        ws.add_data_validation(validation)


def _validation(rule: InputRule) -> DataValidation:
    if rule.kind == "date":
        validation = DataValidation(type="date", operator="between", formula1="DATE(1990,1,1)",
                                    formula2="DATE(2100,12,31)")
    elif rule.kind == "whole":
        validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    else:
        validation = DataValidation()  # any value: the help message alone
    validation.allow_blank = True
    validation.showInputMessage = True
    validation.promptTitle, validation.prompt = rule.title[:TITLE_MAX], rule.message[:PROMPT_MAX]
    validation.errorTitle, validation.error = MARK, rule.warning[:ERROR_MAX]
    validation.errorStyle = "warning"  # the value stays; the pass's Kiểm tra says what to fix
    validation.showErrorMessage = bool(rule.warning)
    return validation

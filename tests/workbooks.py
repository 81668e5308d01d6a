"""Helpers to look at and edit .xlsx files the way a user would (openpyxl, no project code)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl


def values(path: Path, *tabs: str) -> dict[str, list[tuple]]:
    """Every tab's values (or only those of `tabs`), row by row. Read-only mode: the values a full load gives
    (openpyxl pads rows to the sheet's dimension either way; a merged range's covered cells are None in both),
    at a third of the cost, since merged ranges are not bound to cells."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
                if not tabs or ws.title in tabs}
    finally:
        wb.close()


def header(path: Path, tab: str) -> list:
    """The first row of `tab` (read-only mode: the header of a 10,000-row workbook without loading its rows)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(next(wb[tab].iter_rows(min_row=1, max_row=1, values_only=True), ()))
    finally:
        wb.close()


def col(path: Path, tab: str, name: str) -> int:
    return header(path, tab).index(name) + 1


def edit(path: Path, tab: str, cells: dict[tuple[int, int], Any]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[tab]
    for (r, c), v in cells.items():
        ws.cell(row=r, column=c).value = v
    wb.save(path)


def cell_grid(path: Path, tab: str) -> dict[tuple[int, int], object]:
    """(row, column) → value of every non-empty cell of `tab` (read-only mode, as in `values`)."""
    return grid_of(values(path, tab)[tab])


def grid_of(rows: list[tuple]) -> dict[tuple[int, int], object]:
    return {(r, c): v for r, row in enumerate(rows, 1) for c, v in enumerate(row, 1) if v not in (None, "")}


class Grid:
    """One tab's values read once in read-only mode, looked up like a full load's `ws.cell(row, column).value`
    (1-based; None outside the tab's dimension), with the same max_row and max_column."""

    def __init__(self, rows: list[tuple]):
        self.rows = rows
        self.max_row = len(rows)
        self.max_column = max((len(r) for r in rows), default=0)

    def __call__(self, row: int, column: int) -> Any:
        line = self.rows[row - 1] if 0 < row <= len(self.rows) else ()
        return line[column - 1] if 0 < column <= len(line) else None

    def row(self, row: int) -> list:
        return list(self.rows[row - 1]) if 0 < row <= len(self.rows) else []


def grid(path: Path, tab: str) -> Grid:
    return Grid(values(path, tab)[tab])


def labelled(rows) -> dict[str, object]:
    """A dashboard's label → value pairs as a reader sees them: each row's first text, then the next value."""
    out: dict[str, object] = {}
    for r in rows:
        cells = [v for v in r if v not in (None, "")]
        first = next((i for i, v in enumerate(cells) if isinstance(v, str)), None)
        if first is not None and first + 1 < len(cells):
            out.setdefault(cells[first], cells[first + 1])
    return out


def write_fast(path: Path, tabs: dict[str, list[list]]) -> None:
    """Values only, in openpyxl's write-only mode (streamed, no cell objects kept): a large workbook in
    seconds. Dates get a date format so that they read back as dates; text starting with '=' stays text.
    No widths, dropdowns or colours: only for tests whose point is the values and the file's size."""
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    for name, rows in tabs.items():
        ws = wb.create_sheet(name)
        for row in rows:
            line = []
            for value in row:
                if isinstance(value, dt.date):
                    day = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
                    cell = WriteOnlyCell(ws, value=day)
                    cell.number_format = "DD/MM/YYYY"
                    line.append(cell)
                elif isinstance(value, str) and value.startswith("="):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.data_type = "s"
                    line.append(cell)
                else:
                    line.append(value)
            ws.append(line)
    wb.save(path)

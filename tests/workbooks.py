"""Helpers to look at and edit .xlsx files the way a user would (openpyxl, no project code)."""
from __future__ import annotations

from pathlib import Path

import openpyxl


def values(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def header(path: Path, tab: str) -> list:
    wb = openpyxl.load_workbook(path)
    return [c.value for c in wb[tab][1]]


def col(path: Path, tab: str, name: str) -> int:
    return header(path, tab).index(name) + 1


def edit(path: Path, tab: str, cells: dict[tuple[int, int], object]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[tab]
    for (r, c), v in cells.items():
        ws.cell(row=r, column=c).value = v
    wb.save(path)


def cell_grid(path: Path, tab: str) -> dict[tuple[int, int], object]:
    wb = openpyxl.load_workbook(path)
    return {(c.row, c.column): c.value for row in wb[tab].iter_rows() for c in row if c.value not in (None, "")}


def labelled(rows) -> dict[str, object]:
    """A dashboard's label → value pairs as a reader sees them: each row's first text, then the next value."""
    out: dict[str, object] = {}
    for r in rows:
        cells = [v for v in r if v not in (None, "")]
        first = next((i for i, v in enumerate(cells) if isinstance(v, str)), None)
        if first is not None and first + 1 < len(cells):
            out.setdefault(cells[first], cells[first + 1])
    return out

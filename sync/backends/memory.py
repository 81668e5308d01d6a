"""An in-memory workbook: the reference backend, for tests and the benchmark's compute figures.

It applies a WriteSet with the same semantics the real backends must have, so a test that passes here
and on a real backend proves the two agree.
"""
from __future__ import annotations

import copy

from sync.core.errors import StaleSnapshot
from sync.core.tables import append_row, last_used_row
from sync.core.workbook import Cell, Snapshot, Styled, Tab, TabFormat, WriteSet


class MemoryBackend:
    name = "memory"

    def __init__(self, tabs: dict[str, list[list[Cell]]] | None = None,
                 merged: dict[str, list[tuple[int, int, int, int]]] | None = None):
        self.tabs: dict[str, Tab] = {n: Tab(n, [list(r) for r in rows], merged=list((merged or {}).get(n, [])))
                                     for n, rows in (tabs or {}).items()}
        self.version = 0
        self.api_calls = 0
        self.formats: list[TabFormat] = []
        self.styles: dict[str, Styled] = {}

    def describe(self) -> str:
        return "bảng tính trong bộ nhớ"

    def exists(self) -> bool:
        return True  # held in memory: there from the start

    def empty_snapshot(self) -> Snapshot:
        return self.read()

    def read(self) -> Snapshot:
        self.api_calls += 1
        return Snapshot(copy.deepcopy(self.tabs), token=self.version)

    def write(self, snapshot: Snapshot, changes: WriteSet) -> None:
        changes.check_unit_cells()
        if snapshot.token != self.version:
            raise StaleSnapshot("phiên bản đã đổi")
        self.api_calls += 1
        tabs = copy.deepcopy(self.tabs)
        apply(tabs, changes)
        self.tabs = tabs
        self.formats = list(changes.formats) or self.formats
        self.styles.update(changes.replace)
        self.version += 1


def apply(tabs: dict[str, Tab], changes: WriteSet) -> None:
    """Apply `changes` to plain tabs; shared by the memory backend and the tests' expectations."""
    for name in changes.new_tabs:
        tabs.setdefault(name, Tab(name))
    for name, cells in changes.cells.items():
        for (r, c), value in cells.items():
            put(tabs[name], r, c, value)
    for name, notes in changes.notes.items():
        for pos, text in notes.items():
            if text is None:
                tabs[name].notes.pop(pos, None)
            else:
                tabs[name].notes[pos] = text
    for name, styled in changes.replace.items():
        tabs[name].rows = [list(r) for r in styled.rows]
        tabs[name].notes = {}
        tabs[name].merged = []  # a job-owned tab is rewritten whole, merges included
    for name, rows in changes.append.items():
        tab = tabs[name]
        del tab.rows[last_used_row(tab):]  # trailing empty rows: a spreadsheet program shows none
        start = append_row(tab)  # the real backends' place: after the last used row, below a merge reaching it
        for offset, values in enumerate(rows):
            for c, value in enumerate(values, start=1):
                put(tab, start + offset, c, value)


def put(tab: Tab, row: int, col: int, value: Cell) -> None:
    for r1, c1, r2, c2 in tab.merged:  # like openpyxl's MergedCell: only a range's top-left holds a value
        if r1 <= row <= r2 and c1 <= col <= c2 and (row, col) != (r1, c1):
            raise ValueError(f"'{tab.name}' ({row}, {col}) is hidden by the merged range {(r1, c1, r2, c2)}")
    while len(tab.rows) < row:
        tab.rows.append([])
    line = tab.rows[row - 1]
    while len(line) < col:
        line.append(None)
    line[col - 1] = value

"""An in-memory workbook: the reference backend, for tests and the benchmark's compute figures.

It applies a WriteSet with the same semantics the real backends must have, so a test that passes here
and on a real backend proves the two agree.
"""
from __future__ import annotations

import copy

from sync.core.errors import StaleSnapshot
from sync.core.tables import append_row, last_used_row
from sync.core.workbook import Cell, Pos, Snapshot, Styled, Tab, TabFormat, WriteSet


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
        self.notes: list[str] = []  # nothing to say: no files, no service

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
    """Apply `changes` to plain tabs (formats aside: nothing to draw); shared by the memory backend and the tests'
    expectations."""
    changes.apply_to(Grid(tabs))


class Grid:
    """A WriteSet's target that is a grid of cells: the tabs as a Snapshot holds them."""

    def __init__(self, tabs: dict[str, Tab]):
        self.tabs = tabs

    def add_tab(self, name: str) -> None:
        self.tabs.setdefault(name, Tab(name))

    def set_cells(self, tab: str, cells: dict[Pos, Cell]) -> None:
        for (r, c), value in cells.items():
            put(self.tabs[tab], r, c, value)

    def set_notes(self, tab: str, notes: dict[Pos, str | None]) -> None:
        held = self.tabs[tab].notes
        for pos, text in notes.items():
            if text is None:
                held.pop(pos, None)
            else:
                held[pos] = text

    def replace_tab(self, tab: str, styled: Styled) -> None:
        self.tabs[tab].rows = [list(r) for r in styled.rows]
        self.tabs[tab].notes = {}
        self.tabs[tab].merged = []  # a job-owned tab is rewritten whole, merges included

    def append_rows(self, tab: str, rows: list[list[Cell]]) -> None:
        held = self.tabs[tab]
        del held.rows[last_used_row(held):]  # trailing empty rows: a spreadsheet program shows none
        start = append_row(held)  # the real backends' place: after the last used row, below a merge reaching it
        for offset, values in enumerate(rows):
            for c, value in enumerate(values, start=1):
                put(held, start + offset, c, value)

    def apply_format(self, fmt: TabFormat) -> None:
        """Nothing to draw in memory (the backend keeps the formats it was given)."""


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

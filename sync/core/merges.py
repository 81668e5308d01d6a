"""Merged cells: what a pass cannot write, and how it says so (pure, no I/O).

Units merge cells: an `STT` merged over a task's unit rows is a common layout, and sometimes a range over
`Kiểm tra` or `Cảnh báo`. Reading, a merged range's value applies to every row it covers (tables.Table).
Writing, only the top-left cell of a range can hold a value: the core never sends a write into another
cell of the range (openpyxl refuses it, Google would hide it). Those writes are withheld here, and the pass
says where — in its output, in the row's `Kiểm tra` cell when a `Cảnh báo` cell is hidden, and in a
section of the dashboard.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sync.core.schema import shorten
from sync.core.tables import UNMERGE_HOWTO, Merge, a1, merge_a1, merge_index
from sync.core.workbook import Cell, Snapshot, Styled, WriteSet

SECTION_TITLE = "VI. Ô KHÔNG GHI ĐƯỢC VÌ NẰM TRONG VÙNG Ô GỘP"
SECTION_COLUMNS = ("Trang tính", "Ô", "Vùng ô gộp", "Nội dung cần ghi")
FIX = f"Hủy gộp các ô đó ({UNMERGE_HOWTO}) để công cụ ghi được"


@dataclass(frozen=True)
class Withheld:
    """A value the pass meant to write into a cell that a merged range hides."""

    tab: str
    row: int
    col: int
    merge: Merge
    value: Cell

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)


def withhold(writes: WriteSet, snapshot: Snapshot) -> list[Withheld]:
    """Take out of `writes` every cell value and note aimed at a cell a merged range hides.

    Returns the withheld values (notes are dropped silently: their text is in the row's Kiểm tra cell)."""
    out: list[Withheld] = []
    for name, cells in writes.cells.items():
        tab = snapshot.tabs.get(name)
        covered = merge_index(tab) if tab is not None and tab.merged else {}
        for pos in [p for p in cells if p in covered]:
            out.append(Withheld(name, pos[0], pos[1], covered[pos], cells.pop(pos)))
    for name, notes in writes.notes.items():
        tab = snapshot.tabs.get(name)
        covered = merge_index(tab) if tab is not None and tab.merged else {}
        for pos in [p for p in notes if p in covered]:
            del notes[pos]
    return out


def row_note(header: str, cell: str, merge: Merge, value: str) -> str:
    """What the row's Kiểm tra cell says when its `header` cell could not be written."""
    return (f"Không ghi được cột '{header}' vào ô {cell} vì ô nằm trong vùng ô gộp {merge_a1(merge)}; "
            f"nội dung cần ghi: {value or '(để trống)'}. Hủy gộp ô để công cụ ghi được.")


def message(withheld: list[Withheld], dashboard: str | None = None) -> str:
    """One line for the command's output (a pass also lists them all on the dashboard tab)."""
    shown = ", ".join(f"'{w.tab}'!{w.cell} (vùng {merge_a1(w.merge)})" for w in withheld[:8])
    more = f" và {len(withheld) - 8} ô khác" if len(withheld) > 8 else ""
    return (f"Không ghi được {len(withheld)} ô vì nằm trong vùng ô gộp (chỉ ô trên cùng bên trái của vùng gộp "
            f"giữ được giá trị): {shown}{more}. {FIX}"
            + (f"; danh sách đầy đủ ở tab '{dashboard}'." if dashboard else "."))


def with_section(styled: Styled, withheld: list[Withheld]) -> Styled:
    """The dashboard with the withheld cells listed at its end (unchanged when there are none)."""
    if not withheld:
        return styled
    rows = [list(r) for r in styled.rows]
    styles = dict(styled.styles)
    rows.append([])
    rows.append([SECTION_TITLE])
    styles[len(rows)] = "section"
    rows.append(list(SECTION_COLUMNS))
    styles[len(rows)] = "header"
    for w in withheld:
        rows.append([w.tab, w.cell, merge_a1(w.merge), shorten(str(w.value or "(để trống)"), 200)])
    rows.append([FIX + "."])
    first = len(styled.rows) + 4  # the listed cells keep the dashboard's own layout, chart included
    wrap = styled.wrap | {(r, 4) for r in range(first, len(rows))}
    return dataclasses.replace(styled, rows=rows, styles=styles, wrap=wrap)

"""Reading the .xlsx (openpyxl): every tab parsed into cells, except the tabs the write replaces whole.

The dashboard (`Tổng hợp`) is rewritten by every pass, and at 10,000 rows its thousands of merged ranges and
cells are a quarter of what loading the workbook costs. A tab named in `skim` is parsed from a shortened copy
of its XML: its first `SKIM_ROWS` stored rows, so at least its first `SKIM_ROWS` rows (all that
`tables.refuse_overwrite` looks at, to tell the job's tab from someone else's), and its sheet protection (kept
when the tab is replaced); no merged ranges, no drawings, no comments. Such a workbook is only ever saved once
those tabs were replaced (sync.backends.local loads the whole file again otherwise), so what is skipped is never
lost. XML the shortening does not recognise (another program's namespace prefixes) is parsed whole: slower,
never wrong.
"""
from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import IO, Literal, cast
from xml.etree import ElementTree

import openpyxl
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.cell.cell import MergedCell
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from sync.core.schema import fold
from sync.core.tables import HEADER_SEARCH_ROWS
from sync.core.workbook import Cell, Pos, Tab

#: The rows of a skimmed tab that are parsed: what a pass reads of a tab it replaces.
SKIM_ROWS = HEADER_SEARCH_ROWS
EMPTY_RELS = b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
#: Empty rows in a row after which a tab is read no further: a stray keystroke at row 1,048,576 must not
#: make the job read (and openpyxl create, and save back) a million empty rows.
EMPTY_GAP = 2000


def load(path: Path, skim: Collection[str] = ()) -> tuple[openpyxl.Workbook, frozenset[str]]:
    """The workbook, and the titles of the tabs read shortened (those whose name folds to one in `skim`)."""
    if not skim:
        return openpyxl.load_workbook(path), frozenset()
    reader = _Reader(path, {fold(name) for name in skim})
    reader.read()
    return reader.wb, frozenset(reader.skimmed)


def shortened(xml: bytes, rows: int = SKIM_ROWS) -> bytes:
    """A worksheet's XML cut to its first `rows` rows and its protection; the same XML whenever the cut is not
    well-formed XML (laid out otherwise than expected: parsed whole, slower, never wrong)."""
    start, end = xml.find(b"<sheetData>"), xml.find(b"</sheetData>")
    close = xml.rfind(b"</")
    if start < 0 or end < start or close < end:
        return xml
    at = start
    for _ in range(rows + 1):  # the start of the row after the kept ones, or the end of the data
        found = xml.find(b"<row", at + 1, end)
        if found < 0:
            at = end
            break
        at = found
    cut = xml[:at] + b"</sheetData>" + _protection(xml, end) + xml[close:]
    try:
        ElementTree.fromstring(cut)  # a few rows: cheap
    except ElementTree.ParseError:
        return xml
    return cut


def _protection(xml: bytes, after: int) -> bytes:
    """The tab's <sheetProtection> element, written empty (`<… />`) or with a closing tag."""
    first = xml.find(b"<sheetProtection", after)
    if first < 0:
        return b""
    head_end = xml.find(b">", first)
    if head_end < 0:
        return b""
    if xml[head_end - 1:head_end] == b"/":
        return xml[first:head_end + 1]
    closing = xml.find(b"</sheetProtection>", head_end)
    return xml[first:closing + len(b"</sheetProtection>")] if closing >= 0 else b""


class _Archive(zipfile.ZipFile):
    """The .xlsx as openpyxl reads it, with the skimmed tabs' parts shortened and their relations dropped."""

    parts: frozenset[str] = frozenset()
    relations: frozenset[str] = frozenset()

    def open(self, name: str | zipfile.ZipInfo, mode: Literal["r", "w"] = "r", pwd: bytes | None = None, *,
             force_zip64: bool = False) -> IO[bytes]:
        part = name.filename if isinstance(name, zipfile.ZipInfo) else name
        if mode == "r" and part in self.relations:
            return io.BytesIO(EMPTY_RELS)
        if mode == "r" and part in self.parts:
            with super().open(name, "r", pwd) as whole:
                return io.BytesIO(shortened(whole.read()))
        return super().open(name, mode, pwd, force_zip64=force_zip64)


class _Reader(ExcelReader):
    def __init__(self, path: Path, skim: set[str]):
        super().__init__(path)
        self.archive.close()
        self.archive = _Archive(path)  # opened once more, as ours; everything is read from this one
        self.valid_files = self.archive.namelist()
        self.skim = skim
        self.skimmed: set[str] = set()

    def read_worksheets(self) -> None:
        found: dict[str, list[tuple[str, str]]] = {}
        for sheet, rel in self.parser.find_sheets():
            if rel.Type.endswith("/chartsheet"):
                continue  # holds no cells: never a tab the pass replaces, nor a reason to read one whole
            if fold(sheet.name) in self.skim:
                found.setdefault(fold(sheet.name), []).append((rel.target, sheet.name))
        # only a name one tab alone answers to: two tabs that fold alike ("Tong hop" beside "Tổng hợp") are both
        # read whole, since the pass replaces one of them and the other is a user's
        parts = {target: name for tabs in found.values() if len(tabs) == 1 for target, name in tabs}
        archive = self.archive
        if isinstance(archive, _Archive):
            archive.parts = frozenset(parts)
            archive.relations = frozenset(_relations_of(p) for p in parts)
        self.skimmed = set(parts.values())
        super().read_worksheets()


def _relations_of(part: str) -> str:
    """The part holding a part's relations (xl/worksheets/sheet3.xml → xl/worksheets/_rels/sheet3.xml.rels)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def read_sheet(ws: Worksheet, said: list[str] | None = None) -> Tab:
    """A tab's values, notes, text cells and merged ranges; stops after EMPTY_GAP empty rows (said in `said`).

    Read from the cells the sheet stores, not its rectangle: each row as far as its last stored cell (as Google
    answers), so one stray cell in column XFD or row 900,000 costs one cell, not a grid of millions."""
    stored: dict[int, dict[int, XlsxCell | MergedCell]] = {}
    for (r, c), cell in ws._cells.items():  # openpyxl's own sparse store (typed in its stubs)
        if cell.value is not None or cell.comment is not None:
            stored.setdefault(r, {})[c] = cell
    last = _last_row(ws.title, sorted(stored), said)
    rows: list[list[Cell]] = []
    notes: dict[Pos, str] = {}
    text_cells: set[Pos] = set()
    for r in range(1, last + 1):
        cells = stored.get(r, {})
        values: list[Cell] = [None] * max(cells, default=0)
        for c, cell in cells.items():
            values[c - 1] = cast(Cell, cell.value)  # also a time, a Decimal: kept as read
            if isinstance(cell.value, ArrayFormula):  # Excel 365's formulas over ranges: their text, as typed
                values[c - 1] = cell.value.text
            if cell.data_type == "s" and cell.has_style and cell.quotePrefix:
                text_cells.add((r, c))
            if cell.comment is not None:
                notes[(r, c)] = cell.comment.text
        rows.append(values)
    merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    return Tab(ws.title, rows, notes, merged, text_cells)


def _last_row(title: str, live: list[int], said: list[str] | None) -> int:
    """The last row read: the last holding a value or a note before a gap of EMPTY_GAP empty rows (what lies
    further down is said in `said`, not read)."""
    last = 0
    for r in live:
        if r - last > EMPTY_GAP:
            if said is not None:
                said.append(f"Tab '{title}' có ô đã dùng ở tận dòng {live[-1]} (cách phần có dữ liệu hơn "
                            f"{EMPTY_GAP} dòng trống); chương trình không đọc phần đó. Xóa các ô ở xa đó (Ctrl+End "
                            "để tìm) rồi lưu lại.")
            break
        last = r
    return last


def first_rows(path: Path) -> list[Tab] | None:
    """An existing workbook's tabs, each with its first rows only (read-only mode: the rows below are not parsed,
    the shared strings are), or None for a file that is no readable workbook: enough to tell whose tables it
    holds. Callers check its size first (xlsx_file.check_readable)."""
    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # not a workbook, or a damaged one: nothing to protect that we could recognise
        return None
    try:
        return [Tab(ws.title, [[v if isinstance(v, str | int | float) else None for v in row]
                               for row in ws.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)])
                for ws in wb.worksheets]  # headers are text: other values are not looked at
    except Exception:
        return None
    finally:
        wb.close()

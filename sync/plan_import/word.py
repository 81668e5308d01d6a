"""Reading the Word file: its first-page lines and its tables as rows of cells, NFC.

A `.doc` or a PDF is refused with a message that says what to do; a damaged `.docx` likewise.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync import files
from sync.core.errors import UserError
from sync.core.schema import nfc

if TYPE_CHECKING:
    from docx.table import Table, _Cell, _Row

#: A table as Word gives it: rows of cells, one per grid column.
Rows = list[list["Cell"]]


@dataclass
class Cell:
    text: str
    bold: bool = False
    numbered: bool = False  # an empty paragraph with Word's own list numbering (an STT column numbered by Word)
    repeat: bool = False    # a grid column covered by the cell to its left (merged across): no text of its own


def _cell(cell: _Cell) -> Cell:
    lines: list[str] = []
    bold, numbered = True, False
    for p in cell.paragraphs:
        text = nfc(p.text)
        listed = p._p.pPr is not None and p._p.pPr.numPr is not None
        listed = listed or (p.style is not None and p.style.name.lower().startswith("list"))
        if not text:
            numbered = numbered or listed
            continue
        if text[:1] in "•·▪◦●":
            text = "- " + text[1:].strip()
        elif listed and not re.match(r"^[-–+*]\s", text):
            text = "- " + text
        lines.append(text)
        bold = bold and all(r.bold for r in p.runs if r.text.strip())
    return Cell("\n".join(lines), bold and bool(lines), numbered and not lines)


def _kind_of(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if head.startswith(b"%PDF"):
        return "pdf"
    return "docx"


def read_docx(path: Path) -> tuple[list[str], list[Rows]]:
    """(first-page lines, tables as rows of cells), NFC. Paragraphs are split at line breaks."""
    files.require_regular(path, f"'{path}'")  # a FIFO would hang, a device never end
    kind = _kind_of(path)
    if kind == "doc":
        raise UserError(f"'{path}' là tệp Word cũ (.doc). Mở bằng Word, chọn Tệp → Lưu thành → 'Word Document "
                        "(*.docx)', rồi chạy lại 'plan import' với tệp .docx.")
    if kind == "pdf":
        raise UserError(f"'{path}' là tệp PDF, không đọc được bảng nhiệm vụ từ PDF (thường là bản scan). Dùng tệp "
                        "Word (.docx) gốc của kế hoạch; nếu chỉ có bản scan, gõ bảng phụ lục vào Word (các cột STT, "
                        "Nhiệm vụ, Kết quả/sản phẩm, Tiến độ, Phân công, Ghi chú), lưu .docx rồi chạy lại.")
    from docx import Document  # python-docx and lxml load only when a file is read
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError
    files.require_small_zip(path, files.MAX_DOCX_UNPACKED, f"Tệp Word '{path}'")
    try:
        doc = Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError, zipfile.BadZipFile, LxmlError) as exc:
        raise UserError(f"Không mở được '{path}' như một tệp Word .docx ({exc}). Mở bằng Word và lưu lại "
                        "dưới dạng 'Word Document (*.docx)'.") from None
    lines = [line.strip() for p in doc.paragraphs for line in nfc(p.text).split("\n")]
    tables = [[_row(row) for row in t.rows] for t in _all_tables(doc.tables)]
    return [line for line in lines if line], tables


def _row(row: _Row) -> list[Cell]:
    """One Cell per grid column. Word gives a cell merged across columns once per column: its text goes to
    the first, the others are `repeat`, so that a task's text never fills the results and schedule too.
    (A cell merged down keeps its text in each row: `merge_rows` reads that as one task over two rows.)"""
    out: list[Cell] = []
    previous = None
    for c in row.cells:
        out.append(Cell("", repeat=True) if c._tc is previous else _cell(c))
        previous = c._tc
    return out


def _all_tables(tables: list[Table]) -> list[Table]:
    """Every table in document order, a table nested in another's cell (a layout table) right after it."""
    out: list[Table] = []
    for table in tables:
        out.append(table)
        seen = set()
        for row in table.rows:
            for c in row.cells:
                if c._tc not in seen:
                    seen.add(c._tc)
                    out.extend(_all_tables(c.tables))
    return out

"""Reading the Word file's tables: its first-page lines and its tables as rows of cells, NFC, and the task table
found among them.

A `.doc` or a PDF is refused with a message that says what to do; a damaged `.docx` likewise.

The task table is found by its content wherever it is, its columns by the header words departments use. Not the
first table: a letterhead or a signature table may come before it; the appendix may run over several
tables. A two-row header `Phân công thực hiện` over `Đơn vị chủ trì | Đơn vị phối hợp` gives lead and support
columns directly.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync import files
from sync.core.errors import UserError
from sync.core.schema import HEADER_SYNONYMS, PLAN_COLUMNS, fold, nfc

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


# The plan's columns are named once, in `schema` (PLAN_COLUMNS and HEADER_SYNONYMS: what the sheet's
# `Kế hoạch` tab is called and what the Office renames it to); a Word appendix is read with those names and
# with the words below, which only Word plans use. One word differs on purpose: "Thời hạn" heads the Tiến độ
# phrase in a Word plan (`schedule`), while in the sheet it is a renamed `Hạn hoàn thành` (`deadline`, a date
# the Office types, which a Word appendix does not have).
WORD_HEADERS = {
    "stt": ("tt", "so tt", "so thu tu"),
    "task": ("noi dung", "noi dung nhiem vu", "noi dung cong viec", "ten nhiem vu", "cong viec"),
    "results": ("ket qua", "san pham", "san pham dau ra", "ket qua/ san pham"),
    "schedule": ("thoi gian thuc hien", "thoi gian hoan thanh", "thoi gian", "thoi han"),
    "assignment": ("phan cong", "don vi thuc hien", "co quan thuc hien", "trach nhiem thuc hien", "to chuc thuc hien"),
    "lead": ("chu tri", "co quan chu tri"),
    "support": ("phoi hop", "co quan phoi hop"),
    "note": (),
}
# folded header words → column key; the longest match wins ("đơn vị chủ trì" before "đơn vị")
HEADERS = {key: tuple(dict.fromkeys(fold(w) for w in (PLAN_COLUMNS[key], *HEADER_SYNONYMS.get(key, ()), *words)))
           for key, words in WORD_HEADERS.items()}


def header_key(text: str) -> str | None:
    """The column a header cell names, if any."""
    folded = re.sub(r"\s+", " ", fold(text).replace("\n", " ")).strip(" .:")
    best: tuple[str, int] | None = None
    for key, words in HEADERS.items():
        for word in words:
            if (folded == word or folded.startswith(word + " ") or folded.startswith(word + "/")
                    or (len(word) > 3 and folded.startswith(word))) and (best is None or len(word) > best[1]):
                best = (key, len(word))
    return best[0] if best else None


def find_header(rows: Rows) -> tuple[int, dict[str, int]] | None:
    """(rows the header takes, column of each key) when one of the first rows is a task table's header."""
    for i, row in enumerate(rows[:4]):
        keys = [header_key(c.text) for c in row]
        if "task" not in keys or not ({"assignment", "lead"} & set(keys)) or not ({"stt", "schedule"} & set(keys)):
            continue
        used = 1
        if i + 1 < len(rows):  # a second header row under merged cells: Đơn vị chủ trì | Đơn vị phối hợp
            below = [header_key(c.text) for c in rows[i + 1]]
            if {"lead", "support"} & set(below):
                keys = [b if b in ("lead", "support") else k for k, b in zip(keys, below, strict=True)]
                used = 2
        cols: dict[str, int] = {}
        for n, key in enumerate(keys):
            if key and key not in cols:
                cols[key] = n
        return i + used, cols
    return None


def is_header_again(row: list[Cell]) -> bool:
    """The header repeated on a new page."""
    keys = {header_key(c.text) for c in row}
    return "task" in keys and len(keys - {None}) >= 3


def is_column_numbers(row: list[Cell]) -> bool:
    """The "(1) (2) (3) …" row some tables have under their header."""
    texts = [re.sub(r"[()\s.]", "", c.text) for c in row]
    return all(t.isdigit() for t in texts) and [int(t) for t in texts] == list(range(1, len(texts) + 1))


def task_rows(tables: list[Rows], source: Path) -> tuple[dict[str, int], Rows, list[str]]:
    """The task table's columns and its rows: every table whose header reads as a task table, and tables
    right after one with the same number of columns and no header (the table went on after a break)."""
    found: list[tuple[dict[str, int], Rows]] = []
    first = 0  # the number of the table `found` starts with
    notes: list[str] = []
    width = None
    for n, rows in enumerate(tables, 1):
        header = find_header(rows)
        if header:
            skip, cols = header
            if found and cols != found[0][0]:
                if len(found[0][1]) >= len(rows) - skip:
                    notes.append(_dropped(n, rows[skip:], cols))  # another, smaller task-like table: keep the first
                    continue
                notes.append(_dropped(first, [r for _, part in found for r in part], found[0][0]))
                found = []
            if not found:
                first = n
            found.append((cols, rows[skip:]))
            width = len(rows[0])
        elif found and rows and len(rows[0]) == width:
            found.append((found[-1][0], rows))
    if not found:
        raise UserError(f"Không tìm thấy bảng nhiệm vụ (phụ lục) trong '{source}': cần một bảng có hàng tiêu đề "
                        "gồm cột Nhiệm vụ (hoặc Nội dung), Tiến độ (hoặc Thời gian thực hiện) và Phân công (hoặc "
                        "Đơn vị chủ trì / Đơn vị phối hợp). Nếu bảng trong tệp là ảnh scan, gõ lại bảng trong Word "
                        "rồi lưu .docx và chạy lại.")
    return found[0][0], [row for _, rows in found for row in rows], notes


def _dropped(number: int, rows: Rows, cols: dict[str, int]) -> str:
    """The review line for a task-like table left out in favour of a bigger one."""
    col = cols["task"]
    tasks = [row[col].text.split("\n")[0] for row in rows if col < len(row) and row[col].text]
    sample = f", bắt đầu bằng '{tasks[0][:60]}'" if tasks else ""
    return (f"bảng thứ {number} trong tệp cũng có dạng bảng nhiệm vụ ({len(rows)} dòng{sample}) nhưng khác cột với "
            "bảng lớn hơn: đã bỏ qua; nếu đó là nhiệm vụ của kế hoạch, chép vào bảng chính rồi nhập lại")

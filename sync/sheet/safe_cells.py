"""Cells of the files the job writes for people to open (the export, history's workbook, the report's internal
list of input errors): whatever a unit typed stays inert text there.

* A spreadsheet program opening a CSV evaluates a field that starts with `=`, `+`, `-` or `@` (and, in some,
  after a leading tab or carriage return): `=WEBSERVICE(…)`, `=HYPERLINK(…)`. Such text gets the usual leading
  apostrophe, which Excel and LibreOffice show as text; a plain number (`-5`, `+84905123456`) is left as it is.
* In an .xlsx, text is written as a string cell, never as a formula (openpyxl makes a formula of any text
  starting with `=`): the cell shows what the unit typed, apostrophe-free.
* Control characters, which an .xlsx cannot hold (openpyxl refuses them) and which hide text in a CSV, are
  shown as their visible symbols (U+2400…: BEL → ␇); tab and line breaks stay.
* A number too long to be anyone's figure (Python refuses to print an int of more than 4,300 digits) is
  written as a sentence saying how long it is.

The sheet itself is written RAW by the backends (text stays text there); this module is for the files only,
which sync/backends/xlsx_write.py (write_xlsx, save_workbook) and the reports save.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sync.core.workbook import Cell

if TYPE_CHECKING:  # openpyxl is imported where a file is written
    from openpyxl.cell import Cell as XlsxCell
    from openpyxl.cell import MergedCell

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RISKY_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")
#: An int longer than this is written as a sentence: past 4,300 digits Python refuses to print it at all.
MAX_DIGITS = 1000


def visible(text: str) -> str:
    """`text` with each control character (tab and line breaks excepted) replaced by its visible symbol."""
    return _CONTROL.sub(lambda m: chr(0x2421) if m.group() == "\x7f" else chr(0x2400 + ord(m.group())), text)


def number_text(value: int) -> str | None:
    """An int too long to be a real figure (and, past 4,300 digits, to be printed at all), as text saying so;
    None for any other int."""
    digits = int(value.bit_length() * 0.30103) + 1
    return f"(số quá dài: khoảng {digits} chữ số)" if digits > MAX_DIGITS else None


def text_cell(value: Cell) -> Cell:
    """A value for a cell of an .xlsx the job writes: text made visible (see `visible`), an unprintable int as
    text; anything else as it is. Writing it as a string cell (`xlsx_rows`) keeps a leading '=' inert."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return number_text(value) or value
    if isinstance(value, str):
        return visible(value)
    return value


def csv_field(value: object) -> object:
    """A value for a field of a CSV the job writes: as `text_cell`, and text a spreadsheet would evaluate
    prefixed with an apostrophe."""
    if isinstance(value, (str, int)):
        value = text_cell(value)
    if isinstance(value, str) and value.startswith(_RISKY_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_rows(rows: Iterable[Iterable[object]]) -> list[list[object]]:
    return [[csv_field(v) for v in row] for row in rows]


def put_text_safe(cell: XlsxCell | MergedCell, value: Cell) -> None:
    """Set an openpyxl cell: text as a string cell (a leading '=' never becomes a formula), dates with the
    Vietnamese date format."""
    if isinstance(value, (str, int)):
        value = text_cell(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, (dt.date, dt.datetime)):
        cell.number_format = "dd/mm/yyyy"

"""Laying out a job-owned tab (the dashboard) on a fixed column grid: merges, wrapping, row heights, bands.

Pure. Sections put their cells on the grid as (value, span) pairs; a value that does not fit the width
of the columns it spans (in characters, bold text counted wider) wraps, and its row gets the height of
its longest wrapped cell. The result is a `Styled` every backend renders the same way.
"""
from __future__ import annotations

import datetime as dt
import math

from sync.core.workbook import Cell, Chart, Styled

#: How much wider than plain text each row style is drawn (bold, larger fonts).
STYLE_SCALE = {"title": 1.45, "section": 1.25, "header": 1.12, "total": 1.12, "subtitle": 1.05}
PADDING = 1.5  # characters of cell padding a spreadsheet program leaves
#: Average width of running Vietnamese text in width units (a unit is the width of a digit): for wrapped line
#: counts only; whether a value fits unwrapped is judged at full width, never optimistically.
TEXT_DENSITY = 0.88
LINE_HEIGHT_PT = 13.5  # one line of 11 pt text, in points
ROW_PADDING_PT = 4  # above and below the text of a row
MAX_ROW_HEIGHT_PT = 409  # the tallest row a spreadsheet program allows


def shown_text(value: Cell, number_format: str | None = None) -> str:
    """The text a spreadsheet program shows for a value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and number_format == "0.0":
        return f"{value:.1f}"
    return str(value)


def wrapped_lines(text: str, width: float, scale: float = 1.0) -> int:
    """Lines `text` takes in a wrapping cell `width` characters wide (greedy word wrap)."""
    room = max((width - PADDING) / (scale * TEXT_DENSITY), 1.0)
    lines = 0
    for paragraph in text.split("\n"):
        used, count = 0.0, 1
        for word in paragraph.split():
            if used and used + 1 + len(word) <= room:
                used += 1 + len(word)
                continue
            if used:
                count += 1
            extra = math.ceil(len(word) / room) - 1
            count += extra
            used = len(word) - extra * room
        lines += count
    return max(lines, 1)


def row_height(lines: int) -> float | None:
    """Points for a row that must show `lines` lines of wrapped text; None (the program's own height) for one.
    The one row-height formula: dashboard rows, rows a pass writes and rows `init` formats all use it."""
    return min(LINE_HEIGHT_PT * lines + ROW_PADDING_PT, MAX_ROW_HEIGHT_PT) if lines > 1 else None


def fits(text: str, width: float, scale: float = 1.0) -> bool:
    return "\n" not in text and len(text) * scale + PADDING <= width


class Grid:
    def __init__(self, widths: dict[int, float]):
        self.widths = dict(widths)
        self.rows: list[list[Cell]] = []
        self.styles: dict[int, str] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.wrap: set[tuple[int, int]] = set()
        self.formats: dict[tuple[int, int], str] = {}
        self.lines: dict[int, int] = {}
        self.chart: Chart | None = None
        self.fills: dict[tuple[int, int], str] = {}
        self.centred: set[tuple[int, int]] = set()
        self.bands: set[int] = set()
        self._listed = 0  # ordinal rows since the last header or group row: every second one is banded

    @property
    def last_row(self) -> int:
        return len(self.rows)

    def blank(self) -> None:
        self.rows.append([])

    def row(self, cells: list[tuple[Cell, int]], style: str | None = None, formats: dict[int, str] | None = None,
            ordinal: bool = False) -> int:
        """Append a row of (value, span) cells from column A; returns its number. `ordinal`: the first cell is
        the row's place in its list (STT), centred as in Vietnamese administrative tables."""
        r = len(self.rows) + 1
        values: list[Cell] = []
        most = 1
        scale = STYLE_SCALE.get(style, 1.0) if style else 1.0
        for i, (value, span) in enumerate(cells):
            col = len(values) + 1
            values.append(value)
            values.extend([None] * (span - 1))
            if span > 1:
                self.merges.append((r, col, r, col + span - 1))
            fmt = (formats or {}).get(i)
            if fmt:
                self.formats[(r, col)] = fmt
            text = shown_text(value, fmt)
            width = sum(self.widths.get(c, 10) for c in range(col, col + span))
            if style == "header" or (text and not fits(text, width, scale)):
                self.wrap.add((r, col))
                most = max(most, wrapped_lines(text, width, scale))
        self.rows.append(values)
        if style in ("header", "total"):  # a list starts under its header, or under a group's line (Diễn biến)
            self._listed = 0
        if ordinal:
            self._listed += 1
            if self._listed % 2 == 0:
                self.bands.add(r)
        if ordinal and values and values[0] not in (None, ""):
            self.centred.add((r, 1))
        if style:
            self.styles[r] = style
        if most > 1:
            self.lines[r] = most
        return r

    def styled(self) -> Styled:
        return Styled(self.rows, self.styles, self.widths, tuple(self.merges), frozenset(self.wrap),
                      self.formats, self.lines, self.chart, self.fills, frozenset(self.centred), frozenset(self.bands))

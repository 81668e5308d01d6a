"""What passes between the core and a workbook backend: plain data, no I/O.

A backend reads a `Snapshot` (every tab as a grid of cell values, plus the job's own cell notes) and
applies a `WriteSet` to it all-or-nothing. The pipeline never touches openpyxl or gspread; a backend
never decides what to write. `MemoryBackend` (in tests) is the reference implementation.

A pass's identity and the truth about what it wrote, for its one `Nhật ký` line and its exit message: every pass gets a
short random id, generated once and kept across its re-read attempts. Its `Nhật ký` line carries the id (column `Mã lượt
chạy`), so "is this pass already logged?" is answered by the id alone: a write that landed after our timeout is seen on
the re-read and the redo does not write a second line (and one that lands after the re-read is overwritten in place: the
Google backend writes the line at a fixed row), and two passes with different state files on one workbook never mistake
each other's lines.

`Outcome` follows each attempt's write — certainly not written (the workbook moved), landed (a re-read shows the pass's
line) or unknown (timeout, cut answer, server error; a re-read that does not show the line leaves it unknown, since it
may land later) — so that a pass which gives up (exit 3) says truly what it wrote. Backend-neutral: it only looks at
snapshots and exceptions.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sync.core.errors import Unreachable, UserError, WorkbookHeld, WriteGaveUp, WriteUnknown
from sync.core.schema import BAND_COLOUR, HEADER_COLOUR, fold

Cell = str | int | float | bool | dt.date | dt.datetime | None
Pos = tuple[int, int]  # (row, column), 1-based like the sheet


@dataclass
class Tab:
    name: str
    rows: list[list[Cell]] = field(default_factory=list)
    notes: dict[Pos, str] = field(default_factory=dict)  # cell notes/comments, all authors
    #: Merged ranges as (first row, first column, last row, last column), 1-based and inclusive. Only the
    #: top-left cell of a range holds a value; `rows` keeps the other cells empty, as the sheet stores them.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: Cells stored as text whatever they hold (typed with a leading apostrophe: Excel's `quotePrefix`), so a
    #: spreadsheet never evaluates them; only backends that can tell fill it (the .xlsx file does).
    text_cells: set[Pos] = field(default_factory=set)

    def cell(self, row: int, col: int) -> Cell:
        if 1 <= row <= len(self.rows) and 1 <= col <= len(self.rows[row - 1]):
            return self.rows[row - 1][col - 1]
        return None


@dataclass
class Snapshot:
    tabs: dict[str, Tab]
    token: Any = None  # the backend's notion of "version read", checked before writing
    #: Sheets that hold no cells (an Excel chart sheet, a Google "object" sheet): never read, never written, and
    #: never taken for one of the job's tabs.
    others: tuple[str, ...] = ()

    def find_tab(self, name: str) -> Tab | None:
        """The tab of that exact title, else the one whose title folds to it ("TỔNG HỢP", "Tong hop"): a user's
        look-alike tab placed before the job's own is never taken for it. Two look-alikes and no exact title, or
        a chart sheet of that name, are refused (exit 2): which one the job may write is then the Office's call."""
        if name in self.tabs:
            return self.tabs[name]
        key = fold(name)
        charts = [n for n in self.others if fold(n) == key]
        if charts:
            raise UserError(f"Tab '{charts[0]}' là một trang biểu đồ, không phải trang tính có ô: không dùng được làm "
                            f"tab '{name}' của chương trình. Đổi tên (hoặc xóa) trang biểu đồ đó rồi chạy lại; nếu "
                            "cần, 'python -m sync init' tạo lại tab còn thiếu.")
        alike = [n for n in self.tabs if fold(n) == key]
        if len(alike) > 1:
            raise UserError(f"Có {len(alike)} tab cùng được hiểu là tab '{name}' (tên chỉ khác dấu, chữ hoa hay "
                            f"khoảng trắng): {', '.join(repr(n) for n in alike)}. Chương trình không đoán tab nào là "
                            f"của mình: đặt lại đúng tên '{name}' cho một tab và đổi tên các tab kia, rồi chạy lại.")
        return self.tabs[alike[0]] if alike else None


@dataclass(frozen=True)
class Chart:
    """A stacked bar chart over a block of the grid: one bar per row, one series per column."""

    title: str
    header_row: int  # the row holding the series names (and the category column's header)
    first_row: int
    last_row: int
    category_column: int
    series_columns: tuple[int, ...]
    anchor: Pos  # the cell its top-left corner sits on
    width_px: int = 640
    height_px: int = 320
    axis_title: str = ""
    colours: tuple[str, ...] = ()  # RGB per series


@dataclass(frozen=True)
class Styled:
    """A whole-tab grid the job owns (the dashboard), with a style per row for the backend to render.

    Layout beyond the row styles (all optional): merged ranges, cells whose text wraps, number formats,
    row heights in lines, one chart, cell fills, banded rows (a cell's own fill wins over its row's band).
    Alignment is a rule every backend applies through `alignment`: headers and ordinals centred, numbers
    right, text left, everything vertically centred."""

    rows: list[list[Cell]]
    styles: dict[int, str] = field(default_factory=dict)  # row (1-based) → title | section | header | total
    widths: dict[int, float] = field(default_factory=dict)  # column (1-based) → width in characters
    merges: tuple[tuple[int, int, int, int], ...] = ()  # (row, col, last row, last col), 1-based, inclusive
    wrap: frozenset[Pos] = frozenset()  # positions whose text wraps
    number_formats: dict[Pos, str] = field(default_factory=dict)  # e.g. "0.0"
    lines: dict[int, int] = field(default_factory=dict)  # row → text lines it must show (heights)
    chart: Chart | None = None
    fills: dict[Pos, str] = field(default_factory=dict)  # background RGB of single cells
    centred: frozenset[Pos] = frozenset()  # positions centred whatever they hold (a list's STT)
    bands: frozenset[int] = frozenset()  # rows drawn with the band fill (every other row of a list)

    def background(self, row: int, col: int) -> str | None:
        """The cell's fill (RGB), one rule for every backend: a header row's colour, else the cell's own fill,
        else its row's band; None for no fill."""
        if self.styles.get(row) == "header":
            return HEADER_COLOUR
        return self.fills.get((row, col)) or (BAND_COLOUR if row in self.bands else None)

    def alignment(self, row: int, col: int) -> str:
        """"center" for header cells and ordinals, "right" for numbers, "left" for the rest."""
        if self.styles.get(row) == "header" or (row, col) in self.centred:
            return "center"
        value = self.rows[row - 1][col - 1] if row <= len(self.rows) and col <= len(self.rows[row - 1]) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return "right"
        if isinstance(value, (dt.date, dt.datetime)):
            return "right"
        return "left"


@dataclass(frozen=True)
class Dropdown:
    column: int
    first_row: int
    last_row: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class InputRule:
    """Typed input on a column's rows: a data validation that warns and never rejects (nothing a unit types is
    lost), with a help message shown when the cell is selected. `kind`: "date" (a real date), "whole" (a whole
    number ≥ 0) or "any" (the message alone)."""

    kind: str
    column: int
    first_row: int
    last_row: int
    title: str  # short (a spreadsheet program shows at most 32 characters of it)
    message: str
    warning: str = ""  # said when what was typed does not fit ("date", "whole")


@dataclass(frozen=True)
class TabFormat:
    """Formatting `init` (re)applies; backends replace what they applied before, never add twice."""

    tab: str
    frozen_rows: int = 1
    widths: dict[int, float] = field(default_factory=dict)
    wrap_columns: tuple[int, ...] = ()
    dropdowns: tuple[Dropdown, ...] = ()
    row_colours: tuple[tuple[str, str], ...] = ()  # (text in the flag column, fill RGB), first wins
    colour_column: int = 0  # the column whose text colours its row
    colour_last_col: int = 0
    colour_last_row: int = 0
    protect_columns: tuple[int, ...] = ()  # job-owned columns (editors warned)
    protect_tab: bool = False  # the whole tab (the plan)
    editable_columns: tuple[int, ...] = ()  # left editable in a protected tab
    header_row: int = 1
    inputs: tuple[InputRule, ...] = ()  # typed input (dates, counts, evidence), warnings only


@dataclass(frozen=True)
class UnitRows:
    """One unit's rows of a tab and who may edit them (the unit's addresses and the Office's)."""

    code: str
    name: str
    editors: tuple[str, ...]
    runs: tuple[tuple[int, int], ...]  # (first row, last row), 1-based, inclusive


@dataclass(frozen=True)
class RowOwners:
    """Who may edit which rows of `tab`, as of this pass's read. A backend that can protect rows (Google) keeps
    one protected range per run of a unit's rows, moved to where the rows are now; others ignore it."""

    tab: str
    units: tuple[UnitRows, ...]
    last_col: int  # the tab's last column: the ranges span the row up to it


@dataclass(frozen=True)
class ViewSpec:
    """A saved view of a tab's rows (a Google filter view): the rows whose `column` reads `shown` (or not one of
    `hidden`), sorted by `sort_column` when given. Made where missing; a view of ours renamed is named back."""

    title: str
    tab: str
    last_col: int
    column: int
    shown: str = ""
    hidden: tuple[str, ...] = ()
    sort_column: int = 0


@dataclass
class WriteSet:
    """Everything one pass or one `init` writes. Empty parts are skipped."""

    new_tabs: list[str] = field(default_factory=list)
    cells: dict[str, dict[Pos, Cell]] = field(default_factory=dict)
    notes: dict[str, dict[Pos, str | None]] = field(default_factory=dict)  # None clears the note
    replace: dict[str, Styled] = field(default_factory=dict)
    append: dict[str, list[list[Cell]]] = field(default_factory=dict)
    formats: list[TabFormat] = field(default_factory=list)
    #: Columns that say which row is which (STT, Đơn vị): a backend that cannot lock the workbook re-reads
    #: them just before writing and refuses (StaleSnapshot) if rows were inserted, deleted or sorted.
    keys: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: Columns whose cells units (or the Office) own, by tab. Every backend refuses a WriteSet that puts a
    #: cell there, unless `unit_cells` says it is meant to: only `restore` sets it, to put back what history
    #: recorded after showing the change and being told `--yes`.
    unit_columns: dict[str, tuple[int, ...]] = field(default_factory=dict)
    unit_cells: bool = False
    #: Row protection by unit and saved views (Google only; sync/backends/google_requests.py).
    row_owners: RowOwners | None = None
    views: tuple[ViewSpec, ...] = ()

    def set(self, tab: str, row: int, col: int, value: Cell) -> None:
        self.cells.setdefault(tab, {})[(row, col)] = value

    def note(self, tab: str, row: int, col: int, text: str | None) -> None:
        self.notes.setdefault(tab, {})[(row, col)] = text

    def check_unit_cells(self) -> None:
        """Raise (a bug: exit 1) if this WriteSet would change a unit's cell without saying it means to."""
        if self.unit_cells:
            return
        for tab, cols in self.unit_columns.items():
            hit = sorted(pos for pos in self.cells.get(tab, {}) if pos[1] in cols)
            if hit:
                raise RuntimeError(f"refusing to write cells units own in '{tab}' at (row, column) {hit[:5]}: "
                                   "only a WriteSet with unit_cells=True (restore) may")

    def apply_to(self, target: WriteTarget) -> None:
        """Hand each part to `target` in the one order every backend applies a WriteSet: new tabs, cells, notes,
        whole tabs replaced, rows appended, formats (rows appended go below what the cells and the replaced tabs
        left; formats see the final grid)."""
        for name in self.new_tabs:
            target.add_tab(name)
        for name, cells in self.cells.items():
            target.set_cells(name, cells)
        for name, notes in self.notes.items():
            target.set_notes(name, notes)
        for name, styled in self.replace.items():
            target.replace_tab(name, styled)
        for name, rows in self.append.items():
            target.append_rows(name, rows)
        for fmt in self.formats:
            target.apply_format(fmt)

    def cell_count(self) -> int:
        return sum(len(c) for c in self.cells.values())

    def is_empty(self) -> bool:
        return not (self.new_tabs or any(self.cells.values()) or any(self.notes.values()) or self.replace
                    or self.append or self.formats or self.row_owners is not None or self.views)


class WriteTarget(Protocol):
    """Where a backend applies a WriteSet (`WriteSet.apply_to`): a grid of cells in memory, the openpyxl workbook,
    the Google batchUpdate's requests. A new tab that already exists is left as it is; a note of None clears it;
    appended rows go below the tab's last used row and below any merged range reaching it (tables.append_row)."""

    def add_tab(self, name: str) -> None: ...

    def set_cells(self, tab: str, cells: dict[Pos, Cell]) -> None: ...

    def set_notes(self, tab: str, notes: dict[Pos, str | None]) -> None: ...

    def replace_tab(self, tab: str, styled: Styled) -> None: ...

    def append_rows(self, tab: str, rows: list[list[Cell]]) -> None: ...

    def apply_format(self, fmt: TabFormat) -> None: ...


class Backend(Protocol):
    """A workbook the job reads and writes: the local .xlsx or the Google Sheet."""

    name: str
    #: Said to the user after the command (stale owner files, leftovers removed, views named back, row protection
    #: Google refused); the backend adds to it as it reads and writes.
    notes: list[str]

    @property
    def api_calls(self) -> int:
        """Requests made so far (for the JSON summary); read-only for the job."""

    def exists(self) -> bool:
        """Whether the workbook is there to read (`init` creates a local file that is not)."""

    def empty_snapshot(self) -> Snapshot:
        """What `init` starts from when the workbook does not exist yet."""

    def read(self) -> Snapshot:
        """Every tab's values and notes, in one go."""

    def write(self, snapshot: Snapshot, changes: WriteSet) -> None:
        """Apply `changes` all-or-nothing; raise StaleSnapshot if the workbook moved since `snapshot`."""

    def describe(self) -> str:
        """Where the workbook is, for messages."""


T = TypeVar("T")


def new_pass_id() -> str:
    return uuid.uuid4().hex[:12]


def logged_already(tab: Tab | None, pass_id: str) -> bool:
    """True if the log tab holds a line with this pass's id (in any column: ids never collide with data)."""
    if tab is None:
        return False
    return any(isinstance(v, str) and v.strip() == pass_id for row in tab.rows[1:] for v in row)


def add_line(writes: WriteSet, tab: Tab | None, tab_name: str, headers: dict[str, str], line: list[Cell]) -> None:
    """Append the pass's line; give a log tab without headers (new, or older than the id column) its header."""
    names: list[Cell] = list(headers.values())
    if tab is None or not any(v not in (None, "") for row in tab.rows[:1] for v in row):
        writes.append[tab_name] = [names, line]
        return
    head = tab.rows[0]
    hidden = {(1, c) for r1, c1, r2, c2 in tab.merged if r1 <= 1 <= r2 for c in range(c1, c2 + 1)
              if (1, c) != (r1, c1)}  # a merged range's hidden cells in the header row cannot take a header
    for col, name in enumerate(names[len(names) - _NEWER:], start=len(names) - _NEWER + 1):
        if not any(fold(v) == fold(name) for v in head if isinstance(v, str)) \
                and (len(head) < col or head[col - 1] in (None, "")) and (1, col) not in hidden:
            writes.set(tab.name, 1, col, name)  # an old workbook: `init` adds them too
    writes.append[tab_name] = [line]


def id_column(tab: Tab | None, headers: dict[str, str]) -> int | None:
    """The column (1-based) of the log tab's `Mã lượt chạy` header, if it has one."""
    if tab is None or not tab.rows:
        return None
    want = fold(headers["pass_id"])
    return next((c for c, v in enumerate(tab.rows[0], start=1) if isinstance(v, str) and fold(v) == want), None)


#: Log columns added after the first release (pass id, note): a pass gives an old log tab their headers.
_NEWER = 2


@dataclass
class Outcome:
    """What the attempts of one pass wrote, as far as re-reads can tell."""

    pass_id: str
    log_tab: str
    landed: str | None = None        # the attempt(s) whose write a re-read showed to have landed
    #: Attempts whose write got no answer. A re-read that does not show the line does not settle them: the
    #: write may still land after it. Only a re-read showing the pass's line settles one (as landed).
    unresolved: list[int] = field(default_factory=list)
    carriers: list[int] = field(default_factory=list)  # the unresolved attempts whose write carried the line
    server_errors: int = 0
    unanswered: int = 0
    moved: int = 0
    last: Exception | None = None

    def seen(self, logged: bool) -> str | None:
        """After a re-read: settle the attempts that carried the line. Returns a message when one had landed."""
        if not logged or self.landed is not None or not self.carriers:
            return None  # not seen yet: a write with no answer may land later, so it stays "không rõ"
        # The line is at one fixed row whichever unanswered write put it there: with several, say so.
        self.landed = " hoặc ".join(str(a) for a in self.carriers)
        self.unresolved = [a for a in self.unresolved if a not in self.carriers]
        self.carriers = []
        return (f"Lần ghi {self.landed} đã được áp dụng dù không nhận được trả lời: dòng mã {self.pass_id} đã có "
                f"trong tab '{self.log_tab}'; không ghi thêm dòng nào.")

    def failed(self, attempt: int, exc: Exception, carried_line: bool) -> None:
        self.last = exc
        if isinstance(exc, WriteUnknown | WriteGaveUp):
            self.unresolved.append(attempt)
            if exc.server_error:
                self.server_errors += 1
            else:
                self.unanswered += 1
            if carried_line:
                self.carriers.append(attempt)
        else:
            self.moved += 1

    def guard(self, action: Callable[..., T], *args: Any, attempt: int | None = None,
              carried_line: bool = False) -> T:
        """Run a backend read or write; if it ends the pass (exit 3), say what the pass wrote."""
        try:
            return action(*args)
        except WorkbookHeld:
            raise  # refused before anything was written: its message says so
        except Unreachable as exc:
            if attempt is not None:
                self.failed(attempt, exc, carried_line)
            raise Unreachable(f"{exc} {self.written()}") from None

    def written(self) -> str:
        """What this pass wrote, truly, in one Vietnamese sentence."""
        parts = []
        if self.landed is not None:
            parts.append(f"lần ghi {self.landed} đã được áp dụng (dòng mã {self.pass_id} có trong tab "
                         f"'{self.log_tab}')")
        if self.unresolved:
            which = ", ".join(str(a) for a in self.unresolved)
            parts.append(f"không rõ lần ghi {which} đã được áp dụng hay chưa"
                         + ("" if self.landed is not None else
                            f" (nếu đã áp dụng, tab '{self.log_tab}' có dòng mã {self.pass_id})"))
        if not parts:
            return f"Lượt chạy mã {self.pass_id} chưa ghi gì vào bảng tính."
        return f"Lượt chạy mã {self.pass_id}: " + "; ".join(parts) + "."

    def reason(self, attempts: int) -> str:
        if self.server_errors and self.server_errors >= self.moved + self.unanswered:
            return f"Google trả lỗi máy chủ khi ghi ({self.server_errors}/{attempts} lần thử; lần cuối: {self.last})"
        if self.unanswered and self.unanswered + self.server_errors >= self.moved:
            return f"lần ghi không nhận được trả lời ({self.unanswered}/{attempts} lần thử; lần cuối: {self.last})"
        return f"bảng tính thay đổi liên tục trong {attempts} lần thử"

"""Finding tabs and columns by their header text, and reading the tracking rows out of them.

Headers are matched by folded text, never by position, so the Office may reorder or add columns. A
missing tab or header is the Office's to fix, so it is a UserError naming the tab, the header and the
closest header that does exist.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import UserError
from .schema import JOB_COLUMNS, QUARTER_KEYS
from .text import closest, fold, nfc
from .workbook import Cell, Snapshot, Tab

HEADER_SEARCH_ROWS = 10


@dataclass
class Table:
    tab: Tab
    header_row: int
    columns: dict[str, int]  # column key → 1-based column

    def value(self, row: int, key: str) -> Cell:
        col = self.columns.get(key)
        return self.tab.cell(row, col) if col else None

    def text(self, row: int, key: str) -> str:
        return nfc(self.value(row, key))

    def rows(self) -> range:
        return range(self.header_row + 1, len(self.tab.rows) + 1)

    def is_blank(self, row: int, ignore: tuple[str, ...] = ()) -> bool:
        """No typed content in the row (columns in `ignore`, such as the job's own, not looked at)."""
        skip = {self.columns[k] for k in ignore if k in self.columns}
        return all(nfc(v) == "" for c, v in enumerate(self.tab.rows[row - 1], start=1) if c not in skip)


def find_tab(snapshot: Snapshot, name: str, where: str) -> Tab:
    tab = snapshot.find_tab(name)
    if tab is None:
        names = list(snapshot.tabs)
        hint = closest(name, names)
        raise UserError(
            f"{where}: không có tab '{name}'"
            + (f" (có phải tab '{hint}'?)" if hint else "")
            + f". Các tab hiện có: {', '.join(repr(n) for n in names) or '(không có)'}. "
            "Chạy 'python -m sync init' để tạo các tab còn thiếu, hoặc đổi tên tab trong khóa cấu hình 'tabs'.")
    return tab


def locate(snapshot: Snapshot, tab_name: str, headers: dict[str, str], required: tuple[str, ...],
           where: str) -> Table:
    """The table under its header row in `tab_name`; raise UserError if a required header is missing."""
    tab = find_tab(snapshot, tab_name, where)
    wanted = {fold(h): key for key, h in headers.items()}
    best_row, columns = header_map(tab, headers)
    header = tab.rows[best_row - 1] if best_row else []
    missing = [k for k in required if k not in columns]
    if missing:
        name = headers[missing[0]]
        present = [nfc(v) for v in header if nfc(v)]
        hint = closest(name, [p for p in present if fold(p) not in wanted])
        raise UserError(
            f"{where}, tab '{tab.name}': thiếu cột '{name}' ở dòng tiêu đề (dòng {best_row})"
            + (f"; cột gần giống nhất là '{hint}' — sửa lại đúng tên '{name}'" if hint else "")
            + ". Chạy 'python -m sync init' để thêm các cột còn thiếu.")
    return Table(tab, best_row, columns)


def header_map(tab: Tab, headers: dict[str, str]) -> tuple[int, dict[str, int]]:
    """(header row, column key → column) for the row among the first few that names most headers.

    The row is 0 when no row names any header (an empty or foreign tab)."""
    wanted = {fold(h): key for key, h in headers.items()}
    best_row, best_hits = 0, 0
    for r, row in enumerate(tab.rows[:HEADER_SEARCH_ROWS], start=1):
        hits = sum(1 for v in row if fold(v) in wanted)
        if hits > best_hits:
            best_row, best_hits = r, hits
    columns: dict[str, int] = {}
    for c, value in enumerate(tab.rows[best_row - 1] if best_row else [], start=1):
        key = wanted.get(fold(value))
        if key and key not in columns:
            columns[key] = c
    return best_row, columns


def last_used_row(tab: Tab) -> int:
    for r in range(len(tab.rows), 0, -1):
        if any(nfc(v) for v in tab.rows[r - 1]):
            return r
    return 0


@dataclass
class Entry:
    """One tracking row as typed: raw cell values, nothing interpreted yet."""

    row: int
    stt: Cell
    unit: str
    role: str = ""
    deadline: Cell = None
    status: str = ""
    results: dict[int, str] = field(default_factory=dict)  # quarter → text
    quantity: Cell = None
    evidence: str = ""
    done_date: Cell = None
    note: str = ""
    task: str = ""
    check: str = ""  # what the job wrote last time
    flags: str = ""

    def texts(self) -> dict[str, str]:
        """The free-text cells a unit typed, by column key (checked for formula injection)."""
        out = {f"q{q}": t for q, t in self.results.items()}
        out.update(evidence=self.evidence, note=self.note)
        return out


def read_entries(table: Table) -> list[Entry]:
    """Every row with something typed in it (a row holding only the job's old messages is not an entry)."""
    entries = []
    for r in table.rows():
        if table.is_blank(r, ignore=JOB_COLUMNS):
            continue
        entries.append(Entry(
            row=r,
            stt=table.value(r, "stt"),
            unit=table.text(r, "unit"),
            role=table.text(r, "role"),
            deadline=table.value(r, "deadline"),
            status=table.text(r, "status"),
            results={q: table.text(r, key) for q, key in enumerate(QUARTER_KEYS, start=1) if key in table.columns},
            quantity=table.value(r, "quantity"),
            evidence=table.text(r, "evidence"),
            done_date=table.value(r, "done_date"),
            note=table.text(r, "note"),
            task=table.text(r, "task"),
            check=table.text(r, "check"),
            flags=table.text(r, "flags"),
        ))
    return entries


def plan_deadlines(table: Table | None) -> dict[int, Cell]:
    """Hạn hoàn thành typed in the plan tab, by STT: the Office's per-task override."""
    out: dict[int, Cell] = {}
    if table is None or "deadline" not in table.columns:
        return out
    for r in table.rows():
        stt = as_stt(table.value(r, "stt"))
        value = table.value(r, "deadline")
        if stt is not None and nfc(value):
            out[stt] = value
    return out


def as_stt(value: Cell) -> int | None:
    """The task number a cell holds: 3, 3.0, "3", "3." — or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else None
    text = nfc(value).rstrip(".")
    return int(text) if text.isdigit() else None

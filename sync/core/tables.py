"""Finding tabs and columns by their header text, reading the tracking rows out of them, and their merged cells.

Headers are matched by folded text, never by position, so the Office may reorder or add columns. A
missing tab or header is the Office's to fix, so it is a UserError naming the tab, the header and the
closest header that does exist. Two columns whose headers fold the same are an error, never a guess; a
missing header with a close one present (a renamed column, a typo) is an error with both fixes, never
"repaired" by adding an empty twin. Merged ranges: the top-left value applies to every row the range
covers (in the top-left's column); only top-left cells can be written.

Merged cells, and what a pass cannot write because of them, said (`withhold`, `message`): units merge cells: an `STT`
merged over a task's unit rows is a common layout, and sometimes a range over `Kiểm tra` or `Cảnh báo`. Reading, a
merged range's value applies to every row it covers (`Table`). Writing, only the top-left cell of a range can hold a
value: the core never sends a write into another cell of the range (openpyxl refuses it, Google would hide it). Those
writes are withheld here, and the pass says where — in its output, in the row's `Kiểm tra` cell when a `Cảnh báo` cell
is hidden, and in a section of the dashboard.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sync.core.errors import UserError
from sync.core.schema import (
    HEADER_SYNONYMS,
    JOB_COLUMNS,
    JOB_TAB_TITLES,
    LOG_COLUMNS,
    PLAN_COLUMNS,
    QUARTER_KEYS,
    TRACKING_COLUMNS,
    closest,
    fold,
    nfc,
    quoted,
    shorten,
    vn_number,
)
from sync.core.schema import TABS as _DEFAULT_TABS
from sync.core.workbook import Cell, Pos, Snapshot, Styled, Tab, WriteSet

Merge = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based, inclusive)

HEADER_SEARCH_ROWS = 10


@dataclass
class Table:
    tab: Tab
    header_row: int
    columns: dict[str, int]  # column key → 1-based column
    covered: MergeIndex = field(default_factory=lambda: MergeIndex([]))  # cells a merge hides → that merge
    where: str = ""  # the workbook, for messages
    warnings: list[str] = field(default_factory=list)  # said in the output, nothing stopped (an empty twin)

    def value(self, row: int, key: str) -> Cell:
        col = self.columns.get(key)
        if not col:
            return None
        merge = self.covered.get((row, col))
        if merge is not None:  # the merged range's value applies to every row it covers, in its first column
            return self.tab.cell(merge[0], merge[1]) if merge[1] == col else None
        return self.tab.cell(row, col)

    def writable(self, row: int, key: str) -> bool:
        """Whether the cell can hold a value (not hidden under a merged range's top-left cell)."""
        return (row, self.columns[key]) not in self.covered

    def text(self, row: int, key: str) -> str:
        return nfc(self.value(row, key))

    def stored_as_text(self, row: int, key: str) -> bool:
        """Whether the cell is marked as text (a leading apostrophe), so no spreadsheet evaluates it."""
        col = self.columns.get(key)
        return bool(col) and (row, col) in self.tab.text_cells

    def rows(self) -> range:
        return range(self.header_row + 1, len(self.tab.rows) + 1)

    def is_blank(self, row: int, ignore: tuple[str, ...] = ()) -> bool:
        """No typed content in the row (columns in `ignore`, such as the job's own, not looked at)."""
        skip = {self.columns[k] for k in ignore if k in self.columns}
        line = self.tab.rows[row - 1] if row <= len(self.tab.rows) else []  # below the last row read: blank
        return all(nfc(v) == "" for c, v in enumerate(line, start=1) if c not in skip)


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
    """The table under its header row in `tab_name`.

    Raises UserError when two columns carry the same header, when a header is missing but a column with a
    close header exists (every header in `headers`), or when a `required` header is missing."""
    tab = find_tab(snapshot, tab_name, where)
    scan = scan_headers(tab, headers)
    warnings = check_headers(tab, scan, headers, where)
    missing = [k for k in required if k not in scan.columns]
    if missing:
        name = headers[missing[0]]
        wanted = {fold(h) for h in headers.values()}
        present = [text for text in scan.cells.values() if fold(text) not in wanted]
        hint = closest(name, present)
        raise UserError(
            f"{where}, tab '{tab.name}': thiếu cột '{name}' ở dòng tiêu đề (dòng {scan.row})"
            + (f"; cột gần giống nhất là '{hint}' — sửa lại đúng tên '{name}'" if hint else "")
            + ". Chạy 'python -m sync init' để thêm các cột còn thiếu.")
    return Table(tab, scan.row, scan.columns, merge_index(tab), where, warnings)



#: Headers that together say "this tab holds the units' rows" (tracking) or "the plan's tasks" (plan).
UNITS_TABLE_KEYS = {"tracking": ("stt", "unit", "status"), "plan": ("stt", "task", "schedule")}


def refuse_overwrite(snapshot: Snapshot, tab_name: str, key: str, tables: dict[str, dict[str, str]],
                     where: str) -> None:
    """Stop (UserError) before the job rewrites or appends to the tab `tab_name` (its config key `key`:
    dashboard, log) when that tab holds the header row of the tracking or the plan tab (`tables`: kind → its
    headers): whatever the settings say, the job never deletes or writes over the units' or the plan's rows."""
    tab = snapshot.find_tab(tab_name)
    if tab is None:
        return
    if fold(tab_name) != fold(_DEFAULT_TABS[key]) and not _ours(tab, key):  # the settings point it elsewhere
        raise UserError(f"{where}: tab '{tab.name}' (khóa cấu hình 'tabs.{key}') đã có nội dung không do chương trình "
                        "ghi (tab của Văn phòng hoặc của người khác); chương trình không ghi đè tab này. Sửa khóa "
                        f"cấu hình 'tabs.{key}' thành tên một tab chưa có (mặc định '{_DEFAULT_TABS[key]}'), hoặc đổi "
                        "tên tab đó.")
    kind = units_table_in(tab, tables)
    if kind is not None:
        headers, keys = tables[kind], UNITS_TABLE_KEYS[kind]
        what = "các dòng của đơn vị" if kind == "tracking" else "các nhiệm vụ của kế hoạch"
        raise UserError(f"{where}: tab '{tab.name}' (khóa cấu hình 'tabs.{key}') có dòng tiêu đề của {what} "
                        f"({', '.join(repr(headers[k]) for k in keys)}); chương trình không ghi đè tab này. "
                        f"Sửa khóa cấu hình 'tabs.{key}' thành tên một tab riêng (mặc định "
                        f"'{_DEFAULT_TABS[key]}'), hoặc đổi tên tab đó.")


def units_table_in(tab: Tab, tables: dict[str, dict[str, str]]) -> str | None:
    """The kind of units' table whose header row `tab` holds ("tracking" or "plan"; `tables`: kind → its
    headers), or None."""
    for kind, keys in UNITS_TABLE_KEYS.items():
        headers = tables[kind]
        if all(k in scan_headers(tab, {k: headers[k] for k in keys}).columns for k in keys):
            return kind
    return None


def _ours(tab: Tab, key: str) -> bool:
    """Whether a job tab of that name is empty or the job's own: it begins with its title (dashboard, guide), or
    holds the log's header row (log)."""
    texts = [nfc(v) for row in tab.rows[:HEADER_SEARCH_ROWS] for v in row if nfc(v)]
    if not texts:
        return True
    if key in JOB_TAB_TITLES:
        return texts[0].startswith(JOB_TAB_TITLES[key])
    if key == "log":
        return len(scan_headers(tab, LOG_COLUMNS).columns) * 2 >= len(LOG_COLUMNS)
    return True


@dataclass
class HeaderScan:
    row: int  # the header row (0: no row names any header)
    columns: dict[str, int]  # column key → its column (the first, when several match)
    matches: dict[str, list[int]]  # column key → every column whose header folds to it
    cells: dict[int, str]  # column → text of every non-empty cell of the header row


def scan_headers(tab: Tab, headers: dict[str, str]) -> HeaderScan:
    """The row among the first few that names most headers, and what each of its cells is."""
    wanted = {fold(h): key for key, h in headers.items()}
    best_row, best_hits = 0, 0
    for r, row in enumerate(tab.rows[:HEADER_SEARCH_ROWS], start=1):
        hits = sum(1 for v in row if fold(v) in wanted)
        if hits > best_hits:
            best_row, best_hits = r, hits
    matches: dict[str, list[int]] = {}
    cells: dict[int, str] = {}
    for c, value in enumerate(tab.rows[best_row - 1] if best_row else [], start=1):
        if nfc(value):
            cells[c] = nfc(value)
        key = wanted.get(fold(value))
        if key:
            matches.setdefault(key, []).append(c)
    return HeaderScan(best_row, {k: cols[0] for k, cols in matches.items()}, matches, cells)


def check_headers(tab: Tab, scan: HeaderScan, headers: dict[str, str], where: str) -> list[str]:
    """Stop (UserError, before anything is written) on a merged range over the header row, on a duplicated
    header, or on a missing header that a column with a close header probably stands for."""
    if scan.row:
        check_header_merges(tab, scan, headers, where)
    _check_duplicates(tab, scan, headers, where)
    if not scan.row:
        return []
    taken = {c for cols in scan.matches.values() for c in cols}
    free = {c: text for c, text in scan.cells.items() if c not in taken}
    _check_renamed(tab, scan, headers, free, where)
    return _twins(tab, scan, headers, free, where)


def _check_duplicates(tab: Tab, scan: HeaderScan, headers: dict[str, str], where: str) -> None:
    """Two columns with the same header: the job cannot tell which one to read."""
    for key, cols in scan.matches.items():
        if len(cols) > 1:
            both = " và ".join(f"cột {letters(c)} ('{scan.cells[c]}')" for c in cols)
            raise UserError(
                f"{where}, tab '{tab.name}': {len(cols)} cột có cùng tiêu đề '{headers[key]}' ở dòng {scan.row}: "
                f"{both}. Công cụ không đoán cột nào là cột '{headers[key]}' nên dừng lại, chưa ghi gì. "
                f"Đổi tên cho khác đi hoặc xóa cột thừa (chỉ giữ một cột '{headers[key]}'), rồi chạy lại.")


def _check_renamed(tab: Tab, scan: HeaderScan, headers: dict[str, str], free: dict[int, str], where: str) -> None:
    """A missing header that a column with a close header (`free`: columns the job does not read) stands for."""
    for key, name in headers.items():
        if key in scan.columns:
            continue
        col = next((c for c, text in free.items() if is_close(key, name, text)), None)
        if col is not None:
            raise UserError(renamed_message(tab, scan.row, key, name, col, free[col], where))


def _twins(tab: Tab, scan: HeaderScan, headers: dict[str, str], free: dict[int, str], where: str) -> list[str]:
    """A column close to one the job reads, beside it: an error when it holds data, else a warning."""
    warnings = []
    for key, name in headers.items():  # a twin: a column close to one the job reads, beside it
        ours = scan.columns.get(key)
        if ours is None:
            continue
        for col, text in free.items():
            if not is_close(key, name, text):
                continue
            filled = [(r, tab.cell(r, col)) for r in range(scan.row + 1, len(tab.rows) + 1) if nfc(tab.cell(r, col))]
            if filled:
                raise UserError(twin_message(tab, key, name, ours, col, text, filled, scan, where))
            warnings.append(
                f"Lưu ý: {where}, tab '{tab.name}': cột {letters(col)} ({quoted(text)}) còn trống và có tiêu đề "
                f"gần giống cột {letters(ours)} ({quoted(scan.cells[ours])}); công cụ chỉ đọc cột {letters(ours)}. "
                f"Xóa cột {letters(col)} hoặc đổi tiêu đề của nó cho khác hẳn, để đơn vị không gõ nhầm vào đó.")
    return warnings


def twin_message(tab: Tab, key: str, name: str, ours: int, col: int, text: str, filled: list[tuple[int, Cell]],
                 scan: HeaderScan, where: str) -> str:
    r, v = filled[0]
    mine, theirs = letters(ours), letters(col)
    return (f"{where}, tab '{tab.name}': cột {mine} ({quoted(scan.cells[ours])}) và cột {theirs} ({quoted(text)}) "
            f"có tiêu đề cùng nghĩa, và cột {theirs} có dữ liệu ({len(filled)} ô, ví dụ {theirs}{r}: "
            f"{quoted(v, 60)}). Công cụ chỉ đọc cột {mine} làm cột '{name}', nên những gì gõ ở cột {theirs} sẽ bị "
            f"bỏ qua và số liệu sai; công cụ dừng lại, chưa ghi gì. Sửa theo một trong hai cách:\n"
            + (f"  1) cột {mine} do công cụ ghi: chép nội dung cột {theirs} sang nơi khác nếu cần, rồi xóa cột "
               f"{theirs}; hoặc\n" if key in JOB_COLUMNS else
               f"  1) chuyển dữ liệu của cột {theirs} sang cột {mine} rồi xóa cột {theirs}; hoặc\n")
            + f"  2) nếu cột {theirs} ghi nội dung khác, đổi tiêu đề {quoted(text)} thành một tên khác hẳn "
            f"(không giống '{name}').\nRồi chạy lại lệnh.")


#: How to unmerge, in both programs units use.
UNMERGE_HOWTO = "Google Trang tính: Định dạng → Gộp ô → Hủy gộp; Excel: Trang đầu → Gộp và căn giữa → Hủy gộp ô"


def check_header_merges(tab: Tab, scan: HeaderScan, headers: dict[str, str], where: str) -> None:
    """A merged range over the header row, within the table's columns, hides a header (merged across) or
    makes the header text the value of data rows (merged down): neither can be read right, and `init` cannot
    write a header into a hidden cell, so the Office unmerges it."""
    h = scan.row
    last = max([*scan.cells, *(c for cols in scan.matches.values() for c in cols)], default=0)
    for merge in sorted(tab.merged):
        r1, c1, r2, c2 = merge
        if not (r1 <= h <= r2 and c1 <= last):
            continue
        rng = merge_a1(merge)
        top = nfc(tab.cell(r1, c1))
        what = []
        hidden = [a1(h, c) for c in range(c1, c2 + 1) if (h, c) != (r1, c1)]
        if hidden:
            what.append(f"che ô tiêu đề {', '.join(hidden)}" if c2 > c1 or r1 < h else "")
        if r2 > h:
            rows = f"{h + 1}" if r2 == h + 1 else f"{h + 1}–{r2}"
            what.append(f"kéo xuống dòng dữ liệu {rows}, nên công cụ sẽ đọc '{top}' làm giá trị của các ô "
                        f"{a1(h + 1, c1)}:{a1(r2, c2)}")
        retype = [f"'{headers[k]}' vào ô {a1(h, c)}" for k, c in _expected_cols(scan, headers, c1, c2)]
        raise UserError(
            f"{where}, tab '{tab.name}': vùng ô gộp {rng} nằm trên dòng tiêu đề (dòng {h}) và "
            + "; ".join(w for w in what if w)
            + ". Công cụ không đọc đúng được bảng khi dòng tiêu đề bị gộp nên dừng lại, chưa ghi gì. "
            f"Hủy gộp vùng {rng} ({UNMERGE_HOWTO})"
            + (f", gõ lại giá trị đúng vào các ô {a1(h + 1, c1)}:{a1(r2, c2)}" if r2 > h else "")
            + (f", gõ lại tiêu đề {', '.join(retype)} (hoặc chạy 'python -m sync init' sau khi hủy gộp để "
               "thêm tiêu đề còn thiếu)" if retype else "")
            + ", rồi chạy lại lệnh.")


def _expected_cols(scan: HeaderScan, headers: dict[str, str], c1: int, c2: int) -> list[tuple[str, int]]:
    """Missing headers whose usual place (the column after the previous header, in layout order) falls in
    columns c1..c2 of a merged range: the header the merge most likely hid."""
    out, prev = [], 0
    for key in headers:
        if key in scan.columns:
            prev = scan.columns[key]
        else:
            prev += 1
            if c1 <= prev <= c2 and prev not in scan.cells:
                out.append((key, prev))
    return out


def renamed_message(tab: Tab, row: int, key: str, name: str, col: int, text: str, where: str) -> str:
    line = f"{key}: {json.dumps(text, ensure_ascii=False)}"
    shared = key in PLAN_COLUMNS and key in TRACKING_COLUMNS
    return (f"{where}, tab '{tab.name}': thiếu cột '{name}' ở dòng tiêu đề (dòng {row}), nhưng cột "
            f"{letters(col)} có tiêu đề gần giống: {quoted(text)}. Công cụ không tự thêm một cột '{name}' trống "
            f"(mọi số liệu sau đó sẽ sai) nên dừng lại, chưa ghi gì. Sửa theo một trong hai cách:\n"
            f"  1) đổi tên cột {letters(col)} ({quoted(text)}) trở lại thành '{name}'; hoặc\n"
            f"  2) giữ tên '{text}' và khai báo trong tệp cấu hình, mục 'headers:':\n"
            f"       headers:\n"
            f"         {line}\n"
            f"     (tệp đã có mục 'headers:' thì chỉ thêm dòng '{line}' vào đó)"
            + (f"; lưu ý khóa 'headers.{key}' đổi tên cột này ở cả tab kế hoạch và tab theo dõi" if shared else "")
            + ".\nRồi chạy lại lệnh.")


#: Typo-level likeness (folded, difflib ratio) at or above which a header counts as close.
CLOSE_RATIO = 0.84
#: A header followed by at most this many words ("Tình trạng thực hiện") counts as close.
CLOSE_EXTRA_WORDS = 3


def is_close(key: str, name: str, text: str) -> bool:
    """Whether a header cell `text` probably is the column `name` (key `key`) renamed or mistyped.

    Close: a synonym units use (schema.HEADER_SYNONYMS, and the default header when config renamed it), the
    same words run together, the header followed by a few words, or a typo (difflib ratio ≥ CLOSE_RATIO).
    Unrelated columns the Office adds (Người cập nhật, Ngày cập nhật, Link Drive, …) are not close."""
    got, want = fold(text), fold(name)
    if not got or got == want:
        return False
    if key in QUARTER_KEYS:  # a quarter's column, however its quarter is written, and never another quarter's
        said = quarter_said(got)
        if said is not None:
            return said == int(key[1])
    defaults = (TRACKING_COLUMNS.get(key), PLAN_COLUMNS.get(key))
    if got in {fold(s) for s in (*HEADER_SYNONYMS.get(key, ()), *defaults) if s}:
        return True
    if got.replace(" ", "") == want.replace(" ", ""):
        return True
    got_words, want_words = got.split(), want.split()
    if want_words == got_words[:len(want_words)] and len(got_words) - len(want_words) <= CLOSE_EXTRA_WORDS:
        return True
    return min(len(got), len(want)) >= 4 and difflib.SequenceMatcher(None, got, want).ratio() >= CLOSE_RATIO


_TOKENS = re.compile(r"[a-z0-9]+")
_QUARTER_NUMBERS = {"1": 1, "2": 2, "3": 3, "4": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4}
_QUARTER_JOINED = re.compile(r"q(1|2|3|4|i|ii|iii|iv)")
#: Words of a quarter-result header besides the quarter itself ("Kết quả thực hiện Quý I", "Tình hình …").
_RESULT_WORDS = {"ket", "qua", "kq", "thuc", "hien", "tinh", "hinh", "bao", "cao", "don", "vi", "ghi", "nam"}


def quarter_said(folded: str) -> int | None:
    """The quarter a folded header names as a quarter's result (Quý I, quý 1, Q1, Q.1, Quý I/2024, Kết quả
    thực hiện quý 3 năm 2024, …), or None: no quarter, several, or other words around it ("Kinh phí Quý I"
    is the Office's own figure, not a result column)."""
    tokens = _TOKENS.findall(folded)
    found, rest, i = set(), [], 0
    while i < len(tokens):
        tok, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok in ("quy", "q") and nxt in _QUARTER_NUMBERS:
            found.add(_QUARTER_NUMBERS[nxt])
            i += 2
            continue
        if (m := _QUARTER_JOINED.fullmatch(tok)):
            found.add(_QUARTER_NUMBERS[m.group(1)])
        elif not (tok.isdigit() and len(tok) == 4):  # a year
            rest.append(tok)
        i += 1
    if len(found) != 1 or not set(rest) <= _RESULT_WORDS:
        return None
    return found.pop()


def letters(col: int) -> str:
    """Column letters as the sheet shows them: 1 → A, 27 → AA."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(row: int, col: int) -> str:
    return f"{letters(col)}{row}"


def merge_a1(merge: Merge) -> str:
    return f"{a1(merge[0], merge[1])}:{a1(merge[2], merge[3])}"


class MergeIndex:
    """Every cell a merged range hides (all but its top-left cell) → that range. A range of up to SMALL cells is
    listed cell by cell (the lookups of a pass are then a dict's); a larger one (a whole column merged, a range
    down to row 1,048,576) is kept as a range and looked through, so it costs nothing until asked."""

    SMALL = 10_000

    def __init__(self, merged: list[Merge]):
        self.cells: dict[Pos, Merge] = {}
        self.large: list[Merge] = []
        for merge in merged:
            r1, c1, r2, c2 = merge
            if (r2 - r1 + 1) * (c2 - c1 + 1) > self.SMALL:
                self.large.append(merge)
                continue
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        self.cells[(r, c)] = merge

    def get(self, pos: Pos, default: Merge | None = None) -> Merge | None:
        """As dict.get (a pass asks for every cell it reads: no exception made of a miss)."""
        found = self.cells.get(pos)
        if found is not None or not self.large:
            return found if found is not None else default
        r, c = pos
        for merge in self.large:
            if merge[0] <= r <= merge[2] and merge[1] <= c <= merge[3] and (r, c) != (merge[0], merge[1]):
                return merge
        return default

    def __contains__(self, pos: object) -> bool:
        return isinstance(pos, tuple) and self.get(pos) is not None

    def __getitem__(self, pos: Pos) -> Merge:
        found = self.get(pos)
        if found is None:
            raise KeyError(pos)
        return found

    def __iter__(self) -> Iterator[Pos]:
        """Every hidden cell: the large ranges' too (callers that may meet one use `within`)."""
        yield from self.cells
        for r1, c1, r2, c2 in self.large:
            yield from ((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1) if (r, c) != (r1, c1))

    def __len__(self) -> int:
        return len(self.cells) + sum((m[2] - m[0] + 1) * (m[3] - m[1] + 1) - 1 for m in self.large)

    def within(self, rows: range, last_col: int) -> Iterator[Pos]:
        """The hidden cells in `rows`, up to column `last_col`."""
        yield from (pos for pos in self.cells if pos[0] in rows and pos[1] <= last_col)
        for r1, c1, r2, c2 in self.large:
            for r in range(max(r1, rows.start), min(r2 + 1, rows.stop)):
                yield from ((r, c) for c in range(c1, min(c2, last_col) + 1) if (r, c) != (r1, c1))


def merge_index(tab: Tab) -> MergeIndex:
    return MergeIndex(tab.merged)


def last_used_row(tab: Tab) -> int:
    """The last row holding any text (a cell of spaces counts as empty), 0 for an empty tab: the one answer
    every backend and the layout use for where a tab's content ends."""
    for r in range(len(tab.rows), 0, -1):
        if any(nfc(v) for v in tab.rows[r - 1]):
            return r
    return 0


#: The last row an Excel sheet has (openpyxl refuses a cell below it).
LAST_ROW = 1_048_576


def below_merges(tab: Tab, start: int, rows: int = 1) -> int:
    """The first row at or after `start` below every merged range that reaches `start` or further down: where
    `rows` whole new rows can go without a cell of theirs hidden by a merge. A merge reaching the sheet's last
    rows leaves no room: said (exit 2), naming it."""
    reaching = [m for m in tab.merged if m[2] >= start]
    first = max([start] + [m[2] + 1 for m in reaching])
    if first + rows - 1 > LAST_ROW:
        merge = max(reaching, key=lambda m: m[2], default=None)
        cause = (f"vùng ô gộp {merge_a1(merge)} kéo tới gần dòng cuối của trang tính" if merge else
                 "dữ liệu đã tới gần dòng cuối của trang tính")
        fix = ("Hủy gộp vùng đó (hoặc thu nó lại trong phạm vi các dòng có dữ liệu)" if merge else
               "Xóa các dòng thừa ở cuối tab")
        raise UserError(f"Tab '{tab.name}': {cause} ({vn_number(LAST_ROW)}), nên không còn chỗ thêm {rows} dòng mới "
                        f"bên dưới. {fix} rồi chạy lại; chưa ghi gì.")
    return first


def append_row(tab: Tab) -> int:
    """Where rows appended to `tab` (a Nhật ký line) go: right after its last used row, and below every merged
    range that reaches that far."""
    return below_merges(tab, last_used_row(tab) + 1)


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
    #: Column keys whose cell is stored as text (a leading apostrophe): never a formula, whatever it starts with
    as_text: frozenset[str] = frozenset()

    def texts(self) -> dict[str, str]:
        """The free-text cells a unit typed, by column key (checked for formula injection)."""
        out = {f"q{q}": t for q, t in self.results.items()}
        out.update(evidence=self.evidence, note=self.note)
        return out


def read_entries(table: Table) -> list[Entry]:
    """Every row with something typed in it (a row holding only the job's old messages is not an entry)."""
    entries = []
    for r in table.rows():
        if table.is_blank(r, ignore=JOB_COLUMNS) or is_section_heading(table, r):
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
            as_text=frozenset(k for k in table.columns if table.stored_as_text(r, k)) if table.tab.text_cells
            else frozenset(),
        ))
    return entries


def one_row_per_task(table: Table) -> None:
    """The plan tab holds one task per row: an STT merged over several rows that hold something would give
    them all the first one's number (tasks lost, another task's deadline taken). Stop, naming the range."""
    col = table.columns.get("stt")
    for merge in sorted(table.tab.merged):
        r1, c1, r2, c2 = merge
        if not col or not (c1 <= col <= c2) or r2 <= r1 or r2 <= table.header_row:
            continue
        if all(table.is_blank(r) for r in range(max(r1 + 1, table.header_row + 1), min(r2, len(table.tab.rows)) + 1)):
            continue  # nothing under the merge: no task lost
        rng, name = merge_a1(merge), table.tab.name
        header = nfc(table.tab.cell(table.header_row, col)) or "STT"
        raise UserError(
            f"{table.where}, tab '{name}': vùng ô gộp {rng} gộp cột '{header}' của {r2 - r1 + 1} dòng "
            f"(dòng {r1}–{r2}); mỗi dòng của tab này là một nhiệm vụ, nên các nhiệm vụ ở dòng {r1 + 1}–{r2} sẽ "
            f"bị đọc thành nhiệm vụ ở dòng {r1} (mất nhiệm vụ, lấy nhầm hạn). Công cụ dừng lại, chưa ghi gì. "
            f"Hủy gộp vùng {rng} ({UNMERGE_HOWTO}), gõ lại STT vào các ô {a1(r1 + 1, col)}:{a1(r2, col)}, rồi "
            "chạy lại lệnh.")


def is_section_heading(table: Table, row: int) -> bool:
    """A heading row between tasks ("I. TUYÊN TRUYỀN CHUNG"): its STT cell starts a range merged across the
    table to at least the unit column, holds no task number, and the row names no unit."""
    stt, unit = table.columns.get("stt"), table.columns.get("unit")
    if not stt or not unit:
        return False
    merge = next((m for m in table.tab.merged if m[0] == row and m[1] <= stt <= m[3] and m[3] >= unit), None)
    return merge is not None and as_stt(table.tab.cell(merge[0], merge[1])) is None and not table.text(row, "unit")


def plan_deadlines(table: Table | None) -> dict[int, Cell]:
    """Hạn hoàn thành typed in the plan tab, by STT: the Office's per-task override."""
    out: dict[int, Cell] = {}
    if table is None:
        return out
    one_row_per_task(table)
    if "deadline" not in table.columns:
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
    return int(text) if text.isdecimal() and len(text) <= 9 else None  # no plan has a billion tasks


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
        covered = MergeIndex(tab.merged if tab is not None else [])
        for pos in [p for p in cells if p in covered]:
            out.append(Withheld(name, pos[0], pos[1], covered[pos], cells.pop(pos)))
    for name, notes in writes.notes.items():
        tab = snapshot.tabs.get(name)
        covered = MergeIndex(tab.merged if tab is not None else [])
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

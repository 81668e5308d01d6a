"""The shared Google Sheet, behind the same Backend interface as the .xlsx: the glue of three layers.

As gspread keeps its own (client, spreadsheet, worksheet, HTTP apart), the adapter is in layers:
  google_http        — the service-account key file, checked, and the authorized session; gspread's
                       HTTPClient with timeouts and one retry budget for the command;
  google_requests    — the request bodies of a pass, the dashboard's drawing and the units' row
                       protection among them, pure;
  google (this)      — the backend: read, check the row keys, write, and what a refusal means.

A pass is at most four HTTP requests whatever the sheet's size:
  1. spreadsheets.get — tab names, ids and sizes, formatting we own, and cell notes (field-masked);
  2. values.batchGet — every tab's values, unformatted (numbers as numbers, dates as serial numbers);
  3. values.batchGet — the row keys (STT, Đơn vị) again, just before writing: if a unit inserted,
     deleted or sorted rows meanwhile, we raise StaleSnapshot and the pass re-reads instead of writing
     flags onto the wrong rows;
  4. spreadsheets.batchUpdate — every write (cells, notes, the dashboard, the log line, formats) in one
     request, which Google applies all-or-nothing.
Below ONE_READ_MAX_ROWS planned rows, 1 and 2 are one spreadsheets.get carrying values and notes: 3 requests. A
write over 2 MB (10,000 rows) is split into as few batchUpdates as fit (google_requests.split), in order, the log
line in the last; before each later part that addresses rows of `Theo dõi`, its row keys are re-read again.

A write whose outcome is unknown (timeout, dropped or cut answer, 5xx on batchUpdate) is not blindly resent
(google_http): the pass re-reads and recomputes, which is safe because every write is idempotent: cells are
set, never added to, and the log line goes to a fixed row (the one below the last the read showed) and
carries the pass id (sync.core.workbook), so a write landing after its redo's re-read overwrites the same cells.
The row-key re-read also re-reads the log's id column, and an addSheet refused because the tab now exists is
a moved workbook.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from google.auth.credentials import Credentials
from gspread.exceptions import APIError
from gspread.utils import absolute_range_name

from sync.backends import google_requests as bodies
from sync.backends.google_http import (
    AmbiguousWrite,
    BoundedHTTPClient,
    key_path,
    load_credentials,
    message_of,
    refusal,
    warn_if_shared,
)
from sync.core.errors import StaleSnapshot, WriteUnknown
from sync.core.workbook import Snapshot, Tab, WriteSet


class GoogleBackend:
    name = "google"

    def __init__(self, spreadsheet_id: str, credentials: Credentials, api_base_url: str | None = None,
                 timeout_s: float = 30, retry_budget_s: float = 120, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, session: requests.Session | None = None,
                 rows_hint: int | None = None, one_read_max_rows: int = bodies.ONE_READ_MAX_ROWS):
        """`sleep` and `clock` drive the retry budget (tests: no waiting); `session` replaces the authorized
        HTTP session (tests of the retry logic: a fake transport). `rows_hint` is the rows the plan expects
        (None: unknown): at most `one_read_max_rows`, a read is one request instead of two (see `one_read`)."""
        self.spreadsheet_id = spreadsheet_id
        self.rows_hint = rows_hint
        self.one_read_max_rows = one_read_max_rows
        self.max_write_bytes = bodies.MAX_WRITE_BYTES
        self.write_bytes: list[int] = []  # the body of each batchUpdate of the last write (for the bench)
        self.account: str = getattr(credentials, "service_account_email", "?")
        self.http = BoundedHTTPClient(credentials, api_base_url, timeout_s, retry_budget_s, sleep, clock, session)
        self._meta: dict[str, Any] = {}
        self.notes: list[str] = []  # said after the command: views named back, row protection Google refused

    @classmethod
    def from_settings(cls, settings: Any, **kw: Any) -> GoogleBackend:
        """`kw` (sleep, clock) lets tests drive the retry budget without waiting; `rows_hint` is the plan's rows."""
        g = settings.google
        path = key_path(g.credentials_file)
        credentials = load_credentials(path)
        warn_if_shared(path)
        return cls(g.spreadsheet_id, credentials, g.api_base_url, g.timeout_s, g.retry_budget_s, **kw)

    @property
    def api_calls(self) -> int:
        return self.http.calls

    def describe(self) -> str:
        return f"bảng tính Google '{self.spreadsheet_id}'"

    def exists(self) -> bool:
        return True  # the Office creates the spreadsheet; `init` fills it

    def empty_snapshot(self) -> Snapshot:
        return self.read()

    # --- read -----------------------------------------------------------------------------------------
    @property
    def one_read(self) -> bool:
        """Whether a read is the one spreadsheets.get of values and notes (a pass in 3 requests), or the metadata
        and a values.batchGet (4): by the rows the plan expects, against a threshold the bench measured."""
        return self.rows_hint is not None and self.rows_hint <= self.one_read_max_rows

    def read(self) -> Snapshot:
        one = self.one_read
        meta = self._call(self.http.fetch_sheet_metadata, self.spreadsheet_id,
                          params=dict(bodies.ONE_READ_PARAMS if one else bodies.META_PARAMS))
        every = sorted(meta.get("sheets", []), key=lambda s: s["properties"].get("index", 0))
        sheets = [s for s in every if s["properties"].get("sheetType", "GRID") == "GRID"]
        others = tuple(s["properties"]["title"] for s in every if s not in sheets)  # an object (chart) sheet
        titles = [s["properties"]["title"] for s in sheets]
        if one:
            grids = [_values(sheet) for sheet in sheets]
        else:
            values = self._call(self.http.values_batch_get, self.spreadsheet_id,
                                [absolute_range_name(t) for t in titles], params=dict(bodies.VALUES_PARAMS))
            grids = [[list(r) for r in vr.get("values", [])] for vr in values.get("valueRanges", [])]
        tabs = {}
        for sheet, rows in zip(sheets, grids, strict=False):
            title = sheet["properties"]["title"]
            tabs[title] = Tab(title, rows, _notes(sheet), _merges(sheet))
            sheet.pop("data", None)  # the cells now live in the Tab: not kept twice through the write
        self._meta = {s["properties"]["title"]: s for s in sheets}
        # staleness is judged by the row keys (see _check_keys)
        return Snapshot(tabs, token=tuple(titles), others=others)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AmbiguousWrite as exc:
            raise WriteUnknown(f"không rõ lần ghi đã được áp dụng hay chưa: {exc}", exc.server_error) from None
        except APIError as exc:
            raise refusal(exc, self.account, self.describe()) from None

    # --- write ----------------------------------------------------------------------------------------
    def write(self, snapshot: Snapshot, changes: WriteSet) -> None:
        changes.check_unit_cells()
        if changes.is_empty():
            return
        self._check_keys(snapshot, changes)
        requests_ = bodies.build(self._meta, snapshot, changes, self.account)
        extras, self.notes = bodies.extra(self._meta, requests_, changes, self.account)
        if not (requests_ or extras):
            return
        # the typed input, units' protected rows and filter views ride in the last part (google_requests.extra)
        room = self.max_write_bytes - (len(bodies.body_bytes({"requests": extras})) if extras else 0)
        parts = bodies.split(requests_, max(room, self.max_write_bytes // 2)) or [[]]
        steady = bodies.steady_key_tabs(changes)
        titles = {s["properties"]["sheetId"]: t for t, s in self._meta.items()}
        self.write_bytes = []
        for i, part in enumerate(parts):
            if i:  # the write is split (over 2 MB): rows a part addresses must not have moved since the last
                touched = {titles[sid] for sid in bodies.sheet_ids(part) if sid in titles}
                self._check_keys(snapshot, changes, steady & touched)
            self._send(part, extras if i == len(parts) - 1 else [])

    def _send(self, part: list[bodies.Json], extras: list[dict[str, Any]]) -> None:
        """One spreadsheets.batchUpdate, applied all-or-nothing; a write of the same part again (a redo after an
        unknown outcome) sets the same cells, and the log line, at its fixed row, carries the pass's id."""
        self.write_bytes.append(len(bodies.body_bytes({"requests": part + extras})))
        try:
            self._batch(part, extras)
        except AmbiguousWrite as exc:
            raise WriteUnknown(f"không rõ lần ghi đã được áp dụng hay chưa: {exc}", exc.server_error) from None
        except APIError as exc:
            title = bodies.tab_appeared(message_of(exc.response), part) if exc.response.status_code == 400 else None
            if title is not None:  # nothing was applied (batchUpdate is all-or-nothing): re-read and redo
                raise StaleSnapshot(f"tab '{title}' vừa được tạo trong lúc chạy") from None
            raise refusal(exc, self.account, self.describe()) from None

    def _batch(self, requests_: list[dict[str, Any]], extras: list[dict[str, Any]]) -> None:
        """One batchUpdate; sent again without `extras` (row protection, views) if Google refused one of those."""
        try:
            self.http.batch_update(self.spreadsheet_id, {"requests": requests_ + extras})
        except APIError as exc:
            said = bodies.without_extras(message_of(exc.response), len(requests_), extras) \
                if exc.response.status_code == 400 else None
            if said is None:
                raise
            self.notes.append(said)
            if requests_:
                self.http.batch_update(self.spreadsheet_id, {"requests": requests_})

    def _check_keys(self, snapshot: Snapshot, changes: WriteSet, tabs: set[str] | None = None) -> None:
        """Re-read the columns that say which row is which (of `tabs` only, when given); refuse to write if they
        moved."""
        expected = bodies.key_ranges(self._meta, snapshot, changes, tabs)
        if not expected:
            return
        fresh = self._call(self.http.values_batch_get, self.spreadsheet_id, [name for name, _ in expected],
                           params=dict(bodies.KEYS_PARAMS))
        moved = bodies.keys_moved(expected, fresh)
        if moved is not None:
            raise StaleSnapshot(f"các dòng của {moved} vừa bị thêm, xóa hoặc sắp xếp lại")


def _notes(sheet: dict[str, Any]) -> dict[tuple[int, int], str]:
    notes = {}
    for block in sheet.get("data", []):
        r0, c0 = block.get("startRow", 0), block.get("startColumn", 0)
        for r, row in enumerate(block.get("rowData", []), start=r0 + 1):
            for c, cell in enumerate(row.get("values", []), start=c0 + 1):
                if cell.get("note"):
                    notes[(r, c)] = cell["note"]
    return notes


#: How values.batchGet (UNFORMATTED_VALUE) shows a formula's error, by ErrorValue.type.
ERROR_TEXT = {"NULL_VALUE": "#NULL!", "DIVIDE_BY_ZERO": "#DIV/0!", "VALUE": "#VALUE!", "REF": "#REF!",
              "NAME": "#NAME?", "NUM": "#NUM!", "N_A": "#N/A", "LOADING": "Loading...", "ERROR": "#ERROR!"}


def _values(sheet: dict[str, Any]) -> list[list[Any]]:
    """A tab's values from its grid data (effectiveValue), as values.batchGet answers them: rows from the first,
    "" for an empty cell before the last value of its row, no trailing empty cells or rows (a row holding only a
    note holds no value)."""
    rows: list[list[Any]] = []
    for block in sheet.get("data", []):  # one block from A1: the whole grid (no `ranges` asked)
        for row in block.get("rowData", []):
            line = [_value(cell.get("effectiveValue")) for cell in row.get("values", [])]
            while line and line[-1] == "":
                line.pop()
            rows.append(line)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _value(ev: dict[str, Any] | None) -> Any:
    if not ev:
        return ""
    if "numberValue" in ev:
        return ev["numberValue"]
    if "stringValue" in ev:
        return ev["stringValue"]
    if "boolValue" in ev:
        return ev["boolValue"]
    if "errorValue" in ev:
        return ERROR_TEXT.get(ev["errorValue"].get("type", "ERROR"), "#ERROR!")
    return ""


def _merges(sheet: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges, 1-based and inclusive (the API's GridRange is 0-based, end exclusive, and
    leaves out zero indexes)."""
    return [(m.get("startRowIndex", 0) + 1, m.get("startColumnIndex", 0) + 1, m.get("endRowIndex", 0),
             m.get("endColumnIndex", 0)) for m in sheet.get("merges", [])]

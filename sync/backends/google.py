"""The shared Google Sheet (gspread over google-auth), behind the same Backend interface as the .xlsx.

A pass is at most four HTTP requests whatever the sheet's size:
  1. spreadsheets.get — tab names, ids and sizes, formatting we own, and cell notes (field-masked);
  2. values.batchGet — every tab's values, unformatted (numbers as numbers, dates as serial numbers);
  3. values.batchGet — the row keys (STT, Đơn vị) again, just before writing: if a unit inserted,
     deleted or sorted rows meanwhile, we raise StaleSnapshot and the pass re-reads instead of writing
     flags onto the wrong rows;
  4. spreadsheets.batchUpdate — every write (cells, notes, the dashboard, the log line, formats) in one
     request, which Google applies all-or-nothing.

HTTP goes through gspread's HTTPClient with our own retry policy instead of its BackOffHTTPClient (which
retries forever): 429, 5xx, resets, timeouts and answers cut mid-body are retried with exponential backoff
and jitter, honouring Retry-After, within `google.retry_budget_s` — one budget for the whole command
(sync.budget.Deadline), not one per request; a Retry-After longer than what is left gives up at once.
Every request has `google.timeout_s`. A write whose outcome is unknown (timeout, dropped or cut answer,
5xx on batchUpdate) is not blindly resent: after a server error it waits (growing, jittered), then the
pass re-reads and recomputes, which is safe because every write is idempotent: cells are set, never added
to, and the log line goes to a fixed row (the one below the last the read showed) and carries the pass id
(sync.passlog), so a write landing after its redo's re-read overwrites the same cells. The row-key re-read
also re-reads the log's id column, and an addSheet refused because the tab now exists is a moved workbook.
Every request's timeout is capped at what is left of the budget, so the whole command is bounded.
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Callable

import requests
import urllib3
from google.auth import exceptions as auth_errors
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEETS_API_V4_BASE_URL
from gspread.utils import absolute_range_name, convert_hex_to_colors_dict
from tenacity import RetryCallState, Retrying, retry_if_exception

from ..budget import Deadline
from ..errors import StaleSnapshot, SyncError, Unreachable, UserError, WriteUnknown
from ..schema import FLAG_COLOURS, HEADER_COLOUR
from ..tables import below_merges, last_used_row, letters
from ..workbook import Cell, Snapshot, Styled, Tab, TabFormat, WriteSet
from . import google_render as render

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
GOOGLE_ROOT = SPREADSHEETS_API_V4_BASE_URL.rsplit("/v4/", 1)[0]  # https://sheets.googleapis.com
EPOCH = dt.date(1899, 12, 30)
PROTECTION_TAG = "[CCHC] "
META_FIELDS = ("spreadsheetId,properties.title,sheets(properties(sheetId,title,index,gridProperties),"
               "conditionalFormats,protectedRanges,merges,data.rowData.values.note,charts(chartId,spec.title))")
STYLE_FORMATS = {"title": {"textFormat": {"bold": True, "fontSize": 14}},
                 "subtitle": {"textFormat": {"italic": True}},
                 "section": {"textFormat": {"bold": True, "fontSize": 12}},
                 "header": {"textFormat": {"bold": True},
                            "backgroundColor": dict(convert_hex_to_colors_dict(HEADER_COLOUR))}}
PIXELS_PER_CHAR = 7


class _Ambiguous(Exception):
    """A write that may or may not have been applied (timeout, dropped connection, cut answer or 5xx on
    batchUpdate)."""

    def __init__(self, message: str, server_error: bool = False):
        super().__init__(message)
        self.server_error = server_error


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status  # the HTTP status Google answered, None when no answer came


#: An answer cut mid-body: retried like a dropped connection.
CUT_ANSWER = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
              http.client.IncompleteRead, urllib3.exceptions.ProtocolError)


# --- credentials ----------------------------------------------------------------------------------------

def key_path(configured: Path | None) -> Path:
    env = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if configured and (configured.exists() or not env):
        return configured
    if env:
        return Path(env)
    return Path("credentials.json")


class _StandInCredentials(service_account.Credentials):
    """For `google.api_base_url` (offline trials, tests): no side calls to Google's IAM service.

    google-auth looks up a "regional access boundary" at iamcredentials.googleapis.com after each token
    refresh; against a local stand-in there is no Google to ask, and tests must not leave loopback."""

    def _is_regional_access_boundary_lookup_required(self):
        return False


def load_credentials(path: Path, stand_in: bool = False) -> service_account.Credentials:
    where = (f"Tệp khóa tài khoản dịch vụ '{path}' (khóa cấu hình 'google.credentials_file' "
             "hoặc biến GOOGLE_APPLICATION_CREDENTIALS)")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{where} không tồn tại. Tạo khóa JSON cho tài khoản dịch vụ như README hướng dẫn "
                        "(mục Google Sheets) và lưu vào đường dẫn này.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{where} không phải JSON hợp lệ ({exc}). Tải lại khóa JSON từ Google Cloud Console.") \
            from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else type(info).__name__
        raise UserError(f"{where} không phải khóa của tài khoản dịch vụ ('type' là {kind!r}, cần "
                        "'service_account'). Khóa OAuth của người dùng không dùng được cho tác vụ chạy tự động.")
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise UserError(f"{where} thiếu trường {', '.join(missing)}. Tải lại khóa JSON đầy đủ.")
    try:
        cls = _StandInCredentials if stand_in else service_account.Credentials
        return cls.from_service_account_info(info, scopes=SCOPES)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{where}: 'private_key' không đọc được ({exc}). Tải lại khóa JSON.") from None


def warn_if_shared(path: Path, stream=None) -> bool:
    """Warn (stderr) when other users may read the key file; the command goes on. True if warned."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if os.name != "posix" or not mode & 0o077:
        return False
    print(f"Cảnh báo: tệp khóa tài khoản dịch vụ '{path}' có quyền {mode & 0o777:03o}, người dùng khác trên máy "
          f"có thể đọc hoặc sửa khóa bí mật. Chạy 'chmod 600 {path}' để chỉ chủ tệp đọc được.",
          file=stream or sys.stderr)
    return True


# --- HTTP with a bounded retry policy --------------------------------------------------------------------

class BoundedHTTPClient(HTTPClient):
    """gspread's HTTP layer with timeouts, one retry budget for the whole command and a request count."""

    def __init__(self, credentials, base_url: str | None, timeout_s: float, budget_s: float,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        super().__init__(credentials, session=AuthorizedSession(credentials))
        self.base_url = (base_url or "").rstrip("/")
        self.timeout = timeout_s
        self.budget_s = budget_s
        self.deadline = Deadline(budget_s, clock, sleep)  # shared by every request of this client
        self.calls = 0
        self.write_failures = 0  # server errors answered to our writes, for their growing waits

    def request(self, method, endpoint, params=None, data=None, json=None, files=None, headers=None):
        url = self.base_url + endpoint[len(GOOGLE_ROOT):] if self.base_url and endpoint.startswith(GOOGLE_ROOT) \
            else endpoint
        writes = endpoint.endswith(":batchUpdate") and not endpoint.endswith("values:batchUpdate")
        if params is None or isinstance(params, dict):
            params = {**(params or {}), "prettyPrint": "false"}  # compact answers: a third of the bytes
        retrying = Retrying(retry=retry_if_exception(lambda e: isinstance(e, _Transient)), wait=self._wait,
                            stop=self._out_of_budget, sleep=self.deadline.sleep, reraise=True)
        try:
            return retrying(self._once, method, url, writes, params=params, data=data, json=json, files=files,
                            headers=headers)
        except _Transient as exc:
            raise Unreachable(self._giving_up(exc)) from None
        except _Ambiguous as exc:
            if exc.server_error:
                self._back_off_after_write(exc)
            raise

    def _budget(self) -> str:
        return f"khóa cấu hình 'google.retry_budget_s': {self.budget_s:g} giây cho cả lệnh"

    def _giving_up(self, exc: _Transient) -> str:
        left = self.deadline.left()
        if exc.retry_after is not None and exc.retry_after > left:
            return (f"Google Sheets yêu cầu chờ {exc.retry_after:g} giây (Retry-After) rồi mới thử lại, nhưng thời "
                    f"gian thử lại của lệnh chỉ còn {_seconds(left)} giây ({self._budget()}); dừng ngay thay vì chờ. "
                    f"Câu trả lời cuối của Google: {str(exc).rstrip('.')}.")
        said = str(exc).rstrip(".")
        if exc.status is not None:
            return (f"Google Sheets trả lỗi HTTP {exc.status} liên tục trong {_seconds(self.deadline.spent())} giây "
                    f"thử lại ({self._budget()}); câu trả lời cuối: {said}.")
        return (f"Google Sheets không phản hồi sau {_seconds(self.deadline.spent())} giây thử lại "
                f"({self._budget()}): {said}.")

    def _back_off_after_write(self, exc: _Ambiguous) -> None:
        """A server error answered to a write: wait (growing, jittered) before the pass re-reads and redoes."""
        self.write_failures += 1
        wait = min(1.0 * 2 ** (self.write_failures - 1), 30.0) + random.uniform(0, 1)
        if not self.deadline.allows(wait):
            err = Unreachable(f"Google Sheets trả lỗi máy chủ khi ghi ({exc}) và hết thời gian thử lại "
                              f"({self._budget()}); không rõ lần ghi này đã được áp dụng hay chưa.")
            err.write_unknown = True
            raise err from None
        self.deadline.sleep(wait)

    def _once(self, method, url, writes: bool, **kwargs):
        self.calls += 1
        try:
            response = self.session.request(method=method, url=url, timeout=self.deadline.cap(self.timeout),
                                            **kwargs)
        except requests.exceptions.ConnectTimeout as exc:
            raise _Transient(f"hết thời gian kết nối ({exc.__class__.__name__})") from None
        except CUT_ANSWER as exc:
            if writes:
                raise _Ambiguous(f"câu trả lời cho lần ghi bị cắt giữa chừng ({exc.__class__.__name__})") from None
            raise _Transient(f"câu trả lời bị cắt giữa chừng ({exc.__class__.__name__})") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            if writes:
                raise _Ambiguous(f"mất kết nối hoặc hết thời gian chờ khi đang ghi ({exc.__class__.__name__})") \
                    from None
            raise _Transient(f"mất kết nối hoặc hết thời gian chờ ({exc.__class__.__name__})") from None
        except auth_errors.TransportError as exc:
            raise _Transient(f"không lấy được mã truy cập: {exc}") from None
        except auth_errors.RefreshError as exc:
            raise UserError(f"Google từ chối khóa của tài khoản dịch vụ ({exc}); khóa có thể đã bị xóa hoặc "
                            "vô hiệu hóa. Tạo khóa mới (README, mục Google Sheets).") from None
        if response.ok:
            return response
        status = response.status_code
        if status in (429, 503) or (status >= 500 and not writes):  # 429/503: refused before any change
            retry_after = response.headers.get("Retry-After")
            raise _Transient(f"HTTP {status} {_message(response)}",
                             float(retry_after) if retry_after and retry_after.replace(".", "").isdigit() else None,
                             status)
        if status >= 500:
            raise _Ambiguous(f"lỗi máy chủ Google HTTP {status} {_message(response)}", server_error=True)
        raise APIError(response)

    @staticmethod
    def _wait(state: RetryCallState) -> float:
        exc = state.outcome.exception()
        if getattr(exc, "retry_after", None) is not None:
            return exc.retry_after
        return min(1.0 * 2 ** (state.attempt_number - 1), 30.0) + random.uniform(0, 1)

    def _out_of_budget(self, state: RetryCallState) -> bool:
        return not self.deadline.allows(state.upcoming_sleep or 0.0)


def _seconds(value: float) -> str:
    return f"{round(value, 1):g}"


def _message(response) -> str:
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


# --- the backend -----------------------------------------------------------------------------------------

class GoogleBackend:
    name = "google"

    def __init__(self, spreadsheet_id: str, credentials, api_base_url: str | None = None, timeout_s: float = 30,
                 retry_budget_s: float = 120, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.spreadsheet_id = spreadsheet_id
        self.account = getattr(credentials, "service_account_email", "?")
        self.http = BoundedHTTPClient(credentials, api_base_url, timeout_s, retry_budget_s, sleep, clock)
        self._meta: dict = {}

    @classmethod
    def from_settings(cls, settings, **kw) -> GoogleBackend:
        """`kw` (sleep, clock) lets tests drive the retry budget without waiting."""
        g = settings.google
        path = key_path(g.credentials_file)
        credentials = load_credentials(path, stand_in=bool(g.api_base_url))
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
    def read(self) -> Snapshot:
        meta = self._call(self.http.fetch_sheet_metadata, self.spreadsheet_id,
                          params={"includeGridData": "true", "fields": META_FIELDS})
        sheets = sorted(meta.get("sheets", []), key=lambda s: s["properties"].get("index", 0))
        titles = [s["properties"]["title"] for s in sheets]
        values = self._call(self.http.values_batch_get, self.spreadsheet_id, [absolute_range_name(t) for t in titles],
                            params={"valueRenderOption": "UNFORMATTED_VALUE",
                                    "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"})
        tabs = {}
        for sheet, vr in zip(sheets, values.get("valueRanges", [])):
            title = sheet["properties"]["title"]
            tabs[title] = Tab(title, [list(r) for r in vr.get("values", [])], _notes(sheet), _merges(sheet))
        self._meta = {s["properties"]["title"]: s for s in sheets}
        return Snapshot(tabs, token=tuple(titles))  # staleness is judged by the row keys (see _check_keys)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _Ambiguous as exc:
            raise WriteUnknown(f"không rõ lần ghi đã được áp dụng hay chưa: {exc}", exc.server_error) from None
        except APIError as exc:
            raise self._explain(exc) from None

    def _explain(self, exc: APIError) -> SyncError:
        code = exc.response.status_code
        if code == 403:
            return UserError(f"Tài khoản dịch vụ {self.account} chưa có quyền với {self.describe()}. Mở bảng tính "
                             f"→ Chia sẻ → thêm {self.account} với quyền Người chỉnh sửa.")
        if code == 404:
            return UserError(f"Không tìm thấy {self.describe()} (khóa cấu hình 'google.spreadsheet_id'). Id là "
                             "đoạn giữa '/d/' và '/edit' trong địa chỉ của bảng tính.")
        if code == 401:
            return UserError(f"Google không chấp nhận mã truy cập của {self.account}; kiểm tra khóa tài khoản "
                             "dịch vụ (khóa cấu hình 'google.credentials_file').")
        said = _message(exc.response).rstrip(".")
        if code in (408, 409) or code >= 500:  # timed out or aborted by a concurrent change: try again later
            return Unreachable(f"Google Sheets không hoàn tất yêu cầu (HTTP {code}): {said}. Chạy lại sau ít phút.")
        # Our requests' shape is checked by the tests against the API's rules: a refusal here comes from the
        # sheet's state (a protected range, a tab renamed or removed, the sheet's size limit).
        return UserError(f"Google Sheets từ chối yêu cầu (HTTP {code}): {said}. Bảng tính đang không cho phép thao "
                         f"tác này: kiểm tra {self.describe()} — vùng hoặc tab được bảo vệ (Dữ liệu → Trang tính và "
                         f"dải ô được bảo vệ) có cho {self.account} sửa không, các tab có bị đổi tên hoặc xóa không, "
                         "bảng tính có vượt giới hạn 10 triệu ô không; sửa rồi chạy lại.")

    # --- write ----------------------------------------------------------------------------------------
    def write(self, snapshot: Snapshot, changes: WriteSet) -> None:
        changes.check_unit_cells()
        if changes.is_empty():
            return
        self._check_keys(snapshot, changes)
        requests_ = _Requests(self._meta, snapshot, self.account).build(changes)
        if requests_:
            try:
                self.http.batch_update(self.spreadsheet_id, {"requests": requests_})
            except _Ambiguous as exc:
                raise WriteUnknown(f"không rõ lần ghi đã được áp dụng hay chưa: {exc}", exc.server_error) from None
            except APIError as exc:
                raise _tab_appeared(exc, requests_) or self._explain(exc) from None

    def _check_keys(self, snapshot: Snapshot, changes: WriteSet) -> None:
        """Re-read the columns that say which row is which; refuse to write if they moved."""
        ranges, expected = [], []
        for tab, cols in changes.keys.items():
            if tab not in self._meta:
                continue
            for col in cols:
                letter = letters(col)
                ranges.append(absolute_range_name(tab, f"{letter}:{letter}"))
                expected.append([[r[col - 1]] if len(r) >= col and r[col - 1] not in (None, "") else []
                                 for r in snapshot.tabs[tab].rows])
        if not ranges:
            return
        fresh = self._call(self.http.values_batch_get, self.spreadsheet_id, ranges,
                           params={"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"})
        for name, want, got in zip(ranges, expected, fresh.get("valueRanges", [])):
            if _trim(got.get("values", [])) != _trim(want):
                raise StaleSnapshot(f"các dòng của {name.split('!')[0]} vừa bị thêm, xóa hoặc sắp xếp lại")


def _tab_appeared(exc: APIError, requests_: list[dict]) -> StaleSnapshot | None:
    """A refused addSheet of a tab that now exists (someone, or a late write of ours, made it meanwhile): the
    workbook moved, so the pass re-reads and redoes; nothing was applied (batchUpdate is all-or-nothing)."""
    if exc.response.status_code != 400:
        return None
    found = re.search(r"requests\[(\d+)\]\.addSheet", _message(exc.response))
    if not found or int(found.group(1)) >= len(requests_) or "addSheet" not in requests_[int(found.group(1))]:
        return None
    title = requests_[int(found.group(1))]["addSheet"]["properties"]["title"]
    return StaleSnapshot(f"tab '{title}' vừa được tạo trong lúc chạy")


class _Requests:
    """Turns a WriteSet into the requests of one spreadsheets.batchUpdate."""

    def __init__(self, meta: dict, snapshot: Snapshot, account: str):
        self.account = account
        self.meta = meta
        self.snapshot = snapshot
        self.ids = {t: s["properties"]["sheetId"] for t, s in meta.items()}
        self.size = {t: [s["properties"]["gridProperties"].get("rowCount", 1000),
                         s["properties"]["gridProperties"].get("columnCount", 26)] for t, s in meta.items()}
        self.grown: dict[str, list[int]] = {}
        self.out: list[dict] = []

    def build(self, changes: WriteSet) -> list[dict]:
        body: list[dict] = []
        for name in changes.new_tabs:
            if name not in self.ids:
                self._add_sheet(name)
        for tab, cells in changes.cells.items():
            body += self._cell_runs(tab, {p: {"userEnteredValue": _value(v)} if _value(v) else {}
                                          for p, v in cells.items()}, "userEnteredValue")
            body += self._date_formats(tab, cells)
        for tab, notes in changes.notes.items():
            body += self._cell_runs(tab, {p: {"note": t} if t else {} for p, t in notes.items()}, "note")
        for tab, styled in changes.replace.items():
            body += self._replace(tab, styled)
        for tab, rows in changes.append.items():
            body += self._append(tab, rows)
        for fmt in changes.formats:
            body += self._format(fmt)
        return self.out + self._resizes() + body

    # --- sheets and grid size ---
    def _add_sheet(self, name: str) -> None:
        sheet_id = random.randrange(1, 2 ** 31 - 1)
        while sheet_id in self.ids.values():
            sheet_id = random.randrange(1, 2 ** 31 - 1)
        self.ids[name] = sheet_id
        self.size[name] = [1000, 26]
        self.out.append({"addSheet": {"properties": {"sheetId": sheet_id, "title": name,
                                                     "gridProperties": {"rowCount": 1000, "columnCount": 26}}}})

    def _need(self, tab: str, rows: int, cols: int) -> None:
        size = self.size[tab]
        if rows > size[0] or cols > size[1]:
            size[0], size[1] = max(size[0], rows), max(size[1], cols)
            self.grown[tab] = size

    def _resizes(self) -> list[dict]:
        return [{"updateSheetProperties": {"properties": {"sheetId": self.ids[t],
                                                          "gridProperties": {"rowCount": r, "columnCount": c}},
                                           "fields": "gridProperties.rowCount,gridProperties.columnCount"}}
                for t, (r, c) in self.grown.items()]

    def _append(self, tab: str, rows: list[list[Cell]]) -> list[dict]:
        """Rows added below the last row the snapshot shows, at that fixed place (updateCells, not appendCells):
        the same write sent again, or landing late after a redo sent it again, overwrites the same cells instead
        of adding a second copy (a pass's Nhật ký line appears once whatever its write's fate)."""
        existing = self.snapshot.tabs.get(tab)  # the rows go below its last used row, and below a merge past it
        first = below_merges(existing, last_used_row(existing) + 1) - 1 if existing else 0  # 0-based start
        width = max((len(r) for r in rows), default=1)
        self._need(tab, first + len(rows), width)
        return [{"updateCells": {
            "range": {"sheetId": self.ids[tab], "startRowIndex": first, "endRowIndex": first + len(rows),
                      "startColumnIndex": 0, "endColumnIndex": width},
            "rows": [{"values": [{"userEnteredValue": _value(v)} if _value(v) else {} for v in r]} for r in rows],
            "fields": "userEnteredValue"}}]

    # --- cells and notes: one updateCells per run of adjacent rows in a column ---
    def _cell_runs(self, tab: str, cells: dict[tuple[int, int], dict], fields: str) -> list[dict]:
        out = []
        by_col: dict[int, list[int]] = {}
        for r, c in cells:
            by_col.setdefault(c, []).append(r)
        for c, rows in sorted(by_col.items()):
            rows.sort()
            start = prev = rows[0]
            for r in rows[1:] + [None]:
                if r is not None and r == prev + 1:
                    prev = r
                    continue
                self._need(tab, prev, c)
                out.append({"updateCells": {
                    "range": {"sheetId": self.ids[tab], "startRowIndex": start - 1, "endRowIndex": prev,
                              "startColumnIndex": c - 1, "endColumnIndex": c},
                    "rows": [{"values": [cells[(i, c)]]} for i in range(start, prev + 1)], "fields": fields}})
                start = prev = r
        return out

    def _date_formats(self, tab: str, cells: dict) -> list[dict]:
        return [{"repeatCell": {"range": _cell_range(self.ids[tab], r, c), "fields": "userEnteredFormat.numberFormat",
                                "cell": {"userEnteredFormat": {"numberFormat": {"type": "DATE",
                                                                                "pattern": "dd/mm/yyyy"}}}}}
                for (r, c), v in cells.items() if isinstance(v, (dt.date, dt.datetime))]

    # --- the dashboard: the whole grid rewritten with its styles (google_render) ---
    def _replace(self, tab: str, styled: Styled) -> list[dict]:
        width = max((len(r) for r in styled.rows), default=1)
        self._need(tab, len(styled.rows), max(width, max(styled.widths, default=1)))
        rows_n, cols_n = self.size[tab]
        sid = self.ids[tab]
        rows = []
        for r, values in enumerate(styled.rows, start=1):
            cells = []
            for c, v in enumerate(values, start=1):
                cell = {"userEnteredValue": _value(v)} if _value(v) else {}
                fmt = render.cell_format(styled, r, c, v)
                if fmt:
                    cell["userEnteredFormat"] = fmt
                cells.append(cell)
            rows.append({"values": cells})
        old = self.meta.get(tab, {})
        out = render.unmerge_requests(sid, (rows_n, cols_n))
        out.append({"updateCells": {"range": {"sheetId": sid, "startRowIndex": 0, "endRowIndex": rows_n,
                                              "startColumnIndex": 0, "endColumnIndex": cols_n},
                                    "rows": rows, "fields": "userEnteredValue,userEnteredFormat,note"}})
        out += render.merge_requests(sid, styled)
        out += [_width(sid, c, w) for c, w in styled.widths.items()]
        out += render.chart_requests(sid, styled.chart, old.get("charts", []))
        return out

    # --- formats `init` applies ---
    def _format(self, fmt: TabFormat) -> list[dict]:
        sid = self.ids[fmt.tab]
        rows_n = self.size[fmt.tab][0]
        out: list[dict] = [{"updateSheetProperties": {"properties": {"sheetId": sid, "gridProperties": {
            "frozenRowCount": fmt.frozen_rows}}, "fields": "gridProperties.frozenRowCount"}}]
        out += [_width(sid, c, w) for c, w in fmt.widths.items()]
        header = self.snapshot.tabs.get(fmt.tab)
        header_cols = max(len(header.rows[0]) if header and header.rows else 0, max(fmt.widths, default=1))
        out.append({"repeatCell": {"range": {"sheetId": sid, "startRowIndex": fmt.header_row - 1,
                                             "endRowIndex": fmt.header_row, "startColumnIndex": 0,
                                             "endColumnIndex": header_cols},
                                   "cell": {"userEnteredFormat": {**STYLE_FORMATS["header"], "wrapStrategy": "WRAP",
                                                                  "verticalAlignment": "MIDDLE"}},
                                   "fields": "userEnteredFormat(textFormat.bold,backgroundColor,wrapStrategy,"
                                             "verticalAlignment)"}})
        for c in fmt.wrap_columns:
            out.append({"repeatCell": {"range": {"sheetId": sid, "startRowIndex": fmt.header_row,
                                                 "endRowIndex": rows_n, "startColumnIndex": c - 1,
                                                 "endColumnIndex": c},
                                       "cell": {"userEnteredFormat": {"wrapStrategy": "WRAP",
                                                                      "verticalAlignment": "TOP"}},
                                       "fields": "userEnteredFormat(wrapStrategy,verticalAlignment)"}})
        for dd in fmt.dropdowns:
            self._need(fmt.tab, dd.last_row, dd.column)
            out.append({"setDataValidation": {
                "range": {"sheetId": sid, "startRowIndex": dd.first_row - 1, "endRowIndex": dd.last_row,
                          "startColumnIndex": dd.column - 1, "endColumnIndex": dd.column},
                "rule": {"condition": {"type": "ONE_OF_LIST",
                                       "values": [{"userEnteredValue": v} for v in dd.values]},
                         "inputMessage": "Chọn: " + ", ".join(dd.values), "strict": True, "showCustomUi": True}}})
        if fmt.row_colours:
            out += self._colours(fmt, sid)
        out += self._protection(fmt, sid)
        return out

    def _colours(self, fmt: TabFormat, sid: int) -> list[dict]:
        old = self.meta.get(fmt.tab, {}).get("conditionalFormats", [])
        ours = [i for i, rule in enumerate(old) if _is_ours(rule)]
        out = [{"deleteConditionalFormatRule": {"sheetId": sid, "index": i}} for i in sorted(ours, reverse=True)]
        self._need(fmt.tab, fmt.colour_last_row, fmt.colour_last_col)
        area = {"sheetId": sid, "startRowIndex": fmt.header_row, "endRowIndex": fmt.colour_last_row,
                "startColumnIndex": 0, "endColumnIndex": fmt.colour_last_col}
        col = letters(fmt.colour_column)
        for i, (text, rgb) in enumerate(fmt.row_colours):
            colour = dict(convert_hex_to_colors_dict(rgb))
            out.append({"addConditionalFormatRule": {"index": i, "rule": {"ranges": [area], "booleanRule": {
                "condition": {"type": "CUSTOM_FORMULA", "values": [
                    {"userEnteredValue": f'=ISNUMBER(SEARCH("{text}",${col}{fmt.header_row + 1}))'}]},
                "format": {"backgroundColor": colour}}}}})
        return out

    def _protection(self, fmt: TabFormat, sid: int) -> list[dict]:
        old = self.meta.get(fmt.tab, {}).get("protectedRanges", [])
        out = [{"deleteProtectedRange": {"protectedRangeId": p["protectedRangeId"]}} for p in old
               if (p.get("description") or "").startswith(PROTECTION_TAG)]
        if fmt.protect_tab:
            out.append({"addProtectedRange": {"protectedRange": {
                "range": {"sheetId": sid}, "description": f"{PROTECTION_TAG}Tab do Văn phòng Sở và công cụ quản lý",
                "warningOnly": False, "editors": {"users": [self.account]},
                "unprotectedRanges": [{"sheetId": sid, "startRowIndex": fmt.header_row, "startColumnIndex": c - 1,
                                       "endColumnIndex": c} for c in fmt.editable_columns]}}})
        for c in fmt.protect_columns:
            out.append({"addProtectedRange": {"protectedRange": {
                "range": {"sheetId": sid, "startRowIndex": 0, "startColumnIndex": c - 1, "endColumnIndex": c},
                "description": f"{PROTECTION_TAG}Cột do công cụ ghi tự động; sửa tay sẽ bị ghi đè",
                "warningOnly": True}}})
        return out


def _is_ours(rule: dict) -> bool:
    values = rule.get("booleanRule", {}).get("condition", {}).get("values", [])
    return any(f'SEARCH("{text}"' in (v.get("userEnteredValue") or "") for v in values for text, _ in FLAG_COLOURS)


def _notes(sheet: dict) -> dict[tuple[int, int], str]:
    notes = {}
    for block in sheet.get("data", []):
        r0, c0 = block.get("startRow", 0), block.get("startColumn", 0)
        for r, row in enumerate(block.get("rowData", []), start=r0 + 1):
            for c, cell in enumerate(row.get("values", []), start=c0 + 1):
                if cell.get("note"):
                    notes[(r, c)] = cell["note"]
    return notes


def _merges(sheet: dict) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges, 1-based and inclusive (the API's GridRange is 0-based, end exclusive, and
    leaves out zero indexes)."""
    return [(m.get("startRowIndex", 0) + 1, m.get("startColumnIndex", 0) + 1, m.get("endRowIndex", 0),
             m.get("endColumnIndex", 0)) for m in sheet.get("merges", [])]


def _value(v: Cell) -> dict | None:
    """RAW CellData: text stays text (a leading '=' never becomes a formula), dates become serial numbers."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, (int, float)):
        return {"numberValue": v}
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return {"numberValue": (v - EPOCH).days}
    return {"stringValue": str(v)}


def _width(sid: int, col: int, chars: float) -> dict:
    return {"updateDimensionProperties": {"range": {"sheetId": sid, "dimension": "COLUMNS", "startIndex": col - 1,
                                                    "endIndex": col},
                                          "properties": {"pixelSize": int(chars * PIXELS_PER_CHAR)},
                                          "fields": "pixelSize"}}


def _cell_range(sid: int, r: int, c: int) -> dict:
    return {"sheetId": sid, "startRowIndex": r - 1, "endRowIndex": r, "startColumnIndex": c - 1, "endColumnIndex": c}


def _trim(rows: list[list]) -> list[list]:
    rows = [[v for v in r if v not in (None, "")] for r in rows]
    while rows and not rows[-1]:
        rows.pop()
    return rows


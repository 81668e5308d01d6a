"""The Google HTTP layer: the service account's key and session, and gspread's HTTPClient with timeouts, one
retry budget for the command, and a count.

The service account: where its key file is, the key read and checked, and the HTTP session it signs. Every
message names the file and says how to fix it (exit 2). The session is google-auth's public
`AuthorizedSession`; with `google.api_base_url` (offline trials, tests against the stand-in) both the session
and the one google-auth uses for its own calls (the token, the regional access boundary lookup it makes after
each token refresh) only reach the stand-in's host: nothing leaves for Google, through public API only
(a requests transport adapter), not by overriding a method of google-auth.

gspread lets a client bring its own HTTP layer by subclassing `HTTPClient` and overriding `request` (its own
`BackOffHTTPClient` does so, but retries forever); this one retries 429, 5xx, resets, timeouts and answers cut
mid-body with exponential backoff and jitter (tenacity), honouring Retry-After, within `google.retry_budget_s`
— one budget for the whole command (`Deadline`, below), not one per request: a Retry-After longer than what is
left gives up at once, and every request's timeout is capped at what is left.

A write whose outcome is unknown (timeout, dropped or cut answer, 5xx on spreadsheets.batchUpdate) is not
resent here: it raises `AmbiguousWrite` (after a server error, once a growing, jittered wait is taken) and the
pass re-reads and recomputes (sync.usecases.pipeline), which is safe because every write is idempotent.

Outcomes, each with its exit code: given up after retries → `Unreachable` (3) saying what Google last
answered; any other refusal → gspread's `APIError`, which `refusal` turns into the message the Office reads
(403/404/401 and other 4xx → `UserError`, 2, saying what to check; 408/409 → `Unreachable`, 3).

The time budget (`Deadline`) is shared by every request of one command: four requests answered 429 three times
each share one budget, they do not get one each. Each request's own timeout is also capped at what is left
(`cap`), so a slow server cannot stretch the command past its budget. Time spent is measured on the clock only;
a test that fakes `sleep` fakes the clock with it (a clock that moves by the waits it took), so production code
has one notion of time.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import requests
import urllib3
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEETS_API_V4_BASE_URL
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from sync.backends.google_requests import body_bytes
from sync.core.errors import SyncError, Unreachable, UserError, WriteGaveUp

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]


def key_path(configured: Path | None) -> Path:
    """The key file: the configured one if it exists (or nothing else is set), else GOOGLE_APPLICATION_CREDENTIALS."""
    env = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if configured and (configured.exists() or not env):
        return configured
    if env:
        return Path(env)
    return Path("credentials.json")


def load_credentials(path: Path) -> service_account.Credentials:
    """The service account's credentials for the spreadsheets scope; UserError (exit 2) naming the file if not."""
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
        credentials: service_account.Credentials = service_account.Credentials.from_service_account_info(
            info, scopes=SCOPES)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{where}: 'private_key' không đọc được ({exc}). Tải lại khóa JSON.") from None
    return credentials


def warn_if_shared(path: Path, stream: TextIO | None = None) -> bool:
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


class OnlyHosts(requests.adapters.HTTPAdapter):
    """A requests transport that sends only to the given hosts and refuses any other without touching the network
    (a ConnectionError, as for a host that cannot be reached)."""

    __attrs__ = [*requests.adapters.HTTPAdapter.__attrs__, "hosts"]  # kept when google-auth copies the session

    def __init__(self, hosts: frozenset[str], **kwargs: Any):
        self.hosts = hosts
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        host = urlsplit(request.url or "").hostname or ""
        if host not in self.hosts:
            raise requests.exceptions.ConnectionError(
                f"offline trial (google.api_base_url): {host} is not contacted", request=request)
        return super().send(request, *args, **kwargs)


def confined_session(hosts: frozenset[str]) -> requests.Session:
    """A plain requests session that reaches only `hosts` (google-auth's own calls in an offline trial)."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and a local stand-in
    for scheme in ("http://", "https://"):
        session.mount(scheme, OnlyHosts(hosts))
    return session


def authorized_session(credentials: Credentials, api_base_url: str | None = None
                       ) -> AuthorizedSession:
    """The session Sheets requests go through. With `api_base_url`, it and google-auth's own calls reach only
    that URL's host (the key's token_uri must be there too, as the stand-in's keys have it)."""
    if not api_base_url:
        return AuthorizedSession(credentials)
    hosts = frozenset({urlsplit(api_base_url).hostname or ""})
    session = AuthorizedSession(credentials, auth_request=Request(confined_session(hosts)))
    session.trust_env = False
    for scheme in ("http://", "https://"):
        session.mount(scheme, OnlyHosts(hosts))
    return session


#: The least time a request is given, even when the budget is (nearly) spent: one last try can still answer.
MIN_REQUEST_S = 1.0


class Deadline:
    def __init__(self, budget_s: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.budget_s = budget_s
        self.clock = clock
        self._sleep = sleep
        self.started = clock()

    def spent(self) -> float:
        return self.clock() - self.started

    def left(self) -> float:
        return max(self.budget_s - self.spent(), 0.0)

    def allows(self, wait_s: float) -> bool:
        """True if waiting `wait_s` seconds still ends within the budget."""
        return wait_s <= self.left()

    def cap(self, timeout_s: float) -> float:
        """A request's timeout: `timeout_s`, but no longer than what is left (and at least MIN_REQUEST_S)."""
        return min(timeout_s, max(self.left(), MIN_REQUEST_S))

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)


GOOGLE_ROOT = SPREADSHEETS_API_V4_BASE_URL.rsplit("/v4/", 1)[0]  # https://sheets.googleapis.com
#: The longest backoff between two tries, before jitter.
MAX_BACKOFF_S = 30.0

#: An answer cut mid-body: retried like a dropped connection.
CUT_ANSWER = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
              http.client.IncompleteRead, urllib3.exceptions.ProtocolError)


class AmbiguousWrite(Exception):
    """A write that may or may not have been applied (timeout, dropped connection, cut answer or 5xx on
    batchUpdate)."""

    def __init__(self, message: str, server_error: bool = False):
        super().__init__(message)
        self.server_error = server_error


class Transient(Exception):
    """A failure worth another try: nothing was changed, or it was a read."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status  # the HTTP status Google answered, None when no answer came


def backoff(attempt: int) -> float:
    """The wait before try `attempt + 1`: 1, 2, 4 … s up to MAX_BACKOFF_S, plus up to 1 s of jitter."""
    return float(min(2.0 ** (attempt - 1), MAX_BACKOFF_S) + random.uniform(0, 1))


class BoundedHTTPClient(HTTPClient):
    """gspread's HTTP layer with timeouts, one retry budget for the whole command and a request count.

    `session` is the requests session to send with (by default google-auth's AuthorizedSession for
    `credentials`); `base_url` replaces https://sheets.googleapis.com (the stand-in); `sleep` and `clock` are
    the budget's (tests pass fakes: no waiting)."""

    def __init__(self, credentials: Credentials, base_url: str | None, timeout_s: float, budget_s: float,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 session: requests.Session | None = None):
        super().__init__(credentials, session=session or authorized_session(credentials, base_url))
        self.base_url = (base_url or "").rstrip("/")
        self.timeout_s = timeout_s
        self.budget_s = budget_s
        self.deadline = Deadline(budget_s, clock, sleep)  # shared by every request of this client
        self.calls = 0
        self.write_failures = 0  # server errors answered to our writes, for their growing waits

    def request(self, method: str, endpoint: str, params: Any = None, data: Any = None,
                json: Mapping[str, Any] | None = None, files: Any = None,
                headers: Any = None) -> requests.Response:
        url = self.base_url + endpoint[len(GOOGLE_ROOT):] if self.base_url and endpoint.startswith(GOOGLE_ROOT) \
            else endpoint
        writes = endpoint.endswith(":batchUpdate") and not endpoint.endswith("values:batchUpdate")
        if params is None or isinstance(params, dict):
            params = {**(params or {}), "prettyPrint": "false"}  # compact answers: a third of the bytes
        if json is not None and data is None:  # compact UTF-8, not requests' \uXXXX: a Vietnamese write's half
            data, json = body_bytes(json), None
            headers = {**(headers or {}), "Content-Type": "application/json; charset=UTF-8"}
        retrying = Retrying(retry=retry_if_exception_type(Transient), wait=self._wait, stop=self._out_of_budget,
                            sleep=self.deadline.sleep, reraise=True)
        try:
            return retrying(self._once, method, url, writes, params=params, data=data, json=json, files=files,
                            headers=headers)
        except Transient as exc:
            raise Unreachable(self._giving_up(exc)) from None
        except AmbiguousWrite as exc:
            if exc.server_error:
                self._back_off_after_write(exc)
            raise

    def _budget(self) -> str:
        return f"khóa cấu hình 'google.retry_budget_s': {self.budget_s:g} giây cho cả lệnh"

    def _giving_up(self, exc: Transient) -> str:
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

    def _back_off_after_write(self, exc: AmbiguousWrite) -> None:
        """A server error answered to a write: wait (growing, jittered) before the pass re-reads and redoes."""
        self.write_failures += 1
        wait = backoff(self.write_failures)
        if not self.deadline.allows(wait):
            raise WriteGaveUp(f"Google Sheets trả lỗi máy chủ khi ghi ({exc}) và hết thời gian thử lại "
                              f"({self._budget()}); không rõ lần ghi này đã được áp dụng hay chưa.") from None
        self.deadline.sleep(wait)

    def _once(self, method: str, url: str, writes: bool, **kwargs: Any) -> requests.Response:
        self.calls += 1
        try:
            response = self.session.request(method=method, url=url, timeout=self.deadline.cap(self.timeout_s),
                                            **kwargs)
        except requests.exceptions.ConnectTimeout as exc:
            raise Transient(f"hết thời gian kết nối ({exc.__class__.__name__})") from None
        except CUT_ANSWER as exc:
            if writes:
                raise AmbiguousWrite(f"câu trả lời cho lần ghi bị cắt giữa chừng ({exc.__class__.__name__})") \
                    from None
            raise Transient(f"câu trả lời bị cắt giữa chừng ({exc.__class__.__name__})") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            if writes:
                raise AmbiguousWrite(f"mất kết nối hoặc hết thời gian chờ khi đang ghi ({exc.__class__.__name__})") \
                    from None
            raise Transient(f"mất kết nối hoặc hết thời gian chờ ({exc.__class__.__name__})") from None
        except auth_errors.TransportError as exc:
            raise Transient(f"không lấy được mã truy cập: {exc}") from None
        except auth_errors.RefreshError as exc:
            raise UserError(f"Google từ chối khóa của tài khoản dịch vụ ({exc}); khóa có thể đã bị xóa hoặc "
                            "vô hiệu hóa. Tạo khóa mới (README, mục Google Sheets).") from None
        if response.ok:
            return response
        status = response.status_code
        if status in (429, 503) or (status >= 500 and not writes):  # 429/503: refused before any change
            retry_after = response.headers.get("Retry-After")
            raise Transient(f"HTTP {status} {message_of(response)}", _seconds_or_none(retry_after), status)
        if status >= 500:
            raise AmbiguousWrite(f"lỗi máy chủ Google HTTP {status} {message_of(response)}", server_error=True)
        raise APIError(response)

    @staticmethod
    def _wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return exc.retry_after
        return backoff(state.attempt_number)

    def _out_of_budget(self, state: RetryCallState) -> bool:
        return not self.deadline.allows(state.upcoming_sleep or 0.0)


def refusal(exc: APIError, account: str, sheet: str) -> SyncError:
    """What a refused request means for the Office, with its exit code: `sheet` is where (for messages)."""
    code = exc.response.status_code
    if code == 403:
        return UserError(f"Tài khoản dịch vụ {account} chưa có quyền với {sheet}. Mở bảng tính "
                         f"→ Chia sẻ → thêm {account} với quyền Người chỉnh sửa.")
    if code == 404:
        return UserError(f"Không tìm thấy {sheet} (khóa cấu hình 'google.spreadsheet_id'). Id là "
                         "đoạn giữa '/d/' và '/edit' trong địa chỉ của bảng tính.")
    if code == 401:
        return UserError(f"Google không chấp nhận mã truy cập của {account}; kiểm tra khóa tài khoản "
                         "dịch vụ (khóa cấu hình 'google.credentials_file').")
    said = message_of(exc.response).rstrip(".")
    if code in (408, 409) or code >= 500:  # timed out or aborted by a concurrent change: try again later
        return Unreachable(f"Google Sheets không hoàn tất yêu cầu (HTTP {code}): {said}. Chạy lại sau ít phút.")
    # Our requests' shape is checked by the tests against the API's rules: a refusal here comes from the
    # sheet's state (a protected range, a tab renamed or removed, the sheet's size limit).
    return UserError(f"Google Sheets từ chối yêu cầu (HTTP {code}): {said}. Bảng tính đang không cho phép thao "
                     f"tác này: kiểm tra {sheet} — vùng hoặc tab được bảo vệ (Dữ liệu → Trang tính và "
                     f"dải ô được bảo vệ) có cho {account} sửa không, các tab có bị đổi tên hoặc xóa không, "
                     "bảng tính có vượt giới hạn 10 triệu ô không; sửa rồi chạy lại.")


def message_of(response: requests.Response) -> str:
    """Google's error message from its envelope, else the start of the body."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _seconds_or_none(header: str | None) -> float | None:
    return float(header) if header and header.replace(".", "").isdigit() else None


def _seconds(value: float) -> str:
    return f"{round(value, 1):g}"

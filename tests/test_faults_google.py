"""Faults of the network around the Google Sheet, through the real gspread client over real HTTP to the stand-in.

Each case injects a fault in the stand-in (429 storms, late-landing writes, answers cut mid-body, server
errors on the write) and asserts the exit code, the message, the number of requests, that each pass has
exactly one `Nhật ký` line, and that no cell a unit typed changed. Waits go through a fake sleep (counted,
never waited for); the order of concurrent events is made certain by the stand-in's `hold`/`done` hooks.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading

import openpyxl
import pytest

from sync.backends.google import GoogleBackend
from sync.backends.google_http import load_credentials, warn_if_shared
from sync.backends.local import LocalBackend
from sync.core.history import AsOf
from sync.core.schema import LOG_COLUMNS, TRACKING_COLUMNS, UNIT_COLUMNS, Layout
from sync.sheet.sync_pass import PassOptions
from sync.usecases.demo import seed
from sync.usecases.pipeline import run_pass

from .conftest import AS_OF
from .google_helpers import SPREADSHEET_ID, Waits, answer_late_quickly, write_key
from .sheets_api import SheetsAPI, serve
from .sheets_api.store import freeze, thaw
from .test_google import api, key  # noqa: F401  (fixtures: the stand-in on a free port, its key)

NOW = dt.datetime(2024, 9, 20, 8, 0)
#: Requests of a pass on the plan's 76 rows: one read of values and notes, the row keys' re-read, the write.
PASS = 3
PASS_ID = re.compile(r"mã ([0-9a-f]{12})")
ID_HEADER = LOG_COLUMNS["pass_id"]


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Every wait the Google backend takes during a command, recorded instead of slept (its clock moves by them)."""
    taken = Waits()
    original = GoogleBackend.from_settings.__func__
    monkeypatch.setattr(GoogleBackend, "from_settings",
                        classmethod(lambda cls, settings: original(cls, settings, sleep=taken.sleep,
                                                                   clock=taken.clock)))
    return taken


@pytest.fixture(scope="module")
def seeded_book(plan, tmp_path_factory) -> bytes:
    """The sheet after `init` and the units' sample entries, made once through the backend on a stand-in of its
    own, frozen; each test gets a copy of it (seeding is a second of HTTP that every test would otherwise pay)."""
    state = SheetsAPI()
    server, _ = serve(state)
    base = f"http://127.0.0.1:{server.server_port}"
    key_file = write_key(tmp_path_factory.mktemp("seed") / "k.json", base + "/token")
    seed(GoogleBackend(SPREADSHEET_ID, load_credentials(key_file), base), plan, AS_OF)
    server.stop()
    return freeze(state.store.books[SPREADSHEET_ID])


def seeded(api, frozen: bytes) -> None:
    api.store.books[SPREADSHEET_ID] = thaw(frozen)


@pytest.fixture
def google(project, api, key, seeded_book, waits):
    """A project on `backend: google` against the stand-in, its sheet seeded with the units' sample entries."""
    configure(project, api, key)
    seeded(api, seeded_book)
    return project


@pytest.fixture
def quick_late(api, monkeypatch):
    """The tests whose point is a write that lands after the client gave up: that write waits LATE_S for its
    answer, the other requests the configured timeout (google_helpers.answer_late_quickly)."""
    answer_late_quickly(api, monkeypatch)


#: The configured request timeout: as long as the budget, so that no request times out because the machine is
#: loaded (a 2 s timeout once made a held re-read time out and retry). A test whose point is a request the
#: client gives up on meets a `late` fault and waits LATE_S for it (quick_late), or sets its own timeout.
PATIENT_S = 20


def configure(project, api, key, **google) -> None:
    project.write_config({"backend": "google", "state": str(project.root / "state.sqlite"),
                          "google": {"spreadsheet_id": SPREADSHEET_ID, "credentials_file": str(key),
                                     "api_base_url": api.base_url, "timeout_s": PATIENT_S, "retry_budget_s": 20,
                                     **google}})


def values(api, tab: str) -> list[list]:
    return api.store.values_get(api.store.books[SPREADSHEET_ID], f"'{tab}'")["values"]


def unit_cells(api) -> dict:
    """Every cell of the columns units type in (and the row keys), by row and header."""
    rows = values(api, "Theo dõi")
    head = rows[0]
    keep = {TRACKING_COLUMNS[k] for k in (*UNIT_COLUMNS, "stt", "unit", "task")}
    return {(r, h): v for r, row in enumerate(rows[1:], start=2) for h, v in zip(head, row, strict=False)
            if h in keep and v not in ("", None)}  # rows come back ragged: an empty cell is ""


def log_lines(api) -> list[list]:
    return values(api, "Nhật ký")[1:]


def lines_of(api, pass_id: str) -> list[list]:
    return [line for line in log_lines(api) if pass_id in line]


def run(project, *extra: str) -> tuple[int, str, str]:
    return project.cli("run", "--as-of", AS_OF.isoformat(), "--json", *extra)


def requests_since(api, start: int) -> list:
    return api.api_requests()[start:]


# --- a normal pass ---------------------------------------------------------------------------------------

def test_a_normal_pass_is_three_requests_and_logs_its_id(google, api):
    before, start = unit_cells(api), len(api.api_requests())
    code, out, err = run(google)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["api_calls"] == len(requests_since(api, start)) == PASS == 3
    assert re.fullmatch(r"[0-9a-f]{12}", summary["pass_id"])
    assert values(api, "Nhật ký")[0][-1] == ID_HEADER
    [line] = log_lines(api)
    assert line[-1] == summary["pass_id"] and line[1] == AS_OF.strftime("%d/%m/%Y")
    code, out, _ = run(google)
    assert code == 0 and json.loads(out)["pass_id"] != summary["pass_id"]  # a new pass, a new id
    assert len(log_lines(api)) == 2
    assert unit_cells(api) == before


# --- writes that land although we got no answer ------------------------------------------------------------

def _order_rereads(api, late, gets_to_hold: set[int]):
    """Hold the n-th GET (n in gets_to_hold) until one more late write has landed: re-read after it."""
    count = iter(range(1, 10 ** 6))
    api.fault(method="GET", path="/v4/", times=10 ** 6,
              hold=lambda: next(count) in gets_to_hold and late.done.acquire(timeout=30))


def test_a_write_landing_after_the_timeout_is_logged_once(google, api, quick_late):
    before, start = unit_cells(api), len(api.api_requests())
    late = api.fault(late=True, method="POST", path=":batchUpdate")
    _order_rereads(api, late, {PASS})  # attempt 2's first GET (its read) comes after the late write landed
    code, out, err = run(google)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["attempts"] == 2 and summary["api_calls"] == 2 * PASS
    assert len(requests_since(api, start)) == 2 * PASS
    assert "Lần ghi 1 đã được áp dụng dù không nhận được trả lời" in err and summary["pass_id"] in err
    assert "hết thời gian chờ khi đang ghi (ReadTimeout)" in err  # the client gave up waiting: the point
    assert len(lines_of(api, summary["pass_id"])) == 1 and len(log_lines(api)) == 1
    assert unit_cells(api) == before


def test_three_late_writes_exit_3_saying_what_landed(google, api, quick_late):
    before, start = unit_cells(api), len(api.api_requests())
    late = api.fault(late=True, method="POST", path=":batchUpdate", times=3)
    _order_rereads(api, late, {PASS, 2 * PASS - 1})  # the reads of attempts 2 and 3 (2 GETs an attempt)
    code, out, err = run(google)
    assert late.done.acquire(timeout=30)  # the third write lands after the command gave up: wait for it
    assert code == 3 and out == ""
    pass_id = PASS_ID.search(err).group(1)
    assert "lần ghi không nhận được trả lời (3/3 lần thử" in err
    assert (f"Lượt chạy mã {pass_id}: lần ghi 1 đã được áp dụng (dòng mã {pass_id} có trong tab 'Nhật ký'); "
            "không rõ lần ghi 2, 3 đã được áp dụng hay chưa.") in err
    assert "chưa ghi gì" not in err and "thay đổi liên tục" not in err
    assert len(requests_since(api, start)) == 3 * PASS
    assert len(lines_of(api, pass_id)) == 1 and len(log_lines(api)) == 1
    assert unit_cells(api) == before


def test_giving_up_after_an_unanswered_write_says_its_outcome_is_unknown(google, api, quick_late, waits):
    before, start = unit_cells(api), len(api.api_requests())
    late = api.fault(late=True, method="POST", path=":batchUpdate")
    api.fault(status=429, retry_after=100, method="GET", path="/v4/", skip=PASS - 1)  # the re-read: come back later
    code, out, err = run(google)
    assert late.done.acquire(timeout=30)  # join the late write before looking at the sheet
    assert code == 3 and out == "" and waits == []
    assert "yêu cầu chờ 100 giây (Retry-After)" in err
    assert 0 < float(re.search(r"chỉ còn ([\d.]+) giây", err).group(1)) <= 20  # what the late write left of it
    pass_id = PASS_ID.search(err).group(1)
    assert (f"Lượt chạy mã {pass_id}: không rõ lần ghi 1 đã được áp dụng hay chưa (nếu đã áp dụng, tab 'Nhật ký' "
            f"có dòng mã {pass_id}).") in err and "chưa ghi gì" not in err
    assert len(requests_since(api, start)) == PASS + 1
    assert len(lines_of(api, pass_id)) == 1 and len(log_lines(api)) == 1  # it had landed: the message said maybe
    assert unit_cells(api) == before


def _late_until(api, **fault):
    """Attempt 1's write times out and lands only when the request `fault` matches is handled (it is held until
    then): the order of the late write and that request is certain."""
    go = threading.Event()
    late = api.fault(late=True, method="POST", path=":batchUpdate", hold=lambda: go.wait(30))
    api.fault(**fault, hold=lambda: (go.set(), late.done.acquire(timeout=30)))
    return late


def _drop_log_tab(api) -> None:
    book = api.store.books[SPREADSHEET_ID]
    book.sheets.remove(book.sheet(title="Nhật ký"))
    for i, sheet in enumerate(book.sheets):
        sheet.index = i


@pytest.mark.parametrize("new_tab", [False, True], ids=["log-tab-exists", "pass-creates-log-tab"])
def test_a_late_write_landing_after_the_re_read_is_logged_once(google, api, quick_late, new_tab):
    """Attempt 2 read the values without the line; then attempt 1's write lands, before attempt 2's row-key
    re-read (request 3 of attempt 2): the re-read sees the line's id (or the new tab) and the pass redoes."""
    if new_tab:
        _drop_log_tab(api)
    before, start = unit_cells(api), len(api.api_requests())
    _late_until(api, path="values:batchGet", skip=1)  # attempt 2's row-key re-read (the second batchGet)
    code, out, err = run(google)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["attempts"] == 3
    assert "Lần ghi 1 đã được áp dụng dù không nhận được trả lời" in err and summary["pass_id"] in err
    if new_tab:
        assert "tab 'Nhật ký' vừa được tạo trong lúc chạy" in err
    assert len(lines_of(api, summary["pass_id"])) == 1 and len(log_lines(api)) == 1
    assert summary["api_calls"] == len(requests_since(api, start)) <= 3 * PASS
    assert unit_cells(api) == before


@pytest.mark.parametrize("new_tab", [False, True], ids=["log-tab-exists", "pass-creates-log-tab"])
def test_a_late_write_landing_just_before_the_redo_writes_is_overwritten_not_doubled(google, api, quick_late, new_tab):
    """Attempt 2 read everything (keys too) before attempt 1's write landed; attempt 2's write, sent after it
    landed, puts the line at the same fixed row (or finds the tab made, and redoes)."""
    if new_tab:
        _drop_log_tab(api)
    before = unit_cells(api)
    _late_until(api, method="POST", path=":batchUpdate")  # attempt 2's write
    code, out, err = run(google)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["attempts"] == (3 if new_tab else 2)
    assert len(lines_of(api, summary["pass_id"])) == 1 and len(log_lines(api)) == 1
    assert values(api, "Nhật ký")[0][-1] == ID_HEADER
    assert unit_cells(api) == before


def test_an_unanswered_write_stays_unknown_after_a_re_read_that_missed_it(google, api, quick_late, waits):
    """The late write lands after attempt 2 read the values; attempt 2's row-key re-read is refused for long:
    the exit message must not say nothing was written (the tab holds the pass's line)."""
    _late_until(api, path="values:batchGet", skip=1, status=429, retry_after=100)
    code, out, err = run(google)
    assert code == 3 and out == ""
    pass_id = PASS_ID.search(err).group(1)
    assert (f"Lượt chạy mã {pass_id}: không rõ lần ghi 1 đã được áp dụng hay chưa (nếu đã áp dụng, tab 'Nhật ký' "
            f"có dòng mã {pass_id}).") in err and "chưa ghi gì" not in err
    assert len(lines_of(api, pass_id)) == 1 and len(log_lines(api)) == 1


def test_a_cut_answer_to_the_write_is_checked_by_re_reading(google, api):
    before, start = unit_cells(api), len(api.api_requests())
    api.fault(truncate=12, method="POST", path=":batchUpdate")  # applied, then its answer cut mid-body
    code, out, err = run(google)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["attempts"] == 2 and summary["api_calls"] == len(requests_since(api, start)) == 2 * PASS
    assert "câu trả lời cho lần ghi bị cắt giữa chừng (ChunkedEncodingError)" in err
    assert "Lần ghi 1 đã được áp dụng" in err
    assert len(log_lines(api)) == 1 and lines_of(api, summary["pass_id"])
    assert unit_cells(api) == before


def test_a_cut_answer_to_a_read_is_retried_like_a_dropped_connection(google, api, waits):
    start = len(api.api_requests())
    api.fault(truncate=30, path="values:batchGet")  # the row keys' re-read
    code, out, err = run(google)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["attempts"] == 1 and summary["api_calls"] == len(requests_since(api, start)) == PASS + 1
    assert len(waits) == 1 and 1 <= waits[0] <= 2
    assert len(log_lines(api)) == 1


# --- the retry budget is the command's --------------------------------------------------------------------

def test_429_storm_stops_when_retry_after_exceeds_what_is_left(google, api, waits):
    before, start = unit_cells(api), len(api.api_requests())
    api.fault(status=429, retry_after=6, method="GET", path="/v4/", times=3)  # the tab list, three times
    api.fault(status=429, retry_after=6, path="values:batchGet", times=6)  # the values and the row keys
    api.fault(status=429, retry_after=6, method="POST", path=":batchUpdate", times=3)  # the write
    code, out, err = run(google)
    assert code == 3 and out == ""
    assert waits == [6, 6, 6]  # the first request's three waits: 18 of the 20 s
    said = re.search(r"Google Sheets yêu cầu chờ 6 giây \(Retry-After\) rồi mới thử lại, nhưng thời gian thử lại "
                     r"của lệnh chỉ còn ([\d.]+) giây \(khóa cấu hình 'google.retry_budget_s': 20 giây cho cả lệnh\); "
                     r"dừng ngay thay vì chờ\.", err)
    assert said and 0 < float(said.group(1)) <= 2  # 20 s less the 18 s waited, less the requests' own time
    assert "chưa ghi gì vào bảng tính" in err
    made = requests_since(api, start)
    assert [(e.method, e.status) for e in made] == [("GET", 429)] * 3 + [("GET", 200), ("GET", 429)]
    assert log_lines(api) == [] and unit_cells(api) == before


def test_budget_is_shared_by_every_request_of_the_command(google, api, waits):
    start = len(api.api_requests())
    api.fault(status=503, method="GET", path="/v4/", times=10 ** 6)  # every read refused: backoff to the end
    code, _, err = run(google)
    assert code == 3 and "google.retry_budget_s': 20 giây cho cả lệnh" in err and "HTTP 503" in err
    assert sum(waits) <= 20 and len(requests_since(api, start)) == len(waits) + 1
    assert all(b >= a - 1 for a, b in zip(waits, waits[1:], strict=False))  # growing (jitter below 1 s)


# --- server errors on the write -------------------------------------------------------------------------

def test_a_server_error_on_the_write_backs_off_and_redoes_once(google, api, waits):
    before, start = unit_cells(api), len(api.api_requests())
    api.fault(status=500, method="POST", path=":batchUpdate")
    code, out, err = run(google)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["attempts"] == 2 and summary["api_calls"] == len(requests_since(api, start)) == 2 * PASS
    assert len(waits) == 1 and 1 <= waits[0] <= 2
    assert "lỗi máy chủ Google HTTP 500" in err and "đã đọc lại" in err
    assert len(log_lines(api)) == 1 and lines_of(api, summary["pass_id"])
    assert unit_cells(api) == before


def test_server_errors_on_every_write_are_reported_as_such(google, api, waits):
    before, start = unit_cells(api), len(api.api_requests())
    api.fault(status=500, method="POST", path=":batchUpdate", times=10 ** 6)
    code, out, err = run(google)
    assert code == 3 and out == ""
    assert "Google trả lỗi máy chủ khi ghi (3/3 lần thử; lần cuối: không rõ lần ghi đã được áp dụng hay chưa: " \
           "lỗi máy chủ Google HTTP 500 Internal error.)" in err
    pass_id = PASS_ID.search(err).group(1)
    # A re-read without the line does not settle an unanswered write: it may still land later.
    assert (f"không rõ lần ghi 1, 2, 3 đã được áp dụng hay chưa (nếu đã áp dụng, tab 'Nhật ký' có dòng mã "
            f"{pass_id})") in err
    assert "thay đổi liên tục" not in err
    assert len(waits) == 3 and all(b > a for a, b in zip(waits, waits[1:], strict=False))
    assert len(requests_since(api, start)) == 3 * PASS
    assert log_lines(api) == [] and unit_cells(api) == before


def test_server_errors_on_the_write_past_the_budget_say_the_outcome_is_unknown(google, api, key, waits,
                                                                                 monkeypatch):
    # the budget runs out in the recorded waits between retries of the write, on a clock that moves by them
    # alone: the real time the reads take (a second or more on a loaded machine) never spends it first
    monkeypatch.setattr(waits, "clock", waits.recorded_clock)
    configure(google, api, key, retry_budget_s=1.5)
    api.fault(status=500, method="POST", path=":batchUpdate", times=10 ** 6)
    code, _, err = run(google)
    assert code == 3
    pass_id = PASS_ID.search(err).group(1)
    assert "trả lỗi máy chủ khi ghi" in err and "HTTP 500" in err and "hết thời gian thử lại" in err
    assert "không rõ lần ghi" in err and pass_id in err and "chưa ghi gì" not in err
    assert sum(waits) <= 1.5 and log_lines(api) == []


# --- refusals and give-up wording ------------------------------------------------------------------------

def test_a_refused_write_is_the_sheets_state_exit_2_saying_what_to_check(google, api):
    before = unit_cells(api)
    api.fault(status=400, method="POST", path=":batchUpdate")  # e.g. a protected range
    code, out, err = run(google)
    assert code == 2 and out == ""
    assert "Google Sheets từ chối yêu cầu (HTTP 400): You are trying to edit a protected cell or object" in err
    assert "được bảo vệ" in err and "sửa rồi chạy lại" in err
    assert log_lines(api) == [] and unit_cells(api) == before


@pytest.mark.parametrize("fault, said", [
    (dict(status=429, method="GET", path="/v4/", times=10 ** 6), "HTTP 429"),
    (dict(status=502, path="values:batchGet", times=10 ** 6), "HTTP 502"),
], ids=["429-without-retry-after", "502-to-reads"])
def test_giving_up_on_error_answers_says_google_answered(google, api, waits, fault, said):
    api.fault(**fault)
    code, _, err = run(google)
    assert code == 3
    assert re.search(rf"Google Sheets trả lỗi {said} liên tục trong [\d.]+ giây thử lại \(khóa cấu hình "
                     r"'google.retry_budget_s': 20 giây cho cả lệnh\); câu trả lời cuối: HTTP \d+ [^\n]*[^.]\. "
                     r"Lượt chạy mã [0-9a-f]{12} chưa ghi gì vào bảng tính\.", err), err
    assert "không phản hồi" not in err


def test_giving_up_on_dropped_connections_ends_its_sentence(google, api, waits):
    api.fault(drop=True, method="GET", path="/v4/", times=10 ** 6)
    code, _, err = run(google)
    assert code == 3
    assert re.search(r"Google Sheets không phản hồi sau [\d.]+ giây thử lại \([^)]*\): mất kết nối hoặc hết thời "
                     r"gian chờ \(\w+\)\. Lượt chạy mã [0-9a-f]{12} chưa ghi gì", err), err


def test_a_slow_server_cannot_stretch_the_command_past_its_budget(google, api, key, waits, monkeypatch):
    """timeout_s 15, retry_budget_s 1: the first request is cut at what is left of the budget (its floor,
    1 s), not at 15 s; the command gives up. The stand-in answers only once we hung up. What is checked is the
    wait each request was given, not how long a (maybe loaded) machine took."""
    configure(google, api, key, timeout_s=15, retry_budget_s=1)
    api.fault(late=True, method="GET", path="/v4/", times=10 ** 6)
    given = _read_timeouts(monkeypatch)
    code, _, err = run(google)
    assert code == 3 and "hết thời gian chờ (ReadTimeout)" in err
    assert given and max(given) <= 1, given


def _read_timeouts(monkeypatch) -> list[float]:
    """The read timeout of each Sheets request, as the transport hands it to urllib3."""
    from sync.backends import google_http
    real, given = google_http.authorized_session, []

    def session_for(credentials, api_base_url=None):
        session = real(credentials, api_base_url)
        for adapter in set(session.adapters.values()):
            def send(request, *args, _send=adapter.send, **kwargs):
                timeout = kwargs["timeout"]
                given.append(timeout[1] if isinstance(timeout, tuple) else timeout)
                return _send(request, *args, **kwargs)
            monkeypatch.setattr(adapter, "send", send)
        return session

    monkeypatch.setattr(google_http, "authorized_session", session_for)
    return given


# --- two passes on one workbook ---------------------------------------------------------------------------

def test_two_passes_of_the_same_second_keep_their_own_lines(api, key, plan, seeded_book):
    """Two state files, one sheet: the second pass's unknown write must not mistake the first's line for its own."""
    b = GoogleBackend(SPREADSHEET_ID, load_credentials(key), api.base_url, sleep=lambda s: None)
    seeded(api, seeded_book)
    first = run_pass(b, plan, Layout(), PassOptions(AsOf(AS_OF), NOW), clock=lambda: 0.0)
    api.fault(status=500, method="POST", path=":batchUpdate")  # the second pass's write: outcome unknown
    second = run_pass(GoogleBackend(SPREADSHEET_ID, load_credentials(key), api.base_url,
                                    sleep=lambda s: None), plan, Layout(), PassOptions(AsOf(AS_OF), NOW),
                      clock=lambda: 0.0)
    assert second.attempts == 2 and first.pass_id != second.pass_id
    lines = log_lines(api)
    assert [line[-1] for line in lines] == [first.pass_id, second.pass_id]
    assert lines[0][:-1] == lines[1][:-1]  # same time, as-of and figures: only the id tells them apart


# --- old workbooks: the id column is added, old lines kept --------------------------------------------------

NEWER = ("note", "pass_id")  # log columns added since the first release
OLD_HEADERS = [h for k, h in LOG_COLUMNS.items() if k not in NEWER]
NEW_HEADERS = [LOG_COLUMNS[k] for k in NEWER]
OLD_LINES = [["01/09/2024 08:00:00", "01/09/2024", 76, 3, 2, 0, 1.2],
             ["02/09/2024 08:00:00", "02/09/2024", 76, 3, 2, 0, 1.3]]
OLD_SHOWN = [[str(v) for v in line] for line in OLD_LINES]  # as the sheet shows them (formatted values)


def _make_old_log(api, seeded_book):
    seeded(api, seeded_book)
    book = api.store.books[SPREADSHEET_ID]
    api.store.values_clear(book, "'Nhật ký'")
    api.store.values_write(book, "'Nhật ký'!A1", [OLD_HEADERS, *OLD_LINES], False)
    assert values(api, "Nhật ký") == [OLD_HEADERS, *OLD_SHOWN]


@pytest.mark.parametrize("first", ["init", "run"])
def test_an_old_google_log_gets_the_id_column_and_keeps_its_lines(project, api, key, seeded_book, waits, first):
    configure(project, api, key)
    _make_old_log(api, seeded_book)
    before = unit_cells(api)
    if first == "init":
        code, _, err = project.cli("init")
        assert code == 0, err
        assert values(api, "Nhật ký") == [OLD_HEADERS + NEW_HEADERS, *OLD_SHOWN]
    code, out, err = run(project)
    assert code == 0, err
    rows = values(api, "Nhật ký")
    assert rows[0] == OLD_HEADERS + NEW_HEADERS and rows[1:3] == OLD_SHOWN  # old lines as they were, no id
    assert len(rows) == 4 and rows[3][-1] == json.loads(out)["pass_id"]
    assert unit_cells(api) == before


def test_an_old_local_log_gets_the_id_column_and_one_line_per_pass(project, plan):
    from sync.sheet.layout import build_init
    wb_path = project.workbook
    wb_path.parent.mkdir(parents=True)
    local = LocalBackend(wb_path)
    seed(local, plan, AS_OF)
    wb = openpyxl.load_workbook(wb_path)
    log = wb["Nhật ký"]
    log.delete_rows(1, log.max_row)
    for row in [OLD_HEADERS, *OLD_LINES]:
        log.append(row)
    wb.save(wb_path)
    assert project.cli("init")[0] == 0
    ids = [json.loads(run(project)[1])["pass_id"] for _ in range(2)]
    rows = [list(r) for r in openpyxl.load_workbook(wb_path)["Nhật ký"].iter_rows(values_only=True)]
    assert rows[0] == OLD_HEADERS + NEW_HEADERS
    at = rows[0].index(ID_HEADER)
    assert [r[:7] for r in rows[1:3]] == OLD_LINES and all(r[at] is None for r in rows[1:3])
    assert [r[at] for r in rows[3:]] == ids and ids[0] != ids[1]
    assert build_init(plan, local.read(), Layout()).cells.get("Nhật ký") is None  # nothing left to add


# --- the service-account key file -----------------------------------------------------------------------------

def test_a_key_file_others_can_read_gets_a_warning_and_the_command_goes_on(google, key):
    key.chmod(0o644)
    code, out, err = run(google)
    assert code == 0 and json.loads(out)["pass_id"]
    assert f"tệp khóa tài khoản dịch vụ '{key}' có quyền 644" in err and f"chmod 600 {key}" in err
    key.chmod(0o600)
    code, _, err = run(google)
    assert code == 0 and "chmod 600" not in err
    key.chmod(0o620)  # writable by the group is as bad
    said = io.StringIO()
    assert warn_if_shared(key, said) is True and "có quyền 620" in said.getvalue()

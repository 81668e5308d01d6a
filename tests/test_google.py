"""The Google backend through the real gspread client, over real HTTP, to the local Sheets API stand-in."""
from __future__ import annotations

import datetime as dt
import json

import gspread
import openpyxl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sync.backends.google import GoogleBackend
from sync.backends.google_http import load_credentials
from sync.backends.google_requests import ONE_READ_MAX_ROWS
from sync.backends.local import LocalBackend
from sync.core.history import AsOf
from sync.core.schema import Layout
from sync.sheet.layout import build_init
from sync.sheet.sync_pass import PassOptions
from sync.usecases.demo import seed
from sync.usecases.pipeline import run_pass

from .conftest import AS_OF
from .google_helpers import ACCOUNT, SPREADSHEET_ID, Waits, answer_late_quickly, write_key
from .sheets_api import SheetsAPI, serve
from .sheets_api.store import freeze, render, thaw, trimmed
from .strategies import CELL, UNIT_COLS, examples

NOW = dt.datetime(2024, 9, 20, 8, 0)
OPTS = PassOptions(AsOf(AS_OF), NOW)


@pytest.fixture
def api():
    state = SheetsAPI()
    server, _ = serve(state)
    state.base_url = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.stop()


@pytest.fixture
def key(api, tmp_path):
    return write_key(tmp_path / "credentials.json", api.base_url + "/token")


@pytest.fixture
def google(project, api, key):
    """A project configured for `backend: google` against the stand-in."""
    project.write_config({"backend": "google", "state": str(project.root / "state.sqlite"),
                          "google": {"spreadsheet_id": SPREADSHEET_ID, "credentials_file": str(key),
                                     "api_base_url": api.base_url, "timeout_s": PATIENT_S,
                                     "retry_budget_s": PATIENT_S}})
    return project


#: Per-request timeout and command budget of tests that are not about timeouts: generous, so a loaded machine
#: (a 1,500-row write under two parallel suites) is never mistaken for a lost answer. (Every request's timeout
#: is capped at what is left of the budget: a 5 s budget once cut a loaded 1,500-row pass's requests to 1 s,
#: and the pass retried: 12 requests where 4 were expected.)
PATIENT_S = 60


def backend(api, key, waits: Waits | None = None, **kw) -> GoogleBackend:
    """`rows_hint` (kw): the plan's rows, by which a read is one request or two (None: two, as without a plan)."""
    extra = {"sleep": waits.sleep, "clock": waits.clock} if waits is not None else {}
    return GoogleBackend(SPREADSHEET_ID, load_credentials(key), api.base_url,
                         kw.get("timeout_s", PATIENT_S),
                         kw.get("budget", PATIENT_S), rows_hint=kw.get("rows_hint"), **extra)


def unit_client(api, key) -> gspread.Spreadsheet:
    """A unit typing in the sheet: plain gspread, pointed at the stand-in."""
    from sync.backends.google_http import BoundedHTTPClient
    creds = load_credentials(key)
    client = gspread.Client(creds)
    client.http_client = BoundedHTTPClient(creds, api.base_url, 2, 5)
    return client.open_by_key(SPREADSHEET_ID)


def _requests_since(api, start: int) -> list:
    return api.api_requests()[start:]


# --- a pass, counted --------------------------------------------------------------------------------------

def test_init_then_run_in_three_requests_with_the_spreadsheets_scope_only(google, api):
    code, out, err = google.cli("init")
    assert code == 0, err
    assert [(e.method, e.path.rsplit("/", 1)[-1]) for e in api.api_requests()] == [
        ("GET", SPREADSHEET_ID), ("POST", f"{SPREADSHEET_ID}:batchUpdate")]
    start = len(api.api_requests())
    summary = google.run_json()
    made = _requests_since(api, start)
    assert summary["api_calls"] == len(made) == 3  # the plan's 76 rows: values and notes in one read
    assert [(e.method, e.path.rsplit("/", 1)[-1]) for e in made] == [
        ("GET", SPREADSHEET_ID), ("GET", "values:batchGet"), ("POST", f"{SPREADSHEET_ID}:batchUpdate")]
    assert "effectiveValue" in made[0].query["fields"][0]
    assert {c["scope"] for c in api.tokens.values()} == {"https://www.googleapis.com/auth/spreadsheets"}
    assert {c["iss"] for c in api.tokens.values()} == {ACCOUNT}


# 1,500 rows of HTTP take seconds: that size is in the scale tier, the same hints at the plan's 76 rows in `make test`
@pytest.mark.parametrize(("rows", "hint", "requests"), [
    (76, 76, 3), (76, None, 4), (76, ONE_READ_MAX_ROWS + 1, 4),
    pytest.param(1500, 1500, 3, marks=pytest.mark.scale),
    pytest.param(1500, ONE_READ_MAX_ROWS + 1, 4, marks=pytest.mark.scale)])
def test_three_requests_below_the_threshold_four_above_whatever_the_rows(api, key, plan, rows, hint, requests):
    from sync.usecases.demo import synthetic_plan
    big = plan if rows == 76 else synthetic_plan(plan, rows)
    b = backend(api, key, rows_hint=hint, budget=60)  # 1,500 rows of HTTP under two parallel suites
    snap = b.read()
    b.write(snap, build_init(big, snap, Layout()))
    start, calls = len(api.api_requests()), b.api_calls
    result = run_pass(b, big, Layout(), OPTS)
    assert result.summary.kpis.rows >= rows
    made = _requests_since(api, start)
    assert len(made) == b.api_calls - calls == requests
    assert made[-2].path.endswith("values:batchGet") and made[-1].method == "POST"  # the keys, then the write


def test_init_is_idempotent_on_google(google, api):
    assert google.cli("init")[0] == 0
    book = api.store.books[SPREADSHEET_ID]
    before = {s.title: (s.extent(), len(s.protected_ranges), len(s.conditional_formats)) for s in book.sheets}
    assert google.cli("init")[0] == 0
    after = {s.title: (s.extent(), len(s.protected_ranges), len(s.conditional_formats)) for s in book.sheets}
    assert after == before
    tracking = book.sheet(title="Theo dõi")
    assert tracking.frozen_rows == 1 and len(tracking.conditional_formats) == 5
    status_col = [c for (r, c), v in tracking.cells.items() if r == 0
                  and v.get("userEnteredValue", {}).get("stringValue") == "Tình trạng"][0]
    rule = tracking.cells[(1, status_col)]["dataValidation"]
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == [
        "Chưa thực hiện", "Đang thực hiện", "Hoàn thành", "Không thực hiện"]
    plan_tab = book.sheet(title="Kế hoạch")
    [whole] = plan_tab.protected_ranges
    assert whole["editors"]["users"] == [ACCOUNT] and not whole.get("warningOnly")
    job = [p for p in tracking.protected_ranges]
    assert len(job) == 2 and all(p["warningOnly"] for p in job)


# --- errors -----------------------------------------------------------------------------------------------

def test_sheet_not_shared_names_the_service_account(google, api):
    api.store.denied.add(SPREADSHEET_ID)
    code, _, err = google.cli("run")
    assert code == 2 and ACCOUNT in err and "Chia sẻ" in err


def test_wrong_id_is_exit_2_naming_the_key(google, api, key):
    google.write_config({"backend": "google", "google": {"spreadsheet_id": "khong-dung", "credentials_file": str(key),
                                                         "api_base_url": api.base_url}})
    code, _, err = google.cli("run")
    assert code == 2 and "google.spreadsheet_id" in err
    assert len(api.api_requests()) == 1  # a 404 is not retried


@pytest.mark.parametrize("content, says", [
    (None, "không tồn tại"),
    ("{not json", "không phải JSON"),
    (json.dumps({"type": "authorized_user", "client_id": "x"}), "không phải khóa của tài khoản dịch vụ"),
    (json.dumps({"type": "service_account", "client_email": "a@b"}), "thiếu trường private_key, token_uri"),
    (json.dumps({"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN nope",
                 "token_uri": "http://127.0.0.1:1/token"}), "private_key"),
])
def test_bad_key_file_is_exit_2_naming_the_file(google, tmp_path, api, content, says):
    bad = tmp_path / "khoa.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    google.write_config({"backend": "google", "google": {"spreadsheet_id": SPREADSHEET_ID,
                                                         "credentials_file": str(bad), "api_base_url": api.base_url}})
    code, _, err = google.cli("run")
    assert code == 2 and str(bad) in err and says in err and "Traceback" not in err


def test_key_from_environment_variable(project, api, key, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    project.write_config({"backend": "google", "state": str(project.root / "state.sqlite"),
                          "google": {"spreadsheet_id": SPREADSHEET_ID, "api_base_url": api.base_url}})
    assert project.cli("init")[0] == 0


def test_missing_tab_on_google_is_exit_2_like_local(google):
    code, _, err = google.cli("run")
    assert code == 2 and "Theo dõi" in err


def test_a_chart_sheet_named_like_the_dashboard_is_refused_on_google_like_local(google, api, google_template):
    """An "object" sheet (one chart, no cells) is never read as a tab nor taken for the dashboard: exit 2, and
    nothing is written; before, the pass asked for its values (the real API refuses that range)."""
    _ready(api, google_template)
    book = api.store.books[SPREADSHEET_ID]
    dash = book.sheet(title="Tổng hợp")
    dash.sheet_type, dash.cells = "OBJECT", {}
    before = freeze(book)
    code, _, err = google.cli("run", "--as-of", "2024-09-20")
    assert code == 2 and "Tab 'Tổng hợp' là một trang biểu đồ" in err
    assert freeze(api.store.books[SPREADSHEET_ID]) == before


# --- retries ----------------------------------------------------------------------------------------------

def _ready(api, google_template) -> None:
    """The sheet right after `init` (a copy of the module's, made once through the backend)."""
    api.store.books[SPREADSHEET_ID] = thaw(google_template[3])


def test_dropped_connection_and_slow_answer_are_retried(api, key, plan, google_template, monkeypatch):
    _ready(api, google_template)
    answer_late_quickly(api, monkeypatch)
    api.fault(drop=True, path="values:batchGet")
    api.fault(late=True, path=SPREADSHEET_ID, method="GET")  # answered only after the client gave up
    waits = Waits()
    b = backend(api, key, waits=waits)
    result = run_pass(b, plan, Layout(), OPTS)
    assert result.attempts == 1 and len(waits) == 2
    assert b.api_calls == 4 + len(waits)  # each retry is one more request


def test_row_inserted_before_the_write_does_not_misplace_flags(api, key, plan, google_template):
    _ready(api, google_template)
    b = backend(api, key)
    book = api.store.books[SPREADSHEET_ID]
    tracking = book.sheet(title="Theo dõi")

    def unit_inserts_a_row(store):
        store.batch_update(book, [{"insertDimension": {"range": {"sheetId": tracking.sheet_id, "dimension": "ROWS",
                                                                 "startIndex": 3, "endIndex": 4}}}])
        store.values_write(book, "'Theo dõi'!A4:C4", [[99, "Nhiệm vụ thêm", "Phòng XYZ"]], False)

    api.fault(before=unit_inserts_a_row, path="values:batchGet", skip=1)  # at the re-read of the row keys
    result = run_pass(b, plan, Layout(), OPTS)
    assert result.attempts == 2 and "sắp xếp lại" in result.messages[0]
    again = run_pass(backend(api, key), plan, Layout(), PassOptions(AsOf(AS_OF), NOW, dry_run=True))
    assert again.writes.cells == {}  # every Kiểm tra / Cảnh báo is where a fresh pass would put it
    tracking = book.sheet(title="Theo dõi")  # batch updates replace the sheet objects
    check = tracking.cells[(3, _col(book, "Theo dõi", "Kiểm tra"))]["userEnteredValue"]["stringValue"]
    assert "Phòng XYZ" in check  # the inserted row got its own message, on its own row


def _col(book, tab, header) -> int:
    sheet = book.sheet(title=tab)
    return next(c for (r, c), v in sheet.cells.items()
                if r == 0 and v.get("userEnteredValue", {}).get("stringValue") == header)


# --- values: RAW out, unformatted in ---------------------------------------------------------------------

def test_formula_text_stays_text_and_dates_typed_by_units_parse(api, key, plan, google_template):
    _ready(api, google_template)
    sheet = unit_client(api, key).worksheet("Theo dõi")
    head = sheet.row_values(1)
    col = {h: head.index(h) + 1 for h in head}
    sheet.update_cell(2, col["Tình trạng"], "Hoàn thành")  # gspread default: USER_ENTERED, as in the UI
    sheet.update_cell(2, col["Ngày hoàn thành"], "20/02/2024")  # becomes a date (serial number)
    sheet.update_cell(2, col["Minh chứng"], "Số 12/KH-STTTT")
    sheet.update_cell(3, col["Tình trạng"], "Hoàn thành")
    sheet.update(values=[["15/02/2024"]], range_name=gspread.utils.rowcol_to_a1(3, col["Ngày hoàn thành"]),
                 value_input_option="RAW")  # a date left as text
    sheet.update_cell(3, col["Minh chứng"], "Số 13/KH-STTTT")
    sheet.update(values=[['=IMPORTXML("http://x.invalid","//a")']],
                 range_name=gspread.utils.rowcol_to_a1(4, col["Đơn vị"]), value_input_option="RAW")
    book = api.store.books[SPREADSHEET_ID]
    assert "numberValue" in book.sheet(title="Theo dõi").cells[(1, col["Ngày hoàn thành"] - 1)]["userEnteredValue"]
    result = run_pass(backend(api, key), plan, Layout(), OPTS)
    by_row = {r.checked.entry.row: r.checked for r in result.summary.results}
    assert by_row[2].done_date == dt.date(2024, 2, 20) and by_row[3].done_date == dt.date(2024, 2, 15)
    assert not [i for i in by_row[2].issues + by_row[3].issues if i.column == "done_date"]
    dashboard = book.sheet(title="Tổng hợp")
    formula_cells = [v["userEnteredValue"] for v in dashboard.cells.values()
                     if "IMPORTXML" in json.dumps(v.get("userEnteredValue", {}), ensure_ascii=False)]
    assert formula_cells and all("stringValue" in v for v in formula_cells)


# --- the same scenario on both backends, cell for cell ---------------------------------------------------

def scenario(b, plan) -> None:
    seed(b, plan, AS_OF)
    run_pass(b, plan, Layout(), PassOptions(AsOf(AS_OF), NOW, pass_id="a1b2c3d4e5f6"),  # ids are random
             clock=lambda: 0.0)


def shown(value) -> str:
    """A cell as a user sees it: what both spreadsheet programs display."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _trimmed(rows):
    return trimmed([list(r) for r in rows])  # as the API answers: no trailing empty cells or rows


def local_grid(path):
    wb = openpyxl.load_workbook(path)
    grid = {ws.title: _trimmed([[shown(v) for v in row] for row in ws.iter_rows(values_only=True)])
            for ws in wb.worksheets}
    notes = {ws.title: {(c.row, c.column): c.comment.text for row in ws.iter_rows() for c in row if c.comment}
             for ws in wb.worksheets}
    return grid, notes


def google_grid(api):
    book = api.store.books[SPREADSHEET_ID]
    grid, notes = {}, {}
    for sheet in book.sheets:
        if sheet.title == "Sheet1":
            continue  # the new spreadsheet's own first tab, which the job leaves alone
        rows, cols = sheet.extent()
        grid[sheet.title] = _trimmed([[render(sheet.cells.get((r, c), {}), "FORMATTED_VALUE", "SERIAL_NUMBER")
                                       for c in range(cols)] for r in range(rows)])
        notes[sheet.title] = {(r + 1, c + 1): v["note"] for (r, c), v in sheet.cells.items() if v.get("note")}
    return grid, notes


def test_google_and_local_hold_the_same_cells_after_init_and_a_pass(api, key, plan, tmp_path):
    """The same scenario (seed, then a pass) on the .xlsx and on the Google Sheet: each holds the job's tabs,
    rows and notes, and the two hold the same cells."""
    scenario(LocalBackend(tmp_path / "wb.xlsx"), plan)
    scenario(backend(api, key), plan)
    local, local_notes = local_grid(tmp_path / "wb.xlsx")
    remote, remote_notes = google_grid(api)
    for name, grid, notes in (("local", local, local_notes), ("google", remote, remote_notes)):
        assert set(grid) == {"Kế hoạch", "Theo dõi", "Tổng hợp", "Nhật ký", "Hướng dẫn", "Báo cáo"}, name
        assert grid["Hướng dẫn"][0][0].startswith("HƯỚNG DẪN"), name
        assert len(grid["Theo dõi"]) == 77, name
        assert grid["Tổng hợp"][0] == ["TỔNG HỢP TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH"], name
        assert any(t.startswith("[Kiểm tra tự động]") for t in notes["Theo dõi"].values()), name
    assert list(local) == list(remote)
    for tab in local:
        assert local[tab] == remote[tab], tab
        assert local_notes[tab] == remote_notes[tab], tab


def test_report_and_remind_work_on_google(google, api, key, plan):
    b = backend(api, key)
    scenario(b, plan)
    code, out, err = google.cli("report", "--quarter", "2024Q3", "--json")
    assert code == 0, err
    assert (google.root / json.loads(out)["path"]).exists() and json.loads(out)["rows"] == 76
    code, out, err = google.cli("remind", "--as-of", "2024-09-20", "--json")
    assert code == 0, err
    assert sum(u["errors"] for u in json.loads(out)["units"]) > 0


def test_the_stand_in_runs_by_hand_for_an_offline_trial(project, tmp_path):
    import os
    import subprocess
    import sys

    from sync.core.config import PROJECT_DIR
    key_file = tmp_path / "standin-key.json"
    proc = subprocess.Popen([sys.executable, "-m", "tests.sheets_api", "--port", "0", "--write-key", str(key_file)],
                            stdout=subprocess.PIPE, text=True, cwd=PROJECT_DIR,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)})
    try:
        base = proc.stdout.readline().split(" on ", 1)[1].split()[0]
        assert proc.stdout.readline().startswith("Wrote a key")
        project.write_config({"backend": "google", "state": str(project.root / "state.sqlite"),
                              "google": {"spreadsheet_id": "CCHCthuNghiemKhongCanGoogle01",
                                         "credentials_file": str(key_file), "api_base_url": base}})
        assert project.cli("init")[0] == 0
        assert project.run_json()["api_calls"] == 3
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


# --- the safety property on Google: a pass never changes a cell someone typed ------------------------------

@pytest.fixture(scope="module")
def google_template(plan, tmp_path_factory):
    state = SheetsAPI()
    server, _ = serve(state)
    base = f"http://127.0.0.1:{server.server_port}"
    key_file = write_key(tmp_path_factory.mktemp("key") / "k.json", base + "/token")
    b = GoogleBackend(SPREADSHEET_ID, load_credentials(key_file), base, PATIENT_S, PATIENT_S)
    snap = b.read()
    b.write(snap, build_init(plan, snap, Layout()))
    yield state, base, key_file, freeze(state.store.books[SPREADSHEET_ID])
    server.stop()


def _typed(value):
    """A unit typing `value` in the Sheets UI: dates become date cells, the rest is parsed as the UI does."""
    from .sheets_api.store import DATE_FORMAT, EPOCH, entered
    if isinstance(value, dt.date):
        return {"userEnteredValue": {"numberValue": (value - EPOCH).days}, "userEnteredFormat": DATE_FORMAT}
    uev, fmt = entered(value, user_entered=True)
    cell = {"userEnteredValue": uev} if uev else {}
    if fmt:
        cell["userEnteredFormat"] = fmt
    return cell


#: A pass over HTTP per example: the property is proven on many examples below HTTP
#: (test_google_requests.test_a_pass_sends_no_value_into_a_typed_cell); here a few show the API keeps to it.
GOOGLE_EXAMPLES = examples(8, "GOOGLE_HYPOTHESIS_EXAMPLES")


@hsettings(max_examples=GOOGLE_EXAMPLES, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(st.tuples(st.integers(2, 90), st.sampled_from(UNIT_COLS + [1, 3, 5])), CELL,
                             max_size=40))
def test_a_google_pass_never_changes_a_typed_cell(google_template, plan, edits):
    state, base, key_file, template = google_template
    book = thaw(template)
    state.store.books[SPREADSHEET_ID] = book
    tracking = book.sheet(title="Theo dõi")
    for (r, c), value in edits.items():
        cell = _typed(value)
        if cell:
            tracking.cells[(r - 1, c - 1)] = cell
        else:
            tracking.cells.pop((r - 1, c - 1), None)
    job = {_col(book, "Theo dõi", "Kiểm tra"), _col(book, "Theo dõi", "Cảnh báo")}

    def typed(sheet):
        return {p: v.get("userEnteredValue") for p, v in sheet.cells.items() if p[1] not in job and
                v.get("userEnteredValue")}

    before = {t: typed(book.sheet(title=t)) for t in ("Kế hoạch", "Theo dõi")}
    b = GoogleBackend(SPREADSHEET_ID, load_credentials(key_file), base, PATIENT_S, PATIENT_S)
    run_pass(b, plan, Layout(), OPTS)
    after = {t: typed(state.store.books[SPREADSHEET_ID].sheet(title=t)) for t in ("Kế hoạch", "Theo dõi")}
    assert after == before


# --- one read or two: the same snapshot --------------------------------------------------------------------

@pytest.fixture(scope="module")
def passed_template(google_template, plan):
    """The sheet after `init` and a pass: a dashboard with merges and numbers, notes on offending cells."""
    state, base, key_file, template = google_template
    state.store.books[SPREADSHEET_ID] = thaw(template)
    b = GoogleBackend(SPREADSHEET_ID, load_credentials(key_file), base, PATIENT_S, PATIENT_S)
    seed(b, plan, AS_OF)
    run_pass(b, plan, Layout(), OPTS)
    return freeze(state.store.books[SPREADSHEET_ID])


#: What units type that a read must give back the same either way: a formula's result, one the stand-in shows as
#: its text, a boolean, a date cell, a number typed as text, and a note on a row that holds no value.
SPECIAL = {(5, 12): "=4/2", (6, 12): '=IMPORTXML("http://x.invalid","//a")', (7, 11): True,
           (8, 13): dt.date(2024, 9, 1), (9, 11): "'0012"}


@hsettings(max_examples=GOOGLE_EXAMPLES, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(st.tuples(st.integers(2, 90), st.sampled_from(UNIT_COLS + [1, 3, 5])), CELL,
                             max_size=40))
def test_one_read_and_two_reads_give_the_same_snapshot(google_template, passed_template, edits):
    state, base, key_file, _ = google_template
    book = thaw(passed_template)
    state.store.books[SPREADSHEET_ID] = book
    tracking = book.sheet(title="Theo dõi")
    for (r, c), value in {**edits, **SPECIAL}.items():
        cell = _typed(value)
        if cell:
            tracking.cells[(r - 1, c - 1)] = cell
        else:
            tracking.cells.pop((r - 1, c - 1), None)
    tracking.cells[(300, 20)] = {"note": "ghi chú ở dòng trống"}
    tracking.row_count = max(tracking.row_count, 400)
    one = GoogleBackend(SPREADSHEET_ID, load_credentials(key_file), base, PATIENT_S, PATIENT_S, rows_hint=76)
    two = GoogleBackend(SPREADSHEET_ID, load_credentials(key_file), base, PATIENT_S, PATIENT_S, rows_hint=None)
    a, b = one.read(), two.read()
    assert (one.api_calls, two.api_calls) == (1, 2)
    assert list(a.tabs) == list(b.tabs) and a.token == b.token
    for name in b.tabs:
        assert a.tabs[name] == b.tabs[name], name
    assert a.tabs["Theo dõi"].notes[(301, 21)] == "ghi chú ở dòng trống"
    assert a.tabs["Tổng hợp"].merged and one._meta == two._meta  # the cells read are not kept twice

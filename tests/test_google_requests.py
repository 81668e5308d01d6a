"""The Google adapter below HTTP: the request builder (pure) and the retry policy on a fake transport.

The builder: given what the read saw and a WriteSet, these request bodies, each also held to the API's
discovery schema (tests/sheets_api/contract.py) without a server. The retry policy: the backend over a
requests session whose transport adapter answers from a script (no socket, no token, no RSA key), a fake
clock that moves only by the waits taken; each case asserts the exit code and the message. The same paths
over real HTTP through gspread to the stand-in are the thinner layer in test_google.py and
test_faults_google.py.
"""
from __future__ import annotations

import datetime as dt
import json
import types

import pytest
import requests
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sync.backends import google_requests as bodies
from sync.backends.google import GoogleBackend
from sync.backends.google_http import authorized_session, confined_session, load_credentials
from sync.backends.memory import MemoryBackend
from sync.core.deadlines import EXCEL_EPOCH
from sync.core.errors import StaleSnapshot, SyncError, Unreachable, UserError, WriteGaveUp, WriteUnknown
from sync.core.history import AsOf
from sync.core.schema import LOG_COLUMNS, Layout
from sync.core.workbook import Chart, Snapshot, Styled, Tab, WriteSet
from sync.sheet.sync_pass import PassOptions, compute
from sync.usecases.demo import seed

from .conftest import AS_OF
from .google_helpers import ACCOUNT, SPREADSHEET_ID
from .sheets_api import contract
from .strategies import CELL, UNIT_COLS, examples
from .test_google import api, key  # noqa: F401  (fixtures: the stand-in on a free port, its key)

NOW = dt.datetime(2024, 9, 20, 8, 0)
BATCH = contract.route("POST", f"/v4/spreadsheets/{SPREADSHEET_ID}:batchUpdate")[0]


def meta_of(snapshot: Snapshot, charts: dict[str, list[dict]] | None = None) -> dict[str, dict]:
    """The spreadsheets.get answer a read of `snapshot` would have had, by title (sheet ids 11, 12, …)."""
    return {t: {"properties": {"sheetId": 11 + i, "title": t, "index": i,
                               "gridProperties": {"rowCount": 1000, "columnCount": 26}},
                "charts": (charts or {}).get(t, [])} for i, t in enumerate(snapshot.tabs)}


def built(snapshot: Snapshot, changes: WriteSet, charts: dict[str, list[dict]] | None = None) -> list[dict]:
    out = bodies.build(meta_of(snapshot, charts), snapshot, changes, ACCOUNT, sheet_id=iter(range(500, 600)).__next__)
    contract.check_body(BATCH, {"requests": out})  # real Google would take it
    return out


def kinds(requests_: list[dict]) -> list[str]:
    return [next(iter(r)) for r in requests_]


# --- cells, notes, values ---------------------------------------------------------------------------------

def test_cells_go_as_one_update_per_run_of_adjacent_rows_raw():
    snap = Snapshot({"Theo dõi": Tab("Theo dõi", [["STT"]] * 9)})
    changes = WriteSet()
    for row, value in ((2, "Quá hạn 3 ngày"), (3, "=IMPORTXML(\"x\")"), (4, 7), (8, None)):
        changes.set("Theo dõi", row, 16, value)
    changes.set("Theo dõi", 2, 15, dt.date(2024, 9, 20))
    changes.note("Theo dõi", 5, 6, "[Kiểm tra tự động] Thiếu minh chứng")
    changes.note("Theo dõi", 6, 6, None)
    out = built(snap, changes)
    assert out == [
        {"updateCells": {"range": {"sheetId": 11, "startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 14,
                                   "endColumnIndex": 15},
                         "rows": [{"values": [{"userEnteredValue": {"numberValue": 45555}}]}],
                         "fields": "userEnteredValue"}},
        {"updateCells": {"range": {"sheetId": 11, "startRowIndex": 1, "endRowIndex": 4, "startColumnIndex": 15,
                                   "endColumnIndex": 16},
                         "rows": [{"values": [{"userEnteredValue": {"stringValue": "Quá hạn 3 ngày"}}]},
                                  {"values": [{"userEnteredValue": {"stringValue": "=IMPORTXML(\"x\")"}}]},
                                  {"values": [{"userEnteredValue": {"numberValue": 7}}]}],
                         "fields": "userEnteredValue"}},
        {"updateCells": {"range": {"sheetId": 11, "startRowIndex": 7, "endRowIndex": 8, "startColumnIndex": 15,
                                   "endColumnIndex": 16},
                         "rows": [{"values": [{}]}], "fields": "userEnteredValue"}},  # emptied
        {"repeatCell": {"range": {"sheetId": 11, "startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 14,
                                  "endColumnIndex": 15},
                        "fields": "userEnteredFormat.numberFormat",
                        "cell": {"userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "dd/mm/yyyy"}}}}},
        {"updateCells": {"range": {"sheetId": 11, "startRowIndex": 4, "endRowIndex": 6, "startColumnIndex": 5,
                                   "endColumnIndex": 6},
                         "rows": [{"values": [{"note": "[Kiểm tra tự động] Thiếu minh chứng"}]}, {"values": [{}]}],
                         "fields": "note"}},
    ]


def test_dates_are_serial_numbers_of_the_one_epoch():
    assert bodies.cell_data(dt.date(2024, 9, 20)) == {"numberValue": (dt.date(2024, 9, 20) - EXCEL_EPOCH).days}
    assert bodies.cell_data(dt.datetime(1900, 1, 1, 8, 30)) == {"numberValue": 2}
    assert bodies.cell_data(True) == {"boolValue": True} and bodies.cell_data("") is None
    assert not hasattr(__import__("sync.backends.google", fromlist=["x"]), "EPOCH")


def test_a_new_tab_and_a_grown_grid_come_before_the_cells():
    snap = Snapshot({"Theo dõi": Tab("Theo dõi", [["STT"]])})
    changes = WriteSet(new_tabs=["Nhật ký"])
    changes.set("Theo dõi", 1200, 30, "x")
    changes.set("Nhật ký", 1, 1, "Thời điểm")
    out = built(snap, changes)
    assert kinds(out) == ["addSheet", "updateSheetProperties", "updateCells", "updateCells"]
    assert out[0]["addSheet"]["properties"] == {"sheetId": 500, "title": "Nhật ký",
                                                "gridProperties": {"rowCount": 1000, "columnCount": 26}}
    assert out[1]["updateSheetProperties"]["properties"] == {"sheetId": 11, "gridProperties": {
        "rowCount": 1200, "columnCount": 30}}
    assert out[3]["updateCells"]["range"]["sheetId"] == 500


def test_a_new_tabs_id_is_never_one_the_sheet_has():
    snap = Snapshot({"Theo dõi": Tab("Theo dõi")})
    ids = iter([11, 11, 42]).__next__  # 11 is Theo dõi's
    out = bodies.build(meta_of(snap), snap, WriteSet(new_tabs=["Nhật ký"]), ACCOUNT, sheet_id=ids)
    assert out[0]["addSheet"]["properties"]["sheetId"] == 42


# --- the log line: at a fixed row, below merges -------------------------------------------------------------

def _log_line(tab: Tab) -> dict:
    snap = Snapshot({"Nhật ký": tab})
    changes = WriteSet(append={"Nhật ký": [["20/09/2024 08:00:00", "20/09/2024", 76, "", "a1b2c3d4e5f6"]]})
    [request] = built(snap, changes)
    assert request == bodies.build(meta_of(snap), snap, changes, ACCOUNT)[0]  # sent again: the same cells
    return request["updateCells"]


def test_the_log_line_is_update_cells_at_the_row_below_the_last_read():
    body = _log_line(Tab("Nhật ký", [list(LOG_COLUMNS.values()), ["01/09/2024"], [], ["02/09/2024"], [None, ""]]))
    assert body["range"] == {"sheetId": 11, "startRowIndex": 4, "endRowIndex": 5, "startColumnIndex": 0,
                             "endColumnIndex": 5}
    assert body["fields"] == "userEnteredValue"
    assert body["rows"] == [{"values": [{"userEnteredValue": {"stringValue": "20/09/2024 08:00:00"}},
                                        {"userEnteredValue": {"stringValue": "20/09/2024"}},
                                        {"userEnteredValue": {"numberValue": 76}}, {},
                                        {"userEnteredValue": {"stringValue": "a1b2c3d4e5f6"}}]}]


def test_the_log_line_goes_below_a_merge_that_reaches_past_the_last_row():
    tab = Tab("Nhật ký", [["Thời điểm"], ["01/09/2024"]], merged=[(2, 1, 6, 2)])
    assert _log_line(tab)["range"]["startRowIndex"] == 6  # row 7, under the merge of rows 2–6


# --- merges withheld: a real pass's writes, computed, then built ---------------------------------------------

@pytest.fixture(scope="module")
def seeded(plan) -> MemoryBackend:
    mem = MemoryBackend()
    seed(mem, plan, AS_OF)
    return mem


def test_a_pass_sends_nothing_into_cells_a_merge_hides(seeded, plan):
    snap = seeded.read()
    tracking = snap.tabs["Theo dõi"]
    flag_col = tracking.rows[0].index("Cảnh báo") + 1
    tracking.merged.append((2, flag_col, 4, flag_col))  # a unit merged three Cảnh báo cells
    computed = compute(snap, plan, Layout(), PassOptions(AsOf(AS_OF), NOW), "bảng tính")
    hidden = {(3, flag_col), (4, flag_col)}
    assert {(w.row, w.col) for w in computed.withheld if w.tab == "Theo dõi"} <= hidden
    out = built(snap, computed.writes)
    sid = meta_of(snap)["Theo dõi"]["properties"]["sheetId"]
    written = set()
    for r in out:
        rng = r.get("updateCells", {}).get("range", {})
        if rng.get("sheetId") == sid and "startColumnIndex" in rng:
            written |= {(row + 1, col + 1) for row in range(rng["startRowIndex"], rng["endRowIndex"])
                        for col in range(rng["startColumnIndex"], rng["endColumnIndex"])}
    assert written and not written & hidden
    assert kinds(out).count("updateCells") >= 3 and "addSheet" not in kinds(out)


# --- the dashboard -----------------------------------------------------------------------------------------

CHART = Chart(title="Tình trạng theo đơn vị", header_row=3, first_row=4, last_row=5, category_column=1,
              series_columns=(2, 3), anchor=(2, 6), axis_title="Số dòng", colours=("93C47D", "F6B26B"))
STYLED = Styled(rows=[["TỔNG HỢP"], [], ["Đơn vị", "Hoàn thành", "Quá hạn"], ["VP", 3, 1], ["CNTT", 2, 0],
                      ["Phòng A"], ["Phòng B"]],
                styles={1: "title", 3: "header"}, widths={1: 30, 2: 12}, merges=((1, 1, 1, 4), (6, 1, 6, 3),
                                                                                  (7, 1, 7, 3)),
                chart=CHART)


def _dashboard(charts: list[dict]) -> list[dict]:
    snap = Snapshot({"Tổng hợp": Tab("Tổng hợp", [["cũ"]])})
    return built(snap, WriteSet(replace={"Tổng hợp": STYLED}), {"Tổng hợp": charts})


def test_the_dashboard_is_one_grid_rewrite_with_merges_widths_and_a_chart():
    out = _dashboard([])
    assert kinds(out) == ["unmergeCells", "updateCells", "mergeCells", "mergeCells", "updateDimensionProperties",
                          "updateDimensionProperties", "addChart"]
    everything = {"sheetId": 11, "startRowIndex": 0, "endRowIndex": 1000, "startColumnIndex": 0, "endColumnIndex": 26}
    assert out[0] == {"unmergeCells": {"range": everything}}  # always: a late write may have merged since
    grid = out[1]["updateCells"]
    assert grid["range"] == everything and grid["fields"] == "userEnteredValue,userEnteredFormat,note"
    assert len(grid["rows"]) == 7
    assert grid["rows"][0]["values"][0]["userEnteredFormat"]["textFormat"] == {"bold": True, "fontSize": 14}
    header = grid["rows"][2]["values"][1]["userEnteredFormat"]
    assert header["horizontalAlignment"] == "CENTER" and header["textFormat"] == {"bold": True}
    assert grid["rows"][3]["values"][1] == {"userEnteredValue": {"numberValue": 3}, "userEnteredFormat": {
        "horizontalAlignment": "RIGHT", "verticalAlignment": "MIDDLE"}}
    assert grid["rows"][1] == {"values": []}  # an empty row clears what the tab had there
    assert out[2] == {"mergeCells": {"mergeType": "MERGE_ROWS", "range": {
        "sheetId": 11, "startRowIndex": 5, "endRowIndex": 7, "startColumnIndex": 0, "endColumnIndex": 3}}}
    assert out[3]["mergeCells"]["range"] == {"sheetId": 11, "startRowIndex": 0, "endRowIndex": 1,
                                             "startColumnIndex": 0, "endColumnIndex": 4}
    assert out[4]["updateDimensionProperties"]["properties"] == {"pixelSize": 210}
    chart = out[6]["addChart"]["chart"]
    assert chart["position"]["overlayPosition"]["anchorCell"] == {"sheetId": 11, "rowIndex": 1, "columnIndex": 5}
    spec = chart["spec"]["basicChart"]
    assert spec["chartType"] == "BAR" and spec["stackedType"] == "STACKED" and len(spec["series"]) == 2
    assert spec["domains"][0]["domain"]["sourceRange"]["sources"] == [
        {"sheetId": 11, "startRowIndex": 2, "endRowIndex": 5, "startColumnIndex": 0, "endColumnIndex": 1}]


def test_the_chart_is_kept_by_its_title_updated_in_place_and_copies_deleted():
    mine = [{"chartId": 7, "spec": {"title": CHART.title}}, {"chartId": 8, "spec": {"title": CHART.title}},
            {"chartId": 9, "spec": {"title": "Biểu đồ của Văn phòng"}}]
    out = _dashboard(mine)
    assert out[-2:] == [{"deleteEmbeddedObject": {"objectId": 8}},
                        {"updateChartSpec": {"chartId": 7, "spec": out[-1]["updateChartSpec"]["spec"]}}]
    assert "addChart" not in kinds(out) and all(r.get("deleteEmbeddedObject", {}).get("objectId") != 9 for r in out)


def test_a_real_init_and_pass_build_bodies_the_api_takes(seeded, plan):
    from sync.sheet.layout import build_init
    empty = Snapshot({})
    init = bodies.build({}, empty, build_init(plan, empty, Layout()), ACCOUNT)
    contract.check_body(BATCH, {"requests": init})
    assert kinds(init)[:4] == ["addSheet"] * 4 and "addProtectedRange" in kinds(init)
    snap = seeded.read()
    out = built(snap, compute(snap, plan, Layout(), PassOptions(AsOf(AS_OF), NOW), "bảng tính").writes)
    assert "addChart" in kinds(out) and "addSheet" not in kinds(out)


# --- the safety property below HTTP: a pass's values never go into a cell someone typed ---------------------

@hsettings(max_examples=examples(25, "HYPOTHESIS_EXAMPLES"), deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(st.tuples(st.integers(2, 90), st.sampled_from([*UNIT_COLS, 1, 3, 5])), CELL,
                             max_size=40))
def test_a_pass_sends_no_value_into_a_typed_cell(seeded, plan, edits):
    """Whatever units typed, the bodies of a pass set values in Kế hoạch and Theo dõi only in the job's own
    columns (notes on offending cells are the job's too); the same property over HTTP is test_google's."""
    snap = seeded.read()
    tracking = snap.tabs["Theo dõi"]
    for (r, c), value in edits.items():
        while len(tracking.rows) < r:
            tracking.rows.append([])
        row = tracking.rows[r - 1]
        row.extend([None] * (c - len(row)))
        row[c - 1] = value
    job = {tracking.rows[0].index("Kiểm tra") + 1, tracking.rows[0].index("Cảnh báo") + 1}
    meta = meta_of(snap)
    guarded = {meta["Kế hoạch"]["properties"]["sheetId"]: set(), meta["Theo dõi"]["properties"]["sheetId"]: job}
    out = built(snap, compute(snap, plan, Layout(), PassOptions(AsOf(AS_OF), NOW), "bảng tính").writes)
    for request in out:
        body = request.get("updateCells") or request.get("repeatCell") or {}
        rng = body.get("range", {})
        if rng.get("sheetId") in guarded and "userEnteredValue" in body.get("fields", "") + json.dumps(body):
            cols = set(range(rng["startColumnIndex"] + 1, rng["endColumnIndex"] + 1))
            assert cols <= guarded[rng["sheetId"]], request


# --- the row keys re-read before writing ---------------------------------------------------------------------

def test_row_keys_are_whole_columns_compared_without_empty_cells():
    snap = Snapshot({"Theo dõi": Tab("Theo dõi", [["STT", "x", "Đơn vị"], [1, "", "VP"], ["", "", ""]]),
                     "Khác": Tab("Khác")})
    changes = WriteSet(keys={"Theo dõi": (1, 3), "Chưa có": (1,)})
    expected = bodies.key_ranges(meta_of(snap), snap, changes)
    assert expected == [("'Theo dõi'!A:A", [["STT"], [1], []]), ("'Theo dõi'!C:C", [["Đơn vị"], ["VP"], []])]
    same = {"valueRanges": [{"values": [["STT"], [1]]}, {"values": [["Đơn vị"], ["VP"]]}]}
    assert bodies.keys_moved(expected, same) is None
    inserted = {"valueRanges": [{"values": [["STT"], [99], [1]]}, {"values": [["Đơn vị"], ["VP"]]}]}
    assert bodies.keys_moved(expected, inserted) == "'Theo dõi'"


def test_a_refused_add_sheet_names_the_tab_that_appeared():
    requests_ = [{"addSheet": {"properties": {"title": "Nhật ký"}}}, {"updateCells": {}}]
    said = 'Invalid requests[0].addSheet: A sheet with the name "Nhật ký" already exists.'
    assert bodies.tab_appeared(said, requests_) == "Nhật ký"
    assert bodies.tab_appeared("Invalid requests[1].updateCells: protected", requests_) is None
    assert bodies.tab_appeared("Invalid requests[5].addSheet: exists", requests_) is None


# --- the retry policy on a fake transport -------------------------------------------------------------------

class Clock:
    """Time that moves only by the waits taken."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def answer(status: int = 200, payload: dict | None = None, retry_after: float | None = None,
           message: str = "Internal error.") -> requests.Response:
    r = requests.Response()
    r.status_code = status
    body = payload if payload is not None else ({} if status < 400 else {"error": {"code": status,
                                                                                    "message": message}})
    r._content = json.dumps(body).encode()
    r.headers["Content-Type"] = "application/json"
    if retry_after is not None:
        r.headers["Retry-After"] = f"{retry_after:g}"
    return r


META = {"sheets": [{"properties": {"sheetId": 11, "title": "Theo dõi", "index": 0,
                                   "gridProperties": {"rowCount": 1000, "columnCount": 26}}}]}
VALUES = {"valueRanges": [{"values": [["STT", "Đơn vị"], [1, "VP"]]}]}
KEYS = {"valueRanges": [{"values": [["STT"], [1]]}, {"values": [["Đơn vị"], ["VP"]]}]}  # the same, by column


class Script(requests.adapters.BaseAdapter):
    """A transport that answers each request with the next scripted answer (or raises it) and logs it."""

    def __init__(self, *answers):
        super().__init__()
        self.answers = list(answers)
        self.sent: list[tuple[str, str, float]] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append((request.method, request.url.split("?")[0].rsplit("/", 1)[-1], timeout))
        got = self.answers.pop(0) if self.answers else answer(payload=VALUES)
        if isinstance(got, Exception):
            raise got
        got.request, got.url = request, request.url
        return got

    def close(self):
        pass


def on_script(*answers, budget: float = 20, timeout: float = 5) -> tuple[GoogleBackend, Script, Clock]:
    script, clock = Script(*answers), Clock()
    session = requests.Session()
    session.mount("https://", script)
    creds = types.SimpleNamespace(service_account_email=ACCOUNT)
    return GoogleBackend(SPREADSHEET_ID, creds, None, timeout, budget, clock.sleep, clock, session), script, clock


def fails(backend: GoogleBackend, exit_code: int) -> str:
    with pytest.raises(SyncError) as err:
        backend.read()
    assert err.value.exit_code == exit_code
    return str(err.value)


def test_429_with_retry_after_inside_the_budget_waits_as_told():
    b, script, clock = on_script(answer(429, retry_after=7), answer(payload=META), answer(payload=VALUES))
    snap = b.read()
    assert snap.tabs["Theo dõi"].rows[1] == [1, "VP"]
    assert clock.waits == [7] and b.api_calls == 3 == len(script.sent)
    assert [name for _, name, _ in script.sent] == [SPREADSHEET_ID, SPREADSHEET_ID, "values:batchGet"]


def test_429_with_retry_after_beyond_the_budget_gives_up_at_once():
    b, script, clock = on_script(answer(429, retry_after=100, message="Quota exceeded."), budget=20)
    said = fails(b, 3)
    assert said == ("Google Sheets yêu cầu chờ 100 giây (Retry-After) rồi mới thử lại, nhưng thời gian thử lại của "
                    "lệnh chỉ còn 20 giây (khóa cấu hình 'google.retry_budget_s': 20 giây cho cả lệnh); dừng ngay "
                    "thay vì chờ. Câu trả lời cuối của Google: HTTP 429 Quota exceeded.")
    assert clock.waits == [] and len(script.sent) == 1


def test_server_errors_are_retried_with_growing_waits_until_the_budget_is_spent():
    b, script, clock = on_script(*[answer(500)] * 100, budget=20)
    said = fails(b, 3)
    assert said.startswith("Google Sheets trả lỗi HTTP 500 liên tục trong ")
    assert said.endswith("giây thử lại (khóa cấu hình 'google.retry_budget_s': 20 giây cho cả lệnh); câu trả lời "
                         "cuối: HTTP 500 Internal error.")
    assert len(clock.waits) == 4 and sum(clock.waits) <= 20  # 1, 2, 4, 8 s (+ jitter); 16 more would overrun
    assert [int(w) for w in clock.waits] == [1, 2, 4, 8] and len(script.sent) == 5


def test_each_request_is_given_at_most_what_is_left_of_the_budget():
    b, script, clock = on_script(answer(503), answer(payload=META), answer(payload=VALUES), budget=3, timeout=30)
    b.read()
    assert script.sent[0][2] == 3 and script.sent[1][2] == pytest.approx(3 - clock.waits[0])


@pytest.mark.parametrize("fault, said", [
    (requests.exceptions.ConnectionError("reset"), "mất kết nối hoặc hết thời gian chờ (ConnectionError)"),
    (requests.exceptions.ChunkedEncodingError("cut"), "câu trả lời bị cắt giữa chừng (ChunkedEncodingError)"),
    (requests.exceptions.ReadTimeout("slow"), "mất kết nối hoặc hết thời gian chờ (ReadTimeout)"),
], ids=["dropped", "cut", "timeout"])
def test_a_dropped_or_cut_answer_to_a_read_is_retried_then_given_up_saying_so(fault, said):
    b, script, clock = on_script(fault, answer(payload=META), answer(payload=VALUES))
    assert b.read().tabs and len(clock.waits) == 1 and 1 <= clock.waits[0] <= 2 and b.api_calls == 3
    b, script, clock = on_script(*[fault] * 50, budget=10)
    text = fails(b, 3)
    assert text.startswith("Google Sheets không phản hồi sau ") and text.endswith(f": {said}.")


def _ready(*write_answers, budget: float = 20) -> tuple[GoogleBackend, Snapshot, WriteSet, Script, Clock]:
    b, script, clock = on_script(answer(payload=META), answer(payload=VALUES), *write_answers, budget=budget)
    snap = b.read()
    changes = WriteSet(keys={"Theo dõi": (1, 2)})
    changes.set("Theo dõi", 2, 3, "Quá hạn 3 ngày")
    return b, snap, changes, script, clock


def test_a_write_is_the_key_re_read_then_one_batch_update():
    b, snap, changes, script, _ = _ready(answer(payload=KEYS), answer(payload={"replies": [{}]}))
    b.write(snap, changes)
    assert [name for _, name, _ in script.sent][2:] == ["values:batchGet", f"{SPREADSHEET_ID}:batchUpdate"]


def test_keys_that_moved_refuse_the_write():
    moved = {"valueRanges": [{"values": [["STT"], [99], [1]]}, {"values": [["Đơn vị"], ["VP"]]}]}
    b, snap, changes, script, _ = _ready(answer(payload=moved))
    with pytest.raises(StaleSnapshot, match="các dòng của 'Theo dõi' vừa bị thêm, xóa hoặc sắp xếp lại"):
        b.write(snap, changes)
    assert len(script.sent) == 3  # no batchUpdate


@pytest.mark.parametrize("fault, said", [
    (requests.exceptions.ChunkedEncodingError("cut"), "câu trả lời cho lần ghi bị cắt giữa chừng "
                                                      "(ChunkedEncodingError)"),
    (requests.exceptions.ReadTimeout("slow"), "mất kết nối hoặc hết thời gian chờ khi đang ghi (ReadTimeout)"),
], ids=["cut", "timeout"])
def test_an_unanswered_write_is_not_resent_but_left_to_the_pass_to_re_read(fault, said):
    b, snap, changes, script, clock = _ready(answer(payload=KEYS), fault)
    with pytest.raises(WriteUnknown) as err:
        b.write(snap, changes)
    assert str(err.value) == f"không rõ lần ghi đã được áp dụng hay chưa: {said}"
    assert not err.value.server_error and clock.waits == [] and len(script.sent) == 4


def test_a_server_error_on_the_write_waits_once_then_leaves_it_to_the_pass():
    b, snap, changes, script, clock = _ready(answer(payload=KEYS), answer(500))
    with pytest.raises(WriteUnknown) as err:
        b.write(snap, changes)
    assert err.value.server_error and "lỗi máy chủ Google HTTP 500 Internal error." in str(err.value)
    assert len(clock.waits) == 1 and 1 <= clock.waits[0] <= 2 and len(script.sent) == 4


def test_a_server_error_on_the_write_past_the_budget_is_exit_3_outcome_unknown():
    b, snap, changes, script, clock = _ready(answer(payload=KEYS), answer(500), budget=0.5)
    with pytest.raises(WriteGaveUp) as err:
        b.write(snap, changes)
    assert err.value.exit_code == 3 and isinstance(err.value, Unreachable) and err.value.server_error
    assert "trả lỗi máy chủ khi ghi" in str(err.value) and "không rõ lần ghi này đã được áp dụng hay chưa" in str(
        err.value)
    assert clock.waits == []


def test_429_and_503_to_the_write_are_retried_nothing_was_applied():
    b, snap, changes, script, clock = _ready(answer(payload=KEYS), answer(429, retry_after=2), answer(503),
                                             answer(payload={"replies": []}))
    b.write(snap, changes)
    assert clock.waits[0] == 2 and len(clock.waits) == 2 and len(script.sent) == 6


def test_a_refused_write_is_exit_2_saying_what_to_check():
    b, snap, changes, script, _ = _ready(answer(payload=KEYS), answer(400, message="You are trying to edit a "
                                                                                     "protected cell or object."))
    with pytest.raises(UserError) as err:
        b.write(snap, changes)
    assert err.value.exit_code == 2
    assert str(err.value) == (
        f"Google Sheets từ chối yêu cầu (HTTP 400): You are trying to edit a protected cell or object. Bảng tính "
        f"đang không cho phép thao tác này: kiểm tra bảng tính Google '{SPREADSHEET_ID}' — vùng hoặc tab được bảo "
        f"vệ (Dữ liệu → Trang tính và dải ô được bảo vệ) có cho {ACCOUNT} sửa không, các tab có bị đổi tên hoặc "
        "xóa không, bảng tính có vượt giới hạn 10 triệu ô không; sửa rồi chạy lại.")
    assert len(script.sent) == 4  # not retried


def test_a_refused_add_sheet_of_a_tab_now_there_is_a_moved_workbook():
    b, snap, _, script, _ = _ready(answer(400, message="Invalid requests[0].addSheet: A sheet with the name "
                                                       "\"Nhật ký\" already exists."))
    with pytest.raises(StaleSnapshot, match="tab 'Nhật ký' vừa được tạo trong lúc chạy"):
        b.write(snap, WriteSet(new_tabs=["Nhật ký"]))


@pytest.mark.parametrize("status, said", [
    (403, f"Tài khoản dịch vụ {ACCOUNT} chưa có quyền với bảng tính Google '{SPREADSHEET_ID}'. Mở bảng tính → "
          f"Chia sẻ → thêm {ACCOUNT} với quyền Người chỉnh sửa."),
    (404, f"Không tìm thấy bảng tính Google '{SPREADSHEET_ID}' (khóa cấu hình 'google.spreadsheet_id'). Id là đoạn "
          "giữa '/d/' và '/edit' trong địa chỉ của bảng tính."),
    (401, f"Google không chấp nhận mã truy cập của {ACCOUNT}; kiểm tra khóa tài khoản dịch vụ (khóa cấu hình "
          "'google.credentials_file')."),
])
def test_refusals_of_the_read_are_exit_2_naming_what_to_fix_not_retried(status, said):
    b, script, clock = on_script(answer(status))
    assert fails(b, 2) == said
    assert len(script.sent) == 1 and clock.waits == []


@pytest.mark.parametrize("status", [408, 409])
def test_timed_out_or_aborted_is_exit_3_try_again_later(status):
    b, script, clock = on_script(answer(status, message="The operation was aborted."))
    assert fails(b, 3) == (f"Google Sheets không hoàn tất yêu cầu (HTTP {status}): The operation was aborted. "
                           "Chạy lại sau ít phút.")
    assert len(script.sent) == 1


def test_the_budget_is_the_commands_not_each_requests():
    b, snap, changes, script, clock = _ready(answer(429, retry_after=8), answer(429, retry_after=8),
                                             answer(payload=KEYS), answer(429, retry_after=8), budget=20)
    with pytest.raises(Unreachable) as err:
        b.write(snap, changes)
    assert clock.waits == [8, 8] and "chỉ còn 4 giây" in str(err.value)


# --- credentials: the offline session reaches only the stand-in's host ---------------------------------------

def test_the_offline_session_never_leaves_for_google(api, key):
    """With google.api_base_url, the Sheets session and google-auth's own (token, regional access boundary
    lookup) reach only the stand-in's host: a Google address is refused before any socket opens."""
    creds = load_credentials(key)
    session = authorized_session(creds, api.base_url)
    lookup = f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{ACCOUNT}/allowedLocations"
    for url in (lookup, f"https://sheets.googleapis.com/v4/spreadsheets/{SPREADSHEET_ID}"):
        with pytest.raises(requests.exceptions.ConnectionError, match="is not contacted"):
            session.request("GET", url, timeout=1)
    assert creds.token in {c and t for t, c in api.tokens.items()}  # the token came from the stand-in
    with pytest.raises(requests.exceptions.ConnectionError, match="iamcredentials.googleapis.com is not contacted"):
        confined_session(frozenset({"127.0.0.1"})).get(lookup, timeout=1)  # what google-auth's calls go through
    sheet = session.request("GET", f"{api.base_url}/v4/spreadsheets/{SPREADSHEET_ID}", timeout=60)
    assert sheet.status_code == 200  # the stand-in itself is reached


# --- a write over 2 MB, split ------------------------------------------------------------------------------

def _applied(requests_parts: list[list[dict]]):
    """The stand-in's sheet after these batchUpdates, one after the other, each all-or-nothing."""
    from tests.sheets_api.store import Store
    store = Store()
    book = store.book(SPREADSHEET_ID)
    for part in requests_parts:
        contract.check_body(BATCH, {"requests": part})
        store.batch_update(book, part)
    return {s.title: (s.cells, s.merges, s.row_count, s.column_count) for s in book.sheets}


def test_a_write_over_the_limit_is_split_in_order_each_part_under_it_same_sheet_after(seeded, plan):
    """The pass's requests cut to 30 kB bodies (at 10,000 rows the cut is 2 MB): every body fits, the dashboard's
    one grid rewrite is cut into bands of rows, and the sheet after the parts is the sheet after the one write."""
    from sync.sheet.layout import build_init
    empty = Snapshot({})
    init = bodies.build({}, empty, build_init(plan, empty, Layout()), ACCOUNT, sheet_id=iter(range(500, 600)).__next__)
    snap = seeded.read()
    meta = {t: {"properties": {"sheetId": 500 + i, "title": t, "index": i,
                               "gridProperties": {"rowCount": 1000, "columnCount": 26}}}
            for i, t in enumerate(snap.tabs)}
    one = bodies.build(meta, snap, compute(snap, plan, Layout(), PassOptions(AsOf(AS_OF), NOW), "x").writes, ACCOUNT)
    assert bodies.split(one) == [one]  # a real pass of 76 rows: one body
    parts = bodies.split(one, 30_000)
    assert len(parts) > 3 and all(len(bodies.body_bytes({"requests": p})) <= 30_000 for p in parts)
    assert sum(1 for p in parts for r in p if "updateCells" in r) > sum(1 for r in one if "updateCells" in r)
    assert kinds(parts[-1])[-1] == kinds(one)[-1]  # order kept: the log line last, after the dashboard
    assert _applied([init, *parts]) == _applied([init, one])


def test_a_body_is_compact_utf8_half_what_ascii_escapes_make():
    text = {"requests": [{"note": "Quá hạn 12 ngày; Thiếu kết quả Quý III"}]}
    assert bodies.body_bytes(text) == json.dumps(text, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(bodies.body_bytes(text)) < 0.8 * len(json.dumps(text).encode())


def test_a_split_write_re_reads_the_row_keys_before_a_later_part_and_logs_once(api, key, plan):
    """Over HTTP with 6 kB bodies: each part after the first that addresses `Theo dõi` re-reads its keys first;
    a unit inserting a row between two parts stops the write (the next attempt redoes it on the rows as they
    are now), and the pass's line is written once, in the last part."""
    from sync.usecases.pipeline import run_pass

    from .test_google import backend as http_backend
    b = http_backend(api, key, budget=60)
    seed(b, plan, AS_OF)
    b.max_write_bytes = 6_000
    book = api.store.books[SPREADSHEET_ID]
    tracking = book.sheet(title="Theo dõi")
    start = len(api.api_requests())

    def unit_inserts_a_row(store):
        store.batch_update(book, [{"insertDimension": {"range": {"sheetId": tracking.sheet_id, "dimension": "ROWS",
                                                                 "startIndex": 3, "endIndex": 4}}}])
        store.values_write(book, "'Theo dõi'!A4:C4", [[99, "Nhiệm vụ thêm", "Phòng XYZ"]], False)

    api.fault(before=unit_inserts_a_row, path="values:batchGet", skip=2)  # the keys' re-read before part 2
    result = run_pass(b, plan, Layout(), PassOptions(AsOf(AS_OF), NOW))
    made = api.api_requests()[start:]
    assert result.attempts == 2 and "sắp xếp lại" in result.messages[0]
    writes = [e for e in made if e.method == "POST"]
    assert len(writes) > 3 and len(b.write_bytes) > 3 and max(b.write_bytes) <= 6_000
    log = api.store.values_get(api.store.books[SPREADSHEET_ID], "'Nhật ký'")["values"]
    assert sum(result.pass_id in line for line in log) == 1
    again = run_pass(http_backend(api, key, budget=60), plan, Layout(), PassOptions(AsOf(AS_OF), NOW, dry_run=True))
    assert again.writes.cells == {}  # every Kiểm tra / Cảnh báo is where a fresh pass puts it


def test_a_format_whose_header_row_lies_below_a_new_tab_grows_the_grid_first():
    """The guide's format names the empty row under the guide as its header: with a plan of many tasks that row
    lies past a new tab's 1,000 rows, and Google refuses a range outside the grid (found by the bench at 10,000
    rows: HTTP 400 "exceeds grid limits")."""
    from sync.core.workbook import TabFormat
    snap = Snapshot({})
    changes = WriteSet(new_tabs=["Hướng dẫn"], formats=[TabFormat("Hướng dẫn", frozen_rows=0, header_row=2301)])
    out = bodies.build({}, snap, changes, ACCOUNT, sheet_id=iter(range(500, 600)).__next__)
    grown = [r["updateSheetProperties"]["properties"]["gridProperties"].get("rowCount") for r in out
             if "updateSheetProperties" in r]
    header = [r["repeatCell"]["range"] for r in out if "repeatCell" in r][0]
    assert header["endRowIndex"] == 2301 and max(g for g in grown if g) >= 2301
    assert out.index(next(r for r in out if "repeatCell" in r)) > out.index(
        next(r for r in out if "rowCount" in r.get("updateSheetProperties", {}).get("properties", {}).get(
            "gridProperties", {})))

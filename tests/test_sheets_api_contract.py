"""The stand-in held to the real API: recorded requests replayed, answers compared in structure.

Each cassette (gspread's recordings of sheets.googleapis.com, in tests/sheets_api/cassettes) is replayed
in order against a fresh stand-in; for every Sheets API interaction the status code must match and the
answer must have the recorded shape (the same keys, nested the same way, the same kinds of values).
Values themselves differ (titles, random sheet ids), as they do between two real runs.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from .sheets_api import SheetsAPI, serve

CASSETTES = sorted((Path(__file__).parent / "sheets_api" / "cassettes").glob("*.json"))
#: Present in real answers, about the spreadsheet's look; the stand-in has no use for them.
DECORATIVE = {"defaultFormat", "spreadsheetTheme"}


@pytest.fixture
def api():
    state = SheetsAPI()
    server, _ = serve(state)
    state.base_url = f"http://127.0.0.1:{server.server_port}"
    state.tokens["test-token"] = {"scope": "https://www.googleapis.com/auth/spreadsheets"}
    yield state
    server.stop()


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k not in DECORATIVE}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def remap(value, ids: dict):
    """Sheet and protected range ids are the server's choice: carry the recording's over to ours."""
    if isinstance(value, dict):
        return {k: (ids.get(v, v) if k in ("sheetId", "protectedRangeId") else remap(v, ids)) for k, v in value.items()}
    if isinstance(value, list):
        return [remap(v, ids) for v in value]
    return value


def learn_ids(recorded, got, ids: dict) -> None:
    for mine, theirs in zip((got or {}).get("replies", []), (recorded or {}).get("replies", []), strict=True):
        if "addSheet" in theirs and "addSheet" in mine:
            ids[theirs["addSheet"]["properties"]["sheetId"]] = mine["addSheet"]["properties"]["sheetId"]
        if "addProtectedRange" in theirs and "addProtectedRange" in mine:
            ids[theirs["addProtectedRange"]["protectedRange"]["protectedRangeId"]] = \
                mine["addProtectedRange"]["protectedRange"]["protectedRangeId"]


def sheets_interactions(path: Path):
    for i in json.loads(path.read_text(encoding="utf-8"))["interactions"]:
        if urlsplit(i["request"]["uri"]).netloc == "sheets.googleapis.com":
            yield i


@pytest.mark.parametrize("cassette", CASSETTES, ids=[p.stem for p in CASSETTES])
def test_recorded_requests_get_answers_of_the_recorded_shape(api, cassette):
    replayed, ids = 0, {}
    for i in sheets_interactions(cassette):
        req, rec = i["request"], i["response"]
        parts = urlsplit(req["uri"])
        if rec["status"]["code"] == 403:  # that test's sheet was never shared with the caller
            api.store.denied.add(parts.path.split("/")[3].split(":")[0])
        got = requests.request(req["method"], f"{api.base_url}{parts.path}" + (f"?{parts.query}" if parts.query
                                                                                   else ""),
                               data=json.dumps(remap(json.loads(req["body"]), ids)).encode() if req["body"] else None,
                               headers={"Authorization": "Bearer test-token", "Content-Type": "application/json"},
                               timeout=10)
        where = f"{cassette.stem}: {req['method']} {req['uri']}"
        assert got.status_code == rec["status"]["code"], f"{where}\n{got.text[:500]}"
        recorded = json.loads(rec["body"]["string"]) if rec["body"]["string"] else None
        if recorded is not None:
            assert shape(got.json()) == shape(recorded), where
            learn_ids(recorded, got.json(), ids)
        replayed += 1
    assert replayed > 0


def test_unknown_field_wrong_enum_and_missing_mask_are_400(api):
    url = f"{api.base_url}/v4/spreadsheets/1CCHCkhanhHoaTheoDoiTuyenTruyen2024abcdefgh"
    auth = {"Authorization": "Bearer test-token"}
    bad_bodies = [
        {"requests": [{"updateCells": {"range": {"sheetId": 0}, "rows": [], "feilds": "note"}}]},  # unknown name
        {"requests": [{"updateCells": {"range": {"sheetId": 0}, "rows": []}}]},  # no fields mask
        {"requests": [{"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {"rowCount": "x"}},
                                                 "fields": "gridProperties.rowCount"}}]},  # wrong type
        {"requests": [{"setDataValidation": {"range": {"sheetId": 0}, "rule": {"condition": {"type": "ONE_OF"}}}}]},
    ]
    for body in bad_bodies:
        r = requests.post(url + ":batchUpdate", json=body, headers=auth, timeout=10)
        assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT", body
    r = requests.get(url + "/values:batchGet", params={"ranges": "A1", "valueRenderOption": "RAW"}, headers=auth,
                     timeout=10)
    assert r.status_code == 400
    r = requests.get(url, params={"includeGridData": "false", "colour": "red"}, headers=auth, timeout=10)
    assert r.status_code == 400
    r = requests.get(url, timeout=10)  # no token
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"


def test_a_failed_batch_changes_nothing(api):
    url = f"{api.base_url}/v4/spreadsheets/1CCHCkhanhHoaTheoDoiTuyenTruyen2024abcdefgh"
    auth = {"Authorization": "Bearer test-token"}
    body = {"requests": [
        {"updateCells": {"range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0,
                                   "endColumnIndex": 1},
                         "rows": [{"values": [{"userEnteredValue": {"stringValue": "đã ghi"}}]}],
                         "fields": "userEnteredValue"}},
        {"updateCells": {"range": {"sheetId": 0, "startRowIndex": 5000, "endRowIndex": 5001, "startColumnIndex": 0,
                                   "endColumnIndex": 1},
                         "rows": [{"values": [{"userEnteredValue": {"stringValue": "ngoài lưới"}}]}],
                         "fields": "userEnteredValue"}},
    ]}
    r = requests.post(url + ":batchUpdate", json=body, headers=auth, timeout=10)
    assert r.status_code == 400 and "exceeds grid limits" in r.json()["error"]["message"]
    r = requests.get(url + "/values/Sheet1", headers=auth, timeout=10)
    assert "values" not in r.json()


def test_a_copied_book_is_equal_and_shares_nothing():
    """copy_book (the tests' per-test copy of a seeded sheet) must behave as copy.deepcopy: equal, independent,
    and keeping references shared inside the book shared (the stand-in's batches rely on that)."""
    import copy
    import gc

    from .sheets_api.store import Sheet, Spreadsheet, copy_book
    fmt = {"textFormat": {"bold": True}}
    sheet = Sheet(0, "Theo dõi", 0, cells={(0, 0): {"userEnteredValue": {"stringValue": "Tình trạng"},
                                                    "userEnteredFormat": fmt},
                                           (0, 1): {"userEnteredFormat": fmt}},
                  protected_ranges=[{"protectedRangeId": 1, "editors": {"users": ["a@b"]}}])
    book = Spreadsheet("1CCHCkhanhHoaTheoDoiTuyenTruyen2024abcdefgh", "Theo dõi CCHC", [sheet], 2)
    copied = copy_book(book)
    assert copied == book == copy.deepcopy(book) and gc.isenabled()
    mine = copied.sheets[0]
    assert mine.cells[(0, 0)]["userEnteredFormat"] is mine.cells[(0, 1)]["userEnteredFormat"]
    mine.cells[(0, 0)]["userEnteredFormat"]["textFormat"]["bold"] = False
    mine.cells[(0, 0)]["userEnteredValue"]["stringValue"] = "Đã sửa"
    mine.protected_ranges[0]["editors"]["users"].append("c@d")
    mine.title = "Khác"
    assert sheet.cells[(0, 0)] == {"userEnteredValue": {"stringValue": "Tình trạng"},
                                   "userEnteredFormat": {"textFormat": {"bold": True}}}
    assert sheet.protected_ranges[0]["editors"]["users"] == ["a@b"] and sheet.title == "Theo dõi"
    gc.disable()
    try:
        copy_book(book)
        assert not gc.isenabled()  # a collector paused by the caller stays paused
    finally:
        gc.enable()


def test_a_fields_mask_naming_an_unknown_field_is_400_on_reads_too(api):
    """Google checks a `fields=` mask against the answer's message, on every method: a misspelt field, a field of
    another message, or a stray space after a comma is refused, never silently ignored."""
    from sync.backends.google_requests import META_FIELDS, ONE_READ_FIELDS
    url = f"{api.base_url}/v4/spreadsheets/1CCHCkhanhHoaTheoDoiTuyenTruyen2024abcdefgh"
    auth = {"Authorization": "Bearer test-token"}
    for mask in (META_FIELDS, ONE_READ_FIELDS, "sheets.properties.title", "*", "sheets(data.rowData.values(*))"):
        r = requests.get(url, params={"includeGridData": "true", "fields": mask}, headers=auth, timeout=10)
        assert r.status_code == 200, (mask, r.text)
    for mask in ("sheets(properties(sheetId,titel))", "sheets.data.rowData.values(note,effectiveValues)",
                 "properties, sheets.properties", "valueRanges"):
        r = requests.get(url, params={"fields": mask}, headers=auth, timeout=10)
        error = r.json()["error"]
        assert r.status_code == 400 and error["status"] == "INVALID_ARGUMENT", mask
        assert "Cannot find matching fields" in error["message"] and error["details"][0]["fieldViolations"][0][
            "field"] == "fields"
    r = requests.get(url + "/values:batchGet", params={"ranges": "A1", "fields": "valueRanges(values)"},
                     headers=auth, timeout=10)
    assert r.status_code == 200
    r = requests.get(url + "/values:batchGet", params={"ranges": "A1", "fields": "valueRanges(rows)"},
                     headers=auth, timeout=10)
    assert r.status_code == 400
    r = requests.post(url + ":batchUpdate", params={"fields": "replies,spreadsheetId,updatedSpreadsheet"},
                      json={"requests": []}, headers=auth, timeout=10)
    assert r.status_code == 200
    r = requests.post(url + ":batchUpdate", params={"fields": "replys"}, json={"requests": []}, headers=auth,
                      timeout=10)
    assert r.status_code == 400

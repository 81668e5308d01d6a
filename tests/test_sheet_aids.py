"""Each unit in its own rows: the guide tab, typed input (both backends), row protection by unit and filter views
(Google, through real gspread over HTTP to the stand-in)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import openpyxl
import yaml

from sync.backends.google_requests import ROW_TAG
from sync.backends.local_render import MARK
from sync.backends.memory import MemoryBackend
from sync.core.history import AsOf
from sync.core.schema import STATUSES, TRACKING_COLUMNS, Layout
from sync.sheet.layout import OPEN_VIEW, PRODUCT_EXAMPLES, GuideFacts, build_init, render_guide
from sync.sheet.sync_pass import PassOptions, compute

from .conftest import AS_OF, PLAN_PATH
from .google_helpers import ACCOUNT, SPREADSHEET_ID
from .test_google import api, key, unit_client  # noqa: F401  (fixtures: the stand-in on a free port, its key)

#: A Google pass of the 76-row plan: one masked read of values and notes, the row keys, one batchUpdate (the
#: protected rows and filter views ride in that batchUpdate: no request of their own)
PASS_REQUESTS = 3

OFFICE = "vanphong@khanhhoa.gov.vn"


def _text(styled) -> str:
    return "\n".join(str(v) for row in styled.rows for v in row if v not in (None, ""))


# --- the guide: generated from the plan and the settings ----------------------------------------------------

def test_the_guide_says_columns_statuses_products_cutoffs_deadlines_and_contacts(plan):
    text = _text(render_guide(plan, Layout(), GuideFacts(contact="Văn phòng Sở <vp@khanhhoa.gov.vn>")))
    for header in TRACKING_COLUMNS.values():
        assert header in text
    for status in STATUSES.values():
        assert status in text
    for kind, example in PRODUCT_EXAMPLES:
        assert kind in text and example in text
    assert "15/12/2023 đến 14/03/2024" in text and "15/09/2024 đến 14/12/2024" in text  # ND 09/2019 windows
    assert all(f"{t.stt}. " in text for t in plan.tasks)  # each task's deadline
    assert "vp@khanhhoa.gov.vn" in text and all(u.name in text for u in plan.registry.units)
    assert "Chế độ xem có bộ lọc" not in text  # the local workbook has no filter views


def test_the_guide_follows_renamed_tabs_and_columns_the_cutoff_day_and_the_year(plan):
    layout = Layout.from_overrides({"tracking": "Bảng của đơn vị"}, {"status": "Trạng thái"})
    text = _text(render_guide(dataclasses.replace(plan, year=2025), layout, GuideFacts(cutoff_day=10, google=True)))
    assert "'Bảng của đơn vị'" in text and "Trạng thái" in text
    assert "11/12/2024 đến 10/03/2025" in text and "2024 đến 14/03/2024" not in text
    assert "Đơn vị: <tên" in text  # how to open one's own filter view, on Google


def test_a_pass_rewrites_the_guide_only_when_the_sheet_shows_something_else(plan):
    b = MemoryBackend()
    b.write(b.read(), build_init(plan, b.read(), Layout()))
    opts = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8))
    assert "Hướng dẫn" not in compute(b.read(), plan, Layout(), opts, "test").writes.replace
    b.tabs["Hướng dẫn"].rows[0][0] = "ai đó gõ vào đây"
    assert "Hướng dẫn" in compute(b.read(), plan, Layout(), opts, "test").writes.replace


# --- typed input, local workbook ----------------------------------------------------------------------------

def _columns(ws) -> dict[str, str]:
    return {c.value: c.column_letter for c in ws[1] if c.value}


def _validations(ws) -> dict[str, list]:
    out: dict[str, list] = {}
    for v in ws.data_validations.dataValidation:
        for rng in v.sqref.ranges:
            out.setdefault(rng.coord.split(":")[0].rstrip("0123456789"), []).append(v)
    return out


def test_init_puts_warning_only_typed_input_on_the_local_workbook(inited_project):
    assert inited_project.cli("init")[0] == 0  # a second init replaces, never stacks
    wb = openpyxl.load_workbook(inited_project.workbook)
    assert "Hướng dẫn" in wb.sheetnames and wb["Hướng dẫn"].protection.sheet
    intro = wb["Hướng dẫn"]["A3"]  # a long paragraph: init's formatting leaves the guide's own wrapping alone
    assert len(intro.value) > 150 and intro.alignment.wrap_text
    ws = wb["Theo dõi"]
    col, rules = _columns(ws), _validations(ws)
    for header in ("Hạn hoàn thành", "Ngày hoàn thành"):
        [date] = rules[col[header]]
        assert (date.type, date.errorStyle, date.errorTitle) == ("date", "warning", MARK)
        assert "dd/mm/yyyy" in date.prompt and date.showInputMessage
    [count] = rules[col["Số lượng sản phẩm"]]
    assert (count.type, count.operator, count.formula1, count.errorStyle) == ("whole", "greaterThanOrEqual", "0",
                                                                              "warning")
    [evidence] = rules[col["Minh chứng"]]
    assert evidence.type is None and "Số 123/KH-STTTT" in evidence.prompt
    [status] = rules[col["Tình trạng"]]
    assert status.type == "list"  # the dropdown is untouched


# --- Google: the stand-in, a plan whose units have addresses ----------------------------------------------------

def _plan_with_emails(project, emails: dict[str, object]) -> str:
    raw = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    for unit in raw["units"]:
        unit["email"] = emails.get(unit["code"], f"{unit['code'].lower()}@khanhhoa.gov.vn")
    path = project.root / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def _configure(project, api, key, emails=None, office=(OFFICE,), protect=True):
    project.write_config({"backend": "google", "state": str(project.root / "state.sqlite"),
                          "plan": _plan_with_emails(project, emails or {}),
                          "google": {"spreadsheet_id": SPREADSHEET_ID, "credentials_file": str(key),
                                     "api_base_url": api.base_url, "timeout_s": 60, "retry_budget_s": 30,
                                     "protect_rows": protect, "office_editors": list(office)}})
    assert project.cli("init")[0] == 0


def _tracking(api):
    return api.store.books[SPREADSHEET_ID].sheet(title="Theo dõi")


def _unit_col(sheet) -> int:
    return next(c for (r, c), v in sheet.cells.items()
                if r == 0 and v.get("userEnteredValue", {}).get("stringValue") == "Đơn vị")


def _unit_of_rows(sheet) -> dict[int, str]:
    col = _unit_col(sheet)
    return {r: v["userEnteredValue"]["stringValue"] for (r, c), v in sheet.cells.items()
            if c == col and r > 0 and "userEnteredValue" in v}


def _ours(sheet) -> list[dict]:
    return [p for p in sheet.protected_ranges if (p.get("description") or "").startswith(ROW_TAG)]


def _misplaced(sheet) -> list[tuple[int, str, str]]:
    """(row, unit the range protects, unit the row holds) wherever they differ; rows of a unit left unprotected."""
    units = _unit_of_rows(sheet)
    covered = {}
    for p in _ours(sheet):
        g = p["range"]
        for r in range(g["startRowIndex"], g["endRowIndex"]):
            covered[r] = p["description"][len(ROW_TAG):].rsplit(" (mã ", 1)[0]
    return sorted({(r, covered.get(r, ""), u) for r, u in units.items() if covered.get(r, "") != u})


def test_each_units_rows_are_protected_for_its_editors_and_follow_a_sort(project, api, key, plan):
    _configure(project, api, key)
    first = project.run_json()
    assert first["api_calls"] == PASS_REQUESTS
    sheet = _tracking(api)
    assert _ours(sheet) and not _misplaced(sheet)
    for p in _ours(sheet):
        unit = next(u for u in plan.registry.units if p["description"].startswith(f"{ROW_TAG}{u.name} (mã "))
        assert set(p["editors"]["users"]) == {f"{unit.code.lower()}@khanhhoa.gov.vn", OFFICE, ACCOUNT}
        assert not p.get("warningOnly")

    # The Office sorts the tab by unit: the rows move, the protected ranges stay where they were.
    col = _unit_col(sheet) + 1
    rows = max(_unit_of_rows(sheet)) + 1
    unit_client(api, key).worksheet("Theo dõi").sort((col, "des"), range=f"A2:P{rows}")
    assert _misplaced(_tracking(api))  # the test can fail: the ranges no longer fit the rows

    second = project.run_json()
    assert second["api_calls"] == PASS_REQUESTS  # re-anchored inside the pass's one batchUpdate
    assert not _misplaced(_tracking(api))

    start = len(api.api_requests())
    assert project.run_json()["api_calls"] == PASS_REQUESTS
    [write] = [e for e in api.api_requests()[start:] if e.method == "POST"]
    assert not [r for r in write.body["requests"] if "addProtectedRange" in r or "deleteProtectedRange" in r]


def test_a_unit_without_a_usable_address_keeps_its_rows_open_and_status_says_so(project, api, key):
    _configure(project, api, key, emails={"BBT": None, "CONG": "khong-phai-dia-chi"})
    code, out, err = project.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 0
    assert "'khong-phai-dia-chi'" in err and "units[].email của đơn vị CONG" in err
    assert "chưa khóa các dòng của 'Ban Biên tập" in err
    protected = {p["description"] for p in _ours(_tracking(api))}
    assert protected and not any("Ban Biên tập" in d or "Cổng" in d for d in protected)
    code, out, _ = project.cli("status")
    assert "google.protect_rows" in out


def test_an_editor_google_refuses_leaves_protection_and_still_writes_the_cells(project, api, key):
    _configure(project, api, key, office=("nhanvien@gmail.com",))
    api.store.editor_domain = "khanhhoa.gov.vn"  # the organisation shares with its own addresses only
    code, out, err = project.cli("run", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 0, err
    assert "Google từ chối phần khóa dòng" in err and "nhanvien@gmail.com" in err
    assert not _ours(_tracking(api))
    log = api.store.books[SPREADSHEET_ID].sheet(title="Nhật ký")
    assert log.extent()[0] == 2  # the pass's line: the rest of the write went through


def test_protect_rows_off_protects_no_rows(project, api, key):
    _configure(project, api, key, protect=False)
    assert project.run_json()["api_calls"] == PASS_REQUESTS
    assert not _ours(_tracking(api))


# --- Google: typed input and filter views -------------------------------------------------------------------------

def test_init_puts_typed_input_on_google_as_warnings_with_vietnamese_messages(project, api, key):
    _configure(project, api, key, protect=False)
    sheet = _tracking(api)
    headers = {v["userEnteredValue"]["stringValue"]: c for (r, c), v in sheet.cells.items() if r == 0}
    rule = {h: sheet.cells[(1, headers[h])]["dataValidation"] for h in
            ("Hạn hoàn thành", "Ngày hoàn thành", "Số lượng sản phẩm", "Minh chứng")}
    assert rule["Ngày hoàn thành"]["condition"]["type"] == "DATE_IS_VALID"
    assert rule["Số lượng sản phẩm"]["condition"]["values"][0]["userEnteredValue"].startswith("=AND(ISNUMBER(")
    assert all(r["strict"] is False for r in rule.values())
    assert "Số 123/KH-STTTT" in rule["Minh chứng"]["inputMessage"]
    assert "dd/mm/yyyy" in rule["Hạn hoàn thành"]["inputMessage"]


def test_init_makes_a_filter_view_per_unit_and_a_pass_names_a_renamed_one_back(project, api, key, plan):
    _configure(project, api, key, protect=False)
    assert project.cli("init")[0] == 0  # twice: no second copy
    sheet = _tracking(api)
    titles = sorted(v["title"] for v in sheet.filter_views)
    assert titles == sorted([f"Đơn vị: {u.name}" for u in plan.registry.units] + [OPEN_VIEW])
    unit_col = _unit_col(sheet)
    mine = next(v for v in sheet.filter_views if v["title"] == f"Đơn vị: {plan.registry.units[0].name}")
    assert mine["filterSpecs"][0]["columnIndex"] == unit_col

    mine["title"] = "Của phòng tôi"  # a unit renames its view
    sheet.filter_views = [v for v in sheet.filter_views if v["title"] != OPEN_VIEW]  # and deletes another
    code, out, err = project.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 0
    assert "'Của phòng tôi'" in err and "đã đặt lại tên" in err
    assert sorted(v["title"] for v in _tracking(api).filter_views) == titles


def test_a_bad_office_editor_is_exit_2_naming_the_key(project):
    project.write_config({"google": {"office_editors": ["văn phòng"]}})
    code, _, err = project.cli("status")
    assert code == 2 and "google.office_editors" in err and "'văn phòng'" in err


# --- the request bodies, pure -------------------------------------------------------------------------------------

def test_row_ranges_still_right_are_kept_others_deleted_missing_added():
    from sync.backends.google_requests import row_description, row_requests
    from sync.core.workbook import RowOwners, UnitRows
    owners = RowOwners("Theo dõi", (UnitRows("VP", "Văn phòng Sở", ("vp@khanhhoa.gov.vn",), ((2, 3), (7, 7))),), 16)
    given = sorted(["vp@khanhhoa.gov.vn", ACCOUNT])
    kept = {"protectedRangeId": 1, "description": row_description("Văn phòng Sở", given),
            "range": {"startRowIndex": 1, "endRowIndex": 3, "startColumnIndex": 0, "endColumnIndex": 16},
            "editors": {"users": ["vp@khanhhoa.gov.vn", ACCOUNT, "chu-so-huu@gmail.com"]}}  # Google adds the owner
    moved = {**kept, "protectedRangeId": 2, "range": {**kept["range"], "startRowIndex": 9, "endRowIndex": 10}}
    stale_editor = {**kept, "protectedRangeId": 3, "range": {**kept["range"], "startRowIndex": 6, "endRowIndex": 7},
                    "description": row_description("Văn phòng Sở", sorted(given + [OFFICE]))}  # the Office no more
    not_ours = {**moved, "protectedRangeId": 4, "description": "[CCHC] Cột do công cụ ghi"}
    out = row_requests(owners, 0, [kept, moved, stale_editor, not_ours], ACCOUNT)
    assert [r["deleteProtectedRange"]["protectedRangeId"] for r in out if "deleteProtectedRange" in r] == [2, 3]
    [added] = [r["addProtectedRange"]["protectedRange"] for r in out if "addProtectedRange" in r]
    assert (added["range"]["startRowIndex"], added["range"]["endRowIndex"]) == (6, 7)
    assert added["editors"]["users"] == given


def test_a_refusal_of_one_of_the_appended_requests_is_told_apart_from_others():
    from sync.backends.google_requests import without_extras
    extras = [{"addProtectedRange": {}}, {"addFilterView": {}}]
    assert without_extras("Invalid requests[5].addProtectedRange: The user x@gmail.com …", 5, extras)
    assert without_extras("Invalid requests[4].updateCells: …", 5, extras) is None
    assert without_extras("Invalid requests[7].addSheet: …", 5, extras) is None

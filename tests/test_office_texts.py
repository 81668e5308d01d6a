"""The Office's own words for the report: the `Báo cáo` tab, read, checked, reported and given to the report."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl

from sync.backends.memory import MemoryBackend
from sync.core import validation
from sync.core.history import AsOf
from sync.core.periods import Period
from sync.core.schema import OFFICE_COLUMNS, Layout
from sync.core.tables import locate
from sync.core.validation import MAX_CHARS, check, section_key
from sync.core.workbook import Snapshot, Tab
from sync.sheet.layout import build_init
from sync.sheet.sync_pass import PassOptions, compute
from sync.usecases.pipeline import run_pass

from .conftest import AS_OF
from .test_google import api, key  # noqa: F401  (fixtures: the Sheets stand-in and a key for it)
from .workbooks import values

TAB = "Báo cáo"
HEADER = ["Kỳ báo cáo", "Mục", "Nội dung", "Kiểm tra"]
H1 = Period(2024, "H1")
OPTS = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8, 0))


def _read(*rows, cycle="cchc"):
    snapshot = Snapshot({TAB: Tab(TAB, [HEADER, *[list(r) for r in rows]])})
    return check(locate(snapshot, TAB, OFFICE_COLUMNS, ("period",), "wb"), OFFICE_COLUMNS, 2024, cycle)


def _problems(texts) -> dict[int, str]:
    return {i.row: i.message for i in texts.issues}


# --- the pure reading ---------------------------------------------------------------------------------------

def test_every_spelling_of_a_period_and_a_section_is_read():
    texts = _read(["6 tháng đầu năm 2024", "Chỉ đạo, điều hành", "Ban hành Kế hoạch số 12/KH-STTTT."],
                  ["2024H1", "UU DIEM", "Các đơn vị chủ động."],
                  ["Quý II/2024", "3. Nguyên nhân", "Do nhân lực mỏng."],  # Q2 is the 6-month report
                  ["2024h1", "Phương hướng – nhiệm vụ", "Tiếp tục đăng tin."],
                  ["6 thang dau nam 2024", "đề xuất, kiến nghị", "Không."],
                  ["Quý I/2024", "Văn bản yêu cầu", "Công văn số 456/SNV-CCHC ngày 01/3/2024"],
                  ["", "", ""])
    assert texts.issues == []
    assert texts.for_period(H1) == {"chi_dao": "Ban hành Kế hoạch số 12/KH-STTTT.",
                                    "uu_diem": "Các đơn vị chủ động.", "nguyen_nhan": "Do nhân lực mỏng.",
                                    "phuong_huong": "Tiếp tục đăng tin.", "kien_nghi": "Không."}
    assert texts.for_period(Period(2024, "Q1")) == {"van_ban_yeu_cau": "Công văn số 456/SNV-CCHC ngày 01/3/2024"}
    assert list(texts.for_period(H1)) == ["chi_dao", "uu_diem", "nguyen_nhan", "phuong_huong", "kien_nghi"]


def test_an_unknown_section_or_period_is_named_with_what_to_type():
    texts = _read(["2024H1", "Uu diem cua ky", "x"],  # not a section
                  ["2024H1", "Ưu đỉm", "y"],  # a typo: the closest section suggested
                  ["Tháng 7/2024", "Ưu điểm", "z"],
                  ["6 tháng đầu năm 2023", "Ưu điểm", "w"],
                  ["", "Kiến nghị", "v"],
                  ["2024Y", "", "u"])
    problems = _problems(texts)
    assert "không có trong báo cáo" in problems[2] and "'Chỉ đạo, điều hành'" in problems[2]
    assert "có phải 'Ưu điểm'?" in problems[3]
    assert "'Tháng 7/2024' không đọc được" in problems[4] and "6 tháng đầu năm 2024" in problems[4]
    assert "không thuộc năm của Kế hoạch (2024)" in problems[5]
    assert "Thiếu Kỳ báo cáo" in problems[6]
    assert "Thiếu Mục" in problems[7]
    assert texts.texts == []


def test_a_page_pasted_as_a_period_or_section_is_quoted_by_its_start():
    """A message lands in a cell (Excel keeps 32,767 characters): it quotes what was typed, not all of it."""
    pasted = "Quý I năm 2024 và những việc khác " * 1000
    problems = _problems(_read([pasted, "Ưu điểm", "x"], ["2024H1", pasted, "y"]))
    assert len(problems) == 2
    for problem in problems.values():
        assert "'Quý I năm 2024 và những việc khác" in problem and "…'" in problem and len(problem) < 1_000


def test_a_section_typed_twice_for_a_period_is_used_from_neither_row():
    texts = _read(["2024H1", "Ưu điểm", "Một."], ["6 tháng đầu năm 2024", "ưu điểm", "Hai."],
                  ["2024H1", "Ưu điểm", ""],  # an empty row is not a second paragraph
                  ["2024Q3", "Ưu điểm", "Ba."])
    problems = _problems(texts)
    assert set(problems) == {2, 3} and "các dòng 2, 3" in problems[2]
    assert texts.for_period(H1) == {} and texts.for_period(Period(2024, "Q3")) == {"uu_diem": "Ba."}


def test_a_paragraph_longer_than_the_limit_is_refused_and_one_at_the_limit_is_kept():
    at_limit, over = "a" * MAX_CHARS, "b" * (MAX_CHARS + 1)
    texts = _read(["2024H1", "Ưu điểm", at_limit], ["2024H1", "Nguyên nhân", over])
    assert texts.for_period(H1) == {"uu_diem": at_limit}
    assert f"dài {MAX_CHARS + 1:,} ký tự".replace(",", ".") in _problems(texts)[3]


def test_control_characters_are_removed_and_a_formula_is_refused():
    texts = _read(["2024H1", "Ưu điểm", "Đăng\x0b 45 tin,\x07 bài.\r\nTổ chức 03 hội nghị."],
                  ["2024H1", "Kiến nghị", "=HYPERLINK(\"http://x\")"],
                  ["2024H1", "Phương hướng", "- Tiếp tục đăng tin;\n+ Tổ chức tập huấn."])  # bullets are text
    assert texts.for_period(H1) == {"uu_diem": "Đăng 45 tin, bài.\nTổ chức 03 hội nghị.",
                                    "phuong_huong": "- Tiếp tục đăng tin;\n+ Tổ chức tập huấn."}
    assert "công thức" in _problems(texts)[3]


def test_a_six_month_period_in_the_quarterly_cycle_names_the_setting():
    texts = _read(["2024H1", "Ưu điểm", "x"], ["Quý II/2024", "Ưu điểm", "y"], cycle="quarterly")
    assert "report.cycle" in _problems(texts)[2]
    assert texts.for_period(Period(2024, "Q2")) == {"uu_diem": "y"}


def test_section_names_fold_accents_case_dashes_and_numbering():
    assert section_key("II. CHỈ ĐẠO, ĐIỀU HÀNH") == "chi_dao"
    assert section_key("Chi dao - dieu hanh") == "chi_dao"
    assert section_key("Van ban yeu cau.") == "van_ban_yeu_cau"
    assert section_key("Tồn tại") is None and section_key("") is None


# --- a pass: the tab's Kiểm tra and the dashboard's list ----------------------------------------------------

def _inited(plan) -> MemoryBackend:
    backend = MemoryBackend()
    snap = backend.read()
    backend.write(snap, build_init(plan, snap, Layout()))
    return backend


def _type(backend: MemoryBackend, rows: list[list]) -> None:
    tab = backend.read().find_tab(TAB)
    assert tab is not None and tab.rows[0] == HEADER
    backend.tabs[TAB].rows = [HEADER] + [list(r) + [None] * (4 - len(r)) for r in rows]


def test_init_lays_out_the_tab_and_a_pass_writes_only_its_kiem_tra(plan):
    backend = _inited(plan)
    _type(backend, [["2024H1", "Ưu điểm", "Tốt."], ["2024H1", "Ưu diem", "Trùng."], ["2023Y", "Kiến nghị", "Cũ."],
                    [None, None, None, "Lỗi cũ do công cụ ghi"]])
    typed = [list(r[:3]) for r in backend.tabs[TAB].rows]
    result = run_pass(backend, plan, Layout(), OPTS)
    rows = backend.tabs[TAB].rows
    assert [list(r[:3]) for r in rows] == typed  # the Office's cells untouched
    assert rows[1][3].startswith("Trùng Kỳ báo cáo và Mục") and rows[2][3] == rows[1][3]
    assert rows[3][3].startswith("Kỳ báo cáo '2023Y'") and "không thuộc năm" in rows[3][3]
    assert rows[4][3] in ("", None)  # stale text on an emptied row cleared
    office_errors = [i for i in result.summary.errors if i.tab == "office"]
    assert [i.row for i in office_errors] == [2, 3, 4]
    dashboard = backend.tabs["Tổng hợp"].rows
    listed = [r for r in dashboard if TAB in r]
    assert len(listed) == 3 and any("Mục" in r for r in listed)
    # fixed: the next pass clears the cells, and a pass writing nothing new writes nothing there
    backend.tabs[TAB].rows[2][:3] = ["2024H1", "Nguyên nhân", "Do thiếu người."]
    backend.tabs[TAB].rows[3][:3] = [None, None, None]
    run_pass(backend, plan, Layout(), OPTS)
    assert all(r[3] in ("", None) for r in backend.tabs[TAB].rows[1:])
    again = compute(backend.read(), plan, Layout(), OPTS, "wb")
    assert TAB not in again.writes.cells


def test_a_workbook_without_the_tab_still_passes(plan):
    backend = _inited(plan)
    del backend.tabs[TAB]
    result = run_pass(backend, plan, Layout(), OPTS)
    assert not [i for i in result.summary.errors if i.tab == "office"]
    assert backend.read().find_tab(TAB) is None  # a pass does not lay the tab out: init does


def test_a_tab_of_that_name_that_is_not_ours_is_left_alone_with_a_warning(plan):
    backend = _inited(plan)
    backend.tabs[TAB].rows = [["Ghi chép riêng", "của Văn phòng"], ["x", "y"]]
    result = run_pass(backend, plan, Layout(), OPTS)
    assert any(TAB in m and "câu tính từ số liệu" in m for m in result.messages)
    assert backend.tabs[TAB].rows == [["Ghi chép riêng", "của Văn phòng"], ["x", "y"]]


def test_the_tab_name_is_configurable(plan):
    layout = Layout.from_overrides({"office": "Nội dung báo cáo"})
    backend = MemoryBackend()
    snap = backend.read()
    backend.write(snap, build_init(plan, snap, layout))
    assert backend.read().find_tab("Nội dung báo cáo") is not None and backend.read().find_tab(TAB) is None
    backend.tabs["Nội dung báo cáo"].rows.append(["2024H1", "Không rõ", "x", None])
    run_pass(backend, plan, layout, OPTS)
    assert "Mục 'Không rõ'" in backend.tabs["Nội dung báo cáo"].rows[1][3]


# --- the local workbook and the report --------------------------------------------------------------------

def _type_xlsx(path, rows) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[TAB]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c).value = value
    wb.save(path)


def test_local_init_adds_the_tab_to_an_older_workbook_and_a_pass_checks_it(demo_project):
    wb = openpyxl.load_workbook(demo_project.workbook)
    del wb[TAB]  # a workbook made before the tab existed
    wb.save(demo_project.workbook)
    assert demo_project.run_json()["errors"] >= 0  # still works without it
    code, out, err = demo_project.cli("init")
    assert code == 0, err and f"'{TAB}'" in out
    assert values(demo_project.workbook, TAB)[TAB][0][:4] == tuple(HEADER)
    _type_xlsx(demo_project.workbook, [["2024Q3", "Ưu điểm", "Các đơn vị phối hợp tốt."],
                                       ["2024Q3", "Kien nghi lạ", "x"]])
    before = demo_project.run_json()["errors"]
    grid = values(demo_project.workbook, TAB)[TAB]
    assert grid[1][3] in (None, "") and "Mục 'Kien nghi lạ'" in grid[2][3]
    assert grid[1][:3] == ("2024Q3", "Ưu điểm", "Các đơn vị phối hợp tốt.")
    _type_xlsx(demo_project.workbook, [[], ["2024Q3", "Kiến nghị", "Không."]])
    assert demo_project.run_json()["errors"] == before - 1


def test_gather_gives_the_report_the_periods_valid_paragraphs(demo_project, monkeypatch):
    from sync.reports import build

    _type_xlsx(demo_project.workbook, [["Quý III/2024", "Chỉ đạo, điều hành", "Sở ban hành Công văn số 1."],
                                       ["2024Q3", "Kiến nghị", "=1+1"],
                                       ["2024H1", "Ưu điểm", "Của kỳ khác."],
                                       ["2024Q3", "Van ban yeu cau", "Công văn số 456/SNV-CCHC."]])
    seen = {}
    real_write = build.write

    def write_and_see(report, *args, **kw):
        seen["r"] = report
        return real_write(report, *args, **kw)
    monkeypatch.setattr(build, "write", write_and_see)
    code, out, err = demo_project.cli("report", "--period", "2024Q3", "--date", "2024-09-20", "--json")
    assert code == 0, err
    assert seen["r"].office == {"chi_dao": "Sở ban hành Công văn số 1.",
                                "van_ban_yeu_cau": "Công văn số 456/SNV-CCHC."}
    result = json.loads(out[out.index("{"):])
    assert result["office"] == ["chi_dao", "van_ban_yeu_cau"]
    # the sections the document fills from the data: those the Office typed nothing valid for
    computed = ["Ưu điểm", "Nguyên nhân", "Phương hướng", "Kiến nghị"]
    assert result["computed_sections"] == computed
    assert "Chưa có nội dung do Văn phòng nhập: " + ", ".join(computed) in err + out
    assert f"Tab '{TAB}': 1 lỗi" in err + out and "dòng 3" in err + out


def test_read_without_the_tab_is_empty():
    texts, warnings = validation.read(Snapshot({}), Layout(), 2024)
    assert texts.texts == [] and texts.issues == [] and warnings == []


# --- the Google Sheet -------------------------------------------------------------------------------------

def test_google_init_adds_the_tab_and_a_pass_writes_its_kiem_tra_in_four_requests(api, key, plan):
    from .google_helpers import SPREADSHEET_ID
    from .test_google import backend as google_backend
    from .test_google import unit_client

    b = google_backend(api, key)
    snap = b.read()
    b.write(snap, build_init(plan, snap, Layout()))
    sheet = unit_client(api, key).worksheet(TAB)
    assert sheet.row_values(1) == HEADER
    sheet.update([["6 tháng đầu năm 2024", "Ưu điểm", "Các đơn vị chủ động."],
                  ["2024H1", "Mục lạ", "x"]], "A2:C3", raw=True)
    b = google_backend(api, key)
    result = run_pass(b, plan, Layout(), OPTS)
    assert b.api_calls == 4
    assert [i.row for i in result.summary.errors if i.tab == "office"] == [3]
    rows = unit_client(api, key).worksheet(TAB).get_all_values()
    assert rows[1] == ["6 tháng đầu năm 2024", "Ưu điểm", "Các đơn vị chủ động.", ""]
    assert rows[2][:3] == ["2024H1", "Mục lạ", "x"] and "Mục 'Mục lạ'" in rows[2][3]
    book = api.store.books[SPREADSHEET_ID]
    assert book.sheet(title=TAB) is not None
    texts = compute(google_backend(api, key).read(), plan, Layout(), OPTS, "google").office
    assert texts.for_period(H1) == {"uu_diem": "Các đơn vị chủ động."}

"""The shape of the sheet as units really leave it (issue 9, items 4–6), on real .xlsx files, on the Sheets
API stand-in over real HTTP, and on the memory reference backend.

4. Two columns whose headers fold the same: exit 2 before any write, naming both letters and the header.
5. A missing header with a close one present: `run` and `init` exit 2 naming that column and both fixes
   (rename it back, or map it under `headers:`); `init` never adds an empty twin.
6. Merged cells: read as they show (the range's value for every row it covers), never written into; the
   pass says in Vietnamese which cells it could not write.
"""
from __future__ import annotations

import copy
import hashlib
import json

import openpyxl
import pytest
import yaml

from sync.backends.memory import MemoryBackend
from sync.core.plan import load_plan
from sync.core.schema import PLAN_COLUMNS, TRACKING_COLUMNS, Layout
from sync.core.tables import is_close, letters
from sync.usecases.demo import seed
from sync.usecases.pipeline import run_pass

from .conftest import AS_OF, PLAN_PATH
from .google_helpers import SPREADSHEET_ID
from .test_faults_google import seeded, seeded_book  # noqa: F401  (fixture)
from .test_google import OPTS, api, backend, google, key, unit_client  # noqa: F401  (fixtures)
from .workbooks import col, grid, grid_of, values
from .workbooks import header as header_row

TRACK, PLAN = "Theo dõi", "Kế hoạch"
#: What the job writes in the tracking tab; every other cell there is typed by a unit or the Office.
JOB_HEADERS = ("Kiểm tra", "Cảnh báo")


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def typed_cells(path) -> dict:
    """Every cell of the plan and tracking tabs except the job's own two columns."""
    tabs = values(path, PLAN, TRACK)  # one read-only load for both tabs
    job = {tabs[TRACK][0].index(h) + 1 for h in JOB_HEADERS}
    out = {(PLAN, p): v for p, v in grid_of(tabs[PLAN]).items()}
    out.update({(TRACK, p): v for p, v in grid_of(tabs[TRACK]).items() if p[1] not in job})
    return out


def edit_xlsx(path, fn) -> None:
    wb = openpyxl.load_workbook(path)
    fn(wb)
    wb.save(path)


# --- 4. duplicated headers ----------------------------------------------------------------------------------

def test_a_units_own_kiem_tra_column_stops_the_pass_before_any_write(demo_project):
    path = demo_project.workbook
    ours = col(path, TRACK, "Kiểm tra")

    def add_twin(wb):
        ws = wb[TRACK]
        ws.cell(row=1, column=ws.max_column + 1).value = "KIỂM TRA"
        for r in range(2, 78):
            ws.cell(row=r, column=ws.max_column).value = f"Đã rà soát {r}"
    edit_xlsx(path, add_twin)
    theirs = len(header_row(path, TRACK))
    before = sha(path)
    for command in ("run", "init"):
        code, out, err = demo_project.cli(command, *(("--as-of", AS_OF.isoformat()) if command == "run" else ()))
        assert code == 2, (command, err)
        assert f"cột {letters(ours)} ('Kiểm tra')" in err and f"cột {letters(theirs)} ('KIỂM TRA')" in err
        assert "'Theo dõi'" in err and "chưa ghi gì" in err and "Traceback" not in err
        assert sha(path) == before  # nothing written: the unit's 76 cells are all still there
    assert [grid(path, TRACK)(r, theirs) for r in (2, 77)] == [
        "Đã rà soát 2", "Đã rà soát 77"]


def test_a_duplicated_header_in_the_plan_tab_is_named_with_both_letters(demo_project):
    path = demo_project.workbook
    first = col(path, PLAN, "Hạn hoàn thành")

    def add_twin(wb):
        ws = wb[PLAN]
        ws.cell(row=1, column=ws.max_column + 1).value = "HẠN HOÀN  THÀNH"  # folds the same
    edit_xlsx(path, add_twin)
    second = len(header_row(path, PLAN))
    before = sha(path)
    code, _, err = demo_project.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 2
    assert f"cột {letters(first)}" in err and f"cột {letters(second)}" in err and "'Hạn hoàn thành'" in err
    assert "'Kế hoạch'" in err and sha(path) == before


# --- 5. renamed headers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("header,renamed,key", [
    ("Tình trạng", "Trạng thái", "status"),          # a synonym units use
    ("Tình trạng", "Tình trạg", "status"),           # a typo
    ("Tình trạng", "Tình trạng thực hiện", "status"),  # words added
    ("Kết quả Quý I", "Kết quả Q1", "q1"),          # an optional column: its figures would all go wrong
    ("Ngày hoàn thành", "Ngày HT", "done_date"),
    ("Kiểm tra", "Kiem tr", "check"),
    # a quarter's result column, however the quarter is written (review finding 2)
    ("Kết quả Quý I", "Kết quả thực hiện Quý I", "q1"),
    ("Kết quả Quý I", "KQ thực hiện quý I", "q1"),
    ("Kết quả Quý I", "Kết quả quý 1 (đơn vị ghi)", "q1"),
    ("Kết quả Quý I", "Quý I/2024", "q1"),
    ("Kết quả Quý III", "Kết quả thực hiện quý 3 năm 2024", "q3"),
])
def test_a_renamed_header_stops_run_and_init_with_both_fixes(demo_project, header, renamed, key):
    path = demo_project.workbook
    c = col(path, TRACK, header)
    edit_xlsx(path, lambda wb: setattr(wb[TRACK].cell(row=1, column=c), "value", renamed))
    before, width = sha(path), len(header_row(path, TRACK))
    for command in ("run", "init"):
        code, _, err = demo_project.cli(command)
        assert code == 2, (command, err)
        assert f"thiếu cột '{header}'" in err and f"cột {letters(c)} có tiêu đề gần giống: '{renamed}'" in err
        assert f"đổi tên cột {letters(c)} ('{renamed}') trở lại thành '{header}'" in err
        line = f"{key}: {json.dumps(renamed, ensure_ascii=False)}"
        assert f"       headers:\n         {line}\n" in err
        assert yaml.safe_load(f"headers:\n  {line}\n") == {"headers": {key: renamed}}  # the line is valid YAML
        assert sha(path) == before and len(header_row(path, TRACK)) == width  # no empty twin


def test_both_fixes_work(demo_project, demo_summary):
    path = demo_project.workbook
    c = col(path, TRACK, "Tình trạng")
    baseline = demo_summary  # the same pass on an untouched copy of the demo workbook
    edit_xlsx(path, lambda wb: setattr(wb[TRACK].cell(row=1, column=c), "value", "Trạng thái"))
    assert demo_project.cli("run")[0] == 2
    demo_project.write_config({"headers": {"status": "Trạng thái"}})  # fix 2: map it
    mapped = demo_project.run_json()
    assert demo_project.cli("init")[0] == 0 and len(header_row(path, TRACK)) == 16
    demo_project.write_config({})
    edit_xlsx(path, lambda wb: setattr(wb[TRACK].cell(row=1, column=c), "value", "Tình trạng"))  # fix 1
    renamed_back = demo_project.run_json()
    for summary in (mapped, renamed_back):
        assert {k: summary[k] for k in ("rows", "done", "in_progress", "overdue", "errors")} == {
            k: baseline[k] for k in ("rows", "done", "in_progress", "overdue", "errors")}


def test_a_filled_twin_of_a_known_column_stops_run_and_init_naming_both(demo_project):
    """Review finding 12: `Tình trạng` and `Trạng thái` side by side, units typing into both: the job read one
    and ignored the other's values (exit 0). Now exit 2 naming both columns; nothing written."""
    path = demo_project.workbook
    status = col(path, TRACK, "Tình trạng")

    def twin(wb):
        ws = wb[TRACK]
        c = ws.max_column + 1
        ws.cell(row=1, column=c).value = "Trạng thái"
        ws.cell(row=3, column=c).value = "Hoàn thành"
    edit_xlsx(path, twin)
    theirs = letters(len(header_row(path, TRACK)))
    before = sha(path)
    for command in ("run", "init"):
        code, out, err = demo_project.cli(command)
        assert code == 2, (command, out, err)
        assert f"cột {letters(status)} ('Tình trạng') và cột {theirs} ('Trạng thái') có tiêu đề cùng nghĩa" in err
        assert f"cột {theirs} có dữ liệu (1 ô, ví dụ {theirs}3: 'Hoàn thành')" in err and "chưa ghi gì" in err
        assert f"chuyển dữ liệu của cột {theirs} sang cột {letters(status)}" in err
        assert sha(path) == before


def test_a_mapped_header_beside_the_filled_default_column_stops(demo_project):
    """`headers: {status: "Trạng thái"}` while a filled `Tình trạng` column is still there: exit 2."""
    path = demo_project.workbook
    status = col(path, TRACK, "Tình trạng")

    def twin(wb):
        ws = wb[TRACK]
        ws.cell(row=1, column=ws.max_column + 1).value = "Trạng thái"
    edit_xlsx(path, twin)
    ours = letters(len(header_row(path, TRACK)))
    demo_project.write_config({"headers": {"status": "Trạng thái"}})
    before = sha(path)
    code, _, err = demo_project.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 2, err
    assert f"cột {ours} ('Trạng thái') và cột {letters(status)} ('Tình trạng') có tiêu đề cùng nghĩa" in err, err
    assert sha(path) == before


def test_an_empty_twin_is_only_a_warning(demo_project, demo_summary):
    path = demo_project.workbook
    baseline = demo_summary  # the same pass on an untouched copy of the demo workbook
    status = col(path, TRACK, "Tình trạng")
    edit_xlsx(path, lambda wb: setattr(wb[TRACK].cell(row=1, column=wb[TRACK].max_column + 1), "value",
                                       "Trạng thái"))
    theirs = letters(len(header_row(path, TRACK)))
    typed = typed_cells(path)
    code, out, err = demo_project.cli("run", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 0, err
    assert f"cột {theirs} ('Trạng thái') còn trống và có tiêu đề gần giống cột {letters(status)} ('Tình trạng')" \
        in err, err
    assert json.loads(out)["rows"] == baseline["rows"] and typed_cells(path) == typed


#: Columns Offices really add beside the job's: none of them stands for a header the job knows.
OFFICE_COLUMNS = ["Người cập nhật", "Ngày cập nhật", "Link Drive", "Đánh giá của Văn phòng", "Điểm thi đua",
                  "Xếp loại", "Kinh phí (triệu đồng)", "Số điện thoại", "Email đầu mối", "Tỷ lệ (%)",
                  "Người phụ trách", "Ý kiến lãnh đạo", "Năm", "Tháng", "Lĩnh vực", "Mức độ ưu tiên"]


def test_a_quarter_header_is_close_to_its_own_quarter_only():
    for typed, q in [("Kết quả thực hiện Quý I", 1), ("KQ thực hiện quý I", 1), ("Kết quả quý 1 (đơn vị ghi)", 1),
                     ("Quý I/2024", 1), ("Quý II/2024", 2), ("Kết quả Q3", 3), ("Kết quả Quý 4", 4),
                     ("Tình hình thực hiện Quý IV", 4), ("Kết quả Quý I năm 2024", 1)]:
        for other in (1, 2, 3, 4):
            key, header = f"q{other}", TRACKING_COLUMNS[f"q{other}"]
            assert is_close(key, header, typed) == (other == q), (typed, header)
    for office in ("Kinh phí Quý I", "Số tin bài Quý II", "Ghi chú quý 3"):  # an Office's own quarterly figures
        assert not any(is_close(f"q{q}", TRACKING_COLUMNS[f"q{q}"], office) for q in (1, 2, 3, 4)), office


@pytest.mark.parametrize("office", OFFICE_COLUMNS)
def test_unrelated_office_columns_are_not_close_to_any_header(office):
    for column, header in {**PLAN_COLUMNS, **TRACKING_COLUMNS}.items():
        assert not is_close(column, header, office), (office, header)


def test_close_headers_are_close():
    for column, header, typed in [("status", "Tình trạng", "TRẠNG THÁI"), ("q3", "Kết quả Quý III", "KQ Quý 3"),
                               ("stt", "STT", "Số TT"), ("evidence", "Minh chứng", "Minhchứng"),
                               ("flags", "Cảnh báo", "Canh bá"), ("quantity", "Số lượng sản phẩm", "Số lượng"),
                               ("status", "Trạng thái", "Tình trạng")]:  # config renamed it: the default is close
        assert is_close(column, header, typed), (header, typed)


def test_office_columns_and_a_deleted_optional_column_do_not_stop_anything(demo_project):
    """Only a close header stops: with unrelated columns around, a missing optional column is simply skipped,
    and `init` puts it back."""
    path = demo_project.workbook
    gone = col(path, TRACK, "Minh chứng")

    def reshape(wb):
        ws = wb[TRACK]
        ws.delete_cols(gone)
        for i, name in enumerate(OFFICE_COLUMNS[:6]):
            ws.cell(row=1, column=ws.max_column + 1 + i).value = name
    edit_xlsx(path, reshape)
    typed = typed_cells(path)
    assert demo_project.run_json()["rows"] == 76
    assert typed_cells(path) == typed
    code, _, err = demo_project.cli("init")
    assert code == 0, err
    assert "Minh chứng" in header_row(path, TRACK)


# --- 6. merged cells ---------------------------------------------------------------------------------------

def task_groups(path) -> list[tuple[int, int]]:
    """(first row, last row) of each task's unit rows in the tracking tab."""
    ws = grid(path, TRACK)
    groups: list[list[int]] = []
    for r in range(2, ws.max_row + 1):
        stt = ws(r, 1)
        if groups and ws(groups[-1][0], 1) == stt:
            groups[-1][1] = r
        elif stt is not None:
            groups.append([r, r])
    return [tuple(g) for g in groups]


def test_merged_stt_over_each_tasks_rows_reads_as_before(demo_project, demo_summary):
    path = demo_project.workbook
    baseline = demo_summary  # the same pass on an untouched copy of the demo workbook
    groups = [g for g in task_groups(path) if g[1] > g[0]]
    assert len(groups) >= 10

    def merge(wb):
        for first, last in groups:
            wb[TRACK].merge_cells(start_row=first, start_column=1, end_row=last, end_column=1)
    edit_xlsx(path, merge)
    typed = typed_cells(path)
    summary = demo_project.run_json()
    assert {k: summary[k] for k in ("rows", "done", "overdue", "errors", "missing_quarterly")} == {
        k: baseline[k] for k in ("rows", "done", "overdue", "errors", "missing_quarterly")}
    assert typed_cells(path) == typed
    wb = openpyxl.load_workbook(path)
    assert len(wb[TRACK].merged_cells.ranges) == len(groups)  # the layout is left as the unit made it
    code, out, err = demo_project.cli("init")  # no task row is "missing" because its STT is merged
    assert code == 0 and "không có gì mới" in out, err
    assert typed_cells(path) == typed


def _bad_status(wb, row: int) -> None:
    wb[TRACK].cell(row=row, column=6).value = "Xong rồi"  # not a status: the row gets a Kiểm tra message


def test_a_merged_kiem_tra_range_is_written_where_it_can_and_the_rest_is_named(demo_project):
    path = demo_project.workbook
    check = col(path, TRACK, "Kiểm tra")
    L = letters(check)

    def shape(wb):
        _bad_status(wb, 3)
        wb[TRACK].merge_cells(start_row=2, start_column=check, end_row=4, end_column=check)
    edit_xlsx(path, shape)
    typed = typed_cells(path)
    for _attempt in (1, 2):  # and again: re-running is safe
        code, out, err = demo_project.cli("run", "--as-of", AS_OF.isoformat())
        assert code == 0, err
        assert f"'Theo dõi'!{L}3 (vùng {L}2:{L}4)" in err and "Hủy gộp" in err and "Không ghi được" in err
    assert typed_cells(path) == typed
    wb = openpyxl.load_workbook(path)
    assert str(list(wb[TRACK].merged_cells.ranges)[0]) == f"{L}2:{L}4"
    dash = [list(r) for r in wb["Tổng hợp"].iter_rows(values_only=True)]
    titles = [r[0] for r in dash]
    i = titles.index("VI. Ô KHÔNG GHI ĐƯỢC VÌ NẰM TRONG VÙNG Ô GỘP")
    listed = [r[:3] for r in dash[i + 2:] if r[0] == TRACK]
    assert [TRACK, f"{L}3", f"{L}2:{L}4"] in listed
    assert "Tình trạng" in next(r[3] for r in dash[i + 2:] if r[1] == f"{L}3")  # what it meant to write


def test_a_merged_canh_bao_range_is_said_in_the_rows_kiem_tra(demo_project):
    path = demo_project.workbook
    flags, check = col(path, TRACK, "Cảnh báo"), col(path, TRACK, "Kiểm tra")
    ws = grid(path, TRACK)
    shown = {r: ws(r, flags) for r in range(2, 78)}
    row = next(r for r in range(3, 77) if shown[r] and shown[r] != shown[r - 1])  # differs from the row above
    edit_xlsx(path, lambda wb: wb[TRACK].merge_cells(start_row=row - 1, start_column=flags, end_row=row,
                                                     end_column=flags))
    typed = typed_cells(path)
    code, _, err = demo_project.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 0, err
    text = grid(path, TRACK)(row, check)
    assert f"Không ghi được cột 'Cảnh báo' vào ô {letters(flags)}{row}" in text
    assert f"vùng ô gộp {letters(flags)}{row - 1}:{letters(flags)}{row}" in text and shown[row] in text
    assert typed_cells(path) == typed


@pytest.mark.parametrize("first,last,says", [
    # review finding 5: Kiểm tra + Cảnh báo merged in the header row used to send run and init round in a loop
    ("Kiểm tra", "Cảnh báo", "che ô tiêu đề P1"),
    # review finding 13: the STT header merged down over two data rows used to be read as their STT
    ("A1", "A3", "kéo xuống dòng dữ liệu 2–3"),
])
def test_a_merged_header_cell_stops_run_and_init_naming_the_range(demo_project, first, last, says):
    path = demo_project.workbook
    if first == "Kiểm tra":
        first, last = f"{letters(col(path, TRACK, first))}1", f"{letters(col(path, TRACK, last))}1"
    rng = f"{first}:{last}"
    assert rng in ("O1:P1", "A1:A3")
    edit_xlsx(path, lambda wb: wb[TRACK].merge_cells(rng))
    before = sha(path)
    for command in ("run", "init", "run"):
        code, out, err = demo_project.cli(command, *(("--as-of", AS_OF.isoformat()) if command == "run" else ()))
        assert code == 2, (command, out, err)
        assert f"tab 'Theo dõi': vùng ô gộp {rng}" in err and says in err and "Hủy gộp vùng " + rng in err, err
        assert "chưa ghi gì" in err and "Traceback" not in err and "Chạy 'python -m sync init'" not in err
        assert sha(path) == before
    edit_xlsx(path, lambda wb: wb[TRACK].unmerge_cells(rng))  # the fix the message gives
    if rng == "O1:P1":
        assert demo_project.cli("init")[0] == 0  # puts the lost header back (P1)
        assert grid(path, TRACK)(1, 16) == "Cảnh báo"  # P1
        assert demo_project.run_json()["rows"] == 76


def test_google_merged_header_cell_is_exit_2_naming_the_range(google, api, key, plan, seeded_book):
    book = _google_seeded(api, seeded_book)
    check = _header_col(book.sheet(title=TRACK), "Kiểm tra") + 1
    rng = f"{letters(check)}1:{letters(check + 1)}1"
    unit_client(api, key).worksheet(TRACK).merge_cells(rng)
    cells = copy.deepcopy({s.title: s.cells for s in book.sheets})
    start = len(api.api_requests())
    for command in ("run", "init"):
        code, _, err = google.cli(command)
        assert code == 2 and f"vùng ô gộp {rng}" in err and f"Hủy gộp vùng {rng}" in err, err
    assert all(e.method == "GET" for e in api.api_requests()[start:])
    assert {s.title: s.cells for s in book.sheets} == cells


def test_an_stt_merged_across_tasks_in_the_plan_tab_stops_run_and_init(demo_project):
    """Review finding 14: A2:A4 merged in `Kế hoạch` made init append tasks 2 and 3 again and gave task 1 task
    3's deadline (overdue 16 instead of 4), exit 0. One row is one task there: exit 2 naming the range."""
    path = demo_project.workbook
    edit_xlsx(path, lambda wb: wb[PLAN].merge_cells("A2:A4"))
    before = sha(path)
    for command in ("run", "init", "export"):
        code, out, err = demo_project.cli(command, *(("--as-of", AS_OF.isoformat()) if command == "run" else ()))
        assert code == 2, (command, out, err)
        assert "tab 'Kế hoạch': vùng ô gộp A2:A4 gộp cột 'STT' của 3 dòng (dòng 2–4)" in err, err
        assert "Hủy gộp vùng A2:A4" in err and "gõ lại STT vào các ô A3:A4" in err and "chưa ghi gì" in err
        assert sha(path) == before


def test_the_last_tasks_stt_merged_down_over_empty_rows_is_harmless(demo_project, demo_summary):
    """A tab is read as far as its last filled row: a merge reaching below it covers rows that were never read
    (blank), so no task is lost and the pass runs as before (it once stopped with a bug, exit 1)."""
    path = demo_project.workbook
    last = 1 + len(load_plan(PLAN_PATH).tasks)
    edit_xlsx(path, lambda wb: wb[PLAN].merge_cells(f"A{last}:A{last + 2}"))
    assert demo_project.run_json()["overdue"] == demo_summary["overdue"]


def test_google_stt_merged_across_tasks_in_the_plan_tab_is_exit_2(google, api, key, plan, seeded_book):
    book = _google_seeded(api, seeded_book)
    unit_client(api, key).worksheet(PLAN).merge_cells("A2:A4")
    cells = copy.deepcopy({s.title: s.cells for s in book.sheets})
    start = len(api.api_requests())
    for command in ("run", "init"):
        code, _, err = google.cli(command)
        assert code == 2 and "tab 'Kế hoạch': vùng ô gộp A2:A4" in err and "Hủy gộp vùng A2:A4" in err, err
    assert all(e.method == "GET" for e in api.api_requests()[start:])
    assert {s.title: s.cells for s in book.sheets} == cells


def test_a_merged_section_heading_row_is_not_an_entry(demo_project, demo_summary):
    """Review finding 20: a whole-row heading (`I. TUYÊN TRUYỀN CHUNG` merged across the table) gave two input
    errors (STT không phải số, thiếu tên đơn vị). It is a heading: no error, not counted, nothing withheld."""
    path = demo_project.workbook
    baseline = demo_summary  # the same pass on an untouched copy of the demo workbook

    def heading(wb):
        ws = wb[TRACK]
        ws.insert_rows(2)
        ws.cell(row=2, column=1).value = "I. TUYÊN TRUYỀN CHUNG"
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ws.max_column)
    edit_xlsx(path, heading)
    typed = typed_cells(path)
    code, out, err = demo_project.cli("run", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert {k: summary[k] for k in ("rows", "errors", "overdue", "missing_quarterly")} == {
        k: baseline[k] for k in ("rows", "errors", "overdue", "missing_quarterly")}
    assert summary["cells_withheld"] == 0 and "Không ghi được" not in err
    assert typed_cells(path) == typed


def test_memory_backend_refuses_writes_into_merged_cells_and_a_pass_never_makes_one(plan):
    """The reference backend raises like openpyxl's MergedCell: a pass over merges proves the core withholds."""
    b = MemoryBackend()
    seed(b, plan, AS_OF)
    tab = b.tabs[TRACK]
    groups, start = [], 2
    for r in range(3, len(tab.rows) + 2):
        if r > len(tab.rows) or tab.rows[r - 1][0] != tab.rows[start - 1][0]:
            if r - 1 > start:
                groups.append((start, 1, r - 1, 1))
            start = r
    for r1, _, r2, _ in groups:
        for r in range(r1 + 1, r2 + 1):
            tab.rows[r - 1][0] = None  # only the top-left cell of a merged range holds its value
    tab.merged = groups + [(2, 15, 4, 16)]  # and Kiểm tra + Cảnh báo merged over three rows
    typed = {(r, c): v for r, row in enumerate(tab.rows, 1) for c, v in enumerate(row, 1) if c < 15 and v}
    result = run_pass(b, plan, Layout(), OPTS)
    assert result.summary.kpis.rows == 76 and result.withheld >= 1
    assert any("Không ghi được" in m and "O2:P4" in m for m in result.messages)
    after = b.tabs[TRACK]
    assert {(r, c): v for r, row in enumerate(after.rows, 1) for c, v in enumerate(row, 1) if c < 15 and v} == typed
    with pytest.raises(ValueError):
        from sync.backends.memory import put
        put(after, 3, 15, "x")


@pytest.mark.parametrize("change,says", [
    (lambda rows: rows[0].append("Kiểm  tra"), ["cột O ('Kiểm tra')", "cột Q ('Kiểm  tra')", "chưa ghi gì"]),
    (lambda rows: rows[0].__setitem__(5, "Trạng thái"), ["cột F có tiêu đề gần giống: 'Trạng thái'",
                                                          'status: "Trạng thái"']),
])
def test_memory_backend_header_faults_stop_before_any_write(plan, change, says):
    from sync.core.errors import UserError
    b = MemoryBackend()
    seed(b, plan, AS_OF)
    change(b.tabs[TRACK].rows)
    version, tabs = b.version, copy.deepcopy(b.tabs)
    with pytest.raises(UserError) as caught:
        run_pass(b, plan, Layout(), OPTS)
    assert caught.value.exit_code == 2 and all(s in str(caught.value) for s in says), str(caught.value)
    assert b.version == version and b.tabs == tabs


# --- Google, through the stand-in ---------------------------------------------------------------------------

def _google_seeded(api, seeded_book):
    """The stand-in's sheet after `init` and the units' sample entries (seeded once per module, copied here)."""
    seeded(api, seeded_book)
    return api.store.books[SPREADSHEET_ID]


def _header_col(sheet, text: str) -> int:
    return next(c for (r, c), v in sheet.cells.items() if r == 0
                and v.get("userEnteredValue", {}).get("stringValue") == text)


def test_google_duplicated_header_is_exit_2_and_nothing_is_sent(google, api, key, plan, seeded_book):
    book = _google_seeded(api, seeded_book)
    ws = unit_client(api, key).worksheet(TRACK)
    ws.update([["KIỂM TRA"]] + [[f"Đã rà soát {r}"] for r in range(2, 78)], "R1:R77")
    ours = _header_col(book.sheet(title=TRACK), "Kiểm tra") + 1
    cells = copy.deepcopy({s.title: s.cells for s in book.sheets})
    start = len(api.api_requests())
    code, _, err = google.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 2 and f"cột {letters(ours)} ('Kiểm tra')" in err and "cột R ('KIỂM TRA')" in err
    made = api.api_requests()[start:]
    assert [e.method for e in made] == ["GET"]  # the one read of values and notes: no write at all
    assert {s.title: s.cells for s in book.sheets} == cells


def test_google_renamed_header_stops_run_and_init(google, api, key, plan, seeded_book):
    book = _google_seeded(api, seeded_book)
    c = _header_col(book.sheet(title=TRACK), "Tình trạng") + 1
    unit_client(api, key).worksheet(TRACK).update([["Trạng thái"]], f"{letters(c)}1")
    cells = copy.deepcopy({s.title: s.cells for s in book.sheets})
    start = len(api.api_requests())
    for command in ("run", "init"):
        code, _, err = google.cli(command)
        assert code == 2 and f"cột {letters(c)} có tiêu đề gần giống: 'Trạng thái'" in err, err
        assert 'status: "Trạng thái"' in err
    assert all(e.method == "GET" for e in api.api_requests()[start:])
    assert {s.title: s.cells for s in book.sheets} == cells


def test_google_filled_twin_column_stops_run_and_init(google, api, key, plan, seeded_book):
    """Review finding 12 on the stand-in: `Trạng thái` beside `Tình trạng`, with a value typed in it."""
    book = _google_seeded(api, seeded_book)
    status = letters(_header_col(book.sheet(title=TRACK), "Tình trạng") + 1)
    unit_client(api, key).worksheet(TRACK).update([["Trạng thái"], [""], ["Hoàn thành"]], "R1:R3")
    cells = copy.deepcopy({s.title: s.cells for s in book.sheets})
    start = len(api.api_requests())
    for command in ("run", "init"):
        code, _, err = google.cli(command)
        assert code == 2, err
        assert f"cột {status} ('Tình trạng') và cột R ('Trạng thái') có tiêu đề cùng nghĩa" in err, err
    assert all(e.method == "GET" for e in api.api_requests()[start:])
    assert {s.title: s.cells for s in book.sheets} == cells


def test_google_init_adds_rows_below_a_merge_reaching_past_the_table(google, api, key, plan, seeded_book):
    """Review finding 3 on the stand-in: init's new rows go below the merged range, whole."""
    book = _google_seeded(api, seeded_book)
    ws = unit_client(api, key).worksheet(TRACK)
    ws.batch_clear(["A76:P77"])
    ws.merge_cells("A75:A78")
    code, out, err = google.cli("init")
    assert code == 0 and "Không ghi được" not in err, err
    sheet = book.sheet(title=TRACK)
    value = lambda r, c: next(iter(sheet.cells.get((r, c), {}).get("userEnteredValue", {}).values()), None)  # noqa: E731
    assert [value(r, 0) for r in (78, 79)] == [17, 17] and all(value(r, 2) for r in (78, 79))
    assert not any("userEnteredValue" in sheet.cells.get((r, 0), {}) for r in (75, 76, 77))


def _typed_google(book) -> dict:
    sheet = book.sheet(title=TRACK)
    job = {_header_col(sheet, h) for h in JOB_HEADERS}
    return {p: v.get("userEnteredValue") for p, v in sheet.cells.items() if p[1] not in job
            and "userEnteredValue" in v}


def test_google_merged_stt_and_kiem_tra_in_four_requests(google, api, key, plan, seeded_book):
    book = _google_seeded(api, seeded_book)
    baseline = google.run_json()
    sheet = book.sheet(title=TRACK)
    stt = {r: sheet.cells.get((r, 0), {}).get("userEnteredValue", {}).get("numberValue") for r in range(1, 77)}
    groups, first = [], 1
    for r in range(2, 78):
        if r == 77 or stt[r] != stt[first]:
            if r - 1 > first:
                groups.append((first, r))
            first = r
    ws = unit_client(api, key).worksheet(TRACK)
    check = _header_col(sheet, "Kiểm tra")
    ws.update([["Xong rồi"]], "F3")  # row 3 gets a Kiểm tra message it cannot show
    for r0, r1 in groups:  # gspread's merge_cells: a mergeCells request, as a unit's browser sends it
        ws.merge_cells(f"A{r0 + 1}:A{r1}")
    ws.merge_cells(f"{letters(check + 1)}2:{letters(check + 1)}4")
    dash = unit_client(api, key).worksheet("Tổng hợp")  # someone redid the dashboard's title merges their way
    dash.unmerge_cells(f"A1:{letters(dash.col_count)}{dash.row_count}")
    dash.merge_cells("A1:C2")
    sheet = book.sheet(title=TRACK)
    assert len(sheet.merges) == len(groups) + 1
    typed = _typed_google(book)
    start = len(api.api_requests())
    code, out, err = google.cli("run", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["api_calls"] == len(api.api_requests()[start:]) <= 4
    assert summary["rows"] == baseline["rows"] == 76
    L = letters(check + 1)
    assert summary["cells_withheld"] == 1  # exactly the one cell: row 3's Kiểm tra message, hidden by L2:L4
    assert (f"Không ghi được 1 ô vì nằm trong vùng ô gộp (chỉ ô trên cùng bên trái của vùng gộp giữ được giá trị): "
            f"'Theo dõi'!{L}3 (vùng {L}2:{L}4). Hủy gộp") in err
    dash = book.sheet(title="Tổng hợp")
    shown = lambda r, c: dash.cells.get((r, c), {}).get("userEnteredValue", {}).get("stringValue")  # noqa: E731
    title = next(r for r in range(dash.extent()[0]) if shown(r, 0) == "VI. Ô KHÔNG GHI ĐƯỢC VÌ NẰM TRONG VÙNG Ô GỘP")
    listed = [[shown(r, c) for c in range(3)] for r in range(title + 2, dash.extent()[0]) if shown(r, 0) == TRACK]
    assert listed == [[TRACK, f"{L}3", f"{L}2:{L}4"]]
    assert f"'Theo dõi'!{letters(check + 1)}3 (vùng {letters(check + 1)}2:{letters(check + 1)}4)" in err
    sheet = book.sheet(title=TRACK)
    assert _typed_google(book) == typed
    hand_made = {"startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0, "endColumnIndex": 3}
    assert not any({k: m.get(k, 0) for k in hand_made} == hand_made  # the job-owned dashboard is rewritten
                   for m in book.sheet(title="Tổng hợp").merges)     # whole, with only its own merges
    covered = {(r, c) for m in sheet.merges for r in range(m["startRowIndex"], m["endRowIndex"])
               for c in range(m["startColumnIndex"], m["endColumnIndex"])
               if (r, c) != (m["startRowIndex"], m["startColumnIndex"])}
    assert not any("userEnteredValue" in sheet.cells.get(p, {}) or "note" in sheet.cells.get(p, {}) for p in covered)
    write = [e for e in api.api_requests()[start:] if e.method == "POST"][0].body["requests"]
    for req in write:
        rng = req.get("updateCells", {}).get("range")
        if rng and rng["sheetId"] == sheet.sheet_id:
            cells = {(r, c) for r in range(rng["startRowIndex"], rng["endRowIndex"])
                     for c in range(rng["startColumnIndex"], rng["endColumnIndex"])}
            assert not cells & covered


def test_stand_in_merges_follow_the_recorded_exchange(api, key):
    """As recorded against the real API (gspread's WorksheetTest.test_get_merge_cells_and_unmerge_cells):
    merges listed in the sheet's metadata with every index given (a sheet id of 0 left out), one merge per column
    for MERGE_COLUMNS and per row for MERGE_ROWS, the top-left value kept, and unmergeCells undoing them."""
    sh = unit_client(api, key)
    ws = sh.sheet1
    ws.resize(4, 4)
    ws.update([["1", "", "2", "3"], ["", "", "", ""], ["", "4", "", ""], ["", "5", "", ""]], "A1:D4", raw=True)
    ws.merge_cells("A1:B2")
    ws.merge_cells("C1:D2", merge_type="MERGE_COLUMNS")
    ws.merge_cells("B3:C4", merge_type="MERGE_ROWS")
    assert ws.get("A1:D4") == [["1", "", "2", "3"], [], ["", "4"], ["", "5"]]
    merges = sh.fetch_sheet_metadata()["sheets"][0]["merges"]
    assert merges == [{"startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0, "endColumnIndex": 2},
                      {"startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 2, "endColumnIndex": 3},
                      {"startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 3, "endColumnIndex": 4},
                      {"startRowIndex": 2, "endRowIndex": 3, "startColumnIndex": 1, "endColumnIndex": 3},
                      {"startRowIndex": 3, "endRowIndex": 4, "startColumnIndex": 1, "endColumnIndex": 3}]
    with pytest.raises(Exception, match="already merged"):
        ws.merge_cells("A1:A2")
    ws.unmerge_cells("A1:D4")
    assert "merges" not in sh.fetch_sheet_metadata()["sheets"][0]
    assert ws.get("A1:D4") == [["1", "", "2", "3"], [], ["", "4"], ["", "5"]]


def test_init_adds_rows_below_a_merge_that_reaches_below_the_last_row(demo_project):
    """A unit merged STT down past the table's end: init adds the missing rows below the merged range, whole,
    instead of writing half rows into it."""
    path = demo_project.workbook

    def shape(wb):
        ws = wb[TRACK]
        for r in (76, 77):  # the last task's rows taken away: init will add them again
            for c in range(1, ws.max_column + 1):
                ws.cell(row=r, column=c).value = None
        ws.merge_cells(start_row=75, start_column=1, end_row=78, end_column=1)
    edit_xlsx(path, shape)
    typed = typed_cells(path)
    code, out, err = demo_project.cli("init")
    assert code == 0, err
    assert "Không ghi được" not in err and "ghi 8 ô mới" in out  # STT, Nhiệm vụ, Đơn vị, Vai trò × 2 rows
    ws = grid(path, TRACK)
    assert [ws(r, 1) for r in (79, 80)] == [17, 17]
    assert all(ws(r, 3) for r in (79, 80))  # the units' rows are back, whole
    after = typed_cells(path)
    assert {p: after[p] for p in typed} == typed
    assert demo_project.run_json()["rows"] == 76


def test_init_never_writes_half_rows_into_a_merged_area_below_the_table(demo_project, demo_summary):
    """Review finding 3: rows 70–79 deleted and A70:E75 merged; init used to write one half row into the
    merge and lose the others (exit 0). Now every lost assignment row comes back whole, below the merge."""
    path = demo_project.workbook
    baseline = demo_summary  # the same pass on an untouched copy of the demo workbook

    def shape(wb):
        ws = wb[TRACK]
        ws.delete_rows(70, 10)
        ws.merge_cells("A70:E75")
    edit_xlsx(path, shape)
    typed = typed_cells(path)
    code, out, err = demo_project.cli("init")
    assert code == 0, err
    assert "Không ghi được" not in err
    ws = grid(path, TRACK)
    assert all(ws(r, c) is None for r in range(70, 76) for c in range(1, 6))
    added = [(ws(r, 1), ws(r, 3)) for r in range(76, 84)]
    assert all(stt and unit for stt, unit in added) and ws(84, 1) is None
    after = typed_cells(path)
    assert {p: after[p] for p in typed} == typed  # nothing anyone typed changed
    summary = demo_project.run_json()
    assert summary["rows"] == baseline["rows"] == 76
    ws, check = grid(path, TRACK), col(path, TRACK, "Kiểm tra")
    checks = [ws(r, check) for r in range(76, 84)]
    assert not any(c and "Thiếu tên đơn vị" in c for c in checks)


def test_the_log_line_goes_below_a_merged_range_in_the_log_tab(demo_project):
    path = demo_project.workbook
    last = grid(path, "Nhật ký").max_row
    edit_xlsx(path, lambda wb: wb["Nhật ký"].merge_cells(start_row=last + 1, start_column=1, end_row=last + 2,
                                                        end_column=3))
    code, _, err = demo_project.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 0, err
    assert grid(path, "Nhật ký")(last + 3, 2) == AS_OF.strftime("%d/%m/%Y")


def test_a_log_tab_merged_over_its_header_and_below_takes_the_lines_below_the_merge(demo_project):
    """Review finding 11 (local side): A1:H30 merged in `Nhật ký` hides the header cell H1 ('Ghi chú'); a pass
    used to crash writing it (exit 1). Lines now go below the merge, one per pass, the hidden cell left alone."""
    path = demo_project.workbook
    edit_xlsx(path, lambda wb: wb["Nhật ký"].merge_cells("A1:H30"))
    ids = []
    for _ in (1, 2):
        code, out, err = demo_project.cli("run", "--as-of", AS_OF.isoformat(), "--json")
        assert code == 0, err
        ids.append(json.loads(out)["pass_id"])
    ws = openpyxl.load_workbook(path)["Nhật ký"]
    assert [str(m) for m in ws.merged_cells.ranges] == ["A1:H30"]
    assert [ws.cell(row=r, column=9).value for r in (31, 32)] == ids
    assert ws.cell(row=31, column=2).value == AS_OF.strftime("%d/%m/%Y") and ws.max_row == 32


def test_google_log_line_goes_below_a_merged_range_in_the_log_tab(google, api, key, plan, seeded_book):
    """Review finding 11: on the stand-in, with A1:H30 merged in `Nhật ký`, the lines used to land in rows 2–4,
    inside the merge. They now go to rows 31, 32, nothing is written into the merge, and a pass stays ≤ 4 requests."""
    book = _google_seeded(api, seeded_book)
    google.run_json()
    unit_client(api, key).worksheet("Nhật ký").merge_cells("A1:H30")
    log = book.sheet(title="Nhật ký")
    covered = {(r, c) for r in range(30) for c in range(8)} - {(0, 0)}
    ids = []
    for _ in (1, 2):
        start = len(api.api_requests())
        code, out, err = google.cli("run", "--as-of", AS_OF.isoformat(), "--json")
        assert code == 0, err
        summary = json.loads(out)
        assert summary["api_calls"] == len(api.api_requests()[start:]) <= 4
        ids.append(summary["pass_id"])
    log = book.sheet(title="Nhật ký")
    value = lambda r, c: log.cells.get((r, c), {}).get("userEnteredValue", {}).get("stringValue")  # noqa: E731
    assert [value(r, 8) for r in (30, 31)] == ids
    assert not any("userEnteredValue" in log.cells.get(p, {}) for p in covered)
    assert len(log.merges) == 1


def test_memory_backend_appends_the_log_line_below_a_merge_like_the_real_backends(plan):
    b = MemoryBackend()
    seed(b, plan, AS_OF)
    log = b.tabs["Nhật ký"]
    log.rows = [log.rows[0][:1]]  # A1:H30 merged: only the top-left keeps its value
    log.merged = [(1, 1, 30, 8)]
    result = run_pass(b, plan, Layout(), OPTS)
    rows = b.tabs["Nhật ký"].rows
    assert len(rows) == 31 and rows[30][8] == result.pass_id
    assert not any(v not in (None, "") for row in rows[1:30] for v in row)

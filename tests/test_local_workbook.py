"""The sync job end to end on a real .xlsx file, through the CLI."""
from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.backends.local import LocalBackend
from sync.core.errors import StaleSnapshot
from sync.core.history import AsOf
from sync.core.schema import JOB_NOTE_PREFIX, TRACKING_COLUMNS

from .conftest import AS_OF, PLAN_PATH
from .strategies import CELL, UNIT_COLS, examples
from .workbooks import cell_grid, col, edit, header, labelled, values

TRACK, PLAN, DASH, LOG = "Theo dõi", "Kế hoạch", "Tổng hợp", "Nhật ký"


@pytest.fixture
def inited(inited_project):
    """After `init` (its workbook and state file, built once per test process and copied)."""
    return inited_project


def test_init_creates_the_tabs(inited):
    wb = openpyxl.load_workbook(inited.workbook)
    assert sorted(wb.sheetnames) == sorted([PLAN, TRACK, DASH, LOG, "Hướng dẫn", "Báo cáo"])
    assert header(inited.workbook, TRACK) == list(TRACKING_COLUMNS.values())
    track = wb[TRACK]
    assert track.max_row == 1 + 76
    assert track.freeze_panes == "A2"
    rules = [r for r in track.data_validations.dataValidation if r.type == "list"]  # the others: typed input
    assert len(rules) == 1 and "Hoàn thành" in rules[0].formula1
    assert str(rules[0].sqref).startswith("F2:F")
    formulas = [r.formula[0] for cf in track.conditional_formatting for r in cf.rules]
    assert any("Quá hạn" in f for f in formulas) and any("Thiếu kết quả" in f for f in formulas)
    assert track.column_dimensions["B"].width >= 30
    plan_tab = wb[PLAN]
    assert plan_tab.max_row == 18 and plan_tab.protection.sheet
    assert plan_tab.cell(row=2, column=9).value == "29/02/2024"  # Hạn hoàn thành of task 1


def test_init_is_idempotent(inited):
    before = values(inited.workbook)
    code, out, _ = inited.cli("init")
    assert code == 0 and "không có gì mới" in out
    assert values(inited.workbook) == before
    wb = openpyxl.load_workbook(inited.workbook)
    assert len(wb[TRACK].data_validations.dataValidation) == 5  # the dropdown and four typed inputs, not twice
    assert len([r for cf in wb[TRACK].conditional_formatting for r in cf.rules]) == 5


def test_init_upgrades_without_deleting(inited, tmp_path, plan):
    """A workbook with unit data, a changed plan (a new task), and a column the Office removed."""
    status, q1 = col(inited.workbook, TRACK, "Tình trạng"), col(inited.workbook, TRACK, "Kết quả Quý I")
    edit(inited.workbook, TRACK, {(2, status): "Hoàn thành", (2, q1): "Đã ban hành kế hoạch", (80, 1): "ghi chú lạc"})
    wb = openpyxl.load_workbook(inited.workbook)
    wb[TRACK].delete_cols(col(inited.workbook, TRACK, "Minh chứng"))
    wb.save(inited.workbook)
    raw = (plan.source and open(plan.source, encoding="utf-8").read())
    new_plan = tmp_path / "plan2.yaml"
    new_plan.write_text(raw + "  - stt: 18\n    task: Nhiệm vụ mới\n    schedule: Quý IV/2024\n"
                        "    lead: [BBT]\n    support: [VP]\n", encoding="utf-8")
    inited.write_config({"plan": str(new_plan)})
    before = cell_grid(inited.workbook, TRACK)
    assert inited.cli("init")[0] == 0
    after = cell_grid(inited.workbook, TRACK)
    assert all(after.get(pos) == v for pos, v in before.items())  # nothing lost or changed
    assert header(inited.workbook, TRACK)[-1] == "Minh chứng"  # re-added at the end
    rows = values(inited.workbook, TRACK)[TRACK]
    assert [r[:4] for r in rows if r[0] == 18] == [(18, "Nhiệm vụ mới", "Ban Biên tập Trang TTĐT của Sở", "Chủ trì"),
                                                  (18, "Nhiệm vụ mới", "Văn phòng Sở", "Phối hợp")]
    assert inited.run_json()["rows"] == 79  # 78 assignments + the stray note row


def test_run_writes_flags_dashboard_and_log(inited):
    summary = inited.run_json()
    assert {"rows", "tasks", "done", "in_progress", "not_started", "overdue", "due_soon", "missing_quarterly",
            "errors", "duration_s", "api_calls"} <= set(summary)
    assert (summary["rows"], summary["tasks"], summary["not_started"]) == (76, 17, 76)
    wb = values(inited.workbook)  # read-only: the values a full load gives
    flags = [r[-1] for r in wb[TRACK][1:]]
    assert flags[0].startswith("Quá hạn 204 ngày")  # task 1, due 29/02/2024
    assert sum(1 for f in flags if f and "Quá hạn" in f) == summary["overdue"]
    dash = labelled(wb[DASH])
    assert dash["Số liệu tính đến ngày"] == "20/09/2024"
    assert dash["Quá hạn"] == summary["overdue"] and dash["Lỗi nhập liệu"] == summary["errors"]
    log = wb[LOG]
    assert len(log) == 2 and log[1][1] == "20/09/2024" and log[1][2] == 76


def test_a_pass_leaves_nothing_the_units_see_beside_the_workbook(inited):
    """The units' shared folder shows the workbook and nothing of ours: the writers' lock is a hidden file."""
    before = {p.name for p in inited.workbook.parent.iterdir() if not p.name.startswith(".")}
    old_lock = inited.workbook.with_name(inited.workbook.name + ".lock")
    old_lock.touch()  # what versions before the hidden lock left there
    inited.run_json()
    after = {p.name for p in inited.workbook.parent.iterdir() if not p.name.startswith(".")}
    assert after == before and inited.workbook.name in after
    assert LocalBackend(inited.workbook).lock_path.name.startswith(".")


def test_a_page_pasted_into_cells_is_quoted_by_its_start_in_notes_and_the_check_column(inited):
    """Excel keeps at most 32,767 characters in a cell or a note: the job's messages quote a value's start,
    so three full cells on one row still give a note and a Kiểm tra cell far below that."""
    pasted = ("Đã xong việc " * 3000)[:32_767]
    cols = {h: col(inited.workbook, TRACK, h) for h in ("Tình trạng", "Số lượng sản phẩm", "Ngày hoàn thành",
                                                        "Kiểm tra")}
    edit(inited.workbook, TRACK, {(3, cols[h]): pasted for h in ("Tình trạng", "Số lượng sản phẩm",
                                                                 "Ngày hoàn thành")})
    assert inited.run_json()["errors"] >= 1
    ws = openpyxl.load_workbook(inited.workbook)[TRACK]
    written = [ws.cell(row=3, column=c).comment.text for h, c in cols.items() if h != "Kiểm tra"]
    written.append(ws.cell(row=3, column=cols["Kiểm tra"]).value)
    for text in written:
        assert "'Đã xong việc Đã xong việc" in text and "…'" in text and len(text) < 1_000, text[:200]


def test_a_stray_cell_in_the_last_column_costs_one_cell_not_a_grid(inited):
    """A tab is read from the cells it stores: a value left in column XFD (16,384) on row 500 made a grid of
    8 million cells (gigabytes, minutes); each row now goes as far as its own last cell."""
    edit(inited.workbook, TRACK, {(500, 16384): "x"})
    assert inited.run_json()["errors"] >= 1  # a row of the tab holding something: named in Kiểm tra, not a crash
    tab = LocalBackend(inited.workbook).read().tabs[TRACK]
    assert tab.cell(500, 16384) == "x" and sum(len(row) for row in tab.rows) < 16384 + 100 * 30


def test_an_array_formula_a_unit_typed_is_quoted_as_its_text_and_stays_put(inited):
    """Excel 365 saves some formulas as array formulas: read as the formula's text (an object's address would
    change on every pass, rewriting the row's check cells and history each time)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.formula import ArrayFormula
    status, check = col(inited.workbook, TRACK, "Tình trạng"), col(inited.workbook, TRACK, "Kiểm tra")
    edit(inited.workbook, TRACK, {(3, status): ArrayFormula(f"{get_column_letter(status)}3", "=UPPER(A1:A2)")})
    inited.run_json()
    assert inited.run_json()["cells_written"] == 0
    assert "'=UPPER(A1:A2)'" in openpyxl.load_workbook(inited.workbook)[TRACK].cell(row=3, column=check).value


def test_init_styles_the_table_not_every_column_up_to_a_stray_cell(inited):
    """`init` lays out the tracking table as wide as its headers: a stray cell in column XFD once gave every row
    16,384 styled cells (1.2 million at 76 rows, a 3.5 MB file and 13 s a pass ever after)."""
    edit(inited.workbook, TRACK, {(77, 16384): "x"})
    assert inited.cli("init")[0] == 0
    ws = openpyxl.load_workbook(inited.workbook)[TRACK]
    assert ws["XFD77"].value == "x" and len(ws._cells) < 100 * 40


def test_a_merge_down_to_the_last_row_leaves_no_room_for_new_rows_and_says_so():
    """init adds the plan's missing rows below every merge reaching that far: past row 1,048,576 there is none
    (it was a ValueError from openpyxl, exit 1)."""
    from sync.core.errors import UserError
    from sync.core.tables import below_merges
    from sync.core.workbook import Tab
    tab = Tab(TRACK, [["STT"], [1]], merged=[(5, 20, 1_048_576, 20)])
    assert below_merges(Tab(TRACK, [["STT"]], merged=[(5, 20, 9, 20)]), 3, 2) == 10
    with pytest.raises(UserError) as caught:
        below_merges(tab, 3, 2)
    assert caught.value.exit_code == 2 and "T5:T1048576" in str(caught.value) and "1.048.576" in str(caught.value)
    with pytest.raises(UserError):  # no merge to blame: the rows themselves reach the end
        below_merges(Tab(TRACK, [["STT"]], merged=[(1, 5, 3, 5)]), 1_048_570, 10)


def test_init_leaves_the_dashboards_own_title_and_row_heights_alone(demo_ran_project):
    """The dashboard draws its own title, styles and heights; `init` once restyled its title as a table header
    and measured its merged cells at one column's width (rows three times as tall until the next pass)."""
    def looks(path):
        ws = openpyxl.load_workbook(path)[DASH]
        return ws["A1"].font.sz, ws["A1"].font.b, {r: ws.row_dimensions[r].height for r in range(1, ws.max_row + 1)}
    before = looks(demo_ran_project.workbook)
    assert demo_ran_project.cli("init")[0] == 0
    assert looks(demo_ran_project.workbook) == before


def test_a_merge_down_to_the_last_row_is_looked_through_not_listed():
    from sync.core.tables import MergeIndex
    whole = (300, 1, 1_048_576, 16)  # A300:P1048576: 16.7 million cells
    index = MergeIndex([whole, (2, 3, 2, 4)])
    assert index.large == [whole] and list(index.cells) == [(2, 4)]
    assert index[(900_000, 16)] == whole and (300, 1) not in index and (299, 2) not in index
    assert index[(2, 4)] == (2, 3, 2, 4) and len(index) == 16 * (1_048_576 - 299) - 1 + 1
    assert list(index.within(range(299, 302), 2)) == [(300, 2), (301, 1), (301, 2)]


def test_validation_lands_in_the_sheet_with_notes(inited):
    status, evidence = col(inited.workbook, TRACK, "Tình trạng"), col(inited.workbook, TRACK, "Minh chứng")
    check = col(inited.workbook, TRACK, "Kiểm tra")
    edit(inited.workbook, TRACK, {(3, status): "xong", (4, evidence): "=HYPERLINK(\"x\")"})
    summary = inited.run_json()
    assert summary["errors"] == 2
    ws = openpyxl.load_workbook(inited.workbook)[TRACK]
    assert "có phải 'Hoàn thành'" in ws.cell(row=3, column=check).value
    assert ws.cell(row=3, column=status).comment.text.startswith(JOB_NOTE_PREFIX)
    assert ws.cell(row=4, column=evidence).value == "=HYPERLINK(\"x\")"  # the unit's text, untouched
    errors_tab = [r for r in values(inited.workbook, DASH)[DASH] if len(r) > 4 and r[2] == TRACK]
    assert [(r[3], r[4]) for r in errors_tab] == [(3, "Tình trạng"), (4, "Minh chứng")]
    # fixed → the message, the flag text and our note go away
    edit(inited.workbook, TRACK, {(3, status): "Đang thực hiện", (4, evidence): "Số 1/KH-STTTT"})
    assert inited.run_json()["errors"] == 0
    ws = openpyxl.load_workbook(inited.workbook)[TRACK]
    assert ws.cell(row=3, column=check).value is None and ws.cell(row=3, column=status).comment is None


def test_someone_elses_note_is_kept(inited):
    wb = openpyxl.load_workbook(inited.workbook)
    status = col(inited.workbook, TRACK, "Tình trạng")
    wb[TRACK].cell(row=3, column=status).comment = openpyxl.comments.Comment("Hỏi lại chị Lan", "VP")
    wb[TRACK].cell(row=3, column=status).value = "xong"
    wb.save(inited.workbook)
    inited.run_json()
    ws = openpyxl.load_workbook(inited.workbook)[TRACK]
    assert ws.cell(row=3, column=status).comment.text == "Hỏi lại chị Lan"


def test_dashboard_text_is_raw(inited):
    unit = col(inited.workbook, TRACK, "Đơn vị")
    edit(inited.workbook, TRACK, {(78, 1): 3, (78, unit): "=IMPORTXML(\"http://x\",\"//a\")"})
    inited.run_json()
    wb = openpyxl.load_workbook(inited.workbook)
    cells = [c for row in wb[DASH].iter_rows() for c in row if c.value == "=IMPORTXML(\"http://x\",\"//a\")"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_a_cell_typed_with_an_apostrophe_is_text_and_not_flagged(inited):
    """Excel and LibreOffice store '=1+1 as the text "=1+1" with the cell's quotePrefix set: the flag's own
    suggestion (the apostrophe) clears it; the same text without the apostrophe stays flagged."""
    q1, check = col(inited.workbook, TRACK, "Kết quả Quý I"), col(inited.workbook, TRACK, "Kiểm tra")
    wb = openpyxl.load_workbook(inited.workbook)
    for row in (2, 3):
        cell = wb[TRACK].cell(row=row, column=q1)
        cell.value = "=1+1"
        cell.data_type = "s"
    wb[TRACK].cell(row=2, column=q1).quotePrefix = True
    wb.save(inited.workbook)
    inited.run_json()
    ws = openpyxl.load_workbook(inited.workbook, read_only=True)[TRACK]
    marks = {row: ws.cell(row=row, column=check).value or "" for row in (2, 3)}
    assert "công thức" not in marks[2] and "công thức" in marks[3]


def test_second_pass_changes_only_pass_time_and_log(inited):
    edit(inited.workbook, TRACK, {(3, col(inited.workbook, TRACK, "Tình trạng")): "xong"})
    inited.run_json()
    first = values(inited.workbook)
    inited.run_json()
    second = values(inited.workbook)
    assert first[PLAN] == second[PLAN] and first[TRACK] == second[TRACK]
    diff = [(i, a, b) for i, (a, b) in enumerate(zip(first[DASH], second[DASH], strict=False)) if a != b]
    assert len(first[DASH]) == len(second[DASH]) and all(a[0] == "Cập nhật lúc" for _, a, _ in diff)
    assert second[LOG][:-1] == first[LOG] and len(second[LOG]) == len(first[LOG]) + 1


def test_dry_run_writes_nothing(inited):
    before = inited.workbook.read_bytes()
    summary = inited.run_json(AS_OF, "--dry-run")
    assert summary["dry_run"] and summary["overdue"] > 0
    assert inited.workbook.read_bytes() == before


def test_crash_mid_write_leaves_the_old_file_whole(inited, monkeypatch):
    before = inited.workbook.read_bytes()

    def crash(self, filename):
        with open(filename, "wb") as fh:
            fh.write(b"PK\x03\x04 half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", crash)
    code, _, err = inited.cli("run", "--as-of", "2024-09-20")
    assert code == 1 and "OSError" in err  # an errno-less OSError is a bug: named by type, never by its words
    assert inited.workbook.read_bytes() == before
    assert [p.name for p in inited.workbook.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_change_between_read_and_write_is_redone(inited, monkeypatch, capsys):
    """A unit saves the file while the pass computes: the pass re-reads and keeps the unit's edit."""
    status = col(inited.workbook, TRACK, "Tình trạng")
    original_read = LocalBackend.read
    calls = []

    def read_then_user_saves(self):
        snapshot = original_read(self)
        calls.append(1)
        if len(calls) == 1:
            edit(self.path, TRACK, {(2, status): "Đang thực hiện"})
        return snapshot

    monkeypatch.setattr(LocalBackend, "read", read_then_user_saves)
    code, out, err = inited.cli("run", "--as-of", "2024-09-20", "--json")
    assert code == 0 and len(calls) == 2 and "đã đọc lại" in err
    assert '"attempts": 2' in out
    ws = openpyxl.load_workbook(inited.workbook)[TRACK]
    assert ws.cell(row=2, column=status).value == "Đang thực hiện"
    assert ws.cell(row=2, column=16).value.startswith("Quá hạn")


def test_stale_snapshot_is_refused(inited):
    backend = LocalBackend(inited.workbook)
    snapshot = backend.read()
    edit(inited.workbook, TRACK, {(2, 6): "Hoàn thành"})
    from sync.core.workbook import WriteSet
    with pytest.raises(StaleSnapshot):
        backend.write(snapshot, WriteSet())


# --- the safety property, over many generated workbooks -------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory, plan):
    from sync.core.schema import Layout
    from sync.sheet.layout import build_init
    path = tmp_path_factory.mktemp("tpl") / "wb.xlsx"
    backend = LocalBackend(path)
    backend.write(backend.empty_snapshot(), build_init(plan, backend.empty_snapshot(), Layout()))
    return path


@settings(max_examples=examples(25, "HYPOTHESIS_EXAMPLES"), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(st.tuples(st.integers(2, 90), st.sampled_from(UNIT_COLS + [1, 3, 5])), CELL,
                             max_size=40))
@pytest.mark.long
def test_a_pass_never_changes_a_typed_cell(template, plan, tmp_path, edits):
    from sync.core.schema import Layout
    from sync.sheet.sync_pass import PassOptions
    from sync.usecases.pipeline import run_pass
    path = tmp_path / "wb.xlsx"
    shutil.copy(template, path)
    edit(path, TRACK, edits)
    before = _visible(values(path, PLAN, TRACK))
    run_pass(LocalBackend(path), plan, Layout(), PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8)))
    after = _visible(values(path, PLAN, TRACK))
    assert after[PLAN] == before[PLAN]
    job = {len(TRACKING_COLUMNS) - 1, len(TRACKING_COLUMNS) - 2}  # 0-based Kiểm tra, Cảnh báo
    assert len(after[TRACK]) == len(before[TRACK])
    for r, (old, new) in enumerate(zip(before[TRACK], after[TRACK], strict=False)):
        width = max(len(old), len(new))
        old, new = old + (None,) * (width - len(old)), new + (None,) * (width - len(new))
        assert [v for i, v in enumerate(old) if i not in job] == [v for i, v in enumerate(new) if i not in job], r


def _visible(tabs: dict) -> dict:
    """What a user sees: an empty-string cell is an empty cell; trailing empty rows are not rows."""
    out = {}
    for name, rows in tabs.items():
        rows = [tuple(None if v == "" else v for v in r) for r in rows]
        while rows and all(v is None for v in rows[-1]):
            rows.pop()
        out[name] = rows
    return out


def test_one_row_height_formula_for_a_pass_init_and_the_dashboard():
    """The rows a pass writes (tab A), the rows `init` formats (B) and the dashboard's rows (C) get the height of
    their lines by one formula (sheet_grid.row_height of wrapped_lines); a row of one-line cells keeps the
    program's default."""
    from openpyxl.styles import Alignment

    from sync.backends.xlsx_write import apply_changes
    from sync.core.workbook import TabFormat, WriteSet
    from sync.sheet.layout import Grid, row_height, wrapped_lines

    width = 30.0
    text = ("Thiếu minh chứng: ghi số văn bản hoặc đường dẫn tới sản phẩm.\n"
            "Ngày hoàn thành 31/02/2024 không hợp lệ; nhập theo dạng dd/mm/yyyy.")
    expected = row_height(wrapped_lines(text, width))
    assert expected is not None and expected > (row_height(2) or 0)  # several lines: taller than two

    wb = openpyxl.Workbook()
    wb.remove(wb.worksheets[0])
    for name in ("A", "B"):
        ws = wb.create_sheet(name)
        ws.column_dimensions["A"].width = width
    wb["A"].cell(row=2, column=1).alignment = Alignment(wrap_text=True)
    wb["B"].cell(row=2, column=1).value = text
    wb["B"].cell(row=3, column=1).value = "Ngắn"
    wb.create_sheet("C")
    grid = Grid({1: width})
    grid.row([(text, 1)])
    grid.row([("Ngắn", 1)])
    apply_changes(wb, WriteSet(cells={"A": {(2, 1): text, (3, 1): "Ngắn"}}, replace={"C": grid.styled()},
                               formats=[TabFormat("B", widths={1: width}, wrap_columns=(1,))]))
    rows = {"A": (2, 3), "B": (2, 3), "C": (1, 2)}
    heights = {name: tuple(wb[name].row_dimensions[r].height for r in rs) for name, rs in rows.items()}
    assert heights == {name: (expected, None) for name in rows}


def test_a_workbook_reached_through_a_link_stays_the_file_the_units_type_into(inited):
    target = inited.workbook
    link = target.with_name("lien-ket.xlsx")
    link.symlink_to(target.name)
    inited.write_config({"local": {"path": str(link)}})
    inited.run_json()
    assert link.is_symlink() and link.resolve() == target.resolve()  # the link is not replaced by a copy
    assert "Tổng hợp" in values(target)


def test_a_folder_where_the_lock_file_goes_is_exit_2_naming_it(inited):
    LocalBackend(inited.workbook).lock_path.mkdir()
    code, _, err = inited.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 2 and ".lock" in err and "Lỗi trong chương trình" not in err


@pytest.mark.parametrize("tab", [TRACK, LOG])
def test_a_stray_cell_at_the_last_row_of_the_sheet_is_named_not_read_a_million_rows(inited, tab):
    wb = openpyxl.load_workbook(inited.workbook)
    wb[tab].cell(1_048_576, 3).value = " "  # a unit's stray keystroke, at Excel's last row
    wb.save(inited.workbook)
    size = inited.workbook.stat().st_size
    for command in (("init",), ("run", "--as-of", AS_OF.isoformat())):
        code, _, err = inited.cli(*command)
        assert code == 0, err
    assert "1048576" in err and "Ctrl+End" in err
    assert inited.workbook.stat().st_size < size + 200_000  # no million empty rows written back
    log = list(openpyxl.load_workbook(inited.workbook)[LOG].iter_rows(min_row=2, max_row=3, values_only=True))
    assert log[0][1] == AS_OF.strftime("%d/%m/%Y")  # the pass's line right below the header, not below row 1M


def _whole(path):
    """Every tab as a full load shows it: values, merged ranges, protection."""
    wb = openpyxl.load_workbook(path)
    return {ws.title: ([[c.value for c in row] for row in ws.iter_rows()], sorted(map(str, ws.merged_cells.ranges)),
                       ws.protection.sheet) for ws in wb.worksheets}


def test_a_pass_reads_the_dashboard_it_replaces_only_as_far_as_it_looks(inited):
    """The dashboard is replaced by every pass: read shortened (no merged ranges, the first rows), and the file a
    pass saves is the one a backend reading everything saves."""
    from sync.backends.xlsx_read import SKIM_ROWS
    from sync.core.plan import load_plan
    from sync.core.schema import Layout
    from sync.sheet.sync_pass import PassOptions
    from sync.usecases.pipeline import run_pass
    inited.run_json()  # a dashboard with merged ranges
    assert len(_whole(inited.workbook)[DASH][1]) > 3
    skimming = LocalBackend(inited.workbook, replaced=("tổng HỢP",))  # found as tab names are: folded
    read, whole = skimming.read(), LocalBackend(inited.workbook).read()
    def first(tab):  # the values of its first rows, trailing empty cells aside (the shortened tab is narrower)
        return [[v for i, v in enumerate(r) if any(x is not None for x in r[i:])] for r in tab.rows[:SKIM_ROWS]]

    assert first(read.tabs[DASH]) == first(whole.tabs[DASH])  # what refuse_overwrite reads
    assert len(read.tabs[DASH].rows) < len(whole.tabs[DASH].rows) / 2 and read.tabs[DASH].merged == []
    assert read.tabs[TRACK] == whole.tabs[TRACK]
    copy = inited.workbook.with_name("whole.xlsx")
    shutil.copyfile(inited.workbook, copy)
    plan = load_plan(PLAN_PATH)
    opts = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 9))
    run_pass(skimming, plan, Layout(), opts)
    run_pass(LocalBackend(copy), plan, Layout(), opts)
    mine, theirs = _whole(inited.workbook), _whole(copy)
    assert len(mine.pop(LOG)[0]) == len(theirs.pop(LOG)[0])  # a log line each (its pass id and duration differ)
    assert mine == theirs


def test_a_write_that_does_not_replace_the_shortened_tab_keeps_it_whole(inited):
    """`init` (or any write leaving the dashboard alone) after a shortened read: the whole file is loaded again."""
    from sync.core.workbook import WriteSet
    inited.run_json()
    before = _whole(inited.workbook)
    backend = LocalBackend(inited.workbook, replaced=(DASH,))
    snapshot = backend.read()
    backend.write(snapshot, WriteSet(cells={LOG: {(1, 20): "x"}}))
    after = _whole(inited.workbook)
    assert after[DASH] == before[DASH] and after[TRACK] == before[TRACK]


def _users_tab_through_a_pass(inited, title: str, index: int | None, rows: int, merged: str):
    """A user's tab of `rows` rows and one merged range added after a first pass, then a pass: the tab as it was
    before the pass, and every tab after it."""
    inited.run_json()
    wb = openpyxl.load_workbook(inited.workbook)
    mine = wb.create_sheet(title, index)
    for r in range(1, rows + 1):
        mine.cell(row=r, column=1, value=f"ghi chép {r}")
    mine.merge_cells(merged)
    wb.save(inited.workbook)
    before = _whole(inited.workbook)[title]
    inited.run_json()
    return before, _whole(inited.workbook)


@pytest.mark.parametrize("title, index", [
    ("Tong hop", None),  # beside "Tổng hợp", folds to the same name: neither is read shortened
    ("Tổng hợp ", 0),  # a trailing space, before the job's tab: never taken for it (the first folded match was)
])
def test_a_users_tab_named_like_the_dashboard_keeps_every_cell(inited, title, index):
    """The pass replaces the job's own dashboard only; the user's look-alike keeps every row and merged range
    (both found attacking the merge)."""
    before, after = _users_tab_through_a_pass(inited, title, index, 60, "C30:E32")
    assert after[title] == before and len(before[0]) == 60 and before[1] == ["C30:E32"]
    assert len(after[DASH][1]) > 3  # the job's dashboard was replaced


def test_shortened_keeps_the_first_rows_and_the_protection():
    from sync.backends.xlsx_read import shortened
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 30))
    xml = (f'<worksheet xmlns="x"><dimension ref="A1:A29"/><sheetData>{rows}</sheetData>'
           '<sheetProtection sheet="1"/><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>'
           '<drawing r:id="rId1"/></worksheet>').encode()
    short = shortened(xml, 3)
    assert short.count(b"<row ") == 3 and b'<row r="4"' not in short
    assert short.endswith(b'</sheetData><sheetProtection sheet="1"/></worksheet>') and b"mergeCell" not in short
    assert shortened(xml, 100).count(b"<row ") == 29
    odd = xml.replace(b"sheetData", b"x:sheetData")  # laid out as another program does: parsed whole
    assert shortened(odd, 3) == odd
    # found attacking it: a protection element with a closing tag, a root element with a prefix
    closed = xml.replace(b'<sheetProtection sheet="1"/>', b'<sheetProtection sheet="1"></sheetProtection>')
    assert shortened(closed, 3).endswith(b'</sheetData><sheetProtection sheet="1"></sheetProtection></worksheet>')
    prefixed = xml.replace(b'<worksheet xmlns="x">', b'<x:worksheet xmlns:x="x" xmlns="x">').replace(
        b"</worksheet>", b"</x:worksheet>")
    assert shortened(prefixed, 3).endswith(b"</x:worksheet>") and shortened(prefixed, 3).count(b"<row ") == 3
    # text holding "<row" in a CDATA section: the cut would fall inside it, not well-formed: the XML as it was
    cdata = xml.replace(b'<c r="A3"><v>3</v></c>', b'<c r="A3" t="inlineStr"><is><t><![CDATA[<row]]></t></is></c>')
    assert shortened(cdata, 3) == cdata


def test_a_read_only_backend_lets_the_workbook_go_and_never_writes(inited):
    from sync.core.workbook import WriteSet
    backend = LocalBackend(inited.workbook, read_only=True)
    snapshot = backend.read()
    assert backend._wb is None and TRACK in snapshot.tabs
    before = inited.workbook.read_bytes()
    with pytest.raises(RuntimeError, match="read-only"):
        backend.write(snapshot, WriteSet(cells={LOG: {(1, 20): "x"}}))
    assert inited.workbook.read_bytes() == before


def _refused(inited, *commands: tuple[str, ...]) -> list[str]:
    """Each command exits 2 with a message and leaves the file byte for byte as it was: the messages."""
    before = inited.workbook.read_bytes()
    said = []
    for args in commands:
        code, out, err = inited.cli(*args)
        assert code == 2 and "Traceback" not in err, (args, out, err)
        said.append(err)
    assert inited.workbook.read_bytes() == before
    return said


def test_two_look_alikes_of_the_dashboard_and_no_exact_title_are_refused_naming_both(inited):
    """Neither is the job's: which one a pass may replace is the Office's call, not a guess (the first was taken)."""
    inited.run_json()
    wb = openpyxl.load_workbook(inited.workbook)
    wb[DASH].title = "TỔNG HỢP "  # openpyxl would make "TỔNG HỢP" "TỔNG HỢP1": it compares titles case-blind
    wb.create_sheet("Tong hop").cell(row=1, column=1, value="ghi chép của Văn phòng")
    wb.save(inited.workbook)
    assert {"TỔNG HỢP ", "Tong hop"} <= set(openpyxl.load_workbook(inited.workbook).sheetnames)
    for err in _refused(inited, ("run", "--as-of", AS_OF.isoformat()), ("init",)):
        assert "'TỔNG HỢP '" in err and "'Tong hop'" in err and "đổi tên" in err
    # commands that only read the units' rows never look for the dashboard: they work as before
    for args in (("export", "-o", str(inited.root / "x.xlsx")),
                 ("report", "--period", "2024Q3", "--as-of", AS_OF.isoformat()), ("remind",), ("status",)):
        code, out, err = inited.cli(*args)
        assert code == 0, (args, out, err)


def test_a_chart_sheet_named_like_a_job_tab_is_refused_and_one_named_otherwise_is_kept(inited):
    """A chart sheet holds no cells: it is never taken for the dashboard (run and init crashed, exit 1), and a
    chart sheet of its own name goes through a pass untouched."""
    from openpyxl.chart import BarChart, Reference
    inited.run_json()

    def add_chart_sheet(title: str) -> None:
        wb = openpyxl.load_workbook(inited.workbook)
        if title == DASH:
            del wb[DASH]
        chart = BarChart()
        chart.add_data(Reference(wb[TRACK], min_col=1, min_row=1, max_row=5))
        wb.create_chartsheet(title, 0).add_chart(chart)  # first: tabs after it keep their places
        wb.save(inited.workbook)

    add_chart_sheet("Biểu đồ riêng")
    order = openpyxl.load_workbook(inited.workbook).sheetnames
    inited.run_json()
    inited.run_json()
    wb = openpyxl.load_workbook(inited.workbook)
    assert wb.chartsheets[0].title == "Biểu đồ riêng" and wb.sheetnames == order  # the dashboard kept its place
    add_chart_sheet("tong hop")  # folds like the dashboard, which is still read shortened (no cells to mistake)
    backend = LocalBackend(inited.workbook, replaced=(DASH,))
    backend.read()
    assert backend._skimmed == {DASH}
    inited.run_json()
    add_chart_sheet(DASH)
    for err in _refused(inited, ("run", "--as-of", AS_OF.isoformat()), ("init",)):
        assert f"Tab '{DASH}' là một trang biểu đồ" in err

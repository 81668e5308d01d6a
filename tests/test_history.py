"""The history of `Theo dõi` in the state file, and the commands over it: history, restore, export.

Real files and the real CLI on the local backend; restore's request count and the backends' agreement
through the Sheets API stand-in over real HTTP.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3

import openpyxl
import pytest

from sync.backends.local import LocalBackend
from sync.backends.memory import MemoryBackend
from sync.core import history
from sync.core.history import AsOf
from sync.core.schema import LOG_COLUMNS, Layout
from sync.core.workbook import WriteSet
from sync.state.history import HistoryStore
from sync.state.store import State
from sync.usecases.demo import seed

from .conftest import AS_OF
from .test_google import api, backend, google, key, unit_client  # noqa: F401  (fixtures and helpers)
from .workbooks import grid
from .workbooks import values as tab_values

D1, D2, D3 = dt.date(2024, 9, 20), dt.date(2024, 9, 27), dt.date(2024, 10, 4)
assert D1 == AS_OF  # demo_ran_project: the demo after `run --as-of D1`


# --- helpers: a unit typing into the local workbook -------------------------------------------------------

def _sheet(path):
    wb = openpyxl.load_workbook(path)
    ws = wb["Theo dõi"]
    cols = {c.value: c.column for c in ws[1]}
    return wb, ws, cols


def _find_row(value, last_row, cols, stt, unit_name):
    """The row of task `stt` for the unit, `value(r, c)` reading a cell (a full or a read-only load alike)."""
    return next(r for r in range(2, last_row + 1)
                if value(r, cols["STT"]) == stt and unit_name in str(value(r, cols["Đơn vị"])))


def _row_of(ws, cols, stt, unit_name):
    return _find_row(lambda r, c: ws.cell(r, c).value, ws.max_row, cols, stt, unit_name)


def type_cells(path, stt, unit_name, **by_header):
    wb, ws, cols = _sheet(path)
    r = _row_of(ws, cols, stt, unit_name)
    for header, value in by_header.items():
        ws.cell(r, cols[header.replace("_", " ")]).value = value
    wb.save(path)
    return r


def cell(path, stt, unit_name, header):
    """A cell's value as the unit sees it (read-only mode: reading needs no full load)."""
    ws = grid(path, "Theo dõi")
    cols = {v: c for c, v in enumerate(ws.row(1), start=1)}
    return ws(_find_row(ws, ws.max_row, cols, stt, unit_name), cols[header])


def records(project, **kw):
    return HistoryStore(State(project.root / "state.sqlite")).records(**kw)


def history_json(project, *args):
    code, out, err = project.cli("history", "--json", *args)
    assert code == 0, err
    return json.loads(out)


# --- the pure core ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["Hoàn thành", "=IMPORTXML(1)", " lề ", 7, 2.5, True, dt.date(2024, 3, 14),
                                   dt.datetime(2024, 3, 14, 9, 30), "2024-03-14", "7"])
def test_values_keep_their_type_through_the_stored_text(value):
    text = history.encode(value)
    assert isinstance(text, str) and history.decode(text) == value
    assert type(history.decode(text)) is type(value)


def test_a_date_cell_is_the_same_value_from_either_backend():
    google_serial, xlsx_datetime = 45365, dt.datetime(2024, 3, 14)
    assert history.encode(google_serial, "done_date") == history.encode(xlsx_datetime, "done_date") == "d2024-03-14"
    assert history.encode(45365, "quantity") == "i45365"  # a number elsewhere stays a number
    assert history.encode(3.0) == "i3" and history.encode("") is None and history.encode(None) is None


def test_diff_skips_rows_whose_hash_matches_and_records_added_changed_deleted():
    a = history.HistoryRow(("1", "VP", 0), {"status": "sĐang thực hiện"})
    b = history.HistoryRow(("2", "VP", 0), {"status": "sHoàn thành", "note": "sx"})
    first = history.diff({}, [a, b], first=True)
    assert {c.kind for c in first.changes} == {"baseline"} and len(first.current) == 2
    seen = {r.key: (r.digest(), json.dumps(r.values)) for r in (a, b)}
    assert history.diff(seen, [a, b], first=False).changes == []
    a2 = history.HistoryRow(a.key, {"status": "sHoàn thành"})
    c = history.HistoryRow(("3", "CNTT", 0), {})
    later = history.diff(seen, [a2, c], first=False)
    got = {(ch.key[0], ch.column, ch.old, ch.new, ch.kind) for ch in later.changes}
    assert ("1", "status", "sĐang thực hiện", "sHoàn thành", "change") in got
    assert ("2", "status", "sHoàn thành", None, "deleted") in got and ("2", "note", "sx", None, "deleted") in got
    assert ("3", "", None, None, "added") in got and later.gone == [("2", "VP", 0)]
    rows = history.replay([(ch.key, ch.column, ch.new, ch.kind) for ch in first.changes + later.changes])
    assert rows == {("1", "VP", 0): {"status": "sHoàn thành"}, ("3", "CNTT", 0): {}}


# --- recording on the local backend, through the CLI ---------------------------------------------------------

def test_first_pass_is_a_baseline_and_a_pass_without_changes_adds_no_records(demo_ran_project):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    base = records(p)
    assert base and {r.kind for r in base} == {"baseline"}
    assert len({r.key for r in base}) == 76 and {r.as_of for r in base} == {D1}
    assert p.cli("run", "--as-of", D2.isoformat())[0] == 0
    assert records(p) == base  # a second pass over the same sheet: not one more cell record
    with sqlite3.connect(p.root / "state.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM history_passes").fetchone()[0] == 2
        assert "cell_history" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}


def test_a_change_is_keyed_by_task_unit_and_column_not_by_row_or_letter(demo_ran_project):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    # sort the rows upside down and move a column: no history
    wb, ws, _cols = _sheet(p.workbook)
    body = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    for r, values in enumerate(reversed(body), start=2):
        for c, v in enumerate(values, start=1):
            ws.cell(r, c).value = v
    ws.insert_cols(2)
    ws.cell(1, 2).value = "Cột riêng của Văn phòng"
    wb.save(p.workbook)
    before = len(records(p))
    assert p.cli("run", "--as-of", D2.isoformat())[0] == 0
    assert len(records(p)) == before
    type_cells(p.workbook, 3, "Văn phòng", **{"Tình trạng": "Đang thực hiện", "Ngày hoàn thành": None})
    assert p.cli("run", "--as-of", D3.isoformat())[0] == 0
    got = [(r.key, r.column, history.decode(r.old), history.decode(r.new), r.kind, r.as_of)
           for r in records(p, since=D3)]
    assert (("3", "VP", 0), "status", "Hoàn thành", "Đang thực hiện", "change", D3) in got
    assert any(k == ("3", "VP", 0) and col == "done_date" and new is None for k, col, _o, new, _k, _d in got)
    assert len(got) == 2


def test_the_same_words_retyped_in_another_unicode_form_are_no_change(demo_project):
    import unicodedata
    p = demo_project
    type_cells(p.workbook, 3, "Văn phòng", **{"Tình trạng": "Đang thực hiện"})
    assert p.cli("run", "--as-of", D1.isoformat())[0] == 0
    before = len(records(p))
    decomposed = unicodedata.normalize("NFD", "Đang thực hiện")
    assert decomposed != "Đang thực hiện"
    type_cells(p.workbook, 3, "Văn phòng", **{"Tình trạng": decomposed})  # as some keyboards and pastes give it
    assert p.cli("run", "--as-of", D2.isoformat())[0] == 0
    assert len(records(p)) == before  # nothing that reads "Đang thực hiện → Đang thực hiện"


def test_deleted_row_is_recorded_with_its_last_values_and_still_stands_at_an_earlier_date(demo_ran_project):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    wb, ws, cols = _sheet(p.workbook)
    r = _row_of(ws, cols, 3, "Văn phòng")
    last = {h: ws.cell(r, c).value for h, c in cols.items()}
    ws.delete_rows(r)
    wb.save(p.workbook)
    assert p.cli("run", "--as-of", D2.isoformat())[0] == 0
    gone = records(p, stt="3", unit="VP", since=D2)
    assert gone and {x.kind for x in gone} == {"deleted"} and {history.decode(x.new) for x in gone} == {None}
    assert {x.column: history.decode(x.old) for x in gone}["status"] == last["Tình trạng"]
    assert [row for row in history_json(p, "--at", D2.isoformat())["rows"] if row["task"] == "3"
            and row["unit"] == "VP"] == []
    earlier = history_json(p, "--at", D1.isoformat(), "--task", "3", "--unit", "VP")["rows"]
    assert earlier[0]["values"]["status"] == last["Tình trạng"]


def test_dry_run_records_nothing(demo_project):
    p = demo_project
    assert p.cli("run", "--as-of", D1.isoformat(), "--dry-run")[0] == 0
    assert records(p) == []
    assert p.cli("history")[0] == 2  # no history yet: says so


def test_init_records_the_rows_it_laid_out(project):
    assert project.cli("init")[0] == 0
    got = records(project)
    assert len({r.key for r in got}) == 76 and {r.kind for r in got} == {"baseline"}
    assert {r.column for r in got} == {"task", "unit", "role"}  # nothing typed yet
    assert project.cli("init")[0] == 0
    assert records(project) == got


# --- the history command ----------------------------------------------------------------------------------

def test_timeline_in_vietnamese_with_date_unit_header_old_and_new(demo_ran_project):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    type_cells(p.workbook, 5, "Văn phòng", **{"Kết quả Quý III": "Đăng 9 tin bài"})
    p.cli("run", "--as-of", D2.isoformat())
    code, out, _err = p.cli("history", "--since", D2.isoformat())
    assert code == 0
    line = next(x for x in out.splitlines() if "Kết quả Quý III" in x)
    assert line.startswith("27/09/2024") and "Văn phòng Sở" in line and "→ 'Đăng 9 tin bài'" in line
    code, out, _ = p.cli("history")
    assert "ghi nhận ban đầu: 76 dòng" in out
    only = history_json(p, "--column", "q3", "--unit", "VP", "--task", "5")
    assert only[-1]["new"] == "Đăng 9 tin bài" and only[-1]["header"] == "Kết quả Quý III"
    first = history_json(p, "--until", D1.isoformat(), "--column", "Tình trạng", "--task", "5", "--unit", "VP")
    assert [(x["kind"], x["date"], x["old"]) for x in first] == [("baseline", D1.isoformat(), None)]


def test_at_gives_the_entries_as_they_stood_typed_as_typed(demo_project):
    p = demo_project
    type_cells(p.workbook, 3, "Văn phòng", **{"Ngày hoàn thành": dt.datetime(2024, 3, 14), "Số lượng sản phẩm": 12})
    p.cli("run", "--as-of", D1.isoformat())
    type_cells(p.workbook, 3, "Văn phòng", **{"Ngày hoàn thành": dt.datetime(2024, 9, 1), "Số lượng sản phẩm": 13})
    p.cli("run", "--as-of", D2.isoformat())
    at = history_json(p, "--at", "2024-09-25", "--task", "3", "--unit", "VP")
    assert at["pass"]["as_of"] == D1.isoformat()
    assert at["rows"][0]["values"]["done_date"] == "2024-03-14" and at["rows"][0]["values"]["quantity"] == 12
    code, out, err = p.cli("history", "--at", "2024-09-25", "-o", str(p.root / "out" / "at.xlsx"))
    assert code == 0, err
    wb = openpyxl.load_workbook(p.root / "out" / "at.xlsx")
    ws = wb["Theo dõi"]
    head = [c.value for c in ws[1]]
    assert head == list(Layout().tracking_columns.values())
    assert ws.max_row == 77 and ws.freeze_panes == "A2"
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == 3 and "Văn phòng" in r[2])
    assert row[head.index("Ngày hoàn thành")] == dt.datetime(2024, 3, 14)
    assert row[head.index("Số lượng sản phẩm")] == 12
    # every unit cell of the workbook as it was at D1 equals the --at workbook's
    entries = HistoryStore(State(p.root / "state.sqlite")).entries_at(D2, _plan(p))
    assert len(entries) == 76 and any(e.done_date == dt.date(2024, 9, 1) for e in entries if e.stt == 3)


def _plan(p):
    from sync.core.plan import load_plan

    from .conftest import PLAN_PATH
    return load_plan(PLAN_PATH)


@pytest.mark.parametrize("args, says", [
    (("--task", "99"), ["'99'", "Các STT có: 1, 2, 3"]),
    (("--unit", "XYZ"), ["'XYZ'", "VP", "CNTT"]),
    (("--column", "mau"), ["'mau'", "status (Tình trạng)", "done_date"]),
    (("--at", "2024-01-02"), ["02/01/2024", "20/09/2024"]),
    (("--at", "2099-01-01"), ["01/01/2099", "tương lai"]),
])
def test_bad_input_is_exit_2_naming_the_value_and_what_exists(demo_ran_project, args, says):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    code, out, err = p.cli("history", *args)
    assert code == 2 and "Traceback" not in err
    for text in says:
        assert text in err, (text, err)
    code, _out, err = p.cli("restore", "--task", "3", "--unit", "VP", *(args if args[0] != "--task" else ()),
                            *(("--at", D1.isoformat()) if args[0] != "--at" else ()),
                            *(args if args[0] == "--task" else ()))
    assert code == 2 and says[0] in err


# --- restore -----------------------------------------------------------------------------------------------

def _overwritten(p):
    """Pass 1 (`demo_ran_project`'s) saw VP's row of task 3 as done; someone overwrites it; pass 2 records that."""
    type_cells(p.workbook, 3, "Văn phòng", **{"Tình trạng": "Chưa thực hiện", "Minh chứng": None,
                                               "Ghi chú": "ghi nhầm dòng"})
    p.cli("run", "--as-of", D2.isoformat())


def test_restore_shows_the_change_and_writes_only_with_yes(demo_ran_project):
    p = demo_ran_project
    _overwritten(p)
    before = p.workbook.read_bytes()
    code, out, _ = p.cli("restore", "--task", "3", "--unit", "VP", "--at", D1.isoformat())
    assert code == 0 and "Tình trạng: 'Chưa thực hiện' → 'Hoàn thành'" in out
    assert "Minh chứng: (trống) → 'Số 603/KH-STTTT'" in out and "Ghi chú: 'ghi nhầm dòng' → (trống)" in out
    assert "--yes" in out and p.workbook.read_bytes() == before
    assert p.cli("restore", "--task", "3", "--unit", "VP", "--at", D1.isoformat(), "--yes", "--dry-run")[0] == 0
    assert p.workbook.read_bytes() == before
    code, out, err = p.cli("restore", "--task", "3", "--unit", "VP", "--at", D1.isoformat(), "--yes")
    assert code == 0, err
    assert cell(p.workbook, 3, "Văn phòng", "Tình trạng") == "Hoàn thành"
    assert cell(p.workbook, 3, "Văn phòng", "Minh chứng") == "Số 603/KH-STTTT"
    assert cell(p.workbook, 3, "Văn phòng", "Ghi chú") is None
    restored = [r for r in records(p, stt="3", unit="VP") if r.kind == "restore"]
    assert {r.column for r in restored} == {"status", "evidence", "note"}
    assert {r.command for r in restored} == {"restore"}
    log = grid(p.workbook, "Nhật ký").rows
    note = log[0].index(LOG_COLUMNS["note"])
    assert "Khôi phục nhiệm vụ 3, đơn vị VP" in (log[-1][note] or "")
    assert log[-1][log[0].index(LOG_COLUMNS["pass_id"])]  # with a pass id
    # the next pass sees the restored row as history last saw it: nothing new
    n = len(records(p))
    p.cli("run", "--as-of", D3.isoformat())
    assert len(records(p)) == n


def test_restore_of_one_column_leaves_the_others(demo_ran_project):
    p = demo_ran_project
    _overwritten(p)
    code, _out, err = p.cli("restore", "--task", "3", "--unit", "VP", "--at", D1.isoformat(), "--column", "status",
                            "--yes")
    assert code == 0, err
    assert cell(p.workbook, 3, "Văn phòng", "Tình trạng") == "Hoàn thành"
    assert cell(p.workbook, 3, "Văn phòng", "Ghi chú") == "ghi nhầm dòng"


def test_restore_refuses_a_cell_changed_since_the_last_pass_unless_forced(demo_ran_project):
    p = demo_ran_project
    _overwritten(p)
    type_cells(p.workbook, 3, "Văn phòng", **{"Tình trạng": "Đang thực hiện"})  # after the last pass
    before = p.workbook.read_bytes()
    code, _out, err = p.cli("restore", "--task", "3", "--unit", "VP", "--at", D1.isoformat(), "--yes")
    assert code == 2 and "Tình trạng" in err and "'Chưa thực hiện'" in err and "'Đang thực hiện'" in err
    assert "--force" in err and p.workbook.read_bytes() == before
    code, _out, err = p.cli("restore", "--task", "3", "--unit", "VP", "--at", D1.isoformat(), "--yes", "--force")
    assert code == 0, err
    assert cell(p.workbook, 3, "Văn phòng", "Tình trạng") == "Hoàn thành"
    # the overwritten value is in history too, before the restore
    got = [(history.decode(r.old), history.decode(r.new), r.kind) for r in records(p, stt="3", unit="VP",
                                                                                  column="status")]
    assert got[-2:] == [("Chưa thực hiện", "Đang thực hiện", "change"), ("Đang thực hiện", "Hoàn thành", "restore")]


def test_no_backend_writes_a_unit_cell_unless_the_writeset_says_so(tmp_path, plan):
    for b in (MemoryBackend(), LocalBackend(tmp_path / "wb.xlsx")):
        seed(b, plan, AS_OF)
        snap = b.read()
        ws = WriteSet()
        ws.unit_columns["Theo dõi"] = (6,)
        ws.set("Theo dõi", 2, 6, "Hoàn thành")
        with pytest.raises(RuntimeError, match="units own"):
            b.write(snap, ws)
        ws.unit_cells = True
        b.write(snap, ws)
        assert b.read().tabs["Theo dõi"].cell(2, 6) == "Hoàn thành"
    # a pass declares every tracking column but its own two as the units'
    from sync.sheet.sync_pass import PassOptions, compute
    writes = compute(b.read(), plan, Layout(), PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8)), "test").writes
    header = b.read().tabs["Theo dõi"].rows[0]
    guarded = {header[c - 1] for c in writes.unit_columns["Theo dõi"]}
    assert {"Tình trạng", "Ngày hoàn thành", "Ghi chú", "STT"} <= guarded and not guarded & {"Kiểm tra", "Cảnh báo"}
    writes.check_unit_cells()


# --- export ------------------------------------------------------------------------------------------------

def test_export_is_one_flat_table_with_deadline_state_and_flags(demo_ran_project):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    code, out, err = p.cli("export", "-o", str(p.root / "x.csv"))
    assert code == 0, err
    with open(p.root / "x.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 76
    vp3 = next(r for r in rows if r["STT"] == "3" and r["Mã đơn vị"] == "VP")
    assert vp3["Tình trạng"] == "Hoàn thành" and vp3["Hạn hoàn thành (tính được)"]
    # the task's state (sync.core.tasks) beside each row: one value per task, the lead's, on every row of it
    assert len({r["Tình trạng nhiệm vụ"] for r in rows if r["STT"] == "4"}) == 1
    task4 = next(r["Tình trạng nhiệm vụ"] for r in rows if r["STT"] == "4")
    assert task4.startswith("Chậm tiến độ") and "hạn 30/06/2024" in task4
    assert any(r["Cảnh báo"].startswith("Quá hạn") and r["Số ngày quá hạn"] for r in rows)
    code, out, err = p.cli("export", "--at", D1.isoformat(), "-o", str(p.root / "x.xlsx"))
    assert code == 0, err
    ws = openpyxl.load_workbook(p.root / "x.xlsx").active
    assert ws.max_row == 77 and ws.cell(2, ws.max_column).value.date() == D1
    flags = [c.value for c in ws[1]].index("Cảnh báo") + 1
    at_d1 = [ws.cell(r, flags).value or "" for r in range(2, 78)]
    # the pass of D1 counted 2 overdue: the late task 4, its lead and one supporting unit still at work
    assert sum(1 for f in at_d1 if f.startswith("Quá hạn")) == 2
    assert p.cli("export", "-o", str(p.root / "x.txt"))[0] == 2


# --- Google: the same history, restore within the request budget ------------------------------------------

def test_google_and_local_record_the_same_history(api, key, plan, tmp_path):
    rows = {}
    for kind, b in (("local", LocalBackend(tmp_path / "wb.xlsx")), ("google", backend(api, key))):
        seed(b, plan, AS_OF)
        if kind == "local":  # a real date cell in each program: a datetime in .xlsx, a serial number in Sheets
            type_cells(tmp_path / "wb.xlsx", 3, "Văn phòng", **{"Ngày hoàn thành": dt.datetime(2024, 3, 14)})
        else:
            sheet = unit_client(api, key).worksheet("Theo dõi")
            head = sheet.row_values(1)
            column = sheet.col_values(head.index("STT") + 1), sheet.col_values(head.index("Đơn vị") + 1)
            r = next(i for i, (s, u) in enumerate(zip(*column, strict=False), start=1)
                     if s == "3" and "Văn phòng" in u)
            sheet.update_cell(r, head.index("Ngày hoàn thành") + 1, "14/03/2024")  # USER_ENTERED: a date
        state = State(tmp_path / f"{kind}.sqlite")
        store = HistoryStore(state)
        pass_id = state.record_pass("run", dt.datetime(2024, 9, 20, 8), True, {"as_of": D1.isoformat()})
        store.record(pass_id, D1, history.snapshot_rows(b.read(), plan, Layout()))
        rows[kind] = store.rows_at(D1)[1]
    assert rows["local"] == rows["google"]
    assert rows["google"][("3", "VP", 0)]["done_date"] == "d2024-03-14"


def test_restore_on_google_stays_within_four_requests(google, api, key, plan):
    seed(backend(api, key), plan, AS_OF)
    assert google.cli("run", "--as-of", D1.isoformat())[0] == 0
    sheet = unit_client(api, key).worksheet("Theo dõi")
    head = sheet.row_values(1)
    stt, units = head.index("STT") + 1, head.index("Đơn vị") + 1
    r = next(i for i, (s, u) in enumerate(zip(sheet.col_values(stt), sheet.col_values(units), strict=False), start=1)
             if s == "3" and "Văn phòng" in u)
    sheet.update_cell(r, head.index("Tình trạng") + 1, "Chưa thực hiện")
    assert google.cli("run", "--as-of", D2.isoformat())[0] == 0
    start = len(api.api_requests())
    code, out, err = google.cli("restore", "--task", "3", "--unit", "VP", "--at", D1.isoformat(), "--yes")
    assert code == 0, err
    assert len(api.api_requests()) - start <= 4
    assert sheet.cell(r, head.index("Tình trạng") + 1).value == "Hoàn thành"
    log = unit_client(api, key).worksheet("Nhật ký").get_all_values()
    assert "Khôi phục nhiệm vụ 3" in log[-1][log[0].index(LOG_COLUMNS["note"])]


# --- a pass dated before the last recorded one (history's dates never go back) ----------------------------

def _delete_row(path, stt, unit_name):
    wb, ws, cols = _sheet(path)
    ws.delete_rows(_row_of(ws, cols, stt, unit_name))
    wb.save(path)


def test_a_writing_pass_dated_before_the_last_recorded_one_is_refused_and_at_stays_true(demo_project):
    p = demo_project
    days = [dt.date(2024, 9, 20), dt.date(2024, 9, 27), dt.date(2024, 9, 30), dt.date(2024, 10, 4),
            dt.date(2024, 10, 11)]
    original_note = cell(p.workbook, 3, "Văn phòng", "Ghi chú")
    for day in days:
        if day == days[1]:
            type_cells(p.workbook, 3, "Văn phòng", **{"Ghi chú": "ghi nhầm dòng"})
        if day == days[-1]:
            _delete_row(p.workbook, 5, "Văn phòng")
        assert p.cli("run", "--as-of", day.isoformat())[0] == 0
    code, out, err = p.cli("restore", "--task", "3", "--unit", "VP", "--at", days[0].isoformat(), "--yes")
    assert code == 0, err
    assert "chạy 'python -m sync run' để cập nhật Kiểm tra/Cảnh báo" in out  # the job's cells are the last pass's
    restore_day = HistoryStore(State(p.root / "state.sqlite")).last_date()
    assert restore_day >= dt.date.today() - dt.timedelta(days=1)  # dated now (today in Asia/Ho_Chi_Minh)
    n = len(records(p))
    type_cells(p.workbook, 7, "Văn phòng", **{"Ghi chú": "sửa sau khôi phục"})
    before = p.workbook.read_bytes()
    for early in ("2024-10-18", "2024-09-25"):  # a writing pass dated back is refused; a dry run may look
        code, out, err = p.cli("run", "--as-of", early, "--json")
        assert code == 2 and "Không chạy lượt ghi" in err and f"{restore_day:%d/%m/%Y}" in err and "--dry-run" in err
        assert p.cli("run", "--as-of", early, "--dry-run")[0] == 0
    assert len(records(p)) == n and p.workbook.read_bytes() == before
    with sqlite3.connect(p.root / "state.sqlite") as db:
        dated = [dt.date.fromisoformat(r[0]) for r in db.execute("SELECT as_of FROM history_passes ORDER BY pass_id")]
    assert dated == sorted(dated) and len(dated) == 6

    def at(day):
        got = history_json(p, "--at", day)
        return got, {(r["task"], r["unit"]): r["values"] for r in got["rows"]}

    got, rows = at("2024-09-25")
    assert got["pass"]["as_of"] == "2024-09-20" and len(rows) == 76
    assert rows[("3", "VP")].get("note") == original_note and ("5", "VP") in rows
    got, rows = at("2024-09-27")
    assert got["pass"]["as_of"] == "2024-09-27" and len(rows) == 76 and rows[("3", "VP")]["note"] == "ghi nhầm dòng"
    got, rows = at("2024-10-11")
    assert len(rows) == 75 and ("5", "VP") not in rows and rows[("3", "VP")]["note"] == "ghi nhầm dòng"
    got, rows = at(restore_day.isoformat())  # the latest: the restore's state
    assert got["pass"]["as_of"] == restore_day.isoformat() and len(rows) == 75
    assert rows[("3", "VP")].get("note") == original_note and rows[("7", "VP")].get("note") != "sửa sau khôi phục"
    timeline = [dt.date.fromisoformat(x["date"]) for x in history_json(p)]
    assert timeline == sorted(timeline) and timeline[-1] == restore_day
    # the next pass dated from the last recorded date on records what the refused passes saw
    assert p.cli("run", "--as-of", restore_day.isoformat())[0] == 0
    later = records(p, stt="7", unit="VP", column="note")
    assert history.decode(later[-1].new) == "sửa sau khôi phục" and later[-1].as_of == restore_day


def test_a_state_file_with_a_pass_dated_back_reads_it_at_the_latest_date_before_it(tmp_path, plan):
    """Written before the rule: the dated-back pass stands at the date before it, never rewriting the past."""
    state = State(tmp_path / "s.sqlite")
    store = HistoryStore(state)
    store.ensure()
    row = lambda note: [history.HistoryRow(("1", "VP", 0), {"note": "s" + note})]  # noqa: E731
    for day, note in ((D1, "a"), (D3, "b")):
        store.record(state.record_pass("run", dt.datetime(2024, 10, 4, 8), True), day, row(note))
    late = state.record_pass("run", dt.datetime(2024, 10, 5, 8), True)
    with sqlite3.connect(tmp_path / "s.sqlite") as db:  # what the old recorder wrote for `run --as-of D2`
        db.execute("INSERT INTO history_passes (pass_id, as_of) VALUES (?, ?)", (late, D2.isoformat()))
        db.execute("INSERT INTO history (pass_id, stt, unit, ordinal, col, old, new, kind) "
                   "VALUES (?, '1', 'VP', 0, 'note', 'sb', 'sc', 'change')", (late,))
    assert store.rows_at(D2)[1] == {("1", "VP", 0): {"note": "sa"}}
    assert store.rows_at(D3)[1] == {("1", "VP", 0): {"note": "sc"}}
    assert [r.as_of for r in store.records()] == [D1, D3, D3]
    assert store.record(state.record_pass("run", dt.datetime(2024, 10, 6, 8), True), D2, row("d")) == -1


# --- export: its columns, and the same figures as the dashboard of the same date ----------------------------

def _export(p, *args):
    out = p.root / "export.csv"
    code, said, err = p.cli("export", *args, "-o", str(out))
    assert code == 0, err
    with open(out, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh)), said


def test_export_columns_say_missing_quarters_yes_no_and_roman_numerals(demo_ran_project, demo_summary):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    dashboard = demo_summary  # what that run printed
    rows, _ = _export(p, "--at", D1.isoformat())
    missing = [r["Quý thiếu kết quả"] for r in rows]
    flagged = [", ".join(f"Quý {f.split('Quý ')[1].split(' (')[0]}" for f in r["Cảnh báo"].split("; ")
                         if f.startswith("Thiếu kết quả"))
               for r in rows]
    assert missing == flagged  # the quarters flagged missing, not every quarter owed
    assert sum(len(m.split(", ")) for m in missing if m) == dashboard["missing_quarterly"] > 0
    assert sum(1 for m in missing if m) < len(rows) // 2  # most rows owe quarters; few miss one
    assert {q for m in missing if m for q in m.split(", ")} <= {"Quý I", "Quý II", "Quý III", "Quý IV"}
    assert {r["Được tính"] for r in rows} <= {"Có", "Không"} and any(r["Được tính"] == "Có" for r in rows)


def test_export_at_a_past_date_agrees_with_the_dashboard_of_that_date_after_a_later_completion(demo_ran_project):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    before, _ = _export(p, "--at", D1.isoformat())
    late = next(r for r in before if r["Tình trạng"] == "Đang thực hiện" and r["Cảnh báo"].startswith("Quá hạn"))
    unit_name = late["Đơn vị"]
    type_cells(p.workbook, int(late["STT"]), unit_name, **{"Tình trạng": "Hoàn thành",
                                                             "Ngày hoàn thành": dt.datetime(2024, 9, 30),
                                                             "Minh chứng": "Số 9/BC-STTTT"})
    p.run_json(D3)  # the completion, recorded on 04/10

    def same(day: dt.date, source: str):
        code, out, err = p.cli("run", "--as-of", day.isoformat(), "--dry-run", "--json")
        assert code == 0, err
        dry = json.loads(out)
        rows, said = _export(p, "--at", day.isoformat())
        assert dry["source"] == source and said.splitlines()[0] in err  # the same sentence, the same source
        counted = [r for r in rows if r["Được tính"] == "Có"]
        assert len(rows) == dry["rows"]
        assert sum(1 for r in counted if r["Tình trạng"] == "Hoàn thành") == dry["done"]
        assert sum(1 for r in counted if r["Cảnh báo"].startswith("Quá hạn")) == dry["overdue"]
        assert sum(len(r["Quý thiếu kết quả"].split(", ")) for r in rows if r["Quý thiếu kết quả"]) == \
            dry["missing_quarterly"]
        return next(r for r in rows if r["STT"] == late["STT"] and r["Đơn vị"] == unit_name), dry

    row, dry = same(D2, "history")  # between the two passes: from history at 20/09, still in progress
    assert row["Tình trạng"] == "Đang thực hiện" and row["Cảnh báo"].startswith("Quá hạn")
    row, dry_d3 = same(D3, "history")
    assert row["Tình trạng"] == "Hoàn thành" and dry_d3["done"] == dry["done"] + 1
    row, _ = same(dt.date(2024, 9, 1), "as_of")  # before history: today's entries as of the date
    assert row["Tình trạng"] == "Đang thực hiện"  # the completion of 30/09 had not happened


@pytest.mark.parametrize("args", [("--since", "2024-10-01", "--until", "2024-09-01"), ("--since", "2099-01-01"),
                                  ("--until", "2099-01-01", "--since", "2099-01-01")])
def test_history_since_after_until_or_in_the_future_is_exit_2(demo_ran_project, args):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    code, out, err = p.cli("history", *args)
    assert code == 2 and "Traceback" not in err and out == ""
    assert "--since" in err and "01/" in err


# --- the pass log keeps each summary compactly, losing nothing ------------------------------------------------

def test_status_gives_back_each_pass_summary_as_run_printed_it_from_a_compact_record(demo_project):
    p = demo_project
    printed = p.run_json(D1)
    code, out, err = p.cli("status", "--json")
    assert code in (0, 4), err
    stored = json.loads(out)["passes"][0]
    assert json.loads(stored["summary"]) == printed
    with sqlite3.connect(p.root / "state.sqlite") as db:
        raw = db.execute("SELECT summary FROM passes ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert raw.startswith("[") and len(raw) < len(json.dumps(printed, ensure_ascii=False)) / 4


@pytest.mark.parametrize("summary", [{}, {"backend": "local", "cells_written": 3, "as_of": "2024-09-20"},
                                     {"rows": 5, "written": False, "not_written_reason": "Tệp đang mở", "done": None},
                                     {"tasks": 17, "source": "history", "extra": [1, 2], "dry_run": True}])
def test_a_summary_of_any_shape_comes_back_whole(tmp_path, summary):
    state = State(tmp_path / "s.sqlite")
    state.record_pass("run", dt.datetime(2024, 9, 20, 8), True, summary)
    back = json.loads(state.passes(1)[0]["summary"] or "{}")
    assert {k: v for k, v in back.items() if k in summary} == summary


def test_history_reads_merged_cells_as_the_pass_does(demo_ran_project):
    """An STT merged over a task's unit rows gives that STT to every row it covers, in the pass and in history:
    the figures of that date, recomputed from history, are the pass's."""
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    wb, ws, cols = _sheet(p.workbook)
    stt_col = cols["STT"]
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, stt_col).value == 1]
    ws.merge_cells(start_row=rows[0], start_column=stt_col, end_row=rows[-1], end_column=stt_col)
    wb.save(p.workbook)
    code, out, err = p.cli("run", "--as-of", D2.isoformat(), "--json")
    assert code == 0, err
    written = json.loads(out)
    assert written["not_counted"] == 0
    assert not [r for r in records(p, since=D2) if r.kind in ("added", "deleted")]  # the rows are the same rows
    code, out, err = p.cli("run", "--as-of", D2.isoformat(), "--dry-run", "--json")
    replayed = json.loads(out)
    assert code == 0 and replayed["source"] == "history", err
    for figure in ("rows", "done", "not_counted", "errors"):
        assert replayed[figure] == written[figure], figure


@pytest.mark.parametrize("command", [("export",), ("history", "--at", D1.isoformat())])
def test_an_output_named_like_the_units_workbook_or_a_folder_is_refused_not_written(demo_ran_project, command):
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    before = p.workbook.read_bytes()
    code, _, err = p.cli(*command, "-o", str(p.workbook))  # a typo that names the units' own workbook
    assert code == 2 and "local.path" in err and "-o" in err
    assert p.workbook.read_bytes() == before
    folder = p.root / "out.xlsx"
    folder.mkdir()
    code, _, err = p.cli(*command, "-o", str(folder))
    assert code == 2 and str(folder) in err and "Lỗi trong chương trình" not in err


@pytest.mark.parametrize("command", [("export",), ("history", "--at", D1.isoformat())])
def test_an_output_over_a_copy_of_a_units_workbook_is_refused_and_over_its_own_output_is_written(demo_ran_project,
                                                                                               command):
    """`-o` naming last year's workbook or a copy of the units' one (not the configured one) replaced it; the file
    an earlier `-o` wrote (one tab, never the plan's) is replaced as before, and so is a workbook of no tables."""
    import shutil
    p = demo_ran_project
    copy = p.root / "ban-sao.xlsx"
    shutil.copy(p.workbook, copy)
    before = copy.read_bytes()
    code, _, err = p.cli(*command, "-o", str(copy))
    assert code == 2 and "ban-sao.xlsx" in err and "-o" in err and "bảng tính theo dõi" in err
    assert copy.read_bytes() == before
    out = p.root / "xuat.xlsx"
    for _ in range(2):  # the second replaces the first: the job's own output
        code, _, err = p.cli(*command, "-o", str(out))
        assert code == 0, err
    other = p.root / "khac.xlsx"
    wb = openpyxl.Workbook()
    wb.active.cell(row=1, column=1, value="ghi chép")
    wb.save(other)
    assert p.cli(*command, "-o", str(other))[0] == 0 and "ghi chép" not in str(tab_values(other))
    # a copy it cannot read (a password, damage) may be someone's rescue: refused; an empty file is written
    from sync.backends.xlsx_file import ENCRYPTED_STREAM, OLE2_MAGIC
    locked, cut, empty = p.root / "mat-khau.xlsx", p.root / "hong.xlsx", p.root / "rong.xlsx"
    locked.write_bytes(OLE2_MAGIC + b"\0" * 504 + ENCRYPTED_STREAM + b"\0" * 64)
    cut.write_bytes(before[: len(before) // 3])
    empty.write_bytes(b"")
    for unreadable in (locked, cut):
        kept = unreadable.read_bytes()
        code, _, err = p.cli(*command, "-o", str(unreadable))
        assert code == 2 and "không đọc được" in err and unreadable.read_bytes() == kept
    assert p.cli(*command, "-o", str(empty))[0] == 0 and empty.stat().st_size > 0


# --- the plan tab's deadlines of a past date: from history too (issue 11, items 4 and 5) ---------------------

D0 = dt.date(2024, 9, 14)  # the 2024Q3 report's cut-off


def set_plan_deadline(path, stt: int, value) -> None:
    """The Office types a task's Hạn hoàn thành in the plan tab."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Kế hoạch"]
    head = next(r for r in range(1, 10) if "Hạn hoàn thành" in [c.value for c in ws[r]])
    cols = {c.value: c.column for c in ws[head]}
    row = next(r for r in range(head + 1, ws.max_row + 1) if ws.cell(r, cols["STT"]).value in (stt, str(stt)))
    ws.cell(row, cols["Hạn hoàn thành"]).value = value
    wb.save(path)


def _past_figures(p, day: dt.date) -> dict:
    code, out, err = p.cli("run", "--as-of", day.isoformat(), "--dry-run", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["source"] == "history"
    return {k: got[k] for k in ("rows", "done", "overdue", "due_soon", "missing_quarterly", "errors")}


def _report_figures(p, *extra: str) -> dict:
    code, out, err = p.cli("report", "--period", "2024Q3", "--date", "2024-09-20", "--json", *extra)
    assert code == 0, err
    got = json.loads(out)
    assert got["as_of"] == D0.isoformat()
    return {k: got[k] for k in ("rows", "done", "overdue", "missing_quarterly", "errors")}


def _overdue_tasks(rows) -> list[str]:
    return [r["STT"] for r in rows if r["Được tính"] == "Có" and r["Cảnh báo"].startswith("Quá hạn")]


def test_figures_of_a_past_date_keep_the_plan_deadlines_of_then_after_the_office_moves_them(demo_project):
    p = demo_project
    p.write_config({"report": {"out_dir": str(p.root / "reports")}})
    p.run_json(D0)
    dry, report = _past_figures(p, D0), _report_figures(p)
    exported, _ = _export(p, "--at", D0.isoformat())
    late = sorted(set(_overdue_tasks(exported)), key=int)[:3]
    assert dry["overdue"] > 0 and report["overdue"] > 0 and late
    for stt in late:  # the Office gives the late tasks until the end of the year
        set_plan_deadline(p.workbook, int(stt), "31/12/2024")

    def unchanged():
        assert _past_figures(p, D0) == dry
        assert _report_figures(p, "--force") == report  # the report rebuilt
        assert _export(p, "--at", D0.isoformat())[0] == exported

    unchanged()  # the edit not yet seen by any pass: the live tab is not the past
    p.run_json(D1)  # a pass records the edit, dated 20/09
    unchanged()
    later, _ = _export(p, "--at", D1.isoformat())  # from D1 on, the moved deadlines count
    assert not set(late) & set(_overdue_tasks(later))
    assert _past_figures(p, D1)["overdue"] == len(_overdue_tasks(later)) < dry["overdue"]
    with sqlite3.connect(p.root / "state.sqlite") as db:
        kinds = db.execute("SELECT kind, COUNT(*) FROM history_plan GROUP BY kind").fetchall()
    assert dict(kinds)["change"] == len(late)  # only the edits, once: an unchanged plan tab adds nothing
    p.run_json(D2)
    with sqlite3.connect(p.root / "state.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM history_plan WHERE kind = 'change'").fetchone()[0] == len(late)


def test_a_state_file_from_before_plan_deadlines_were_recorded_uses_the_live_ones_until_a_pass_records_them(
        demo_project):
    p = demo_project
    p.run_json(D0)
    with sqlite3.connect(p.root / "state.sqlite") as db:  # as a state file written before this table existed
        db.execute("DROP TABLE history_plan")
    before = _past_figures(p, D0)
    exported, _ = _export(p, "--at", D0.isoformat())
    late = sorted(set(_overdue_tasks(exported)), key=int)[:1]
    set_plan_deadline(p.workbook, int(late[0]), "31/12/2024")
    assert _past_figures(p, D0)["overdue"] < before["overdue"]  # unknown then: the live deadlines, as before
    assert HistoryStore(State(p.root / "state.sqlite")).plan_at(D0) is None
    p.run_json(D1)  # the first pass that records them: a baseline, known from 20/09 on
    store = HistoryStore(State(p.root / "state.sqlite"))
    at_d1 = store.plan_at(D1)
    assert store.plan_at(D0) is None and at_d1 and at_d1[int(late[0])] == "31/12/2024"
    set_plan_deadline(p.workbook, int(late[0]), None)
    d1 = _past_figures(p, D1)
    p.run_json(D2)
    assert _past_figures(p, D1) == d1  # the clearing, recorded on 27/09, leaves 20/09 as it was
    assert store.plan_at(D2) == {k: v for k, v in at_d1.items() if k != int(late[0])}


def test_a_history_value_damaged_in_the_state_file_is_exit_2_not_a_bug(demo_ran_project):
    import sqlite3
    p = demo_ran_project  # after `run --as-of D1`, exit 0
    assert p.cli("run", "--as-of", D2.isoformat())[0] == 0
    with sqlite3.connect(p.root / "state.sqlite") as db:
        assert db.execute("UPDATE history SET new = 'zgarbage' WHERE col = 'status'").rowcount > 0
    code, _, err = p.cli("run", "--as-of", D1.isoformat(), "--dry-run")
    assert code == 2 and "zgarbage" in err and "'state'" in err


def test_restore_into_a_merged_cell_shared_by_two_units_is_refused_naming_the_range(demo_project):
    p = demo_project
    type_cells(p.workbook, 2, "Văn phòng", **{"Ghi chú": "cũ"})
    assert p.cli("run", "--as-of", D1.isoformat())[0] == 0
    wb, ws, cols = _sheet(p.workbook)
    first, second = _row_of(ws, cols, 2, "Văn phòng"), _row_of(ws, cols, 2, "Công nghệ thông tin - Bưu")
    assert second == first + 1
    ws.cell(first, cols["Ghi chú"]).value = "chung"
    ws.merge_cells(start_row=first, start_column=cols["Ghi chú"], end_row=second, end_column=cols["Ghi chú"])
    wb.save(p.workbook)
    assert p.cli("run", "--as-of", D2.isoformat())[0] == 0
    before = p.workbook.read_bytes()
    code, _, err = p.cli("restore", "--task", "2", "--unit", "VP", "--at", D1.isoformat(), "--yes")
    assert code == 2 and "vùng ô gộp" in err and "Lỗi trong chương trình" not in err
    assert p.workbook.read_bytes() == before


def test_restore_into_a_cell_a_merge_on_its_own_row_hides_is_refused_naming_the_range(demo_project):
    """A merge within the unit's own row hides all but its first cell: restoring the hidden one was a bug
    (exit 1); it is named (exit 2) and nothing is written."""
    p = demo_project
    type_cells(p.workbook, 2, "Văn phòng", **{"Ghi chú": "cũ", "Số lượng sản phẩm": 5})
    assert p.cli("run", "--as-of", D1.isoformat())[0] == 0
    wb, ws, cols = _sheet(p.workbook)
    row, left, right = _row_of(ws, cols, 2, "Văn phòng"), cols["Số lượng sản phẩm"], cols["Ghi chú"]
    ws.merge_cells(start_row=row, start_column=left, end_row=row, end_column=right)  # keeps 5, hides the note
    wb.save(p.workbook)
    assert p.cli("run", "--as-of", D2.isoformat())[0] == 0
    before = p.workbook.read_bytes()
    code, _, err = p.cli("restore", "--task", "2", "--unit", "VP", "--at", D1.isoformat(), "--yes")
    assert code == 2 and "che" in err and "Lỗi trong chương trình" not in err, err
    assert p.workbook.read_bytes() == before


OLD_RECORD = ('[17,76,13,57,3,2,1,0,4,0,3,5,29,7,69.2,"19073153f4b6",0,0,1,0.5217,0.0637,0.4582,true]')


def _summary(**extra):
    base = {"tasks": 17, "rows": 76, "done": 13, "in_progress": 57, "not_started": 3, "cancelled": 2,
            "unknown_status": 1, "not_counted": 0, "overdue": 4, "due_soon": 0, "late": 3, "undated": 5,
            "missing_quarterly": 29, "errors": 7, "on_time_rate": 69.2, "pass_id": "19073153f4b6",
            "cells_written": 0, "cells_withheld": 0, "api_calls": 1, "read_s": 0.5217, "compute_s": 0.0637,
            "write_s": 0.4582, "written": True}
    return {**base, **extra}


def test_a_pass_summary_packs_and_unpacks_whatever_it_holds():
    from sync.core.products import DEFAULT_KINDS
    from sync.state.store import pack_summary, unpack_summary
    default = {k.label: n for k, n in zip(DEFAULT_KINDS, (908, 424, 0, 366, 0, 0), strict=True)}
    tasks = {"tasks_done": 3, "tasks_in_progress": 13, "tasks_not_started": 1, "tasks_cancelled": 0, "tasks_late": 1}
    cases = [_summary(), _summary(products=default), _summary(products={"tin, bài": 5, "khác": 2}),
             _summary(products=default, **tasks), _summary(products={}, **tasks), _summary(products=default, x=1)]
    for summary in cases:
        assert unpack_summary(pack_summary(summary)) == summary, summary
    # a record written before products and task figures existed still reads as it was written
    assert unpack_summary(OLD_RECORD) == _summary()

"""Tasks, not rows (DESIGN.md §10): one rule for a task's state, and every output agrees with it."""
import csv
import datetime as dt
import json
import re

import openpyxl
from docx import Document

from tests.conftest import AS_OF


def _dashboard_states(workbook) -> dict[int, str]:
    """The per-task table of the Tổng hợp tab: task number → Tình hình chung."""
    ws = openpyxl.load_workbook(workbook, read_only=True)["Tổng hợp"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] == "III. THEO NHIỆM VỤ") + 1
    header = rows[start]
    state_col = header.index("Tình hình chung")
    out = {}
    for r in rows[start + 1:]:
        if not isinstance(r[0], int):
            break
        out[r[0]] = r[state_col]
    return out


def _no_days(state: str) -> str:
    return re.sub(r"\d+ ngày", "N ngày", state)


def test_dashboard_export_report_and_json_say_the_same_of_each_task(demo_ran_project):
    p = demo_ran_project
    summary = p.run_json()
    dashboard = _dashboard_states(p.workbook)
    assert len(dashboard) == summary["tasks"] == 17

    code, out, err = p.cli("export", "--at", AS_OF.isoformat(), "-o", str(p.root / "x.csv"))
    assert code == 0, err
    with open(p.root / "x.csv", encoding="utf-8-sig") as fh:
        exported = {int(r["STT"]): r["Tình trạng nhiệm vụ"] for r in csv.DictReader(fh) if r["Được tính"] == "Có"}
    # a past date is judged at its end (export --at, report), a pass during its day: a late task is a day later
    assert {k: _no_days(v) for k, v in exported.items()} == {k: _no_days(v) for k, v in dashboard.items()}

    words = {"Hoàn thành": "tasks_done", "Đang thực hiện": "tasks_in_progress", "Chưa thực hiện": "tasks_not_started",
             "Không thực hiện": "tasks_cancelled"}
    late = [s for s in dashboard.values() if s.startswith("Chậm tiến độ")]
    assert summary["tasks_late"] == len(late) == 1
    counted = {key: sum(1 for s in dashboard.values() if s.startswith(word)) for word, key in words.items()}
    # a late task is open: at work or not started, which its label does not say; the four still add up
    assert sum(counted.values()) + len(late) == summary["tasks"]
    for key, n in counted.items():
        assert n <= summary[key] <= n + len(late), key

    # the report of the same date: its appendix prints each task's state as the dashboard does
    code, out, err = p.cli("report", "--period", "2024Q3", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 0, err
    doc = Document(p.root / json.loads(out)["path"])
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "STT" and len(t.columns) == 6)
    def word(state: str) -> str:  # the state itself; the report words its qualifiers for outside readers
        return " ".join(state.replace(",", " ").split()[:2])
    in_report = {int(r.cells[0].text): word(r.cells[2].text) for r in table.rows[1:]}
    assert in_report == {stt: word(state) for stt, state in exported.items()}


def test_the_dashboard_opens_with_the_task_figures(demo_ran_project):
    ws = openpyxl.load_workbook(demo_ran_project.workbook, read_only=True)["Tổng hợp"]
    first = [[c for c in r if c not in (None, "")] for r in ws.iter_rows(max_row=8, values_only=True)]
    headline = next(r for r in first if r and r[0] == "Nhiệm vụ")
    assert headline[1].startswith("Hoàn thành ") and "/17 nhiệm vụ (" in headline[1]
    assert headline[1].endswith("1 chậm tiến độ")


def test_a_supporting_unit_is_not_reminded_of_a_task_its_lead_completed(demo_ran_project):
    # task 1 (the plan itself, due 29/02) was completed by its lead, Văn phòng Sở, on 04/03/2024; in the demo
    # Phòng CNTT-BCVT, which supports it, still says "Đang thực hiện": its row of task 1 is closed with the task
    code, out, err = demo_ran_project.cli("remind", "--as-of", AS_OF.isoformat())
    assert code == 0, err
    digest = next(d for d in out.split("--- ")[1:] if "Phòng CNTT-BCVT:" in d.splitlines()[0])
    assert "Nhiệm vụ 4 - " in digest and "đã quá 82 ngày" in digest  # the lead of the late task 4 is reminded
    assert "Nhiệm vụ 1 - " not in digest
    summary = demo_ran_project.run_json()
    assert summary["overdue"] == 2  # task 4's lead and one of its supporting units, both still at work


def test_the_task_figures_of_a_date_are_those_export_and_a_later_dry_run_give(demo_ran_project):
    """The past stays true: a date's task figures, recorded by its pass, come out the same from a dry run of that
    date after units typed more (history's entries of the date), and export --at agrees with them."""
    p = demo_ran_project
    recorded = p.run_json()  # the pass of AS_OF, recorded in history
    keys = [k for k in recorded if k.startswith("tasks_")]
    wb = openpyxl.load_workbook(p.workbook)
    ws = wb["Theo dõi"]
    header = [c.value for c in ws[1]]
    status, stt, role = header.index("Tình trạng") + 1, header.index("STT") + 1, header.index("Vai trò") + 1
    lead = next(r for r in range(2, ws.max_row + 1)
                if ws.cell(r, stt).value == 4 and ws.cell(r, role).value == "Chủ trì")
    ws.cell(lead, status).value = "Hoàn thành"  # later, task 4's lead reports it done
    wb.save(p.workbook)
    assert p.run_json(AS_OF + dt.timedelta(days=1))["tasks_late"] == 0  # the next day's pass sees it done
    again = p.run_json(AS_OF, "--dry-run")
    assert [again[k] for k in keys] == [recorded[k] for k in keys] and len(keys) == 5


def test_a_lead_behind_its_supporting_units_is_told_on_its_row(plan):
    from sync.core.tables import Entry
    from sync.core.validation import check_all
    rows = [Entry(row=2, stt=3, unit="Văn phòng Sở", status="", results={}),
            Entry(row=3, stt=3, unit="Ban Biên tập", status="Hoàn thành", done_date="01/03/2024", evidence="Số 1",
                  results={})]
    lead, support = check_all(rows, plan, {}, AS_OF)
    assert [i.column for i in lead.issues] == ["status"] and "Ban Biên tập" in lead.issues[0].message
    assert support.issues == []
    rows[0] = Entry(row=2, stt=3, unit="Văn phòng Sở", status="Đang thực hiện", results={})
    assert check_all(rows, plan, {}, AS_OF)[0].issues == []

"""The dashboard's figures add up, a task's state says the worst that is true, and the `Tổng hợp` grid
the pure core lays out shows what the summary holds (generated sheets, no I/O)."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.core.flags import Rules
from sync.core.schema import Layout
from sync.core.summary import KPI_LABELS, STATUS_LINES, summarize
from sync.core.tables import Entry
from sync.core.tasks import evaluate
from sync.core.validation import check_all
from sync.sheet.dashboard import UNIT_HEADERS, render

from .conftest import AS_OF
from .strategies import examples

NOW = dt.datetime(2024, 9, 20, 8, 0)
UNIT_NAMES = ["Văn phòng Sở", "Phòng CNTT-BCVT", "Phòng TT-BC-XB", "Trung tâm Cổng TTĐT", "Ban Biên tập",
              "Trung tâm Công nghệ thông tin và Dịch vụ hành chính công trực tuyến", "Phòng Kế toán", ""]
STATUS_TEXTS = ["", "Hoàn thành", "Đang thực hiện", "Chưa thực hiện", "Không thực hiện", "xong", "đang làm",
                "???", "hoàn  thành"]
RESULT = st.sampled_from(["", "", "Đăng 3 tin", "Hội nghị"])
ENTRY = st.fixed_dictionaries({
    "stt": st.one_of(st.integers(0, 19), st.none(), st.sampled_from(["3", "x"])),
    "unit": st.sampled_from(UNIT_NAMES),
    "status": st.sampled_from(STATUS_TEXTS),
    "results": st.fixed_dictionaries({1: RESULT, 2: RESULT, 3: RESULT, 4: RESULT}),
    "done_date": st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
                           st.sampled_from(["31/02/2024", "05/03/2024"])),
    "evidence": st.sampled_from(["", "Số 1/KH-STTTT", "htps://x"]),
    "deadline": st.one_of(st.none(), st.sampled_from(["15/09/2024", "Quý II/2024", "sớm"])),
})


def pipeline(plan, typed: list[dict], as_of: dt.date = AS_OF):
    entries = [Entry(row=i + 2, **e) for i, e in enumerate(typed)]
    rows = evaluate(check_all(entries, plan, {}, as_of), Rules(as_of, plan.year, plan.issued, 14, 7))
    return summarize(rows, plan, as_of)


def sections(styled) -> dict[str, list[list]]:
    """The body rows of each section of the rendered grid, by the section's title (header row first)."""
    out: dict[str, list[list]] = {}
    current = None
    for r, values in enumerate(styled.rows, start=1):
        if styled.styles.get(r) == "section":
            current = out.setdefault(values[0], [])
        elif current is not None and values:
            current.append(values)
    return out


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(typed=st.lists(ENTRY, max_size=40))
def test_figures_add_up_per_unit_per_task_and_overall(plan, typed):
    summary = pipeline(plan, typed)
    k = summary.kpis.to_json()
    counted = summary.kpis.rows - summary.kpis.not_counted
    assert summary.kpis.rows == len(typed)
    assert sum(k[s] for s in STATUS_LINES) == counted
    units = [u.to_json() for u in summary.by_unit]
    for u in units:
        assert sum(u[s] for s in STATUS_LINES) == u["rows"]
    assert sum(u.rows for u in summary.by_unit) == counted
    for t in summary.by_task:
        assert sum(t.to_json()[s] for s in STATUS_LINES) == t.units
        assert ("Chậm tiến độ" in t.state) == t.late
        assert not t.late or t.overdue > 0  # a late task has a lead row past its deadline
        if t.status == "done":
            assert t.done > 0 and t.overdue == 0  # closed: no row of it is overdue any more
    assert k["tasks_done"] + k["tasks_in_progress"] + k["tasks_not_started"] + k["tasks_cancelled"] == k["tasks"]
    assert k["tasks_late"] == sum(1 for t in summary.by_task if t.late)
    assert sum(t.units for t in summary.by_task) == counted
    for key in ("overdue", "done", "in_progress", "not_started", "cancelled", "unknown_status", "errors"):
        assert sum(u[key] for u in units) == (k[key] if key != "errors" else
                                              sum(len(r.checked.issues) for r in summary.results
                                                  if r.checked.unit))

    # the grid shows the same figures, and its total row is the sum of the unit rows
    grid = sections(render(summary, plan, Layout(), NOW))
    shown = {row[1]: row[2] for row in grid["I. CHỈ SỐ CHÍNH"][1:]}
    assert shown == {label: ("" if k[key] is None else k[key]) for key, label in KPI_LABELS.items()}
    header, *units = grid["II. THEO ĐƠN VỊ"]
    total = units.pop()
    keys = list(UNIT_HEADERS)
    assert header[2:] == [UNIT_HEADERS[key] for key in keys]
    assert [row[2:] for row in units] == [[u.to_json()[key] for key in keys] for u in summary.by_unit]
    assert total[1] == "Tổng cộng" and total[2:] == [sum(row[i] for row in units) for i in range(2, len(header))]
    status_cols = [header.index(UNIT_HEADERS[s]) for s in STATUS_LINES]
    for row in units + [total]:
        assert sum(row[i] for i in status_cols) == row[header.index("Số dòng phân công")]


def test_unknown_status_has_its_line(plan):
    summary = pipeline(plan, [{"stt": 2, "unit": "Văn phòng Sở", "status": "???"},
                              {"stt": 2, "unit": "Ban Biên tập", "status": "Hoàn thành"}])
    assert summary.kpis.unknown_status == 1 and summary.kpis.rows == 2
    vp = next(u for u in summary.by_unit if u.code == "VP")
    assert vp.unknown_status == 1 and vp.rows == 1


def _task(summary, stt):
    return next(t for t in summary.by_task if t.stt == stt)


def _flags(summary, stt):
    return {r.checked.unit.code: [f.kind.value for f in r.flags] for r in summary.results
            if r.checked.task and r.checked.task.stt == stt and r.checked.unit}


def test_a_task_follows_its_lead_and_closes_its_supporting_rows(plan):
    # task 1 (due 29/02/2024) is led by Văn phòng Sở; the five others support it
    lead, *support = UNIT_NAMES[:6]
    typed = [{"stt": 1, "unit": lead, "status": "Đang thực hiện", "results": {1: "x", 2: "", 3: "", 4: ""}}]
    typed += [{"stt": 1, "unit": u, "status": "Hoàn thành", "done_date": "20/02/2024", "evidence": "Số 1/KH",
               "results": {1: "x", 2: "", 3: "", 4: ""}} for u in support]
    summary = pipeline(plan, typed)  # as of 20/09/2024: the supporting units finished, the lead did not
    days = (AS_OF - dt.date(2024, 2, 29)).days
    assert _task(summary, 1).state == f"Chậm tiến độ {days} ngày (hạn 29/02/2024)"
    assert summary.kpis.tasks_late == 1 and summary.kpis.tasks_in_progress == 1

    typed[0].update(status="Hoàn thành", done_date="04/03/2024", evidence="Số 3/KH-STTTT")
    for e in typed[1:]:
        e.update(status="Đang thực hiện", done_date=None, evidence="")
    summary = pipeline(plan, typed)
    assert _task(summary, 1).state == "Hoàn thành (04/03/2024)"
    assert summary.kpis.tasks_done == 1 and summary.kpis.tasks_late == 0
    flags = _flags(summary, 1)
    assert "overdue" in _flags(pipeline(plan, typed[1:]), 1)["CNTT"]  # without its lead's row the task is open
    # closed with the task: no "Quá hạn", and no result owed for the quarters after the lead's completion (Q1's
    # window ended on 14/03, after the completion: the completion with evidence is that quarter's result)
    assert all(f == [] for code, f in flags.items() if code != "VP"), flags
    assert summary.kpis.overdue == 0 and summary.overdue == []

    typed[0].update(status="Không thực hiện", note="Không còn kinh phí", done_date=None, evidence="")
    summary = pipeline(plan, typed)
    assert _task(summary, 1).state == "Không thực hiện: Không còn kinh phí"
    assert summary.kpis.tasks_cancelled == 1
    assert all(f == [] for f in _flags(summary, 1).values())


def test_a_task_with_several_leads_is_done_when_all_of_them_are(plan):
    # task 5 (Trong năm 2024) is led by CNTT and TTBCXB together
    typed = [{"stt": 5, "unit": u, "status": "Hoàn thành", "done_date": "10/05/2024", "evidence": "Số 5/BC",
              "results": {1: "", 2: "x", 3: "", 4: ""}} for u in ("Phòng CNTT-BCVT", "Phòng TT-BC-XB")]
    typed[1].update(status="Đang thực hiện", done_date=None, evidence="")
    assert _task(pipeline(plan, typed), 5).state == "Đang thực hiện"
    typed[1].update(status="Hoàn thành", done_date="12/06/2024", evidence="Số 6/BC")
    assert _task(pipeline(plan, typed), 5).state == "Hoàn thành (12/06/2024)"


def test_outside_led_task_is_decided_by_the_sos_rows(plan):
    # task 14 is led by an outside body; Phòng TT-BC-XB supports it and its row decides
    typed = [{"stt": 14, "unit": "Phòng TT-BC-XB", "status": "Đang thực hiện", "results": {1: "x", 2: "x", 3: "x"}}]
    state = next(t for t in pipeline(plan, typed).tasks if t.stt == 14)
    assert state.leads == ("TTBCXB",) and state.label == "Đang thực hiện (theo tiến độ Đề án, Kế hoạch)"


def test_a_recurring_task_is_done_only_at_the_years_end(plan):
    # task 2 is "Thường xuyên": its lead's "Hoàn thành" in September keeps it going
    typed = [{"stt": 2, "unit": "Văn phòng Sở", "status": "Hoàn thành", "done_date": "01/09/2024",
              "evidence": "Số 9/BC", "results": {1: "x", 2: "x", 3: "x", 4: ""}}]
    assert _task(pipeline(plan, typed), 2).state == "Đang thực hiện (thường xuyên)"
    assert _task(pipeline(plan, typed, dt.date(2025, 1, 2)), 2).state == "Hoàn thành (01/09/2024)"
    typed[0].update(status="Đang thực hiện", done_date=None)  # carried out all year, never marked done
    assert _task(pipeline(plan, typed), 2).state == "Đang thực hiện (thường xuyên)"
    assert _task(pipeline(plan, typed, dt.date(2025, 1, 2)), 2).state == "Hoàn thành"
    typed[0].update(status="Chưa thực hiện", results={})
    assert _task(pipeline(plan, typed, dt.date(2025, 1, 2)), 2).state == "Chưa thực hiện"


@pytest.mark.parametrize("as_of,state", [(dt.date(2024, 3, 10), "Đang thực hiện"),
                                         (dt.date(2024, 3, 31), "Đang thực hiện"),
                                         (dt.date(2024, 4, 2), "Chậm tiến độ 2 ngày (hạn 31/03/2024)")])
def test_task_state_moves_with_the_date(plan, as_of, state):
    # task 3 is due 31/03/2024; its lead (Văn phòng Sở) at work, one supporting unit done early
    typed = [{"stt": 3, "unit": UNIT_NAMES[1], "status": "Hoàn thành", "done_date": "01/03/2024",
              "evidence": "Số 1/KH", "results": {1: "x", 2: "", 3: "", 4: ""}}]
    typed += [{"stt": 3, "unit": u, "status": "Đang thực hiện", "results": {1: "x", 2: "", 3: "", 4: ""}}
              for u in [UNIT_NAMES[0], *UNIT_NAMES[2:6]]]
    assert _task(pipeline(plan, typed, as_of), 3).state == state


def test_lists_are_numbered_by_place_with_the_task_number_apart(plan):
    typed = [{"stt": stt, "unit": "Văn phòng Sở", "status": "Đang thực hiện", "results": {1: "x", 2: "x", 3: "x",
                                                                                           4: ""}}
             for stt in (3, 1)] + [{"stt": 3, "unit": "Văn phòng Sở", "status": "xong"}]
    grid = sections(render(pipeline(plan, typed), plan, Layout(), NOW))
    header, *overdue = grid["IV. DANH SÁCH QUÁ HẠN"]
    assert header[:3] == ["TT", "Nhiệm vụ", "STT nhiệm vụ"]
    assert [row[0] for row in overdue] == [1, 2] and [row[2] for row in overdue] == [1, 3]
    header, *errors = grid["V. LỖI NHẬP LIỆU CẦN SỬA"]
    assert "Tab" not in header and "Trang tính" in header
    assert [row[0] for row in errors] == list(range(1, len(errors) + 1))


# --- the look of a list: banded rows, boxed headers -------------------------------------------------------------

def test_every_second_row_of_each_list_is_banded_counting_from_its_header(plan):
    summary = pipeline(plan, [{"stt": 1, "unit": "Ban Biên tập", "status": "xong", "results": {}, "done_date": None,
                                "evidence": "", "deadline": None}])
    from sync.core.trends import Point, TrendRow
    cutoffs = [Point("cutoff", label, day) for label, day in (("Quý I", dt.date(2024, 3, 14)),
                                                             ("6 tháng", dt.date(2024, 6, 14)),
                                                             ("Quý III", dt.date(2024, 9, 14)))]
    weeks = [Point("week", f"Tuần {n}", dt.date(2024, 9, 1) + dt.timedelta(weeks=n)) for n in range(1, 4)]
    trends = [TrendRow(p, (1, 0, 0), {}) for p in cutoffs + weeks]  # an odd number of cut-offs before the weeks
    styled = render(summary, plan, Layout(), NOW, trends=trends)
    listed: list[int] = []  # ordinal rows of the current list, in order
    for r in range(1, len(styled.rows) + 1):
        if styled.styles.get(r) in ("header", "total"):  # a list's header, or a group's line within a list
            listed = []
        elif (r, 1) in styled.centred:
            listed.append(r)
            assert (r in styled.bands) == (len(listed) % 2 == 0), (r, styled.rows[r - 1])
        else:
            assert r not in styled.bands, (r, styled.rows[r - 1])  # titles, headers, totals, "(không có)"
    assert len(styled.bands) >= 7 + 3 + 8 + 1 + 1  # the KPIs, the units, the tasks, cut-offs and weeks


def test_list_rows_carry_no_cell_borders_so_merged_ranges_stay_cheap_to_open(demo_workbook):
    """openpyxl re-derives the border of every edge cell of a bordered merged range each time it opens the file
    (seconds on a long dashboard): list rows are banded instead, only header and total rows are boxed."""
    import openpyxl

    from sync.core.schema import BAND_COLOUR, HEADER_COLOUR
    ws = openpyxl.load_workbook(demo_workbook)[Layout().tabs["dashboard"]]
    bordered = {r for row in ws.iter_rows() for c in row if c.border.top is not None and c.border.top.style
                for r in [c.row]}
    headers = {r for r in bordered if ws.cell(r, 1).fill.fgColor.rgb.endswith(HEADER_COLOUR)}
    assert headers and all(ws.cell(r, 1).font.b for r in bordered)  # only boxed header and total rows
    list_merges = [m for m in ws.merged_cells.ranges if m.min_row not in bordered and m.max_col < 12]
    assert list_merges  # the task list's Tiến độ and Tình hình chung, the overdue list's unit …
    for merge in list_merges:
        assert ws.cell(merge.min_row, merge.min_col).border.top.style is None, merge.coord
    banded = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).fill.fgColor.rgb.endswith(BAND_COLOUR)]
    assert len(banded) >= 15 and not set(banded) & bordered


def test_google_draws_the_same_bands(plan):
    from sync.backends.google_requests import cell_format
    summary = pipeline(plan, [])
    styled = render(summary, plan, Layout(), NOW, trends=[])
    band = min(styled.bands)
    colours = {c: (cell_format(styled, band, c, v) or {}).get("backgroundColor")
               for c, v in enumerate(styled.rows[band - 1], start=1)}
    assert all(colours.values()) and len({str(v) for v in colours.values()}) == 1
    plain = band - 1 if (band - 1, 1) in styled.centred else band + 1
    assert not (cell_format(styled, plain, 2, styled.rows[plain - 1][1]) or {}).get("backgroundColor")

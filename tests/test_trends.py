"""The "Diễn biến" section of `Tổng hợp`: figures per unit at each cut-off and each week, as recorded.

The pure core (sync.core.trends) against an independent count; the section through the real CLI on the local
workbook and on Google through the Sheets API stand-in; the past staying as it was seen.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys

import pytest
from docx import Document

from sync.backends.local import LocalBackend
from sync.core import periods, trends
from sync.core import summary as summaries
from sync.core.config import PROJECT_DIR, load_settings
from sync.core.history import AsOf
from sync.core.plan import load_plan
from sync.core.schema import Layout
from sync.core.trends import Point
from sync.reports.document import PROGRESS_CAPTION
from sync.sheet import dashboard
from sync.sheet.sync_pass import PassOptions, compute, unit_figures
from sync.state.store import State
from sync.usecases.demo import seed
from sync.usecases.report_build import gather
from sync.usecases.run import trend_rows

from .conftest import AS_OF, Project
from .test_google import api, backend, google, key, unit_client  # noqa: F401  (fixtures and helpers)
from .test_history import _export, type_cells
from .workbooks import values as tab_values

TITLE = "VI. DIỄN BIẾN"
UNITS = ["VP", "CNTT"]


# --- the pure core --------------------------------------------------------------------------------------------

def test_points_are_the_cutoffs_then_the_weeks_monday_to_sunday_the_last_one_at_the_date():
    at = trends.points(2024, dt.date(2024, 3, 6), dt.date(2024, 3, 20),
                       [("Quý I", dt.date(2024, 3, 14)), ("6 tháng đầu năm", dt.date(2024, 6, 14))])
    assert at == [Point("cutoff", "Quý I (14/03/2024)", dt.date(2024, 3, 14)),
                  Point("week", "Tuần 10 (04/03–10/03/2024)", dt.date(2024, 3, 10)),
                  Point("week", "Tuần 11 (11/03–17/03/2024)", dt.date(2024, 3, 17)),
                  Point("week", "Tuần 12 (18/03–24/03/2024)", dt.date(2024, 3, 20))]


def test_each_point_takes_per_unit_the_last_record_at_or_before_it_against_an_independent_count():
    records = [(dt.date(2024, 3, 4), "VP", 1, 0, 2), (dt.date(2024, 3, 4), "CNTT", 0, 1, 1),
               (dt.date(2024, 3, 8), "VP", 2, 0, 1), (dt.date(2024, 3, 8), "CNTT", 1, 1, 0),
               (dt.date(2024, 3, 12), "VP", 4, 1, 0)]  # CNTT not recorded that day: zero, as a new unit is
    at = [Point("week", "a", dt.date(2024, 3, 3)), Point("week", "b", dt.date(2024, 3, 7)),
          Point("cutoff", "c", dt.date(2024, 3, 8)), Point("week", "d", dt.date(2024, 3, 20))]
    rows = trends.table(trends.frame(records), at, UNITS)

    def by_hand(day):  # the last recorded date at or before `day`, its figures per unit
        days = [d for d, *_ in records if d <= day]
        if not days:
            return None
        last = max(days)
        return {u: next((tuple(r[2:]) for r in records if r[0] == last and r[1] == u), (0, 0, 0)) for u in UNITS}

    expected = [(p, by_hand(p.day)) for p in at if by_hand(p.day) is not None]
    assert [(r.point, r.by_unit) for r in rows] == expected
    assert [r.point.label for r in rows] == ["b", "c", "d"]  # "a" is before every record: left out
    assert rows[-1].totals == (4, 1, 0) and rows[0].totals == (1, 1, 3)


def test_no_records_give_no_rows():
    assert trends.table(trends.frame([]), [Point("week", "a", dt.date(2024, 3, 3))], UNITS) == []


# --- the section, through the CLI -------------------------------------------------------------------------------

def section(path) -> list[list]:
    """The rows of the Diễn biến section of the local workbook's Tổng hợp, from its title on (values only)."""
    rows = [[v for v in r if v not in (None, "")] for r in tab_values(path, "Tổng hợp")["Tổng hợp"]]
    start = next(i for i, r in enumerate(rows) if r[:1] == [TITLE])
    return rows[start:]


def figure_rows(rows: list[list]) -> dict[str, list]:
    """label → [done, overdue, missing, 'd / o / m' per unit] of the section's numbered rows."""
    return {r[1]: r[2:] for r in rows if r and isinstance(r[0], int)}


def run(p, day: dt.date) -> dict:
    return p.run_json(day)


MARCH = (dt.date(2024, 3, 4), dt.date(2024, 3, 8), dt.date(2024, 3, 14), dt.date(2024, 3, 18))


@pytest.fixture(scope="module")
def march_template(tmp_path_factory, demo_workbook) -> Project:
    """The demo workbook after passes on each day of MARCH (each exit 0), once per module: copied per test."""
    template = Project(tmp_path_factory.mktemp("march"), None)
    template.workbook.parent.mkdir(parents=True)
    shutil.copyfile(demo_workbook, template.workbook)
    printed = {}
    for day in MARCH:
        code, out, err = template.quiet_cli("run", "--as-of", day.isoformat(), "--json")
        assert code == 0, err
        printed[day.isoformat()] = json.loads(out)
    (template.root / "printed.json").write_text(json.dumps(printed), encoding="utf-8")
    return template


def march_project(demo_project, march_template) -> tuple[Project, dict[dt.date, dict]]:
    """A copy of `march_template`, and what each of its passes printed (`run_json`), by day."""
    printed = json.loads((march_template.root / "printed.json").read_text(encoding="utf-8"))
    return march_template.copy_to(demo_project), {dt.date.fromisoformat(d): k for d, k in printed.items()}


def test_with_no_history_yet_the_section_says_so_in_one_line(demo_project):
    p = demo_project
    run(p, dt.date(2024, 3, 4))
    rows = section(p.workbook)
    assert len(rows) == 2 and rows[1][0].startswith("Chưa có lịch sử số liệu của các lượt chạy trước ngày 04/03/2024")


def test_weekly_and_cutoff_figures_are_those_recorded_then_and_stay_the_same_later(demo_project, march_template):
    p, kpis = march_project(demo_project, march_template)  # after the passes of 04/03, 08/03, 14/03, 18/03
    first = figure_rows(section(p.workbook))
    assert list(first) == ["Quý I (14/03/2024)", "Tuần 10 (04/03–10/03/2024)", "Tuần 11 (11/03–17/03/2024)",
                           "Tuần 12 (18/03–24/03/2024)"]
    # each figure is that of the pass then, judged at the end of its day (as a report or a dry run of that
    # past date: the same figures): week 10 is the pass of 08/03, the cut-off and week 11 that of 14/03;
    # today's own row (18/03) is the pass's, during the day
    for label, day in (("Tuần 10 (04/03–10/03/2024)", dt.date(2024, 3, 8)),
                       ("Quý I (14/03/2024)", dt.date(2024, 3, 14))):
        code, out, err = p.cli("run", "--as-of", day.isoformat(), "--dry-run", "--json")
        k = json.loads(out)
        assert code == 0 and k["source"] == "history", err
        assert first[label][:3] == [k["done"], k["overdue"], k["missing_quarterly"]], label
    k = kpis[dt.date(2024, 3, 18)]
    assert first["Tuần 12 (18/03–24/03/2024)"][:3] == [k["done"], k["overdue"], k["missing_quarterly"]]
    code, out, err = p.cli("report", "--period", "2024Q1", "--date", "2024-03-18", "--json")
    report = json.loads(out)  # the cut-off's row says what the period's report says
    assert code == 0 and first["Quý I (14/03/2024)"][:3] == [report["done"], report["overdue"],
                                                              report["missing_quarterly"]], err
    assert first["Tuần 11 (11/03–17/03/2024)"] == first["Quý I (14/03/2024)"]
    units = [r for r in section(p.workbook) if r[:2] == ["TT", "Kỳ báo cáo / tuần"]][0][5:]
    assert units == ["VP", "CNTT", "TTBCXB", "TTDV", "CONG", "BBT"]
    cells = first["Quý I (14/03/2024)"][3:]
    assert [sum(int(c.split(" / ")[i]) for c in cells) for i in range(3)] == first["Quý I (14/03/2024)"][:3]

    # units complete work afterwards: today's figures move, the past ones do not
    type_cells(p.workbook, 1, "Văn phòng", **{"Tình trạng": "Hoàn thành", "Ngày hoàn thành": "20/03/2024"})
    type_cells(p.workbook, 2, "Văn phòng", **{"Tình trạng": "Hoàn thành", "Ngày hoàn thành": "20/03/2024"})
    later = run(p, dt.date(2024, 4, 2))
    assert later["done"] != kpis[dt.date(2024, 3, 18)]["done"]
    again = figure_rows(section(p.workbook))
    for label, values in first.items():
        if label != "Tuần 12 (18/03–24/03/2024)":  # the week not yet over then
            assert again[label] == values, label
    assert again["Tuần 12 (18/03–24/03/2024)"] == first["Tuần 12 (18/03–24/03/2024)"]  # no pass later that week
    assert again["Tuần 14 (01/04–07/04/2024)"][:3] == [later["done"], later["overdue"], later["missing_quarterly"]]

    # the kept rows and a computation from scratch (pandas, over every record) agree
    with sqlite3.connect(p.root / "state.sqlite") as db:
        db.execute("DELETE FROM trend_cache")
    assert p.cli("run", "--as-of", "2024-04-02", "--dry-run")[0] == 0
    assert figure_rows(section(p.workbook)) == again  # dry run: the workbook is not written…
    run(p, dt.date(2024, 4, 2))
    assert figure_rows(section(p.workbook)) == again  # …and the recomputed section is the same


def test_a_dry_run_of_a_past_date_shows_the_figures_recorded_before_it(demo_project):
    p = demo_project
    for day in (dt.date(2024, 3, 4), dt.date(2024, 3, 11), dt.date(2024, 3, 18)):
        run(p, day)
    settings = load_settings(p.config)
    plan = load_plan(settings.plan)
    state = State(settings.state)
    day = dt.date(2024, 3, 12)
    opts = PassOptions.from_settings(settings, AsOf(day), dt.datetime(2024, 3, 12, 8), dry_run=True)
    read = trend_rows(state, settings, plan, day, save=False)  # read once, before the pure computation
    summary = compute(LocalBackend(p.workbook).read(), plan, settings.layout, opts, "wb", read).summary
    rows = read.rows(unit_figures(summary))
    assert [r.point.label for r in rows] == ["Tuần 10 (04/03–10/03/2024)", "Tuần 11 (11/03–17/03/2024)"]
    assert rows[0].point.day == dt.date(2024, 3, 10) and rows[1].point.day == dt.date(2024, 3, 12)


def test_the_usual_pass_does_not_import_pandas(demo_project):
    p = demo_project
    for day in (dt.date(2024, 3, 4), dt.date(2024, 3, 5)):  # the second computes and keeps the rows
        run(p, day)
    code = ("import sys; from sync.entry.cli import main; rc = main(['run', '--as-of', '2024-03-06', '--config', "
            f"{str(p.config)!r}]); print('pandas' in sys.modules, rc)")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["False", "0"]
    assert "Tuần 10 (04/03–10/03/2024)" in figure_rows(section(p.workbook))


# --- Google: the same section ----------------------------------------------------------------------------------

def test_google_dashboard_has_the_same_section(google, api, key, plan):
    seed(backend(api, key), plan, AS_OF)
    for day in ("2024-03-04", "2024-03-14"):
        assert google.cli("run", "--as-of", day)[0] == 0
    rows = unit_client(api, key).worksheet("Tổng hợp").get_all_values()
    rows = [[v for v in r if v != ""] for r in rows]
    start = next(i for i, r in enumerate(rows) if r[:1] == [TITLE])
    shown = {r[1]: r[2:] for r in rows[start:] if r and r[0].isdigit()}
    assert list(shown) == ["Quý I (14/03/2024)", "Tuần 10 (04/03–10/03/2024)", "Tuần 11 (11/03–17/03/2024)"]
    assert shown["Quý I (14/03/2024)"] == shown["Tuần 11 (11/03–17/03/2024)"]
    assert len(shown["Tuần 10 (04/03–10/03/2024)"]) == 3 + 6


@pytest.mark.parametrize("units", [["VP"], ["VP", "CNTT", "TTBCXB", "TTDV", "CONG", "BBT", "X1", "X2"]])
def test_render_shows_as_many_units_as_the_narrow_columns_hold(plan, units):
    row = trends.TrendRow(Point("week", "Tuần 1", dt.date(2024, 1, 7)), (1, 0, 0), {u: (1, 0, 0) for u in units})
    summary = summaries.summarize([], plan, dt.date(2024, 1, 7))
    grid = dashboard.render(summary, plan, Layout(), dt.datetime(2024, 1, 7), [row])
    header = next(r for r in grid.rows if r[:2] == ["TT", "Kỳ báo cáo / tuần"])
    assert [v for v in header[5:] if v] == [u.code for u in plan.registry.units][:7]


def test_a_week_whose_sunday_had_a_pass_shows_that_pass_kept_rows_or_recomputed(demo_project):
    p = demo_project
    monday = run(p, dt.date(2024, 3, 4))
    for stt in (1, 2, 3):
        type_cells(p.workbook, stt, "Văn phòng", **{"Tình trạng": "Đang thực hiện", "Ngày hoàn thành": None})
    sunday = run(p, dt.date(2024, 3, 10))
    assert sunday["done"] != monday["done"]
    run(p, dt.date(2024, 3, 12))  # the week's row is added to the kept rows, from the day's record
    week = "Tuần 10 (04/03–10/03/2024)"
    kept = figure_rows(section(p.workbook))[week]
    assert kept[:3] == [sunday["done"], sunday["overdue"], sunday["missing_quarterly"]]
    with sqlite3.connect(p.root / "state.sqlite") as db:
        db.execute("DELETE FROM trend_cache")
    run(p, dt.date(2024, 3, 12))  # computed again from every record, with pandas
    assert figure_rows(section(p.workbook))[week] == kept


# --- the report's chart of progress through the year ---------------------------------------------------------

def test_report_plots_done_against_expected_by_each_cutoff_with_past_figures_from_history(demo_project):
    p = demo_project
    q1, h1 = run(p, dt.date(2024, 3, 14)), run(p, dt.date(2024, 6, 14))
    for stt in (1, 2, 3, 4):  # work done after the cut-offs: it must not show in their figures
        type_cells(p.workbook, stt, "Văn phòng", **{"Tình trạng": "Hoàn thành", "Ngày hoàn thành": "01/09/2024"})
    q3 = run(p, dt.date(2024, 9, 14))
    code, out, err = p.cli("report", "--json", "--period", "2024Q3", "--date", "2024-09-16")
    assert code == 0, err
    doc = Document(p.root / json.loads(out)["path"])
    assert len(doc.inline_shapes) == 2  # the status chart and the progress chart
    texts = [para.text for para in doc.paragraphs]
    caption = PROGRESS_CAPTION.format(year=2024)
    assert caption in texts and "\n" not in caption  # one line under the chart

    # the figures plotted, against an independent count: expected from the export's computed deadlines
    settings = load_settings(p.config)
    report = gather(settings, load_plan(settings.plan), LocalBackend(p.workbook), periods.parse("2024Q3"),
                    dt.date(2024, 9, 14), dt.date(2024, 9, 16), dt.datetime(2024, 9, 16, 8))
    rows, _ = _export(p, "--at", "2024-09-14")
    live = [r for r in rows if r["Được tính"] == "Có" and r["Tình trạng"] != "Không thực hiện"]

    def expected(day):
        return sum(1 for r in live if r["Hạn hoàn thành (tính được)"]
                   and dt.date.fromisoformat(r["Hạn hoàn thành (tính được)"]) <= day)

    got = {pt.label: (pt.expected, pt.done) for pt in report.progress}
    assert got == {"Quý I": (expected(dt.date(2024, 3, 14)), q1["done"]),
                   "6 tháng đầu năm": (expected(dt.date(2024, 6, 14)), h1["done"]),
                   "Quý III": (expected(dt.date(2024, 9, 14)), q3["done"]),
                   "Năm": (expected(dt.date(2024, 12, 14)), None)}
    assert q3["done"] > h1["done"] and len({v[0] for v in got.values()}) > 1


def test_a_report_before_any_recorded_pass_has_no_progress_chart(demo_project):
    code, out, err = demo_project.cli("report", "--json", "--period", "2024Q3")
    assert code == 0, err
    doc = Document(demo_project.root / json.loads(out)["path"])
    assert len(doc.inline_shapes) == 1
    assert PROGRESS_CAPTION.format(year=2024) not in [para.text for para in doc.paragraphs]


@pytest.mark.parametrize("damage", ["key = '{'", "rows = '[[1,2]]'", "rows = '{bad'"])
def test_a_damaged_trend_cache_is_computed_again_never_stops_a_pass(demo_project, march_template, damage):
    import sqlite3
    p, _ = march_project(demo_project, march_template)
    before = figure_rows(section(p.workbook))
    with sqlite3.connect(p.root / "state.sqlite") as db:
        assert db.execute(f"UPDATE trend_cache SET {damage}").rowcount == 1
    run(p, dt.date(2024, 3, 19))  # run_json asserts exit 0
    after = figure_rows(section(p.workbook))
    assert {k: v for k, v in after.items() if k in before and "Tuần 12" not in k} == {
        k: v for k, v in before.items() if "Tuần 12" not in k}

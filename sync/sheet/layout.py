"""What `init` writes: the tabs laid out from the plan (and the guide, sync/sheet/aids.py), as a WriteSet.

Pure and idempotent by construction: it compares the plan with what the workbook already holds and adds
only what is missing (tabs, header cells, plan rows, tracking rows), then (re)states the formatting.
It never rewrites a cell that holds something, so running it on a workbook full of unit data, after
the plan changed, adds the new tasks and columns and loses nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from sync.core.deadlines import Schedule, ScheduleKind, format_date
from sync.core.plan import Plan
from sync.core.schema import FLAG_COLOURS, JOB_COLUMNS, JOB_TABS, ROLES, STATUSES, Layout
from sync.core.tables import (
    Table,
    as_stt,
    below_merges,
    check_headers,
    last_used_row,
    merge_index,
    one_row_per_task,
    refuse_overwrite,
    scan_headers,
)
from sync.core.workbook import Cell, Dropdown, Snapshot, Tab, TabFormat, WriteSet
from sync.sheet.aids import Aids, for_init, input_rules

#: Rows beyond the last one that still get the dropdown and colours, for rows the Office adds later.
SPARE_ROWS = 500

PLAN_WIDTHS = {"stt": 6, "task": 50, "results": 36, "schedule": 22, "assignment": 60, "note": 16,
               "lead": 30, "support": 30, "deadline": 16}
TRACKING_WIDTHS = {"stt": 6, "task": 45, "unit": 32, "role": 11, "deadline": 14, "status": 17, "q1": 32,
                   "q2": 32, "q3": 32, "q4": 32, "quantity": 11, "evidence": 28, "done_date": 14, "note": 24,
                   "check": 45, "flags": 30}
OFFICE_WIDTHS = {"period": 22, "section": 22, "text": 90, "check": 45}
WRAPPED = ("task", "results", "schedule", "assignment", "q1", "q2", "q3", "q4", "evidence", "note", "check",
           "flags", "unit", "lead", "support")


def describe_schedule(schedule: Schedule) -> str:
    """How the plan tab shows a parsed deadline; read back by the pass through the same parser."""
    if schedule.kind == ScheduleKind.ONCE or (schedule.kind == ScheduleKind.EVENT and schedule.due):
        return format_date(schedule.due)
    if schedule.kind == ScheduleKind.RECURRING:
        period = schedule.every or ""  # unknown: told as quarterly, with no month
        every = {"month": "Hằng tháng", "week": "Hằng tuần", "half": "Định kỳ 6 tháng", "year": "Hằng năm"}.get(
            period, "Hằng quý")
        if schedule.day:  # kept, so that the pass reading this cell back still knows the day
            month = {("quarter", False): " tháng cuối quý", ("quarter", True): " tháng đầu quý sau",
                     ("month", True): " tháng sau"}.get((period, schedule.next_period), "")
            return f"{every}, trước ngày {schedule.day}{month}"
        return every
    return ""


def plan_rows(plan: Plan, skip: Set[int | None] = frozenset()) -> list[dict[str, Cell]]:
    """The plan tab's row of every task whose STT is not in `skip`, by column key."""
    names = {u.code: u.name for u in plan.registry.units}
    return [{"stt": t.stt, "task": t.task, "results": t.results, "schedule": t.schedule,
             "assignment": t.assignment, "note": t.note,
             "lead": "; ".join(names[c] for c in t.lead), "support": "; ".join(names[c] for c in t.support),
             "deadline": describe_schedule(plan.schedule(t))} for t in plan.tasks if t.stt not in skip]


def tracking_rows(plan: Plan, skip: Set[tuple[int | None, str | None]] = frozenset()) -> list[dict[str, Cell]]:
    """The tracking tab's row of every (task, unit) whose (STT, unit code) is not in `skip`, by column key."""
    return [{"stt": task.stt, "task": task.task, "unit": unit.name, "role": ROLES[role]}
            for task, unit, role in plan.assignments() if (task.stt, unit.code) not in skip]


def build_init(plan: Plan, snapshot: Snapshot, layout: Layout, where: str = "init",
               aids: Aids | None = None) -> WriteSet:
    """`aids`: what the guide tab states and who edits which rows (sync.sheet.aids); defaults without settings."""
    ws = WriteSet()
    tabs = layout.tabs
    plan_tab = _ensure(ws, snapshot, tabs["plan"])
    track_tab = _ensure(ws, snapshot, tabs["tracking"])
    dash_tab = _ensure(ws, snapshot, tabs["dashboard"])
    log_tab = _ensure(ws, snapshot, tabs["log"])
    for key in JOB_TABS:  # protected, written by the job: never a tab holding anyone's rows
        refuse_overwrite(snapshot, tabs[key], key, {"tracking": layout.tracking_columns, "plan": layout.plan_columns},
                         where)

    # Both checked before anything is laid out: a duplicated or renamed header stops init (UserError).
    plan_cols = _ensure_headers(ws, plan_tab, layout.plan_columns, where)
    track_cols = _ensure_headers(ws, track_tab, layout.tracking_columns, where)
    plan_view = Table(plan_tab, 1, plan_cols, merge_index(plan_tab), where)  # merged cells read as they show
    one_row_per_task(plan_view)  # an STT merged across tasks stops init (UserError)
    have = {as_stt(plan_view.value(r, "stt")) for r in range(2, len(plan_tab.rows) + 1)}
    _append(ws, plan_tab, plan_cols, plan_rows(plan, skip=have))

    track_view = Table(track_tab, 1, track_cols, merge_index(track_tab))
    have_pairs: set[tuple[int | None, str | None]] = set()
    for r in range(2, len(track_tab.rows) + 1):
        unit = plan.registry.match(track_view.value(r, "unit"))
        have_pairs.add((as_stt(track_view.value(r, "stt")), unit.code if unit else None))
    _append(ws, track_tab, track_cols, tracking_rows(plan, skip=have_pairs))

    log_cols = _ensure_headers(ws, log_tab, layout.log_columns)
    office_tab = _ensure(ws, snapshot, tabs["office"])  # the Office's own words for each report (office_texts)
    office_cols = _ensure_headers(ws, office_tab, layout.office_columns, where)
    if not dash_tab.rows:
        ws.set(dash_tab.name, 1, 1, "Chưa có số liệu: chạy 'python -m sync run' để tổng hợp.")

    track_rows = max(len(track_tab.rows), 1) + len(ws.cells.get(track_tab.name, {})) + SPARE_ROWS
    last_col = max(track_cols.values())
    ws.formats = [
        TabFormat(plan_tab.name, widths=_widths(plan_cols, PLAN_WIDTHS), wrap_columns=_cols(plan_cols, WRAPPED),
                  protect_tab=True, editable_columns=_cols(plan_cols, ("deadline", "note"))),
        TabFormat(track_tab.name, widths=_widths(track_cols, TRACKING_WIDTHS),
                  wrap_columns=_cols(track_cols, WRAPPED),
                  dropdowns=(Dropdown(track_cols["status"], 2, track_rows, tuple(STATUSES.values())),),
                  row_colours=FLAG_COLOURS, colour_column=track_cols["flags"], colour_last_col=last_col,
                  colour_last_row=track_rows, protect_columns=_cols(track_cols, JOB_COLUMNS),
                  inputs=input_rules(track_cols, layout.tracking_columns, 2, track_rows, plan.year)),
        TabFormat(dash_tab.name, frozen_rows=0, protect_tab=True),
        TabFormat(log_tab.name, widths={c: 20 for c in log_cols.values()}, protect_tab=True),
        TabFormat(office_tab.name, widths=_widths(office_cols, OFFICE_WIDTHS),
                  wrap_columns=_cols(office_cols, ("text", "check")), protect_columns=_cols(office_cols, ("check",))),
    ]
    for_init(ws, plan, snapshot, layout, aids or Aids(), track_cols, track_tab.name)
    return ws


def _ensure(ws: WriteSet, snapshot: Snapshot, name: str) -> Tab:
    tab = snapshot.find_tab(name)
    if tab is None:
        ws.new_tabs.append(name)
        tab = Tab(name)
    return tab


def _ensure_headers(ws: WriteSet, tab: Tab, headers: dict[str, str], where: str = "") -> dict[str, int]:
    """Column of every header, adding the missing ones after the last used header cell.

    With `where` (the plan and tracking tabs), a duplicated header or a missing one with a close header
    present stops init instead: adding an empty twin of a renamed column would make every figure wrong."""
    scan = scan_headers(tab, headers)
    if where:
        check_headers(tab, scan, headers, where)
    row, columns = scan.row, dict(scan.columns)
    row = row or 1
    header = tab.rows[row - 1] if len(tab.rows) >= row else []
    used = len(header)
    while used and header[used - 1] in (None, ""):
        used -= 1
    for key, name in headers.items():
        if key not in columns:
            used += 1
            columns[key] = used
            ws.set(tab.name, row, used, name)
    return columns


def _append(ws: WriteSet, tab: Tab, columns: dict[str, int], rows: list[dict[str, Cell]]) -> None:
    """New rows after the last used one and below every merged range that reaches that far (a merge's hidden
    cells cannot hold a value: a row written into one would be cut in half, its task or unit lost)."""
    if not rows:
        return
    start = below_merges(tab, max(last_used_row(tab), 1) + 1)
    for offset, row in enumerate(rows):
        for key, value in row.items():
            if key in columns:
                ws.set(tab.name, start + offset, columns[key], value)


def _widths(columns: dict[str, int], widths: Mapping[str, float]) -> dict[int, float]:
    return {col: widths[key] for key, col in columns.items() if key in widths}


def _cols(columns: dict[str, int], keys: Iterable[str]) -> tuple[int, ...]:
    return tuple(columns[k] for k in keys if k in columns)

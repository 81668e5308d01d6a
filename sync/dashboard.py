"""Summaries of a pass: the KPIs, per-unit and per-task tables, the overdue and error lists.

`summarize` is pure and is the single source of the figures: the `Tổng hợp` tab, `run --json` and the
quarterly report all read them from here, so they cannot disagree.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from .deadlines import format_date
from .flags import Rules, flags_for, owed_quarters
from .plan import Plan
from .schema import FLAG_COLOURS, ROLES, STATUSES, Flag, Layout
from .sheet_grid import Grid
from .text import shorten
from .trends import TrendRow
from .validation import Checked, Issue
from .workbook import Cell, Chart, Styled

KPI_LABELS = {
    "tasks": "Số nhiệm vụ trong kế hoạch",
    "rows": "Số dòng phân công (đơn vị × nhiệm vụ)",
    "done": "Hoàn thành",
    "in_progress": "Đang thực hiện",
    "not_started": "Chưa thực hiện",
    "cancelled": "Không thực hiện",
    "unknown_status": "Chưa rõ tình trạng",
    "not_counted": "Dòng ngoài kế hoạch hoặc trùng (không tính)",
    "overdue": "Quá hạn",
    "due_soon": "Sắp đến hạn",
    "late": "Hoàn thành trễ hạn",
    "undated": "Chưa xác định hạn",
    "missing_quarterly": "Kết quả quý còn thiếu",
    "errors": "Lỗi nhập liệu",
    "on_time_rate": "Tỷ lệ hoàn thành đúng hạn (%)",
}
#: Every status a row can be counted under, in the order the dashboard lists them; they sum to the rows.
STATUS_LINES = ("done", "in_progress", "not_started", "cancelled", "unknown_status")


@dataclass
class RowResult:
    checked: Checked
    flags: list[Flag]
    owed: list[int]  # quarters whose result is due and owed

    def has(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.flags)


@dataclass
class Summary:
    as_of: dt.date
    kpis: dict
    by_unit: list[dict] = field(default_factory=list)
    by_task: list[dict] = field(default_factory=list)
    overdue: list[dict] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    results: list[RowResult] = field(default_factory=list)


def evaluate(checked: list[Checked], rules: Rules) -> list[RowResult]:
    out = []
    for c in checked:
        owed = owed_quarters(c, rules)
        out.append(RowResult(c, flags_for(c, rules, owed), owed))
    return out


def _counts(rows: list[RowResult]) -> Counter:
    counts: Counter = Counter()
    for r in rows:
        c = r.checked
        counts["errors"] += len(c.issues)
        if not c.counted:
            continue
        counts["rows_counted"] += 1
        counts[c.status or "unknown_status"] += 1
        for f in r.flags:
            counts[f.kind] += 1
    return counts


def on_time_rate(rows: list[RowResult], as_of: dt.date) -> float | None:
    """Done on or before the due date, over rows done or already due (cancelled and undated excluded)."""
    due_rows = [r.checked for r in rows if r.checked.counted and r.checked.due and r.checked.status != "cancelled"
                and r.checked.schedule.kind != "recurring"]
    considered = [c for c in due_rows if c.status == "done" or c.due < as_of]
    if not considered:
        return None
    on_time = sum(1 for c in considered if c.status == "done" and c.done_date and c.done_date <= c.due)
    return round(100 * on_time / len(considered), 1)


def summarize(rows: list[RowResult], plan: Plan, as_of: dt.date, extra_issues: list[Issue] = ()) -> Summary:
    counts = _counts(rows)
    issues = [i for r in rows for i in r.checked.issues] + list(extra_issues)
    kpis = {
        "tasks": len(plan.tasks),
        "rows": len(rows),
        "done": counts["done"],
        "in_progress": counts["in_progress"],
        "not_started": counts["not_started"],
        "cancelled": counts["cancelled"],
        "unknown_status": counts["unknown_status"],
        "not_counted": len(rows) - counts["rows_counted"],
        "overdue": counts["overdue"],
        "due_soon": counts["due_soon"],
        "late": counts["late"],
        "undated": counts["undated"],
        "missing_quarterly": counts["missing"],
        "errors": len(issues),
        "on_time_rate": on_time_rate(rows, as_of),
    }
    return Summary(as_of, kpis, _by_unit(rows, plan), _by_task(rows, plan), _overdue(rows), issues, rows)


def _group(rows: list[RowResult], key) -> dict:
    groups: dict = {}
    for r in rows:
        groups.setdefault(key(r.checked), []).append(r)
    return groups


def _by_unit(rows: list[RowResult], plan: Plan) -> list[dict]:
    out = []
    groups = _group(rows, lambda c: c.unit.code if c.unit else None)
    for unit in plan.registry.units:
        counts = _counts(groups.get(unit.code, []))
        out.append({"unit": unit.name, "code": unit.code, "rows": counts["rows_counted"], "done": counts["done"],
                    "in_progress": counts["in_progress"], "not_started": counts["not_started"],
                    "cancelled": counts["cancelled"], "unknown_status": counts["unknown_status"],
                    "overdue": counts["overdue"], "due_soon": counts["due_soon"],
                    "missing": counts["missing"], "errors": counts["errors"]})
    return out


def task_state(statuses: list[str | None]) -> str:
    live = [s for s in statuses if s != "cancelled"]
    if not statuses:
        return "Chưa có đơn vị nhập"
    if not live:
        return STATUSES["cancelled"]
    if all(s == "done" for s in live):
        return STATUSES["done"]
    if any(s in ("done", "in_progress") for s in live):
        return STATUSES["in_progress"]
    return STATUSES["not_started"]


def task_condition(rows: list[RowResult]) -> str:
    """A task's state across its units, saying the worst that is true: "Quá hạn (3/6 đơn vị)"."""
    n = len(rows)
    if not n:
        return "Chưa có đơn vị nhập"
    for kind, label in (("overdue", "Quá hạn"), ("missing", "Thiếu kết quả quý"), ("due_soon", "Sắp đến hạn")):
        k = sum(1 for r in rows if r.has(kind))
        if k:
            return f"{label} ({k}/{n} đơn vị)"
    unknown = sum(1 for r in rows if r.checked.status is None)
    if unknown:
        return f"Chưa rõ tình trạng ({unknown}/{n} đơn vị)"
    state = task_state([r.checked.status for r in rows])
    if state == STATUSES["in_progress"]:
        done = sum(1 for r in rows if r.checked.status == "done")
        live = sum(1 for r in rows if r.checked.status != "cancelled")
        return f"{state} ({done}/{live} đơn vị hoàn thành)" if done else state
    return state


def _by_task(rows: list[RowResult], plan: Plan) -> list[dict]:
    out = []
    groups = _group([r for r in rows if r.checked.counted], lambda c: c.task.stt)
    for task in plan.tasks:
        mine = groups.get(task.stt, [])
        counts = _counts(mine)
        out.append({"stt": task.stt, "task": task.task, "schedule": task.schedule, "units": len(mine),
                    "done": counts["done"], "in_progress": counts["in_progress"],
                    "not_started": counts["not_started"], "cancelled": counts["cancelled"],
                    "unknown_status": counts["unknown_status"], "overdue": counts["overdue"],
                    "missing": counts["missing"], "state": task_condition(mine)})
    return out


def _overdue(rows: list[RowResult]) -> list[dict]:
    items = []
    for r in rows:
        for f in r.flags:
            if f.kind == "overdue":
                c = r.checked
                items.append({"stt": c.task.stt, "task": c.task.task, "unit": c.unit.name, "code": c.unit.code,
                              "role": ROLES.get(c.role, ""), "due": c.due, "days": f.days})
    return sorted(items, key=lambda i: (-i["days"], i["stt"], i["unit"]))


# --- the Tổng hợp tab --------------------------------------------------------------------------------
#
# One column grid for every section: A the place in the list, B the section's main text (a KPI, a unit, a
# task, an error message), C–L narrow columns for figures and short values; longer values span several
# narrow columns (merged) and wrap when they still do not fit. The chart sits beside the key figures.

INDEX_COL, MAIN_COL, FIRST_NARROW, NARROW = 1, 2, 3, 10
LAST_COL = FIRST_NARROW + NARROW - 1
NARROW_WIDTH = 12
UNIT_HEADERS = {"rows": "Số dòng phân công", "done": "Hoàn thành", "in_progress": "Đang thực hiện",
                "not_started": "Chưa thực hiện", "cancelled": "Không thực hiện",
                "unknown_status": "Chưa rõ tình trạng", "overdue": "Quá hạn", "due_soon": "Sắp đến hạn",
                "missing": "Thiếu kết quả quý", "errors": "Lỗi nhập liệu"}
STATUS_COLOURS = {"done": "6AA84F", "in_progress": "3C78D8", "not_started": "F1C232", "cancelled": "999999",
                  "unknown_status": "CC0000"}
CHART_TITLE = "Tình trạng thực hiện theo đơn vị"
NONE_ROW = "(không có)"


def _widths(summary: Summary, plan: Plan, texts: list[str]) -> dict[int, float]:
    index = max(len(str(max(len(summary.errors), len(summary.overdue), len(plan.tasks), 1))) + 3, 6)
    main = min(max([len(t) for t in texts] + [30]) + 2, 50)
    return {INDEX_COL: index, MAIN_COL: main, **{c: NARROW_WIDTH for c in range(FIRST_NARROW, LAST_COL + 1)}}


def render(summary: Summary, plan: Plan, layout: Layout, now: dt.datetime,
           trends: list[TrendRow] | None = None) -> Styled:
    """The dashboard; with `trends` (sync.trends: [] when there is no history yet), its "Diễn biến" section."""
    labels = {u.code: u.label for u in plan.registry.units}
    tasks = [shorten(t["task"]) for t in summary.by_task]
    main_texts = [*KPI_LABELS.values(), *labels.values(), *tasks, "Tổng cộng"]
    g = Grid(_widths(summary, plan, main_texts))
    every = LAST_COL

    g.row([("TỔNG HỢP TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH", every)], "title")
    g.row([(plan.title, every)], "subtitle")
    g.row([("Cập nhật lúc", 2), (now.strftime("%d/%m/%Y %H:%M:%S"), 2)])
    g.row([("Số liệu tính đến ngày", 2), (format_date(summary.as_of), 2)])

    k = summary.kpis
    kpi_first = _section(g, "I. CHỈ SỐ CHÍNH", [("TT", 1), ("Chỉ số", 1), ("Giá trị", 1)])
    for n, (key, label) in enumerate(KPI_LABELS.items(), start=1):
        value = "" if k.get(key) is None else k[key]
        g.row([(n, 1), (label, 1), (value, 1)], formats={2: "0.0"} if key == "on_time_rate" else {}, ordinal=True)
    kpi_last = g.last_row

    unit_keys = list(UNIT_HEADERS)
    header = _section(g, "II. THEO ĐƠN VỊ", [("TT", 1), ("Đơn vị", 1)] + [(UNIT_HEADERS[key], 1) for key in unit_keys])
    first = header + 1
    for n, u in enumerate(summary.by_unit, start=1):
        g.row([(n, 1), (labels.get(u["code"], u["unit"]), 1)] + [(u[key], 1) for key in unit_keys], ordinal=True)
    last = g.last_row
    if summary.by_unit:
        g.row([("", 1), ("Tổng cộng", 1)] + [(sum(u[key] for u in summary.by_unit), 1) for key in unit_keys],
              "total")
        series = tuple(FIRST_NARROW + unit_keys.index(key) for key in STATUS_LINES)
        g.chart = Chart(CHART_TITLE, header, first, last, MAIN_COL, series, anchor=(kpi_first, FIRST_NARROW + 2),
                        width_px=int(sum(g.widths[c] for c in range(FIRST_NARROW + 2, LAST_COL + 1)) * 7),
                        height_px=max(kpi_last - kpi_first + 1, 12) * 20, axis_title="Số dòng phân công",
                        colours=tuple(STATUS_COLOURS[key] for key in STATUS_LINES))

    _section(g, "III. THEO NHIỆM VỤ", [("STT", 1), ("Nhiệm vụ", 1), ("Số đơn vị", 1), ("Hoàn thành", 1),
                                        ("Quá hạn", 1), ("Thiếu kết quả quý", 1), ("Tiến độ", 3),
                                        ("Tình hình chung", 3)])
    state_col = FIRST_NARROW + 7
    for t, text in zip(summary.by_task, tasks):
        r = g.row([(t["stt"], 1), (text, 1), (t["units"], 1), (t["done"], 1), (t["overdue"], 1), (t["missing"], 1),
                   (t["schedule"], 3), (t["state"], 3)], ordinal=True)
        colour = next((rgb for flag, rgb in FLAG_COLOURS if t["state"].startswith(flag)), None)
        if colour:
            g.fills[(r, state_col)] = colour

    _section(g, "IV. DANH SÁCH QUÁ HẠN", [("TT", 1), ("Nhiệm vụ", 1), ("STT nhiệm vụ", 1), ("Đơn vị", 3),
                                           ("Vai trò", 1), ("Hạn hoàn thành", 1), ("Số ngày quá hạn", 1)])
    for n, o in enumerate(summary.overdue, start=1):
        g.row([(n, 1), (shorten(o["task"]), 1), (o["stt"], 1), (labels.get(o["code"], o["unit"]), 3),
               (o["role"], 1), (o["due"], 1), (o["days"], 1)], ordinal=True)
    if not summary.overdue:
        g.row([("", 1), (NONE_ROW, 1)])

    headers = {"tracking": layout.tracking_columns, "plan": layout.plan_columns}
    _section(g, "V. LỖI NHẬP LIỆU CẦN SỬA", [("TT", 1), ("Nội dung", 1), ("Trang tính", 1), ("Dòng", 1),
                                               ("Cột", 2), ("Đơn vị", 4)])
    for n, i in enumerate(summary.errors, start=1):
        unit = plan.registry.match(i.unit) if i.unit else None
        g.row([(n, 1), (i.message, 1), (layout.tabs[i.tab], 1), (i.row, 1),
               (headers[i.tab].get(i.column, i.column), 2), (unit.label if unit else i.unit, 4)], ordinal=True)
    if not summary.errors:
        g.row([("", 1), (NONE_ROW, 1)])
    if trends is not None:
        _trends(g, trends, [u.code for u in plan.registry.units], summary.as_of)
    return g.styled()


TRENDS_TITLE = "VI. DIỄN BIẾN"
TRENDS_NONE = ("Chưa có lịch sử số liệu của các lượt chạy trước ngày {day}: phần diễn biến có từ lượt chạy ghi "
               "của ngày sau.")
TRENDS_NOTE = ("Số liệu mỗi kỳ, mỗi tuần là số liệu lượt chạy cuối cùng đến hết ngày đó (tuần: đến Chủ nhật), như "
               "đã ghi lại lúc đó. Ô đơn vị: hoàn thành / quá hạn / thiếu kết quả quý.")
TRENDS_GROUPS = {"cutoff": "Theo kỳ báo cáo", "week": "Theo tuần"}


def _trends(g: Grid, rows: list[TrendRow], units: list[str], as_of: dt.date) -> None:
    """Done, overdue and missing results at each cut-off and each week: totals, then one cell per unit."""
    shown = units[:NARROW - 3]  # the narrow columns left after the three totals
    if not rows:
        g.blank()
        g.row([(TRENDS_TITLE, LAST_COL)], "section")
        g.row([("", 1), (TRENDS_NONE.format(day=format_date(as_of)), LAST_COL - 1)])
        return
    _section(g, TRENDS_TITLE, [("TT", 1), ("Kỳ báo cáo / tuần", 1), ("Hoàn thành", 1), ("Quá hạn", 1),
                                ("Thiếu kết quả quý", 1)] + [(code, 1) for code in shown])
    g.row([("", 1), (TRENDS_NOTE, LAST_COL - 1)], "subtitle")
    for kind, group in TRENDS_GROUPS.items():
        mine = [r for r in rows if r.point.kind == kind]
        if not mine:
            continue
        g.row([("", 1), (group, LAST_COL - 1)], "total")
        for n, r in enumerate(mine, start=1):
            cells: list[tuple[Cell, int]] = [(n, 1), (r.point.label, 1), *((v, 1) for v in r.totals)]
            cells += [(" / ".join(str(v) for v in r.by_unit.get(code, (0, 0, 0))), 1) for code in shown]
            g.row(cells, ordinal=True)


def _section(g: Grid, title: str, columns: list[tuple[str, int]]) -> int:
    """A blank row, the section's title and its header row; returns the header row."""
    g.blank()
    g.row([(title, LAST_COL)], "section")
    return g.row(columns, "header")

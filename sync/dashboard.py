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
from .schema import ROLES, STATUSES, Flag, Layout
from .text import shorten
from .validation import Checked, Issue
from .workbook import Styled

KPI_LABELS = {
    "tasks": "Số nhiệm vụ trong kế hoạch",
    "rows": "Số dòng phân công (đơn vị × nhiệm vụ)",
    "done": "Hoàn thành",
    "in_progress": "Đang thực hiện",
    "not_started": "Chưa thực hiện",
    "cancelled": "Không thực hiện",
    "overdue": "Quá hạn",
    "due_soon": "Sắp đến hạn",
    "late": "Hoàn thành trễ hạn",
    "undated": "Chưa xác định hạn",
    "missing_quarterly": "Kết quả quý còn thiếu",
    "errors": "Lỗi nhập liệu",
    "on_time_rate": "Tỷ lệ hoàn thành đúng hạn (%)",
}
UNIT_COLUMNS = ("Đơn vị", "Số nhiệm vụ", "Hoàn thành", "Đang thực hiện", "Chưa thực hiện", "Quá hạn",
                "Sắp đến hạn", "Thiếu kết quả quý", "Lỗi nhập liệu")
TASK_COLUMNS = ("STT", "Nhiệm vụ", "Tiến độ", "Số đơn vị", "Hoàn thành", "Quá hạn", "Thiếu kết quả quý",
                "Tình hình chung")
OVERDUE_COLUMNS = ("STT", "Nhiệm vụ", "Đơn vị", "Vai trò", "Hạn hoàn thành", "Số ngày quá hạn")
ERROR_COLUMNS = ("Tab", "Dòng", "Cột", "Đơn vị", "Nội dung")


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
                    "cancelled": counts["cancelled"], "overdue": counts["overdue"], "due_soon": counts["due_soon"],
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


def _by_task(rows: list[RowResult], plan: Plan) -> list[dict]:
    out = []
    groups = _group([r for r in rows if r.checked.counted], lambda c: c.task.stt)
    for task in plan.tasks:
        mine = groups.get(task.stt, [])
        counts = _counts(mine)
        out.append({"stt": task.stt, "task": task.task, "schedule": task.schedule, "units": len(mine),
                    "done": counts["done"], "overdue": counts["overdue"], "missing": counts["missing"],
                    "state": task_state([r.checked.status for r in mine])})
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

def render(summary: Summary, plan: Plan, layout: Layout, now: dt.datetime) -> Styled:
    rows: list[list] = []
    styles: dict[int, str] = {}

    def add(values, style=None):
        rows.append(list(values))
        if style:
            styles[len(rows)] = style

    def table(title, columns, body):
        add([])
        add([title], "section")
        add(columns, "header")
        for line in body:
            add(line)
        if not body:
            add(["(không có)"])

    add(["TỔNG HỢP TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH"], "title")
    add([plan.title], "subtitle")
    add(["Cập nhật lúc", now.strftime("%d/%m/%Y %H:%M:%S")])
    add(["Số liệu tính đến ngày", format_date(summary.as_of)])
    k = summary.kpis
    table("I. CHỈ SỐ CHÍNH", ("Chỉ số", "Giá trị"),
          [[label, "" if k[key] is None else k[key]] for key, label in KPI_LABELS.items()])
    table("II. THEO ĐƠN VỊ", UNIT_COLUMNS,
          [[u["unit"], u["rows"], u["done"], u["in_progress"], u["not_started"], u["overdue"], u["due_soon"],
            u["missing"], u["errors"]] for u in summary.by_unit])
    table("III. THEO NHIỆM VỤ", TASK_COLUMNS,
          [[t["stt"], shorten(t["task"]), t["schedule"], t["units"], t["done"], t["overdue"], t["missing"],
            t["state"]] for t in summary.by_task])
    table("IV. DANH SÁCH QUÁ HẠN", OVERDUE_COLUMNS,
          [[o["stt"], shorten(o["task"]), o["unit"], o["role"], format_date(o["due"]), o["days"]]
           for o in summary.overdue])
    headers = {"tracking": layout.tracking_columns, "plan": layout.plan_columns}
    table("V. LỖI NHẬP LIỆU CẦN SỬA", ERROR_COLUMNS,
          [[layout.tabs[i.tab], i.row, headers[i.tab].get(i.column, i.column), i.unit, i.message]
           for i in summary.errors])
    widths = {1: 44, 2: 60, 3: 30, 4: 14, 5: 60, 6: 14, 7: 14, 8: 18, 9: 14}
    return Styled(rows, styles, widths)

"""What the quarterly report says, as plain data. Pure: a pass's Summary and the plan in, a Report out.

Every figure comes from `sync.dashboard.summarize` for the same as-of date, so the report and the
`Tổng hợp` tab cannot disagree; this module only selects, groups and words them for the document.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sync.dashboard import KPI_LABELS, RowResult, Summary, task_state
from sync.deadlines import format_date, quarter_end, reporting_quarter, result_period
from sync.errors import UserError
from sync.flags import Rules, active_in
from sync.plan import Plan, Task
from sync.schema import ROMAN
from sync.text import fold, nfc, shorten, vn_number

QUARTER_FORMS = "2024Q1, 2024-Q1, Q1/2024, \"Quý I/2024\" hoặc auto"
_ROMAN_NUMBER = {v.lower(): k for k, v in ROMAN.items()}


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @property
    def key(self) -> str:
        """The ledger's and file names' spelling: 2024Q3."""
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"Quý {ROMAN[self.number]}"

    def period(self, cutoff_day: int) -> tuple[dt.date, dt.date]:
        return result_period(self.year, self.number, cutoff_day)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def calendar(self) -> tuple[dt.date, dt.date]:
        """The quarter's calendar months, for what falls due in it."""
        return dt.date(self.year, self.number * 3 - 2, 1), quarter_end(self.year, self.number)


def parse_quarter(text: str | None, today: dt.date, cutoff_day: int = 14) -> Quarter:
    """`2024Q3`, `2024-q3`, `Q3/2024`, `Quý III/2024`; `auto` (or nothing) is the last quarter whose
    cut-off has passed by `today`, i.e. the one the Office reports on now."""
    raw = fold(text or "auto").replace(" ", "")
    if raw == "auto":
        year, number = reporting_quarter(today, cutoff_day)
        return Quarter(year, number).previous()
    patterns = (r"(\d{4})-?q([1-4])", r"q([1-4])/(\d{4})", r"quy([1-4]|iv|iii|ii|i)/(\d{4})")
    for i, pattern in enumerate(patterns):
        m = re.fullmatch(pattern, raw)
        if m:
            a, b = m.groups()
            year, number = (a, b) if i == 0 else (b, a)
            number = _ROMAN_NUMBER.get(number) or int(number)
            return Quarter(int(year), int(number))
    raise UserError(f"Quý '{text}' không hợp lệ; dùng một trong các dạng: {QUARTER_FORMS}.")


def vn_date(day: dt.date) -> str:
    """"ngày 05 tháng 02 năm 2024": ND 30/2020 writes a leading zero for days below 10 and months 1 and 2."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


# --- the report's content -------------------------------------------------------------------------------

@dataclass
class TaskLine:
    stt: int
    task: str
    lead: str
    state: str
    results: list[tuple[str, str]]  # (unit, what it reported for the quarter)
    quantity: int | None             # products summed over the units that gave a number


@dataclass
class Report:
    quarter: Quarter
    period: tuple[dt.date, dt.date]
    as_of: dt.date
    issued: dt.date
    plan: Plan
    kpis: dict
    tasks: list[TaskLine]
    overdue: list[dict]
    not_reported: list[tuple[str, list[int]]]  # (unit, task numbers) with no result for the quarter
    errors: list[dict]
    next_tasks: list[dict]
    by_unit: list[dict]
    has_data: bool
    texts: dict = field(default_factory=dict)  # subject, opening: filled from settings

    @property
    def kpi_rows(self) -> list[tuple[str, str]]:
        return [(label, vn_number(self.kpis[key])) for key, label in KPI_LABELS.items()]

    def totals_paragraph(self) -> str:
        k = self.kpis
        if not self.has_data:
            return (f"Tính đến {vn_date(self.as_of)}, các đơn vị chưa nhập số liệu nào cho {self.quarter.label} "
                    f"năm {self.quarter.year} vào bảng theo dõi; báo cáo này chưa có kết quả để tổng hợp.")
        rate = (f" Tỷ lệ hoàn thành đúng hạn (các nhiệm vụ đã đến hạn): {vn_number(k['on_time_rate'])}%."
                if k["on_time_rate"] is not None else "")
        return (f"Tính đến {vn_date(self.as_of)}, {k['tasks']} nhiệm vụ của Kế hoạch được phân công thành "
                f"{k['rows']} lượt thực hiện (đơn vị × nhiệm vụ): {k['done']} hoàn thành, {k['in_progress']} "
                f"đang thực hiện, {k['not_started']} chưa thực hiện, {k['cancelled']} không thực hiện; "
                f"{k['overdue']} quá hạn, {k['due_soon']} sắp đến hạn, {k['late']} hoàn thành trễ hạn; "
                f"{k['missing_quarterly']} kết quả quý còn thiếu; {k['errors']} lỗi nhập liệu chưa sửa.{rate}")


def build(summary: Summary, plan: Plan, quarter: Quarter, issued: dt.date, cutoff_day: int,
          texts: dict[str, str]) -> Report:
    rules = Rules(summary.as_of, plan.year, plan.issued, cutoff_day)
    period = quarter.period(cutoff_day)
    in_year = quarter.year == plan.year
    rows = [r for r in summary.results if r.checked.counted and r.checked.task and r.checked.unit]
    by_task: dict[int, list[RowResult]] = {}
    for r in rows:
        by_task.setdefault(r.checked.task.stt, []).append(r)
    report = Report(
        quarter=quarter, period=period, as_of=summary.as_of, issued=issued, plan=plan, kpis=summary.kpis,
        tasks=[_task_line(t, by_task.get(t.stt, []), quarter, in_year, plan) for t in plan.tasks],
        overdue=[{**o, "unit": plan.registry.by_code(o["code"]).label} for o in summary.overdue],
        not_reported=_not_reported(rows, quarter, rules) if in_year else [],
        errors=[{"row": i.row, "column": i.column, "unit": i.unit, "message": i.message, "tab": i.tab}
                for i in summary.errors],
        next_tasks=_next_tasks(plan, by_task, quarter),
        by_unit=[{**u, "label": plan.registry.by_code(u["code"]).label} for u in summary.by_unit],
        has_data=in_year and any(_has_entry(r, quarter) for r in rows),
    )
    report.texts = _fill_texts(texts, report)
    return report


def _labels(plan: Plan, codes) -> str:
    return ", ".join(plan.registry.by_code(code).label for code in codes)


def _has_entry(r: RowResult, quarter: Quarter) -> bool:
    e = r.checked.entry
    return bool(e.status or e.results.get(quarter.number) or e.evidence or e.done_date not in (None, ""))


def _task_line(task: Task, rows: list[RowResult], quarter: Quarter, in_year: bool, plan: Plan) -> TaskLine:
    results, quantities = [], []
    for r in rows:
        text = nfc(r.checked.entry.results.get(quarter.number, "")).strip() if in_year else ""
        if text:
            results.append((r.checked.unit.label, text))
        if r.checked.quantity is not None and in_year:
            quantities.append(r.checked.quantity)
    return TaskLine(
        stt=task.stt, task=shorten(task.task, 160),
        lead=_labels(plan, task.lead) if task.lead else _labels(plan, task.support) + " (phối hợp)",
        state=task_state([r.checked.status for r in rows]) if in_year else "Chưa có số liệu",
        results=results, quantity=sum(quantities) if quantities else None)


def _not_reported(rows: list[RowResult], quarter: Quarter, rules: Rules) -> list[tuple[str, list[int]]]:
    """Units that owed the quarter's result (task active, not cancelled) and left it empty."""
    missing: dict[str, list[int]] = {}
    for r in rows:
        c = r.checked
        if c.status == "cancelled" or not active_in(c, quarter.number, rules):
            continue
        if not nfc(c.entry.results.get(quarter.number, "")).strip():
            missing.setdefault(c.unit.label, []).append(c.task.stt)
    return sorted(missing.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _next_tasks(plan: Plan, by_task: dict[int, list[RowResult]], quarter: Quarter) -> list[dict]:
    """Tasks to focus on next quarter: those due in it, recurring ones, and overdue ones still open."""
    nxt = quarter.next()
    start, end = nxt.calendar()
    out = []
    for task in plan.tasks:
        mine = by_task.get(task.stt, [])
        open_rows = [r for r in mine if r.checked.status not in ("done", "cancelled")]
        schedule = plan.schedule(task)
        due = schedule.due
        if schedule.kind == "recurring" and nxt.year == plan.year:
            reason = "Thường xuyên"
        elif due and start <= due <= end:
            reason = f"Hạn {format_date(due)}"
        elif any(r.has("overdue") for r in open_rows):
            reason = "Quá hạn, tiếp tục thực hiện"
        else:
            continue
        units = open_rows if mine else []
        if mine and not units:
            continue  # every unit has finished it
        out.append({"stt": task.stt, "task": shorten(task.task, 160), "reason": reason,
                    "units": ", ".join(dict.fromkeys(r.checked.unit.label for r in units))
                    or _labels(plan, task.lead + task.support)})
    return out


def _fill_texts(texts: dict[str, str], report: Report) -> dict[str, str]:
    start, end = report.period
    values = {"quarter": report.quarter.label, "year": report.quarter.year, "period_from": format_date(start),
              "period_to": format_date(end), "as_of": format_date(report.as_of), "plan_title": report.plan.title,
              "plan_number": report.plan.number, "plan_issued": format_date(report.plan.issued),
              "issuer": report.plan.issuer}
    return {key: nfc(text.format_map(values)) for key, text in texts.items()}

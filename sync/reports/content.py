"""What a period's report says, as plain data. Pure: a pass's Summary and the plan in, a Report out.

Every figure comes from `sync.core.summary.summarize` for the same data date, so the report, its e-mail
and the `Tổng hợp` tab cannot disagree; this module only selects, groups and words them. Each total the
report prints is the length of the list printed under it (`Report.identities` states them).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sync.core.deadlines import ScheduleKind, format_date
from sync.core.flags import RowResult
from sync.core.history import SOURCE_SENTENCE
from sync.core.periods import ROMAN, Period
from sync.core.plan import Plan, Task
from sync.core.products import Products
from sync.core.schema import STATUSES, FlagKind, Status, nfc, shorten, vn_number
from sync.core.summary import Kpis, OverdueLine, Summary, UnitLine
from sync.core.tasks import TaskState
from sync.core.trends import Progress
from sync.core.validation import Issue
from sync.reports.evidence import Evidence

#: The statuses in the order the report counts them.
STATUS_ORDER = (Status.DONE, Status.IN_PROGRESS, Status.NOT_STARTED, Status.CANCELLED)
TASK_NAME_LIMIT = 400  # task names are printed in full up to this; longer ones end at a word with "…"
#: The sections the Office types in the `Báo cáo` tab (Report.office keys), with the names its `Mục` column uses.
OFFICE_SECTIONS = {"van_ban_yeu_cau": "Văn bản yêu cầu", "chi_dao": "Chỉ đạo, điều hành", "uu_diem": "Ưu điểm",
                   "nguyen_nhan": "Nguyên nhân", "phuong_huong": "Phương hướng", "kien_nghi": "Kiến nghị"}


def vn_date(day: dt.date) -> str:
    """"ngày 05 tháng 02 năm 2024": ND 30/2020 writes a leading zero for days below 10 and months 1 and 2."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def text_date(day: dt.date) -> str:
    """A date in running text: "14/6/2024" (ND 30's leading zeros belong to the date line only)."""
    return f"{day.day}/{day.month}/{day.year}"


def plan_number_known(number: str) -> bool:
    """"Số /KH-STTTT" (a blank left for the number) is not a number yet."""
    return any(ch.isdigit() for ch in number)


# --- the report's content -------------------------------------------------------------------------------

@dataclass
class TaskLine:
    stt: int
    task: str
    lead: str
    state: str                              # at the data date
    results: list[tuple[str, int, str]]     # (unit, quarter, what it reported for that quarter of the period)
    quantity: int | None                    # products to the data date, summed over units that gave a number


@dataclass(frozen=True)
class OpenTask:
    """A task not finished by the data date (section III), and why it matters next."""

    stt: int
    task: str
    reason: str  # "thường xuyên", "hạn 30/06/2024", "quá hạn từ …", "chưa xác định hạn"
    lead: str    # lead_units
    units: str   # the units still at work on it


@dataclass
class Report:
    period: Period
    window: tuple[dt.date, dt.date]
    as_of: dt.date
    issued: dt.date
    plan: Plan
    kpis: Kpis
    tasks: list[TaskLine]
    overdue: list[OverdueLine]  # `unit` is the unit's label
    missing: list[tuple[str, list[tuple[int, int]]]]  # (unit, [(quarter, task number)]) owed and empty
    errors: list[Issue]          # for the internal annex only, never in the body
    open_tasks: list[OpenTask]  # section III: every task not finished, with its lead unit
    by_unit: list[UnitLine]
    has_data: bool
    texts: dict[str, str] = field(default_factory=dict)  # subject, opening, closing: filled from settings
    source: str = ""  # which entries the figures come from (sync.state.history), said under the figures
    progress: list[Progress] = field(default_factory=list)  # one per cut-off, for the progress chart
    #: What the Office typed for this period in `Báo cáo`, by OFFICE_SECTIONS key; absent or empty: not typed
    office: dict[str, str] = field(default_factory=dict)
    #: The Office's sections that got a sentence computed from the data instead (their Vietnamese names)
    computed_sections: list[str] = field(default_factory=list)
    dated: bool = True     # the issue date was given (--date); otherwise number and date are left to Văn thư
    preview: bool = False  # figures of another day than the period's cut-off (--as-of): "XEM TRƯỚC"
    states: list[TaskState] = field(default_factory=list)  # every task's state (sync.core.tasks), plan order
    rows: list[RowResult] = field(default_factory=list)    # the counted rows, for the per-unit appendix
    products: Products | None = None                       # products by kind, invalid cells left out
    next_plan: Plan | None = None                          # next year's plan (report.next_plan), annual report

    def rows_of(self, stt: int) -> list[RowResult]:
        """The counted rows of one task (indexed once: the report asks per task, over 10,000 rows)."""
        if not hasattr(self, "_by_task"):
            index: dict[int, list[RowResult]] = {}
            for r in self.rows:
                if r.checked.task:
                    index.setdefault(r.checked.task.stt, []).append(r)
            self._by_task = index
        return self._by_task.get(stt, [])

    def products_of(self, stt: int | None = None, unit: str | None = None) -> dict[str, int]:
        """Products by kind in the period's quarters, of a task and/or a unit (summed once per report)."""
        if self.products is None:
            return {}
        if not hasattr(self, "_sums"):
            sums: dict[tuple[int | None, str | None], dict[str, int]] = {}
            wanted = set(self.period.quarters)
            for (s, u, q), counts in self.products.cells.items():
                if q in wanted:
                    for key in ((s, u), (s, None), (None, u), (None, None)):
                        into = sums.setdefault(key, dict.fromkeys(self.products.labels, 0))
                        for label, n in counts.items():
                            into[label] = into.get(label, 0) + n
            self._sums = sums
        return self._sums.get((stt, unit), dict.fromkeys(self.products.labels, 0))

    def typed(self, key: str) -> str:
        """The Office's paragraph for a section, as typed; "" when it typed none (then a sentence is computed)."""
        return nfc(self.office.get(key) or "").strip()

    def note_computed(self) -> list[str]:
        """Fill `computed_sections`: the Office's sections this report fills from the data."""
        self.computed_sections = [name for key, name in OFFICE_SECTIONS.items() if not self.typed(key)]
        return self.computed_sections
    evidence: list[Evidence] = field(default_factory=list)  # per task and unit (annual report)

    @property
    def missing_count(self) -> int:
        return sum(len(items) for _, items in self.missing)

    @property
    def status_counts(self) -> dict[str, int]:
        """Rows by status value, "unknown_status" and "not_counted": they add up to the rows."""
        k = self.kpis
        counts = {status.value: k.status_count(status) for status in STATUS_ORDER}
        counts["unknown_status"] = k.unknown_status
        counts["not_counted"] = k.rows - sum(counts.values())  # outside the plan or duplicated rows
        return counts

    @property
    def kpi_rows(self) -> list[tuple[str, str]]:
        """The key-figure table: each line a figure of the data date, the statuses adding up to the rows."""
        k, s = self.kpis, self.status_counts
        rows: list[tuple[str, int | float | None]] = [
                ("Số nhiệm vụ trong Kế hoạch", k.tasks),
                ("Số lượt phân công (đơn vị × nhiệm vụ)", k.rows),
                *((f"- {STATUSES[status]}", s[status.value]) for status in STATUS_ORDER)]
        if s["unknown_status"]:
            rows.append(("- Chưa rõ tình trạng (ghi sai, chờ đơn vị sửa)", s["unknown_status"]))
        if s["not_counted"]:
            rows.append(("- Dòng ngoài Kế hoạch hoặc trùng lặp (không tính)", s["not_counted"]))
        rows += [("Quá hạn, chưa hoàn thành", k.overdue), ("Sắp đến hạn", k.due_soon),
                 ("Hoàn thành trễ hạn", k.late), ("Chưa xác định hạn", k.undated),
                 ("Kết quả quý các đơn vị còn thiếu", k.missing_quarterly),
                 ("Tỷ lệ hoàn thành đúng hạn (%)", k.on_time_rate)]
        return [(label, vn_number(value)) for label, value in rows]

    def identities(self) -> dict[str, tuple[int, int]]:
        """Each printed total against the list it sums: equal in every report (tests check them)."""
        s = self.status_counts
        return {"statuses = rows": (sum(s.values()), self.kpis.rows),
                "missing = listed": (self.kpis.missing_quarterly, self.missing_count),
                "overdue = listed": (self.kpis.overdue, len(self.overdue))}

    def source_sentence(self) -> str:
        return self.source or SOURCE_SENTENCE.format(date=vn_date(self.as_of))

    def totals_paragraph(self) -> str:
        k, s, p = self.kpis, self.status_counts, self.period
        if not self.has_data:
            return (f"Tính đến {vn_date(self.as_of)}, các đơn vị chưa nhập số liệu nào cho {p.name} vào bảng "
                    "theo dõi; báo cáo này chưa có kết quả để tổng hợp.")
        rate = (f" Tỷ lệ hoàn thành đúng hạn (các nhiệm vụ đã đến hạn): {vn_number(k.on_time_rate)}%."
                if k.on_time_rate is not None else "")
        unknown = f", {s['unknown_status']} chưa rõ tình trạng" if s["unknown_status"] else ""
        extra = f" ({s['not_counted']} dòng ngoài Kế hoạch hoặc trùng lặp không tính)" if s["not_counted"] else ""
        tasks = (f"Tính đến {vn_date(self.as_of)}, hoàn thành {k.tasks_done}/{k.tasks} nhiệm vụ của Kế hoạch, "
                 f"{k.tasks_in_progress} nhiệm vụ đang triển khai, {k.tasks_not_started} nhiệm vụ chưa triển khai"
                 + (f", {k.tasks_cancelled} nhiệm vụ không thực hiện" if k.tasks_cancelled else "")
                 + f"; {k.tasks_late} nhiệm vụ chậm tiến độ. ")
        return tasks + (f"Các nhiệm vụ được phân công thành "
                        f"{k.rows} lượt thực hiện (đơn vị × nhiệm vụ){extra}: {s['done']} hoàn thành, "
                        f"{s['in_progress']} đang thực hiện, {s['not_started']} chưa thực hiện, {s['cancelled']} "
                        f"không thực hiện{unknown}; {k.overdue} lượt quá hạn, {k.due_soon} sắp đến hạn, {k.late} "
                        f"hoàn thành trễ hạn; {self.missing_count} kết quả quý các đơn vị còn thiếu.{rate}")


def build(summary: Summary, plan: Plan, period: Period, issued: dt.date, cutoff_day: int,
          texts: dict[str, str]) -> Report:
    rows = [r for r in summary.results if r.checked.counted and r.checked.task and r.checked.unit]
    by_task: dict[int, list[RowResult]] = {}
    for r in rows:
        if r.checked.task:
            by_task.setdefault(r.checked.task.stt, []).append(r)
    quarters = [q for q in period.quarters]
    report = Report(
        period=period, window=period.window(cutoff_day), as_of=summary.as_of, issued=issued, plan=plan,
        kpis=summary.kpis,
        tasks=[_task_line(t, by_task.get(t.stt, []), quarters, plan, state)
               for t, state in zip(plan.tasks, summary.tasks, strict=True)],
        overdue=[replace(o, unit=plan.registry.by_code(o.code).label) for o in summary.overdue],
        missing=_missing(rows),
        errors=list(summary.errors),
        open_tasks=_open_tasks(plan, by_task, summary.tasks),
        by_unit=list(summary.by_unit),
        has_data=any(_has_entry(r, quarters) for r in rows),
        states=list(summary.tasks), rows=rows, products=_valid_products(summary.products, rows),
    )
    report.texts = _fill_texts(texts, report)
    return report


def lead_units(plan: Plan, task: Task) -> str:
    """The one rule for the lead unit, in the appendix and in the body: the plan's lead units, or, for a task an
    outside body leads, the Sở's units "phối hợp với" that body."""
    if task.lead:
        return _labels(plan, task.lead)
    partners = ", ".join(task.partners) or "cơ quan chủ trì"
    return f"{_labels(plan, task.support)} phối hợp với {partners}"


def valid_result(r: RowResult, quarter: int) -> str:
    """A unit's result for a quarter as the document prints it: "" when empty or flagged in `Kiểm tra`."""
    if any(i.column == f"q{quarter}" for i in r.checked.issues):
        return ""
    return nfc(r.checked.entry.results.get(quarter, "")).strip()


def _valid_products(products: Products | None, rows: list[RowResult]) -> Products | None:
    """The products without the cells flagged in `Kiểm tra` (a flagged results or quantity cell counts nowhere)."""
    if products is None:
        return None
    flagged = {(r.checked.task.stt, r.checked.unit.code, i.column) for r in rows if r.checked.task and r.checked.unit
               for i in r.checked.issues}
    cells = {key: counts for key, counts in products.cells.items()
             if (key[0], key[1], f"q{key[2]}") not in flagged and (key[0], key[1], "quantity") not in flagged}
    return replace(products, cells=cells)


def end_sentence(text: str) -> str:
    """A task's name as a sentence: one full stop, never after ':' or ';' nor after a shortening's '…'."""
    text = text.rstrip().rstrip(".:;,").rstrip()
    return text if text.endswith("…") else text + "."


def _labels(plan: Plan, codes: Iterable[str]) -> str:
    return ", ".join(plan.registry.by_code(code).label for code in codes)


def _has_entry(r: RowResult, quarters: list[int]) -> bool:
    e = r.checked.entry
    return bool(e.status or any(e.results.get(q) for q in quarters) or e.evidence
                or e.done_date not in (None, ""))


def _task_line(task: Task, rows: list[RowResult], quarters: list[int], plan: Plan, state: TaskState) -> TaskLine:
    results: list[tuple[str, int, str]] = []
    quantities: list[int] = []
    for r in rows:
        for q in quarters:
            text = valid_result(r, q)
            if text and r.checked.unit:
                results.append((r.checked.unit.label, q, text))
        if r.checked.quantity is not None:
            quantities.append(r.checked.quantity)
    return TaskLine(
        stt=task.stt, task=nfc(task.task),  # in full: the appendix has the room
        lead=lead_units(plan, task),
        state=state.label,
        results=results, quantity=sum(quantities) if quantities else None)


def _missing(rows: list[RowResult]) -> list[tuple[str, list[tuple[int, int]]]]:
    """The quarterly results owed by the data date and left empty: the very flags the dashboard counts."""
    missing: dict[str, list[tuple[int, int]]] = {}
    for r in rows:
        unit, task = r.checked.unit, r.checked.task
        if unit is None or task is None:
            continue  # not counted: owes nothing
        for f in r.flags:
            if f.kind == FlagKind.MISSING:
                missing.setdefault(unit.label, []).append((f.quarter, task.stt))
    return sorted(((unit, sorted(items)) for unit, items in missing.items()), key=lambda kv: (-len(kv[1]), kv[0]))


def _open_tasks(plan: Plan, by_task: dict[int, list[RowResult]], states: list[TaskState]) -> list[OpenTask]:
    """Section III: every task its lead has not finished by the data date (sync.core.tasks), its lead unit, and why
    it matters next: recurring, late, due later, or no deadline yet."""
    out = []
    for task, state in zip(plan.tasks, states, strict=True):
        if state.status in (Status.DONE, Status.CANCELLED):
            continue
        open_rows = [r for r in by_task.get(task.stt, [])
                     if r.checked.status not in (Status.DONE, Status.CANCELLED)]
        if state.kind == ScheduleKind.RECURRING:
            reason = "thường xuyên"
        elif state.late:
            reason = f"quá hạn từ {format_date(state.due)}, tiếp tục thực hiện"
        elif state.due:
            reason = f"hạn {format_date(state.due)}"
        else:
            reason = "chưa xác định hạn"
        units = [r.checked.unit.label for r in open_rows if r.checked.unit]
        out.append(OpenTask(stt=task.stt, task=shorten(task.task, TASK_NAME_LIMIT), reason=reason,
                            lead=lead_units(plan, task),
                            units=", ".join(dict.fromkeys(units)) or _labels(plan, task.lead + task.support)))
    return out


def results_text(t: TaskLine, single_quarter: bool) -> list[str]:
    if not t.results:
        return ["(Chưa có đơn vị báo cáo)"]
    if single_quarter:
        return [f"- {unit}: {text}" for unit, _, text in t.results]
    return [f"- {unit} (quý {ROMAN[q]}): {text}" for unit, q, text in t.results]


def _fill_texts(texts: dict[str, str], report: Report) -> dict[str, str]:
    start, end = report.window
    plan = report.plan
    known = plan_number_known(plan.number)
    number = plan.number.removeprefix("Số ").strip() if known else ""
    plan_ref = (f" (Kế hoạch số {number} ngày {text_date(plan.issued)})" if known
                else f" (ban hành ngày {text_date(plan.issued)})")
    values = {"period": report.period.name, "quarter": report.period.label, "year": report.period.year,
              "period_from": text_date(start), "period_to": text_date(end), "as_of": text_date(report.as_of),
              "plan_title": plan.title, "plan_ref": plan_ref, "plan_number": number,
              "plan_issued": text_date(plan.issued), "issuer": plan.issuer}
    return {key: nfc(text.format_map(values)) for key, text in texts.items()}

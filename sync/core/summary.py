"""Summaries of a pass: the KPIs, per-unit and per-task tables, the overdue and error lists.

`summarize` is pure and is the single source of the figures: the `Tổng hợp` tab, `run --json` and the
quarterly report all read them from here, so they cannot disagree.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sync.core.deadlines import ScheduleKind, day_over
from sync.core.flags import RowResult
from sync.core.plan import Plan
from sync.core.products import DEFAULT_KINDS, Kind, Products, of_checked
from sync.core.schema import FLAG_FILLS, FLAG_PREFIXES, ROLES, STATUSES, FlagKind, Status, vn_number
from sync.core.tasks import TaskState, judge_all, year_over
from sync.core.validation import Checked, Issue

KPI_LABELS = {
    "tasks": "Số nhiệm vụ trong kế hoạch",
    "rows": "Số dòng phân công (đơn vị × nhiệm vụ)",
    **{status.value: STATUSES[status] for status in (Status.DONE, Status.IN_PROGRESS, Status.NOT_STARTED,
                                                      Status.CANCELLED)},
    "unknown_status": "Chưa rõ tình trạng",
    "not_counted": "Dòng ngoài kế hoạch hoặc trùng (không tính)",
    "overdue": FLAG_PREFIXES[FlagKind.OVERDUE],
    "due_soon": FLAG_PREFIXES[FlagKind.DUE_SOON],
    "late": f"{FLAG_PREFIXES[FlagKind.LATE]} hạn",
    "undated": FLAG_PREFIXES[FlagKind.UNDATED],
    "missing_quarterly": "Kết quả quý còn thiếu",
    "errors": "Lỗi nhập liệu",
    "on_time_rate": "Tỷ lệ hoàn thành đúng hạn (%)",
    "tasks_done": "Nhiệm vụ hoàn thành",
    "tasks_in_progress": "Nhiệm vụ đang thực hiện",
    "tasks_not_started": "Nhiệm vụ chưa thực hiện",
    "tasks_cancelled": "Nhiệm vụ không thực hiện",
    "tasks_late": "Nhiệm vụ chậm tiến độ",
}
#: The order the dashboard lists the key figures in: the tasks' first, then the rows'.
KPI_ORDER = ("tasks", *(key for key in KPI_LABELS if key.startswith("tasks_")),
             *(key for key in KPI_LABELS if key != "tasks" and not key.startswith("tasks_")))
#: Every status a row can be counted under, in the order the dashboard lists them; they sum to the rows.
STATUS_LINES = (Status.DONE.value, Status.IN_PROGRESS.value, Status.NOT_STARTED.value, Status.CANCELLED.value,
                "unknown_status")


@dataclass(frozen=True)
class Kpis:
    """The key figures of a pass (KPI_LABELS names them in Vietnamese, in this order): the rows' figures (task
    × unit), then the tasks' (sync.core.tasks: the four states add up to `tasks`; `tasks_late` are open tasks past
    their deadline), last so that `run --json` keeps the order of its older keys.

    The task figures default to 0 only for a report's figures saved before they existed (from_json)."""

    tasks: int
    rows: int
    done: int
    in_progress: int
    not_started: int
    cancelled: int
    unknown_status: int
    not_counted: int
    overdue: int
    due_soon: int
    late: int
    undated: int
    missing_quarterly: int
    errors: int
    on_time_rate: float | None
    tasks_done: int = 0
    tasks_in_progress: int = 0
    tasks_not_started: int = 0
    tasks_cancelled: int = 0
    tasks_late: int = 0

    def status_count(self, status: Status) -> int:
        """Rows counted under `status` (the field of the same name)."""
        count: int = getattr(self, status.value)
        return count

    def to_json(self) -> dict[str, int | float | None]:
        """The figures under the keys of `run --json` and `report --json` (a contract, docs/design.md)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Kpis:
        """The figures as `to_json` wrote them (a report's saved figures); KeyError when one is missing (the
        task figures may be: figures saved before they existed)."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__
                      if name in data or not name.startswith("tasks_")})


@dataclass(frozen=True)
class _Line:
    """A line of a summary table: its fields as a JSON object (dates are converted by the lines that have them)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UnitLine(_Line):
    """One unit's counts over its counted rows (the per-unit table and the report's chart)."""

    unit: str  # the unit's name
    code: str
    label: str  # how documents name it
    rows: int
    done: int
    in_progress: int
    not_started: int
    cancelled: int
    unknown_status: int
    overdue: int
    due_soon: int
    missing: int
    errors: int

    def status_count(self, status: Status) -> int:
        count: int = getattr(self, status.value)
        return count


@dataclass(frozen=True)
class TaskLine(_Line):
    """One task's counts over its units' counted rows, and its state in words."""

    stt: int
    task: str
    schedule: str  # the plan's Tiến độ phrase
    units: int
    done: int
    in_progress: int
    not_started: int
    cancelled: int
    unknown_status: int
    overdue: int
    missing: int
    state: str  # the task's state in words (sync.core.tasks.TaskState.label): "Chậm tiến độ 12 ngày (hạn …)"
    status: str = ""  # the task's status (a Status value), late or not
    late: bool = False  # open past its deadline


@dataclass(frozen=True)
class OverdueLine(_Line):
    """One overdue row: a unit's task past its deadline and not done."""

    stt: int
    task: str
    unit: str  # the unit's name (its label in the report)
    code: str
    role: str  # in Vietnamese (schema.ROLES)
    due: dt.date | None
    days: int

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "due": self.due.isoformat() if self.due else None}


@dataclass
class Summary:
    as_of: dt.date
    kpis: Kpis
    by_unit: list[UnitLine] = field(default_factory=list)
    by_task: list[TaskLine] = field(default_factory=list)
    overdue: list[OverdueLine] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    results: list[RowResult] = field(default_factory=list)
    products: Products | None = None  # products by kind (sync.core.products), per task, unit and quarter
    tasks: list[TaskState] = field(default_factory=list)  # every task's state, in plan order (sync.core.tasks)




def _counts(rows: Sequence[RowResult]) -> Counter[str]:
    """Counts by status value, flag kind value, "errors", "rows_counted" and "unknown_status"."""
    counts: Counter[str] = Counter()
    for r in rows:
        c = r.checked
        counts["errors"] += len(c.issues)
        if not c.counted:
            continue
        counts["rows_counted"] += 1
        counts[c.status.value if c.status else "unknown_status"] += 1
        for f in r.flags:
            counts[f.kind.value] += 1
    return counts


def on_time_rate(rows: list[RowResult], as_of: dt.date) -> float | None:
    """Done on or before the due date, over rows done or whose due day is over on `as_of` (the flags' rule,
    deadlines.day_over, judged on Rules.today); cancelled, undated and open rows closed with their task
    (sync.core.tasks) excluded."""
    due_rows = [(r.checked, r.checked.due) for r in rows
                if r.checked.counted and r.checked.due and r.checked.status != Status.CANCELLED
                and r.checked.schedule.kind != ScheduleKind.RECURRING
                and not (r.closed_by_task and r.checked.status != Status.DONE)]
    considered = [(c, due) for c, due in due_rows if due and (c.status == Status.DONE or day_over(due, as_of))]
    if not considered:
        return None
    on_time = sum(1 for c, due in considered if c.status == Status.DONE and c.done_date and c.done_date <= due)
    return round(100 * on_time / len(considered), 1)


def summarize(rows: list[RowResult], plan: Plan, as_of: dt.date, extra_issues: Sequence[Issue] = (),
              judged_on: dt.date | None = None, kinds: Sequence[Kind] = DEFAULT_KINDS,
              cutoff_day: int = 14) -> Summary:
    """The figures of evaluated rows; `judged_on` is the day deadlines were judged on (Rules.today: the day
    after `as_of` for figures at the end of it), for the on-time rate to count what the flags count."""
    counts = _counts(rows)
    issues = [i for r in rows for i in r.checked.issues] + list(extra_issues)
    states = judge_all(plan.tasks, rows, year_over(judged_on or as_of, plan.year))
    by_status = Counter(t.status for t in states)
    kpis = Kpis(
        tasks=len(plan.tasks),
        tasks_done=by_status[Status.DONE],
        tasks_in_progress=by_status[Status.IN_PROGRESS],
        tasks_not_started=by_status[Status.NOT_STARTED],
        tasks_cancelled=by_status[Status.CANCELLED],
        tasks_late=sum(1 for t in states if t.late),
        rows=len(rows),
        done=counts[Status.DONE.value],
        in_progress=counts[Status.IN_PROGRESS.value],
        not_started=counts[Status.NOT_STARTED.value],
        cancelled=counts[Status.CANCELLED.value],
        unknown_status=counts["unknown_status"],
        not_counted=len(rows) - counts["rows_counted"],
        overdue=counts[FlagKind.OVERDUE.value],
        due_soon=counts[FlagKind.DUE_SOON.value],
        late=counts[FlagKind.LATE.value],
        undated=counts[FlagKind.UNDATED.value],
        missing_quarterly=counts[FlagKind.MISSING.value],
        errors=len(issues),
        on_time_rate=on_time_rate(rows, judged_on or as_of),
    )
    return Summary(as_of, kpis, _by_unit(rows, plan), _by_task(rows, plan, states), _overdue(rows), issues, rows,
                   of_checked((r.checked for r in rows), plan.year, as_of, kinds, cutoff_day), states)


def _group(rows: list[RowResult], key: Callable[[Checked], Hashable]) -> dict[Hashable, list[RowResult]]:
    groups: dict[Hashable, list[RowResult]] = {}
    for r in rows:
        groups.setdefault(key(r.checked), []).append(r)
    return groups


def _by_unit(rows: list[RowResult], plan: Plan) -> list[UnitLine]:
    out = []
    groups = _group(rows, lambda c: c.unit.code if c.unit else None)
    for unit in plan.registry.units:
        counts = _counts(groups.get(unit.code, []))
        out.append(UnitLine(
            unit=unit.name, code=unit.code, label=unit.label, rows=counts["rows_counted"],
            done=counts[Status.DONE.value], in_progress=counts[Status.IN_PROGRESS.value],
            not_started=counts[Status.NOT_STARTED.value], cancelled=counts[Status.CANCELLED.value],
            unknown_status=counts["unknown_status"], overdue=counts[FlagKind.OVERDUE.value],
            due_soon=counts[FlagKind.DUE_SOON.value], missing=counts[FlagKind.MISSING.value],
            errors=counts["errors"]))
    return out


def _by_task(rows: list[RowResult], plan: Plan, states: list[TaskState]) -> list[TaskLine]:
    out = []
    groups = _group([r for r in rows if r.checked.counted], lambda c: c.task.stt if c.task else None)
    for task, state in zip(plan.tasks, states, strict=True):
        mine = groups.get(task.stt, [])
        counts = _counts(mine)
        out.append(TaskLine(
            stt=task.stt, task=task.task, schedule=task.schedule, units=len(mine),
            done=counts[Status.DONE.value], in_progress=counts[Status.IN_PROGRESS.value],
            not_started=counts[Status.NOT_STARTED.value], cancelled=counts[Status.CANCELLED.value],
            unknown_status=counts["unknown_status"], overdue=counts[FlagKind.OVERDUE.value],
            missing=counts[FlagKind.MISSING.value], state=state.label if mine else "Chưa có đơn vị nhập",
            status=state.status.value, late=state.late))
    return out


def task_headline(k: Kpis) -> str:
    """The Sở's figures in one line: "Hoàn thành 5/17 nhiệm vụ (29,4%) · 11 đang triển khai · 2 chậm tiến độ"."""
    share = vn_number(round(100 * k.tasks_done / k.tasks, 1)) if k.tasks else "0"
    parts = [f"Hoàn thành {k.tasks_done}/{k.tasks} nhiệm vụ ({share}%)", f"{k.tasks_in_progress} đang triển khai",
             f"{k.tasks_not_started} chưa triển khai"]
    if k.tasks_cancelled:
        parts.append(f"{k.tasks_cancelled} không thực hiện")
    parts.append(f"{k.tasks_late} chậm tiến độ")
    return " · ".join(parts)


#: The fill of a task's state on the dashboard: the colour of the row flag that means the same.
TASK_FILLS = {"late": FLAG_FILLS[FlagKind.OVERDUE], Status.DONE.value: "D9EAD3"}


def _overdue(rows: list[RowResult]) -> list[OverdueLine]:
    items = []
    for r in rows:
        c = r.checked
        if not (c.task and c.unit):
            continue
        for f in r.flags:
            if f.kind == FlagKind.OVERDUE:
                items.append(OverdueLine(stt=c.task.stt, task=c.task.task, unit=c.unit.name, code=c.unit.code,
                                         role=ROLES.get(c.role, "") if c.role else "", due=c.due, days=f.days))
    return sorted(items, key=lambda i: (-i.days, i.stt, i.unit))

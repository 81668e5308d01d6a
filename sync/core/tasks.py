"""Tasks, not rows (docs/workbook.md): one rule turns a task's tracking rows into the task's state. Pure.

The Sở is judged per task; units work in rows (task × unit). A task's state is its lead (chủ trì) rows'
state, all of them when it has several; where no unit of the Sở leads (an outside body does, the Sở
supports), the Sở's rows decide. The dashboard's task table and figures, the report, reminders, `export`
and `run --json` all read task states from here, so they never disagree.

Two steps, because a row's flags depend on its task: `closures` says which tasks the deciding rows have
closed (sync.core.flags then closes their supporting rows with them), and `judge` gives each task its state from
its rows once they carry their flags.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sync.core.deadlines import ScheduleKind, format_date
from sync.core.flags import Closure, RowResult, Rules, flags_for, owed_quarters
from sync.core.plan import Task
from sync.core.schema import STATUSES, FlagKind, Status, nfc
from sync.core.validation import Checked

#: What an open task is waiting on, in the words of the task's state ("Đang thực hiện (thường xuyên)").
ONGOING = {ScheduleKind.RECURRING: "thường xuyên", ScheduleKind.EVENT: "theo tiến độ Đề án, Kế hoạch"}
LATE_WORD = "Chậm tiến độ"


def deciding(c: Checked) -> bool:
    """Whether a counted row decides its task's state: a lead row, or any row of a task the Sở does not lead."""
    return bool(c.counted and c.task and c.unit) and (c.role == "lead" or not (c.task and c.task.lead))


def year_over(today: dt.date, year: int) -> bool:
    """A recurring task is done only once its year is (docs/workbook.md): judged on `today` (Rules.today)."""
    return today > dt.date(year, 12, 31)


def closure_of(rows: Sequence[Checked], year_done: bool) -> Closure | None:
    """The closure the deciding rows of one task give it: every one dropped, or every live one done (a
    recurring task only after its year); None while the task is open."""
    if not rows:
        return None
    live = [c for c in rows if c.status != Status.CANCELLED]
    if not live:
        return Closure(cancelled=True)
    if live[0].schedule.kind == ScheduleKind.RECURRING:
        # done only once its year is, by every lead that carried it out through the year (at work or done)
        if not year_done or not all(c.status in (Status.DONE, Status.IN_PROGRESS) for c in live):
            return None
        done_on = [c.done_date for c in live if c.status == Status.DONE and c.done_date]
        return Closure(on=max(done_on) if len(done_on) == len(live) else None)
    if not all(c.status == Status.DONE for c in live):
        return None
    dates = [c.done_date for c in live]
    on = max(d for d in dates if d) if all(dates) else None
    return Closure(on=on, evidence=all(c.entry.evidence for c in live))


def closures(checked: Iterable[Checked], rules: Rules) -> dict[int, Closure]:
    """Each closed task's closure, by task number."""
    by_task: dict[int, list[Checked]] = {}
    for c in checked:
        if deciding(c) and c.task:
            by_task.setdefault(c.task.stt, []).append(c)
    out = {}
    done = year_over(rules.today, rules.year)
    for stt, rows in by_task.items():
        closure = closure_of(rows, done)
        if closure:
            out[stt] = closure
    return out


@dataclass(frozen=True)
class TaskState:
    """One task's state at the as-of date: one of the four statuses, and what qualifies it."""

    stt: int
    status: Status               # DONE, IN_PROGRESS, NOT_STARTED or CANCELLED
    kind: ScheduleKind           # the deciding rows' schedule: recurring, event, once or unknown
    due: dt.date | None          # the earliest deadline of the open deciding rows (or the task's)
    done_on: dt.date | None = None
    late_days: int = 0           # open and past its deadline by this many days ("chậm tiến độ"); 0: not late
    done_late_days: int = 0      # completed this many days after its deadline
    reason: str = ""             # Không thực hiện: the lead's Ghi chú
    unknown: bool = False        # a deciding row's Tình trạng is unreadable (counted as not started)
    leads: tuple[str, ...] = ()  # the codes of the deciding units

    @property
    def late(self) -> bool:
        return self.late_days > 0

    @property
    def label(self) -> str:
        """The state in the sheet's words: "Hoàn thành (04/03/2024)", "Chậm tiến độ 12 ngày (hạn 31/03/2024)"."""
        if self.status == Status.DONE:
            return STATUSES[Status.DONE] + (f" ({format_date(self.done_on)})" if self.done_on else "")
        if self.status == Status.CANCELLED:
            return STATUSES[Status.CANCELLED] + (f": {self.reason}" if self.reason else "")
        if self.late:
            return f"{LATE_WORD} {self.late_days} ngày (hạn {format_date(self.due)})"
        word = STATUSES[self.status]
        if self.status == Status.IN_PROGRESS and self.kind in ONGOING:
            return f"{word} ({ONGOING[self.kind]})"
        if self.unknown:
            return f"{word} (tình trạng ghi chưa đúng)"
        return word


def judge(task: Task, rows: Sequence[RowResult], year_done: bool) -> TaskState:
    """The task's state from its rows (flags already set): the rule of the module's docstring."""
    mine = [r for r in rows if deciding(r.checked)]
    schedule_kind = mine[0].checked.schedule.kind if mine else ScheduleKind.UNKNOWN
    leads = tuple(dict.fromkeys(r.checked.unit.code for r in mine if r.checked.unit))
    closure = closure_of([r.checked for r in mine], year_done)
    live = [r for r in mine if r.checked.status != Status.CANCELLED]
    dues = [r.checked.due for r in live if r.checked.due]
    base = TaskState(stt=task.stt, status=Status.NOT_STARTED, kind=schedule_kind, due=min(dues) if dues else None,
                     leads=leads)
    if closure and closure.cancelled:
        notes = [nfc(r.checked.entry.note).strip() for r in mine]
        return replace(base, status=Status.CANCELLED, reason="; ".join(dict.fromkeys(n for n in notes if n)))
    if closure:
        late = max((f.days for r in live for f in r.flags if f.kind == FlagKind.LATE), default=0)
        return replace(base, status=Status.DONE, done_on=closure.on, done_late_days=late)
    statuses = [r.checked.status for r in live]
    started = any(s in (Status.DONE, Status.IN_PROGRESS) for s in statuses)
    late_days = max((f.days for r in live if r.checked.status != Status.DONE for f in r.flags
                     if f.kind == FlagKind.OVERDUE), default=0)
    return replace(base, status=Status.IN_PROGRESS if started else Status.NOT_STARTED, late_days=late_days,
                   unknown=any(s is None for s in statuses))


def judge_all(tasks: Iterable[Task], rows: Sequence[RowResult], year_done: bool) -> list[TaskState]:
    """Every task's state, in plan order; `year_done`: the plan year is over (year_over)."""
    by_task: dict[int, list[RowResult]] = {}
    for r in rows:
        if r.checked.task:
            by_task.setdefault(r.checked.task.stt, []).append(r)
    return [judge(task, by_task.get(task.stt, []), year_done) for task in tasks]


def evaluate(checked: list[Checked], rules: Rules) -> list[RowResult]:
    """Every row with its flags and owed quarters; supporting rows of a closed task closed with it."""
    closed = closures(checked, rules)
    out = []
    for c in checked:
        closure = closed.get(c.task.stt) if c.task and not deciding(c) else None
        owed = owed_quarters(c, rules, closure)
        out.append(RowResult(c, flags_for(c, rules, owed, closure), owed, closed_by_task=closure is not None))
    return out

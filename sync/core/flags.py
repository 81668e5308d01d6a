"""Deadline flags for the `Cảnh báo` column (docs/workbook.md). Pure: checked rows and a date in, flags out.

Two kinds of obligation:
* the task's own deadline (once, or an event with a date): overdue, done late, or due soon;
* the quarterly result (ND 09/2019): each unit owes "Kết quả Quý N" for every quarter whose reporting window
  the row was open in, once that quarter's cut-off (the 14th of its last month) has passed. A recurring task
  owes every quarter of the year (a half-yearly one the 2nd and 4th); a one-off row is open from the plan's
  date until it is closed: done, or closed with its task (`Closure`: the lead completed or dropped it). A
  completion dated and with evidence is the result of the quarter it falls in.

A supporting row of a task whose lead has completed it is closed with the task (docs/workbook.md): no
"Quá hạn", "Sắp đến hạn" or "Chưa xác định hạn", and no results owed after the completion; what the unit
typed still counts for it.

A due day is over only once the as-of date is after it (`deadlines.day_over`): a task due on D is not
overdue on D, and a result due on D is not missing on D. Overdue flags and owed results use that one
predicate. A report's figures are "tính đến" its data date, i.e. at the end of that day (`Rules.as_of_ended`):
what is due on the cut-off and not there is overdue or missing in the report, as on the next day's dashboard.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sync.core.deadlines import ScheduleKind, day_over, quarter_result_due, result_period
from sync.core.schema import Flag, FlagKind, Status, flag_due_soon, flag_late, flag_missing, flag_overdue, flag_undated
from sync.core.validation import Checked

#: Quarters whose result a recurring schedule owes, by its period (`Schedule.every`); the rest owe all four.
RECURRING_QUARTERS = {"half": (2, 4), "year": (4,)}


@dataclass(frozen=True)
class Rules:
    as_of: dt.date
    year: int
    plan_start: dt.date
    cutoff_day: int = 14
    due_soon_days: int = 7
    #: True for figures "as of the end of as_of" (a report's data date, "tính đến"): deadlines are then
    #: judged as on the next morning; False for a pass during the day
    as_of_ended: bool = False

    @property
    def today(self) -> dt.date:
        """The day deadlines are judged on: as_of, or the day after when as_of has ended."""
        return self.as_of + dt.timedelta(days=1) if self.as_of_ended else self.as_of


@dataclass(frozen=True)
class Closure:
    """A task its deciding rows closed (sync.core.tasks): completed on `on` (None: no date given), or dropped."""

    cancelled: bool = False
    on: dt.date | None = None
    evidence: bool = False  # the completion has its minh chứng (it is then the result of its quarter)


@dataclass
class RowResult:
    checked: Checked
    flags: list[Flag]
    owed: list[int]  # quarters whose result is due and owed
    closed_by_task: bool = False  # a supporting row closed with its task (Closure)

    def has(self, kind: FlagKind) -> bool:
        return any(f.kind == kind for f in self.flags)


def flags_for(c: Checked, rules: Rules, owed: list[int] | None = None, closure: Closure | None = None) -> list[Flag]:
    """Every flag of a row; `owed` (from owed_quarters) may be passed in when the caller has it already;
    `closure` is set for a supporting row whose task is closed."""
    if not c.counted or c.status == Status.CANCELLED or (closure and closure.cancelled):
        return []
    owed = owed_quarters(c, rules, closure) if owed is None else owed
    deadline = [] if closure and c.status != Status.DONE else _deadline_flags(c, rules)
    return deadline + [flag_missing(q, result_deadline(c, q, rules)) for q in owed
                       if q in c.entry.results and not c.entry.results[q]]


def _deadline_flags(c: Checked, rules: Rules) -> list[Flag]:
    done = c.status == Status.DONE
    if c.schedule.kind == ScheduleKind.RECURRING:
        return []
    if c.due is None:
        return [] if done else [flag_undated()]
    if done:
        if c.done_date and c.done_date > c.due:
            return [flag_late((c.done_date - c.due).days, c.due)]
        return []
    left = (c.due - rules.today).days
    if day_over(c.due, rules.today):
        return [flag_overdue(-left, c.due)]
    if left <= rules.due_soon_days:
        return [flag_due_soon(left, c.due)]
    return []


def own_closure(c: Checked) -> Closure | None:
    """The row's own completion (a one-off row marked done), or None while it is open."""
    if c.status != Status.DONE or c.schedule.kind == ScheduleKind.RECURRING:
        return None
    return Closure(on=c.done_date, evidence=bool(c.entry.evidence))


def active_in(c: Checked, quarter: int, rules: Rules, closure: Closure | None = None) -> bool:
    """Whether the unit owes a result for `quarter` of the plan year: its window began before the row closed
    (its own completion, or its task's for a supporting row), and did not hold a completion with evidence."""
    start, end = result_period(rules.year, quarter, rules.cutoff_day)
    if rules.plan_start > end:
        return False
    if c.schedule.kind == ScheduleKind.RECURRING:
        return quarter in RECURRING_QUARTERS.get(c.schedule.every or "", (1, 2, 3, 4))
    closed = [x for x in (own_closure(c), closure) if x is not None and x.on is not None]
    if not closed:
        return True
    first = min(closed, key=lambda x: x.on or end)
    assert first.on is not None
    if first.on < start:
        return False
    return not (first.evidence and first.on <= end)


def result_deadline(c: Checked, quarter: int, rules: Rules) -> dt.date:
    """When the row's result for `quarter` is due (deadlines.quarter_result_due of its schedule)."""
    return quarter_result_due(c.schedule, rules.year, quarter, rules.cutoff_day)


def owed_quarters(c: Checked, rules: Rules, closure: Closure | None = None) -> list[int]:
    """Quarters whose result's due day is over (deadlines.day_over on Rules.today) and owed by this row."""
    if not c.counted or c.status == Status.CANCELLED or (closure and closure.cancelled):
        return []
    return [q for q in (1, 2, 3, 4) if day_over(result_deadline(c, q, rules), rules.today)
            and active_in(c, q, rules, closure)]

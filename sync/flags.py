"""Deadline flags for the `Cảnh báo` column (DESIGN.md §4). Pure: a checked row and a date in, flags out.

Two kinds of obligation:
* the task's own deadline (once, or an event with a date): overdue, done late, or due soon;
* the quarterly result (ND 09/2019): each unit owes "Kết quả Quý N" for every quarter in which the task
  was active, once that quarter's cut-off (the 14th of its last month) has passed. A task is active from
  the plan's date until it is done (once/event) or all year (recurring).

Figures "as of D" are the sheet at the end of day D: a result due by D and still empty then is missing
(so the report, whose data date is the cut-off, lists its own quarter's missing results, and a pass or
dashboard of the same date says the same). This module is the one place that rule lives.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from .deadlines import result_period
from .schema import Flag, flag_due_soon, flag_late, flag_missing, flag_overdue, flag_undated
from .validation import Checked


@dataclass(frozen=True)
class Rules:
    as_of: dt.date
    year: int
    plan_start: dt.date
    cutoff_day: int = 14
    due_soon_days: int = 7


def flags_for(c: Checked, rules: Rules, owed: list[int] | None = None) -> list[Flag]:
    """Every flag of a row; `owed` (from owed_quarters) may be passed in when the caller has it already."""
    if not c.counted or c.status == "cancelled":
        return []
    owed = owed_quarters(c, rules) if owed is None else owed
    return _deadline_flags(c, rules) + [flag_missing(q, result_deadline(c, q, rules)) for q in owed
                                        if q in c.entry.results and not c.entry.results[q]]


def _deadline_flags(c: Checked, rules: Rules) -> list[Flag]:
    done = c.status == "done"
    if c.schedule.kind == "recurring":
        return []
    if c.due is None:
        return [] if done else [flag_undated()]
    if done:
        if c.done_date and c.done_date > c.due:
            return [flag_late((c.done_date - c.due).days, c.due)]
        return []
    left = (c.due - rules.as_of).days
    if left < 0:
        return [flag_overdue(-left, c.due)]
    if left <= rules.due_soon_days:
        return [flag_due_soon(left, c.due)]
    return []


def active_in(c: Checked, quarter: int, rules: Rules) -> bool:
    """Whether the unit owes a result for `quarter` of the plan year."""
    start, end = result_period(rules.year, quarter, rules.cutoff_day)
    if rules.plan_start > end:
        return False
    if c.schedule.kind == "recurring" or c.status != "done":
        return True
    return c.done_date is None or c.done_date >= start


def result_deadline(c: Checked, quarter: int, rules: Rules) -> dt.date:
    """When the quarter's result is due: the day the task's own Tiến độ sets in the quarter's last month
    ("Hàng quý, trước ngày 10 tháng cuối quý"), else the ND 09/2019 cut-off."""
    s = c.schedule
    if s.kind == "recurring" and s.every == "quarter" and s.day:
        month = quarter * 3 + (1 if s.next_period else 0)  # "tháng đầu quý sau": Q4's is in January
        year, month = rules.year + (month - 1) // 12, (month - 1) % 12 + 1
        return dt.date(year, month, min(s.day, calendar.monthrange(year, month)[1]))  # "ngày 31": month's end
    return result_period(rules.year, quarter, rules.cutoff_day)[1]


def owed_quarters(c: Checked, rules: Rules) -> list[int]:
    """Quarters whose result was due by the end of `as_of` (on or before it) and is owed by this row."""
    if not c.counted or c.status == "cancelled":
        return []
    return [q for q in (1, 2, 3, 4) if result_deadline(c, q, rules) <= rules.as_of and active_in(c, q, rules)]


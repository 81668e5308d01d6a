"""Today's entries seen as they stood on a past date ("as-of semantics"). Pure.

Until the history of what units typed exists, a figure of a past date is computed from today's
entries read this way: a completion dated after the date counts as in progress on it (it had not
happened yet, so it is not an input error), and a quarterly result due after the date does not count
(it was not owed yet). A result is due on the row's own day (`deadlines.quarter_result_due`, the same
function the flags use), known when the plan is given, else on the ND 09/2019 cut-off. The report uses
it for its data date; a pass of a past date can use the same function.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sync.core.deadlines import DateError, Schedule, ScheduleKind, parse_date, quarter_result_due
from sync.core.plan import Plan
from sync.core.schema import STATUSES, Status, status_key
from sync.core.tables import Entry
from sync.core.validation import plan_schedules, row_schedule
from sync.core.workbook import Cell

SOURCE_SENTENCE = "Số liệu hiện có trong bảng theo dõi, tính đến {date}."

_NO_SCHEDULE = Schedule(ScheduleKind.UNKNOWN)


def entry_as_of(entry: Entry, as_of: dt.date, year: int, cutoff_day: int = 14,
                schedule: Schedule | None = None) -> Entry:
    """`entry` as it stood on `as_of`; `schedule` is the row's (validation.row_schedule), for its result days."""
    changes: dict[str, Any] = {}
    try:
        done = parse_date(entry.done_date)
    except DateError:
        done = None  # a bad date stays what it is: the checks report it
    if done is not None and done > as_of:
        changes["done_date"] = None
        if status_key(entry.status) == Status.DONE:
            changes["status"] = STATUSES[Status.IN_PROGRESS]
    own = schedule or _NO_SCHEDULE
    later = [q for q, text in entry.results.items() if text and quarter_result_due(own, year, q, cutoff_day) > as_of]
    if later:
        changes["results"] = {q: ("" if q in later else text) for q, text in entry.results.items()}
    return dataclasses.replace(entry, **changes) if changes else entry


def entries_as_of(entries: list[Entry], as_of: dt.date, year: int, cutoff_day: int = 14,
                  plan: Plan | None = None, overrides: dict[int, Cell] | None = None) -> list[Entry]:
    """The entries as they stood on `as_of` (a completion or result not yet made is not there). With the
    plan (and the plan tab's Hạn hoàn thành overrides), each result is due on its task's own day."""
    if plan is None:
        return [entry_as_of(e, as_of, year, cutoff_day) for e in entries]
    schedules = plan_schedules(plan, overrides or {})
    return [entry_as_of(e, as_of, year, cutoff_day, row_schedule(e, schedules, year)) for e in entries]

"""Today's entries seen as they stood on a past date ("as-of semantics"). Pure.

Until the history of what units typed exists, a figure of a past date is computed from today's
entries read this way: a completion dated after the date counts as in progress on it (it had not
happened yet, so it is not an input error), and a quarterly result due after the date does not count
(it was not owed yet). A result is due on the row's own day (`deadlines.quarter_result_due`, the same
function the flags use), known when the plan is given, else on the ND 09/2019 cut-off. The report uses
it for its data date; a pass of a past date can use the same function.

`AsOf` is the date a pass's figures are of, with how its entries are seen on that date: the one value a
computation (sync.sheet.sync_pass.compute) takes for it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class AsOf:
    """The date a pass's figures are of, and the entries they are computed from on it.

    A pass during `day` (the usual one, and every writing pass) judges deadlines during it; figures "tính đến"
    `day` (a report's data date, a past date) judge them at its end (`ended`, flags.Rules.as_of_ended). For a
    past date, the entries are those history recorded for it (`entries`, with the plan tab's deadlines as they
    stood then, `plan_overrides`; sync.state.past), or today's seen as they stood on it (`view`, entries_as_of).
    """

    day: dt.date
    #: Figures as of the end of `day`, not during it (flags.Rules.as_of_ended)
    ended: bool = False
    #: Today's entries seen as they stood on `day` (entries_as_of): no history covers the date
    view: bool = False
    #: The entries history recorded for `day`, read instead of the sheet's: such figures are never written
    entries: tuple[Entry, ...] | None = None
    #: The plan tab's Hạn hoàn thành as history recorded them for `day`, used instead of the live tab's (still
    #: read, for its shape); None: the live tab's
    plan_overrides: Mapping[int, Cell] | None = None

    def at_end(self) -> AsOf:
        """The same date, judged at its end ("tính đến" it)."""
        return dataclasses.replace(self, ended=True)

    @property
    def past(self) -> bool:
        """Whether the figures come from history's entries, not the sheet's (they are then never written)."""
        return self.entries is not None

    def seen(self, live: list[Entry], plan: Plan, live_overrides: dict[int, Cell],
             cutoff_day: int) -> tuple[list[Entry], dict[int, Cell]]:
        """The entries and the plan tab's deadlines the figures are computed from, given the sheet's."""
        entries = live if self.entries is None else list(self.entries)
        overrides = live_overrides if self.plan_overrides is None else dict(self.plan_overrides)
        if self.view:
            entries = entries_as_of(entries, self.day, plan.year, cutoff_day, plan, overrides)
        return entries, overrides

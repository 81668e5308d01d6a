"""Today's entries seen as they stood on a past date ("as-of semantics"). Pure.

Until the history of what units typed exists, a figure of a past date is computed from today's
entries read this way: a completion dated after the date counts as in progress on it (it had not
happened yet, so it is not an input error), and a quarterly result whose cut-off is after the date
does not count (it was not owed yet). The report uses it for its data date; a pass of a past date can
use the same function.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from .deadlines import DateError, parse_date, result_period
from .schema import STATUSES, status_key
from .tables import Entry

SOURCE_SENTENCE = "Số liệu hiện có trong bảng theo dõi, tính đến {date}."


def entry_as_of(entry: Entry, as_of: dt.date, year: int, cutoff_day: int = 14) -> Entry:
    changes: dict = {}
    try:
        done = parse_date(entry.done_date)
    except DateError:
        done = None  # a bad date stays what it is: the checks report it
    if done is not None and done > as_of:
        changes["done_date"] = None
        if status_key(entry.status) == "done":
            changes["status"] = STATUSES["in_progress"]
    later = [q for q, text in entry.results.items() if text and result_period(year, q, cutoff_day)[1] > as_of]
    if later:
        changes["results"] = {q: ("" if q in later else text) for q, text in entry.results.items()}
    return dataclasses.replace(entry, **changes) if changes else entry


def entries_as_of(entries: list[Entry], as_of: dt.date, year: int, cutoff_day: int = 14) -> list[Entry]:
    """The entries as they stood on `as_of` (a completion or result not yet made is not there)."""
    return [entry_as_of(e, as_of, year, cutoff_day) for e in entries]

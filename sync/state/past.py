"""Which entries a figure of a past date is computed from, and the sentence that says so.

A figure for a date must come out the same whenever it is computed. When the state file's history
covers the date (a pass at or before it), the entries are those history recorded at that pass: what
units had typed then, whatever they typed, corrected or cleared since. When it does not (no pass that
early, e.g. a state file started mid-year), today's entries are read with as-of semantics
(`sync.core.history`): a completion dated after the date counts as in progress, a quarterly result whose
cut-off is after the date is not counted. A date that is today needs neither.

The plan tab's Hạn hoàn thành (the Office's per-task deadline) is taken from history too, as it stood at
the same pass (`plan_overrides`): a deadline the Office moves later changes no figure of an earlier date.
A state file from before history recorded them has none for such a date (None): the live ones are used.

Used by `run --as-of D --dry-run`, `report` and `export --at`; they print `Source.sentence()` so the reader
knows which.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sync.core.history import AsOf
from sync.core.plan import Plan
from sync.core.tables import Entry
from sync.core.workbook import Cell


@dataclass(frozen=True)
class Source:
    kind: str  # "today" | "history" | "as_of"
    as_of: dt.date
    pass_date: dt.date | None = None  # the history pass the entries come from
    entries: tuple[Entry, ...] | None = None
    #: The plan tab's deadlines (STT → typed value) at that pass; None: history does not know them (use the live)
    plan_overrides: dict[int, Cell] | None = None

    def sentence(self) -> str:
        day = f"{self.as_of:%d/%m/%Y}"
        if self.kind == "history":
            return (f"Số liệu tính đến ngày {day}, từ các mục các đơn vị đã nhập như lưu trong lịch sử tại lượt "
                    f"chạy ngày {self.pass_date:%d/%m/%Y}.")
        if self.kind == "as_of":
            return (f"Số liệu tính đến ngày {day}, từ bảng theo dõi hiện nay (lịch sử chưa có lượt chạy nào "
                    "đến ngày đó): việc hoàn thành sau ngày này được tính là đang thực hiện.")
        return f"Số liệu tính đến ngày {day}, từ bảng theo dõi hiện nay."

    def to_as_of(self) -> AsOf:
        """The as-of value a computation takes for this source (sync.core.history.AsOf). A past date is a day that is
        over: its figures are judged at its end (flags.Rules.as_of_ended), whoever asks (dry run, export, report)."""
        ended = self.kind != "today"
        if self.kind == "history":
            return AsOf(self.as_of, ended, entries=self.entries, plan_overrides=self.plan_overrides)
        return AsOf(self.as_of, ended, view=self.kind == "as_of")


def source_for(state_path: Path, plan: Plan, as_of: dt.date, today: dt.date) -> Source:
    """History when it covers `as_of` (a date before today), else today's entries seen as of the date."""
    if as_of >= today:
        return Source("today", as_of)
    from sync.state.history import HistoryStore
    from sync.state.store import State
    store = HistoryStore(State(state_path))
    found = store.pass_at(as_of)
    if found is None:
        return Source("as_of", as_of)
    return Source("history", as_of, found.as_of, tuple(store.entries_at(as_of, plan)), store.plan_at(as_of))

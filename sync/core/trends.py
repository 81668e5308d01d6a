"""Trends ("Diễn biến"): done, overdue and missing quarterly results at each reporting cut-off and each
week, per unit, from the figures the passes recorded. Pure: DataFrames in, plain rows out.

The figures of a date are those recorded by the last pass dated at or before it (a week's figure is its
Sunday's, a cut-off's is its day's), never recomputed from today's sheet: the past stays as it was seen,
and a week's figure is the same whenever it is computed. The recorded figures are one row per (date,
unit): each writing pass records its own (sync/state/history.py keeps the day's last), so the frame is
small (a year is ~365 × units rows) whatever the number of passes.

pandas is imported inside `frame` and `table` only: a pass whose past rows are already known (kept in the
state file, sync/state/history.py `trend_rows`) uses `points` and `current` and does not pay for it.
"""
from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: The figures followed, in the order the dashboard shows them.
FIGURES = ("done", "overdue", "missing")
COLUMNS = ("as_of", "unit", *FIGURES)


@dataclass(frozen=True)
class Point:
    """A date the trends are shown at: a reporting cut-off ("cutoff") or the end of a week ("week")."""

    kind: str
    label: str
    day: dt.date


@dataclass(frozen=True)
class TrendRow:
    point: Point
    totals: tuple[int, int, int]                  # done, overdue, missing over every unit
    by_unit: dict[str, tuple[int, int, int]]       # unit code → done, overdue, missing


def frame(records: Iterable[tuple[dt.date, str, int, int, int]]) -> pd.DataFrame:
    """The recorded figures as a DataFrame: one row per (as_of, unit)."""
    import pandas as pd
    df = pd.DataFrame.from_records(list(records), columns=list(COLUMNS))
    df["as_of"] = pd.to_datetime(df["as_of"])
    return df.astype({f: "int64" for f in FIGURES})


def points(year: int, first: dt.date, until: dt.date, cutoffs: Sequence[tuple[str, dt.date]]) -> list[Point]:
    """The reporting cut-offs, then the weeks (Monday to Sunday) of the plan's reporting year, that fall from
    `first` (the first recorded date) to `until`; a week not yet over is shown at `until`."""
    out = [Point("cutoff", f"{label} ({day:%d/%m/%Y})", day) for label, day in cutoffs if first <= day <= until]
    start = max(first, dt.date(year - 1, 12, 1))  # the reporting year starts in December (ND 09/2019)
    monday = start - dt.timedelta(days=start.weekday())
    while monday <= until and monday.year <= year:
        sunday = monday + dt.timedelta(days=6)
        iso_year, week, _ = sunday.isocalendar()
        name = f"Tuần {week}" + (f"/{iso_year}" if iso_year != year else "")
        out.append(Point("week", f"{name} ({monday:%d/%m}–{sunday:%d/%m/%Y})", min(sunday, until)))
        monday += dt.timedelta(days=7)
    return out


def table(figures: pd.DataFrame, at: Sequence[Point], units: Sequence[str]) -> list[TrendRow]:
    """Each point's figures: per unit, those of the last recorded date at or before the point (a unit with
    no record by then counts zero); a point before every record is left out."""
    if figures.empty or not at:
        return []
    import pandas as pd
    wanted = pd.DataFrame({"point": range(len(at)), "day": pd.to_datetime([p.day for p in at])})
    wide = (figures.pivot_table(index="as_of", columns="unit", values=list(FIGURES), aggfunc="last")
            .sort_index())
    wide.columns = ["|".join(map(str, column)) for column in wide.columns]  # done|VP, overdue|VP, …
    wide = wide.reset_index()
    found = pd.merge_asof(wanted.sort_values("day"), wide, left_on="day", right_on="as_of", direction="backward")
    found = found.dropna(subset=["as_of"]).sort_values("point")
    rows = []
    for record in found.to_dict("records"):
        by_unit = {u: tuple(_count(record.get(f"{f}|{u}")) for f in FIGURES) for u in units}
        totals = tuple(sum(v[i] for v in by_unit.values()) for i in range(len(FIGURES)))
        rows.append(TrendRow(at[int(record["point"])], _three(totals), {u: _three(v) for u, v in by_unit.items()}))
    return rows


def current(point: Point, by_unit: dict[str, tuple[int, int, int]]) -> TrendRow:
    """A point whose figure is the pass being computed (its own date, or its week not yet over)."""
    totals = tuple(sum(v[i] for v in by_unit.values()) for i in range(len(FIGURES)))
    return TrendRow(point, _three(totals), dict(by_unit))


def _count(value: object) -> int:
    if not isinstance(value, numbers.Real) or value != value:  # None or NaN: no record of the unit yet
        return 0
    return int(float(value))


def _three(values: Sequence[int]) -> tuple[int, int, int]:
    return (values[0], values[1], values[2])


# --- progress through the year (the report's chart) ------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    """One reporting cut-off: what the plan expected done by then and what was done (None: no figure)."""

    label: str
    day: dt.date
    expected: int
    done: int | None


def expected_done(dues: Sequence[dt.date | None], day: dt.date) -> int:
    """Assignment rows the plan expected done by `day`: those whose computed deadline is on or before it."""
    return sum(1 for due in dues if due is not None and due <= day)


def progress(cutoffs: Sequence[tuple[str, dt.date]], dues: Sequence[dt.date | None], recorded: dict[dt.date, int],
             as_of: dt.date, done_now: int) -> list[Progress]:
    """Each cut-off of the year: expected from the rows' deadlines; done as recorded then for a cut-off before
    `as_of` (absent when history does not reach it), `done_now` for one on `as_of`, none after it."""
    out = []
    for label, day in cutoffs:
        done = done_now if day == as_of else recorded.get(day) if day < as_of else None
        out.append(Progress(label, day, expected_done(dues, day), done))
    return out

"""The history of `Theo dõi` (and of the plan tab's deadlines) in the state file, beside the pass log
(sync/state/store.py).

    history_passes  one row per pass that recorded history (run, init, restore): its as-of date
    history         one row per cell change: row identity, column key, old and new value, kind
    history_seen    the last-seen values of every live row and their hash, so a pass compares hashes and
                    never re-reads the whole history
    history_plan    the plan tab's Hạn hoàn thành (the Office's per-task deadline) by task STT: a baseline at
                    the first pass that records it, then a row per change; the figures of a past date are
                    computed with the deadlines as they stood then, not as the Office has typed them since

A pass's records and its update of `history_seen` are one transaction: a crash leaves the pass's
changes for the next pass to record, never half of them. The pure work is in sync/core/history.py.

History is the sequence of passes in the order they ran, each dated by its as-of date, and the dates
never go back: a pass dated before the last recorded one records nothing (its caller says so; the
changes it saw are recorded by the next pass dated from then on), and `init` and `restore`, which act
now, are dated today or the last recorded date if that is later (`record_date`). So "the rows at D" is
the replay of every pass up to the last one dated D or earlier, one rule for `--at`, the timeline and
every figure of a past date. A state file written before this rule may hold a pass dated back; it is
read as dated at the latest date recorded before it (`_DATED`), never as rewriting the past.

Which entries a figure of a past date is computed from (`source_for`), and the sentence that says so: A figure for a
date must come out the same whenever it is computed. When the state file's history covers the date (a pass at or before
it), the entries are those history recorded at that pass: what units had typed then, whatever they typed, corrected or
cleared since. When it does not (no pass that early, e.g. a state file started mid-year), today's entries are read with
as-of semantics (`sync.core.history`): a completion dated after the date counts as in progress, a quarterly result whose
cut-off is after the date is not counted. A date that is today needs neither.

The plan tab's Hạn hoàn thành (the Office's per-task deadline) is taken from history too, as it stood at
the same pass (`plan_overrides`): a deadline the Office moves later changes no figure of an earlier date.
A state file from before history recorded them has none for such a date (None): the live ones are used.

Used by `run --as-of D --dry-run`, `report` and `export --at`; they print `Source.sentence()` so the reader
knows which.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync.core import history
from sync.core.history import AsOf, HistoryRow, RowKey
from sync.core.plan import Plan
from sync.core.tables import Entry
from sync.core.workbook import Cell
from sync.state.store import State

if TYPE_CHECKING:
    from sync.core.trends import Point, TrendRow


SCHEMA = """
CREATE TABLE IF NOT EXISTS history_passes (
    pass_id INTEGER PRIMARY KEY REFERENCES passes(id),
    as_of TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_passes_as_of ON history_passes (as_of, pass_id);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    pass_id INTEGER NOT NULL REFERENCES passes(id),
    stt TEXT NOT NULL, unit TEXT NOT NULL, ordinal INTEGER NOT NULL,
    col TEXT NOT NULL,           -- column key; '' for the row itself (appeared, deleted)
    old TEXT, new TEXT,          -- typed text (sync.core.history.encode); NULL for an empty cell
    kind TEXT NOT NULL           -- baseline | added | change | deleted | restore
);
CREATE INDEX IF NOT EXISTS history_by_row ON history (stt, unit, ordinal);
CREATE TABLE IF NOT EXISTS history_seen (
    stt TEXT NOT NULL, unit TEXT NOT NULL, ordinal INTEGER NOT NULL,
    hash TEXT NOT NULL,
    vals TEXT NOT NULL,          -- JSON: column key → typed text
    PRIMARY KEY (stt, unit, ordinal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history_plan (
    id INTEGER PRIMARY KEY,
    pass_id INTEGER NOT NULL REFERENCES passes(id),
    stt TEXT NOT NULL,           -- task STT as text; '' for the baseline's own mark (from here on it is known)
    new TEXT,                    -- typed text (sync.core.history.encode); NULL: cleared
    kind TEXT NOT NULL           -- baseline | change
);
CREATE TABLE IF NOT EXISTS unit_figures (
    as_of TEXT NOT NULL, unit TEXT NOT NULL,  -- the figures of the day's last writing pass, per unit
    done INTEGER NOT NULL, overdue INTEGER NOT NULL, missing INTEGER NOT NULL,
    PRIMARY KEY (as_of, unit)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trend_cache (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key TEXT NOT NULL,           -- JSON: the as-of date and what else the rows depend on
    rows TEXT NOT NULL           -- JSON: the trend rows of the points before that date (final)
);
"""

#: A unit's figures for the trends: done, overdue, missing quarterly results.
Figures = dict[str, tuple[int, int, int]]


#: history_passes with each pass's date as read: its as-of, or a later date recorded before it (see above).
_DATED = ("WITH hp AS (SELECT pass_id, MAX(as_of) OVER (ORDER BY pass_id ROWS UNBOUNDED PRECEDING) AS as_of "
          "FROM history_passes) ")


@dataclass(frozen=True)
class HistoryPass:
    pass_id: int
    as_of: dt.date


@dataclass(frozen=True)
class Record:
    pass_id: int
    as_of: dt.date
    command: str
    key: RowKey
    column: str
    old: str | None
    new: str | None
    kind: str


class HistoryStore:
    def __init__(self, state: State):
        self.state = state
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The state file's connection, with the history tables created on first use by this store."""
        with self.state.connect() as db:
            if not self._ready:
                db.executescript(SCHEMA)
                self._ready = True
            yield db

    # --- writing ------------------------------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the history tables if this state file has none yet (before a transaction needs them)."""
        with self._connect():
            pass

    def recorder(self, as_of: dt.date, rows: list[HistoryRow], kind: str = "change",
                 figures: Figures | None = None, plan: dict[str, str] | None = None
                 ) -> Callable[[sqlite3.Connection, int], int]:
        """For State.record_pass(then=…): the pass and its history (and its figures per unit, for the
        trends; and the plan tab's deadlines, `plan`: sync.core.history.plan_values) in one transaction, one
        commit."""
        self.ensure()
        return lambda db, pass_id: self.record_in(db, pass_id, as_of, rows, kind, figures, plan)

    def record(self, pass_id: int, as_of: dt.date, rows: list[HistoryRow], kind: str = "change",
               figures: Figures | None = None, plan: dict[str, str] | None = None) -> int:
        """Record what changed since the last recorded state; returns the number of cell records added."""
        with self._connect() as db:
            return self.record_in(db, pass_id, as_of, rows, kind, figures, plan)

    @staticmethod
    def record_in(db: sqlite3.Connection, pass_id: int, as_of: dt.date, rows: list[HistoryRow], kind: str = "change",
                  figures: Figures | None = None, plan: dict[str, str] | None = None) -> int:
        """Records nothing (returns -1) for a pass dated before the last recorded one: the caller says so
        (`refusal`); this is the guard inside the transaction. `plan` None: the plan tab's deadlines were
        not read (restore), nothing recorded of them."""
        last = db.execute("SELECT MAX(as_of) FROM history_passes").fetchone()[0]
        if last is not None and as_of.isoformat() < last:
            return -1
        if plan is not None:
            _record_plan(db, pass_id, plan)
        if figures:  # the day's last pass stands for the day
            db.executemany("INSERT INTO unit_figures (as_of, unit, done, overdue, missing) VALUES (?,?,?,?,?) "
                           "ON CONFLICT (as_of, unit) DO UPDATE SET done = excluded.done, "
                           "overdue = excluded.overdue, missing = excluded.missing",
                           [(as_of.isoformat(), unit, *values) for unit, values in figures.items()])
        first = last is None
        db.execute("INSERT OR IGNORE INTO history_passes (pass_id, as_of) VALUES (?, ?)",
                   (pass_id, as_of.isoformat()))
        seen = {(r[0], r[1], r[2]): (r[3], r[4])
                for r in db.execute("SELECT stt, unit, ordinal, hash, vals FROM history_seen")}
        found = history.diff(seen, rows, first, kind)
        if found.changes:
            db.executemany(
                "INSERT INTO history (pass_id, stt, unit, ordinal, col, old, new, kind) VALUES (?,?,?,?,?,?,?,?)",
                [(pass_id, *c.key, c.column, c.old, c.new, c.kind) for c in found.changes])
        if found.current:
            db.executemany(
                "INSERT INTO history_seen (stt, unit, ordinal, hash, vals) VALUES (?,?,?,?,?) "
                "ON CONFLICT (stt, unit, ordinal) DO UPDATE SET hash = excluded.hash, vals = excluded.vals",
                [(*r.key, r.digest(), json.dumps(r.values, ensure_ascii=False, sort_keys=True))
                 for r in found.current.values()])
        if found.gone:
            db.executemany("DELETE FROM history_seen WHERE stt = ? AND unit = ? AND ordinal = ?", found.gone)
        return sum(1 for c in found.changes if c.column)

    def _date(self, text: object, table: str, row: str) -> dt.date:
        """A date the state file holds; one edited by hand or damaged is the Office's message (exit 2), naming
        its table and row, never a bug."""
        from sync.state.faults import bad_value
        try:
            return dt.date.fromisoformat(str(text))
        except ValueError:
            raise bad_value(self.state.path, table, row, text) from None

    def _pass_date(self, pass_id: object, text: object) -> dt.date:
        return self._date(text, "history_passes", f"lượt chạy số {pass_id}, cột as_of")

    def last_date(self) -> dt.date | None:
        """The date of the last recorded pass (the latest date history has)."""
        if not self.state.path.exists():
            return None
        with self._connect() as db:
            row = db.execute("SELECT pass_id, as_of FROM history_passes WHERE as_of = "
                             "(SELECT MAX(as_of) FROM history_passes) LIMIT 1").fetchone()
        return self._pass_date(row[0], row[1]) if row and row[1] else None

    def record_date(self, today: dt.date) -> dt.date:
        """The date of a change made now (`init`, `restore`): today, or the last recorded date if later."""
        last = self.last_date()
        return max(today, last) if last else today

    def refusal(self, as_of: dt.date) -> str | None:
        """Why a writing pass of date `as_of` is refused (dated before the last recorded pass), or None: it
        could record no history, and its dashboard would mix today's entries with a past date."""
        last = self.last_date()
        if last is None or as_of >= last:
            return None
        return (f"Không chạy lượt ghi ngày {as_of:%d/%m/%Y}: ngày này trước lượt đã ghi lịch sử gần nhất "
                f"({last:%d/%m/%Y}), mà lịch sử chỉ đi tới, không viết lại quá khứ; bảng tổng hợp của ngày cũ tính "
                "từ các mục hiện nay sẽ khác số liệu của chính ngày đó. Xem số liệu ngày đó bằng "
                f"'python -m sync run --as-of {as_of:%Y-%m-%d} --dry-run' (tính từ lịch sử), hoặc chạy lượt ghi "
                f"với ngày từ {last:%d/%m/%Y} trở đi.")

    # --- reading ------------------------------------------------------------------------------------------

    def trend_rows(self, as_of: dt.date, units: list[str], year: int, cutoffs: list[tuple[str, dt.date]],
                   save: bool) -> tuple[list[TrendRow], list[Point]] | None:
        """The "Diễn biến" of a pass dated `as_of`, as far as history knows it: the rows (sync.core.trends.TrendRow)
        of each cut-off and week before `as_of`, from the figures recorded before it, and the points (trends.Point)
        of `as_of` itself, whose figures are the pass's own (trends.current, by the pure pass). None when nothing
        was recorded before `as_of` (no history yet).

        The rows of points before `as_of` are final (no pass can be dated before the last one), so a writing
        pass (`save`) keeps them; the next passes reuse them and add a point that has passed since from its
        day's record. The whole table is computed with pandas (sync.core.trends.table) only when nothing usable is
        kept (the first pass with trends, a changed plan, a dry run of an earlier date): the usual pass does
        not import pandas."""
        from sync.core import trends
        if not self.state.path.exists():
            return None
        with self._connect() as db:
            first = db.execute("SELECT MIN(as_of) FROM unit_figures WHERE as_of < ?",
                               (as_of.isoformat(),)).fetchone()[0]
            if first is None:
                return None
            at = trends.points(year, self._date(first, "unit_figures", "cột as_of"), as_of, cutoffs)
            past = [p for p in at if p.day < as_of]
            cached = db.execute("SELECT key, rows FROM trend_cache WHERE id = 1").fetchone()
            key = {"first": first, "units": units, "year": year, "cutoffs": [[n, d.isoformat()] for n, d in cutoffs]}
            rows = _cached(cached, key, as_of, past)
            if rows is None:  # the whole table, with pandas
                recorded = db.execute("SELECT as_of, unit, done, overdue, missing FROM unit_figures WHERE as_of < ?",
                                      (as_of.isoformat(),)).fetchall()
                rows = trends.table(trends.frame((self._date(r[0], "unit_figures", f"đơn vị {r[1]}, cột as_of"),
                                                  *r[1:]) for r in recorded), past, units)
            elif len(rows) < len(past):  # a point or two passed since: each is one day's record, no pandas
                rows += [trends.current(p, _figures_at(db, p.day, units)) for p in past[len(rows):]]
            else:
                save = False  # unchanged
            if save:
                db.execute("INSERT OR REPLACE INTO trend_cache (id, key, rows) VALUES (1, ?, ?)",
                           (json.dumps({**key, "as_of": as_of.isoformat()}), json.dumps(
                               [[r.point.kind, r.point.label, r.point.day.isoformat(), r.totals, r.by_unit]
                                for r in rows], ensure_ascii=False)))
        return rows, [p for p in at if p.day >= as_of]

    def recorded_done(self, days: list[dt.date], before: dt.date, units: list[str]) -> dict[dt.date, int] | None:
        """Done over every unit at each of `days` before `before`, as recorded then (the Diễn biến rows' rule,
        computed with pandas); a day before every record has none. None: no pass recorded figures by `before`."""
        from sync.core import trends
        if not self.state.path.exists():
            return None
        with self._connect() as db:
            some = db.execute("SELECT 1 FROM unit_figures WHERE as_of <= ? LIMIT 1", (before.isoformat(),)).fetchone()
            if some is None:
                return None
            recorded = db.execute("SELECT as_of, unit, done, overdue, missing FROM unit_figures WHERE as_of < ?",
                                  (before.isoformat(),)).fetchall()
        at = [trends.Point("cutoff", d.isoformat(), d) for d in days if d < before]
        rows = trends.table(trends.frame((self._date(r[0], "unit_figures", f"đơn vị {r[1]}, cột as_of"), *r[1:])
                                         for r in recorded), at, units)
        return {r.point.day: r.totals[0] for r in rows}

    def passes(self) -> list[HistoryPass]:
        if not self.state.path.exists():
            return []
        with self._connect() as db:
            return [HistoryPass(r[0], self._pass_date(r[0], r[1]))
                    for r in db.execute(_DATED + "SELECT pass_id, as_of FROM hp ORDER BY pass_id")]

    def first_date(self) -> dt.date | None:
        if not self.state.path.exists():
            return None
        with self._connect() as db:
            row = db.execute("SELECT pass_id, as_of FROM history_passes ORDER BY pass_id LIMIT 1").fetchone()
        return self._pass_date(row[0], row[1]) if row and row[1] else None

    def pass_at(self, day: dt.date) -> HistoryPass | None:
        """The last pass, in the order they ran, dated `day` or earlier: the rows at `day` are those it left."""
        if not self.state.path.exists():
            return None
        with self._connect() as db:
            row = db.execute(_DATED + "SELECT pass_id, as_of FROM hp WHERE as_of <= ? ORDER BY pass_id DESC LIMIT 1",
                             (day.isoformat(),)).fetchone()
        return HistoryPass(row[0], self._pass_date(row[0], row[1])) if row else None

    def rows_after(self, pass_id: int) -> dict[RowKey, dict[str, str]]:
        """Every row as it stood once `pass_id` was recorded: key → {column key: typed text}."""
        with self._connect() as db:
            cursor = db.execute("SELECT stt, unit, ordinal, col, new, kind FROM history WHERE pass_id <= ? "
                                "ORDER BY id", (pass_id,))
            return history.replay(((r[0], r[1], r[2]), r[3], r[4], r[5]) for r in cursor)

    def rows_at(self, day: dt.date) -> tuple[HistoryPass | None, dict[RowKey, dict[str, str]]]:
        found = self.pass_at(day)
        return found, (self.rows_after(found.pass_id) if found else {})

    def entries_at(self, day: dt.date, plan: Plan) -> list[Entry]:
        """The entries (sync.core.tables.Entry) as they stood at `day`, from the last pass at or before it;
        [] when history does not cover `day`. What a pass would read, for figures of the past."""
        found, rows = self.rows_at(day)
        return history.to_entries(rows, plan) if found else []

    def plan_at(self, day: dt.date) -> dict[int, Cell] | None:
        """The plan tab's Hạn hoàn thành as it stood at `day` (after the last pass dated `day` or earlier),
        as `sync.core.tables.plan_deadlines` gives them. None when history does not know them then: no pass by
        `day`, or none by then recorded them (a state file from before they were recorded): the caller
        uses the live ones."""
        found = self.pass_at(day)
        if found is None:
            return None
        with self._connect() as db:
            start = db.execute("SELECT MIN(pass_id) FROM history_plan WHERE stt = '' AND kind = 'baseline'"
                               ).fetchone()[0]
            if start is None or start > found.pass_id:
                return None
            values = _plan_replay(db.execute("SELECT stt, new FROM history_plan WHERE pass_id <= ? ORDER BY id",
                                             (found.pass_id,)))
        return history.plan_overrides(values)

    def seen(self, key: RowKey) -> dict[str, str] | None:
        """What the last pass saw in a row (the values `restore` checks the live sheet against)."""
        with self._connect() as db:
            row = db.execute("SELECT vals FROM history_seen WHERE stt = ? AND unit = ? AND ordinal = ?",
                             key).fetchone()
        if row is None:
            return None
        values: dict[str, str] = json.loads(row[0])
        return values

    def known_rows(self) -> list[RowKey]:
        """Every row identity history has ever recorded."""
        if not self.state.path.exists():
            return []
        with self._connect() as db:
            return [(r[0], r[1], r[2]) for r in db.execute("SELECT DISTINCT stt, unit, ordinal FROM history")]

    def records(self, stt: str | None = None, unit: str | None = None, column: str | None = None,
                since: dt.date | None = None, until: dt.date | None = None) -> list[Record]:
        where, args = ["h.col != ''"], []
        for sql, value in (("h.stt = ?", stt), ("h.unit = ?", unit), ("h.col = ?", column)):
            if value is not None:
                where.append(sql)
                args.append(value)
        if since:
            where.append("hp.as_of >= ?")
            args.append(since.isoformat())
        if until:
            where.append("hp.as_of <= ?")
            args.append(until.isoformat())
        if not self.state.path.exists():
            return []
        with self._connect() as db:
            cursor = db.execute(
                _DATED + "SELECT h.pass_id, hp.as_of, p.command, h.stt, h.unit, h.ordinal, h.col, h.old, h.new, h.kind "
                "FROM history h JOIN hp ON hp.pass_id = h.pass_id "
                "LEFT JOIN passes p ON p.id = h.pass_id "
                f"WHERE {' AND '.join(where)} ORDER BY h.id", args)
            return [Record(r[0], self._pass_date(r[0], r[1]), r[2] or "", (r[3], r[4], r[5]), r[6], r[7], r[8], r[9])
                    for r in cursor]


def _plan_replay(records: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """The plan's deadlines (STT → typed text) after (stt, new) records, oldest first."""
    values: dict[str, str] = {}
    for stt, new in records:
        if stt == "":
            continue
        if new is None:
            values.pop(stt, None)
        else:
            values[stt] = new
    return values


def _record_plan(db: sqlite3.Connection, pass_id: int, plan: dict[str, str]) -> None:
    """The plan tab's deadlines where they differ from what history last recorded; the first time, a baseline
    (its mark says from which pass on they are known, even when none is typed)."""
    known = db.execute("SELECT 1 FROM history_plan LIMIT 1").fetchone() is not None
    rows: list[tuple[int, str, str | None, str]]
    if not known:
        rows = [(pass_id, "", None, "baseline")]
        rows += [(pass_id, stt, new, "baseline") for stt, new in sorted(plan.items(), key=lambda i: _stt_order(i[0]))]
    else:
        last = _plan_replay(db.execute("SELECT stt, new FROM history_plan ORDER BY id"))
        rows = [(pass_id, stt, plan.get(stt), "change") for stt in sorted(set(last) | set(plan), key=_stt_order)
                if last.get(stt) != plan.get(stt)]
    if rows:
        db.executemany("INSERT INTO history_plan (pass_id, stt, new, kind) VALUES (?,?,?,?)", rows)


def _stt_order(stt: str) -> tuple[int, str]:
    return (int(stt), "") if stt.isdigit() else (1 << 30, stt)


def _figures_at(db: sqlite3.Connection, day: dt.date, units: list[str]) -> Figures:
    """Per unit, the figures of the last recorded date at or before `day` (as sync.core.trends.table reads them)."""
    found = {r[0]: (r[1], r[2], r[3]) for r in db.execute(
        "SELECT unit, done, overdue, missing FROM unit_figures WHERE as_of = "
        "(SELECT MAX(as_of) FROM unit_figures WHERE as_of <= ?)", (day.isoformat(),))}
    return {u: found.get(u, (0, 0, 0)) for u in units}


def _cached(cached: sqlite3.Row | None, key: dict[str, object], as_of: dt.date, past: list[Point]
            ) -> list[TrendRow] | None:
    """The kept rows, when they were computed with the same inputs and are the first points of `past`. A
    cache damaged by hand or by a disk is no cache: the rows are computed again (and kept anew)."""
    try:
        return _read_cache(cached, key, as_of, past)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None


def _read_cache(cached: sqlite3.Row | None, key: dict[str, object], as_of: dt.date, past: list[Point]
                ) -> list[TrendRow] | None:
    from sync.core.trends import Point, TrendRow
    if cached is None:
        return None
    kept = json.loads(cached[0])
    if {k: v for k, v in kept.items() if k != "as_of"} != key:
        return None
    if dt.date.fromisoformat(kept["as_of"]) > as_of:
        return None
    rows = [TrendRow(Point(kind, label, dt.date.fromisoformat(day)), tuple(totals),
                     {u: tuple(v) for u, v in units.items()})
            for kind, label, day, totals, units in json.loads(cached[1])]
    return rows if [r.point for r in rows] == past[:len(rows)] else None


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
    from sync.state.store import State
    store = HistoryStore(State(state_path))
    found = store.pass_at(as_of)
    if found is None:
        return Source("as_of", as_of)
    return Source("history", as_of, found.as_of, tuple(store.entries_at(as_of, plan)), store.plan_at(as_of))

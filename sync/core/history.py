"""The past, pure (no I/O): the history of what units and the Office typed in `Theo dõi`, and today's entries
seen as they stood on a past date.

A row is known by its identity — task STT and unit code (plus an ordinal for the rare duplicate row),
never its row number — and a cell by its column key, never its letter, so sorting, inserting rows or
moving columns changes no history. Values are kept in one stable, typed text form (`encode`) so that
what comes back (`decode`) is what was typed: dates as dates, numbers as numbers, text as text, and the
same on both backends (a Google date cell, read as a serial number, is a date here as it is from .xlsx).

`diff` compares the rows a pass read with the last-seen rows (hash per row first) and yields the cell
changes to record; `replay` folds recorded changes back into rows, which is how `history --at` and
`restore` see the sheet as it stood on a date.

As-of semantics: until the history of what units typed exists, a figure of a past date is computed from today's
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
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.core.deadlines import EXCEL_EPOCH, DateError, Schedule, ScheduleKind, parse_date, quarter_result_due
from sync.core.errors import UserError
from sync.core.plan import Plan
from sync.core.schema import JOB_COLUMNS, STATUSES, TRACKING_COLUMNS, UNIT_COLUMNS, Layout, Status, nfc, status_key
from sync.core.tables import Entry, Table, as_stt, locate
from sync.core.validation import plan_schedules, row_schedule
from sync.core.workbook import Cell, Snapshot

#: Columns whose history is kept: everything in `Theo dõi` but the row's STT (part of its identity) and
#: the job's own columns. `task`, `unit` and `role` are written once by `init` and then the Office's.
HISTORY_KEYS = tuple(k for k in TRACKING_COLUMNS if k not in JOB_COLUMNS and k != "stt")
#: Columns `restore` may put back: the units' own cells and the per-unit deadline the Office may type.
RESTORABLE_KEYS = ("deadline", *UNIT_COLUMNS)
#: Columns whose numbers are dates (a Google date cell reads as a serial number).
DATE_KEYS = ("deadline", "done_date")

_ORDER = {k: i for i, k in enumerate(("", *HISTORY_KEYS))}
RowKey = tuple[str, str, int]  # (task STT as text, unit code — or the typed text if no unit matches, ordinal)


@dataclass
class HistoryRow:
    key: RowKey
    values: dict[str, str]  # column key → encoded value; empty cells absent
    row: int = 0  # where the row was in the sheet read (for restore), 0 when replayed

    @property
    def stt(self) -> str:
        return self.key[0]

    @property
    def unit(self) -> str:
        return self.key[1]

    def digest(self) -> str:
        return row_hash(self.values)


@dataclass(frozen=True)
class Change:
    key: RowKey
    column: str
    old: str | None
    new: str | None
    kind: str  # baseline | added | change | deleted | restore


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    current: dict[RowKey, HistoryRow] = field(default_factory=dict)  # rows new or changed since last seen
    gone: list[RowKey] = field(default_factory=list)


# --- values ------------------------------------------------------------------------------------------------

def encode(value: Cell, key: str = "") -> str | None:
    """A cell as stable typed text: 's' text, 'i' whole number, 'f' other number, 'd' date, 't' date and time,
    'b' yes/no; an empty cell is None. A whole float is a whole number (Sheets does not tell them apart)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "b1" if value else "b0"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return "d" + value.date().isoformat()
        return "t" + value.isoformat()
    if isinstance(value, dt.date):
        return "d" + value.isoformat()
    if isinstance(value, (int, float)):
        if key in DATE_KEYS and 20000 < value < 80000 and float(value).is_integer():
            return "d" + (EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return f"i{value}" if isinstance(value, int) else f"f{value!r}"
    text = unicodedata.normalize("NFC", str(value))  # the same words in another Unicode form (NFD): no change
    return None if text == "" else "s" + text


def decode(text: str | None) -> Cell:
    """A stored value back; one damaged in the state file (by hand, by a disk) is the Office's to repair."""
    if text is None:
        return None
    try:
        return _decode(str(text))
    except (ValueError, IndexError):
        raise UserError(f"Lịch sử trong tệp trạng thái có một giá trị hỏng ({str(text)[:40]!r}): tệp bị sửa tay "
                        "hoặc hỏng. Khôi phục tệp trạng thái (khóa cấu hình 'state') từ bản sao lưu.") from None


def _decode(text: str) -> Cell:
    tag, body = text[0], text[1:]
    if tag == "s":
        return body
    if tag == "i":
        return int(body)
    if tag == "f":
        return float(body)
    if tag == "d":
        return dt.date.fromisoformat(body)
    if tag == "t":
        return dt.datetime.fromisoformat(body)
    if tag == "b":
        return body == "1"
    raise ValueError(f"unknown history value {text!r}")


def to_json(text: str | None) -> str | int | float | bool | None:
    """A value for JSON output: dates as ISO text, numbers as numbers."""
    value = decode(text)
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def shown(text: str | None) -> str:
    """A value as people read it in messages: dates dd/mm/yyyy, empty as '(trống)'."""
    value = decode(text)
    if value is None:
        return "(trống)"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return f"'{value}'" if isinstance(value, str) else str(value)


def row_hash(values: dict[str, str]) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for key in sorted(values):
        digest.update(key.encode())
        digest.update(b"\x1f")
        digest.update(values[key].encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


# --- rows out of a snapshot ---------------------------------------------------------------------------------

def stt_key(value: Cell) -> str:
    stt = as_stt(value)
    return str(stt) if stt is not None else nfc(value)


def tracking_table(snapshot: Snapshot, layout: Layout, where: str) -> Table:
    return locate(snapshot, layout.tabs["tracking"], layout.tracking_columns, ("stt", "unit"), where)


def _hidden(table: Table) -> Iterable[tuple[int, int]]:
    """The cells merged ranges hide in the table's rows, as far right as the table's columns or a row's cells go."""
    rows = table.rows()
    last_col = max([*table.columns.values(), *(len(table.tab.rows[r - 1]) for r in rows)])
    return table.covered.within(rows, last_col)


def rows_of(table: Table, plan: Plan) -> list[HistoryRow]:
    """Every row with something typed in it (the rows a pass reads as entries), keyed by identity.

    Reads the grid directly rather than through read_entries: it runs after every pass, on every row."""
    skip = {table.columns[k] for k in JOB_COLUMNS if k in table.columns}
    wanted = [(k, table.columns[k] - 1) for k in HISTORY_KEYS if k in table.columns]
    stt_col, unit_col = table.columns["stt"] - 1, table.columns["unit"] - 1
    out: list[HistoryRow] = []
    seen: dict[tuple[str, str], int] = {}
    hidden: dict[int, list[int]] = {}  # row → columns a merged range hides (what the pass reads via Table.value)
    for row, col in _hidden(table):
        hidden.setdefault(row, []).append(col)
    for r in table.rows():
        line = table.tab.rows[r - 1]
        if r in hidden:  # a merged value applies to every row it covers, in its first column (tables.Table)
            line = list(line) + [None] * max(0, max(hidden[r]) - len(line))
            for col in hidden[r]:
                merge = table.covered[(r, col)]
                line[col - 1] = table.tab.cell(merge[0], merge[1]) if merge[1] == col else None
        if not any(v is not None and (c + 1) not in skip and (not isinstance(v, str) or v.strip())
                   for c, v in enumerate(line)):
            continue
        unit_text = line[unit_col] if unit_col < len(line) else None
        unit = plan.registry.match(unit_text)
        base = (stt_key(line[stt_col] if stt_col < len(line) else None), unit.code if unit else nfc(unit_text))
        ordinal = seen.get(base, 0)
        seen[base] = ordinal + 1
        values = {}
        for key, c in wanted:
            if c < len(line) and (text := encode(line[c], key)) is not None:
                values[key] = text
        out.append(HistoryRow((*base, ordinal), values, r))
    return out


def snapshot_rows(snapshot: Snapshot, plan: Plan, layout: Layout, where: str = "") -> list[HistoryRow]:
    return rows_of(tracking_table(snapshot, layout, where or "bảng tính"), plan)


def plan_values(snapshot: Snapshot, layout: Layout, where: str = "") -> dict[str, str] | None:
    """The plan tab's Hạn hoàn thành (the Office's per-task deadline), keyed by task STT as text, encoded:
    what figures of a past date need beside the tracking rows. None when the plan tab cannot be read (no
    such tab, a broken header): then nothing is recorded, and the next readable pass records it."""
    from sync.core.errors import UserError
    from sync.core.tables import plan_deadlines
    if snapshot.find_tab(layout.tabs["plan"]) is None:
        return None
    try:
        table = locate(snapshot, layout.tabs["plan"], layout.plan_columns, ("stt",), where or "bảng tính")
        overrides = plan_deadlines(table)
    except UserError:
        return None
    return {str(stt): text for stt, value in overrides.items() if (text := encode(value, "deadline")) is not None}


def plan_overrides(values: dict[str, str]) -> dict[int, Cell]:
    """Recorded plan-tab deadlines back as `plan_deadlines` gives them: STT → the typed value."""
    out: dict[int, Cell] = {}
    for stt, text in values.items():
        number = as_stt(stt)
        if number is not None and (value := decode(text)) is not None:
            out[number] = value
    return out


# --- the diff -------------------------------------------------------------------------------------------------

def diff(seen: dict[RowKey, tuple[str, str]], rows: list[HistoryRow], first: bool, kind: str = "change") -> Diff:
    """The cell changes from the last-seen rows (`seen`: key → (hash, values as JSON text)) to `rows`.

    Rows whose hash matches are skipped without decoding their stored values. On the first pass every
    cell is a baseline record; a row that appears later is `added`, one that disappears `deleted`."""
    out = Diff()
    present = set()
    for row in rows:
        present.add(row.key)
        before = seen.get(row.key)
        if before is not None and before[0] == row.digest():
            continue
        out.current[row.key] = row
        if before is None:
            row_kind = "baseline" if first else ("added" if kind == "change" else kind)
            out.changes.extend(Change(row.key, c, None, v, row_kind)
                               for c, v in sorted(row.values.items(), key=_by_column))
            out.changes.append(Change(row.key, "", None, None, row_kind))  # the row itself
            continue
        old = json.loads(before[1])
        for col in sorted(set(old) | set(row.values), key=lambda c: _ORDER.get(c, len(_ORDER))):
            if old.get(col) != row.values.get(col):
                out.changes.append(Change(row.key, col, old.get(col), row.values.get(col), kind))
    for key, (_digest, stored) in seen.items():
        if key in present:
            continue
        old = json.loads(stored)
        out.changes.extend(Change(key, c, v, None, "deleted") for c, v in sorted(old.items(), key=_by_column))
        out.changes.append(Change(key, "", None, None, "deleted"))  # the row itself
        out.gone.append(key)
    return out


def _by_column(item: tuple[str, object]) -> int:
    return _ORDER.get(item[0], len(_ORDER))


def replay(records: Iterable[tuple[RowKey, str, str | None, str]],
           rows: dict[RowKey, dict[str, str]] | None = None) -> dict[RowKey, dict[str, str]]:
    """Fold (key, column, new value, kind) records, oldest first, into rows: key → {column: value}."""
    rows = {} if rows is None else rows
    for key, column, new, kind in records:
        if kind == "deleted" and column == "":
            rows.pop(key, None)
            continue
        values = rows.setdefault(key, {})
        if column == "":
            continue
        if new is None:
            values.pop(column, None)
        else:
            values[column] = new
    return rows


# --- what the rows stood as, for others to build on ---------------------------------------------------------

def ordered(rows: dict[RowKey, dict[str, str]], plan: Plan) -> list[tuple[RowKey, dict[str, str]]]:
    """Rows in the order `init` lays them out (plan order), then rows outside the plan by STT and unit."""
    place = {(str(task.stt), unit.code): i for i, (task, unit, _role) in enumerate(plan.assignments())}

    def sort_key(item: tuple[RowKey, dict[str, str]]) -> tuple[int, int, str, str, int]:
        (stt, unit, ordinal), _values = item
        number = as_stt(stt)
        return (place.get((stt, unit), len(place)), number if number is not None else 1 << 30, stt, unit, ordinal)

    return sorted(rows.items(), key=sort_key)


def to_entries(rows: dict[RowKey, dict[str, str]], plan: Plan, first_row: int = 2) -> list[Entry]:
    """The rows as the pass's `Entry` records (row numbers are places in the `history --at` layout)."""
    out = []
    for offset, ((stt, _unit, _ordinal), values) in enumerate(ordered(rows, plan)):
        v = {k: decode(t) for k, t in values.items()}
        number = as_stt(stt)
        out.append(Entry(
            row=first_row + offset, stt=number if number is not None else (stt or None), unit=nfc(v.get("unit")),
            role=nfc(v.get("role")), deadline=v.get("deadline"), status=nfc(v.get("status")),
            results={q: nfc(v.get(f"q{q}")) for q in range(1, 5)}, quantity=v.get("quantity"),
            evidence=nfc(v.get("evidence")), done_date=v.get("done_date"), note=nfc(v.get("note")),
            task=nfc(v.get("task"))))
    return out


def grid(rows: dict[RowKey, dict[str, str]], plan: Plan, layout: Layout) -> list[list[Cell]]:
    """`Theo dõi` as it stood: the header row, then one row per entry, columns in the layout's order."""
    keys = list(layout.tracking_columns)
    out: list[list[Cell]] = [[layout.tracking_columns[k] for k in keys]]
    for (stt, _unit, _ordinal), values in ordered(rows, plan):
        number = as_stt(stt)
        line: list[Cell] = []
        for k in keys:
            if k == "stt":
                line.append(number if number is not None else (stt or None))
            else:
                line.append(decode(values.get(k)))
        out.append(line)
    return out


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
    stood then, `plan_overrides`; sync.state.history), or today's seen as they stood on it (`view`, entries_as_of).
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

"""`restore`: put back the values of a past date into the cells units own, as one recorded pass.

A unit's typing mistake (a cleared row, a wrong column pasted over) is undone from the history the passes
recorded (sync/state/history.py), never from a guess: the change is shown first and written only with
`--yes`; a cell changed since the last pass is not overwritten without `--force` (the unit may have fixed it
meanwhile); and the restore is itself a pass in the state file and a line in `Nhật ký`, so history shows who
put what back.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync.core import history
from sync.core.config import Settings
from sync.core.errors import StaleSnapshot, Unreachable, UserError
from sync.core.history import RESTORABLE_KEYS, HistoryRow, RowKey
from sync.core.workbook import Cell, Snapshot, WriteSet
from sync.usecases.common import Line, Lines, StateGuard, guard_state, record_failure, recorded_after_write
from sync.usecases.history import check_day, column_of, header_of, history_store, task_of, unit_label, unit_of
from sync.usecases.ports import Ports
from sync.usecases.run import after

if TYPE_CHECKING:
    from sync.core.tables import Table
    from sync.state.history import HistoryStore
    from sync.state.store import Transaction

#: One cell to put back: its column key, the value now, the value of the day (encoded as history keeps them).
Change = tuple[str, str | None, str | None]


@dataclass(frozen=True)
class RestoreRequest:
    task: str
    unit: str
    at: dt.date
    column: str | None = None
    dry_run: bool = False
    yes: bool = False  # write (without it: only show the change)
    force: bool = False  # also cells changed after the last pass


@dataclass(frozen=True)
class RestoreResult:
    cells: int  # cells that differ from the day's values (restored when `written`)
    written: bool
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class _Row:
    """The row to restore: as history had it at the day, and as the workbook holds it now."""

    stt: str | None
    unit: str | None
    column: str | None
    recorded: dt.date  # the date of the pass whose values are put back
    target: dict[str, str]
    snapshot: Snapshot
    table: Table
    live: HistoryRow


def restore(settings: Settings, ports: Ports, now: dt.datetime, request: RestoreRequest,
            lines: Lines | None = None) -> RestoreResult:
    """Put a row's cells back to what history recorded at a day: shown first, written with `yes`, recorded."""
    lines = lines or Lines()
    say, layout = lines.say, settings.layout
    guard = guard_state(settings, ports.state, ports.plan, write=request.yes and not request.dry_run)
    store = history_store(ports.state)
    row = _find(settings, ports, request, store, now.date())
    changes, conflicts = _changes(row, store.seen((row.stt or "", row.unit or "", 0)) or {})
    who = (f"nhiệm vụ {row.stt}, {unit_label(ports.plan, row.unit)} (dòng {row.live.row} của tab "
           f"'{row.table.tab.name}')")
    if not changes:
        say(f"Không có gì để khôi phục: {who} đã giống như tại {request.at:%d/%m/%Y}.")
        return RestoreResult(0, False, lines.all())
    say(f"Khôi phục {who} về giá trị tại {request.at:%d/%m/%Y} (lượt chạy ngày {row.recorded:%d/%m/%Y}):")
    for k, old, new in changes:
        say(f"  {header_of(layout, k)}: {history.shown(old)} → {history.shown(new)}")
    if conflicts and not request.force:
        said = "; ".join(f"'{header_of(layout, k)}' lượt chạy gần nhất thấy {history.shown(s)}, nay là "
                         f"{history.shown(n)}" for k, s, n in conflicts)
        raise UserError(f"Không khôi phục: có ô đã bị sửa sau lượt chạy gần nhất ({said}). Chạy 'python -m sync run' "
                        "để ghi nhận thay đổi đó rồi xem lại, hoặc thêm --force để ghi đè.")
    _refuse_merged(settings, row, changes)
    if request.dry_run or not request.yes:
        say("Chưa ghi gì" + (" (chạy thử)." if request.dry_run else ": thêm --yes để ghi."))
        return RestoreResult(len(changes), False, lines.all())
    day = _write(settings, ports, now, request, row, changes, store, guard)
    say(f"Đã khôi phục {len(changes)} ô; ghi vào lịch sử (ngày {day:%d/%m/%Y}) và tab '{layout.tabs['log']}'.")
    say(f"Cột '{header_of(layout, 'check')}' và '{header_of(layout, 'flags')}' của dòng này vẫn là của lượt chạy "
        "trước: chạy 'python -m sync run' để cập nhật Kiểm tra/Cảnh báo.")
    return RestoreResult(len(changes), True, lines.all())


def _find(settings: Settings, ports: Ports, request: RestoreRequest, store: HistoryStore, today: dt.date) -> _Row:
    """The task, unit and column asked for, the row's values at the day, and the row in the workbook now."""
    layout, plan, backend = settings.layout, ports.plan, ports.backend
    stt, unit = task_of(request.task, plan, store), unit_of(request.unit, plan, store)
    column = column_of(request.column, layout, RESTORABLE_KEYS)
    at = request.at
    check_day(at, store, today)
    key: RowKey = (stt or "", unit or "", 0)
    found, rows = store.rows_at(at)
    assert found is not None  # `at` is on or after the first recorded pass (check_day)
    if key not in rows:
        raise UserError(f"Tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}) không có dòng của nhiệm vụ "
                        f"{stt}, đơn vị {unit}: không có gì để khôi phục.")
    snapshot = backend.read()
    table = history.tracking_table(snapshot, layout, backend.describe())
    live = next((r for r in history.rows_of(table, plan) if r.key == key), None)
    if live is None:
        raise UserError(f"{backend.describe()}: tab '{table.tab.name}' không còn dòng của nhiệm vụ {stt}, đơn vị "
                        f"{unit}. Chạy 'python -m sync init' để tạo lại dòng đó, rồi chạy lại lệnh khôi phục.")
    if column and column not in table.columns:
        raise UserError(f"{backend.describe()}: tab '{table.tab.name}' không có cột '{header_of(layout, column)}'.")
    return _Row(stt, unit, column, found.as_of, rows[key], snapshot, table, live)


def _changes(row: _Row, seen: dict[str, str]) -> tuple[list[Change], list[Change]]:
    """The cells that differ from the day's values, and those among them a unit changed since the last pass
    (column, what the last pass saw, what is there now)."""
    keys = [row.column] if row.column else [k for k in RESTORABLE_KEYS if k in row.table.columns]
    changes: list[Change] = []
    conflicts: list[Change] = []
    for k in keys:
        want, now_value = row.target.get(k), row.live.values.get(k)
        if want == now_value:
            continue
        changes.append((k, now_value, want))
        if now_value != seen.get(k):
            conflicts.append((k, seen.get(k), now_value))
    return changes, conflicts


def _refuse_merged(settings: Settings, row: _Row, changes: list[Change]) -> None:
    """A merged cell holds one value for several rows: not one unit's to restore."""
    from sync.core.tables import FIX, merge_a1
    table, live = row.table, row.live
    for k, _old, _new in changes:
        col = table.columns[k]
        for m in table.tab.merged:
            if not (m[0] <= live.row <= m[2] and m[1] <= col <= m[3]):
                continue
            if (m[0], m[2]) != (live.row, live.row):
                raise UserError(f"Không khôi phục '{header_of(settings.layout, k)}': ô nằm trong vùng ô gộp "
                                f"{merge_a1(m)} của tab '{table.tab.name}', chung cho nhiều dòng (của cả đơn vị khác). "
                                f"{FIX}, rồi chạy lại.")
            if col != m[1]:  # a merge on the row itself: only its first cell holds a value
                raise UserError(f"Không khôi phục '{header_of(settings.layout, k)}': ô bị vùng ô gộp {merge_a1(m)} "
                                f"của tab '{table.tab.name}' che (chỉ ô đầu của vùng giữ giá trị). {FIX}, rồi chạy "
                                "lại.")


def _writes(settings: Settings, now: dt.datetime, row: _Row, changes: list[Change], text: str,
            where: str) -> WriteSet:
    """The cells to put back, and the restore's line in `Nhật ký` (when the tab is there)."""
    from sync.core.schema import LOG_COLUMNS
    from sync.core.tables import refuse_overwrite
    from sync.core.workbook import new_pass_id
    layout, table = settings.layout, row.table
    writes = WriteSet(unit_cells=True)
    writes.keys[table.tab.name] = (table.columns["stt"], table.columns["unit"])
    writes.unit_columns[table.tab.name] = tuple(table.columns[k] for k in RESTORABLE_KEYS if k in table.columns)
    for k, _old, new in changes:
        value = history.decode(new)
        writes.set(table.tab.name, row.live.row, table.columns[k], "" if value is None else value)
    refuse_overwrite(row.snapshot, layout.tabs["log"], "log", {"tracking": layout.tracking_columns,
                                                               "plan": layout.plan_columns}, where)
    log = row.snapshot.find_tab(layout.tabs["log"])
    if log is not None:
        line: dict[str, Cell] = {"time": now.strftime("%d/%m/%Y %H:%M:%S"), "as_of": now.strftime("%d/%m/%Y"),
                                 "rows": 1, "emails": 0, "pass_id": new_pass_id(), "note": text}
        writes.append[log.name] = [[line.get(key) for key in LOG_COLUMNS]]
    return writes


def _write(settings: Settings, ports: Ports, now: dt.datetime, request: RestoreRequest, row: _Row,
           changes: list[Change], store: HistoryStore, guard: StateGuard) -> dt.date:
    """Write the cells and record the restore as a pass (the state file first takes its record); the
    history date it is recorded under."""
    layout, backend, state = settings.layout, ports.backend, ports.state
    text = (f"Khôi phục nhiệm vụ {row.stt}, đơn vị {row.unit} về ngày {request.at:%d/%m/%Y}: "
            + ", ".join(header_of(layout, k) for k, _o, _n in changes))
    writes = _writes(settings, now, row, changes, text, backend.describe())
    day = store.record_date(now.date())  # history's dates never go back: today, or the last recorded date if later
    started = state.begin_pass("restore", now)  # the state file takes the record before a unit cell is written
    try:
        try:
            backend.write(row.snapshot, writes)
        except StaleSnapshot as exc:
            raise Unreachable(f"Chưa ghi: {exc}. Chạy lại lệnh khôi phục.") from None
    except Exception as exc:
        record_failure(state, "restore", now, started, {"backend": backend.name}, exc)
        raise
    before = history.rows_of(row.table, ports.plan)
    restored = history.snapshot_rows(after(row.snapshot, writes), ports.plan, layout, backend.describe())

    def record(db: Transaction, pass_id: int) -> None:  # what units changed since the last pass first
        store.record_in(db, pass_id, day, before)
        store.record_in(db, pass_id, day, restored, kind="restore")

    with recorded_after_write("restore", backend.describe(), layout):
        store.ensure()
        guard.adopt()
        state.record_pass("restore", now, True, {"backend": backend.name, "as_of": day.isoformat(),
                                                 "cells_written": writes.cell_count()}, text, then=record,
                          started_row=started)
    return day

"""`restore`: put back the values of a past date into the cells units own, as one recorded pass.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync.core import history
from sync.core.config import Settings
from sync.core.errors import StaleSnapshot, Unreachable, UserError
from sync.core.history import RESTORABLE_KEYS
from sync.core.workbook import Cell, WriteSet
from sync.usecases.common import Line, Lines, guard_state, record_failure, recorded_after_write
from sync.usecases.history import check_day, column_of, header_of, history_store, task_of, unit_label, unit_of
from sync.usecases.ports import Ports
from sync.usecases.run import after

if TYPE_CHECKING:
    pass

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.


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


def restore(settings: Settings, ports: Ports, now: dt.datetime, request: RestoreRequest,
            lines: Lines | None = None) -> RestoreResult:
    """Put a row's cells back to what history recorded at a day: shown first, written with `yes`, recorded."""
    from sync.core.passlog import new_pass_id
    from sync.core.schema import LOG_COLUMNS
    lines = lines or Lines()
    say = lines.say
    layout, plan, backend, state = settings.layout, ports.plan, ports.backend, ports.state
    writes_cells = request.yes and not request.dry_run
    guard = guard_state(settings, state, plan, write=writes_cells)
    store = history_store(settings)
    stt, unit = task_of(request.task, plan, store), unit_of(request.unit, plan, store)
    column = column_of(request.column, layout, RESTORABLE_KEYS)
    today, at = now.date(), request.at
    check_day(at, store, today)
    key = (stt, unit, 0)
    found, rows = store.rows_at(at)
    assert found is not None  # `at` is on or after the first recorded pass (check_day)
    if key not in rows:
        raise UserError(f"Tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}) không có dòng của nhiệm vụ "
                        f"{stt}, đơn vị {unit}: không có gì để khôi phục.")
    target = rows[key]
    snapshot = backend.read()
    table = history.tracking_table(snapshot, layout, backend.describe())
    live = next((r for r in history.rows_of(table, plan) if r.key == key), None)
    if live is None:
        raise UserError(f"{backend.describe()}: tab '{table.tab.name}' không còn dòng của nhiệm vụ {stt}, đơn vị "
                        f"{unit}. Chạy 'python -m sync init' để tạo lại dòng đó, rồi chạy lại lệnh khôi phục.")
    seen = store.seen(key) or {}
    keys = [column] if column else [k for k in RESTORABLE_KEYS if k in table.columns]
    if column and column not in table.columns:
        raise UserError(f"{backend.describe()}: tab '{table.tab.name}' không có cột '{header_of(layout, column)}'.")
    changes: list[tuple[str, str | None, str | None]] = []
    conflicts: list[tuple[str, str | None, str | None]] = []
    for k in keys:
        want, now_value = target.get(k), live.values.get(k)
        if want == now_value:
            continue
        changes.append((k, now_value, want))
        if now_value != seen.get(k):
            conflicts.append((k, seen.get(k), now_value))
    who = f"nhiệm vụ {stt}, {unit_label(plan, unit)} (dòng {live.row} của tab '{table.tab.name}')"
    if not changes:
        say(f"Không có gì để khôi phục: {who} đã giống như tại {at:%d/%m/%Y}.")
        return RestoreResult(0, False, lines.all())
    say(f"Khôi phục {who} về giá trị tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}):")
    for k, old, new in changes:
        say(f"  {header_of(layout, k)}: {history.shown(old)} → {history.shown(new)}")
    if conflicts and not request.force:
        said = "; ".join(f"'{header_of(layout, k)}' lượt chạy gần nhất thấy {history.shown(s)}, nay là "
                         f"{history.shown(n)}" for k, s, n in conflicts)
        raise UserError(f"Không khôi phục: có ô đã bị sửa sau lượt chạy gần nhất ({said}). Chạy 'python -m sync run' "
                        "để ghi nhận thay đổi đó rồi xem lại, hoặc thêm --force để ghi đè.")
    from sync.core.merges import FIX
    from sync.core.tables import merge_a1
    for k, _old, _new in changes:  # a merged cell holds one value for several rows: not one unit's to restore
        col = table.columns[k]
        for m in table.tab.merged:
            if m[0] <= live.row <= m[2] and m[1] <= col <= m[3] and (m[0], m[2]) != (live.row, live.row):
                raise UserError(f"Không khôi phục '{header_of(layout, k)}': ô nằm trong vùng ô gộp {merge_a1(m)} của "
                                f"tab '{table.tab.name}', chung cho nhiều dòng (của cả đơn vị khác). {FIX}, rồi chạy "
                                "lại.")
    if request.dry_run or not request.yes:
        say("Chưa ghi gì" + (" (chạy thử)." if request.dry_run else ": thêm --yes để ghi."))
        return RestoreResult(len(changes), False, lines.all())
    writes = WriteSet(unit_cells=True)
    writes.keys[table.tab.name] = (table.columns["stt"], table.columns["unit"])
    writes.unit_columns[table.tab.name] = tuple(table.columns[k] for k in RESTORABLE_KEYS if k in table.columns)
    for k, _old, new in changes:
        value = history.decode(new)
        writes.set(table.tab.name, live.row, table.columns[k], "" if value is None else value)
    from sync.core.tables import refuse_overwrite
    refuse_overwrite(snapshot, layout.tabs["log"], "log", {"tracking": layout.tracking_columns,
                                                           "plan": layout.plan_columns}, backend.describe())
    log = snapshot.find_tab(layout.tabs["log"])
    text = (f"Khôi phục nhiệm vụ {stt}, đơn vị {unit} về ngày {at:%d/%m/%Y}: "
            + ", ".join(header_of(layout, k) for k, _o, _n in changes))
    if log is not None:
        line: dict[str, Cell] = {"time": now.strftime("%d/%m/%Y %H:%M:%S"), "as_of": today.strftime("%d/%m/%Y"),
                                 "rows": 1, "emails": 0, "pass_id": new_pass_id(), "note": text}
        writes.append[log.name] = [[line.get(key) for key in LOG_COLUMNS]]
    day = store.record_date(today)  # history's dates never go back: today, or the last recorded date if later
    row = state.begin_pass("restore", now)  # the state file takes the record before a unit cell is written
    try:
        try:
            backend.write(snapshot, writes)
        except StaleSnapshot as exc:
            raise Unreachable(f"Chưa ghi: {exc}. Chạy lại lệnh khôi phục.") from None
    except Exception as exc:
        record_failure(state, "restore", now, row, {"backend": backend.name}, exc)
        raise
    before = history.rows_of(table, plan)
    restored = history.snapshot_rows(after(snapshot, writes), plan, layout, backend.describe())

    def record(db: sqlite3.Connection, pass_id: int) -> None:  # what units changed since the last pass first
        store.record_in(db, pass_id, day, before)
        store.record_in(db, pass_id, day, restored, kind="restore")

    with recorded_after_write("restore", backend.describe(), layout):
        store.ensure()
        guard.adopt()
        state.record_pass("restore", now, True, {"backend": backend.name, "as_of": day.isoformat(),
                                                 "cells_written": writes.cell_count()}, text, then=record,
                          started_row=row)
    say(f"Đã khôi phục {len(changes)} ô; ghi vào lịch sử (ngày {day:%d/%m/%Y}) và tab '{layout.tabs['log']}'.")
    say(f"Cột '{header_of(layout, 'check')}' và '{header_of(layout, 'flags')}' của dòng này vẫn là của lượt chạy "
        "trước: chạy 'python -m sync run' để cập nhật Kiểm tra/Cảnh báo.")
    return RestoreResult(len(changes), True, lines.all())

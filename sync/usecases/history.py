"""`history`: what units typed, cell by cell, from the state file; `--at D -o FILE` the sheet as it stood.

History answers "who changed this cell, and what was there before" without the workbook: it reads the
state file (sync/state/history.py) and the plan only, so it works while the workbook is unreachable. The
lookups of a task, a unit, a column and a day are shared with `restore` (sync/usecases/restore.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync.core import history
from sync.core.config import Settings
from sync.core.errors import UserError
from sync.core.history import HISTORY_KEYS
from sync.core.plan import Plan
from sync.core.schema import Layout
from sync.core.workbook import Cell, Snapshot, WriteSet
from sync.usecases.common import Line, Lines, guard_state, write_output
from sync.usecases.ports import Ports

if TYPE_CHECKING:
    from sync.state.history import HistoryStore
    from sync.state.store import State

KIND_LABELS = {"baseline": "ghi nhận ban đầu", "added": "dòng mới", "deleted": "dòng bị xóa",
               "restore": "khôi phục", "change": ""}


def history_store(state: State) -> HistoryStore:
    """The history in `state`; none recorded yet is the user's to know (exit 2), not an empty answer."""
    from sync.state.history import HistoryStore
    store = HistoryStore(state)
    if store.first_date() is None:
        raise UserError(f"Chưa có lịch sử trong tệp trạng thái '{state.path}': lịch sử bắt đầu từ lượt "
                        "'python -m sync run' (hoặc 'init') đầu tiên có ghi.")
    return store


def task_of(text: str | None, plan: Plan, store: HistoryStore) -> str | None:
    if text is None:
        return None
    key = history.stt_key(text)
    known = {str(t.stt) for t in plan.tasks} | {k[0] for k in store.known_rows()}
    if key not in known:
        shown = sorted(known, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))
        raise UserError(f"Không có nhiệm vụ STT '{text}'. Các STT có: {', '.join(s or '(trống)' for s in shown)}.")
    return key


def unit_of(text: str | None, plan: Plan, store: HistoryStore) -> str | None:
    if text is None:
        return None
    codes = [u.code for u in plan.registry.units]
    if text in codes or text in {k[1] for k in store.known_rows()}:
        return text
    unit = plan.registry.match(text)
    if unit:
        return unit.code
    raise UserError(f"Không có đơn vị '{text}'. Mã đơn vị trong kế hoạch: {', '.join(codes)}.")


def column_of(text: str | None, layout: Layout, allowed: tuple[str, ...]) -> str | None:
    from sync.core.schema import fold
    if text is None:
        return None
    if text in allowed:
        return text
    by_header = {fold(layout.tracking_columns[k]): k for k in allowed if k in layout.tracking_columns}
    if fold(text) in by_header:
        return by_header[fold(text)]
    raise UserError(f"Không có cột '{text}'. Các khóa cột: "
                    + ", ".join(f"{k} ({layout.tracking_columns.get(k, k)})" for k in allowed) + ".")


def check_day(day: dt.date, store: HistoryStore, today: dt.date, option: str = "--at") -> None:
    first = store.first_date()
    if day > today:
        raise UserError(f"{option} {day:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    if first is None or day < first:
        since = f"{first:%d/%m/%Y}" if first else "-"
        raise UserError(f"{option} {day:%d/%m/%Y} trước lượt chạy đầu tiên có lịch sử ({since}); "
                        f"chọn một ngày từ {since} trở đi.")


def unit_label(plan: Plan, code: str | None) -> str:
    unit = next((u for u in plan.registry.units if u.code == code), None)
    return unit.label if unit else str(code)


def header_of(layout: Layout, key: str) -> str:
    return str(layout.tracking_columns.get(key, key))


@dataclass(frozen=True)
class HistoryQuery:
    task: str | None = None
    unit: str | None = None
    column: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    at: dt.date | None = None
    output: Path | None = None  # with `at`: the rows as a workbook laid out like the tracking tab


@dataclass(frozen=True)
class HistoryResult:
    data: Any  # the --json output
    text: tuple[str, ...]  # the text output
    lines: tuple[Line, ...]


def history_of(settings: Settings, ports: Ports, now: dt.datetime, query: HistoryQuery,
               lines: Lines | None = None) -> HistoryResult:
    """What units typed in the tracking tab: the changes that match `query`, or the rows at a day. Reads the state
    file and the plan, never the workbook."""
    lines = lines or Lines()
    layout, today, state = settings.layout, now.date(), ports.state
    plan = ports.plan
    guard_state(settings, state, plan, write=False)
    store = history_store(state)
    stt, unit = task_of(query.task, plan, store), unit_of(query.unit, plan, store)
    column = column_of(query.column, layout, HISTORY_KEYS)
    if query.at is not None:
        return _history_at(settings, plan, store, today, query.at, query.output, stt, unit, column, lines)
    if query.output:
        raise UserError("-o chỉ dùng cùng --at (ghi các dòng tại một ngày thành tệp .xlsx).")
    if query.since and query.until and query.since > query.until:
        raise UserError(f"--since {query.since:%d/%m/%Y} sau --until {query.until:%d/%m/%Y}: không có ngày nào ở "
                        "giữa; đặt --since trước hoặc bằng --until.")
    if query.since and query.since > today:
        raise UserError(f"--since {query.since:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    records = store.records(stt, unit, column, query.since, query.until)
    data = [{"date": r.as_of.isoformat(), "pass_id": r.pass_id, "command": r.command,
             "task": r.key[0], "unit": r.key[1], "ordinal": r.key[2], "column": r.column,
             "header": header_of(layout, r.column), "old": history.to_json(r.old),
             "new": history.to_json(r.new), "kind": r.kind} for r in records]
    if not records:
        return HistoryResult(data, ("Không có thay đổi nào khớp điều kiện.",), lines.all())
    collapse = stt is None and unit is None and column is None
    baseline: set[tuple[int, dt.date]] = set()
    text = [f"Lịch sử tab '{layout.tabs['tracking']}' ({len(records)} ghi nhận):"]
    for r in records:
        if collapse and r.kind == "baseline":
            if (r.pass_id, r.as_of) not in baseline:
                baseline.add((r.pass_id, r.as_of))
                rows = {x.key for x in records if x.pass_id == r.pass_id and x.kind == "baseline"}
                cells = sum(1 for x in records if x.pass_id == r.pass_id and x.kind == "baseline")
                text.append(f"{r.as_of:%d/%m/%Y}  ghi nhận ban đầu: {len(rows)} dòng, {cells} ô có nội dung "
                            "(xem từng ô với --task/--unit)")
            continue
        label = KIND_LABELS.get(r.kind, r.kind)
        who = f"NV {r.key[0] or '(trống)'} · {unit_label(plan, r.key[1])}" + (f" (dòng trùng {r.key[2] + 1})"
                                                                                if r.key[2] else "")
        text.append(f"{r.as_of:%d/%m/%Y}  {who}  {header_of(layout, r.column)}: {history.shown(r.old)} → "
                    f"{history.shown(r.new)}" + (f"  [{label}]" if label else ""))
    return HistoryResult(data, tuple(text), lines.all())


def _history_at(settings: Settings, plan: Plan, store: HistoryStore, today: dt.date, at: dt.date,
                output: Path | None, stt: str | None, unit: str | None, column: str | None,
                lines: Lines) -> HistoryResult:
    layout = settings.layout
    check_day(at, store, today)
    found, rows = store.rows_at(at)
    assert found is not None  # `at` is on or after the first recorded pass (check_day)
    rows = {k: v for k, v in rows.items() if (stt is None or k[0] == stt) and (unit is None or k[1] == unit)}
    if column:
        rows = {k: {c: t for c, t in v.items() if c == column} for k, v in rows.items()}
    if output is not None:
        if output.suffix.lower() != ".xlsx":
            raise UserError(f"Tệp '{output}': --at ghi tệp .xlsx (đặt tên kết thúc bằng .xlsx).")
        write_workbook(output, history.grid(rows, plan, layout), plan, layout, settings)
        lines.say(f"Đã ghi {len(rows)} dòng như tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}) "
                  f"vào '{output}'.")
    data = {"at": at.isoformat(), "pass": {"id": found.pass_id, "as_of": found.as_of.isoformat()},
            "rows": [{"task": k[0], "unit": k[1], "ordinal": k[2],
                      "values": {c: history.to_json(t) for c, t in v.items()}}
                     for k, v in history.ordered(rows, plan)]}
    text: list[str] = []
    if output is None:
        text.append(f"Các dòng như tại {at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}), {len(rows)} dòng:")
        for k, v in history.ordered(rows, plan):
            cells = "; ".join(f"{header_of(layout, c)} {history.shown(t)}" for c, t in v.items()
                              if c not in ("task", "unit", "role"))
            text.append(f"  NV {k[0]} · {unit_label(plan, k[1])}: {cells or '(chưa nhập gì)'}")
    return HistoryResult(data, tuple(text), lines.all())


def write_workbook(out: Path, grid: list[list[Cell]], plan: Plan, layout: Layout,
                   settings: Settings | None = None) -> None:
    """A workbook with one tab laid out like `Theo dõi` (the formatting `init` gives it), saved atomically;
    `settings`: never over the job's own files nor someone's tracking workbook (write_output)."""
    from sync.backends.xlsx_write import save_new
    from sync.files import text_cell
    from sync.sheet.layout import build_init
    name = layout.tabs["tracking"]
    init = build_init(plan, Snapshot({}), layout)
    changes = WriteSet(new_tabs=[name], formats=[f for f in init.formats if f.tab == name])
    for r, line in enumerate(grid, start=1):
        for c, value in enumerate(line, start=1):
            if value is not None:  # a control character or an endless number: shown, never a failed save
                changes.set(name, r, c, text_cell(value))
    write_output(out, lambda tmp: save_new(changes, tmp), settings)

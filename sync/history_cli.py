"""The commands over the history of `Theo dõi`: `history`, `restore`, `export`, and the recorder a pass calls.

Thin like sync/cli.py: parse and check the arguments (bad ones are exit 2 naming what exists), call the
pure core (sync/history.py) and the store (sync/history_store.py), print in Vietnamese.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

from . import history
from .errors import StaleSnapshot, Unreachable, UserError
from .history import HISTORY_KEYS, RESTORABLE_KEYS
from .history_store import HistoryStore
from .passlog import new_pass_id
from .schema import LOG_COLUMNS, UNIT_COLUMNS
from .text import fold, nfc
from .workbook import Snapshot, WriteSet

KIND_LABELS = {"baseline": "ghi nhận ban đầu", "added": "dòng mới", "deleted": "dòng bị xóa",
               "restore": "khôi phục", "change": ""}


def add_parsers(sub, common, parse_day) -> None:
    h = sub.add_parser("history", parents=[common], help="lịch sử các ô đơn vị đã nhập trong tab theo dõi")
    h.add_argument("--task", help="chỉ nhiệm vụ có STT này")
    h.add_argument("--unit", help="chỉ đơn vị này (mã đơn vị trong kế hoạch, hoặc tên)")
    h.add_argument("--column", help="chỉ cột này (khóa cột, ví dụ status, q1, done_date, hoặc tên cột)")
    h.add_argument("--since", type=parse_day, help="từ ngày (theo ngày số liệu của lượt chạy)")
    h.add_argument("--until", type=parse_day, help="đến ngày")
    h.add_argument("--at", type=parse_day, help="các dòng như đã có tại ngày này (từ lượt chạy cuối cùng đến ngày đó)")
    h.add_argument("-o", "--output", help="với --at: ghi thành tệp .xlsx bố cục như tab theo dõi")
    h.add_argument("--json", action="store_true", help="in dạng JSON")
    r = sub.add_parser("restore", parents=[common], help="đưa các ô của một dòng về giá trị tại một ngày")
    r.add_argument("--task", required=True, help="STT của nhiệm vụ")
    r.add_argument("--unit", required=True, help="mã đơn vị (hoặc tên)")
    r.add_argument("--at", required=True, type=parse_day, help="ngày có giá trị cần khôi phục")
    r.add_argument("--column", help="chỉ khôi phục cột này (khóa cột hoặc tên cột)")
    r.add_argument("--dry-run", action="store_true", help="chỉ cho xem thay đổi, không ghi")
    r.add_argument("--yes", action="store_true", help="ghi thật (không có: chỉ cho xem thay đổi)")
    r.add_argument("--force", action="store_true", help="ghi cả ô đã bị sửa sau lượt chạy gần nhất")
    e = sub.add_parser("export", parents=[common], help="bảng phẳng mọi dòng theo dõi (.csv hoặc .xlsx)")
    e.add_argument("--at", type=parse_day, help="các dòng như đã có tại ngày này, tính đến ngày đó")
    e.add_argument("-o", "--output", help="tệp .csv hoặc .xlsx (mặc định: in CSV ra màn hình)")


# --- the recorder a pass calls ----------------------------------------------------------------------------

def recorder(state, as_of: dt.date, snapshot: Snapshot, plan, layout, where: str, summary=None):
    """What State.record_pass(then=…) calls: the unit cells of the snapshot a pass read (and wrote on),
    recorded as that pass, of date `as_of`, in the pass's own transaction; with the pass's `summary`, also
    its figures per unit (the trends)."""
    return HistoryStore(state).recorder(as_of, history.snapshot_rows(snapshot, plan, layout, where),
                                        figures=unit_figures(summary) if summary is not None else None)


def unit_figures(summary) -> dict[str, tuple[int, int, int]]:
    """A summary's figures per unit for the trends: done, overdue, missing quarterly results."""
    return {u["code"]: (u["done"], u["overdue"], u["missing"]) for u in summary.by_unit}


def trends_for(state, settings, plan, save: bool):
    """For PassOptions.trends: the "Diễn biến" rows of a pass, from what earlier passes recorded."""
    from .periods import cycle

    def rows(summary):
        cutoffs = [(p.label, p.cutoff(settings.deadlines.quarter_cutoff_day))
                   for p in cycle(plan.year, settings.report.cycle, settings.report.third)]
        return HistoryStore(state).trend_rows(summary.as_of, unit_figures(summary), plan.year, cutoffs, save) or []
    return rows


def not_recorded(state, as_of: dt.date) -> str | None:
    """Why a pass of date `as_of` records no history (dated before the last recorded pass), or None."""
    return HistoryStore(state).refusal(as_of)


def init_date(state, plan, laid_out: Snapshot, layout, today: dt.date) -> dt.date | None:
    """The history date of what `init` lays out (headers, the plan's rows: the Office's, not a unit's).

    Never after what history already has, so that init does not move history's clock forward and a replay
    of earlier dates with `run --as-of` stays recordable: the last recorded date, if any; before the first
    pass, when no unit has typed anything yet (true then: the rows stood empty), the start of the plan's
    reporting year (1 December before it, ahead of ND 09/2019's first window from 15/12); else None: init
    records nothing and the first pass, of its own date, is the baseline (no date would be true for it)."""
    last = HistoryStore(state).last_date()
    if last is not None:
        return last
    rows = history.snapshot_rows(laid_out, plan, layout)
    typed = any(k in UNIT_COLUMNS for row in rows for k in row.values)
    return None if typed else min(today, dt.date(plan.year - 1, 12, 1))


def record_date(state, today: dt.date) -> dt.date:
    """The history date of a change made now (`init`, `restore`): never before the last recorded pass."""
    return HistoryStore(state).record_date(today)


def after(snapshot: Snapshot, changes: WriteSet) -> Snapshot:
    """The snapshot with `changes` applied, as the workbook now holds it (no second read)."""
    from .backends.memory import apply
    tabs = copy.deepcopy(snapshot.tabs)
    apply(tabs, changes)
    return Snapshot(tabs, snapshot.token)


# --- checking arguments -----------------------------------------------------------------------------------

def _store(settings) -> HistoryStore:
    from .state import State
    store = HistoryStore(State(settings.state))
    if store.first_date() is None:
        raise UserError(f"Chưa có lịch sử trong tệp trạng thái '{settings.state}': lịch sử bắt đầu từ lượt "
                        "'python -m sync run' (hoặc 'init') đầu tiên có ghi.")
    return store


def _task(text: str | None, plan, store: HistoryStore) -> str | None:
    if text is None:
        return None
    key = history.stt_key(text)
    known = {str(t.stt) for t in plan.tasks} | {k[0] for k in store.known_rows()}
    if key not in known:
        shown = sorted(known, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))
        raise UserError(f"Không có nhiệm vụ STT '{text}'. Các STT có: {', '.join(s or '(trống)' for s in shown)}.")
    return key


def _unit(text: str | None, plan, store: HistoryStore) -> str | None:
    if text is None:
        return None
    codes = [u.code for u in plan.registry.units]
    if text in codes or text in {k[1] for k in store.known_rows()}:
        return text
    unit = plan.registry.match(text)
    if unit:
        return unit.code
    raise UserError(f"Không có đơn vị '{text}'. Mã đơn vị trong kế hoạch: {', '.join(codes)}.")


def _column(text: str | None, layout, allowed: tuple[str, ...]) -> str | None:
    if text is None:
        return None
    if text in allowed:
        return text
    by_header = {fold(layout.tracking_columns[k]): k for k in allowed if k in layout.tracking_columns}
    if fold(text) in by_header:
        return by_header[fold(text)]
    raise UserError(f"Không có cột '{text}'. Các khóa cột: "
                    + ", ".join(f"{k} ({layout.tracking_columns.get(k, k)})" for k in allowed) + ".")


def _day(day: dt.date, store: HistoryStore, today: dt.date, option: str = "--at") -> None:
    first = store.first_date()
    if day > today:
        raise UserError(f"{option} {day:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    if first is None or day < first:
        raise UserError(f"{option} {day:%d/%m/%Y} trước lượt chạy đầu tiên có lịch sử ({first:%d/%m/%Y}); "
                        f"chọn một ngày từ {first:%d/%m/%Y} trở đi.")


def _unit_label(plan, code: str) -> str:
    unit = next((u for u in plan.registry.units if u.code == code), None)
    return unit.label if unit else code


def _header(layout, key: str) -> str:
    return layout.tracking_columns.get(key, key)


# --- history -------------------------------------------------------------------------------------------

def cmd_history(args, settings, plan, today: dt.date) -> int:
    layout = settings.layout
    store = _store(settings)
    stt, unit = _task(args.task, plan, store), _unit(args.unit, plan, store)
    column = _column(args.column, layout, HISTORY_KEYS)
    if args.at is not None:
        return _history_at(args, settings, plan, store, today, stt, unit, column)
    if args.output:
        raise UserError("-o chỉ dùng cùng --at (ghi các dòng tại một ngày thành tệp .xlsx).")
    if args.since and args.until and args.since > args.until:
        raise UserError(f"--since {args.since:%d/%m/%Y} sau --until {args.until:%d/%m/%Y}: không có ngày nào ở giữa; "
                        "đặt --since trước hoặc bằng --until.")
    if args.since and args.since > today:
        raise UserError(f"--since {args.since:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    records = store.records(stt, unit, column, args.since, args.until)
    if args.json:
        print(json.dumps([{"date": r.as_of.isoformat(), "pass_id": r.pass_id, "command": r.command,
                           "task": r.key[0], "unit": r.key[1], "ordinal": r.key[2], "column": r.column,
                           "header": _header(layout, r.column), "old": history.to_json(r.old),
                           "new": history.to_json(r.new), "kind": r.kind} for r in records],
                         ensure_ascii=False))
        return 0
    if not records:
        print("Không có thay đổi nào khớp điều kiện.")
        return 0
    collapse = stt is None and unit is None and column is None
    baseline: dict[tuple[int, dt.date], set] = {}
    print(f"Lịch sử tab '{layout.tabs['tracking']}' ({len(records)} ghi nhận):")
    for r in records:
        if collapse and r.kind == "baseline":
            if (r.pass_id, r.as_of) not in baseline:
                baseline[(r.pass_id, r.as_of)] = set()
                rows = {x.key for x in records if x.pass_id == r.pass_id and x.kind == "baseline"}
                cells = sum(1 for x in records if x.pass_id == r.pass_id and x.kind == "baseline")
                print(f"{r.as_of:%d/%m/%Y}  ghi nhận ban đầu: {len(rows)} dòng, {cells} ô có nội dung "
                      "(xem từng ô với --task/--unit)")
            continue
        label = KIND_LABELS.get(r.kind, r.kind)
        who = f"NV {r.key[0] or '(trống)'} · {_unit_label(plan, r.key[1])}" + (f" (dòng trùng {r.key[2] + 1})"
                                                                                if r.key[2] else "")
        print(f"{r.as_of:%d/%m/%Y}  {who}  {_header(layout, r.column)}: {history.shown(r.old)} → "
              f"{history.shown(r.new)}" + (f"  [{label}]" if label else ""))
    return 0


def _history_at(args, settings, plan, store, today, stt, unit, column) -> int:
    layout = settings.layout
    _day(args.at, store, today)
    found, rows = store.rows_at(args.at)
    rows = {k: v for k, v in rows.items() if (stt is None or k[0] == stt) and (unit is None or k[1] == unit)}
    if column:
        rows = {k: {c: t for c, t in v.items() if c == column} for k, v in rows.items()}
    if args.output:
        out = Path(args.output)
        if out.suffix.lower() != ".xlsx":
            raise UserError(f"Tệp '{out}': --at ghi tệp .xlsx (đặt tên kết thúc bằng .xlsx).")
        write_workbook(out, history.grid(rows, plan, layout), plan, layout)
        print(f"Đã ghi {len(rows)} dòng như tại {args.at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}) "
              f"vào '{out}'.", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps({"at": args.at.isoformat(), "pass": {"id": found.pass_id, "as_of": found.as_of.isoformat()},
                          "rows": [{"task": k[0], "unit": k[1], "ordinal": k[2],
                                    "values": {c: history.to_json(t) for c, t in v.items()}}
                                   for k, v in history.ordered(rows, plan)]}, ensure_ascii=False))
    elif not args.output:
        print(f"Các dòng như tại {args.at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}), {len(rows)} dòng:")
        for k, v in history.ordered(rows, plan):
            cells = "; ".join(f"{_header(layout, c)} {history.shown(t)}" for c, t in v.items()
                              if c not in ("task", "unit", "role"))
            print(f"  NV {k[0]} · {_unit_label(plan, k[1])}: {cells or '(chưa nhập gì)'}")
    return 0


def write_workbook(out: Path, grid: list[list], plan, layout) -> None:
    """A workbook with one tab laid out like `Theo dõi` (the formatting `init` gives it), saved atomically."""
    import openpyxl

    from .backends import xlsx_file
    from .backends.local import apply_changes
    from .layout import build_init
    name = layout.tabs["tracking"]
    init = build_init(plan, Snapshot({}), layout)
    changes = WriteSet(new_tabs=[name], formats=[f for f in init.formats if f.tab == name])
    for r, line in enumerate(grid, start=1):
        for c, value in enumerate(line, start=1):
            if value is not None:
                changes.set(name, r, c, value)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    apply_changes(wb, changes)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        xlsx_file.replace_atomically(out, wb.save, lambda tmp: None)
    except OSError as exc:
        raise xlsx_file.os_error(exc, out) from None


# --- restore -------------------------------------------------------------------------------------------

def cmd_restore(args, settings, plan, backend, state, now: dt.datetime) -> int:
    layout = settings.layout
    store = _store(settings)
    stt, unit = _task(args.task, plan, store), _unit(args.unit, plan, store)
    column = _column(args.column, layout, RESTORABLE_KEYS)
    today = now.date()
    _day(args.at, store, today)
    key = (stt, unit, 0)
    found, rows = store.rows_at(args.at)
    if key not in rows:
        raise UserError(f"Tại {args.at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}) không có dòng của nhiệm vụ "
                        f"{stt}, đơn vị {unit}: không có gì để khôi phục.")
    target = rows[key]
    snapshot = backend.read()
    table = history.tracking_table(snapshot, layout, backend.describe())
    live = next((r for r in history.rows_of(table, plan) if r.key == key), None)
    if live is None:
        raise UserError(f"{backend.describe()}: tab '{table.tab.name}' không còn dòng của nhiệm vụ {stt}, đơn vị {unit}. "
                        "Chạy 'python -m sync init' để tạo lại dòng đó, rồi chạy lại lệnh khôi phục.")
    seen = store.seen(key) or {}
    keys = [column] if column else [k for k in RESTORABLE_KEYS if k in table.columns]
    if column and column not in table.columns:
        raise UserError(f"{backend.describe()}: tab '{table.tab.name}' không có cột '{_header(layout, column)}'.")
    changes, conflicts = [], []
    for k in keys:
        want, now_value = target.get(k), live.values.get(k)
        if want == now_value:
            continue
        changes.append((k, now_value, want))
        if now_value != seen.get(k):
            conflicts.append((k, seen.get(k), now_value))
    who = f"nhiệm vụ {stt}, {_unit_label(plan, unit)} (dòng {live.row} của tab '{table.tab.name}')"
    if not changes:
        print(f"Không có gì để khôi phục: {who} đã giống như tại {args.at:%d/%m/%Y}.")
        return 0
    print(f"Khôi phục {who} về giá trị tại {args.at:%d/%m/%Y} (lượt chạy ngày {found.as_of:%d/%m/%Y}):")
    for k, old, new in changes:
        print(f"  {_header(layout, k)}: {history.shown(old)} → {history.shown(new)}")
    if conflicts and not args.force:
        lines = "; ".join(f"'{_header(layout, k)}' lượt chạy gần nhất thấy {history.shown(s)}, nay là {history.shown(n)}"
                          for k, s, n in conflicts)
        raise UserError(f"Không khôi phục: có ô đã bị sửa sau lượt chạy gần nhất ({lines}). Chạy 'python -m sync run' "
                        "để ghi nhận thay đổi đó rồi xem lại, hoặc thêm --force để ghi đè.")
    if args.dry_run or not args.yes:
        print("Chưa ghi gì" + (" (chạy thử)." if args.dry_run else ": thêm --yes để ghi."))
        return 0
    writes = WriteSet(unit_cells=True)
    writes.keys[table.tab.name] = (table.columns["stt"], table.columns["unit"])
    writes.unit_columns[table.tab.name] = tuple(table.columns[k] for k in RESTORABLE_KEYS if k in table.columns)
    for k, _old, new in changes:
        value = history.decode(new)
        writes.set(table.tab.name, live.row, table.columns[k], "" if value is None else value)
    log = snapshot.find_tab(layout.tabs["log"])
    text = (f"Khôi phục nhiệm vụ {stt}, đơn vị {unit} về ngày {args.at:%d/%m/%Y}: "
            + ", ".join(_header(layout, k) for k, _o, _n in changes))
    if log is not None:
        line = {"time": now.strftime("%d/%m/%Y %H:%M:%S"), "as_of": today.strftime("%d/%m/%Y"), "rows": 1,
                "emails": 0, "pass_id": new_pass_id(), "note": text}
        writes.append[log.name] = [[line.get(key) for key in LOG_COLUMNS]]
    try:
        backend.write(snapshot, writes)
    except StaleSnapshot as exc:
        raise Unreachable(f"Chưa ghi: {exc}. Chạy lại lệnh khôi phục.") from None
    before = history.rows_of(table, plan)
    restored = history.snapshot_rows(after(snapshot, writes), plan, layout, backend.describe())

    day = store.record_date(today)  # history's dates never go back: today, or the last recorded date if later

    def record(db, pass_id):  # what units changed since the last pass first, then the restore itself
        store.record_in(db, pass_id, day, before)
        store.record_in(db, pass_id, day, restored, kind="restore")

    store.ensure()
    state.record_pass("restore", now, True, {"backend": backend.name, "as_of": day.isoformat(),
                                             "cells_written": writes.cell_count()}, text, then=record)
    print(f"Đã khôi phục {len(changes)} ô; ghi vào lịch sử (ngày {day:%d/%m/%Y}) và tab '{layout.tabs['log']}'.")
    print(f"Cột '{_header(layout, 'check')}' và '{_header(layout, 'flags')}' của dòng này vẫn là của lượt chạy "
          "trước: chạy 'python -m sync run' để cập nhật Kiểm tra/Cảnh báo.")
    return 0


# --- export ----------------------------------------------------------------------------------------------

EXPORT_COLUMNS = {"stt": "STT", "task": "Nhiệm vụ", "unit_code": "Mã đơn vị", "unit": "Đơn vị", "role": "Vai trò",
                  "status": "Tình trạng", "deadline": "Hạn hoàn thành (tính được)", "done_date": "Ngày hoàn thành",
                  "quantity": "Số lượng sản phẩm", "q1": "Kết quả Quý I", "q2": "Kết quả Quý II",
                  "q3": "Kết quả Quý III", "q4": "Kết quả Quý IV", "evidence": "Minh chứng",
                  "flags": "Cảnh báo", "overdue_days": "Số ngày quá hạn", "missing_quarters": "Quý thiếu kết quả",
                  "errors": "Lỗi nhập liệu", "counted": "Được tính", "as_of": "Tính đến ngày"}


def export_rows(entries, plan, overrides, as_of: dt.date, settings) -> list[dict]:
    from . import dashboard
    from .flags import Rules
    from .schema import ROLES, ROMAN, STATUSES
    from .validation import check_all
    checked = check_all(entries, plan, overrides, as_of)
    rules = Rules(as_of, plan.year, plan.issued, settings.deadlines.quarter_cutoff_day,
                  settings.deadlines.due_soon_days)
    out = []
    for r in dashboard.evaluate(checked, rules):
        c, e = r.checked, r.checked.entry
        out.append({
            "stt": c.task.stt if c.task else nfc(e.stt), "task": c.task.task if c.task else e.task,
            "unit_code": c.unit.code if c.unit else "", "unit": c.unit.name if c.unit else e.unit,
            "role": ROLES.get(c.role, "") if c.role else e.role,
            "status": STATUSES.get(c.status, e.status) if c.status else e.status,
            "deadline": c.due, "done_date": c.done_date, "quantity": c.quantity,
            **{f"q{q}": e.results.get(q, "") for q in range(1, 5)}, "evidence": e.evidence,
            "flags": "; ".join(f.text for f in r.flags),
            "overdue_days": next((f.days for f in r.flags if f.kind == "overdue"), None),
            "missing_quarters": ", ".join(f"Quý {ROMAN[f.quarter]}" for f in r.flags if f.kind == "missing"),
            "errors": "\n".join(i.message for i in c.issues), "counted": "Có" if c.counted else "Không",
            "as_of": as_of})
    return out


def cmd_export(args, settings, plan, backend, now: dt.datetime) -> int:
    import pandas as pd  # only here: the pass does not pay for it

    from .schema import REQUIRED_TRACKING
    from .tables import locate, plan_deadlines, read_entries
    layout = settings.layout
    today = now.date()
    snapshot = backend.read()
    plan_tab = snapshot.find_tab(layout.tabs["plan"])
    overrides = plan_deadlines(locate(snapshot, layout.tabs["plan"], layout.plan_columns, ("stt",),
                                      backend.describe())) if plan_tab else {}
    as_of, source = args.at or today, None
    if as_of > today:
        raise UserError(f"--at {as_of:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    if args.at is not None:  # the entries `run --as-of D --dry-run` and `report` compute from (sync/past.py)
        from .past import source_for
        source = source_for(settings.state, plan, as_of, today)
    if source is not None and source.kind == "history":
        entries = list(source.entries)
    else:
        tracking = locate(snapshot, layout.tabs["tracking"], layout.tracking_columns, REQUIRED_TRACKING,
                          backend.describe())
        entries = read_entries(tracking)
        if source is not None and source.kind == "as_of":
            from .asof import entries_as_of
            entries = entries_as_of(entries, as_of, plan.year, settings.deadlines.quarter_cutoff_day)
    if source is not None:
        print(source.sentence(), file=sys.stdout if args.output else sys.stderr)
    frame = pd.DataFrame(export_rows(entries, plan, overrides, as_of, settings), columns=list(EXPORT_COLUMNS))
    for key in ("quantity", "overdue_days"):
        frame[key] = frame[key].astype("Int64")  # whole numbers stay whole where some rows are empty
    frame = frame.rename(columns=EXPORT_COLUMNS)
    if not args.output:
        frame.to_csv(sys.stdout, index=False)
        return 0
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(f"Tệp '{out}': export ghi tệp .csv hoặc .xlsx (đặt tên kết thúc bằng một trong hai).")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=suffix, dir=out.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")  # the BOM lets Excel read Vietnamese
        else:
            frame.to_excel(tmp, index=False, sheet_name="Xuất dữ liệu", engine="openpyxl")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"Đã xuất {len(frame)} dòng (tính đến {as_of:%d/%m/%Y}) vào '{out}'.")
    return 0

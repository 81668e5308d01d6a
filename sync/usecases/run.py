"""`init` and `run`: lay out the sheet, and one sync pass (read → compute → write) recorded in the state file.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.core import history, periods
from sync.core.config import Settings
from sync.core.errors import StaleSnapshot, Unreachable, UserError
from sync.core.history import AsOf
from sync.core.plan import Plan
from sync.core.schema import Layout
from sync.core.workbook import Snapshot, WriteSet
from sync.sheet.sync_pass import Figures, PassOptions, TrendsRead, day_end_figures
from sync.usecases.common import Line, Lines, StateGuard, guard_state, record_failure, recorded_after_write
from sync.usecases.pipeline import PassResult, run_pass
from sync.usecases.ports import Ports

if TYPE_CHECKING:
    from sync.state.history import Source
    from sync.state.store import State, Transaction


@dataclass(frozen=True)
class InitRequest:
    if_missing: bool = False  # --if-missing: nothing done when the workbook has its tracking tab already
    new_state: bool = False  # --new-state: a state file that knows nothing is this workbook's new one


@dataclass(frozen=True)
class InitResult:
    skipped: bool
    cells_written: int
    new_tabs: tuple[str, ...]
    lines: tuple[Line, ...]


def init(settings: Settings, ports: Ports, now: dt.datetime, request: InitRequest = InitRequest(),
         lines: Lines | None = None) -> InitResult:
    """Lay out the workbook: its tabs, headers, the plan's rows, formats and lists; recorded in the state file."""
    from sync.core.tables import message, withhold
    from sync.sheet.layout import Aids, build_init
    lines = lines or Lines()
    plan, backend, state = ports.plan, ports.backend, ports.state
    guard = guard_state(settings, state, plan, write=True, accept_new=request.new_state)
    snapshot = backend.read() if backend.exists() else backend.empty_snapshot()
    guard.witness(snapshot, settings.layout, backend.describe())
    tracking = settings.layout.tabs["tracking"]
    if request.if_missing and snapshot.find_tab(tracking) is not None:
        lines.say(f"{backend.describe()} đã có tab '{tracking}'; bỏ qua khởi tạo.")
        return InitResult(True, 0, (), lines.all())
    changes = build_init(plan, snapshot, settings.layout, backend.describe(), Aids.from_settings(settings))
    withheld = withhold(changes, snapshot)  # cells a merged range hides cannot take a header or a new row
    row = state.begin_pass("init", now, request.new_state)  # the state file takes the record before the write
    try:
        try:
            backend.write(snapshot, changes)
        except StaleSnapshot as exc:  # the workbook moved under us: nothing written, try again (exit 3)
            raise Unreachable(f"Chưa ghi: {exc}. Chạy lại 'python -m sync init'.") from None
    except Exception as exc:
        record_failure(state, "init", now, row, {"backend": backend.name}, exc)
        raise
    for note in backend.notes:
        lines.warn(note)
    if withheld:
        lines.warn(message(withheld))
    added = changes.cell_count()
    laid_out = after(snapshot, changes)
    with recorded_after_write("init", backend.describe(), settings.layout):
        guard.adopt()
        day = init_date(state, plan, laid_out, settings.layout, now.date())
        state.record_pass("init", now, True, {"backend": backend.name, "cells_written": added,
                                              "as_of": (day or now.date()).isoformat()},
                          then=recorder(state, day, laid_out, plan, settings.layout, backend.describe())
                          if day else None,
                          started_row=row)
    tabs = ", ".join(f"'{t}'" for t in changes.new_tabs)
    lines.say(f"Đã khởi tạo {backend.describe()}: "
              + (f"tạo tab {tabs}; " if tabs else "")
              + (f"ghi {added} ô mới (tiêu đề, nhiệm vụ, dòng theo dõi)." if added else "không có gì mới cần thêm.")
              + " Định dạng, danh sách chọn và tô màu đã được cập nhật.")
    return InitResult(False, added, tuple(changes.new_tabs), lines.all())


@dataclass(frozen=True)
class RunRequest:
    as_of: dt.date | None = None  # --as-of; default today
    dry_run: bool = False  # --dry-run: computed, nothing written or recorded
    new_state: bool = False  # --new-state: a state file that knows nothing is this workbook's new one


@dataclass(frozen=True)
class RunResult:
    summary: dict[str, Any]  # the JSON summary (docs/operations.md: its keys are a contract)
    text: tuple[str, ...]  # the figures in a sentence, for the text output (and the daemon's log)
    error: str | None  # computed but not written (the workbook is held): said as "Lỗi: …"
    exit_code: int
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class _Pass:
    """What a pass did, for its record and its output."""

    guard: StateGuard
    source: Source | None  # a dry run's entries: from history, or today's seen as of the date (sync.state.history)
    opts: PassOptions
    result: PassResult


def run(settings: Settings, ports: Ports, now: dt.datetime, request: RunRequest = RunRequest(),
        lines: Lines | None = None) -> RunResult:
    """One pass: the workbook read, computed, written and recorded. The state file takes the pass's record before
    the plan and the workbook are opened (ports open when first used): a broken one is named first, and any later
    failure is recorded with its message."""
    lines = lines or Lines()
    if request.as_of and request.as_of > now.date() and not request.dry_run:  # a typo would stop history for years
        raise UserError(f"--as-of {request.as_of:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y}): một "
                        "lượt ghi vào bảng tính không được đề ngày tương lai. Kiểm tra lại ngày, hoặc thêm --dry-run "
                        "để chỉ tính thử.")
    day = request.as_of or now.date()
    failed = {"backend": settings.backend, "as_of": day.isoformat(), "dry_run": request.dry_run}
    row = _begin(ports, now, request, failed)
    try:
        passed = _pass(settings, ports, now, request, day)
    except Exception as exc:
        record_failure(ports.state, "run", now, row, failed, exc)
        raise
    result, backend, held = passed.result, ports.backend, passed.result.held
    summary: dict[str, Any] = {**result.to_json(backend, request.dry_run), "emails_sent": passed.opts.emails_sent}
    if passed.source is not None:
        summary["source"] = passed.source.kind
        lines.say(passed.source.sentence())
    summary["written"] = not (request.dry_run or held)
    if held:  # computed, not written: the figures still go out, the exit code says "try later"
        summary["cells_written"] = 0
        summary["not_written_reason"] = str(held)
        ports.state.record_pass("run", now, False, summary, str(held), started_row=row)
    elif not request.dry_run:
        _record(settings, ports, now, row, summary, passed)
    for message in result.messages:
        lines.warn(message)
    return RunResult(summary, tuple(_text(settings, passed, backend.describe(), request.dry_run)),
                     str(held) if held else None, held.exit_code if held else 0, lines.all())


def _begin(ports: Ports, now: dt.datetime, request: RunRequest, failed: dict[str, Any]) -> int | None:
    """The pass's record taken in the state file (unless a dry run), then the plan and the workbook opened: a broken
    state file stops the pass (exit 2) before anything else, and a plan or a workbook that cannot be opened is
    recorded as the pass's failure, with its message, as every later one."""
    state = ports.state
    row = None if request.dry_run else state.begin_pass("run", now, request.new_state)
    try:
        _ = ports.backend  # opened here, the plan with it: a failure to open either is this pass's
    except Exception as exc:
        record_failure(state, "run", now, row, failed, exc)
        raise
    return row


def _pass(settings: Settings, ports: Ports, now: dt.datetime, request: RunRequest, day: dt.date) -> _Pass:
    """The state file's checks, then the pass: the workbook read, its trend rows read once, computed, written."""
    plan, backend, state = ports.plan, ports.backend, ports.state
    dry_run = request.dry_run
    guard = guard_state(settings, state, plan, write=not dry_run, accept_new=request.new_state, checked=not dry_run)
    if request.as_of and not dry_run:  # after begin_pass: a broken state file is named as such first
        if refused := not_recorded(state, request.as_of):
            raise UserError(refused)
    source = None
    if dry_run:  # a past date, computed and not written: from history when it covers the date
        from sync.state.history import source_for
        source = source_for(settings.state, plan, day, now.date())
    # a dry run of a past date gives that date's figures, at its end (past.Source); a pass during today,
    # or a writing pass dated D, judges deadlines during the day
    opts = PassOptions.from_settings(settings, source.to_as_of() if source else AsOf(day), now, dry_run=dry_run,
                                     emails_sent=state.unlogged_sends())
    result = run_pass(backend, plan, settings.layout, opts,
                      witness=None if dry_run else (lambda read: guard.witness(read, settings.layout,
                                                                               backend.describe())),
                      trends=lambda: trend_rows(state, settings, plan, day, save=not dry_run))
    return _Pass(guard, source, opts, result)


def _record(settings: Settings, ports: Ports, now: dt.datetime, row: int | None, summary: dict[str, Any],
            passed: _Pass) -> None:
    """A written pass in the state file, in one transaction: the pass, its history (the unit cells it read, its
    figures at the end of its date), the e-mails its line counted."""
    result, state, plan = passed.result, ports.state, ports.plan
    read = result.snapshot
    assert read is not None  # a written pass keeps what it read
    where = ports.backend.describe()
    with recorded_after_write("run", where, settings.layout, result.pass_id):
        passed.guard.adopt()
        record = recorder(state, passed.opts.as_of.day, read, plan, settings.layout, where,
                          day_end_figures(result.summary, plan, passed.opts))

        def then(db: Transaction, pass_row: int) -> None:
            record(db, pass_row)
            state.mark_logged(db)
        state.record_pass("run", now, True, summary, "\n".join(result.messages), then=then, started_row=row)


def _text(settings: Settings, passed: _Pass, where: str, dry_run: bool) -> list[str]:
    """The figures in a sentence (and the products in another), and where to see the dashboard."""
    from sync.core.products import sentence as products_sentence
    held = passed.result.held
    summary = passed.result.summary
    k = summary.kpis
    prefix = "[Chạy thử, không ghi] " if dry_run else "[Chưa ghi] " if held else ""
    text = [f"{prefix}Tính đến {passed.opts.as_of.day:%d/%m/%Y}: {k.rows} dòng, "
            f"{k.done} hoàn thành, {k.in_progress} đang thực hiện, {k.not_started} chưa thực hiện, "
            f"{k.cancelled} không thực hiện, {k.unknown_status} chưa rõ tình trạng"
            f"{f', {n} dòng ngoài kế hoạch hoặc trùng' if (n := k.not_counted) else ''}; "
            f"{k.overdue} quá hạn, {k.due_soon} sắp đến hạn, {k.missing_quarterly} kết quả quý còn thiếu, "
            f"{k.errors} lỗi nhập liệu."]
    if summary.products is not None:
        text.append(products_sentence(summary.products))
    if not (dry_run or held):
        text.append(f"Xem tab '{settings.layout.tabs['dashboard']}' trong {where}.")
    return text


def recorder(state: State, as_of: dt.date, snapshot: Snapshot, plan: Plan, layout: Layout,
             where: str, figures: Figures | None = None) -> Callable[[Transaction, int], object]:
    """What State.record_pass(then=…) calls: the unit cells of the snapshot a pass read (and wrote on),
    recorded as that pass, of date `as_of`, in the pass's own transaction; with the pass's `figures` per unit,
    also those (the trends)."""
    from sync.state.history import HistoryStore
    record: Callable[[Transaction, int], object] = HistoryStore(state).recorder(
        as_of, history.snapshot_rows(snapshot, plan, layout, where), figures=figures,
        plan=history.plan_values(snapshot, layout, where))
    return record


def trend_rows(state: State, settings: Settings, plan: Plan, day: dt.date, save: bool) -> TrendsRead:
    """The dashboard's "Diễn biến" as history knows it before a pass dated `day`, read once per pass; a writing
    pass (`save`) keeps the rows of the points before its date in the state file for the next passes."""
    from sync.state.history import HistoryStore
    cutoffs = [(p.label, p.cutoff(settings.deadlines.quarter_cutoff_day))
               for p in periods.cycle(plan.year, settings.report.cycle, settings.report.third)]
    found = HistoryStore(state).trend_rows(day, [u.code for u in plan.registry.units], plan.year, cutoffs, save)
    return TrendsRead(tuple(found[0]), tuple(found[1])) if found is not None else TrendsRead()


def not_recorded(state: State, as_of: dt.date) -> str | None:
    """Why a pass of date `as_of` records no history (dated before the last recorded pass), or None."""
    from sync.state.history import HistoryStore
    return HistoryStore(state).refusal(as_of)


def init_date(state: State, plan: Plan, laid_out: Snapshot, layout: Layout, today: dt.date) -> dt.date | None:
    """The history date of what `init` lays out (headers, the plan's rows: the Office's, not a unit's).

    Never after what history already has, so that init does not move history's clock forward and a replay
    of earlier dates with `run --as-of` stays recordable: the last recorded date, if any; before the first
    pass, when no unit has typed anything yet (true then: the rows stood empty), the start of the plan's
    reporting year (1 December before it, ahead of ND 09/2019's first window from 15/12); else None: init
    records nothing and the first pass, of its own date, is the baseline (no date would be true for it)."""
    from sync.core.schema import UNIT_COLUMNS
    from sync.state.history import HistoryStore
    last = HistoryStore(state).last_date()
    if last is not None:
        return last
    rows = history.snapshot_rows(laid_out, plan, layout)
    typed = any(k in UNIT_COLUMNS for row in rows for k in row.values)
    return None if typed else min(today, dt.date(plan.year - 1, 12, 1))


def after(snapshot: Snapshot, changes: WriteSet) -> Snapshot:
    """The snapshot with `changes` applied, as the workbook now holds it (no second read)."""
    from sync.backends.memory import apply
    tabs = copy.deepcopy(snapshot.tabs)
    apply(tabs, changes)
    return Snapshot(tabs, snapshot.token)

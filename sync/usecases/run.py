"""`init` and `run`: lay out the sheet, and one sync pass (read → compute → write) recorded in the state file.
"""
from __future__ import annotations

import copy
import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.core import history, periods
from sync.core.config import Settings
from sync.core.errors import StaleSnapshot, Unreachable, UserError
from sync.core.plan import Plan
from sync.core.schema import Layout
from sync.core.workbook import Snapshot, WriteSet
from sync.usecases.common import Line, Lines, guard_state, record_failure, recorded_after_write
from sync.usecases.ports import Ports, open_ports

if TYPE_CHECKING:
    from sync.core.summary import Summary
    from sync.core.trends import TrendRow
    from sync.state.store import State

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.


@dataclass(frozen=True)
class InitResult:
    skipped: bool
    cells_written: int
    new_tabs: tuple[str, ...]
    lines: tuple[Line, ...]


def init(settings: Settings, ports: Ports, now: dt.datetime, if_missing: bool = False,
         lines: Lines | None = None, accept_new: bool = False) -> InitResult:
    from sync.core.merges import message, withhold
    from sync.sheet.aids import Aids
    from sync.sheet.layout import build_init
    lines = lines or Lines()
    plan, backend, state = ports.plan, ports.backend, ports.state
    guard = guard_state(settings, state, plan, write=True, accept_new=accept_new)
    snapshot = backend.read() if backend.exists() else backend.empty_snapshot()
    guard.witness(snapshot, settings.layout, backend.describe())
    tracking = settings.layout.tabs["tracking"]
    if if_missing and snapshot.find_tab(tracking) is not None:
        lines.say(f"{backend.describe()} đã có tab '{tracking}'; bỏ qua khởi tạo.")
        return InitResult(True, 0, (), lines.all())
    changes = build_init(plan, snapshot, settings.layout, backend.describe(), Aids.from_settings(settings))
    withheld = withhold(changes, snapshot)  # cells a merged range hides cannot take a header or a new row
    row = state.begin_pass("init", now, accept_new)  # the state file takes the record before the workbook is written
    try:
        try:
            backend.write(snapshot, changes)
        except StaleSnapshot as exc:  # the workbook moved under us: nothing written, try again (exit 3)
            raise Unreachable(f"Chưa ghi: {exc}. Chạy lại 'python -m sync init'.") from None
    except Exception as exc:
        record_failure(state, "init", now, row, {"backend": backend.name}, exc)
        raise
    for note in getattr(backend, "notes", ()):
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
class RunResult:
    summary: dict[str, Any]  # the JSON summary (docs/operations.md: its keys are a contract)
    text: tuple[str, ...]  # the figures in a sentence, for the text output (and the daemon's log)
    error: str | None  # computed but not written (the workbook is held): said as "Lỗi: …"
    exit_code: int
    lines: tuple[Line, ...]


def run(settings: Settings, state: State, now: dt.datetime, as_of: dt.date | None = None, dry_run: bool = False,
        lines: Lines | None = None, ports: Callable[[], Ports] | None = None, accept_new: bool = False) -> RunResult:
    """One pass. `ports` opens the plan and the workbook after the state file's own checks (a broken state file
    is named first); by default from the settings. `accept_new` (--new-state): a state file that knows nothing
    is taken as the workbook's new one even though `Nhật ký` holds passes."""
    from sync.core.products import sentence as products_sentence
    from sync.usecases.pipeline import PassOptions, run_pass
    lines = lines or Lines()
    if as_of and as_of > now.date() and not dry_run:  # a typo would stop history for years
        raise UserError(f"--as-of {as_of:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y}): một lượt "
                        "ghi vào bảng tính không được đề ngày tương lai. Kiểm tra lại ngày, hoặc thêm --dry-run để "
                        "chỉ tính thử.")
    # The state file takes this pass's record before anything else: broken, it stops the pass (exit 2)
    # before the workbook gains a log line; after this, every failure is recorded with its message.
    row = None if dry_run else state.begin_pass("run", now, accept_new)
    day = as_of or now.date()
    try:
        opened = (ports or (lambda: open_ports(settings)))()
        plan, backend = opened.plan, opened.backend
        guard = guard_state(settings, state, plan, write=not dry_run, accept_new=accept_new, checked=not dry_run)
        if as_of and not dry_run:  # after begin_pass: a broken state file is named as such first
            if refused := not_recorded(state, as_of):
                raise UserError(refused)
        source = None
        if dry_run:  # a past date, computed and not written: from history when it covers the date
            from sync.state.past import source_for
            source = source_for(settings.state, plan, day, now.date())
        # a dry run of a past date gives that date's figures, at its end (past.Source); a pass during today,
        # or a writing pass dated D, judges deadlines during the day
        opts = PassOptions.from_settings(settings, day, now, dry_run=dry_run, emails_sent=state.unlogged_sends(),
                                         trends=trends_for(state, settings, plan, save=not dry_run),
                                         witness=None if dry_run else (
                                             lambda read: guard.witness(read, settings.layout, backend.describe())),
                                         **(source.options() if source else {}))
        result = run_pass(backend, plan, settings.layout, opts)
    except Exception as exc:
        record_failure(state, "run", now, row, {"backend": settings.backend, "as_of": day.isoformat(),
                                                 "dry_run": dry_run}, exc)
        raise
    summary: dict[str, Any] = {**result.to_json(backend, dry_run), "emails_sent": opts.emails_sent}
    if source is not None:
        summary["source"] = source.kind
        lines.say(source.sentence())
    held = result.held
    summary["written"] = not (dry_run or held)
    if held:  # computed, not written: the figures still go out, the exit code says "try later"
        summary["cells_written"] = 0
        summary["not_written_reason"] = str(held)
        state.record_pass("run", now, False, summary, str(held), started_row=row)
    elif not dry_run:
        read = result.snapshot
        assert read is not None  # a written pass keeps what it read
        with recorded_after_write("run", backend.describe(), settings.layout, result.pass_id):
            guard.adopt()
            record = recorder(state, opts.as_of, read, plan, settings.layout, backend.describe(),
                              at_day_end(result.summary, plan, settings))

            def then(db: sqlite3.Connection, pass_row: int) -> None:  # one transaction: the pass, its history,
                record(db, pass_row)                                    # the e-mails its line counted
                state.mark_logged(db)
            state.record_pass("run", now, True, summary, "\n".join(result.messages), then=then, started_row=row)
    for message in result.messages:
        lines.warn(message)
    k = result.summary.kpis
    prefix = "[Chạy thử, không ghi] " if dry_run else "[Chưa ghi] " if held else ""
    text = [f"{prefix}Tính đến {opts.as_of:%d/%m/%Y}: {k.rows} dòng, "
            f"{k.done} hoàn thành, {k.in_progress} đang thực hiện, {k.not_started} chưa thực hiện, "
            f"{k.cancelled} không thực hiện, {k.unknown_status} chưa rõ tình trạng"
            f"{f', {n} dòng ngoài kế hoạch hoặc trùng' if (n := k.not_counted) else ''}; "
            f"{k.overdue} quá hạn, {k.due_soon} sắp đến hạn, {k.missing_quarterly} kết quả quý còn thiếu, "
            f"{k.errors} lỗi nhập liệu."]
    if result.summary.products is not None:
        text.append(products_sentence(result.summary.products))
    if not (dry_run or held):
        text.append(f"Xem tab '{settings.layout.tabs['dashboard']}' trong {backend.describe()}.")
    return RunResult(summary, tuple(text), str(held) if held else None, held.exit_code if held else 0, lines.all())


def recorder(state: State, as_of: dt.date, snapshot: Snapshot, plan: Plan, layout: Layout,
             where: str, summary: Summary | None = None) -> Callable[[sqlite3.Connection, int], object]:
    """What State.record_pass(then=…) calls: the unit cells of the snapshot a pass read (and wrote on),
    recorded as that pass, of date `as_of`, in the pass's own transaction; with the pass's `summary`, also
    its figures per unit (the trends)."""
    from sync.state.history import HistoryStore
    record: Callable[[sqlite3.Connection, int], object] = HistoryStore(state).recorder(
        as_of, history.snapshot_rows(snapshot, plan, layout, where),
        figures=unit_figures(summary) if summary is not None else None,
        plan=history.plan_values(snapshot, layout, where))
    return record


def at_day_end(summary: Summary, plan: Plan, settings: Settings) -> Summary:
    """The same rows judged at the end of their date (flags.Rules.as_of_ended): what a pass records for the
    trends, so a recorded date's figures are those of a report or a dry run of that date, not of the hour the
    pass ran (a result due that day and still empty is missing once the day is over)."""
    from sync.core import summary as summaries
    from sync.core.flags import Rules
    rules = Rules(summary.as_of, plan.year, plan.issued, settings.deadlines.quarter_cutoff_day,
                  settings.deadlines.due_soon_days, as_of_ended=True)
    rows = summaries.evaluate([r.checked for r in summary.results], rules)
    return summaries.summarize(rows, plan, summary.as_of, judged_on=rules.today, kinds=settings.product_kinds,
                               cutoff_day=settings.deadlines.quarter_cutoff_day)


def unit_figures(summary: Summary) -> dict[str, tuple[int, int, int]]:
    """A summary's figures per unit for the trends: done, overdue, missing quarterly results."""
    return {u.code: (u.done, u.overdue, u.missing) for u in summary.by_unit}


def trends_for(state: State, settings: Settings, plan: Plan, save: bool) -> Callable[[Summary], list[TrendRow]]:
    """For PassOptions.trends: the "Diễn biến" rows of a pass, from what earlier passes recorded."""
    from sync.state.history import HistoryStore

    def rows(summary: Summary) -> list[TrendRow]:
        cutoffs = [(p.label, p.cutoff(settings.deadlines.quarter_cutoff_day))
                   for p in periods.cycle(plan.year, settings.report.cycle, settings.report.third)]
        found = HistoryStore(state).trend_rows(summary.as_of, unit_figures(summary), plan.year, cutoffs, save)
        return found or []
    return rows


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

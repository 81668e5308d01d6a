"""One sync pass end to end: one batched read → compute → one batched write.

`compute` is pure (sync/sheet/sync_pass.py: the snapshot and the trend rows already read in, WriteSet and Summary
out); `run_pass` adds the I/O, timing and the re-read-and-redo loop for when someone changed the workbook between
our read and our write.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sync.core import summary as summaries
from sync.core import tables
from sync.core.errors import StaleSnapshot, Unreachable, WorkbookHeld, WriteUnknown
from sync.core.plan import Plan
from sync.core.schema import LOG_COLUMNS, Layout
from sync.core.workbook import (
    Backend,
    Cell,
    Outcome,
    Snapshot,
    WriteSet,
    add_line,
    id_column,
    logged_already,
    new_pass_id,
)
from sync.sheet.sync_pass import Computed, PassOptions, TrendsRead, compute, tab_name

MAX_ATTEMPTS = 3


@dataclass
class PassResult:
    summary: summaries.Summary
    writes: WriteSet
    attempts: int
    timings: dict[str, float] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    withheld: int = 0  # writes left out because a merged range hides their cell
    snapshot: Snapshot | None = None  # what the written attempt read (history records its unit cells)
    pass_id: str = ""
    held: WorkbookHeld | None = None  # computed, but the workbook is open in an office program: nothing written

    def to_json(self, backend: Backend, dry_run: bool) -> dict[str, Any]:
        return {**self.summary.kpis.to_json(), "as_of": self.summary.as_of.isoformat(), "backend": backend.name,
                "dry_run": dry_run, "pass_id": self.pass_id,
                "attempts": self.attempts, "cells_written": 0 if dry_run else self.writes.cell_count(),
                "cells_withheld": self.withheld,
                "api_calls": backend.api_calls, **{k2: round(v, 4) for k2, v in self.timings.items()},
                "products": self.summary.products.total() if self.summary.products else {}}


def log_row(summary: summaries.Summary, opts: PassOptions, duration: float, rows_read: int,
            pass_id: str = "") -> list[Cell]:
    k = summary.kpis
    values: dict[str, Cell] = {"time": opts.now.strftime("%d/%m/%Y %H:%M:%S"),
                               "as_of": opts.as_of.day.strftime("%d/%m/%Y"), "rows": rows_read, "errors": k.errors,
                               "overdue": k.overdue, "emails": opts.emails_sent, "duration": round(duration, 3),
                               "pass_id": pass_id, "note": None}
    return [values[key] for key in LOG_COLUMNS]


#: Called with the pass's first snapshot, before anything is computed or written: raises to stop the pass (a state
#: file that knows nothing of a workbook whose Nhật ký holds passes, sync.usecases.common.StateGuard).
Witness = Callable[[Snapshot], None]


def run_pass(backend: Backend, plan: Plan, layout: Layout, opts: PassOptions,
             clock: Callable[[], float] = time.perf_counter, witness: Witness | None = None,
             trends: Callable[[], TrendsRead] | None = None) -> PassResult:
    """Read, compute, write; on a concurrent change or a write of unknown outcome, re-read and redo (at most
    MAX_ATTEMPTS times). The pass's id, kept across attempts, makes its Nhật ký line appear once. `trends` reads
    the dashboard's "Diễn biến" rows (the state file's): once per pass, after its first read; every attempt's
    computation takes the rows read (None: no such section)."""
    if opts.as_of.past and not opts.dry_run:
        raise ValueError("entries of a past date are computed, never written (use dry_run)")
    started = clock()
    messages: list[str] = []
    pass_id = opts.pass_id or new_pass_id()
    outcome = Outcome(pass_id, layout.tabs["log"])  # what the attempts wrote, for a truthful exit 3
    held = None
    trend_rows: TrendsRead | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        t0 = clock()
        snapshot = outcome.guard(backend.read)
        if witness is not None and attempt == 1:  # later reads may show this pass's own late write
            witness(snapshot)
        t1 = clock()
        if trends is not None and attempt == 1:
            trend_rows = trends()  # timed with the computation, as when compute read them
        computed = compute(snapshot, plan, layout, opts, backend.describe(), trend_rows)
        t2 = clock()
        carried = _log_line(computed, snapshot, layout, opts, t2 - started, pass_id, outcome, messages)
        timings = {"read_s": t1 - t0, "compute_s": t2 - t1, "write_s": 0.0}
        if opts.dry_run:
            break
        try:
            outcome.guard(backend.write, snapshot, computed.writes, attempt=attempt, carried_line=carried)
        except StaleSnapshot as exc:
            outcome.failed(attempt, exc, carried_line=carried)
            messages.append(_redo_message(exc, attempt))
            continue
        except WorkbookHeld as exc:
            held = exc
            break
        timings["write_s"] = clock() - t2
        break
    else:
        raise Unreachable(f"{backend.describe()}: {outcome.reason(MAX_ATTEMPTS)}. {outcome.written()} "
                          "Chạy lại sau ít phút.")
    timings["duration_s"] = clock() - started
    messages += computed.warnings
    if computed.withheld:
        messages.append(tables.message(computed.withheld, tab_name(snapshot, layout.tabs["dashboard"])))
    messages.extend(backend.notes)
    return PassResult(computed.summary, computed.writes, attempt, timings, messages, len(computed.withheld),
                      snapshot, pass_id, held)


def _log_line(computed: Computed, snapshot: Snapshot, layout: Layout, opts: PassOptions, duration: float,
              pass_id: str, outcome: Outcome, messages: list[str]) -> bool:
    """The pass's Nhật ký line added to the attempt's writes unless an earlier attempt's write landed with it
    (said in `messages`); the log keyed by its ids. Returns whether the writes carry the line."""
    log_tab = tab_name(snapshot, layout.tabs["log"])
    log = snapshot.find_tab(log_tab)
    line = log_row(computed.summary, opts, duration, computed.rows_read, pass_id)
    logged = logged_already(log, pass_id)
    if (landed := outcome.seen(logged)) is not None:
        messages.append(landed)
    if not logged:
        add_line(computed.writes, log, log_tab, layout.log_columns, line)
    if (ids := id_column(log, layout.log_columns)) is not None:
        computed.writes.keys[log_tab] = (ids,)  # a line that landed since the read (a late write of ours): re-read
    return not logged


def _redo_message(exc: StaleSnapshot, attempt: int) -> str:
    if isinstance(exc, WriteUnknown):
        return f"Lần ghi {attempt}: {exc}; đã đọc lại để kiểm tra và chạy lại (lần {attempt + 1})."
    return f"Chưa ghi: {exc}; đã đọc lại và chạy lại (lần {attempt + 1})."

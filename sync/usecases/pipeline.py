"""One sync pass end to end: one batched read → compute → one batched write.

`compute` is pure (snapshot in, WriteSet and Summary out); `run_pass` adds the I/O, timing and the
re-read-and-redo loop for when someone changed the workbook between our read and our write.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync.core import merges, office_texts
from sync.core import summary as summaries
from sync.core.asof import entries_as_of
from sync.core.errors import StaleSnapshot, Unreachable, WorkbookHeld, WriteUnknown
from sync.core.flags import Rules
from sync.core.passlog import Outcome, add_line, id_column, logged_already, new_pass_id
from sync.core.plan import Plan
from sync.core.products import DEFAULT_KINDS, Kind
from sync.core.schema import JOB_COLUMNS, JOB_NOTE_PREFIX, JOB_TABS, LOG_COLUMNS, REQUIRED_TRACKING, Layout
from sync.core.tables import Entry, Table, a1, as_stt, locate, plan_deadlines, read_entries, refuse_overwrite
from sync.core.text import fold, nfc
from sync.core.validation import check_all, missing_rows, plan_issues
from sync.core.workbook import Backend, Cell, Snapshot, WriteSet
from sync.sheet import aids as sheet_aids
from sync.sheet import dashboard
from sync.sheet.aids import Aids

if TYPE_CHECKING:
    from sync.core.config import Settings
    from sync.core.trends import TrendRow

MAX_ATTEMPTS = 3


@dataclass
class PassOptions:
    as_of: dt.date
    now: dt.datetime
    cutoff_day: int = 14
    due_soon_days: int = 7
    dry_run: bool = False
    emails_sent: int = 0  # sent since the previous pass, for the Nhật ký line
    pass_id: str | None = None  # None: run_pass gives the pass a new id
    view_as_of: bool = False  # read today's entries as they stood on as_of (sync.core.asof), for past dates
    #: The entries history recorded for a past as-of date (sync.state.past), read instead of the sheet's. Such a
    #: computation is never written: its rows are not the sheet's rows.
    entries: tuple[Entry, ...] | None = None
    #: The plan tab's Hạn hoàn thành as history recorded them for that date (sync.state.past), used instead of the
    #: live tab's (which is still read, for its shape); None: the live tab's.
    plan_overrides: dict[int, Cell] | None = None
    #: Figures as of the end of `as_of` (a report's data date "tính đến"), not during it (flags.Rules)
    as_of_ended: bool = False
    #: The "Diễn biến" rows of the pass from its summary (sync.usecases.run.trends_for); None: no such section.
    trends: Callable[[summaries.Summary], list[TrendRow]] | None = None
    #: The kinds of products counted (sync.core.products: the defaults and the settings' `products:`)
    products: tuple[Kind, ...] = DEFAULT_KINDS
    #: Called with the pass's first snapshot, before anything is computed or written: raises to stop the pass (a
    #: state file that knows nothing of a workbook whose Nhật ký holds passes, sync.usecases.common.StateGuard).
    witness: Callable[[Snapshot], None] | None = None
    #: The guide tab's facts and who edits which rows (sync.sheet.aids); None: the defaults, no row protection.
    aids: Aids | None = None
    #: The reporting cycle (`report.cycle`, `report.third`): how the Báo cáo tab's Kỳ báo cáo are read
    report_cycle: str = "cchc"
    report_third: str = "quarter"

    @classmethod
    def from_settings(cls, settings: Settings, as_of: dt.date, now: dt.datetime, **kw: Any) -> PassOptions:
        return cls(as_of=as_of, now=now, cutoff_day=settings.deadlines.quarter_cutoff_day,
                   due_soon_days=settings.deadlines.due_soon_days, products=settings.product_kinds,
                   aids=Aids.from_settings(settings), report_cycle=settings.report.cycle,
                   report_third=settings.report.third, **kw)


@dataclass
class Computed:
    summary: summaries.Summary
    writes: WriteSet
    rows_read: int
    withheld: list[merges.Withheld] = field(default_factory=list)  # cells a merged range hides
    warnings: list[str] = field(default_factory=list)  # for the output (an empty twin of a column)
    office: office_texts.OfficeTexts = field(default_factory=office_texts.OfficeTexts)  # the Báo cáo tab


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


def compute(snapshot: Snapshot, plan: Plan, layout: Layout, opts: PassOptions, where: str) -> Computed:
    tracking = locate(snapshot, layout.tabs["tracking"], layout.tracking_columns, REQUIRED_TRACKING, where)
    plan_table = locate(snapshot, layout.tabs["plan"], layout.plan_columns, ("stt",), where)
    entries = read_entries(tracking) if opts.entries is None else list(opts.entries)
    overrides = plan_deadlines(plan_table)
    if opts.plan_overrides is not None:
        overrides = dict(opts.plan_overrides)
    if opts.view_as_of:
        entries = entries_as_of(entries, opts.as_of, plan.year, opts.cutoff_day, plan, overrides)
    checked = check_all(entries, plan, overrides, opts.as_of)
    rules = Rules(opts.as_of, plan.year, plan.issued, opts.cutoff_day, opts.due_soon_days, opts.as_of_ended)
    rows = summaries.evaluate(checked, rules)
    plan_rows = {stt: r for r in plan_table.rows() if (stt := as_stt(plan_table.value(r, "stt"))) is not None}
    office, office_warnings = office_texts.read(snapshot, layout, plan.year, opts.report_cycle, opts.report_third,
                                                where)
    summary = summaries.summarize(rows, plan, opts.as_of,
                                  plan_issues(plan, overrides, plan_rows) + missing_rows(plan, checked)
                                  + office.issues,
                                  judged_on=rules.today, kinds=opts.products, cutoff_day=opts.cutoff_day)

    for key in JOB_TABS:  # the tabs a pass rewrites or appends to hold no one's rows
        refuse_overwrite(snapshot, layout.tabs[key], key,
                         {"tracking": layout.tracking_columns, "plan": layout.plan_columns}, where)
    writes = WriteSet()
    writes.keys[tracking.tab.name] = (tracking.columns["stt"], tracking.columns["unit"])
    writes.unit_columns[tracking.tab.name] = tuple(c for k, c in tracking.columns.items() if k not in JOB_COLUMNS)
    withheld = _job_cells(writes, tracking, rows, layout)
    _job_notes(writes, tracking, rows, layout)
    withheld += _office_cells(writes, office, layout)
    withheld += merges.withhold(writes, snapshot)
    said = sheet_aids.for_pass(writes, snapshot, tracking, plan, layout, opts.aids or Aids())
    for name in (layout.tabs["dashboard"], layout.tabs["log"]):
        if snapshot.find_tab(name) is None:
            writes.new_tabs.append(name)
    writes.replace[_tab_name(snapshot, layout.tabs["dashboard"])] = merges.with_section(
        dashboard.render(summary, plan, layout, opts.now, opts.trends(summary) if opts.trends else None), withheld)
    return Computed(summary, writes, len(entries), withheld,
                    tracking.warnings + plan_table.warnings + office_warnings + ([] if opts.dry_run else said), office)


def _tab_name(snapshot: Snapshot, name: str) -> str:
    tab = snapshot.find_tab(name)
    return tab.name if tab else name


def _job_cells(writes: WriteSet, table: Table, rows: list[summaries.RowResult],
               layout: Layout) -> list[merges.Withheld]:
    """Kiểm tra and Cảnh báo where they differ from what the sheet shows; stale text on emptied rows cleared.

    A cell hidden by a merged range is not written: it is returned, and a hidden Cảnh báo is said in the
    row's Kiểm tra cell when that one can be written."""
    headers = layout.tracking_columns
    wanted: dict[int, tuple[str, str]] = {}
    for r in rows:
        issues = r.checked.issues
        check = "\n".join(_with_column(headers.get(i.column, i.column), i.message) for i in issues)
        wanted[r.checked.entry.row] = (check, "; ".join(f.text for f in r.flags))
    withheld = []
    name = table.tab.name
    for row in table.rows():
        check, flags = wanted.get(row, ("", ""))
        if not table.writable(row, "flags") and nfc(table.value(row, "flags")) != flags:
            col = table.columns["flags"]
            merge = table.covered[(row, col)]
            if table.writable(row, "check"):
                check = "\n".join(filter(None, [check, merges.row_note(headers["flags"], a1(row, col), merge, flags)]))
        for key, value in (("check", check), ("flags", flags)):
            if nfc(table.value(row, key)) != value:
                if table.writable(row, key):
                    writes.set(name, row, table.columns[key], value)
                else:
                    col = table.columns[key]
                    withheld.append(merges.Withheld(name, row, col, table.covered[(row, col)], value))
    return withheld


def _office_cells(writes: WriteSet, office: office_texts.OfficeTexts, layout: Layout) -> list[merges.Withheld]:
    """The Báo cáo tab's Kiểm tra, the one column of it the job writes: each row's problems, stale text cleared.
    The Office's columns are declared its own (no backend writes them) and keyed, so a row moved while the pass
    ran is caught before writing."""
    table = office.table
    if table is None:
        return []
    name = table.tab.name
    writes.unit_columns[name] = tuple(c for k, c in table.columns.items() if k != "check")
    writes.keys[name] = (table.columns["period"], table.columns["section"])
    if "check" not in table.columns:
        return []  # the problems still reach the dashboard's list; `init` adds the column
    headers = layout.office_columns
    wanted: dict[int, list[str]] = {}
    for issue in office.issues:
        wanted.setdefault(issue.row, []).append(_with_column(headers.get(issue.column, issue.column), issue.message))
    withheld = []
    for row in table.rows():
        value = "\n".join(wanted.get(row, ()))
        if nfc(table.value(row, "check")) == value:
            continue
        if table.writable(row, "check"):
            writes.set(name, row, table.columns["check"], value)
        else:
            col = table.columns["check"]
            withheld.append(merges.Withheld(name, row, col, table.covered[(row, col)], value))
    return withheld


def _with_column(header: str, message: str) -> str:
    return message if fold(header) in fold(message) else f"{header}: {message}"


def _job_notes(writes: WriteSet, table: Table, rows: list[summaries.RowResult], layout: Layout) -> None:
    """A note on each offending cell; our old notes removed; other people's notes left alone."""
    wanted: dict[tuple[int, int], str] = {}
    for r in rows:
        for issue in r.checked.issues:
            col = table.columns.get(issue.column) or table.columns["check"]
            pos = (issue.row, col)
            wanted[pos] = (wanted[pos] + "\n" if pos in wanted else JOB_NOTE_PREFIX) + issue.message
    notes = table.tab.notes
    for pos, text in wanted.items():
        current = notes.get(pos)
        if current is None or (current.startswith(JOB_NOTE_PREFIX) and current != text):
            writes.note(table.tab.name, *pos, text)
    for pos, current in notes.items():
        if pos not in wanted and current.startswith(JOB_NOTE_PREFIX) and pos[0] > table.header_row:
            writes.note(table.tab.name, *pos, None)


def log_row(summary: summaries.Summary, opts: PassOptions, duration: float, rows_read: int,
            pass_id: str = "") -> list[Cell]:
    k = summary.kpis
    values: dict[str, Cell] = {"time": opts.now.strftime("%d/%m/%Y %H:%M:%S"), "as_of": opts.as_of.strftime("%d/%m/%Y"),
              "rows": rows_read, "errors": k.errors, "overdue": k.overdue, "emails": opts.emails_sent,
              "duration": round(duration, 3), "pass_id": pass_id, "note": None}
    return [values[key] for key in LOG_COLUMNS]


def run_pass(backend: Backend, plan: Plan, layout: Layout, opts: PassOptions,
             clock: Callable[[], float] = time.perf_counter) -> PassResult:
    """Read, compute, write; on a concurrent change or a write of unknown outcome, re-read and redo (at most
    MAX_ATTEMPTS times). The pass's id, kept across attempts, makes its Nhật ký line appear once."""
    if opts.entries is not None and not opts.dry_run:
        raise ValueError("entries of a past date are computed, never written (use dry_run)")
    started = clock()
    messages = []
    pass_id = opts.pass_id or new_pass_id()
    outcome = Outcome(pass_id, layout.tabs["log"])  # what the attempts wrote, for a truthful exit 3
    held = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        t0 = clock()
        snapshot = outcome.guard(backend.read)
        if opts.witness is not None and attempt == 1:  # later reads may show this pass's own late write
            opts.witness(snapshot)
        t1 = clock()
        computed = compute(snapshot, plan, layout, opts, backend.describe())
        t2 = clock()
        writes = computed.writes
        log_tab = _tab_name(snapshot, layout.tabs["log"])
        line = log_row(computed.summary, opts, t2 - started, computed.rows_read, pass_id)
        logged = logged_already(snapshot.find_tab(log_tab), pass_id)
        if (landed := outcome.seen(logged)) is not None:
            messages.append(landed)
        if not logged:
            add_line(writes, snapshot.find_tab(log_tab), log_tab, layout.log_columns, line)
        if (ids := id_column(snapshot.find_tab(log_tab), layout.log_columns)) is not None:
            writes.keys[log_tab] = (ids,)  # a line that landed since the read (a late write of ours): re-read
        timings = {"read_s": t1 - t0, "compute_s": t2 - t1, "write_s": 0.0}
        if opts.dry_run:
            break
        try:
            outcome.guard(backend.write, snapshot, writes, attempt=attempt, carried_line=not logged)
        except StaleSnapshot as exc:
            outcome.failed(attempt, exc, carried_line=not logged)
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
        messages.append(merges.message(computed.withheld, _tab_name(snapshot, layout.tabs["dashboard"])))
    messages.extend(getattr(backend, "notes", ()))
    return PassResult(computed.summary, writes, attempt, timings, messages, len(computed.withheld), snapshot,
                      pass_id, held)


def _redo_message(exc: StaleSnapshot, attempt: int) -> str:
    if isinstance(exc, WriteUnknown):
        return f"Lần ghi {attempt}: {exc}; đã đọc lại để kiểm tra và chạy lại (lần {attempt + 1})."
    return f"Chưa ghi: {exc}; đã đọc lại và chạy lại (lần {attempt + 1})."

"""One pass's computation, pure: the snapshot, the plan, the layout, the pass's options (one `AsOf` for its date)
and the "Diễn biến" rows already read in; the write set and the summary out. No I/O: the use case reads the
workbook and the state file, and writes them (sync/usecases/pipeline.py, sync/usecases/run.py).

It sits with the sheet's structure (sync/sheet) because it lays out what the sheet shows (the dashboard, the
guide, the job's columns); the figures it lays out are the core's (sync/core/summary.py).

Each row is evaluated once per pass: the figures a writing pass records, those of the end of its date, come from
the same evaluation (`day_end_figures`), only the rows the day's end changes judged again.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync.core import summary as summaries
from sync.core import tables, trends, validation
from sync.core.flags import RowResult, Rules, result_deadline
from sync.core.history import AsOf
from sync.core.plan import Plan
from sync.core.products import DEFAULT_KINDS, Kind
from sync.core.schema import (
    JOB_COLUMNS,
    JOB_NOTE_PREFIX,
    JOB_TABS,
    REQUIRED_TRACKING,
    FlagKind,
    Layout,
    Status,
    fold,
    nfc,
)
from sync.core.tables import Table, a1, as_stt, locate, plan_deadlines, read_entries, refuse_overwrite
from sync.core.tasks import evaluate, year_over
from sync.core.validation import Checked, check_all, missing_rows, plan_issues
from sync.core.workbook import Snapshot, WriteSet
from sync.sheet import dashboard
from sync.sheet.layout import Aids, for_pass

if TYPE_CHECKING:
    from sync.core.config import Settings

#: A unit's figures followed by the trends: done, overdue, missing quarterly results (by unit code).
Figures = dict[str, tuple[int, int, int]]


@dataclass(frozen=True)
class PassOptions:
    as_of: AsOf  # the figures' date, and what they are computed from on it
    now: dt.datetime
    cutoff_day: int = 14
    due_soon_days: int = 7
    dry_run: bool = False
    emails_sent: int = 0  # sent since the previous pass, for the Nhật ký line
    pass_id: str | None = None  # None: run_pass gives the pass a new id
    #: The kinds of products counted (sync.core.products: the defaults and the settings' `products:`)
    products: tuple[Kind, ...] = DEFAULT_KINDS
    #: The guide tab's facts and who edits which rows (sync.sheet.layout); None: the defaults, no row protection.
    aids: Aids | None = None
    #: The reporting cycle (`report.cycle`, `report.third`): how the Báo cáo tab's Kỳ báo cáo are read
    report_cycle: str = "cchc"
    report_third: str = "quarter"

    @classmethod
    def from_settings(cls, settings: Settings, as_of: AsOf, now: dt.datetime, **kw: Any) -> PassOptions:
        return cls(as_of=as_of, now=now, cutoff_day=settings.deadlines.quarter_cutoff_day,
                   due_soon_days=settings.deadlines.due_soon_days, products=settings.product_kinds,
                   aids=Aids.from_settings(settings), report_cycle=settings.report.cycle,
                   report_third=settings.report.third, **kw)

    def rules(self, plan: Plan, ended: bool | None = None) -> Rules:
        """The deadline rules of the pass (`ended`: judged at the end of its date; None: as its as-of says)."""
        return Rules(self.as_of.day, plan.year, plan.issued, self.cutoff_day, self.due_soon_days,
                     self.as_of.ended if ended is None else ended)


@dataclass(frozen=True)
class TrendsRead:
    """The "Diễn biến" as history knows it before the pass (sync/state/history.py `trend_rows`): the rows of the
    points before the pass's date, and the points whose figures are the pass's own."""

    past: tuple[trends.TrendRow, ...] = ()
    points: tuple[trends.Point, ...] = ()

    def rows(self, current: Figures) -> list[trends.TrendRow]:
        return list(self.past) + [trends.current(p, current) for p in self.points]


@dataclass
class Computed:
    summary: summaries.Summary
    writes: WriteSet
    rows_read: int
    withheld: list[tables.Withheld] = field(default_factory=list)  # cells a merged range hides
    warnings: list[str] = field(default_factory=list)  # for the output (an empty twin of a column)
    office: validation.OfficeTexts = field(default_factory=validation.OfficeTexts)  # the Báo cáo tab


@dataclass(frozen=True)
class Judged:
    """What the pass read of the snapshot and judged: the tables, the rows, the Báo cáo tab, the summary."""

    tracking: Table
    plan_table: Table
    rows: list[RowResult]
    office: validation.OfficeTexts
    summary: summaries.Summary
    rows_read: int
    warnings: list[str]


def compute(snapshot: Snapshot, plan: Plan, layout: Layout, opts: PassOptions, where: str,
            trend_rows: TrendsRead | None = None) -> Computed:
    """The pass's summary and the writes that bring the sheet to it. `trend_rows`: the "Diễn biến" section's rows
    already read (None: the dashboard has no such section)."""
    read = judge(snapshot, plan, layout, opts, where)
    for key in JOB_TABS:  # the tabs a pass rewrites or appends to hold no one's rows
        refuse_overwrite(snapshot, layout.tabs[key], key,
                         {"tracking": layout.tracking_columns, "plan": layout.plan_columns}, where)
    writes = WriteSet()
    tracking = read.tracking
    writes.keys[tracking.tab.name] = (tracking.columns["stt"], tracking.columns["unit"])
    writes.unit_columns[tracking.tab.name] = tuple(c for k, c in tracking.columns.items() if k not in JOB_COLUMNS)
    withheld = _job_cells(writes, tracking, read.rows, layout)
    _job_notes(writes, tracking, read.rows, layout)
    withheld += _office_cells(writes, read.office, layout)
    withheld += tables.withhold(writes, snapshot)
    said = for_pass(writes, snapshot, tracking, plan, layout, opts.aids or Aids())
    for name in (layout.tabs["dashboard"], layout.tabs["log"]):
        if snapshot.find_tab(name) is None:
            writes.new_tabs.append(name)
    shown = trend_rows.rows(unit_figures(read.summary)) if trend_rows is not None else None
    writes.replace[tab_name(snapshot, layout.tabs["dashboard"])] = tables.with_section(
        dashboard.render(read.summary, plan, layout, opts.now, shown), withheld)
    return Computed(read.summary, writes, read.rows_read, withheld,
                    read.warnings + ([] if opts.dry_run else said), read.office)


def judge(snapshot: Snapshot, plan: Plan, layout: Layout, opts: PassOptions, where: str) -> Judged:
    """The tables read, every row checked and evaluated once, the summary: the half of a pass that reads, all
    that export, remind and the report need (the tabs a pass writes are not looked for)."""
    tracking = locate(snapshot, layout.tabs["tracking"], layout.tracking_columns, REQUIRED_TRACKING, where)
    plan_table = locate(snapshot, layout.tabs["plan"], layout.plan_columns, ("stt",), where)
    entries, overrides = opts.as_of.seen(read_entries(tracking), plan, plan_deadlines(plan_table), opts.cutoff_day)
    day = opts.as_of.day
    checked = check_all(entries, plan, overrides, day)
    rules = opts.rules(plan)
    rows = evaluate(checked, rules)
    plan_rows = {stt: r for r in plan_table.rows() if (stt := as_stt(plan_table.value(r, "stt"))) is not None}
    office, office_warnings = validation.read(snapshot, layout, plan.year, opts.report_cycle, opts.report_third,
                                                where)
    summary = summaries.summarize(rows, plan, day,
                                  plan_issues(plan, overrides, plan_rows) + missing_rows(plan, checked)
                                  + office.issues,
                                  judged_on=rules.today, kinds=opts.products, cutoff_day=opts.cutoff_day)
    return Judged(tracking, plan_table, rows, office, summary, len(entries),
                 tracking.warnings + plan_table.warnings + office_warnings)


def tab_name(snapshot: Snapshot, name: str) -> str:
    tab = snapshot.find_tab(name)
    return tab.name if tab else name


# --- the figures recorded for the trends ----------------------------------------------------------------------

def unit_figures(summary: summaries.Summary) -> Figures:
    """A summary's figures per unit for the trends: done, overdue, missing quarterly results."""
    return {u.code: (u.done, u.overdue, u.missing) for u in summary.by_unit}


def day_end_figures(summary: summaries.Summary, plan: Plan, opts: PassOptions) -> Figures:
    """The figures per unit of the pass's rows judged at the end of their date (flags.Rules.as_of_ended): what a
    pass records for the trends, so that a recorded date's figures are those of a report or a dry run of that
    date, not of the hour the pass ran (a result due that day and still empty is missing once the day is over).

    The pass's own evaluation serves: the day's end changes only the rows with something still owed on the date
    itself (an open task's deadline, an empty quarterly result), which are judged again with the rows of their
    task (a task's rows close together); on the plan year's last day, every row (the year's end closes recurring
    tasks)."""
    rows = summary.results
    if opts.as_of.ended:
        return unit_figures(summary)
    ended = opts.rules(plan, ended=True)
    if year_over(ended.today, plan.year) != year_over(ended.as_of, plan.year):
        again = {_task_of(r.checked) for r in rows}
    else:
        again = {_task_of(r.checked) for r in rows if _due_on(r.checked, ended)}
    if again:
        judged = iter(evaluate([r.checked for r in rows if _task_of(r.checked) in again], ended))
        rows = [next(judged) if _task_of(r.checked) in again else r for r in rows]
    return _per_unit(rows, plan)


def _task_of(c: Checked) -> Hashable:
    return c.task.stt if c.task else ("row", c.entry.row)


def _due_on(c: Checked, rules: Rules) -> bool:
    """Whether the end of the rules' date can change the row's figures: it is not done and its deadline is that
    day (overdue once the day is over), or a quarterly result due that day is still empty (then missing)."""
    if c.due == rules.as_of and c.status != Status.DONE:
        return True
    results = c.entry.results
    return any(q in results and not results[q] and result_deadline(c, q, rules) == rules.as_of for q in (1, 2, 3, 4))


def _per_unit(rows: list[RowResult], plan: Plan) -> Figures:
    """Done, overdue and missing of the counted rows, per unit of the plan (as the summary's by_unit counts)."""
    out = {u.code: (0, 0, 0) for u in plan.registry.units}
    for r in rows:
        c = r.checked
        if not c.counted or c.unit is None or c.unit.code not in out:
            continue
        done, overdue, missing = out[c.unit.code]
        kinds = [f.kind for f in r.flags]
        out[c.unit.code] = (done + (c.status == Status.DONE), overdue + kinds.count(FlagKind.OVERDUE),
                            missing + kinds.count(FlagKind.MISSING))
    return out


# --- the job's cells ------------------------------------------------------------------------------------------

def _job_cells(writes: WriteSet, table: Table, rows: list[RowResult],
               layout: Layout) -> list[tables.Withheld]:
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
                check = "\n".join(filter(None, [check, tables.row_note(headers["flags"], a1(row, col), merge, flags)]))
        for key, value in (("check", check), ("flags", flags)):
            if nfc(table.value(row, key)) != value:
                if table.writable(row, key):
                    writes.set(name, row, table.columns[key], value)
                else:
                    col = table.columns[key]
                    withheld.append(tables.Withheld(name, row, col, table.covered[(row, col)], value))
    return withheld


def _office_cells(writes: WriteSet, office: validation.OfficeTexts, layout: Layout) -> list[tables.Withheld]:
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
            withheld.append(tables.Withheld(name, row, col, table.covered[(row, col)], value))
    return withheld


def _with_column(header: str, message: str) -> str:
    return message if fold(header) in fold(message) else f"{header}: {message}"


def _job_notes(writes: WriteSet, table: Table, rows: list[RowResult], layout: Layout) -> None:
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

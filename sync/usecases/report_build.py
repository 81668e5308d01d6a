"""A period's report gathered: the sheet read and computed as of the data date, the figures of a past date from
history, the progress chart's figures from the state file. sync/reports/build.py writes it out.

The figures come from `sync.sheet.sync_pass.judge`, the reading half of the `compute` a `run` pass uses, judged
at the end of the data date ("tính đến"): the report equals a dry run or export of that (past) date, and the
dashboard of the next morning when nothing was typed in between. Nothing is written to the sheet.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sync.core.config import Settings
from sync.core.errors import UserError
from sync.core.periods import Period
from sync.core.plan import Plan
from sync.core.schema import Status
from sync.core.summary import Summary
from sync.core.workbook import Backend
from sync.reports import content, evidence
from sync.sheet.sync_pass import PassOptions, judge
from sync.state.history import source_for

if TYPE_CHECKING:
    from sync.core.trends import Progress
    from sync.state.store import State


def gather(settings: Settings, plan: Plan, backend: Backend, period: Period, as_of: dt.date, issued: dt.date,
           now: dt.datetime, state: State | None = None) -> content.Report:
    """The report's content, every figure of `as_of`; a past date from history when it covers it (sync.state.history).
    `state`: the use case's state file (by default the configured one), whose passes draw the progress chart."""
    from sync.state.store import State
    cutoff = settings.deadlines.quarter_cutoff_day
    source = source_for(settings.state, plan, as_of, now.date())
    # "tính đến" the data date: at its end, even when that day is today (a report is then only a preview)
    opts = PassOptions.from_settings(settings, source.to_as_of().at_end(), now, dry_run=True)
    computed = judge(backend.read(), plan, settings.layout, opts, backend.describe())
    report = content.build(computed.summary, plan, period, issued, cutoff, settings.report.texts)
    report.source = source.sentence()
    report.progress = _progress(settings, plan, computed.summary, as_of, state or State(settings.state))
    report.office = computed.office.for_period(period)  # valid rows of the Báo cáo tab only
    if period.kind == "Y":
        report.next_plan = next_plan(settings)
        report.evidence = evidence.rows(computed.summary, plan)  # the year's evidence, for the CCHC self-assessment
    return report


def next_plan(settings: Settings) -> Plan | None:
    """Next year's plan (`report.next_plan`), for the annual report's "Phương hướng"; None when not set."""
    from sync.core.config import PROJECT_DIR
    from sync.core.plan import load_plan
    path = settings.report.next_plan
    if path is None:
        return None
    if not path.is_absolute() and not path.exists() and (PROJECT_DIR / path).exists():
        path = PROJECT_DIR / path
    if not path.exists():
        raise UserError(f"Không tìm thấy kế hoạch năm sau '{path}' (khóa cấu hình report.next_plan); sửa đường dẫn "
                        "hoặc để trống (null) khi chưa có kế hoạch năm sau.")
    return load_plan(path)


def _progress(settings: Settings, plan: Plan, summary: Summary, as_of: dt.date, state: State) -> list[Progress]:
    """The year's progress for the chart: the plan's expectation by each cut-off, done as recorded then; none
    (no chart) before any pass recorded figures in the state file."""
    from sync.core import periods, trends
    from sync.state.history import HistoryStore
    rs = settings.report
    cutoffs = [(p.label, p.cutoff(settings.deadlines.quarter_cutoff_day))
               for p in periods.cycle(plan.year, rs.cycle, rs.third)]
    dues = [r.checked.due for r in summary.results if r.checked.counted and r.checked.status != Status.CANCELLED]
    recorded = HistoryStore(state).recorded_done([d for _, d in cutoffs], as_of,
                                                                 [u.code for u in plan.registry.units])
    if recorded is None:
        return []
    return trends.progress(cutoffs, dues, recorded, as_of, summary.kpis.done)

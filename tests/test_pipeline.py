"""The pipeline against the in-memory reference backend, and the local backend held to it."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from sync.backends.local import LocalBackend
from sync.backends.memory import MemoryBackend
from sync.core.errors import Unreachable
from sync.core.history import AsOf
from sync.core.schema import Layout
from sync.sheet.layout import build_init
from sync.sheet.sync_pass import PassOptions
from sync.usecases.pipeline import run_pass

from .conftest import AS_OF

OPTS = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8, 0))


def _init(backend, plan):
    snapshot = backend.read() if not isinstance(backend, LocalBackend) else backend.empty_snapshot()
    backend.write(snapshot, build_init(plan, snapshot, Layout()))


def _grid(backend):
    out = {}
    for name, tab in backend.read().tabs.items():
        rows = [tuple(v for v in row) for row in tab.rows]
        while rows and not any(v not in (None, "") for v in rows[-1]):
            rows.pop()
        out[name] = [tuple(None if v == "" else v.date() if isinstance(v, dt.datetime) else v for v in r)
                     for r in rows]  # a date cell reads back from a file as a datetime at midnight
        out[name] = [r[: max((i + 1 for i, v in enumerate(r) if v is not None), default=0)] for r in out[name]]
    return out


def test_local_and_memory_backends_agree_cell_for_cell(plan, tmp_path):
    memory, local = MemoryBackend(), LocalBackend(tmp_path / "wb.xlsx")
    for backend in (memory, local):
        _init(backend, plan)
        run_pass(backend, plan, Layout(), replace(OPTS, pass_id="a1b2c3d4e5f6"),  # same id and duration on both
                 clock=lambda: 0.0)
    assert _grid(memory) == _grid(local)
    assert len(_grid(local)["Theo dõi"]) == 77


class Restless(MemoryBackend):
    """Someone edits the workbook between every read and write."""

    def read(self):
        snapshot = super().read()
        self.version += 1
        return snapshot


def test_a_workbook_that_never_settles_gives_up_with_exit_3(plan):
    backend = Restless()
    seed = MemoryBackend()
    _init(seed, plan)
    backend.tabs = seed.tabs
    with pytest.raises(Unreachable) as err:
        run_pass(backend, plan, Layout(), OPTS)
    assert err.value.exit_code == 3 and "3 lần" in str(err.value)
    assert backend.tabs["Tổng hợp"].rows[0][0].startswith("Chưa có số liệu")  # nothing written


def test_fake_clock_drives_the_timings(plan):
    backend = MemoryBackend()
    _init(backend, plan)
    ticks = iter(range(100))
    result = run_pass(backend, plan, Layout(), OPTS, clock=lambda: float(next(ticks)))
    assert result.timings == {"read_s": 1.0, "compute_s": 1.0, "write_s": 1.0, "duration_s": 5.0}


def test_the_json_summary_keeps_its_keys_in_order(plan):
    """`run --json` is a contract (DESIGN.md §5): the typed summary writes exactly these keys, in this order."""
    backend = MemoryBackend()
    _init(backend, plan)
    ticks = iter(range(100))
    result = run_pass(backend, plan, Layout(), OPTS, clock=lambda: float(next(ticks)))
    out = result.to_json(backend, dry_run=False)
    assert list(out) == ["tasks", "rows", "done", "in_progress", "not_started", "cancelled", "unknown_status",
                         "not_counted", "overdue", "due_soon", "late", "undated", "missing_quarterly", "errors",
                         "on_time_rate", "tasks_done", "tasks_in_progress", "tasks_not_started",
                         "tasks_cancelled", "tasks_late", "as_of", "backend", "dry_run", "pass_id", "attempts",
                         "cells_written", "cells_withheld", "api_calls", "read_s", "compute_s", "write_s",
                         "duration_s", "products"]
    assert all(type(out[k]) is int for k in ("tasks", "rows", "done", "overdue", "missing_quarterly", "errors"))
    assert out["tasks"] == 17 and out["as_of"] == AS_OF.isoformat()


def test_a_deleted_assignment_row_is_named_in_the_error_list_not_dropped_in_silence(plan):
    backend = MemoryBackend()
    _init(backend, plan)
    tracking = backend.read().tabs["Theo dõi"]
    header = list(tracking.rows[0])
    stt, unit = tracking.rows[5][header.index("STT")], tracking.rows[5][header.index("Đơn vị")]
    del backend.tabs["Theo dõi"].rows[5]  # a unit deletes its row by hand
    summary = run_pass(backend, plan, Layout(), OPTS).summary
    assert summary.kpis.rows == len(plan.assignments()) - 1
    [said] = [e for e in summary.errors if "Không có dòng theo dõi" in e.message]
    assert f"nhiệm vụ {stt}" in said.message and "python -m sync init" in said.message
    assert plan.registry.match(said.unit).label == plan.registry.match(unit).label
    dashboard = [str(v) for row in backend.read().tabs["Tổng hợp"].rows for v in row if v]
    assert said.message in dashboard


# --- one evaluation per pass ---------------------------------------------------------------------------------

def _days_with_something_due(summary, plan) -> set[dt.date]:
    from sync.core.flags import result_deadline
    rules = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8)).rules(plan)
    days = {r.checked.due for r in summary.results if r.checked.due} | {dt.date(plan.year, 12, 31)}
    days |= {result_deadline(r.checked, q, rules) for r in summary.results for q in (1, 2, 3, 4)}
    return {d for d in days if d.year == plan.year} | {dt.date(plan.year, 2, 29), dt.date(plan.year, 10, 1)}


@pytest.mark.parametrize("typed", [dt.date(2024, 6, 14), dt.date(2024, 12, 31)])
def test_a_passs_day_end_figures_are_those_of_its_rows_judged_again_at_the_end_of_its_date(plan, monkeypatch, typed):
    """What a writing pass records for the trends (sync.sheet.sync_pass.day_end_figures) equals every row judged
    again at the end of the pass's date, on every day something is due (the days the day's end changes) and the
    year's last day; only the rows the day's end can change (with their task's) are judged again."""
    from sync.core import summary as summaries
    from sync.sheet.sync_pass import compute, day_end_figures, unit_figures
    from sync.usecases.demo import seed
    backend = MemoryBackend()
    seed(backend, plan, typed)  # the entries units had typed by then
    snapshot = backend.read()
    first = compute(snapshot, plan, Layout(), OPTS, "test").summary
    judged_again: list[int] = []
    from sync.core.tasks import evaluate
    from sync.sheet import sync_pass
    changed = 0
    for day in sorted(_days_with_something_due(first, plan)):
        opts = PassOptions(AsOf(day), dt.datetime.combine(day, dt.time(8)))
        summary = compute(snapshot, plan, Layout(), opts, "test").summary
        ended = opts.rules(plan, ended=True)
        expected = unit_figures(summaries.summarize(evaluate([r.checked for r in summary.results], ended), plan,
                                                    day, judged_on=ended.today))
        monkeypatch.setattr(sync_pass, "evaluate", lambda rows, rules: judged_again.append(len(rows)) or
                            evaluate(rows, rules))
        assert day_end_figures(summary, plan, opts) == expected, day
        monkeypatch.setattr(sync_pass, "evaluate", evaluate)
        changed += expected != unit_figures(summary)
        if typed == dt.date(plan.year, 12, 31) and day != typed:  # most results typed: few rows still owe that day
            assert not judged_again or judged_again[-1] < len(summary.results), day
    assert changed >= 3  # the day's end does change figures on such days: the comparison is not idle
    # a figure already judged at its end (a report's) is the summary's own
    ended_opts = PassOptions(AsOf(AS_OF, ended=True), dt.datetime(2024, 9, 20, 8))
    summary = compute(snapshot, plan, Layout(), ended_opts, "test").summary
    assert day_end_figures(summary, plan, ended_opts) == unit_figures(summary)

"""The pipeline against the in-memory reference backend, and the local backend held to it."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from sync.backends.local import LocalBackend
from sync.backends.memory import MemoryBackend
from sync.core.asof import AsOf
from sync.core.errors import Unreachable
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

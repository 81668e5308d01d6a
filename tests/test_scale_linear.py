"""Every writer is linear in rows: `init` and `history --at -o` at 1,000 and 2,000 rows, compared in one run.

Work is counted, not timed: cProfile counts every function call and generator step (a scan of every cell, such
as openpyxl's `ws.max_column`, is one step per cell), the same on a loaded machine as on an idle one. Twice the
rows may cost a little more than twice the work (a longer tab, a bigger file), never the four times a step
repeated once per row costs. Seconds beside the openpyxl floor are the bench's (`python -m bench`).
"""
from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path

import pytest

from sync.backends.local import LocalBackend
from sync.core.schema import Layout
from sync.sheet.layout import build_init
from sync.usecases.demo import synthetic_plan
from sync.usecases.history import write_workbook

pytestmark = pytest.mark.scale

#: Doubling the rows may double the work and a little more; a quadratic step makes it near four times.
LINEAR = 2.4


def work(fn: Callable[[], object]) -> int:
    """The calls (and generator steps) `fn` makes: a count of work that no other process on the machine moves."""
    profile = cProfile.Profile()
    profile.runcall(fn)
    return pstats.Stats(profile).total_calls  # type: ignore[attr-defined]  # set by Stats, not in the stubs


def init_work(plan, rows: int, folder: Path) -> int:
    """`init` of a new workbook of `rows` tracking rows: the layout, the formats and the save."""
    big = synthetic_plan(plan, rows)
    backend = LocalBackend(folder / f"init-{rows}.xlsx")
    return work(lambda: backend.write(backend.empty_snapshot(), build_init(big, backend.empty_snapshot(),
                                                                           Layout())))


def history_out_work(plan, rows: int, folder: Path) -> int:
    """`history --at D -o FILE.xlsx`: the tab as it stood, laid out like `Theo dõi`, saved."""
    big, layout = synthetic_plan(plan, rows), Layout()
    backend = LocalBackend(folder / f"src-{rows}.xlsx")
    backend.write(backend.empty_snapshot(), build_init(big, backend.empty_snapshot(), layout))
    grid = backend.read().tabs[layout.tabs["tracking"]].rows
    return work(lambda: write_workbook(folder / f"at-{rows}.xlsx", grid, big, layout))


@pytest.mark.parametrize("writer", [init_work, history_out_work], ids=["init", "history-at-o"])
def test_twice_the_rows_is_twice_the_work(plan, tmp_path, writer):
    small = writer(plan, 1000, tmp_path)
    large = writer(plan, 2000, tmp_path)
    assert large / small < LINEAR, f"{small} calls at 1,000 rows, {large} at 2,000: x{large / small:.2f}"

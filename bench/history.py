"""The history of `Theo dõi`: what recording it costs a pass, how the state file grows, how fast `--at` is.

    python -m bench.history overhead --rows N --dir D   # D/wb-N.xlsx (bench.case prepare): pass vs history
    python -m bench.history year --dir D                # a simulated year of hourly passes on the real plan

Targets: recording adds < 20 ms to a pass at the real 76 rows and < 10 % of a pass at 10,000 rows; a year
of hourly passes with realistic typing leaves a state file < 5 MB; `history --at` over that year < 1 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.case import AS_OF, PLAN, plan_for, prepare
from sync.backends.local import LocalBackend
from sync.core import history
from sync.core.history import AsOf
from sync.core.periods import cycle
from sync.core.schema import Layout
from sync.core.tables import Table, locate
from sync.core.workbook import Cell, Snapshot, Tab
from sync.sheet.sync_pass import PassOptions, unit_figures
from sync.state.history import HistoryStore
from sync.state.store import State
from sync.usecases.pipeline import PassResult, run_pass

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _read(result: PassResult) -> Snapshot:
    """What the pass read: history records from it, as a real pass's end does."""
    if result.snapshot is None:  # run_pass keeps it for the attempt it wrote; this bench's passes always write
        raise RuntimeError("the pass kept no snapshot: nothing was written")
    return result.snapshot


def _best(fn: Callable[[], object], repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return min(runs)


def overhead(rows: int, folder: Path) -> dict[str, Any]:
    """A real pass over the prepared workbook, then the recorder on what that pass read."""
    plan, layout = plan_for(rows), Layout()
    path = folder / f"wb-{rows}.xlsx"
    backend = LocalBackend(path)
    result = run_pass(backend, plan, layout, PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8)))
    snapshot = _read(result)
    state_path = folder / f"history-{rows}.sqlite"
    state_path.unlink(missing_ok=True)
    state = State(state_path)
    store = HistoryStore(state)

    summary = result.to_json(backend, False)

    def record(edit: Callable[[], None] | None = None) -> float:
        """What history adds to the end of a pass: the pass-log row with history, minus the row alone."""
        state.record_pass("run", dt.datetime(2024, 9, 20, 8), True, summary)
        t0 = time.perf_counter()
        state.record_pass("run", dt.datetime(2024, 9, 20, 8), True, summary)
        alone = time.perf_counter() - t0
        if edit:
            edit()
        t0 = time.perf_counter()
        state.record_pass("run", dt.datetime(2024, 9, 20, 8), True, summary,
                          then=store.recorder(AS_OF, history.snapshot_rows(snapshot, plan, layout),
                                              figures=unit_figures(result.summary),
                                              plan=history.plan_values(snapshot, layout)))
        return max(0.0, time.perf_counter() - t0 - alone)

    baseline_s = record()
    unchanged_s = statistics.median(record() for _ in range(7))  # the usual pass: nothing typed since the last one
    table = history.tracking_table(snapshot, layout, "bench")
    note = table.columns["note"]
    rng = random.Random(1)
    rows_here = list(table.rows())

    def edit() -> None:  # 1 % of the rows typed into since the last pass
        for r in rng.sample(rows_here, max(1, len(rows_here) // 100)):
            line = snapshot.tabs[table.tab.name].rows[r - 1]
            line.extend([None] * (note - len(line)))
            line[note - 1] = f"ghi chú {rng.random():.6f}"

    changed_s = statistics.median(record(edit) for _ in range(7))
    pass_s = result.timings["duration_s"]
    return {"rows": rows, "pass_s": round(pass_s, 4), "history_baseline_s": round(baseline_s, 4),
            "history_unchanged_s": round(unchanged_s, 4), "history_1pct_changed_s": round(changed_s, 4),
            "history_share_of_pass": round(max(unchanged_s, changed_s) / pass_s, 4)}


# --- a simulated year ---------------------------------------------------------------------------------------

RESULT_TEXTS = ["Đăng {n} tin, bài tuyên truyền CCHC trên Trang thông tin điện tử của Sở",
                "Tổ chức {n} hội nghị phổ biến, quán triệt các văn bản về cải cách hành chính",
                "Phát hành {n} bản tin, tờ gấp về dịch vụ công trực tuyến đến người dân",
                "Hướng dẫn {n} lượt người dân, doanh nghiệp nộp hồ sơ trực tuyến mức độ toàn trình"]


def _type(rng: random.Random, tab: Tab, table: Table, day: dt.date, units_busy: bool) -> None:
    """One unit types into one row, as units do: a status, the quarter's result, evidence, a date, a note."""
    r = rng.choice(list(table.rows()))
    line = tab.rows[r - 1]

    def put(key: str, value: Cell) -> None:
        col = table.columns[key]
        while len(line) < col:
            line.append(None)
        line[col - 1] = value

    quarter = (day.month - 1) // 3 + 1
    for _ in range(rng.randint(1, 3 if units_busy else 2)):
        what = rng.random()
        if what < 0.35:
            put(f"q{quarter}", rng.choice(RESULT_TEXTS).format(n=rng.randint(1, 30)))
        elif what < 0.55:
            put("status", rng.choice(["Đang thực hiện", "Hoàn thành", "Chưa thực hiện"]))
        elif what < 0.70:
            put("evidence", f"Số {rng.randint(100, 999)}/KH-STTTT ngày {day:%d/%m/%Y}")
        elif what < 0.80:
            put("done_date", dt.datetime.combine(day, dt.time()))
        elif what < 0.90:
            put("quantity", rng.randint(1, 40))
        elif what < 0.97:
            put("note", rng.choice(["Đã báo cáo", "Chờ số liệu", "Đang tổng hợp", ""]))
        else:
            put("evidence", None)  # cleared by mistake


def _office(rng: random.Random, snapshot: Snapshot, layout: Layout, day: dt.date) -> None:
    """The Office moves two tasks' Hạn hoàn thành in the plan tab (as it does after a cut-off)."""
    table = locate(snapshot, layout.tabs["plan"], layout.plan_columns, ("stt",), "bench")
    if "deadline" not in table.columns:
        return
    col = table.columns["deadline"]
    for r in rng.sample(list(table.rows()), 2):
        line = table.tab.rows[r - 1]
        line.extend([None] * (col - len(line)))
        line[col - 1] = rng.choice([f"31/12/{day.year}", f"{day + dt.timedelta(days=rng.randint(10, 60)):%d/%m/%Y}",
                                    None])


@dataclass
class Year:
    """A year of passes recorded in a state file, and what the simulation took."""

    path: Path
    state: State
    store: HistoryStore
    figures: Any
    passes: int
    cells: int
    simulate_s: float


def year(folder: Path, around_the_clock: bool, seed: int = 7) -> dict[str, Any]:
    """Hourly passes through 2024 (working hours of working days, or every hour), units typing between them.

    Units type at random hours, more in the two weeks before each quarter's cut-off; in the first working
    hour after each cut-off the Office moves two tasks' deadlines in the plan tab. Every pass is logged in
    the state file as a real one is (the pass row with its summary) and records history, the plan tab's
    deadlines with it."""
    path = folder / "wb-76.xlsx"
    if not path.exists():
        prepare(76, path)
    state_path = folder / f"year-{'24h' if around_the_clock else 'work'}.sqlite"
    simulated = _simulate(path, state_path, around_the_clock, seed)
    config = folder / "year.yaml"
    config.write_text(f"local: {{path: {path}}}\nstate: {state_path}\nplan: {PLAN}\n", encoding="utf-8")
    return {**_state_figures(simulated), **_trend_figures(simulated, config), **_cli_figures(config)}


def _simulate(path: Path, state_path: Path, around_the_clock: bool, seed: int) -> Year:
    plan, layout = plan_for(76), Layout()
    backend = LocalBackend(path)
    first = run_pass(backend, plan, layout, PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8)))
    summary = {**first.to_json(backend, False), "emails_sent": 0, "written": True}  # as `run` records it
    figures = unit_figures(first.summary)
    snapshot = _read(first)
    table = history.tracking_table(snapshot, layout, "bench")
    tab = snapshot.tabs[table.tab.name]
    state_path.unlink(missing_ok=True)
    state = State(state_path)
    store = HistoryStore(state)
    rng = random.Random(seed)
    passes = cells = 0
    moved: set[int] = set()  # the quarters whose deadlines the Office has moved
    clock = dt.datetime(2024, 1, 2, 0, tzinfo=TZ)  # aware, as `run` records its start
    t0 = time.perf_counter()
    while clock.year == 2024:
        clock += dt.timedelta(hours=1)
        working = clock.weekday() < 5 and 8 <= clock.hour <= 17
        if not (working or around_the_clock):
            continue
        cutoff_soon = clock.month in (3, 6, 9, 12) and 1 <= clock.day <= 14
        if working and rng.random() < (0.6 if cutoff_soon else 0.25):
            _type(rng, tab, table, clock.date(), cutoff_soon)
        if working and clock.month in (3, 6, 9, 12) and clock.day >= 15 and clock.month not in moved:
            _office(rng, snapshot, layout, clock.date())  # the first working hour after the cut-off
            moved.add(clock.month)
        s = {**summary, "as_of": clock.date().isoformat(), "duration_s": round(rng.uniform(0.04, 0.09), 3)}
        pass_id = state.record_pass("run", clock, True, s)
        cells += store.record(pass_id, clock.date(), history.snapshot_rows(snapshot, plan, layout), figures=figures,
                              plan=history.plan_values(snapshot, layout))
        passes += 1
    return Year(state_path, state, store, figures, passes, cells, time.perf_counter() - t0)


def _state_figures(year: Year) -> dict[str, Any]:
    with year.state.connect() as db:
        history_rows = db.execute("SELECT COUNT(*) FROM history").fetchone()[0]
        plan_rows = db.execute("SELECT COUNT(*) FROM history_plan").fetchone()[0]
        summary_bytes = db.execute("SELECT AVG(LENGTH(summary)) FROM passes").fetchone()[0]
        tables = {name: size for name, size in db.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")} if _has_dbstat(db) else {}
    return {"passes": year.passes, "cell_records": year.cells, "history_rows": history_rows,
            "history_plan_rows": plan_rows, "state_mb": round(year.path.stat().st_size / 1e6, 3),
            "simulate_s": round(year.simulate_s, 1), "summary_bytes_per_pass": round(summary_bytes or 0, 1),
            "state_kb_by_table": {k: round(v / 1e3, 1) for k, v in tables.items()},
            "rows_at_s": round(_best(lambda: year.store.rows_at(dt.date(2024, 9, 14)), 3), 4),
            "plan_at_s": round(_best(lambda: year.store.plan_at(dt.date(2024, 9, 14)), 3), 4)}


def _trend_figures(year: Year, config: Path) -> dict[str, Any]:
    """The trends from scratch (pandas) and from the kept rows, in process and in a writing pass (`run` dated the
    year's last pass: the first computes the trends with pandas, none kept; the next ones use the kept rows)."""
    store, state = year.store, year.state
    cutoffs = [(p.label, p.cutoff()) for p in cycle(2024)]
    units = list(year.figures)
    end = store.last_date() or dt.date(2024, 12, 31)  # the last pass (the clock may have reached 1 January)

    def from_scratch() -> object:  # no kept rows: the trends computed with pandas
        _drop_cache(state)
        return store.trend_rows(end, units, 2024, cutoffs, False)

    trends_full_s = _best(from_scratch, 3)
    store.trend_rows(end, units, 2024, cutoffs, True)
    trends_kept_s = _best(lambda: store.trend_rows(end, units, 2024, cutoffs, False), 3)
    # a writing pass on the year's state file (dated its last day): the first computes the trends with pandas
    # (none kept), the next ones use the kept rows
    cli_pass: list[float] = []
    for _ in range(3):
        if not cli_pass:
            _drop_cache(state)
        cli_pass.append(_cli("run", "--as-of", end.isoformat(), "--config", str(config)))
    return {"trends_rows_pandas_s": round(trends_full_s, 4), "trends_rows_kept_s": round(trends_kept_s, 4),
            "cli_run_pass_year_history_s": {"first_with_pandas": round(cli_pass[0], 3),
                                            "usual": round(statistics.median(cli_pass[1:]), 3)}}


def _cli_figures(config: Path) -> dict[str, Any]:
    """`history --at` over the year, beside `status` (which reads the state file and little else)."""
    cli = [_cli("history", "--at", day, "--json", "--config", str(config))
           for day in ("2024-03-14", "2024-09-14", "2024-12-31")]
    baseline = [_cli("status", "--config", str(config), check=False) for _ in range(3)]
    return {"cli_history_at_s": {"median": round(statistics.median(cli), 3), "max": round(max(cli), 3)},
            "cli_status_s_same_machine": round(statistics.median(baseline), 3)}


def _cli(*args: str, check: bool = True) -> float:
    """`python -m sync ARGS`, start to exit: seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sync", *args], env=env, check=check, capture_output=True)
    return time.perf_counter() - t0


def _has_dbstat(db: sqlite3.Connection) -> bool:
    try:
        db.execute("SELECT 1 FROM dbstat LIMIT 1")
    except Exception:
        return False
    return True


def _drop_cache(state: State) -> None:
    with state.connect() as db:
        db.execute("DELETE FROM trend_cache")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.history")
    parser.add_argument("what", choices=["overhead", "year"])
    parser.add_argument("--rows", type=int, default=76)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    folder = Path(args.dir)
    if args.what == "overhead":
        out = overhead(args.rows, folder)
    else:
        out = {"working_hours": year(folder, False), "around_the_clock": year(folder, True)}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()

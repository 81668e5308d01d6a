"""One benchmark case in its own process, so that its peak RSS is its own (one workbook at a time).

    python -m bench.case prepare --rows N --dir D   # build D/wb-N.xlsx with sample entries
    python -m bench.case measure --rows N --dir D   # one pass over it; prints JSON
    python -m bench.case compute --rows N --dir D   # the pure core alone, on one read; prints JSON
    python -m bench.case report --rows N --dir D    # the 6-month and annual reports from it; prints JSON
    python -m bench.case init --rows N --dir D      # `init` of a new workbook of N rows (D/init-N.xlsx)
    python -m bench.case history-at-o --rows N --dir D  # `history --at -o`: the tab as it stood, to D/at-N.xlsx
    python -m bench.case floor --file F             # what any tool pays on an .xlsx: openpyxl loads and saves F

`bench.process.measure` runs each as a whole process and reads its own time and peak memory (wait4).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import resource
import time
from pathlib import Path
from typing import Any

from sync.backends.local import LocalBackend
from sync.core.config import PROJECT_DIR, ReportSettings, Settings
from sync.core.history import AsOf
from sync.core.plan import Plan, load_plan
from sync.core.schema import Layout
from sync.reports.build import report_path
from sync.sheet.sync_pass import PassOptions, compute
from sync.usecases.demo import seed, synthetic_plan
from sync.usecases.pipeline import run_pass

AS_OF = dt.date(2024, 9, 20)
PLAN = PROJECT_DIR / "config/plans/ke-hoach-tuyen-truyen-cchc-2024.yaml"


def plan_for(rows: int) -> Plan:
    plan = load_plan(PLAN)
    return plan if rows <= len(plan.assignments()) else synthetic_plan(plan, rows)


def backend(path: Path) -> LocalBackend:
    """The local backend as `run` opens it (sync.backends.open_backend): the dashboard read shortened."""
    return LocalBackend(path, replaced=(Layout().tabs["dashboard"],))


def prepare(rows: int, path: Path) -> None:
    """The workbook as a pass finds it: seeded with entries, and a first pass made (its dashboard, its log)."""
    path.unlink(missing_ok=True)
    seed(LocalBackend(path), plan_for(rows), AS_OF, mistakes=7)
    run_pass(backend(path), plan_for(rows), Layout(), PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 7)))
    grid = LocalBackend(path).read().tabs[Layout().tabs["tracking"]].rows
    grid_path(path).write_bytes(pickle.dumps(grid))


def grid_path(path: Path) -> Path:
    """The tracking rows as history hands them to `history --at -o` (read from the state file in milliseconds:
    the bench's `history` figures), kept beside the workbook so that the case measures the writer alone."""
    return path.with_name(path.stem + ".grid.pickle")


def measure(rows: int, path: Path) -> dict[str, Any]:
    """One pass, and nothing else in the process: its peak memory is the pass's."""
    plan = plan_for(rows)
    opts = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8))
    result = run_pass(backend(path), plan, Layout(), opts)
    return {"rows": result.summary.kpis.rows, "read_s": round(result.timings["read_s"], 3),
            "compute_s_in_pass": round(result.timings["compute_s"], 3), "write_s": round(result.timings["write_s"], 3),
            "pass_s": round(result.timings["duration_s"], 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def compute_alone(rows: int, path: Path) -> dict[str, Any]:
    """The pure core's cost without file I/O: compute repeated on one read, the best of five."""
    plan = plan_for(rows)
    opts = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8))
    snapshot = LocalBackend(path).read()
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        compute(snapshot, plan, Layout(), opts, "bench")
        runs.append(time.perf_counter() - t0)
    return {"compute_s": round(min(runs), 3)}


def init(rows: int, path: Path) -> None:
    """`init`'s work on a new workbook: the plan laid out, formatted, saved."""
    from sync.sheet.layout import build_init
    path.unlink(missing_ok=True)
    backend = LocalBackend(path)
    backend.write(backend.empty_snapshot(), build_init(plan_for(rows), backend.empty_snapshot(), Layout()))


def history_at_o(rows: int, source: Path, out: Path) -> None:
    """`history --at D -o FILE.xlsx`'s work: the tracking tab's rows as they stood, laid out like `Theo dõi`
    (the source's rows, kept by `prepare`, stand in for history's: the writer is what is measured)."""
    from sync.usecases.history import write_workbook
    layout = Layout()
    grid = pickle.loads(grid_path(source).read_bytes())  # written by this bench's own `prepare`
    out.unlink(missing_ok=True)
    write_workbook(out, grid, plan_for(rows), layout)


def floor(path: Path) -> None:
    """The floor any tool on an .xlsx pays: openpyxl loads the file and saves it (to a file beside it)."""
    import openpyxl
    openpyxl.load_workbook(path).save(path.with_name(f"floor-{path.name}"))


def report(rows: int, path: Path) -> dict[str, Any]:
    """The 6-month and annual reports end to end: read, compute as of the cut-off, chart, .docx (with its
    landscape appendix) saved. The annual one is built a year later, so it reads the entries as of its date."""
    from sync.core.periods import Period
    from sync.reports import build
    from sync.usecases.report_build import gather
    plan = plan_for(rows)
    settings = Settings(report=ReportSettings(out_dir=path.parent / f"reports-{rows}"))
    out: dict[str, float] = {}
    for period, now in ((Period(2024, "H1"), dt.datetime(2024, 6, 20, 8)),
                        (Period(2024, "Y"), dt.datetime(2025, 1, 6, 8))):
        t0 = time.perf_counter()
        cutoff = period.cutoff()
        built = gather(settings, plan, LocalBackend(path), period, cutoff, now.date(), now)
        saved = build.write(built, settings, report_path(settings, period))
        tag = "" if period.kind == "H1" else "_year"
        out[f"report{tag}_s"] = round(time.perf_counter() - t0, 3)
        out[f"report{tag}_kb"] = saved.stat().st_size // 1024
    out["report_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["prepare", "measure", "compute", "report", "init", "history-at-o",
                                           "floor"])
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.action == "floor":
        return floor(args.file)
    path = args.dir / f"wb-{args.rows}.xlsx"
    if args.action == "prepare":
        prepare(args.rows, path)
    elif args.action == "init":
        init(args.rows, args.dir / f"init-{args.rows}.xlsx")
    elif args.action == "history-at-o":
        history_at_o(args.rows, path, args.dir / f"at-{args.rows}.xlsx")
    else:
        work = {"measure": measure, "compute": compute_alone, "report": report}[args.action]
        print(json.dumps(work(args.rows, path)))


if __name__ == "__main__":
    main()

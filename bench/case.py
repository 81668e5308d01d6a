"""One benchmark case in its own process, so that its peak RSS is its own.

    python -m bench.case prepare --rows N --dir D   # build D/wb-N.xlsx with sample entries
    python -m bench.case measure --rows N --dir D   # one pass over it; prints JSON
    python -m bench.case report --rows N --dir D    # the 6-month and annual reports from it; prints JSON
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from pathlib import Path

from sync.backends.local import LocalBackend
from sync.config import PROJECT_DIR, ReportSettings, Settings
from sync.demo import seed, synthetic_plan
from sync.pipeline import PassOptions, compute, run_pass
from sync.plan import load_plan
from sync.schema import Layout

AS_OF = dt.date(2024, 9, 20)
PLAN = PROJECT_DIR / "config/plans/ke-hoach-tuyen-truyen-cchc-2024.yaml"


def plan_for(rows: int):
    plan = load_plan(PLAN)
    return plan if rows <= len(plan.assignments()) else synthetic_plan(plan, rows)


def prepare(rows: int, path: Path) -> None:
    path.unlink(missing_ok=True)
    seed(LocalBackend(path), plan_for(rows), AS_OF, mistakes=7)


def measure(rows: int, path: Path) -> dict:
    plan = plan_for(rows)
    opts = PassOptions(AS_OF, dt.datetime(2024, 9, 20, 8))
    backend = LocalBackend(path)
    result = run_pass(backend, plan, Layout(), opts)
    # compute alone, repeated on one snapshot: the pure core's cost without file I/O
    snapshot = backend.read()
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        compute(snapshot, plan, Layout(), opts, "bench")
        runs.append(time.perf_counter() - t0)
    return {"rows": result.summary.kpis.rows, "read_s": round(result.timings["read_s"], 3),
            "compute_s": round(min(runs), 3), "write_s": round(result.timings["write_s"], 3),
            "pass_s": round(result.timings["duration_s"], 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def report(rows: int, path: Path) -> dict:
    """The 6-month and annual reports end to end: read, compute as of the cut-off, chart, .docx (with its
    landscape appendix) saved. The annual one is built a year later, so it reads the entries as of its date."""
    from reports import build
    from sync.periods import Period
    plan = plan_for(rows)
    settings = Settings(report=ReportSettings(out_dir=path.parent / f"reports-{rows}"))
    out: dict[str, float] = {}
    for period, now in ((Period(2024, "H1"), dt.datetime(2024, 6, 20, 8)),
                        (Period(2024, "Y"), dt.datetime(2025, 1, 6, 8))):
        t0 = time.perf_counter()
        cutoff = period.cutoff()
        built = build.gather(settings, plan, LocalBackend(path), period, cutoff, now.date(), now)
        saved = build.write(built, settings, build.report_path(settings, period))
        tag = "" if period.kind == "H1" else "_year"
        out[f"report{tag}_s"] = round(time.perf_counter() - t0, 3)
        out[f"report{tag}_kb"] = saved.stat().st_size // 1024
    out["report_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["prepare", "measure", "report"])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    path = args.dir / f"wb-{args.rows}.xlsx"
    if args.action == "prepare":
        prepare(args.rows, path)
    else:
        print(json.dumps((measure if args.action == "measure" else report)(args.rows, path)))


if __name__ == "__main__":
    main()

"""`python -m bench`: sync passes over the real plan and synthetic 1,000- and 10,000-row workbooks.

Each case is prepared in one process and measured in another, so peak RSS is the pass's own. Then the
whole CLI is timed from process start to exit on the real plan, as cron runs it. Prints one JSON object.
Targets (2-core machine): compute over 10,000 rows < 0.5 s; peak memory < 300 MB; CLI pass < 2 s;
the 6-month and annual reports (read, compute, chart, .docx with its appendix) over 10,000 rows < 10 s
each; through the Sheets API stand-in with 100 ms per request, ours flat at <= 4 requests and < 2 s at
10,000 rows (bench/google.py, beside the naive gspread loop and gspread-dataframe). History
(bench/history.py): recording adds < 20 ms to a pass at 76 rows and < 10 % of a pass at 10,000 rows; a
simulated year of hourly passes leaves a state file < 5 MB; `history --at` over that year < 1 s.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {"plan-17-tasks": 76, "synthetic-1000": 1000, "synthetic-10000": 10000}


def _run(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench step failed: {' '.join(args)}\n{proc.stderr}")
    return proc.stdout


def main() -> None:
    out: dict = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, rows in CASES.items():
            _run("-m", "bench.case", "prepare", "--rows", str(rows), "--dir", tmp)
            out["cases"][name] = json.loads(_run("-m", "bench.case", "measure", "--rows", str(rows), "--dir", tmp))
            out["cases"][name].update(json.loads(_run("-m", "bench.case", "report", "--rows", str(rows), "--dir", tmp)))
            print(f"{name}: {out['cases'][name]}", file=sys.stderr)
        out["history"] = {f"overhead_{rows}": json.loads(_run("-m", "bench.history", "overhead", "--rows", str(rows),
                                                             "--dir", tmp)) for rows in (76, 10000)}
        out["history"]["year"] = json.loads(_run("-m", "bench.history", "year", "--dir", tmp))
        print(f"history: {out['history']}", file=sys.stderr)
        config = work / "settings.yaml"
        config.write_text(f"local: {{path: {work / 'wb-76.xlsx'}}}\nstate: {work / 'state.sqlite'}\n", encoding="utf-8")
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            # the measured workbook has passes of its own in Nhật ký: this state file is accepted as its new one
            _run("-m", "sync", "run", "--as-of", "2024-09-20", "--new-state", "--config", str(config), cwd=work)
            times.append(time.perf_counter() - t0)
        out["cli_pass_17_tasks_s"] = {"median": round(statistics.median(times), 3), "max": round(max(times), 3)}
    # the Google path, through the local Sheets API stand-in with 100 ms per request
    out["google_100ms_latency"] = json.loads(_run("-m", "bench.google"))
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

"""`python -m bench`: sync passes over the real plan and synthetic 1,000- and 10,000-row workbooks.

Each case runs in a process of its own, holding one workbook, and is measured as a whole process (start to exit:
wall time, peak memory; bench/process.py), beside the floor any tool on an .xlsx pays: openpyxl loading and saving
the same file, in its own process too. Ratios to the floor (goal: a pass <= 1.2x at 10,000 rows and <= 1.5x at 76;
`init` and `history --at -o` <= 2x) are printed with the figures. Other targets (2-core machine): compute over
10,000 rows < 0.5 s; the 6-month and annual reports over 10,000 rows < 10 s each; start-up of `run`, `report`,
`history`, `status` beside `python -c "import openpyxl"`; through the Sheets API stand-in with 100 ms per request
(bench/google.py), 3 requests below 2,000 rows and 4 above, writes over 2 MB split, beside the naive gspread loop
and gspread-dataframe. History (bench/history.py): recording adds < 20 ms to a pass at 76 rows and < 10 % of a
pass at 10,000 rows; a simulated year of hourly passes leaves a state file < 5 MB; `history --at` over it < 1 s.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.process import best, ratio

ROOT = Path(__file__).resolve().parent.parent
CASES = {"plan-17-tasks": 76, "synthetic-1000": 1000, "synthetic-10000": 10000}


def _run(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench step failed: {' '.join(args)}\n{proc.stderr}")
    return proc.stdout


def _floor(path: Path, repeat: int) -> dict[str, Any]:
    return best("-m", "bench.case", "floor", "--file", str(path), repeat=repeat)


def _beside(case: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    return {"wall_s": case["wall_s"], "cpu_s": case["cpu_s"], "peak_mb": case["peak_mb"],
            "floor_wall_s": floor["wall_s"], "floor_cpu_s": floor["cpu_s"], "floor_peak_mb": floor["peak_mb"],
            **ratio(case, floor)}


def local_cases(tmp: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, rows in CASES.items():
        repeat = 1 if rows >= 10000 else 3
        _run("-m", "bench.case", "prepare", "--rows", str(rows), "--dir", tmp)
        case = best("-m", "bench.case", "measure", "--rows", str(rows), "--dir", tmp, repeat=repeat)
        floor = _floor(Path(tmp) / f"wb-{rows}.xlsx", repeat)
        out[name] = {**json.loads(case["stdout"]), "process": _beside(case, floor)}
        out[name].update(json.loads(_run("-m", "bench.case", "compute", "--rows", str(rows), "--dir", tmp)))
        out[name].update(json.loads(_run("-m", "bench.case", "report", "--rows", str(rows), "--dir", tmp)))
        if rows >= 1000:  # the writers that build a whole workbook: linear, near the floor
            for what, made in (("init", f"init-{rows}.xlsx"), ("history-at-o", f"at-{rows}.xlsx")):
                took = best("-m", "bench.case", what, "--rows", str(rows), "--dir", tmp, repeat=repeat)
                out[name][what] = _beside(took, _floor(Path(tmp) / made, repeat))
        print(f"{name}: {out[name]}", file=sys.stderr)
    return out


def cli_cases(work: Path) -> dict[str, Any]:
    """The commands as cron runs them, from process start to exit, on the real plan's 76 rows, beside the floor
    (a pass) and beside `python -c "import openpyxl"` (start-up)."""
    config = work / "settings.yaml"
    config.write_text(f"local: {{path: {work / 'wb-76.xlsx'}}}\nstate: {work / 'state.sqlite'}\n"
                      f"report: {{out_dir: {work / 'reports-cli'}}}\n", encoding="utf-8")
    sync = ("-m", "sync")
    tail = ("--config", str(config))
    floor = _floor(work / "wb-76.xlsx", 5)
    # the measured workbook logs passes of its own (prepare): this state file is accepted as its new one
    run = best(*sync, "run", "--as-of", "2024-09-20", "--new-state", *tail, repeat=5, cwd=work)
    out = {"run_76_rows": _beside(run, floor), "import_openpyxl": best("-c", "import openpyxl", repeat=5)}
    for name, args in (("report", ("report", "--period", "2024H1", "--date", "2024-06-20")),
                       ("history", ("history", "--task", "3")), ("status", ("status",))):
        out[name] = best(*sync, *args, *tail, repeat=3, cwd=work)
    for m in out.values():
        m.pop("stdout", None)
    return out


def main() -> None:
    out: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        out["cases"] = local_cases(tmp)
        out["cli_76_rows"] = cli_cases(work)
        print(f"cli: {out['cli_76_rows']}", file=sys.stderr)
        out["history"] = {f"overhead_{rows}": json.loads(_run("-m", "bench.history", "overhead", "--rows", str(rows),
                                                             "--dir", tmp)) for rows in (76, 10000)}
        out["history"]["year"] = json.loads(_run("-m", "bench.history", "year", "--dir", tmp))
        print(f"history: {out['history']}", file=sys.stderr)
    # the Google path, through the local Sheets API stand-in with 100 ms per request
    out["google_100ms_latency"] = json.loads(_run("-m", "bench.google"))
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

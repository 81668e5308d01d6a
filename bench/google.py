"""The Google path through the local Sheets API stand-in with 100 ms added to every answer.

Three ways to do the same pass, from the same sheet state:
* ours: GoogleBackend + run_pass as `run` makes it (below ONE_READ_MAX_ROWS planned rows: one read of values and
  notes, the key re-read, one batchUpdate; above: the metadata, the values batchGet, the key re-read, one
  batchUpdate, split when over 2 MB), and each read forced both ways, with its bytes and its CPU time;
* naive: the obvious gspread loop — read the tabs, then `update_cell` for every Kiểm tra/Cảnh báo cell
  that changed, then the dashboard and the log. One request per cell: above 60 cells it is timed on the
  first 60 and the rest extrapolated (it would also hit Google's 60-writes-a-minute quota for real);
* dataframe: gspread-dataframe — `get_as_dataframe` per tab, the job columns set in the frame,
  `set_with_dataframe` back for the tracking tab and the dashboard, `append_row` for the log.

    python -m bench.google [--rows 76 1000 10000] [--latency 0.1]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gspread
from gspread.utils import ValueInputOption
from gspread_dataframe import get_as_dataframe, set_with_dataframe

from bench.case import AS_OF, plan_for
from sync.backends.google import GoogleBackend
from sync.backends.google_http import BoundedHTTPClient, load_credentials
from sync.backends.google_requests import ONE_READ_MAX_ROWS
from sync.core.history import AsOf
from sync.core.plan import Plan
from sync.core.schema import Layout
from sync.core.workbook import Cell, Snapshot, Tab
from sync.sheet.sync_pass import PassOptions, compute
from sync.usecases.demo import seed
from sync.usecases.pipeline import run_pass
from tests.google_helpers import SPREADSHEET_ID, write_key

ROOT = Path(__file__).resolve().parent.parent

NOW = dt.datetime(2024, 9, 20, 8, 0)
NAIVE_SAMPLE = 60


def _prepare(base: str, key: Path, plan: Plan) -> None:
    seed(GoogleBackend(SPREADSHEET_ID, load_credentials(key), base, 120, 120), plan, AS_OF, mistakes=7)


def _client(base: str, key: Path) -> tuple[gspread.Client, BoundedHTTPClient]:
    creds = load_credentials(key)
    client = gspread.Client(creds)
    client.http_client = BoundedHTTPClient(creds, base, 120, 120)
    return client, client.http_client


def _token(http: BoundedHTTPClient) -> None:
    """Fetch the OAuth token before the clock starts: every way pays it once, and it is not the Sheets API."""
    from google.auth.transport.requests import AuthorizedSession, Request
    if not isinstance(http.session, AuthorizedSession):  # BoundedHTTPClient's own session unless one is passed
        raise TypeError(f"no credentials to refresh on a {type(http.session).__name__}")
    http.session.credentials.refresh(Request())


def ours(base: str, key: Path, plan: Plan, one_read: bool | None = None) -> dict[str, Any]:
    """A pass as `run` makes it (the plan's rows decide one read or two), or with the read forced one way
    (`one_read`), to show both at every size: requests, time, bytes read, the client's CPU time reading
    (decoding JSON and cells: what the one read costs more), and each write's body."""
    rows = len(plan.assignments())
    limit = {None: ONE_READ_MAX_ROWS, True: 10 ** 9, False: 0}[one_read]
    b = TimedReads(SPREADSHEET_ID, load_credentials(key), base, 120, 120, rows_hint=rows, one_read_max_rows=limit)
    _token(b.http)
    received: list[int] = []
    b.http.session.hooks["response"].append(lambda r, *a, **k: received.append(len(r.content)))
    read_cpu = b.read_cpu
    t0 = time.perf_counter()
    result = run_pass(b, plan, Layout(), PassOptions(AsOf(AS_OF), NOW))
    return {"requests": b.api_calls, "wall_s": round(time.perf_counter() - t0, 3),
            "read_s": round(result.timings["read_s"], 3), "read_cpu_s": round(sum(read_cpu), 3),
            "read_kb": round(sum(received[:-1]) / 1024, 1), "writes": len(b.write_bytes),
            "write_kb": [round(n / 1024, 1) for n in b.write_bytes], "cells_written": result.writes.cell_count()}


class TimedReads(GoogleBackend):
    """The backend with the client's CPU time of each read kept (decoding JSON and cells)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.read_cpu: list[float] = []

    def read(self) -> Snapshot:
        c0 = time.process_time()
        try:
            return super().read()
        finally:
            self.read_cpu.append(time.process_time() - c0)


def _snapshot_of(sh: gspread.Spreadsheet, titles: list[str], grids: dict[str, list[list[Cell]]]) -> Snapshot:
    return Snapshot({t: Tab(t, [list(r) for r in grids.get(t, [])]) for t in titles})


def naive(base: str, key: Path, plan: Plan) -> dict[str, Any]:
    client, http = _client(base, key)
    _token(http)
    t0 = time.perf_counter()
    sh = client.open_by_key(SPREADSHEET_ID)
    titles = [ws.title for ws in sh.worksheets()]
    grids = {t: sh.worksheet(t).get_all_values() for t in ("Kế hoạch", "Theo dõi")}
    computed = compute(_snapshot_of(sh, titles, grids), plan, Layout(), PassOptions(AsOf(AS_OF), NOW), "bench")
    cells = sorted(computed.writes.cells.get("Theo dõi", {}).items())
    tracking = sh.worksheet("Theo dõi")
    t_cells = time.perf_counter()
    for (r, c), value in cells[:NAIVE_SAMPLE]:
        tracking.update_cell(r, c, _plain(value))
    per_cell = (time.perf_counter() - t_cells) / max(min(len(cells), NAIVE_SAMPLE), 1)
    dash = sh.worksheet("Tổng hợp")
    dash.clear()
    dash.resize(rows=max(len(computed.writes.replace["Tổng hợp"].rows), dash.row_count))
    dash.update(values=[[_plain(v) for v in r] for r in computed.writes.replace["Tổng hợp"].rows],
                range_name="A1", value_input_option=ValueInputOption.raw)
    sh.worksheet("Nhật ký").append_row(["bench"], value_input_option=ValueInputOption.raw)
    wall = time.perf_counter() - t0
    missing = max(len(cells) - NAIVE_SAMPLE, 0)
    return {"requests": http.calls + missing, "wall_s": round(wall + missing * per_cell, 1),
            "extrapolated": missing > 0, "cells_written": len(cells)}


def _plain(value: Cell) -> str | int | float:
    """A dashboard value as the peers send it through the values API (JSON: dates as dd/mm/yyyy text)."""
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y") if isinstance(value, (dt.date, dt.datetime)) else value


def dataframe(base: str, key: Path, plan: Plan) -> dict[str, Any]:
    client, http = _client(base, key)
    _token(http)
    t0 = time.perf_counter()
    sh = client.open_by_key(SPREADSHEET_ID)
    frames = {t: get_as_dataframe(sh.worksheet(t), header=None, dtype=str) for t in ("Kế hoạch", "Theo dõi")}
    grids = {t: f.where(f.notna(), None).values.tolist() for t, f in frames.items()}
    titles = [ws.title for ws in sh.worksheets()]
    computed = compute(_snapshot_of(sh, titles, grids), plan, Layout(), PassOptions(AsOf(AS_OF), NOW), "bench")
    df = frames["Theo dõi"]
    for (r, c), value in computed.writes.cells.get("Theo dõi", {}).items():
        df.iat[r - 1, c - 1] = value
    set_with_dataframe(sh.worksheet("Theo dõi"), df, include_index=False, include_column_header=False)
    import pandas as pd
    rows = computed.writes.replace["Tổng hợp"].rows
    width = max(len(r) for r in rows)
    dash = pd.DataFrame([[_plain(v) for v in r] + [None] * (width - len(r)) for r in rows])
    set_with_dataframe(sh.worksheet("Tổng hợp"), dash, include_index=False, include_column_header=False)
    sh.worksheet("Nhật ký").append_row(["bench"], value_input_option=ValueInputOption.raw)
    return {"requests": http.calls, "wall_s": round(time.perf_counter() - t0, 3)}


class StandIn:
    """The stand-in in its own process, as Google is another machine: its work does not share our CPU or GC."""

    def __init__(self, latency: float):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.sheets_api", "--port", "0", "--latency",
                                      str(latency)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert self.proc.stdout is not None  # stdout=PIPE above
        line = self.proc.stdout.readline()  # "Sheets API stand-in on http://127.0.0.1:PORT …"
        self.base = line.split(" on ", 1)[1].split()[0]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(rows: int, latency: float) -> dict[str, Any]:
    plan = plan_for(rows)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        ways = (("ours", ours), ("ours_one_read_3_requests", lambda b, k, p: ours(b, k, p, one_read=True)),
                ("ours_two_reads_4_requests", lambda b, k, p: ours(b, k, p, one_read=False)),
                ("naive_gspread_loop", naive), ("gspread_dataframe", dataframe))
        for name, way in ways:
            server = StandIn(latency)  # a fresh sheet for each way, seeded the same
            try:
                key = write_key(Path(tmp) / f"key-{name}.json", server.base + "/token")
                _prepare(server.base, key, plan)
                out[name] = way(server.base, key, plan)
            finally:
                server.close()
            print(f"  {rows} rows, {name}: {out[name]}", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[76, 1000, 10000])
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    print(json.dumps({f"{r}-rows": run(r, args.latency) for r in args.rows}, indent=2))


if __name__ == "__main__":
    main()

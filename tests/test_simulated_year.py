"""Proof over a simulated year (issue 11, item 5).

A seeded generator plays the units through 2024: between weekly passes `run --as-of <Friday>` they type
the current quarter's results, set statuses, complete tasks (dated on or before the pass), correct earlier
entries, clear cells, sort the rows, delete a row and add it back later. At each reporting period's cut-off
the period's report is built and `Theo dõi` saved as it stood; at year end, after more weeks of edits, every
period's report is rebuilt and must give the same figures, and `history --at <cut-off>` must equal the saved
sheet cell for cell. Both backends: the local .xlsx edited with openpyxl, and Google through the Sheets API
stand-in over real HTTP, edited by a unit's own gspread client.

Passes run in-process through sync.entry.cli.main (the `project.cli` fixture), not as subprocesses, to keep the
year fast; the runtime per backend is printed (`pytest -s`), never asserted. Both years are in the scale tier
(`make test-scale`, which CI runs after `make test`): about 30 s of CPU between them.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import time

import openpyxl
import pytest

from sync.backends.local import LocalBackend
from sync.core import history
from sync.core.history import HISTORY_KEYS, AsOf
from sync.core.plan import load_plan
from sync.core.schema import JOB_COLUMNS, STATUSES, Layout
from sync.sheet.sync_pass import PassOptions, compute

from .conftest import PLAN_PATH
from .google_helpers import SPREADSHEET_ID
from .test_google import PATIENT_S, api, backend, key, unit_client  # noqa: F401  (fixtures and helpers)
from .workbooks import values as tab_values

YEAR = 2024
FRIDAYS = [dt.date(YEAR, 1, 5) + dt.timedelta(weeks=w) for w in range(52)]  # 05/01 … 27/12
PERIODS = {"2024Q1": dt.date(YEAR, 3, 14), "2024H1": dt.date(YEAR, 6, 14), "2024Q3": dt.date(YEAR, 9, 14),
           "2024Y": dt.date(YEAR, 12, 14)}
FIGURES = ("rows", "done", "in_progress", "not_started", "cancelled", "unknown_status", "overdue",
           "missing_quarterly", "errors", "on_time_rate")
LAYOUT = Layout()
HEAD = LAYOUT.tracking_columns  # key → header
PLAN_HEAD = LAYOUT.plan_columns
#: The columns a unit (or the Office) types; the job's own two are left alone, as units leave them.
TYPED = [k for k in HEAD if k not in JOB_COLUMNS]
ACTIONS_PER_WEEK = 6

RESULTS = ("Đăng {n} tin, bài tuyên truyền CCHC", "Tổ chức {n} hội nghị lồng ghép CCHC",
           "Cập nhật {n} văn bản trên Cổng TTĐT", "Hướng dẫn {n} lượt người dân nộp hồ sơ trực tuyến")


# --- the sheet as a unit sees it: a header and rows of values --------------------------------------------------

class LocalSheet:
    """`Theo dõi` of the local workbook, read and written with openpyxl as a unit's Excel would."""

    def __init__(self, path):
        self.path = path
        self._open: tuple[tuple, openpyxl.Workbook] | None = None  # the workbook last loaded or saved, its stamp

    def _stamp(self) -> tuple:
        st = self.path.stat()
        return st.st_ino, st.st_size, st.st_mtime_ns

    def _workbook(self) -> openpyxl.Workbook:
        """Like a unit's Excel, the workbook it has open: the one last loaded or saved here, unless the file changed
        since (a pass wrote it). Loading a workbook is most of the year's cost (the dashboard's merged ranges)."""
        opened, self._open = self._open, None
        return opened[1] if opened and opened[0] == self._stamp() else openpyxl.load_workbook(self.path)

    def _save(self, wb: openpyxl.Workbook) -> None:
        wb.save(self.path)
        self._open = (self._stamp(), wb)

    def read(self) -> tuple[list, list[list]]:
        wb = self._workbook()
        self._open = (self._stamp(), wb)
        rows = [list(r) for r in wb[LAYOUT.tabs["tracking"]].iter_rows(values_only=True)]
        return list(rows[0]), [r for r in rows[1:]]

    def write(self, header: list, before: int, rows: list[list]) -> None:
        wb = self._workbook()
        ws = wb[LAYOUT.tabs["tracking"]]
        cols = [header.index(HEAD[k]) for k in TYPED]
        for r in range(max(before, len(rows))):
            line = rows[r] if r < len(rows) else [None] * len(header)
            for c in cols:
                ws.cell(r + 2, c + 1).value = line[c]
        self._save(wb)

    def date(self, day: dt.date, rng: random.Random):
        return dt.datetime.combine(day, dt.time(0)) if rng.random() < 0.7 else f"{day:%d/%m/%Y}"

    def plan_deadline(self, stt: int, value) -> None:
        """The Office types a task's Hạn hoàn thành in the plan tab (its own tab, in Excel), and saves."""
        wb = self._workbook()
        ws = wb[LAYOUT.tabs["plan"]]
        head = next(r for r in range(1, 10) if PLAN_HEAD["deadline"] in [c.value for c in ws[r]])
        cols = {c.value: c.column for c in ws[head]}
        row = next(r for r in range(head + 1, ws.max_row + 1)
                   if history.stt_key(ws.cell(r, cols[PLAN_HEAD["stt"]]).value) == str(stt))
        ws.cell(row, cols[PLAN_HEAD["deadline"]]).value = value
        self._save(wb)

    def saved(self, root, label):
        """The sheet's values now, kept for later: a copy of the file (its values read in read-only mode)."""
        copy = root / f"at-{label}.xlsx"
        shutil.copy(self.path, copy)
        rows = [list(r) for r in tab_values(copy, LAYOUT.tabs["tracking"])[LAYOUT.tabs["tracking"]]]
        return list(rows[0]), rows[1:], LocalBackend(copy).read()


class GoogleSheet:
    """`Theo dõi` in the stand-in, read and written by a unit's own gspread client (USER_ENTERED, as typing)."""

    def __init__(self, api, key):
        self.api, self.key, self._ws = api, key, None

    @property
    def ws(self):  # opened on first use: the spreadsheet's tabs exist once `init` ran
        if self._ws is None:
            self._ws = unit_client(self.api, self.key).worksheet(LAYOUT.tabs["tracking"])
        return self._ws

    def _values(self, dates: str) -> tuple[list, list[list]]:
        rows = self.ws.get_all_values(value_render_option="UNFORMATTED_VALUE", date_time_render_option=dates)
        width = len(rows[0])
        rows = [[None if v == "" else v for v in r] + [None] * (width - len(r)) for r in rows]
        return rows[0], rows[1:]

    def read(self):
        # dates as the text a unit sees, so that writing the rows back types the same dates again
        return self._values("FORMATTED_STRING")

    def write(self, header: list, before: int, rows: list[list]) -> None:
        cols = [header.index(HEAD[k]) for k in TYPED]
        assert cols == list(range(len(cols))), "the typed columns lead the layout"
        height = max(before, len(rows))
        body = [[("" if v is None else v) for v in (rows[r] if r < len(rows) else [None] * len(header))[:len(cols)]]
                for r in range(height)]
        end = openpyxl.utils.get_column_letter(len(cols))
        self.ws.update(body, f"A2:{end}{height + 1}", value_input_option="USER_ENTERED")

    def date(self, day: dt.date, rng: random.Random):
        return f"{day:%d/%m/%Y}"  # typed into Sheets: a real date cell

    def plan_deadline(self, stt: int, value) -> None:
        """The Office types a task's Hạn hoàn thành in the plan tab (USER_ENTERED: a date typed is a date cell)."""
        ws = unit_client(self.api, self.key).worksheet(LAYOUT.tabs["plan"])
        rows = ws.get_all_values()
        head = next(i for i, r in enumerate(rows) if PLAN_HEAD["deadline"] in r)
        stt_col, col = rows[head].index(PLAN_HEAD["stt"]), rows[head].index(PLAN_HEAD["deadline"])
        row = next(i for i in range(head + 1, len(rows)) if history.stt_key(rows[i][stt_col]) == str(stt))
        ws.update_cell(row + 1, col + 1, "" if value is None else value)

    def saved(self, root, label):
        # the values (a date cell is its serial number, as a pass reads it), and the sheet as the job reads it
        return (*self._values("SERIAL_NUMBER"), backend(self.api, self.key).read())


# --- the generator of unit actions --------------------------------------------------------------------------------

class Units:
    """Seeded unit behaviour between two passes. Deleted rows are remembered and added back a few weeks later."""

    def __init__(self, sheet, seed: int):
        self.sheet = sheet
        self.rng = random.Random(seed)
        self.deleted: list[tuple[int, list]] = []  # (week to add back, row)
        self.counts: dict[str, int] = {}

    def week(self, index: int, day: dt.date) -> None:
        rng = self.rng
        header, rows = self.sheet.read()
        rows = [r for r in rows if any(v is not None for v in r[:len(TYPED)])]
        before = len(rows)
        col = {k: header.index(h) for k, h in HEAD.items()}
        for _ in range(ACTIONS_PER_WEEK):
            action = rng.choices(("result", "status", "complete", "correct", "clear", "note", "typo"),
                                 (30, 15, 15, 12, 8, 6, 3))[0]
            self._act(action, rng.choice(rows), col, day)
        if rng.random() < 0.15:
            self._act("sort", rows, col, day)
        if rng.random() < 0.08 and len(rows) > 10:
            gone = rows.pop(rng.randrange(len(rows)))
            self.deleted.append((index + rng.randint(1, 4), gone))
            self._count("delete")
        for item in [d for d in self.deleted if d[0] <= index]:
            self.deleted.remove(item)
            back: list = [None] * len(header)
            for k in ("stt", "task", "unit", "role"):  # the Office adds the row back; the unit retypes its status
                back[col[k]] = item[1][col[k]]
            back[col["status"]] = STATUSES["in_progress"]
            rows.append(back)
            self._count("re-add")
        self.sheet.write(header, before, rows)

    def office(self, day: dt.date) -> None:
        """After a cut-off, the Office moves tasks' deadlines in the plan tab: one to the year's end, one to a
        date already past, one back to the plan's own Tiến độ (cleared). A figure of an earlier date must not move."""
        rng = self.rng
        later, earlier, cleared = rng.sample(range(1, 18), 3)
        self.sheet.plan_deadline(later, f"31/12/{YEAR}")
        self.sheet.plan_deadline(earlier, f"{max(dt.date(YEAR, 1, 31), day - dt.timedelta(days=75)):%d/%m/%Y}")
        self.sheet.plan_deadline(cleared, None)
        self._count("plan")

    def _count(self, action):
        self.counts[action] = self.counts.get(action, 0) + 1

    def _act(self, action, row, col, day: dt.date) -> None:
        rng = self.rng
        quarter = (day.month - 1) // 3 + 1
        self._count(action)
        if action == "result":
            row[col[f"q{quarter}"]] = rng.choice(RESULTS).format(n=rng.randint(1, 30))
            if row[col["status"]] is None:
                row[col["status"]] = STATUSES["in_progress"]
        elif action == "status":
            row[col["status"]] = rng.choice((STATUSES["in_progress"], STATUSES["not_started"], STATUSES["cancelled"]))
            row[col["done_date"]] = None
        elif action == "complete":
            done = max(dt.date(YEAR, 1, 1), day - dt.timedelta(days=rng.randint(0, 30)))
            row[col["status"]] = STATUSES["done"]
            row[col["done_date"]] = self.sheet.date(done, rng)
            row[col["evidence"]] = f"Số {rng.randint(10, 999)}/KH-STTTT"
            row[col["quantity"]] = rng.randint(1, 20)
        elif action == "correct":  # an earlier entry put right: an earlier quarter's text, the count, the date
            earlier = [q for q in range(1, quarter + 1) if row[col[f"q{q}"]] is not None]
            if earlier:
                q = rng.choice(earlier)
                row[col[f"q{q}"]] = f"{row[col[f'q{q}']]} (đã sửa)"
            if row[col["quantity"]] is not None:
                row[col["quantity"]] = rng.randint(0, 40)
            if row[col["done_date"]] is not None:
                row[col["done_date"]] = self.sheet.date(max(dt.date(YEAR, 1, 1),
                                                            day - dt.timedelta(days=rng.randint(1, 60))), rng)
        elif action == "clear":
            row[col[rng.choice(("status", "note", "evidence", "quantity", f"q{quarter}", "done_date"))]] = None
        elif action == "note":
            row[col["note"]] = rng.choice(("Đã báo cáo Lãnh đạo Sở", "Chờ ý kiến chỉ đạo", "Phối hợp với Sở Nội vụ"))
        elif action == "typo":  # the usual mistakes: an unknown status, a count with a word in it
            if rng.random() < 0.5:
                row[col["status"]] = "xong"
            else:
                row[col["quantity"]] = "5 tin"
        elif action == "sort":
            by = rng.choice(("unit", "status", "shuffle"))
            if by == "shuffle":
                rng.shuffle(row)
            else:
                row.sort(key=lambda r: (str(r[col[by]] or ""), str(r[col["stt"]])))


# --- what the comparison sees --------------------------------------------------------------------------------------

def typed_rows(header: list, rows: list[list], plan) -> dict:
    """Saved sheet values as `history --at --json` gives them: (task, unit code, ordinal) → {column key: value}."""
    col = {k: header.index(h) for k, h in HEAD.items()}
    out: dict = {}
    seen: dict[tuple, int] = {}
    for line in rows:
        if not any(v is not None and (not isinstance(v, str) or v.strip())
                   for k, c in col.items() if k not in JOB_COLUMNS for v in (line[c],)):
            continue
        unit = plan.registry.match(line[col["unit"]])
        base = (history.stt_key(line[col["stt"]]), unit.code if unit else line[col["unit"]])
        ordinal = seen.get(base, 0)
        seen[base] = ordinal + 1
        values = {k: history.to_json(history.encode(line[col[k]], k)) for k in HISTORY_KEYS}
        out[(*base, ordinal)] = {k: v for k, v in values.items() if v is not None}
    return out


def figures(project, period: str, issued: dt.date, *extra: str) -> dict:
    code, out, err = project.cli("report", "--period", period, "--date", issued.isoformat(), "--json", *extra)
    assert code == 0, err
    got = json.loads(out)
    assert got["as_of"] == PERIODS[period].isoformat()
    return {k: got[k] for k in FIGURES}


def simulate(project, sheet, plan, label: str, seed: int = 2024) -> dict:
    started = time.perf_counter()
    assert project.cli("init")[0] == 0
    units = Units(sheet, seed)
    at_cutoff: dict[str, tuple[dict, dict]] = {}
    for index, friday in enumerate(FRIDAYS):
        units.week(index, friday)
        code, _out, err = project.cli("run", "--as-of", friday.isoformat())
        assert code == 0, (friday, err)
        following = FRIDAYS[index + 1] if index + 1 < len(FRIDAYS) else dt.date(YEAR + 1, 1, 1)
        for period, cutoff in PERIODS.items():
            if friday <= cutoff < following:  # this pass is the last one the cut-off sees
                header, rows, snapshot = sheet.saved(project.root, period)
                at_cutoff[period] = (figures(project, period, cutoff), typed_rows(header, rows, plan))
                # the report (from history) says what the sheet as it stood says, computed directly
                now = dt.datetime.combine(cutoff, dt.time(17))
                ended = PassOptions(AsOf(cutoff, ended=True), now)  # a report's figures: at the end of its date
                direct = compute(snapshot, plan, LAYOUT, ended, "saved").summary.kpis.to_json()
                assert at_cutoff[period][0] == {k: direct[k] for k in FIGURES}, period
                units.office(cutoff)  # after the cut-off's pass: recorded by the next one, dated after it
    units.week(len(FRIDAYS), dt.date(YEAR, 12, 31))  # and more typing after the last pass
    assert set(at_cutoff) == set(PERIODS)
    assert {"delete", "re-add", "sort", "correct", "clear", "complete", "plan"} <= set(units.counts), units.counts
    for period, cutoff in PERIODS.items():
        expected_figures, expected_rows = at_cutoff[period]
        assert figures(project, period, cutoff, "--force") == expected_figures, period
        code, out, err = project.cli("run", "--as-of", cutoff.isoformat(), "--dry-run", "--json")
        assert code == 0, err
        replayed = json.loads(out)
        assert replayed["source"] == "history" and {k: replayed[k] for k in FIGURES} == expected_figures, period
        code, out, err = project.cli("history", "--at", cutoff.isoformat(), "--json")
        assert code == 0, err
        got = {(r["task"], r["unit"], r["ordinal"]): r["values"] for r in json.loads(out)["rows"]}
        assert got.keys() == expected_rows.keys(), (period, got.keys() ^ expected_rows.keys())
        for row_key, values in expected_rows.items():
            assert got[row_key] == values, (period, row_key)
    # the year did happen: figures moved between periods
    assert len({json.dumps(f, sort_keys=True) for f, _rows in at_cutoff.values()}) == len(PERIODS)
    # the runtime is printed (`pytest -s`), never asserted
    print(f"\nsimulated year, {label}: {time.perf_counter() - started:.1f} s, actions {units.counts}")
    return at_cutoff


@pytest.fixture(scope="module")
def year_plan():
    return load_plan(PLAN_PATH)


@pytest.mark.scale
def test_a_simulated_year_on_the_local_workbook(project, year_plan):
    project.write_config({"report": {"out_dir": str(project.root / "reports")}})
    simulate(project, LocalSheet(project.workbook), year_plan, "local")


@pytest.mark.scale
def test_a_simulated_year_on_google(project, api, key, year_plan):
    project.write_config({"backend": "google", "report": {"out_dir": str(project.root / "reports")},
                          "google": {"spreadsheet_id": SPREADSHEET_ID, "credentials_file": str(key),
                                     "api_base_url": api.base_url, "timeout_s": PATIENT_S,
                                     "retry_budget_s": PATIENT_S}})
    simulate(project, GoogleSheet(api, key), year_plan, "google")

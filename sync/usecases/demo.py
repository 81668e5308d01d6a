"""Sample data: a workbook the way units fill it in September 2024, for `make demo`, tests and the bench
(`python -m sync.entry.demo`).

`build_demo` builds the workbook from the 2024 plan, types in realistic entries (including the usual mistakes), and
runs one pass as of 20/09/2024. Without MISTAKES the entries are consistent (quarterly results only on rows where
work happened): every input error the demo shows is one of MISTAKES, on purpose.

`render` draws the demo's `Tổng hợp` tab as LibreOffice Calc draws it, for the README (`make dashboard-png`): the
demo workbook (as of 20/09/2024) with only the dashboard tab kept, converted to PDF by LibreOffice, and the PDF's
pages to one PNG.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
import tempfile
from pathlib import Path

from sync.core.deadlines import ScheduleKind, format_date
from sync.core.errors import UserError
from sync.core.plan import Plan, load_plan
from sync.core.schema import STATUSES, Status
from sync.core.workbook import Backend, Cell

RESOLUTION_DPI = 100

RESULTS = (
    "Đăng {n} tin, bài tuyên truyền CCHC trên Trang TTĐT của Sở",
    "Phổ biến tại cuộc họp giao ban CCHC ngày {d}",
    "Tổ chức {n} hội nghị, tập huấn lồng ghép nội dung CCHC",
    "Cập nhật {n} văn bản trên Cổng TTĐT tỉnh Khánh Hòa",
    "Ban hành Công văn số {n}/STTTT-VP triển khai đến các phòng, đơn vị",
    "Hướng dẫn {n} lượt người dân, doanh nghiệp nộp hồ sơ trực tuyến",
    "Phối hợp đưa {n} tin trên hệ thống thông tin cơ sở",
)
EVIDENCE = ("https://stttt.khanhhoa.gov.vn/tin-tuc/cchc-{n}", "Số {n}/KH-STTTT", "Số {n}/BC-STTTT",
            "https://khanhhoa.gov.vn/cai-cach-hanh-chinh/{n}")
#: The usual mistakes, one per row (the first `mistakes` of them): the demo's input errors are these, and only these.
MISTAKES: tuple[dict[str, Cell], ...] = (
    {"status": "xong"},
    {"status": "Hoàn thành", "evidence": ""},
    {"done_date": "31/02/2024"},
    {"quantity": "5 tin"},
    {"evidence": "htps://stttt.khanhhoa.gov.vn/bai-viet"},
    {"q2": "=HYPERLINK(\"http://example.invalid\",\"Xem\")"},
    {"status": "Hoàn thành", "done_date": "15/12/2024"},
)

#: Lead units still at work on a task past its deadline in September (the one late task the demo shows: the
#: analysis of the 2023 indexes, expected in Q2, not held yet), typed over the drawn values.
LATE_LEADS: tuple[tuple[int, str], ...] = ((4, "CNTT"),)


def sample_row(task_due: dt.date | None, recurring: bool, as_of: dt.date, rng: random.Random) -> dict[str, Cell]:
    """Unit-typed values for one tracking row, plausible for the row's deadline as of `as_of`: quarterly
    results only when the unit did something (in progress or done), never under 'Chưa thực hiện' or
    'Không thực hiện'."""
    row: dict[str, Cell] = {}
    results: dict[str, Cell] = {}
    quarters = [q for q, cut in ((1, 3), (2, 6), (3, 9), (4, 12)) if dt.date(as_of.year, cut, 14) < as_of]
    for q in quarters:  # drawn before the status whatever it turns out to be, so the seed's other rows stay put
        if rng.random() < 0.85:
            results[f"q{q}"] = rng.choice(RESULTS).format(
                n=rng.randint(1, 30), d=format_date(dt.date(as_of.year, 3 * q - 1, rng.randint(1, 28))))
    roll = rng.random()
    if not recurring and task_due is not None and task_due < as_of and roll < 0.75:
        done = task_due + dt.timedelta(days=rng.choice((-20, -10, -3, 0, 0, 4, 12)))
        row.update(status=STATUSES[Status.DONE], done_date=format_date(min(done, as_of)),
                   evidence=rng.choice(EVIDENCE).format(n=rng.randint(10, 999)), quantity=rng.randint(1, 20))
    elif roll < 0.9:
        row.update(status=STATUSES[Status.IN_PROGRESS], quantity=rng.randint(0, 40))
    elif roll < 0.96:
        return {"status": STATUSES[Status.NOT_STARTED]}
    else:
        return {"status": STATUSES[Status.CANCELLED], "note": "Chưa có đề nghị phối hợp của cơ quan chủ trì"}
    return results | row


def fill_values(plan: Plan, as_of: dt.date, seed: int = 2024, mistakes: int = 6) -> list[dict[str, Cell]]:
    """One dict of unit-typed values per plan assignment, in the order `init` lays them out; the first
    `mistakes` of MISTAKES typed over rows spread through the tab."""
    rng = random.Random(seed)
    out = []
    for task, unit, _role in plan.assignments():
        schedule = plan.schedule(task)
        row = sample_row(schedule.due, schedule.kind == ScheduleKind.RECURRING, as_of, rng)
        if (task.stt, unit.code) in LATE_LEADS and schedule.due and schedule.due < as_of:
            row = {k: v for k, v in row.items() if k not in ("done_date", "evidence")}
            row["status"] = STATUSES[Status.IN_PROGRESS]
        out.append(row)
    for i, mistake in enumerate(MISTAKES[:mistakes]):
        out[(i * 11 + 5) % len(out)].update(mistake)
    return out


def synthetic_plan(plan: Plan, rows: int) -> Plan:
    """A plan with enough tasks that `rows` tracking rows are all distinct assignments (for the bench)."""
    base = plan.tasks
    tasks = []
    stt, count = 1, 0
    while count < rows:
        model = base[(stt - 1) % len(base)]
        tasks.append(dataclasses.replace(model, stt=stt))
        count += len(model.lead) + len(model.support)
        stt += 1
    return dataclasses.replace(plan, tasks=tuple(tasks))


def seed(backend: Backend, plan: Plan, as_of: dt.date, mistakes: int = 6) -> None:
    """`init` the workbook, then type the sample entries into it through the backend, as units would."""
    from sync.core.schema import Layout
    from sync.core.tables import locate
    from sync.core.workbook import WriteSet
    from sync.sheet.layout import build_init

    layout = Layout()
    snapshot = backend.read() if backend.exists() else backend.empty_snapshot()
    backend.write(snapshot, build_init(plan, snapshot, layout))
    snapshot = backend.read()
    table = locate(snapshot, layout.tabs["tracking"], layout.tracking_columns, ("stt",), "demo")
    writes = WriteSet()
    for offset, values in enumerate(fill_values(plan, as_of, mistakes=mistakes)):
        for key, value in values.items():
            writes.set(table.tab.name, table.header_row + 1 + offset, table.columns[key], value)
    backend.write(snapshot, writes)


def build_demo(out: Path, plan_path: Path, as_of: dt.date) -> dict[str, object]:
    from sync.backends.local import LocalBackend
    from sync.backends.xlsx_write import clear_rows
    from sync.core.history import AsOf
    from sync.core.schema import Layout
    from sync.sheet.sync_pass import PassOptions
    from sync.usecases.pipeline import run_pass

    plan = load_plan(plan_path)
    out.unlink(missing_ok=True)
    backend = LocalBackend(out)
    seed(backend, plan, as_of)
    now = dt.datetime.combine(as_of, dt.time(8, 0))
    result = run_pass(backend, plan, Layout(), PassOptions(as_of=AsOf(as_of), now=now))
    clear_rows(out, Layout().tabs["log"])  # no state file's workbook: its first `run` with one is that file's first
    return result.to_json(backend, False)


def render(out: Path, plan_path: Path, as_of: dt.date, dashboard: str = "Tổng hợp") -> Path:
    """The demo's dashboard tab as LibreOffice Calc draws it, as one PNG (`make dashboard-png`)."""
    from sync.backends.xlsx_write import keep_only
    from sync.files import pdf_to_png, pdftoppm, soffice, to_pdf
    if pdftoppm() is None:
        raise UserError("Không tìm thấy lệnh 'pdftoppm' (gói poppler-utils): sudo apt-get install poppler-utils.")
    if soffice() is None:
        raise UserError("Không tìm thấy LibreOffice (lệnh 'soffice') để vẽ tab 'Tổng hợp': cài gói "
                        "libreoffice-calc-nogui (Debian/Ubuntu: sudo apt-get install libreoffice-calc-nogui "
                        "fonts-liberation2).")
    with tempfile.TemporaryDirectory(prefix="cchc-dash-") as tmp:
        book = Path(tmp) / "demo.xlsx"
        build_demo(book, plan_path, as_of)
        only = keep_only(book, dashboard, Path(tmp) / "tong-hop.xlsx")
        return pdf_to_png(to_pdf(only), out, RESOLUTION_DPI)

"""`export`: the checked rows as CSV or .xlsx for the Office to work with, every text cell inert.

The rows carry what a pass computed (deadlines, flags, errors, the task's state), by the same computation as
`run --dry-run` of that date, so a spreadsheet made from the export never disagrees with the dashboard. What
units typed stays text in the file whatever program opens it (sync/files.py).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync.core.config import Settings
from sync.core.errors import UserError
from sync.usecases.common import Line, Lines, guard_state, write_output
from sync.usecases.ports import Ports

if TYPE_CHECKING:
    from sync.core.flags import RowResult
    from sync.core.summary import Summary
    from sync.core.tasks import TaskState

EXPORT_COLUMNS = {"stt": "STT", "task": "Nhiệm vụ", "unit_code": "Mã đơn vị", "unit": "Đơn vị", "role": "Vai trò",
                  "status": "Tình trạng", "task_state": "Tình trạng nhiệm vụ",
                  "deadline": "Hạn hoàn thành (tính được)", "done_date": "Ngày hoàn thành",
                  "quantity": "Số lượng sản phẩm", "q1": "Kết quả Quý I", "q2": "Kết quả Quý II",
                  "q3": "Kết quả Quý III", "q4": "Kết quả Quý IV", "evidence": "Minh chứng",
                  "flags": "Cảnh báo", "overdue_days": "Số ngày quá hạn", "missing_quarters": "Quý thiếu kết quả",
                  "errors": "Lỗi nhập liệu", "counted": "Được tính", "as_of": "Tính đến ngày"}


def export_rows(results: list[RowResult], as_of: dt.date, tasks: Sequence[TaskState] = ()) -> list[dict[str, Any]]:
    """One flat row per tracking row, from the rows a pass computed (the same flags as the dashboard's), with
    its task's state (sync.core.tasks: the one rule the dashboard and the report use)."""
    from sync.core.schema import ROLES, ROMAN, STATUSES, FlagKind, nfc
    task_states = {t.stt: t.label for t in tasks}
    out = []
    for r in results:
        c, e = r.checked, r.checked.entry
        out.append({
            "stt": c.task.stt if c.task else nfc(e.stt), "task": c.task.task if c.task else e.task,
            "unit_code": c.unit.code if c.unit else "", "unit": c.unit.name if c.unit else e.unit,
            "role": ROLES.get(c.role, "") if c.role else e.role,
            "status": STATUSES.get(c.status, e.status) if c.status else e.status,
            "task_state": task_states.get(c.task.stt, "") if c.task and c.counted else "",
            "deadline": c.due, "done_date": c.done_date, "quantity": c.quantity,
            **{f"q{q}": e.results.get(q, "") for q in range(1, 5)}, "evidence": e.evidence,
            "flags": "; ".join(f.text for f in r.flags),
            "overdue_days": next((f.days for f in r.flags if f.kind == FlagKind.OVERDUE), None),
            "missing_quarters": ", ".join(f"Quý {ROMAN[f.quarter]}" for f in r.flags if f.kind == FlagKind.MISSING),
            "errors": "\n".join(i.message for i in c.issues), "counted": "Có" if c.counted else "Không",
            "as_of": as_of})
    return out


def with_products(frame: Any, summary: Summary) -> Any:
    """One column per kind of product (sync.core.products) before the date column: each counted row's products, the
    year to the date (empty for a row not counted)."""
    from sync.core.products import DEFAULT_KINDS
    products = summary.products
    labels = products.labels if products else tuple(k.label for k in DEFAULT_KINDS)
    counts = [products.of_row(c.task.stt, c.unit.code) if products and c.counted and c.task and c.unit else None
              for c in (r.checked for r in summary.results)]
    import pandas as pd
    at = len(frame.columns) - 1  # before "Tính đến ngày", which stays last
    for n, label in enumerate(labels):
        frame.insert(at + n, f"{PRODUCT_COLUMN}{label}",
                     pd.array([row[label] if row else None for row in counts], dtype="Int64"))
    return frame


#: The export's product columns: this, then the kind's label ("Sản phẩm: tin, bài").
PRODUCT_COLUMN = "Sản phẩm: "


@dataclass(frozen=True)
class ExportRequest:
    at: dt.date | None = None  # the rows as they stood at this day, judged then; default today
    output: Path | None = None  # a .csv or .xlsx file; None: the CSV is returned for the CLI to print


@dataclass(frozen=True)
class ExportResult:
    rows: int
    as_of: dt.date
    csv: str | None  # the CSV when no file was asked for (for the CLI to print)
    output: Path | None
    lines: tuple[Line, ...]


def export(settings: Settings, ports: Ports, now: dt.datetime, request: ExportRequest,
           lines: Lines | None = None) -> ExportResult:
    """Every tracking row flat, with its computed deadline, flags and errors, as of today or of `at`."""
    import pandas as pd  # only here: the pass does not pay for it

    from sync.core.history import AsOf
    from sync.sheet.sync_pass import PassOptions, judge
    lines = lines or Lines()
    at, output = request.at, request.output
    plan, backend = ports.plan, ports.backend
    today = now.date()
    as_of, source = at or today, None
    if as_of > today:
        raise UserError(f"--at {as_of:%d/%m/%Y} là ngày trong tương lai (hôm nay là {today:%d/%m/%Y}).")
    if at is not None:  # the entries `run --as-of D --dry-run` and `report` compute from (sync/state/history.py)
        from sync.state.history import source_for
        guard_state(settings, ports.state, plan, write=False)
        source = source_for(settings.state, plan, as_of, today)
    # the same computation as a dry run of that date (past.Source: a past day is judged at its end)
    opts = PassOptions.from_settings(settings, source.to_as_of() if source else AsOf(as_of), now, dry_run=True)
    computed = judge(backend.read(), plan, settings.layout, opts, backend.describe())
    if source is not None:
        (lines.say if output else lines.warn)(source.sentence())
    frame = pd.DataFrame(export_rows(computed.summary.results, as_of, computed.summary.tasks),
                         columns=list(EXPORT_COLUMNS))
    for key in ("quantity", "overdue_days"):
        frame[key] = frame[key].astype("Int64")  # whole numbers stay whole where some rows are empty
    frame = frame.rename(columns=EXPORT_COLUMNS)
    frame = with_products(frame, computed.summary)
    # what units typed stays inert text in the file, whatever opens it (sync/files.py)
    from sync.backends.xlsx_write import write_xlsx
    from sync.files import csv_field
    inert = frame.astype(object).map(csv_field)
    if output is None:
        return ExportResult(len(frame), as_of, inert.to_csv(index=False), None, lines.all())
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(f"Tệp '{output}': export ghi tệp .csv hoặc .xlsx (đặt tên kết thúc bằng một trong hai).")
    if suffix == ".csv":  # the BOM lets Excel read Vietnamese
        write_output(output, lambda tmp: inert.to_csv(tmp, index=False, encoding="utf-8-sig"), settings)
    else:
        values = frame.astype(object).where(frame.notna(), None).itertuples(index=False)
        write_output(output, lambda tmp: write_xlsx(tmp, list(frame.columns), list(values), "Xuất dữ liệu"),
                     settings)
    lines.say(f"Đã xuất {len(frame)} dòng (tính đến {as_of:%d/%m/%Y}) vào '{output}'.")
    return ExportResult(len(frame), as_of, None, output, lines.all())

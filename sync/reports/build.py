"""A period's report written out: the files and their names, the figures saved beside the .docx, and the
Office's internal companion workbook.

Where a period's report and the files beside it live (`report.out_dir`), named so that two configurations
sharing the folder never write the same file. Light to import on purpose: "already sent?"
(sync/usecases/owed.py) and the witness beside a report need the names, not the report's builders (python-docx
and openpyxl are imported when a report is written).

`write` renders the content (sync/reports/content.py) as the .docx (sync/reports/document.py), its excerpt, the
figures it prints (`Figures`, read back when a kept report is sent again) and the companion, each replaced whole.

The Office's internal companion to a period report (`….noi-bo.xlsx`): what the document leaves out on purpose
— the figures by row (unit × task), rows whose status cannot be read, overdue rows, the quarterly results still
owed per unit, the input errors, where the figures come from — in Vietnamese column names. Never attached to
the report's e-mail (sync.mail.letters sends the .docx and its PDF only). Every text cell is stored as text (an
inline string), never as a formula, whatever it starts with: a unit's "=HYPERLINK(…)" is shown as typed and
cannot run when the Office opens the file.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync import files
from sync.core.config import Settings
from sync.core.deadlines import format_date
from sync.core.errors import UserError
from sync.core.periods import ROMAN, Period

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell import Cell
    from openpyxl.styles import Font
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from sync.core.summary import Kpis
    from sync.reports.content import Report

FILE_NAME = "{key}-bao-cao-tuyen-truyen-cchc-{identity}.docx"
#: The Office's internal companion (sync.reports.build): never attached to the report's e-mail.
ANNEX_SUFFIX = ".noi-bo.xlsx"
EXCERPT_SUFFIX = ".trich-doan.docx"
FIGURES_SUFFIX = ".so-lieu.json"


def identity(settings: Settings) -> str:
    """Six hex digits naming the plan file and the workbook: two configurations sharing `report.out_dir`
    never write the same file. Names, never absolute paths: a project folder moved or copied elsewhere keeps
    its reports and the witnesses of their sends (sync.state.store.Witness)."""
    where = settings.google.spreadsheet_id if settings.backend == "google" else settings.local.path.name
    key = f"{settings.plan_path().name}|{settings.backend}|{where}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]


def report_path(settings: Settings, period: Period) -> Path:
    return settings.report.out_dir / FILE_NAME.format(key=period.key, identity=identity(settings))


def annex_path(path: Path) -> Path:
    """The Office's internal companion file (sync.reports.build): never attached to the report's e-mail."""
    return path.with_name(path.stem + ANNEX_SUFFIX)


def excerpt_path(path: Path) -> Path:
    """The section for the Sở's own periodic CCHC report, ready to paste (document.render_excerpt)."""
    return path.with_name(path.stem + EXCERPT_SUFFIX)


def figures_path(path: Path) -> Path:
    """The figures the .docx prints, saved beside it: the e-mail of a kept (already sent) report says these."""
    return path.with_name(path.stem + FIGURES_SUFFIX)


@dataclass
class Figures:
    """What a report's e-mail needs (sync.reports.content.Report has the same attributes)."""
    period: Period
    as_of: dt.date
    kpis: Kpis
    missing_count: int
    issued: dt.date | None = None  # the issue date the file was built with (None: saved before it was kept)
    built: dt.datetime | None = None  # when the file was built (None: saved before it was kept)


def saved_figures(path: Path, period: Period) -> Figures:
    """The figures of the report file at `path`, as written with it."""
    from sync.core.summary import Kpis
    where = figures_path(path)
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
        issued, built = data.get("issued"), data.get("built")
        return Figures(period, dt.date.fromisoformat(data["as_of"]), Kpis.from_json(data["kpis"]),
                       int(data["missing_count"]), dt.date.fromisoformat(issued) if issued else None,
                       dt.datetime.fromisoformat(built) if built else None)
    except FileNotFoundError:
        raise UserError(f"Thiếu tệp số liệu '{where}' của báo cáo đã gửi '{path}': không thể viết thư kèm đúng số "
                        "liệu của tệp đó. Dùng --force để tạo lại báo cáo (số liệu mới) và gửi lại cho mọi người "
                        "nhận.") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"Không đọc được tệp số liệu '{where}' của báo cáo '{path}' ({exc}); sửa nó, hoặc dùng "
                        "--force để tạo lại báo cáo.") from None


def built_draft(path: Path, period: Period, as_of: dt.date) -> Figures | None:
    """The figures of the period's draft already built at `path` once its data date `as_of` was over, or None
    (none built, or built while units could still type for that day: such a draft is rebuilt before it goes)."""
    if not path.exists() or not figures_path(path).exists():
        return None
    try:
        figures = saved_figures(path, period)
    except UserError:
        return None  # unreadable figures: rebuilt, as before drafts were kept
    if figures.built is None or figures.as_of != as_of or figures.built.date() <= as_of:
        return None
    return figures


def write(report: Report, settings: Settings, path: Path, built: dt.datetime | None = None) -> Path:
    """Render and save atomically: a crash leaves the previous file or none, never half a document. Temporary
    files a killed build left beside these files (an hour old or more: no build takes that long) are removed.
    `built` (when the build ran) is saved with the figures: `report --send` sends a draft built after its data
    date instead of rebuilding it."""
    from sync.reports import (  # python-docx: loaded by a report written, not by its file names
        charts,
        document,
        evidence,
    )
    for target in (path, figures_path(path), annex_path(path), excerpt_path(path), path.with_suffix(".pdf"),
                   evidence.path_for(path)):
        files.remove_leftovers(target, time.time() - files.LEFTOVER_AGE_S)
    png = charts.status_by_unit(report.by_unit, f"Tình trạng thực hiện theo đơn vị - {report.period.title}")
    progress = (charts.progress(report.progress, f"Tiến độ thực hiện năm {report.period.year}")
                if report.progress else None)
    files.write_bytes(path, document.to_bytes(document.render(report, settings.report, png, progress)))
    files.write_bytes(excerpt_path(path), document.to_bytes(document.render_excerpt(report)))
    figures = {"period": report.period.key, "as_of": report.as_of.isoformat(), "kpis": report.kpis.to_json(),
               "missing_count": report.missing_count, "issued": report.issued.isoformat(),
               "built": built.isoformat() if built else None}
    files.write_text(figures_path(path), json.dumps(figures, ensure_ascii=False, indent=1, default=str))
    files.write_bytes(annex_path(path), companion_bytes(report))
    if report.period.kind == "Y":
        evidence.write(evidence.path_for(path), report.evidence, report.period, report.as_of)
    return path


def keep_sent_copy(path: Path, now: dt.datetime) -> Path | None:
    """Before a rebuild of a report already sent, keep what was sent next to it (its PDF too)."""
    if not path.exists():
        return None
    copy = path.with_name(f"{path.stem}.da-gui-{now:%Y%m%d-%H%M%S}{path.suffix}")
    shutil.copy2(path, copy)
    pdf = path.with_suffix(".pdf")
    if pdf.exists():
        shutil.copy2(pdf, copy.with_suffix(".pdf"))
    if figures_path(path).exists():
        shutil.copy2(figures_path(path), figures_path(copy))
    return copy


TITLE = "Tài liệu nội bộ của Văn phòng Sở, không gửi kèm báo cáo"


def companion_bytes(report: Report) -> bytes:
    """The companion workbook of `report`, as the bytes of an .xlsx."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)  # streamed: a 10,000-row workbook's lists in a second
    k = report.kpis
    _sheet(book, "Số liệu theo dòng", ["Chỉ số", "Số liệu"],
           [(label, value) for label, value in report.kpi_rows] + [("Nguồn số liệu", report.source_sentence())],
           report, (52, 60))
    _sheet(book, "Quá hạn theo dòng", ["STT nhiệm vụ", "Nhiệm vụ", "Đơn vị", "Hạn hoàn thành", "Số ngày quá hạn"],
           [(o.stt, o.task, o.unit, format_date(o.due), o.days) for o in report.overdue], report, (10, 70, 28, 16, 14))
    _sheet(book, "Kết quả còn thiếu", ["Đơn vị", "Quý", "STT nhiệm vụ"],
           [(unit, f"Quý {ROMAN[q]}", stt) for unit, items in report.missing for q, stt in items], report, (30, 10, 14))
    _sheet(book, "Lỗi nhập liệu", ["Tab", "Dòng", "Đơn vị", "Cột", "Nội dung"],
           [(e.tab, e.row, e.unit, e.column, e.message) for e in report.errors], report, (16, 8, 28, 14, 80))
    if k.unknown_status or k.not_counted:
        _sheet(book, "Dòng chưa tính", ["Loại", "Số dòng"],
               [("Chưa rõ tình trạng (ghi sai, chờ đơn vị sửa)", k.unknown_status),
                ("Dòng ngoài Kế hoạch hoặc trùng lặp (không tính)", k.not_counted)], report, (52, 12))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _sheet(book: Workbook, name: str, header: Sequence[str], rows: Iterable[Sequence[object]], report: Report,
           widths: Sequence[int]) -> None:
    from openpyxl.styles import Font
    sheet = book.create_sheet(name)  # a WriteOnlyWorksheet: the book is write-only
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A3"
    sheet.append(_cells(sheet, [f"{TITLE} ({report.period.name}, số liệu tính đến {format_date(report.as_of)})"],
                        Font(italic=True)))
    sheet.append(_cells(sheet, header, Font(bold=True)))
    for row in rows:  # unstyled: a style per cell costs more than the rest of the file
        sheet.append(_cells(sheet, row))


def _cells(sheet: WriteOnlyWorksheet, values: Sequence[object], font: Font | None = None) -> list[Cell]:
    """Numbers as numbers; everything else as inert text (never a formula)."""
    from openpyxl.cell import WriteOnlyCell
    out = []
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell = WriteOnlyCell(sheet, value)
        else:
            cell = WriteOnlyCell(sheet, "" if value is None else str(value))
            cell.data_type = "s"
        if font:
            cell.font = font
        out.append(cell)
    return out

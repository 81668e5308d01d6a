"""Build the quarter's report end to end: read the sheet, compute as of the cut-off, render, save.

The figures come from `sync.pipeline.compute`, the same function a `run` pass uses, so the report
equals the dashboard for the same date. Nothing is written to the sheet.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sync.config import Settings
from sync.errors import UserError
from sync.pipeline import PassOptions, compute
from sync.plan import Plan
from sync.workbook import Backend

from . import chart, content, document

FILE_NAME = "{year}-Q{n}-bao-cao-tuyen-truyen-cchc.docx"
PDF_TIMEOUT_S = 180


@dataclass
class Built:
    report: content.Report
    path: Path


def report_path(settings: Settings, quarter: content.Quarter) -> Path:
    return settings.report.out_dir / FILE_NAME.format(year=quarter.year, n=quarter.number)


def gather(settings: Settings, plan: Plan, backend: Backend, quarter: content.Quarter, as_of: dt.date | None,
           issued: dt.date, now: dt.datetime) -> content.Report:
    """The report's content; `as_of` defaults to the quarter's cut-off (ND 09/2019)."""
    cutoff = settings.deadlines.quarter_cutoff_day
    as_of = as_of or quarter.period(cutoff)[1]
    opts = PassOptions.from_settings(settings, as_of, now, dry_run=True)
    computed = compute(backend.read(), plan, settings.layout, opts, backend.describe())
    return content.build(computed.summary, plan, quarter, issued, cutoff, settings.report.texts)


def write(report: content.Report, settings: Settings, path: Path) -> Path:
    """Render and save atomically: a crash leaves the previous file or none, never half a document."""
    png = chart.status_by_unit(report.by_unit, f"Tình trạng thực hiện theo đơn vị - {report.quarter.label}/"
                                               f"{report.quarter.year}")
    data = document.to_bytes(document.render(report, settings.report, png))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def keep_sent_copy(path: Path, now: dt.datetime) -> Path | None:
    """Before a forced rebuild of a report already sent, keep what was sent next to it."""
    if not path.exists():
        return None
    copy = path.with_name(f"{path.stem}.da-gui-{now:%Y%m%d-%H%M%S}{path.suffix}")
    shutil.copy2(path, copy)
    return copy


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    exe = soffice()
    if exe is None:
        raise UserError("Không tìm thấy LibreOffice (lệnh 'soffice') để chuyển sang PDF. Cài gói "
                        "libreoffice-writer-nogui (Debian/Ubuntu: sudo apt-get install libreoffice-writer-nogui "
                        "fonts-liberation2) hoặc bỏ tùy chọn --pdf; tệp .docx vẫn dùng được.")
    return exe


def to_pdf(docx: Path) -> Path:
    """Convert with LibreOffice in a throw-away profile (a user's open LibreOffice must not block us)."""
    exe = require_soffice()
    with tempfile.TemporaryDirectory(prefix="cchc-lo-") as profile:
        cmd = [exe, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--convert-to", "pdf",
               "--outdir", str(docx.parent), str(docx)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise UserError(f"LibreOffice không chuyển xong '{docx}' sang PDF sau {PDF_TIMEOUT_S} giây.") from None
    pdf = docx.with_suffix(".pdf")
    if done.returncode != 0 or not pdf.exists():
        raise UserError(f"LibreOffice không chuyển được '{docx}' sang PDF: {(done.stderr or done.stdout).strip()}")
    return pdf

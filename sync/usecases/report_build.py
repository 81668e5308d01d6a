"""Build a period's report end to end: read the sheet, compute as of the data date, render, save.

The figures come from `sync.sheet.sync_pass.compute`, the same function a `run` pass uses, judged at the end of the
data date ("tính đến"): the report equals a dry run or export of that (past) date, and the dashboard of the
next morning when nothing was typed in between. Nothing is written to the sheet.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync import files
from sync.core.config import Settings
from sync.core.errors import UserError
from sync.core.periods import Period
from sync.core.plan import Plan
from sync.core.schema import Status
from sync.core.summary import Kpis, Summary
from sync.core.workbook import Backend
from sync.reports import chart, companion, content, document, evidence
from sync.reports.paths import FIGURES_SUFFIX, annex_path, excerpt_path
from sync.sheet.sync_pass import PassOptions, compute
from sync.state import past

if TYPE_CHECKING:
    from sync.core.trends import Progress
    from sync.state.store import State

PDF_TIMEOUT_S = 180


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


def gather(settings: Settings, plan: Plan, backend: Backend, period: Period, as_of: dt.date, issued: dt.date,
           now: dt.datetime, state: State | None = None) -> content.Report:
    """The report's content, every figure of `as_of`; a past date from history when it covers it (sync.state.past).
    `state`: the use case's state file (by default the configured one), whose passes draw the progress chart."""
    from sync.state.store import State
    cutoff = settings.deadlines.quarter_cutoff_day
    source = past.source_for(settings.state, plan, as_of, now.date())
    # "tính đến" the data date: at its end, even when that day is today (a report is then only a preview)
    opts = PassOptions.from_settings(settings, source.to_as_of().at_end(), now, dry_run=True)
    computed = compute(backend.read(), plan, settings.layout, opts, backend.describe())
    report = content.build(computed.summary, plan, period, issued, cutoff, settings.report.texts)
    report.source = source.sentence()
    report.progress = _progress(settings, plan, computed.summary, as_of, state or State(settings.state))
    report.office = computed.office.for_period(period)  # valid rows of the Báo cáo tab only
    if period.kind == "Y":
        report.next_plan = next_plan(settings)
        report.evidence = evidence.rows(computed.summary, plan)  # the year's evidence, for the CCHC self-assessment
    return report


def next_plan(settings: Settings) -> Plan | None:
    """Next year's plan (`report.next_plan`), for the annual report's "Phương hướng"; None when not set."""
    from sync.core.config import PROJECT_DIR
    from sync.core.plan import load_plan
    path = settings.report.next_plan
    if path is None:
        return None
    if not path.is_absolute() and not path.exists() and (PROJECT_DIR / path).exists():
        path = PROJECT_DIR / path
    if not path.exists():
        raise UserError(f"Không tìm thấy kế hoạch năm sau '{path}' (khóa cấu hình report.next_plan); sửa đường dẫn "
                        "hoặc để trống (null) khi chưa có kế hoạch năm sau.")
    return load_plan(path)


def _progress(settings: Settings, plan: Plan, summary: Summary, as_of: dt.date, state: State) -> list[Progress]:
    """The year's progress for the chart: the plan's expectation by each cut-off, done as recorded then; none
    (no chart) before any pass recorded figures in the state file."""
    from sync.core import periods, trends
    from sync.state.history import HistoryStore
    rs = settings.report
    cutoffs = [(p.label, p.cutoff(settings.deadlines.quarter_cutoff_day))
               for p in periods.cycle(plan.year, rs.cycle, rs.third)]
    dues = [r.checked.due for r in summary.results if r.checked.counted and r.checked.status != Status.CANCELLED]
    recorded = HistoryStore(state).recorded_done([d for _, d in cutoffs], as_of,
                                                                 [u.code for u in plan.registry.units])
    if recorded is None:
        return []
    return trends.progress(cutoffs, dues, recorded, as_of, summary.kpis.done)


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


def write(report: content.Report, settings: Settings, path: Path, built: dt.datetime | None = None) -> Path:
    """Render and save atomically: a crash leaves the previous file or none, never half a document. Temporary
    files a killed build left beside these files (an hour old or more: no build takes that long) are removed.
    `built` (when the build ran) is saved with the figures: `report --send` sends a draft built after its data
    date instead of rebuilding it."""
    for target in (path, figures_path(path), annex_path(path), excerpt_path(path), path.with_suffix(".pdf"),
                   evidence.path_for(path)):
        files.remove_leftovers(target, time.time() - files.LEFTOVER_AGE_S)
    png = chart.status_by_unit(report.by_unit, f"Tình trạng thực hiện theo đơn vị - {report.period.title}")
    progress = (chart.progress(report.progress, f"Tiến độ thực hiện năm {report.period.year}")
                if report.progress else None)
    files.write_bytes(path, document.to_bytes(document.render(report, settings.report, png, progress)))
    files.write_bytes(excerpt_path(path), document.to_bytes(document.render_excerpt(report)))
    figures = {"period": report.period.key, "as_of": report.as_of.isoformat(), "kpis": report.kpis.to_json(),
               "missing_count": report.missing_count, "issued": report.issued.isoformat(),
               "built": built.isoformat() if built else None}
    files.write_text(figures_path(path), json.dumps(figures, ensure_ascii=False, indent=1, default=str))
    files.write_bytes(annex_path(path), companion.to_bytes(report))
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
    """Convert with LibreOffice in a throw-away profile (a user's open LibreOffice must not block us), into a
    temporary folder first: the PDF beside the .docx is replaced whole, or left as it was on failure."""
    exe = require_soffice()
    pdf = docx.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="cchc-lo-") as work:
        profile, out = Path(work) / "profile", Path(work) / "out"
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
               "--outdir", str(out), str(docx)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise UserError(f"LibreOffice không chuyển xong '{docx}' sang PDF sau {PDF_TIMEOUT_S} giây.") from None
        made = out / pdf.name
        if done.returncode != 0 or not made.exists():
            raise UserError(f"LibreOffice không chuyển được '{docx}' sang PDF: {(done.stderr or done.stdout).strip()}")
        files.write_bytes(pdf, made.read_bytes())
    return pdf

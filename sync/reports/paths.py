"""Where a period's report and the files beside it live (`report.out_dir`), named so that two configurations
sharing the folder never write the same file. Light on purpose: "already sent?" (sync/usecases/owed.py) and the
witness beside a report need the names, not the report's builders."""
from __future__ import annotations

import hashlib
from pathlib import Path

from sync.core.config import Settings
from sync.core.periods import Period

FILE_NAME = "{key}-bao-cao-tuyen-truyen-cchc-{identity}.docx"
#: The Office's internal companion (sync.reports.companion): never attached to the report's e-mail.
ANNEX_SUFFIX = ".noi-bo.xlsx"
EXCERPT_SUFFIX = ".trich-doan.docx"
FIGURES_SUFFIX = ".so-lieu.json"


def identity(settings: Settings) -> str:
    """Six hex digits naming the plan file and the workbook: two configurations sharing `report.out_dir`
    never write the same file. Names, never absolute paths: a project folder moved or copied elsewhere keeps
    its reports and the witnesses of their sends (sync.state.identity.Witness)."""
    where = settings.google.spreadsheet_id if settings.backend == "google" else settings.local.path.name
    key = f"{settings.plan_path().name}|{settings.backend}|{where}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]


def report_path(settings: Settings, period: Period) -> Path:
    return settings.report.out_dir / FILE_NAME.format(key=period.key, identity=identity(settings))


def annex_path(path: Path) -> Path:
    """The Office's internal companion file (sync.reports.companion): never attached to the report's e-mail."""
    return path.with_name(path.stem + ANNEX_SUFFIX)


def excerpt_path(path: Path) -> Path:
    """The section for the Sở's own periodic CCHC report, ready to paste (document.render_excerpt)."""
    return path.with_name(path.stem + EXCERPT_SUFFIX)

"""The plan commands: `plan import` (a new year's plan from its signed Word file, as a draft plan YAML) and
`deadline` (how the job reads one Tiến độ phrase).

The Office types nothing twice: tasks, deadlines and units come from the annex table the leader signed
(the package sync/plan_import/ reads it), the units' codes and addresses from the configured plan. The result is a
draft to review (what could not be read surely is listed as "Cần xem lại"), never the configured plan itself.

`deadline`: how the job reads one Tiến độ phrase, for the Office to check a plan's wording before a year
starts. A phrase without a year is read in the plan's year, not the calendar's: in January the plan being
read is often last year's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.core import deadlines
from sync.core.config import Settings
from sync.core.errors import UserError
from sync.usecases.common import Line, Lines, write_output
from sync.usecases.ports import Ports


@dataclass(frozen=True)
class PlanImportRequest:
    source: Path  # the plan's .docx
    output: Path | None = None  # the YAML to write; None: returned for the CLI to print
    force: bool = False  # replace an existing `output`


@dataclass(frozen=True)
class PlanImportResult:
    yaml: str  # the draft plan
    output: Path | None  # where it was written; None: for the CLI to print
    tasks: int
    lines: tuple[Line, ...]


def plan_import(settings: Settings, ports: Ports, now: dt.datetime, request: PlanImportRequest,
                lines: Lines | None = None) -> PlanImportResult:
    """Read the plan's annex table (.docx) into a draft plan YAML, atomically into `output` when given; the units'
    codes and addresses come from the configured plan (`ports.plan`)."""
    from sync.plan_import.draft import import_plan, review, to_yaml
    lines = lines or Lines()
    source, output = request.source, request.output
    if not source.exists():
        raise UserError(f"Không tìm thấy tệp '{source}'.")
    if source.is_dir():
        raise UserError(f"'{source}' là một thư mục, không phải một tệp: chỉ tới tệp .docx của kế hoạch đã ký.")
    if output is not None and output.exists() and not request.force:
        raise UserError(f"Tệp '{output}' đã có; chọn tên khác hoặc thêm --force để ghi đè.")
    imported = import_plan(source, ports.plan)
    draft, drafts = imported.plan, imported.drafts
    text = to_yaml(draft, source, drafts, now.date())
    if output is not None:
        write_output(output, lambda tmp: tmp.write_text(text, encoding="utf-8"), settings)
        lines.say(f"Đã đọc {len(drafts)} nhiệm vụ từ '{source}' vào '{output}'. Kiểm tra lại đơn vị chủ trì/phối "
                  f"hợp của từng nhiệm vụ, rồi đặt khóa cấu hình 'plan: {output}', một bảng tính ('local.path' hoặc "
                  f"Google Sheet) và tệp 'state' mới cho năm {draft['year']}, và chạy 'python -m sync init'.")
    for line in review(draft, drafts, imported):
        lines.warn(f"Cần xem lại: {line}")
    return PlanImportResult(text, output, len(drafts), lines.all())


@dataclass(frozen=True)
class DeadlineRequest:
    phrase: str  # a Tiến độ phrase as the plan writes it ("Quý I/2024", "hằng tháng", "trước 30/6")
    year: int | None = None  # the year of a phrase naming none; default the plan's


@dataclass(frozen=True)
class DeadlineResult:
    year: int  # the year a phrase naming none is read in
    data: dict[str, Any]  # the JSON output: the phrase, its year and the schedule read from it


def deadline(ports: Ports, request: DeadlineRequest) -> DeadlineResult:
    """The schedule the phrase says, in the request's year (2000–2100) or, when None, the configured plan's year
    (the plan is opened only then, and with it the settings: sync.usecases.ports.plan_ports; a phrase with --year
    needs no configuration). No settings, workbook, state file or clock of its own: the phrase alone decides."""
    phrase, year = request.phrase, request.year
    if year is not None and not 2000 <= year <= 2100:
        raise UserError(f"--year {year}: năm phải trong khoảng 2000–2100 (ví dụ --year 2025).")
    if year is None:
        try:
            year = ports.plan.year
        except UserError as exc:
            raise UserError(f"{exc} Cần năm của kế hoạch để hiểu cụm từ; hoặc ghi rõ --year.") from None
    return DeadlineResult(year, deadlines.parse(phrase, year).to_json(phrase, year))

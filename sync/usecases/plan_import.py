"""`plan import`: a new year's plan from its signed Word file, as a draft plan YAML.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync.core.config import Settings
from sync.core.errors import UserError
from sync.usecases.common import Line, Lines, now_in, write_output

if TYPE_CHECKING:
    pass

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.


@dataclass(frozen=True)
class PlanImportResult:
    yaml: str  # the draft plan
    output: Path | None  # where it was written; None: for the CLI to print
    tasks: int
    lines: tuple[Line, ...]


def plan_import(settings: Settings, source: Path, output: Path | None = None, force: bool = False,
                lines: Lines | None = None) -> PlanImportResult:
    """Read the plan's annex table (.docx) into a draft plan YAML, atomically into `output` when given."""
    from sync.core.plan import load_plan
    from sync.plan_import.draft import import_plan, review, to_yaml
    lines = lines or Lines()
    if not source.exists():
        raise UserError(f"Không tìm thấy tệp '{source}'.")
    if output is not None and output.exists() and not force:
        raise UserError(f"Tệp '{output}' đã có; chọn tên khác hoặc thêm --force để ghi đè.")
    imported = import_plan(source, load_plan(settings.plan_path()))
    draft, drafts = imported.plan, imported.drafts
    text = to_yaml(draft, source, drafts, now_in(settings).date())
    if output is not None:
        write_output(output, lambda tmp: tmp.write_text(text, encoding="utf-8"), settings)
        lines.say(f"Đã đọc {len(drafts)} nhiệm vụ từ '{source}' vào '{output}'. Kiểm tra lại đơn vị chủ trì/phối "
                  f"hợp của từng nhiệm vụ, rồi đặt khóa cấu hình 'plan: {output}', một bảng tính ('local.path' hoặc "
                  f"Google Sheet) và tệp 'state' mới cho năm {draft['year']}, và chạy 'python -m sync init'.")
    for line in review(draft, drafts, imported):
        lines.warn(f"Cần xem lại: {line}")
    return PlanImportResult(text, output, len(drafts), lines.all())

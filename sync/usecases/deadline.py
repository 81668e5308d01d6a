"""`deadline`: how the job reads one Tiến độ phrase, for the Office to check a plan's wording before a year
starts. A phrase without a year is read in the plan's year, not the calendar's: in January the plan being
read is often last year's.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sync.core import deadlines
from sync.core.config import Settings
from sync.core.errors import UserError
from sync.usecases.ports import open_plan


@dataclass(frozen=True)
class DeadlineRequest:
    phrase: str  # a Tiến độ phrase as the plan writes it ("Quý I/2024", "hằng tháng", "trước 30/6")
    year: int | None = None  # the year of a phrase naming none; default the plan's


@dataclass(frozen=True)
class DeadlineResult:
    year: int  # the year a phrase naming none is read in
    data: dict[str, Any]  # the JSON output: the phrase, its year and the schedule read from it


def deadline(settings: Callable[[], Settings], request: DeadlineRequest) -> DeadlineResult:
    """The schedule the phrase says, in the request's year (2000–2100) or, when None, the configured plan's year
    (`settings` is read only then: a phrase with --year needs no configuration)."""
    phrase, year = request.phrase, request.year
    if year is not None and not 2000 <= year <= 2100:
        raise UserError(f"--year {year}: năm phải trong khoảng 2000–2100 (ví dụ --year 2025).")
    if year is None:
        try:
            year = open_plan(settings()).year
        except UserError as exc:
            raise UserError(f"{exc} Cần năm của kế hoạch để hiểu cụm từ; hoặc ghi rõ --year.") from None
    return DeadlineResult(year, deadlines.parse(phrase, year).to_json(phrase, year))

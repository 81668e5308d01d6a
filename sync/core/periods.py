"""Reporting periods of the CCHC cycle (docs/reports.md). Pure: no I/O, no clock.

CCHC reports run Quý I, 6 tháng đầu năm, Quý III (or 9 tháng) and năm: Q2 is covered by the 6-month
report and Q4 by the annual one (`cycle: cchc`, the default). `cycle: quarterly` keeps four quarterly
reports. A period's data window follows Nghị định 09/2019/NĐ-CP Điều 12: from the day after the
cut-off of the month before its first quarter to the cut-off day of its last month (15/12 – 14/06 for
the 6-month report with the default cut-off day 14).

A period is named by its key (`2024Q1`, `2024H1`, `2024Q3`, `2024M9`, `2024Y`, and `2024Q2`/`2024Q4`
in the quarterly cycle): the send ledger, the file names and the daemon all use it.

A report counts what units typed to the end of its data date (the cut-off day), as recorded by the last pass
dated on or before it (sync.state.history). When that pass is older than the date (no pass ran on a Saturday
cut-off), what units typed in between is not in the figures: `gap_warning` says so in the command's output, for
the Office, never in the document.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sync.core.deadlines import result_period
from sync.core.errors import UserError
from sync.core.schema import fold, quoted

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_FROM_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
#: kind → the quarters whose results the period covers
QUARTERS = {"Q1": (1,), "Q2": (2,), "H1": (1, 2), "Q3": (3,), "M9": (1, 2, 3), "Q4": (4,), "Y": (1, 2, 3, 4)}
FORMS = ("2024Q1, Q1/2024, \"Quý I/2024\"; 2024H1, \"6 tháng đầu năm 2024\"; 2024Q3, \"Quý III/2024\"; "
         "2024M9, \"9 tháng đầu năm 2024\"; 2024Y, \"năm 2024\"; hoặc auto")


@dataclass(frozen=True)
class Period:
    year: int
    kind: str  # a key of QUARTERS

    @property
    def key(self) -> str:
        """The ledger's and file names' spelling: 2024H1."""
        return f"{self.year}{self.kind}"

    @property
    def quarters(self) -> tuple[int, ...]:
        return QUARTERS[self.kind]

    @property
    def last_quarter(self) -> int:
        return self.quarters[-1]

    @property
    def single_quarter(self) -> bool:
        return len(self.quarters) == 1

    def window(self, cutoff_day: int = 14) -> tuple[dt.date, dt.date]:
        """First and last day of the period's data (ND 09/2019)."""
        return (result_period(self.year, self.quarters[0], cutoff_day)[0],
                result_period(self.year, self.last_quarter, cutoff_day)[1])

    def cutoff(self, cutoff_day: int = 14) -> dt.date:
        return self.window(cutoff_day)[1]

    @property
    def label(self) -> str:
        """Without the year, capitalised as a heading starts: "Quý III", "6 tháng đầu năm", "Năm"."""
        if self.kind.startswith("Q"):
            return f"Quý {ROMAN[self.last_quarter]}"
        return {"H1": "6 tháng đầu năm", "M9": "9 tháng đầu năm", "Y": "Năm"}[self.kind]

    @property
    def name(self) -> str:
        """As it reads inside a sentence: "quý III năm 2024", "6 tháng đầu năm 2024", "năm 2024"."""
        if self.kind.startswith("Q"):
            return f"quý {ROMAN[self.last_quarter]} năm {self.year}"
        return {"H1": f"6 tháng đầu năm {self.year}", "M9": f"9 tháng đầu năm {self.year}",
                "Y": f"năm {self.year}"}[self.kind]

    @property
    def title(self) -> str:
        """Capitalised for a file's display name or an e-mail subject: "Quý III năm 2024"."""
        return self.name[:1].upper() + self.name[1:]

    @property
    def short(self) -> str:
        """For attachment names, short enough to stay one MIME parameter: "Quý III-2024", "6 tháng-2024"."""
        if self.kind.startswith("Q"):
            return f"Quý {ROMAN[self.last_quarter]}-{self.year}"
        return {"H1": f"6 tháng-{self.year}", "M9": f"9 tháng-{self.year}", "Y": f"Năm {self.year}"}[self.kind]

    @property
    def next_name(self) -> str:
        """What follows, for the next-period section: quý II, 6 tháng cuối năm, quý IV, năm 2025."""
        if self.kind == "Y" or self.kind == "Q4":
            return f"năm {self.year + 1}" if self.kind == "Y" else f"quý I năm {self.year + 1}"
        if self.kind == "H1":
            return f"6 tháng cuối năm {self.year}"
        return f"quý {ROMAN[self.last_quarter + 1]} năm {self.year}"

def cycle(year: int, kind_of_cycle: str = "cchc", third: str = "quarter") -> list[Period]:
    """The periods reported in `year`, in order."""
    if kind_of_cycle == "quarterly":
        return [Period(year, f"Q{n}") for n in (1, 2, 3, 4)]
    return [Period(year, k) for k in ("Q1", "H1", "M9" if third == "nine_months" else "Q3", "Y")]


FORMS_QUARTERLY = "2024Q1, Q1/2024, \"Quý I/2024\"; 2024Q2; 2024Q3; 2024Q4; hoặc auto"


def in_cycle(period: Period, kind_of_cycle: str = "cchc", third: str = "quarter") -> Period:
    """`--quarter 2024Q2` and `2024Q4` mean the 6-month and annual reports in the CCHC cycle; `2024Q3`
    means the 9-month one when the Office reports nine months. The quarterly cycle reports quarters only:
    a 6-month, 9-month or annual period would be a second report (and a second e-mail) of the same data."""
    if kind_of_cycle != "cchc":
        if not period.kind.startswith("Q"):
            forms = FORMS_QUARTERLY.replace("2024", str(period.year))
            raise UserError(f"Kỳ báo cáo {period.name} không thuộc chu kỳ báo cáo theo quý (khóa cấu hình "
                            f"'report.cycle: quarterly'); dùng một quý: {forms}, "
                            "hoặc đặt 'report.cycle: cchc' để báo cáo 6 tháng và năm.")
        return period
    mapped = {"Q2": "H1", "Q4": "Y", "Q3": "M9" if third == "nine_months" else "Q3"}.get(period.kind, period.kind)
    return Period(period.year, mapped)


_PATTERNS = (
    (r"(\d{4})-?q([1-4])", "Q"), (r"q([1-4])/(\d{4})", "Q"), (r"quy(iv|iii|ii|i|[1-4])(?:/|nam)(\d{4})", "Q"),
    (r"(\d{4})-?h1", "H1"), (r"h1/(\d{4})", "H1"), (r"6thang(?:dau)?(?:nam)?(\d{4})", "H1"),
    (r"(\d{4})-?m9", "M9"), (r"m9/(\d{4})", "M9"), (r"9thang(?:dau)?(?:nam)?(\d{4})", "M9"),
    (r"(\d{4})-?y", "Y"), (r"nam(\d{4})", "Y"), (r"y/(\d{4})", "Y"),
)


def parse(text: str, kind_of_cycle: str = "cchc", third: str = "quarter") -> Period:
    """Every accepted spelling of a period (not `auto`: see `auto`). Raises UserError with the forms."""
    raw = fold(text or "").replace(" ", "").replace(".", "")
    for pattern, kind in _PATTERNS:
        m = re.fullmatch(pattern, raw)
        if not m:
            continue
        groups = m.groups()
        if kind != "Q":
            return in_cycle(Period(int(groups[0]), kind), kind_of_cycle, third)
        year, number = (groups[0], groups[1]) if groups[0].isdigit() and len(groups[0]) == 4 else (groups[1], groups[0])
        number = _FROM_ROMAN.get(number) or int(number)
        return in_cycle(Period(int(year), f"Q{number}"), kind_of_cycle, third)
    raise UserError(f"Kỳ báo cáo {quoted(text)} không hợp lệ; dùng một trong các dạng: {FORMS}.")


def is_auto(text: str | None) -> bool:
    return fold(text or "auto").replace(" ", "") == "auto"


def auto(today: dt.date, plan_year: int, cutoff_day: int = 14, kind_of_cycle: str = "cchc",
         third: str = "quarter") -> Period | None:
    """The period the Office reports on now: the last one of the plan's year whose cut-off has passed by
    `today` (on the cut-off day itself the data are still coming in). Never a period of another year:
    after the annual cut-off it stays the annual report; before the first cut-off there is none (None)."""
    passed = [p for p in cycle(plan_year, kind_of_cycle, third) if p.cutoff(cutoff_day) < today]
    return passed[-1] if passed else None


def last(plan_year: int, kind_of_cycle: str = "cchc", third: str = "quarter") -> Period:
    return cycle(plan_year, kind_of_cycle, third)[-1]


def first(plan_year: int, kind_of_cycle: str = "cchc", third: str = "quarter") -> Period:
    return cycle(plan_year, kind_of_cycle, third)[0]


# --- the days of typing a report's figures may miss ----------------------------------------------------------

def gap_warning(pass_date: dt.date | None, as_of: dt.date, cutoff: bool) -> str | None:
    """The sentence for a report whose figures of `as_of` come from a pass dated `pass_date`; None when that
    pass is of the day itself (or there is none: the figures are then today's entries seen as of the date)."""
    if pass_date is None or pass_date >= as_of:
        return None
    days = (as_of - pass_date).days
    first = pass_date + dt.timedelta(days=1)
    span = f"ngày {as_of:%d/%m/%Y}" if days == 1 else f"từ ngày {first:%d/%m/%Y} đến ngày {as_of:%d/%m/%Y}"
    what = "ngày chốt số liệu" if cutoff else "ngày số liệu"
    return (f"Lưu ý: lượt chạy cuối cùng đến {what} {as_of:%d/%m/%Y} là lượt ngày {pass_date:%d/%m/%Y}, sớm hơn "
            f"{what}; những gì các đơn vị nhập trong {days:02d} ngày ({span}) có thể chưa có trong số liệu của báo "
            "cáo. Để tránh: chạy daemon (có một lượt vào cuối mỗi ngày chốt, kể cả ngày nghỉ) hoặc thêm dòng cron "
            "của ngày chốt (README).")

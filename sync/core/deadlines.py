"""Deadlines: the plan's Vietnamese "Tiến độ" phrases, typed dates, and the quarterly reporting calendar.

Pure functions, no I/O. A phrase becomes a `Schedule`:

* once      — one due date ("Quý I/2024" → 31/03/2024, "trước ngày 15/6/2024" → 15/06/2024); a range or a
              list of months or quarters is due at its end ("Tháng 3-4/2024", "Tháng 12/2024 - tháng 01/2025",
              "Quý II-III/2024"), and `start` says where it begins;
* recurring — a result every period of the year ("Thường xuyên", "hằng tháng", "định kỳ hằng quý", "01 bài/tháng",
              "Định kỳ 6 tháng": `every` is half, a result in Q2 and Q4); `day`
              when the phrase sets the day of the period's last month ("Hàng quý, trước ngày 10 tháng cuối quý"),
              or with `next_period` of the next period's first month ("trước ngày 20 tháng đầu quý sau"); a
              day it cannot place is dropped with a `note`;
* event     — tied to something outside the plan ("Theo tiến độ Đề án", "Theo Kế hoạch của UBND tỉnh", "Đột xuất"); a
              date only when the phrase gives an expected one ("dự kiến trong quý II/2024") or the Office
              sets Hạn hoàn thành;
* unknown   — anything else; never an exception.

Quarterly results follow Nghị định 09/2019/NĐ-CP: a quarter's data runs from the 15th of the month before
the quarter to the 14th of its last month, so "Kết quả Quý I" is due by 14/03 (cut-off day configurable).

Working days in Vietnam (`WorkCalendar`, the daemon's timetable): weekends and public holidays off, make-up
Saturdays on. The `holidays` package knows the statutory holidays and the swaps the government announces (e.g.
in 2024, Monday 29/04 off and Saturday 04/05 worked); anything it does not know yet goes in config:
`daemon.extra_holidays`, `daemon.extra_workdays`. It is imported on first use: only what keeps a timetable
pays for it.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from sync.core.schema import fold, quoted

if TYPE_CHECKING:
    import holidays

ROMAN_NUMERALS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9,
                  "x": 10, "xi": 11, "xii": 12}
EXCEL_EPOCH = dt.date(1899, 12, 30)


class ScheduleKind(StrEnum):
    """How a Tiến độ phrase sets a deadline (see the module's docstring)."""

    ONCE = "once"
    RECURRING = "recurring"
    EVENT = "event"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Schedule:
    kind: ScheduleKind
    due: dt.date | None = None     # once: the date; event: the expected date, if any
    every: str | None = None       # recurring: week | month | quarter | half | year
    until: dt.date | None = None   # recurring: last day it runs
    expected: bool = False         # event: `due` is an estimate given in the phrase
    note: str | None = None        # why a phrase is unknown, or what of it was not understood, in Vietnamese
    day: int | None = None         # recurring: each result is due by this day of the period's last month
    start: dt.date | None = None   # once: first day of a range of months or quarters
    next_period: bool = False      # recurring: `day` is in the first month of the next period instead

    def to_json(self, phrase: str = "", year: int | None = None) -> dict[str, Any]:
        out = {"phrase": phrase, "year": year, **asdict(self), "kind": self.kind.value}
        for key in ("due", "until", "start"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


class DateError(ValueError):
    """A typed date that is not a real date; the message is Vietnamese, for the sheet."""


# --- calendar helpers -----------------------------------------------------------------------------------

def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def quarter_end(year: int, quarter: int) -> dt.date:
    return month_end(year, quarter * 3)


def day_over(due: dt.date, as_of: dt.date) -> bool:
    """Whether a due day is over on `as_of`: only once the date is after it. Something due on D is neither
    overdue nor missing during D itself. The one rule for overdue flags and owed quarterly results."""
    return as_of > due


@lru_cache(maxsize=256)
def result_period(year: int, quarter: int, cutoff_day: int = 14) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter's reporting data (ND 09/2019): 15/12 – 14/03 for Q1."""
    last_month = quarter * 3
    end = dt.date(year, last_month, cutoff_day)
    start_month, start_year = (last_month - 3, year) if last_month > 3 else (12, year - 1)
    start = dt.date(start_year, start_month, cutoff_day) + dt.timedelta(days=1)
    return start, end


def quarter_result_due(schedule: Schedule, year: int, quarter: int, cutoff_day: int = 14) -> dt.date:
    """When a quarter's result is due: the day the task's own Tiến độ sets in the quarter's last month
    ("Hàng quý, trước ngày 10 tháng cuối quý"), else the ND 09/2019 cut-off."""
    if schedule.kind == ScheduleKind.RECURRING and schedule.every == "quarter" and schedule.day:
        month = quarter * 3 + (1 if schedule.next_period else 0)  # "tháng đầu quý sau": Q4's is in January
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        return dt.date(year, month, min(schedule.day, calendar.monthrange(year, month)[1]))  # "ngày 31": month's end
    return result_period(year, quarter, cutoff_day)[1]


# --- typed dates ----------------------------------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2})?)?$")
_WORDS = re.compile(r"^ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})$")


def parse_date(value: object) -> dt.date | None:
    """A date typed by a unit: a real date cell, a sheet serial number, or dd/mm/yyyy text.

    Returns None for an empty cell; raises DateError for text that is not a real date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < value < 80000:  # a date serial number (1954–2119), as Sheets and Excel store dates
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise DateError(f"{quoted(value)} không phải là ngày; nhập theo dạng dd/mm/yyyy")
    text = fold(value)
    if not text:
        return None
    for pattern, order in ((_DMY, "dmy"), (_YMD, "ymd"), (_WORDS, "dmy")):
        match = pattern.match(text)
        if match:
            parts = [int(p) for p in match.groups()]
            day, month, year = parts if order == "dmy" else parts[::-1]
            if len(match.group(3 if order == "dmy" else 1)) == 2:  # "05/03/24": this century
                year += 2000
            if not 2000 <= year <= 2100:  # "01/01/1900", "0001-01-01": a slip, not a date of the plan
                raise DateError(f"{quoted(value)}: năm {year} không hợp lý cho kế hoạch này; nhập theo dạng "
                                "dd/mm/yyyy, ví dụ 05/03/2024")
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise DateError(f"{quoted(value)} không phải là ngày có thật "
                                f"(kiểm tra lại ngày và tháng, dạng dd/mm/yyyy)") from None
    raise DateError(f"Không đọc được ngày {quoted(value)}; nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2024")


def format_date(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


# --- phrases --------------------------------------------------------------------------------------------

_RECURRING = (
    (re.compile(r"\b(hang|moi) tuan\b"), "week"),
    # "Định kỳ 6 tháng", "6 tháng một lần", "hằng nửa năm": half-yearly (a result owed in Q2 and Q4)
    (re.compile(r"\bdinh ky (06|6|sau) thang\b|\b(06|6|sau) thang (mot|1) lan\b|\b(hang|moi) (6 thang|nua nam)\b"),
     "half"),
    # "01 bài/tháng", "2 tin mỗi tháng": a monthly output (owed each quarter)
    (re.compile(r"\b(hang|moi) thang\b|dinh ky (hang )?thang|(?<!\d)\s*/\s*thang\b"), "month"),
    (re.compile(r"\b(hang|moi) quy\b|dinh ky (hang )?quy|theo quy\b(?! dinh)"), "quarter"),
    (re.compile(r"\b(hang|moi) nam\b"), "year"),
    (re.compile(r"\bthuong xuyen\b|lien tuc|\bdinh ky\b"), "quarter"),
)
_EVENT = re.compile(r"theo tien do|sau khi|\bdot xuat\b|khi co (yeu cau|chi dao|van ban)|theo (de nghi|yeu cau|chi dao)"
                    r"|khi duoc|tuy theo|theo lo trinh|khi co"
                    # a body's own document sets the date: "Theo Kế hoạch của UBND tỉnh", "theo văn bản của Bộ"
                    r"|^theo (ke hoach|van ban|thong bao|huong dan|quyet dinh|cong van|chuong trinh)\b")
_YEAR = re.compile(r"\b(20\d\d)\b")
_FULL_DATE = re.compile(r"(?<![\d/])(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})(?![\d/])")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_WORD_DATE = re.compile(r"ngay (\d{1,2}) thang (\d{1,2})(?: nam (\d{4}))?")
_DAY_MONTH = re.compile(r"(?:ngay|truoc|den|han|cham nhat)\s*(?:ngay\s*)?(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
_QUARTER = re.compile(r"(?:\bquy|\bq)\s*(iv|iii|ii|i|[1-4])\b"
                      r"((?:\s*(?:,|va|-|den)\s*(?:quy\s*)?(?:iv|iii|ii|i|[1-4])\b)*)")
_MONTH = re.compile(r"\bthang\s*(xii|xi|x|ix|viii|vii|vi|v|iv|iii|ii|i|1[0-2]|0?[1-9])\b")
_HALF = re.compile(r"\b(6|sau|9|chin) thang (dau|cuoi)?\s*nam\b|\bnua (dau|cuoi) nam\b")
_M = r"(1[0-2]|0?[1-9])"
# "Tháng 3-4/2024", "Tháng 3, 4/2024", "Từ tháng 4 đến tháng 6/2024", "tháng 3, 4 và 5 năm 2024"
_MONTH_LIST = re.compile(r"\bthang\s*" + _M
                         + r"((?:\s*(?:,|-|va|den|toi)\s*(?:thang\s*)?(?:1[0-2]|0?[1-9])\b(?!\s*/\s*\d{1,2}\b))+)"
                         r"(?:\s*(?:/|nam)\s*(20\d\d))?")
# "Tháng 12/2024 - tháng 01/2025": a range across the year end, each end with its year
_MONTH_SPAN = re.compile(r"\bthang\s*" + _M + r"\s*(?:/|nam)\s*(20\d\d)\s*(?:-|den|toi)\s*(?:thang\s*)?" + _M
                         + r"\s*(?:/|nam)\s*(20\d\d)")
_RECURRING_DAY = re.compile(r"\bngay\s*(\d{1,2})\b(?!\s*[/.\-]\s*\d)")
_WHOLE_YEAR = re.compile(r"\b(trong|ca|cuoi|het) nam\b|\bnam 20\d\d\b|^20\d\d$")


def _numeral(token: str) -> int:
    return ROMAN_NUMERALS[token] if token in ROMAN_NUMERALS else int(token)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _months(text: str, year: int) -> tuple[dt.date, dt.date] | None:
    """(first day, last day) of a range or list of months, the year end crossed where the months say so."""
    match = _MONTH_SPAN.search(text)
    if match:
        m1, y1, m2, y2 = (int(g) for g in match.groups())
        first, last = dt.date(y1, m1, 1), month_end(y2, m2)
        return (first, last) if first <= last else None
    match = _MONTH_LIST.search(text)
    if not match:
        return None
    months = [int(match.group(1))] + [int(m) for m in re.findall(r"1[0-2]|0?[1-9]", match.group(2))]
    last_year = int(match.group(3)) if match.group(3) else year
    # the year written at the end belongs to the last month; an earlier month greater than a later one is
    # in the year before ("tháng 12 - tháng 1/2025")
    wraps = sum(1 for a, b in zip(months, months[1:], strict=False) if b < a)
    return dt.date(last_year - wraps, months[0], 1), month_end(last_year, months[-1])


_OWN_YEAR = re.compile(r"\s*(?:/|nam)\s*(20\d\d)")


def _own_year(text: str, end: int, year: int) -> int:
    """The year written right after a month or quarter ("tháng 9/2024", "quý I năm 2025"), else `year`."""
    match = _OWN_YEAR.match(text, end)
    return int(match.group(1)) if match else year


def _periods(text: str, year: int) -> tuple[dt.date | None, dt.date] | None:
    """(first day, last day) of the months, quarters and halves a phrase names: the latest end, and the
    earliest start when it names more than one period (a range, a list, "Đợt 1: tháng 3; đợt 2: tháng 9")."""
    spans: list[tuple[dt.date, dt.date]] = []
    rest = text
    match = _MONTH_SPAN.search(rest) or _MONTH_LIST.search(rest)
    months = _months(rest, year) if match else None
    if match and months:
        spans.append(months)
        rest = rest[:match.start()] + " " * (match.end() - match.start()) + rest[match.end():]
    for match in _MONTH.finditer(rest):
        yr = _own_year(rest, match.end(), year)
        month = _numeral(match.group(1))
        spans.append((dt.date(yr, month, 1), month_end(yr, month)))
    for match in _QUARTER.finditer(rest):
        quarters = [_numeral(match.group(1))] + [_numeral(q) for q in re.findall(r"iv|iii|ii|i|[1-4]", match.group(2))]
        if max(quarters) > 4:
            continue
        yr = _own_year(rest, match.end(), year)
        wraps = sum(1 for a, b in zip(quarters, quarters[1:], strict=False) if b < a)  # "Quý IV - Quý I/2025"
        spans.append((dt.date(yr - wraps, quarters[0] * 3 - 2, 1), quarter_end(yr, quarters[-1])))
        if len(quarters) > 1:
            spans.append((spans[-1][0], spans[-1][0]))  # a range: its start counts even when alone
    for match in _HALF.finditer(rest):
        length = 9 if match.group(1) in ("9", "chin") else 6
        second_half = "cuoi" in (match.group(2) or "", match.group(3) or "")
        spans.append((dt.date(year, 7 if second_half else 1, 1), month_end(year, 12 if second_half else length)))
    if not spans:
        return None
    start = min(s for s, _ in spans)
    end = max(e for _, e in spans)
    several = len(spans) > 1 or (months is not None and months[0].month != months[1].month)
    return (start if several and start < end else None), end


def _date_in(text: str, year: int) -> tuple[dt.date | None, str | None]:
    """The latest due date a phrase (without its recurring/event words) names, or a reason why not."""
    if _MONTH_SPAN.search(text) or _MONTH_LIST.search(text):  # "Tháng 3-4/2024" is not the 3rd of April
        span = _periods(text, year)
        if span:
            return span[1], None
    for match in _FULL_DATE.finditer(text):
        day, month, yr = (int(g) for g in match.groups())
        found = _safe_date(yr, month, day)
        return (found, None) if found else (None, f"ngày {match.group(0)} không có thật")
    for match in _ISO_DATE.finditer(text):
        yr, month, day = (int(g) for g in match.groups())
        found = _safe_date(yr, month, day)
        return (found, None) if found else (None, f"ngày {match.group(0)} không có thật")
    for pattern in (_WORD_DATE, _DAY_MONTH):
        words = pattern.search(text)
        if words:
            day, month = int(words.group(1)), int(words.group(2))
            yr = int(words.group(3)) if words.lastindex and words.lastindex >= 3 and words.group(3) else year
            found = _safe_date(yr, month, day)
            return (found, None) if found else (None, f"ngày {day}/{month} không có thật")
    span = _periods(text, year)
    if span:
        return span[1], None
    if _WHOLE_YEAR.search(text):
        return dt.date(year, 12, 31), None
    return None, None


_NEXT_PERIOD = {"quarter": re.compile(r"\b(?:thang dau (?:cua )?)?quy (?:sau|tiep theo|ke tiep)\b"),
                "month": re.compile(r"\bthang (?:sau|tiep theo|ke tiep)\b")}
_LAST_MONTH = re.compile(r"\bthang cuoi (?:cua )?quy\b")


def _recurring_day(text: str, every: str) -> tuple[int | None, bool, str | None]:
    """(day, in the next period, remark) of "trước ngày N …" in a recurring phrase."""
    match = _RECURRING_DAY.search(text)
    if not match:
        return None, False, None
    day = int(match.group(1))
    after = re.split(r"[;,(]", text[match.end():], maxsplit=1)[0]
    dropped = f"chưa hiểu 'ngày {day}' trong tiến độ: hạn nộp kết quả theo mốc chung (ngày 14 tháng cuối quý)"
    if every not in ("month", "quarter"):
        return None, False, dropped
    if not 1 <= day <= 31:
        return None, False, f"ngày {day} không có thật: hạn nộp kết quả theo mốc chung (ngày 14 tháng cuối quý)"
    if _NEXT_PERIOD[every].search(after):
        return day, True, None
    if every == "quarter" and re.search(r"\b(?:thang|quy)\b", after) and not _LAST_MONTH.search(after):
        return None, False, dropped  # "tháng giữa quý", "tháng đầu quý": not a day this model can hold
    return day, False, None


def parse(phrase: object, year: int | None = None) -> Schedule:
    """Parse a Tiến độ phrase. `year` is used when the phrase names none (default: the current year)."""
    text = fold(phrase)
    if not text:
        return Schedule(ScheduleKind.UNKNOWN, note="Chưa có tiến độ")
    years = [int(y) for y in _YEAR.findall(text)]
    yr = years[0] if years else (year or dt.date.today().year)
    main = re.sub(r"\([^)]*\)", " ", text).strip()
    aside = " ".join(re.findall(r"\(([^)]*)\)", text))

    for pattern, every in _RECURRING:
        if pattern.search(main):
            day, next_period, note = _recurring_day(text, every)
            return Schedule(ScheduleKind.RECURRING, every=every, until=dt.date(yr, 12, 31), day=day,
                            next_period=next_period, note=note)
    if _EVENT.search(main):
        due, _ = _date_in(aside, yr) if aside else (None, None)
        return Schedule(ScheduleKind.EVENT, due=due, expected=due is not None)
    due, problem = _date_in(main, yr)
    if due:
        span = _periods(main, yr)
        return Schedule(ScheduleKind.ONCE, due=due, start=span[0] if span and span[1] == due else None)
    if problem:
        return Schedule(ScheduleKind.UNKNOWN, note=problem)
    if aside and _EVENT.search(aside):
        return Schedule(ScheduleKind.EVENT)
    return Schedule(ScheduleKind.UNKNOWN, note=f"Không hiểu tiến độ {quoted(phrase)}")


# --- working days ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkCalendar:
    extra_holidays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_workdays: frozenset[dt.date] = field(default_factory=frozenset)

    @cached_property
    def _law(self) -> holidays.HolidayBase:
        import holidays
        return holidays.country_holidays("VN", language="vi")

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        return self._law.is_working_day(day)

    def holiday_name(self, day: dt.date) -> str | None:
        if day in self.extra_holidays:
            return "ngày nghỉ theo cấu hình"
        name = self._law.get(day)  # typed `str | Any` by the package: the name(s) joined, or None
        return name if isinstance(name, str) else None

    def first_working_day_after(self, day: dt.date) -> dt.date:
        nxt = day + dt.timedelta(days=1)
        while not self.is_working_day(nxt):
            nxt += dt.timedelta(days=1)
        return nxt

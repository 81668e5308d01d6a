"""Working days in Vietnam: weekends and public holidays off, make-up Saturdays on (docs/operations.md).

The `holidays` package knows the statutory holidays and the swaps the government announces (e.g. in
2024, Monday 29/04 off and Saturday 04/05 worked). Anything it does not know yet goes in config:
`daemon.extra_holidays`, `daemon.extra_workdays`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import holidays


@dataclass(frozen=True)
class WorkCalendar:
    extra_holidays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_workdays: frozenset[dt.date] = field(default_factory=frozenset)

    @cached_property
    def _law(self) -> holidays.HolidayBase:
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

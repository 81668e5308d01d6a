"""Which report is owed (sync/usecases/owed.py): the one answer `report --period auto` and the daemon's timetable
both take. Plain settings, the witness beside the report as the record of who has it; no workbook, no mail."""
from __future__ import annotations

import datetime as dt

import pytest

from sync.core.config import Settings
from sync.reports.build import report_path
from sync.state.store import Witness
from sync.usecases.owed import Ask, Timetable, cutoff_days, next_report, report_owed

from .conftest import PLAN_PATH

LEADERS = ["lanhdao@example.invalid", "sonoivu@example.invalid"]


@pytest.fixture
def site(tmp_path) -> Settings:
    return Settings.model_validate({
        "state": str(tmp_path / "state.sqlite"), "plan": str(PLAN_PATH), "local": {"path": str(tmp_path / "wb.xlsx")},
        "report": {"out_dir": str(tmp_path / "out")}, "mail": {"report_to": LEADERS}})


def _sent(site: Settings, key: str, to: list[str]) -> None:
    """The witness beside the period's report lists `to` as having it (as after a sending)."""
    from sync.core import periods
    period = periods.parse(key)
    path = report_path(site, period)
    path.parent.mkdir(parents=True, exist_ok=True)
    witness = Witness(path, period.key)
    for address in to:
        witness.record(address, dt.datetime(2024, 9, 16, 8, 0), f"<{address}>")


def test_nothing_is_owed_before_the_first_cut_off_is_over(site):
    owed = report_owed(site, 2024, dt.date(2024, 3, 14))  # the cut-off day itself: units still type
    assert owed.period is None and owed.first.key == "2024Q1" and owed.to_send(dt.date(2024, 3, 14)) is None
    assert report_owed(site, 2024, dt.date(2024, 3, 15)).period.key == "2024Q1"


def test_the_timetable_sends_on_the_first_working_day_after_the_cut_off_and_catches_up_a_week(site):
    timetable = Timetable.of(site)
    owed = report_owed(site, 2024, dt.date(2024, 9, 16), timetable=timetable)  # Q3's cut-off: Saturday 14/09
    assert owed.period.key == "2024Q3" and not owed.sent and not owed.final
    assert (owed.due, owed.until) == (dt.date(2024, 9, 16), dt.date(2024, 9, 23))
    assert owed.to_send(dt.date(2024, 9, 16)) == owed.period
    assert owed.to_send(dt.date(2024, 9, 24)) is None  # too late: the Office sends it by hand
    # a person's command has no timetable: it sends whenever asked
    assert report_owed(site, 2024, dt.date(2024, 9, 16)).to_send(dt.date(2024, 9, 16)) is None


def test_a_report_every_recipient_has_is_owed_no_more(site):
    _sent(site, "2024Q3", LEADERS[:1])
    day = dt.date(2024, 9, 17)
    assert not report_owed(site, 2024, day).sent  # one recipient still waits
    _sent(site, "2024Q3", LEADERS[1:])
    timetable = Timetable.of(site)
    owed = report_owed(site, 2024, day, timetable=timetable)
    assert owed.sent and owed.to_send(day) is None and not owed.year_done
    # a person's `report --send` asks only of the year's last report; a preview never asks
    assert not report_owed(site, 2024, day, ask=Ask.FINAL).sent
    assert not report_owed(site, 2024, day, ask=Ask.NEVER).sent


def test_after_the_annual_report_went_next_years_plan_is_needed(site):
    day = dt.date(2025, 1, 5)
    assert report_owed(site, 2024, day).period.key == "2024Y"  # never a period of another year
    _sent(site, "2024Y", LEADERS)
    assert report_owed(site, 2024, day, ask=Ask.FINAL).year_done
    assert not report_owed(site, 2024, day, ask=Ask.NEVER).year_done


def test_the_next_report_skips_what_was_sent_and_what_is_too_late(site):
    at = dt.time(8, 0)
    found = next_report(site, 2024, dt.datetime(2024, 8, 30, 18, 0), at)
    assert found is not None and found[0].key == "2024Q3" and found[1] == dt.datetime(2024, 9, 16, 8, 0)
    _sent(site, "2024Q3", LEADERS)
    found = next_report(site, 2024, dt.datetime(2024, 9, 17, 9, 0), at)
    assert found is not None and found[0].key == "2024Y" and found[1] == dt.datetime(2024, 12, 16, 8, 0)
    assert next_report(site, 2024, dt.datetime(2025, 2, 1, 9, 0), at) is None


def test_every_cut_off_day_of_the_year(site):
    assert sorted(cutoff_days(site, 2024)) == [dt.date(2024, 3, 14), dt.date(2024, 6, 14), dt.date(2024, 9, 14),
                                               dt.date(2024, 12, 14)]

"""The daemon's timetable driven by a fake clock (no sleeping), with the real commands behind it."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest
import schedule
from docx import Document

from sync.core.config import PROJECT_DIR, load_settings
from sync.core.deadlines import WorkCalendar
from sync.entry.daemon import Daemon, Job, Outcome

from .test_sending import LEADERS, configure, plan_with_emails


class FakeClock:
    """The one clock both `schedule` and the daemon read; tests move it forward by hand."""

    def __init__(self, start: dt.datetime):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def install(self, monkeypatch) -> None:
        clock = self

        class FakeDatetime(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.current if tz is None else clock.current.replace(tzinfo=tz)

        shim = types.SimpleNamespace(**{name: getattr(dt, name) for name in dir(dt) if not name.startswith("_")})
        shim.datetime = FakeDatetime
        monkeypatch.setattr(schedule, "datetime", shim)

    def run(self, daemon: Daemon, until: dt.datetime, step=dt.timedelta(minutes=10)) -> None:
        while self.current < until:
            self.current += step
            daemon.tick()


def _daemon(project, clock, monkeypatch, runner=None, **daemon_cfg) -> Daemon:
    clock.install(monkeypatch)
    settings = load_settings(str(project.config))
    settings.daemon = settings.daemon.model_copy(update=daemon_cfg)
    return Daemon(settings, 2024, clock, runner)


def _recorder(calls: list[Job]):
    """A runner that only notes what the daemon asked for."""
    return lambda job: (calls.append(job) or Outcome(0, ("ok",)))


def test_working_days_follow_the_law_and_the_config():
    cal = WorkCalendar()
    assert not cal.is_working_day(dt.date(2024, 9, 2))   # Quốc khánh
    assert not cal.is_working_day(dt.date(2024, 4, 29))  # swapped day off
    assert cal.is_working_day(dt.date(2024, 5, 4))       # the Saturday worked in exchange
    assert cal.first_working_day_after(dt.date(2024, 9, 14)) == dt.date(2024, 9, 16)
    custom = WorkCalendar(frozenset({dt.date(2024, 9, 16)}), frozenset({dt.date(2024, 9, 14)}))
    assert custom.is_working_day(dt.date(2024, 9, 14)) and not custom.is_working_day(dt.date(2024, 9, 16))


@pytest.mark.long
def test_a_week_of_the_daemon(demo_project, monkeypatch, tmp_path):
    configure(demo_project, plan=plan_with_emails(tmp_path))
    clock = FakeClock(dt.datetime(2024, 9, 13, 7, 0))  # Friday; Q3's cut-off is Saturday 14/09
    daemon = _daemon(demo_project, clock, monkeypatch, every_minutes=120)
    clock.run(daemon, dt.datetime(2024, 9, 17, 18, 0))  # to Tuesday evening
    runs = [a for a in daemon.actions if a[0] == "run"]
    # every 2 h from 07:00: 09, 11, 13, 15, 17 h fall in 07:30–17:30, on Fri, Mon and Tue; and Saturday 14/09,
    # the cut-off day, at work_end
    assert runs == [("run", 0)] * 16
    assert [a for a in daemon.actions if a[0] == "report"] == [("report", 0)]
    assert [a for a in daemon.actions if a[0] == "remind"] == [("remind", 0)]
    outbox = list((demo_project.root / "outbox").glob("*.eml"))
    reports = [p for p in outbox if "báo cáo kết quả" in _subject(p)]
    assert len(reports) == len(LEADERS)
    [built] = (demo_project.root / "reports/out").glob("2024Q3-bao-cao-tuyen-truyen-cchc-??????.docx")
    assert any("ngày 16 tháng 9 năm 2024" in p.text for c in Document(built).tables[0].rows[0].cells
               for p in c.paragraphs)  # issued the day it went


def _subject(path) -> str:
    import email
    from email.policy import default
    return email.message_from_bytes(path.read_bytes(), policy=default)["Subject"]


def test_holidays_have_no_passes_and_no_reminders(demo_project, monkeypatch):
    calls = []
    clock = FakeClock(dt.datetime(2024, 9, 1, 7, 0))  # Sunday, then Quốc khánh Mon 2 and Tue 3 September
    daemon = _daemon(demo_project, clock, monkeypatch, runner=_recorder(calls),
                     every_minutes=60)
    clock.run(daemon, dt.datetime(2024, 9, 3, 23, 0))
    assert calls == []
    clock.run(daemon, dt.datetime(2024, 9, 4, 11, 30))
    assert [c.command for c in calls] == ["run"] * 4  # Wednesday 08–11 h
    assert all(c.as_of == dt.date(2024, 9, 4) for c in calls)


def test_the_cut_off_day_gets_a_pass_at_work_end_whatever_day_it_is(demo_project, monkeypatch):
    """Q3's cut-off is Saturday 14/09/2024: what units type that day is in the Quý III figures only if a pass
    dated 14/09 records it. A Saturday that is not a cut-off day gets none."""
    calls = []
    clock = FakeClock(dt.datetime(2024, 9, 13, 18, 0))  # Friday evening, after work_end
    daemon = _daemon(demo_project, clock, monkeypatch, runner=_recorder(calls))
    clock.run(daemon, dt.datetime(2024, 9, 16, 7, 0))  # to Monday morning, before work_start
    assert [(c.command, c.as_of) for c in calls] == [("run", dt.date(2024, 9, 14))]
    calls.clear()
    clock.current = dt.datetime(2024, 9, 20, 18, 0)
    clock.run(daemon, dt.datetime(2024, 9, 23, 7, 0))  # the next weekend: no cut-off day
    assert [c for c in calls if c.command == "run"] == []
    assert dt.date(2024, 12, 14) in daemon.cutoff_days() and len(daemon.cutoff_days()) == 4


def test_serve_makes_a_pass_at_start_in_working_hours_and_stops_when_asked(demo_project, monkeypatch):
    calls = []
    clock = FakeClock(dt.datetime(2024, 9, 4, 9, 10))  # a Wednesday morning
    daemon = _daemon(demo_project, clock, monkeypatch, runner=_recorder(calls))

    def sleep(seconds):
        clock.current += dt.timedelta(seconds=seconds)
        if clock.current >= dt.datetime(2024, 9, 4, 11, 30):
            daemon.stop()
        return daemon.stopping.is_set()

    daemon.serve(sleep)
    assert [c.command for c in calls] == ["run", "run", "run"]  # 09:10 at start, then 10:10 and 11:10


def test_a_failing_action_is_logged_and_the_loop_goes_on(demo_project, monkeypatch, caplog):
    calls = []

    def flaky(job):
        calls.append(job)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return Outcome(2, ("Lỗi: Không tìm thấy tệp",)) if len(calls) == 2 else Outcome(0, ("ok",))

    clock = FakeClock(dt.datetime(2024, 9, 4, 7, 0))
    daemon = _daemon(demo_project, clock, monkeypatch, runner=flaky, every_minutes=60)
    clock.run(daemon, dt.datetime(2024, 9, 4, 11, 30))
    assert [a for a in daemon.actions] == [("run", 1), ("run", 2), ("run", 0), ("run", 0)]
    assert "disk full" in caplog.text and "mã 2" in caplog.text


def test_report_is_not_sent_long_after_its_cutoff(demo_project, monkeypatch):
    configure(demo_project)
    calls = []
    clock = FakeClock(dt.datetime(2024, 8, 5, 7, 0))  # Q2's report would have been due 17/06
    daemon = _daemon(demo_project, clock, monkeypatch, runner=_recorder(calls),
                     every_minutes=600)
    clock.run(daemon, dt.datetime(2024, 8, 5, 9, 0))
    assert not [c for c in calls if c.command == "report"]
    clock.current = dt.datetime(2024, 6, 20, 7, 0)  # within the catch-up window: it goes
    daemon = _daemon(demo_project, clock, monkeypatch, runner=_recorder(calls),
                     every_minutes=600)
    clock.run(daemon, dt.datetime(2024, 6, 20, 9, 0))
    assert [(c.command, c.period, c.send) for c in calls if c.command == "report"] == [("report", "2024H1", True)]


def test_sigterm_stops_the_daemon_cleanly(demo_project):
    demo_project.write_config({"local": {"path": str(demo_project.workbook)},
                               "state": str(demo_project.root / "state.sqlite"),
                               "daemon": {"every_minutes": 600, "work_start": "00:00", "work_end": "00:00"}})
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    proc = subprocess.Popen([sys.executable, "-m", "sync", "daemon", "--config", str(demo_project.config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=demo_project.root)
    try:
        first = proc.stdout.readline()
        assert "Bắt đầu" in first
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "SIGTERM" in rest and "Đã dừng" in rest and "Traceback" not in rest


def test_next_actions_inside_a_catch_up_window_knows_the_period_and_its_sends(demo_project, monkeypatch):
    """17/06/2024 10:00, the 6-month report not sent yet: the start-up line names the next try, in
    Vietnamese; once the ledger or the witness beside the report says it went, the next is Quý III."""
    from zoneinfo import ZoneInfo
    configure(demo_project)
    clock = FakeClock(dt.datetime(2024, 6, 17, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    daemon = _daemon(demo_project, clock, monkeypatch)
    line = daemon.next_actions()
    assert "chưa biết" not in line and "import" not in line, line
    assert "báo cáo 08:00 ngày 18/06/2024 (sau ngày chốt số liệu 14/06/2024)" in line, line
    assert demo_project.cli("report", "--period", "2024H1", "--date", "2024-06-17", "--send")[0] == 0
    assert "ngày chốt số liệu 14/09/2024" in daemon.next_actions()
    (demo_project.root / "state.sqlite").unlink()  # the witness beside the report still knows
    assert "ngày chốt số liệu 14/09/2024" in daemon.next_actions()


def test_after_the_years_turn_the_running_daemon_looks_for_the_new_plans_reports(demo_project, monkeypatch):
    """The config is switched to next year's plan and state file while the daemon runs (README: the year's
    turn): its next report action reads them, as cron's next command would."""
    import yaml
    clock = FakeClock(dt.datetime(2025, 3, 17, 7, 0))
    daemon = _daemon(demo_project, clock, monkeypatch, runner=_recorder(calls := []))
    assert daemon.plan_year == 2024
    plan = yaml.safe_load(Path(daemon.settings.plan_path()).read_text(encoding="utf-8"))
    plan["year"] = 2025
    new_plan = demo_project.root / "ke-hoach-2025.yaml"
    new_plan.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    demo_project.write_config({"plan": str(new_plan), "state": str(demo_project.root / "cchc-2025.sqlite")})
    daemon.report()  # Monday 17/03/2025: the first working day after the Quý I/2025 cut-off
    assert daemon.plan_year == 2025 and str(daemon.settings.state).endswith("cchc-2025.sqlite")
    assert [(j.command, j.period) for j in calls] == [("report", "2025Q1")]

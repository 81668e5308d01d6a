"""The report a leader signs: one meaning per figure, as-of data dates, the send witness, mail and files."""
from __future__ import annotations

import datetime as dt
import email
import json
import re
from email.policy import default

import openpyxl
import pytest
from docx import Document

from sync import files
from sync.backends.local import LocalBackend
from sync.core.config import Settings
from sync.core.history import AsOf, entries_as_of
from sync.core.periods import Period
from sync.core.schema import Layout
from sync.core.summary import KPI_LABELS
from sync.core.tables import Entry
from sync.mail.letters import report_body
from sync.reports import build
from sync.reports.build import annex_path, report_path
from sync.reports.content import count
from sync.sheet.sync_pass import PassOptions
from sync.usecases.demo import seed, synthetic_plan
from sync.usecases.pipeline import run_pass
from sync.usecases.report_build import gather

from .test_sending import LEADERS, configure
from .workbooks import values


def _plan(project):
    from sync.core.plan import load_plan

    from .conftest import PLAN_PATH
    return load_plan(PLAN_PATH)


def _build(project, *args: str) -> dict:
    code, out, err = project.cli("report", "--json", *args)
    assert code == 0, err
    return json.loads(out)


def _dashboard(path) -> dict[str, object]:
    from .test_report import _dashboard_kpis
    return _dashboard_kpis(path)


def _outbox(project) -> list:
    return [email.message_from_bytes(p.read_bytes(), policy=default)
            for p in sorted((project.root / "outbox").glob("*.eml"))]


# --- one meaning per figure -------------------------------------------------------------------------------

@pytest.mark.parametrize("rows, mistakes", [(76, 6), pytest.param(400, 0, marks=pytest.mark.scale)])
@pytest.mark.parametrize("kind", ["Q1", "H1", "Q3", "Y"])
def test_every_total_equals_its_list_and_the_dashboard_and_the_email(tmp_path, plan, rows, mistakes, kind):
    """On generated sheets: a pass the morning after the cut-off writes the dashboard; the report of the cut-off
    (and the same report built days later, as-of view) prints the same figures, each total equals the list under
    it, and the e-mail says the same."""
    period = Period(2024, kind)
    cutoff = period.cutoff()
    the_plan = plan if rows == 76 else synthetic_plan(plan, rows)
    path = tmp_path / "wb.xlsx"
    backend = LocalBackend(path)
    seed(backend, the_plan, cutoff, mistakes=mistakes)
    # the report's figures are "tính đến" the cut-off, at the end of that day: the next morning's dashboard
    morning = cutoff + dt.timedelta(days=1)
    run_pass(backend, the_plan, Layout(), PassOptions(AsOf(morning), dt.datetime.combine(morning, dt.time(7))))
    settings = Settings(report={"out_dir": tmp_path / "out"}, local={"path": path})
    on_the_day = dt.datetime.combine(cutoff, dt.time(17, 30))
    report = gather(settings, the_plan, backend, period, cutoff, cutoff, on_the_day)
    shown = _dashboard(path)
    for key, label in KPI_LABELS.items():
        expected = report.kpis.to_json()[key]
        assert shown[label] == expected or (shown[label] in ("", None) and expected is None), label
    # built days later, today's entries are read as they stood on the cut-off: the same identities hold
    later = dt.datetime.combine(cutoff + dt.timedelta(days=9), dt.time(8))
    for built in (report, gather(settings, the_plan, backend, period, cutoff, later.date(), later)):
        for name, (total, listed) in built.identities().items():
            assert total == listed, name

    body = report_body(period.name, report.as_of, report.kpis, "tệp wb.xlsx", report.missing_count)
    assert f"Hoàn thành: {report.kpis.done}/{report.kpis.rows}" in body
    assert f"Quá hạn: {report.kpis.overdue}\n" in body
    assert f"còn thiếu: {report.kpis.missing_quarterly}" in body

    path = build.write(report, settings, report_path(settings, period))
    doc = Document(path)
    text = "\n".join(p.text for p in doc.paragraphs)
    # the document counts tasks; the rows' figures and lists live in the Office's internal companion file
    assert f"hoàn thành {count(report.kpis.tasks_done)}/{count(report.kpis.tasks)} nhiệm vụ" in text
    assert not re.search(r"lượt (thực hiện|phân công|quá hạn)|×|chưa rõ tình trạng|lượt chạy", text)
    book = openpyxl.load_workbook(annex_path(path))
    assert book["Kết quả còn thiếu"].max_row - 2 == report.kpis.missing_quarterly
    assert book["Quá hạn theo dòng"].max_row - 2 == report.kpis.overdue
    figures = {r[0]: r[1] for r in book["Số liệu theo dòng"].iter_rows(min_row=3, values_only=True)}
    assert sum(int(v) for k, v in figures.items() if str(k).startswith("- ")) == report.kpis.rows


def test_as_of_view_counts_a_later_completion_as_in_progress_and_drops_later_results():
    entries = [
        Entry(row=2, stt=1, unit="VP", status="Hoàn thành", done_date="20/09/2024", evidence="x",
              results={1: "a", 2: "b", 3: "c", 4: "d"}),
        Entry(row=3, stt=2, unit="VP", status="Hoàn thành", done_date="10/09/2024", results={3: "c"}),
        Entry(row=4, stt=3, unit="VP", status="Đang thực hiện", done_date="ngày 31/02", results={}),
    ]
    viewed = entries_as_of(entries, dt.date(2024, 9, 14), 2024)
    assert (viewed[0].status, viewed[0].done_date) == ("Đang thực hiện", None)
    assert viewed[0].results == {1: "a", 2: "b", 3: "c", 4: ""}  # Q3's cut-off is the 14th itself
    assert viewed[1] is entries[1]  # done before the date: as typed
    assert viewed[2] is entries[2]  # a bad date stays for the checks to report
    assert entries[0].status == "Hoàn thành"  # pure: the input is not changed
    early = entries_as_of(entries, dt.date(2024, 6, 1), 2024)[0]
    assert early.results == {1: "a", 2: "", 3: "", 4: ""}


def test_a_past_data_date_turns_a_later_completion_into_work_in_progress_not_an_error(demo_project):
    from sync.core.deadlines import parse_date
    as_of = dt.date(2024, 3, 14)
    grid = values(demo_project.workbook)["Theo dõi"]
    head = list(grid[0])
    status, done = head.index("Tình trạng"), head.index("Ngày hoàn thành")

    def later(row) -> bool:
        try:
            day = parse_date(row[done])
        except ValueError:
            return False
        return day is not None and day > as_of
    later_done = sum(1 for r in grid[1:] if later(r) and r[status] == "Hoàn thành")
    assert later_done > 0  # the demo's entries run to September
    plan = _plan(demo_project)
    today_rules = run_pass(LocalBackend(demo_project.workbook), plan, Layout(),  # later dates: input errors
                           PassOptions(AsOf(as_of), dt.datetime(2024, 3, 14, 8), dry_run=True)).summary.kpis
    report = _build(demo_project, "--period", "2024Q1", "--date", "2024-03-20")
    assert report["done"] == today_rules.done - later_done
    assert report["errors"] < today_rules.errors
    assert report["rows"] == today_rules.rows
    doc = Document(demo_project.root / report["path"])
    assert "Tính đến ngày 14/3/2024, hoàn thành" in "\n".join(p.text for p in doc.paragraphs)
    code, out, err = demo_project.cli("run", "--as-of", as_of.isoformat(), "--dry-run", "--json")
    dry = json.loads(out)  # the dashboard of that date, computed: the same source, the same figures
    assert code == 0 and dry["source"] == "as_of"
    # a past date's figures are at its end, in a dry run as in the report
    assert {k: dry[k] for k in ("done", "errors", "missing_quarterly")} == {
        k: report[k] for k in ("done", "errors", "missing_quarterly")}


# --- the plan's year, auto, the daemon, status ------------------------------------------------------------

def test_after_the_annual_report_is_sent_auto_stops_and_status_asks_for_next_years_plan(demo_project):
    configure(demo_project)
    sent = _build(demo_project, "--send", "--date", "2024-12-16")
    assert sent["period"] == "2024Y" and sent["emails_sent"] == len(LEADERS)
    outbox = len(_outbox(demo_project))
    code, out, err = demo_project.cli("report", "--send", "--date", "2025-01-06")
    assert code == 0, err
    assert "Cần kế hoạch năm 2025" in out and "plan import" in out and len(_outbox(demo_project)) == outbox
    code, out, _ = demo_project.cli("status")
    assert "cần kế hoạch năm 2025" in out and "plan import" in out
    code, out, _ = demo_project.cli("status", "--json")
    assert "năm 2025" in json.loads(out)["new_plan_needed"]


@pytest.mark.long
def test_daemon_sends_the_annual_report_once_and_then_nothing_more(demo_project, monkeypatch):
    from .test_daemon import FakeClock, _daemon
    configure(demo_project)
    clock = FakeClock(dt.datetime(2024, 12, 13, 7, 0))
    daemon = _daemon(demo_project, clock, monkeypatch, every_minutes=600)
    clock.run(daemon, dt.datetime(2025, 1, 10, 18, 0), step=dt.timedelta(minutes=30))
    assert [a for a in daemon.actions if a[0] == "report"] == [("report", 0)]
    reports = [m for m in _outbox(demo_project) if "báo cáo kết quả" in m["Subject"]]
    assert len(reports) == len(LEADERS) and all(m["Subject"].endswith("năm 2024") for m in reports)


# --- the second witness of sends (a lost state file) ------------------------------------------------------

def test_a_lost_state_file_never_sends_the_report_twice(demo_project):
    configure(demo_project)
    first = _build(demo_project, "--period", "2024Q3", "--send", "--date", "2024-09-16")
    assert first["emails_sent"] == 2
    docx = demo_project.root / first["path"]
    witness = docx.with_name(docx.stem + ".da-gui.json")
    recorded = json.loads(witness.read_text(encoding="utf-8"))
    assert sorted(recorded["sent"]) == sorted(LEADERS) and recorded["period"] == "2024Q3"
    sent_bytes, mails = docx.read_bytes(), len(_outbox(demo_project))

    (demo_project.root / "state.sqlite").unlink()  # the ledger is gone
    code, out, err = demo_project.cli("report", "--period", "2024Q3", "--send", "--date", "2024-09-20")
    assert code == 2 and witness.name in err and "--force" in err and LEADERS[0] in err
    assert len(_outbox(demo_project)) == mails and docx.read_bytes() == sent_bytes
    rebuilt = _build(demo_project, "--period", "2024Q3", "--date", "2024-09-20")  # without --send: kept
    assert not rebuilt["built"] and docx.read_bytes() == sent_bytes

    forced = _build(demo_project, "--period", "2024Q3", "--send", "--force", "--date", "2024-09-20")
    assert forced["emails_sent"] == 2 and len(_outbox(demo_project)) == mails + 2
    [copy] = docx.parent.glob(f"{docx.stem}.da-gui-*.docx")
    assert copy.read_bytes() == sent_bytes  # the sent .docx is kept before the rebuild


def test_a_forced_rebuild_without_send_leaves_the_witness_naming_the_file_that_was_sent(demo_project):
    configure(demo_project)
    first = _build(demo_project, "--period", "2024Q3", "--send", "--date", "2024-09-16")
    docx = demo_project.root / first["path"]
    witness = docx.with_name(docx.stem + ".da-gui.json")
    assert {e["file"] for e in json.loads(witness.read_text(encoding="utf-8"))["sent"].values()} == {docx.name}
    sent_bytes = docx.read_bytes()
    forced = _build(demo_project, "--period", "2024Q3", "--force", "--date", "2024-09-20", "--as-of", "2024-09-14")
    assert forced["built"] and "emails_sent" not in forced
    [copy] = docx.parent.glob(f"{docx.stem}.da-gui-*.docx")
    received = {e["file"] for e in json.loads(witness.read_text(encoding="utf-8"))["sent"].values()}
    assert received == {copy.name} and copy.read_bytes() == sent_bytes  # not the rebuilt, unsent file


def test_the_witness_is_written_after_each_recipient(demo_project, monkeypatch):
    import sync.mail.letters
    from sync.core.errors import Unreachable
    configure(demo_project)
    real = sync.mail.letters.open_sender

    def second_fails(settings):
        sender = real(settings)
        calls = []

        class Sender:
            def send(self, msg):
                calls.append(msg["To"])
                if len(calls) == 2:
                    raise Unreachable("máy chủ thư không trả lời")
                return sender.send(msg)
        return Sender()

    monkeypatch.setattr(sync.mail.letters, "open_sender", second_fails)
    code, _, _ = demo_project.cli("report", "--period", "2024Q3", "--send", "--date", "2024-09-16")
    assert code == 3
    [witness] = (demo_project.root / "reports/out").glob("*.da-gui.json")
    assert list(json.loads(witness.read_text(encoding="utf-8"))["sent"]) == [LEADERS[0]]
    monkeypatch.setattr(sync.mail.letters, "open_sender", real)
    code, _, err = demo_project.cli("report", "--period", "2024Q3", "--send", "--date", "2024-09-16")
    assert code == 0, err  # the ledger knows the first one: only the second goes now
    assert sorted(m["To"] for m in _outbox(demo_project)) == sorted(LEADERS)


# --- mail and files ----------------------------------------------------------------------------------------

def test_the_annex_of_input_errors_is_never_attached_and_no_server_path_is_shown(demo_project):
    configure(demo_project)
    result = _build(demo_project, "--period", "2024Q3", "--send", "--date", "2024-09-16")
    assert result["annex"] and (demo_project.root / result["annex"]).exists()
    for msg in _outbox(demo_project):
        names = [part.get_filename() for part in msg.iter_attachments()]
        assert names == ["Báo cáo CCHC Quý III-2024.docx"]
        body = msg.get_body(("plain",)).get_content()
        assert str(demo_project.root) not in body and "tệp wb.xlsx" in body


def fake_pdf(monkeypatch) -> list:
    """`--pdf` without LibreOffice (its own conversion is tested in test_report_form.py): the PDFs made."""
    made = []

    def to_pdf(docx):
        pdf = docx.with_suffix(".pdf")
        pdf.write_bytes(b"%PDF-1.4 " + docx.read_bytes()[:16])
        made.append(pdf)
        return pdf
    monkeypatch.setattr(files, "to_pdf", to_pdf)
    monkeypatch.setattr(files, "require_soffice", lambda: "soffice")
    return made


def test_a_rebuilt_docx_never_keeps_a_stale_pdf(demo_project, monkeypatch):
    made = fake_pdf(monkeypatch)
    first = _build(demo_project, "--period", "2024H1", "--pdf")
    pdf = demo_project.root / first["pdf"]
    assert pdf.exists() and len(made) == 1
    second = _build(demo_project, "--period", "2024H1", "--date", "2024-06-20")  # rebuilt (not sent), no --pdf
    assert second["built"] and not pdf.exists()  # no PDF older than its .docx
    demo_project.write_config({"report": {"pdf": True}})
    third = _build(demo_project, "--period", "2024H1")
    assert third["pdf"] and len(made) == 2


@pytest.mark.parametrize("report, key", [
    ({"addressees": []}, "report.addressees"), ({"recipients": ["Như trên;", "  "]}, "report.recipients"),
    ({"cycle": "monthly"}, "report.cycle"), ({"third": "9 months"}, "report.third"),
    ({"subject": "Báo cáo {periode}"}, "report.subject"),
])
def test_report_keys_are_checked_like_every_other_key(demo_project, report, key):
    demo_project.write_config({"report": report})
    code, _, err = demo_project.cli("report", "--period", "2024Q1")
    assert code == 2 and key in err


# --- configuration of the cycle and the plan's number ------------------------------------------------------

def test_nine_months_and_quarterly_cycles(demo_project):
    demo_project.write_config({"report": {"third": "nine_months"}})
    result = _build(demo_project, "--quarter", "2024Q3")
    assert result["period"] == "2024M9" and "2024M9-" in result["path"]
    text = "\n".join(p.text for p in Document(demo_project.root / result["path"]).paragraphs)
    assert "II. KẾT QUẢ THỰC HIỆN 9 THÁNG ĐẦU NĂM 2024" in text and "NHIỆM VỤ QUÝ IV NĂM 2024" in text
    assert "từ ngày 15/12/2023 đến ngày 14/9/2024" in text
    demo_project.write_config({"report": {"cycle": "quarterly"}})
    result = _build(demo_project, "--date", "2024-06-20")
    assert result["period"] == "2024Q2" and result["as_of"] == "2024-06-14"
    text = "\n".join(p.text for p in Document(demo_project.root / result["path"]).paragraphs)
    assert "II. KẾT QUẢ THỰC HIỆN QUÝ II NĂM 2024" in text and "từ ngày 15/3/2024 đến ngày 14/6/2024" in text


def test_the_plans_number_is_cited_when_the_plan_file_knows_it(demo_project, tmp_path):
    import yaml

    from .conftest import PLAN_PATH
    raw = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    raw["number"] = "Số 35/KH-STTTT"
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = _build(demo_project, "--period", "2024Q1")
    opening = next(p.text for p in Document(demo_project.root / result["path"]).paragraphs
                   if p.text.startswith("Thực hiện"))
    assert "(ban hành ngày 28/2/2024)" in opening and "Số /KH" not in opening  # a number left blank is not cited
    demo_project.write_config({"plan": str(plan)})
    result = _build(demo_project, "--period", "2024Q1")
    opening = next(p.text for p in Document(demo_project.root / result["path"]).paragraphs
                   if p.text.startswith("Thực hiện"))
    assert "(Kế hoạch số 35/KH-STTTT ngày 28/2/2024)" in opening


def test_the_charts_bars_add_up_to_every_counted_row_an_unknown_status_counted_as_not_started(demo_project, plan):
    """The demo has a status no one can read: the report's chart counts it as not started, as the task rule does
    (nothing internal in the document), so each unit's bar is its tasks and all bars together the counted rows; the
    colours are the dashboard's."""
    from sync.reports import charts
    from sync.sheet.dashboard import STATUS_COLOURS
    settings = Settings(report={"out_dir": demo_project.root / "out"}, local={"path": demo_project.workbook})
    now = dt.datetime(2024, 9, 20, 8, 0)
    report = gather(settings, plan, LocalBackend(demo_project.workbook), Period(2024, "Q3"),
                          dt.date(2024, 9, 14), now.date(), now)
    assert report.kpis.unknown_status, "the demo should carry one unreadable status"
    bars = charts.series(report.by_unit)
    assert "Chưa rõ tình trạng" not in [name for name, _, _ in bars]
    assert [colour for _, colour, _ in bars] == [f"#{STATUS_COLOURS[s]}" for s in
                                                 ("done", "in_progress", "not_started", "cancelled")]
    per_unit = [sum(values[i] for _, _, values in bars) for i in range(len(report.by_unit))]
    assert per_unit == [u.rows for u in report.by_unit]
    counts = report.status_counts
    assert sum(per_unit) == report.kpis.rows - counts["not_counted"]


def test_a_report_with_another_data_date_is_a_preview_never_sent(demo_project):
    configure(demo_project)
    code, _, err = demo_project.cli("report", "--period", "2024H1", "--as-of", "2024-08-01", "--send",
                                    "--date", "2024-08-02")
    assert code == 2 and "--as-of" in err and "14/06/2024" in err
    assert _outbox(demo_project) == [] and not list((demo_project.root / "reports/out").glob("*.docx"))

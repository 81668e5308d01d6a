"""The built report is a draft for the Sở's leadership and Văn thư: `report --send` sends the draft already built
(with its PDF when one was made), and `report --json` says the kept file's dates and figures, never today's."""
from __future__ import annotations

import json

from sync.reports import build

from .test_report_cycle import _build, _outbox, fake_pdf
from .test_sending import LEADERS, configure


def test_send_sends_the_draft_already_built_with_its_pdf(demo_project, monkeypatch):
    configure(demo_project)
    made = fake_pdf(monkeypatch)
    draft = _build(demo_project, "--period", "2024Q3", "--date", "2024-09-18", "--pdf")
    docx = demo_project.root / draft["path"]
    built_bytes, pdf_bytes = docx.read_bytes(), (demo_project.root / draft["pdf"]).read_bytes()
    code, out, err = demo_project.cli("report", "--json", "--period", "2024Q3", "--send", "--date", "2024-09-23")
    assert code == 0, err
    sent = json.loads(out)
    assert not sent["built"] and sent["emails_sent"] == 2 and len(made) == 1
    assert sent["issued"] == "2024-09-18" and sent["rows"] == draft["rows"]  # the draft's, not re-issued
    assert "Gửi bản dự thảo báo cáo quý III năm 2024" in err and docx.read_bytes() == built_bytes
    for msg in _outbox(demo_project):
        parts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
        assert parts == {"Báo cáo CCHC Quý III-2024.docx": built_bytes, "Báo cáo CCHC Quý III-2024.pdf": pdf_bytes}


def test_a_draft_built_before_its_data_date_was_over_is_rebuilt_before_it_goes(demo_project):
    configure(demo_project)
    draft = _build(demo_project, "--period", "2024Q3", "--date", "2024-09-14")
    figures = build.figures_path(demo_project.root / draft["path"])
    saved = json.loads(figures.read_text(encoding="utf-8"))
    figures.write_text(json.dumps({**saved, "built": "2024-09-14T16:00:00+07:00"}), encoding="utf-8")
    sent = _build(demo_project, "--period", "2024Q3", "--send", "--date", "2024-09-16")
    assert sent["built"] and sent["issued"] == "2024-09-16" and sent["emails_sent"] == 2


def test_the_json_of_a_kept_report_gives_its_own_issue_date_and_figures(demo_project):
    configure(demo_project)
    first = _build(demo_project, "--period", "2024Q3", "--send", "--date", "2024-09-16")
    again = _build(demo_project, "--period", "2024Q3", "--date", "2024-09-30")
    assert not again["built"] and again["issued"] == "2024-09-16"
    assert {k: again[k] for k in ("as_of", "rows", "done", "overdue", "tasks_done")} == {
        k: first[k] for k in ("as_of", "rows", "done", "overdue", "tasks_done")}


def test_the_email_says_it_is_a_draft_and_what_to_do_next(demo_project):
    configure(demo_project)
    _build(demo_project, "--period", "2024Q3", "--send", "--date", "2024-09-16")
    messages = _outbox(demo_project)
    assert sorted(m["To"] for m in messages) == sorted(LEADERS)
    for msg in messages:
        assert msg["Subject"].startswith("[CCHC] Dự thảo báo cáo")
        body = msg.get_body(("plain",)).get_content()
        assert body.startswith("Kính gửi: Ban Giám đốc Sở và Văn thư Sở")
        for step in ("xem dự thảo", "cho số", "ký số", "hệ thống quản lý văn bản và điều hành"):
            assert step in body
        assert "Sở Nội vụ" not in body

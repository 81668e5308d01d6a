"""report --send and remind --send through a real SMTP server on loopback, exactly once via the ledger."""
from __future__ import annotations

import json
import re
import ssl

import pytest
import yaml
from filelock import FileLock

import sync.mail.letters
import sync.mail.mailer
from sync.core.schema import LOG_COLUMNS
from sync.mail.mailer import DOCX
from sync.state.store import State

from .conftest import PLAN_PATH
from .smtp import Inbox, self_signed, start
from .workbooks import values

LEADERS = ["lanhdao@example.invalid", "sonoivu@example.invalid"]
UNIT_MAIL = {"VP": "vp@example.invalid", "CNTT": "cntt@example.invalid", "TTBCXB": "ttbcxb@example.invalid",
             "TTDV": "ttdv@example.invalid", "CONG": "cong@example.invalid", "BBT": ["bbt@example.invalid",
                                                                                     "bbt2@example.invalid"]}


@pytest.fixture
def inbox():
    box = Inbox()
    controller = start(box)
    yield controller, box
    controller.stop()


def configure(project, port: int | None = None, plan=PLAN_PATH, **smtp) -> None:
    mail = {"report_to": LEADERS, "from": "Văn phòng Sở <vp@sotttt.example.invalid>",
            "outbox_dir": str(project.root / "outbox")}
    if port:
        mail.update(mode="smtp", smtp={"host": "127.0.0.1", "port": port, "security": "none", "attempts": 1,
                                       **smtp})
    project.write_config({"local": {"path": str(project.workbook)}, "state": str(project.root / "state.sqlite"),
                          "plan": str(plan), "mail": mail})


def plan_with_emails(tmp_path, **changes):
    raw = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    for unit in raw["units"]:
        unit["email"] = UNIT_MAIL[unit["code"]]
        unit.update(changes.get(unit["code"], {}))
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


# --- the quarterly report -------------------------------------------------------------------------------

def test_report_reaches_each_recipient_once_with_the_docx(demo_project, inbox):
    controller, box = inbox
    configure(demo_project, controller.port)
    code, out, err = demo_project.cli("report", "--quarter", "2024Q3", "--send", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["emails_sent"] == 2 and sorted(r for r, _ in box.messages) == [[a] for a in sorted(LEADERS)]
    docx = (demo_project.root / result["path"]).read_bytes()
    for msg in box.parsed():
        assert msg["Subject"] == "[CCHC] Dự thảo báo cáo kết quả tuyên truyền cải cách hành chính quý III năm 2024"
        body = msg.get_body(("plain",)).get_content()
        assert f"Hoàn thành: {result['done']}/{result['rows']}" in body
        assert f"Quá hạn: {result['overdue']}" in body and f"còn thiếu: {result['missing_quarterly']}" in body
        [part] = msg.iter_attachments()
        assert part.get_content_type() == DOCX
        assert part.get_filename() == "Báo cáo CCHC Quý III-2024.docx"
        assert "filename*0" not in part.as_string()  # one parameter, not RFC 2231 continuations
        assert part.get_content() == docx
    first_ids = {m["Message-ID"] for m in box.parsed()}

    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 0 and len(box.messages) == 2
    code, out, _ = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert "Không gửi lại" in out and len(box.messages) == 2

    code, _, _ = demo_project.cli("report", "--quarter", "2024Q3", "--send", "--force")
    assert code == 0 and all(box.count_for(a) == 2 for a in LEADERS)
    assert not first_ids & {m["Message-ID"] for m in box.parsed()[2:]}  # a forced resend is a new message


def test_server_down_is_exit_3_and_the_next_call_sends(demo_project, inbox):
    controller, box = inbox
    configure(demo_project, controller.port + 1 if controller.port < 65535 else 1)  # nobody listens there
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 3 and "Chưa gửi được" in err
    state = State(demo_project.root / "state.sqlite")
    assert state.sent_to("report", "2024Q3") == []
    assert {state.send_status("report", "2024Q3", a) for a in LEADERS} == {"failed"}
    configure(demo_project, controller.port)
    assert demo_project.cli("report", "--quarter", "2024Q3", "--send")[0] == 0
    assert all(box.count_for(a) == 1 for a in LEADERS)
    assert sorted(state.sent_to("report", "2024Q3")) == sorted(LEADERS)


class Crash(BaseException):
    """The process dying: not an error the program handles."""


def test_crash_between_recipients_then_rerun_gives_each_one_copy(demo_project, inbox, monkeypatch):
    controller, box = inbox
    configure(demo_project, controller.port)
    real = sync.mail.mailer.open_sender

    def crashing(settings):
        sender = real(settings)
        send = sender.send

        def send_then_die(msg):
            if box.messages:  # the first recipient already has it
                raise Crash()
            return send(msg)
        sender.send = send_then_die
        return sender

    monkeypatch.setattr(sync.mail.letters, "open_sender", crashing)
    with pytest.raises(Crash):
        demo_project.cli("report", "--quarter", "2024Q3", "--send")
    state = State(demo_project.root / "state.sqlite")
    assert state.sent_to("report", "2024Q3") == [LEADERS[0]]
    assert state.send_status("report", "2024Q3", LEADERS[1]) == "sending"  # never marked sent
    monkeypatch.setattr(sync.mail.letters, "open_sender", real)
    assert demo_project.cli("report", "--quarter", "2024Q3", "--send")[0] == 0
    assert [box.count_for(a) for a in LEADERS] == [1, 1]


def test_no_recipients_is_exit_2_naming_the_key(demo_project):
    demo_project.write_config({"local": {"path": str(demo_project.workbook)}})
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 2 and "mail.report_to" in err


def test_outbox_mode_writes_one_eml_per_recipient_once(demo_project):
    configure(demo_project)
    for _ in range(2):
        assert demo_project.cli("report", "--quarter", "2024Q3", "--send")[0] == 0
    assert len(list((demo_project.root / "outbox").glob("*.eml"))) == 2


def test_the_sender_is_one_address_and_a_name_with_a_comma_is_quoted_not_split(demo_project):
    """`mail.from` is checked at load like the recipients (a slip crashed the first sending, exit 1); a name
    holding a comma, as the Office may write it, reaches the recipient whole."""
    import email
    from email import policy
    configure(demo_project)
    settings = yaml.safe_load(demo_project.config.read_text(encoding="utf-8"))
    settings["mail"]["from"] = "Văn phòng, Sở TT&TT <vp@sotttt.example.invalid>"
    demo_project.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    assert demo_project.cli("report", "--quarter", "2024Q3", "--send")[0] == 0
    eml = next((demo_project.root / "outbox").glob("*.eml"))
    [sender] = email.message_from_bytes(eml.read_bytes(), policy=policy.default)["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Văn phòng, Sở TT&TT", "vp@sotttt.example.invalid")
    for bad in ("không phải địa chỉ", "", "Văn phòng <vp@sở.vn>"):
        settings["mail"]["from"] = bad
        demo_project.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        code, _, err = demo_project.cli("status")
        assert code == 2 and "mail.from" in err, (bad, err)


def test_one_report_per_address_however_the_address_is_written(demo_project):
    """The ledger and the witness know a recipient by the address, not by how report_to writes it: a name added,
    capitals, or the address listed twice never sends the report to one person again."""
    configure(demo_project)
    outbox = demo_project.root / "outbox"
    assert demo_project.cli("report", "--quarter", "2024Q3", "--send")[0] == 0
    assert len(list(outbox.glob("*.eml"))) == 2
    settings = yaml.safe_load(demo_project.config.read_text(encoding="utf-8"))
    settings["mail"]["report_to"] = ["Lãnh đạo Sở <lanhdao@example.invalid>", "SoNoiVu@Example.Invalid",
                                     "Sở Nội vụ <sonoivu@example.invalid>", "vanthu@example.invalid",
                                     "Văn thư <VANTHU@example.invalid>"]
    demo_project.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    code, out, _ = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 0 and len(list(outbox.glob("*.eml"))) == 3  # the new recipient alone, once
    assert "Bỏ qua Sở Nội vụ <sonoivu@example.invalid>, Văn thư <VANTHU@example.invalid>: địa chỉ đã có" in out
    before = {e.name for e in outbox.glob("*.eml")}
    code, out, _ = demo_project.cli("report", "--quarter", "2024Q3", "--send", "--force")
    assert code == 0 and "dùng --force" not in out
    again = [e for e in outbox.glob("*.eml") if e.name not in before]
    assert len(again) == 3  # --force: everyone again, each address once


def _mail_and_attachment(eml) -> tuple[str, bytes]:
    """The e-mail's text and the .docx attached to that same message."""
    import email
    from email import policy

    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = msg.get_body(preferencelist=("plain",)).get_content()
    docx = next(p for p in msg.iter_attachments() if p.get_content_type() == DOCX)
    return body, docx.get_content()


def test_a_later_recipient_gets_the_figures_of_the_file_attached(demo_project):
    """The report was sent and is kept as sent; the sheet changes; a recipient added later gets the kept
    file, and the e-mail's figures must be that file's, not today's sheet's."""
    from .workbooks import col, edit
    configure(demo_project)
    assert demo_project.cli("report", "--period", "2024Q3", "--date", "2024-09-20", "--send")[0] == 0
    tab = "Theo dõi"
    status, done_on = col(demo_project.workbook, tab, "Tình trạng"), col(demo_project.workbook, tab, "Ngày hoàn thành")
    rows = [i + 1 for i, r in enumerate(values(demo_project.workbook)[tab]) if i and r[status - 1] != "Hoàn thành"][:5]
    edit(demo_project.workbook, tab, {**{(r, status): "Hoàn thành" for r in rows},
                                      **{(r, done_on): "10/09/2024" for r in rows}})
    late = "c@example.invalid"
    mail = {"report_to": LEADERS + [late], "from": "Văn phòng Sở <vp@sotttt.example.invalid>",
            "outbox_dir": str(demo_project.root / "outbox")}
    demo_project.write_config({"local": {"path": str(demo_project.workbook)},
                               "state": str(demo_project.root / "state.sqlite"), "plan": str(PLAN_PATH), "mail": mail})
    code, out, err = demo_project.cli("report", "--period", "2024Q3", "--date", "2024-09-20", "--send")
    assert code == 0, err
    emls = {e: e.read_text(errors="replace") for e in (demo_project.root / "outbox").glob("*.eml")}
    first = next(e for e, t in emls.items() if LEADERS[0] in t)
    latest = next(e for e, t in emls.items() if late in t)
    # the kept file went to the later recipient, with the figures the first one got, not today's sheet's
    assert _mail_and_attachment(first)[1] == _mail_and_attachment(latest)[1]
    assert re.search(r"Hoàn thành: (\d+)/(\d+)", _mail_and_attachment(latest)[0])
    assert _mail_and_attachment(first)[0] == _mail_and_attachment(latest)[0]


def test_a_moved_project_folder_still_knows_what_was_sent(demo_project, tmp_path_factory):
    """The folder is copied elsewhere with its paths updated and without its state file: the witness
    beside the sent report still stops a second round of e-mails (exit 2 naming it)."""
    import shutil

    from .conftest import Project

    def settings_for(root):
        return {"local": {"path": str(root / "data" / "wb.xlsx")}, "state": str(root / "state.sqlite"),
                "plan": str(PLAN_PATH), "report": {"out_dir": str(root / "out")},
                "mail": {"report_to": LEADERS, "from": "vp@sotttt.example.invalid", "outbox_dir": str(root / "outbox")}}
    demo_project.write_config(settings_for(demo_project.root))
    assert demo_project.cli("report", "--period", "2024Q3", "--send")[0] == 0
    moved = tmp_path_factory.mktemp("elsewhere") / "p3"
    shutil.copytree(demo_project.root, moved)
    (moved / "state.sqlite").unlink()
    elsewhere = Project(moved, demo_project.capsys)
    elsewhere.write_config(settings_for(moved))
    before = sorted((moved / "outbox").glob("*.eml"))
    code, out, err = elsewhere.cli("report", "--period", "2024Q3", "--send")
    assert code == 2 and ".da-gui.json" in err, (code, out, err)
    assert sorted((moved / "outbox").glob("*.eml")) == before
    assert sorted(p.name for p in (moved / "out").glob("*.docx")) == \
        sorted(p.name for p in (demo_project.root / "out").glob("*.docx"))


def test_after_a_lost_state_file_only_recipients_the_witness_does_not_list_get_the_report(demo_project):
    """The witness is per recipient: a recipient added after the state file was lost gets the report,
    those the witness lists do not (and the command says so); with nobody new it is exit 2 naming it."""
    configure(demo_project)
    assert demo_project.cli("report", "--period", "2024Q3", "--send")[0] == 0
    (demo_project.root / "state.sqlite").unlink()
    late = "c@example.invalid"
    demo_project.write_config({"local": {"path": str(demo_project.workbook)},
                               "state": str(demo_project.root / "state.sqlite"), "plan": str(PLAN_PATH),
                               "mail": {"report_to": LEADERS + [late], "from": "vp@sotttt.example.invalid",
                                        "outbox_dir": str(demo_project.root / "outbox")}})
    code, out, err = demo_project.cli("report", "--period", "2024Q3", "--send")
    assert code == 0, err
    emls = [e.read_text(errors="replace") for e in (demo_project.root / "outbox").glob("*.eml")]
    assert [sum(f"To: {a}" in t for t in emls) for a in LEADERS + [late]] == [1, 1, 1]
    assert ".da-gui.json" in out and all(a in out for a in LEADERS), out
    code, out, err = demo_project.cli("report", "--period", "2024Q3", "--send")
    assert code == 2 and ".da-gui.json" in err
    assert len(list((demo_project.root / "outbox").glob("*.eml"))) == 3


# --- TLS and AUTH ----------------------------------------------------------------------------------------

@pytest.fixture
def tls_inbox(tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    box = Inbox()
    controller = start(box, tls=server_tls, users={"vanphong": "mat-khau-dung"})
    trusting = ssl.create_default_context(cafile=str(cert))
    yield controller, box, trusting
    controller.stop()


def _trust(monkeypatch, context):
    real = sync.mail.mailer.SmtpSender.__init__

    def init(self, settings, ctx=None, **kw):
        real(self, settings, context or ctx, **kw)
    monkeypatch.setattr(sync.mail.mailer.SmtpSender, "__init__", init)


def test_starttls_and_auth_with_a_self_signed_certificate(demo_project, tls_inbox, monkeypatch):
    controller, box, trusting = tls_inbox
    _trust(monkeypatch, trusting)  # the Office would install its server's certificate in the system store
    monkeypatch.setenv("CCHC_SMTP_PW", "mat-khau-dung")
    configure(demo_project, controller.port, security="starttls", username="vanphong", password_env="CCHC_SMTP_PW")
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 0, err
    assert all(box.count_for(a) == 1 for a in LEADERS)


def test_auth_refused_is_exit_2_and_nothing_marked_sent(demo_project, tls_inbox, monkeypatch):
    controller, box, trusting = tls_inbox
    _trust(monkeypatch, trusting)
    monkeypatch.setenv("CCHC_SMTP_PW", "sai-mat-khau")
    configure(demo_project, controller.port, security="starttls", username="vanphong", password_env="CCHC_SMTP_PW")
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 2 and "từ chối đăng nhập" in err and "vanphong" in err
    assert box.messages == [] and State(demo_project.root / "state.sqlite").sent_to("report", "2024Q3") == []


def test_untrusted_certificate_is_a_clear_exit_2(demo_project, tls_inbox):
    controller, box, _ = tls_inbox
    configure(demo_project, controller.port, security="starttls")
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 2 and "mail.smtp.security" in err and "chứng chỉ" in err and box.messages == []


# --- reminders -------------------------------------------------------------------------------------------

def _digest_counts(demo_project) -> dict[str, dict]:
    code, out, err = demo_project.cli("remind", "--as-of", "2024-09-20", "--json")
    assert code == 0, err
    return {u["unit"]: u for u in json.loads(out)["units"]}


def test_reminders_one_digest_per_unit_with_something_to_fix(demo_project, inbox, tmp_path, plan):
    controller, box = inbox
    configure(demo_project, controller.port, plan=plan_with_emails(tmp_path))
    preview = _digest_counts(demo_project)
    assert box.messages == []  # without --send nothing leaves
    code, out, err = demo_project.cli("remind", "--as-of", "2024-09-20", "--send", "--json")
    assert code == 0, err
    result = {u["unit"]: u for u in json.loads(out)["units"]}
    for code_ in result:
        needs = preview[code_]["overdue"] + preview[code_]["missing"] + preview[code_]["errors"]
        addresses = UNIT_MAIL[code_] if isinstance(UNIT_MAIL[code_], list) else [UNIT_MAIL[code_]]
        assert [box.count_for(a) for a in addresses] == [1 if needs else 0] * len(addresses), code_
    assert any(u["errors"] for u in preview.values()) and any(u["overdue"] for u in preview.values())
    grid = values(demo_project.workbook)["Theo dõi"]
    unit_col = grid[0].index("Đơn vị")
    owner = {a: code_ for code_, mail in UNIT_MAIL.items() for a in ([mail] if isinstance(mail, str) else mail)}
    quarters = set()
    for msg in box.parsed():
        body = msg.get_body(("plain",)).get_content()
        unit = plan.registry.by_code(owner[msg["To"]])
        assert body.startswith(f"Kính gửi: {unit.name},") and f"tệp {demo_project.workbook.name}" in body
        assert str(demo_project.root) not in body  # never a path on the Office's server
        rows = [int(a or b) for a, b in re.findall(r"\(dòng (\d+)\)|Dòng (\d+),", body)]
        assert rows
        for row in rows:  # every row named in a unit's digest is that unit's row
            assert plan.registry.match(grid[row - 1][unit_col]) == unit
        assert msg["Subject"].startswith("[CCHC] Nhắc cập nhật bảng theo dõi - ")
        quarters.update(re.findall(r"chưa nhập Kết quả Quý (\w+) \(dòng", body))
    assert quarters and quarters <= {"I", "II", "III", "IV"}  # Roman numerals stay upper case


def test_reminders_at_most_once_per_interval(demo_project, inbox, tmp_path):
    controller, box = inbox
    configure(demo_project, controller.port, plan=plan_with_emails(tmp_path))
    demo_project.cli("remind", "--as-of", "2024-09-20", "--send")
    first = len(box.messages)
    assert first > 0
    code, out, _ = demo_project.cli("remind", "--as-of", "2024-09-26", "--send")
    assert code == 0 and len(box.messages) == first and "đã nhắc ngày 20/09/2024" in out
    demo_project.cli("remind", "--as-of", "2024-09-27", "--send")  # 7 days later
    assert len(box.messages) == 2 * first


def test_a_unit_without_address_is_skipped_with_a_message(demo_project, tmp_path):
    configure(demo_project, plan=plan_with_emails(tmp_path, VP={"email": None}))
    vp = _digest_counts(demo_project)["VP"]
    assert vp["overdue"] + vp["missing"] + vp["errors"] > 0  # the demo gives the Office something to fix
    code, out, _ = demo_project.cli("remind", "--as-of", "2024-09-20", "--send")
    assert code == 0 and "Bỏ qua Văn phòng Sở: chưa có địa chỉ e-mail" in out
    assert len(list((demo_project.root / "outbox").glob("*.eml"))) > 0  # the other units still get theirs


def test_a_unit_address_that_is_not_one_is_named_and_not_written_to(demo_project, tmp_path):
    """A slip in a unit's `email` (the plan file) is said by `remind`, never "sent" to a To: that reaches no one;
    the unit's good addresses still get the digest."""
    configure(demo_project, plan=plan_with_emails(tmp_path, VP={"email": ["khong-phai-dia-chi", "vp@x..vn"]},
                                                   CNTT={"email": ["sai dia chi", "cntt@sotttt.example.invalid"]}))
    code, out, _ = demo_project.cli("remind", "--as-of", "2024-09-20", "--send")
    assert code == 0 and "Không gửi tới 'khong-phai-dia-chi' (Văn phòng Sở)" in out
    assert "Bỏ qua Văn phòng Sở: chưa có địa chỉ e-mail dùng được" in out and "Không gửi tới 'sai dia chi'" in out
    recipients = [eml.read_text(errors="replace") for eml in (demo_project.root / "outbox").glob("*.eml")]
    assert any("cntt@sotttt.example.invalid" in text for text in recipients)
    assert not any("khong-phai-dia-chi" in text or "sai dia chi" in text for text in recipients)


def test_no_header_injection_through_a_unit_name(demo_project, inbox, tmp_path):
    controller, box = inbox
    evil = {code: {"short": "Ban Biên tập\nBcc: everyone@evil.invalid"} for code in UNIT_MAIL}
    configure(demo_project, controller.port, plan=plan_with_emails(tmp_path, **evil))
    code, _, err = demo_project.cli("remind", "--as-of", "2024-09-20", "--send")
    assert code == 2 and "xuống dòng" in err and box.messages == []


# --- the job lock ---------------------------------------------------------------------------------------

def test_a_second_pass_waits_for_the_lock_then_skips(demo_project):
    demo_project.write_config({"local": {"path": str(demo_project.workbook)},
                               "state": str(demo_project.root / "state.sqlite"), "lock_wait_s": 0})
    before = demo_project.workbook.read_bytes()
    with FileLock(str(demo_project.root / "state.sqlite.lock")):
        code, out, err = demo_project.cli("run", "--as-of", "2024-09-20")
    assert code == 0 and "Bỏ qua" in err and demo_project.workbook.read_bytes() == before
    assert demo_project.cli("run", "--as-of", "2024-09-20")[0] == 0


def test_the_next_pass_logs_the_emails_sent_since_the_last_one(demo_project):
    configure(demo_project)
    demo_project.run_json()
    assert demo_project.cli("report", "--quarter", "2024Q3", "--send")[0] == 0
    assert demo_project.run_json()["emails_sent"] == len(LEADERS)
    log = values(demo_project.workbook)["Nhật ký"]
    emails = log[0].index(LOG_COLUMNS["emails"])
    assert log[-1][emails] == len(LEADERS) and log[-2][emails] == 0
    assert demo_project.run_json()["emails_sent"] == 0


def test_a_state_file_from_before_the_ledger_column_is_upgraded(tmp_path):
    import sqlite3
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sends (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, period TEXT NOT NULL, "
                   "recipient TEXT NOT NULL, status TEXT NOT NULL, attempted_at TEXT NOT NULL, sent_at TEXT, "
                   "message_id TEXT, error TEXT, UNIQUE (kind, period, recipient))")
        db.execute("INSERT INTO sends (kind, period, recipient, status, attempted_at, sent_at) VALUES "
                   "('report', '2024Q2', 'a@example.invalid', 'sent', '2024-06-17', '2024-06-17')")
    state = State(path)
    assert state.unlogged_sends() == 1 and state.sent_to("report", "2024Q2") == ["a@example.invalid"]
    state.mark_logged()
    assert state.unlogged_sends() == 0


def test_status_lists_sends_and_failures(demo_project, inbox):
    controller, _ = inbox
    configure(demo_project, controller.port + 1 if controller.port < 65535 else 1)
    demo_project.run_json()
    assert demo_project.cli("report", "--quarter", "2024Q3", "--send")[0] == 3
    code, out, _ = demo_project.cli("status")
    assert code == 0  # the last pass is fresh
    assert out.count("báo cáo 2024Q3 →") == 2 and "LỖI" in out and "2 thư chưa gửi được" in out
    code, out, _ = demo_project.cli("status", "--json")
    result = json.loads(out)
    assert result["unsent"] == 2 and {s["status"] for s in result["sends"]} == {"failed"}
    configure(demo_project, controller.port)
    assert demo_project.cli("report", "--quarter", "2024Q3", "--send")[0] == 0
    assert json.loads(demo_project.cli("status", "--json")[1])["unsent"] == 0


def test_a_digest_one_address_did_not_get_is_finished_the_same_day_not_skipped(demo_project, inbox, tmp_path):
    """A unit with two addresses, the second's server busy: the next call that day tries that address again (the
    weekly interval counts from a digest sent, not from one half sent); the first is not sent a second copy."""
    controller, box = inbox
    configure(demo_project, controller.port,
              plan=plan_with_emails(tmp_path, VP={"email": ["vp1@example.invalid", "busy@example.invalid"]}))
    assert demo_project.cli("remind", "--as-of", "2024-09-20", "--send")[0] == 3
    code, out, err = demo_project.cli("remind", "--as-of", "2024-09-20", "--send")
    assert code == 3 and "Văn phòng Sở" in err and "Bỏ qua Văn phòng Sở: đã nhắc" not in out  # tried again
    assert box.count_for("vp1@example.invalid") == 1 and box.count_for("cntt@example.invalid") == 1


def test_one_unit_refused_for_now_does_not_stop_the_others(demo_project, inbox, tmp_path):
    controller, box = inbox
    configure(demo_project, controller.port, plan=plan_with_emails(tmp_path, VP={"email": "busy@example.invalid"}))
    code, _, err = demo_project.cli("remind", "--as-of", "2024-09-20", "--send")
    assert code == 3 and "Văn phòng Sở" in err
    assert box.count_for("cntt@example.invalid") == 1  # the units after the refused one still got theirs
    state = State(demo_project.root / "state.sqlite")
    assert state.send_status("reminder", "VP/2024-09-20", "busy@example.invalid") == "failed"

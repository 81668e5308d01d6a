"""Mail against a real SMTP server on loopback (aiosmtpd) and the outbox folder."""
from __future__ import annotations

import email
import os
import stat
from email.policy import default as DEFAULT_POLICY
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from sync.core.config import MailSettings
from sync.core.errors import Unreachable, UserError
from sync.mail.mailer import DOCX, Attachment, Outbox, SmtpSender, build_message

from .smtp import Inbox, free_port


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _message(tmp_path):
    doc = tmp_path / "bc.docx"
    doc.write_bytes(b"PK\x03\x04 fake docx bytes \x00\xff")
    msg = build_message("Văn phòng Sở <vp@example.invalid>", "lanhdao@example.invalid",
                        "Báo cáo tuyên truyền CCHC Quý III/2024", "Kính gửi lãnh đạo Sở,\nHoàn thành: 13.",
                        (Attachment(doc, "Báo cáo Quý III-2024.docx"),))
    return msg, doc


def test_smtp_delivery_parses_back(smtp_server, tmp_path):
    controller, inbox = smtp_server
    settings = MailSettings(mode="smtp", smtp={"host": "127.0.0.1", "port": controller.port,
                                               "security": "none", "username": None})
    msg, doc = _message(tmp_path)
    SmtpSender(settings).send(msg)
    [(rcpts, raw)] = inbox.messages
    got = email.message_from_bytes(raw, policy=DEFAULT_POLICY)
    assert rcpts == ["lanhdao@example.invalid"]
    assert got["Subject"] == "Báo cáo tuyên truyền CCHC Quý III/2024"
    assert "Hoàn thành: 13." in got.get_body(("plain",)).get_content()
    [part] = list(got.iter_attachments())
    assert part.get_content_type() == DOCX and part.get_filename() == "Báo cáo Quý III-2024.docx"
    assert part.get_content() == doc.read_bytes()


def test_server_down_is_retried_with_backoff_then_exit_3(tmp_path):
    settings = MailSettings(mode="smtp", smtp={"host": "127.0.0.1", "port": free_port(), "security": "none",
                                               "timeout_s": 2, "attempts": 4, "retry_wait_s": 5})
    waits = []
    with pytest.raises(Unreachable) as err:
        SmtpSender(settings, sleep=waits.append).send(_message(tmp_path)[0])
    assert err.value.exit_code == 3 and f"127.0.0.1:{settings.smtp.port}" in str(err.value)
    assert waits == [5, 10, 20]  # three waits between four tries, doubling


def test_permanent_refusal_is_not_retried_but_temporary_is(smtp_server, tmp_path):
    controller, inbox = smtp_server
    settings = MailSettings(mode="smtp", smtp={"host": "127.0.0.1", "port": controller.port, "security": "none"})
    msg, _ = _message(tmp_path)
    del msg["To"]
    msg["To"] = "nobody@example.invalid"  # the test server answers 550 for this one, 451 for busy@
    waits = []
    with pytest.raises(UserError, match="nobody@example.invalid"):
        SmtpSender(settings, sleep=waits.append).send(msg)
    assert waits == [] and inbox.messages == []
    del msg["To"]
    msg["To"] = "busy@example.invalid"
    with pytest.raises(Unreachable, match="tạm thời"):
        SmtpSender(settings, sleep=waits.append).send(msg)
    assert len(waits) == settings.smtp.attempts - 1


def test_password_env_must_be_set(tmp_path, monkeypatch):
    monkeypatch.delenv("CCHC_TEST_PW", raising=False)
    settings = MailSettings(mode="smtp", smtp={"username": "vp", "password_env": "CCHC_TEST_PW"})
    with pytest.raises(UserError, match="CCHC_TEST_PW"):
        SmtpSender(settings).send(_message(tmp_path)[0])


def test_no_header_injection(tmp_path):
    with pytest.raises(UserError):
        build_message("vp@example.invalid", "a@example.invalid\nBcc: x@evil.invalid", "x", "y")
    with pytest.raises(UserError):
        build_message("vp@example.invalid", "a@example.invalid", "Quý I\r\nBcc: x@evil.invalid", "y")


@pytest.mark.parametrize("typed, box", [
    ("Văn phòng, Sở TT&TT <vp@sotttt.example.invalid>", ("Văn phòng, Sở TT&TT", "vp@sotttt.example.invalid")),
    ('"Văn phòng, Sở" <vp@x.vn>', ("Văn phòng, Sở", "vp@x.vn")),
    ("vanphong@khanhhoa.gov.vn (Văn phòng Sở)", ("Văn phòng Sở", "vanphong@khanhhoa.gov.vn")),
    ("Văn phòng <vanphong@khanhhoa.gov.vn>;", ("Văn phòng", "vanphong@khanhhoa.gov.vn")),
    ("vp@x.vn", ("", "vp@x.vn")),
    ("nguyen..van@x.vn", None), (".a@x.vn", None), ("a@b@c.vn", None), ("Tên <đ@c.vn>", None), ("", None),
    ("không phải địa chỉ", None), ("a@b", None), ("Tên <a b@c.vn>", None),
    ("Lãnh đạo <lanhdao@x.vn>, Văn thư <vanthu@x.vn>", None), ("a@x.vn, b@x.vn", None), ("a@x.vn; b@x.vn", None),
    ("a@x.vn (Văn phòng, Sở)", ("Văn phòng, Sở", "a@x.vn"))])
def test_an_address_is_one_the_mail_headers_carry(tmp_path, typed, box):
    """What the settings' check accepts is what a message can be built with (a check laxer than the headers let a
    bad sender through to crash the first sending); the forms the Office writes are accepted."""
    from sync.core.schema import mailbox
    assert mailbox(typed) == box
    if box:
        msg = build_message(typed, typed, "Báo cáo quý III năm 2024", "Kính gửi")
        parsed = email.message_from_bytes(msg.as_bytes(), policy=DEFAULT_POLICY)
        assert [(a.display_name, a.addr_spec) for a in parsed["From"].addresses] == [box]
        assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [box]


def test_outbox_writes_eml(tmp_path):
    msg, _ = _message(tmp_path)
    path = Path(Outbox(tmp_path / "outbox").send(msg))
    got = email.message_from_bytes(path.read_bytes(), policy=DEFAULT_POLICY)
    assert got["Subject"] == msg["Subject"]
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [path.name]  # no temporary file left beside it
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # shared like any file the Office saves


def test_the_same_message_sent_again_after_a_crash_is_one_file_in_the_outbox(tmp_path):
    msg, _ = _message(tmp_path)
    msg.replace_header("Message-ID", "<report-2024Q3-lanhdao@sotttt.example.invalid>")
    outbox = Outbox(tmp_path / "outbox")
    first = outbox.send(msg)
    assert outbox.send(msg) == first  # the resend of the interrupted recipient (same id) replaces it
    msg.replace_header("Message-ID", "<report-2024Q3-lanhdao-forced@sotttt.example.invalid>")
    assert outbox.send(msg) != first  # a new message (--force gives a new id) is a new file
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_outbox_never_shows_half_a_message(tmp_path, monkeypatch):
    """A failure while the .eml is written (a full disk) leaves no message, whole or partial, in the outbox."""
    msg, _ = _message(tmp_path)
    outbox = tmp_path / "outbox"

    def full_disk(self, data):
        with open(self, "wb") as fh:
            fh.write(data[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(Unreachable, match="mail.outbox_dir"):  # exit 3 naming the folder, never a bug
        Outbox(outbox).send(msg)
    assert list(outbox.iterdir()) == []

"""Mail: messages built with the standard library's `email` package, delivered to an outbox folder or SMTP.

Vietnamese subjects, bodies and attachment names are encoded by `email.policy.SMTP` (RFC 2047/2231), so
real clients show them right; header values are checked for line breaks, so nothing typed in the sheet or
the config can inject a header. The send ledger (exactly once per recipient) lives in `state.py`.
"""
from __future__ import annotations

import mimetypes
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from pathlib import Path

from .config import MailSettings
from .errors import Unreachable, UserError

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _header(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise UserError(f"{what} chứa ký tự xuống dòng; sửa lại cho nằm trên một dòng.")
    return value


@dataclass(frozen=True)
class Attachment:
    path: Path
    filename: str  # what the recipient sees, Vietnamese allowed


def build_message(sender: str, recipient: str, subject: str, body: str,
                  attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = _header(sender, "Khóa cấu hình 'mail.from'")
    msg["To"] = _header(recipient, f"Địa chỉ người nhận '{recipient.strip()}'")
    msg["Subject"] = _header(subject, "Tiêu đề thư")
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="cchc.local")
    msg.set_content(body)
    for item in attachments:
        ctype = DOCX if item.filename.endswith(".docx") else (mimetypes.guess_type(item.filename)[0]
                                                             or "application/octet-stream")
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(item.path.read_bytes(), maintype=maintype, subtype=subtype, filename=item.filename)
    return msg


class Outbox:
    """Writes each message as an .eml file; sends nothing. The default mode."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, msg: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{uuid.uuid4().hex}.eml"
        tmp = final.with_suffix(".tmp")
        tmp.write_bytes(msg.as_bytes())
        os.replace(tmp, final)
        return str(final)


class SmtpSender:
    """Delivers over SMTP (STARTTLS, implicit TLS or plain), with AUTH when a username is set."""

    def __init__(self, settings: MailSettings, context: ssl.SSLContext | None = None):
        self.cfg = settings.smtp
        self.context = context or ssl.create_default_context()

    def _password(self) -> str | None:
        if not self.cfg.username:
            return None
        name = self.cfg.password_env or ""
        if not os.environ.get(name):
            raise UserError(f"Khóa cấu hình 'mail.smtp.password_env': biến môi trường '{name}' chưa được đặt; "
                            "đặt mật khẩu SMTP vào biến này (không ghi vào tệp cấu hình).")
        return os.environ[name]

    def send(self, msg: EmailMessage) -> str:
        password = self._password()
        cfg = self.cfg
        try:
            if cfg.security == "ssl":
                client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=self.context)
            else:
                client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            with client:
                if cfg.security == "starttls":
                    client.starttls(context=self.context)
                if cfg.username:
                    client.login(cfg.username, password)
                client.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise UserError(f"Máy chủ thư {cfg.host}:{cfg.port} từ chối đăng nhập của '{cfg.username}' "
                            f"({exc.smtp_code}); kiểm tra 'mail.smtp.username' và mật khẩu.") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Unreachable(f"Không gửi được thư qua {cfg.host}:{cfg.port}: {exc}") from None
        return msg["Message-ID"]


def open_sender(settings: MailSettings) -> Outbox | SmtpSender:
    return SmtpSender(settings) if settings.mode == "smtp" else Outbox(settings.outbox_dir)

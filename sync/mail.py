"""Mail: messages built with the standard library's `email` package, delivered to an outbox folder or SMTP.

Vietnamese subjects, bodies and attachment names are encoded by `email.policy.SMTP` (RFC 2047/2231), so
real clients show them right; header values are checked for line breaks, so nothing typed in the sheet or
the config can inject a header. The send ledger (exactly once per recipient) lives in `state.py`.
"""
from __future__ import annotations

import hashlib
import mimetypes
import os
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from . import files
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
                  attachments: tuple[Attachment, ...] = (), message_id: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = _header(sender, "Khóa cấu hình 'mail.from'")
    msg["To"] = _header(recipient, f"Địa chỉ người nhận '{recipient.strip()}'")
    msg["Subject"] = _header(subject, "Tiêu đề thư")
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id or make_msgid(domain="cchc.local")
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
        # named after the Message-ID: a message sent again after a crash (same id, sync.delivery) replaces its
        # own file instead of making a second one, so the outbox holds each message once
        ident = msg.get("Message-ID")
        name = hashlib.sha256(str(ident).encode()).hexdigest()[:32] if ident else uuid.uuid4().hex
        final = self.folder / f"{name}.eml"
        files.write_bytes(final, msg.as_bytes())  # a mail program watching the folder never sees half a message
        return str(final)


class SmtpSender:
    """Delivers over SMTP (STARTTLS, implicit TLS or plain), with AUTH when a username is set."""

    def __init__(self, settings: MailSettings, context: ssl.SSLContext | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.cfg = settings.smtp
        self.context = context or ssl.create_default_context()
        self.sleep = sleep  # tests pass a fake: retries are counted, not waited for

    def _password(self) -> str | None:
        if not self.cfg.username:
            return None
        name = self.cfg.password_env or ""
        if not os.environ.get(name):
            raise UserError(f"Khóa cấu hình 'mail.smtp.password_env': biến môi trường '{name}' chưa được đặt; "
                            "đặt mật khẩu SMTP vào biến này (không ghi vào tệp cấu hình).")
        return os.environ[name]

    def send(self, msg: EmailMessage) -> str:
        """Connection failures and temporary (4xx) refusals are retried with backoff, then exit 3."""
        password = self._password()
        retrying = Retrying(stop=stop_after_attempt(self.cfg.attempts), reraise=True, sleep=self.sleep,
                            wait=wait_exponential(multiplier=self.cfg.retry_wait_s, max=60),
                            retry=retry_if_exception_type(Unreachable))
        return retrying(self._send_once, msg, password)

    def _send_once(self, msg: EmailMessage, password: str | None) -> str:
        cfg = self.cfg
        try:
            client: smtplib.SMTP
            if cfg.security == "ssl":
                client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=self.context)
            else:
                client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            with client:
                if cfg.security == "starttls":
                    client.starttls(context=self.context)
                if cfg.username:
                    client.login(cfg.username, password or "")
                client.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise UserError(f"Máy chủ thư {cfg.host}:{cfg.port} từ chối đăng nhập của '{cfg.username}' "
                            f"({exc.smtp_code}); kiểm tra 'mail.smtp.username' và mật khẩu.") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise UserError(f"Máy chủ thư {cfg.host}:{cfg.port} không hỗ trợ {exc}; kiểm tra "
                            "'mail.smtp.security' (starttls | ssl | none) và 'mail.smtp.port'.") from None
        except ssl.SSLError as exc:
            raise UserError(f"Kết nối bảo mật tới {cfg.host}:{cfg.port} thất bại ({exc.reason or exc}); kiểm tra "
                            "'mail.smtp.security' và chứng chỉ của máy chủ thư.") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            if all(code >= 500 for code in codes):
                raise UserError(f"Máy chủ thư {cfg.host}:{cfg.port} từ chối địa chỉ nhận "
                                f"{', '.join(exc.recipients)} ({', '.join(map(str, sorted(codes)))}); "
                                "kiểm tra địa chỉ trong cấu hình hoặc danh sách đơn vị.") from None
            raise Unreachable(f"Máy chủ thư {cfg.host}:{cfg.port} tạm thời từ chối: {exc.recipients}") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if exc.smtp_code >= 500:
                raise UserError(f"Máy chủ thư {cfg.host}:{cfg.port} từ chối thư ({exc.smtp_code} "
                                f"{exc.smtp_error!r}); kiểm tra 'mail.from' và cấu hình máy chủ.") from None
            raise Unreachable(f"Máy chủ thư {cfg.host}:{cfg.port} tạm thời từ chối ({exc.smtp_code}).") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Unreachable(f"Không gửi được thư qua {cfg.host}:{cfg.port}: {exc}") from None
        return msg["Message-ID"]


def open_sender(settings: MailSettings) -> Outbox | SmtpSender:
    return SmtpSender(settings) if settings.mode == "smtp" else Outbox(settings.outbox_dir)

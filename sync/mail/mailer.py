"""Mail: messages built with the standard library's `email` package, delivered to an outbox folder or SMTP,
exactly once.

Vietnamese subjects, bodies and attachment names are encoded by `email.policy.SMTP` (RFC 2047/2231), so
real clients show them right; header values are checked for line breaks, so nothing typed in the sheet or
the config can inject a header.

Exactly-once delivery (`deliver`) goes through the send ledger (sync/state/store.py): one message per (kind,
period, recipient). The ledger row is committed as 'sending' before a message leaves and as 'sent' only after the server
(or the outbox) accepted it, so a crash or an outage is retried by the next call and nothing is ever
marked sent that was not. The one window no mail system closes — the server accepted, then we crashed
before writing 'sent' — is narrowed by a Message-ID derived from the ledger key: the retry carries the
same id, which mail stores use to drop the duplicate. `--force` resends with a fresh id.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import mimetypes
import os
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from sync import files
from sync.core.config import MailSettings, SmtpSettings
from sync.core.errors import SyncError, Unreachable, UserError
from sync.core.schema import bare_address, mailbox
from sync.state.store import State

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _mailbox(item: str, what: str) -> Address | str:
    """An address header: "Tên <a@b.vn>" as one mailbox (a name holding a comma is quoted, not split in two).
    Addresses are checked at load (sync.core.config); what is not one goes as it was typed."""
    box = mailbox(item)
    return Address(display_name=_header(box[0], what), addr_spec=box[1]) if box else _header(item, what)


def _header(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise UserError(f"{what} chứa ký tự xuống dòng; sửa lại cho nằm trên một dòng.")
    return value


class Refused(UserError):
    """The server refused one message or recipient for good (5xx): the others may still go. Exit 2 when the
    address is the Office's to fix, 3 when the server refused the message itself."""

    def __init__(self, message: str, answer: str, server_cause: bool = False):
        super().__init__(message)
        self.answer = answer  # the server's own words, kept in the send ledger
        self.exit_code = 3 if server_cause else 2


@dataclass(frozen=True)
class Attachment:
    path: Path
    filename: str  # what the recipient sees, Vietnamese allowed


def build_message(sender: str, recipient: str, subject: str, body: str,
                  attachments: tuple[Attachment, ...] = (), message_id: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = _mailbox(sender, "Khóa cấu hình 'mail.from'")
    msg["To"] = _mailbox(recipient, f"Địa chỉ người nhận '{recipient.strip()}'")
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
        # named after the Message-ID: a message sent again after a crash (same id, sync.mail.mailer) replaces its
        # own file instead of making a second one, so the outbox holds each message once
        ident = msg.get("Message-ID")
        name = hashlib.sha256(str(ident).encode()).hexdigest()[:32] if ident else uuid.uuid4().hex
        final = self.folder / f"{name}.eml"
        files.check_folder(self.folder, "mail.outbox_dir", "thư mục thư đi")
        try:
            files.write_bytes(final, msg.as_bytes())  # a mail program watching the folder never sees half a message
        except OSError as exc:
            raise files.folder_error(exc, self.folder, "mail.outbox_dir", "thư mục thư đi") from None
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
        """Connection failures and temporary (4xx) refusals are retried with backoff, then exit 3. No message
        said ever holds the password, whatever the server or a library put in theirs."""
        password = self._password()
        retrying = Retrying(stop=stop_after_attempt(self.cfg.attempts), reraise=True, sleep=self.sleep,
                            wait=wait_exponential(multiplier=self.cfg.retry_wait_s, max=60),
                            retry=retry_if_exception_type(Unreachable))
        try:
            return retrying(self._send_once, msg, password)
        except SyncError as exc:
            if password and password in str(exc):
                exc.args = (str(exc).replace(password, "***"),)
            raise

    def _login(self, client: smtplib.SMTP, password: str) -> None:
        """AUTH as `mail.smtp.username`. ASCII credentials go the standard library's way (CRAM-MD5, PLAIN, LOGIN);
        others, which it can only send as ASCII, go as UTF-8 by PLAIN or LOGIN (RFC 4616, and what servers
        take for LOGIN), or are refused naming the setting when the server offers neither."""
        user = self.cfg.username or ""
        if (user + password).isascii():
            client.login(user, password)
            return
        client.ehlo_or_helo_if_needed()
        if not client.has_extn("auth"):
            raise smtplib.SMTPNotSupportedError("AUTH")
        offered = client.esmtp_features["auth"].upper().split()

        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode("ascii")
        if "PLAIN" in offered:
            code, answer = client.docmd("AUTH", "PLAIN " + b64(b"\0" + user.encode() + b"\0" + password.encode()))
        elif "LOGIN" in offered:
            code, answer = client.docmd("AUTH", "LOGIN " + b64(user.encode()))
            if code == 334:
                code, answer = client.docmd(b64(password.encode()))
        else:
            raise UserError(f"Máy chủ thư {self.cfg.host}:{self.cfg.port} chỉ nhận đăng nhập bằng "
                            f"{', '.join(offered) or '(không rõ)'}, không gửi được mật khẩu có chữ có dấu hoặc ký tự "
                            "ngoài bảng ASCII. Đổi mật khẩu SMTP chỉ gồm chữ không dấu, số và ký hiệu, rồi đặt lại "
                            f"biến môi trường được nêu ở khóa cấu hình 'mail.smtp.password_env' "
                            f"({self.cfg.password_env}).")
        if code not in (235, 503):
            raise smtplib.SMTPAuthenticationError(code, answer)

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
                    self._login(client, password or "")
                client.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise _failure(exc, cfg, msg) from None
        return str(msg["Message-ID"])


def _failure(exc: OSError | smtplib.SMTPException, cfg: SmtpSettings, msg: EmailMessage) -> SyncError:
    """What a failed delivery means for the Office: a setting to fix (UserError), a message or address refused
    for good (Refused), or a server to try again later (Unreachable)."""
    where = f"{cfg.host}:{cfg.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return UserError(f"Máy chủ thư {where} từ chối đăng nhập của '{cfg.username}' "
                         f"({exc.smtp_code}); kiểm tra 'mail.smtp.username' và mật khẩu.")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return UserError(f"Máy chủ thư {where} không hỗ trợ {exc}; kiểm tra "
                         "'mail.smtp.security' (starttls | ssl | none) và 'mail.smtp.port'.")
    if isinstance(exc, ssl.SSLError):
        return UserError(f"Kết nối bảo mật tới {where} thất bại ({exc.reason or exc}); kiểm tra "
                         "'mail.smtp.security' và chứng chỉ của máy chủ thư.")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _recipients_refused(exc, where)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        if exc.smtp_code >= 500:
            return UserError(f"Máy chủ thư {where} từ chối người gửi ({exc.smtp_code} "
                             f"{_said(exc.smtp_error)}); kiểm tra 'mail.from' và cấu hình máy chủ.")
        return Unreachable(f"Máy chủ thư {where} tạm thời từ chối ({exc.smtp_code}).")
    if isinstance(exc, smtplib.SMTPDataError):
        answer = f"{exc.smtp_code} {_said(exc.smtp_error)}"
        if exc.smtp_code >= 500:  # this message refused (too big, a mailbox full…): the next one may go
            return Refused(f"Máy chủ thư {where} từ chối thư gửi {msg['To']} ({answer}).", answer, server_cause=True)
        return Unreachable(f"Máy chủ thư {where} tạm thời từ chối ({answer}).")
    return Unreachable(f"Không gửi được thư qua {where}: {exc}")


def _recipients_refused(exc: smtplib.SMTPRecipientsRefused, where: str) -> SyncError:
    answers = "; ".join(f"{code} {_said(text)}" for code, text in exc.recipients.values())
    if all(code >= 500 for code, _ in exc.recipients.values()):
        return Refused(f"Máy chủ thư {where} từ chối địa chỉ nhận {', '.join(exc.recipients)} "
                       f"({answers}); kiểm tra địa chỉ trong cấu hình hoặc danh sách đơn vị.", answers)
    return Unreachable(f"Máy chủ thư {where} tạm thời từ chối: {answers}")


def _said(text: bytes | str) -> str:
    """A server's answer as text on one line (it may come as bytes, over several lines)."""
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return " ".join(said.split())[:300]


def open_sender(settings: MailSettings) -> Outbox | SmtpSender:
    return SmtpSender(settings) if settings.mode == "smtp" else Outbox(settings.outbox_dir)


class Sender(Protocol):
    def send(self, msg: EmailMessage) -> str: ...


@dataclass(frozen=True)
class Letter:
    recipient: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()


#: How the ledger's error of a recipient the server refused for good begins (`status` lists them).
REFUSED = "Máy chủ thư từ chối"


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already sent before
    repeated: list[str] = field(default_factory=list)  # an address listed again in the same call: sent once
    failed: list[tuple[str, str]] = field(default_factory=list)  # the server unreachable: the next call retries
    refused: list[tuple[str, str, int]] = field(default_factory=list)  # refused for good: recipient, answer, exit

    def problem(self) -> SyncError | None:
        """What the command ends with once every letter was tried: exit 3 when the server failed or refused the
        message, 2 when only addresses were refused (the Office must fix them); None when all went."""
        if not (self.failed or self.refused):
            return None
        parts = []
        if self.refused:
            parts.append(f"{REFUSED} " + ", ".join(f"{r} ({answer})" for r, answer, _ in self.refused)
                         + ": sửa địa chỉ trong khóa cấu hình 'mail.report_to' hoặc 'email' của đơn vị trong tệp kế "
                         "hoạch")
        if self.failed:
            parts.append(f"Chưa gửi được cho {', '.join(r for r, _ in self.failed)}: {self.failed[-1][1]}")
        text = (". ".join(parts) + f". Đã gửi: {len(self.sent)}" + (f" ({', '.join(self.sent)})" if self.sent else "")
                + "; lần chạy sau sẽ gửi tiếp cho người chưa nhận.")
        if self.failed or any(code == 3 for _, _, code in self.refused):
            return Unreachable(text)
        return UserError(text)


def message_id(mail_from: str, kind: str, period: str, recipient: str, nonce: str = "", scope: str = "") -> str:
    """`scope`: the configuration's workbook, so two configurations never share an id (nor an outbox file name)."""
    box = mailbox(mail_from)
    domain = box[1].rpartition("@")[2] if box else "cchc.local"
    digest = hashlib.sha256(f"{kind}|{period}|{bare_address(recipient)}|{nonce}|{scope}".encode()).hexdigest()[:32]
    return f"<cchc.{kind}.{digest}@{domain}>"


def deliver(state: State, sender: Sender, mail_from: str, kind: str, period: str, letters: list[Letter],
            now: dt.datetime, force: bool = False,
            on_sent: Callable[[str, str], None] | None = None, scope: str = "") -> Delivery:
    """Send each letter not yet sent; a recipient the server refuses for good, or one it cannot reach, is
    recorded in the ledger with the server's answer and the next one is tried. The caller says what went and
    then raises `Delivery.problem()`. Only what is the same for every recipient (a refused login, a missing
    password, an outbox folder that cannot be written) stops at once. `scope`: the configuration's workbook
    (message_id).
    `on_sent(recipient, message_id)` runs after each accepted message (the report's second witness)."""
    result = Delivery()
    # one letter per address however it is written ("Lãnh đạo <a@b.vn>", "A@B.vn"): by the ledger, and in this call
    done = set() if force else {bare_address(r) for r in state.sent_to(kind, period)}
    listed: set[str] = set()
    for letter in letters:
        address = bare_address(letter.recipient)
        if address in listed:  # the same address twice in this call: one letter
            result.repeated.append(letter.recipient)
            continue
        listed.add(address)
        if address in done:
            result.skipped.append(letter.recipient)
            continue
        nonce = now.isoformat() if force else ""
        msg = build_message(mail_from, letter.recipient, letter.subject, letter.body, letter.attachments,
                            message_id(mail_from, kind, period, letter.recipient, nonce, scope))
        state.begin_send(kind, period, letter.recipient, now)
        try:
            sender.send(msg)
        except Refused as exc:
            state.end_send(kind, period, letter.recipient, now, error=f"{REFUSED}: {exc.answer}")
            result.refused.append((letter.recipient, exc.answer, exc.exit_code))
            continue
        except (Unreachable, UserError) as exc:
            state.end_send(kind, period, letter.recipient, now, error=str(exc))
            if isinstance(exc, UserError):
                raise  # refused login, missing password: the same for every recipient
            result.failed.append((letter.recipient, str(exc)))
            continue
        state.end_send(kind, period, letter.recipient, now, message_id=msg["Message-ID"])
        if on_sent is not None:
            on_sent(letter.recipient, msg["Message-ID"])
        result.sent.append(letter.recipient)
    return result

"""Exactly-once delivery through the send ledger (sync/state/store.py): one message per (kind, period, recipient).

The ledger row is committed as 'sending' before a message leaves and as 'sent' only after the server
(or the outbox) accepted it, so a crash or an outage is retried by the next call and nothing is ever
marked sent that was not. The one window no mail system closes — the server accepted, then we crashed
before writing 'sent' — is narrowed by a Message-ID derived from the ledger key: the retry carries the
same id, which mail stores use to drop the duplicate. `--force` resends with a fresh id.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Protocol

from sync.core.errors import SyncError, Unreachable, UserError
from sync.mail.mailer import Attachment, Refused, build_message
from sync.state.store import State


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
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "cchc.local"
    digest = hashlib.sha256(f"{kind}|{period}|{recipient.lower()}|{nonce}|{scope}".encode()).hexdigest()[:32]
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
    for letter in letters:
        if not force and state.send_status(kind, period, letter.recipient) == "sent":
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

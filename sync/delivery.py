"""Exactly-once delivery through the send ledger (state.py): one message per (kind, period, recipient).

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
from email.utils import parseaddr
from typing import Protocol

from .errors import Unreachable, UserError
from .mail import Attachment, build_message
from .state import State


class Sender(Protocol):
    def send(self, msg) -> str: ...


@dataclass(frozen=True)
class Letter:
    recipient: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already sent before
    failed: list[tuple[str, str]] = field(default_factory=list)


def message_id(mail_from: str, kind: str, period: str, recipient: str, nonce: str = "", scope: str = "") -> str:
    """`scope`: the configuration's workbook, so two configurations never share an id (nor an outbox file name)."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "cchc.local"
    digest = hashlib.sha256(f"{kind}|{period}|{recipient.lower()}|{nonce}|{scope}".encode()).hexdigest()[:32]
    return f"<cchc.{kind}.{digest}@{domain}>"


def deliver(state: State, sender: Sender, mail_from: str, kind: str, period: str, letters: list[Letter],
            now: dt.datetime, force: bool = False,
            on_sent: Callable[[str, str], None] | None = None, scope: str = "") -> Delivery:
    """Send each letter not yet sent; raise Unreachable (exit 3) after trying them all if the server was down.
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
    if result.failed:
        who = ", ".join(r for r, _ in result.failed)
        raise Unreachable(f"Chưa gửi được cho {who}: {result.failed[-1][1]}. Đã gửi: {len(result.sent)}; "
                          "lần chạy sau sẽ gửi tiếp cho người chưa nhận.")
    return result

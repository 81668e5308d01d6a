"""Sending a period's report: to whom, and once per recipient.

Two records say who has a report: the send ledger in the state file and the witness beside the report file
(sync/state/identity.py). A state file lost or replaced forgets its ledger; the witness does not, so a
recipient it lists is never sent the report again without `--force`. Who a sending goes to is settled before
anything is built, so that a refusal leaves the files as they were.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sync.core import periods
from sync.core.config import Settings
from sync.core.errors import UserError
from sync.usecases.common import Lines, SenderFactory

if TYPE_CHECKING:
    from sync.reports.build import Figures
    from sync.reports.content import Report
    from sync.state.identity import Witness
    from sync.state.store import State


@dataclass(frozen=True)
class Recipients:
    """Who a report's sending goes to, after the witness beside the report has had its say."""

    to: list[str] | None  # None: everyone in mail.report_to (the ledger still skips who has it)
    lost: list[str]  # those the witness lists and the state file does not
    refused: bool  # everyone left has it already by the witness: nothing to send, say so (exit 2)


def report_recipients(report_to: list[str], ledger: list[str], lost: list[str], force: bool) -> Recipients:
    """The witness is per recipient: refuse only those it lists, send to the others. With `force`, everyone."""
    if not lost or force:
        return Recipients(None, lost, False)
    lost_set = set(lost)
    to = [r for r in report_to if r.lower() not in lost_set]
    known = {r.lower() for r in ledger}
    return Recipients(to, lost, not any(r.lower() not in known for r in to))


def send_report(settings: Settings, state: State, figures: Figures, files: list[Path], now: dt.datetime,
                force: bool = False, sender: SenderFactory | None = None, lines: Lines | None = None) -> int:
    """E-mail a built report (`files`: the .docx first, then its PDF) to each recipient of `mail.report_to` once:
    the send ledger in the state file and the witness beside the report both say who has it (a lost state file
    sends nobody twice); `force` sends to everyone again. The number of messages sent."""
    from sync.reports.build import report_path
    from sync.state.identity import Witness
    lines = lines or Lines()
    witness = Witness(report_path(settings, figures.period), figures.period.key)
    recipients = audience(settings, state, figures.period, witness, force, lines.say)
    return deliver(settings, state, figures, files, now, force, witness, recipients, sender, lines.say)


def audience(settings: Settings, state: State, period: periods.Period, witness: Witness, force: bool,
             say: Callable[[str], None]) -> Recipients:
    """Who a sending of the period's report may go to: refused (exit 2) when all left have it by the witness."""
    from sync.mail.letters import NO_RECIPIENTS
    if not settings.mail.report_to:
        raise UserError(NO_RECIPIENTS)
    ledger = state.sent_to("report", period.key)
    recipients = report_recipients(settings.mail.report_to, ledger, witness.unknown_to(ledger), force)
    if recipients.refused:
        raise UserError(f"Báo cáo {period.name} đã gửi cho {', '.join(recipients.lost)} (ghi nhận tại "
                        f"'{witness.path}') nhưng tệp trạng thái '{settings.state}' không ghi lần gửi đó (tệp bị xóa "
                        "hoặc thay?). Không gửi lại để tránh gửi trùng; nếu thật sự cần gửi lại, chạy lại với --force.")
    if recipients.to is not None:
        say(f"Không gửi lại cho {', '.join(recipients.lost)}: tệp ghi nhận '{witness.path}' cho biết họ đã nhận báo "
            f"cáo {period.name} (tệp trạng thái '{settings.state}' không ghi lần gửi đó). Chỉ gửi cho người nhận chưa "
            "có trong tệp ghi nhận; dùng --force nếu thật sự cần gửi lại cho mọi người.")
    return recipients


def deliver(settings: Settings, state: State, figures: Figures | Report, files: list[Path], now: dt.datetime,
            force: bool, witness: Witness, recipients: Recipients, sender: SenderFactory | None,
            say: Callable[[str], None]) -> int:
    """Send to `recipients` (sync.mail.letters.mail_report: the letters and the ledger); the number sent."""
    from sync.mail.letters import mail_report as send
    return send(settings, state, figures, files, now, force, say, witness, recipients.to,
                sender=sender(settings.mail) if sender else None)

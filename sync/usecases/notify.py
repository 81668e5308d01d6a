"""The two e-mail jobs: the quarterly report to its recipients, and one reminder digest per unit.

Both go through `sync.mail.delivery.deliver`, so each message leaves once per ledger key: (report, 2024Q3,
recipient) and (reminder, VP/2024-09-20, address): a pass run again, a crash between two messages or the
daemon and cron both at work never mail anyone twice. `say` tells the Office each step; nothing is printed here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync.core.config import Settings
from sync.core.errors import SyncError, Unreachable, UserError
from sync.core.plan import Plan
from sync.core.summary import Summary
from sync.mail.delivery import Letter, Sender, deliver
from sync.mail.letters import digests, report_body, report_subject
from sync.mail.mailer import Attachment, open_sender
from sync.state.identity import Witness
from sync.state.store import State

if TYPE_CHECKING:
    from sync.reports.build import Figures
    from sync.reports.content import Report

Say = Callable[[str], None]


def public_where(settings: Settings) -> str:
    """The workbook as recipients may see it: its address, or its file name (never a path on our server)."""
    if settings.sheet_url or settings.backend == "google":
        return settings.where()
    return f"tệp {settings.local.path.name}"


def mail_scope(settings: Settings) -> str:
    """The workbook the configuration reports on, in each Message-ID: two configurations never share one."""
    from sync.state.identity import mail_scope as scope
    return scope(settings.backend, settings.google.spreadsheet_id, settings.local.path)


NO_RECIPIENTS = "Chưa có người nhận báo cáo: thêm địa chỉ vào khóa cấu hình 'mail.report_to'."


def mail_report(settings: Settings, state: State, report: Report | Figures, files: list[Path], now: dt.datetime,
                force: bool, say: Say, witness: Witness | None = None, recipients: list[str] | None = None,
                sender: Sender | None = None) -> int:
    """`report`: the built report, or the figures saved with a kept one; its figures go in the cover note.
    `files`: the .docx, then the PDF when there is one; the internal annex is never among them. `recipients`: a
    part of `mail.report_to` (those the witness does not list), else all of it. `sender`: by default the
    configured one (sync.mail.mailer.open_sender)."""
    p = report.period
    if not settings.mail.report_to:
        raise UserError(NO_RECIPIENTS)
    # short enough to stay one RFC 2231 parameter: some mail clients do not join continued file names
    attachments = tuple(Attachment(f, f"Báo cáo CCHC {p.short}{f.suffix}") for f in files)
    body = report_body(p.name, report.as_of, report.kpis, public_where(settings), report.missing_count)
    letters = [Letter(to, report_subject(p.name), body, attachments)
               for to in (settings.mail.report_to if recipients is None else recipients)]
    on_sent = (lambda to, mid: witness.record(to, now, mid)) if witness else None
    result = deliver(state, sender or open_sender(settings.mail), settings.mail.from_, "report", p.key, letters, now,
                     force, on_sent, mail_scope(settings))
    where = f"thư mục '{settings.mail.outbox_dir}'" if settings.mail.mode == "outbox" else "máy chủ thư"
    if result.sent:
        say(f"Đã gửi báo cáo {p.name} tới {', '.join(result.sent)} ({where}).")
    if result.skipped:
        say(f"Không gửi lại cho {', '.join(result.skipped)}: đã nhận báo cáo kỳ này (dùng --force để gửi lại).")
    if (problem := result.problem()) is not None:
        raise problem
    return len(result.sent)


def remind(settings: Settings, plan: Plan, summary: Summary, state: State, now: dt.datetime, send: bool,
           say: Say, sender: Callable[[], Sender] | None = None) -> list[dict[str, Any]]:
    """Preview (send=False) or send each unit's digest; one unit's unreachable server does not stop the rest.
    `sender` opens the mail sender (by default the configured one, sync.mail.mailer.open_sender)."""
    as_of, interval = summary.as_of, settings.remind.interval_days
    mailer = (sender or (lambda: open_sender(settings.mail)))() if send else None
    out: list[dict[str, Any]] = []
    failures: list[tuple[str, SyncError]] = []
    for d in digests(summary, plan, settings.layout):
        item: dict[str, Any] = {"unit": d.unit.code, "overdue": len(d.overdue), "missing": len(d.missing),
                                "errors": len(d.errors), "to": list(d.unit.email), "sent": [], "refused": [],
                                "skipped": None}
        out.append(item)
        if d.empty:
            item["skipped"] = "nothing to fix"
            continue
        body = d.body(as_of, public_where(settings), settings.layout.tabs["tracking"], interval)
        if not send:
            say(f"--- {d.subject}\nGửi tới: {', '.join(d.unit.email) or '(chưa có địa chỉ)'}\n\n{body}")
            continue
        if not d.unit.email:
            item["skipped"] = "no address"
            say(f"Bỏ qua {d.unit.label}: chưa có địa chỉ e-mail (khóa 'email' của đơn vị {d.unit.code} trong "
                f"tệp kế hoạch {settings.plan_path()}).")
            continue
        last = last_reminded(state, d.unit.code)
        if last and 0 <= (as_of - last).days < interval:
            item["skipped"] = f"reminded {last.isoformat()}"
            say(f"Bỏ qua {d.unit.label}: đã nhắc ngày {last:%d/%m/%Y} (mỗi {interval} ngày một lần).")
            continue
        letters = [Letter(to, d.subject, body) for to in d.unit.email]
        assert mailer is not None  # opened above when sending
        result = deliver(state, mailer, settings.mail.from_, "reminder", f"{d.unit.code}/{as_of.isoformat()}",
                         letters, now, scope=mail_scope(settings))
        item["sent"] = result.sent
        item["refused"] = [r for r, _, _ in result.refused]
        if result.sent:
            say(f"Đã gửi thư nhắc cho {d.unit.label} ({', '.join(result.sent)}).")
        if (problem := result.problem()) is not None:
            failures.append((d.unit.label, problem))
    if no_address := units_without_email(plan):
        say(no_email_sentence(no_address, settings))
    if all(i["skipped"] == "nothing to fix" for i in out):
        say("Không đơn vị nào cần nhắc: không có việc quá hạn, thiếu kết quả hay lỗi nhập liệu.")
    if failures:
        text = "Chưa gửi được thư nhắc cho " + "; ".join(f"{label}: {exc}" for label, exc in failures)
        raise (Unreachable if any(isinstance(exc, Unreachable) for _, exc in failures) else UserError)(text)
    return out


def units_without_email(plan: Plan) -> list[str]:
    """The codes of the plan's units that have no e-mail address: they can never be reminded."""
    return [u.code for u in plan.registry.units if not u.email]


def no_email_sentence(codes: list[str], settings: Settings) -> str:
    return (f"Chưa có địa chỉ e-mail của {len(codes)} đơn vị ({', '.join(codes)}): không gửi được thư nhắc cho "
            f"các đơn vị này. Điền khóa 'email' của từng đơn vị (mục 'units') trong tệp kế hoạch "
            f"'{settings.plan_path()}'.")


def last_reminded(state: State, unit_code: str) -> dt.date | None:
    last = state.last_sent("reminder", f"{unit_code}/")
    return dt.date.fromisoformat(last["period"].split("/", 1)[1]) if last else None

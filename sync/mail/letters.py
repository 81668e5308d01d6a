"""The e-mails: what they say, and to whom they go.

What they say is pure: a pass's Summary in, subjects and bodies out (Vietnamese, plain text). Two letters: the
quarterly report's cover note (figures from the same Summary as the report), and one reminder digest per unit
listing what that unit has to fix in the sheet.

The two e-mail jobs send them: the quarterly report to its recipients (`mail_report`), and one reminder digest per unit
(`remind`). Both go through `sync.mail.mailer.deliver`, so each message leaves once per ledger key: (report, 2024Q3,
recipient) and (reminder, VP/2024-09-20, address): a pass run again, a crash between two messages or the daemon and cron
both at work never mail anyone twice. `say` tells the Office each step; nothing is printed here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sync.core.config import Settings
from sync.core.deadlines import format_date
from sync.core.errors import SyncError, Unreachable, UserError
from sync.core.periods import Period
from sync.core.plan import Plan, Unit
from sync.core.schema import ROMAN, FlagKind, Layout, is_address, shorten, vn_number
from sync.core.summary import Kpis, Summary
from sync.mail.mailer import Attachment, Letter, Sender, deliver, open_sender
from sync.state.store import State, Witness

SIGNATURE = ("Thư này do công cụ theo dõi Kế hoạch tuyên truyền CCHC của Văn phòng Sở gửi tự động; "
             "nếu có sai sót, xin liên hệ Văn phòng Sở.")


def report_subject(period_name: str) -> str:
    return f"[CCHC] Dự thảo báo cáo kết quả tuyên truyền cải cách hành chính {period_name}"


#: What the leadership and Văn thư do with the draft (docs/design.md): the job never sends the official report.
NEXT_STEPS = (
    "Các bước tiếp theo:\n"
    "1. Lãnh đạo Sở xem dự thảo, cho ý kiến hoặc chỉnh sửa trực tiếp trên tệp .docx đính kèm.\n"
    "2. Văn thư cho số, ghi ngày ban hành và bỏ dòng \"DỰ THẢO\" ở đầu văn bản.\n"
    "3. Lãnh đạo Sở ký số văn bản.\n"
    "4. Văn thư phát hành qua hệ thống quản lý văn bản và điều hành tới nơi nhận ghi trong báo cáo.\n"
    "Thư này chỉ gửi nội bộ; công cụ không gửi báo cáo chính thức tới cơ quan nào.")


def report_body(period_name: str, as_of: dt.date, kpis: Kpis, where: str, missing: int) -> str:
    """The draft's cover note for the Sở's leadership and Văn thư: the figures as the report prints them (same
    data date, same totals), then what to do with the draft."""
    rate = "" if kpis.on_time_rate is None else f"\n- Tỷ lệ hoàn thành đúng hạn: {vn_number(kpis.on_time_rate)}%"
    unknown = f"; chưa rõ tình trạng: {kpis.unknown_status}" if kpis.unknown_status else ""
    tasks = (f"- Nhiệm vụ: hoàn thành {kpis.tasks_done}/{kpis.tasks}; đang thực hiện: {kpis.tasks_in_progress}; "
             f"chưa thực hiện: {kpis.tasks_not_started}; không thực hiện: {kpis.tasks_cancelled}; chậm tiến độ: "
             f"{kpis.tasks_late}\n") if kpis.tasks else ""
    return (
        f"Kính gửi: Ban Giám đốc Sở và Văn thư Sở,\n\n"
        f"Văn phòng Sở gửi kèm dự thảo báo cáo kết quả thực hiện Kế hoạch tuyên truyền cải cách hành chính "
        f"{period_name} (số liệu tính đến ngày {format_date(as_of)}), chưa có số, ngày và chữ ký.\n\n"
        f"Tóm tắt:\n{tasks}"
        f"- Hoàn thành: {kpis.done}/{kpis.rows} lượt phân công\n"
        f"- Đang thực hiện: {kpis.in_progress}; chưa thực hiện: {kpis.not_started}; "
        f"không thực hiện: {kpis.cancelled}{unknown}\n"
        f"- Quá hạn: {kpis.overdue}\n"
        f"- Kết quả quý các đơn vị còn thiếu: {missing}{rate}\n\n"
        f"{NEXT_STEPS}\n\n"
        f"Bảng theo dõi: {where}\n\n{SIGNATURE}\n")


@dataclass
class Digest:
    unit: Unit
    overdue: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.missing or self.errors)

    @property
    def subject(self) -> str:
        parts = [f"{len(items)} {label}" for items, label in
                 ((self.overdue, "quá hạn"), (self.missing, "thiếu kết quả quý"), (self.errors, "lỗi nhập liệu"))
                 if items]
        return f"[CCHC] Nhắc cập nhật bảng theo dõi - {self.unit.label}: {', '.join(parts)}"

    def body(self, as_of: dt.date, where: str, tab: str, interval_days: int) -> str:
        sections: list[str] = []
        for title, items in (("Nhiệm vụ quá hạn", self.overdue), ("Kết quả quý còn thiếu", self.missing),
                             ("Lỗi nhập liệu cần sửa", self.errors)):
            if items:
                sections.append(f"{len(sections) + 1}. {title} ({len(items)}):\n"
                                + "\n".join(f"   - {i}" for i in items))
        return (f"Kính gửi: {self.unit.name},\n\n"
                f"Văn phòng Sở đề nghị đơn vị cập nhật các nội dung sau trong bảng theo dõi Kế hoạch tuyên truyền "
                f"cải cách hành chính (tính đến ngày {format_date(as_of)}):\n\n"
                + "\n\n".join(sections)
                + f"\n\nBảng theo dõi: {where} (tab '{tab}'). Sau khi đơn vị cập nhật, cột Kiểm tra và Cảnh báo "
                  f"sẽ tự xóa ở lượt kiểm tra tiếp theo.\n"
                  f"Mỗi đơn vị nhận tối đa một thư nhắc trong {interval_days} ngày.\n\n{SIGNATURE}\n")


def digests(summary: Summary, plan: Plan, layout: Layout) -> list[Digest]:
    """One digest per unit of the registry, in registry order (empty ones included: callers skip them)."""
    by_code = {u.code: Digest(u) for u in plan.registry.units}
    for r in summary.results:
        c = r.checked
        if not (c.counted and c.unit and c.task):
            continue
        d = by_code[c.unit.code]
        label = f"Nhiệm vụ {c.task.stt} - {shorten(c.task.task, 70)}"
        for f in r.flags:
            if f.kind == FlagKind.OVERDUE:
                d.overdue.append(f"{label}: hạn {format_date(c.due)}, đã quá {f.days} ngày (dòng {c.entry.row})")
            elif f.kind == FlagKind.MISSING:
                d.missing.append(f"{label}: chưa nhập Kết quả Quý {ROMAN[f.quarter]} (dòng {c.entry.row})")
    headers = {"tracking": layout.tracking_columns, "plan": layout.plan_columns}
    for issue in summary.errors:
        unit = plan.registry.match(issue.unit)
        if unit is None or issue.tab != "tracking":
            continue  # rows no unit can be told about stay on the dashboard for the Office
        column = headers[issue.tab].get(issue.column, issue.column)
        by_code[unit.code].errors.append(f"Dòng {issue.row}, cột {column}: {issue.message}")
    return list(by_code.values())


Say = Callable[[str], None]


def public_where(settings: Settings) -> str:
    """The workbook as recipients may see it: its address, or its file name (never a path on our server)."""
    if settings.sheet_url or settings.backend == "google":
        return settings.where()
    return f"tệp {settings.local.path.name}"


def mail_scope(settings: Settings) -> str:
    """The workbook the configuration reports on, in each Message-ID: two configurations never share one."""
    from sync.state.store import mail_scope as scope
    return scope(settings.backend, settings.google.spreadsheet_id, settings.local.path)


NO_RECIPIENTS = "Chưa có người nhận báo cáo: thêm địa chỉ vào khóa cấu hình 'mail.report_to'."


class ReportFigures(Protocol):
    """What a report's cover note prints: a built report (sync.reports.content.Report) and the figures saved with
    a kept one (sync.reports.build.Figures) alike."""

    @property
    def period(self) -> Period: ...
    @property
    def as_of(self) -> dt.date: ...
    @property
    def kpis(self) -> Kpis: ...
    @property
    def missing_count(self) -> int: ...


def mail_report(settings: Settings, state: State, report: ReportFigures, files: list[Path], now: dt.datetime,
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
    if result.repeated:
        say(f"Bỏ qua {', '.join(result.repeated)}: địa chỉ đã có ở mục khác của 'mail.report_to', chỉ gửi một thư; "
            "xóa mục lặp lại.")
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
        to = [a for a in d.unit.email if is_address(a)]
        if not send:
            say(f"--- {d.subject}\nGửi tới: {', '.join(to) or '(chưa có địa chỉ dùng được)'}\n\n{body}")
            continue
        for bad in (a for a in d.unit.email if a not in to):
            say(f"Không gửi tới '{bad}' ({d.unit.label}): không phải một địa chỉ e-mail. Sửa khóa 'email' của đơn vị "
                f"{d.unit.code} trong tệp kế hoạch {settings.plan_path()}.")
        if not to:
            item["skipped"] = "no address"
            say(f"Bỏ qua {d.unit.label}: chưa có địa chỉ e-mail dùng được (khóa 'email' của đơn vị {d.unit.code} "
                f"trong tệp kế hoạch {settings.plan_path()}).")
            continue
        last = last_reminded(state, d.unit.code)
        # the same day's digest is finished, not skipped: an address it did not reach (a server down, a kill)
        # gets it on the next call, the ledger skipping those it reached
        if last and last != as_of and 0 <= (as_of - last).days < interval:
            item["skipped"] = f"reminded {last.isoformat()}"
            say(f"Bỏ qua {d.unit.label}: đã nhắc ngày {last:%d/%m/%Y} (mỗi {interval} ngày một lần).")
            continue
        letters = [Letter(address, d.subject, body) for address in to]
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
    """The codes of the plan's units that have no e-mail address (none written, or none that is one): they can
    never be reminded."""
    return [u.code for u in plan.registry.units if not any(is_address(a) for a in u.email)]


def no_email_sentence(codes: list[str], settings: Settings) -> str:
    return (f"Chưa có địa chỉ e-mail dùng được của {len(codes)} đơn vị ({', '.join(codes)}): không gửi được thư nhắc "
            f"cho các đơn vị này. Điền (hoặc sửa) khóa 'email' của từng đơn vị (mục 'units') trong tệp kế hoạch "
            f"'{settings.plan_path()}'.")


def last_reminded(state: State, unit_code: str) -> dt.date | None:
    last = state.last_sent("reminder", f"{unit_code}/")
    return dt.date.fromisoformat(last["period"].split("/", 1)[1]) if last else None

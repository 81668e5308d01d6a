"""`report` and its sending: the period's documents built from the sheet, and e-mailed once per recipient.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync.core import periods
from sync.core.config import Settings
from sync.core.errors import UserError
from sync.usecases.common import Line, Lines, SenderFactory, guard_state
from sync.usecases.ports import Ports

if TYPE_CHECKING:
    from sync.reports.content import Report
    from sync.state.store import State
    from sync.state.witness import Witness
    from sync.usecases.report_build import Figures

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.


@dataclass(frozen=True)
class ReportRequest:
    period: str = "auto"  # a period's spelling (sync.core.periods.parse), or auto
    issued: dt.date | None = None  # --date; default today
    as_of: dt.date | None = None  # default: the period's cut-off
    send: bool = False
    force: bool = False
    pdf: bool = False
    new_state: bool = False  # --new-state: a state file that knows nothing is this workbook's new one


@dataclass(frozen=True)
class ReportResult:
    figures: dict[str, Any] | None  # the JSON output (docs/operations.md); None: no report owed (nothing done)
    emails_sent: int
    lines: tuple[Line, ...]


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


def report(settings: Settings, ports: Ports, now: dt.datetime, request: ReportRequest,
           sender: SenderFactory | None = None, lines: Lines | None = None) -> ReportResult:
    """Build the period's report (never overwriting one already sent, unless forced) and send it once to each
    recipient."""
    from sync.reports import evidence
    from sync.reports.content import vn_date
    from sync.state.witness import Witness
    from sync.usecases import report_build as build
    from sync.usecases.notify import report_all_sent
    lines = lines or Lines()
    say = lines.say
    plan, state, rs = ports.plan, ports.state, settings.report
    # only a sending writes the state file (its ledger); any report reads it (the ledger, history's figures)
    guard = guard_state(settings, state, plan, write=request.send, accept_new=request.new_state)
    issued = request.issued or now.date()
    if issued > now.date():  # a mistyped year would send, once and for all, a report dated years ahead
        raise UserError(f"--date {issued:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y}): báo cáo không "
                        "được đề ngày ban hành sau hôm nay. Bỏ --date (mặc định là hôm nay) hoặc sửa lại ngày.")
    cutoff_day = settings.deadlines.quarter_cutoff_day
    if periods.is_auto(request.period):
        found = periods.auto(issued, plan.year, cutoff_day, rs.cycle, rs.third)
        if found is None:
            first = periods.first(plan.year, rs.cycle, rs.third)
            say(f"Chưa đến kỳ báo cáo nào của Kế hoạch năm {plan.year}: kỳ đầu tiên ({first.name}) chốt số liệu "
                f"ngày {first.cutoff(cutoff_day):%d/%m/%Y}.")
            return ReportResult(None, 0, lines.all())
        period = found
        if period == periods.last(plan.year, rs.cycle, rs.third) and request.send and not request.force \
                and report_all_sent(settings, state, period):
            say(f"Báo cáo {period.name} đã gửi; Kế hoạch năm {plan.year} không còn kỳ báo cáo nào. Cần kế hoạch "
                f"năm {plan.year + 1}: python -m sync plan import <tệp kế hoạch .docx> -o <tệp .yaml>, rồi đặt "
                "khóa cấu hình 'plan'.")
            return ReportResult(None, 0, lines.all())
    else:
        period = periods.parse(request.period, rs.cycle, rs.third)
        if period.year != plan.year:
            raise UserError(f"Kỳ báo cáo {period.name} không thuộc năm của Kế hoạch ({plan.year}, tệp "
                            f"'{settings.plan_path()}'): năm {period.year} khác năm {plan.year}. Chọn một kỳ của năm "
                            f"{plan.year} ({periods.FORMS}), hoặc nhập kế hoạch năm {period.year} bằng "
                            "'python -m sync plan import'.")
    as_of = request.as_of or period.cutoff(cutoff_day)
    start = period.window(cutoff_day)[0]
    if as_of < start:
        raise UserError(f"Ngày số liệu {as_of:%d/%m/%Y} (--as-of) ở trước kỳ báo cáo {period.name} (số liệu từ "
                        f"{start:%d/%m/%Y} đến {period.cutoff(cutoff_day):%d/%m/%Y}); báo cáo không thể mang số liệu "
                        "của trước kỳ. Bỏ --as-of (mặc định là ngày chốt của kỳ) hoặc chọn một ngày trong kỳ.")
    if issued < as_of:
        raise UserError(f"Ngày ban hành {issued:%d/%m/%Y} (--date) ở trước ngày số liệu {as_of:%d/%m/%Y} "
                        f"({'--as-of' if request.as_of else 'ngày chốt của ' + period.name}); báo cáo không thể ban "
                        "hành trước khi có số liệu. Dùng --date YYYY-MM-DD hoặc dd/mm/yyyy không trước ngày số liệu "
                        "(hoặc --as-of để xem trước số liệu đến một ngày sớm hơn).")
    if request.send and as_of >= now.date():  # "tính đến" a day not over yet: its figures can still change
        raise UserError(f"Chưa gửi báo cáo {period.name}: ngày chốt số liệu {as_of:%d/%m/%Y} chưa hết (hôm nay "
                        f"{now:%d/%m/%Y}), các đơn vị còn nhập được đến hết ngày. Gửi từ ngày "
                        f"{as_of + dt.timedelta(days=1):%d/%m/%Y} (lịch của daemon làm vậy); bỏ --send để xem trước.")
    if request.send and as_of != period.cutoff(cutoff_day):  # the report sent up is the period's, of its cut-off
        raise UserError(f"Không gửi báo cáo {period.name} với số liệu đến {as_of:%d/%m/%Y} (--as-of): báo cáo gửi "
                        f"cấp trên mang số liệu đến ngày chốt {period.cutoff(cutoff_day):%d/%m/%Y}. Bỏ --as-of để gửi; "
                        "--as-of chỉ dùng để xem trước (không có --send).")
    pdf_wanted = request.pdf or rs.pdf
    if pdf_wanted:
        build.require_soffice()  # say so before anything is written
    from sync.files import check_folder
    check_folder(rs.out_dir, "report.out_dir", "thư mục báo cáo")  # read-only: exit 2 before anything is built
    path = build.report_path(settings, period)
    preview = as_of != period.cutoff(cutoff_day)  # figures of another day: never the period's official file
    if preview:
        path = path.with_name(f"{path.stem}.xem-truoc-{as_of:%Y%m%d}{path.suffix}")
        say(f"Bản xem trước với số liệu đến {as_of:%d/%m/%Y} (--as-of), ghi riêng; báo cáo chính thức của kỳ "
            f"{period.name} (số liệu đến ngày chốt) không đổi.")
    witness = Witness(path, period.key)
    if request.send and guard.fresh and not guard.accept_new:  # a lost ledger must not send the report again
        guard.witness(ports.backend.read(), settings.layout, ports.backend.describe())
    # who it goes to is settled before anything is built: a refusal leaves the files as they were
    audience = _audience(settings, state, period, witness, request.force, say) if request.send else None
    if request.send:
        guard.adopt()
    ledger = [] if preview else state.sent_to("report", period.key)
    sent = bool(ledger or witness.sent())
    keep = sent and path.exists() and not request.force  # never overwrite what was sent, unless asked
    # --send sends the draft the Office built and reviewed (after the data date), never a rebuilt one
    draft = build.built_draft(path, period, as_of) if request.send and not (keep or request.force) else None
    keep = keep or draft is not None
    # a kept report is e-mailed with the figures it prints (saved beside it), never today's sheet's
    built = None if keep else build.gather(settings, plan, ports.backend, period, as_of, issued, now)
    if built is not None:  # a draft for Văn thư: the date only when given; another data date is a preview
        built.dated, built.preview = request.issued is not None, preview
    out: dict[str, Any] = {"period": period.key, "quarter": period.key, "path": str(path), "built": not keep,
                           "pdf": None, "issued": issued.isoformat(), "annex": None}
    pdf = path.with_suffix(".pdf")
    if built is None:
        kept = draft or _kept_figures(path, period)
        if kept is not None:  # the JSON tells the kept file's dates and figures: it is not issued again
            out.update(issued=kept.issued.isoformat() if kept.issued else None, as_of=kept.as_of.isoformat(),
                       **kept.kpis.to_json(), missing_listed=kept.missing_count)
        if draft is not None:
            built_on = f" ngày {draft.built:%d/%m/%Y %H:%M}" if draft.built else ""
            say(f"Gửi bản dự thảo báo cáo {period.name} đã tạo{built_on}: '{path}' (không tạo lại; chạy 'report' "
                f"không có --send để tạo lại sau khi sửa số liệu hoặc tab '{settings.layout.tabs['office']}').")
        else:
            say(f"Báo cáo {period.name} đã gửi; giữ nguyên tệp '{path}' (dùng --force để tạo lại).")
    else:
        try:
            if sent and (copy := build.keep_sent_copy(path, now)):
                witness.moved_to(copy)  # the witness names the file each recipient received, not the rebuilt one
                say(f"Đã lưu bản đã gửi trước đây thành '{copy}'.")
            build.write(built, settings, path, now)
        except OSError as exc:  # a full or read-only report folder: said, naming it (exit 3 or 2)
            from sync.files import folder_error
            raise folder_error(exc, path.parent, "report.out_dir", "thư mục báo cáo") from None
        annex = build.annex_path(path)
        out.update(as_of=built.as_of.isoformat(), has_data=built.has_data, **built.kpis.to_json(),
                   missing_listed=built.missing_count, annex=str(annex) if annex.exists() else None)
        say(f"Đã tạo báo cáo {period.name} (ban hành {vn_date(issued)}, số liệu tính đến {built.as_of:%d/%m/%Y}): "
            f"'{path}'." + ("" if built.has_data else " Kỳ này chưa có số liệu; báo cáo ghi rõ điều đó."))
        if out["annex"]:
            say(f"Tệp nội bộ của Văn phòng ({len(built.errors)} lỗi nhập liệu, kết quả còn thiếu; không gửi kèm): "
                f"'{annex}'. Đoạn trích cho báo cáo CCHC của Sở: '{build.excerpt_path(path)}'.")
        out.update(office=sorted(built.office), computed_sections=_office_lines(built, settings, say))
        if (listed := evidence.path_for(path)).exists() and period.kind == "Y":
            out["evidence"] = str(listed)
            say(f"Tài liệu kiểm chứng của năm (tự đánh giá Chỉ số CCHC): '{listed}'.")
        if gap := typing_gap(state, as_of, now.date(), as_of == period.cutoff(cutoff_day)):
            lines.warn(gap)
        if pdf.exists() and not pdf_wanted:
            pdf.unlink()  # never a PDF older than its .docx beside it
            say(f"Đã xóa '{pdf}' cũ (không còn khớp với tệp .docx mới; dùng --pdf để tạo lại).")
    if pdf_wanted and (not keep or not pdf.exists() or pdf.stat().st_mtime < path.stat().st_mtime):
        out["pdf"] = str(build.to_pdf(path))
        say(f"Đã chuyển sang PDF: '{out['pdf']}'.")
    elif pdf_wanted:
        out["pdf"] = str(pdf)
    emails = 0
    if audience is not None:  # a kept file goes with its PDF when one was made from it
        made = keep and pdf.exists() and pdf.stat().st_mtime >= path.stat().st_mtime
        files = [path] + ([pdf] if pdf_wanted or made else [])
        figures = build.saved_figures(path, period) if built is None else built
        emails = _deliver(settings, state, figures, files, now, request.force, witness, audience, sender, say)
        out["emails_sent"] = emails
    return ReportResult(out, emails, lines.all())


def _office_lines(report: Report, settings: Settings, say: Callable[[str], None]) -> list[str]:
    """Say what of the Báo cáo tab the report could not use, and which sections got a sentence computed from the
    data because the Office typed nothing for them (`Report.computed_sections`, Vietnamese section names)."""
    tab = settings.layout.tabs["office"]
    problems = [e for e in report.errors if e.tab == "office"]
    if problems:
        shown = "; ".join(f"dòng {e.row}: {e.message}" for e in problems[:5])
        say(f"Tab '{tab}': {len(problems)} lỗi, các dòng đó không đưa vào báo cáo (cột Kiểm tra ghi rõ sau lượt chạy "
            f"tới): {shown}" + ("; …" if len(problems) > 5 else "."))
    computed = list(getattr(report, "computed_sections", None) or [])
    if computed:
        say(f"Chưa có nội dung do Văn phòng nhập: {', '.join(computed)} (báo cáo dùng câu tính từ số liệu). Nhập ở "
            f"tab '{tab}' (Kỳ báo cáo: {report.period.name}) rồi chạy lại 'report' để tạo lại dự thảo.")
    return computed


def _kept_figures(path: Path, period: periods.Period) -> Figures | None:
    """The figures saved with a kept report, or None when they cannot be read (sending then says why)."""
    from sync.usecases.report_build import saved_figures
    try:
        return saved_figures(path, period)
    except UserError:
        return None


def typing_gap(state: State, as_of: dt.date, today: dt.date, cutoff: bool) -> str | None:
    """What a report of `as_of` may miss when the last pass recorded on or before it is older (sync.core.typing_gap)."""
    from sync.core.typing_gap import gap_warning
    from sync.state.history import HistoryStore
    if as_of >= today:
        return None  # today's entries are read as they are
    found = HistoryStore(state).pass_at(as_of)
    return gap_warning(found.as_of if found else None, as_of, cutoff)


def send_report(settings: Settings, state: State, figures: Figures, files: list[Path], now: dt.datetime,
                force: bool = False, sender: SenderFactory | None = None, lines: Lines | None = None) -> int:
    """E-mail a built report (`files`: the .docx first, then its PDF) to each recipient of `mail.report_to` once:
    the send ledger in the state file and the witness beside the report both say who has it (a lost state file
    sends nobody twice); `force` sends to everyone again. The number of messages sent."""
    from sync.state.witness import Witness
    from sync.usecases.report_build import report_path
    lines = lines or Lines()
    witness = Witness(report_path(settings, figures.period), figures.period.key)
    audience = _audience(settings, state, figures.period, witness, force, lines.say)
    return _deliver(settings, state, figures, files, now, force, witness, audience, sender, lines.say)


def _audience(settings: Settings, state: State, period: periods.Period, witness: Witness, force: bool,
              say: Callable[[str], None]) -> Recipients:
    """Who a sending of the period's report may go to: refused (exit 2) when all left have it by the witness."""
    from sync.usecases.notify import NO_RECIPIENTS
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


def _deliver(settings: Settings, state: State, figures: Figures | Report, files: list[Path], now: dt.datetime,
             force: bool, witness: Witness, audience: Recipients, sender: SenderFactory | None,
             say: Callable[[str], None]) -> int:
    from sync.usecases.notify import send_report as send
    return send(settings, state, figures, files, now, force, say, witness, audience.to,
                sender=sender(settings.mail) if sender else None)

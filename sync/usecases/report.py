"""`report`: the period's documents built from the sheet, and e-mailed once per recipient (--send).

A report goes up to the Sở's leaders and to the province: what was sent is never rebuilt behind their back
(a kept file goes again with the figures it prints), figures of a day other than the cut-off are only a
preview beside the official file, and nothing is sent before the cut-off day is over. Which period `auto`
names is sync/usecases/owed.py's answer, the daemon's too, and so is whom a sending reaches; gathering its
content is sync/usecases/report_build.py's, writing the documents sync/reports/build.py's.
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
from sync.reports.build import annex_path, excerpt_path, report_path
from sync.usecases.common import Line, Lines, SenderFactory, StateGuard, guard_state
from sync.usecases.owed import Recipients, audience, deliver
from sync.usecases.ports import Ports

if TYPE_CHECKING:
    from sync.reports.build import Figures
    from sync.reports.content import Report
    from sync.state.store import State, Witness

Say = Callable[[str], None]


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
class _Target:
    """The report asked for: its period, dates and file."""

    period: periods.Period
    as_of: dt.date
    issued: dt.date
    path: Path
    preview: bool  # figures of a day other than the cut-off: never the period's official file
    pdf: bool  # a PDF is wanted (--pdf or report.pdf)
    witness: Witness

    @property
    def pdf_path(self) -> Path:
        return self.path.with_suffix(".pdf")


def report(settings: Settings, ports: Ports, now: dt.datetime, request: ReportRequest,
           sender: SenderFactory | None = None, lines: Lines | None = None) -> ReportResult:
    """Build the period's report (never overwriting one already sent, unless forced) and send it once to each
    recipient."""
    from sync.reports import build
    from sync.usecases.report_build import gather
    lines = lines or Lines()
    state = ports.state
    # only a sending writes the state file (its ledger); any report reads it (the ledger, history's figures)
    guard = guard_state(settings, state, ports.plan, write=request.send, accept_new=request.new_state)
    issued = request.issued or now.date()
    if issued > now.date():  # a mistyped year would send, once and for all, a report dated years ahead
        raise UserError(f"--date {issued:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y}): báo cáo không "
                        "được đề ngày ban hành sau hôm nay. Bỏ --date (mặc định là hôm nay) hoặc sửa lại ngày.")
    period = _period(settings, ports, request, issued, lines.say)
    if period is None:
        return ReportResult(None, 0, lines.all())
    target = _target(settings, request, period, issued, now, lines.say)
    recipients = _before_sending(settings, ports, request, target, guard, lines.say) if request.send else None
    ledger = [] if target.preview else state.sent_to("report", period.key)
    sent = bool(ledger or target.witness.sent())
    keep = sent and target.path.exists() and not request.force  # never overwrite what was sent, unless asked
    # --send sends the draft the Office built and reviewed (after the data date), never a rebuilt one
    draft = (build.built_draft(target.path, period, target.as_of) if request.send and not (keep or request.force)
             else None)
    keep = keep or draft is not None
    # a kept report is e-mailed with the figures it prints (saved beside it), never today's sheet's
    built = None if keep else gather(settings, ports.plan, ports.backend, period, target.as_of, issued, now,
                                           state)
    out: dict[str, Any] = {"period": period.key, "quarter": period.key, "path": str(target.path), "built": not keep,
                           "pdf": None, "issued": issued.isoformat(), "annex": None}
    if built is None:
        _kept(settings, target, draft, out, lines.say)
    else:  # a draft for Văn thư: the date only when given; another data date is a preview
        built.dated, built.preview = request.issued is not None, target.preview
        _built(settings, state, target, built, sent, now, out, lines)
    _pdf(target, keep, out, lines.say)
    emails = 0
    if recipients is not None:  # a kept file goes with its PDF when one was made from it
        pdf = target.pdf_path
        made = keep and pdf.exists() and pdf.stat().st_mtime >= target.path.stat().st_mtime
        files = [target.path] + ([pdf] if target.pdf or made else [])
        figures = build.saved_figures(target.path, period) if built is None else built
        emails = deliver(settings, state, figures, files, now, request.force, target.witness, recipients, sender,
                         lines.say)
        out["emails_sent"] = emails
    return ReportResult(out, emails, lines.all())


def _period(settings: Settings, ports: Ports, request: ReportRequest, issued: dt.date,
            say: Say) -> periods.Period | None:
    """The period asked for, or the one owed on the issue date (auto); None when no report is owed (said)."""
    from sync.usecases.owed import Ask, report_owed
    plan, rs = ports.plan, settings.report
    if not periods.is_auto(request.period):
        period = periods.parse(request.period, rs.cycle, rs.third)
        if period.year != plan.year:
            raise UserError(f"Kỳ báo cáo {period.name} không thuộc năm của Kế hoạch ({plan.year}, tệp "
                            f"'{settings.plan_path()}'): năm {period.year} khác năm {plan.year}. Chọn một kỳ của năm "
                            f"{plan.year} ({periods.FORMS}), hoặc nhập kế hoạch năm {period.year} bằng "
                            "'python -m sync plan import'.")
        return period
    owed = report_owed(settings, plan.year, issued, ports.state,
                       Ask.FINAL if request.send and not request.force else Ask.NEVER)
    if owed.period is None:
        first = owed.first
        say(f"Chưa đến kỳ báo cáo nào của Kế hoạch năm {plan.year}: kỳ đầu tiên ({first.name}) chốt số liệu "
            f"ngày {first.cutoff(settings.deadlines.quarter_cutoff_day):%d/%m/%Y}.")
        return None
    if owed.year_done:
        say(f"Báo cáo {owed.period.name} đã gửi; Kế hoạch năm {plan.year} không còn kỳ báo cáo nào. Cần kế hoạch "
            f"năm {plan.year + 1}: python -m sync plan import <tệp kế hoạch .docx> -o <tệp .yaml>, rồi đặt "
            "khóa cấu hình 'plan'.")
        return None
    return owed.period


def _target(settings: Settings, request: ReportRequest, period: periods.Period, issued: dt.date, now: dt.datetime,
            say: Say) -> _Target:
    """The data date, checked against the period and the issue date, and the file it goes to."""
    from sync.files import check_folder, require_soffice
    from sync.state.store import Witness
    cutoff = period.cutoff(settings.deadlines.quarter_cutoff_day)
    as_of = request.as_of or cutoff
    _check_as_of(settings, request, period, as_of, issued, now)
    pdf = request.pdf or settings.report.pdf
    if pdf:
        require_soffice()  # say so before anything is written
    check_folder(settings.report.out_dir, "report.out_dir", "thư mục báo cáo")  # read-only: exit 2 before building
    path = report_path(settings, period)
    preview = as_of != cutoff  # figures of another day: never the period's official file
    if preview:
        path = path.with_name(f"{path.stem}.xem-truoc-{as_of:%Y%m%d}{path.suffix}")
        say(f"Bản xem trước với số liệu đến {as_of:%d/%m/%Y} (--as-of), ghi riêng; báo cáo chính thức của kỳ "
            f"{period.name} (số liệu đến ngày chốt) không đổi.")
    return _Target(period, as_of, issued, path, preview, pdf, Witness(path, period.key))


def _check_as_of(settings: Settings, request: ReportRequest, period: periods.Period, as_of: dt.date,
                 issued: dt.date, now: dt.datetime) -> None:
    """A data date within the period, not after the issue date; a sending only of the cut-off, once it is over."""
    cutoff_day = settings.deadlines.quarter_cutoff_day
    start, cutoff = period.window(cutoff_day)[0], period.cutoff(cutoff_day)
    if as_of < start:
        raise UserError(f"Ngày số liệu {as_of:%d/%m/%Y} (--as-of) ở trước kỳ báo cáo {period.name} (số liệu từ "
                        f"{start:%d/%m/%Y} đến {cutoff:%d/%m/%Y}); báo cáo không thể mang số liệu "
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
    if request.send and as_of != cutoff:  # the report sent up is the period's, of its cut-off
        raise UserError(f"Không gửi báo cáo {period.name} với số liệu đến {as_of:%d/%m/%Y} (--as-of): báo cáo gửi "
                        f"cấp trên mang số liệu đến ngày chốt {cutoff:%d/%m/%Y}. Bỏ --as-of để gửi; "
                        "--as-of chỉ dùng để xem trước (không có --send).")


def _before_sending(settings: Settings, ports: Ports, request: ReportRequest, target: _Target, guard: StateGuard,
                    say: Say) -> Recipients:
    """Who the sending goes to, settled before anything is built: a refusal leaves the files as they were. A
    state file that knows nothing of a workbook with passes (a lost ledger) must not send the report again."""
    if guard.fresh and not guard.accept_new:
        guard.witness(ports.backend.read(), settings.layout, ports.backend.describe())
    recipients = audience(settings, ports.state, target.period, target.witness, request.force, say)
    guard.adopt()
    return recipients


def _kept(settings: Settings, target: _Target, draft: Figures | None, out: dict[str, Any], say: Say) -> None:
    """A file not built again (sent, or a draft to send): the JSON tells its dates and figures."""
    from sync.reports.build import saved_figures
    period, path = target.period, target.path
    kept = draft
    if kept is None:
        try:
            kept = saved_figures(path, period)
        except UserError:
            kept = None  # the sending, if any, says why they cannot be read
    if kept is not None:  # the kept file is not issued again
        out.update(issued=kept.issued.isoformat() if kept.issued else None, as_of=kept.as_of.isoformat(),
                   **kept.kpis.to_json(), missing_listed=kept.missing_count)
    if draft is not None:
        built_on = f" ngày {draft.built:%d/%m/%Y %H:%M}" if draft.built else ""
        say(f"Gửi bản dự thảo báo cáo {period.name} đã tạo{built_on}: '{path}' (không tạo lại; chạy 'report' "
            f"không có --send để tạo lại sau khi sửa số liệu hoặc tab '{settings.layout.tabs['office']}').")
    else:
        say(f"Báo cáo {period.name} đã gửi; giữ nguyên tệp '{path}' (dùng --force để tạo lại).")


def _built(settings: Settings, state: State, target: _Target, built: Report, sent: bool, now: dt.datetime,
           out: dict[str, Any], lines: Lines) -> None:
    """Write the documents (keeping a copy of what was sent before) and say what was made."""
    from sync.reports import build, evidence
    from sync.reports.content import vn_date
    period, path, say = target.period, target.path, lines.say
    try:
        if sent and (copy := build.keep_sent_copy(path, now)):
            target.witness.moved_to(copy)  # the witness names the file each recipient received, not the rebuilt one
            say(f"Đã lưu bản đã gửi trước đây thành '{copy}'.")
        build.write(built, settings, path, now)
    except OSError as exc:  # a full or read-only report folder: said, naming it (exit 3 or 2)
        from sync.files import folder_error
        raise folder_error(exc, path.parent, "report.out_dir", "thư mục báo cáo") from None
    annex = annex_path(path)
    out.update(as_of=built.as_of.isoformat(), has_data=built.has_data, **built.kpis.to_json(),
               missing_listed=built.missing_count, annex=str(annex) if annex.exists() else None)
    say(f"Đã tạo báo cáo {period.name} (ban hành {vn_date(target.issued)}, số liệu tính đến {built.as_of:%d/%m/%Y}): "
        f"'{path}'." + ("" if built.has_data else " Kỳ này chưa có số liệu; báo cáo ghi rõ điều đó."))
    if out["annex"]:
        say(f"Tệp nội bộ của Văn phòng ({len(built.errors)} lỗi nhập liệu, kết quả còn thiếu; không gửi kèm): "
            f"'{annex}'. Đoạn trích cho báo cáo CCHC của Sở: '{excerpt_path(path)}'.")
    out.update(office=sorted(built.office), computed_sections=_office_lines(built, settings, say))
    if (listed := evidence.path_for(path)).exists() and period.kind == "Y":
        out["evidence"] = str(listed)
        say(f"Tài liệu kiểm chứng của năm (tự đánh giá Chỉ số CCHC): '{listed}'.")
    cutoff = period.cutoff(settings.deadlines.quarter_cutoff_day)
    if gap := typing_gap(state, target.as_of, now.date(), target.as_of == cutoff):
        lines.warn(gap)
    if target.pdf_path.exists() and not target.pdf:
        target.pdf_path.unlink()  # never a PDF older than its .docx beside it
        say(f"Đã xóa '{target.pdf_path}' cũ (không còn khớp với tệp .docx mới; dùng --pdf để tạo lại).")


def _pdf(target: _Target, keep: bool, out: dict[str, Any], say: Say) -> None:
    """The PDF when wanted: made again unless a kept file's is as new as its .docx."""
    from sync.files import to_pdf
    pdf, path = target.pdf_path, target.path
    if target.pdf and (not keep or not pdf.exists() or pdf.stat().st_mtime < path.stat().st_mtime):
        out["pdf"] = str(to_pdf(path))
        say(f"Đã chuyển sang PDF: '{out['pdf']}'.")
    elif target.pdf:
        out["pdf"] = str(pdf)


def _office_lines(report: Report, settings: Settings, say: Say) -> list[str]:
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


def typing_gap(state: State, as_of: dt.date, today: dt.date, cutoff: bool) -> str | None:
    """What a report of `as_of` may miss when the last pass recorded on or before it is older (`gap_warning`)."""
    from sync.core.periods import gap_warning
    from sync.state.history import HistoryStore
    if as_of >= today:
        return None  # today's entries are read as they are
    found = HistoryStore(state).pass_at(as_of)
    return gap_warning(found.as_of if found else None, as_of, cutoff)


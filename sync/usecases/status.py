"""`status`: the last passes, the mail sent, how old the last good pass is, and what the Office should look at.

Monitoring reads its exit code (4: no good pass for too long), so `status` must answer even when nothing else
can: a damaged or busy state file, or a plan that no longer loads, is said, never a crash. It reads only the
state file and the plan, never the workbook (sync/usecases/ports.py).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.core import periods
from sync.core.config import Settings
from sync.core.errors import SyncError
from sync.core.plan import Plan
from sync.usecases.ports import Ports

if TYPE_CHECKING:
    from sync.state.store import PassRow, SendRow, State


@dataclass(frozen=True)
class StatusRequest:
    recent: int = 10  # how many of the last passes and sends to list


@dataclass(frozen=True)
class StatusResult:
    last_good_pass: str | None
    age_hours: float | None
    stale: bool
    passes: list[PassRow] | None  # None: the state file could not be read
    sends: list[SendRow]
    unsent: int
    problem: Exception | None
    new_plan_needed: str | None
    text: tuple[str, ...]  # the text output (stdout)
    exit_code: int
    refused: tuple[str, ...] = ()  # recipients the mail server refused for good (the ledger's last answer)
    units_without_email: tuple[str, ...] = ()  # unit codes that can never get a reminder

    def to_json(self) -> dict[str, Any]:
        return {"last_good_pass": self.last_good_pass, "age_hours": self.age_hours, "stale": self.stale,
                "passes": self.passes, "sends": self.sends, "unsent": self.unsent,
                "problem": self.problem and str(self.problem), "new_plan_needed": self.new_plan_needed,
                "refused": list(self.refused), "units_without_email": list(self.units_without_email)}


@dataclass(frozen=True)
class _Records:
    """What the state file says, or why it could not say it."""

    passes: list[PassRow] | None
    sends: list[SendRow]
    last: PassRow | None
    problem: Exception | None
    age_h: float | None


def status(settings: Settings, ports: Ports, now: dt.datetime, request: StatusRequest = StatusRequest()
           ) -> StatusResult:
    """Exit 4 when the last good pass is older than status.max_age_hours (or there is none): for monitors. Reads
    the state file and the plan, never the workbook."""
    from sync.mail.letters import no_email_sentence, units_without_email
    rec = _records(settings, ports.state, now, request.recent)
    stale = rec.age_h is None or rec.age_h > settings.status.max_age_hours
    unsent = _unsettled(rec.sends)
    plan = _plan(ports)
    needed = _new_plan_needed(settings, plan, now.date())
    out = _pass_lines(rec.passes) + _send_lines(rec.sends, unsent)
    out += _health_lines(settings, rec, stale)
    if needed:
        out.append(needed)
    refused = _refused(unsent, out)
    no_email = units_without_email(plan) if plan is not None else []
    if no_email:
        out.append(no_email_sentence(no_email, settings))
    problem = rec.problem
    code = int(getattr(problem, "exit_code", 2)) if problem else 4 if stale else 0
    last = rec.last
    return StatusResult(last["started_at"] if last else None, rec.age_h, stale, rec.passes, rec.sends, len(unsent),
                        problem, needed, tuple(out), code, tuple(x["recipient"] for x in refused), tuple(no_email))


def _records(settings: Settings, state: State, now: dt.datetime, recent: int) -> _Records:
    """The last passes and sends, the last good pass and its age; a state file's fault kept as the problem."""
    from sync.state.faults import FAULTS, StateFileBusy
    problem = state.problem()  # what would stop the next pass (damaged, read-only, foreign): said, exit 2
    passes: list[PassRow] | None
    sends: list[SendRow]
    last: PassRow | None
    try:
        if isinstance(problem, StateFileBusy):  # already waited the busy timeout once: do not wait it again
            raise problem
        passes, sends, last = state.passes(recent), state.sends(recent), state.last_good_pass()
    except FAULTS as exc:
        if problem is None and not isinstance(exc, SyncError):
            raise
        passes, sends, last, problem = None, [], None, problem or exc
    age_h, problem = _age(settings, last, now, problem)
    return _Records(passes, sends, last, problem, age_h)


def _age(settings: Settings, last: PassRow | None, now: dt.datetime,
         problem: Exception | None) -> tuple[float | None, Exception | None]:
    """The last good pass's age in hours; a time that cannot be read, or lies ahead, is a problem (stale)."""
    from sync.state.faults import StateFileError
    if not last:
        return None, problem
    age_h = None
    try:
        age_h = (now - dt.datetime.fromisoformat(last["started_at"])).total_seconds() / 3600
    except (TypeError, ValueError):  # a pass row damaged in the state file: stale, and said
        problem = problem or StateFileError(
            f"Tệp trạng thái '{settings.state}': lượt chạy ghi thời điểm '{last['started_at']}' không đọc được "
            "(tệp bị sửa tay hoặc hỏng). Khôi phục tệp từ bản sao lưu, hoặc đổi tên nó để bắt đầu tệp mới.")
    if age_h is not None and age_h < -1:  # "in the future" (a clock that jumped): must not silence monitoring
        problem = problem or StateFileError(
            f"Tệp trạng thái '{settings.state}': lượt chạy tốt gần nhất ghi thời điểm {last['started_at']}, ở "
            f"sau hiện tại ({now:%d/%m/%Y %H:%M}). Kiểm tra đồng hồ của máy; không thể biết đã bao lâu không có "
            "lượt chạy tốt.")
        age_h = None
    return age_h, problem


def _pass_lines(passes: list[PassRow] | None) -> list[str]:
    from sync.state.store import STARTED
    out = ["Các lượt chạy gần nhất:" if passes else "Chưa có lượt chạy nào." if passes is not None
           else "Không đọc được các lượt chạy (xem lỗi tệp trạng thái bên dưới)."]
    for p in passes or ():
        first = (p["message"] or "").splitlines()[0] if p["message"] else ""
        if p["ok"] and p["command"] != "run":  # init, restore: what they wrote, not figures they never computed
            written = (json.loads(p["summary"] or "{}") or {}).get("cells_written")
            what = f"ghi {written} ô" if written else "không ghi ô nào" if written == 0 else ""
            out.append(f"  {p['started_at']}  {p['command']:<6} OK   {what}  {first}".rstrip())
        elif p["ok"]:
            out.append(f"  {p['started_at']}  {p['command']:<6} OK   tính đến {p['as_of'] or '-'}  {p['rows'] or 0} "
                       f"dòng, {p['errors'] or 0} lỗi, {p['overdue'] or 0} quá hạn  {first}".rstrip())
        else:  # a failed pass shows why, not figures it never had
            out.append(f"  {p['started_at']}  {p['command']:<6} {'DỞ ' if first == STARTED else 'LỖI'}  "
                       f"tính đến {p['as_of'] or '-'}  {first}".rstrip())
    return out


def _send_lines(sends: list[SendRow], unsent: list[SendRow]) -> list[str]:
    out = []
    if sends:
        out.append("Thư đã gửi gần nhất:")
        labels = {"sent": "ĐÃ GỬI", "failed": "LỖI", "sending": "ĐANG GỬI (bị ngắt?)"}
        for x in sends:
            kind = "báo cáo" if x["kind"] == "report" else "nhắc việc"
            out.append(f"  {x['sent_at'] or x['attempted_at']}  {kind} {x['period']} → {x['recipient']}: "
                       f"{labels.get(x['status'], x['status'])}{'  ' + x['error'] if x['error'] else ''}")
    if unsent:
        out.append(f"{len(unsent)} thư chưa gửi được; lần chạy sau sẽ gửi lại.")
    return out


def _health_lines(settings: Settings, rec: _Records, stale: bool) -> list[str]:
    """How long since the last good pass, and the warning monitors look for."""
    out = []
    if rec.last is None and rec.passes is not None:
        out.append(f"Chưa có lượt chạy 'run' nào thành công (tệp trạng thái '{settings.state}').")
    elif rec.last is not None and rec.age_h is not None:
        out.append(f"Lượt chạy tốt gần nhất: {rec.last['started_at']} ({rec.age_h:.1f} giờ trước; "
                   f"ngưỡng cảnh báo {settings.status.max_age_hours:g} giờ).")
    if stale and rec.passes is not None:
        out.append("CẢNH BÁO: đã quá lâu không có lượt chạy thành công; kiểm tra cron/daemon và 'Lỗi' ở trên.")
    return out


def _unsettled(sends: list[SendRow]) -> list[SendRow]:
    """The sends not done: not sent, and no message of the same kind and period reached that address since
    (the ledger keeps an address as it was typed: "LĐ <LanhDao@…>" refused, then "lanhdao@…" sent, is done)."""
    from sync.core.schema import bare_address
    done = {(x["kind"], x["period"], bare_address(x["recipient"])) for x in sends if x["status"] == "sent"}
    return [x for x in sends if x["status"] != "sent" and (x["kind"], x["period"], bare_address(x["recipient"]))
            not in done]


def _refused(unsent: list[SendRow], out: list[str]) -> list[SendRow]:
    """The sends not done that the mail server refused for good (a wrong address): the Office's to fix, said in
    `out`."""
    from sync.mail.mailer import REFUSED
    refused = [x for x in unsent if x["status"] == "failed" and (x["error"] or "").startswith(REFUSED)]
    if refused:
        out.append("Địa chỉ bị máy chủ thư từ chối (sửa địa chỉ rồi gửi lại): "
                   + "; ".join(f"{x['recipient']} ({(x['error'] or '')[len(REFUSED):].lstrip(': ')})"
                               for x in refused) + ".")
    return refused


def _plan(ports: Ports) -> Plan | None:
    """The configured plan, or None when it does not load: its own problem is reported by the commands that
    read it, and `status` must still answer."""
    try:
        return ports.plan
    except SyncError:
        return None


def _new_plan_needed(settings: Settings, plan: Plan | None, today: dt.date) -> str | None:
    """After the plan year's last cut-off no report is owed any more: say that next year's plan is needed."""
    if plan is None:
        return None
    year = plan.year
    last = periods.last(year, settings.report.cycle, settings.report.third)
    if today <= last.cutoff(settings.deadlines.quarter_cutoff_day):
        return None
    return (f"Kế hoạch năm {year} đã qua kỳ báo cáo cuối ({last.name}); cần kế hoạch năm {year + 1}: "
            "python -m sync plan import <tệp kế hoạch .docx> -o <tệp .yaml>, rồi đặt khóa cấu hình 'plan'.")

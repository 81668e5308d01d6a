"""The draft plan: the parts put together (`import_plan`), written as YAML headed by what the Office must
check (`to_yaml`), and the review list the command prints (`review`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from sync.core.deadlines import ScheduleKind, parse
from sync.core.errors import UserError
from sync.core.plan import Plan, Unit, proposed_message, unassigned_message
from sync.plan_import.first_page import FirstPage, header_facts
from sync.plan_import.roles import read_roles, role_doubts
from sync.plan_import.rows import Draft, merge_rows
from sync.plan_import.units import Proposal, UnitReader, partners_in, unread_bodies
from sync.plan_import.word import Rows, find_header, read_docx, task_rows

#: The draft plan as it goes to YAML: the keys and values of a plan file.
PlanData = dict[str, Any]


@dataclass
class Imported:
    plan: PlanData
    drafts: list[Draft]
    proposals: list[Proposal]
    notes: list[str]


def import_plan(path: Path, registry_plan: Plan) -> Imported:
    lines, tables = read_docx(path)
    cols, rows, dropped = task_rows(tables, path)
    drafts, notes = merge_rows(cols, rows)
    notes = dropped + notes
    if not drafts:
        raise UserError(f"Bảng nhiệm vụ trong '{path}' không có dòng nào có STT: đánh số thứ tự các nhiệm vụ "
                        "trong cột STT rồi chạy lại.")
    units = registry_plan.registry.units
    reader = UnitReader(units)
    by_columns = "lead" in cols or "support" in cols
    for d in drafts:
        notes.extend(_assign(d, reader, by_columns))
    facts = header_facts(_letterhead(tables) + lines, (registry_plan.issuer,))
    year = facts.year or registry_plan.year + 1
    issuer = facts.issuer or registry_plan.issuer
    notes.extend(_fact_notes(facts, year, issuer))
    plan = {
        "title": facts.title or f"Kế hoạch tuyên truyền cải cách hành chính năm {year}",
        "number": facts.number or "",
        "issued": facts.issued or dt.date(year, 1, 1),
        "year": year,
        "issuer": issuer,
        "units": _units(units, reader),
        "tasks": [_task(d) for d in drafts],
    }
    return Imported(plan, drafts, list(reader.proposals.values()), notes)


def _assign(d: Draft, reader: UnitReader, by_columns: bool) -> list[str]:
    """A task's lead, support and partners, from its `Đơn vị chủ trì`/`Đơn vị phối hợp` columns when the table
    has them, else from its assignment sentence; and the review lines on what could not be read."""
    notes: list[str] = []
    if by_columns:
        d.lead = reader.codes_in(d.lead_text)
        d.support = [c for c in reader.codes_in(d.support_text) if c not in d.lead]
        d.unsure = not (d.lead or d.support)
        if not d.assignment:
            d.assignment = "\n".join(filter(None, (f"Chủ trì: {d.lead_text}" if d.lead_text else "",
                                                    f"Phối hợp: {d.support_text}" if d.support_text else "")))
    else:
        d.lead, d.support, d.unsure = read_roles(d.assignment, reader)
        if not d.unsure:
            notes.extend(f"nhiệm vụ {d.stt}: {doubt}" for doubt in role_doubts(d.assignment, reader, d.lead, d.support))
    d.partners = partners_in("\n".join((d.assignment, d.lead_text, d.support_text)))
    notes.extend(f"nhiệm vụ {d.stt}: '{name}' có vẻ là cơ quan ngoài Sở nhưng chưa được đọc thành đơn vị hay "
                 "đối tác: nếu cơ quan này phối hợp thực hiện, ghi vào 'partners' của nhiệm vụ"
                 for name in unread_bodies(d, reader))
    for role, codes in (("lead", d.lead), ("support", d.support)):
        for p in reader.proposals.values():
            if p.code in codes:
                p.used.append(f"nhiệm vụ {d.stt} ({role})")
    return notes


def _letterhead(tables: list[Rows]) -> list[str]:
    """The lines of the small tables that are no task table (the letterhead: issuer, number, date)."""
    return [line for t in tables if find_header(t) is None and len(t) <= 3
            for r in t for c in dict.fromkeys(x.text for x in r) for line in c.split("\n") if line.strip()]


def _fact_notes(facts: FirstPage, year: int, issuer: str) -> list[str]:
    """The review lines on the first page's facts: what is missing, and what was guessed."""
    notes: list[str] = []
    if not facts.year:
        notes.append(f"không thấy năm của kế hoạch trong tiêu đề hay ngày ban hành: đã đặt 'year: {year}'")
    if not facts.issued and facts.bad_date:
        notes.append(f"ngày ban hành '{facts.bad_date}' không có thật: điền 'issued' đúng ngày ký")
    elif not facts.issued:
        notes.append("không thấy ngày ban hành ('…, ngày … tháng … năm …'): điền 'issued'")
    if facts.title_caps:
        notes.append("tiêu đề viết hoa toàn bộ: kiểm tra chữ hoa của tên riêng trong 'title'")
    if facts.issuer_from_caps:
        notes.append(f"cơ quan ban hành '{issuer}' chỉ có chữ in hoa trong văn bản: kiểm tra chữ hoa của tên riêng "
                     "trong 'issuer'")
    if not facts.issuer:
        notes.append(f"không thấy cơ quan ban hành: giữ '{issuer}' của kế hoạch hiện tại ('issuer')")
    return notes


def _units(units: tuple[Unit, ...], reader: UnitReader) -> list[dict[str, object]]:
    """The registry as the current plan has it, then the units proposed for the Office to confirm."""
    registry: list[dict[str, object]]
    registry = [{"code": u.code, "name": u.name, "short": u.short, "aliases": list(u.aliases),
                 "email": list(u.email) or None} for u in units]
    proposed: list[dict[str, object]]
    proposed = [{"code": p.code, "name": p.name, "short": p.name, "aliases": [], "email": None, "proposed": True}
                for p in reader.proposals.values()]
    return registry + proposed


def _task(d: Draft) -> dict[str, object]:
    out: dict[str, object] = {"stt": d.stt, "task": d.task, "results": d.results, "schedule": d.schedule,
                              "assignment": d.assignment, "note": d.note, "lead": d.lead, "support": d.support}
    if d.partners:
        out["partners"] = d.partners
    if d.group:
        out["group"] = d.group
    if d.numbering:
        out["numbering"] = d.numbering
    return out


def to_yaml(plan: PlanData, source: Path, drafts: list[Draft], today: dt.date | None = None) -> str:
    """The draft as YAML, headed by what the Office must check; dated `today` (default: the date in Vietnam,
    whatever the machine's zone)."""
    if today is None:
        today = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    unsure = [str(d.stt) for d in drafts if d.unsure]
    proposed = [u["code"] for u in plan["units"] if u.get("proposed")]
    head = (f"# Bản nháp do lệnh `python -m sync plan import {source.name}` lập ngày {today:%d/%m/%Y}.\n"
            "# Kiểm tra 'lead' (đơn vị chủ trì) và 'support' (đơn vị phối hợp) của từng nhiệm vụ với câu phân công "
            "'assignment':\n# chúng được đọc ra từ câu chữ, không phải biết chắc. Danh sách đơn vị và e-mail lấy từ "
            "kế hoạch hiện tại.\n")
    if unsure:
        head += (f"# Chưa nhận ra đơn vị nào trong phân công của nhiệm vụ {', '.join(unsure)}: điền 'lead'/'support' "
                 "bằng tay.\n")
    if proposed:
        head += (f"# Đơn vị mới đề xuất {', '.join(proposed)}: kiểm tra tên, mã và e-mail, rồi xóa dòng "
                 "'proposed: true'.\n")
    return head + "\n" + yaml.safe_dump(plan, allow_unicode=True, sort_keys=False, width=110)


def review(plan: PlanData, drafts: list[Draft], imported: Imported | None = None) -> list[str]:
    """What the Office must fill in or look at before using the draft; the same words as the loader's."""
    notes = [unassigned_message(d.stt) for d in drafts if d.unsure]
    for p in (imported.proposals if imported else []):
        notes.append(proposed_message(p.code, p.name, p.used))
    for d in drafts:
        schedule = parse(d.schedule, plan["year"])
        if schedule.kind == ScheduleKind.UNKNOWN:
            notes.append(f"nhiệm vụ {d.stt}: chưa hiểu tiến độ '{d.schedule}' (sẽ là 'Chưa xác định hạn'; "
                         "Văn phòng có thể nhập ngày vào cột Hạn hoàn thành của tab Kế hoạch)")
        elif schedule.note:  # read, but not all of it
            notes.append(f"nhiệm vụ {d.stt}: tiến độ '{d.schedule}': {schedule.note}; Văn phòng có thể nhập hạn "
                         "vào cột Hạn hoàn thành của tab Kế hoạch")
    numbers = [d.stt for d in drafts]
    if numbers != list(range(1, len(numbers) + 1)):
        notes.append(f"số thứ tự không liền mạch: {numbers}")
    return notes + (imported.notes if imported else [])

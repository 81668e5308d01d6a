"""`plan import FILE.docx`: a new year's plan from its signed Word file, as a draft plan YAML.

The appendix table (STT · Nhiệm vụ · Kết quả/sản phẩm · Tiến độ · Phân công… · Ghi chú) is found by its
header text, rows split by page breaks are merged back (a row without STT continues the one above), and
each task's lead (chủ trì) and supporting (phối hợp) units are read from the assignment sentence. That
last step is a reading of free Vietnamese text, so the draft says which tasks to check by hand.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .deadlines import parse_date
from .errors import UserError
from .plan import Plan, Unit
from .text import fold, nfc

HEADERS = {"stt": "stt", "task": "nhiem vu", "results": "ket qua", "schedule": "tien do",
           "assignment": "phan cong", "note": "ghi chu"}
ALL_UNITS = ("cac phong, don vi", "cac phong don vi", "cac don vi thuoc so", "phong, don vi")


@dataclass
class Draft:
    stt: int
    task: str
    results: str = ""
    schedule: str = ""
    assignment: str = ""
    note: str = ""
    lead: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    unsure: bool = False


# --- reading the Word file ---------------------------------------------------------------------------------

def read_docx(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    """(paragraph texts, tables as rows of cell texts), NFC."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    try:
        doc = Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UserError(f"Không mở được '{path}' như một tệp Word .docx ({exc}). Mở bằng Word và lưu lại "
                        "dưới dạng 'Word Document (*.docx)'.") from None
    tables = [[[nfc(c.text).strip() for c in row.cells] for row in t.rows] for t in doc.tables]
    return [nfc(p.text).strip() for p in doc.paragraphs], tables


def appendix(tables: list[list[list[str]]], source: Path) -> tuple[dict[str, int], list[list[str]]]:
    for rows in tables:
        for i, row in enumerate(rows[:3]):
            cols = _header_columns(row)
            if {"stt", "task", "schedule", "assignment"} <= set(cols):
                return cols, rows[i + 1:]
    raise UserError(f"Không tìm thấy bảng phụ lục trong '{source}': cần một bảng có các cột STT, Nhiệm vụ, "
                    "Tiến độ và Phân công.")


def _header_columns(row: list[str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for i, text in enumerate(row):
        folded = fold(text)
        for key, start in HEADERS.items():
            if key not in cols and folded.startswith(start):
                cols[key] = i
    return cols


def merge_rows(cols: dict[str, int], rows: list[list[str]]) -> list[Draft]:
    """One Draft per numbered row; unnumbered rows (a page break split the task) are appended to it."""
    drafts: list[Draft] = []
    for row in rows:
        get = {k: row[i] if i < len(row) else "" for k, i in cols.items()}
        if len(set(row)) == 1 or _header_columns(row).keys() >= {"stt", "task"}:
            continue  # a title spanning the table, or the header repeated on a new page
        number = re.match(r"^\s*(\d+)\s*\.?\s*$", get["stt"])
        if number:
            drafts.append(Draft(int(number.group(1)), **{k: get.get(k, "") for k in HEADERS if k != "stt"}))
        elif drafts and not get["stt"]:
            last = drafts[-1]
            for key in HEADERS:
                if key != "stt" and get.get(key) and get[key] not in getattr(last, key):
                    setattr(last, key, (getattr(last, key) + "\n" + get[key]).strip())
    return drafts


# --- who leads, who supports -------------------------------------------------------------------------------

def _mentions(clause: str, units: tuple[Unit, ...]) -> list[tuple[int, int, list[str]]]:
    """(start, end, unit codes) of every unit named in a folded clause; "các phòng, đơn vị" names them all."""
    found = []
    for unit in units:
        for name in sorted((unit.name, *unit.aliases), key=len, reverse=True):
            pos = clause.find(fold(name))
            if pos >= 0:
                found.append((pos, pos + len(fold(name)), [unit.code]))
                break
    for phrase in ALL_UNITS:
        pos = clause.find(phrase)
        if pos >= 0:
            found.append((pos, pos + len(phrase), [u.code for u in units]))
            break
    return sorted(found)


def infer_roles(assignment: str, units: tuple[Unit, ...]) -> tuple[list[str], list[str], bool]:
    """(lead, support, unsure), read the way the plans are written: the units that are the subject of the
    first clause (or say "chủ trì") lead; units that "phối hợp", or that do their part in a later clause,
    support. `unsure` when no unit is named at all."""
    lead: list[str] = []
    support: list[str] = []
    lead_clause = None
    # clauses: split the text as written (fold() would glue "- " bullets to the words around them); a dash
    # inside a name ("Bộ phận Một cửa - Văn phòng Sở") is not a bullet, only one at a line's or sentence's start
    for n, raw in enumerate(re.split(r";|\n|\.\s+[-–]\s|^\s*[-–]\s", nfc(assignment))):
        clause = fold(raw).strip(" .,-")
        for pos, end, codes in _mentions(clause, units):
            verb = " ".join(clause[end:].replace(",", " ").split()[:4])  # what the unit does, right after it
            if pos > 0 and "phoi hop voi" in clause[:pos]:
                continue  # "X chủ trì, phối hợp với các phòng…": the others support X, counted below
            if pos > 40 and not verb.startswith(("chu tri", "thuc hien", "phoi hop")):
                continue  # named deep inside someone else's sentence: not a subject
            if verb.startswith("phoi hop"):
                target = support
            elif verb.startswith("chu tri") or lead_clause in (None, n):
                target = lead if len(codes) == 1 or not lead else support
                lead_clause = n if target is lead else lead_clause
            else:
                target = support
            target.extend(c for c in codes if c not in target)
        if "chu tri" in clause and "phoi hop voi" in clause:
            for _, _, codes in _mentions(clause.split("phoi hop voi", 1)[1], units):
                support.extend(c for c in codes if c not in support)
    support = [c for c in support if c not in lead]
    order = [u.code for u in units]
    return sorted(lead, key=order.index), sorted(support, key=order.index), not (lead or support)


# --- the draft -------------------------------------------------------------------------------------------

def header_facts(paragraphs: list[str]) -> dict:
    """Title, number, date and year from the plan's first page, when they are there."""
    facts: dict = {}
    for text in paragraphs[:40]:
        folded = fold(text)
        if "number" not in facts and re.match(r"^so\s*:", folded):
            facts["number"] = "Số " + text.split(":", 1)[1].strip()
        dated = re.search(r"ngay \d{1,2} thang \d{1,2} nam \d{4}", folded)
        if "issued" not in facts and dated:
            facts["issued"] = parse_date(dated.group(0))
        if "title" not in facts and folded.startswith("ke hoach") and len(text) > 20:
            facts["title"] = text[:1] + text[1:].lower() if text.isupper() else text
    year = re.search(r"nam (\d{4})", fold(facts.get("title", "")))
    facts["year"] = int(year.group(1)) if year else (facts["issued"].year if facts.get("issued") else
                                                       dt.date.today().year)
    return facts


def build_draft(path: Path, registry_plan: Plan) -> tuple[dict, list[Draft]]:
    paragraphs, tables = read_docx(path)
    cols, rows = appendix(tables, path)
    drafts = merge_rows(cols, rows)
    if not drafts:
        raise UserError(f"Bảng phụ lục trong '{path}' không có dòng nhiệm vụ nào có STT.")
    units = registry_plan.registry.units
    for d in drafts:
        d.lead, d.support, d.unsure = infer_roles(d.assignment, units)
    facts = header_facts(paragraphs)
    plan = {
        "title": facts.get("title", f"Kế hoạch tuyên truyền cải cách hành chính năm {facts['year']}"),
        "number": facts.get("number", ""),
        "issued": facts.get("issued") or dt.date(facts["year"], 1, 1),
        "year": facts["year"],
        "issuer": registry_plan.issuer,
        "units": [{"code": u.code, "name": u.name, "short": u.short, "aliases": list(u.aliases),
                   "email": list(u.email) or None} for u in units],
        "tasks": [{"stt": d.stt, "task": d.task, "results": d.results, "schedule": d.schedule,
                   "assignment": d.assignment, "note": d.note, "lead": d.lead, "support": d.support}
                  for d in drafts],
    }
    return plan, drafts


def to_yaml(plan: dict, source: Path, drafts: list[Draft]) -> str:
    unsure = [str(d.stt) for d in drafts if d.unsure]
    head = (f"# Draft made by `python -m sync plan import {source.name}` on {dt.date.today():%d/%m/%Y}.\n"
            "# Check every task's `lead` (chủ trì) and `support` (phối hợp) against its `assignment` text:\n"
            "# they were read from the sentence, not known. Units and their e-mails come from the current plan.\n")
    if unsure:
        head += f"# No unit recognised in the assignment of task(s) {', '.join(unsure)}: fill lead/support by hand.\n"
    return head + "\n" + yaml.safe_dump(plan, allow_unicode=True, sort_keys=False, width=110)


def review(plan: dict, drafts: list[Draft]) -> list[str]:
    """What the Office must look at before using the draft: tasks without units, deadlines not understood."""
    from .deadlines import parse
    notes = [f"nhiệm vụ {d.stt}: không nhận ra đơn vị nào trong cột Phân công" for d in drafts if d.unsure]
    for d in drafts:
        if parse(d.schedule, plan["year"]).kind == "unknown":
            notes.append(f"nhiệm vụ {d.stt}: chưa hiểu tiến độ '{d.schedule}' (sẽ là 'Chưa xác định hạn')")
    numbers = [d.stt for d in drafts]
    if numbers != list(range(1, len(numbers) + 1)):
        notes.append(f"số thứ tự không liền mạch: {numbers}")
    return notes


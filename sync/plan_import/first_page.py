"""The plan's own facts from its first page: number, date, place, title, issuer and year.

Read from the paragraphs and the letterhead table, when they are there; what is missing or doubtful becomes a
line of the review, not a guess the Office does not see.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sync.core.deadlines import parse_date
from sync.core.schema import fold

#: how many first lines are read for the facts
HEAD_LINES = 60


@dataclass
class FirstPage:
    number: str | None = None       # "Số 12/KH-SNV"
    issued: dt.date | None = None
    bad_date: str | None = None     # "ngày 31 tháng 02 năm 2025" as written: a date that does not exist
    place: str | None = None        # "<place>, ngày …"
    governing: str | None = None    # "UBND TỈNH …" of the letterhead
    issuer_caps: str | None = None  # "SỞ NỘI VỤ" of the letterhead
    title: str | None = None
    title_caps: bool = False        # the title was written in capitals only
    year: int | None = None
    issuer: str | None = None
    issuer_from_caps: bool = False  # the issuer's name is known only in capitals
    loose_date: bool = False        # while reading: `issued` came from a date in passing, not "<place>, ngày …"


def _sentence_case(line: str) -> str:
    if line.isupper():
        return line.lower()
    return line[:1].lower() + line[1:] if line[1:2].islower() else line


def header_facts(lines: list[str], known: tuple[str, ...] = ()) -> FirstPage:
    """Number, date, place, title, issuer and year from the plan's first page (paragraphs and the letterhead
    table), when they are there. `known`: names written in normal case elsewhere (the current plan's issuer),
    to restore the capitals of an issuer the letterhead gives only in capitals."""
    facts = FirstPage()
    head = lines[:HEAD_LINES]
    for n, text in enumerate(head):
        folded = fold(text)
        if facts.number is None and re.match(r"^so\s*:", folded):
            facts.number = "Số " + text.split(":", 1)[1].strip()
        _read_date(facts, text, folded)
        if facts.governing is None and re.match(r"^(ubnd|uy ban nhan dan) (tinh|thanh pho)\b", folded):
            facts.governing = text
        if facts.issuer_caps is None and text.isupper() and re.match(r"^(so|ban|chi cuc|van phong) ", folded):
            facts.issuer_caps = text
        if facts.title is None and re.match(r"^ke hoach\b", folded) and not folded.startswith("ke hoach so"):
            _read_title(facts, text, head[n + 1:n + 5])
    facts.loose_date = False
    year = re.search(r"nam (20\d\d)\b", fold(facts.title or ""))
    facts.year = int(year.group(1)) if year else (facts.issued.year if facts.issued else None)
    facts.issuer = _issuer(facts, lines, known)
    return facts


def _read_date(facts: FirstPage, text: str, folded: str) -> None:
    """The date of issue: the "<place>, ngày … tháng … năm …" line beats a date in passing."""
    dated = re.search(r"ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})", folded)
    placed = re.match(r"^[^,]{2,40}, ngay \d", folded)
    if dated and placed and facts.loose_date:
        facts.issued, facts.place, facts.loose_date = None, None, False
    if facts.issued is not None or not dated or folded.startswith(("can cu", "(")):
        return
    if not placed:
        facts.loose_date = True
    try:
        facts.issued = parse_date(dated.group(0))
    except ValueError:  # "ngày 31 tháng 02 năm 2025": named in the review, not "not found"
        if facts.bad_date is None:
            facts.bad_date = _at_folded(text, dated.group(0)) or dated.group(0)
    place = text.split(",", 1)[0].strip() if "," in text else ""
    if place and not fold(place).startswith("ngay"):
        facts.place = place


def _read_title(facts: FirstPage, text: str, after: list[str]) -> None:
    """The title from its "Kế hoạch" line and the lines `after` it that go on with it."""
    folded = fold(text)
    parts = [text[len("kế hoạch"):].strip()] if len(folded) > len("ke hoach") + 3 else []
    for more in after:
        f = fold(more)
        if not more or f.startswith(("can cu", "thuc hien", "(", "_", "-", "*", "i.")) or len(more) > 160:
            break
        parts.append(more)
        if re.search(r"\bnam 20\d\d$", f):
            break  # a plan's title ends with its year
    parts = [p for p in parts if p.strip("_-* ")]
    if parts:
        title = " ".join(_sentence_case(p) for p in parts)
        # "KẾ HOẠCH" over a title line that says it again ("Kế hoạch tuyên truyền …")
        facts.title = title[:1].upper() + title[1:] if fold(title).startswith("ke hoach ") else \
            "Kế hoạch " + title
        facts.title_caps = all(p.isupper() for p in parts)


def _issuer(facts: FirstPage, lines: list[str], known: tuple[str, ...] = ()) -> str | None:
    name: str | None
    if facts.issuer_caps:
        name = _issuer_from_caps(facts, facts.issuer_caps, [*lines, *known])
    elif facts.title:
        match = re.search(r"\bcủa ((?:Sở|Ban|Văn phòng|Chi cục) .+?)(?: năm \d{4}|$)", facts.title)
        name = match.group(1) if match else None
    else:
        name = None
    if not name:
        return None
    province = None
    governing = re.match(r"^(?:UBND|ỦY BAN NHÂN DÂN)\s+(TỈNH|THÀNH PHỐ)\s+(.+)$", facts.governing or "", re.I)
    if governing:
        province = f"{governing.group(1).lower()} {governing.group(2).title()}"
    elif facts.place:
        province = f"tỉnh {facts.place}"
    return f"{name} {province}" if province and fold(province) not in fold(name) else name


def _issuer_from_caps(facts: FirstPage, caps_line: str, lines: list[str]) -> str:
    """The issuer the letterhead gives in capitals, as the same name is written in normal case in the text
    (else as we know it); with only capitals to go by, "Sở nội vụ", which the Office must check."""
    caps = fold(caps_line)
    for line in lines:
        if caps in fold(line) and not line.isupper():
            name = _at_folded(line, caps)
            if name and name[:1].isupper():
                return name
    facts.issuer_from_caps = True
    return caps_line.capitalize()


def _at_folded(line: str, target: str) -> str | None:
    """The part of `line` that folds to `target`, as written."""
    for start in range(len(line)):
        if line[start].isalnum() and (start == 0 or not line[start - 1].isalnum()) \
                and fold(line[start:]).startswith(target):
            for end in range(start + len(target) // 2, len(line) + 1):
                if fold(line[start:end]) == target:
                    return line[start:end]
    return None

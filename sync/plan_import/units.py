"""Names in assignment text → unit codes of the registry, units the Office is asked to confirm, or partners.

Names are matched as written and folded (aliases, OCR damage the aliases do not list); a name that reads as
one of the department's own units but matches none is proposed as a new unit.

Bodies outside the department named in a task's assignment are partners, not units. The bodies plans name most are known
by their names (PARTNERS); any other name that begins like one (OUTSIDE_NAME: "Hội Nhà báo tỉnh", "Cục Thống kê") is not
dropped in silence but goes to the review list.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sync.core.plan import Unit
from sync.core.schema import closest, fold, nfc
from sync.plan_import.rows import Draft

# how a plan names every unit of the department at once
ALL_UNITS = ("cac phong, don vi thuoc so", "cac phong, don vi", "cac phong don vi", "cac don vi thuoc so",
             "cac phong, ban, don vi", "phong, don vi")
# words that start what a unit does: a name ends before them
VERBS = ("chu tri", "phoi hop", "thuc hien", "cap nhat", "to chuc", "huong dan", "tham muu", "trien khai",
         "xay dung", "dang", "cung cap", "long ghep", "pho bien", "theo doi", "tong hop", "nghien cuu",
         "truc tiep", "chuan bi", "quan tam", "viet", "bao cao", "ra soat", "tuyen truyen", "phat hanh",
         "giup", "dam nhiem", "du thao", "soan thao", "tiep nhan", "kiem tra", "dieu phoi", "van hanh",
         "san xuat", "gui", "de xuat", "tap huan", "danh gia", "lam", "ho tro", "tiep tuc", "duy tri", "chi dao")
# how the names of a department's own units begin; the next word is capitalised ("Phòng Kế hoạch - Tài chính",
# "Ban Biên tập"), which tells them from verbs that begin the same ("ban hành", "tổ chức", "phòng, chống")
INTERNAL = ("phong ", "trung tam ", "van phong ", "ban ", "bo phan ", "chi cuc ", "thanh tra ", "to ", "doi ")
OUTSIDE_HEADS = ("so ", "ubnd", "uy ban", "cong an", "bo ", "hdnd", "tinh uy", "mat tran", "cac so", "cac co quan",
                 "co quan", "bao ", "dai ")
OUTSIDE_TAILS = ("tinh", "tinh uy", "huyen", "chinh phu", "trung uong", "thanh pho", "quoc gia")


@dataclass
class Proposal:
    """A unit name the registry does not know: proposed as a new unit for the Office to confirm."""
    code: str
    name: str
    used: list[str] = field(default_factory=list)  # "nhiệm vụ 3 (lead)"


class UnitReader:
    """Names in assignment text → unit codes of the registry, proposed units, or partners."""

    def __init__(self, units: tuple[Unit, ...]) -> None:
        self.units = units
        self.codes = [u.code for u in units]
        self.spellings = sorted({(fold(s), u.code) for u in units for s in (u.name, *u.aliases, u.short) if s},
                                key=lambda p: -len(p[0]))
        self.proposals: dict[str, Proposal] = {}

    def known_at(self, text: str, pos: int) -> tuple[int, list[str]] | None:
        """(end, codes) of a known unit or "all units" named at `pos` of a folded text."""
        for phrase in ALL_UNITS:
            if text.startswith(phrase, pos):
                end = pos + len(phrase)
                return end, list(self.codes)
        for spelling, code in self.spellings:
            if text.startswith(spelling, pos) and (len(text) == pos + len(spelling)
                                                   or not text[pos + len(spelling)].isalnum()):
                return pos + len(spelling), [code]
        return None

    def mentions(self, text: str) -> list[tuple[int, int, list[str]]]:
        """Every known unit (or "all units") named anywhere in a folded text."""
        out, pos = [], 0
        while pos < len(text):
            hit = self.known_at(text, pos) if pos == 0 or not text[pos - 1].isalnum() else None
            if hit:
                out.append((pos, hit[0], hit[1]))
                pos = hit[0]
            else:
                pos += 1
        return out

    def unknown_at(self, text: str, raw: str) -> tuple[int, str] | None:
        """(end, name as written) of a unit-like name the registry does not know, at the start of a folded
        text (`raw`: the same text as written)."""
        if not _unit_like(raw):
            return None
        words = text.split(" ")
        end_word = len(words)
        for n in range(1, len(words)):
            phrase = " ".join(w.strip(",;:()") for w in words[n:n + 3])
            if words[n - 1][-1:] in ",;:(" or any(phrase == v or phrase.startswith(v + " ") for v in VERBS):
                end_word = n
                break
        name_folded = " ".join(words[:end_word]).rstrip(",;: ")
        if end_word < 2 or name_folded.endswith(OUTSIDE_TAILS):
            return None
        if closest(name_folded, [s for s, _ in self.spellings], cutoff=0.88):
            return None  # a known unit with damage the aliases do not list: not a new one
        name = next((raw[:end].rstrip(",;: -–") for end in range(len(raw), 0, -1)
                     if fold(raw[:end]) == name_folded), name_folded)
        return len(name_folded), name

    def fuzzy_at(self, text: str) -> tuple[int, list[str]] | None:
        """A known unit with OCR damage the aliases do not list, at the text's start."""
        for spelling, code in self.spellings:
            piece = text[:len(spelling)]
            if len(spelling) >= 12 and closest(piece, [spelling], cutoff=0.88):
                return len(piece), [code]
        return None

    def propose(self, name: str) -> str:
        key = fold(name)
        if key not in self.proposals:
            self.proposals[key] = Proposal(self._code(name), name)
        return self.proposals[key].code

    def _code(self, name: str) -> str:
        words = [w for w in re.split(r"[\s\-–/,&]+", fold(name)) if w]
        if words and words[0] == "phong":
            words = words[1:]
        elif words[:2] == ["trung", "tam"]:
            words = ["t", "t"] + words[2:]
        code = "".join(w[0] for w in words if w not in ("va", "cua")).upper() or "DV"
        taken = set(self.codes) | {p.code for p in self.proposals.values()}
        base, n = code, 2
        while code in taken:
            code, n = f"{base}{n}", n + 1
        return code

    def subjects(self, raw: str) -> tuple[list[tuple[list[str], bool, str]], str]:
        """The units a clause starts with, each (codes, is "all units", name of a unit the registry does not
        know), and the folded rest (what they do). Nothing is proposed here: `read_roles` does that."""
        raw = re.sub(r"^\s*(?:[-–+•*]|[a-zđ]\)|\d+[.)])\s*", "", nfc(raw))
        raw = re.sub(r"^(?:giao|đề nghị|de nghi)\s+", "", raw, flags=re.I)
        text = fold(raw)
        found: list[tuple[list[str], bool, str]] = []
        pos = 0
        while pos < len(text):
            hit = self.known_at(text, pos) or self.fuzzy_at(text[pos:])
            if hit:
                end, codes = (hit[0], hit[1]) if self.known_at(text, pos) else (pos + hit[0], hit[1])
                found.append((codes, len(codes) > 1, ""))
            else:
                unknown = self.unknown_at(text[pos:], raw_at(raw, text[pos:]))
                if not unknown:
                    break
                end = pos + unknown[0]
                found.append(([], False, unknown[1]))
            sep = re.match(r"\s*(?:,|;|-|va\b|\s)\s*", text[end:])
            pos = end + (sep.end() if sep else 0)
            if not sep or (not sep.group(0).strip() and not self.known_at(text, pos)
                           and not text[pos:].startswith(INTERNAL)):
                break
        return found, text[pos:] if found else text

    def codes_in(self, text: str) -> list[str]:
        """Every unit a lead/support column names ("Các phòng, đơn vị" is all of them); unknown names proposed."""
        out: list[str] = []
        folded = fold(text)
        rest = folded
        for _, _, codes in self.mentions(folded):
            out.extend(c for c in codes if c not in out)
        for spelling, _ in self.spellings:
            rest = rest.replace(spelling, " ")
        for phrase in ALL_UNITS:
            rest = rest.replace(phrase, " ")
        raw_parts = [p.strip(" -–•") for p in re.split(r"\n|;|,", nfc(text))]
        for part in raw_parts:
            key = fold(part)
            if key and key in rest and _unit_like(part) and not key.endswith(OUTSIDE_TAILS) \
                    and not self.known_at(key, 0):
                code = self.propose(part)
                if code not in out:
                    out.append(code)
        return out


def _unit_like(raw: str) -> bool:
    """Whether text as written starts like the name of one of the department's own units."""
    text = fold(raw)
    head = next((h for h in INTERNAL if text.startswith(h)), None)
    if head is None or text.startswith(OUTSIDE_HEADS):
        return False
    words = nfc(raw).split()
    after = words[len(head.split())] if len(words) > len(head.split()) else ""
    return after[:1].isupper()


def raw_at(raw: str, folded_tail: str) -> str:
    """The end of `raw` whose folded form is `folded_tail`."""
    for start in range(len(raw)):
        if raw[start].isalnum() and (start == 0 or not raw[start - 1].isalnum()) and fold(raw[start:]) == folded_tail:
            return raw[start:]
    return folded_tail


# the outside bodies plans name most, as written
PARTNERS = re.compile(
    r"(UBND (?:tỉnh|cấp huyện|cấp xã|các huyện[^,;.]*)|Ủy ban nhân dân tỉnh|Công an tỉnh|Ban Tuyên giáo Tỉnh ủy|"
    r"Ban Chỉ đạo CCHC của Chính phủ|Bộ [A-ZĐ][^\s,;.()]*(?: [a-zđà-ỹ]+| và [A-ZĐ][^\s,;.()]*| [A-ZĐ][^\s,;.()]*){0,3}|"
    r"Sở (?:Nội vụ|Tư pháp|Tài chính|Y tế|Xây dựng|Công Thương|Ngoại vụ|Kế hoạch và Đầu tư|Khoa học và Công nghệ|"
    r"Giáo dục và Đào tạo|Lao động - Thương binh và Xã hội|Văn hóa và Thể thao|Du lịch|Tài nguyên và Môi trường|"
    r"Giao thông vận tải|Nông nghiệp và Phát triển nông thôn|Thông tin và Truyền thông|Dân tộc)|"
    r"(?:Báo|Tạp chí) [A-ZĐ][^\s,;.()]*(?: [A-ZĐ][^\s,;.()]*)*|"
    r"Đài Phát thanh (?:và|-|–) Truyền hình(?: [A-ZĐ][^\s,;.()]*)*)")
# what begins the name of a body outside the department that PARTNERS may not know ("Hội Nhà báo tỉnh", "Cục
# Thống kê"): such a name is not dropped in silence, it goes to the review list
OUTSIDE_NAME = re.compile(r"(?<![\w-])(?<!phòng )(?<!thuộc )(?<!của )"
                          r"(?:Sở|Bộ|Báo|Đài|Tạp chí|Cục|Tổng cục|Viện|Hội|Liên đoàn|Hiệp hội|Trường|"
                          r"Bệnh viện|Ngân hàng|Kho bạc|Tòa án|Viện kiểm sát|Công an)"
                          r"(?: [A-ZĐ][^\s,;.()]*| (?:và|thanh|hình|nhà|báo)(?= \S)| (?:tỉnh|huyện)(?!\w))+")


def partners_in(text: str) -> list[str]:
    """The outside bodies PARTNERS knows, in the order named."""
    return list(dict.fromkeys(m.group(1).strip() for m in PARTNERS.finditer(nfc(text).replace("\n", " "))))


def unread_bodies(d: Draft, reader: UnitReader) -> list[str]:
    """Names of outside bodies in a task's assignment that are neither partners read nor units of the
    registry (nor proposed): the importer does not drop them in silence."""
    lines = nfc("\n".join((d.assignment, d.lead_text, d.support_text))).splitlines()
    out: list[str] = []
    for match in (m for line in lines for m in OUTSIDE_NAME.finditer(line)):
        name = match.group(0).strip()
        if any(name in p or p in name for p in d.partners) or reader.known_at(fold(name), 0) \
                or fold(name) in {fold(p.name) for p in reader.proposals.values()} or len(name.split()) < 2:
            continue
        out.append(name)
    return list(dict.fromkeys(out))

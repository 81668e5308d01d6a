"""`plan import FILE.docx`: a new year's plan from its signed Word file, as a draft plan YAML.

Plans come in several shapes, and the importer reads them as a person would:

* the task table is found by its content wherever it is (not the first table: a letterhead or a signature
  table may come before it; the appendix may run over several tables), its columns by the header words
  departments use (`STT`/`TT`, `Nhiệm vụ`/`Nội dung…`, `Kết quả/sản phẩm`/`Sản phẩm…`, `Tiến độ`/`Thời
  gian…`, `Phân công`/`Đơn vị thực hiện`/`Cơ quan thực hiện`, and a two-row header `Phân công thực hiện`
  over `Đơn vị chủ trì | Đơn vị phối hợp`, which then gives lead and support directly);
* section rows (`I.`, `A.`, a bold row spanning the table) become task groups; rows split by page breaks
  (no STT) are merged back into the task above, mid-sentence joins with a space; bulleted and
  multi-paragraph cells keep their lines; numbering such as `1.1` or `a)` is kept beside the running STT;
* the plan's number, date, title, issuer and year come from its first page;
* unit names are matched to the registry (aliases, OCR damage, a name broken over two lines joined first);
  a name that matches no unit becomes a proposed unit the Office confirms; outside bodies are partners.

Who leads and who supports is read from the assignment sentence (see `read_roles`). It is a reading of
free text: the draft lists what to check, and a draft with an unconfirmed unit or a task without units
does not load until the Office has filled it in.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sync.core.deadlines import ScheduleKind, parse_date
from sync.core.errors import UserError
from sync.core.plan import Plan, Unit, proposed_message, unassigned_message
from sync.core.schema import HEADER_SYNONYMS, PLAN_COLUMNS
from sync.core.text import closest, fold, nfc

# The plan's columns are named once, in `schema` (PLAN_COLUMNS and HEADER_SYNONYMS: what the sheet's
# `Kế hoạch` tab is called and what the Office renames it to); a Word appendix is read with those names and
# with the words below, which only Word plans use. One word differs on purpose: "Thời hạn" heads the Tiến độ
# phrase in a Word plan (`schedule`), while in the sheet it is a renamed `Hạn hoàn thành` (`deadline`, a date
# the Office types, which a Word appendix does not have).
WORD_HEADERS = {
    "stt": ("tt", "so tt", "so thu tu"),
    "task": ("noi dung", "noi dung nhiem vu", "noi dung cong viec", "ten nhiem vu", "cong viec"),
    "results": ("ket qua", "san pham", "san pham dau ra", "ket qua/ san pham"),
    "schedule": ("thoi gian thuc hien", "thoi gian hoan thanh", "thoi gian", "thoi han"),
    "assignment": ("phan cong", "don vi thuc hien", "co quan thuc hien", "trach nhiem thuc hien", "to chuc thuc hien"),
    "lead": ("chu tri", "co quan chu tri"),
    "support": ("phoi hop", "co quan phoi hop"),
    "note": (),
}
# folded header words → column key; the longest match wins ("đơn vị chủ trì" before "đơn vị")
HEADERS = {key: tuple(dict.fromkeys(fold(w) for w in (PLAN_COLUMNS[key], *HEADER_SYNONYMS.get(key, ()), *words)))
           for key, words in WORD_HEADERS.items()}
TEXT_KEYS = ("task", "results", "schedule", "assignment", "lead", "support", "note")
ALL_UNITS = ("cac phong, don vi thuoc so", "cac phong, don vi", "cac phong don vi", "cac don vi thuoc so",
             "cac phong, ban, don vi", "phong, don vi")
# words that start what a unit does: a name ends before them
VERBS = ("chu tri", "phoi hop", "thuc hien", "cap nhat", "to chuc", "huong dan", "tham muu", "trien khai",
         "xay dung", "dang", "cung cap", "long ghep", "pho bien", "theo doi", "tong hop", "nghien cuu",
         "truc tiep", "chuan bi", "quan tam", "viet", "bao cao", "ra soat", "tuyen truyen", "phat hanh",
         "giup", "dam nhiem", "du thao", "soan thao", "tiep nhan", "kiem tra", "dieu phoi", "van hanh",
         "san xuat", "gui", "de xuat", "tap huan", "danh gia", "lam", "ho tro", "tiep tuc", "duy tri", "chi dao")
# verbs of publishing what others produced: a unit that only does this supports, unless nobody else acts
PUBLISH = ("cap nhat", "dang")
# how the names of a department's own units begin; the next word is capitalised ("Phòng Kế hoạch - Tài chính",
# "Ban Biên tập"), which tells them from verbs that begin the same ("ban hành", "tổ chức", "phòng, chống")
INTERNAL = ("phong ", "trung tam ", "van phong ", "ban ", "bo phan ", "chi cuc ", "thanh tra ", "to ", "doi ")
OUTSIDE_HEADS = ("so ", "ubnd", "uy ban", "cong an", "bo ", "hdnd", "tinh uy", "mat tran", "cac so", "cac co quan",
                 "co quan", "bao ", "dai ")
OUTSIDE_TAILS = ("tinh", "tinh uy", "huyen", "chinh phu", "trung uong", "thanh pho", "quoc gia")
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


@dataclass
class Draft:
    stt: int
    task: str
    results: str = ""
    schedule: str = ""
    assignment: str = ""
    note: str = ""
    lead_text: str = ""     # the `Đơn vị chủ trì` column, when the table has one
    support_text: str = ""  # the `Đơn vị phối hợp` column
    numbering: str = ""
    group: str = ""
    lead: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    unsure: bool = False


@dataclass
class Proposal:
    """A unit name the registry does not know: proposed as a new unit for the Office to confirm."""
    code: str
    name: str
    used: list[str] = field(default_factory=list)  # "nhiệm vụ 3 (lead)"


# --- reading the Word file ---------------------------------------------------------------------------------

@dataclass
class Cell:
    text: str
    bold: bool = False
    numbered: bool = False  # an empty paragraph with Word's own list numbering (an STT column numbered by Word)
    repeat: bool = False    # a grid column covered by the cell to its left (merged across): no text of its own


def _cell(cell) -> Cell:
    lines, bold, numbered = [], True, False
    for p in cell.paragraphs:
        text = nfc(p.text)
        listed = p._p.pPr is not None and p._p.pPr.numPr is not None
        listed = listed or (p.style is not None and p.style.name.lower().startswith("list"))
        if not text:
            numbered = numbered or listed
            continue
        if text[:1] in "•·▪◦●":
            text = "- " + text[1:].strip()
        elif listed and not re.match(r"^[-–+*]\s", text):
            text = "- " + text
        lines.append(text)
        bold = bold and all(r.bold for r in p.runs if r.text.strip())
    return Cell("\n".join(lines), bold and bool(lines), numbered and not lines)


def _kind_of(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if head.startswith(b"%PDF"):
        return "pdf"
    return "docx"


def read_docx(path: Path) -> tuple[list[str], list[list[list[Cell]]]]:
    """(first-page lines, tables as rows of cells), NFC. Paragraphs are split at line breaks."""
    from sync import files
    files.require_regular(path, f"'{path}'")  # a FIFO would hang, a device never end
    kind = _kind_of(path)
    if kind == "doc":
        raise UserError(f"'{path}' là tệp Word cũ (.doc). Mở bằng Word, chọn Tệp → Lưu thành → 'Word Document "
                        "(*.docx)', rồi chạy lại 'plan import' với tệp .docx.")
    if kind == "pdf":
        raise UserError(f"'{path}' là tệp PDF, không đọc được bảng nhiệm vụ từ PDF (thường là bản scan). Dùng tệp "
                        "Word (.docx) gốc của kế hoạch; nếu chỉ có bản scan, gõ bảng phụ lục vào Word (các cột STT, "
                        "Nhiệm vụ, Kết quả/sản phẩm, Tiến độ, Phân công, Ghi chú), lưu .docx rồi chạy lại.")
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError
    files.require_small_zip(path, files.MAX_DOCX_UNPACKED, f"Tệp Word '{path}'")
    try:
        doc = Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError, zipfile.BadZipFile, LxmlError) as exc:
        raise UserError(f"Không mở được '{path}' như một tệp Word .docx ({exc}). Mở bằng Word và lưu lại "
                        "dưới dạng 'Word Document (*.docx)'.") from None
    lines = [line.strip() for p in doc.paragraphs for line in nfc(p.text).split("\n")]
    tables = [[_row(row) for row in t.rows] for t in _all_tables(doc.tables)]
    return [line for line in lines if line], tables


def _row(row) -> list[Cell]:
    """One Cell per grid column. Word gives a cell merged across columns once per column: its text goes to
    the first, the others are `repeat`, so that a task's text never fills the results and schedule too.
    (A cell merged down keeps its text in each row: `merge_rows` reads that as one task over two rows.)"""
    out: list[Cell] = []
    previous = None
    for c in row.cells:
        out.append(Cell("", repeat=True) if c._tc is previous else _cell(c))
        previous = c._tc
    return out


def _all_tables(tables) -> list:
    """Every table in document order, a table nested in another's cell (a layout table) right after it."""
    out = []
    for table in tables:
        out.append(table)
        seen = set()
        for row in table.rows:
            for c in row.cells:
                if c._tc not in seen:
                    seen.add(c._tc)
                    out.extend(_all_tables(c.tables))
    return out


# --- finding the task table ----------------------------------------------------------------------------------

def _header_key(text: str) -> str | None:
    folded = re.sub(r"\s+", " ", fold(text).replace("\n", " ")).strip(" .:")
    best = None
    for key, words in HEADERS.items():
        for word in words:
            if (folded == word or folded.startswith(word + " ") or folded.startswith(word + "/")
                    or (len(word) > 3 and folded.startswith(word))) and (best is None or len(word) > best[1]):
                best = (key, len(word))
    return best[0] if best else None


def _header(rows: list[list[Cell]]) -> tuple[int, dict[str, int]] | None:
    """(rows the header takes, column of each key) when one of the first rows is a task table's header."""
    for i, row in enumerate(rows[:4]):
        keys = [_header_key(c.text) for c in row]
        if "task" not in keys or not ({"assignment", "lead"} & set(keys)) or not ({"stt", "schedule"} & set(keys)):
            continue
        used = 1
        if i + 1 < len(rows):  # a second header row under merged cells: Đơn vị chủ trì | Đơn vị phối hợp
            below = [_header_key(c.text) for c in rows[i + 1]]
            if {"lead", "support"} & set(below):
                keys = [b if b in ("lead", "support") else k for k, b in zip(keys, below, strict=True)]
                used = 2
        cols: dict[str, int] = {}
        for n, key in enumerate(keys):
            if key and key not in cols:
                cols[key] = n
        return i + used, cols
    return None


def _is_header_again(row: list[Cell]) -> bool:
    keys = {_header_key(c.text) for c in row}
    return "task" in keys and len(keys - {None}) >= 3


def _is_column_numbers(row: list[Cell]) -> bool:
    """The "(1) (2) (3) …" row some tables have under their header."""
    texts = [re.sub(r"[()\s.]", "", c.text) for c in row]
    return all(t.isdigit() for t in texts) and [int(t) for t in texts] == list(range(1, len(texts) + 1))


def task_rows(tables: list[list[list[Cell]]], source: Path) -> tuple[dict[str, int], list[list[Cell]], list[str]]:
    """The task table's columns and its rows: every table whose header reads as a task table, and tables
    right after one with the same number of columns and no header (the table went on after a break)."""
    found: list[tuple[dict[str, int], list[list[Cell]]]] = []
    first = 0  # the number of the table `found` starts with
    notes: list[str] = []
    width = None
    for n, rows in enumerate(tables, 1):
        header = _header(rows)
        if header:
            skip, cols = header
            if found and cols != found[0][0]:
                if len(found[0][1]) >= len(rows) - skip:
                    notes.append(_dropped(n, rows[skip:], cols))  # another, smaller task-like table: keep the first
                    continue
                notes.append(_dropped(first, [r for _, part in found for r in part], found[0][0]))
                found = []
            if not found:
                first = n
            found.append((cols, rows[skip:]))
            width = len(rows[0])
        elif found and rows and len(rows[0]) == width:
            found.append((found[-1][0], rows))
    if not found:
        raise UserError(f"Không tìm thấy bảng nhiệm vụ (phụ lục) trong '{source}': cần một bảng có hàng tiêu đề "
                        "gồm cột Nhiệm vụ (hoặc Nội dung), Tiến độ (hoặc Thời gian thực hiện) và Phân công (hoặc "
                        "Đơn vị chủ trì / Đơn vị thực hiện). Nếu bảng trong tệp là ảnh scan, gõ lại bảng trong Word "
                        "rồi lưu .docx và chạy lại.")
    return found[0][0], [row for _, rows in found for row in rows], notes


def _dropped(number: int, rows: list[list[Cell]], cols: dict[str, int]) -> str:
    """The review line for a task-like table left out in favour of a bigger one."""
    col = cols["task"]
    tasks = [row[col].text.split("\n")[0] for row in rows if col < len(row) and row[col].text]
    sample = f", bắt đầu bằng '{tasks[0][:60]}'" if tasks else ""
    return (f"bảng thứ {number} trong tệp cũng có dạng bảng nhiệm vụ ({len(rows)} dòng{sample}) nhưng khác cột với "
            "bảng lớn hơn: đã bỏ qua; nếu đó là nhiệm vụ của kế hoạch, chép vào bảng chính rồi nhập lại")


# --- rows → tasks --------------------------------------------------------------------------------------------

_SECTION = re.compile(r"^(?:[IVXLC]+|[A-ZĐ])\s*[.)]?$")
_PLAIN = re.compile(r"^\s*(\d+)\s*[.)]?\s*$")


def _join(before: str, after: str) -> str:
    """Text cut by a page break: a new line where a sentence or item ended, else a space."""
    if not before:
        return after
    if not after:
        return before
    if before.rstrip()[-1:] in ".;:!?" or re.match(r"^[-–+•*]\s", after):
        return before + "\n" + after
    return before + " " + after


def merge_rows(cols: dict[str, int], rows: list[list[Cell]]) -> tuple[list[Draft], list[str]]:
    """Drafts in table order, section rows as their groups; and notes on the numbering for the review."""
    drafts: list[Draft] = []
    notes: list[str] = []
    group = ""
    previous: tuple[str, bool, str] | None = None  # the last row's STT text, Word numbering and task
    for row in rows:
        get = {k: row[i].text if i < len(row) else "" for k, i in cols.items()}
        texts = {c.text for c in row if c.text}
        stt_cell = row[cols["stt"]] if "stt" in cols and cols["stt"] < len(row) else Cell("")
        if not (texts or stt_cell.numbered) or _is_header_again(row) or _is_column_numbers(row):
            continue
        number = get.get("stt", "").strip()
        key, previous = previous, (number, stt_cell.numbered, get.get("task", ""))
        if drafts and key == previous and previous[2]:  # STT and task merged down over a second row
            last = drafts[-1]
            for k in TEXT_KEYS:
                attr = {"lead": "lead_text", "support": "support_text"}.get(k, k)
                if get.get(k) and get[k] not in getattr(last, attr):
                    setattr(last, attr, (getattr(last, attr) + "\n" + get[k]).strip())
            continue
        if not number and stt_cell.numbered:  # Word numbers the column itself: the running number
            number = str(drafts[-1].stt + 1 if drafts else 1)
        # merged across (the other columns repeat the first), or every cell typed the same
        spanning = len(row) > 2 and (all(c.repeat for c in row[1:]) or len({c.text for c in row}) == 1)
        heading = not number and not any(get.get(k) for k in ("results", "schedule", "assignment", "lead", "support")) \
            and all(c.bold for c in row if c.text) and get.get("task", "").isupper()
        body = [get.get(k, "") for k in ("results", "schedule", "assignment", "lead", "support")]
        if spanning or heading or _SECTION.match(number) or (number and not any(body) and not _PLAIN.match(number)):
            group = " ".join(dict.fromkeys(c.text.replace("\n", " ") for c in row if c.text))
            continue
        if not number and drafts:  # the rest of the task above, pushed to the next page
            last = drafts[-1]
            for k in TEXT_KEYS:
                attr = {"lead": "lead_text", "support": "support_text"}.get(k, k)
                if get.get(k):
                    setattr(last, attr, _join(getattr(last, attr), get[k]))
            continue
        if not number:
            continue
        plain = _PLAIN.match(number)
        stt = int(plain.group(1)) if plain else (drafts[-1].stt + 1 if drafts else 1)
        drafts.append(Draft(stt, get.get("task", ""), get.get("results", ""), get.get("schedule", ""),
                            get.get("assignment", ""), get.get("note", ""), get.get("lead", ""),
                            get.get("support", ""), "" if plain else number, group))
    stts = [d.stt for d in drafts]
    if len(set(stts)) != len(stts) or stts != sorted(stts):  # numbering restarts in each section
        for n, d in enumerate(drafts, 1):
            d.numbering = d.numbering or str(d.stt)
            d.stt = n
        notes.append("số thứ tự trong bảng bắt đầu lại ở mỗi mục: đã đánh lại STT 1…"
                     f"{len(drafts)}, số gốc giữ ở 'numbering'")
    return drafts, notes


# --- units -------------------------------------------------------------------------------------------------

class UnitReader:
    """Names in assignment text → unit codes of the registry, proposed units, or partners."""

    def __init__(self, units: tuple[Unit, ...]):
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
                unknown = self.unknown_at(text[pos:], _raw_at(raw, text[pos:]))
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


def _raw_at(raw: str, folded_tail: str) -> str:
    """The end of `raw` whose folded form is `folded_tail`."""
    for start in range(len(raw)):
        if raw[start].isalnum() and (start == 0 or not raw[start - 1].isalnum()) and fold(raw[start:]) == folded_tail:
            return raw[start:]
    return folded_tail


def _clauses(text: str, reader: UnitReader) -> list[str]:
    """Assignment text → clauses: lines and ";"-parts, a unit name broken over two lines joined first, and a
    part that is only unit names (a list cut by ";") joined to what follows."""
    lines = [line for line in nfc(text).split("\n") if line.strip()]
    joined: list[str] = []
    for line in lines:
        if joined and _broken_name(joined[-1], line, reader):
            joined[-1] = joined[-1].rstrip(" -–") + " - " + re.sub(r"^\s*[-–]\s*", "", line)
        else:
            joined.append(line)
    parts: list[str] = []
    for line in joined:
        for part in re.split(r";|\.\s+(?=[-–]\s)", line):
            if part.strip(" .-–"):
                parts.append(part)
    out: list[str] = []
    carry = ""
    for part in parts:
        part = (carry + "; " + part) if carry else part
        found, rest = reader.subjects(part)
        if found and not rest.strip(" .,;:-"):
            carry = part
            continue
        carry = ""
        out.append(part)
    if carry:
        out.append(carry)
    return out


def _broken_name(before: str, after: str, reader: UnitReader) -> bool:
    """Whether a unit name starts at the end of `before` and ends at the start of `after`."""
    head = fold(re.sub(r"^\s*[-–+•*]\s*", "", before)).rstrip("- ")
    tail = fold(re.sub(r"^\s*[-–+•*]\s*", "", after)).lstrip("- ")
    if not head or not tail:
        return False
    for spelling, _ in reader.spellings:
        for sep in ("-", " "):
            text = head + sep + tail
            pos = text.find(spelling, max(0, len(head) - len(spelling)))
            if 0 <= pos < len(head) < pos + len(spelling) and not head.endswith(spelling):
                return True
    return False


_LABEL = re.compile(r"^\s*(?:[-–+•*]\s*)?(?:(?:don vi|co quan) )?(chu tri|phoi hop)\s*:")
_WITH = re.compile(r"\bphoi hop(?: voi)?\b")
_EXCEPT = re.compile(r"^(?:ngoai tru|tru|khong ke)\b")
_CHAIR_AFTER = re.compile(r"^\s*[,(]?\s*(?:la )?(?:don vi )?chu tri\b")


def _labelled(assignment: str, reader: UnitReader) -> tuple[str, list[str], list[str]] | None:
    """The form "Chủ trì: X; Phối hợp: Y" (the importer writes it when the table has the two columns):
    (text before the first label, lead, support); None when no line starts with a label. A line without a
    label after one goes on with it (a list of names over several lines)."""
    parts = [p for line in nfc(assignment).split("\n") for p in line.split(";") if p.strip()]
    if not any(_LABEL.match(fold(p)) for p in parts):
        return None
    before: list[str] = []
    roles: dict[str, list[str]] = {"chu tri": [], "phoi hop": []}
    current = None
    for part in parts:
        label = _LABEL.match(fold(part))
        if label:
            current, part = label.group(1), part.split(":", 1)[1]
        if current is None:
            before.append(part)
            continue
        roles[current].extend(c for c in reader.codes_in(part) if c not in roles[current])
    return "\n".join(before), roles["chu tri"], roles["phoi hop"]


def _excluded(verb: str, reader: UnitReader) -> tuple[list[str], str]:
    """"trừ Ban Biên tập, Phòng X thực hiện …" after "các phòng, đơn vị": (the units left out, the rest)."""
    match = _EXCEPT.match(verb)
    if not match:
        return [], verb
    codes: list[str] = []
    end = match.end()
    for start, stop, cs in reader.mentions(verb):
        if start < end or verb[end:start].strip(" ,-") not in ("", "va"):
            break
        codes.extend(cs)
        end = stop
    return codes, verb[end:].strip(" ,;:-")


def read_roles(assignment: str, reader: UnitReader) -> tuple[list[str], list[str], bool]:
    """(lead, support, unsure), read the way the plans are written.

    Each clause (a line, a ";"-part) starts with the units it is about and then what they do:
    * "X chủ trì" (or "X (chủ trì)") leads; "phối hợp Y" / "phối hợp với Y" in that clause makes Y support,
      unless Y is marked "(chủ trì)";
    * "X phối hợp …" supports;
    * "Chủ trì: X; Phối hợp: Y" (labelled lines) gives both directly;
    * "Các phòng, đơn vị thuộc Sở, trừ Y" is every unit but Y;
    * without any "chủ trì", the units named that act lead ("X thực hiện", "X hướng dẫn", in any clause),
      "Các phòng, đơn vị …" lead only when no unit is named that acts, and units that only publish what
      others produce ("cập nhật", "đăng tin") support unless nobody else acts.
    `unsure` when no unit is named at all; `role_doubts` says what else a person should check."""
    chairs: list[str] = []
    actors: list[str] = []
    everyone: list[str] = []
    publishers: list[str] = []
    others: list[str] = []
    labelled = _labelled(assignment, reader)
    if labelled:
        assignment, chairs, others = labelled[0], list(labelled[1]), list(labelled[2])
    for clause in _clauses(assignment, reader):
        found, rest = reader.subjects(clause)
        verb = rest.strip(" ,;:-(")
        codes = [c for cs, _, name in found for c in (cs or [reader.propose(name)])]
        if found:
            if any(all_ for _, all_, _ in found):
                left_out, verb = _excluded(verb, reader)
                codes = [c for c in codes if c not in left_out]
            if verb.startswith("chu tri"):
                chairs.extend(codes)
            elif verb.startswith("phoi hop"):
                others.extend(codes)
            elif verb.startswith(PUBLISH):
                publishers.extend(codes)
            elif any(all_ for _, all_, _ in found):
                everyone.extend(codes)
                others.extend(codes)
            else:
                actors.extend(codes)
        partners = _WITH.search(rest)
        if partners:  # "… chủ trì, phối hợp (với) Y": Y supports, unless "Y (chủ trì)"; also the other order
            tail = rest[partners.end():]
            for _, end, cs in reader.mentions(tail):
                (chairs if _CHAIR_AFTER.match(tail[end:]) else others).extend(cs)
            others.extend(_unknown_units(tail, clause, reader))
        folded = fold(clause)
        for _, end, cs in reader.mentions(folded):  # "Văn phòng Sở (chủ trì), Phòng CNTT-BCVT (phối hợp)"
            marked = re.match(r"\s*\(\s*(chu tri|phoi hop)\s*\)", folded[end:])
            if marked:
                (chairs if marked.group(1) == "chu tri" else others).extend(cs)
    if chairs:
        lead = chairs
    elif actors:
        lead = actors
    elif everyone:
        lead = everyone
    else:
        lead = publishers
    lead = list(dict.fromkeys(lead))
    support = [c for c in dict.fromkeys(chairs + actors + publishers + others) if c not in lead]
    order = reader.codes + [p.code for p in reader.proposals.values()]
    key = order.index
    return sorted(lead, key=key), sorted(support, key=key), not (lead or support)


def _unknown_units(tail: str, clause: str, reader: UnitReader) -> list[str]:
    """Codes proposed for the names the registry does not know in a folded list of units ("phối hợp Phòng Kế
    hoạch - Tài chính, Văn phòng Sở …"), read from the clause as written."""
    raw = _raw_at(nfc(clause), tail.strip(" ,:"))
    codes: list[str] = []
    for piece in re.split(r",|;|\bvà\b", raw):
        piece = piece.strip(" .-–()")
        if not piece or reader.known_at(fold(piece), 0):
            continue
        unknown = reader.unknown_at(fold(piece), piece)
        if unknown:
            codes.append(reader.propose(unknown[1]))
    return codes


def role_doubts(assignment: str, reader: UnitReader, lead: list[str], support: list[str]) -> list[str]:
    """What `read_roles` could not read in full, for the review list: a unit named in the text that got no
    role, or "chủ trì" written with no lead read (and no outside body to lead)."""
    doubts: list[str] = []
    text = fold(assignment)
    left_out: set[str] = set()
    for match in re.finditer(r"\b(?:ngoai tru|tru|khong ke)\b", text):
        left_out.update(_excluded(text[match.start():], reader)[0])
    names = {u.code: u.short or u.name for u in reader.units}
    missing = [c for _, _, cs in reader.mentions(text) if len(cs) == 1 for c in cs
               if c not in lead and c not in support and c not in left_out]
    for code in dict.fromkeys(missing):
        doubts.append(f"'{names.get(code, code)}' ({code}) có trong câu phân công nhưng không đọc được vai trò: "
                      "điền vào 'lead' hoặc 'support'")
    if re.search(r"\bchu tri\b", text) and not lead and not partners_in(assignment) and (lead or support):
        doubts.append("câu phân công có 'chủ trì' nhưng không đọc được đơn vị chủ trì: điền 'lead'")
    return doubts


def infer_roles(assignment: str, units: tuple[Unit, ...]) -> tuple[list[str], list[str], bool]:
    """`read_roles` against a registry alone (names it does not know are left out)."""
    reader = UnitReader(units)
    lead, support, _ = read_roles(assignment, reader)
    known = set(reader.codes)
    lead, support = [c for c in lead if c in known], [c for c in support if c in known]
    return lead, support, not (lead or support)


def partners_in(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(1).strip() for m in PARTNERS.finditer(nfc(text).replace("\n", " "))))


def unread_bodies(d: Draft, reader: UnitReader) -> list[str]:
    """Names of outside bodies in a task's assignment that are neither partners read nor units of the
    registry (nor proposed): the importer does not drop them in silence."""
    lines = nfc("\n".join((d.assignment, d.lead_text, d.support_text))).splitlines()
    out = []
    for match in (m for line in lines for m in OUTSIDE_NAME.finditer(line)):
        name = match.group(0).strip()
        if any(name in p or p in name for p in d.partners) or reader.known_at(fold(name), 0) \
                or fold(name) in {fold(p.name) for p in reader.proposals.values()} or len(name.split()) < 2:
            continue
        out.append(name)
    return list(dict.fromkeys(out))


# --- the plan's own facts ------------------------------------------------------------------------------------

def _sentence_case(line: str) -> str:
    if line.isupper():
        return line.lower()
    return line[:1].lower() + line[1:] if line[1:2].islower() else line


def header_facts(lines: list[str], known: tuple[str, ...] = ()) -> dict:
    """Number, date, place, title, issuer and year from the plan's first page (paragraphs and the letterhead
    table), when they are there. `known`: names written in normal case elsewhere (the current plan's issuer),
    to restore the capitals of an issuer the letterhead gives only in capitals."""
    facts: dict = {}
    head = lines[:60]
    for n, text in enumerate(head):
        folded = fold(text)
        if "number" not in facts and re.match(r"^so\s*:", folded):
            facts["number"] = "Số " + text.split(":", 1)[1].strip()
        dated = re.search(r"ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})", folded)
        placed = re.match(r"^[^,]{2,40}, ngay \d", folded)
        if dated and placed and facts.get("issued_loose"):  # the "<place>, ngày …" line beats a date in passing
            facts.pop("issued", None), facts.pop("place", None), facts.pop("issued_loose")
        if "issued" not in facts and dated and not folded.startswith(("can cu", "(")):
            if not placed:
                facts["issued_loose"] = True
            try:
                facts["issued"] = parse_date(dated.group(0))
            except ValueError:  # "ngày 31 tháng 02 năm 2025": named in the review, not "not found"
                facts.setdefault("bad_date", _at_folded(text, dated.group(0)) or dated.group(0))
            place = text.split(",", 1)[0].strip() if "," in text else ""
            if place and not fold(place).startswith("ngay"):
                facts["place"] = place
        if "governing" not in facts and re.match(r"^(ubnd|uy ban nhan dan) (tinh|thanh pho)\b", folded):
            facts["governing"] = text
        if "issuer_caps" not in facts and text.isupper() and re.match(r"^(so|ban|chi cuc|van phong) ", folded):
            facts["issuer_caps"] = text
        if "title" not in facts and re.match(r"^ke hoach\b", folded) and not folded.startswith("ke hoach so"):
            parts = [text[len("kế hoạch"):].strip()] if len(folded) > len("ke hoach") + 3 else []
            for more in head[n + 1:n + 5]:
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
                facts["title"] = title[:1].upper() + title[1:] if fold(title).startswith("ke hoach ") else \
                    "Kế hoạch " + title
                facts["title_caps"] = all(p.isupper() for p in parts)
    facts.pop("issued_loose", None)
    year = re.search(r"nam (20\d\d)\b", fold(facts.get("title", "")))
    facts["year"] = int(year.group(1)) if year else (facts["issued"].year if facts.get("issued") else None)
    facts["issuer"] = _issuer(facts, lines, known)
    return facts


def _issuer(facts: dict, lines: list[str], known: tuple[str, ...] = ()) -> str | None:
    name = None
    if facts.get("issuer_caps"):
        caps = fold(facts["issuer_caps"])
        for line in [*lines, *known]:  # the same name written in normal case in the text, else as we know it
            if caps in fold(line) and not line.isupper():
                name = _at_folded(line, caps)
                if name and name[:1].isupper():
                    break
                name = None
        if not name:  # only capitals to go by: "Sở nội vụ", which the Office must check
            name = facts["issuer_caps"].capitalize()
            facts["issuer_from_caps"] = True
    elif facts.get("title"):
        match = re.search(r"\bcủa ((?:Sở|Ban|Văn phòng|Chi cục) .+?)(?: năm \d{4}|$)", facts["title"])
        name = match.group(1) if match else None
    if not name:
        return None
    province = None
    governing = re.match(r"^(?:UBND|ỦY BAN NHÂN DÂN)\s+(TỈNH|THÀNH PHỐ)\s+(.+)$", facts.get("governing", ""), re.I)
    if governing:
        province = f"{governing.group(1).lower()} {governing.group(2).title()}"
    elif facts.get("place"):
        province = f"tỉnh {facts['place']}"
    return f"{name} {province}" if province and fold(province) not in fold(name) else name


def _at_folded(line: str, target: str) -> str | None:
    """The part of `line` that folds to `target`, as written."""
    for start in range(len(line)):
        if line[start].isalnum() and (start == 0 or not line[start - 1].isalnum()) \
                and fold(line[start:]).startswith(target):
            for end in range(start + len(target) // 2, len(line) + 1):
                if fold(line[start:end]) == target:
                    return line[start:end]
    return None


# --- the draft -------------------------------------------------------------------------------------------

@dataclass
class Imported:
    plan: dict
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
                doubts = role_doubts(d.assignment, reader, d.lead, d.support)
                notes.extend(f"nhiệm vụ {d.stt}: {doubt}" for doubt in doubts)
        d.partners = partners_in("\n".join((d.assignment, d.lead_text, d.support_text)))
        notes.extend(f"nhiệm vụ {d.stt}: '{name}' có vẻ là cơ quan ngoài Sở nhưng chưa được đọc thành đơn vị hay "
                     "đối tác: nếu cơ quan này phối hợp thực hiện, ghi vào 'partners' của nhiệm vụ"
                     for name in unread_bodies(d, reader))
        for role, codes in (("lead", d.lead), ("support", d.support)):
            for p in reader.proposals.values():
                if p.code in codes:
                    p.used.append(f"nhiệm vụ {d.stt} ({role})")
    letterhead = [line for t in tables if _header(t) is None and len(t) <= 3
                  for r in t for c in dict.fromkeys(x.text for x in r) for line in c.split("\n") if line.strip()]
    facts = header_facts(letterhead + lines, (registry_plan.issuer,))
    year = facts["year"] or registry_plan.year + 1
    if not facts["year"]:
        notes.append(f"không thấy năm của kế hoạch trong tiêu đề hay ngày ban hành: đã đặt 'year: {year}'")
    if not facts.get("issued") and facts.get("bad_date"):
        notes.append(f"ngày ban hành '{facts['bad_date']}' không có thật: điền 'issued' đúng ngày ký")
    elif not facts.get("issued"):
        notes.append("không thấy ngày ban hành ('…, ngày … tháng … năm …'): điền 'issued'")
    if facts.get("title_caps"):
        notes.append("tiêu đề viết hoa toàn bộ: kiểm tra chữ hoa của tên riêng trong 'title'")
    issuer = facts.get("issuer") or registry_plan.issuer
    if facts.get("issuer_from_caps"):
        notes.append(f"cơ quan ban hành '{issuer}' chỉ có chữ in hoa trong văn bản: kiểm tra chữ hoa của tên riêng "
                     "trong 'issuer'")
    if not facts.get("issuer"):
        notes.append(f"không thấy cơ quan ban hành: giữ '{issuer}' của kế hoạch hiện tại ('issuer')")
    registry: list[dict[str, object]]
    registry = [{"code": u.code, "name": u.name, "short": u.short, "aliases": list(u.aliases),
                 "email": list(u.email) or None} for u in units]
    proposed: list[dict[str, object]]
    proposed = [{"code": p.code, "name": p.name, "short": p.name, "aliases": [], "email": None, "proposed": True}
                for p in reader.proposals.values()]
    plan = {
        "title": facts.get("title", f"Kế hoạch tuyên truyền cải cách hành chính năm {year}"),
        "number": facts.get("number", ""),
        "issued": facts.get("issued") or dt.date(year, 1, 1),
        "year": year,
        "issuer": issuer,
        "units": registry + proposed,
        "tasks": [_task(d) for d in drafts],
    }
    return Imported(plan, drafts, list(reader.proposals.values()), notes)


def _task(d: Draft) -> dict:
    out = {"stt": d.stt, "task": d.task, "results": d.results, "schedule": d.schedule,
           "assignment": d.assignment, "note": d.note, "lead": d.lead, "support": d.support}
    if d.partners:
        out["partners"] = d.partners
    if d.group:
        out["group"] = d.group
    if d.numbering:
        out["numbering"] = d.numbering
    return out


def to_yaml(plan: dict, source: Path, drafts: list[Draft], today: dt.date | None = None) -> str:
    """The draft as YAML, headed by what the Office must check; dated `today` (default: the date in Vietnam,
    whatever the machine's zone)."""
    if today is None:
        from zoneinfo import ZoneInfo
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


def review(plan: dict, drafts: list[Draft], imported: Imported | None = None) -> list[str]:
    """What the Office must fill in or look at before using the draft; the same words as the loader's."""
    from sync.core.deadlines import parse
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

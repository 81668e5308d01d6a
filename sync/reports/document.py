"""The quarterly report as a .docx in the form of Nghị định 30/2020/NĐ-CP, Phụ lục I, and the widths of its lines
(its charts are drawn by sync/reports/charts.py).

The form's measurements live in the constants below, so a reviewer can hold them against the decree:
A4, margins 20/20/30/15 mm, Times New Roman, body 14 pt justified with a 1 cm first-line indent and
6 pt between paragraphs, the two-column letterhead, page numbers centred in the header from page 2,
"Nơi nhận" bold italic 12 pt with 11 pt items, and the signer's title and name in bold.

How wide Times New Roman sets a line, for the form's rules (short rules, subject lines): by the font's advance
widths, shipped in sync/reports/times-new-roman.json so the layout is the same on every machine (Word, like the
table, does not kern by default). A character outside the table counts a conservative average.

"""
from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_PARAGRAPH_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.font import Font
from docx.text.paragraph import Paragraph
from docx.text.parfmt import ParagraphFormat
from docx.text.run import Run

from sync.core.config import ReportSettings
from sync.core.schema import fold, nfc, shorten, vn_number
from sync.reports import content
from sync.reports.content import Report, text_date, valid_result, vn_date

PROGRESS_CAPTION = "Biểu đồ 2. Tiến độ hoàn thành so với Kế hoạch đến từng kỳ báo cáo năm {year}"


PT_PER_CM = 72 / 2.54


def _advances() -> dict[bool, dict[str, float]]:
    """times-new-roman.json as ems per character, by weight (True: bold)."""
    table = json.loads(Path(__file__).with_name("times-new-roman.json").read_text(encoding="utf-8"))
    per_em = table["units_per_em"]
    return {bold: {chr(int(first, 16) + i): int(w) / per_em for first, run in table[weight].items()
                   for i, w in enumerate(run.split())}
            for weight, bold in (("regular", False), ("bold", True))}


EMS = _advances()


def width_cm(text: str, size_pt: float, bold: bool = False) -> float:
    """How wide Word sets `text` in Times New Roman, composed first (NFC): a letter typed as a base and its accents
    is one letter wide. Outside the table a combining mark or a format character takes no room; any other
    character counts a wide capital or half an em."""
    ems, known = 0.0, EMS[bold]
    for ch in nfc(text):
        width = known.get(ch)
        if width is None:
            width = 0.0 if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf" else \
                0.72 if ch.isupper() else 0.5
        ems += width
    return ems * size_pt / PT_PER_CM


def wrap(text: str, size_pt: float, bold: bool, line_cm: float) -> list[str]:
    """Greedy line breaking at spaces, as a word processor does it."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and width_cm(f"{lines[-1]} {word}", size_pt, bold) <= line_cm:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 11
LETTERHEAD_PT = 12  # ND 30 allows 12–13 pt for the bodies' names; 13 pt wraps "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_CM = (210 - MARGINS_MM["left"] - MARGINS_MM["right"]) / 10  # 16.5 cm
#: The report's own paragraph styles: Vietnamese names for the Office's style pane, ASCII ids in the XML. Paragraphs
#: take them by id: python-docx's lookup by name scans every style of its template for each paragraph.
TABLE_STYLE, TABLE_STYLE_ID = "Bảng - chữ", "CCHCBang"
HEADING_STYLE, HEADING_STYLE_ID = "Mục", "CCHCMuc"
GRID_STYLE_ID = "TableGrid"  # python-docx's template's "Table Grid": bordered tables
RULE_SHARE = 0.4  # a short rule is 1/3 to 1/2 of the line above it (ND 30): 2/5 sits between
LANDSCAPE_WIDTH_CM = (297 - MARGINS_MM["left"] - MARGINS_MM["right"]) / 10  # 25.2 cm: the appendix
#: Phụ lục I: STT, task and lead, state, results (the widest), products, evidence; sums to LANDSCAPE_WIDTH_CM
TASK_COLUMNS_CM = (1.2, 5.4, 2.6, 10.0, 2.6, 3.4)
UNIT_COLUMNS_CM = (1.2, 8.0, 2.3, 2.3, 2.3, 2.3, 2.3, 2.3, 2.2)  # Phụ lục II, one row per unit
RESULT_CHARS = 110       # a unit's result in Phụ lục I when its products cannot be counted: one clause
EVIDENCE_ITEMS, EVIDENCE_CHARS = 2, 48  # Phụ lục I shows a task's first minh chứng; the evidence list has all
#: w:pPr children that must follow w:pBdr (ECMA-376 order); Word rejects a document with them out of order.
#: The report lists the first ones; the dashboard has them all.
PPR_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
#: What paragraphs are added to: the document's body, or a table's cell.
Container = DocxDocument | _Cell


def render(report: Report, settings: ReportSettings, chart_png: bytes, progress_png: bytes | None = None
           ) -> DocxDocument:
    doc = Document()
    _page(doc.sections[0])
    _styles(doc)
    report.note_computed()
    names = content.Names(report.plan)
    _mark(doc, report, settings)
    _letterhead(doc, report, settings)
    _title(doc, report, settings)
    _body(doc, report, names, chart_png, progress_png)
    _signature(doc, settings)
    _appendix(doc, report, settings, names)
    return doc


def to_bytes(doc: DocxDocument) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --- page and styles ----------------------------------------------------------------------------------

def _page(section: Section) -> None:
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = section.footer_distance = Mm(10)
    section.different_first_page_header_footer = True  # no number on page 1
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Cm(0)
    _field(p.add_run(), "PAGE", size=13)


def _set_font(font: Font, size: float | None = None) -> None:
    font.name = FONT
    rpr = font.element.get_or_add_rPr() if hasattr(font, "element") else None
    if rpr is not None:
        fonts = rpr.get_or_add_rFonts()
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
    if size:
        font.size = Pt(size)


def _styles(doc: DocxDocument) -> None:
    normal = doc.styles["Normal"]
    _set_font(normal.font, BODY_PT)
    _shape(normal.paragraph_format, WD_ALIGN_PARAGRAPH.JUSTIFY, indent_cm=1, before=0, after=6, spacing=1.1)
    heading = doc.styles.add_style(HEADING_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    heading.style_id = HEADING_STYLE_ID
    heading.base_style = normal
    heading.font.bold = True
    heading.paragraph_format.keep_with_next = True
    heading.paragraph_format.space_before = Pt(6)
    table = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    table.style_id = TABLE_STYLE_ID
    table.base_style = normal
    _set_font(table.font, TABLE_PT)
    _shape(table.paragraph_format, WD_ALIGN_PARAGRAPH.LEFT, indent_cm=0, before=1, after=1, spacing=1.0)
    for name in ("Header", "Footer"):
        _set_font(doc.styles[name].font, 13)


def _shape(fmt: ParagraphFormat, align: WD_PARAGRAPH_ALIGNMENT, indent_cm: float, before: float, after: float,
           spacing: float) -> None:
    """One paragraph format: alignment, first-line indent (cm), space before/after (pt), line spacing."""
    fmt.alignment, fmt.first_line_indent = align, Cm(indent_cm)
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(before), Pt(after), spacing


# --- small builders -----------------------------------------------------------------------------------

def _run(paragraph: Paragraph, text: str, size: float | None = None, bold: bool = False, italic: bool = False
         ) -> Run:
    run = paragraph.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    if size:
        run.font.size = Pt(size)
    return run


def _plain(container: Container, text: str = "", size: float = 13, bold: bool = False, italic: bool = False,
           align: WD_PARAGRAPH_ALIGNMENT = WD_ALIGN_PARAGRAPH.CENTER, space_before: float = 0, space_after: float = 0
           ) -> Paragraph:
    """A paragraph outside the body's rules (letterhead, signature): no indent, explicit spacing."""
    p = container.add_paragraph()
    _shape(p.paragraph_format, align, indent_cm=0, before=space_before, after=space_after, spacing=1.0)
    if text:
        _run(p, text, size, bold, italic)
    return p


def _rule(container: Container, width_cm: float, box_cm: float) -> None:
    """A short horizontal line, centred: the bottom border of an empty paragraph narrowed by indents."""
    p = _plain(container, size=2)
    side = max((box_cm - width_cm) / 2, 0)
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = Cm(side)
    p.paragraph_format.line_spacing = Pt(2)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    p._p.get_or_add_pPr().insert_element_before(border, *PPR_AFTER_BORDER)  # Word wants schema order


def _field(run: Run, instruction: str, size: float | None = None) -> None:
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "2"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instruction} "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)
    if size:
        run.font.size = Pt(size)


_TBL_PR_ORDER = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
                 "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook")


def _table_property(table: Table, element: BaseOxmlElement) -> None:
    """Insert into w:tblPr at the place the schema requires (Word rejects out-of-order properties)."""
    pr = table._tbl.tblPr
    rank = _TBL_PR_ORDER.index(element.tag.split("}")[1])
    for child in pr:
        name = child.tag.split("}")[1]
        if name in _TBL_PR_ORDER and _TBL_PR_ORDER.index(name) > rank:
            child.addprevious(element)
            return
    pr.append(element)


def _edges(tag: str, edges: tuple[str, ...], **attrs: str) -> BaseOxmlElement:
    parent = OxmlElement(tag)
    for edge in edges:
        el = OxmlElement(f"w:{edge}")
        for key, value in attrs.items():
            el.set(qn(f"w:{key}"), value)
        parent.append(el)
    return parent


def _borderless(table: Table) -> None:
    _table_property(table, _edges("w:tblBorders", ("top", "left", "bottom", "right", "insideH", "insideV"), val="nil"))


def _no_cell_margins(table: Table) -> None:
    _table_property(table, _edges("w:tblCellMar", ("left", "right"), w="0", type="dxa"))


def _widths(table: Table, widths_cm: Iterable[float]) -> None:
    table.autofit = False
    widths = list(widths_cm)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = Cm(width)
    for col, width in zip(table.columns, widths, strict=False):
        col.width = Cm(width)


def _clear(cell: _Cell) -> _Cell:
    """A new cell holds one empty paragraph; builders add their own, so drop it."""
    cell._tc.remove(cell.paragraphs[0]._p)
    return cell


# --- letterhead, title, signature ---------------------------------------------------------------------

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATION_CM = 8.9  # the national title at 12 pt bold (8.8 cm) on one line


def letterhead_widths(s: ReportSettings) -> tuple[float, float]:
    """The two letterhead columns, inside the text area: the left one as wide as the agency's name needs
    (a longer name wraps onto a second line), the right one the rest, never narrower than the nation's title."""
    needed = max(width_cm(s.issuer.upper(), LETTERHEAD_PT, True),
                 width_cm(s.governing_body.upper(), LETTERHEAD_PT)) + 0.3
    left = round(min(max(needed, 6.0), TEXT_WIDTH_CM - NATION_CM), 2)
    return left, round(TEXT_WIDTH_CM - left, 2)


def rule_width(text: str, size_pt: float, bold: bool) -> float:
    """A short rule under a line: 2/5 of the line's width as Times New Roman sets it."""
    return round(RULE_SHARE * width_cm(text, size_pt, bold), 2)


def _letterhead(doc: DocxDocument, report: Report, s: ReportSettings) -> None:
    table = doc.add_table(rows=1, cols=2)
    _borderless(table)
    _no_cell_margins(table)
    left_cm, right_cm = letterhead_widths(s)
    _widths(table, (left_cm, right_cm))
    left, right = (_clear(c) for c in table.rows[0].cells)
    issuer = s.issuer.upper()
    _plain(left, s.governing_body.upper(), LETTERHEAD_PT)
    _plain(left, issuer, LETTERHEAD_PT, bold=True)
    _rule(left, rule_width(issuer, LETTERHEAD_PT, True), left_cm)
    _plain(left, f"Số:        /{s.code}", 13, space_before=6)
    motto = "Độc lập - Tự do - Hạnh phúc"
    _plain(right, NATION, 12, bold=True)
    _plain(right, motto, 13, bold=True)
    _rule(right, round(width_cm(motto, 13, True), 2), right_cm)  # ND 30: as long as the motto
    _plain(right, f"{s.place}, {issue_date(report)}", 14, italic=True, space_before=6)


def issue_date(r: Report) -> str:
    """ND 30's date of issue when `--date` gave one; otherwise left blank for Văn thư to fill in."""
    return vn_date(r.issued) if r.dated else f"ngày      tháng      năm {r.issued.year}"


def _mark(doc: DocxDocument, r: Report, s: ReportSettings) -> None:
    """"DỰ THẢO" above the letterhead (the Office's draft: Văn thư numbers, dates and signs it); a preview of another
    data date reads "XEM TRƯỚC" with that date, whatever `report.draft_mark` says."""
    if r.preview:
        text = f"XEM TRƯỚC - số liệu tính đến ngày {text_date(r.as_of)}"
    elif s.draft_mark:
        text = "DỰ THẢO"
    else:
        return
    _plain(doc, text, 13, bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=6)


def bind_tail(subject: str, words: int = 4) -> str:
    """Join the last words with no-break spaces: the subject's last line never holds one word or the year
    alone ("… hành chính quý III năm 2024" keeps "quý III năm 2024" together)."""
    parts = subject.split(" ")
    if len(parts) <= words:
        return "\u00a0".join(parts)
    return " ".join(parts[:-words]) + " " + "\u00a0".join(parts[-words:])


def _title(doc: DocxDocument, report: Report, s: ReportSettings) -> None:
    subject = report.texts["subject"]
    _plain(doc, "BÁO CÁO", 14, bold=True, space_before=18)
    name = report.period.name
    _plain(doc, bind_tail(subject, len(name.split()) if subject.endswith(name) else 4), 14, bold=True)
    longest = max(wrap(subject, 14, True, TEXT_WIDTH_CM), key=lambda line: width_cm(line, 14, True))
    _rule(doc, rule_width(longest, 14, True), TEXT_WIDTH_CM)
    _addressees(doc, s.addressees)


def _addressees(doc: DocxDocument, names: list[str]) -> None:
    """ND 30: one addressee on the "Kính gửi:" line; several one per line, "- …;" and the last with "."."""
    names = [n.rstrip(" .;") for n in names]
    if len(names) == 1:
        p = _plain(doc, space_before=12, space_after=6)
        _run(p, f"Kính gửi: {names[0]}.", 14)
        return
    _plain(doc, "Kính gửi:", 14, space_before=12)
    for i, name in enumerate(names):
        p = _plain(doc, f"- {name}{'.' if i == len(names) - 1 else ';'}", 14, align=WD_ALIGN_PARAGRAPH.LEFT,
                   space_after=6 if i == len(names) - 1 else 0)
        p.paragraph_format.left_indent = Cm(6.0)


def _core(text: str) -> str:
    """A body's name for comparing: no parentheses, "UBND" spelled out, folded."""
    text = re.sub(r"\([^)]*\)", " ", text).replace("UBND", "Ủy ban nhân dân")
    return " ".join(fold(text).replace(";", " ").replace(".", " ").split())


def recipients(s: ReportSettings) -> list[str]:
    """Nơi nhận in the seed's house style: the configured lines without one naming an addressee again ("Như trên"
    names them), then "Lưu: VT, VP (A,02)." from the drafter's initials and copies unless a "Lưu" line is listed."""
    addressees = [_core(a) for a in s.addressees]
    items = [item.lstrip("- ").strip() for item in s.recipients]
    items = [item for item in items if not any(_core(item) and (a.startswith(_core(item)) or _core(item).startswith(a))
                                               for a in addressees)]
    if not any(fold(item).startswith("luu") for item in items):
        items.append(f"Lưu: VT, VP ({s.drafter},{s.copies:02d}).")
    return [item if i == len(items) - 1 else item.rstrip(" .;") + ";" for i, item in enumerate(items)] if items else []


def _signature(doc: DocxDocument, s: ReportSettings) -> None:
    table = doc.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, (8.0, TEXT_WIDTH_CM - 8.0))
    left, right = (_clear(c) for c in table.rows[0].cells)
    _plain(left, "Nơi nhận:", 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, space_before=12)
    for item in recipients(s):
        _plain(left, f"- {item}", 11, align=WD_ALIGN_PARAGRAPH.LEFT)
    first = True
    for line in (s.signer.authority, s.signer.title):
        if line:
            _plain(right, line.upper(), 14, bold=True, space_before=12 if first else 0)
            first = False
    for _ in range(4):
        _plain(right, size=14)
    _plain(right, s.signer.name or " ", 14, bold=True)


# --- the body -------------------------------------------------------------------------------------------

def _para(doc: DocxDocument, text: str, style_id: str | None = None, bold: bool = False, italic: bool = False
          ) -> Paragraph:
    p = doc.add_paragraph()
    if style_id:
        p._p.style = style_id
    _run(p, text, bold=bold, italic=italic)
    return p


_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _row_xml(values: Sequence[object], twips: list[int], style_id: str, keep: bool) -> str:
    cells = []
    for value, width in zip(values, twips, strict=False):
        paragraphs = "".join(f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr><w:r><w:t xml:space="preserve">'
                             f'{escape(_XML_BAD.sub("", line))}</w:t></w:r></w:p>' for line in str(value).split("\n"))
        cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{paragraphs}</w:tc>')
    return f"<w:tr>{'<w:trPr><w:cantSplit/></w:trPr>' if keep else ''}{''.join(cells)}</w:tr>"


def _grid(doc: DocxDocument, header: list[str], rows: Sequence[Sequence[object]], widths: list[float],
          keep_rows: bool = False) -> Table:
    """A bordered table whose header row repeats on each page; `keep_rows`: a row never splits over pages."""
    table: Table = doc.add_table(rows=1, cols=len(header))
    table._tbl.tblStyle_val = GRID_STYLE_ID
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=False):
        p = cell.paragraphs[0]
        p._p.style = TABLE_STYLE_ID
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(p, text, bold=True)
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    _widths(table, widths)
    twips = [int(Cm(w).twips) for w in widths]
    # the body rows as one XML fragment: python-docx's cell-by-cell API is O(rows × cells) objects and took
    # most of a 10,000-row report's time
    body = "".join(_row_xml(values, twips, TABLE_STYLE_ID, keep_rows) for values in rows)
    table._tbl.extend(parse_xml(f"<w:tbl {nsdecls('w')}>{body}</w:tbl>"))
    _plain(doc, size=6)
    return table


def _section(doc: DocxDocument, heading: str, paragraphs: Iterable[str]) -> None:
    _para(doc, heading, HEADING_STYLE_ID)
    _paras(doc, paragraphs)


def _paras(doc: DocxDocument, texts: Iterable[str]) -> None:
    """Body paragraphs in the Normal style, added as one XML fragment: python-docx's run API costs a millisecond
    a paragraph, and a plan of thousands of tasks has a paragraph per task."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(_XML_BAD.sub("", text))}</w:t></w:r></w:p>'
                   for text in texts)
    if body:
        anchor = doc.element.body.sectPr
        for p in parse_xml(f"<w:body {nsdecls('w')}>{body}</w:body>"):
            anchor.addprevious(p) if anchor is not None else doc.element.body.append(p)


def _body(doc: DocxDocument, r: Report, names: content.Names, chart_png: bytes,
          progress_png: bytes | None = None) -> None:
    """Sections I–V of a CCHC period report (docs/reports.md); the words come from sync.reports.content."""
    p = r.period
    _para(doc, content.opening(r))
    _section(doc, "I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", content.direction(r, names))
    _para(doc, f"II. KẾT QUẢ THỰC HIỆN {p.name.upper()}", HEADING_STYLE_ID)
    if not r.has_data:
        _para(doc, f"Tính đến ngày {text_date(r.as_of)}, các phòng, đơn vị chưa báo cáo kết quả {p.name}.")
    _section(doc, "1. Kết quả chung", [content.task_figures(r)] + [t for t in [content.products_sentence(r)] if t])
    _picture(doc, chart_png)
    _caption(doc, f"Biểu đồ 1. Tình trạng thực hiện nhiệm vụ của các phòng, đơn vị đến ngày {text_date(r.as_of)}")
    if progress_png is not None:
        _picture(doc, progress_png)
        _caption(doc, PROGRESS_CAPTION.format(year=p.year))
    done = content.done_by_task(r, names)
    _section(doc, "2. Kết quả thực hiện các nhiệm vụ",
             done + ["Kết quả chi tiết của từng nhiệm vụ tại Phụ lục I, kết quả của từng phòng, đơn vị tại Phụ lục "
                     "II kèm theo Báo cáo này."])
    _para(doc, "III. ĐÁNH GIÁ CHUNG", HEADING_STYLE_ID)
    _section(doc, "1. Ưu điểm", content.strengths(r))
    _section(doc, "2. Tồn tại, hạn chế và nguyên nhân", content.shortcomings(r, names))
    _section(doc, f"IV. PHƯƠNG HƯỚNG, NHIỆM VỤ {p.next_name.upper()}", content.next_steps(r, names))
    _section(doc, "V. ĐỀ XUẤT, KIẾN NGHỊ", content.proposals(r))
    _para(doc, r.texts["closing"])


def _caption(doc: DocxDocument, text: str) -> None:
    """One line under a chart."""
    _plain(doc, text, 12, italic=True, space_after=6)


def _picture(doc: DocxDocument, png: bytes) -> None:
    pic = doc.add_paragraph()
    pic.alignment, pic.paragraph_format.first_line_indent = WD_ALIGN_PARAGRAPH.CENTER, Cm(0)
    pic.paragraph_format.keep_with_next = True
    pic.add_run().add_picture(io.BytesIO(png), width=Cm(15.5))


# --- the appendices: landscape, numbered on their own (ND 30) ----------------------------------------------

def _appendix(doc: DocxDocument, r: Report, s: ReportSettings, names: content.Names) -> None:
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    number = OxmlElement("w:pgNumType")
    number.set(qn("w:start"), "1")
    section._sectPr.insert_element_before(number, "w:cols", "w:formProt", "w:vAlign", "w:noEndnote",
                                          "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter",
                                          "w:docGrid", "w:printerSettings", "w:sectPrChange")
    _appendix_heading(doc, r, s, "Phụ lục I", f"KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ {r.period.name.upper()}")
    _grid(doc, ["STT", "Nhiệm vụ, đơn vị chủ trì", "Tình trạng", f"Kết quả {r.period.name}", "Sản phẩm",
                "Minh chứng"],
          [[t.stt, f"{content.task_name(t.task, content.TABLE_TASK_NAME)}\nChủ trì: "
                   f"{names.lead(r.plan.by_stt[t.stt])}", content.state_text(state),
            "\n".join(_results(r, t.stt, names)), "\n".join(_products(r, t.stt)), "\n".join(_evidence(r, t.stt))]
           for t, state in zip(r.tasks, r.states, strict=True)],
          list(TASK_COLUMNS_CM))
    heading = _appendix_heading(doc, r, s, "Phụ lục II",
                                f"KẾT QUẢ THỰC HIỆN CỦA CÁC PHÒNG, ĐƠN VỊ {r.period.name.upper()}")
    heading.paragraph_format.page_break_before = True
    rows = [[i, names.plan.registry.by_code(code).name, *(str(n) for n in figures), vn_number(rate)]
            for i, (code, figures, rate) in enumerate(content.unit_rows(r), 1)]
    _grid(doc, ["STT", "Phòng, đơn vị", "Nhiệm vụ được giao", "Hoàn thành", "Hoàn thành đúng hạn",
                "Chậm, trễ hạn", "Kết quả quý phải báo cáo", "Kết quả quý đã báo cáo", "Tỷ lệ đúng hạn (%)"],
          rows, list(UNIT_COLUMNS_CM), keep_rows=True)


def _appendix_heading(doc: DocxDocument, r: Report, s: ReportSettings, name: str, title: str) -> Paragraph:
    """An appendix's heading, kept on the page of its table's first rows (never a page holding only it)."""
    first = _plain(doc, name, 14, bold=True)
    lines = [first, _plain(doc, title, 14, bold=True),
             _plain(doc, f"(Kèm theo Báo cáo số        /{s.code} {issue_date(r)} của {r.plan.issuer})", 14,
                    italic=True)]
    _rule(doc, rule_width(title[:40], 14, True), LANDSCAPE_WIDTH_CM)
    lines.append(_plain(doc, size=4, space_after=4))
    for p in lines:
        p.paragraph_format.keep_with_next = True
    return first


def _results(r: Report, stt: int, names: content.Names) -> list[str]:
    """Each unit's results of the period, summarised: its products by kind when they can be counted, else its
    first result cut at a clause (cells flagged in `Kiểm tra` left out)."""
    by_unit: dict[str, list[str]] = {}
    for row in r.rows_of(stt):
        if row.checked.unit:
            for q in r.period.quarters:
                if text := content.clean_result(valid_result(row, q)):
                    by_unit.setdefault(row.checked.unit.code, []).append(text)
    if not by_unit:
        return ["Chưa có kết quả trong kỳ."]
    out = []
    for code, texts in by_unit.items():
        counts = r.products_of(stt, code)
        said = content.products_phrase(counts) or content.task_name(texts[0], RESULT_CHARS)
        out.append(f"- {names(code)}: {said}")
    return out


def _products(r: Report, stt: int) -> list[str]:
    counts = r.products_of(stt)
    return [f"{content.count(n)} {label}" for label, n in counts.items() if n]


_LINK = re.compile(r'HYPERLINK\(\s*"([^"]+)"', re.IGNORECASE)


def _evidence(r: Report, stt: int) -> list[str]:
    """The task's minh chứng (links, document numbers) as typed, a link formula read as its address; cells flagged
    in `Kiểm tra` left out."""
    out = []
    for row in r.rows_of(stt):
        c = row.checked
        if c.entry.evidence and not any(i.column == "evidence" for i in c.issues):
            text = str(c.entry.evidence).strip()
            link = _LINK.search(text)
            out.append(shorten(link.group(1) if link else text.lstrip("=+@"), EVIDENCE_CHARS))
    out = list(dict.fromkeys(out))
    more = len(out) - EVIDENCE_ITEMS
    return out[:EVIDENCE_ITEMS] + ([f"và {content.count(more)} minh chứng khác"] if more > 0 else [])


# --- the excerpt for the Sở's own periodic CCHC report ---------------------------------------------------

EXCERPT_HEADING = "Công tác tuyên truyền cải cách hành chính"


def render_excerpt(report: Report) -> DocxDocument:
    """The section "Công tác tuyên truyền cải cách hành chính", in the report's styles, ready to paste into the
    Sở's periodic CCHC report (the plan's Tổ chức thực hiện, item 2, asks for it)."""
    doc = Document()
    _page(doc.sections[0])
    _styles(doc)
    names = content.Names(report.plan)
    _para(doc, EXCERPT_HEADING, HEADING_STYLE_ID)
    _para(doc, f"{report.plan.issuer} triển khai {content.plan_cited(report)} về tuyên truyền cải cách hành chính "
               f"năm {report.plan.year} với {content.count(len(report.plan.tasks))} nhiệm vụ. "
               + content.task_figures(report))
    _paras(doc, [t for t in [content.products_sentence(report)] if t] + content.done_by_task(report, names))
    return doc

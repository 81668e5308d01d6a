"""The quarterly report as a .docx in the form of Nghị định 30/2020/NĐ-CP, Phụ lục I.

The form's measurements live in the constants below, so a reviewer can hold them against the decree:
A4, margins 20/20/30/15 mm, Times New Roman, body 14 pt justified with a 1 cm first-line indent and
6 pt between paragraphs, the two-column letterhead, page numbers centred in the header from page 2,
"Nơi nhận" bold italic 12 pt with 11 pt items, and the signer's title and name in bold.
"""
from __future__ import annotations

import io
from typing import Iterable

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from sync.config import ReportSettings
from sync.deadlines import format_date
from sync.text import vn_number

from .content import Report, vn_date

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
LETTERHEAD_PT = 12  # ND 30 allows 12–13 pt for the bodies' names; 13 pt wraps "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_CM = (210 - MARGINS_MM["left"] - MARGINS_MM["right"]) / 10  # 16.5 cm
TABLE_STYLE = "Bảng - chữ"
HEADING_STYLE = "Mục"
ERRORS_LISTED = 30
#: w:pPr children that must follow w:pBdr (ECMA-376 order); Word rejects a document with them out of order.
PPR_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")  # the report lists the first ones; the dashboard has them all


def render(report: Report, settings: ReportSettings, chart_png: bytes) -> Document:
    doc = Document()
    _page(doc.sections[0])
    _styles(doc)
    _letterhead(doc, report, settings)
    _title(doc, report)
    _body(doc, report, chart_png)
    _signature(doc, settings)
    return doc


def to_bytes(doc: Document) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --- page and styles ----------------------------------------------------------------------------------

def _page(section) -> None:
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = section.footer_distance = Mm(10)
    section.different_first_page_header_footer = True  # no number on page 1
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Cm(0)
    _field(p.add_run(), "PAGE", size=13)


def _set_font(font, size: float | None = None) -> None:
    font.name = FONT
    rpr = font.element.get_or_add_rPr() if hasattr(font, "element") else None
    if rpr is not None:
        fonts = rpr.get_or_add_rFonts()
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
    if size:
        font.size = Pt(size)


def _styles(doc: Document) -> None:
    normal = doc.styles["Normal"]
    _set_font(normal.font, BODY_PT)
    _shape(normal.paragraph_format, WD_ALIGN_PARAGRAPH.JUSTIFY, indent_cm=1, before=0, after=6, spacing=1.1)
    heading = doc.styles.add_style(HEADING_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    heading.style_id = "CCHCMuc"  # ASCII ids: the Vietnamese names are for the Office's style pane only
    heading.base_style = normal
    heading.font.bold = True
    heading.paragraph_format.keep_with_next = True
    heading.paragraph_format.space_before = Pt(6)
    table = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    table.style_id = "CCHCBang"
    table.base_style = normal
    _set_font(table.font, TABLE_PT)
    _shape(table.paragraph_format, WD_ALIGN_PARAGRAPH.LEFT, indent_cm=0, before=2, after=2, spacing=1.0)
    for name in ("Header", "Footer"):
        _set_font(doc.styles[name].font, 13)


def _shape(fmt, align, indent_cm: float, before: float, after: float, spacing: float) -> None:
    """One paragraph format: alignment, first-line indent (cm), space before/after (pt), line spacing."""
    fmt.alignment, fmt.first_line_indent = align, Cm(indent_cm)
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(before), Pt(after), spacing


# --- small builders -----------------------------------------------------------------------------------

def _run(paragraph, text: str, size: float | None = None, bold: bool = False, italic: bool = False):
    run = paragraph.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    if size:
        run.font.size = Pt(size)
    return run


def _plain(container, text: str = "", size: float = 13, bold=False, italic=False, align=WD_ALIGN_PARAGRAPH.CENTER,
           space_before: float = 0, space_after: float = 0):
    """A paragraph outside the body's rules (letterhead, signature): no indent, explicit spacing."""
    p = container.add_paragraph()
    _shape(p.paragraph_format, align, indent_cm=0, before=space_before, after=space_after, spacing=1.0)
    if text:
        _run(p, text, size, bold, italic)
    return p


def _rule(container, width_cm: float, box_cm: float) -> None:
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


def _field(run, instruction: str, size: float | None = None) -> None:
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


def _table_property(table, element) -> None:
    """Insert into w:tblPr at the place the schema requires (Word rejects out-of-order properties)."""
    pr = table._tbl.tblPr
    rank = _TBL_PR_ORDER.index(element.tag.split("}")[1])
    for child in pr:
        name = child.tag.split("}")[1]
        if name in _TBL_PR_ORDER and _TBL_PR_ORDER.index(name) > rank:
            child.addprevious(element)
            return
    pr.append(element)


def _edges(tag: str, edges: tuple[str, ...], **attrs: str):
    parent = OxmlElement(tag)
    for edge in edges:
        el = OxmlElement(f"w:{edge}")
        for key, value in attrs.items():
            el.set(qn(f"w:{key}"), value)
        parent.append(el)
    return parent


def _borderless(table) -> None:
    _table_property(table, _edges("w:tblBorders", ("top", "left", "bottom", "right", "insideH", "insideV"), val="nil"))


def _no_cell_margins(table) -> None:
    _table_property(table, _edges("w:tblCellMar", ("left", "right"), w="0", type="dxa"))


def _indent(table, cm: float) -> None:
    ind = OxmlElement("w:tblInd")
    ind.set(qn("w:w"), str(int(Cm(cm).twips)))
    ind.set(qn("w:type"), "dxa")
    _table_property(table, ind)


def _widths(table, widths_cm: Iterable[float]) -> None:
    table.autofit = False
    widths = list(widths_cm)
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = Cm(width)
    for col, width in zip(table.columns, widths):
        col.width = Cm(width)


def _clear(cell):
    """A new cell holds one empty paragraph; builders add their own, so drop it."""
    cell._tc.remove(cell.paragraphs[0]._p)
    return cell


# --- letterhead, title, signature ---------------------------------------------------------------------

LEFT_CM, RIGHT_CM = 8.0, TEXT_WIDTH_CM - 8.0 + 0.6  # the letterhead reaches 6 mm into the left margin


def _letterhead(doc: Document, report: Report, s: ReportSettings) -> None:
    table = doc.add_table(rows=1, cols=2)
    _borderless(table)
    _no_cell_margins(table)
    _indent(table, -0.6)
    _widths(table, (LEFT_CM, RIGHT_CM))
    left, right = (_clear(c) for c in table.rows[0].cells)
    _plain(left, s.governing_body.upper(), LETTERHEAD_PT)
    _plain(left, s.issuer.upper(), LETTERHEAD_PT, bold=True)
    _rule(left, 2.2, LEFT_CM)
    _plain(left, f"Số:        /{s.code}", 13, space_before=6)
    _plain(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True)
    _plain(right, "Độc lập - Tự do - Hạnh phúc", 13, bold=True)
    _rule(right, 5.6, RIGHT_CM)
    _plain(right, f"{s.place}, {vn_date(report.issued)}", 14, italic=True, space_before=6)


def _title(doc: Document, report: Report) -> None:
    _plain(doc, "BÁO CÁO", 14, bold=True, space_before=18)
    _plain(doc, report.texts["subject"], 14, bold=True)
    _rule(doc, 4.5, TEXT_WIDTH_CM)
    _plain(doc, space_after=6)


def _signature(doc: Document, s: ReportSettings) -> None:
    table = doc.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, (8.0, TEXT_WIDTH_CM - 8.0))
    left, right = (_clear(c) for c in table.rows[0].cells)
    _plain(left, "Nơi nhận:", 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, space_before=12)
    for item in s.recipients:
        _plain(left, f"- {item.lstrip('- ')}", 11, align=WD_ALIGN_PARAGRAPH.LEFT)
    first = True
    for line in (s.signer.authority, s.signer.title):
        if line:
            _plain(right, line.upper(), 14, bold=True, space_before=12 if first else 0)
            first = False
    for _ in range(4):
        _plain(right, size=14)
    _plain(right, s.signer.name or " ", 14, bold=True)


# --- the body -------------------------------------------------------------------------------------------

def _para(doc: Document, text: str, style: str | None = None, bold: bool = False, italic: bool = False):
    p = doc.add_paragraph(style=style)
    _run(p, text, bold=bold, italic=italic)
    return p


def _grid(doc: Document, header: list[str], rows: list[list[str]], widths: list[float]):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header):
        p = cell.paragraphs[0]
        p.style = doc.styles[TABLE_STYLE]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(p, text, bold=True)
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    style_id = doc.styles[TABLE_STYLE].style_id  # set by id: python-docx's lookup by name is O(styles)
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            lines = str(value).split("\n")
            first = cell.paragraphs[0]
            first._p.style = style_id
            _run(first, lines[0])
            for line in lines[1:]:
                p = cell.add_paragraph()
                p._p.style = style_id
                _run(p, line)
    _widths(table, widths)
    _plain(doc, size=6)
    return table


def _body(doc: Document, r: Report, chart_png: bytes) -> None:
    _para(doc, r.texts["opening"])
    _para(doc, r.totals_paragraph())

    _para(doc, "I. KẾT QUẢ THỰC HIỆN", HEADING_STYLE)
    _para(doc, "1. Số liệu tổng hợp", HEADING_STYLE)
    _grid(doc, ["Chỉ số", "Giá trị"], [list(row) for row in r.kpi_rows], [11.5, 4.0])
    _para(doc, f"2. Kết quả thực hiện từng nhiệm vụ trong {r.quarter.label} năm {r.quarter.year}", HEADING_STYLE)
    _grid(doc, ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Tình trạng", f"Kết quả {r.quarter.label}"],
          [[t.stt, t.task, t.lead, t.state, _results_cell(t)] for t in r.tasks], [1.3, 4.5, 2.8, 2.3, 5.6])
    _para(doc, "3. Tình trạng thực hiện theo đơn vị", HEADING_STYLE)
    pic = doc.add_paragraph()
    pic.alignment, pic.paragraph_format.first_line_indent = WD_ALIGN_PARAGRAPH.CENTER, Cm(0)
    pic.add_run().add_picture(io.BytesIO(chart_png), width=Cm(15.5))
    _plain(doc, f"Biểu đồ: Tình trạng thực hiện nhiệm vụ theo đơn vị (tính đến ngày {format_date(r.as_of)})",
           13, italic=True, space_after=6)

    _para(doc, "II. TỒN TẠI, HẠN CHẾ", HEADING_STYLE)
    _para(doc, "1. Nhiệm vụ quá hạn", HEADING_STYLE)
    if r.overdue:
        _para(doc, f"Có {len(r.overdue)} lượt nhiệm vụ đã quá hạn nhưng chưa hoàn thành:")
        _grid(doc, ["STT", "Nhiệm vụ", "Đơn vị", "Hạn hoàn thành", "Số ngày quá hạn"],
              [[o["stt"], o["task"][:160], o["unit"], format_date(o["due"]), o["days"]] for o in r.overdue],
              [1.3, 6.4, 4.2, 2.4, 2.2])
    else:
        _para(doc, "Không có nhiệm vụ nào quá hạn.")
    _para(doc, f"2. Đơn vị chưa báo cáo kết quả {r.quarter.label}", HEADING_STYLE)
    if r.not_reported:
        for unit, stts in r.not_reported:
            _para(doc, f"- {unit}: chưa nhập kết quả {r.quarter.label} của {len(stts)} nhiệm vụ "
                       f"(số {', '.join(map(str, stts))}).")
    elif r.has_data:
        _para(doc, f"Các đơn vị đã báo cáo đầy đủ kết quả {r.quarter.label}.")
    else:
        _para(doc, f"Chưa có số liệu của {r.quarter.label} năm {r.quarter.year}.")
    _para(doc, "3. Lỗi nhập liệu chưa được sửa", HEADING_STYLE)
    if r.errors:
        shown = r.errors[:ERRORS_LISTED]
        more = len(r.errors) - len(shown)
        _para(doc, f"Bảng theo dõi còn {len(r.errors)} lỗi nhập liệu; các đơn vị cần sửa theo ghi chú tại "
                   "cột Kiểm tra" + (f" (dưới đây liệt kê {len(shown)} lỗi đầu tiên):" if more else ":"))
        _grid(doc, ["Dòng", "Đơn vị", "Nội dung"],
              [[e["row"], e["unit"], e["message"]] for e in shown], [1.5, 4.5, 10.5])
    else:
        _para(doc, "Không còn lỗi nhập liệu.")

    nxt = r.quarter.next()
    _para(doc, f"III. NHIỆM VỤ TRỌNG TÂM {nxt.label.upper()} NĂM {nxt.year}", HEADING_STYLE)
    if r.next_tasks:
        for t in r.next_tasks:
            _para(doc, f"- Nhiệm vụ {t['stt']} ({t['reason']}): {t['task'].rstrip('.')}. Đơn vị thực hiện: "
                       f"{t['units']}.")
    else:
        _para(doc, "Không có nhiệm vụ đến hạn trong quý tới theo Kế hoạch.")
    _para(doc, r.texts["closing"])


def _results_cell(t) -> str:
    lines = [f"- {unit}: {text}" for unit, text in t.results] or ["(Chưa có đơn vị báo cáo)"]
    if t.quantity is not None:
        lines.append(f"Số lượng sản phẩm: {vn_number(t.quantity)}")
    return "\n".join(lines)

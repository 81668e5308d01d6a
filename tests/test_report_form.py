"""The form of the report (ND 30/2020), checked by machine: the .docx read back with python-docx and,
where LibreOffice is installed, the PDF's text lines and their positions read with pypdf."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from sync.reports import document
from sync.reports.document import HEADING_STYLE, LANDSCAPE_WIDTH_CM, TABLE_STYLE, TEXT_WIDTH_CM

from . import font_widths
from .cli_helpers import in_process
from .conftest import Project

PT_PER_MM = 72 / 25.4
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None,
                                   reason="LibreOffice (soffice) is not installed here; .ci/run installs it on Debian")


@pytest.mark.skipif(not all(path.exists() for path in font_widths.FILES.values()),
                    reason="Liberation Serif is not installed here; .ci/run installs fonts-liberation2 on Debian")
def test_the_shipped_line_widths_are_those_of_times_new_roman():
    """The report measures its lines by a table shipped with it (the same layout on every machine); the table must
    be the font's: measured again from Liberation Serif (Times New Roman's metrics) it comes out the same."""
    shipped = Path(document.__file__).with_name("times-new-roman.json").read_text(encoding="utf-8")
    assert shipped == font_widths.table_text()


def test_a_line_is_as_wide_typed_composed_or_as_letters_and_accents():
    """Settings typed on a Mac come decomposed (NFD): the same name must get the same letterhead and rules."""
    import unicodedata
    name = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG tỉnh Khánh Hòa"
    assert document.width_cm(unicodedata.normalize("NFD", name), 12, True) == document.width_cm(name, 12, True)
    assert document.width_cm("\u202aHội nghị\u202c", 14) == document.width_cm("Hội nghị", 14) > 0


def _build(project, *args: str) -> tuple[dict, Document]:
    code, out, err = project.cli("report", "--json", *args)
    assert code == 0, err
    result = json.loads(out)
    return result, Document(project.root / result["path"])


def _cm(twips_or_emu) -> float:
    return twips_or_emu / 360000


def _rule(paragraph) -> bool:
    return paragraph._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None


def _rule_width(paragraph, box_cm: float) -> float:
    fmt = paragraph.paragraph_format
    return box_cm - _cm(fmt.left_indent or 0) - _cm(fmt.right_indent or 0)


def _size_bold(paragraph) -> tuple[float, bool]:
    run = next(r for r in paragraph.runs if r.text.strip())
    return run.font.size.pt, bool(run.bold)


def _line_width(paragraph) -> float:
    size, bold = _size_bold(paragraph)
    return document.width_cm(paragraph.text.replace("\u00a0", " "), size, bold)


def test_letterhead_stays_inside_the_text_area_and_its_rules_have_nd30_lengths(demo_project):
    _, doc = _build(demo_project, "--period", "2024Q3")
    letterhead = doc.tables[0]
    indent = letterhead._tbl.tblPr.find(qn("w:tblInd"))
    assert indent is None or int(indent.get(qn("w:w"))) >= 0
    widths = [_cm(c.width) for c in letterhead.rows[0].cells]
    assert sum(widths) <= TEXT_WIDTH_CM + 0.01
    shares = []
    for cell, width in zip(letterhead.rows[0].cells, widths, strict=True):
        paragraphs = cell.paragraphs
        [i] = [k for k, p in enumerate(paragraphs) if _rule(p)]
        above = paragraphs[i - 1]
        assert _line_width(above) <= width  # the agency's name and the motto fit on one line
        shares.append(_rule_width(paragraphs[i], width) / _line_width(above))
    agency, motto = shares
    assert 1 / 3 <= agency <= 1 / 2  # ND 30: 1/3 to 1/2 of the agency's name
    assert 0.97 <= motto <= 1.03     # ND 30: as long as the motto


@pytest.mark.parametrize("subject", [
    None,  # the default
    "Kết quả thực hiện Kế hoạch tuyên truyền cải cách hành chính và chuyển đổi số của các phòng {period}",
    "Báo cáo {period}",
])
def test_subject_rule_and_last_line(demo_project, subject):
    if subject:
        demo_project.write_config({"report": {"subject": subject}})
    _, doc = _build(demo_project, "--period", "2024Y")
    paragraphs = doc.paragraphs
    i = next(k for k, p in enumerate(paragraphs) if p.text == "BÁO CÁO")
    title, rule = paragraphs[i + 1], paragraphs[i + 2]
    assert _rule(rule)
    lines = document.wrap(title.text, 14, True, TEXT_WIDTH_CM)  # "words" here are joined by no-break spaces
    last = lines[-1].replace("\u00a0", " ").split()
    assert len(last) >= 2 and not re.fullmatch(r"(năm )?\d{4}", " ".join(last))
    longest = max(document.width_cm(line.replace("\u00a0", " "), 14, True) for line in lines)
    assert 1 / 3 <= _rule_width(rule, TEXT_WIDTH_CM) / longest <= 1 / 2


@pytest.mark.parametrize("addressees, lines", [
    (["Sở Nội vụ tỉnh Khánh Hòa"], ["Kính gửi: Sở Nội vụ tỉnh Khánh Hòa."]),
    (["Ủy ban nhân dân tỉnh Khánh Hòa;", "Sở Nội vụ"],
     ["Kính gửi:", "- Ủy ban nhân dân tỉnh Khánh Hòa;", "- Sở Nội vụ."]),
])
def test_addressees_follow_nd30(demo_project, addressees, lines):
    demo_project.write_config({"report": {"addressees": addressees}})
    _, doc = _build(demo_project, "--period", "2024Q1")
    texts = [p.text for p in doc.paragraphs]
    start = next(k for k, t in enumerate(texts) if t.startswith("Kính gửi:"))
    assert texts[start:start + len(lines)] == lines


def test_task_table_is_an_appendix_in_landscape_numbered_on_its_own(demo_project):
    _, doc = _build(demo_project, "--period", "2024H1")
    main, appendix = doc.sections
    assert main.page_width < main.page_height and appendix.page_width > appendix.page_height
    start = appendix._sectPr.find(qn("w:pgNumType"))
    assert start is not None and start.get(qn("w:start")) == "1"
    assert appendix.different_first_page_header_footer
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "STT" and len(t.columns) == 6)
    header = table.rows[0]._tr.trPr
    assert header is not None and header.find(qn("w:tblHeader")) is not None
    assert table.style.name == "Table Grid"  # bordered, as the template's style draws it
    assert {p.style.name for row in table.rows for c in row.cells for p in c.paragraphs} == {TABLE_STYLE}
    assert {p.style.name for p in doc.paragraphs if p.text == "III. ĐÁNH GIÁ CHUNG"} == {HEADING_STYLE}
    widths = [_cm(c.width) for c in table.rows[0].cells]
    assert sum(widths) <= LANDSCAPE_WIDTH_CM + 0.01 and min(widths) >= 1.0
    # each header word fits its column: no word broken letter by letter
    for cell, width in zip(table.rows[0].cells, widths, strict=True):
        for word in cell.text.split():
            assert document.width_cm(word, 11, True) <= width - 0.4, word  # cell margins: 2 × 0.19 cm
    body = [p.text for p in doc.paragraphs]
    assert body[body.index("Phụ lục I") + 1] == "KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ 6 THÁNG ĐẦU NĂM 2024"
    assert body[body.index("Phụ lục II") + 1] == "KẾT QUẢ THỰC HIỆN CỦA CÁC PHÒNG, ĐƠN VỊ 6 THÁNG ĐẦU NĂM 2024"


# --- the PDF, as LibreOffice lays it out ----------------------------------------------------------------

def _pdf_lines(path) -> list[dict]:
    """Per page: its size and its text chunks with their start position (points, origin bottom left)."""
    from pypdf import PdfReader
    pages = []
    for page in PdfReader(path).pages:
        chunks = []

        def visit(text, cm, tm, _font, _size, chunks=chunks):
            if text.strip():
                x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
                y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
                chunks.append((x, y, text.strip()))
        text = page.extract_text(visitor_text=visit)
        pages.append({"width": float(page.mediabox.width), "height": float(page.mediabox.height),
                      "chunks": chunks, "lines": [line.strip() for line in text.splitlines() if line.strip()]})
    return pages


@pytest.fixture(scope="module")
def letter_pdf(tmp_path_factory, demo_workbook) -> Path:
    """The demo's Q3 report (dated 16/09/2024) converted by LibreOffice once for the PDF tests of this module:
    a conversion takes seconds of CPU. The tests only read it."""
    project = Project(tmp_path_factory.mktemp("demo-pdf"), None)
    project.workbook.parent.mkdir(parents=True)
    shutil.copyfile(demo_workbook, project.workbook)
    proc = in_process("report", "--json", "--period", "2024Q3", "--pdf", "--date", "2024-09-16", "--config",
                      str(project.config), cwd=project.root)
    assert proc.returncode == 0, proc.stderr
    return project.root / json.loads(proc.stdout)["pdf"]


@needs_soffice
def test_pdf_by_libreoffice_has_pages_and_vietnamese_text(letter_pdf):
    from pypdf import PdfReader
    reader = PdfReader(letter_pdf)
    assert 3 <= len(reader.pages) <= 20
    first = reader.pages[0].extract_text()
    for text in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
                 "BÁO CÁO"):
        assert text in first
    texts = [page.extract_text() for page in reader.pages]
    appendix = next(i for i, t in enumerate(texts) if t.lstrip().startswith("Phụ lục"))
    assert "Nơi nhận:" in texts[appendix - 1] and "PHÓ GIÁM ĐỐC" in texts[appendix - 1]


@needs_soffice
def test_pdf_letterhead_subject_appendix_and_page_numbers(letter_pdf):
    pages = _pdf_lines(letter_pdf)
    first = pages[0]
    left_margin, right_edge = 30 * PT_PER_MM, first["width"] - 15 * PT_PER_MM
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in first["lines"]  # the agency's name on one line
    for page in pages:
        portrait = page["width"] < page["height"]
        for x, _y, text in page["chunks"]:
            assert x >= left_margin - 1, (portrait, text)
    for text, size, bold in (("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, True),
                             ("Độc lập - Tự do - Hạnh phúc", 13, True),
                             ("Khánh Hòa, ngày 16 tháng 9 năm 2024", 14, False)):
        [x] = [x for x, _, t in first["chunks"] if t == text]
        assert x + document.width_cm(text, size, bold) / 2.54 * 72 <= right_edge + 1, text
    lines = first["lines"]
    start, end = lines.index("BÁO CÁO"), next(k for k, t in enumerate(lines) if t.startswith("Kính gửi"))
    subject = lines[start + 1:end]
    assert subject and len(subject[-1].split()) >= 2 and not re.fullmatch(r"(năm )?\d{4}", subject[-1])
    appendix = next(k for k, p in enumerate(pages) if p["lines"] and p["lines"][0] == "Phụ lục I")
    assert appendix > 0 and all(p["width"] > p["height"] for p in pages[appendix:])
    assert all(p["width"] < p["height"] for p in pages[:appendix])
    for number, page in enumerate(pages[appendix:], start=1):
        assert any(t == "STT" for _, _, t in page["chunks"])
        top = [t for _, y, t in page["chunks"] if y > page["height"] - 50]
        assert (str(number) in top) == (number > 1), (number, top)  # its own numbers, none on its first page

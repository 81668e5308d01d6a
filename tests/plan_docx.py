"""Write a plan as the signed Word file looks: first-page lines, then the appendix table (for import tests)."""
from __future__ import annotations

from pathlib import Path

from docx import Document

from sync.core.deadlines import format_date
from sync.core.plan import Plan

HEADER = ["STT", "Nhiệm vụ", "Kết quả/sản phẩm", "Tiến độ", "Phân công và cách thức thực hiện", "Ghi chú"]


def write_plan_docx(plan: Plan, path: Path, split: int | None = 3) -> Path:
    """`split`: that task's row is cut in two by a page break, the second part without STT."""
    doc = Document()
    doc.add_paragraph("UBND TỈNH KHÁNH HÒA")
    doc.add_paragraph("SỞ THÔNG TIN VÀ TRUYỀN THÔNG")
    doc.add_paragraph(f"Số: {plan.number.removeprefix('Số').strip()}")
    doc.add_paragraph(f"Khánh Hòa, ngày {plan.issued.day:02d} tháng {plan.issued.month:02d} năm {plan.issued.year}")
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph(plan.title)
    doc.add_paragraph(f"(Ban hành ngày {format_date(plan.issued)})")
    doc.add_paragraph("PHỤ LỤC")
    table = doc.add_table(rows=1, cols=len(HEADER))
    for cell, text in zip(table.rows[0].cells, HEADER, strict=True):
        cell.text = text
    title = table.add_row().cells
    for cell in title:
        cell.text = "I. NHIỆM VỤ TRỌNG TÂM"  # a heading spanning the table, as merged cells read
    for task in plan.tasks:
        values = [str(task.stt), task.task, task.results, task.schedule, task.assignment, task.note]
        if task.stt == split:  # long texts run on to the next page, at a word; short ones stay whole
            cut = [v.rfind(" ", 0, len(v) // 2) if len(v) > 40 else len(v) for v in values]
            first = [v[:c] if c > 0 else v for v, c in zip(values, cut, strict=True)]
            rest = [""] + [v[c:].strip() if c > 0 else "" for v, c in zip(values[1:], cut[1:], strict=True)]
            for row in (first, HEADER, rest):  # the header repeats at the top of the new page
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
            continue
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text
    doc.save(path)
    return path

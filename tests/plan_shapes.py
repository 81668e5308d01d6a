"""Word plans of the shapes departments write, for the `plan import` tests (python-docx, no fixtures on disk).

* `write_two_row_plan`: a letterhead table (issuer, number, place and date), an upper-case title, then the
  appendix in two tables (the second repeats the header after a page), a two-row header with merged cells
  (`Phân công thực hiện` over `Đơn vị chủ trì | Đơn vị phối hợp`), a "(1) (2) …" column-number row,
  section rows spanning the table, a task cut by a page break, bulleted cells (Word list style).
* `write_sentence_plan`: a one-row header in other words (`TT`, `Nội dung`, `Thời gian hoàn thành`, `Cơ quan
  thực hiện`), bold section rows `A.`/`B.`, numbering `1.1`/`a)`, "•" bullets, a unit name broken over
  two lines, a unit the registry does not know, a task only an outside body carries out.
"""
from __future__ import annotations

from pathlib import Path

from docx import Document

TWO_ROW_TASKS = [
    # (section, stt, task, results (bullets), schedule, lead, support)
    ("I. TUYÊN TRUYỀN CHUNG", "1", "Xây dựng, ban hành Kế hoạch tuyên truyền CCHC năm 2025",
     ["Kế hoạch", "Hội nghị giao ban"], "Tháng 3-4/2025", "Văn phòng Sở", "Các phòng, đơn vị thuộc Sở"),
    (None, "2", "Tuyên truyền kết quả chỉ số CCHC, SIPAS năm 2024",
     ["Tin, bài", "Báo cáo"], "Quý II-III/2025", "Phòng CNTT-BCVT", "Phòng TT-BC-XB; Trung tâm Cổng TTĐT"),
    ("II. CHUYỂN ĐỔI SỐ", "3", "Truyền thông về dịch vụ công trực tuyến toàn trình và thanh toán trực tuyến "
     "trên Cổng Dịch vụ công quốc gia", ["Video clip", "Tờ gấp", "Tin, bài trên Trang TTĐT của Sở"],
     "Hàng quý, trước ngày 10 tháng cuối quý", "Trung tâm CNTT và DVHCCTT", "Ban Biên tập, Sở Nội vụ"),
    (None, "4", "Tổng kết công tác tuyên truyền CCHC", ["Báo cáo tổng kết"], "Tháng 12/2025 - tháng 01/2026",
     "Văn phòng Sở", "Ban Biên tập"),
    (None, "5", "Phối hợp tuyên truyền Đề án 06", ["Văn bản phối hợp"], "Theo Kế hoạch của UBND tỉnh",
     "Phòng Thông tin - Báo chí - Xuất bản", ""),
]


def _merge_row(table, row_index: int, text: str, bold: bool = True) -> None:
    row = table.rows[row_index]
    merged = row.cells[0].merge(row.cells[-1])
    merged.text = ""
    run = merged.paragraphs[0].add_run(text)
    run.bold = bold


def _two_row_header(table) -> None:
    top, sub = table.rows[0].cells, table.rows[1].cells
    for col, text in ((0, "STT"), (1, "Nội dung công việc"), (2, "Sản phẩm đầu ra"), (3, "Thời gian thực hiện"),
                      (6, "Ghi chú")):
        merged = top[col].merge(sub[col])
        merged.text = text
    assign = top[4].merge(top[5])
    assign.text = "Phân công thực hiện"
    table.rows[1].cells[4].text = "Đơn vị chủ trì"
    table.rows[1].cells[5].text = "Đơn vị phối hợp"


def write_two_row_plan(path: Path, split_task: str = "3") -> Path:
    doc = Document()
    head = doc.add_table(rows=1, cols=2)  # the letterhead: issuer and number left, motto and date right
    left, right = head.rows[0].cells
    left.text = "UBND TỈNH KHÁNH HÒA"
    left.add_paragraph("SỞ THÔNG TIN VÀ TRUYỀN THÔNG")
    left.add_paragraph("Số: 45/KH-STTTT")
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    right.add_paragraph("Độc lập - Tự do - Hạnh phúc")
    right.add_paragraph("Khánh Hòa, ngày 15 tháng 01 năm 2025")
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph("TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH NĂM 2025")
    doc.add_paragraph("Căn cứ Kế hoạch của UBND tỉnh, Sở Thông tin và Truyền thông xây dựng Kế hoạch tuyên "
                      "truyền cải cách hành chính năm 2025 như sau:")
    doc.add_paragraph("PHỤ LỤC")
    first, second = TWO_ROW_TASKS[:2], TWO_ROW_TASKS[2:]
    for part, tasks in ((1, first), (2, second)):
        table = doc.add_table(rows=2, cols=7)
        _two_row_header(table)
        if part == 1:
            for cell, text in zip(table.add_row().cells, [f"({n})" for n in range(1, 8)], strict=True):
                cell.text = text
        for section, stt, task, results, schedule, lead, support in tasks:
            if section:
                table.add_row()
                _merge_row(table, len(table.rows) - 1, section)
            values = [stt, task, None, schedule, lead, support, ""]
            if stt == split_task:  # the page ends inside the task: the rest is a row without STT
                words = task.split()
                values[1] = " ".join(words[:len(words) // 2])
            cells = table.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                if value is not None:
                    cell.text = value
            cells[2].text = ""
            for n, item in enumerate(results if stt != split_task else results[:2]):
                p = cells[2].paragraphs[0] if n == 0 else cells[2].add_paragraph()
                p.text = item
                p.style = doc.styles["List Bullet"]
            if stt == split_task:
                rest = table.add_row().cells
                rest[1].text = " ".join(task.split()[len(task.split()) // 2:])
                p = rest[2].paragraphs[0]
                p.text = results[2]
                p.style = doc.styles["List Bullet"]
    doc.add_paragraph("GIÁM ĐỐC")
    doc.save(path)
    return path


def write_sentence_plan(path: Path) -> Path:
    doc = Document()
    doc.add_paragraph("Số: 12/KH-STTTT")
    doc.add_paragraph("Khánh Hòa, ngày 10 tháng 01 năm 2025")
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph("Thông tin, tuyên truyền cải cách hành chính")
    doc.add_paragraph("của Sở Thông tin và Truyền thông năm 2025")
    doc.add_paragraph("Căn cứ …")
    doc.add_table(rows=1, cols=2).rows[0].cells[0].text = "Nơi nhận:"  # an unrelated table first
    table = doc.add_table(rows=1, cols=6)
    for cell, text in zip(table.rows[0].cells, ["TT", "Nội dung", "Kết quả", "Thời gian hoàn thành",
                                                 "Cơ quan thực hiện", "Ghi chú"], strict=True):
        cell.text = text
    rows = [
        ("A.", "NHIỆM VỤ CHUNG", "", "", "", ""),
        ("1.1", "Phổ biến Kế hoạch CCHC năm 2025", "• Văn bản\n• Hội nghị", "Tháng 3, 4/2025",
         "Phòng Thông tin -\nBáo chí - Xuất bản chủ trì, phối hợp với Ban Biên tập thực hiện", ""),
        ("1.2", "Lập kế hoạch kinh phí tuyên truyền", "Dự toán", "Quý I/2025",
         "Phòng Kế hoạch - Tài chính chủ trì, phối hợp với Văn phòng Sở", ""),
        ("B.", "NHIỆM VỤ PHỐI HỢP", "", "", "", ""),
        ("a)", "Hội nghị đối thoại doanh nghiệp", "Hội nghị", "Cuối năm 2025",
         "Sở Kế hoạch và Đầu tư chủ trì tổ chức", ""),
        ("b)", "Khảo sát mức độ hài lòng", "Báo cáo", "9 tháng đầu năm 2025",
         "- Các phòng, đơn vị phối hợp theo đề nghị của Sở Nội vụ;\n- Trung tâm Cổng TTĐT thực hiện khảo sát trực "
         "tuyến;\n- Ban Biên tập đăng tin kết quả.", ""),
    ]
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = ""
            for n, line in enumerate(text.split("\n")):
                p = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
                run = p.add_run(line)
                run.bold = values[0] in ("A.", "B.")
    doc.save(path)
    return path


def write_word_numbered_plan(path: Path) -> Path:
    """STT numbered by Word itself (an empty "List Number" paragraph), and a task whose STT and text cells are
    merged down over two rows, one unit per row."""
    doc = Document()
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph("Tuyên truyền cải cách hành chính năm 2025")
    table = doc.add_table(rows=1, cols=5)
    for cell, text in zip(table.rows[0].cells, ["STT", "Nhiệm vụ", "Thời gian thực hiện", "Đơn vị thực hiện",
                                                 "Ghi chú"], strict=True):
        cell.text = text
    for task, schedule, units in (("Tuyên truyền trên Trang TTĐT", "Thường xuyên", ["Ban Biên tập thực hiện"]),
                                  ("Hội nghị tập huấn CCHC", "Quý III/2025",
                                   ["Văn phòng Sở chủ trì", "Phòng CNTT-BCVT phối hợp"]),
                                  ("Báo cáo kết quả", "Tháng 11-12/2025", ["Văn phòng Sở thực hiện"])):
        first = len(table.rows)
        for unit in units:
            cells = table.add_row().cells
            cells[2].text = schedule
            cells[3].text = unit
        top, bottom = table.rows[first].cells, table.rows[len(table.rows) - 1].cells
        number = top[0].merge(bottom[0]) if len(units) > 1 else top[0]
        number.paragraphs[0].style = doc.styles["List Number"]
        text = top[1].merge(bottom[1]) if len(units) > 1 else top[1]
        text.text = task
        if len(units) > 1:
            top[2].merge(bottom[2]).text = schedule
    doc.save(path)
    return path


def write_merged_cells_plan(path: Path, nested: bool = False) -> Path:
    """Cells merged across columns inside task rows (a task whose text runs over Kết quả and Tiến độ), a
    section row merged across the table; with `nested`, the whole task table sits inside a one-cell layout
    table, as some departments lay out their appendix."""
    doc = Document()
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph("Tuyên truyền cải cách hành chính năm 2025")
    if nested:
        host = doc.add_table(rows=1, cols=1).rows[0].cells[0]
        table = host.add_table(rows=1, cols=6)
    else:
        table = doc.add_table(rows=1, cols=6)
    for cell, text in zip(table.rows[0].cells, ["STT", "Nhiệm vụ", "Kết quả/sản phẩm", "Tiến độ", "Phân công",
                                                 "Ghi chú"], strict=True):
        cell.text = text
    rows = [
        ["I. NHIỆM VỤ CHUNG"] * 6,
        ["1", "Tuyên truyền CCHC", "Tin bài", "Quý I/2025", "Văn phòng Sở chủ trì, phối hợp Phòng CNTT-BCVT", ""],
        ["2", "Hội nghị", "Hội nghị", "Quý II/2025", "Phòng TT-BC-XB chủ trì", ""],
        ["3", "Báo cáo", "Báo cáo", "Tháng 3-4/2025", "Ban Biên tập thực hiện", "Ghi chú riêng"],
    ]
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    section, task2, task3 = table.rows[1], table.rows[3], table.rows[4]
    merged = section.cells[0].merge(section.cells[5])
    merged.text = "I. NHIỆM VỤ CHUNG"
    merged = task2.cells[1].merge(task2.cells[2])  # the task's text runs over the results column
    merged.text = "Hội nghị"
    merged = task3.cells[4].merge(task3.cells[5])  # the assignment runs over Ghi chú
    merged.text = "Ban Biên tập thực hiện"
    doc.save(path)
    return path


# (assignment as written, lead, support) — how departments phrase who does what (review of issue 13, finding 1)
PHRASINGS = [
    ("Văn phòng Sở chủ trì, phối hợp Phòng CNTT-BCVT", ["VP"], ["CNTT"]),
    ("Văn phòng Sở chủ trì, phối hợp các phòng, đơn vị thuộc Sở", ["VP"], ["CNTT", "TTBCXB", "TTDV", "CONG", "BBT"]),
    ("Giao Văn phòng Sở chủ trì, phối hợp Trung tâm Cổng TTĐT", ["VP"], ["CONG"]),
    ("Phòng CNTT-BCVT phối hợp với Văn phòng Sở (chủ trì)", ["VP"], ["CNTT"]),
    ("Các phòng, đơn vị thuộc Sở, trừ Ban Biên tập", ["VP", "CNTT", "TTBCXB", "TTDV", "CONG"], []),
    ("Chủ trì: Văn phòng Sở; phối hợp: Phòng CNTT-BCVT", ["VP"], ["CNTT"]),
    ("Văn phòng Sở chủ trì, Ban Biên tập góp ý", ["VP"], []),  # BBT's part is not a role: a review line
]


def write_phrasings_plan(path: Path) -> Path:
    """One task per phrasing in PHRASINGS, in a plain one-row-header table."""
    doc = Document()
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph("Tuyên truyền cải cách hành chính năm 2025")
    table = doc.add_table(rows=1, cols=6)
    heads = ["STT", "Nhiệm vụ", "Kết quả", "Tiến độ", "Phân công", "Ghi chú"]
    for cell, text in zip(table.rows[0].cells, heads, strict=True):
        cell.text = text
    for n, (assignment, _, _) in enumerate(PHRASINGS, 1):
        for cell, text in zip(table.add_row().cells, [str(n), f"Nhiệm vụ {n}", "Tin bài", "Quý II/2025", assignment,
                                                       ""], strict=True):
            cell.text = text
    doc.save(path)
    return path

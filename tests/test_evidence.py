"""The annual report's list of evidence (tài liệu kiểm chứng), for the CCHC index self-assessment."""
from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl

from sync.core.periods import Period
from sync.reports import evidence
from sync.reports.evidence import DOC_NUMBER, Evidence

from .workbooks import col, values

TRACK = "Theo dõi"


def _report(project, period: str, date: str) -> dict:
    code, out, err = project.cli("report", "--json", "--period", period, "--date", date)
    assert code == 0, err
    return json.loads(out)


def _type_evidence(path, cells: dict[int, str], as_text: tuple[int, ...] = ()) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[TRACK]
    column = col(path, TRACK, "Minh chứng")
    for row, value in cells.items():
        cell = ws.cell(row=row, column=column)
        cell.value = value
        if row in as_text:  # typed with a leading apostrophe
            cell.data_type = "s"
            cell.quotePrefix = True
    wb.save(path)


def test_the_annual_report_lists_each_tasks_valid_evidence_as_inert_text(demo_project):
    path = demo_project.workbook
    tracking = values(path, TRACK)[TRACK]
    stt, unit = col(path, TRACK, "STT") - 1, col(path, TRACK, "Đơn vị") - 1
    _type_evidence(path, {2: "Số 123/KH-STTTT ngày 5/3/2024; https://stttt.khanhhoa.gov.vn/tin-1.",
                          3: "htp:/sai-duong-dan",  # flagged in Kiểm tra: left out
                          4: "=SUM(1) theo Công văn số 7/SNV-CCHC"}, as_text=(4,))
    result = _report(demo_project, "2024Y", "2024-12-20")
    listed = demo_project.root / result["evidence"]
    assert listed.name.endswith(".tai-lieu-kiem-chung.xlsx") and listed.parent == (
        demo_project.root / result["path"]).parent
    wb = openpyxl.load_workbook(listed)
    ws = wb.active
    assert [c.value for c in ws[2]] == list(evidence.HEADERS)
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert sorted({r[0] for r in rows}) == list(range(1, 18))  # every task, those without evidence too
    by_text = {r[6]: r for r in rows}
    first = by_text["Số 123/KH-STTTT ngày 5/3/2024; https://stttt.khanhhoa.gov.vn/tin-1."]
    assert first[0] == tracking[1][stt] and first[7] == "https://stttt.khanhhoa.gov.vn/tin-1" and first[8] == \
        "123/KH-STTTT"
    assert "htp:/sai-duong-dan" not in by_text
    formula = next(c for r in ws.iter_rows(min_row=3) for c in r if c.value == "=SUM(1) theo Công văn số 7/SNV-CCHC")
    assert formula.data_type == "s" and formula.quotePrefix  # stored as text, never evaluated
    assert by_text[evidence.NONE][4] is None  # a task without evidence says so
    assert any(r[4] == tracking[1][unit] for r in rows if r[6] == first[6])


def test_only_the_annual_report_has_the_list(demo_project):
    result = _report(demo_project, "2024Q3", "2024-09-20")
    assert "evidence" not in result
    assert not list((demo_project.root / result["path"]).parent.glob("*.tai-lieu-kiem-chung.xlsx"))


def test_document_numbers_are_read_and_dates_are_not():
    text = "Kế hoạch số 12/KH-STTTT ngày 28/02/2024, Nghị định 09/2019/NĐ-CP; QĐ 45/QĐ-UBND, ngày 5/3/2024"
    assert DOC_NUMBER.findall(text) == ["12/KH-STTTT", "09/2019/NĐ-CP", "45/QĐ-UBND"]


def test_control_characters_are_removed_and_formulas_stay_text():
    items = [Evidence(1, "Nhiệm vụ\x07 một", "Văn phòng Sở", "Hoàn thành", "Văn phòng Sở", "Chủ trì",
                      "=HYPERLINK(\"https://x.vn\")\x0b", ("https://x.vn",), (), "05/03/2024"),
             Evidence(2, "+84 nhiệm vụ", "", "")]
    data = evidence.to_bytes(items, Period(2024, "Y"), dt.date(2024, 12, 14))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws.cell(row=3, column=2).value == "Nhiệm vụ một"
    cell = ws.cell(row=3, column=7)
    assert cell.value == "=HYPERLINK(\"https://x.vn\")" and cell.data_type == "s" and cell.quotePrefix
    assert ws.cell(row=4, column=2).data_type == "s" and ws.cell(row=4, column=2).quotePrefix
    assert "năm 2024" in ws.cell(row=1, column=1).value and "14/12/2024" in ws.cell(row=1, column=1).value

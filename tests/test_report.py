"""The quarterly report: reopened with python-docx and held to ND 30/2020, figures held to the dashboard."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
import warnings

import openpyxl
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from sync.core import periods
from sync.core.config import PROJECT_DIR
from sync.core.history import AsOf
from sync.core.schema import nfc
from sync.core.summary import UnitLine
from sync.entry.cli import main
from sync.reports import charts
from sync.reports.content import count, vn_date
from sync.state.store import State

from .conftest import Project
from .workbooks import labelled, values


def _build(project, *args: str) -> tuple[dict, Document]:
    code, out, err = project.cli("report", "--json", *args)
    assert code == 0, err
    result = json.loads(out)
    return result, Document(project.root / result["path"])


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory, demo_workbook):
    """`report --json ARGS` on its own copy of the demo project, built once per module and argument list, for
    the tests that only read what it wrote (each opens its own Document). (result, document, project): the
    project is shared by the tests of the same arguments, so a test only reads it (call it `shared`)."""
    done: dict[tuple[str, ...], tuple[dict, Project]] = {}

    def build(*args: str) -> tuple[dict, Document, Project]:
        if args not in done:
            project = Project(tmp_path_factory.mktemp("demo-report"), None)
            project.workbook.parent.mkdir(parents=True)
            shutil.copyfile(demo_workbook, project.workbook)
            out = io.StringIO()
            with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
                mp.chdir(project.root)  # as the `project` fixture does: relative paths are the project's
                assert main(["report", "--json", *args, "--config", str(project.config)]) == 0
            done[args] = json.loads(out.getvalue()), project
        result, project = done[args]
        return result, Document(project.root / result["path"]), project
    return build


def _mm(length) -> float:
    return round(length / 36000, 1)  # twips rounding: 15 mm is stored as 14.993 mm


def _texts(cell) -> list[str]:
    return [p.text for p in cell.paragraphs if p.text.strip()]


def _has_bottom_rule(paragraph) -> bool:
    return paragraph._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None


def _size(paragraph, doc) -> float:
    sizes = {r.font.size for r in paragraph.runs if r.text.strip()}
    size = sizes.pop() if len(sizes) == 1 else None
    return (size or paragraph.style.font.size or doc.styles["Normal"].font.size).pt


def _bold(paragraph) -> bool:
    return all(r.bold for r in paragraph.runs if r.text.strip())


# --- quarters and dates --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, key", [
    ("2024Q1", "2024Q1"), ("2024-q1", "2024Q1"), ("Q1/2024", "2024Q1"), ("Quý I/2024", "2024Q1"),
    ("quý I năm 2024", "2024Q1"), ("2024H1", "2024H1"), ("6 tháng đầu năm 2024", "2024H1"), ("H1/2024", "2024H1"),
    ("2024Q2", "2024H1"), ("Quý II/2024", "2024H1"), ("quy iii/2024", "2024Q3"), ("2024M9", "2024M9"),
    ("9 tháng đầu năm 2024", "2024M9"), ("2024Y", "2024Y"), ("năm 2024", "2024Y"), ("NĂM 2024", "2024Y"),
    ("2024Q4", "2024Y"), ("Quý IV/2024", "2024Y"),
])
def test_period_forms_in_the_cchc_cycle(text, key):
    assert periods.parse(text).key == key


def test_quarterly_cycle_keeps_four_quarters_and_nine_months_replaces_q3():
    assert [periods.parse(t, "quarterly").key for t in ("2024Q2", "2024Q4")] == ["2024Q2", "2024Q4"]
    assert periods.parse("2024Q3", "cchc", "nine_months").key == "2024M9"
    assert [p.key for p in periods.cycle(2024)] == ["2024Q1", "2024H1", "2024Q3", "2024Y"]
    assert [p.key for p in periods.cycle(2024, "cchc", "nine_months")] == ["2024Q1", "2024H1", "2024M9", "2024Y"]


@pytest.mark.parametrize("key, cutoff_day, window, name, next_name", [
    ("2024Q1", 14, ("2023-12-15", "2024-03-14"), "quý I năm 2024", "quý II năm 2024"),
    ("2024H1", 14, ("2023-12-15", "2024-06-14"), "6 tháng đầu năm 2024", "6 tháng cuối năm 2024"),
    ("2024Q3", 14, ("2024-06-15", "2024-09-14"), "quý III năm 2024", "quý IV năm 2024"),
    ("2024M9", 14, ("2023-12-15", "2024-09-14"), "9 tháng đầu năm 2024", "quý IV năm 2024"),
    ("2024Y", 14, ("2023-12-15", "2024-12-14"), "năm 2024", "năm 2025"),
    ("2024H1", 20, ("2023-12-21", "2024-06-20"), "6 tháng đầu năm 2024", "6 tháng cuối năm 2024"),
])
def test_windows_follow_nd09_with_the_configured_cutoff(key, cutoff_day, window, name, next_name):
    period = periods.parse(key)
    assert tuple(d.isoformat() for d in period.window(cutoff_day)) == window
    assert (period.name, period.next_name) == (name, next_name)


@pytest.mark.parametrize("today, key", [
    ("2024-03-14", None), ("2024-03-15", "2024Q1"), ("2024-06-14", "2024Q1"), ("2024-06-15", "2024H1"),
    ("2024-09-20", "2024Q3"), ("2024-12-15", "2024Y"), ("2025-01-05", "2024Y"), ("2026-07-01", "2024Y"),
    ("2023-12-30", None),
])
def test_auto_is_the_last_period_of_the_plans_year_whose_cutoff_passed(today, key):
    period = periods.auto(dt.date.fromisoformat(today), 2024)
    assert (period.key if period else None) == key


def test_unknown_period_is_exit_2_naming_the_forms(demo_project):
    code, _, err = demo_project.cli("report", "--quarter", "2024Q5")
    assert code == 2
    assert "2024Q5" in err and "2024Q1" in err and "6 tháng đầu năm 2024" in err and "năm 2024" in err and "auto" in err
    assert not (demo_project.root / "reports").exists()


def test_a_period_of_another_year_is_exit_2_naming_both_years(demo_project):
    code, _, err = demo_project.cli("report", "--period", "năm 2025")
    assert code == 2 and "2025" in err and "2024" in err and "plan import" in err
    assert not (demo_project.root / "reports").exists()


def test_issue_date_before_the_data_date_is_exit_2(demo_project):
    code, _, err = demo_project.cli("report", "--period", "2024H1", "--date", "2024-06-10")
    assert code == 2 and "10/06/2024" in err and "14/06/2024" in err and "--date" in err
    code, _, err = demo_project.cli("report", "--period", "2024H1", "--date", "10/06/24")
    assert code == 2 and "10/06/24" in err
    assert not (demo_project.root / "reports").exists()


def test_a_data_date_before_the_periods_window_is_exit_2(demo_project):
    code, _, err = demo_project.cli("report", "--period", "2024Q1", "--as-of", "2023-12-01", "--date", "2024-01-01")
    assert code == 2 and "01/12/2023" in err and "15/12/2023" in err and "--as-of" in err
    assert not (demo_project.root / "reports").exists()


def test_a_period_outside_the_configured_cycle_is_exit_2_naming_the_forms(demo_project):
    demo_project.write_config({"local": {"path": str(demo_project.workbook)}, "report": {"cycle": "quarterly"}})
    for text in ("2024H1", "9 tháng đầu năm 2024", "năm 2024"):
        code, _, err = demo_project.cli("report", "--period", text)
        assert code == 2 and "report.cycle" in err and "2024Q2" in err, (text, err)
    assert not (demo_project.root / "reports").exists()
    assert _build(demo_project, "--period", "2024Q2")[0]["period"] == "2024Q2"


def test_auto_after_the_year_never_leaves_the_plans_year(demo_project):
    result, doc = _build(demo_project, "--date", "2025-01-06")
    assert result["period"] == "2024Y" and result["as_of"] == "2024-12-14"
    assert any("PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025" in p.text for p in doc.paragraphs)


def test_auto_before_the_first_cutoff_builds_nothing(demo_project):
    code, out, _ = demo_project.cli("report", "--date", "2024-03-01")
    assert code == 0 and "quý I năm 2024" in out and "14/03/2024" in out
    assert not (demo_project.root / "reports").exists()


@pytest.mark.parametrize("day, text", [
    (dt.date(2024, 2, 5), "ngày 05 tháng 02 năm 2024"),
    (dt.date(2024, 1, 15), "ngày 15 tháng 01 năm 2024"),
    (dt.date(2024, 3, 9), "ngày 09 tháng 3 năm 2024"),
    (dt.date(2024, 12, 31), "ngày 31 tháng 12 năm 2024"),
])
def test_dates_are_written_as_nd30_says(day, text):
    assert vn_date(day) == text


# --- form -----------------------------------------------------------------------------------------------

def test_page_and_body_follow_nd30(built_demo):
    _, doc, _ = built_demo("--quarter", "2024Q3")
    section = doc.sections[0]
    assert (round(_mm(section.page_width)), round(_mm(section.page_height))) == (210, 297)
    assert 20 <= _mm(section.top_margin) <= 25 and 20 <= _mm(section.bottom_margin) <= 25
    assert 30 <= _mm(section.left_margin) <= 35 and 15 <= _mm(section.right_margin) <= 20
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert 13 <= normal.font.size.pt <= 14
    assert normal.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert 0.9 <= normal.paragraph_format.first_line_indent.cm <= 1.3
    assert normal.paragraph_format.space_after == Pt(6)
    paragraphs = list(doc.paragraphs) + [p for t in doc.tables for row in t.rows for c in row.cells
                                         for p in c.paragraphs]
    used = {p.style.name: p.style for p in paragraphs}
    used.update({s.base_style.name: s.base_style for s in list(used.values()) if s.base_style})
    fonts = {r.font.name for p in paragraphs for r in p.runs} | {s.font.name for s in used.values()}
    assert fonts <= {None, "Times New Roman"}  # None: inherited from Normal
    body = [p for p in doc.paragraphs if p.style.name == "Normal" and len(p.text) > 120]
    assert body and all(p.paragraph_format.alignment in (None, WD_ALIGN_PARAGRAPH.JUSTIFY) for p in body)


def test_letterhead_title_and_date(demo_project):
    _, doc = _build(demo_project, "--period", "2024Q1", "--as-of", "2024-02-05", "--date", "2024-02-05")
    letterhead = doc.tables[0]
    borders = letterhead._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None and {e.get(qn("w:val")) for e in borders} == {"nil"}
    left, right = letterhead.rows[0].cells
    assert _texts(left) == ["UBND TỈNH KHÁNH HÒA", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số:        /BC-STTTT"]
    governing, issuer = left.paragraphs[0], left.paragraphs[1]
    assert not any(r.bold for r in governing.runs) and _bold(issuer)
    assert _has_bottom_rule(left.paragraphs[2])
    assert _texts(right) == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                             "Khánh Hòa, ngày 05 tháng 02 năm 2024"]
    nation, motto, _rule, date = right.paragraphs
    assert _bold(nation) and 12 <= _size(nation, doc) <= 13
    assert _bold(motto) and 13 <= _size(motto, doc) <= 14
    assert _has_bottom_rule(_rule)
    assert all(r.italic for r in date.runs)
    title = next(p for p in doc.paragraphs if p.text == "BÁO CÁO")
    subject = next(p for p in doc.paragraphs if p.text.startswith("Kết quả thực hiện công tác tuyên truyền"))
    for p in (title, subject):
        assert _bold(p) and p.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert subject.text.endswith(" quý\u00a0I\u00a0năm\u00a02024")  # kept together on the last line


def test_page_numbers_from_page_two_and_signature(built_demo):
    _, doc, _ = built_demo("--quarter", "2024Q3")
    section = doc.sections[0]
    assert section.different_first_page_header_footer
    assert not section.first_page_header.paragraphs[0].text.strip()
    header = section.header.paragraphs[0]
    assert header.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert "PAGE" in "".join(t.text for t in header._p.iter(qn("w:instrText")))
    signature = _signature_table(doc)
    left, right = signature.rows[0].cells
    label = left.paragraphs[0]
    assert label.text == "Nơi nhận:" and _bold(label) and all(r.italic for r in label.runs)
    assert _size(label, doc) == 12
    items = [p for p in left.paragraphs[1:] if p.text.strip()]
    assert items and all(p.text.startswith("- ") and _size(p, doc) == 11 for p in items)
    assert [p.text for p in items] == ["- Như trên;", "- Ban GĐ Sở (VBĐT);", "- Lưu: VT, VP (A,02)."]
    signer = [p for p in right.paragraphs if p.text.strip()]
    assert [p.text for p in signer[:2]] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"] and all(_bold(p) for p in signer)


def _signature_table(doc):
    return next(t for t in doc.tables if t.rows[0].cells[0].paragraphs[0].text == "Nơi nhận:")


def test_office_changes_letterhead_and_signer_in_config(demo_project):
    demo_project.write_config({"local": {"path": str(demo_project.workbook)},
                               "state": str(demo_project.root / "state.sqlite"),
                               "report": {"code": "BC-VP", "signer": {"authority": "", "title": "Giám đốc",
                                                                     "name": "Nguyễn Văn An"},
                                          "recipients": ["UBND tỉnh (b/c);", "Lưu: VT."],
                                          "opening": "Thực hiện {plan_title}, báo cáo {period}:"}})
    _, doc = _build(demo_project, "--quarter", "2024Q2")
    assert _texts(doc.tables[0].rows[0].cells[0])[-1] == "Số:        /BC-VP"
    signer = [p.text for p in _signature_table(doc).rows[0].cells[1].paragraphs if p.text.strip()]
    assert signer == ["GIÁM ĐỐC", "Nguyễn Văn An"]
    assert any(p.text.startswith("Thực hiện Kế hoạch tuyên truyền") and p.text.endswith("báo cáo 6 tháng đầu năm 2024:")
               for p in doc.paragraphs)


@pytest.mark.parametrize("subject", ["Báo cáo {quater}", "Báo cáo {period!r:>{x}}", "Báo cáo {period:>99999999}",
                                     "Báo cáo {period.year}"])
def test_unknown_or_formatted_placeholder_in_config_is_exit_2(demo_project, subject):
    demo_project.write_config({"local": {"path": str(demo_project.workbook)}, "report": {"subject": subject}})
    code, _, err = demo_project.cli("report")
    assert code == 2 and "report.subject" in err and "{period}" in err


# --- content --------------------------------------------------------------------------------------------

def _task_table(doc):
    return next(t for t in doc.tables if t.rows[0].cells[0].text == "STT"
                and t.rows[0].cells[1].text == "Nhiệm vụ, đơn vị chủ trì")


def _dashboard_kpis(path) -> dict[str, object]:
    rows = values(path)["Tổng hợp"]
    start = next(i for i, r in enumerate(rows) if "Chỉ số" in r)
    out = {}
    for r in rows[start + 1:]:
        if not any(v not in (None, "") for v in r):
            break
        out.update(labelled([r]))
    return out


def test_figures_equal_the_dashboards_at_the_end_of_the_data_date(demo_project):
    """The report's figures are "tính đến" the cut-off: the day is over, as on the next morning's dashboard."""
    cutoff = dt.date(2024, 9, 14)
    demo_project.run_json(cutoff)  # the pass of the cut-off, which history keeps
    dashboard = demo_project.run_json(cutoff + dt.timedelta(days=1))
    result, doc = _build(demo_project, "--quarter", "2024Q3", "--date", "2024-09-16")
    assert result["as_of"] == cutoff.isoformat() and result["issued"] == "2024-09-16"
    for key in ("rows", "done", "in_progress", "not_started", "cancelled", "unknown_status", "overdue", "due_soon",
                "late", "undated", "missing_quarterly", "errors", "on_time_rate"):
        assert result[key] == dashboard[key], key
    text = "\n".join(p.text for p in doc.paragraphs)
    assert (f"Tính đến ngày 14/9/2024, hoàn thành {count(dashboard['tasks_done'])}/{count(dashboard['tasks'])} "
            "nhiệm vụ") in text  # counted by task, as the dashboard counts them
    assert f"{count(dashboard['tasks_late'])} nhiệm vụ chậm tiến độ" in text or not dashboard["tasks_late"]
    assert "lượt chạy" not in text and "lịch sử" not in text  # where figures come from: the companion file


def test_one_row_per_task_with_its_lead_state_units_results_and_products(built_demo, plan):
    _, doc, shared = built_demo("--quarter", "2024Q3", "--as-of", "2024-09-20")
    table = _task_table(doc)
    assert [c.text for c in table.rows[0].cells] == ["STT", "Nhiệm vụ, đơn vị chủ trì", "Tình trạng",
                                                      "Kết quả quý III năm 2024", "Sản phẩm", "Minh chứng"]
    body = table.rows[1:]
    assert [int(r.cells[0].text) for r in body] == [t.stt for t in plan.tasks]
    for row, task in zip(body, plan.tasks, strict=True):
        name, lead = row.cells[1].text.rsplit("\nChủ trì: ", 1)
        assert " ".join(nfc(task.task).split()).startswith(name.rstrip("…")) and not name.endswith(" …")  # whole or cut
        assert lead
    results = "\n".join(r.cells[3].text for r in body)
    assert "HYPERLINK" not in results and "HYPERLINK" not in "\n".join(r.cells[5].text for r in body)
    assert body[0].cells[1].text.endswith("Chủ trì: Văn phòng Sở")


def test_six_month_report_covers_both_quarters(demo_project):
    _, doc = _build(demo_project, "--period", "6 tháng đầu năm 2024", "--date", "2024-06-20")
    text = "\n".join(p.text for p in doc.paragraphs)
    for heading in ("I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", "II. KẾT QUẢ THỰC HIỆN 6 THÁNG ĐẦU NĂM 2024",
                    "III. ĐÁNH GIÁ CHUNG", "1. Ưu điểm", "2. Tồn tại, hạn chế và nguyên nhân",
                    "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ 6 THÁNG CUỐI NĂM 2024", "V. ĐỀ XUẤT, KIẾN NGHỊ"):
        assert heading in text.splitlines(), heading
    assert "từ ngày 15/12/2023 đến ngày 14/6/2024" in text  # running text: no leading zeros
    assert text.splitlines()[text.splitlines().index("V. ĐỀ XUẤT, KIẾN NGHỊ") + 1] == "Không."
    assert any(p.text == "Khánh Hòa, ngày 20 tháng 6 năm 2024" for c in doc.tables[0].rows[0].cells
               for p in c.paragraphs)
    assert _task_table(doc).rows[0].cells[3].text == "Kết quả 6 tháng đầu năm 2024"


def test_nothing_internal_in_the_document_and_the_companion_file_holds_it(built_demo):
    result, doc, shared = built_demo("--quarter", "2024Q3", "--as-of", "2024-09-20")
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    for word in ("lượt thực hiện", "lượt phân công", "lượt quá hạn", "×", "chưa rõ tình trạng", "sắp đến hạn",
                 "lịch sử", "lượt chạy", "nội dung nhập chưa đúng", "kết quả quý đã đến hạn mà", "HYPERLINK"):
        assert word not in text and word not in cells, word
    assert text.startswith("XEM TRƯỚC - số liệu tính đến ngày 20/9/2024")  # a preview states its data date
    book = openpyxl.load_workbook(shared.root / result["annex"])
    assert result["annex"].endswith(".noi-bo.xlsx")
    errors = book["Lỗi nhập liệu"]
    assert [c.value for c in errors[2]] == ["Tab", "Dòng", "Đơn vị", "Cột", "Nội dung"]
    assert errors.max_row - 2 == result["errors"]
    assert book["Quá hạn theo dòng"].max_row - 2 == result["overdue"]
    assert all(c.data_type != "f" for ws in book for row in ws.iter_rows() for c in row)  # never a formula
    # section IV: the unfinished tasks, each with its lead unit, also those without a deadline
    assert re.search(r"^- Nhiệm vụ số \d+ \(.+\): .+; đơn vị chủ trì: .+\.$", text, re.M)
    assert re.search(r"theo tiến độ Đề án/Kế hoạch của tỉnh", text)


def test_every_style_the_document_names_is_defined(built_demo):
    """Paragraphs and tables take their styles by id (sync/reports/document.py): an id that the template does not
    define would leave Word falling back to Normal without a word, so each one is checked here."""
    from docx.oxml.ns import qn
    _, doc, _ = built_demo("--quarter", "2024Q3")
    defined = {(s.type, s.style_id) for s in doc.styles}
    body = doc.element.body
    used = {(1, e.get(qn("w:val"))) for e in body.iter(qn("w:pStyle"))}  # WD_STYLE_TYPE.PARAGRAPH
    used |= {(3, e.get(qn("w:val"))) for e in body.iter(qn("w:tblStyle"))}  # WD_STYLE_TYPE.TABLE
    assert {kind for kind, _ in used} == {1, 3}
    assert used <= defined, used - defined


def test_chart_is_embedded_and_its_labels_have_every_glyph(built_demo):
    _, doc, _ = built_demo("--quarter", "2024Q3")
    [shape] = doc.inline_shapes
    blip = shape._inline.graphic.graphicData.pic.blipFill.blip
    image = doc.part.related_parts[blip.embed].blob
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    units = [UnitLine(unit=n, code=n, label=n, rows=4, done=1, in_progress=2, not_started=0, cancelled=1,
                      unknown_status=0, overdue=1, due_soon=0, missing=0, errors=0)
             for n in ("Phòng CNTT-BCVT", "Trung tâm Cổng TTĐT", "Ban Biên tập")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font" for a box
        # drawn now, whatever an earlier test or run of this one left in the cache (a cached picture warns of nothing)
        png = charts._status_by_unit.__wrapped__(tuple(units), "Tình trạng thực hiện theo đơn vị - Quý III/2024 ữẵỹ")
    assert png[:4] == b"\x89PNG"


def test_a_chart_is_drawn_once_per_data_and_title():
    units = [UnitLine(unit=n, code=n, label=n, rows=3, done=1, in_progress=1, not_started=1, cancelled=0,
                      unknown_status=0, overdue=0, due_soon=0, missing=0, errors=0) for n in ("VP Sở", "Ban Biên tập")]
    first = charts.status_by_unit(units, "Tình trạng - kiểm tra bộ nhớ đệm")
    assert charts.status_by_unit(list(units), "Tình trạng - kiểm tra bộ nhớ đệm") is first
    other = [units[0], dataclasses.replace(units[1], done=2, rows=4)]
    assert charts.status_by_unit(other, "Tình trạng - kiểm tra bộ nhớ đệm") != first
    assert charts.status_by_unit(units, "Tình trạng - kiểm tra bộ nhớ đệm, tiêu đề khác") != first


def test_naming_a_report_file_never_loads_matplotlib():
    """The daemon's "already sent?" checks and the sending of a report kept as sent need the report's file name
    only: matplotlib (half a second of CPU to import) is loaded by the first chart drawn."""
    code = ("import sys, sync.reports.build, sync.usecases.report_build, sync.mail.letters; "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_DIR, check=True)
    assert done.stdout.strip() == "False"


def test_a_period_with_no_data_says_so(inited_project):
    project = inited_project
    _, doc = _build(project, "--period", "2024H1")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "các phòng, đơn vị chưa báo cáo kết quả 6 tháng đầu năm 2024" in text


# --- files ----------------------------------------------------------------------------------------------

def test_a_sent_report_is_kept_unless_forced(demo_project):
    first, _ = _build(demo_project, "--quarter", "2024Q3")
    path = demo_project.root / first["path"]
    assert first["built"] and path.exists()
    state, now = State(demo_project.root / "state.sqlite"), dt.datetime(2024, 9, 16, 8, 0)
    state.begin_send("report", "2024Q3", "lanhdao@example.invalid", now)
    state.end_send("report", "2024Q3", "lanhdao@example.invalid", now, "<id@x>")
    sent_bytes = path.read_bytes()
    again, _ = _build(demo_project, "--quarter", "2024Q3", "--date", "2024-09-30")
    assert not again["built"] and path.read_bytes() == sent_bytes
    forced, doc = _build(demo_project, "--quarter", "2024Q3", "--date", "2024-09-30", "--force")
    assert forced["built"]
    copies = list(path.parent.glob(f"{path.stem}.da-gui-*.docx"))
    assert len(copies) == 1 and copies[0].read_bytes() == sent_bytes
    assert any("ngày 30 tháng 9 năm 2024" in p.text for p in doc.paragraphs)
    # a preview of another data date, forced or not, is its own file: the official one is untouched
    built = path.read_bytes()
    preview, _ = _build(demo_project, "--quarter", "2024Q3", "--as-of", "2024-09-30", "--force")
    assert preview["path"] != forced["path"] and "xem-truoc-20240930" in preview["path"]
    assert path.read_bytes() == built


def test_two_configurations_sharing_out_dir_never_overwrite_each_other(demo_project, tmp_path):
    first, _ = _build(demo_project, "--period", "2024Q3")
    other = tmp_path / "other.xlsx"
    shutil.copy(demo_project.workbook, other)
    demo_project.write_config({"local": {"path": str(other)}, "state": str(tmp_path / "other.sqlite")})
    second, _ = _build(demo_project, "--period", "2024Q3")
    assert first["path"] != second["path"]
    assert "2024Q3" in first["path"] and "2024Q3" in second["path"]
    assert (demo_project.root / first["path"]).exists() and (demo_project.root / second["path"]).exists()


def test_pdf_without_libreoffice_is_a_clear_exit_2(demo_project, monkeypatch):
    monkeypatch.setenv("PATH", str(demo_project.root / "no-bin"))
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--pdf")
    assert code == 2 and "soffice" in err and "libreoffice-writer-nogui" in err
    assert not (demo_project.root / "reports").exists()


def test_properties_are_in_the_order_word_requires(built_demo):
    """Word refuses a document whose w:pPr / w:tblPr children are out of schema order; LibreOffice does not."""
    # the sequences of CT_PPr and CT_TblPr in the WordprocessingML schema (ECMA-376 Part 1, 17.3.1.26 and
    # 17.4.60), written out here rather than taken from the code under test
    ppr_order = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
                 "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
                 "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
                 "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
                 "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
                 "sectPr", "pPrChange")
    tbl_pr_order = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
                    "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar",
                    "tblLook", "tblCaption", "tblDescription", "tblPrChange")
    _, doc, _ = built_demo("--quarter", "2024Q3")
    parts = [doc.element] + [s.header._element for s in doc.sections] + [s.first_page_header._element
                                                                        for s in doc.sections]
    checked = 0
    for root in parts:
        for tag, order in ((qn("w:pPr"), ppr_order), (qn("w:tblPr"), tbl_pr_order)):
            for props in root.iter(tag):
                names = [c.tag.split("}")[1] for c in props]
                ranks = [order.index(n) for n in names]
                assert ranks == sorted(ranks), names
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("key, quarter", [("2024Q3", 3), ("2024H1", 2)])
def test_a_period_lists_its_own_quarters_missing_results(demo_project, plan, key, quarter):
    """A report's figures are "tính đến" its data date: at the end of that day. A result due on the cut-off and
    not there is missing in the report of the cut-off, and in a dry run of that (past) date; a pass during the
    cut-off day itself does not flag it yet: the unit still has the day (deadlines.day_over)."""
    from sync.backends.local import LocalBackend
    from sync.core.schema import Layout
    from sync.sheet.sync_pass import PassOptions
    from sync.usecases.pipeline import run_pass
    cutoff = periods.parse(key).cutoff(14)
    result, doc = _build(demo_project, "--period", key, "--date", "2024-09-20", "--as-of", cutoff.isoformat())
    book = openpyxl.load_workbook(demo_project.root / result["annex"])  # the Office's list, not the document's
    listed = [row[1] for row in book["Kết quả còn thiếu"].iter_rows(min_row=3, values_only=True)]
    assert f"Quý {periods.ROMAN[quarter]}" in listed, listed
    past = _dry_run(demo_project, cutoff)
    assert past["missing_quarterly"] == result["missing_quarterly"] == result["missing_listed"]
    during = run_pass(LocalBackend(demo_project.workbook), plan, Layout(),
                      PassOptions(AsOf(cutoff), dt.datetime.combine(cutoff, dt.time(10)), dry_run=True)).summary.kpis
    assert during.missing_quarterly < result["missing_quarterly"]


def _dry_run(project, as_of: dt.date) -> dict:
    code, out, err = project.cli("run", "--as-of", as_of.isoformat(), "--dry-run", "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_body_reads_well_and_names_the_lead_unit_as_the_appendix_does(demo_project):
    _, doc = _build(demo_project, "--period", "2024Q3", "--date", "2024-09-20")
    lines = [p.text for p in doc.paragraphs if p.text.startswith("- Nhiệm vụ số ")]
    assert lines
    for line in lines:
        assert not re.search(r"[:;,…]\.|\.\.", line), line
    lead = {int(r.cells[0].text): r.cells[1].text.rsplit("Chủ trì: ", 1)[1] for r in _task_table(doc).rows[1:]}
    for line in lines:
        if "đơn vị chủ trì: " in line:
            stt = int(re.match(r"- Nhiệm vụ số (\d+)", line).group(1))
            assert line.endswith(f"đơn vị chủ trì: {lead[stt]}."), (line, lead[stt])


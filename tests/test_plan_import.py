"""`plan import`: next year's plan from its Word file, checked by round-tripping the 2024 plan."""
from __future__ import annotations

import re

from docx import Document

from sync.plan import load_plan

from .plan_docx import write_plan_docx


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


def test_the_2024_plan_comes_back_from_its_word_file(project, plan, tmp_path):
    source = write_plan_docx(plan, tmp_path / "ke-hoach-2024.docx", split=3)
    out = tmp_path / "plans" / "ke-hoach.yaml"
    code, stdout, err = project.cli("plan", "import", str(source), "-o", str(out))
    assert code == 0, err
    assert "17 nhiệm vụ" in stdout and out.read_text(encoding="utf-8").startswith("# Draft made by")
    imported = load_plan(out)  # a plan the job accepts as it is
    assert (imported.title, imported.number, imported.issued, imported.year) == (
        plan.title, plan.number, plan.issued, plan.year)
    assert [t.stt for t in imported.tasks] == [t.stt for t in plan.tasks]
    for new, old in zip(imported.tasks, plan.tasks):
        assert new.schedule == old.schedule and _same_text(new.task, old.task), old.stt
        assert _same_text(new.assignment, old.assignment) and _same_text(new.results, old.results), old.stt
    roles = [(t.lead, t.support) == (o.lead, o.support) for t, o in zip(imported.tasks, plan.tasks)]
    # The transcription's roles are a careful reading; the importer gets 14 of 17 the same. The other three
    # (5, 8, 17) have two units leading in separate clauses, which the draft asks the Office to check.
    assert sum(roles) >= 14
    assert imported.registry == plan.registry


def test_roles_read_from_typical_sentences(plan):
    from sync.plan_import import infer_roles
    units = plan.registry.units
    assert infer_roles("Văn phòng Sở chủ trì, phối hợp với các phòng, đơn vị xây dựng kế hoạch", units)[:2] == (
        ["VP"], ["CNTT", "TTBCXB", "TTDV", "CONG", "BBT"])
    assert infer_roles("Phòng Thông tin – Báo chí – Xuất bản phối hợp tuyên truyền theo đề nghị của Sở Nội vụ.",
                       units)[:2] == ([], ["TTBCXB"])
    assert infer_roles("- Phòng CNTT-BCVT chủ trì; - Ban Biên tập đăng tin trên Trang TTĐT của Sở.", units)[:2] == (
        ["CNTT"], ["BBT"])
    assert infer_roles("Sở Nội vụ chủ trì tổ chức hội nghị.", units) == ([], [], True)


def test_without_output_the_draft_is_printed_and_doubts_are_listed(project, plan, tmp_path):
    doc = Document()
    table = doc.add_table(rows=3, cols=6)
    for row, values in zip(table.rows, (
            ["STT", "Nhiệm vụ", "Kết quả", "Tiến độ", "Phân công", "Ghi chú"],
            ["1", "Tuyên truyền", "Tin bài", "Quý II/2025", "Ban Biên tập thực hiện", ""],
            ["2", "Hội nghị", "Hội nghị", "Tùy tình hình", "Sở Nội vụ chủ trì", ""])):
        for cell, text in zip(row.cells, values):
            cell.text = text
    source = tmp_path / "kh.docx"
    doc.save(source)
    code, out, err = project.cli("plan", "import", str(source))
    assert code == 0 and "stt: 2" in out
    assert "nhiệm vụ 2: chưa phân công đơn vị nào" in err and "nhiệm vụ 2: chưa hiểu tiến độ 'Tùy tình hình'" in err


def test_bad_inputs_are_exit_2(project, plan, tmp_path):
    not_docx = tmp_path / "kh.docx"
    not_docx.write_text("không phải Word", encoding="utf-8")
    code, _, err = project.cli("plan", "import", str(not_docx))
    assert code == 2 and "không mở được" in err.lower()
    empty = tmp_path / "trong.docx"
    Document().save(empty)
    code, _, err = project.cli("plan", "import", str(empty))
    assert code == 2 and "bảng nhiệm vụ (phụ lục)" in err and "gõ lại bảng" in err
    source = write_plan_docx(plan, tmp_path / "kh2.docx")
    existing = tmp_path / "co-roi.yaml"
    existing.write_text("giữ nguyên", encoding="utf-8")
    code, _, err = project.cli("plan", "import", str(source), "-o", str(existing))
    assert code == 2 and "--force" in err and existing.read_text(encoding="utf-8") == "giữ nguyên"

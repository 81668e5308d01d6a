"""`plan import`: next year's plan from its Word file, checked by round-tripping the 2024 plan."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.core.plan import load_plan

from .plan_docx import write_plan_docx
from .plan_shapes import write_sentence_plan, write_two_row_plan
from .seed_docx import write_seed_docx
from .strategies import examples


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


def _six_column_plan(path, *rows: list[str]):
    """A plan whose appendix is one table with the usual six columns and these task rows."""
    doc = Document()
    table = doc.add_table(rows=len(rows) + 1, cols=6)
    heads = ["STT", "Nhiệm vụ", "Kết quả", "Tiến độ", "Phân công", "Ghi chú"]
    for row, values in zip(table.rows, (heads, *rows), strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    doc.save(path)
    return path

def test_the_2024_plan_comes_back_from_its_word_file(project, plan, tmp_path):
    source = write_plan_docx(plan, tmp_path / "ke-hoach-2024.docx", split=3)
    out = tmp_path / "plans" / "ke-hoach.yaml"
    code, stdout, err = project.cli("plan", "import", str(source), "-o", str(out))
    assert code == 0, err
    assert "17 nhiệm vụ" in stdout and out.read_text(encoding="utf-8").startswith("# Bản nháp do lệnh")
    imported = load_plan(out)  # a plan the job accepts as it is
    assert (imported.title, imported.number, imported.issued, imported.year) == (
        plan.title, plan.number, plan.issued, plan.year)
    assert [t.stt for t in imported.tasks] == [t.stt for t in plan.tasks]
    for new, old in zip(imported.tasks, plan.tasks, strict=True):
        assert new.schedule == old.schedule and _same_text(new.task, old.task), old.stt
        assert _same_text(new.assignment, old.assignment) and _same_text(new.results, old.results), old.stt
    roles = [(t.lead, t.support) == (o.lead, o.support) for t, o in zip(imported.tasks, plan.tasks, strict=True)]
    assert sum(roles) == 17  # two leads in separate clauses (5, 8, 17) included
    assert imported.registry == plan.registry
    assert imported.tasks[0].group == "I. NHIỆM VỤ TRỌNG TÂM"  # the title row is a group, not a task


def test_the_signed_2024_plan_reads_back_as_transcribed(project, plan, tmp_path):
    """The 2024 plan laid out as its signed file is (bullets, rows cut by page breaks, task 11's unit names
    broken over two bullets) gives the shipped transcription: facts, texts, deadlines and 17 of 17 roles."""
    source = write_seed_docx(tmp_path / "ke-hoach-2024.docx")
    out = tmp_path / "ke-hoach.yaml"
    code, _, err = project.cli("plan", "import", str(source), "-o", str(out))
    assert code == 0 and "Cần xem lại" not in err, err
    imported = load_plan(out)
    assert (imported.title, imported.number, imported.issued, imported.year, imported.issuer) == (
        plan.title, plan.number, plan.issued, plan.year, plan.issuer)
    assert [t.stt for t in imported.tasks] == list(range(1, 18))
    agree = [t.stt for t, o in zip(imported.tasks, plan.tasks, strict=True)
             if (t.lead, t.support) == (o.lead, o.support)]
    assert agree == list(range(1, 18))
    for new, old in zip(imported.tasks, plan.tasks, strict=True):
        assert new.schedule == old.schedule, old.stt
        for key in ("task", "results", "assignment"):
            assert _same_text(getattr(new, key), getattr(old, key)), (old.stt, key)
        assert set(new.partners) <= set(old.partners), old.stt
    # the page break cut task 4's unit name from its verb: joined with a space, the bullets kept as lines
    assert imported.by_stt[4].assignment.startswith("- Phòng Công nghệ thông tin - Bru chính – Viễn thông chủ trì")
    assert imported.by_stt[4].assignment.count("\n") == 1
    assert imported.by_stt[6].results.count("\n") == 2


def test_two_row_header_plan_in_two_tables(project, plan, tmp_path):
    """Letterhead table, upper-case title, two tables, merged two-row header, column numbers, sections,
    a page-broken task and Word bullets: what is read back."""
    out = tmp_path / "ke-hoach-2025.yaml"
    code, _, err = project.cli("plan", "import", str(write_two_row_plan(tmp_path / "kh.docx")), "-o", str(out))
    assert code == 0, err
    new = load_plan(out)
    assert (new.number, new.issued, new.year) == ("Số 45/KH-STTTT", dt.date(2025, 1, 15), 2025)
    assert new.issuer == "Sở Thông tin và Truyền thông tỉnh Khánh Hòa"  # letterhead, cased as the body writes it
    assert new.title == "Kế hoạch tuyên truyền cải cách hành chính năm 2025"
    assert "tiêu đề viết hoa" in err
    assert [t.stt for t in new.tasks] == [1, 2, 3, 4, 5]  # "(1) (2) …" and the repeated header are not tasks
    assert [t.group for t in new.tasks] == ["I. TUYÊN TRUYỀN CHUNG"] * 2 + ["II. CHUYỂN ĐỔI SỐ"] * 3
    task3 = new.by_stt[3]
    assert task3.task == ("Truyền thông về dịch vụ công trực tuyến toàn trình và thanh toán trực tuyến trên Cổng "
                          "Dịch vụ công quốc gia")
    assert task3.results == "- Video clip\n- Tờ gấp\n- Tin, bài trên Trang TTĐT của Sở"
    roles = {t.stt: (t.lead, t.support) for t in new.tasks}
    assert roles == {1: (("VP",), ("CNTT", "TTBCXB", "TTDV", "CONG", "BBT")), 2: (("CNTT",), ("TTBCXB", "CONG")),
                     3: (("TTDV",), ("BBT",)), 4: (("VP",), ("BBT",)), 5: (("TTBCXB",), ())}
    assert task3.partners == ("Sở Nội vụ",)
    due = {t.stt: (new.schedule(t).kind, new.schedule(t).due) for t in new.tasks}
    assert due == {1: ("once", dt.date(2025, 4, 30)), 2: ("once", dt.date(2025, 9, 30)), 3: ("recurring", None),
                   4: ("once", dt.date(2026, 1, 31)), 5: ("event", None)}
    assert new.schedule(task3).day == 10


def test_sentence_plan_with_numbering_unknown_units_and_outside_bodies(project, plan, tmp_path):
    out = tmp_path / "kh.yaml"
    code, _, err = project.cli("plan", "import", str(write_sentence_plan(tmp_path / "kh.docx")), "-o", str(out))
    assert code == 0, err
    raw = yaml.safe_load(out.read_text(encoding="utf-8"))
    tasks = {t["stt"]: t for t in raw["tasks"]}
    assert [(t["numbering"], t["group"]) for t in raw["tasks"]] == [
        ("1.1", "A. NHIỆM VỤ CHUNG"), ("1.2", "A. NHIỆM VỤ CHUNG"), ("a)", "B. NHIỆM VỤ PHỐI HỢP"),
        ("b)", "B. NHIỆM VỤ PHỐI HỢP")]
    assert tasks[1]["results"] == "- Văn bản\n- Hội nghị"
    assert (tasks[1]["lead"], tasks[1]["support"]) == (["TTBCXB"], ["BBT"])  # "Phòng Thông tin -" / "Báo chí - …"
    [proposed] = [u for u in raw["units"] if u.get("proposed")]
    assert (proposed["code"], proposed["name"]) == ("KHTC", "Phòng Kế hoạch - Tài chính")
    assert (tasks[2]["lead"], tasks[2]["support"]) == (["KHTC"], ["VP"])
    assert (tasks[3]["lead"], tasks[3]["support"], tasks[3]["partners"]) == ([], [], ["Sở Kế hoạch và Đầu tư"])
    assert (tasks[4]["lead"], tasks[4]["support"]) == (["CONG"], ["VP", "CNTT", "TTBCXB", "TTDV", "BBT"])
    assert "đơn vị 'KHTC' (Phòng Kế hoạch - Tài chính) là đơn vị mới" in err and "nhiệm vụ 2 (lead)" in err
    assert "nhiệm vụ 3: chưa phân công đơn vị nào" in err and "'lead'" in err


def test_the_unfinished_draft_does_not_load_and_says_what_to_fill_in(project, plan, tmp_path):
    out = tmp_path / "kh.yaml"
    assert project.cli("plan", "import", str(write_sentence_plan(tmp_path / "kh.docx")), "-o", str(out))[0] == 0
    project.write_config({"plan": str(out)})
    code, _, err = project.cli("init")
    assert code == 2 and "nhiệm vụ 3: chưa phân công đơn vị nào" in err and "'lead'" in err and "'support'" in err
    assert "đơn vị 'KHTC'" in err  # every thing to fill in, at once
    raw = yaml.safe_load(out.read_text(encoding="utf-8"))
    raw["tasks"][2]["support"] = ["VP"]  # the Office fills in task 3 …
    out.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    code, _, err = project.cli("init")
    assert code == 2 and "đơn vị 'KHTC'" in err and "nhiệm vụ 2 (lead)" in err and "proposed: true" in err
    for unit in raw["units"]:  # … and confirms the new unit
        unit.pop("proposed", None)
    out.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    code, _, err = project.cli("init")
    assert code == 0, err
    assert load_plan(out).by_stt[2].numbering == "1.2"


def test_roles_read_from_typical_sentences(plan):
    from sync.plan_import import infer_roles  # the name the single module had: still there
    units = plan.registry.units
    assert infer_roles("Văn phòng Sở chủ trì, phối hợp với các phòng, đơn vị xây dựng kế hoạch", units)[:2] == (
        ["VP"], ["CNTT", "TTBCXB", "TTDV", "CONG", "BBT"])
    assert infer_roles("Phòng Thông tin – Báo chí – Xuất bản phối hợp tuyên truyền theo đề nghị của Sở Nội vụ.",
                       units)[:2] == ([], ["TTBCXB"])
    assert infer_roles("- Phòng CNTT-BCVT chủ trì; - Ban Biên tập đăng tin trên Trang TTĐT của Sở.", units)[:2] == (
        ["CNTT"], ["BBT"])
    assert infer_roles("Sở Nội vụ chủ trì tổ chức hội nghị.", units) == ([], [], True)
    # "chủ trì, phối hợp với" in both orders
    assert infer_roles("Phối hợp với Ban Biên tập, Văn phòng Sở chủ trì tổ chức hội nghị", units)[:2] == (
        ["VP"], ["BBT"])
    # two leads in separate clauses; a unit that only publishes supports
    assert infer_roles("- Phòng CNTT-BCVT thực hiện khảo sát;\n- Trung tâm Cổng TTĐT cung cấp số liệu;\n"
                       "- Ban Biên tập cập nhật tin", units)[:2] == (["CNTT", "CONG"], ["BBT"])
    # a list of units cut by ";" is one subject
    assert infer_roles("Phòng CNTT-BCVT; Thông tin – Báo chí – Xuất bản lồng ghép nội dung", units)[:2] == (
        ["CNTT", "TTBCXB"], [])


def test_without_output_the_draft_is_printed_and_doubts_are_listed(project, plan, tmp_path):
    source = _six_column_plan(tmp_path / "kh.docx",
                              ["1", "Tuyên truyền", "Tin bài", "Quý II/2025", "Ban Biên tập thực hiện", ""],
                              ["2", "Hội nghị", "Hội nghị", "Tùy tình hình", "Sở Nội vụ chủ trì", ""])
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
    legacy = tmp_path / "kh.doc"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    code, _, err = project.cli("plan", "import", str(legacy))
    assert code == 2 and ".doc" in err and "Word Document (*.docx)" in err
    scanned = tmp_path / "kh.pdf"
    scanned.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    code, _, err = project.cli("plan", "import", str(scanned))
    assert code == 2 and "PDF" in err and "gõ bảng phụ lục vào Word" in err
    code, _, err = project.cli("plan", "import", str(tmp_path))  # a folder (was exit 1: found attacking it)
    assert code == 2 and "là một thư mục" in err and "Traceback" not in err
    source = write_plan_docx(plan, tmp_path / "kh2.docx")
    existing = tmp_path / "co-roi.yaml"
    existing.write_text("giữ nguyên", encoding="utf-8")
    code, _, err = project.cli("plan", "import", str(source), "-o", str(existing))
    assert code == 2 and "--force" in err and existing.read_text(encoding="utf-8") == "giữ nguyên"


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["Văn phòng Sở", "Phòng CNTT-BCVT", "Ban Biên tập", "Các phòng, đơn vị", "Sở Nội vụ",
                                 "Phòng Kế hoạch - Tài chính", "chủ trì", "phối hợp với", "phối hợp", "thực hiện",
                                 "cập nhật", "tổ chức", "Ban hành", ",", ";", "\n- ", "- ", "Phòng Thông tin -",
                                 "\nBáo chí - Xuất bản", "và", "(", ")", ".", "trừ", "Chủ trì:", "phối hợp:",
                                 "(chủ trì)", "Giao"]), max_size=14).map(" ".join))
def test_reading_roles_never_fails_and_never_gives_a_unit_both_roles(plan, text):
    from sync.plan_import.roles import read_roles
    from sync.plan_import.units import UnitReader
    reader = UnitReader(plan.registry.units)
    lead, support, unsure = read_roles(text, reader)
    assert not set(lead) & set(support)
    known = set(reader.codes) | {p.code for p in reader.proposals.values()}
    assert set(lead) | set(support) <= known and unsure == (not (lead or support))


def test_word_numbered_stt_and_a_task_merged_over_two_rows(project, plan, tmp_path):
    from .plan_shapes import write_word_numbered_plan
    out = tmp_path / "kh.yaml"
    code, _, err = project.cli("plan", "import", str(write_word_numbered_plan(tmp_path / "kh.docx")), "-o", str(out))
    assert code == 0, err
    new = load_plan(out)
    assert [(t.stt, t.task, t.schedule) for t in new.tasks] == [
        (1, "Tuyên truyền trên Trang TTĐT", "Thường xuyên"), (2, "Hội nghị tập huấn CCHC", "Quý III/2025"),
        (3, "Báo cáo kết quả", "Tháng 11-12/2025")]
    assert new.by_stt[2].assignment == "Văn phòng Sở chủ trì\nPhòng CNTT-BCVT phối hợp"
    assert [(t.lead, t.support) for t in new.tasks] == [(("BBT",), ()), (("VP",), ("CNTT",)), (("VP",), ())]


@pytest.mark.parametrize("words,key", [
    ("STT", "stt"), ("TT", "stt"), ("Nhiệm vụ", "task"), ("Nội dung", "task"), ("Nội dung nhiệm vụ", "task"),
    ("Nội dung công việc", "task"), ("Kết quả/sản phẩm", "results"), ("Kết quả/ sản phẩm", "results"),
    ("Sản phẩm", "results"), ("Sản phẩm đầu ra", "results"), ("Tiến độ", "schedule"),
    ("Thời gian thực hiện", "schedule"), ("Thời gian hoàn thành", "schedule"), ("Phân công", "assignment"),
    ("Phân công và cách thức thực hiện", "assignment"), ("Đơn vị thực hiện", "assignment"),
    ("Cơ quan thực hiện", "assignment"), ("Phân công thực hiện", "assignment"), ("Đơn vị chủ trì", "lead"),
    ("Đơn vị phối hợp", "support"), ("Ghi chú", "note"), ("Kinh phí", None)])
def test_header_words_departments_use(words, key):
    from sync.plan_import.word import header_key
    assert header_key(words) == key
    assert header_key(words.upper()) == key


def test_a_damaged_docx_is_exit_2_with_the_save_again_message(project, plan, tmp_path):
    """A valid zip whose document.xml is cut in half (finding 4): not a bug, the Office saves it again."""
    import zipfile
    whole = write_plan_docx(plan, tmp_path / "nguyen.docx")
    damaged = tmp_path / "hong.docx"
    with zipfile.ZipFile(whole) as zin, zipfile.ZipFile(damaged, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, data[:len(data) // 2] if info.filename == "word/document.xml" else data)
    code, _, err = project.cli("plan", "import", str(damaged))
    assert code == 2, err
    assert "Không mở được" in err and "Word Document (*.docx)" in err


ALL_BUT_VP = ["CNTT", "TTBCXB", "TTDV", "CONG", "BBT"]


@pytest.mark.parametrize("text,lead,support", [
    ("Văn phòng Sở chủ trì, phối hợp Phòng CNTT-BCVT", ["VP"], ["CNTT"]),
    ("Văn phòng Sở chủ trì, phối hợp với Phòng CNTT-BCVT", ["VP"], ["CNTT"]),
    ("Văn phòng Sở chủ trì, phối hợp các phòng, đơn vị thuộc Sở", ["VP"], ALL_BUT_VP),
    ("Giao Văn phòng Sở chủ trì, phối hợp Trung tâm Cổng TTĐT", ["VP"], ["CONG"]),
    ("Phòng CNTT-BCVT phối hợp với Văn phòng Sở (chủ trì)", ["VP"], ["CNTT"]),
    ("Các phòng, đơn vị thuộc Sở, trừ Ban Biên tap", ["VP", "CNTT", "TTBCXB", "TTDV", "CONG"], []),
    ("Các phòng, đơn vị thuộc Sở, trừ Ban Biên tập thực hiện", ["VP", "CNTT", "TTBCXB", "TTDV", "CONG"], []),
    ("Chủ trì: Văn phòng Sở; phối hợp: Phòng CNTT-BCVT", ["VP"], ["CNTT"]),
    ("Chủ trì: Văn phòng Sở\nPhối hợp: Phòng CNTT-BCVT, Ban Biên tập", ["VP"], ["CNTT", "BBT"]),
    ("Đơn vị chủ trì: Văn phòng Sở\nBan Biên tập\nĐơn vị phối hợp: Phòng CNTT-BCVT", ["VP", "BBT"], ["CNTT"]),
    ("VĂN PHÒNG SỞ CHỦ TRÌ, PHỐI HỢP PHÒNG CNTT-BCVT", ["VP"], ["CNTT"]),
    ("Văn phòng Sở (chủ trì), Phòng CNTT-BCVT (phối hợp)", ["VP"], ["CNTT"]),
    ("Văn phòng Sở chủ trì, phối hợp Phòng Kế hoạch - Tài chính xây dựng dự toán", ["VP"], ["KHTC"]),  # proposed
])
def test_roles_of_the_phrasings_plans_use(plan, text, lead, support):
    """Finding 1: support after "phối hợp" with or without "với", "(chủ trì)" after a name, "trừ …", and the
    labelled form the importer itself writes into `assignment`."""
    from sync.plan_import.roles import read_roles
    from sync.plan_import.units import UnitReader
    assert read_roles(text, UnitReader(plan.registry.units)) == (lead, support, False)


@pytest.mark.parametrize("text", [
    "Văn phòng Sở chủ trì, Phòng CNTT-BCVT tham gia ý kiến",   # a unit named, with no role read
    "Ban Biên tập phối hợp; đơn vị chủ trì do Giám đốc Sở phân công",  # "chủ trì" written, no lead read
])
def test_what_roles_cannot_be_read_from_is_a_review_line(plan, text):
    from sync.plan_import.roles import read_roles, role_doubts
    from sync.plan_import.units import UnitReader
    reader = UnitReader(plan.registry.units)
    lead, support, _ = read_roles(text, reader)
    assert role_doubts(text, reader, lead, support)


@pytest.mark.parametrize("text", [
    "Văn phòng Sở chủ trì, phối hợp Phòng CNTT-BCVT",
    "Ban Biên tập thực hiện",
    "Chủ trì: Văn phòng Sở; phối hợp: Phòng CNTT-BCVT",
])
def test_roles_read_in_full_raise_no_doubt(plan, text):
    from sync.plan_import.roles import read_roles, role_doubts
    from sync.plan_import.units import UnitReader
    reader = UnitReader(plan.registry.units)
    lead, support, _ = read_roles(text, reader)
    assert role_doubts(text, reader, lead, support) == []


def test_deadlines_read_with_a_remark_are_review_lines(project, plan, tmp_path):
    """Finding 6: a Tiến độ the parser reads only in part ends in the review list, not silently in the draft."""
    source = _six_column_plan(
        tmp_path / "kh.docx",
        ["1", "Tuyên truyền", "Tin bài", "Hàng quý, trước ngày 20 tháng giữa quý", "Ban Biên tập thực hiện", ""],
        ["2", "Hội nghị", "Hội nghị", "Quý II/2025", "Văn phòng Sở chủ trì", ""])
    code, _, err = project.cli("plan", "import", str(source), "-o", str(tmp_path / "kh.yaml"))
    assert code == 0, err
    assert "nhiệm vụ 1: tiến độ 'Hàng quý, trước ngày 20 tháng giữa quý'" in err
    assert "nhiệm vụ 2: tiến độ" not in err


@pytest.mark.parametrize("nested", [False, True])
def test_merged_cells_are_read_once_and_a_nested_table_is_found(project, plan, tmp_path, nested):
    """Finding 9: a cell merged across columns gives its text to its first column only, never repeated into
    the others. Finding 8: the task table inside a one-cell layout table is found (issue 13: wherever it is)."""
    from .plan_shapes import write_merged_cells_plan
    out = tmp_path / "kh.yaml"
    source = write_merged_cells_plan(tmp_path / "kh.docx", nested=nested)
    code, _, err = project.cli("plan", "import", str(source), "-o", str(out))
    assert code == 0, err
    new = load_plan(out)
    assert [(t.stt, t.task, t.results, t.schedule) for t in new.tasks] == [
        (1, "Tuyên truyền CCHC", "Tin bài", "Quý I/2025"), (2, "Hội nghị", "", "Quý II/2025"),
        (3, "Báo cáo", "Báo cáo", "Tháng 3-4/2025")]
    assert (new.by_stt[3].assignment, new.by_stt[3].note) == ("Ban Biên tập thực hiện", "")
    assert [t.group for t in new.tasks] == ["I. NHIỆM VỤ CHUNG"] * 3
    assert [(t.lead, t.support) for t in new.tasks] == [(("VP",), ("CNTT",)), (("TTBCXB",), ()), (("BBT",), ())]


def test_phrasings_plan_reads_back_the_expected_roles(project, plan, tmp_path):
    """Finding 18: a generated shape checked against the roles its author meant, not against the import's own
    reading; what cannot be read is a review line naming the task and the unit."""
    from .plan_shapes import PHRASINGS, write_phrasings_plan
    out = tmp_path / "kh.yaml"
    code, _, err = project.cli("plan", "import", str(write_phrasings_plan(tmp_path / "kh.docx")), "-o", str(out))
    assert code == 0, err
    raw = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert [(t["lead"], t["support"]) for t in raw["tasks"]] == [(lead, support) for _, lead, support in PHRASINGS]
    doubts = [line for line in err.splitlines() if line.startswith("Cần xem lại: nhiệm vụ")]
    assert len(doubts) == 1 and "nhiệm vụ 7:" in doubts[0] and "(BBT)" in doubts[0], err


def test_the_drafts_own_comments_are_in_vietnamese(project, plan, tmp_path):
    """Finding 15: the Office reads the draft's head comments; they explain themselves in Vietnamese."""
    out = tmp_path / "kh.yaml"
    assert project.cli("plan", "import", str(write_sentence_plan(tmp_path / "kh.docx")), "-o", str(out))[0] == 0
    head = [line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    text = "\n".join(head)
    assert "Bản nháp" in text and "chủ trì" in text and "nhiệm vụ 3" in text and "KHTC" in text, text
    for english in ("Draft", "Check", "Proposed", "task(s)", "fill", "delete", "unit(s)"):
        assert english not in text, (english, text)


def test_a_smaller_task_like_table_dropped_is_a_review_line(project, plan, tmp_path):
    """Finding 10: of two task tables with different columns the smaller is left out, and the review says so."""
    doc = Document()
    doc.add_paragraph("Tuyên truyền cải cách hành chính năm 2025")
    for rows in ([["STT", "Nhiệm vụ", "Kết quả", "Tiến độ", "Phân công", "Ghi chú"],
                  ["1", "Tuyên truyền", "Tin bài", "Quý I/2025", "Văn phòng Sở thực hiện", ""],
                  ["2", "Hội nghị", "Hội nghị", "Quý II/2025", "Ban Biên tập thực hiện", ""]],
                 [["TT", "Nội dung", "Thời gian thực hiện", "Đơn vị thực hiện"],
                  ["1", "Việc khác", "Quý III/2025", "Văn phòng Sở"]]):
        table = doc.add_table(rows=len(rows), cols=len(rows[0]))
        for row, values in zip(table.rows, rows, strict=True):
            for cell, text in zip(row.cells, values, strict=True):
                cell.text = text
        doc.add_paragraph("")
    source = tmp_path / "kh.docx"
    doc.save(source)
    code, _, err = project.cli("plan", "import", str(source), "-o", str(tmp_path / "kh.yaml"))
    assert code == 0, err
    assert "bảng thứ 2" in err and "1 dòng" in err and "Việc khác" in err, err


def test_an_impossible_issue_date_is_named(project, plan, tmp_path):
    """Finding 17: "ngày 31 tháng 02 năm 2025" is reported as a date that does not exist, not as missing."""
    doc = Document()
    doc.add_paragraph("Số: 1/KH-STTTT")
    doc.add_paragraph("Khánh Hòa, ngày 31 tháng 02 năm 2025")
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph("Tuyên truyền cải cách hành chính năm 2025")
    table = doc.add_table(rows=2, cols=5)
    for row, values in zip(table.rows, (["STT", "Nhiệm vụ", "Tiến độ", "Phân công", "Ghi chú"],
                                        ["1", "Tuyên truyền", "Quý I/2025", "Văn phòng Sở thực hiện", ""]),
                          strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    source = tmp_path / "kh.docx"
    doc.save(source)
    code, _, err = project.cli("plan", "import", str(source), "-o", str(tmp_path / "kh.yaml"))
    assert code == 0, err
    assert "ngày 31 tháng 02 năm 2025" in err and "không có thật" in err and "không thấy ngày ban hành" not in err


def test_an_issuer_only_in_capitals_is_a_review_line(project, plan, tmp_path):
    """Finding 16: a letterhead in capitals with no normal-case spelling in the text: the proper-name capitals
    are restored from the registry's words where it can, and the review asks to check the rest."""
    doc = Document()
    for line in ("UBND TỈNH KHÁNH HÒA", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số: 3/KH-STTTT",
                 "Khánh Hòa, ngày 05 tháng 01 năm 2025", "KẾ HOẠCH", "Tuyên truyền cải cách hành chính năm 2025"):
        doc.add_paragraph(line)
    table = doc.add_table(rows=2, cols=5)
    for row, values in zip(table.rows, (["STT", "Nhiệm vụ", "Tiến độ", "Phân công", "Ghi chú"],
                                        ["1", "Tuyên truyền", "Quý I/2025", "Văn phòng Sở thực hiện", ""]),
                          strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    source = tmp_path / "kh.docx"
    doc.save(source)
    out = tmp_path / "kh.yaml"
    code, _, err = project.cli("plan", "import", str(source), "-o", str(out))
    assert code == 0, err
    assert load_plan(out).issuer == "Sở Thông tin và Truyền thông tỉnh Khánh Hòa"  # as the current plan writes it
    assert "cơ quan ban hành" not in err

    doc = Document()
    for line in ("UBND TỈNH KHÁNH HÒA", "SỞ NỘI VỤ", "Khánh Hòa, ngày 05 tháng 01 năm 2025", "KẾ HOẠCH",
                 "Tuyên truyền cải cách hành chính năm 2025"):
        doc.add_paragraph(line)
    table = doc.add_table(rows=2, cols=5)
    for row, values in zip(table.rows, (["STT", "Nhiệm vụ", "Tiến độ", "Phân công", "Ghi chú"],
                                        ["1", "Tuyên truyền", "Quý I/2025", "Văn phòng Sở thực hiện", ""]),
                          strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    doc.save(source)
    out.unlink()
    code, _, err = project.cli("plan", "import", str(source), "-o", str(out))
    assert code == 0, err
    assert "cơ quan ban hành" in err and "chữ in hoa" in err and "'issuer'" in err


def test_the_import_reads_every_header_the_sheet_knows_for_the_same_column():
    """Finding 19: one list of the plan's column names (schema) serves the sheet and the import; the import only
    adds words Word plans use. "Thời hạn" differs on purpose: in a Word plan it heads the Tiến độ phrase
    (schedule), in the sheet it is a renamed `Hạn hoàn thành` (a date, `deadline`, which the import has not)."""
    from sync.core.schema import HEADER_SYNONYMS, PLAN_COLUMNS
    from sync.plan_import.word import header_key
    for key in ("stt", "task", "results", "schedule", "assignment", "lead", "support", "note"):
        for words in (PLAN_COLUMNS[key], *HEADER_SYNONYMS[key]):
            assert header_key(words) == key, (words, key)
    assert header_key("Thời hạn") == "schedule" and "Thời hạn" in HEADER_SYNONYMS["deadline"]


def test_an_outside_body_the_importer_does_not_know_is_a_partner_or_a_review_line(project, plan, tmp_path):
    source = _six_column_plan(
        tmp_path / "kh.docx",
        ["1", "Tuyên truyền", "Tin bài", "Quý II/2025",
         "Ban Biên tập chủ trì, phối hợp Báo Khánh Hòa và Đài Phát thanh và Truyền hình Khánh Hòa", ""],
        ["2", "Hội nghị", "Hội nghị", "Quý III/2025", "Văn phòng Sở chủ trì, phối hợp Hội Nhà báo tỉnh", ""])
    out = tmp_path / "kh.yaml"
    code, _, err = project.cli("plan", "import", str(source), "-o", str(out))
    assert code == 0, err
    tasks = {t["stt"]: t for t in yaml.safe_load(out.read_text(encoding="utf-8"))["tasks"]}
    assert tasks[1]["partners"] == ["Báo Khánh Hòa", "Đài Phát thanh và Truyền hình Khánh Hòa"]
    assert (tasks[2]["lead"], "partners" in tasks[2]) == (["VP"], False)
    assert "nhiệm vụ 2: 'Hội Nhà báo tỉnh' có vẻ là cơ quan ngoài Sở" in err and "'partners'" in err
    assert "nhiệm vụ 1: 'Báo" not in err  # read as partners: nothing to review

import pytest

from sync.core.errors import UserError
from sync.core.plan import load_plan
from sync.core.schema import fold


def test_seventeen_tasks_every_column(plan):
    assert [t.stt for t in plan.tasks] == list(range(1, 18))
    for task in plan.tasks:
        assert task.task and task.results and task.schedule and task.assignment, task.stt
        assert task.lead or task.support


def test_rows_split_by_page_breaks_are_merged(plan):
    t4 = plan.by_stt[4]
    assert t4.task.endswith("PAR-Index, SIPAS, PCI, PAPI, DTI năm 2023 và bàn giải pháp tiếp tục cải thiện "
                            "các Chỉ số đánh giá tỉnh Khánh Hòa năm 2024")
    assert t4.schedule == "Sau khi các Chỉ số được công bố (dự kiến trong quý II/2024)"
    assert "Viễn thông chủ trì, phối hợp" in t4.assignment
    assert plan.by_stt[10].assignment.endswith("Ban Biên tập cập nhật văn bản tuyên truyền trên Trang TTĐT của Sở.")
    assert "điện tử trong thực hiện TTHC" in plan.by_stt[8].task
    assert plan.by_stt[15].task.endswith("Bộ chỉ số đổi mới sáng tạo cấp địa phương (PII)")


def test_roles_follow_the_assignment_text(plan):
    assert plan.by_stt[1].lead == ("VP",) and len(plan.by_stt[1].support) == 5
    assert plan.by_stt[6].units() == [("TTBCXB", "lead")]
    assert set(plan.by_stt[13].lead) == {"CNTT", "TTDV"}
    assert plan.by_stt[14].units() == [("TTBCXB", "support")]
    assert len(plan.assignments()) == 76


@pytest.mark.parametrize("spelling,code", [
    ("Văn phòng", "VP"), ("VP Sở", "VP"), ("Bộ phận Một cửa - Văn phòng Sở", "VP"),
    ("Phòng CNTT-BCVT", "CNTT"), ("Phòng Công nghệ thông tin - Bru chính – Viễn thông", "CNTT"),
    ("Phòng Công nghệ thông tin – Bureau chính – Viễn thông", "CNTT"),
    ("phong cong nghe thong tin - buu chinh - vien thong", "CNTT"),
    ("Phòng TT-BC-XB", "TTBCXB"), ("Phòng Thông tin – Báo chí – Xuất bản", "TTBCXB"),
    ("Trung tâm Công nghệ và Dịch vụ hành chính công trực tuyến", "TTDV"),
    ("Trung tâm Cổng TTĐT", "CONG"), ("Trung tâm Công TTĐT", "CONG"), ("TRUNG TÂM CỔNG THÔNG TIN ĐIỆN TỬ TỈNH", "CONG"),
    ("Ban Biên tập", "BBT"), ("ban bien tap trang ttdt cua so", "BBT"),
])
def test_unit_spellings(plan, spelling, code):
    assert plan.registry.match(spelling).code == code


@pytest.mark.parametrize("partner", ["Sở Nội vụ", "Công an tỉnh", "UBND cấp huyện", "Sở Kế hoạch và Đầu tư", ""])
def test_partners_are_not_units(plan, partner):
    assert plan.registry.match(partner) is None


def test_every_assigned_unit_is_named_in_the_assignment(plan):
    """The role table was read off the text: each lead is named there (or 'các phòng, đơn vị')."""
    for task in plan.tasks:
        text = fold(task.assignment)
        for code in task.lead:
            unit = plan.registry.by_code(code)
            spellings = [fold(s) for s in (unit.name, *unit.aliases)] + ["cac phong, don vi"]
            assert any(s in text for s in spellings) or "thong tin-bao chi-xuat ban" in text, (task.stt, code)


def test_bad_plan_file_names_the_key(tmp_path):
    bad = tmp_path / "plan.yaml"
    bad.write_text("title: x\nissued: 2024-02-28\nyear: 2024\nunits: [{code: VP, name: V}]\n"
                   "tasks: [{stt: 1, task: t, lead: [XX]}]\n", encoding="utf-8")
    with pytest.raises(UserError, match="XX"):
        load_plan(bad)
    with pytest.raises(UserError, match="Không tìm thấy"):
        load_plan(tmp_path / "missing.yaml")

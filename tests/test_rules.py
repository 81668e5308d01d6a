"""Validation and flags: the pure core, driven by plain entries."""
import datetime as dt

import pytest

from sync.core.deadlines import day_over
from sync.core.flags import Rules
from sync.core.schema import Status
from sync.core.summary import summarize
from sync.core.tables import Entry
from sync.core.tasks import evaluate
from sync.core.validation import check_all

D = dt.date
AS_OF = D(2024, 9, 20)


def entry(row=2, stt=3, unit="Văn phòng Sở", **kw):
    return Entry(row=row, stt=stt, unit=unit, **{"results": {1: "", 2: "", 3: "", 4: ""}, **kw})


def check(plan, *entries, as_of=AS_OF, overrides=None):
    return check_all(list(entries), plan, overrides or {}, as_of)


def messages(checked):
    return [(i.column, i.message) for c in checked for i in c.issues]


def flags(plan, *entries, as_of=AS_OF, overrides=None):
    rules = Rules(as_of, 2024, plan.issued, 14, 7)
    return [[f.text for f in r.flags] for r in evaluate(check(plan, *entries, as_of=as_of, overrides=overrides), rules)]


def full(**kw):
    base = dict(results={1: "a", 2: "b", 3: "c", 4: ""})
    base.update(kw)
    return base


# --- validation -----------------------------------------------------------------------------------------

def test_clean_row_has_no_issue(plan):
    assert messages(check(plan, entry(status="Hoàn thành", done_date="20/03/2024", evidence="Số 12/KH-STTTT",
                                      quantity="3"))) == []


@pytest.mark.parametrize("status,suggestion", [("xong", "Hoàn thành"), ("Hoan thanh roi", "Hoàn thành"),
                                               ("dang lam", "Đang thực hiện"),
                                               ("Chưa thực hiẹn xong", "Chưa thực hiện")])
def test_unknown_status_suggests(plan, status, suggestion):
    [(col, msg)] = messages(check(plan, entry(status=status)))
    assert col == "status" and f"'{suggestion}'" in msg and status in msg


def test_a_value_typed_over_two_lines_is_quoted_whole_on_one(plan):
    """A message quotes what the unit typed: its second line too, or a valid first line looks refused."""
    found = dict(messages(check(plan, entry(status="Hoàn thành\n(chờ duyệt)", quantity="12\n(tin, bài)"))))
    assert "'Hoàn thành (chờ duyệt)'" in found["status"] and "'12 (tin, bài)'" in found["quantity"]


@pytest.mark.parametrize("status", ["hoàn thành", "HOAN THANH", "Đang  thực hiện", "", "khong thuc hien"])
def test_status_matches_accent_and_case_insensitively(plan, status):
    assert [c for c, _ in messages(check(plan, entry(status=status, note="x")))] in ([], ["done_date", "evidence"])


def test_done_needs_date_and_evidence(plan):
    cols = [c for c, _ in messages(check(plan, entry(status="Hoàn thành")))]
    assert cols == ["done_date", "evidence"]


@pytest.mark.parametrize("value,needle", [("31/02/2024", "có thật"), ("hôm qua", "dd/mm/yyyy"),
                                          ("01/10/2024", "tương lai")])
def test_bad_completion_dates(plan, value, needle):
    [(col, msg)] = [m for m in messages(check(plan, entry(status="Hoàn thành", done_date=value, evidence="Số 1/KH")))]
    assert col == "done_date" and needle in msg


def test_date_without_done_status(plan):
    [(col, msg)] = messages(check(plan, entry(status="Đang thực hiện", done_date="01/03/2024")))
    assert col == "status" and "Hoàn thành" in msg


@pytest.mark.parametrize("value,ok", [("12", True), (12, True), (12.0, True), ("1.000", True), (0, True),
                                      ("-3", False), (-1, False), (2.5, False), ("5 tin", False), ("abc", False),
                                      ("1.000.000", True), (1e308, False), ("99999999999", False)])
def test_quantity_whole_non_negative(plan, value, ok):
    issues = messages(check(plan, entry(quantity=value)))
    assert (issues == []) == ok
    if not ok:
        assert issues[0][0] == "quantity"


@pytest.mark.parametrize("value,ok", [
    ("https://stttt.khanhhoa.gov.vn/tin/1", True), ("Số 123/KH-STTTT", True), ("Công văn 45/STTTT-VP", True),
    ("htps://stttt.khanhhoa.gov.vn", False), ("http//abc.vn", False), ("https://localhost", False),
    ("www.khanhhoa.gov.vn", False), ("Số 5/BC; https://a.vn/x", True), ("https:// a.vn", False),
])
def test_links(plan, value, ok):
    issues = messages(check(plan, entry(evidence=value)))
    assert (issues == []) == ok, issues


def test_unknown_unit_and_row_not_in_plan(plan):
    issues = messages(check(plan, entry(unit="Phòng Tài chính"), entry(row=3, stt=99), entry(row=4, stt="ba"),
                            entry(row=5, stt=6, unit="Văn phòng Sở")))
    assert [c for c, _ in issues] == ["unit", "stt", "stt", "unit"]
    assert "không được phân công" in issues[3][1]


def test_unknown_unit_suggests_closest(plan):
    [(_, msg)] = messages(check(plan, entry(unit="Phong Thong tin Bao chi")))
    assert "Phòng Thông tin - Báo chí - Xuất bản" in msg


def test_duplicate_rows(plan):
    checked = check(plan, entry(row=2), entry(row=9, unit="VP Sở"))
    assert checked[0].issues == [] and "dòng 2" in checked[1].issues[0].message
    assert not checked[1].counted


@pytest.mark.parametrize("text,bad", [
    ("=1+1", True), ("+84 905", True), ("@SUM(A1)", True), ("-2+3", True), ("\t=x", True), ("= xem", True),
    ("-A1", True), ("+B2*3", True), ("-A1 + B2", True), ("+SUM(A1:A3)", True), ("-HYPERLINK(\"x\")", True),
    ("+Sheet1!A1", True), ("-.5", True), ("@A1", True),
    # bullets, as Vietnamese offices write lists (DESIGN.md §10): text, never flagged
    ("- Đăng 5 tin", False), ("Đăng 5 tin", False), ("+ Tổ chức 02 hội nghị", False), ("-Đăng 05 tin", False),
    ("+Tổ chức 02 hội nghị", False), ("• Đăng 05 tin", False), ("•Đăng 05 tin", False), ("* Ghi chú", False),
    ("*Ghi chú", False), ("- 05 tin", False), ("+ 02 hội nghị", False), ("-Quý III: 05 tin", False),
    ("@Văn phòng", False), ("-A1 và B2", False), ("-VP phối hợp", False)])
def test_formula_injection(plan, text, bad):
    issues = messages(check(plan, entry(results={1: text, 2: "", 3: "", 4: ""})))
    assert bool(issues) == bad
    if bad:
        assert issues[0][0] == "q1"


@pytest.mark.parametrize("text", ["=1+1", "+84 905", "-2+3", "@SUM(A1)", "-A1"])
def test_both_fixes_offered_for_a_formula_clear_it(plan, text):
    """The message offers the apostrophe (the cell stored as text) or dropping the sign: either clears it."""
    [(_, message)] = messages(check(plan, entry(results={1: text, 2: "", 3: "", 4: ""})))
    assert "dấu nháy đơn (')" in message and f"bỏ dấu '{text[0]}' ở đầu" in message
    as_text = entry(results={1: text, 2: "", 3: "", 4: ""}, as_text=frozenset({"q1"}))
    dropped = entry(results={1: text[1:], 2: "", 3: "", 4: ""})
    assert messages(check(plan, as_text)) == [] and messages(check(plan, dropped)) == []


def test_cancelled_needs_a_reason(plan):
    assert [c for c, _ in messages(check(plan, entry(status="Không thực hiện")))] == ["note"]


def test_bad_deadline_override(plan):
    [(col, _)] = messages(check(plan, entry(deadline="sớm nhất có thể")))
    assert col == "deadline"


# --- flags ------------------------------------------------------------------------------------------------

def test_overdue_days(plan):
    assert flags(plan, entry(stt=3, status="Đang thực hiện", **full())) == [["Quá hạn 173 ngày (hạn 31/03/2024)"]]


def test_done_late(plan):
    assert flags(plan, entry(stt=3, status="Hoàn thành", done_date="05/04/2024", evidence="Số 1/KH", **full())) \
        == [["Hoàn thành trễ 5 ngày (hạn 31/03/2024)"]]


def test_done_on_time_has_no_flag(plan):
    assert flags(plan, entry(stt=3, status="Hoàn thành", done_date="10/03/2024", evidence="Số 1/KH",
                             results={1: "x", 2: "", 3: "", 4: ""})) == [[]]


def test_a_completion_with_evidence_is_the_result_of_its_quarter(plan):
    """31/03 lies in Q2's reporting window (15/03–14/06): the dated completion with its evidence is Q2's result
    (DESIGN.md §10), and nothing is owed after it; without evidence Q2's result is still owed."""
    done = dict(stt=3, status="Hoàn thành", done_date="31/03/2024", results={1: "x", 2: "", 3: "", 4: ""})
    assert flags(plan, entry(**done, evidence="Số 1/KH")) == [[]]
    assert flags(plan, entry(**done)) == [["Thiếu kết quả Quý II (hạn 14/06/2024)"]]


def test_a_half_yearly_task_owes_q2_and_q4_only(plan):
    row = entry(stt=2, unit="Văn phòng Sở")
    half = {2: "Định kỳ 6 tháng"}
    assert flags(plan, row, as_of=D(2024, 3, 20), overrides=half) == [[]]
    assert flags(plan, row, as_of=D(2024, 12, 20), overrides=half) == [["Thiếu kết quả Quý II (hạn 14/06/2024)",
                                                                         "Thiếu kết quả Quý IV (hạn 14/12/2024)"]]


def test_due_soon_window(plan):
    assert flags(plan, entry(stt=3, **full()), as_of=D(2024, 3, 24)) == [["Sắp đến hạn (còn 7 ngày, hạn 31/03/2024)"]]
    assert flags(plan, entry(stt=3, **full()), as_of=D(2024, 3, 23)) == [[]]
    assert flags(plan, entry(stt=3, **full()), as_of=D(2024, 3, 31)) == [["Sắp đến hạn (còn 0 ngày, hạn 31/03/2024)"]]
    assert flags(plan, entry(stt=3, **full()), as_of=D(2024, 4, 1)) == [["Quá hạn 1 ngày (hạn 31/03/2024)"]]


def test_quarterly_result_due_after_the_cutoff(plan):
    """A result due on 14/03 is not missing during 14/03 itself, only from the day after."""
    row = entry(stt=2, unit="Văn phòng Sở")
    assert flags(plan, row, as_of=D(2024, 3, 13)) == [[]]
    assert flags(plan, row, as_of=D(2024, 3, 14)) == [[]]  # its own due day
    assert flags(plan, row, as_of=D(2024, 3, 15)) == [["Thiếu kết quả Quý I (hạn 14/03/2024)"]]
    assert flags(plan, row, as_of=D(2024, 9, 20)) == [["Thiếu kết quả Quý I (hạn 14/03/2024)",
                                                       "Thiếu kết quả Quý II (hạn 14/06/2024)",
                                                       "Thiếu kết quả Quý III (hạn 14/09/2024)"]]


def test_due_day_is_over_the_same_way_for_overdue_and_missing(plan):
    """One predicate: on the due day neither flag, on the day after both (task 3 is due 31/03; a result due by
    "ngày 31 tháng cuối quý" falls on the same day)."""
    row = entry(stt=3, status="Đang thực hiện", results={1: "", 2: "", 3: "", 4: ""})
    same_day = {3: "Hàng quý, trước ngày 31 tháng cuối quý"}
    assert flags(plan, row, as_of=D(2024, 3, 31)) == [["Sắp đến hạn (còn 0 ngày, hạn 31/03/2024)",
                                                       "Thiếu kết quả Quý I (hạn 14/03/2024)"]]
    assert flags(plan, row, as_of=D(2024, 4, 1)) == [["Quá hạn 1 ngày (hạn 31/03/2024)",
                                                      "Thiếu kết quả Quý I (hạn 14/03/2024)"]]
    recurring = entry(stt=3, status="Đang thực hiện", results={1: "", 2: "", 3: "", 4: ""})
    assert flags(plan, recurring, as_of=D(2024, 3, 31), overrides=same_day) == [[]]
    assert flags(plan, recurring, as_of=D(2024, 4, 1), overrides=same_day) == [["Thiếu kết quả Quý I (hạn 31/03/2024)"]]
    assert day_over(D(2024, 3, 31), D(2024, 4, 1)) and not day_over(D(2024, 3, 31), D(2024, 3, 31))


def test_done_task_owes_no_later_quarter(plan):
    row = entry(stt=3, status="Hoàn thành", done_date="10/03/2024")
    assert flags(plan, row) == [["Thiếu kết quả Quý I (hạn 14/03/2024)"]]  # no evidence: Q1's result is owed
    assert flags(plan, entry(stt=3, status="Hoàn thành", done_date="10/03/2024", evidence="Số 1/KH")) == [[]]


def test_event_without_date_and_office_override(plan):
    assert flags(plan, entry(stt=6, unit="Phòng TT-BC-XB", **full())) == [["Chưa xác định hạn"]]
    assert flags(plan, entry(stt=6, unit="Phòng TT-BC-XB", deadline="15/09/2024", **full())) == [
        ["Quá hạn 5 ngày (hạn 15/09/2024)"]]
    assert flags(plan, entry(stt=6, unit="Phòng TT-BC-XB", **full()), overrides={6: "Quý III/2024"}) == [[]]
    assert flags(plan, entry(stt=6, unit="Phòng TT-BC-XB", **full()), overrides={6: "Quý III/2024"},
                 as_of=D(2024, 9, 25)) == [["Sắp đến hạn (còn 5 ngày, hạn 30/09/2024)"]]
    assert flags(plan, entry(stt=6, unit="Phòng TT-BC-XB", **full()), overrides={6: "30/09/2024"}) == [[]]


def test_cancelled_rows_get_no_flags(plan):
    assert flags(plan, entry(stt=3, status="Không thực hiện", note="Không có đề nghị")) == [[]]


def test_summary_counts(plan):
    rules = Rules(AS_OF, 2024, plan.issued, 14, 7)
    rows = evaluate(check(plan, entry(row=2, stt=3, status="Hoàn thành", done_date="01/03/2024", evidence="Số 1"),
                          entry(row=3, stt=3, unit="Ban Biên tập", status="Đang thực hiện", **full()),
                          entry(row=4, stt=1, unit="X"), entry(row=5, stt=2, status="?")), rules)
    k = summarize(rows, plan, AS_OF).kpis
    assert (k.rows, k.done, k.in_progress, k.not_started, k.unknown_status) == (4, 1, 1, 0, 1)
    # the lead (Văn phòng Sở) completed task 3 on time: Ban Biên tập's supporting row is closed with it
    assert (k.overdue, k.errors, k.on_time_rate) == (0, 2, 100.0)
    assert (k.tasks, k.tasks_done, k.tasks_in_progress, k.tasks_not_started, k.tasks_late) == (17, 1, 0, 16, 0)
    rows[0].checked.status = Status.IN_PROGRESS  # the lead still at work: the task is late, both rows overdue
    k = summarize(evaluate([r.checked for r in rows], rules), plan, AS_OF).kpis
    assert (k.overdue, k.tasks_done, k.tasks_in_progress, k.tasks_late) == (2, 0, 1, 1)


def test_quarterly_result_due_by_the_day_the_plan_sets(plan):
    """"Hàng quý, trước ngày 10 tháng cuối quý": each quarter's result is missing from the 11th, not the 15th."""
    row = entry(stt=2, unit="Văn phòng Sở")
    by_tenth = {2: "Hàng quý, trước ngày 10 tháng cuối quý"}
    assert flags(plan, row, as_of=D(2024, 3, 10), overrides=by_tenth) == [[]]
    assert flags(plan, row, as_of=D(2024, 3, 11), overrides=by_tenth) == [["Thiếu kết quả Quý I (hạn 10/03/2024)"]]
    assert flags(plan, row, as_of=D(2024, 3, 11)) == [[]]  # the plan's own "Thường xuyên": the 14th
    assert flags(plan, row, as_of=D(2024, 6, 11), overrides=by_tenth) == [["Thiếu kết quả Quý I (hạn 10/03/2024)",
                                                                           "Thiếu kết quả Quý II (hạn 10/06/2024)"]]


@pytest.mark.parametrize("phrase", ["Hàng quý, trước ngày 10 tháng cuối quý", "Hằng tháng, trước ngày 25",
                                    "Thường xuyên", "Quý II-III/2024", "Tháng 12/2024 - tháng 01/2025",
                                    "Hàng quý, trước ngày 20 tháng đầu quý sau", "Hằng tháng, trước ngày 5 tháng sau",
                                    "Quý IV/2024 - Quý I/2025", "Định kỳ 6 tháng", "01 bài/tháng"])
def test_plan_tab_deadline_reads_back_as_the_same_schedule(phrase):
    from sync.core.deadlines import parse
    from sync.sheet.layout import describe_schedule
    schedule = parse(phrase, 2024)
    again = parse(describe_schedule(schedule), 2024)
    assert (again.kind, again.due, again.every, again.day, again.next_period) == (
        schedule.kind, schedule.due, schedule.every, schedule.day, schedule.next_period)


# --- contradictions between the status and what else was typed ---------------------------------------------

def test_not_started_with_results_or_completion_date(plan):
    with_results = messages(check(plan, entry(status="Chưa thực hiện", results={1: "Đã đăng 3 tin", 2: "",
                                                                               3: "Hội nghị", 4: ""})))
    assert [c for c, _ in with_results] == ["status"]
    assert "Chưa thực hiện" in with_results[0][1] and "Quý I, Quý III" in with_results[0][1]
    with_date = messages(check(plan, entry(status="Chưa thực hiện", done_date="01/03/2024")))
    assert [c for c, _ in with_date] == ["status"] and "Ngày hoàn thành" in with_date[0][1]


def test_cancelled_with_results(plan):
    found = messages(check(plan, entry(status="Không thực hiện", note="Không còn kinh phí",
                                       results={1: "", 2: "Đã in tờ rơi", 3: "", 4: ""})))
    assert [c for c, _ in found] == ["status"] and "Không thực hiện" in found[0][1] and "Quý II" in found[0][1]


def test_cancelled_with_completion_date(plan):
    found = messages(check(plan, entry(status="Không thực hiện", note="Không còn kinh phí", done_date="01/03/2024")))
    assert [c for c, _ in found] == ["status"]
    assert found[0][1] == ("Có Ngày hoàn thành 01/03/2024 nhưng Tình trạng là 'Không thực hiện'; chọn 'Hoàn thành' "
                           "nếu đã xong, hoặc xóa Ngày hoàn thành.")
    assert messages(check(plan, entry(status="Không thực hiện", note="Không còn kinh phí"))) == []


def test_status_agreeing_with_results_passes(plan):
    for status in ("Đang thực hiện", "Chưa thực hiện", "Không thực hiện"):
        results = {1: "x", 2: "", 3: "", 4: ""} if status == "Đang thực hiện" else {1: "", 2: "", 3: "", 4: ""}
        assert messages(check(plan, entry(status=status, note="lý do", results=results))) == []

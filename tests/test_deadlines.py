import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core import deadlines
from sync.core.deadlines import DateError, parse, parse_date, result_period
from sync.entry.cli import main

from .strategies import examples

D = dt.date

SEED_PHRASES = [
    ("Tháng 02/2024", "once", D(2024, 2, 29)),
    ("Thường xuyên", "recurring", None),
    ("Quý I/2024", "once", D(2024, 3, 31)),
    ("Sau khi các Chỉ số được công bố (dự kiến trong quý II/2024)", "event", D(2024, 6, 30)),
    ("Trong năm 2024", "once", D(2024, 12, 31)),
    ("Theo tiến độ Kế hoạch", "event", None),
    ("Thường xuyên cập nhật theo quy định, hướng dẫn của Trung ương", "recurring", None),
    ("Trong năm 2024 (theo tiến độ Đề án, Kế hoạch)", "once", D(2024, 12, 31)),
    ("Theo tiến độ của UBND tỉnh triển khai Đề án", "event", None),
    ("Thường xuyên trong năm 2024", "recurring", None),
    ("Tổ chức triển khai theo tiến độ Đề án", "event", None),
]

VARIANTS = [
    ("quý 2", "once", D(2024, 6, 30)),
    ("Quý II/2024", "once", D(2024, 6, 30)),
    ("quy iii nam 2024", "once", D(2024, 9, 30)),
    ("QUÝ IV NĂM 2024", "once", D(2024, 12, 31)),
    ("Quý I và II/2024", "once", D(2024, 6, 30)),
    ("Tháng 3/2024", "once", D(2024, 3, 31)),
    ("tháng 3 năm 2024", "once", D(2024, 3, 31)),
    ("Thang 12", "once", D(2024, 12, 31)),
    ("trước ngày 15/6/2024", "once", D(2024, 6, 15)),
    ("truoc ngay 15/6/2024", "once", D(2024, 6, 15)),
    ("Chậm nhất ngày 05/02", "once", D(2024, 2, 5)),
    ("ngày 15 tháng 6 năm 2024", "once", D(2024, 6, 15)),
    ("6 tháng đầu năm", "once", D(2024, 6, 30)),
    ("6 thang cuoi nam 2024", "once", D(2024, 12, 31)),
    ("9 tháng đầu năm", "once", D(2024, 9, 30)),
    ("Năm 2025", "once", D(2025, 12, 31)),
    ("hằng tháng", "recurring", None),
    ("hàng tháng", "recurring", None),
    ("định kỳ hằng quý", "recurring", None),
    ("dinh ky hang quy", "recurring", None),
    ("Hằng năm", "recurring", None),
    ("Khi có yêu cầu", "event", None),
    ("Theo đề nghị của Sở Nội vụ", "event", None),
    # DESIGN.md §10: half-yearly, a monthly output, an event
    ("Định kỳ 6 tháng", "recurring", None),
    ("6 tháng một lần", "recurring", None),
    ("01 bài/tháng", "recurring", None),
    ("Đột xuất", "event", None),
]

# How plans other than 2024's write Tiến độ (issue 13): ranges, lists, the year end crossed, bodies' own plans.
WRITTEN = [
    ("Tháng 3-4/2024", "once", D(2024, 4, 30)),
    ("Tháng 3, 4/2024", "once", D(2024, 4, 30)),
    ("Tháng 11-12/2024", "once", D(2024, 12, 31)),
    ("Từ tháng 4 đến tháng 6/2024", "once", D(2024, 6, 30)),
    ("tháng 3, 4 và 5 năm 2024", "once", D(2024, 5, 31)),
    ("Tháng 12/2024 - tháng 01/2025", "once", D(2025, 1, 31)),
    ("Tháng 12 – tháng 1/2025", "once", D(2025, 1, 31)),
    ("Quý II-III/2024", "once", D(2024, 9, 30)),
    ("Quý II – Quý III/2024", "once", D(2024, 9, 30)),
    ("Cuối năm 2024", "once", D(2024, 12, 31)),
    ("Cuối năm", "once", D(2024, 12, 31)),
    ("9 tháng đầu năm 2024", "once", D(2024, 9, 30)),
    ("Hàng quý, trước ngày 10 tháng cuối quý", "recurring", None),
    ("Theo Kế hoạch của UBND tỉnh", "event", None),
    ("Theo văn bản hướng dẫn của Bộ Nội vụ", "event", None),
    ("Theo quy định", "unknown", None),  # not "theo quý": no period is named
]


@pytest.mark.parametrize("phrase,kind,due", SEED_PHRASES + VARIANTS + WRITTEN)
def test_phrases(phrase, kind, due):
    schedule = parse(phrase, 2024)
    assert (schedule.kind, schedule.due) == (kind, due)


def test_recurring_period_and_runs_all_year():
    assert parse("hằng tháng", 2024).every == "month"
    assert parse("Định kỳ hằng quý", 2024).every == "quarter"
    assert parse("Thường xuyên trong năm 2025", 2024).until == D(2025, 12, 31)


def test_expected_event_is_marked_expected():
    schedule = parse("Sau khi các Chỉ số được công bố (dự kiến trong quý II/2024)", 2024)
    assert schedule.expected and schedule.due == D(2024, 6, 30)


@pytest.mark.parametrize("phrase", ["", "   ", "abc xyz", "31/02/2024", "ngày 30/2", "???", "Quý 7/2024", None, 42])
def test_unknown_never_raises(phrase):
    schedule = parse(phrase, 2024)
    assert schedule.kind == "unknown" and schedule.due is None and schedule.note


def test_impossible_date_says_why():
    assert "không có thật" in parse("31/02/2024", 2024).note


def test_year_comes_from_the_phrase_before_the_default():
    assert parse("Quý I/2025", 2024).due == D(2025, 3, 31)
    assert parse("Quý I", 2023).due == D(2023, 3, 31)


@pytest.mark.parametrize("value,expected", [
    ("05/03/2024", D(2024, 3, 5)), ("5/3/2024", D(2024, 3, 5)), ("05-03-2024", D(2024, 3, 5)),
    ("05.03.2024", D(2024, 3, 5)), ("2024-03-05", D(2024, 3, 5)), (dt.datetime(2024, 3, 5, 9, 30), D(2024, 3, 5)),
    (D(2024, 3, 5), D(2024, 3, 5)), (45356, D(2024, 3, 5)), ("", None), (None, None),
    ("ngày 5 tháng 3 năm 2024", D(2024, 3, 5)),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/2024", "30/02/2024", "hôm qua", "5/3", "12", 3.5, "2024-13-01"])
def test_parse_date_rejects(value):
    with pytest.raises(DateError):
        parse_date(value)


def test_reporting_periods_follow_nd_09_2019():
    assert result_period(2024, 1) == (D(2023, 12, 15), D(2024, 3, 14))
    assert result_period(2024, 2) == (D(2024, 3, 15), D(2024, 6, 14))
    assert result_period(2024, 4) == (D(2024, 9, 15), D(2024, 12, 14))
    assert result_period(2024, 1, cutoff_day=20) == (D(2023, 12, 21), D(2024, 3, 20))


def test_cli_prints_json(capsys):
    assert main(["deadline", "Quý I/2024"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "once" and out["due"] == "2024-03-31"
    assert main(["deadline", "hằng tháng", "--year", "2025"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "recurring" and out["due"] is None and out["until"] == "2025-12-31"
    assert main(["deadline", "không rõ"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "unknown"


@pytest.mark.parametrize("phrase,start", [
    ("Tháng 3-4/2024", D(2024, 3, 1)), ("Tháng 12/2024 - tháng 01/2025", D(2024, 12, 1)),
    ("Quý II-III/2024", D(2024, 4, 1)), ("Tháng 4/2024", None), ("Quý II/2024", None)])
def test_ranges_say_where_they_start(phrase, start):
    assert parse(phrase, 2024).start == start


def test_recurring_keeps_the_day_it_is_due():
    quarterly = parse("Hàng quý, trước ngày 10 tháng cuối quý", 2024)
    assert (quarterly.every, quarterly.day) == ("quarter", 10)
    assert parse("Hằng tháng, trước ngày 25", 2024).day == 25
    assert parse("Thường xuyên", 2024).day is None
    # a full date inside a recurring phrase is not the day of the period
    assert parse("Thường xuyên (theo Nghị định 59/2022/NĐ-CP ngày 05/9/2022)", 2024).day is None


def test_a_month_range_is_not_read_as_a_day_and_month():
    assert parse("Tháng 3-4/2024", 2024).due != D(2024, 4, 3)


KINDS = {"once", "recurring", "event", "unknown"}


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(st.text(),
                 st.text(alphabet=st.sampled_from(list("0123456789/-–,. ()thángquýnămiIvVxXđếntừngàyhàngcuốiđầu")),
                         max_size=40),
                 st.lists(st.sampled_from(["Tháng", "tháng", "Quý", "quý", "II", "III", "IV", "12", "3", "-", "–",
                                           "/", "2024", "2025", "đến", "từ", "ngày", "31", "Hàng quý", "trước",
                                           "cuối", "năm", "9", "đầu", "Theo", "Kế hoạch", "(", ")", ",", "và"]),
                          max_size=12).map(" ".join)),
       st.one_of(st.none(), st.integers(1990, 2100)))
def test_parse_never_raises_and_always_gives_a_kind(phrase, year):
    schedule = parse(phrase, year)
    assert schedule.kind in KINDS
    assert schedule.kind != "once" or schedule.due is not None
    assert schedule.kind != "unknown" or schedule.note


def test_cli_year_defaults_to_the_plans_not_the_calendars(project):
    code, out, _ = project.cli("deadline", "Quý I")
    assert code == 0 and json.loads(out)["due"] == "2024-03-31"  # the 2024 plan, whatever today is
    code, out, _ = project.cli("deadline", "Quý I", "--year", "2025")
    assert code == 0 and json.loads(out)["due"] == "2025-03-31"


def test_cli_year_has_help(capsys):
    with pytest.raises(SystemExit):
        main(["deadline", "--help"])
    assert "năm của kế hoạch" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("year", ["99999", "-5", "0", "1899", "2101"])
def test_cli_year_out_of_range_is_exit_2_in_vietnamese(project, year):
    """Finding 7: `--year` outside 2000–2100 is a usage error (exit 2), never a crash or the calendar's year."""
    code, out, err = project.cli("deadline", "Quý I", "--year", year)
    assert code == 2 and not out, (code, out, err)
    assert "--year" in err and "2000" in err and "2100" in err


@pytest.mark.parametrize("phrase,due,start", [
    ("Quý IV/2024 - Quý I/2025", D(2025, 3, 31), D(2024, 10, 1)),     # a quarter range across the year end
    ("Quý IV/2024 đến Quý I/2025", D(2025, 3, 31), D(2024, 10, 1)),
    ("Quý IV - Quý I/2025", D(2025, 3, 31), D(2024, 10, 1)),
    ("Đợt 1: tháng 3; đợt 2: tháng 9/2024", D(2024, 9, 30), D(2024, 3, 1)),  # the latest date, from the earliest
    ("Đợt 1: quý I; đợt 2: quý III/2024", D(2024, 9, 30), D(2024, 1, 1)),
    ("Tháng 3/2024; tháng 9/2024", D(2024, 9, 30), D(2024, 3, 1)),
    ("Tháng 3-4/2024; tháng 9/2024", D(2024, 9, 30), D(2024, 3, 1)),
])
def test_ranges_and_lists_are_due_at_their_latest_date(phrase, due, start):
    schedule = parse(phrase, 2024)
    assert (schedule.kind, schedule.due, schedule.start) == ("once", due, start)


def test_recurring_day_in_the_next_quarters_first_month():
    """"trước ngày 20 tháng đầu quý sau": the 20th of the next quarter's first month, not of this quarter's last."""
    from sync.core.flags import result_deadline
    schedule = parse("Hàng quý, trước ngày 20 tháng đầu quý sau", 2024)
    assert (schedule.kind, schedule.every, schedule.day, schedule.next_period) == ("recurring", "quarter", 20, True)

    class Row:  # what result_deadline reads
        pass
    row, rules = Row(), Row()
    row.schedule, rules.year, rules.cutoff_day = schedule, 2024, 14
    assert [result_deadline(row, q, rules) for q in (1, 2, 3, 4)] == [
        D(2024, 4, 20), D(2024, 7, 20), D(2024, 10, 20), D(2025, 1, 20)]
    assert [deadlines.quarter_result_due(schedule, 2024, q) for q in (1, 2, 3, 4)] == [
        D(2024, 4, 20), D(2024, 7, 20), D(2024, 10, 20), D(2025, 1, 20)]
    last = parse("Hàng quý, trước ngày 10 tháng cuối quý", 2024)
    row.schedule = last
    assert not last.next_period and result_deadline(row, 1, rules) == D(2024, 3, 10)


def test_recurring_day_31_is_the_months_last_day_not_dropped():
    from sync.core.flags import result_deadline
    schedule = parse("Hàng quý, trước ngày 31 tháng cuối quý", 2024)
    assert schedule.day == 31

    class Row:
        pass
    row, rules = Row(), Row()
    row.schedule, rules.year, rules.cutoff_day = schedule, 2024, 14
    assert [result_deadline(row, q, rules) for q in (1, 2, 3, 4)] == [
        D(2024, 3, 31), D(2024, 6, 30), D(2024, 9, 30), D(2024, 12, 31)]


def test_a_past_date_reads_a_result_as_due_on_the_rows_own_day(plan):
    """sync.core.history: a result typed for a quarter counts on a past date when its due day (the task's own, as the
    flags use) is on or before that date; here the 10th, not the ND 09/2019 cut-off (the 14th)."""
    from sync.core.history import entries_as_of
    from sync.core.tables import Entry
    typed = Entry(row=2, stt=2, unit="Văn phòng Sở", status="Đang thực hiện", results={1: "Đã đăng 3 tin", 2: "",
                                                                                      3: "", 4: ""})
    by_tenth = {2: "Hàng quý, trước ngày 10 tháng cuối quý"}
    [seen] = entries_as_of([typed], D(2024, 3, 12), 2024, 14, plan, by_tenth)
    assert seen.results[1] == "Đã đăng 3 tin"  # due 10/03: owed, and typed, by 12/03
    [seen] = entries_as_of([typed], D(2024, 3, 9), 2024, 14, plan, by_tenth)
    assert seen.results[1] == ""  # not due yet on 09/03: not counted
    [seen] = entries_as_of([typed], D(2024, 3, 12), 2024, 14, plan)
    assert seen.results[1] == ""  # the plan's own "Thường xuyên": due on the 14th
    row = Entry(row=2, stt=2, unit="Văn phòng Sở", deadline="Hàng quý, trước ngày 10 tháng cuối quý",
                results={1: "x"})
    assert entries_as_of([row], D(2024, 3, 12), 2024, 14, plan)[0].results[1] == "x"  # the row's own Hạn


@pytest.mark.parametrize("phrase", ["Hàng quý, trước ngày 20 tháng giữa quý", "Hàng quý, trước ngày 45",
                                    "Hằng tháng, trước ngày 40"])
def test_a_recurring_day_not_understood_is_dropped_with_a_note(phrase):
    schedule = parse(phrase, 2024)
    assert schedule.kind == "recurring" and schedule.day is None and schedule.note


@pytest.mark.parametrize("typed", ["01/01/1900", "0001-01-01", "31/12/9999", "15/06/2999"])
def test_a_year_no_plan_can_have_is_a_clear_date_error(typed):
    with pytest.raises(DateError, match="không hợp lý"):
        parse_date(typed)


def test_a_two_digit_year_is_this_century_and_a_four_digit_one_is_as_written():
    assert parse_date("05/03/24") == D(2024, 3, 5)
    assert parse_date("2024-03-05") == D(2024, 3, 5)


@pytest.mark.parametrize("phrase,every", [("Định kỳ 6 tháng", "half"), ("dinh ky 06 thang", "half"),
                                          ("6 tháng một lần", "half"), ("01 bài/tháng", "month"),
                                          ("02 tin / tháng", "month"), ("Định kỳ hằng quý", "quarter"),
                                          ("Thường xuyên", "quarter")])
def test_the_period_a_recurring_phrase_names(phrase, every):
    assert parse(phrase, 2024).every == every

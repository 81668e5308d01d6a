"""Hypothesis strategies shared by the property tests: what units might type.

`CELL` and `UNIT_COLS` feed the end-to-end safety properties of both backends (a typed cell never changes);
`entries` builds the pure core's input (`tables.Entry` rows of the 2024 plan's tracking tab) for the
properties in test_properties.py: real assignments mostly, with the mistakes units make (unknown units,
duplicated rows, wrong statuses, impossible dates, formulas, odd deadlines).
"""
from __future__ import annotations

import datetime as dt
import os

from hypothesis import strategies as st

from sync.core.schema import ROLES, STATUSES, TRACKING_COLUMNS, UNIT_COLUMNS
from sync.core.tables import Entry

TEXT = st.text(alphabet=st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠàáạảãđĐ =+-@/.,0123456789 \n")),
               max_size=20)
CELL = st.one_of(st.none(), TEXT, st.integers(-5, 2000), st.floats(0, 50, allow_nan=False),
                 st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
                 st.sampled_from(["Hoàn thành", "xong", "Đang thực hiện", "31/02/2024", "05/03/2024",
                                  "https://a.vn/x", "htps://x", "Số 1/KH-STTTT"]))
UNIT_COLS = [list(TRACKING_COLUMNS).index(k) + 1 for k in UNIT_COLUMNS]

#: The Hypothesis profile of this run (registered in conftest.py): `fast` in `make test` and a bare `pytest`,
#: `full` in `make test-scale` (which runs every property test again), `thorough` for a deeper search.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fast")
#: In the `fast` profile a property test runs this share of its full number of examples.
FAST_SHARE = 4


def examples(full: int, env: str = "") -> int:
    """The number of examples for a test that says its own (`full`, the count `make test-scale` runs): a quarter
    of it (at least 2) in the `fast` profile; the environment variable `env`, when set, decides."""
    if env and os.environ.get(env):
        return int(os.environ[env])
    return full if PROFILE != "fast" else max(2, full // FAST_SHARE)

#: Deadline phrases and dates as units and the Office type them, good and bad.
DEADLINE_PHRASES = ["Quý I/2024", "Quý II", "Tháng 3-4/2024", "Hàng quý", "Thường xuyên", "Cả năm",
                    "trước ngày 15/6/2024", "Tháng 12/2024", "Theo kế hoạch", "sớm", "31/02/2024", "15/09/2024",
                    "Hàng quý, trước ngày 10 tháng cuối quý", "Khi có sự kiện (dự kiến 20/10/2024)", "2024-07-01"]
#: Any text at all, and text made of the words and signs deadline phrases are made of.
PHRASE = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list("0123456789/-–,. ()thángquýnămiIvVxXđếntừngàyhàngcuốiđầu")), max_size=40),
    st.lists(st.sampled_from(["Tháng", "quý", "Quý", "II", "IV", "12", "31", "3", "-", "–", "/", "2024", "99999",
                              "đến", "từ", "ngày", "Hàng", "trước", "cuối", "năm", "đầu", "(", ")", ",", "và",
                              "tuần", "tháng đầu quý sau", "dự kiến", "0", "00/00/0000"]),
             max_size=12).map(" ".join),
    st.sampled_from(DEADLINE_PHRASES),
)

STATUS_TEXTS = ["", *STATUSES.values(), "xong", "đang làm", "hoàn  thành", "HOÀN THÀNH", "???", "Hủy"]
RESULT = st.one_of(st.just(""), st.just(""), st.sampled_from(["Đăng 3 tin", "Tổ chức 1 hội nghị", "=1+1", "-"]))
DAY = st.dates(dt.date(2023, 12, 1), dt.date(2025, 1, 31))
DONE_DATE = st.one_of(st.none(), DAY, DAY.map(lambda d: d.strftime("%d/%m/%Y")),
                      st.sampled_from(["31/02/2024", "hôm qua", "", 45500, 12]))
QUANTITY = st.one_of(st.none(), st.integers(-3, 500), st.sampled_from(["5 tin", "1.200", "", "12"]),
                     st.floats(0, 20, allow_nan=False))


def unit_texts(plan) -> list[str]:
    """Every spelling of the plan's units, plus names that are no unit of the plan."""
    names = [u.name for u in plan.registry.units] + [a for u in plan.registry.units for a in u.aliases]
    return [*names, "Sở Nội vụ", "", "Phòng Kế toán"]


@st.composite
def entry_dicts(draw, plan) -> dict:
    """One tracking row's cells: mostly a real (task, unit) assignment of `plan`, sometimes not."""
    assignments = plan.assignments()
    task, unit, role = draw(st.sampled_from(assignments))
    stt: object = task.stt
    unit_text = unit.name
    if draw(st.integers(0, 9)) == 0:  # a row outside the plan: an unknown task or unit
        stt = draw(st.one_of(st.integers(0, 30), st.none(), st.sampled_from(["3", "x", "1.1"])))
        unit_text = draw(st.sampled_from(unit_texts(plan)))
    return {
        "stt": stt,
        "unit": unit_text,
        "role": ROLES.get(role, ""),
        "deadline": draw(st.one_of(st.none(), st.none(), st.sampled_from(DEADLINE_PHRASES))),
        "status": draw(st.sampled_from(STATUS_TEXTS)),
        "results": {q: draw(RESULT) for q in (1, 2, 3, 4)},
        "quantity": draw(QUANTITY),
        "evidence": draw(st.sampled_from(["", "Số 1/KH-STTTT", "https://a.vn/x", "htps://x", "@x"])),
        "done_date": draw(DONE_DATE),
        "note": draw(st.sampled_from(["", "Chờ ý kiến chỉ đạo", "+84 258"])),
    }


def entries(plan, max_size: int = 40) -> st.SearchStrategy[list[Entry]]:
    """Rows of the tracking tab (row numbers from 2), duplicates of a (task, unit) pair included."""
    return st.lists(entry_dicts(plan), max_size=max_size).map(
        lambda rows: [Entry(row=i + 2, **row) for i, row in enumerate(rows)])

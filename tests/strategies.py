"""Hypothesis strategies shared by the safety properties of both backends: what units might type."""
from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from sync.schema import TRACKING_COLUMNS, UNIT_COLUMNS

TEXT = st.text(alphabet=st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠàáạảãđĐ =+-@/.,0123456789 \n")),
               max_size=20)
CELL = st.one_of(st.none(), TEXT, st.integers(-5, 2000), st.floats(0, 50, allow_nan=False),
                 st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
                 st.sampled_from(["Hoàn thành", "xong", "Đang thực hiện", "31/02/2024", "05/03/2024",
                                  "https://a.vn/x", "htps://x", "Số 1/KH-STTTT"]))
UNIT_COLS = [list(TRACKING_COLUMNS).index(k) + 1 for k in UNIT_COLUMNS]

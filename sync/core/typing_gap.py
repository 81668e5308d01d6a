"""The days of typing a report's figures may miss: a report counts what units typed to the end of its data
date (the cut-off day), as recorded by the last pass dated on or before it (sync.state.past). When that pass is
older than the date (no pass ran on a Saturday cut-off), what units typed in between is not in the figures.
Said in the command's output, for the Office, never in the document.
"""
from __future__ import annotations

import datetime as dt


def gap_warning(pass_date: dt.date | None, as_of: dt.date, cutoff: bool) -> str | None:
    """The sentence for a report whose figures of `as_of` come from a pass dated `pass_date`; None when that
    pass is of the day itself (or there is none: the figures are then today's entries seen as of the date)."""
    if pass_date is None or pass_date >= as_of:
        return None
    days = (as_of - pass_date).days
    first = pass_date + dt.timedelta(days=1)
    span = f"ngày {as_of:%d/%m/%Y}" if days == 1 else f"từ ngày {first:%d/%m/%Y} đến ngày {as_of:%d/%m/%Y}"
    what = "ngày chốt số liệu" if cutoff else "ngày số liệu"
    return (f"Lưu ý: lượt chạy cuối cùng đến {what} {as_of:%d/%m/%Y} là lượt ngày {pass_date:%d/%m/%Y}, sớm hơn "
            f"{what}; những gì các đơn vị nhập trong {days:02d} ngày ({span}) có thể chưa có trong số liệu của báo "
            "cáo. Để tránh: chạy daemon (có một lượt vào cuối mỗi ngày chốt, kể cả ngày nghỉ) hoặc thêm dòng cron "
            "của ngày chốt (README).")

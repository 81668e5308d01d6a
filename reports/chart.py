"""The report's chart: status of each unit's assignments, as a PNG for python-docx to embed.

matplotlib draws with its bundled DejaVu fonts, which carry every Vietnamese glyph (Times-metric
Liberation fonts are not guaranteed on the Office's machines, and a missing glyph would print boxes).
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from sync.dashboard import UnitLine  # noqa: E402
from sync.schema import STATUSES, Status  # noqa: E402

SERIES = ((Status.DONE, "#2e7d32"), (Status.IN_PROGRESS, "#f9a825"), (Status.NOT_STARTED, "#9e9e9e"),
          (Status.CANCELLED, "#5d4037"))
UNKNOWN = ("Chưa rõ tình trạng", "#e57373")  # a status typed wrong, waiting for the unit to fix it
FONT = "DejaVu Sans"


def series(by_unit: list[UnitLine]) -> list[tuple[str, str, list[int]]]:
    """(legend, colour, one value per unit) for each stacked part; a unit's parts add up to its rows, the
    rows whose status cannot be read included (their own part, shown only when there are some)."""
    out = [(STATUSES[key], colour, [u.status_count(key) for u in by_unit]) for key, colour in SERIES]
    unknown = [u.unknown_status for u in by_unit]
    if any(unknown):
        out.append((*UNKNOWN, unknown))
    return out


def status_by_unit(by_unit: list[UnitLine], title: str) -> bytes:
    """A horizontal stacked bar per unit; the overdue count is written at the end of each bar."""
    labels = [u.label for u in by_unit][::-1]
    rows = by_unit[::-1]
    with plt.rc_context({"font.family": FONT, "font.size": 9}):
        fig, ax = plt.subplots(figsize=(6.3, 0.45 * len(rows) + 1.4), dpi=200)
        left = [0] * len(rows)
        for name, colour, values in series(rows):
            ax.barh(labels, values, left=left, color=colour, label=name, height=0.6)
            left = [a + b for a, b in zip(left, values, strict=True)]
        for y, (total, u) in enumerate(zip(left, rows, strict=True)):
            if u.overdue:
                ax.text(total + 0.2, y, f"{u.overdue} quá hạn", va="center", color="#c62828", fontsize=8)
        ax.set_xlabel("Số lượt phân công (đơn vị × nhiệm vụ)")
        ax.set_title(title, fontsize=10, fontweight="bold")
        ax.set_xlim(0, max(left + [1]) * 1.25)
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        columns = 3 if len(ax.get_legend_handles_labels()[1]) > 4 else 4
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22 if len(rows) > 3 else -0.4), ncol=columns,
                  frameon=False, fontsize=8)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1)
        plt.close(fig)
    return buf.getvalue()


#: Under the progress chart: what "expected" means, and where past figures come from.
PROGRESS_CAPTION = ("Biểu đồ: Tiến độ thực hiện trong năm {year} - số lượt phân công đã hoàn thành so với số lượt "
                    "Kế hoạch dự kiến hoàn thành đến ngày chốt số liệu của từng kỳ (dự kiến: các lượt có hạn hoàn "
                    "thành, theo Kế hoạch hoặc do Văn phòng Sở điều chỉnh, đến hết ngày chốt; không tính lượt không "
                    "thực hiện). Số liệu hoàn thành của các kỳ trước lấy từ lịch sử đã ghi lại tại thời điểm đó.")
PLANNED, DONE = ("Kế hoạch dự kiến hoàn thành", "#90a4ae"), ("Đã hoàn thành", "#2e7d32")


def progress(points: list, title: str) -> bytes:
    """Grouped bars per cut-off (sync.trends.Progress): expected beside done, each bar with its figure; a cut-off
    without a done figure (after the date, or before history) shows the plan's bar alone."""
    labels = [f"{p.label}\n({p.day:%d/%m})" for p in points]
    x = list(range(len(points)))
    with plt.rc_context({"font.family": FONT, "font.size": 9}):
        fig, ax = plt.subplots(figsize=(6.3, 3.2), dpi=200)
        planned = ax.bar([i - 0.2 for i in x], [p.expected for p in points], width=0.38, color=PLANNED[1],
                         label=PLANNED[0])
        done_x = [i + 0.2 for i, p in zip(x, points, strict=True) if p.done is not None]
        done = ax.bar(done_x, [p.done for p in points if p.done is not None], width=0.38, color=DONE[1],
                      label=DONE[0])
        for bars in (planned, done):
            ax.bar_label(bars, padding=2, fontsize=8)
        ax.set_xticks(x, labels)
        ax.set_ylabel("Số lượt phân công")
        ax.set_title(title, fontsize=10, fontweight="bold")
        top = max([p.expected for p in points] + [p.done or 0 for p in points] + [1])
        ax.set_ylim(0, top * 1.18)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1)
        plt.close(fig)
    return buf.getvalue()

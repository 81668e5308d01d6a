"""The report's charts: status of each unit's assignments and progress through the year, as PNGs for
python-docx to embed. matplotlib draws with its bundled DejaVu fonts, which carry every Vietnamese glyph (Times-metric
Liberation fonts are not guaranteed on the Office's machines, and a missing glyph would print boxes).

Size: figures 6.3 in wide at 200 dpi, cropped to what they draw and printed 15.5 cm wide: 180-250 dots per
inch on paper, so 8-9 pt labels print sharp on A4 (less would show in print; more only costs time).

matplotlib is imported on the first chart drawn, not with this module: the daemon's "already sent?" checks
and the sending of a report kept as sent use the report's file name (sync.reports.build) and never draw. A
chart is drawn once per data and title: a long-running daemon, or a rebuilt report of the same figures, reuses it.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

from sync.core.schema import STATUSES, Status
from sync.core.summary import UnitLine
from sync.sheet.dashboard import STATUS_COLOURS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sync.core.trends import Progress


#: One picture language: the dashboard's colour for each status (sync.sheet.dashboard.STATUS_COLOURS), in this order.
SERIES = tuple((status, f"#{STATUS_COLOURS[status.value]}")
               for status in (Status.DONE, Status.IN_PROGRESS, Status.NOT_STARTED, Status.CANCELLED))
CHART_FONT = "DejaVu Sans"
WIDTH_IN, DPI = 6.3, 200
CACHED = 16  # charts kept (~100 kB each)


def series(by_unit: list[UnitLine]) -> list[tuple[str, str, list[int]]]:
    """(legend, colour, one value per unit) for each stacked part; a unit's parts add up to its tasks. A status
    that cannot be read is counted as not started, as the task rule does (sync.core.tasks): the report says nothing
    internal; the dashboard shows those rows apart."""
    return [(STATUSES[key], colour, [u.status_count(key) + (u.unknown_status if key == Status.NOT_STARTED else 0)
                                     for u in by_unit]) for key, colour in SERIES]


def status_by_unit(by_unit: list[UnitLine], title: str) -> bytes:
    """A horizontal stacked bar per unit; the overdue count is written at the end of each bar."""
    return _status_by_unit(tuple(by_unit), title)


@lru_cache(maxsize=CACHED)
def _status_by_unit(by_unit: tuple[UnitLine, ...], title: str) -> bytes:
    from matplotlib.ticker import MaxNLocator

    labels = [u.label for u in by_unit][::-1]
    rows = list(by_unit[::-1])
    with _drawing(0.45 * len(rows) + 1.4) as (fig, ax):
        left = [0] * len(rows)
        for name, colour, values in series(rows):
            ax.barh(labels, values, left=left, color=colour, label=name, height=0.6)
            left = [a + b for a, b in zip(left, values, strict=True)]
        for y, (total, u) in enumerate(zip(left, rows, strict=True)):
            if u.overdue:
                ax.text(total + 0.2, y, f"{u.overdue} quá hạn", va="center", color="#c62828", fontsize=8)
        ax.set_xlabel("Số nhiệm vụ được giao")
        ax.set_title(title, fontsize=10, fontweight="bold")
        ax.set_xlim(0, max(left + [1]) * 1.25)
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        columns = 3 if len(ax.get_legend_handles_labels()[1]) > 4 else 4
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22 if len(rows) > 3 else -0.4), ncol=columns,
                  frameon=False, fontsize=8)
        return _png(fig)


#: Under the progress chart: one line.
PLANNED, DONE = ("Kế hoạch dự kiến hoàn thành", "#90a4ae"), ("Đã hoàn thành", f"#{STATUS_COLOURS[Status.DONE.value]}")


def progress(points: list[Progress], title: str) -> bytes:
    """Grouped bars per cut-off (sync.core.trends.Progress): expected beside done, each bar with its figure; a cut-off
    without a done figure (after the date, or before history) shows the plan's bar alone."""
    return _progress(tuple(points), title)


@lru_cache(maxsize=CACHED)
def _progress(points: tuple[Progress, ...], title: str) -> bytes:
    from matplotlib.ticker import MaxNLocator

    labels = [f"{p.label}\n({p.day:%d/%m})" for p in points]
    x = list(range(len(points)))
    with _drawing(3.2) as (fig, ax):
        planned = ax.bar([i - 0.2 for i in x], [p.expected for p in points], width=0.38, color=PLANNED[1],
                         label=PLANNED[0])
        done_x = [i + 0.2 for i, p in zip(x, points, strict=True) if p.done is not None]
        done = ax.bar(done_x, [p.done for p in points if p.done is not None], width=0.38, color=DONE[1],
                      label=DONE[0])
        for bars in (planned, done):
            ax.bar_label(bars, padding=2, fontsize=8)
        ax.set_xticks(x, labels)
        ax.set_ylabel("Số nhiệm vụ của các phòng, đơn vị")
        ax.set_title(title, fontsize=10, fontweight="bold")
        top = max([p.expected for p in points] + [p.done or 0 for p in points] + [1])
        ax.set_ylim(0, top * 1.18)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        return _png(fig)


@contextmanager
def _drawing(height_in: float) -> Iterator[tuple[Figure, Axes]]:
    """A figure of the report's width with one set of axes, in the report's font, drawn off-screen by the Agg
    backend (matplotlib.figure, not pyplot: no global figure list to fill and close). Save it inside."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    with rc_context({"font.family": CHART_FONT, "font.size": 9}):
        fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
        yield fig, fig.subplots()


def _png(fig: Figure) -> bytes:
    """The figure cropped to what it draws (its legend below the axes included), 0.1 in around."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1)
    return buf.getvalue()

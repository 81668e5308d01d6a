"""The `Tổng hợp` tab: a pass's Summary (sync/core/summary.py) laid out on the dashboard's column grid."""
from __future__ import annotations

import datetime as dt

from sync.core.deadlines import format_date
from sync.core.plan import Plan
from sync.core.schema import FLAG_PREFIXES, JOB_TAB_TITLES, FlagKind, Layout, Status, shorten
from sync.core.summary import KPI_LABELS, KPI_ORDER, STATUS_LINES, TASK_FILLS, Kpis, Summary, UnitLine, task_headline
from sync.core.trends import TrendRow
from sync.core.workbook import Cell, Chart, Styled
from sync.sheet.layout import Grid

# --- the Tổng hợp tab --------------------------------------------------------------------------------
#
# One column grid for every section: A the place in the list, B the section's main text (a KPI, a unit, a
# task, an error message), C–L narrow columns for figures and short values; longer values span several
# narrow columns (merged) and wrap when they still do not fit. The chart sits beside the key figures.

INDEX_COL, MAIN_COL, FIRST_NARROW, NARROW = 1, 2, 3, 10
LAST_COL = FIRST_NARROW + NARROW - 1
NARROW_WIDTH = 12
UNIT_HEADERS = {"rows": "Số dòng phân công",
                **{key: KPI_LABELS[key] for key in STATUS_LINES if key != "unknown_status"},
                "unknown_status": "Chưa rõ tình trạng", "overdue": KPI_LABELS["overdue"],
                "due_soon": KPI_LABELS["due_soon"], "missing": f"{FLAG_PREFIXES[FlagKind.MISSING]} quý",
                "errors": KPI_LABELS["errors"]}
#: UNIT_HEADERS and KPI_LABELS are keyed by the field names of UnitLine and Kpis (checked here, at import).
assert set(UNIT_HEADERS) <= set(UnitLine.__dataclass_fields__) and list(KPI_LABELS) == list(Kpis.__dataclass_fields__)
STATUS_COLOURS = {Status.DONE.value: "6AA84F", Status.IN_PROGRESS.value: "3C78D8", Status.NOT_STARTED.value: "F1C232",
                  Status.CANCELLED.value: "999999",
                  "unknown_status": "CC0000"}
CHART_TITLE = "Tình trạng thực hiện theo đơn vị"
NONE_ROW = "(không có)"


def _widths(summary: Summary, plan: Plan, texts: list[str]) -> dict[int, float]:
    index = max(len(str(max(len(summary.errors), len(summary.overdue), len(plan.tasks), 1))) + 3, 6)
    main = min(max([len(t) for t in texts] + [30]) + 2, 50)
    return {INDEX_COL: index, MAIN_COL: main, **{c: NARROW_WIDTH for c in range(FIRST_NARROW, LAST_COL + 1)}}


def render(summary: Summary, plan: Plan, layout: Layout, now: dt.datetime,
           trends: list[TrendRow] | None = None) -> Styled:
    """The dashboard; with `trends` (sync.core.trends: [] when there is no history yet), its "Diễn biến" section."""
    labels = {u.code: u.label for u in plan.registry.units}
    tasks = [shorten(t.task) for t in summary.by_task]
    main_texts = [*KPI_LABELS.values(), *labels.values(), *tasks, "Tổng cộng"]
    g = Grid(_widths(summary, plan, main_texts))
    _heading(g, summary, plan, now)
    kpis = _kpis(g, summary)
    _units(g, summary, labels, kpis)
    _tasks(g, summary, tasks)
    _overdue(g, summary, labels)
    _errors(g, summary, plan, layout)
    if trends is not None:
        _trends(g, trends, [u.code for u in plan.registry.units], summary.as_of)
    return g.styled()


def _heading(g: Grid, summary: Summary, plan: Plan, now: dt.datetime) -> None:
    """The tab's title, the plan, when it was updated, the data date and the tasks' headline."""
    g.row([(JOB_TAB_TITLES["dashboard"], LAST_COL)], "title")
    g.row([(plan.title, LAST_COL)], "subtitle")
    g.row([("Cập nhật lúc", 2), (now.strftime("%d/%m/%Y %H:%M:%S"), 2)])
    g.row([("Số liệu tính đến ngày", 2), (format_date(summary.as_of), 2)])
    g.row([("Nhiệm vụ", 2), (task_headline(summary.kpis), LAST_COL - 2)], "total")


def _kpis(g: Grid, summary: Summary) -> tuple[int, int]:
    """I. The key figures; returns their first (header) and last rows, the chart's place beside them."""
    k = summary.kpis.to_json()  # KPI_LABELS has the same keys, in the same order
    kpi_first = _section(g, "I. CHỈ SỐ CHÍNH", [("TT", 1), ("Chỉ số", 1), ("Giá trị", 1)])
    for n, key in enumerate(KPI_ORDER, start=1):
        label = KPI_LABELS[key]
        value = "" if k.get(key) is None else k[key]
        g.row([(n, 1), (label, 1), (value, 1)], formats={2: "0.0"} if key == "on_time_rate" else {}, ordinal=True)
    return kpi_first, g.last_row


def _units(g: Grid, summary: Summary, labels: dict[str, str], kpis: tuple[int, int]) -> None:
    """II. One row per unit, their total, and the chart of their statuses beside the key figures (`kpis`)."""
    unit_keys = list(UNIT_HEADERS)
    unit_columns: list[tuple[Cell, int]] = [("TT", 1), ("Đơn vị", 1)]
    header = _section(g, "II. THEO ĐƠN VỊ", unit_columns + [(UNIT_HEADERS[key], 1) for key in unit_keys])
    first = header + 1
    for n, u in enumerate(summary.by_unit, start=1):
        cells: list[tuple[Cell, int]] = [(n, 1), (labels.get(u.code, u.unit), 1)]
        g.row(cells + [(getattr(u, key), 1) for key in unit_keys], ordinal=True)
    last = g.last_row
    if summary.by_unit:
        g.row([("", 1), ("Tổng cộng", 1)] + [(sum(getattr(u, key) for u in summary.by_unit), 1) for key in unit_keys],
              "total")
        kpi_first, kpi_last = kpis
        series = tuple(FIRST_NARROW + unit_keys.index(key) for key in STATUS_LINES)
        g.chart = Chart(CHART_TITLE, header, first, last, MAIN_COL, series, anchor=(kpi_first, FIRST_NARROW + 2),
                        width_px=int(sum(g.widths[c] for c in range(FIRST_NARROW + 2, LAST_COL + 1)) * 7),
                        height_px=max(kpi_last - kpi_first + 1, 12) * 20, axis_title="Số dòng phân công",
                        colours=tuple(STATUS_COLOURS[key] for key in STATUS_LINES))


def _tasks(g: Grid, summary: Summary, tasks: list[str]) -> None:
    """III. One row per task (`tasks`: their names as shown), its state coloured."""
    _section(g, "III. THEO NHIỆM VỤ", [("STT", 1), ("Nhiệm vụ", 1), ("Số đơn vị", 1), ("Hoàn thành", 1),
                                        ("Quá hạn", 1), ("Thiếu kết quả quý", 1), ("Tiến độ", 3),
                                        ("Tình hình chung", 3)])
    state_col = FIRST_NARROW + 7
    for t, text in zip(summary.by_task, tasks, strict=True):
        r = g.row([(t.stt, 1), (text, 1), (t.units, 1), (t.done, 1), (t.overdue, 1), (t.missing, 1),
                   (t.schedule, 3), (t.state, 3)], ordinal=True)
        colour = TASK_FILLS.get("late" if t.late else t.status)
        if colour:
            g.fills[(r, state_col)] = colour


def _overdue(g: Grid, summary: Summary, labels: dict[str, str]) -> None:
    """IV. Every overdue assignment."""
    _section(g, "IV. DANH SÁCH QUÁ HẠN", [("TT", 1), ("Nhiệm vụ", 1), ("STT nhiệm vụ", 1), ("Đơn vị", 3),
                                           ("Vai trò", 1), ("Hạn hoàn thành", 1), ("Số ngày quá hạn", 1)])
    for n, o in enumerate(summary.overdue, start=1):
        g.row([(n, 1), (shorten(o.task), 1), (o.stt, 1), (labels.get(o.code, o.unit), 3),
               (o.role, 1), (o.due, 1), (o.days, 1)], ordinal=True)
    if not summary.overdue:
        g.row([("", 1), (NONE_ROW, 1)])


def _errors(g: Grid, summary: Summary, plan: Plan, layout: Layout) -> None:
    """V. The input errors to fix, each with its tab, row, column header and unit."""
    headers = {"tracking": layout.tracking_columns, "plan": layout.plan_columns, "office": layout.office_columns}
    _section(g, "V. LỖI NHẬP LIỆU CẦN SỬA", [("TT", 1), ("Nội dung", 1), ("Trang tính", 1), ("Dòng", 1),
                                               ("Cột", 2), ("Đơn vị", 4)])
    for n, i in enumerate(summary.errors, start=1):
        unit = plan.registry.match(i.unit) if i.unit else None
        g.row([(n, 1), (i.message, 1), (layout.tabs[i.tab], 1), (i.row or "", 1),
               (headers[i.tab].get(i.column, i.column), 2), (unit.label if unit else i.unit, 4)], ordinal=True)
    if not summary.errors:
        g.row([("", 1), (NONE_ROW, 1)])


TRENDS_TITLE = "VI. DIỄN BIẾN"
TRENDS_NONE = ("Chưa có lịch sử số liệu của các lượt chạy trước ngày {day}: phần diễn biến có từ lượt chạy ghi "
               "của ngày sau.")
TRENDS_NOTE = ("Số liệu mỗi kỳ, mỗi tuần là số liệu của lượt chạy cuối cùng đến ngày đó (tuần: đến Chủ nhật), tính "
               "đến hết ngày của lượt chạy ấy, như đã ghi lại lúc đó; dòng của hôm nay là số liệu lúc cập nhật. "
               "Ô đơn vị: hoàn thành / quá hạn / thiếu kết quả quý.")
TRENDS_GROUPS = {"cutoff": "Theo kỳ báo cáo", "week": "Theo tuần"}


def _trends(g: Grid, rows: list[TrendRow], units: list[str], as_of: dt.date) -> None:
    """Done, overdue and missing results at each cut-off and each week: totals, then one cell per unit."""
    shown = units[:NARROW - 3]  # the narrow columns left after the three totals
    if not rows:
        g.blank()
        g.row([(TRENDS_TITLE, LAST_COL)], "section")
        g.row([("", 1), (TRENDS_NONE.format(day=format_date(as_of)), LAST_COL - 1)])
        return
    header: list[tuple[Cell, int]] = [("TT", 1), ("Kỳ báo cáo / tuần", 1), ("Hoàn thành", 1), ("Quá hạn", 1),
                                      ("Thiếu kết quả quý", 1)]
    _section(g, TRENDS_TITLE, header + [(code, 1) for code in shown])
    g.row([("", 1), (TRENDS_NOTE, LAST_COL - 1)], "subtitle")
    for kind, group in TRENDS_GROUPS.items():
        mine = [r for r in rows if r.point.kind == kind]
        if not mine:
            continue
        g.row([("", 1), (group, LAST_COL - 1)], "total")
        for n, r in enumerate(mine, start=1):
            cells: list[tuple[Cell, int]] = [(n, 1), (r.point.label, 1), *((v, 1) for v in r.totals)]
            cells += [(" / ".join(str(v) for v in r.by_unit.get(code, (0, 0, 0))), 1) for code in shown]
            g.row(cells, ordinal=True)


def _section(g: Grid, title: str, columns: list[tuple[Cell, int]]) -> int:
    """A blank row, the section's title and its header row; returns the header row."""
    g.blank()
    g.row([(title, LAST_COL)], "section")
    return g.row(columns, "header")

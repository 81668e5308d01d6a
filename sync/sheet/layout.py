"""The sheet's layout: what `init` writes (the tabs laid out from the plan, as a WriteSet), what helps each
unit work in its own rows, and the column grid the job's own tabs are laid out on.

Pure and idempotent by construction: it compares the plan with what the workbook already holds and adds
only what is missing (tabs, header cells, plan rows, tracking rows), then (re)states the formatting.
It never rewrites a cell that holds something, so running it on a workbook full of unit data, after
the plan changed, adds the new tasks and columns and loses nothing.

What helps each unit work in its own rows — the guide tab, typed input, row protection by unit, saved views —
is pure too: plain data in, additions to a WriteSet out. `init` lays out the guide, the typed input of the tracking tab
and the views (`for_init`); every pass keeps the guide current and, on Google with `google.protect_rows`,
restates which rows each unit may edit as of this pass's read (`for_pass`), since sorting or inserting rows
moves them. The backends turn these into requests of the pass's one write (sync/backends/google_requests.py);
the local workbook takes the guide and the typed input only.

The `Hướng dẫn` tab (`render_guide`) says how units fill the tracking tab, in plain Vietnamese, generated from the
plan and settings: a plan, the tab and header names in force and a few settings in, a `Styled` grid out.
Everything that changes with the year or the configuration (column names, the quarters' data windows and
cut-offs, each task's deadline, the units and their addresses, who to contact) comes from its one source, so the
guide is right for any year's plan. `init` writes it and every pass rewrites it when it differs from what the
sheet shows (a unit who typed into it, a new plan, a renamed column).

The grid (`Grid`): a job-owned tab (the dashboard, the guide) laid out on fixed columns — merges, wrapping, row
heights, bands. Pure. Sections put their cells on the grid as (value, span) pairs; a value that does not fit the width
of the columns it spans (in characters, bold text counted wider) wraps, and its row gets the height of
its longest wrapped cell. The result is a `Styled` every backend renders the same way.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sync.core.deadlines import Schedule, ScheduleKind, format_date, result_period
from sync.core.plan import Plan
from sync.core.schema import (
    FLAG_COLOURS,
    FLAG_PREFIXES,
    JOB_COLUMNS,
    JOB_TAB_TITLES,
    JOB_TABS,
    QUARTER_KEYS,
    ROLES,
    ROMAN,
    STATUSES,
    FlagKind,
    Layout,
    Status,
    bare_address,
    is_address,
    nfc,
    shorten,
)
from sync.core.tables import (
    Table,
    as_stt,
    below_merges,
    check_headers,
    last_used_row,
    merge_index,
    one_row_per_task,
    refuse_overwrite,
    scan_headers,
)
from sync.core.workbook import (
    Cell,
    Chart,
    Dropdown,
    InputRule,
    RowOwners,
    Snapshot,
    Styled,
    Tab,
    TabFormat,
    UnitRows,
    ViewSpec,
    WriteSet,
)

if TYPE_CHECKING:
    from sync.core.config import Settings


#: How much wider than plain text each row style is drawn (bold, larger fonts).
STYLE_SCALE = {"title": 1.45, "section": 1.25, "header": 1.12, "total": 1.12, "subtitle": 1.05}
PADDING = 1.5  # characters of cell padding a spreadsheet program leaves
#: Average width of running Vietnamese text in width units (a unit is the width of a digit): for wrapped line
#: counts only; whether a value fits unwrapped is judged at full width, never optimistically.
TEXT_DENSITY = 0.88
LINE_HEIGHT_PT = 13.5  # one line of 11 pt text, in points
ROW_PADDING_PT = 4  # above and below the text of a row
MAX_ROW_HEIGHT_PT = 409  # the tallest row a spreadsheet program allows


def shown_text(value: Cell, number_format: str | None = None) -> str:
    """The text a spreadsheet program shows for a value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and number_format == "0.0":
        return f"{value:.1f}"
    return str(value)


def wrapped_lines(text: str, width: float, scale: float = 1.0) -> int:
    """Lines `text` takes in a wrapping cell `width` characters wide (greedy word wrap)."""
    room = max((width - PADDING) / (scale * TEXT_DENSITY), 1.0)
    lines = 0
    for paragraph in text.split("\n"):
        used, count = 0.0, 1
        for word in paragraph.split():
            if used and used + 1 + len(word) <= room:
                used += 1 + len(word)
                continue
            if used:
                count += 1
            extra = math.ceil(len(word) / room) - 1
            count += extra
            used = len(word) - extra * room
        lines += count
    return max(lines, 1)


def row_height(lines: int) -> float | None:
    """Points for a row that must show `lines` lines of wrapped text; None (the program's own height) for one.
    The one row-height formula: dashboard rows, rows a pass writes and rows `init` formats all use it."""
    return min(LINE_HEIGHT_PT * lines + ROW_PADDING_PT, MAX_ROW_HEIGHT_PT) if lines > 1 else None


def fits(text: str, width: float, scale: float = 1.0) -> bool:
    return "\n" not in text and len(text) * scale + PADDING <= width


class Grid:
    def __init__(self, widths: dict[int, float]):
        self.widths = dict(widths)
        self.rows: list[list[Cell]] = []
        self.styles: dict[int, str] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.wrap: set[tuple[int, int]] = set()
        self.formats: dict[tuple[int, int], str] = {}
        self.lines: dict[int, int] = {}
        self.chart: Chart | None = None
        self.fills: dict[tuple[int, int], str] = {}
        self.centred: set[tuple[int, int]] = set()
        self.bands: set[int] = set()
        self._listed = 0  # ordinal rows since the last header or group row: every second one is banded

    @property
    def last_row(self) -> int:
        return len(self.rows)

    def blank(self) -> None:
        self.rows.append([])

    def row(self, cells: list[tuple[Cell, int]], style: str | None = None, formats: dict[int, str] | None = None,
            ordinal: bool = False) -> int:
        """Append a row of (value, span) cells from column A; returns its number. `ordinal`: the first cell is
        the row's place in its list (STT), centred as in Vietnamese administrative tables."""
        r = len(self.rows) + 1
        values: list[Cell] = []
        most = 1
        scale = STYLE_SCALE.get(style, 1.0) if style else 1.0
        for i, (value, span) in enumerate(cells):
            col = len(values) + 1
            values.append(value)
            values.extend([None] * (span - 1))
            if span > 1:
                self.merges.append((r, col, r, col + span - 1))
            fmt = (formats or {}).get(i)
            if fmt:
                self.formats[(r, col)] = fmt
            text = shown_text(value, fmt)
            width = sum(self.widths.get(c, 10) for c in range(col, col + span))
            if style == "header" or (text and not fits(text, width, scale)):
                self.wrap.add((r, col))
                most = max(most, wrapped_lines(text, width, scale))
        self.rows.append(values)
        if style in ("header", "total"):  # a list starts under its header, or under a group's line (Diễn biến)
            self._listed = 0
        if ordinal:
            self._listed += 1
            if self._listed % 2 == 0:
                self.bands.add(r)
        if ordinal and values and values[0] not in (None, ""):
            self.centred.add((r, 1))
        if style:
            self.styles[r] = style
        if most > 1:
            self.lines[r] = most
        return r

    def styled(self) -> Styled:
        return Styled(self.rows, self.styles, self.widths, tuple(self.merges), frozenset(self.wrap),
                      self.formats, self.lines, self.chart, self.fills, frozenset(self.centred), frozenset(self.bands))


# --- the guide tab ------------------------------------------------------------------------------------------

WIDTHS = {1: 30.0, 2: 72.0, 3: 48.0}

#: Kinds of products the Office counts (docs/workbook.md "Products by kind"), each with a result written so that it
#: is counted. Plain text for the guide's examples.
PRODUCT_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("tin, bài", "Đăng 15 tin, bài về cải cách hành chính trên Trang thông tin điện tử của Sở"),
    ("hội nghị, tập huấn", "Tổ chức 02 hội nghị tập huấn về dịch vụ công trực tuyến"),
    ("lượt người tham dự", "… với 150 lượt người tham dự"),
    ("văn bản", "Ban hành 03 văn bản hướng dẫn thực hiện"),
    ("ấn phẩm (tờ gấp, áp phích, pano, băng rôn, sổ tay, tài liệu)", "In và phát hành 2.000 tờ gấp; treo 05 băng rôn"),
    ("chương trình, chuyên mục (phóng sự, video, clip, chuyên mục, chương trình)",
     "Phát sóng 04 phóng sự và 01 chuyên mục về cải cách hành chính"),
)

STATUS_MEANINGS: dict[Status, str] = {
    Status.NOT_STARTED: "Chưa triển khai. Khi đã có kết quả quý, chọn 'Đang thực hiện'.",
    Status.IN_PROGRESS: "Đang triển khai, kể cả việc thường xuyên trong năm: ghi kết quả của từng quý.",
    Status.DONE: "Đã xong: bắt buộc ghi Ngày hoàn thành và Minh chứng.",
    Status.CANCELLED: "Không triển khai trong năm: bắt buộc ghi lý do vào cột Ghi chú; không ghi kết quả quý.",
}

TOOL, OFFICE, UNIT = "Công cụ tự ghi", "Văn phòng Sở", "Đơn vị"


@dataclass(frozen=True)
class GuideFacts:
    """The settings the guide states: the cut-off day, the due-soon warning, who to contact, and whether the sheet
    is the shared Google Sheet (filter views, protected rows)."""

    cutoff_day: int = 14
    due_soon_days: int = 7
    contact: str = ""
    google: bool = False
    protect_rows: bool = False


def render_guide(plan: Plan, layout: Layout, facts: GuideFacts) -> Styled:
    """The whole tab, sections in the order a unit's clerk needs them."""
    g = Grid(WIDTHS)
    g.row([(f"{JOB_TAB_TITLES['guide']} '{layout.tabs['tracking']}'", 3)], "title")
    g.row([(f"{plan.title}{f' ({plan.number})' if plan.number else ''}", 3)], "subtitle")  # "Số 12/KH-STTTT"
    g.row([("Tab này do công cụ tự tạo từ kế hoạch và cấu hình, và được viết lại ở mỗi lượt chạy: đừng sửa ở đây. "
            "Mỗi dòng của tab theo dõi là một nhiệm vụ của một đơn vị; đơn vị chỉ nhập vào các cột ghi 'Đơn vị' "
            "dưới đây, trên các dòng của mình.", 3)])
    _columns(g, layout, facts, plan.year)
    _statuses(g)
    _results(g, layout)
    _deadlines(g, plan, layout, facts)
    _contacts(g, plan, layout, facts)
    return g.styled()


def _columns(g: Grid, layout: Layout, facts: GuideFacts, year: int) -> None:
    h = layout.tracking_columns
    quarter = {f"q{q}": (UNIT, f"Những việc đã làm trong Quý {ROMAN[q]} (số liệu từ {_window(year, q, facts)}), "
                                "ghi theo mục 3; mỗi quý một cột, không chép lại kết quả quý trước.")
               for q in (1, 2, 3, 4)}
    meaning: dict[str, tuple[str, str]] = {
        "stt": (TOOL, "Số thứ tự nhiệm vụ trong kế hoạch. Không sửa."),
        "task": (TOOL, "Tên nhiệm vụ, chép từ kế hoạch. Không sửa."),
        "unit": (TOOL, "Đơn vị được giao. Không sửa: công cụ nhận ra dòng của đơn vị nhờ cột này."),
        "role": (TOOL, "Chủ trì hoặc Phối hợp, theo kế hoạch. Đơn vị chủ trì quyết định tình trạng của nhiệm vụ."),
        "deadline": (OFFICE, f"Hạn riêng của dòng, nếu Văn phòng Sở đặt; để trống là theo hạn của kế hoạch (tab "
                             f"'{layout.tabs['plan']}', mục 4 dưới đây)."),
        "status": (UNIT, "Chọn một trong bốn tình trạng ở mục 2 (danh sách chọn trong ô)."),
        **quarter,
        "quantity": (UNIT, "Tổng số sản phẩm của dòng: một số nguyên không âm, chỉ ghi số (ví dụ 12). Loại sản "
                           "phẩm ghi trong cột kết quả quý."),
        "evidence": (UNIT, "Đường dẫn đầy đủ (https://…) hoặc số, ký hiệu văn bản (ví dụ: Số 123/KH-STTTT); "
                           "bắt buộc khi Hoàn thành."),
        "done_date": (UNIT, "Ngày hoàn thành, dạng dd/mm/yyyy (ví dụ 14/03/" + str(year) + "); bắt buộc khi "
                            "Hoàn thành; không ghi ngày sau hôm nay."),
        "note": (UNIT, "Ghi chú; bắt buộc ghi lý do khi chọn 'Không thực hiện'."),
        "check": (TOOL, "Lỗi nhập liệu công cụ tìm thấy ở lượt chạy gần nhất, kèm ghi chú trên ô cần sửa. Sửa ô "
                        "được nêu: lượt sau lời nhắc tự mất. Không gõ vào cột này."),
        "flags": (TOOL, "Cảnh báo về hạn: " + ", ".join(f"'{p}…'" for p in FLAG_PREFIXES.values())
                        + ". Dòng được tô màu theo cảnh báo. Không gõ vào cột này."),
    }
    g.blank()
    g.row([(f"1. Các cột của tab '{layout.tabs['tracking']}'", 3)], "section")
    g.row([("Cột", 1), ("Ý nghĩa và cách nhập", 1), ("Ai nhập", 1)], "header")
    for key, header in h.items():
        who, text = meaning.get(key, (UNIT, ""))
        g.row([(header, 1), (text, 1), (who, 1)])


def _statuses(g: Grid) -> None:
    g.blank()
    g.row([("2. Bốn tình trạng (cột chọn trong danh sách)", 3)], "section")
    g.row([("Tình trạng", 1), ("Khi nào chọn", 2)], "header")
    for status, label in STATUSES.items():
        g.row([(label, 1), (STATUS_MEANINGS[status], 2)])


def _results(g: Grid, layout: Layout) -> None:
    h = layout.tracking_columns
    g.blank()
    g.row([("3. Ghi kết quả để được tính", 3)], "section")
    for line in (
            f"Ghi vào cột '{h['q1']}' … '{h['q4']}' những việc đã làm trong quý đó, mỗi việc có số lượng và loại "
            "sản phẩm: số đứng trước tên loại (ví dụ '15 tin, bài').",
            "Số viết bằng chữ số ('05', '2.000') hay bằng chữ ('hai hội nghị') đều được đếm. Sản phẩm khác loại được "
            "đếm riêng, không cộng chung: ghi rõ từng loại.",
            "Liệt kê bằng '+', '-' hoặc '•' đầu dòng như thường lệ. Không bắt đầu ô bằng dấu '=' (bị hiểu là công "
            "thức).",
            f"Cột '{h['quantity']}' chỉ ghi một số; cột '{h['evidence']}' ghi đường dẫn hoặc số văn bản."):
        g.row([("•", 1), (line, 2)])
    g.row([("Loại sản phẩm", 1), ("Ví dụ cách ghi", 2)], "header")
    for kind, example in PRODUCT_EXAMPLES:
        g.row([(kind, 1), (example, 2)])


def _window(year: int, quarter: int, facts: GuideFacts) -> str:
    start, end = result_period(year, quarter, facts.cutoff_day)
    return f"{format_date(start)} đến {format_date(end)}"


def _deadlines(g: Grid, plan: Plan, layout: Layout, facts: GuideFacts) -> None:
    h = layout.tracking_columns
    year = plan.year
    g.blank()
    g.row([(f"4. Hạn và ngày chốt số liệu năm {year}", 3)], "section")
    for line in (
            f"Theo Nghị định 09/2019/NĐ-CP, số liệu của quý tính từ ngày {facts.cutoff_day + 1} tháng cuối quý "
            f"trước đến hết ngày {facts.cutoff_day} tháng cuối quý; kết quả quý nhập chậm nhất ngày chốt đó (ngày "
            "chốt tính cả khi rơi vào ngày nghỉ).",
            "Việc thường xuyên phải có kết quả mỗi quý đến hết năm; việc làm một lần phải xong trước hạn, ghi "
            f"'{h['done_date']}' và '{h['evidence']}'.",
            f"Cảnh báo '{FLAG_PREFIXES[FlagKind.DUE_SOON]}' xuất hiện {facts.due_soon_days} ngày trước hạn; "
            f"'{FLAG_PREFIXES[FlagKind.UNDATED]}' là việc chờ Văn phòng Sở đặt hạn."):
        g.row([("•", 1), (line, 2)])
    g.row([("Kết quả", 1), ("Số liệu tính từ … đến …", 1), ("Nhập chậm nhất", 1)], "header")
    for q, key in zip((1, 2, 3, 4), QUARTER_KEYS, strict=True):
        g.row([(h[key], 1), (_window(year, q, facts), 1), (format_date(result_period(year, q, facts.cutoff_day)[1]),
                                                           1)])
    g.blank()
    g.row([("Nhiệm vụ", 1), ("Tiến độ trong kế hoạch", 1), ("Hạn công cụ áp dụng", 1)], "header")
    for task in plan.tasks:
        g.row([(f"{task.stt}. {shorten(task.task, 60)}", 1), (task.schedule or "-", 1),
               (_due_text(plan, task.stt), 1)])


def _due_text(plan: Plan, stt: int) -> str:
    schedule = plan.schedule(plan.by_stt[stt])
    if schedule.kind == ScheduleKind.RECURRING:
        return "Kết quả mỗi quý, đến hết năm"
    if schedule.due:
        return format_date(schedule.due) + (" (dự kiến)" if schedule.expected else "")
    return "Chưa xác định: Văn phòng Sở đặt hạn ở cột Hạn hoàn thành"


def _contacts(g: Grid, plan: Plan, layout: Layout, facts: GuideFacts) -> None:
    g.blank()
    g.row([("5. Liên hệ và quyền sửa", 3)], "section")
    office = f"Văn phòng Sở (theo dõi, tổng hợp, đặt hạn, thêm dòng){': ' + facts.contact if facts.contact else ''}."
    g.row([("•", 1), (office + " Cần sửa dòng của đơn vị khác, thêm hay xóa dòng: báo Văn phòng Sở.", 2)])
    if facts.protect_rows:
        g.row([("•", 1), ("Mỗi đơn vị chỉ sửa được các dòng của mình (theo địa chỉ e-mail đăng ký dưới đây); dòng "
                          "của đơn vị khác bị khóa. Không sắp xếp lại cả tab: dùng chế độ lọc.", 2)])
    if facts.google:
        g.row([("•", 1), ("Xem riêng các dòng của đơn vị mình: Dữ liệu → Chế độ xem có bộ lọc → chọn 'Đơn vị: <tên "
                          "đầy đủ của đơn vị>'. Chế độ 'Việc còn hạn/quá hạn' chỉ hiện các việc chưa xong (không kể "
                          "việc Không thực hiện). Chế độ lọc không làm thay đổi màn hình của đơn vị khác.", 2)])
    g.row([("Đơn vị", 1), ("Địa chỉ e-mail nhận nhắc việc (và được sửa dòng của đơn vị)", 2)], "header")
    for unit in plan.registry.units:
        g.row([(unit.name, 1), (", ".join(unit.email) or "Chưa đăng ký: báo Văn phòng Sở", 2)])


def guide_differs(tab: Tab | None, styled: Styled) -> bool:
    """Whether the sheet's tab shows other text than `styled` (missing, typed into, or out of date)."""
    if tab is None:
        return True
    return _texts(tab.rows) != _texts(styled.rows)


def _texts(rows: list[list[Cell]]) -> list[list[str]]:
    out = [[nfc(v) for v in r] for r in rows]
    for r in out:
        while r and not r[-1]:
            r.pop()
    while out and not out[-1]:
        out.pop()
    return out


# --- the aids ------------------------------------------------------------------------------------------------

#: The filter view of each unit ("Đơn vị: <full name>") and the one of open items: their titles are how units
#: find them (README, the guide), and how the job knows them.
UNIT_VIEW = "Đơn vị: {name}"
OPEN_VIEW = "Việc còn hạn/quá hạn"


@dataclass(frozen=True)
class Aids:
    """The settings these aids follow: what the guide states, and who edits which rows on Google."""

    facts: GuideFacts = field(default_factory=GuideFacts)
    office_editors: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Aids:
        g = settings.google
        google = settings.backend == "google"
        return cls(GuideFacts(settings.deadlines.quarter_cutoff_day, settings.deadlines.due_soon_days,
                              settings.mail.from_, google, google and g.protect_rows),
                   tuple(g.office_editors))


# --- typed input (both backends) --------------------------------------------------------------------------

def input_rules(columns: dict[str, int], headers: dict[str, str], first: int, last: int,
                year: int) -> tuple[InputRule, ...]:
    """Warnings, never refusals, on the columns where a typed value has a shape: dates, the count, the evidence."""
    out = []
    for key in ("deadline", "done_date"):
        if key in columns:
            out.append(InputRule("date", columns[key], first, last, headers[key][:32],
                                 f"Nhập ngày dạng dd/mm/yyyy, ví dụ 14/03/{year}.",
                                 f"'{headers[key]}' phải là một ngày có thật, dạng dd/mm/yyyy (ví dụ 14/03/{year}). "
                                 "Giá trị đã nhập vẫn được giữ; công cụ sẽ báo ở cột Kiểm tra."))
    if "quantity" in columns:
        out.append(InputRule("whole", columns["quantity"], first, last, headers["quantity"][:32],
                             "Chỉ ghi một số nguyên không âm, ví dụ 12. Loại sản phẩm ghi ở cột kết quả quý.",
                             f"'{headers['quantity']}' phải là số nguyên không âm (ví dụ 12). Giá trị đã nhập vẫn "
                             "được giữ; công cụ sẽ báo ở cột Kiểm tra."))
    if "evidence" in columns:
        out.append(InputRule("any", columns["evidence"], first, last, headers["evidence"][:32],
                             "Ghi đường dẫn đầy đủ (https://…) hoặc số, ký hiệu văn bản, ví dụ: Số 123/KH-STTTT. "
                             "Bắt buộc khi Hoàn thành."))
    return tuple(out)


# --- init ---------------------------------------------------------------------------------------------------

def for_init(ws: WriteSet, plan: Plan, snapshot: Snapshot, layout: Layout, aids: Aids,
             track_cols: dict[str, int], track_tab: str) -> None:
    """The guide tab (written whole, protected like the other job-owned tabs) and the views of the tracking tab."""
    name, styled = _guide(ws, plan, snapshot, layout, aids, always=True)
    # Protected like the other job-owned tabs. It has no header row: the format's "header" is the empty row below
    # the guide, so the formatting (header style, top alignment, row heights) leaves the guide's own layout alone.
    ws.formats.append(TabFormat(name, frozen_rows=0, protect_tab=True, header_row=len(styled.rows) + 1))
    ws.views = views(plan, track_cols, track_tab)


def _guide(ws: WriteSet, plan: Plan, snapshot: Snapshot, layout: Layout, aids: Aids,
           always: bool) -> tuple[str, Styled]:
    name = layout.tabs["guide"]
    tab = snapshot.find_tab(name)
    if tab is None:
        ws.new_tabs.append(name)
    else:
        name = tab.name
    styled = render_guide(plan, layout, aids.facts)
    if always or guide_differs(tab, styled):
        ws.replace[name] = styled
    return name, styled


def views(plan: Plan, track_cols: dict[str, int], track_tab: str) -> tuple[ViewSpec, ...]:
    """One view per unit of the plan (its rows) and one of the items still open (neither done nor cancelled)."""
    last = max(track_cols.values())
    out = [ViewSpec(UNIT_VIEW.format(name=u.name), track_tab, last, track_cols["unit"], shown=u.name)
           for u in plan.registry.units]
    if "status" in track_cols:
        out.append(ViewSpec(OPEN_VIEW, track_tab, last, track_cols["status"],
                            hidden=(STATUSES[Status.DONE], STATUSES[Status.CANCELLED]),
                            sort_column=track_cols.get("deadline", 0)))
    return tuple(out)


# --- a pass ---------------------------------------------------------------------------------------------------

def for_pass(writes: WriteSet, snapshot: Snapshot, tracking: Table, plan: Plan, layout: Layout,
             aids: Aids) -> list[str]:
    """The guide where it differs from the sheet's; the views where missing; each unit's rows as they lie now
    (with `protect_rows`). Returns what to say: units whose rows stay open, addresses that are not addresses."""
    _guide(writes, plan, snapshot, layout, aids, always=False)
    writes.views = views(plan, tracking.columns, tracking.tab.name)
    if not aids.facts.protect_rows:
        return []
    owners, said = row_owners(tracking, plan, aids)
    writes.row_owners = owners
    return said


def row_owners(tracking: Table, plan: Plan, aids: Aids) -> tuple[RowOwners, list[str]]:
    """Each unit's runs of adjacent rows and its editors; a unit without a usable address keeps its rows open."""
    runs: dict[str, list[list[int]]] = {}
    for r in tracking.rows():
        unit = plan.registry.match(tracking.value(r, "unit"))
        if unit is None:
            continue
        mine = runs.setdefault(unit.code, [])
        if mine and mine[-1][1] == r - 1:
            mine[-1][1] = r
        else:
            mine.append([r, r])
    said: list[str] = []
    units = []
    where = f"tệp kế hoạch '{plan.source}'" if plan.source else "tệp kế hoạch"
    for unit in plan.registry.units:
        if unit.code not in runs:
            continue
        good = []
        for item in unit.email:
            if is_address(item):
                good.append(bare_address(item))
            else:
                said.append(f"google.protect_rows: '{item}' (units[].email của đơn vị {unit.code} trong {where}) "
                            "không phải địa chỉ e-mail; bỏ qua địa chỉ này. Sửa thành dạng ten@khanhhoa.gov.vn.")
        if not good:
            said.append(f"google.protect_rows: chưa khóa các dòng của '{unit.name}' vì đơn vị chưa có địa chỉ e-mail "
                        f"hợp lệ (units[].email của {unit.code} trong {where}); ai có quyền sửa bảng tính vẫn sửa "
                        "được các dòng này.")
            continue
        editors = tuple(dict.fromkeys([*good, *(bare_address(e) for e in aids.office_editors)]))
        units.append(UnitRows(unit.code, unit.name, editors, tuple((a, b) for a, b in runs[unit.code])))
    return RowOwners(tracking.tab.name, tuple(units), max(tracking.columns.values())), said


#: Rows beyond the last one that still get the dropdown and colours, for rows the Office adds later.
SPARE_ROWS = 500

PLAN_WIDTHS = {"stt": 6, "task": 50, "results": 36, "schedule": 22, "assignment": 60, "note": 16,
               "lead": 30, "support": 30, "deadline": 16}
TRACKING_WIDTHS = {"stt": 6, "task": 45, "unit": 32, "role": 11, "deadline": 14, "status": 17, "q1": 32,
                   "q2": 32, "q3": 32, "q4": 32, "quantity": 11, "evidence": 28, "done_date": 14, "note": 24,
                   "check": 45, "flags": 30}
OFFICE_WIDTHS = {"period": 22, "section": 22, "text": 90, "check": 45}
WRAPPED = ("task", "results", "schedule", "assignment", "q1", "q2", "q3", "q4", "evidence", "note", "check",
           "flags", "unit", "lead", "support")


def describe_schedule(schedule: Schedule) -> str:
    """How the plan tab shows a parsed deadline; read back by the pass through the same parser."""
    if schedule.kind == ScheduleKind.ONCE or (schedule.kind == ScheduleKind.EVENT and schedule.due):
        return format_date(schedule.due)
    if schedule.kind == ScheduleKind.RECURRING:
        period = schedule.every or ""  # unknown: told as quarterly, with no month
        every = {"month": "Hằng tháng", "week": "Hằng tuần", "half": "Định kỳ 6 tháng", "year": "Hằng năm"}.get(
            period, "Hằng quý")
        if schedule.day:  # kept, so that the pass reading this cell back still knows the day
            month = {("quarter", False): " tháng cuối quý", ("quarter", True): " tháng đầu quý sau",
                     ("month", True): " tháng sau"}.get((period, schedule.next_period), "")
            return f"{every}, trước ngày {schedule.day}{month}"
        return every
    return ""


def plan_rows(plan: Plan, skip: Set[int | None] = frozenset()) -> list[dict[str, Cell]]:
    """The plan tab's row of every task whose STT is not in `skip`, by column key."""
    names = {u.code: u.name for u in plan.registry.units}
    return [{"stt": t.stt, "task": t.task, "results": t.results, "schedule": t.schedule,
             "assignment": t.assignment, "note": t.note,
             "lead": "; ".join(names[c] for c in t.lead), "support": "; ".join(names[c] for c in t.support),
             "deadline": describe_schedule(plan.schedule(t))} for t in plan.tasks if t.stt not in skip]


def tracking_rows(plan: Plan, skip: Set[tuple[int | None, str | None]] = frozenset()) -> list[dict[str, Cell]]:
    """The tracking tab's row of every (task, unit) whose (STT, unit code) is not in `skip`, by column key."""
    return [{"stt": task.stt, "task": task.task, "unit": unit.name, "role": ROLES[role]}
            for task, unit, role in plan.assignments() if (task.stt, unit.code) not in skip]


def build_init(plan: Plan, snapshot: Snapshot, layout: Layout, where: str = "init",
               aids: Aids | None = None) -> WriteSet:
    """`aids`: what the guide tab states and who edits which rows (sync.sheet.layout); defaults without settings."""
    ws = WriteSet()
    tabs = layout.tabs
    plan_tab = _ensure(ws, snapshot, tabs["plan"])
    track_tab = _ensure(ws, snapshot, tabs["tracking"])
    dash_tab = _ensure(ws, snapshot, tabs["dashboard"])
    log_tab = _ensure(ws, snapshot, tabs["log"])
    for key in JOB_TABS:  # protected, written by the job: never a tab holding anyone's rows
        refuse_overwrite(snapshot, tabs[key], key, {"tracking": layout.tracking_columns, "plan": layout.plan_columns},
                         where)

    # Both checked before anything is laid out: a duplicated or renamed header stops init (UserError).
    plan_cols = _ensure_headers(ws, plan_tab, layout.plan_columns, where)
    track_cols = _ensure_headers(ws, track_tab, layout.tracking_columns, where)
    plan_view = Table(plan_tab, 1, plan_cols, merge_index(plan_tab), where)  # merged cells read as they show
    one_row_per_task(plan_view)  # an STT merged across tasks stops init (UserError)
    have = {as_stt(plan_view.value(r, "stt")) for r in range(2, len(plan_tab.rows) + 1)}
    _append(ws, plan_tab, plan_cols, plan_rows(plan, skip=have))

    track_view = Table(track_tab, 1, track_cols, merge_index(track_tab))
    have_pairs: set[tuple[int | None, str | None]] = set()
    for r in range(2, len(track_tab.rows) + 1):
        unit = plan.registry.match(track_view.value(r, "unit"))
        have_pairs.add((as_stt(track_view.value(r, "stt")), unit.code if unit else None))
    _append(ws, track_tab, track_cols, tracking_rows(plan, skip=have_pairs))

    log_cols = _ensure_headers(ws, log_tab, layout.log_columns)
    office_tab = _ensure(ws, snapshot, tabs["office"])  # the Office's own words for each report (OfficeTexts)
    office_cols = _ensure_headers(ws, office_tab, layout.office_columns, where)
    if not dash_tab.rows:
        ws.set(dash_tab.name, 1, 1, "Chưa có số liệu: chạy 'python -m sync run' để tổng hợp.")

    track_rows = max(len(track_tab.rows), 1) + len(ws.cells.get(track_tab.name, {})) + SPARE_ROWS
    last_col = max(track_cols.values())
    ws.formats = [
        TabFormat(plan_tab.name, widths=_widths(plan_cols, PLAN_WIDTHS), wrap_columns=_cols(plan_cols, WRAPPED),
                  protect_tab=True, editable_columns=_cols(plan_cols, ("deadline", "note"))),
        TabFormat(track_tab.name, widths=_widths(track_cols, TRACKING_WIDTHS),
                  wrap_columns=_cols(track_cols, WRAPPED),
                  dropdowns=(Dropdown(track_cols["status"], 2, track_rows, tuple(STATUSES.values())),),
                  row_colours=FLAG_COLOURS, colour_column=track_cols["flags"], colour_last_col=last_col,
                  colour_last_row=track_rows, protect_columns=_cols(track_cols, JOB_COLUMNS),
                  inputs=input_rules(track_cols, layout.tracking_columns, 2, track_rows, plan.year)),
        TabFormat(dash_tab.name, frozen_rows=0, protect_tab=True),
        TabFormat(log_tab.name, widths={c: 20 for c in log_cols.values()}, protect_tab=True),
        TabFormat(office_tab.name, widths=_widths(office_cols, OFFICE_WIDTHS),
                  wrap_columns=_cols(office_cols, ("text", "check")), protect_columns=_cols(office_cols, ("check",))),
    ]
    for_init(ws, plan, snapshot, layout, aids or Aids(), track_cols, track_tab.name)
    return ws


def _ensure(ws: WriteSet, snapshot: Snapshot, name: str) -> Tab:
    tab = snapshot.find_tab(name)
    if tab is None:
        ws.new_tabs.append(name)
        tab = Tab(name)
    return tab


def _ensure_headers(ws: WriteSet, tab: Tab, headers: dict[str, str], where: str = "") -> dict[str, int]:
    """Column of every header, adding the missing ones after the last used header cell.

    With `where` (the plan and tracking tabs), a duplicated header or a missing one with a close header
    present stops init instead: adding an empty twin of a renamed column would make every figure wrong."""
    scan = scan_headers(tab, headers)
    if where:
        check_headers(tab, scan, headers, where)
    row, columns = scan.row, dict(scan.columns)
    row = row or 1
    header = tab.rows[row - 1] if len(tab.rows) >= row else []
    used = len(header)
    while used and header[used - 1] in (None, ""):
        used -= 1
    for key, name in headers.items():
        if key not in columns:
            used += 1
            columns[key] = used
            ws.set(tab.name, row, used, name)
    return columns


def _append(ws: WriteSet, tab: Tab, columns: dict[str, int], rows: list[dict[str, Cell]]) -> None:
    """New rows after the last used one and below every merged range that reaches that far (a merge's hidden
    cells cannot hold a value: a row written into one would be cut in half, its task or unit lost)."""
    if not rows:
        return
    start = below_merges(tab, max(last_used_row(tab), 1) + 1, len(rows))
    for offset, row in enumerate(rows):
        for key, value in row.items():
            if key in columns:
                ws.set(tab.name, start + offset, columns[key], value)


def _widths(columns: dict[str, int], widths: Mapping[str, float]) -> dict[int, float]:
    return {col: widths[key] for key, col in columns.items() if key in widths}


def _cols(columns: dict[str, int], keys: Iterable[str]) -> tuple[int, ...]:
    return tuple(columns[k] for k in keys if k in columns)

"""The `Hướng dẫn` tab: how units fill the tracking tab, in plain Vietnamese, generated from the plan and settings.

Pure: a plan, the tab and header names in force and a few settings in, a `Styled` grid out. Everything that
changes with the year or the configuration (column names, the quarters' data windows and cut-offs, each task's
deadline, the units and their addresses, who to contact) comes from its one source, so the guide is right for
any year's plan. `init` writes it and every pass rewrites it when it differs from what the sheet shows (a unit
who typed into it, a new plan, a renamed column).
"""
from __future__ import annotations

from dataclasses import dataclass

from sync.core.deadlines import ScheduleKind, format_date, result_period
from sync.core.plan import Plan
from sync.core.schema import FLAG_PREFIXES, JOB_TAB_TITLES, QUARTER_KEYS, ROMAN, STATUSES, FlagKind, Layout, Status
from sync.core.text import nfc, shorten
from sync.core.workbook import Cell, Styled, Tab
from sync.sheet.grid import Grid

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


def render(plan: Plan, layout: Layout, facts: GuideFacts) -> Styled:
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


def differs(tab: Tab | None, styled: Styled) -> bool:
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

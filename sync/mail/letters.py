"""What the e-mails say. Pure: a pass's Summary in, subjects and bodies out (Vietnamese, plain text).

Two letters: the quarterly report's cover note (figures from the same Summary as the report), and one
reminder digest per unit listing what that unit has to fix in the sheet.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sync.core.deadlines import format_date
from sync.core.plan import Plan, Unit
from sync.core.schema import ROMAN, FlagKind, Layout, shorten, vn_number
from sync.core.summary import Kpis, Summary

SIGNATURE = ("Thư này do công cụ theo dõi Kế hoạch tuyên truyền CCHC của Văn phòng Sở gửi tự động; "
             "nếu có sai sót, xin liên hệ Văn phòng Sở.")


def report_subject(period_name: str) -> str:
    return f"[CCHC] Dự thảo báo cáo kết quả tuyên truyền cải cách hành chính {period_name}"


#: What the leadership and Văn thư do with the draft (docs/design.md): the job never sends the official report.
NEXT_STEPS = (
    "Các bước tiếp theo:\n"
    "1. Lãnh đạo Sở xem dự thảo, cho ý kiến hoặc chỉnh sửa trực tiếp trên tệp .docx đính kèm.\n"
    "2. Văn thư cho số, ghi ngày ban hành và bỏ dòng \"DỰ THẢO\" ở đầu văn bản.\n"
    "3. Lãnh đạo Sở ký số văn bản.\n"
    "4. Văn thư phát hành qua hệ thống quản lý văn bản và điều hành tới nơi nhận ghi trong báo cáo.\n"
    "Thư này chỉ gửi nội bộ; công cụ không gửi báo cáo chính thức tới cơ quan nào.")


def report_body(period_name: str, as_of: dt.date, kpis: Kpis, where: str, missing: int) -> str:
    """The draft's cover note for the Sở's leadership and Văn thư: the figures as the report prints them (same
    data date, same totals), then what to do with the draft."""
    rate = "" if kpis.on_time_rate is None else f"\n- Tỷ lệ hoàn thành đúng hạn: {vn_number(kpis.on_time_rate)}%"
    unknown = f"; chưa rõ tình trạng: {kpis.unknown_status}" if kpis.unknown_status else ""
    tasks = (f"- Nhiệm vụ: hoàn thành {kpis.tasks_done}/{kpis.tasks}; đang thực hiện: {kpis.tasks_in_progress}; "
             f"chưa thực hiện: {kpis.tasks_not_started}; không thực hiện: {kpis.tasks_cancelled}; chậm tiến độ: "
             f"{kpis.tasks_late}\n") if kpis.tasks else ""
    return (
        f"Kính gửi: Ban Giám đốc Sở và Văn thư Sở,\n\n"
        f"Văn phòng Sở gửi kèm dự thảo báo cáo kết quả thực hiện Kế hoạch tuyên truyền cải cách hành chính "
        f"{period_name} (số liệu tính đến ngày {format_date(as_of)}), chưa có số, ngày và chữ ký.\n\n"
        f"Tóm tắt:\n{tasks}"
        f"- Hoàn thành: {kpis.done}/{kpis.rows} lượt phân công\n"
        f"- Đang thực hiện: {kpis.in_progress}; chưa thực hiện: {kpis.not_started}; "
        f"không thực hiện: {kpis.cancelled}{unknown}\n"
        f"- Quá hạn: {kpis.overdue}\n"
        f"- Kết quả quý các đơn vị còn thiếu: {missing}{rate}\n\n"
        f"{NEXT_STEPS}\n\n"
        f"Bảng theo dõi: {where}\n\n{SIGNATURE}\n")


@dataclass
class Digest:
    unit: Unit
    overdue: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.missing or self.errors)

    @property
    def subject(self) -> str:
        parts = [f"{len(items)} {label}" for items, label in
                 ((self.overdue, "quá hạn"), (self.missing, "thiếu kết quả quý"), (self.errors, "lỗi nhập liệu"))
                 if items]
        return f"[CCHC] Nhắc cập nhật bảng theo dõi - {self.unit.label}: {', '.join(parts)}"

    def body(self, as_of: dt.date, where: str, tab: str, interval_days: int) -> str:
        sections: list[str] = []
        for title, items in (("Nhiệm vụ quá hạn", self.overdue), ("Kết quả quý còn thiếu", self.missing),
                             ("Lỗi nhập liệu cần sửa", self.errors)):
            if items:
                sections.append(f"{len(sections) + 1}. {title} ({len(items)}):\n"
                                + "\n".join(f"   - {i}" for i in items))
        return (f"Kính gửi: {self.unit.name},\n\n"
                f"Văn phòng Sở đề nghị đơn vị cập nhật các nội dung sau trong bảng theo dõi Kế hoạch tuyên truyền "
                f"cải cách hành chính (tính đến ngày {format_date(as_of)}):\n\n"
                + "\n\n".join(sections)
                + f"\n\nBảng theo dõi: {where} (tab '{tab}'). Sau khi đơn vị cập nhật, cột Kiểm tra và Cảnh báo "
                  f"sẽ tự xóa ở lượt kiểm tra tiếp theo.\n"
                  f"Mỗi đơn vị nhận tối đa một thư nhắc trong {interval_days} ngày.\n\n{SIGNATURE}\n")


def digests(summary: Summary, plan: Plan, layout: Layout) -> list[Digest]:
    """One digest per unit of the registry, in registry order (empty ones included: callers skip them)."""
    by_code = {u.code: Digest(u) for u in plan.registry.units}
    for r in summary.results:
        c = r.checked
        if not (c.counted and c.unit and c.task):
            continue
        d = by_code[c.unit.code]
        label = f"Nhiệm vụ {c.task.stt} - {shorten(c.task.task, 70)}"
        for f in r.flags:
            if f.kind == FlagKind.OVERDUE:
                d.overdue.append(f"{label}: hạn {format_date(c.due)}, đã quá {f.days} ngày (dòng {c.entry.row})")
            elif f.kind == FlagKind.MISSING:
                d.missing.append(f"{label}: chưa nhập Kết quả Quý {ROMAN[f.quarter]} (dòng {c.entry.row})")
    headers = {"tracking": layout.tracking_columns, "plan": layout.plan_columns}
    for issue in summary.errors:
        unit = plan.registry.match(issue.unit)
        if unit is None or issue.tab != "tracking":
            continue  # rows no unit can be told about stay on the dashboard for the Office
        column = headers[issue.tab].get(issue.column, issue.column)
        by_code[unit.code].errors.append(f"Dòng {issue.row}, cột {column}: {issue.message}")
    return list(by_code.values())

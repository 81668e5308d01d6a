"""What helps each unit work in its own rows: the guide tab, typed input, row protection by unit, saved views.

Pure: plain data in, additions to a WriteSet out. `init` lays out the guide, the typed input of the tracking tab
and the views (`for_init`); every pass keeps the guide current and, on Google with `google.protect_rows`,
restates which rows each unit may edit as of this pass's read (`for_pass`), since sorting or inserting rows
moves them. The backends turn these into requests of the pass's one write (sync/backends/google_protect.py);
the local workbook takes the guide and the typed input only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sync.core.plan import Plan
from sync.core.schema import STATUSES, Layout, Status
from sync.core.tables import Table
from sync.core.text import bare_address, is_address
from sync.core.workbook import InputRule, RowOwners, Snapshot, Styled, TabFormat, UnitRows, ViewSpec, WriteSet
from sync.sheet.guide import GuideFacts, differs, render

if TYPE_CHECKING:
    from sync.core.config import Settings

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
    styled = render(plan, layout, aids.facts)
    if always or differs(tab, styled):
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


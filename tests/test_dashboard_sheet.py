"""The `Tổng hợp` tab as written, on both backends: every header and value shown whole (or wrapped),
numbers right-aligned and vertically centred, the figures adding up, and the chart there once.

The local tab is read back from the .xlsx with openpyxl; the Google tab from the Sheets API stand-in's
store after real HTTP passes. Both are turned into the same neutral picture and checked by one set of
rules, written here from what a reader sees, not from the layout code."""
from __future__ import annotations

import datetime as dt
import math
import shutil
from dataclasses import dataclass

import openpyxl
import pytest

from sync.backends.local import LocalBackend
from sync.core.history import AsOf
from sync.core.schema import Layout
from sync.sheet.layout import build_init
from sync.sheet.sync_pass import PassOptions
from sync.usecases.demo import seed
from sync.usecases.pipeline import run_pass

from .conftest import AS_OF
from .test_google import api, backend, key  # noqa: F401  (fixtures)

OPTS = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8, 0))
DASH = "Tổng hợp"
STATUSES = ("Hoàn thành", "Đang thực hiện", "Chưa thực hiện", "Không thực hiện", "Chưa rõ tình trạng")
PX_PER_CHAR = 7


@dataclass
class Shown:
    value: object
    text: str
    bold: bool
    size: float
    wrap: bool
    horizontal: str | None
    vertical: str | None


@dataclass
class Picture:
    cells: dict[tuple[int, int], Shown]
    widths: dict[int, float]  # characters
    merges: list[tuple[int, int, int, int]]
    heights: dict[int, float]  # points, where set


def _text(value, number_format: str | None) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:.1f}" if number_format and "0.0" in number_format else repr(value)
    return str(value)


def local_picture(path) -> Picture:
    ws = openpyxl.load_workbook(path)[DASH]
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value in (None, ""):
                continue
            cells[(c.row, c.column)] = Shown(c.value, _text(c.value, c.number_format), bool(c.font.b),
                                             float(c.font.sz or 11), bool(c.alignment.wrap_text),
                                             c.alignment.horizontal, c.alignment.vertical)
    widths = {openpyxl.utils.column_index_from_string(k): d.width for k, d in ws.column_dimensions.items()
              if d.width}
    merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    return Picture(cells, widths, merges, heights)


GOOGLE_ALIGN = {"LEFT": "left", "RIGHT": "right", "CENTER": "center", "MIDDLE": "center", "TOP": "top",
                "BOTTOM": "bottom"}


def google_picture(sheet) -> Picture:
    cells = {}
    for (r, c), data in sheet.cells.items():
        value = next(iter(data.get("userEnteredValue", {}).values()), None)
        if value in (None, ""):
            continue
        fmt = data.get("userEnteredFormat", {})
        number = fmt.get("numberFormat", {})
        if number.get("type") == "DATE":
            value = dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
        text_format = fmt.get("textFormat", {})
        cells[(r + 1, c + 1)] = Shown(value, _text(value, number.get("pattern")), bool(text_format.get("bold")),
                                      float(text_format.get("fontSize", 10)) * 1.1,  # Sheets' 10 pt ≈ Calc's 11
                                      fmt.get("wrapStrategy") == "WRAP",
                                      GOOGLE_ALIGN.get(fmt.get("horizontalAlignment", "LEFT")),  # the default
                                      GOOGLE_ALIGN.get(fmt.get("verticalAlignment")))
    widths = {c + 1: px / PX_PER_CHAR for c, px in sheet.column_sizes.items()}
    merges = [(m["startRowIndex"] + 1, m["startColumnIndex"] + 1, m["endRowIndex"], m["endColumnIndex"])
              for m in sheet.merges]
    return Picture(cells, widths, merges, {})


# --- the rules ------------------------------------------------------------------------------------------

def check_layout(p: Picture) -> None:
    spans = {(r1, c1): range(c1, c2 + 1) for r1, c1, r2, c2 in p.merges}
    covered = {(r, c) for r1, c1, r2, c2 in p.merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
               if (r, c) != (r1, c1)}
    assert p.cells and not covered & set(p.cells), "a value hidden under a merged cell"
    for (r, c), cell in p.cells.items():
        width = sum(p.widths.get(col, 8.43) for col in spans.get((r, c), [c]))
        scale = cell.size / 11 * (1.1 if cell.bold else 1.0)
        if not cell.wrap:
            assert "\n" not in cell.text and len(cell.text) * scale + 1 <= width, \
                f"'{cell.text}' ({len(cell.text)} chars) does not fit column {c} ({width:.0f}) in row {r} and does " \
                "not wrap"
        elif p.heights:  # local: the row was made tall enough for the wrapped text (running text is at least
            least = math.ceil(len(cell.text) * scale * 0.8 / width)  # 0.8 digit widths a character on average)
            assert p.heights.get(r, 15) >= 12 * least, f"row {r} too short for '{cell.text[:30]}…'"
        assert cell.vertical == "center", f"{cell.text!r} in row {r} is not vertically centred"
        if isinstance(cell.value, (int, float, dt.date)) and not isinstance(cell.value, bool):
            assert cell.horizontal in ("right", "center"), f"number {cell.text} in row {r} is not right-aligned"
            if cell.horizontal == "center":  # only headers and a list's STT in column A are centred
                assert cell.bold or c == 1, f"number {cell.text} in row {r} is centred"
    texts = [c.text for c in p.cells.values()]
    assert "Tab" not in texts and "Trang tính" in texts


def rows_of(p: Picture) -> list[list]:
    last_row = max(r for r, _ in p.cells)
    last_col = max(c for _, c in p.cells)
    return [[p.cells[(r, c)].value if (r, c) in p.cells else None for c in range(1, last_col + 1)]
            for r in range(1, last_row + 1)]


def check_figures(p: Picture) -> None:
    rows = rows_of(p)
    kpis = {}
    start = next(i for i, r in enumerate(rows) if "Chỉ số" in r)
    for r in rows[start + 1:]:
        if not any(v is not None for v in r):
            break
        kpis[r[1]] = r[2]
    rows_total = kpis["Số dòng phân công (đơn vị × nhiệm vụ)"]
    assert sum(kpis[s] for s in STATUSES) + kpis["Dòng ngoài kế hoạch hoặc trùng (không tính)"] == rows_total
    head = next(i for i, r in enumerate(rows) if "Đơn vị" in r and "Số dòng phân công" in r)
    header = rows[head]
    status_cols = [header.index(s) for s in STATUSES]
    n_col = header.index("Số dòng phân công")
    body = []
    for r in rows[head + 1:]:
        if "Tổng cộng" in r:
            total = r
            break
        body.append(r)
    assert len(body) == 6
    for r in body + [total]:
        assert sum(r[i] for i in status_cols) == r[n_col]
    for i in range(header.index("Số dòng phân công"), len(header)):
        if header[i] is not None:
            assert total[i] == sum(r[i] for r in body), header[i]
    assert total[n_col] == rows_total - kpis["Dòng ngoài kế hoạch hoặc trùng (không tính)"]


# --- local ------------------------------------------------------------------------------------------------

@pytest.fixture
def local_demo(demo_workbook, tmp_path):
    """`init`, the demo's entries and a pass at AS_OF, 08:00 (OPTS): conftest's demo workbook, copied."""
    shutil.copyfile(demo_workbook, tmp_path / "demo.xlsx")
    return tmp_path / "demo.xlsx"


def test_local_dashboard_layout_and_figures(local_demo):
    picture = local_picture(local_demo)
    check_layout(picture)
    check_figures(picture)


def test_local_dashboard_has_one_stacked_bar_chart_of_the_unit_table(local_demo, plan):
    run_pass(LocalBackend(local_demo), plan, Layout(), OPTS)  # a second pass: still one chart
    ws = openpyxl.load_workbook(local_demo)[DASH]
    [chart] = ws._charts
    assert chart.type == "bar" and chart.grouping == "stacked" and chart.overlap == 100
    rows = rows_of(local_picture(local_demo))
    head = next(i for i, r in enumerate(rows, start=1) if "Đơn vị" in r and "Số dòng phân công" in r)
    header = rows[head - 1]
    refs = [s.val.numRef.f for s in chart.series]
    letters = [openpyxl.utils.get_column_letter(header.index(s) + 1) for s in STATUSES]
    assert refs == [f"'{DASH}'!${col}${head + 1}:${col}${head + 6}" for col in letters]
    assert [s.tx.strRef.f.replace("$", "") for s in chart.series] == [f"'{DASH}'!{col}{head}" for col in letters]


# --- Google -----------------------------------------------------------------------------------------------

def test_google_dashboard_layout_figures_and_one_chart_kept(api, key, plan):
    b = backend(api, key)
    snap = b.read()
    b.write(snap, build_init(plan, snap, Layout()))
    seed(b, plan, AS_OF)
    book = api.store.books[b.spreadsheet_id]
    charts = []
    for _ in range(2):
        start = len(api.api_requests())
        run_pass(b, plan, Layout(), OPTS)
        done = api.api_requests()[start:]
        assert len(done) <= 4
        sheet = book.sheet(title=DASH)
        assert len(sheet.charts) == 1
        charts.append(sheet.charts[0])
        kinds = [next(iter(r)) for r in done[-1].body["requests"]]
        assert ("addChart" in kinds) == (len(charts) == 1) and ("updateChartSpec" in kinds) == (len(charts) == 2)
    assert charts[0]["chartId"] == charts[1]["chartId"]
    spec = charts[1]["spec"]
    assert spec["title"] and spec["basicChart"]["stackedType"] == "STACKED"
    assert spec["basicChart"]["chartType"] == "BAR" and len(spec["basicChart"]["series"]) == len(STATUSES)
    picture = google_picture(sheet)
    check_layout(picture)
    check_figures(picture)
    # the series are the unit table's status columns
    rows = rows_of(picture)
    head = next(i for i, r in enumerate(rows) if "Đơn vị" in r and "Số dòng phân công" in r)
    cols = [s["series"]["sourceRange"]["sources"][0]["startColumnIndex"] for s in spec["basicChart"]["series"]]
    assert [rows[head][c] for c in cols] == list(STATUSES)


def test_google_chart_deleted_by_hand_comes_back_and_copies_go(api, key, plan):
    b = backend(api, key)
    snap = b.read()
    b.write(snap, build_init(plan, snap, Layout()))
    run_pass(b, plan, Layout(), OPTS)
    sheet = api.store.books[b.spreadsheet_id].sheet(title=DASH)
    first = sheet.charts[0]
    sheet.charts.append({**first, "chartId": first["chartId"] + 1})  # a copy someone made
    run_pass(b, plan, Layout(), OPTS)
    sheet = api.store.books[b.spreadsheet_id].sheet(title=DASH)
    assert [c["chartId"] for c in sheet.charts] == [first["chartId"]]
    sheet.charts.clear()  # deleted by hand
    run_pass(b, plan, Layout(), OPTS)
    assert len(api.store.books[b.spreadsheet_id].sheet(title=DASH).charts) == 1


# --- the tracking tab: flags with their dates, colours still found, several messages readable --------------

def test_flag_texts_carry_the_date_and_still_pick_their_row_colour():
    from sync.core.schema import FLAG_COLOURS, flag_due_soon, flag_late, flag_missing, flag_overdue, flag_undated
    day = dt.date(2024, 6, 14)
    expected = {"overdue": "Quá hạn", "missing": "Thiếu kết quả", "due_soon": "Sắp đến hạn",
                "late": "Hoàn thành trễ", "undated": "Chưa xác định hạn"}
    flags = [flag_overdue(204, dt.date(2024, 2, 29)), flag_due_soon(3, day), flag_missing(2, day),
             flag_late(5, day), flag_undated()]
    assert [f.text for f in flags[:3]] == ["Quá hạn 204 ngày (hạn 29/02/2024)",
                                           "Sắp đến hạn (còn 3 ngày, hạn 14/06/2024)",
                                           "Thiếu kết quả Quý II (hạn 14/06/2024)"]
    for f in flags:  # the first rule whose text the cell contains (SEARCH is case-insensitive) colours the row
        first = next(text for text, _ in FLAG_COLOURS if text.lower() in f.text.lower())
        assert first == expected[f.kind], f.text


def test_a_check_cell_with_several_messages_shows_them_all(local_demo):
    ws = openpyxl.load_workbook(local_demo)["Theo dõi"]
    header = [c.value for c in ws[1]]
    check, flags = header.index("Kiểm tra") + 1, header.index("Cảnh báo") + 1
    width = ws.column_dimensions[openpyxl.utils.get_column_letter(check)].width
    several = [r for r in range(2, ws.max_row + 1) if "\n" in (ws.cell(row=r, column=check).value or "")]
    assert several
    for r in several:
        cell = ws.cell(row=r, column=check)
        assert cell.alignment.wrap_text
        lines = sum(math.ceil(len(part) / width) for part in cell.value.split("\n"))
        assert (ws.row_dimensions[r].height or 15) >= 12 * lines, f"row {r}"
    overdue = [ws.cell(row=r, column=flags).value for r in range(2, ws.max_row + 1)
               if "Quá hạn" in (ws.cell(row=r, column=flags).value or "")]
    assert overdue and all("(hạn " in text for text in overdue)

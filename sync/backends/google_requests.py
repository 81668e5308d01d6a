"""The Sheets API request bodies of a pass: pure, no HTTP, no gspread objects.

Given what the read saw (the spreadsheets.get metadata as plain JSON, and the Snapshot) and a WriteSet, these
are the requests of the pass's one spreadsheets.batchUpdate (`build`), the row-key ranges re-read just before
it (`key_ranges`) and how to tell whether they moved (`keys_moved`), and what a refused batch means when it
names an addSheet (`tab_appeared`). Unit-tested in tests/test_google_requests.py; the stand-in (tests/sheets_api)
checks every body against the API's schema.

Values are RAW CellData: text stays text (a leading '=' never becomes a formula), dates become serial numbers
of the one sheet epoch (sync.core.deadlines.EXCEL_EPOCH).

The dashboard, a job-owned `Styled` grid, is rendered among them: values and per-cell formats (style, alignment, wrap,
number formats) in one updateCells over the whole grid; the merges we made last time undone and made again; column
widths; the chart kept by its title: updated in place (updateChartSpec) when the tab has it, added (addChart) when not,
extra copies deleted.

Among them too, the bodies for what keeps units in their own rows on the Google Sheet:

* typed input (`input_requests`): setDataValidation that warns (strict: false) with a Vietnamese help message;
* rows by unit (`row_requests`): one protected range per run of a unit's rows, editors the unit's addresses, the
  Office's and the service account. Sorting or inserting rows moves the rows but not the ranges, so each pass
  compares the ranges the read showed with where the rows are now: a range still right is kept, a range no
  longer right is deleted, a missing one added; a pass with nothing moved sends none of these requests;
* saved views (`view_requests`): a filter view per unit and one of open items, added where missing; a view of
  ours a unit renamed is named back, with a message.

All of it rides in the pass's one spreadsheets.batchUpdate (`extra`). Google refuses the whole batch when it
refuses one editor (an address outside the organisation, say): `without_extras` tells the backend to send the
batch again without these requests, so the cells are still written, and says why.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
from collections.abc import Callable
from typing import Any

from gspread.utils import absolute_range_name, convert_hex_to_colors_dict

from sync.core.deadlines import EXCEL_EPOCH
from sync.core.schema import FLAG_COLOURS, fold
from sync.core.tables import below_merges, last_used_row, letters
from sync.core.workbook import Cell, Chart, InputRule, RowOwners, Snapshot, Styled, TabFormat, ViewSpec, WriteSet

Json = dict[str, Any]

#: Description of the protected range of a unit's rows. Not the "[CCHC] " tag of the job's other protected ranges:
#: `init` deletes and adds those wholesale, these are kept while they still fit.
ROW_TAG = "[CCHC đơn vị] "
#: Fields of the filter views the read asks for (google_requests.META_FIELDS).
VIEW_FIELDS = "filterViews(filterViewId,title,range,filterSpecs)"


# --- typed input -------------------------------------------------------------------------------------------

def input_requests(sid: int, fmt: TabFormat, need: Callable[[str, int, int], None]) -> list[Json]:
    """One setDataValidation per rule of `fmt`; `need` grows the grid to hold its range."""
    out = []
    for rule in fmt.inputs:
        need(fmt.tab, rule.last_row, rule.column)
        out.append({"setDataValidation": {
            "range": {"sheetId": sid, "startRowIndex": rule.first_row - 1, "endRowIndex": rule.last_row,
                      "startColumnIndex": rule.column - 1, "endColumnIndex": rule.column},
            "rule": {"condition": _condition(rule), "inputMessage": _message(rule), "strict": False}}})
    return out


def _condition(rule: InputRule) -> Json:
    cell = f"{letters(rule.column)}{rule.first_row}"  # relative: Sheets moves it down the range
    if rule.kind == "date":
        return {"type": "DATE_IS_VALID"}
    if rule.kind == "whole":
        return {"type": "CUSTOM_FORMULA",
                "values": [{"userEnteredValue": f"=AND(ISNUMBER({cell}),{cell}>=0,{cell}=INT({cell}))"}]}
    return {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "=TRUE"}]}  # the message alone


def _message(rule: InputRule) -> str:
    return rule.message + (f" ({rule.warning})" if rule.warning else "")


# --- the pass's additions ---------------------------------------------------------------------------------

def extra(meta: dict[str, Json], requests_: list[Json], changes: WriteSet, account: str) -> tuple[list[Json],
                                                                                                   list[str]]:
    """The requests to append to the batch `requests_` (built from `changes`), and what to tell the Office."""
    ids = {t: s["properties"]["sheetId"] for t, s in meta.items()}
    ids.update({r["addSheet"]["properties"]["title"]: r["addSheet"]["properties"]["sheetId"]
                for r in requests_ if "addSheet" in r})
    out: list[Json] = []
    said: list[str] = []
    if changes.row_owners is not None and changes.row_owners.tab in ids:
        out += row_requests(changes.row_owners, ids[changes.row_owners.tab],
                            meta.get(changes.row_owners.tab, {}).get("protectedRanges", []), account)
    for spec in changes.views:
        if spec.tab in ids:
            requests, note = view_requests(spec, ids[spec.tab], meta.get(spec.tab, {}).get("filterViews", []))
            out += requests
            said += [note] if note else []
    return out, said


def row_requests(owners: RowOwners, sid: int, existing: list[Json], account: str) -> list[Json]:
    """Delete our ranges that no longer fit the rows, add those missing; keep the rest untouched."""
    wanted: list[Json] = []
    for unit in owners.units:
        users = sorted(dict.fromkeys([*unit.editors, account.lower()]))
        for first, last in unit.runs:
            wanted.append({"range": {"sheetId": sid, "startRowIndex": first - 1, "endRowIndex": last,
                                     "startColumnIndex": 0, "endColumnIndex": owners.last_col},
                           "description": row_description(unit.name, users), "warningOnly": False,
                           "editors": {"users": users}})
    by_place = {_place(w): w for w in wanted}  # a unit's runs never overlap: one wanted range per place
    out: list[Json] = []
    for old in existing:
        if not (old.get("description") or "").startswith(ROW_TAG):
            continue
        match = by_place.get(_place(old))
        if match is not None and _fits(old, match):
            del by_place[_place(old)]
        else:
            out.append({"deleteProtectedRange": {"protectedRangeId": old["protectedRangeId"]}})
    return out + [{"addProtectedRange": {"protectedRange": w}} for w in by_place.values()]


def _place(pr: Json) -> tuple[Any, ...]:
    g = pr.get("range", {})
    return (pr.get("description"), *(g.get(k, 0) for k in ("startRowIndex", "endRowIndex", "startColumnIndex",
                                                            "endColumnIndex")))


def row_description(unit: str, users: list[str]) -> str:
    """What the Sheets UI lists for a unit's range: the unit, and a code of the editors we gave it, so a range whose
    editors we would now give otherwise (an address changed in the plan) no longer fits and is replaced."""
    code = hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:6]
    return f"{ROW_TAG}{unit} (mã {code})"


def _fits(old: Json, want: Json) -> bool:
    """Same unit and editors (by the description), same rows and columns, and every editor we gave still there
    (Google lists others too, such as the file's owner)."""
    if _place(old) != _place(want) or old.get("warningOnly", False):
        return False
    have = {fold(u) for u in (old.get("editors") or {}).get("users", [])}
    return {fold(u) for u in want["editors"]["users"]} <= have


def view_requests(spec: ViewSpec, sid: int, existing: list[Json]) -> tuple[list[Json], str | None]:
    """Nothing when the view is there; its name back when a unit renamed it; else add it."""
    if any(fold(v.get("title")) == fold(spec.title) for v in existing):
        return [], None
    body = _view(spec, sid)
    renamed = next((v for v in existing if _signature(v) == _signature(body)), None)
    if renamed is not None:
        return ([{"updateFilterView": {"filter": {"filterViewId": renamed["filterViewId"], "title": spec.title},
                                       "fields": "title"}}],
                f"Chế độ lọc '{renamed.get('title', '')}' của tab '{spec.tab}' là chế độ '{spec.title}' bị đổi tên; "
                f"đã đặt lại tên '{spec.title}' (hướng dẫn và README dùng tên này). Muốn một chế độ lọc riêng, hãy "
                "tạo chế độ mới thay vì đổi tên.")
    return [{"addFilterView": {"filter": body}}], None


def _view(spec: ViewSpec, sid: int) -> Json:
    criteria: Json = {"condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": spec.shown}]}} \
        if spec.shown else {"hiddenValues": list(spec.hidden)}
    body: Json = {"title": spec.title,
                  "range": {"sheetId": sid, "startRowIndex": 0, "startColumnIndex": 0, "endColumnIndex": spec.last_col},
                  "filterSpecs": [{"columnIndex": spec.column - 1, "filterCriteria": criteria}]}
    if spec.sort_column:
        body["sortSpecs"] = [{"dimensionIndex": spec.sort_column - 1, "sortOrder": "ASCENDING"}]
    return body


def _signature(view: Json) -> tuple[Any, ...]:
    """What a view shows, whatever its title: its filtered column and the values shown or hidden."""
    specs = view.get("filterSpecs") or []
    if len(specs) != 1:
        return ()
    criteria = specs[0].get("filterCriteria") or {}
    shown = tuple(fold(v.get("userEnteredValue")) for v in (criteria.get("condition") or {}).get("values", []))
    return specs[0].get("columnIndex", 0), shown, tuple(fold(v) for v in criteria.get("hiddenValues", []))


# --- a batch refused for one of these requests ----------------------------------------------------------------

def without_extras(message: str, base: int, extras: list[Json]) -> str | None:
    """When Google's 400 `message` names one of the `extras` (appended after `base` requests): what to say, and the
    backend sends the batch again without them (batchUpdate is all-or-nothing: nothing was applied). None: the
    refusal is about another request."""
    found = re.search(r"requests\[(\d+)\]", message)
    if not extras or not found or not base <= int(found.group(1)) < base + len(extras):
        return None
    return (f"Google từ chối phần khóa dòng theo đơn vị hoặc chế độ lọc ({message.strip()}); các ô của lượt chạy "
            "vẫn được ghi, phần này chưa được cập nhật. Kiểm tra các địa chỉ trong 'google.office_editors' và "
            "'units[].email' của tệp kế hoạch: địa chỉ ngoài tổ chức có thể không được phép sửa bảng tính.")



PIXELS_PER_CHAR = 7
STYLE_FORMATS: dict[str, dict[str, Any]] = {"title": {"textFormat": {"bold": True, "fontSize": 14}},
                 "subtitle": {"textFormat": {"italic": True}},
                 "section": {"textFormat": {"bold": True, "fontSize": 12}},
                 "header": {"textFormat": {"bold": True}},
                 "total": {"textFormat": {"bold": True}}}
ALIGN = {"left": "LEFT", "right": "RIGHT", "center": "CENTER"}
DATE_PATTERN = "dd/mm/yyyy"


def cell_format(styled: Styled, r: int, c: int, value: Cell) -> dict[str, Any] | None:
    """The cell's userEnteredFormat; None for an empty plain cell (the write clears what it had)."""
    style = styled.styles.get(r)
    colour = styled.background(r, c)
    if value in (None, "") and style is None and colour is None:
        return None
    fmt = dict(STYLE_FORMATS.get(style or "", {}))
    if colour:
        fmt["backgroundColor"] = dict(convert_hex_to_colors_dict(colour))
    align = styled.alignment(r, c)
    if align != "left":  # the default, left out: the request of a big dashboard stays small
        fmt["horizontalAlignment"] = ALIGN[align]
    fmt["verticalAlignment"] = "MIDDLE"
    if (r, c) in styled.wrap:
        fmt["wrapStrategy"] = "WRAP"
    pattern = styled.number_formats.get((r, c))
    if isinstance(value, (dt.date, dt.datetime)):
        fmt["numberFormat"] = {"type": "DATE", "pattern": DATE_PATTERN}
    elif pattern:
        fmt["numberFormat"] = {"type": "NUMBER", "pattern": pattern}
    return fmt


def unmerge_requests(sid: int, size: tuple[int, int]) -> list[Json]:
    """Undo the tab's merges before this pass's grid lays its own: always, not only when the metadata read
    showed some, since a write of ours that landed late (after that read) may have merged cells since."""
    return [{"unmergeCells": {"range": {"sheetId": sid, "startRowIndex": 0, "endRowIndex": size[0],
                                        "startColumnIndex": 0, "endColumnIndex": size[1]}}}]


def merge_requests(sid: int, styled: Styled) -> list[Json]:
    """One mergeCells per run of consecutive rows merged over the same columns (MERGE_ROWS: a merge per row),
    so a long list costs a few requests, not one per row."""
    runs: list[list[int]] = []  # [first row, last row, first col, last col]
    multi = []
    for r1, c1, r2, c2 in sorted(styled.merges, key=lambda m: (m[1], m[3], m[0])):
        if r1 != r2:
            multi.append((r1, c1, r2, c2))
        elif runs and runs[-1][2:] == [c1, c2] and runs[-1][1] == r1 - 1:
            runs[-1][1] = r1
        else:
            runs.append([r1, r1, c1, c2])
    out = [{"mergeCells": {"mergeType": "MERGE_ROWS", "range": {
        "sheetId": sid, "startRowIndex": r1 - 1, "endRowIndex": r2, "startColumnIndex": c1 - 1,
        "endColumnIndex": c2}}} for r1, r2, c1, c2 in runs]
    return out + [{"mergeCells": {"mergeType": "MERGE_ALL", "range": {
        "sheetId": sid, "startRowIndex": r1 - 1, "endRowIndex": r2, "startColumnIndex": c1 - 1,
        "endColumnIndex": c2}}} for r1, c1, r2, c2 in multi]


def width_request(sid: int, col: int, chars: float) -> Json:
    return {"updateDimensionProperties": {"range": {"sheetId": sid, "dimension": "COLUMNS", "startIndex": col - 1,
                                                    "endIndex": col},
                                          "properties": {"pixelSize": int(chars * PIXELS_PER_CHAR)},
                                          "fields": "pixelSize"}}


def _source(sid: int, col: int, first_row: int, last_row: int) -> Json:
    return {"sourceRange": {"sources": [{"sheetId": sid, "startRowIndex": first_row - 1, "endRowIndex": last_row,
                                         "startColumnIndex": col - 1, "endColumnIndex": col}]}}


def chart_spec(sid: int, chart: Chart) -> Json:
    series = []
    for i, col in enumerate(chart.series_columns):
        one = {"series": _source(sid, col, chart.header_row, chart.last_row), "targetAxis": "BOTTOM_AXIS"}
        if i < len(chart.colours):
            one["colorStyle"] = {"rgbColor": dict(convert_hex_to_colors_dict(chart.colours[i]))}
        series.append(one)
    return {"title": chart.title, "basicChart": {
        "chartType": "BAR", "stackedType": "STACKED", "legendPosition": "BOTTOM_LEGEND", "headerCount": 1,
        "axis": [{"position": "BOTTOM_AXIS", "title": chart.axis_title}],
        "domains": [{"domain": _source(sid, chart.category_column, chart.header_row, chart.last_row)}],
        "series": series}}


def chart_requests(sid: int, chart: Chart | None, existing: list[Json]) -> list[Json]:
    """Keep one chart of this title on the tab: update the first found, delete copies, add when none."""
    same = [c for c in existing if (c.get("spec") or {}).get("title") == (chart.title if chart else None)]
    out = [{"deleteEmbeddedObject": {"objectId": c["chartId"]}} for c in same[1:]]
    if chart is None:
        return out
    spec = chart_spec(sid, chart)
    if same:
        out.append({"updateChartSpec": {"chartId": same[0]["chartId"], "spec": spec}})
    else:
        out.append({"addChart": {"chart": {"spec": spec, "position": {"overlayPosition": {
            "anchorCell": {"sheetId": sid, "rowIndex": chart.anchor[0] - 1, "columnIndex": chart.anchor[1] - 1},
            "widthPixels": chart.width_px, "heightPixels": chart.height_px}}}}})
    return out


PROTECTION_TAG = "[CCHC] "
#: spreadsheets.get of a pass: tabs, their sizes, what formatting we own, merges, notes and charts.
META_FIELDS = ("spreadsheetId,properties.title,sheets(properties(sheetId,title,index,sheetType,gridProperties),"
               "conditionalFormats,protectedRanges,merges,data.rowData.values.note,charts(chartId,spec.title),"
               f"{VIEW_FIELDS})")
META_PARAMS = {"includeGridData": "true", "fields": META_FIELDS}
#: The same spreadsheets.get carrying every cell's value too (a pass in three requests: see ONE_READ_MAX_ROWS):
#: effectiveValue is what values.batchGet answers UNFORMATTED_VALUE with dates as SERIAL_NUMBER (the number, the
#: text, the boolean a formula gives), as an ExtendedValue.
ONE_READ_FIELDS = META_FIELDS.replace("data.rowData.values.note", "data.rowData.values(note,effectiveValue)")
ONE_READ_PARAMS = {"includeGridData": "true", "fields": ONE_READ_FIELDS}
#: Up to this many rows (as the plan expects them) a pass reads values and notes in that one request: 3 requests
#: instead of 4. Measured by `python -m bench.google` at 100 ms a request: the values as CellData are 1.5x the
#: bytes of values.batchGet's grid and cost more to decode; at 76 rows the saved request wins (-23 % of the pass),
#: at 10,000 rows the decoding (+0.4 s) costs more than the request it saves.
ONE_READ_MAX_ROWS = 2000
#: values.batchGet: numbers as numbers, dates as serial numbers.
VALUES_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER",
                 "majorDimension": "ROWS"}
KEYS_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
#: The most bytes one spreadsheets.batchUpdate body may carry: Google recommends at most 2 MB a request. A bigger
#: write is sent as as few batches as fit (`split`).
MAX_WRITE_BYTES = 2_000_000
NEW_TAB_SIZE = (1000, 26)  # rows, columns: what the Sheets UI gives a new tab
DATE_FORMAT = {"numberFormat": {"type": "DATE", "pattern": DATE_PATTERN}}


def cell_data(v: Cell) -> Json | None:
    """RAW ExtendedValue: text stays text (a leading '=' never becomes a formula), dates become serial numbers."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, (int, float)):
        return {"numberValue": v}
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return {"numberValue": (v - EXCEL_EPOCH).days}
    return {"stringValue": str(v)}


def _entered(v: Cell) -> Json:
    value = cell_data(v)
    return {"userEnteredValue": value} if value else {}


def new_sheet_id() -> int:
    return random.randrange(1, 2 ** 31 - 1)


def build(meta: dict[str, Json], snapshot: Snapshot, changes: WriteSet, account: str,
          sheet_id: Callable[[], int] = new_sheet_id) -> list[Json]:
    """The requests of one spreadsheets.batchUpdate applying `changes`: new tabs and grid growth first, then the
    cells, notes, the dashboard, appended rows and formats. `meta` is the read's sheets by title; `account` the
    service account (the editor of the plan's protected tab); `sheet_id` draws the id of a new tab."""
    return _Builder(meta, snapshot, account, sheet_id).build(changes)


class _Builder:
    def __init__(self, meta: dict[str, Json], snapshot: Snapshot, account: str, sheet_id: Callable[[], int]):
        self.account = account
        self.meta = meta
        self.snapshot = snapshot
        self.sheet_id = sheet_id
        self.ids: dict[str, int] = {t: s["properties"]["sheetId"] for t, s in meta.items()}
        self.size: dict[str, list[int]] = {
            t: [s["properties"]["gridProperties"].get("rowCount", 1000),
                s["properties"]["gridProperties"].get("columnCount", 26)] for t, s in meta.items()}
        self.grown: dict[str, list[int]] = {}
        self.out: list[Json] = []  # new tabs: before the grid growth and the body
        self.body: list[Json] = []

    def build(self, changes: WriteSet) -> list[Json]:
        changes.apply_to(self)
        return self.out + self._resizes() + self.body

    # --- the WriteSet's parts (sync.core.workbook.WriteTarget), in the order every backend applies them ---
    def add_tab(self, name: str) -> None:
        if name not in self.ids:
            self._add_sheet(name)

    def set_cells(self, tab: str, cells: dict[tuple[int, int], Cell]) -> None:
        self.body += self._cell_runs(tab, {p: _entered(v) for p, v in cells.items()}, "userEnteredValue")
        self.body += self._date_formats(tab, cells)

    def set_notes(self, tab: str, notes: dict[tuple[int, int], str | None]) -> None:
        self.body += self._cell_runs(tab, {p: {"note": t} if t else {} for p, t in notes.items()}, "note")

    def replace_tab(self, tab: str, styled: Styled) -> None:
        self.body += self._replace(tab, styled)

    def append_rows(self, tab: str, rows: list[list[Cell]]) -> None:
        self.body += self._append(tab, rows)

    def apply_format(self, fmt: TabFormat) -> None:
        self.body += self._format(fmt)

    # --- sheets and grid size ---
    def _add_sheet(self, name: str) -> None:
        sheet_id = self.sheet_id()
        while sheet_id in self.ids.values():
            sheet_id = self.sheet_id()
        self.ids[name] = sheet_id
        self.size[name] = list(NEW_TAB_SIZE)
        self.out.append({"addSheet": {"properties": {
            "sheetId": sheet_id, "title": name,
            "gridProperties": {"rowCount": NEW_TAB_SIZE[0], "columnCount": NEW_TAB_SIZE[1]}}}})

    def _need(self, tab: str, rows: int, cols: int) -> None:
        size = self.size[tab]
        if rows > size[0] or cols > size[1]:
            size[0], size[1] = max(size[0], rows), max(size[1], cols)
            self.grown[tab] = size

    def _resizes(self) -> list[Json]:
        return [{"updateSheetProperties": {"properties": {"sheetId": self.ids[t],
                                                          "gridProperties": {"rowCount": r, "columnCount": c}},
                                           "fields": "gridProperties.rowCount,gridProperties.columnCount"}}
                for t, (r, c) in self.grown.items()]

    def _append(self, tab: str, rows: list[list[Cell]]) -> list[Json]:
        """Rows added below the last row the snapshot shows, at that fixed place (updateCells, not appendCells):
        the same write sent again, or landing late after a redo sent it again, overwrites the same cells instead
        of adding a second copy (a pass's Nhật ký line appears once whatever its write's fate)."""
        existing = self.snapshot.tabs.get(tab)  # the rows go below its last used row, and below a merge past it
        first = below_merges(existing, last_used_row(existing) + 1) - 1 if existing else 0  # 0-based start
        width = max((len(r) for r in rows), default=1)
        self._need(tab, first + len(rows), width)
        return [{"updateCells": {
            "range": {"sheetId": self.ids[tab], "startRowIndex": first, "endRowIndex": first + len(rows),
                      "startColumnIndex": 0, "endColumnIndex": width},
            "rows": [{"values": [_entered(v) for v in r]} for r in rows],
            "fields": "userEnteredValue"}}]

    # --- cells and notes: one updateCells per run of adjacent rows in a column ---
    def _cell_runs(self, tab: str, cells: dict[tuple[int, int], Json], fields: str) -> list[Json]:
        out: list[Json] = []
        by_col: dict[int, list[int]] = {}
        for r, c in cells:
            by_col.setdefault(c, []).append(r)
        for c, rows in sorted(by_col.items()):
            rows.sort()
            runs = [[rows[0], rows[0]]]  # first and last row of each run
            for r in rows[1:]:
                if r == runs[-1][1] + 1:
                    runs[-1][1] = r
                else:
                    runs.append([r, r])
            for start, last in runs:
                self._need(tab, last, c)
                out.append({"updateCells": {
                    "range": {"sheetId": self.ids[tab], "startRowIndex": start - 1, "endRowIndex": last,
                              "startColumnIndex": c - 1, "endColumnIndex": c},
                    "rows": [{"values": [cells[(i, c)]]} for i in range(start, last + 1)], "fields": fields}})
        return out

    def _date_formats(self, tab: str, cells: dict[tuple[int, int], Cell]) -> list[Json]:
        return [{"repeatCell": {"range": _cell_range(self.ids[tab], r, c), "fields": "userEnteredFormat.numberFormat",
                                "cell": {"userEnteredFormat": DATE_FORMAT}}}
                for (r, c), v in cells.items() if isinstance(v, (dt.date, dt.datetime))]

    # --- the dashboard: the whole grid rewritten with its styles (rendered above) ---
    def _replace(self, tab: str, styled: Styled) -> list[Json]:
        width = max((len(r) for r in styled.rows), default=1)
        self._need(tab, len(styled.rows), max(width, max(styled.widths, default=1)))
        rows_n, cols_n = self.size[tab]
        sid = self.ids[tab]
        rows = []
        for r, values in enumerate(styled.rows, start=1):
            cells = []
            for c, v in enumerate(values, start=1):
                cell = _entered(v)
                fmt = cell_format(styled, r, c, v)
                if fmt:
                    cell["userEnteredFormat"] = fmt
                cells.append(cell)
            rows.append({"values": cells})
        out = unmerge_requests(sid, (rows_n, cols_n))
        out.append({"updateCells": {"range": {"sheetId": sid, "startRowIndex": 0, "endRowIndex": rows_n,
                                              "startColumnIndex": 0, "endColumnIndex": cols_n},
                                    "rows": rows, "fields": "userEnteredValue,userEnteredFormat,note"}})
        out += merge_requests(sid, styled)
        out += [width_request(sid, c, w) for c, w in styled.widths.items()]
        out += chart_requests(sid, styled.chart, self.meta.get(tab, {}).get("charts", []))
        return out

    # --- formats `init` applies ---
    def _format(self, fmt: TabFormat) -> list[Json]:
        sid = self.ids[fmt.tab]
        header = self.snapshot.tabs.get(fmt.tab)
        header_cols = max(len(header.rows[0]) if header and header.rows else 0, max(fmt.widths, default=1))
        # the header row may lie below the tab's grid (the guide's "header" is the empty row under it)
        self._need(fmt.tab, fmt.header_row, header_cols)
        rows_n = self.size[fmt.tab][0]
        out: list[Json] = [{"updateSheetProperties": {"properties": {"sheetId": sid, "gridProperties": {
            "frozenRowCount": fmt.frozen_rows}}, "fields": "gridProperties.frozenRowCount"}}]
        out += [width_request(sid, c, w) for c, w in fmt.widths.items()]
        out.append({"repeatCell": {"range": {"sheetId": sid, "startRowIndex": fmt.header_row - 1,
                                             "endRowIndex": fmt.header_row, "startColumnIndex": 0,
                                             "endColumnIndex": header_cols},
                                   "cell": {"userEnteredFormat": {**STYLE_FORMATS["header"],
                                                                  "wrapStrategy": "WRAP",
                                                                  "verticalAlignment": "MIDDLE"}},
                                   "fields": "userEnteredFormat(textFormat.bold,backgroundColor,wrapStrategy,"
                                             "verticalAlignment)"}})
        for c in fmt.wrap_columns:
            out.append({"repeatCell": {"range": {"sheetId": sid, "startRowIndex": fmt.header_row,
                                                 "endRowIndex": rows_n, "startColumnIndex": c - 1,
                                                 "endColumnIndex": c},
                                       "cell": {"userEnteredFormat": {"wrapStrategy": "WRAP",
                                                                      "verticalAlignment": "TOP"}},
                                       "fields": "userEnteredFormat(wrapStrategy,verticalAlignment)"}})
        for dd in fmt.dropdowns:
            self._need(fmt.tab, dd.last_row, dd.column)
            out.append({"setDataValidation": {
                "range": {"sheetId": sid, "startRowIndex": dd.first_row - 1, "endRowIndex": dd.last_row,
                          "startColumnIndex": dd.column - 1, "endColumnIndex": dd.column},
                "rule": {"condition": {"type": "ONE_OF_LIST",
                                       "values": [{"userEnteredValue": v} for v in dd.values]},
                         "inputMessage": "Chọn: " + ", ".join(dd.values), "strict": True, "showCustomUi": True}}})
        out += input_requests(sid, fmt, self._need)
        if fmt.row_colours:
            out += self._colours(fmt, sid)
        out += self._protection(fmt, sid)
        return out

    def _colours(self, fmt: TabFormat, sid: int) -> list[Json]:
        old = self.meta.get(fmt.tab, {}).get("conditionalFormats", [])
        ours = [i for i, rule in enumerate(old) if _is_ours(rule)]
        out: list[Json] = [{"deleteConditionalFormatRule": {"sheetId": sid, "index": i}}
                           for i in sorted(ours, reverse=True)]
        self._need(fmt.tab, fmt.colour_last_row, fmt.colour_last_col)
        area = {"sheetId": sid, "startRowIndex": fmt.header_row, "endRowIndex": fmt.colour_last_row,
                "startColumnIndex": 0, "endColumnIndex": fmt.colour_last_col}
        col = letters(fmt.colour_column)
        for i, (text, rgb) in enumerate(fmt.row_colours):
            colour = dict(convert_hex_to_colors_dict(rgb))
            out.append({"addConditionalFormatRule": {"index": i, "rule": {"ranges": [area], "booleanRule": {
                "condition": {"type": "CUSTOM_FORMULA", "values": [
                    {"userEnteredValue": f'=ISNUMBER(SEARCH("{text}",${col}{fmt.header_row + 1}))'}]},
                "format": {"backgroundColor": colour}}}}})
        return out

    def _protection(self, fmt: TabFormat, sid: int) -> list[Json]:
        old = self.meta.get(fmt.tab, {}).get("protectedRanges", [])
        out: list[Json] = [{"deleteProtectedRange": {"protectedRangeId": p["protectedRangeId"]}} for p in old
                           if (p.get("description") or "").startswith(PROTECTION_TAG)]
        if fmt.protect_tab:
            out.append({"addProtectedRange": {"protectedRange": {
                "range": {"sheetId": sid}, "description": f"{PROTECTION_TAG}Tab do Văn phòng Sở và công cụ quản lý",
                "warningOnly": False, "editors": {"users": [self.account]},
                "unprotectedRanges": [{"sheetId": sid, "startRowIndex": fmt.header_row, "startColumnIndex": c - 1,
                                       "endColumnIndex": c} for c in fmt.editable_columns]}}})
        for c in fmt.protect_columns:
            out.append({"addProtectedRange": {"protectedRange": {
                "range": {"sheetId": sid, "startRowIndex": 0, "startColumnIndex": c - 1, "endColumnIndex": c},
                "description": f"{PROTECTION_TAG}Cột do công cụ ghi tự động; sửa tay sẽ bị ghi đè",
                "warningOnly": True}}})
        return out


def _is_ours(rule: Json) -> bool:
    values = rule.get("booleanRule", {}).get("condition", {}).get("values", [])
    return any(f'SEARCH("{text}"' in (v.get("userEnteredValue") or "") for v in values for text, _ in FLAG_COLOURS)


def _cell_range(sid: int, r: int, c: int) -> Json:
    return {"sheetId": sid, "startRowIndex": r - 1, "endRowIndex": r, "startColumnIndex": c - 1, "endColumnIndex": c}


# --- a write bigger than one request carries -------------------------------------------------------------

def body_bytes(obj: object) -> bytes:
    """A request body as it is sent (google_http): compact JSON in UTF-8, a Vietnamese letter 2-3 bytes, not 6."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def split(requests_: list[Json], limit: int = MAX_WRITE_BYTES) -> list[list[Json]]:
    """The requests of one write as few batchUpdate bodies of at most `limit` bytes as their order allows (the
    order is kept: a tab is added before its cells, merges undone before the grid is rewritten). An updateCells
    bigger than a body is cut into bands of rows first. Each body is applied all-or-nothing by Google."""
    room = limit - len(body_bytes({"requests": []}))
    parts: list[list[Json]] = [[]]
    used = 0
    for whole in requests_:
        for request in _bands(whole, room - used, room):  # the first band fills what this body has left
            size = len(body_bytes(request)) + 1  # and its comma
            if parts[-1] and used + size > room:
                parts.append([])
                used = 0
            parts[-1].append(request)
            used += size
    return [p for p in parts if p]


def _bands(request: Json, first_room: int, room: int) -> list[Json]:
    """An updateCells over a range that does not fit in `first_room` bytes, cut into consecutive bands of rows:
    the first fits in `first_room` (when a row does), the others in `room`. The bands' ranges tile the original
    (the last reaches its end), so what the range clears is cleared still."""
    body = request.get("updateCells")
    if body is None or "range" not in body or len(body_bytes(request)) <= first_room:
        return [request]
    grid, rows = body["range"], body.get("rows", [])
    first = grid.get("startRowIndex", 0)
    end = grid.get("endRowIndex", first + len(rows))
    overhead = len(body_bytes({**request, "updateCells": {**body, "rows": []}})) + 32  # the band's own indexes
    bands: list[list[Json]] = [[]]
    used, budget = overhead, first_room
    for row in rows:
        size = len(body_bytes(row)) + 1
        if used + size > budget and (bands[-1] or budget < room):
            if bands[-1]:
                bands.append([])
            used, budget = overhead, room
        bands[-1].append(row)
        used += size
    out, start = [], first
    for i, band in enumerate(bands):
        stop = end if i == len(bands) - 1 else start + len(band)
        out.append({"updateCells": {**body, "range": {**grid, "startRowIndex": start, "endRowIndex": stop},
                                    "rows": band}})
        start = stop
    return out


def sheet_ids(requests_: list[Json]) -> set[int]:
    """The tabs (sheet ids) whose cells these requests address through a range."""
    out = set()
    for request in requests_:
        body = next(iter(request.values()))
        grid = body.get("range") if isinstance(body, dict) else None
        if isinstance(grid, dict) and "sheetId" in grid:
            out.add(grid["sheetId"])
    return out


def steady_key_tabs(changes: WriteSet) -> set[str]:
    """The tabs whose row keys this write leaves as they are (a pass never writes STT or Đơn vị): between two
    parts of a split write their keys must still be what the read saw. A tab the write adds rows to (init, the
    log's line) is not one: its keys change by our own hand."""
    return {tab for tab, cols in changes.keys.items()
            if tab not in changes.append and tab not in changes.new_tabs and tab not in changes.replace
            and not any(c in cols for _, c in changes.cells.get(tab, {}))}


# --- the row keys, re-read just before writing ------------------------------------------------------------

def key_ranges(meta: dict[str, Json], snapshot: Snapshot, changes: WriteSet,
               tabs: set[str] | None = None) -> list[tuple[str, list[list[Cell]]]]:
    """The whole-column ranges of the row keys (STT, Đơn vị, the log's id) of tabs the read saw (of `tabs` only,
    when given), each with the values the snapshot holds there, as values.batchGet answers a column (one value
    per row, none for empty)."""
    out = []
    for tab, cols in changes.keys.items():
        if tab not in meta or (tabs is not None and tab not in tabs):
            continue
        for col in cols:
            letter = letters(col)
            out.append((absolute_range_name(tab, f"{letter}:{letter}"),
                        [[r[col - 1]] if len(r) >= col and r[col - 1] not in (None, "") else []
                         for r in snapshot.tabs[tab].rows]))
    return out


def keys_moved(expected: list[tuple[str, list[list[Cell]]]], answer: Json) -> str | None:
    """The tab whose key column the fresh values.batchGet `answer` shows changed, None if none did."""
    for (name, want), got in zip(expected, answer.get("valueRanges", []), strict=False):
        if _trim(got.get("values", [])) != _trim(want):
            return name.split("!")[0]
    return None


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    rows = [[v for v in r if v not in (None, "")] for r in rows]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def tab_appeared(message: str, requests_: list[Json]) -> str | None:
    """The title of the tab whose addSheet a 400 answer (`message`) refused, if it names one of ours: the tab
    now exists (someone, or a late write of ours, made it meanwhile), so nothing was applied and the pass
    re-reads and redoes."""
    found = re.search(r"requests\[(\d+)\]\.addSheet", message)
    if not found or int(found.group(1)) >= len(requests_) or "addSheet" not in requests_[int(found.group(1))]:
        return None
    return str(requests_[int(found.group(1))]["addSheet"]["properties"]["title"])

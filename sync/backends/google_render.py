"""Rendering a job-owned `Styled` grid (the dashboard) as requests of the pass's one spreadsheets.batchUpdate.

Values and per-cell formats (style, alignment, wrap, number formats) in one updateCells over the whole
grid; the merges we made last time undone and made again; column widths; the chart kept by its title:
updated in place (updateChartSpec) when the tab has it, added (addChart) when not, extra copies deleted.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from gspread.utils import convert_hex_to_colors_dict

from sync.core.workbook import Cell, Chart, Styled

Json = dict[str, Any]

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

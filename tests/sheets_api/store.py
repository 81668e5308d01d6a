"""Spreadsheets kept in memory, with the operations of the Sheets API v4 the job and gspread use.

Cells hold CellData as the API defines it (userEnteredValue, userEnteredFormat, note, dataValidation);
values are rendered the way the recordings show (FORMATTED_VALUE strings, UNFORMATTED numbers, dates as
serial numbers or formatted strings). Batch updates run on a copy that replaces the original only if
every request succeeded: all or nothing, like the real API.
"""
from __future__ import annotations

import copy
import datetime as dt
import gc
import pickle
import random
import re
from dataclasses import dataclass, field

from .contract import BadRequest, mask_paths

EPOCH = dt.date(1899, 12, 30)
SIMPLE_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class NotFound(Exception):
    pass


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    row_count: int = 1000
    column_count: int = 26
    frozen_rows: int = 0
    frozen_cols: int = 0
    cells: dict[tuple[int, int], dict] = field(default_factory=dict)  # 0-based (row, col) → CellData
    conditional_formats: list[dict] = field(default_factory=list)
    protected_ranges: list[dict] = field(default_factory=list)
    column_sizes: dict[int, int] = field(default_factory=dict)
    merges: list[dict] = field(default_factory=list)  # GridRanges (0-based, end exclusive), as the API lists them
    charts: list[dict] = field(default_factory=list)  # EmbeddedChart objects
    filter_views: list[dict] = field(default_factory=list)  # FilterView objects
    sheet_type: str = "GRID"  # "OBJECT": a sheet holding one chart (no cells, no gridProperties)

    def properties(self) -> dict:
        grid = {"rowCount": self.row_count, "columnCount": self.column_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        if self.sheet_type != "GRID":
            return {"sheetId": self.sheet_id, "title": self.title, "index": self.index, "sheetType": self.sheet_type}
        return {"sheetId": self.sheet_id, "title": self.title, "index": self.index, "sheetType": "GRID",
                "gridProperties": grid}

    def extent(self) -> tuple[int, int]:
        """(rows, columns) up to the last cell holding a value."""
        used = [pos for pos, c in self.cells.items() if "userEnteredValue" in c]
        return (max(r for r, _ in used) + 1, max(c for _, c in used) + 1) if used else (0, 0)


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    next_protected_id: int = 1

    def sheet(self, title: str | None = None, sheet_id: int | None = None) -> Sheet:
        for s in self.sheets:
            if (sheet_id is not None and s.sheet_id == sheet_id) or (title is not None and s.title == title):
                return s
        raise BadRequest(f"Unable to parse range: {title}" if title is not None else f"No grid with id: {sheet_id}")


def freeze(book: Spreadsheet) -> bytes:
    """The spreadsheet as bytes, for `thaw` to make copies of (a template the tests copy again and again)."""
    return pickle.dumps(book, pickle.HIGHEST_PROTOCOL)


def thaw(frozen: bytes) -> Spreadsheet:
    """A new spreadsheet from `freeze`'s bytes, sharing nothing with any other. The garbage collector is paused
    meanwhile: a seeded book is some 20,000 cells of nested dicts, and the collector's passes over the new dicts
    would cost more than making them."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(frozen)
    finally:
        if paused:
            gc.enable()


def copy_book(book: Spreadsheet) -> Spreadsheet:
    """A copy of a spreadsheet that shares nothing with it, equal to what copy.deepcopy makes (a pickle round
    trip keeps references shared inside the book shared too), about five times faster."""
    return thaw(freeze(book))


# --- A1 ranges -------------------------------------------------------------------------------------------

def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def quote_title(title: str) -> str:
    return title if SIMPLE_TITLE.match(title) else "'" + title.replace("'", "''") + "'"


@dataclass
class GridRange:
    sheet: Sheet
    r0: int
    r1: int  # exclusive
    c0: int
    c1: int

    def a1(self) -> str:
        return f"{quote_title(self.sheet.title)}!{col_letters(self.c0 + 1)}{self.r0 + 1}:" \
               f"{col_letters(self.c1)}{self.r1}"


_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


def parse_a1(book: Spreadsheet, text: str) -> GridRange:
    if "!" in text:
        title, _, cells = text.rpartition("!")
    elif text.startswith("'") or any(s.title == text for s in book.sheets):
        title, cells = text, ""
    else:
        title, cells = book.sheets[0].title, text
    if title.startswith("'") and title.endswith("'"):
        title = title[1:-1].replace("''", "'")
    sheet = book.sheet(title=title)
    if not cells:
        return GridRange(sheet, 0, sheet.row_count, 0, sheet.column_count)
    first, _, last = cells.partition(":")
    m1, m2 = _CELL.match(first), _CELL.match(last or first)
    if not m1 or not m2:
        raise BadRequest(f"Unable to parse range: {text}")
    c0 = col_number(m1.group(1)) - 1 if m1.group(1) else 0
    r0 = int(m1.group(2)) - 1 if m1.group(2) else 0
    c1 = col_number(m2.group(1)) if m2.group(1) else sheet.column_count
    r1 = int(m2.group(2)) if m2.group(2) else sheet.row_count
    return GridRange(sheet, r0, r1, c0, c1)


def grid_range(book: Spreadsheet, spec: dict) -> GridRange:
    sheet = book.sheet(sheet_id=spec.get("sheetId") or 0)
    return GridRange(sheet, spec.get("startRowIndex") or 0,
                     spec["endRowIndex"] if spec.get("endRowIndex") is not None else sheet.row_count,
                     spec.get("startColumnIndex") or 0,
                     spec["endColumnIndex"] if spec.get("endColumnIndex") is not None else sheet.column_count)


def _cells_in(g: GridRange):
    """The stored cells inside a range, by whichever walk is shorter (a column of a big sheet, or all)."""
    cells = g.sheet.cells
    if (min(g.r1, g.sheet.row_count) - g.r0) * (g.c1 - g.c0) < len(cells):
        for r in range(g.r0, min(g.r1, g.sheet.row_count)):
            for c in range(g.c0, g.c1):
                if (r, c) in cells:
                    yield (r, c), cells[(r, c)]
    else:
        for (r, c), cell in cells.items():
            if g.r0 <= r < g.r1 and g.c0 <= c < g.c1:
                yield (r, c), cell


def _in_grid(g: GridRange) -> None:
    if g.r1 > g.sheet.row_count or g.c1 > g.sheet.column_count:
        raise BadRequest(f"Range ({quote_title(g.sheet.title)}!{col_letters(g.c1)}{g.r1}) exceeds grid limits. "
                         f"Max rows: {g.sheet.row_count}, max columns: {g.sheet.column_count}")


# --- values: input and rendering -------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DATE_FORMAT = {"numberFormat": {"type": "DATE", "pattern": "dd/mm/yyyy"}}
ISO_DATE_FORMAT = {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}
_PATTERNS = {"dd/mm/yyyy": "%d/%m/%Y", "yyyy-mm-dd": "%Y-%m-%d"}


def entered(value: object, user_entered: bool) -> tuple[dict | None, dict | None]:
    """(userEnteredValue, format) for a value written through the values API."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return {"boolValue": value}, None
    if isinstance(value, (int, float)):
        return {"numberValue": value}, None
    text = str(value)
    if not user_entered:
        return {"stringValue": text}, None
    if text.startswith("="):
        return {"formulaValue": text}, None
    if text.startswith("'"):
        return {"stringValue": text[1:]}, None
    if text.upper() in ("TRUE", "FALSE"):
        return {"boolValue": text.upper() == "TRUE"}, None
    if _NUMBER.match(text.strip()):
        number = float(text)
        return {"numberValue": int(number) if number.is_integer() else number}, None
    for pattern, order, fmt in ((_DMY, (2, 1, 0), DATE_FORMAT), (_ISO, (0, 1, 2), ISO_DATE_FORMAT)):
        m = pattern.match(text.strip())  # the sheet's locale is vi_VN: day first
        if m:
            parts = [int(g) for g in m.groups()]
            try:
                day = dt.date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                break
            return {"numberValue": (day - EPOCH).days}, fmt
    return {"stringValue": text}, None


def _number_text(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else repr(float(n))


def _arithmetic(formula: str) -> float | None:
    """=4/2 → 2: the stand-in evaluates plain arithmetic; other formulas are returned as typed."""
    import ast
    import operator
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.USub: operator.neg}

    def ev(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.operand))
        raise ValueError(formula)
    try:
        result = ev(ast.parse(formula[1:], mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError):
        return None
    return int(result) if float(result).is_integer() else result


def render(cell: dict, value_option: str, date_option: str) -> object:
    uev = cell.get("userEnteredValue")
    if not uev:
        return ""
    kind, value = next(iter(uev.items()))
    number_format = cell.get("userEnteredFormat", {}).get("numberFormat", {})
    is_date = number_format.get("type") in ("DATE", "DATE_TIME")
    date_text = _PATTERNS.get(number_format.get("pattern", ""), "%d/%m/%Y")
    if kind == "formulaValue":
        if value_option == "FORMULA":
            return value
        result = _arithmetic(value)
        if result is None:
            return value
        kind, value = "numberValue", result
    if value_option == "FORMULA" or value_option == "UNFORMATTED_VALUE":
        if kind == "numberValue" and is_date and date_option == "FORMATTED_STRING":
            return (EPOCH + dt.timedelta(days=int(value))).strftime(date_text)
        return value
    if kind == "boolValue":
        return "TRUE" if value else "FALSE"
    if kind == "numberValue":
        return (EPOCH + dt.timedelta(days=int(value))).strftime(date_text) if is_date else _number_text(value)
    return value


def effective(cell: dict) -> dict:
    """The cell's effectiveValue: what it shows as an ExtendedValue, never a formula (a formula's result: plain
    arithmetic evaluated, any other formula shown as its text, as `render` answers UNFORMATTED_VALUE)."""
    uev = cell["userEnteredValue"]
    if "formulaValue" not in uev:
        return dict(uev)
    value = render(cell, "UNFORMATTED_VALUE", "SERIAL_NUMBER")
    return {"numberValue": value} if isinstance(value, (int, float)) else {"stringValue": str(value)}


def trimmed(rows: list[list]) -> list[list]:
    """Trailing empty cells and rows dropped, as the API answers (changes `rows` in place)."""
    out = rows
    for r in out:
        while r and r[-1] == "":
            r.pop()
    while out and not out[-1]:
        out.pop()
    return out


def _clone(sheet: Sheet) -> Sheet:
    return Sheet(sheet.sheet_id, sheet.title, sheet.index, sheet.row_count, sheet.column_count, sheet.frozen_rows,
                 sheet.frozen_cols, dict(sheet.cells), list(sheet.conditional_formats), list(sheet.protected_ranges),
                 dict(sheet.column_sizes), [dict(m) for m in sheet.merges], list(sheet.charts),
                 list(sheet.filter_views), sheet.sheet_type)


# --- the store ---------------------------------------------------------------------------------------------

class Store:
    def __init__(self, seed: int = 7):
        self.books: dict[str, Spreadsheet] = {}
        self.denied: set[str] = set()
        #: With a domain, editors of a protected range outside it are refused, as an organisation's sheet may
        self.editor_domain: str | None = None
        self.caller = "owner@standin.invalid"  # who sends the request being handled (the token's account)
        self.rng = random.Random(seed)

    def book(self, spreadsheet_id: str) -> Spreadsheet:
        if len(spreadsheet_id) < 20 or not re.fullmatch(r"[A-Za-z0-9_-]+", spreadsheet_id):
            raise NotFound(spreadsheet_id)
        if spreadsheet_id not in self.books:  # any well-formed id exists, empty, on first use
            self.books[spreadsheet_id] = Spreadsheet(spreadsheet_id, "Theo dõi CCHC", [Sheet(0, "Sheet1", 0)])
        return self.books[spreadsheet_id]

    # --- values API ---
    def values_get(self, book: Spreadsheet, a1: str, value_option: str = "FORMATTED_VALUE",
                   date_option: str = "SERIAL_NUMBER", major: str = "ROWS") -> dict:
        g = parse_a1(book, a1)
        by_row: dict[int, dict[int, object]] = {}
        for (r, c), cell in _cells_in(g):
            if "userEnteredValue" in cell:
                by_row.setdefault(r, {})[c] = render(cell, value_option, date_option)
        last = max(by_row, default=g.r0 - 1)
        rows = []
        for r in range(g.r0, last + 1):
            mine = by_row.get(r, {})
            rows.append([mine.get(c, "") for c in range(g.c0, max(mine, default=g.c0 - 1) + 1)])
        values = trimmed(rows)
        if major == "COLUMNS":
            width = max((len(r) for r in values), default=0)
            values = trimmed([[r[i] if i < len(r) else "" for r in values] for i in range(width)])
        out = {"range": g.a1(), "majorDimension": major}
        if values:
            out["values"] = values
        return out

    def values_write(self, book: Spreadsheet, a1: str, values: list[list], user_entered: bool) -> dict:
        g = parse_a1(book, a1)
        height = len(values)
        width = max((len(r) for r in values), default=0)
        target = GridRange(g.sheet, g.r0, g.r0 + height, g.c0, g.c0 + width)
        _in_grid(target)
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is None:
                    continue  # null leaves the cell as it is
                cell = g.sheet.cells.setdefault((g.r0 + i, g.c0 + j), {})
                uev, fmt = entered(value, user_entered)
                if uev is None:
                    cell.pop("userEnteredValue", None)
                else:
                    cell["userEnteredValue"] = uev
                if fmt:
                    cell.setdefault("userEnteredFormat", {}).update(fmt)
        return {"spreadsheetId": book.spreadsheet_id, "updatedRange": target.a1() if height else g.a1(),
                "updatedRows": height, "updatedColumns": width, "updatedCells": sum(len(r) for r in values)}

    def values_append(self, book: Spreadsheet, a1: str, values: list[list], user_entered: bool) -> dict:
        g = parse_a1(book, a1)
        last, _ = g.sheet.extent()
        need = last + len(values)
        if need > g.sheet.row_count:
            g.sheet.row_count = need
        start = f"{quote_title(g.sheet.title)}!{col_letters(g.c0 + 1)}{last + 1}"
        result = self.values_write(book, start, values, user_entered)
        out = {"spreadsheetId": book.spreadsheet_id, "updates": result}
        if last:
            out["tableRange"] = GridRange(g.sheet, 0, last, 0, g.sheet.extent()[1]).a1()
        return out

    def values_clear(self, book: Spreadsheet, a1: str) -> str:
        g = parse_a1(book, a1)
        for pos in [p for p in g.sheet.cells if g.r0 <= p[0] < g.r1 and g.c0 <= p[1] < g.c1]:
            g.sheet.cells[pos].pop("userEnteredValue", None)
        return g.a1()

    # --- spreadsheets.get ---
    def metadata(self, book: Spreadsheet, include_grid: bool, ranges: list[str],
                 cell_fields: set[str] | None = None) -> dict:
        """`cell_fields`: the CellData fields a `fields=` mask asks for (None: all), so large grids stay cheap."""
        sheets = []
        wanted = [parse_a1(book, r) for r in ranges]
        for s in book.sheets:
            entry = {"properties": s.properties()}
            if s.conditional_formats:
                entry["conditionalFormats"] = copy.deepcopy(s.conditional_formats)
            if s.protected_ranges:
                entry["protectedRanges"] = copy.deepcopy(s.protected_ranges)
            if s.merges:  # as recorded: indexes always given, a sheet id of 0 left out
                entry["merges"] = [{k: v for k, v in m.items() if k != "sheetId" or v} for m in s.merges]
            if s.charts:
                entry["charts"] = copy.deepcopy(s.charts)
            if s.filter_views:
                entry["filterViews"] = copy.deepcopy(s.filter_views)
            mine = [g for g in wanted if g.sheet is s]
            if include_grid or mine:
                entry["data"] = [self._grid_data(s, g, cell_fields)
                                 for g in (mine or [GridRange(s, 0, s.row_count, 0, s.column_count)])]
            if wanted and not mine:
                continue  # with ranges, only the sheets they name come back
            sheets.append(entry)
        return {"spreadsheetId": book.spreadsheet_id,
                "properties": {"title": book.title, "locale": "vi_VN", "autoRecalc": "ON_CHANGE",
                               "timeZone": "Asia/Ho_Chi_Minh"},
                "sheets": sheets,
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit"}

    def _grid_data(self, s: Sheet, g: GridRange, fields: set[str] | None) -> dict:
        rows = []
        by_row: dict[int, dict[int, dict]] = {}
        rendered = fields is None or not fields.isdisjoint({"effectiveValue", "formattedValue"})
        effective_too = fields is None or "effectiveValue" in fields  # each only when asked: a big grid stays cheap
        formatted_too = fields is None or "formattedValue" in fields
        for (r, c), stored in s.cells.items():
            if g.r0 <= r < g.r1 and g.c0 <= c < g.c1:
                if fields is not None and not rendered and fields.isdisjoint(stored):
                    continue  # (a pass asks for the notes only: most cells have none)
                cell = {k: v for k, v in stored.items() if fields is None or k in fields}
                if "userEnteredValue" in stored and rendered:
                    if effective_too:
                        cell["effectiveValue"] = effective(stored)
                    if formatted_too:
                        cell["formattedValue"] = render(stored, "FORMATTED_VALUE", "SERIAL_NUMBER")
                if cell:
                    by_row.setdefault(r, {})[c] = cell
        r1 = min(g.r1, max(by_row, default=-1) + 1)
        for r in range(g.r0, r1):
            mine = by_row.get(r, {})
            values = [mine.get(c, {}) for c in range(g.c0, max(mine, default=g.c0 - 1) + 1)]
            while values and not values[-1]:
                values.pop()
            rows.append({"values": values} if values else {})
        while rows and not rows[-1]:
            rows.pop()
        data = {}
        if g.r0:
            data["startRow"] = g.r0
        if g.c0:
            data["startColumn"] = g.c0
        if rows:
            data["rowData"] = rows
        return data

    # --- spreadsheets.batchUpdate ---
    def batch_update(self, book: Spreadsheet, requests: list[dict]) -> list[dict]:
        # A working copy that shares cell dicts with the original: every request replaces a cell's dict
        # rather than changing it, so dropping `work` on an error leaves `book` untouched.
        work = Spreadsheet(book.spreadsheet_id, book.title, [_clone(s) for s in book.sheets], book.next_protected_id)
        replies = []
        for i, request in enumerate(requests):
            (kind, body), = request.items()
            handler = getattr(self, f"_req_{kind}", None)
            if handler is None:
                raise BadRequest(f"The stand-in does not implement '{kind}' (requests[{i}])", f"requests[{i}]")
            try:
                replies.append(handler(work, body) or {})
            except BadRequest as exc:
                raise BadRequest(f"Invalid requests[{i}].{kind}: {exc}", f"requests[{i}]") from None
        book.__dict__.update(work.__dict__)
        return replies

    def _req_addSheet(self, book, body):
        props = body.get("properties") or {}
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if any(s.title.lower() == title.lower() for s in book.sheets):
            raise BadRequest(f"A sheet with the name \"{title}\" already exists. Please enter another name.")
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self.rng.randrange(1, 2 ** 31)
        if any(s.sheet_id == sheet_id for s in book.sheets):
            raise BadRequest(f"A sheet with id {sheet_id} already exists.")
        grid = props.get("gridProperties") or {}
        index = props.get("index")
        index = len(book.sheets) if index is None else index
        sheet = Sheet(sheet_id, title, index, grid.get("rowCount") or 1000, grid.get("columnCount") or 26,
                      grid.get("frozenRowCount") or 0)
        book.sheets.insert(index, sheet)
        for i, s in enumerate(book.sheets):
            s.index = i
        return {"addSheet": {"properties": sheet.properties()}}

    def _req_deleteSheet(self, book, body):
        sheet = book.sheet(sheet_id=body.get("sheetId"))
        if len(book.sheets) == 1:
            raise BadRequest("You can't remove all the sheets in a document.")
        book.sheets.remove(sheet)
        for i, s in enumerate(book.sheets):
            s.index = i

    def _req_updateSheetProperties(self, book, body):
        props = body["properties"]
        sheet = book.sheet(sheet_id=props.get("sheetId") or 0)
        for path in mask_paths(body["fields"]):
            key = ".".join(path)
            grid = props.get("gridProperties") or {}
            if key == "title":
                sheet.title = props["title"]
            elif key in ("gridProperties", "gridProperties.rowCount"):
                sheet.row_count = grid.get("rowCount") or sheet.row_count
            if key in ("gridProperties", "gridProperties.columnCount"):
                sheet.column_count = grid.get("columnCount") or sheet.column_count
            if key in ("gridProperties", "gridProperties.frozenRowCount"):
                sheet.frozen_rows = grid.get("frozenRowCount") or 0
            if key in ("gridProperties", "gridProperties.frozenColumnCount"):
                sheet.frozen_cols = grid.get("frozenColumnCount") or 0
        lost = [p for p in sheet.cells if p[0] >= sheet.row_count or p[1] >= sheet.column_count]
        for p in lost:
            del sheet.cells[p]

    def _req_updateCells(self, book, body):
        rows = body.get("rows") or []
        if body.get("range"):
            g = grid_range(book, body["range"])
        elif body.get("start"):
            start = body["start"]
            sheet = book.sheet(sheet_id=start.get("sheetId") or 0)
            r0, c0 = start.get("rowIndex") or 0, start.get("columnIndex") or 0
            width = max((len(r.get("values") or []) for r in rows), default=0)
            g = GridRange(sheet, r0, r0 + len(rows), c0, c0 + width)
        else:
            raise BadRequest("updateCells needs 'range' or 'start'")
        _in_grid(g)
        paths = mask_paths(body["fields"])
        given = set()
        for i, row in enumerate(rows[:g.r1 - g.r0]):
            for j, data in enumerate((row.get("values") or [])[:g.c1 - g.c0]):
                given.add((g.r0 + i, g.c0 + j))
                self._set_fields(g.sheet, (g.r0 + i, g.c0 + j), data or {}, paths)
        if not body.get("start"):  # a range: the fields of its other cells are cleared (only stored ones hold any)
            for pos in [pos for pos, _ in _cells_in(g) if pos not in given]:
                self._set_fields(g.sheet, pos, {}, paths)

    def _req_appendCells(self, book, body):
        sheet = book.sheet(sheet_id=body.get("sheetId") or 0)
        rows = body.get("rows") or []
        last, _ = sheet.extent()
        sheet.row_count = max(sheet.row_count, last + len(rows))
        paths = mask_paths(body["fields"])
        for i, row in enumerate(rows):
            for j, data in enumerate(row.get("values") or []):
                self._set_fields(sheet, (last + i, j), data or {}, paths)

    def _req_repeatCell(self, book, body):
        g = grid_range(book, body["range"])
        _in_grid(g)
        paths = mask_paths(body["fields"])
        for r in range(g.r0, g.r1):
            for c in range(g.c0, g.c1):
                self._set_fields(g.sheet, (r, c), body.get("cell") or {}, paths)

    @staticmethod
    def _set_fields(sheet: Sheet, pos, data: dict, paths: list[list[str]]) -> None:
        if not data and pos not in sheet.cells:
            return  # clearing a cell that holds nothing
        # Copy on write: the cell and each dict on a path it changes are copied, never changed in place (they may
        # be shared with the book before the batch, or with other cells), the rest is shared: a deep copy of every
        # cell a repeatCell touches made `init` of a big sheet slow.
        cell = dict(sheet.cells.get(pos, {}))
        sheet.cells[pos] = cell
        for path in paths if paths != [["*"]] else [["userEnteredValue"], ["userEnteredFormat"], ["note"],
                                                    ["dataValidation"]]:
            src, dst = data, cell
            for part in path[:-1]:
                src = (src or {}).get(part) or {}
                child = dict(dst.get(part) or {})
                dst[part] = child
                dst = child
            value = (src or {}).get(path[-1])
            if value in (None, "", {}):
                dst.pop(path[-1], None)
            else:
                dst[path[-1]] = _json_copy(value)
        for key in [k for k, v in cell.items() if v == {}]:
            del cell[key]
        if not cell:
            del sheet.cells[pos]

    def _req_setDataValidation(self, book, body):
        """The rule copied once and shared by the range's cells (a cell's dict is replaced, never changed in place,
        and _set_fields copies each dict it changes): a rule over 2,000 rows stays cheap."""
        g = grid_range(book, body["range"])
        _in_grid(g)
        rule = _json_copy(body.get("rule")) or None
        cells = g.sheet.cells
        for r in range(g.r0, g.r1):
            for c in range(g.c0, g.c1):
                cell = dict(cells.get((r, c), {}))
                if rule:
                    cell["dataValidation"] = rule
                else:
                    cell.pop("dataValidation", None)
                if cell:
                    cells[(r, c)] = cell
                else:
                    cells.pop((r, c), None)

    def _req_addConditionalFormatRule(self, book, body):
        rule = body["rule"]
        sheet = book.sheet(sheet_id=(rule.get("ranges") or [{}])[0].get("sheetId") or 0)
        index = body.get("index") or 0
        sheet.conditional_formats.insert(index, copy.deepcopy(rule))

    def _req_deleteConditionalFormatRule(self, book, body):
        sheet = book.sheet(sheet_id=body.get("sheetId") or 0)
        index = body.get("index") or 0
        if index >= len(sheet.conditional_formats):
            raise BadRequest(f"No conditional format on sheet {sheet.sheet_id} at index {index}")
        sheet.conditional_formats.pop(index)

    def _req_addProtectedRange(self, book, body):
        pr = _as_stored(body["protectedRange"])
        self._editors_allowed(pr)
        sheet = book.sheet(sheet_id=pr.get("range", {}).get("sheetId") or 0)
        pr["protectedRangeId"] = pr.get("protectedRangeId") or book.next_protected_id
        book.next_protected_id = max(book.next_protected_id, pr["protectedRangeId"]) + 1
        pr.setdefault("requestingUserCanEdit", True)
        stored = copy.deepcopy(pr)
        if not pr.get("warningOnly"):  # as recorded: the caller is listed among the editors it did not name
            users = stored.setdefault("editors", {}).setdefault("users", [])
            if self.caller not in users:
                users.append(self.caller)
        sheet.protected_ranges.append(stored)
        return {"addProtectedRange": {"protectedRange": pr}}

    def _req_deleteProtectedRange(self, book, body):
        for s in book.sheets:
            for pr in s.protected_ranges:
                if pr["protectedRangeId"] == body.get("protectedRangeId"):
                    s.protected_ranges.remove(pr)
                    return
        raise BadRequest(f"No protected range with id: {body.get('protectedRangeId')}")

    def _editors_allowed(self, pr: dict) -> None:
        users = (pr.get("editors") or {}).get("users") or []
        outside = [u for u in users if self.editor_domain and not u.lower().endswith("@" + self.editor_domain)
                   and not u.endswith(".iam.gserviceaccount.com")]
        if outside:
            raise BadRequest(f"The user {outside[0]} cannot be an editor: the sharing settings of the organization "
                             "do not allow it.")

    # --- filter views and sorting (a unit's own view of its rows; a unit sorting the tab) ---
    def _req_addFilterView(self, book, body):
        view = copy.deepcopy(body["filter"])
        sheet = book.sheet(sheet_id=(view.get("range") or {}).get("sheetId") or 0)
        taken = {v["filterViewId"] for s in book.sheets for v in s.filter_views}
        if view.get("filterViewId") in taken:
            raise BadRequest(f"A filter view with id {view['filterViewId']} already exists.")
        if view.get("filterViewId") is None:
            view["filterViewId"] = self.rng.randrange(1, 2 ** 31)
        sheet.filter_views = [*sheet.filter_views, view]
        return {"addFilterView": {"filter": view}}

    def _filter_view(self, book, view_id):
        for s in book.sheets:
            for view in s.filter_views:
                if view["filterViewId"] == view_id:
                    return s, view
        raise BadRequest(f"No filter view with id: {view_id}")

    def _req_updateFilterView(self, book, body):
        new = body["filter"]
        sheet, view = self._filter_view(book, new.get("filterViewId"))
        updated = dict(view)
        for path in mask_paths(body["fields"]):
            if path[0] in new:
                updated[path[0]] = copy.deepcopy(new[path[0]])
            else:
                updated.pop(path[0], None)
        sheet.filter_views = [updated if v is view else v for v in sheet.filter_views]

    def _req_deleteFilterView(self, book, body):
        sheet, view = self._filter_view(book, body.get("filterId"))
        sheet.filter_views = [v for v in sheet.filter_views if v is not view]

    def _req_sortRange(self, book, body):
        """Rows of the range reordered by their values (stable, empty last as in Sheets); protected ranges, like
        Google's, stay where they are."""
        g = grid_range(book, body["range"])
        _in_grid(g)
        rows = [{c: g.sheet.cells[(r, c)] for c in range(g.c0, g.c1) if (r, c) in g.sheet.cells}
                for r in range(g.r0, g.r1)]
        for spec in reversed(body.get("sortSpecs") or []):
            col = spec.get("dimensionIndex") or 0

            def value(row, col=col):
                return render(row[col], "UNFORMATTED_VALUE", "SERIAL_NUMBER") if col in row else ""
            filled = sorted((r for r in rows if value(r) != ""), key=lambda r: (isinstance(value(r), str), value(r)),
                            reverse=spec.get("sortOrder") == "DESCENDING")
            rows = filled + [r for r in rows if value(r) == ""]  # empty cells last, whichever the order
        for r in range(g.r0, g.r1):
            for c in range(g.c0, g.c1):
                g.sheet.cells.pop((r, c), None)
        for i, row in enumerate(rows):
            for c, cell in row.items():
                g.sheet.cells[(g.r0 + i, c)] = cell

    def _req_updateDimensionProperties(self, book, body):
        g = body["range"]
        sheet = book.sheet(sheet_id=g.get("sheetId") or 0)
        if g.get("dimension") == "COLUMNS":
            for c in range(g.get("startIndex") or 0, g.get("endIndex") or sheet.column_count):
                sheet.column_sizes[c] = (body.get("properties") or {}).get("pixelSize") or 100

    def _req_insertDimension(self, book, body):
        g = body["range"]
        sheet = book.sheet(sheet_id=g.get("sheetId") or 0)
        start, end = g.get("startIndex") or 0, g["endIndex"]
        n = end - start
        if g.get("dimension") == "ROWS":
            sheet.row_count += n
            sheet.cells = {((r + n if r >= start else r), c): v for (r, c), v in sheet.cells.items()}
        else:
            sheet.column_count += n
            sheet.cells = {(r, (c + n if c >= start else c)): v for (r, c), v in sheet.cells.items()}
        _shift_merges(sheet, g.get("dimension"), start, n)

    def _req_deleteDimension(self, book, body):
        g = body["range"]
        sheet = book.sheet(sheet_id=g.get("sheetId") or 0)
        start, end = g.get("startIndex") or 0, g["endIndex"]
        n = end - start
        if g.get("dimension") == "ROWS":
            sheet.cells = {((r - n if r >= end else r), c): v for (r, c), v in sheet.cells.items()
                           if not start <= r < end}
            sheet.row_count -= n
            _shift_merges(sheet, "ROWS", end, -n)

    # --- merges and embedded charts (the dashboard) ---
    def _req_mergeCells(self, book, body):
        """MERGE_ALL: one range; MERGE_COLUMNS / MERGE_ROWS: one per column / row. Only the top-left value of
        each range is kept, as in the Sheets UI and API; merging over an existing merge is refused."""
        g = grid_range(book, body["range"])
        _in_grid(g)
        kind = body.get("mergeType") or "MERGE_ALL"
        if kind == "MERGE_COLUMNS":
            parts = [(g.r0, g.r1, c, c + 1) for c in range(g.c0, g.c1)]
        elif kind == "MERGE_ROWS":
            parts = [(r, r + 1, g.c0, g.c1) for r in range(g.r0, g.r1)]
        else:
            parts = [(g.r0, g.r1, g.c0, g.c1)]
        near = [m for m in g.sheet.merges if g.r0 < m["endRowIndex"] and m["startRowIndex"] < g.r1
                and g.c0 < m["endColumnIndex"] and m["startColumnIndex"] < g.c1]  # the parts never overlap
        for r0, r1, c0, c1 in parts:
            if (r1 - r0) * (c1 - c0) < 2:
                continue
            for m in near:
                if r0 < m["endRowIndex"] and m["startRowIndex"] < r1 and c0 < m["endColumnIndex"] \
                        and m["startColumnIndex"] < c1:
                    raise BadRequest("You can't merge cells that are already merged; unmerge them first.")
            g.sheet.merges.append({"sheetId": g.sheet.sheet_id, "startRowIndex": r0, "endRowIndex": r1,
                                   "startColumnIndex": c0, "endColumnIndex": c1})
            for r in range(r0, r1):
                for c in range(c0, c1):
                    if (r, c) != (r0, c0):
                        self._set_fields(g.sheet, (r, c), {}, [["userEnteredValue"]])

    def _req_unmergeCells(self, book, body):
        g = grid_range(book, body["range"])
        kept = []
        for m in g.sheet.merges:
            inside = g.r0 <= m["startRowIndex"] and m["endRowIndex"] <= g.r1 and g.c0 <= m["startColumnIndex"] \
                and m["endColumnIndex"] <= g.c1
            apart = m["endRowIndex"] <= g.r0 or g.r1 <= m["startRowIndex"] or m["endColumnIndex"] <= g.c0 \
                or g.c1 <= m["startColumnIndex"]
            if not inside and not apart:
                raise BadRequest("The range must not partially span any merge.")
            if apart:
                kept.append(m)
        g.sheet.merges = kept

    def _chart(self, book, chart_id):
        for s in book.sheets:
            for chart in s.charts:
                if chart["chartId"] == chart_id:
                    return s, chart
        raise BadRequest(f"No chart with id: {chart_id}")

    def _check_chart_spec(self, book, spec: dict) -> None:
        """The sources must be ranges of existing sheets, inside their grids (the API checks as much)."""
        basic = spec.get("basicChart")
        if not basic:
            raise BadRequest("The stand-in keeps only basic charts (spec.basicChart)")
        parts = [d.get("domain") for d in basic.get("domains") or []] + \
                [s.get("series") for s in basic.get("series") or []]
        if not basic.get("series"):
            raise BadRequest("A basic chart needs at least one series")
        for data in parts:
            for src in ((data or {}).get("sourceRange") or {}).get("sources") or []:
                _in_grid(grid_range(book, src))

    def _req_addChart(self, book, body):
        chart = copy.deepcopy(body["chart"])
        anchor = ((chart.get("position") or {}).get("overlayPosition") or {}).get("anchorCell")
        if not anchor:
            raise BadRequest("The stand-in places charts only by position.overlayPosition.anchorCell")
        sheet = book.sheet(sheet_id=anchor.get("sheetId") or 0)
        self._check_chart_spec(book, chart.get("spec") or {})
        taken = {c["chartId"] for s in book.sheets for c in s.charts}
        if chart.get("chartId") in taken:
            raise BadRequest(f"An object with id {chart['chartId']} already exists.")
        if chart.get("chartId") is None:
            chart["chartId"] = self.rng.randrange(1, 2 ** 31)
        sheet.charts.append(chart)
        return {"addChart": {"chart": chart}}

    def _req_updateChartSpec(self, book, body):
        sheet, chart = self._chart(book, body.get("chartId"))
        self._check_chart_spec(book, body.get("spec") or {})
        updated = {**chart, "spec": copy.deepcopy(body["spec"])}
        sheet.charts = [updated if c is chart else c for c in sheet.charts]

    def _req_deleteEmbeddedObject(self, book, body):
        sheet, chart = self._chart(book, body.get("objectId"))
        sheet.charts = [c for c in sheet.charts if c is not chart]


def _json_copy(value: object) -> object:
    """A copy of JSON data (CellData: dicts, lists and plain values), what copy.deepcopy makes of it for a
    third of the time: a batch of `init` sets some 20,000 cells."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value


def _as_stored(value: object) -> object:
    """A request's object as the API keeps and answers it (recorded: add_protected_range): fields left at their
    defaults (null, false, empty lists and objects, a sheet id of 0) are left out; a GridRange's explicit 0
    indexes are kept."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _as_stored(v)
            if v is None or v is False or (isinstance(v, list) and not v) or (k == "sheetId" and v == 0):
                continue
            if isinstance(v, dict) and not v and k != "editors":
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_as_stored(v) for v in value]
    return value


def _shift_merges(sheet: Sheet, dimension: str | None, at: int, n: int) -> None:
    """Rows or columns inserted (n > 0) or deleted (n < 0) at `at`: merges below or right of it move, merges
    across it grow or shrink, merges left with one cell disappear."""
    first, last = ("startRowIndex", "endRowIndex") if dimension == "ROWS" else ("startColumnIndex", "endColumnIndex")
    kept = []
    for m in sheet.merges:
        m = dict(m)
        if n > 0:
            if m[first] >= at:
                m[first] += n
            if m[last] > at:
                m[last] += n
        else:
            gone_from, gone_to = at + n, at  # the deleted span [at - |n|, at)
            def moved(i: int, gone_from: int = gone_from, gone_to: int = gone_to) -> int:
                return i if i <= gone_from else max(gone_from, i + n) if i < gone_to else i + n
            m[first], m[last] = moved(m[first]), moved(m[last])
        if (m["endRowIndex"] - m["startRowIndex"]) * (m["endColumnIndex"] - m["startColumnIndex"]) >= 2:
            kept.append(m)
    sheet.merges = kept

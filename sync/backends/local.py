"""The local .xlsx workbook (openpyxl): the embedded default backend.

Writes are all-or-nothing: the workbook is saved to a temporary file beside the original and moved over
it with os.replace, so a crash mid-write leaves the old file whole (xlsx_file.py). A file lock serialises
our own writers (cron and the daemon), and the file's fingerprint taken at read time is checked again
under the lock and once more after the new file is fully written, just before the replace: if someone
saved the workbook in between, we raise StaleSnapshot and the pass re-reads. While Excel or LibreOffice
has the workbook open (owner_files.py), nothing is written: WorkbookHeld, exit 3.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import openpyxl
from filelock import FileLock, Timeout
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from sync.backends import owner_files, xlsx_file
from sync.backends.local_inputs import apply_inputs
from sync.backends.local_render import fit_heights, fit_rows, render_styled
from sync.backends.xlsx_file import fingerprint
from sync.core.errors import StaleSnapshot, Unreachable, UserError, WorkbookHeld
from sync.core.schema import FLAG_COLOURS, HEADER_COLOUR, JOB_AUTHOR
from sync.core.tables import append_row
from sync.core.workbook import Cell, Snapshot, Styled, Tab, TabFormat, WriteSet

LOCK_TIMEOUT_S = 60
DATE_FORMAT = "DD/MM/YYYY"
HEADER_FILL = PatternFill("solid", fgColor=HEADER_COLOUR)


class LocalBackend:
    name = "local"

    def __init__(self, path: Path | str, owner_file_max_age_hours: float = 12):
        # a link to the workbook: the file it points to is read, locked and replaced, never the link itself
        # (a replaced link would leave the units typing into a file the job no longer sees)
        self.path = Path(path).resolve() if Path(path).is_symlink() else Path(path)
        self.owner_file_max_age_hours = owner_file_max_age_hours
        self.api_calls = 0
        self.notes: list[str] = []  # said to the user after the command (stale owner files, leftovers removed)
        self._wb: openpyxl.Workbook | None = None
        self._token: xlsx_file.Fingerprint | None = None

    def describe(self) -> str:
        return f"tệp '{self.path}'"

    @property
    def lock_path(self) -> Path:
        """The writers' lock beside the workbook: hidden (a dot name), since units see the shared folder."""
        return self.path.with_name(f".{self.path.name}.lock")

    @property
    def lock(self) -> FileLock:
        return FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT_S)

    # --- read ---------------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> Snapshot:
        if not self.path.exists():
            raise UserError(f"Không tìm thấy {self.describe()} (khóa cấu hình 'local.path'). "
                            "Chạy 'python -m sync init' để tạo bảng tính từ kế hoạch.")
        self._wb, self._token = self._load()
        tabs = {ws.title: _read_sheet(ws, self.notes) for ws in self._wb.worksheets}
        return Snapshot(tabs, token=self._token)

    def _load(self) -> tuple[openpyxl.Workbook, xlsx_file.Fingerprint]:
        xlsx_file.check_readable(self.path)
        token = fingerprint(self.path)
        try:
            wb = openpyxl.load_workbook(self.path)
        except MemoryError:
            raise
        except Exception as exc:
            part = xlsx_file.damaged_part(self.path)
            if part or isinstance(exc, SyntaxError):  # ET.ParseError and lxml's XMLSyntaxError alike
                raise UserError(f"{xlsx_file.where(self.path)} bị hỏng: phần '{part or 'XML'}' bên trong không đọc "
                                "được. Mở bằng Excel (Excel sẽ đề nghị sửa tệp) rồi lưu lại, hoặc dùng bản sao lưu "
                                "gần nhất.") from None
            raise UserError(f"Không mở được {xlsx_file.where(self.path)} như một tệp .xlsx ({type(exc).__name__}: "
                            f"{exc}). Mở bằng Excel và lưu lại dưới dạng 'Excel Workbook (*.xlsx)', hoặc dùng bản "
                            "sao lưu gần nhất.") from None
        return wb, token

    # --- write --------------------------------------------------------------------------------------
    def write(self, snapshot: Snapshot, changes: WriteSet) -> None:
        changes.check_unit_cells()
        xlsx_file.check_writable(self.path)  # before the lock file, which a read-only folder refuses too
        try:
            with self.lock:
                locked_at = time.time()
                self._refuse_if_held()
                for left in xlsx_file.remove_leftovers(self.path, locked_at):
                    self.notes.append(f"Đã xóa tệp tạm '{left.name}' do một lượt chạy bị ngắt trước đó để lại.")
                self._remove_old_lock()
                if self.path.exists():
                    if fingerprint(self.path) != snapshot.token:
                        raise StaleSnapshot(f"{self.describe()} vừa được lưu bởi người khác")
                    if snapshot.token != self._token or self._wb is None:
                        self._wb, self._token = self._load()
                    wb = self._wb
                elif snapshot.token is None:
                    wb = openpyxl.Workbook()
                    wb.remove(wb.worksheets[0])
                else:
                    raise StaleSnapshot(f"{self.describe()} vừa bị xóa hoặc đổi tên")
                apply_changes(wb, changes)
                self._wb, self._token = None, None  # changed in memory: good again only once it is on disk
                self._token = self._save_atomically(wb, snapshot.token)
                self.api_calls += 1  # the workbook is released (None above): history is recorded without it
        except Timeout:
            raise Unreachable(f"{self.describe()} đang bị khóa bởi một lượt chạy khác quá {LOCK_TIMEOUT_S} giây "
                              f"(tệp khóa '{self.lock_path}').") from None
        except OSError as exc:  # the lock file itself (a folder that became read-only, a full disk)
            raise xlsx_file.os_error(exc, self.path) from None

    def _remove_old_lock(self) -> None:
        """Versions before the hidden lock left a visible, empty `<name>.lock` in the units' folder."""
        old = self.path.with_name(self.path.name + ".lock")
        try:
            if old.is_file() and not old.is_symlink() and old.stat().st_size == 0:
                old.unlink()
        except OSError:
            pass  # not ours to insist on

    def _save_atomically(self, wb: openpyxl.Workbook, token) -> xlsx_file.Fingerprint:
        def last_checks(tmp: Path) -> None:
            """After the new file is whole on disk, immediately before it replaces the old one."""
            self._temp_written(tmp)
            self._refuse_if_held()
            if token is None:
                if self.path.exists():
                    raise StaleSnapshot(f"{self.describe()} vừa được tạo bởi người khác")
            elif not self.path.exists():
                raise StaleSnapshot(f"{self.describe()} vừa bị xóa hoặc đổi tên")
            elif fingerprint(self.path) != token:
                raise StaleSnapshot(f"{self.describe()} vừa được lưu bởi người khác trong lúc chương trình ghi")

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return xlsx_file.replace_atomically(self.path, wb.save, last_checks)
        except OSError as exc:
            raise xlsx_file.os_error(exc, self.path) from None

    def _temp_written(self, tmp: Path) -> None:
        """Seam for tests: called when the new workbook is fully written to `tmp`, before the last checks."""

    def _refuse_if_held(self) -> None:
        """Exit 3 while Excel or LibreOffice has the workbook open; stale owner files only get a note."""
        for owner in owner_files.find_owners(self.path):
            if owner.age_hours < self.owner_file_max_age_hours:
                raise WorkbookHeld(
                    f"{xlsx_file.where(self.path)} đang được mở trong {owner.program} bởi {owner.who()} "
                    f"(tệp khóa '{owner.path.name}'); chưa ghi gì vào bảng tính để không ghi đè lên người đang "
                    "sửa. Lượt sau (cron/daemon) sẽ thử lại; hoặc đóng tệp rồi chạy lại.")
            note = (f"Bỏ qua tệp khóa cũ '{owner.path.name}' ({owner.program}, {owner.age_hours:.0f} giờ, quá "
                    f"'local.owner_file_max_age_hours' = {self.owner_file_max_age_hours:g}); có thể xóa tệp này.")
            if note not in self.notes:
                self.notes.append(note)

    def empty_snapshot(self) -> Snapshot:
        """For `init` on a workbook that does not exist yet."""
        return Snapshot({}, token=None)


#: Empty rows in a row after which a tab is read no further: a stray keystroke at row 1,048,576 must not
#: make the job read (and openpyxl create, and save back) a million empty rows.
EMPTY_GAP = 2000


def _read_sheet(ws, said: list[str] | None = None) -> Tab:
    rows: list[list[Cell]] = []
    notes = {}
    text_cells: set[tuple[int, int]] = set()
    empty = 0
    for r, row in enumerate(ws.iter_rows(), start=1):
        values = []
        noted = False
        for c, cell in enumerate(row, start=1):
            values.append(cell.value)
            if cell.data_type == "s" and cell.has_style and cell.quotePrefix:
                text_cells.add((r, c))
            if cell.comment is not None:
                notes[(r, c)] = cell.comment.text
                noted = True
        rows.append(values)
        empty = empty + 1 if not noted and all(v is None for v in values) else 0
        if empty >= EMPTY_GAP:
            del rows[len(rows) - empty:]
            if said is not None:
                said.append(f"Tab '{ws.title}' có ô đã dùng ở tận dòng {ws.max_row} (cách phần có dữ liệu hơn "
                            f"{EMPTY_GAP} dòng trống); chương trình không đọc phần đó. Xóa các ô ở xa đó (Ctrl+End "
                            "để tìm) rồi lưu lại.")
            break
    merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    return Tab(ws.title, rows, notes, merged, text_cells)


def put(ws, row: int, col: int, value: Cell) -> None:
    """Write a value RAW: text that starts with '=' stays text, dates get a Vietnamese date format."""
    cell = ws.cell(row=row, column=col)
    cell.value = None if value == "" else value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    elif isinstance(value, (dt.date, dt.datetime)):
        cell.number_format = DATE_FORMAT


def apply_changes(wb: openpyxl.Workbook, changes: WriteSet) -> None:
    for name in changes.new_tabs:
        if name not in wb.sheetnames:
            wb.create_sheet(name)
    for name, cells in changes.cells.items():
        ws = wb[name]
        for (r, c), value in cells.items():
            put(ws, r, c, value)
        fit_rows(ws, cells)
    for name, notes in changes.notes.items():
        ws = wb[name]
        for (r, c), text in notes.items():
            cell = ws.cell(row=r, column=c)
            if text is None:
                cell.comment = None
            else:
                comment = Comment(text, JOB_AUTHOR)
                comment.width, comment.height = 320, 40 + 16 * (len(text) // 45 + text.count("\n"))
                cell.comment = comment
    for name, styled in changes.replace.items():
        _replace_sheet(wb, name, styled)
    for name, rows in changes.append.items():
        ws = wb[name]
        start = append_row(_values(ws))
        for offset, values in enumerate(rows):
            for c, value in enumerate(values, start=1):
                put(ws, start + offset, c, value)
    for fmt in changes.formats:
        apply_format(wb[fmt.tab], fmt)


def _values(ws) -> Tab:
    """The sheet's values and merged ranges: enough to find where appended rows go. Read as a pass reads it
    (_read_sheet: a stray cell far below the data is not walked to, and a line goes below the real last one)."""
    return _read_sheet(ws)


def _used_rows(ws) -> int:
    """The last row of the tab's data, as a pass reads it (not `ws.max_row`, which a stray far cell sets)."""
    return len(_read_sheet(ws).rows)


def _replace_sheet(wb: openpyxl.Workbook, name: str, styled: Styled) -> None:
    old = wb[name]
    index, protection = wb.index(old), old.protection
    wb.remove(old)
    ws = wb.create_sheet(name, index)
    ws.protection = protection
    render_styled(ws, styled, put)
    _print_landscape(ws)


def _print_landscape(ws) -> None:
    """A4 landscape, all columns on one page width: how the Office prints a tab."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


def _our_rule(rule) -> bool:
    return any(f'SEARCH("{text}"' in f for f in (rule.formula or []) for text, _ in FLAG_COLOURS)


def apply_format(ws, fmt: TabFormat) -> None:
    ws.freeze_panes = f"A{fmt.frozen_rows + 1}" if fmt.frozen_rows else None
    for c, width in fmt.widths.items():
        ws.column_dimensions[get_column_letter(c)].width = width
    width = ws.max_column  # a scan of every cell: read once, never per row (that made `init` quadratic)
    for c in range(1, width + 1):
        head = ws.cell(row=fmt.header_row, column=c)
        if head.value not in (None, ""):
            head.font, head.fill = Font(bold=True), HEADER_FILL
            head.alignment = Alignment(wrap_text=True, vertical="center")
    wrapped, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    last = _used_rows(ws)
    for r in range(fmt.header_row + 1, last + 1):
        for c in range(1, width + 1):
            ws.cell(row=r, column=c).alignment = wrapped if c in fmt.wrap_columns else top
    fit_heights(ws, range(fmt.header_row + 1, last + 1))
    _print_landscape(ws)
    ws.print_title_rows = f"{fmt.header_row}:{fmt.header_row}" if fmt.frozen_rows else None
    for dd in fmt.dropdowns:
        formula = '"' + ",".join(dd.values) + '"'
        ws.data_validations.dataValidation = [v for v in ws.data_validations.dataValidation
                                              if v.formula1 != formula]
        rule = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                              errorTitle="Tình trạng không hợp lệ",
                              error="Chọn một giá trị trong danh sách: " + ", ".join(dd.values))
        col = get_column_letter(dd.column)
        rule.add(f"{col}{dd.first_row}:{col}{dd.last_row}")
        ws.add_data_validation(rule)
    apply_inputs(ws, fmt)
    if fmt.row_colours:
        kept = ConditionalFormattingList()
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                if not _our_rule(rule):
                    kept.add(str(cf.sqref), rule)
        ws.conditional_formatting = kept
        flag_col = get_column_letter(fmt.colour_column)
        area = f"A{fmt.header_row + 1}:{get_column_letter(fmt.colour_last_col)}{fmt.colour_last_row}"
        for text, rgb in fmt.row_colours:
            ws.conditional_formatting.add(area, FormulaRule(
                formula=[f'ISNUMBER(SEARCH("{text}",${flag_col}{fmt.header_row + 1}))'],
                fill=PatternFill(bgColor=rgb, fill_type="solid"), stopIfTrue=True))
    if fmt.protect_tab:
        ws.protection.sheet = True
        for c in fmt.editable_columns:
            for r in range(fmt.header_row + 1, last + 1):
                ws.cell(row=r, column=c).protection = Protection(locked=False)

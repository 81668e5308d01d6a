"""The local .xlsx workbook (openpyxl): the embedded default backend.

Writes are all-or-nothing: the workbook is saved to a temporary file beside the original and moved over
it with os.replace, so a crash mid-write leaves the old file whole (xlsx_file.py). A file lock serialises
our own writers (cron and the daemon), and the file's fingerprint taken at read time is checked again
under the lock and once more after the new file is fully written, just before the replace: if someone
saved the workbook in between, we raise StaleSnapshot and the pass re-reads. While Excel or LibreOffice
has the workbook open (xlsx_file.py), nothing is written: WorkbookHeld, exit 3.
"""
from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path

import openpyxl
from filelock import FileLock, Timeout

from sync import files
from sync.backends import xlsx_file, xlsx_read
from sync.backends.xlsx_file import fingerprint
from sync.backends.xlsx_read import read_sheet
from sync.backends.xlsx_write import apply_changes
from sync.core.errors import StaleSnapshot, Unreachable, UserError, WorkbookHeld
from sync.core.workbook import Snapshot, WriteSet

LOCK_TIMEOUT_S = 60


class LocalBackend:
    name = "local"

    def __init__(self, path: Path | str, owner_file_max_age_hours: float = 12, replaced: Collection[str] = (),
                 read_only: bool = False):
        """`replaced`: the tabs every pass replaces whole (the dashboard), read no further than a pass looks
        (sync.backends.xlsx_read); `read_only`: for commands that never write (the workbook is let go as soon as
        it is read, and a write is a bug)."""
        # a link to the workbook: the file it points to is read, locked and replaced, never the link itself
        # (a replaced link would leave the units typing into a file the job no longer sees)
        self.path = Path(path).resolve() if Path(path).is_symlink() else Path(path)
        self.owner_file_max_age_hours = owner_file_max_age_hours
        self.api_calls = 0
        self.notes: list[str] = []  # said to the user after the command (stale owner files, leftovers removed)
        self.replaced = tuple(replaced)
        self.read_only = read_only
        self._wb: openpyxl.Workbook | None = None
        self._token: xlsx_file.Fingerprint | None = None
        self._skimmed: frozenset[str] = frozenset()  # the tabs of `_wb` read shortened

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
        wb, self._token, self._skimmed = self._load(self.replaced)
        tabs = {ws.title: read_sheet(ws, self.notes) for ws in wb.worksheets}
        self._wb = None if self.read_only else wb  # kept for the write, which then need not load it again
        return Snapshot(tabs, token=self._token, others=tuple(cs.title for cs in wb.chartsheets))

    def _load(self, skim: Collection[str] = ()) -> tuple[openpyxl.Workbook, xlsx_file.Fingerprint, frozenset[str]]:
        """The workbook, its fingerprint, and the tabs read shortened (of `skim`: tabs the write will replace)."""
        xlsx_file.check_readable(self.path)
        token = fingerprint(self.path)
        try:
            wb, skimmed = xlsx_read.load(self.path, skim)
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
        return wb, token, skimmed

    # --- write --------------------------------------------------------------------------------------
    def write(self, snapshot: Snapshot, changes: WriteSet) -> None:
        if self.read_only:
            raise RuntimeError(f"{self.describe()} was opened read-only: this command must not write")
        changes.check_unit_cells()
        xlsx_file.check_writable(self.path)  # before the lock file, which a read-only folder refuses too
        try:
            with self.lock:
                self._write_locked(snapshot, changes)
        except Timeout:
            raise Unreachable(f"{self.describe()} đang bị khóa bởi một lượt chạy khác quá {LOCK_TIMEOUT_S} giây "
                              f"(tệp khóa '{self.lock_path}').") from None
        except OSError as exc:  # the lock file itself (a folder that became read-only, a full disk)
            raise xlsx_file.os_error(exc, self.path) from None

    def _write_locked(self, snapshot: Snapshot, changes: WriteSet) -> None:
        locked_at = time.time()
        self._refuse_if_held()
        for left in files.remove_leftovers(self.path, locked_at):
            self.notes.append(f"Đã xóa tệp tạm '{left.name}' do một lượt chạy bị ngắt trước đó để lại.")
        self._remove_old_lock()
        wb = self._workbook_for(snapshot, changes)
        apply_changes(wb, changes)
        self._wb, self._token = None, None  # changed in memory: good again only once it is on disk
        self._token = self._save_atomically(wb, snapshot.token)
        self.api_calls += 1  # the workbook is released (None above): history is recorded without it

    def _workbook_for(self, snapshot: Snapshot, changes: WriteSet) -> openpyxl.Workbook:
        """The workbook `changes` apply to: the one read, unless the file moved since (StaleSnapshot) or a tab
        read shortened is not replaced by `changes` (then the whole file is loaded again: nothing of it is lost)."""
        if self.path.exists():
            if fingerprint(self.path) != snapshot.token:
                raise StaleSnapshot(f"{self.describe()} vừa được lưu bởi người khác")
            if (snapshot.token != self._token or self._wb is None
                    or not set(self._skimmed) <= set(changes.replace)):  # exact titles: a look-alike is not replaced
                self._wb, self._token, self._skimmed = self._load(changes.replace)
            return self._wb
        if snapshot.token is None:
            wb = openpyxl.Workbook()
            wb.remove(wb.worksheets[0])
            return wb
        raise StaleSnapshot(f"{self.describe()} vừa bị xóa hoặc đổi tên")

    def _remove_old_lock(self) -> None:
        """Versions before the hidden lock left a visible, empty `<name>.lock` in the units' folder."""
        old = self.path.with_name(self.path.name + ".lock")
        try:
            if old.is_file() and not old.is_symlink() and old.stat().st_size == 0:
                old.unlink()
        except OSError:
            pass  # not ours to insist on

    def _save_atomically(self, wb: openpyxl.Workbook, token: object) -> xlsx_file.Fingerprint:
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
        for owner in xlsx_file.find_owners(self.path):
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

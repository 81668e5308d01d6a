"""What goes wrong with the state file, told as messages the Office can act on.

Faults of the state file (config key `state`) are messages with their exit code: SQLite and the OS report them as codes
(SQLITE_CORRUPT, SQLITE_READONLY_DIRECTORY, EACCES…); the Office needs the file, the key and the fix. A file or folder
to repair (damaged, read-only, a folder in the file's place) is exit 2; a state file busy in another program or on a
failing disk is exit 3 (try again).

Permission bits do not stop root, yet a state file or folder with no write bit at all was made read-only
on purpose (or restored so from a backup) and any other user would be refused: `check_writable` refuses
it for root too, so the job behaves the same whoever runs it.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sync.core.errors import NEW_STATE, SyncError, Unreachable, UserError
from sync.files import writable

KEY = "'state'"


class StateFileError(UserError):
    """The state file or its folder must be repaired by the Office. Exit 2."""


class StateFileBusy(Unreachable):
    """The state file is locked by another program or its disk failed. Exit 3."""


#: What reading the state file may raise: its faults told (StateFileError, StateFileBusy) or not (sqlite3's).
FAULTS: tuple[type[Exception], ...] = (StateFileError, StateFileBusy, sqlite3.Error)


def _where(path: Path) -> str:
    return f"Tệp trạng thái '{path}' (khóa cấu hình {KEY})"


def _may_read(path: Path) -> bool:
    """As `files.writable`, for reading: a file without any read bit is unreadable for root too."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.access(path, os.R_OK) and (os.geteuid() != 0 or bool(mode & 0o444))


def _folder(path: Path) -> Path:
    """The nearest existing folder of `path` (where the file, its journal or its folders would be created)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def directory(path: Path) -> StateFileError:
    return StateFileError(f"{_where(path)} là một thư mục, không phải tệp. Sửa: đặt khóa {KEY} thành đường dẫn "
                          f"của một tệp (ví dụ 'state/cchc.sqlite'), hoặc đổi tên thư mục '{path}'.")


def unreadable(path: Path) -> StateFileError:
    return StateFileError(f"{_where(path)}: người chạy chương trình không có quyền đọc tệp này. Sửa: "
                          f"'chown' tệp cho người dùng chạy cron/daemon, hoặc 'chmod u+rw {path}'.")


def a_file_not_a_folder(path: Path, culprit: Path) -> StateFileError:
    return StateFileError(f"{_where(path)}: '{culprit}' là một tệp, không phải thư mục. Sửa đường dẫn ở khóa {KEY}.")


def read_only_file(path: Path) -> StateFileError:
    return StateFileError(f"{_where(path)} chỉ đọc: người chạy chương trình không ghi được vào đó. Sửa: cấp quyền "
                          f"ghi ('chmod u+w {path}', và 'chown' cho đúng người dùng chạy cron/daemon), hoặc đặt "
                          f"khóa {KEY} sang một tệp ở thư mục ghi được (không nằm trên ổ đĩa chỉ đọc).")


def read_only_folder(path: Path, folder: Path) -> StateFileError:
    return StateFileError(f"Thư mục '{folder}' của tệp trạng thái '{path}' (khóa cấu hình {KEY}) không ghi được: "
                          "SQLite cần tạo tệp nhật ký tạm bên cạnh tệp trạng thái (và tạo tệp khi chưa có). Sửa: "
                          f"cấp quyền ghi thư mục ('chmod u+w {folder}', và 'chown' cho đúng người dùng chạy "
                          f"cron/daemon), hoặc đặt khóa {KEY} sang một thư mục ghi được.")


def damaged(path: Path, what: str) -> StateFileError:
    return StateFileError(f"{_where(path)} {what}. Sửa: khôi phục tệp từ bản sao lưu; hoặc đổi tên tệp hỏng (giữ "
                          "lại để tra cứu) để lần chạy sau tạo tệp mới — khi đó lịch sử các lượt chạy và sổ gửi thư "
                          "cũ không còn trong tệp mới, hãy kiểm tra trước khi gửi lại báo cáo.")




def emptied(path: Path) -> StateFileError:
    return StateFileError(f"{_where(path)} rỗng (0 byte): tệp bị cắt cụt (ổ đĩa đầy, chép hỏng) hoặc bị làm rỗng; "
                          "lịch sử các ô và sổ gửi thư trong đó đã mất. Sửa: khôi phục tệp từ bản sao lưu; nếu không "
                          f"có, chạy lại lệnh với {NEW_STATE} để bắt đầu tệp trạng thái mới (báo cáo đã gửi có thể "
                          "bị gửi lại: kiểm tra trước khi gửi).")


def bad_value(path: Path, table: str, row: str, value: object) -> StateFileError:
    """A value the job wrote and cannot read back (edited by hand, or damaged): named, never a bug."""
    return StateFileError(f"{_where(path)}: bảng '{table}', {row}: giá trị '{value}' không đọc được (tệp bị sửa tay "
                          "hoặc hỏng). Sửa: khôi phục tệp từ bản sao lưu; hoặc sửa giá trị đó (ngày dạng YYYY-MM-DD) "
                          "bằng một trình xem SQLite khi không có lượt nào đang chạy.")


def check_readable(path: Path) -> None:
    """Raise StateFileError when the state file exists and cannot be read (by a normal user)."""
    if path.exists() and not _may_read(path):
        raise unreadable(path)


def _file_fault(path: Path) -> StateFileError | None:
    """What is wrong with the state file itself, as the Office fixes it: a folder, unreadable, read-only."""
    if path.is_dir():
        return directory(path)
    if path.exists() and not _may_read(path):
        return unreadable(path)
    if path.exists() and not writable(path):
        return read_only_file(path)
    return None


def check_writable(path: Path) -> None:
    """Raise StateFileError unless the state file (or, before its first pass, its folder) can be written."""
    path = Path(path)
    fault = _file_fault(path)
    if fault is not None:
        raise fault
    folder = _folder(path)
    if not folder.is_dir():
        raise a_file_not_a_folder(path, folder)
    if not writable(folder):
        raise read_only_folder(path, folder)


#: Columns the job cannot do without, per table: a SQLite file lacking them belongs to another program.
REQUIRED_COLUMNS = {"passes": {"id", "command", "started_at", "ok", "message"},
                    "sends": {"kind", "period", "recipient", "status"}}


def check_intact(db: sqlite3.Connection, path: Path) -> None:
    """SQLite's quick check (damage inside the file that a single insert would not touch), then the tables."""
    row = db.execute("PRAGMA quick_check(1)").fetchone()
    if row is None or row[0] != "ok":
        raise damaged(path, "bị hỏng (kiểm tra nội bộ của SQLite không đạt)")
    for table, needed in REQUIRED_COLUMNS.items():
        missing = needed - {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        if missing:
            raise StateFileError(f"{_where(path)} là tệp SQLite của một chương trình khác: bảng '{table}' thiếu "
                                 f"cột {', '.join(sorted(missing))}. Sửa: đặt khóa {KEY} sang tệp trạng thái của "
                                 "chương trình này (mặc định 'state/cchc.sqlite'); không dùng chung tệp với chương "
                                 "trình khác.")


def explain(exc: BaseException, path: Path, timeout_s: float = 30) -> SyncError | None:
    """The Office's message for a fault of the state file; None when `exc` is not one (then it is a bug)."""
    path = Path(path)
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, OSError):
        return _os_fault(exc, path)
    if isinstance(exc, sqlite3.Error):
        return _sqlite_fault(getattr(exc, "sqlite_errorname", "") or "", path, timeout_s)
    return None


def _os_fault(exc: OSError, path: Path) -> SyncError | None:
    """A folder of the state file's path that could not be made (None: the error is of another file)."""
    culprit = Path(exc.filename) if exc.filename else None
    if culprit is None or not (culprit == path or culprit in path.parents):
        return None
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return a_file_not_a_folder(path, culprit)
    if isinstance(exc, PermissionError):
        return read_only_folder(path, _folder(culprit))
    return StateFileBusy(f"{_where(path)}: không tạo được thư mục '{culprit}' ({exc.strerror}). Kiểm tra ổ "
                         "đĩa rồi chạy lại.")


def _sqlite_fault(name: str, path: Path, timeout_s: float) -> SyncError | None:
    """SQLite's error `name` (SQLITE_…) as the Office's message; None for one that is no fault of the file."""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        what = ("không phải tệp SQLite (nội dung khác, hoặc bị ghi đè)" if name.startswith("SQLITE_NOTADB")
                else "bị hỏng (có thể bị cắt cụt khi chép hoặc khi ổ đĩa đầy)")
        return damaged(path, what)
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return _cannot_open(name, path)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StateFileBusy(f"{_where(path)} đang bị một chương trình khác khóa ghi quá {timeout_s:g} giây (một "
                             "lượt chạy khác, hoặc một trình xem SQLite đang mở tệp). Thử lại sau; nếu kéo dài, "
                             "đóng chương trình đang mở tệp.")
    if name.startswith("SQLITE_FULL"):
        return StateFileBusy(f"{_where(path)}: ổ đĩa đã đầy. Giải phóng chỗ trống rồi chạy lại.")
    if name.startswith("SQLITE_IOERR"):
        return StateFileBusy(f"{_where(path)}: lỗi đọc/ghi ổ đĩa ({name}). Kiểm tra ổ đĩa (ổ mạng còn kết nối? "
                             "còn chỗ trống?) rồi chạy lại.")
    return None


def _cannot_open(name: str, path: Path) -> SyncError:
    """SQLite could not open or write the file: the first reason the file system shows."""
    fault = _file_fault(path)
    if fault is not None:
        return fault
    folder = _folder(path)
    if name == "SQLITE_READONLY_DIRECTORY" or not writable(folder):
        return read_only_folder(path, folder)
    if name.startswith("SQLITE_READONLY"):
        return StateFileError(f"{_where(path)} nằm trên ổ đĩa chỉ đọc hoặc bị khóa ghi. Sửa: đặt khóa {KEY} "
                              "sang một ổ đĩa ghi được.")
    return StateFileBusy(f"{_where(path)}: không mở được tệp. Kiểm tra ổ đĩa (ổ mạng còn kết nối?) rồi chạy lại.")


def lock_error(exc: OSError, lock: Path, path: Path) -> StateFileError:
    """The job lock lives beside the state file: the same folder, the same fix."""
    folder = lock.parent
    if isinstance(exc, (FileExistsError, NotADirectoryError)):  # a file where a folder of the path should be
        return a_file_not_a_folder(path, next((p for p in reversed(lock.parents) if p.is_file()), folder))
    if lock.is_dir():
        return StateFileError(f"Tệp khóa '{lock}' (bên cạnh tệp trạng thái, khóa cấu hình {KEY}) là một thư mục. "
                              "Sửa: xóa hoặc đổi tên thư mục đó.")
    if isinstance(exc, PermissionError) and lock.exists():
        return StateFileError(f"Tệp khóa '{lock}' (bên cạnh tệp trạng thái, khóa cấu hình {KEY}) không ghi được. "
                              f"Sửa: 'chown' hoặc 'chmod u+w {lock}' cho người dùng chạy cron/daemon, hoặc xóa tệp "
                              "khi không có lượt nào đang chạy.")
    return read_only_folder(path, _folder(folder) if not folder.exists() else folder)

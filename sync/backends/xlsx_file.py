"""The workbook file itself: what it is, whether we may write it, and the one atomic way we replace it.

* `fingerprint` says which version of the file we read: device, inode, size, mtime in nanoseconds and a
  SHA-256 of the content. A save by someone else changes at least one of them even within the same
  second (a replace gets a new inode; a save in place changes the content). ~3 ms at 10,000 rows.
* `check_readable` / `check_writable` turn what the environment does wrong (a directory, a file that is
  not an .xlsx, a password-protected workbook, a read-only file or folder) into messages naming the
  path and the config key, instead of tracebacks.
* `replace_atomically` writes the new content through the project's one atomic write (`sync.files`):
  a temporary file beside the workbook, synced, and only then — after checking once more that nobody
  saved the workbook meanwhile — moved over the original. Temporary files are named
  `.<name>.cchc-<pid>-<random>.tmp`; ones left by a killed pass are removed by the next
  (`files.remove_leftovers`, under the workbook lock).
* `find_owners` finds the owner files an office program leaves beside a workbook it has open (the section
  at the end): while one is there, the workbook is not replaced.
"""
from __future__ import annotations

import errno
import hashlib
import os
import time
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sync import files
from sync.core.errors import Unreachable, UserError

KEY = "local.path"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


@dataclass(frozen=True)
class Fingerprint:
    dev: int
    ino: int
    size: int
    mtime_ns: int
    sha256: str


def fingerprint(path: Path | str) -> Fingerprint:
    with open(path, "rb") as fh:
        before = os.fstat(fh.fileno())
        digest = hashlib.sha256()
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return Fingerprint(before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns, digest.hexdigest())


def where(path: Path) -> str:
    return f"tệp '{path}' (khóa cấu hình '{KEY}')"


# --- what the file is --------------------------------------------------------------------------------

def check_readable(path: Path) -> None:
    """Refuse, with a message saying what to do, anything that is not a readable .xlsx file (a FIFO or a device
    without opening it; a zip that would unpack past files.MAX_XLSX_UNPACKED before unpacking it)."""
    files.require_regular(path, where(path))
    if path.is_dir():
        raise UserError(f"{where(path)} là một thư mục, không phải tệp .xlsx. Đặt 'local.path' thành đường dẫn "
                        "của tệp bảng tính (ví dụ data/theo-doi-cchc-2024.xlsx), hoặc đổi tên thư mục đó.")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except PermissionError:
        raise UserError(f"Không có quyền đọc {where(path)}. Cấp quyền đọc cho người dùng chạy chương trình "
                        "(ví dụ 'chmod u+r').") from None
    if head == OLE2_MAGIC:
        if is_encrypted(path):
            raise UserError(f"{where(path)} được đặt mật khẩu (tệp Excel mã hóa), chương trình không đọc được. "
                            "Mở bằng Excel, gỡ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hóa bằng mật "
                            "khẩu, để trống) rồi lưu lại; dùng bảo vệ trang tính nếu cần chống sửa nhầm.")
        raise UserError(f"{where(path)} là tệp Excel đời cũ (.xls), không phải .xlsx. Mở bằng Excel và lưu lại "
                        "dưới dạng 'Excel Workbook (*.xlsx)'.")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{where(path)} không phải tệp Excel .xlsx. "
                        "Mở bằng Excel và lưu lại dưới dạng 'Excel Workbook (*.xlsx)'.")
    files.require_small_zip(path, files.MAX_XLSX_UNPACKED, where(path))


def is_encrypted(path: Path) -> bool:
    """An OLE2 compound file holding an `EncryptedPackage` stream is an .xlsx with a password (MS-OFFCRYPTO)."""
    with open(path, "rb") as fh:
        return ENCRYPTED_STREAM in fh.read(4 << 20)


def damaged_part(path: Path) -> str | None:
    """The first XML part of the .xlsx that does not parse, to name it in the message."""
    import xml.etree.ElementTree as ET
    try:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith((".xml", ".rels")):
                    try:
                        ET.fromstring(zf.read(name))
                    except ET.ParseError:
                        return name
    except (zipfile.BadZipFile, OSError):
        return None
    return None


# --- whether we may write ----------------------------------------------------------------------------

def check_writable(path: Path) -> None:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:  # a new workbook: the folder that will hold it
        folder = folder.parent
    if path.is_dir():
        check_readable(path)
    if path.exists() and not files.writable(path):
        raise UserError(f"{where(path)} đang ở chế độ chỉ đọc: chương trình không ghi đè tệp mà chủ của nó đã "
                        "khóa ghi. Bỏ thuộc tính chỉ đọc (ví dụ 'chmod u+w') nếu muốn chương trình cập nhật tệp, "
                        "hoặc đặt 'local.path' sang một bản sao có quyền ghi.")
    if folder.exists() and not files.writable(folder):
        raise UserError(f"Thư mục '{folder}' của {where(path)} không cho phép ghi: chương trình cần tạo tệp tạm "
                        "cạnh bảng tính rồi thay thế. Cấp quyền ghi cho thư mục (ví dụ 'chmod u+w') hoặc đặt "
                        "'local.path' vào một thư mục có quyền ghi.")


def os_error(exc: OSError, path: Path) -> Exception:
    """An OSError while writing, as the error the Office can act on (or the original when it is a bug)."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UserError(f"Không ghi được {where(path)}: {exc.strerror}. Kiểm tra quyền ghi của tệp và thư mục "
                         f"'{path.parent}' (hoặc ổ đĩa chỉ đọc).")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ESTALE, errno.ETIMEDOUT):
        return Unreachable(f"Không ghi được {where(path)}: {exc.strerror}. Tệp cũ vẫn nguyên vẹn; "
                           "giải phóng chỗ trống hoặc kiểm tra ổ đĩa mạng rồi chạy lại.")
    if exc.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ELOOP):  # a folder or a link loop there
        name = f" '{exc.filename}'" if exc.filename else ""
        return UserError(f"Không ghi được {where(path)}: {exc.strerror}{name}. Một thư mục hoặc tệp lạ nằm ở chỗ "
                         f"tệp của chương trình trong '{path.parent}': đổi tên hoặc xóa nó rồi chạy lại.")
    return exc


# --- the replace -----------------------------------------------------------------------------------------

def replace_atomically(path: Path, save: Callable[[Path], None], before_replace: Callable[[Path], None]) -> Fingerprint:
    """Write the new workbook with `save(tmp)` through the project's one atomic write (sync.files.replace:
    synced, the original's mode and owner kept), call `before_replace(tmp)` (the last checks; it raises to
    abandon the write), then move it over `path`. Returns the fingerprint of what is now at `path`. On any
    failure the temporary file is removed and the original is untouched."""
    written: list[Fingerprint] = []

    def last_checks(tmp: Path) -> None:
        written.append(fingerprint(tmp))  # a rename keeps inode, size, mtime and content: the file at `path`
        before_replace(tmp)

    files.replace(path, save, last_checks)
    return written[0]

# --- owner files ---------------------------------------------------------------------------------------
# Owner files that office programs leave beside a workbook they have open.
#
# While Excel or LibreOffice has `name.xlsx` open, replacing the file under it loses whatever the person
# saves next (or what we wrote, when they save over it). Both programs say they hold a file:
#
# * Excel writes `~$name.xlsx` (165 bytes): one byte with the user name's length, the name in the Windows
#   8-bit code page padded with spaces, then at offset 55 (54 for Word) a 2-byte length and the same name
#   in UTF-16-LE (Vietnamese names survive only in this copy). The file is hidden and removed on close;
#   after a crash it stays.
# * LibreOffice writes `.~lock.name.xlsx#`: one UTF-8 line "name,system user,host,DD.MM.YYYY hh:mm,user
#   profile URL;" with ',', ';' and '\\' escaped by a backslash.
#
# An owner file older than `local.owner_file_max_age_hours` is taken as left over by a crash and ignored.

EXCEL_PREFIX = "~$"
LIBREOFFICE_PREFIX, LIBREOFFICE_SUFFIX = ".~lock.", "#"
MAX_READ = 4096


@dataclass(frozen=True)
class Owner:
    path: Path
    program: str            # "Excel" or "LibreOffice"
    user: str | None        # who, when the owner file says
    host: str | None = None
    since: str | None = None  # as the owner file writes it (LibreOffice: "28.11.2026 09:15")
    age_hours: float = 0.0

    def who(self) -> str:
        """'Nguyễn Thị Lan (máy VP-01, từ 28.11.2026 09:15)' or 'một người dùng' when unnamed."""
        extra = [f"máy {self.host}" if self.host else "", f"từ {self.since}" if self.since else ""]
        extra = [e for e in extra if e]
        name = f"'{self.user}'" if self.user else "một người dùng (tệp khóa không ghi tên)"
        return name + (f" ({', '.join(extra)})" if extra else "")


def owner_paths(workbook: Path) -> list[tuple[Path, str]]:
    name = workbook.name
    return [(workbook.with_name(EXCEL_PREFIX + name), "Excel"),
            (workbook.with_name(LIBREOFFICE_PREFIX + name + LIBREOFFICE_SUFFIX), "LibreOffice")]


def find_owners(workbook: Path, now: float | None = None) -> list[Owner]:
    """Every owner file beside `workbook`, newest first, with who holds it when the file says."""
    now = time.time() if now is None else now
    found = []
    for path, program in owner_paths(workbook):
        try:
            st = path.stat()
            data = path.read_bytes()[:MAX_READ] if path.is_file() else b""
        except FileNotFoundError:
            continue
        except OSError:  # there but unreadable: still an owner file
            st, data = path.lstat(), b""
        age = max(now - st.st_mtime, 0.0) / 3600
        if program == "Excel":
            found.append(Owner(path, program, parse_excel_owner(data), age_hours=age))
        else:
            user, host, since = parse_libreoffice_lock(data)
            found.append(Owner(path, program, user, host, since, age))
    return sorted(found, key=lambda o: o.age_hours)


def parse_excel_owner(data: bytes) -> str | None:
    """The user name in an MS Office owner file (the UTF-16 copy, else the 8-bit one); None if unreadable."""
    if len(data) < 2:
        return None
    n = data[0]
    if not 0 < n <= 52:
        return None
    for at in (55, 54):  # Excel and PowerPoint, then Word
        if at + 2 > len(data):
            continue
        m = data[at] | (data[at + 1] << 8)  # in characters; the 8-bit copy's length may differ (cp1258)
        if 0 < m <= 52 and at + 2 + 2 * m <= len(data):
            try:
                name = data[at + 2: at + 2 + 2 * m].decode("utf-16-le").strip()
            except UnicodeDecodeError:
                continue
            if name and name.isprintable():
                return unicodedata.normalize("NFC", name)
    try:
        return unicodedata.normalize("NFC", data[1:1 + n].decode("cp1258")).strip() or None
    except UnicodeDecodeError:
        return None


def _split_escaped(text: str) -> list[str]:
    fields, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            fields.append("".join(current))
            current = []
        elif ch == ";":
            break
        else:
            current.append(ch)
    fields.append("".join(current))
    return fields


def parse_libreoffice_lock(data: bytes) -> tuple[str | None, str | None, str | None]:
    """(user, host, since) from a LibreOffice lock file: the name set in LibreOffice, else the login name."""
    text = data.decode("utf-8", errors="replace").strip()
    if not text:
        return None, None, None
    fields = _split_escaped(text) + [""] * 5
    name, login, host, since = (f.strip() or None for f in fields[:4])
    return name or login, host, since

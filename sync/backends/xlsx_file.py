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
"""
from __future__ import annotations

import errno
import hashlib
import os
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

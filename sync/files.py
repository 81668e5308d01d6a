"""The files the job writes for people to open: each written whole or not at all (the one atomic write of the
project), their cells made safe, and the report's conversion to PDF.

Everything the job writes to disk for people to open (the workbook, the period's report and its side
files, the outbox's messages, the witness of sent reports) goes through `replace`:

1. a new temporary file beside the target, in the same folder (so the final move is a rename on one file
   system), named `.<name>.cchc-<pid>-<random>.tmp`: hidden, and recognisable as ours, so the leftover of a
   killed run is removed by `remove_leftovers` and never mistaken for a file of the Office's;
2. created with the mode the umask gives (not mkstemp's private 0600): a report or a workbook is meant to be
   shared like any other file the Office saves;
3. the content written by the caller, flushed and synced to disk;
4. when the target already exists, its mode (and its owner and group, where we may) carried over;
5. the caller's last checks (`before_replace`: it raises to abandon the write), then `os.replace` over the
   target, then the folder synced so the rename itself survives a power cut.

On any failure before the replace the temporary file is removed and the target is untouched: a reader sees
the old file or the new one, never a partial one.

In the cells of these files (the export, history's workbook, the report's internal list of input errors)
whatever a unit typed stays inert text:

* A spreadsheet program opening a CSV evaluates a field that starts with `=`, `+`, `-` or `@` (and, in some,
  after a leading tab or carriage return): `=WEBSERVICE(…)`, `=HYPERLINK(…)`. Such text gets the usual leading
  apostrophe, which Excel and LibreOffice show as text; a plain number (`-5`, `+84905123456`) is left as it is.
* In an .xlsx, text is written as a string cell, never as a formula (openpyxl makes a formula of any text
  starting with `=`): the cell shows what the unit typed, apostrophe-free.
* Control characters, which an .xlsx cannot hold (openpyxl refuses them) and which hide text in a CSV, are
  shown as their visible symbols (U+2400…: BEL → ␇); tab and line breaks stay.
* A number too long to be anyone's figure (Python refuses to print an int of more than 4,300 digits) is
  written as a sentence saying how long it is.

The sheet itself is written RAW by the backends (text stays text there); this module is for the files only,
which sync/backends/xlsx_write.py (write_xlsx, save_workbook) and the reports save.

A report's PDF is made by LibreOffice (`to_pdf`), in a throw-away profile, and replaces the old PDF whole.
"""
from __future__ import annotations

import datetime as dt
import errno
import os
import re
import secrets
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sync.core.errors import SyncError, Unreachable, UserError
from sync.core.schema import NOT_IN_DOCUMENTS
from sync.core.workbook import Cell

if TYPE_CHECKING:
    from openpyxl.cell import Cell as XlsxCell
    from openpyxl.cell import MergedCell


TEMP_MARK = ".cchc-"
TEMP_SUFFIX = ".tmp"
#: A temporary file this old (seconds) is a killed run's leftover, not one being written: for writers that
#: hold no lock on their file (the workbook's leftovers are removed under its lock, at any age).
LEFTOVER_AGE_S = 3600


def temp_prefix(path: Path) -> str:
    """How every temporary file for `path` begins."""
    return f".{path.name}{TEMP_MARK}"


def new_temp(path: Path) -> Path:
    """A new empty file beside `path`, created with the mode the umask gives (not mkstemp's 0600)."""
    while True:
        tmp = path.with_name(f"{temp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def is_temp_of(path: Path, candidate: Path) -> bool:
    """Whether `candidate` is named like one of our temporary files for `path`."""
    return candidate.name.startswith(temp_prefix(path)) and candidate.name.endswith(TEMP_SUFFIX)


def remove_leftovers(path: Path, older_than: float) -> list[Path]:
    """Our temporary files beside `path` last written before `older_than` (epoch seconds): left by a run that
    was killed. The caller makes sure no run of ours is writing one right now (a lock, or an age)."""
    removed: list[Path] = []
    try:
        candidates = [p for p in path.parent.iterdir() if is_temp_of(path, p)]
    except OSError:
        return removed
    for p in candidates:
        try:
            if p.is_file() and not p.is_symlink() and p.stat().st_mtime < older_than:
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed


def keep_owner_and_mode(tmp: Path, original: os.stat_result) -> None:
    """Give `tmp` the mode of the file it replaces, and its owner and group as far as we are allowed."""
    os.chmod(tmp, stat.S_IMODE(original.st_mode))
    current = tmp.stat()
    if (current.st_uid, current.st_gid) != (original.st_uid, original.st_gid):
        try:
            os.chown(tmp, original.st_uid, original.st_gid)
        except OSError:  # only root may give a file away; the group may still be kept
            try:
                os.chown(tmp, -1, original.st_gid)
            except OSError:
                pass


def fsync_dir(folder: Path) -> None:
    """Sync a folder, so a rename in it is on disk (best effort: some file systems refuse it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace(path: Path, write: Callable[[Path], object],
            before_replace: Callable[[Path], object] | None = None) -> None:
    """Write `path` atomically: `write(tmp)` fills the temporary file (by its path), which is then synced,
    given the existing file's mode and owner, checked by `before_replace(tmp)` and moved over `path`.
    On any failure the temporary file is removed and `path` is untouched.

    A link is followed (the file it points to is replaced, the link stays); anything at `path` that is not a
    regular file (a device such as /dev/null, a pipe, a folder) is refused with IsADirectoryError or
    FileExistsError, never replaced by a file."""
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        kind = "thư mục" if path.is_dir() else "thiết bị hoặc đường ống, không phải tệp"
        error = IsADirectoryError if path.is_dir() else FileExistsError
        raise error(errno.EISDIR if path.is_dir() else errno.EEXIST, f"'{path}' là {kind}", str(path))
    tmp = new_temp(path)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            original: os.stat_result | None = path.stat()
        except FileNotFoundError:
            original = None
        if original is not None:
            keep_owner_and_mode(tmp, original)
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes(path: Path, data: bytes) -> None:
    """`data` as the whole content of `path`, atomically (see `replace`); the folder is created when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """`text` as the whole content of `path`, atomically (see `replace`)."""
    write_bytes(path, text.encode(encoding))


#: A disk that is full or failing: the Office frees space or waits (exit 3); any other fault is theirs to fix.
DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ESTALE, errno.ETIMEDOUT, errno.EFBIG)


def writable(path: Path) -> bool:
    """Whether we may write in `path`: os.access, and for root the permission bits too (root passes os.access
    whatever they say, yet a file or folder without any write bit was made read-only on purpose)."""
    try:
        if not os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0)):
            return False
        return os.geteuid() != 0 or bool(path.stat().st_mode & 0o222)
    except OSError:  # gone, or not to be looked at: not ours to write
        return False


def check_folder(folder: Path, key: str, what: str) -> None:
    """Before the job writes into `folder` (named by the setting `key`): exit 2 naming it when it, or the first
    of its parents that exists, is read-only or is not a folder. A missing folder is created by the write."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise folder_error(OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)), folder, key, what)
    if existing.exists() and not writable(existing):
        raise folder_error(OSError(errno.EACCES, "thư mục chỉ đọc"), folder, key, what)


def folder_error(exc: OSError, folder: Path, key: str, what: str) -> SyncError:
    """An OSError while writing into a folder the settings name (`key`, e.g. 'mail.outbox_dir'), as a message
    naming the folder and the key: exit 3 for a full or failing disk (nothing was lost: the next call writes it),
    exit 2 for what the Office must fix (read-only, no permission, a file where the folder should be)."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in DISK_ERRNOS:
        return Unreachable(f"Không ghi được vào {what} '{folder}' (khóa cấu hình '{key}'): {reason}. Giải phóng chỗ "
                           "trống hoặc kiểm tra ổ đĩa rồi chạy lại; chưa có gì bị mất.")
    return UserError(f"Không ghi được vào {what} '{folder}' (khóa cấu hình '{key}'): {reason}. Cấp quyền ghi cho "
                     f"thư mục đó (ví dụ 'chmod u+w'), hoặc đặt '{key}' sang một thư mục ghi được.")


#: The most a .docx (a plan's signed Word file) may unpack to: the 2024 plan is under 1 MB.
MAX_DOCX_UNPACKED = 50 * 1024 * 1024
#: The most the units' .xlsx may unpack to: a 10,000-row tracking tab is ~20 MB; openpyxl needs ~20 times
#: the unpacked size in memory, so this keeps a pass within a few GB whatever the file claims.
MAX_XLSX_UNPACKED = 200 * 1024 * 1024
#: Parts a .docx or .xlsx may hold (a real one has a few dozen).
MAX_ZIP_PARTS = 10_000


def require_regular(path: Path, label: str) -> None:
    """Refuse, without opening it, anything at `path` that is not a regular file: a FIFO would block the reader
    (holding the job lock) until someone writes to it, a device such as /dev/zero never ends. A missing file or
    a folder passes (the caller says those its own way)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UserError(f"{label} không phải là một tệp thường (là thiết bị, đường ống FIFO hay socket); chương "
                        "trình không đọc nó. Chỉ đến đúng tệp.")


def require_small_zip(path: Path, max_unpacked: int, label: str) -> None:
    """Refuse a zip (.docx, .xlsx) whose parts would unpack to more than `max_unpacked` bytes, or that has more
    parts than any real document, before anything is unpacked: a few hundred KB can claim gigabytes (a zip
    bomb). Python's zip reader never unpacks a part past the size it claims, so this bounds the memory. A file
    that is not a zip passes (the caller's own check says so)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    total = sum(p.file_size for p in parts)
    if total > max_unpacked or len(parts) > MAX_ZIP_PARTS:
        raise UserError(f"{label} khi giải nén lớn {total / 1024 / 1024:,.0f} MB trong {len(parts)} phần, quá giới "
                        f"hạn {max_unpacked // (1024 * 1024)} MB (tệp hỏng, hoặc cố ý làm quá tải). Mở bằng chương "
                        "trình văn phòng và lưu lại thành tệp mới, hoặc dùng bản sao lưu.")


PDF_TIMEOUT_S = 180


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    exe = soffice()
    if exe is None:
        raise UserError("Không tìm thấy LibreOffice (lệnh 'soffice') để chuyển sang PDF. Cài gói "
                        "libreoffice-writer-nogui (Debian/Ubuntu: sudo apt-get install libreoffice-writer-nogui "
                        "fonts-liberation2) hoặc bỏ tùy chọn --pdf; tệp .docx vẫn dùng được.")
    return exe


def to_pdf(docx: Path) -> Path:
    """Convert with LibreOffice in a throw-away profile (a user's open LibreOffice must not block us), into a
    temporary folder first: the PDF beside the .docx is replaced whole, or left as it was on failure."""
    import subprocess  # here: every command imports this module, few convert a report
    exe = require_soffice()
    pdf = docx.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="cchc-lo-") as work:
        profile, out = Path(work) / "profile", Path(work) / "out"
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
               "--outdir", str(out), str(docx)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise UserError(f"LibreOffice không chuyển xong '{docx}' sang PDF sau {PDF_TIMEOUT_S} giây.") from None
        made = out / pdf.name
        if done.returncode != 0 or not made.exists():
            raise UserError(f"LibreOffice không chuyển được '{docx}' sang PDF: {(done.stderr or done.stdout).strip()}")
        write_bytes(pdf, made.read_bytes())
    return pdf


def pdftoppm() -> str | None:
    return shutil.which("pdftoppm")


def pdf_to_png(pdf: Path, out: Path, dpi: int) -> Path:
    """The PDF's pages as one PNG (pdftoppm, then the pages stacked without their margins by Pillow), written
    whole to `out`."""
    import subprocess
    with tempfile.TemporaryDirectory(prefix="cchc-png-") as tmp:
        prefix = Path(tmp) / "page"
        exe = pdftoppm() or "pdftoppm"
        done = subprocess.run([exe, "-r", str(dpi), "-png", str(pdf), str(prefix)], capture_output=True, text=True,
                              timeout=PDF_TIMEOUT_S)
        if done.returncode != 0:
            raise UserError(f"pdftoppm không chuyển được '{pdf}': {done.stderr.strip()}")
        out.parent.mkdir(parents=True, exist_ok=True)
        replace(out, lambda tmp_png: _stack(sorted(Path(tmp).glob("page*.png")), tmp_png))
    return out


def _stack(pages: list[Path], out: Path) -> None:
    from PIL import Image, ImageChops
    images = [Image.open(p).convert("RGB") for p in pages]
    cropped = []
    for im in images:  # drop the page margins: one continuous tab
        box = ImageChops.difference(im, Image.new("RGB", im.size, "white")).getbbox()
        cropped.append(im.crop((0, box[1], im.width, box[3])) if box else im)
    width = max(im.width for im in cropped)
    sheet = Image.new("RGB", (width, sum(im.height for im in cropped)), "white")
    y = 0
    for im in cropped:
        sheet.paste(im, (0, y))
        y += im.height
    box = ImageChops.difference(sheet, Image.new("RGB", sheet.size, "white")).getbbox()
    if box:
        sheet = sheet.crop((max(box[0] - 12, 0), 0, min(box[2] + 12, sheet.width), sheet.height))
    sheet.save(out, format="PNG", optimize=True)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RISKY_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")
#: An int longer than this is written as a sentence: past 4,300 digits Python refuses to print it at all.
MAX_DIGITS = 1000


def visible(text: str) -> str:
    """`text` with each control character (tab and line breaks excepted) replaced by its visible symbol, and the
    other characters a document cannot hold (U+FFFE, U+FFFF, a lone surrogate) by U+FFFD."""
    shown = _CONTROL.sub(lambda m: chr(0x2421) if m.group() == "\x7f" else chr(0x2400 + ord(m.group())), text)
    return NOT_IN_DOCUMENTS.sub("\ufffd", shown)


def number_text(value: int) -> str | None:
    """An int too long to be a real figure (and, past 4,300 digits, to be printed at all), as text saying so;
    None for any other int."""
    digits = int(value.bit_length() * 0.30103) + 1
    return f"(số quá dài: khoảng {digits} chữ số)" if digits > MAX_DIGITS else None


def text_cell(value: Cell) -> Cell:
    """A value for a cell of an .xlsx the job writes: text made visible (see `visible`), an unprintable int as
    text; anything else as it is. Writing it as a string cell (`xlsx_rows`) keeps a leading '=' inert."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return number_text(value) or value
    if isinstance(value, str):
        return visible(value)
    return value


def csv_field(value: object) -> object:
    """A value for a field of a CSV the job writes: as `text_cell`, and text a spreadsheet would evaluate
    prefixed with an apostrophe."""
    if isinstance(value, (str, int)):
        value = text_cell(value)
    if isinstance(value, str) and value.startswith(_RISKY_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def put_text_safe(cell: XlsxCell | MergedCell, value: Cell) -> None:
    """Set an openpyxl cell: text as a string cell (a leading '=' never becomes a formula), dates with the
    Vietnamese date format."""
    if isinstance(value, (str, int)):
        value = text_cell(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, (dt.date, dt.datetime)):
        cell.number_format = "dd/mm/yyyy"

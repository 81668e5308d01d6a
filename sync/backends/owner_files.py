"""Owner files that office programs leave beside a workbook they have open.

While Excel or LibreOffice has `name.xlsx` open, replacing the file under it loses whatever the person
saves next (or what we wrote, when they save over it). Both programs say they hold a file:

* Excel writes `~$name.xlsx` (165 bytes): one byte with the user name's length, the name in the Windows
  8-bit code page padded with spaces, then at offset 55 (54 for Word) a 2-byte length and the same name
  in UTF-16-LE (Vietnamese names survive only in this copy). The file is hidden and removed on close;
  after a crash it stays.
* LibreOffice writes `.~lock.name.xlsx#`: one UTF-8 line "name,system user,host,DD.MM.YYYY hh:mm,user
  profile URL;" with ',', ';' and '\\' escaped by a backslash.

An owner file older than `local.owner_file_max_age_hours` is taken as left over by a crash and ignored.
"""
from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

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

"""A pass's identity and the truth about what it wrote, for its one `Nhật ký` line and its exit message.

Every pass gets a short random id, generated once and kept across its re-read attempts. Its `Nhật ký` line
carries the id (column `Mã lượt chạy`), so "is this pass already logged?" is answered by the id alone: a
write that landed after our timeout is seen on the re-read and the redo does not write a second line (and one
that lands after the re-read is overwritten in place: the Google backend writes the line at a fixed row),
and two passes with different state files on one workbook never mistake each other's lines.

`Outcome` follows each attempt's write — certainly not written (the workbook moved), landed (a re-read
shows the pass's line) or unknown (timeout, cut answer, server error; a re-read that does not show the line
leaves it unknown, since it may land later) — so that a pass which gives up
(exit 3) says truly what it wrote. Backend-neutral: it only looks at snapshots and exceptions.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sync.core.errors import Unreachable, WorkbookHeld, WriteGaveUp, WriteUnknown
from sync.core.schema import fold
from sync.core.workbook import Cell, Tab, WriteSet

T = TypeVar("T")


def new_pass_id() -> str:
    return uuid.uuid4().hex[:12]


def logged_already(tab: Tab | None, pass_id: str) -> bool:
    """True if the log tab holds a line with this pass's id (in any column: ids never collide with data)."""
    if tab is None:
        return False
    return any(isinstance(v, str) and v.strip() == pass_id for row in tab.rows[1:] for v in row)


def add_line(writes: WriteSet, tab: Tab | None, tab_name: str, headers: dict[str, str], line: list[Cell]) -> None:
    """Append the pass's line; give a log tab without headers (new, or older than the id column) its header."""
    names: list[Cell] = list(headers.values())
    if tab is None or not any(v not in (None, "") for row in tab.rows[:1] for v in row):
        writes.append[tab_name] = [names, line]
        return
    head = tab.rows[0]
    hidden = {(r, c) for r1, c1, r2, c2 in tab.merged for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
              if (r, c) != (r1, c1)}  # a merged range's hidden cells cannot take a header
    for col, name in enumerate(names[len(names) - _NEWER:], start=len(names) - _NEWER + 1):
        if not any(fold(v) == fold(name) for v in head if isinstance(v, str)) \
                and (len(head) < col or head[col - 1] in (None, "")) and (1, col) not in hidden:
            writes.set(tab.name, 1, col, name)  # an old workbook: `init` adds them too
    writes.append[tab_name] = [line]


def id_column(tab: Tab | None, headers: dict[str, str]) -> int | None:
    """The column (1-based) of the log tab's `Mã lượt chạy` header, if it has one."""
    if tab is None or not tab.rows:
        return None
    want = fold(headers["pass_id"])
    return next((c for c, v in enumerate(tab.rows[0], start=1) if isinstance(v, str) and fold(v) == want), None)


#: Log columns added after the first release (pass id, note): a pass gives an old log tab their headers.
_NEWER = 2


@dataclass
class Outcome:
    """What the attempts of one pass wrote, as far as re-reads can tell."""

    pass_id: str
    log_tab: str
    landed: str | None = None        # the attempt(s) whose write a re-read showed to have landed
    #: Attempts whose write got no answer. A re-read that does not show the line does not settle them: the
    #: write may still land after it. Only a re-read showing the pass's line settles one (as landed).
    unresolved: list[int] = field(default_factory=list)
    carriers: list[int] = field(default_factory=list)  # the unresolved attempts whose write carried the line
    server_errors: int = 0
    unanswered: int = 0
    moved: int = 0
    last: Exception | None = None

    def seen(self, logged: bool) -> str | None:
        """After a re-read: settle the attempts that carried the line. Returns a message when one had landed."""
        if not logged or self.landed is not None or not self.carriers:
            return None  # not seen yet: a write with no answer may land later, so it stays "không rõ"
        # The line is at one fixed row whichever unanswered write put it there: with several, say so.
        self.landed = " hoặc ".join(str(a) for a in self.carriers)
        self.unresolved = [a for a in self.unresolved if a not in self.carriers]
        self.carriers = []
        return (f"Lần ghi {self.landed} đã được áp dụng dù không nhận được trả lời: dòng mã {self.pass_id} đã có "
                f"trong tab '{self.log_tab}'; không ghi thêm dòng nào.")

    def failed(self, attempt: int, exc: Exception, carried_line: bool) -> None:
        self.last = exc
        if isinstance(exc, WriteUnknown | WriteGaveUp):
            self.unresolved.append(attempt)
            if exc.server_error:
                self.server_errors += 1
            else:
                self.unanswered += 1
            if carried_line:
                self.carriers.append(attempt)
        else:
            self.moved += 1

    def guard(self, action: Callable[..., T], *args: Any, attempt: int | None = None,
              carried_line: bool = False) -> T:
        """Run a backend read or write; if it ends the pass (exit 3), say what the pass wrote."""
        try:
            return action(*args)
        except WorkbookHeld:
            raise  # refused before anything was written: its message says so
        except Unreachable as exc:
            if attempt is not None:
                self.failed(attempt, exc, carried_line)
            raise Unreachable(f"{exc} {self.written()}") from None

    def written(self) -> str:
        """What this pass wrote, truly, in one Vietnamese sentence."""
        parts = []
        if self.landed is not None:
            parts.append(f"lần ghi {self.landed} đã được áp dụng (dòng mã {self.pass_id} có trong tab "
                         f"'{self.log_tab}')")
        if self.unresolved:
            which = ", ".join(str(a) for a in self.unresolved)
            parts.append(f"không rõ lần ghi {which} đã được áp dụng hay chưa"
                         + ("" if self.landed is not None else
                            f" (nếu đã áp dụng, tab '{self.log_tab}' có dòng mã {self.pass_id})"))
        if not parts:
            return f"Lượt chạy mã {self.pass_id} chưa ghi gì vào bảng tính."
        return f"Lượt chạy mã {self.pass_id}: " + "; ".join(parts) + "."

    def reason(self, attempts: int) -> str:
        if self.server_errors and self.server_errors >= self.moved + self.unanswered:
            return f"Google trả lỗi máy chủ khi ghi ({self.server_errors}/{attempts} lần thử; lần cuối: {self.last})"
        if self.unanswered and self.unanswered + self.server_errors >= self.moved:
            return f"lần ghi không nhận được trả lời ({self.unanswered}/{attempts} lần thử; lần cuối: {self.last})"
        return f"bảng tính thay đổi liên tục trong {attempts} lần thử"

"""Table rows → task drafts, as a person reads them.

Section rows (`I.`, `A.`, a bold row spanning the table) become task groups; rows split by page breaks (no
STT) are merged back into the task above, mid-sentence joins with a space; bulleted and multi-paragraph cells
keep their lines; numbering such as `1.1` or `a)` is kept beside the running STT.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sync.plan_import.word import Cell, Rows, is_column_numbers, is_header_again

TEXT_KEYS = ("task", "results", "schedule", "assignment", "lead", "support", "note")
#: the columns that hold more than a task's name: a row with none of them may be a section's title
BODY_KEYS = ("results", "schedule", "assignment", "lead", "support")

_SECTION = re.compile(r"^(?:[IVXLC]+|[A-ZĐ])\s*[.)]?$")
_PLAIN = re.compile(r"^\s*(\d+)\s*[.)]?\s*$")


@dataclass
class Draft:
    stt: int
    task: str
    results: str = ""
    schedule: str = ""
    assignment: str = ""
    note: str = ""
    lead_text: str = ""     # the `Đơn vị chủ trì` column, when the table has one
    support_text: str = ""  # the `Đơn vị phối hợp` column
    numbering: str = ""
    group: str = ""
    lead: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    unsure: bool = False


def _attr(key: str) -> str:
    """The Draft attribute a column's text goes to."""
    return {"lead": "lead_text", "support": "support_text"}.get(key, key)


def _join(before: str, after: str) -> str:
    """Text cut by a page break: a new line where a sentence or item ended, else a space."""
    if not before:
        return after
    if not after:
        return before
    if before.rstrip()[-1:] in ".;:!?" or re.match(r"^[-–+•*]\s", after):
        return before + "\n" + after
    return before + " " + after


def _merged_down(last: Draft, get: dict[str, str]) -> None:
    """A second row of a task whose STT and task cells are merged down: its new texts go on new lines."""
    for k in TEXT_KEYS:
        attr = _attr(k)
        if get.get(k) and get[k] not in getattr(last, attr):
            setattr(last, attr, (getattr(last, attr) + "\n" + get[k]).strip())


def _pushed_on(last: Draft, get: dict[str, str]) -> None:
    """The rest of the task above, pushed to the next page by a page break."""
    for k in TEXT_KEYS:
        if get.get(k):
            setattr(last, _attr(k), _join(getattr(last, _attr(k)), get[k]))


def _is_section(row: list[Cell], get: dict[str, str], number: str) -> bool:
    """A row that titles a group of tasks: merged across (the other columns repeat the first) or every cell
    typed the same, a bold upper-case row with no task's body, or numbered `I.`/`A.`/`1.a` with no body."""
    spanning = len(row) > 2 and (all(c.repeat for c in row[1:]) or len({c.text for c in row}) == 1)
    body = [get.get(k, "") for k in BODY_KEYS]
    heading = not number and not any(body) and all(c.bold for c in row if c.text) and get.get("task", "").isupper()
    return spanning or heading or bool(_SECTION.match(number)) or bool(
        number and not any(body) and not _PLAIN.match(number))


class _Merger:
    """Drafts built row by row: the group they are in and the last row seen."""

    def __init__(self, cols: dict[str, int]) -> None:
        self.cols = cols
        self.drafts: list[Draft] = []
        self.group = ""
        self.previous: tuple[str, bool, str] | None = None  # the last row's STT text, Word numbering and task

    def _next_stt(self) -> int:
        return self.drafts[-1].stt + 1 if self.drafts else 1

    def add(self, row: list[Cell]) -> None:
        cols = self.cols
        get = {k: row[i].text if i < len(row) else "" for k, i in cols.items()}
        stt_cell = row[cols["stt"]] if "stt" in cols and cols["stt"] < len(row) else Cell("")
        if not ({c.text for c in row if c.text} or stt_cell.numbered) or is_header_again(row) \
                or is_column_numbers(row):
            return
        number = get.get("stt", "").strip()
        key, self.previous = self.previous, (number, stt_cell.numbered, get.get("task", ""))
        if self.drafts and key == self.previous and self.previous[2]:  # STT and task merged down over a second row
            _merged_down(self.drafts[-1], get)
            return
        if not number and stt_cell.numbered:  # Word numbers the column itself: the running number
            number = str(self._next_stt())
        if _is_section(row, get, number):
            self.group = " ".join(dict.fromkeys(c.text.replace("\n", " ") for c in row if c.text))
        elif not number:
            if self.drafts:
                _pushed_on(self.drafts[-1], get)
        else:
            plain = _PLAIN.match(number)
            stt = int(plain.group(1)) if plain else self._next_stt()
            self.drafts.append(Draft(stt, get.get("task", ""), get.get("results", ""), get.get("schedule", ""),
                                     get.get("assignment", ""), get.get("note", ""), get.get("lead", ""),
                                     get.get("support", ""), "" if plain else number, self.group))


def merge_rows(cols: dict[str, int], rows: Rows) -> tuple[list[Draft], list[str]]:
    """Drafts in table order, section rows as their groups; and notes on the numbering for the review."""
    merger = _Merger(cols)
    for row in rows:
        merger.add(row)
    drafts = merger.drafts
    stts = [d.stt for d in drafts]
    if len(set(stts)) == len(stts) and stts == sorted(stts):
        return drafts, []
    for n, d in enumerate(drafts, 1):  # numbering restarts in each section
        d.numbering = d.numbering or str(d.stt)
        d.stt = n
    return drafts, ["số thứ tự trong bảng bắt đầu lại ở mỗi mục: đã đánh lại STT 1…"
                    f"{len(drafts)}, số gốc giữ ở 'numbering'"]

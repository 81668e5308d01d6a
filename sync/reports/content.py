"""What a period's report says, as plain data and in its words. Pure: a pass's Summary and the plan in, a Report
out; a Report in, paragraphs out.

Every figure comes from `sync.core.summary.summarize` for the same data date, so the report, its e-mail
and the `Tổng hợp` tab cannot disagree; this module only selects, groups and words them. Each total the
report prints is the length of the list printed under it (`Report.identities` states them).

The words of a CCHC period report (docs/reports.md) are written as a reader outside the Sở reads them;
`sync.reports.document` lays them out. I. Công tác chỉ đạo, điều hành · II. Kết quả thực hiện · III. Đánh giá chung ·
IV. Phương hướng, nhiệm vụ kỳ tới · V. Đề xuất, kiến nghị. What the Office typed in `Báo cáo` goes in as typed; an empty
section gets a sentence computed from the data. Nothing internal: no rows, no "lượt" of assignments, no unreadable
statuses, no history or pass wording, no per-unit missing lists, no error counts (those stay in the dashboard and the
internal companion file). Counts below ten read "03", dates in running text "14/6/2024", unit names in full at first use
with the plan's short form in brackets, task names whole or cut at a clause, never mid-word.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sync.core.deadlines import ScheduleKind, format_date
from sync.core.flags import RowResult
from sync.core.history import SOURCE_SENTENCE
from sync.core.periods import Period
from sync.core.plan import Plan, Task
from sync.core.products import Products
from sync.core.schema import STATUSES, FlagKind, Status, nfc, shorten, vn_number
from sync.core.summary import Kpis, OverdueLine, Summary, UnitLine
from sync.core.tasks import TaskState
from sync.core.trends import Progress
from sync.core.validation import Issue
from sync.reports.evidence import Evidence

#: The statuses in the order the report counts them.
STATUS_ORDER = (Status.DONE, Status.IN_PROGRESS, Status.NOT_STARTED, Status.CANCELLED)
TASK_NAME_LIMIT = 400  # task names are printed in full up to this; longer ones end at a word with "…"
#: The sections the Office types in the `Báo cáo` tab (Report.office keys), with the names its `Mục` column uses.
OFFICE_SECTIONS = {"van_ban_yeu_cau": "Văn bản yêu cầu", "chi_dao": "Chỉ đạo, điều hành", "uu_diem": "Ưu điểm",
                   "nguyen_nhan": "Nguyên nhân", "phuong_huong": "Phương hướng", "kien_nghi": "Kiến nghị"}


def vn_date(day: dt.date) -> str:
    """"ngày 05 tháng 02 năm 2024": ND 30/2020 writes a leading zero for days below 10 and months 1 and 2."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def text_date(day: dt.date) -> str:
    """A date in running text: "14/6/2024" (ND 30's leading zeros belong to the date line only)."""
    return f"{day.day}/{day.month}/{day.year}"


def plan_number_known(number: str) -> bool:
    """"Số /KH-STTTT" (a blank left for the number) is not a number yet."""
    return any(ch.isdigit() for ch in number)


# --- the report's content -------------------------------------------------------------------------------

@dataclass
class TaskLine:
    stt: int
    task: str
    lead: str
    state: str                              # at the data date
    results: list[tuple[str, int, str]]     # (unit, quarter, what it reported for that quarter of the period)
    quantity: int | None                    # products to the data date, summed over units that gave a number


@dataclass(frozen=True)
class OpenTask:
    """A task not finished by the data date (section III), and why it matters next."""

    stt: int
    task: str
    reason: str  # "thường xuyên", "hạn 30/06/2024", "quá hạn từ …", "chưa xác định hạn"
    lead: str    # lead_units
    units: str   # the units still at work on it


@dataclass
class Report:
    period: Period
    window: tuple[dt.date, dt.date]
    as_of: dt.date
    issued: dt.date
    plan: Plan
    kpis: Kpis
    tasks: list[TaskLine]
    overdue: list[OverdueLine]  # `unit` is the unit's label
    missing: list[tuple[str, list[tuple[int, int]]]]  # (unit, [(quarter, task number)]) owed and empty
    errors: list[Issue]          # for the internal annex only, never in the body
    open_tasks: list[OpenTask]  # section III: every task not finished, with its lead unit
    by_unit: list[UnitLine]
    has_data: bool
    texts: dict[str, str] = field(default_factory=dict)  # subject, opening, closing: filled from settings
    source: str = ""  # which entries the figures come from (sync.state.history), said under the figures
    progress: list[Progress] = field(default_factory=list)  # one per cut-off, for the progress chart
    #: What the Office typed for this period in `Báo cáo`, by OFFICE_SECTIONS key; absent or empty: not typed
    office: dict[str, str] = field(default_factory=dict)
    #: The Office's sections that got a sentence computed from the data instead (their Vietnamese names)
    computed_sections: list[str] = field(default_factory=list)
    dated: bool = True     # the issue date was given (--date); otherwise number and date are left to Văn thư
    preview: bool = False  # figures of another day than the period's cut-off (--as-of): "XEM TRƯỚC"
    states: list[TaskState] = field(default_factory=list)  # every task's state (sync.core.tasks), plan order
    rows: list[RowResult] = field(default_factory=list)    # the counted rows, for the per-unit appendix
    products: Products | None = None                       # products by kind, invalid cells left out
    next_plan: Plan | None = None                          # next year's plan (report.next_plan), annual report

    def rows_of(self, stt: int) -> list[RowResult]:
        """The counted rows of one task (indexed once: the report asks per task, over 10,000 rows)."""
        if not hasattr(self, "_by_task"):
            index: dict[int, list[RowResult]] = {}
            for r in self.rows:
                if r.checked.task:
                    index.setdefault(r.checked.task.stt, []).append(r)
            self._by_task = index
        return self._by_task.get(stt, [])

    def products_of(self, stt: int | None = None, unit: str | None = None) -> dict[str, int]:
        """Products by kind in the period's quarters, of a task and/or a unit (summed once per report)."""
        if self.products is None:
            return {}
        if not hasattr(self, "_sums"):
            sums: dict[tuple[int | None, str | None], dict[str, int]] = {}
            wanted = set(self.period.quarters)
            for (s, u, q), counts in self.products.cells.items():
                if q in wanted:
                    for key in ((s, u), (s, None), (None, u), (None, None)):
                        into = sums.setdefault(key, dict.fromkeys(self.products.labels, 0))
                        for label, n in counts.items():
                            into[label] = into.get(label, 0) + n
            self._sums = sums
        return self._sums.get((stt, unit), dict.fromkeys(self.products.labels, 0))

    def typed(self, key: str) -> str:
        """The Office's paragraph for a section, as typed; "" when it typed none (then a sentence is computed)."""
        return nfc(self.office.get(key) or "").strip()

    def note_computed(self) -> list[str]:
        """Fill `computed_sections`: the Office's sections this report fills from the data."""
        self.computed_sections = [name for key, name in OFFICE_SECTIONS.items() if not self.typed(key)]
        return self.computed_sections
    evidence: list[Evidence] = field(default_factory=list)  # per task and unit (annual report)

    @property
    def missing_count(self) -> int:
        return sum(len(items) for _, items in self.missing)

    @property
    def status_counts(self) -> dict[str, int]:
        """Rows by status value, "unknown_status" and "not_counted": they add up to the rows."""
        k = self.kpis
        counts = {status.value: k.status_count(status) for status in STATUS_ORDER}
        counts["unknown_status"] = k.unknown_status
        counts["not_counted"] = k.rows - sum(counts.values())  # outside the plan or duplicated rows
        return counts

    @property
    def kpi_rows(self) -> list[tuple[str, str]]:
        """The key-figure table: each line a figure of the data date, the statuses adding up to the rows."""
        k, s = self.kpis, self.status_counts
        rows: list[tuple[str, int | float | None]] = [
                ("Số nhiệm vụ trong Kế hoạch", k.tasks),
                ("Số lượt phân công (đơn vị × nhiệm vụ)", k.rows),
                *((f"- {STATUSES[status]}", s[status.value]) for status in STATUS_ORDER)]
        if s["unknown_status"]:
            rows.append(("- Chưa rõ tình trạng (ghi sai, chờ đơn vị sửa)", s["unknown_status"]))
        if s["not_counted"]:
            rows.append(("- Dòng ngoài Kế hoạch hoặc trùng lặp (không tính)", s["not_counted"]))
        rows += [("Quá hạn, chưa hoàn thành", k.overdue), ("Sắp đến hạn", k.due_soon),
                 ("Hoàn thành trễ hạn", k.late), ("Chưa xác định hạn", k.undated),
                 ("Kết quả quý các đơn vị còn thiếu", k.missing_quarterly),
                 ("Tỷ lệ hoàn thành đúng hạn (%)", k.on_time_rate)]
        return [(label, vn_number(value)) for label, value in rows]

    def identities(self) -> dict[str, tuple[int, int]]:
        """Each printed total against the list it sums: equal in every report (tests check them)."""
        s = self.status_counts
        return {"statuses = rows": (sum(s.values()), self.kpis.rows),
                "missing = listed": (self.kpis.missing_quarterly, self.missing_count),
                "overdue = listed": (self.kpis.overdue, len(self.overdue))}

    def source_sentence(self) -> str:
        return self.source or SOURCE_SENTENCE.format(date=vn_date(self.as_of))

    def totals_paragraph(self) -> str:
        k, s, p = self.kpis, self.status_counts, self.period
        if not self.has_data:
            return (f"Tính đến {vn_date(self.as_of)}, các đơn vị chưa nhập số liệu nào cho {p.name} vào bảng "
                    "theo dõi; báo cáo này chưa có kết quả để tổng hợp.")
        rate = (f" Tỷ lệ hoàn thành đúng hạn (các nhiệm vụ đã đến hạn): {vn_number(k.on_time_rate)}%."
                if k.on_time_rate is not None else "")
        unknown = f", {s['unknown_status']} chưa rõ tình trạng" if s["unknown_status"] else ""
        extra = f" ({s['not_counted']} dòng ngoài Kế hoạch hoặc trùng lặp không tính)" if s["not_counted"] else ""
        tasks = (f"Tính đến {vn_date(self.as_of)}, hoàn thành {k.tasks_done}/{k.tasks} nhiệm vụ của Kế hoạch, "
                 f"{k.tasks_in_progress} nhiệm vụ đang triển khai, {k.tasks_not_started} nhiệm vụ chưa triển khai"
                 + (f", {k.tasks_cancelled} nhiệm vụ không thực hiện" if k.tasks_cancelled else "")
                 + f"; {k.tasks_late} nhiệm vụ chậm tiến độ. ")
        return tasks + (f"Các nhiệm vụ được phân công thành "
                        f"{k.rows} lượt thực hiện (đơn vị × nhiệm vụ){extra}: {s['done']} hoàn thành, "
                        f"{s['in_progress']} đang thực hiện, {s['not_started']} chưa thực hiện, {s['cancelled']} "
                        f"không thực hiện{unknown}; {k.overdue} lượt quá hạn, {k.due_soon} sắp đến hạn, {k.late} "
                        f"hoàn thành trễ hạn; {self.missing_count} kết quả quý các đơn vị còn thiếu.{rate}")


def build(summary: Summary, plan: Plan, period: Period, issued: dt.date, cutoff_day: int,
          texts: dict[str, str]) -> Report:
    rows = [r for r in summary.results if r.checked.counted and r.checked.task and r.checked.unit]
    by_task: dict[int, list[RowResult]] = {}
    for r in rows:
        if r.checked.task:
            by_task.setdefault(r.checked.task.stt, []).append(r)
    quarters = [q for q in period.quarters]
    report = Report(
        period=period, window=period.window(cutoff_day), as_of=summary.as_of, issued=issued, plan=plan,
        kpis=summary.kpis,
        tasks=[_task_line(t, by_task.get(t.stt, []), quarters, plan, state)
               for t, state in zip(plan.tasks, summary.tasks, strict=True)],
        overdue=[replace(o, unit=plan.registry.by_code(o.code).label) for o in summary.overdue],
        missing=_missing(rows),
        errors=list(summary.errors),
        open_tasks=_open_tasks(plan, by_task, summary.tasks),
        by_unit=list(summary.by_unit),
        has_data=any(_has_entry(r, quarters) for r in rows),
        states=list(summary.tasks), rows=rows, products=_valid_products(summary.products, rows),
    )
    report.texts = _fill_texts(texts, report)
    return report


def lead_units(plan: Plan, task: Task) -> str:
    """The one rule for the lead unit, in the appendix and in the body: the plan's lead units, or, for a task an
    outside body leads, the Sở's units "phối hợp với" that body."""
    if task.lead:
        return _labels(plan, task.lead)
    partners = ", ".join(task.partners) or "cơ quan chủ trì"
    return f"{_labels(plan, task.support)} phối hợp với {partners}"


def valid_result(r: RowResult, quarter: int) -> str:
    """A unit's result for a quarter as the document prints it: "" when empty or flagged in `Kiểm tra`."""
    if any(i.column == f"q{quarter}" for i in r.checked.issues):
        return ""
    return nfc(r.checked.entry.results.get(quarter, "")).strip()


def _valid_products(products: Products | None, rows: list[RowResult]) -> Products | None:
    """The products without the cells flagged in `Kiểm tra` (a flagged results or quantity cell counts nowhere)."""
    if products is None:
        return None
    flagged = {(r.checked.task.stt, r.checked.unit.code, i.column) for r in rows if r.checked.task and r.checked.unit
               for i in r.checked.issues}
    cells = {key: counts for key, counts in products.cells.items()
             if (key[0], key[1], f"q{key[2]}") not in flagged and (key[0], key[1], "quantity") not in flagged}
    return replace(products, cells=cells)


def _labels(plan: Plan, codes: Iterable[str]) -> str:
    return ", ".join(plan.registry.by_code(code).label for code in codes)


def _has_entry(r: RowResult, quarters: list[int]) -> bool:
    e = r.checked.entry
    return bool(e.status or any(e.results.get(q) for q in quarters) or e.evidence
                or e.done_date not in (None, ""))


def _task_line(task: Task, rows: list[RowResult], quarters: list[int], plan: Plan, state: TaskState) -> TaskLine:
    results: list[tuple[str, int, str]] = []
    quantities: list[int] = []
    for r in rows:
        for q in quarters:
            text = valid_result(r, q)
            if text and r.checked.unit:
                results.append((r.checked.unit.label, q, text))
        if r.checked.quantity is not None:
            quantities.append(r.checked.quantity)
    return TaskLine(
        stt=task.stt, task=nfc(task.task),  # in full: the appendix has the room
        lead=lead_units(plan, task),
        state=state.label,
        results=results, quantity=sum(quantities) if quantities else None)


def _missing(rows: list[RowResult]) -> list[tuple[str, list[tuple[int, int]]]]:
    """The quarterly results owed by the data date and left empty: the very flags the dashboard counts."""
    missing: dict[str, list[tuple[int, int]]] = {}
    for r in rows:
        unit, task = r.checked.unit, r.checked.task
        if unit is None or task is None:
            continue  # not counted: owes nothing
        for f in r.flags:
            if f.kind == FlagKind.MISSING:
                missing.setdefault(unit.label, []).append((f.quarter, task.stt))
    return sorted(((unit, sorted(items)) for unit, items in missing.items()), key=lambda kv: (-len(kv[1]), kv[0]))


def _open_tasks(plan: Plan, by_task: dict[int, list[RowResult]], states: list[TaskState]) -> list[OpenTask]:
    """Section III: every task its lead has not finished by the data date (sync.core.tasks), its lead unit, and why
    it matters next: recurring, late, due later, or no deadline yet."""
    out = []
    for task, state in zip(plan.tasks, states, strict=True):
        if state.status in (Status.DONE, Status.CANCELLED):
            continue
        open_rows = [r for r in by_task.get(task.stt, [])
                     if r.checked.status not in (Status.DONE, Status.CANCELLED)]
        if state.kind == ScheduleKind.RECURRING:
            reason = "thường xuyên"
        elif state.late:
            reason = f"quá hạn từ {format_date(state.due)}, tiếp tục thực hiện"
        elif state.due:
            reason = f"hạn {format_date(state.due)}"
        else:
            reason = "chưa xác định hạn"
        units = [r.checked.unit.label for r in open_rows if r.checked.unit]
        out.append(OpenTask(stt=task.stt, task=shorten(task.task, TASK_NAME_LIMIT), reason=reason,
                            lead=lead_units(plan, task),
                            units=", ".join(dict.fromkeys(units)) or _labels(plan, task.lead + task.support)))
    return out


def _fill_texts(texts: dict[str, str], report: Report) -> dict[str, str]:
    start, end = report.window
    plan = report.plan
    known = plan_number_known(plan.number)
    number = plan.number.removeprefix("Số ").strip() if known else ""
    plan_ref = (f" (Kế hoạch số {number} ngày {text_date(plan.issued)})" if known
                else f" (ban hành ngày {text_date(plan.issued)})")
    values = {"period": report.period.name, "quarter": report.period.label, "year": report.period.year,
              "period_from": text_date(start), "period_to": text_date(end), "as_of": text_date(report.as_of),
              "plan_title": plan.title, "plan_ref": plan_ref, "plan_number": number,
              "plan_issued": text_date(plan.issued), "issuer": plan.issuer}
    return {key: nfc(text.format_map(values)) for key, text in texts.items()}


BODY_TASK_NAME = 110      # a task's name in the body: whole up to this, else cut at a clause
TABLE_TASK_NAME = 260     # in the appendix
RESULT_CHARS = 260        # what was done, per task, in the body
EVENT_SCHEDULE = "theo tiến độ Đề án/Kế hoạch của tỉnh"
#: A closing lead-in to a list the plan prints below the task ("… thực hiện các nội dung sau:"): not its name.
_LEAD_IN = re.compile(r"\s*(?:thực hiện\s+)?(?:các|những)\s+(?:nội dung|nhiệm vụ|việc)\s+(?:như\s+)?sau\s*:?\s*$",
                      re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-+•*–]|\d+[.)])\s*")
#: How each kind of product is said: the verb before the count ("đăng tải 45 tin, bài").
VERBS = {"tin, bài": "đăng tải", "hội nghị, tập huấn": "tổ chức", "văn bản": "ban hành", "ấn phẩm": "phát hành",
         "chương trình, chuyên mục": "thực hiện"}
ATTENDEES = "lượt người tham dự"


def count(n: int) -> str:
    """Counts below ten with a leading zero, as Vietnamese reports write them: "03"."""
    return f"{n:02d}" if 0 <= n < 10 else f"{n:,}".replace(",", ".")


class Names:
    """Unit names as a reader outside the Sở reads them: in full at first use, with the plan's short form in
    brackets when the plan defines one, and the short form after that. One per document, used in reading order."""

    def __init__(self, plan: Plan):
        self.plan, self.seen = plan, set[str]()

    def __call__(self, code: str) -> str:
        unit = self.plan.registry.by_code(code)
        short = unit.short if unit.short and unit.short != unit.name else ""
        if code in self.seen or not short:
            self.seen.add(code)
            return short or unit.name
        self.seen.add(code)
        return f"{unit.name} ({short})"

    def many(self, codes: Iterable[str]) -> str:
        return ", ".join(self(code) for code in codes)

    def lead(self, task: Task) -> str:
        """The task's lead units; for a task an outside body leads, the Sở's units "phối hợp với" that body."""
        if task.lead:
            return self.many(task.lead)
        return f"{self.many(task.support)} phối hợp với {', '.join(task.partners) or 'cơ quan chủ trì'}"


def task_name(text: str, limit: int) -> str:
    """A task's name whole, or cut at a clause (";", then ","), never mid-word; a closing lead-in to a list
    ("… các nội dung sau") is not part of it."""
    text = _LEAD_IN.sub("", " ".join(nfc(text).split())).rstrip(" .;:,")
    if len(text) <= limit:
        return text
    for mark in (";", ","):
        parts, out = text.split(mark), ""
        for part in parts:
            longer = f"{out}{mark}{part}" if out else part
            if len(longer.strip()) > limit:
                break
            out = longer
        out = _LEAD_IN.sub("", out).strip().rstrip(" .;:,")
        if len(out) >= limit // 3:
            return out + "…"
    return text[:limit].rsplit(" ", 1)[0].rstrip(" .;:,") + "…"


def sentence(text: str) -> str:
    """One full stop at the end, none after '…' or after another stop."""
    text = text.rstrip().rstrip(";:,").rstrip()
    return text if text.endswith(("…", ".", "!", "?")) else text + "."


#: First words that keep their capital inside a sentence (names of bodies and documents).
PROPER = frozenset({"Sở", "Cổng", "Trung", "Phòng", "Ban", "Văn", "Ủy", "UBND", "Tỉnh", "Hội", "Đảng", "Nhà", "Bộ",
                    "Chính", "Kế", "Quyết", "Nghị", "Công", "Luật", "Trang", "Bản", "Đề"})


def clean_result(text: str) -> str:
    """A unit's result as one run of text: its lines (bullets dropped) joined by "; ", each line's first word in
    lower case as inside a sentence unless it names something ("Sở", "Công văn", "UBND")."""
    lines = [_BULLET.sub("", line).strip().rstrip(" .;,") for line in nfc(text).splitlines()]
    return "; ".join(_inner(line) for line in lines if line)


def _inner(line: str) -> str:
    word = line.split(" ", 1)[0]
    if word in PROPER or not word[:1].isupper() or not word[1:].islower():
        return line
    return line[:1].lower() + line[1:]


def products_phrase(counts: dict[str, int]) -> str:
    """"đăng tải 45 tin, bài; tổ chức 03 hội nghị, tập huấn với 320 lượt người tham dự; ban hành 04 văn bản"."""
    parts = []
    for label, n in counts.items():
        if not n or label == ATTENDEES:
            continue
        phrase = f"{VERBS[label]} {count(n)} {label}" if label in VERBS else f"{count(n)} {label}"
        if label == "hội nghị, tập huấn" and counts.get(ATTENDEES):
            phrase += f" với {count(counts[ATTENDEES])} {ATTENDEES}"
        parts.append(phrase)
    if counts.get(ATTENDEES) and not counts.get("hội nghị, tập huấn"):
        parts.append(f"thu hút {count(counts[ATTENDEES])} {ATTENDEES}")
    return "; ".join(parts)


def state_text(s: TaskState) -> str:
    """A task's state as the report says it: "Hoàn thành (04/3/2024)", "Đang thực hiện, hạn 31/12/2024",
    "Chậm tiến độ (hạn 30/6/2024)", "Đang thực hiện thường xuyên"; a task due after the cut-off is not late."""
    if s.status == Status.DONE:
        return "Hoàn thành" + (f" ({text_date(s.done_on)})" if s.done_on else "")
    if s.status == Status.CANCELLED:
        return "Không thực hiện" + (f": {s.reason.rstrip('. ')}" if s.reason else "")
    if s.late and s.due:
        return f"Chậm tiến độ, hạn {text_date(s.due)}"
    word = "Đang thực hiện" if s.status == Status.IN_PROGRESS else "Chưa thực hiện"
    if s.kind == ScheduleKind.RECURRING:
        return f"{word} thường xuyên"
    if s.due:
        return f"{word}, hạn {text_date(s.due)}"
    return f"{word}, {EVENT_SCHEDULE}"


# --- the sections ---------------------------------------------------------------------------------------

def opening(r: Report) -> str:
    """The opening; the Sở Nội vụ letter the report answers cited first when the Office typed it."""
    text = r.texts.get("opening", "")
    letter = re.sub(r"^thực hiện\s+", "", r.typed("van_ban_yeu_cau"), flags=re.IGNORECASE).rstrip(" .;,")
    if not letter:
        return text
    rest = re.sub(r"^Thực hiện\b", "thực hiện", text)
    return f"Thực hiện {letter}; {rest}"


def plan_cited(r: Report) -> str:
    p = r.plan
    number = p.number.removeprefix("Số ").strip()
    if any(ch.isdigit() for ch in number):
        return f"Kế hoạch số {number} ngày {text_date(p.issued)}"
    return f"Kế hoạch ngày {text_date(p.issued)}"


def direction(r: Report, names: Names) -> list[str]:
    """I. Công tác chỉ đạo, điều hành: what the Office typed, or the plan and whom it assigns."""
    if typed := r.typed("chi_dao"):
        return typed.splitlines()
    units = [u.code for u in r.plan.registry.units]
    return [f"{r.plan.issuer} ban hành {plan_cited(r)} về tuyên truyền cải cách hành chính năm {r.plan.year}, "
            f"giao {count(len(r.plan.tasks))} nhiệm vụ cho {count(len(units))} phòng, đơn vị thuộc Sở: "
            f"{names.many(units)}; các phòng, đơn vị triển khai theo nhiệm vụ được giao và báo cáo kết quả định kỳ "
            "hằng quý."]


def _numbers(states: Sequence[TaskState]) -> str:
    return ", ".join(str(s.stt) for s in states)


def task_figures(r: Report) -> str:
    """"Hoàn thành 05/17 nhiệm vụ …; 11 nhiệm vụ đang triển khai, trong đó 05 thường xuyên …; 01 nhiệm vụ chậm
    tiến độ (nhiệm vụ số 4: …)", counted by task (sync.core.tasks)."""
    states, total = r.states, len(r.plan.tasks)
    by = {status: [s for s in states if s.status == status] for status in Status}
    done, going = by[Status.DONE], by[Status.IN_PROGRESS]
    parts = [f"Tính đến ngày {text_date(r.as_of)}, hoàn thành {count(len(done))}/{count(total)} nhiệm vụ của Kế hoạch"
             + (f" (nhiệm vụ số {_numbers(done)})" if done else "")]
    if going:
        kinds = [f"{count(n)} nhiệm vụ {what}" for what, n in (
            ("thường xuyên", sum(s.kind == ScheduleKind.RECURRING for s in going)),
            (EVENT_SCHEDULE, sum(s.kind == ScheduleKind.EVENT and not s.due for s in going))) if n]
        among = f", trong đó {', '.join(kinds)}" if kinds else ""
        parts.append(f"{count(len(going))} nhiệm vụ đang triển khai{among}")
    if by[Status.NOT_STARTED]:
        parts.append(f"{count(len(by[Status.NOT_STARTED]))} nhiệm vụ chưa triển khai "
                     f"(nhiệm vụ số {_numbers(by[Status.NOT_STARTED])})")
    if by[Status.CANCELLED]:
        parts.append(f"{count(len(by[Status.CANCELLED]))} nhiệm vụ không thực hiện "
                     f"(nhiệm vụ số {_numbers(by[Status.CANCELLED])})")
    late = [s for s in states if s.late]
    if late:
        named = "; ".join(f"nhiệm vụ số {s.stt}: {task_name(r.plan.by_stt[s.stt].task, 80)}" for s in late)
        parts.append(f"{count(len(late))} nhiệm vụ chậm tiến độ ({named})")
    return sentence("; ".join(parts))


def period_products(r: Report) -> dict[str, int]:
    return r.products_of()


def products_sentence(r: Report) -> str | None:
    phrase = products_phrase(period_products(r))
    if not phrase:
        return None
    return sentence(f"Trong {r.period.name}, các phòng, đơn vị đã {phrase}")


def done_by_task(r: Report, names: Names) -> list[str]:
    """One short paragraph per task with results this period: what was done, from the units' results (cells
    flagged in `Kiểm tra` left out), under its group's name when the plan has groups."""
    out, group = [], ""
    for task in r.plan.tasks:
        texts = [clean_result(valid_result(row, q)) for row in r.rows_of(task.stt) for q in r.period.quarters]
        texts = list(dict.fromkeys(t for t in texts if t))
        products = products_phrase(r.products_of(task.stt))
        if not texts and not products:
            continue
        if task.group and task.group != group:
            group = task.group
            out.append(nfc(group))
        said = task_name("; ".join(texts), RESULT_CHARS) if texts else ""
        line = f"- Nhiệm vụ số {task.stt} ({task_name(task.task, BODY_TASK_NAME)}): "
        line += said[:1].lower() + said[1:] if said else "đã " + products
        if said and products:
            line += f" (đã {products})"
        out.append(sentence(line))
    return out


def strengths(r: Report) -> list[str]:
    """III.1 Ưu điểm: the Office's words, or the facts that are a strength."""
    if typed := r.typed("uu_diem"):
        return typed.splitlines()
    done = sum(s.status == Status.DONE for s in r.states)
    on_time = sum(s.status == Status.DONE and not s.done_late_days for s in r.states)
    text = (f"Các phòng, đơn vị thuộc Sở triển khai các nhiệm vụ được giao theo Kế hoạch; đến ngày "
            f"{text_date(r.as_of)} đã hoàn thành {count(done)}/{count(len(r.states))} nhiệm vụ"
            + (f", trong đó {count(on_time)} nhiệm vụ hoàn thành đúng hạn" if on_time else ""))
    if phrase := products_phrase(period_products(r)):
        text += f"; trong {r.period.name} đã {phrase}"
    return [sentence(text)]


def shortcomings(r: Report, names: Names) -> list[str]:
    """III.2 Tồn tại, hạn chế và nguyên nhân: late tasks with their lead; Không thực hiện with its reason; the
    Office's causes, or the causes the data knows."""
    out = []
    for s in r.states:
        task = r.plan.by_stt[s.stt]
        if s.late and s.due:
            out.append(sentence(f"- Nhiệm vụ số {s.stt} ({task_name(task.task, BODY_TASK_NAME)}) chậm tiến độ so với "
                                f"hạn {text_date(s.due)}; đơn vị chủ trì: {names.lead(task)}"))
        elif s.status == Status.CANCELLED:
            why = f", lý do: {s.reason.rstrip('. ')}" if s.reason else ""
            out.append(sentence(f"- Nhiệm vụ số {s.stt} ({task_name(task.task, BODY_TASK_NAME)}) không thực hiện{why}"))
    if not out:
        out.append("Không có nhiệm vụ chậm tiến độ.")
    if typed := r.typed("nguyen_nhan"):
        out += [f"Nguyên nhân: {typed.splitlines()[0]}", *typed.splitlines()[1:]]
    else:
        outside = [s for s in r.states if s.late and not r.plan.by_stt[s.stt].lead]
        if outside:
            out.append(sentence("Nguyên nhân: nhiệm vụ số " + _numbers(outside) + " do cơ quan khác chủ trì, Sở phối "
                                "hợp nên tiến độ phụ thuộc vào cơ quan chủ trì"))
    return out


def next_steps(r: Report, names: Names) -> list[str]:
    """IV. Phương hướng, nhiệm vụ kỳ tới: the Office's words first; for the year, next year's plan by group when it
    is known and the unfinished tasks carried over once; otherwise the open tasks, by what they wait on."""
    out = r.typed("phuong_huong").splitlines()
    open_states = [s for s in r.states if s.status in (Status.IN_PROGRESS, Status.NOT_STARTED)]
    if r.period.kind == "Y":
        nxt = r.next_plan
        if nxt is not None:
            out.append(sentence(f"Triển khai {nxt.title} ({count(len(nxt.tasks))} nhiệm vụ)")[:-1] + ", gồm:")
            group = ""
            for task in nxt.tasks:
                if task.group and task.group != group:
                    group = task.group
                    out.append(nfc(group))
                out.append(sentence(f"- {task_name(task.task, BODY_TASK_NAME)}"))
        elif not out:
            out.append(sentence(f"Xây dựng, ban hành Kế hoạch tuyên truyền cải cách hành chính năm {r.plan.year + 1} "
                                f"của Sở; tiếp tục thực hiện các nhiệm vụ thường xuyên"))
        carried = [s for s in open_states if s.kind != ScheduleKind.RECURRING]
        if carried:
            out.append(f"Tiếp tục thực hiện {count(len(carried))} nhiệm vụ năm {r.plan.year} chưa hoàn thành:")
            out += [_open_line(r, s, names) for s in carried]
        return out
    recurring = [s for s in open_states if s.kind == ScheduleKind.RECURRING]
    if recurring:
        out.append(sentence(f"Tiếp tục thực hiện {count(len(recurring))} nhiệm vụ thường xuyên (nhiệm vụ số "
                            f"{_numbers(recurring)})"))
    others = [s for s in open_states if s.kind != ScheduleKind.RECURRING]
    if others:
        out.append("Tập trung thực hiện các nhiệm vụ còn lại:")
        out += [_open_line(r, s, names) for s in others]
    if not out:
        out.append("Các nhiệm vụ của Kế hoạch đã hoàn thành.")
    return out


def _open_line(r: Report, s: TaskState, names: Names) -> str:
    task = r.plan.by_stt[s.stt]
    state = state_text(s)
    return sentence(f"- Nhiệm vụ số {s.stt} ({state[:1].lower() + state[1:]}): {task_name(task.task, BODY_TASK_NAME)}; "
                    f"đơn vị chủ trì: {names.lead(task)}")


def proposals(r: Report) -> list[str]:
    """V. Đề xuất, kiến nghị: the Office's words, or "Không."."""
    return r.typed("kien_nghi").splitlines() or ["Không."]


# --- Phụ lục II: one row per unit ----------------------------------------------------------------------

def unit_rows(r: Report) -> list[tuple[str, list[int], float | None]]:
    """(unit code, [assigned, done, on time, late, results owed, results given], on-time rate %) per unit, in the
    registry's order: for Ban Giám đốc and the year's emulation review."""
    out = []
    by_unit: dict[str, list[RowResult]] = {}
    for x in r.rows:
        if x.checked.unit:
            by_unit.setdefault(x.checked.unit.code, []).append(x)
    for unit in r.plan.registry.units:
        rows = by_unit.get(unit.code, [])
        done = [x for x in rows if x.checked.status == Status.DONE]
        on_time = [x for x in done if not x.has(FlagKind.LATE)]
        late = len(done) - len(on_time) + sum(x.has(FlagKind.OVERDUE) for x in rows)
        owed = [(x, q) for x in rows for q in x.owed if q in r.period.quarters]
        given = sum(1 for x, q in owed if valid_result(x, q))
        due = len(done) + sum(x.has(FlagKind.OVERDUE) for x in rows)
        rate = round(100 * len(on_time) / due, 1) if due else None
        out.append((unit.code, [len(rows), len(done), len(on_time), late, len(owed), given], rate))
    return out

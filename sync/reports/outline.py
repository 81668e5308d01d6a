"""The words of a CCHC period report (docs/reports.md), as a reader outside the Sở reads them. Pure: a
`content.Report` in, paragraphs out; `sync.reports.document` lays them out.

I. Công tác chỉ đạo, điều hành · II. Kết quả thực hiện · III. Đánh giá chung · IV. Phương hướng, nhiệm vụ kỳ
tới · V. Đề xuất, kiến nghị. What the Office typed in `Báo cáo` goes in as typed; an empty section gets a
sentence computed from the data. Nothing internal: no rows, no "lượt" of assignments, no unreadable statuses,
no history or pass wording, no per-unit missing lists, no error counts (those stay in the dashboard and the
internal companion file). Counts below ten read "03", dates in running text "14/6/2024", unit names in full at
first use with the plan's short form in brackets, task names whole or cut at a clause, never mid-word.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sync.core.deadlines import ScheduleKind
from sync.core.flags import RowResult
from sync.core.plan import Plan, Task
from sync.core.schema import FlagKind, Status, nfc
from sync.core.tasks import TaskState
from sync.reports.content import Report, text_date, valid_result

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

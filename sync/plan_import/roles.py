"""Who leads and who supports, read from a task's assignment sentence the way plans are written.

It is a reading of free text (see `read_roles`): `role_doubts` says what a person should check, and a task
with no unit read is left for the Office to fill in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sync.core.plan import Unit
from sync.core.schema import fold, nfc
from sync.plan_import.units import UnitReader, partners_in, raw_at

# verbs of publishing what others produced: a unit that only does this supports, unless nobody else acts
PUBLISH = ("cap nhat", "dang")

_LABEL = re.compile(r"^\s*(?:[-–+•*]\s*)?(?:(?:don vi|co quan) )?(chu tri|phoi hop)\s*:")
_WITH = re.compile(r"\bphoi hop(?: voi)?\b")
_EXCEPT = re.compile(r"^(?:ngoai tru|tru|khong ke)\b")
_CHAIR_AFTER = re.compile(r"^\s*[,(]?\s*(?:la )?(?:don vi )?chu tri\b")


def _clauses(text: str, reader: UnitReader) -> list[str]:
    """Assignment text → clauses: lines and ";"-parts, a unit name broken over two lines joined first, and a
    part that is only unit names (a list cut by ";") joined to what follows."""
    lines = [line for line in nfc(text).split("\n") if line.strip()]
    joined: list[str] = []
    for line in lines:
        if joined and _broken_name(joined[-1], line, reader):
            joined[-1] = joined[-1].rstrip(" -–") + " - " + re.sub(r"^\s*[-–]\s*", "", line)
        else:
            joined.append(line)
    parts: list[str] = []
    for line in joined:
        for part in re.split(r";|\.\s+(?=[-–]\s)", line):
            if part.strip(" .-–"):
                parts.append(part)
    out: list[str] = []
    carry = ""
    for part in parts:
        part = (carry + "; " + part) if carry else part
        found, rest = reader.subjects(part)
        if found and not rest.strip(" .,;:-"):
            carry = part
            continue
        carry = ""
        out.append(part)
    if carry:
        out.append(carry)
    return out


def _broken_name(before: str, after: str, reader: UnitReader) -> bool:
    """Whether a unit name starts at the end of `before` and ends at the start of `after`."""
    head = fold(re.sub(r"^\s*[-–+•*]\s*", "", before)).rstrip("- ")
    tail = fold(re.sub(r"^\s*[-–+•*]\s*", "", after)).lstrip("- ")
    if not head or not tail:
        return False
    for spelling, _ in reader.spellings:
        for sep in ("-", " "):
            text = head + sep + tail
            pos = text.find(spelling, max(0, len(head) - len(spelling)))
            if 0 <= pos < len(head) < pos + len(spelling) and not head.endswith(spelling):
                return True
    return False


def _labelled(assignment: str, reader: UnitReader) -> tuple[str, list[str], list[str]] | None:
    """The form "Chủ trì: X; Phối hợp: Y" (the importer writes it when the table has the two columns):
    (text before the first label, lead, support); None when no line starts with a label. A line without a
    label after one goes on with it (a list of names over several lines)."""
    parts = [p for line in nfc(assignment).split("\n") for p in line.split(";") if p.strip()]
    if not any(_LABEL.match(fold(p)) for p in parts):
        return None
    before: list[str] = []
    roles: dict[str, list[str]] = {"chu tri": [], "phoi hop": []}
    current = None
    for part in parts:
        label = _LABEL.match(fold(part))
        if label:
            current, part = label.group(1), part.split(":", 1)[1]
        if current is None:
            before.append(part)
            continue
        roles[current].extend(c for c in reader.codes_in(part) if c not in roles[current])
    return "\n".join(before), roles["chu tri"], roles["phoi hop"]


def _excluded(verb: str, reader: UnitReader) -> tuple[list[str], str]:
    """"trừ Ban Biên tập, Phòng X thực hiện …" after "các phòng, đơn vị": (the units left out, the rest)."""
    match = _EXCEPT.match(verb)
    if not match:
        return [], verb
    codes: list[str] = []
    end = match.end()
    for start, stop, cs in reader.mentions(verb):
        if start < end or verb[end:start].strip(" ,-") not in ("", "va"):
            break
        codes.extend(cs)
        end = stop
    return codes, verb[end:].strip(" ,;:-")




#: A clause's subjects as `UnitReader.subjects` reads them: (codes, is "all units", name the registry lacks).
Subjects = list[tuple[list[str], bool, str]]


@dataclass
class _Roles:
    """The units an assignment names, sorted by what the text says they do."""
    chairs: list[str] = field(default_factory=list)      # "X chủ trì"
    actors: list[str] = field(default_factory=list)      # "X thực hiện", "X hướng dẫn"
    everyone: list[str] = field(default_factory=list)    # "Các phòng, đơn vị … thực hiện"
    publishers: list[str] = field(default_factory=list)  # "X cập nhật", "X đăng tin"
    others: list[str] = field(default_factory=list)      # "X phối hợp", "phối hợp với X"

    def subjects(self, found: Subjects, verb: str, reader: UnitReader) -> None:
        """The units a clause starts with, by the verb that follows them."""
        codes = [c for cs, _, name in found for c in (cs or [reader.propose(name)])]
        every = any(all_ for _, all_, _ in found)
        if every:
            left_out, verb = _excluded(verb, reader)
            codes = [c for c in codes if c not in left_out]
        if verb.startswith("chu tri"):
            self.chairs.extend(codes)
        elif verb.startswith("phoi hop"):
            self.others.extend(codes)
        elif verb.startswith(PUBLISH):
            self.publishers.extend(codes)
        elif every:
            self.everyone.extend(codes)
            self.others.extend(codes)
        else:
            self.actors.extend(codes)

    def working_with(self, rest: str, clause: str, reader: UnitReader) -> None:
        """"… chủ trì, phối hợp (với) Y": Y supports, unless "Y (chủ trì)"; also the other order."""
        partners = _WITH.search(rest)
        if not partners:
            return
        tail = rest[partners.end():]
        for _, end, cs in reader.mentions(tail):
            (self.chairs if _CHAIR_AFTER.match(tail[end:]) else self.others).extend(cs)
        self.others.extend(_unknown_units(tail, clause, reader))

    def marked(self, clause: str, reader: UnitReader) -> None:
        """"Văn phòng Sở (chủ trì), Phòng CNTT-BCVT (phối hợp)"."""
        folded = fold(clause)
        for _, end, cs in reader.mentions(folded):
            mark = re.match(r"\s*\(\s*(chu tri|phoi hop)\s*\)", folded[end:])
            if mark:
                (self.chairs if mark.group(1) == "chu tri" else self.others).extend(cs)

    def read(self, reader: UnitReader) -> tuple[list[str], list[str], bool]:
        """(lead, support, unsure) in the registry's order, proposed units last."""
        lead = list(dict.fromkeys(self.chairs or self.actors or self.everyone or self.publishers))
        support = [c for c in dict.fromkeys(self.chairs + self.actors + self.publishers + self.others)
                   if c not in lead]
        order = reader.codes + [p.code for p in reader.proposals.values()]
        key = order.index
        return sorted(lead, key=key), sorted(support, key=key), not (lead or support)


def read_roles(assignment: str, reader: UnitReader) -> tuple[list[str], list[str], bool]:
    """(lead, support, unsure), read the way the plans are written.

    Each clause (a line, a ";"-part) starts with the units it is about and then what they do:
    * "X chủ trì" (or "X (chủ trì)") leads; "phối hợp Y" / "phối hợp với Y" in that clause makes Y support,
      unless Y is marked "(chủ trì)";
    * "X phối hợp …" supports;
    * "Chủ trì: X; Phối hợp: Y" (labelled lines) gives both directly;
    * "Các phòng, đơn vị thuộc Sở, trừ Y" is every unit but Y;
    * without any "chủ trì", the units named that act lead ("X thực hiện", "X hướng dẫn", in any clause),
      "Các phòng, đơn vị …" lead only when no unit is named that acts, and units that only publish what
      others produce ("cập nhật", "đăng tin") support unless nobody else acts.
    `unsure` when no unit is named at all; `role_doubts` says what else a person should check."""
    roles = _Roles()
    labelled = _labelled(assignment, reader)
    if labelled:
        assignment, roles.chairs, roles.others = labelled[0], list(labelled[1]), list(labelled[2])
    for clause in _clauses(assignment, reader):
        found, rest = reader.subjects(clause)
        if found:
            roles.subjects(found, rest.strip(" ,;:-("), reader)
        roles.working_with(rest, clause, reader)
        roles.marked(clause, reader)
    return roles.read(reader)


def _unknown_units(tail: str, clause: str, reader: UnitReader) -> list[str]:
    """Codes proposed for the names the registry does not know in a folded list of units ("phối hợp Phòng Kế
    hoạch - Tài chính, Văn phòng Sở …"), read from the clause as written."""
    raw = raw_at(nfc(clause), tail.strip(" ,:"))
    codes: list[str] = []
    for piece in re.split(r",|;|\bvà\b", raw):
        piece = piece.strip(" .-–()")
        if not piece or reader.known_at(fold(piece), 0):
            continue
        unknown = reader.unknown_at(fold(piece), piece)
        if unknown:
            codes.append(reader.propose(unknown[1]))
    return codes


def role_doubts(assignment: str, reader: UnitReader, lead: list[str], support: list[str]) -> list[str]:
    """What `read_roles` could not read in full, for the review list: a unit named in the text that got no
    role, or "chủ trì" written with no lead read (and no outside body to lead)."""
    doubts: list[str] = []
    text = fold(assignment)
    left_out: set[str] = set()
    for match in re.finditer(r"\b(?:ngoai tru|tru|khong ke)\b", text):
        left_out.update(_excluded(text[match.start():], reader)[0])
    names = {u.code: u.short or u.name for u in reader.units}
    missing = [c for _, _, cs in reader.mentions(text) if len(cs) == 1 for c in cs
               if c not in lead and c not in support and c not in left_out]
    for code in dict.fromkeys(missing):
        doubts.append(f"'{names.get(code, code)}' ({code}) có trong câu phân công nhưng không đọc được vai trò: "
                      "điền vào 'lead' hoặc 'support'")
    if re.search(r"\bchu tri\b", text) and not lead and not partners_in(assignment) and (lead or support):
        doubts.append("câu phân công có 'chủ trì' nhưng không đọc được đơn vị chủ trì: điền 'lead'")
    return doubts


def infer_roles(assignment: str, units: tuple[Unit, ...]) -> tuple[list[str], list[str], bool]:
    """`read_roles` against a registry alone (names it does not know are left out): the lead's and the supporting
    units' codes, and whether none was found."""
    reader = UnitReader(units)
    lead, support, _ = read_roles(assignment, reader)
    known = set(reader.codes)
    lead, support = [c for c in lead if c in known], [c for c in support if c in known]
    return lead, support, not (lead or support)

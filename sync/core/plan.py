"""The plan as data: tasks, their responsible units and roles, and the unit registry.

Loaded from `config/plans/*.yaml` (see the 2024 plan there). Plain frozen dataclasses; the YAML is
checked with pydantic so that a typo in the plan file is reported with its key, not as a traceback.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from sync.core import deadlines
from sync.core.errors import UserError
from sync.core.problems import MAX_YAML_BYTES, load_yaml, read_bounded, validation_problems
from sync.core.schema import closest, fold, nfc


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    email: tuple[str, ...] = ()
    short: str = ""  # the name used in narrow report columns and e-mail subjects

    @property
    def label(self) -> str:
        return self.short or self.name


@dataclass(frozen=True)
class Task:
    stt: int
    task: str
    results: str
    schedule: str
    assignment: str
    note: str
    lead: tuple[str, ...]
    support: tuple[str, ...]
    partners: tuple[str, ...] = ()
    group: str = ""       # the section row above the task in the plan's table ("I. NHIỆM VỤ TRỌNG TÂM")
    numbering: str = ""   # the plan's own numbering when it is not a plain number ("1.1", "a)")

    def units(self) -> list[tuple[str, str]]:
        """(unit code, role key) pairs: leads first, in plan order."""
        return [(code, "lead") for code in self.lead] + [(code, "support") for code in self.support]


@dataclass(frozen=True)
class UnitRegistry:
    units: tuple[Unit, ...]

    @cached_property
    def _index(self) -> dict[str, Unit]:
        index: dict[str, Unit] = {}
        for unit in self.units:
            for spelling in (unit.code, unit.name, *unit.aliases):
                index.setdefault(fold(spelling), unit)
        return index

    def by_code(self, code: str) -> Unit:
        return next(u for u in self.units if u.code == code)

    def match(self, text: object) -> Unit | None:
        """The unit a typed name means: exact after folding, else a near-certain fuzzy match."""
        key = fold(text)
        if not key:
            return None
        if key in self._index:
            return self._index[key]
        near = closest(key, list(self._index), cutoff=0.92)
        return self._index[fold(near)] if near else None

    def suggest(self, text: object) -> Unit | None:
        near = closest(nfc(text), list(self._index), cutoff=0.5)
        return self._index[fold(near)] if near else None


@dataclass(frozen=True)
class Plan:
    title: str
    number: str
    issued: dt.date
    year: int
    issuer: str
    registry: UnitRegistry
    tasks: tuple[Task, ...]
    source: str = ""

    @cached_property
    def by_stt(self) -> dict[int, Task]:
        return {t.stt: t for t in self.tasks}

    def schedule(self, task: Task) -> deadlines.Schedule:
        return deadlines.parse(task.schedule, self.year)

    def assignments(self) -> list[tuple[Task, Unit, str]]:
        """Every (task, unit, role key), in the order `init` lays out the tracking tab."""
        return [(task, self.registry.by_code(code), role) for task in self.tasks for code, role in task.units()]

    @cached_property
    def _roles(self) -> dict[tuple[int, str], str]:
        return {(task.stt, code): role for task in self.tasks for code, role in reversed(task.units())}

    def role_of(self, stt: int, unit_code: str) -> str | None:
        return self._roles.get((stt, unit_code))


# --- loading -------------------------------------------------------------------------------------------

def _email_shape(value: object) -> object:
    """One address or a list of addresses (or null): one message for a value that is neither, not one per
    alternative of the union."""
    if value is None or isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return value
    raise PydanticCustomError("cchc_email", "phải là một địa chỉ e-mail hoặc danh sách địa chỉ e-mail (ví dụ "
                                            "vp@example.gov.vn, hoặc [a@x.vn, b@x.vn]), hoặc null")


class _Unit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    short: str = ""
    aliases: list[str] = []
    email: Annotated[list[str] | str | None, BeforeValidator(_email_shape)] = None
    proposed: bool = False  # set by `plan import` for a name it did not recognise; the Office confirms it


class _Task(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stt: int
    task: str
    results: str = ""
    schedule: str = ""
    assignment: str = ""
    note: str | None = ""
    lead: list[str] = []
    support: list[str] = []
    partners: list[str] = []
    group: str = ""
    numbering: str = ""


#: A problem of the plan file: the key it is about (`tasks[3].lead[0]` as ("tasks", 3, "lead", 0)) and what to fix.
Problem = tuple[tuple[str | int, ...], str]


class _Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    number: str = ""
    issued: dt.date
    year: int
    issuer: str = ""
    units: list[_Unit]
    tasks: list[_Task]

    @model_validator(mode="after")
    def _consistent(self) -> _Plan:
        """Checks across keys. Each problem keeps the key it is about (`tasks[3].lead[0]`), so the message names
        its line; every one is reported at once: an imported draft may have several things to fill in."""
        problems = self._duplicates() + self._assignments() + self._proposed()
        if problems:
            raise PydanticCustomError("cchc_located", "{summary}",
                                      {"summary": "; ".join(msg for _, msg in problems), "problems": problems})
        return self

    def _duplicates(self) -> list[Problem]:
        """Unit codes and task numbers used twice (each named with its first use)."""
        problems: list[Problem] = []
        first_code: dict[str, int] = {}
        for i, u in enumerate(self.units):
            if u.code in first_code:
                problems.append((("units", i, "code"), f"mã đơn vị '{u.code}' bị trùng với units[{first_code[u.code]}]"
                                                       " — mỗi đơn vị một mã riêng"))
            first_code.setdefault(u.code, i)
        first_stt: dict[int, int] = {}
        for i, t in enumerate(self.tasks):
            if t.stt in first_stt:
                problems.append((("tasks", i, "stt"), f"số thứ tự 'stt' {t.stt} bị trùng với tasks[{first_stt[t.stt]}]"
                                                      " — mỗi nhiệm vụ một số riêng"))
            first_stt.setdefault(t.stt, i)
        return problems

    def _assignments(self) -> list[Problem]:
        """Tasks naming a unit code `units` does not have, and tasks without any unit."""
        problems: list[Problem] = []
        codes = [u.code for u in self.units]
        for i, t in enumerate(self.tasks):
            for role in ("lead", "support"):
                for j, code in enumerate(getattr(t, role)):
                    if code not in codes:
                        problems.append(((("tasks", i, role, j)), f"nhiệm vụ {t.stt}: mã đơn vị '{code}' không có "
                                                                  f"trong 'units' ({', '.join(codes)})"))
            if not (t.lead or t.support):
                problems.append((("tasks", i), unassigned_message(t.stt)))
        return problems

    def _proposed(self) -> list[Problem]:
        """Units `plan import` proposed that nobody confirmed yet."""
        problems: list[Problem] = []
        for i, u in enumerate(self.units):
            if u.proposed:
                used = [f"nhiệm vụ {t.stt} ({role})" for t in self.tasks
                        for role, roles in (("lead", t.lead), ("support", t.support)) if u.code in roles]
                problems.append((("units", i, "proposed"), proposed_message(u.code, u.name, used)))
        return problems


def unassigned_message(stt: int) -> str:
    """What to fill in for a task without units (also the `plan import` review line)."""
    return (f"nhiệm vụ {stt}: chưa phân công đơn vị nào — điền mã đơn vị chủ trì vào 'lead' và đơn vị phối hợp "
            f"vào 'support' của nhiệm vụ {stt} (mã trong 'units'), theo cột Phân công")


def proposed_message(code: str, name: str, used: list[str]) -> str:
    """A unit `plan import` proposed and nobody confirmed yet (also the review line)."""
    where = f", dùng ở {', '.join(used)}" if used else ""
    return (f"đơn vị '{code}' ({name}) là đơn vị mới do 'plan import' đề xuất{where} — kiểm tra tên, mã và e-mail "
            f"của đơn vị trong 'units' (hoặc thay bằng mã một đơn vị đã có), rồi xóa dòng 'proposed: true'")


def _emails(value: str | list[str] | None) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


_LOADED: dict[tuple[str, bytes], Plan] = {}


def load_plan(path: Path) -> Plan:
    """The plan in `path`. A file read before with the same bytes gives the same (immutable) Plan without
    parsing it again: the daemon and a command's several steps read it often, and YAML parsing is slow."""
    path = Path(path)
    try:  # bounded: /dev/zero or a FIFO named as the plan must not be read (load_yaml says why)
        key = (str(path), read_bounded(path, MAX_YAML_BYTES, "")) if path.is_file() else None
    except (OSError, UserError):
        key = None  # said below, by load_yaml's own messages
    if key is not None and key in _LOADED:
        return _LOADED[key]
    plan = _load_plan(path)
    if key is not None:
        if len(_LOADED) >= 8:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = plan
    return plan


def _load_plan(path: Path) -> Plan:
    try:
        raw, text = load_yaml(path, "Tệp kế hoạch", "plan")
    except FileNotFoundError:
        raise UserError(f"Không tìm thấy tệp kế hoạch '{path}' (khóa cấu hình 'plan').") from None
    try:
        model = _Plan.model_validate(raw)
    except ValidationError as exc:
        lines = "\n".join(f"  - {line}" for line in validation_problems(exc, _Plan, text))
        raise UserError(f"Tệp kế hoạch '{path}' (khóa cấu hình 'plan') có lỗi:\n{lines}") from None
    registry = UnitRegistry(tuple(
        Unit(u.code, nfc(u.name), tuple(nfc(a) for a in u.aliases), _emails(u.email), nfc(u.short))
        for u in model.units))
    tasks = tuple(
        Task(t.stt, nfc(t.task), nfc(t.results), nfc(t.schedule), nfc(t.assignment), nfc(t.note),
             tuple(t.lead), tuple(t.support), tuple(nfc(p) for p in t.partners), nfc(t.group), nfc(t.numbering))
        for t in sorted(model.tasks, key=lambda t: t.stt))
    return Plan(nfc(model.title), nfc(model.number), model.issued, model.year, nfc(model.issuer),
                registry, tasks, str(path))


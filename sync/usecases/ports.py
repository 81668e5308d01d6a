"""The ports of a use case: the plan, the workbook backend and the state file of the settings.

Every use case takes its ports; the entry points open them here (`open_ports`), never by hand, so that a command
line or the daemon holds no adapter of its own (tests/test_architecture.py), and tests hand in their own
(`Ports.of`: a memory backend, a plan of their own).

Each port is opened the first time a use case asks for it: a use case that reads only what the job recorded
(`status`, `history`) never opens the workbook, nor needs a Google key to reach it; `run` has the state file
take its pass's record before the plan and the workbook are opened, so that their failures are recorded too;
`deadline` reads the settings only when the phrase names no year.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, NoReturn

from sync.core.config import Settings
from sync.core.plan import Plan
from sync.core.workbook import Backend

if TYPE_CHECKING:
    from sync.state.store import State


class Ports:
    """What a use case works on: the plan, the workbook and the state file, each opened once, when first used."""

    def __init__(self, plan: Callable[[], Plan], backend: Callable[[Plan], Backend], state: Callable[[], State]):
        self._open_plan, self._open_backend, self._open_state = plan, backend, state

    @classmethod
    def of(cls, plan: Plan, backend: Backend, state: State) -> Ports:
        """Ports already open (tests)."""
        return cls(lambda: plan, lambda _plan: backend, lambda: state)

    @cached_property
    def plan(self) -> Plan:
        return self._open_plan()

    @cached_property
    def backend(self) -> Backend:
        """The workbook (its size hint taken from the plan: the plan is opened first)."""
        return self._open_backend(self.plan)

    @cached_property
    def state(self) -> State:
        return self._open_state()


def open_ports(settings: Settings, read_only: bool = False) -> Ports:
    """The ports of the settings. `read_only`: the command writes nothing to the workbook (report, remind, export,
    dry runs, a restore that only shows): the local workbook is let go as soon as it is read, and a write would be
    refused."""
    def backend(plan: Plan) -> Backend:
        from sync.backends import open_backend
        return open_backend(settings, rows_hint=len(plan.assignments()), read_only=read_only)
    return Ports(lambda: open_plan(settings), backend, lambda: open_state(settings))


def plan_ports(settings: Callable[[], Settings]) -> Ports:
    """Ports of the plan alone, whose settings are read when the plan is first asked for (`deadline` with --year
    needs no configuration); the workbook and the state file are not theirs to open."""
    def refuse(*_: object) -> NoReturn:
        raise RuntimeError("plan_ports opens the plan only")
    return Ports(lambda: open_plan(settings()), refuse, refuse)


def open_plan(settings: Settings) -> Plan:
    """The configured plan (a plan that does not load is the user's to fix: exit 2)."""
    from sync.core.plan import load_plan
    return load_plan(settings.plan_path())


def open_state(settings: Settings) -> State:
    """The configured state file (opened lazily: nothing is read or created until a use case asks)."""
    from sync.state.store import State
    return State(settings.state)

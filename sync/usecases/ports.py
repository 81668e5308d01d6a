"""The ports of a use case: the plan, the workbook backend and the state file of the settings.

The use cases are given their ports (tests give them a memory backend and a plan of their own); the entry
points open them here, never by hand, so that a command line or the daemon holds no adapter of its own
(tests/test_architecture.py). A use case that reads only what the job recorded (`status`, `history`) opens
the state file and the plan alone: it never needs the workbook, nor a Google key to reach it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync.core.config import Settings
from sync.core.plan import Plan
from sync.core.workbook import Backend

if TYPE_CHECKING:
    from sync.state.store import State


@dataclass(frozen=True)
class Ports:
    """What a use case works on: the plan, the workbook and the state file of the settings."""

    plan: Plan
    backend: Backend
    state: State


def open_ports(settings: Settings, read_only: bool = False) -> Ports:
    """`read_only`: the command writes nothing to the workbook (report, remind, export, dry runs, a restore that
    only shows): the local workbook is let go as soon as it is read, and a write would be refused."""
    plan = open_plan(settings)
    from sync.backends import open_backend
    backend = open_backend(settings, rows_hint=len(plan.assignments()), read_only=read_only)
    return Ports(plan, backend, open_state(settings))


def open_plan(settings: Settings) -> Plan:
    """The configured plan (a plan that does not load is the user's to fix: exit 2)."""
    from sync.core.plan import load_plan
    return load_plan(settings.plan_path())


def open_state(settings: Settings) -> State:
    """The configured state file (opened lazily: nothing is read or created until a use case asks)."""
    from sync.state.store import State
    return State(settings.state)

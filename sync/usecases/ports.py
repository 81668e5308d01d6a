"""The ports of a use case: the plan, the workbook backend and the state file of the settings, opened together.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync.core.config import Settings
from sync.core.plan import Plan
from sync.core.workbook import Backend

if TYPE_CHECKING:
    from sync.state.store import State

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.


@dataclass(frozen=True)
class Ports:
    """What a use case works on: the plan, the workbook and the state file of the settings."""

    plan: Plan
    backend: Backend
    state: State


def open_ports(settings: Settings) -> Ports:
    from sync.backends import open_backend
    from sync.core.plan import load_plan
    from sync.state.store import State
    plan = load_plan(settings.plan_path())
    return Ports(plan, open_backend(settings, rows_hint=len(plan.assignments())), State(settings.state))

"""`remind`: one reminder digest per unit of what is overdue or due soon.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.core.config import Settings
from sync.usecases.common import Line, Lines, SenderFactory, guard_state
from sync.usecases.ports import Ports

if TYPE_CHECKING:
    pass

#: The use cases that take the job lock: one of them at a time per state file, whoever started it.


@dataclass(frozen=True)
class RemindResult:
    as_of: dt.date
    units: list[dict[str, Any]]
    emails_sent: int
    lines: tuple[Line, ...]

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "units": self.units, "emails_sent": self.emails_sent}


def remind(settings: Settings, ports: Ports, now: dt.datetime, as_of: dt.date | None = None, send: bool = False,
           sender: SenderFactory | None = None, lines: Lines | None = None, accept_new: bool = False) -> RemindResult:
    from sync.core.asof import AsOf
    from sync.sheet.sync_pass import PassOptions, compute
    from sync.usecases.notify import remind as remind_units
    lines = lines or Lines()
    backend = ports.backend
    guard = guard_state(settings, ports.state, ports.plan, write=send, accept_new=accept_new)
    opts = PassOptions.from_settings(settings, AsOf(as_of or now.date()), now, dry_run=True)
    snapshot = backend.read()
    guard.witness(snapshot, settings.layout, backend.describe())
    summary = compute(snapshot, ports.plan, settings.layout, opts, backend.describe()).summary
    if send:
        guard.adopt()
    units = remind_units(settings, ports.plan, summary, ports.state, now, send, lines.say,
                         sender=(lambda: sender(settings.mail)) if sender else None)
    return RemindResult(opts.as_of.day, units, sum(len(u["sent"]) for u in units), lines.all())

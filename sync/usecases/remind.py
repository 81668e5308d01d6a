"""`remind`: one reminder digest per unit of what is overdue, due soon, missing or mistyped.

A unit hears of its own rows only, once per `remind.interval_days` at most (sync/mail/letters.py keeps the
ledger); without `send` the digests are only shown, so the Office can read what units would receive.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sync.core.config import Settings
from sync.usecases.common import Line, Lines, SenderFactory, guard_state
from sync.usecases.ports import Ports


@dataclass(frozen=True)
class RemindRequest:
    as_of: dt.date | None = None  # the day the digests are of; default today
    send: bool = False  # without it: only shown
    new_state: bool = False  # --new-state: a state file that knows nothing is this workbook's new one


@dataclass(frozen=True)
class RemindResult:
    as_of: dt.date
    units: list[dict[str, Any]]
    emails_sent: int
    lines: tuple[Line, ...]

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "units": self.units, "emails_sent": self.emails_sent}


def remind(settings: Settings, ports: Ports, now: dt.datetime, request: RemindRequest,
           sender: SenderFactory | None = None, lines: Lines | None = None) -> RemindResult:
    """Each unit's digest of `request.as_of`, shown or sent; only a sending writes the state file (its ledger)."""
    from sync.core.history import AsOf
    from sync.mail.letters import remind as remind_units
    from sync.sheet.sync_pass import PassOptions, judge
    lines = lines or Lines()
    backend = ports.backend
    send = request.send
    guard = guard_state(settings, ports.state, ports.plan, write=send, accept_new=request.new_state)
    opts = PassOptions.from_settings(settings, AsOf(request.as_of or now.date()), now, dry_run=True)
    snapshot = backend.read()
    guard.witness(snapshot, settings.layout, backend.describe())
    summary = judge(snapshot, ports.plan, settings.layout, opts, backend.describe()).summary
    if send:
        guard.adopt()
    units = remind_units(settings, ports.plan, summary, ports.state, now, send, lines.say,
                         sender=(lambda: sender(settings.mail)) if sender else None)
    return RemindResult(opts.as_of.day, units, sum(len(u["sent"]) for u in units), lines.all())

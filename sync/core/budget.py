"""A time budget shared by every request of one command (`google.retry_budget_s`).

Each request may wait and retry only while the command as a whole is within its budget: four requests
answered 429 three times each share one budget, they do not get one each. Each request's own timeout is
also capped at what is left (`cap`), so a slow server cannot stretch the command past its budget.

Time spent is measured on the clock only; a test that fakes `sleep` fakes the clock with it (a clock that
moves by the waits it took), so production code has one notion of time.
"""
from __future__ import annotations

import time
from collections.abc import Callable

#: The least time a request is given, even when the budget is (nearly) spent: one last try can still answer.
MIN_REQUEST_S = 1.0


class Deadline:
    def __init__(self, budget_s: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.budget_s = budget_s
        self.clock = clock
        self._sleep = sleep
        self.started = clock()

    def spent(self) -> float:
        return self.clock() - self.started

    def left(self) -> float:
        return max(self.budget_s - self.spent(), 0.0)

    def allows(self, wait_s: float) -> bool:
        """True if waiting `wait_s` seconds still ends within the budget."""
        return wait_s <= self.left()

    def cap(self, timeout_s: float) -> float:
        """A request's timeout: `timeout_s`, but no longer than what is left (and at least MIN_REQUEST_S)."""
        return min(timeout_s, max(self.left(), MIN_REQUEST_S))

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

"""A time budget shared by every request of one command (`google.retry_budget_s`).

Each request may wait and retry only while the command as a whole is within its budget: four requests
answered 429 three times each share one budget, they do not get one each.

Time spent is the larger of the clock's elapsed time and the sum of the waits taken through `sleep`, so a
test that injects a sleep which does not really wait still sees its waits counted.
"""
from __future__ import annotations

import time
from typing import Callable


class Deadline:
    def __init__(self, budget_s: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.budget_s = budget_s
        self.clock = clock
        self._sleep = sleep
        self.started = clock()
        self.slept = 0.0

    def spent(self) -> float:
        return max(self.clock() - self.started, self.slept)

    def left(self) -> float:
        return max(self.budget_s - self.spent(), 0.0)

    def allows(self, wait_s: float) -> bool:
        """True if waiting `wait_s` seconds still ends within the budget."""
        return wait_s <= self.left()

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self._sleep(seconds)

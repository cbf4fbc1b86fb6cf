"""A long-running loop's guard: after a failure, how long to wait (the pure schedule in
:mod:`sms1708.core.loopbackoff`), and the alarm that `sms1708 status` shows while a loop keeps
failing."""

from __future__ import annotations

import time
from collections.abc import Callable

from sms1708.core import loopbackoff
from sms1708.core.loopbackoff import Pacing, Trouble
from sms1708.health import Health


class LoopGuard:
    def __init__(
        self,
        name: str,
        health: Health,
        pacing: Pacing | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.health = health
        self.pacing = pacing or Pacing()
        self.clock = clock
        self.trouble = loopbackoff.CLEAR

    def failed(self, error: str) -> float:
        """Count a failure (``error``: what an operator should see, no citizen's data);
        returns the seconds to wait before trying again."""
        self.trouble = loopbackoff.failed(self.trouble, self.clock(), error, self.pacing)
        wait = loopbackoff.delay(self.trouble, self.pacing)
        self._report(wait)
        return wait

    def ok(self) -> None:
        """The loop did its work."""
        before = self.trouble
        if before.failures == 0:
            return
        self.trouble = loopbackoff.succeeded(before, self.clock(), self.pacing)
        if self.trouble.failures == 0:
            self.health.set_loop(self.name, None)

    @property
    def delay(self) -> float:
        return loopbackoff.delay(self.trouble, self.pacing)

    def _report(self, wait: float) -> None:
        t: Trouble = self.trouble
        self.health.set_loop(
            self.name,
            {
                "failures": t.failures,
                "since": t.first_at,
                "last_error": (t.last_error or "")[:300],
                "retry_in": round(wait, 1),
                "alarm": loopbackoff.alarming(t, self.pacing),
            },
        )

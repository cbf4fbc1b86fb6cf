"""A circuit breaker for the upstream. Pure: time is an argument.

When the upstream keeps failing (unreachable, 5xx, timeouts), stop sending to it for a while
instead of hammering it with every queued complaint; then let one request through as a probe.
Each time the circuit opens again in a row, the pause doubles, up to a cap. One success closes
it, and the backlog drains at full speed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Breaker:
    threshold: int = 5  # consecutive failures that open the circuit
    base: float = 5.0  # first pause, seconds
    cap: float = 300.0  # longest pause
    failures: int = 0
    openings: int = 0
    open_until: float = 0.0

    def allow(self, now: float) -> bool:
        """May a request be sent now?"""
        return now >= self._bounded(now)

    def probing(self, now: float) -> bool:
        """The circuit was open and its pause is over: send one request, not a batch."""
        return self.openings > 0 and now >= self._bounded(now)

    def _bounded(self, now: float) -> float:
        """A pause never lasts longer than ``cap`` from now, whatever the clock did since."""
        self.open_until = min(self.open_until, now + self.cap)
        return self.open_until

    def record(self, ok: bool, now: float) -> bool:
        """Count one outcome. Returns True when this outcome opened the circuit."""
        if ok:
            self.failures = 0
            self.openings = 0
            self.open_until = 0.0
            return False
        self.failures += 1
        if self.failures < self.threshold and not self.openings:  # a failed probe reopens
            return False
        self.openings += 1
        self.failures = 0
        pause = min(self.cap, self.base * 2.0 ** min(self.openings - 1, 30))
        self.open_until = now + pause
        return True

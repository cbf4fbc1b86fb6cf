"""The daemon's one clock: "trusted now" for every loop (see :mod:`sms1708.core.timebase`).

``clock.now()`` is what every loop uses instead of ``time.time()``. A jump of trusted time (a
forward wall step without network time, a network correction) is not applied at once: trusted
time stays continuous until :meth:`Clock.settle` has moved the times the store wrote in the old
scale (one transaction, from the daemon's main thread), and only then switches to the new
scale. So no loop ever compares an old-scale time with a new-scale "now".
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sms1708.core import timebase
from sms1708.logsetup import get_logger

if TYPE_CHECKING:
    from sms1708.store.store import Store

log = get_logger("sms1708.clock")

#: how far off the box clock may be before ``status`` says so
WARN_AFTER = 180.0


class Clock:
    def __init__(
        self,
        *,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
        floor: float | None = None,
        warn_after: float = WARN_AFTER,
    ) -> None:
        self.warn_after = warn_after
        self._wall = wall
        self._mono = mono
        self._lock = threading.Lock()
        self.tb = timebase.start(wall(), mono(), floor)
        self._pending: timebase.Timebase | None = None  # a jump waiting for settle()
        self.jump = 0.0
        self.steps = 0
        self.network_source: str | None = None
        self.network_seen_at: float | None = None
        if self.tb.offset:
            log.warning(
                "clock_behind_store",
                wall=_iso(self.tb.wall),
                using=_iso(self.tb.trusted),
                size=round(self.tb.offset, 1),
                hint="the box booted with an old time; resuming from the newest stored time",
            )

    def __call__(self) -> float:
        return self.now()

    def now(self) -> float:
        """Trusted unix time (continuous while a jump waits for :meth:`settle`)."""
        with self._lock:
            base = self._pending or self.tb
            reading = timebase.observe(base, self._wall(), self._mono())
            if reading.step is not None:
                self.steps += 1
                log.warning(
                    "clock_step",
                    size=round(reading.step, 1),
                    wall=_iso(reading.timebase.wall),
                    trusted=_iso(reading.timebase.trusted),
                    followed=bool(reading.jump),
                )
            return self._take(reading)

    def date(self) -> float:
        """Trusted time for a date others read (the HMAC timestamp): already in the new scale
        while a jump waits for :meth:`settle`."""
        self.now()
        with self._lock:
            tb = self._pending or self.tb
            return tb.trusted + (self._mono() - tb.mono)

    def network_time(self, when: datetime, *, source: str) -> None:
        """Network time seen now: ``source`` "modem" (the network-set modem clock) or "sms"
        (an SMSC timestamp: only a lower bound)."""
        with self._lock:
            base = self._pending or self.tb
            base = timebase.observe(base, self._wall(), self._mono()).timebase
            reading = timebase.network(base, when.timestamp(), lower_bound=source == "sms")
            if reading.timebase.anchored:
                self.network_source = source
                self.network_seen_at = reading.timebase.trusted
            if reading.jump:
                log.warning(
                    "clock_corrected",
                    source=source,
                    size=round(reading.jump, 1),
                    box=_iso(reading.timebase.wall),
                    network=_iso(reading.timebase.trusted),
                )
            self._take(reading)

    def _take(self, reading: timebase.Reading) -> float:
        if reading.jump or self._pending is not None:
            if self._pending is None:
                self._pending = reading.timebase
                self.jump = reading.jump
            else:
                self._pending = reading.timebase
                self.jump += reading.jump
            # continuous until settled: the old scale, moved on by the monotonic clock
            return self.tb.trusted + (reading.timebase.mono - self.tb.mono)
        self.tb = reading.timebase
        return self.tb.trusted

    def settle(self, store: Store, *, caps: dict[str, float]) -> float:
        """Apply a waiting jump: move what the store wrote in the old scale, then switch.
        Returns the jump applied (0.0: none)."""
        with self._lock:
            pending, jump = self._pending, self.jump
            if pending is None:
                return 0.0
            since = self.tb.since
            store.timeshift.rebase(jump, since=since, now=pending.trusted, caps=caps)
            self.tb, self._pending, self.jump = pending, None, 0.0
        log.warning(
            "clock_rebased",
            size=round(jump, 1),
            since=_iso(since),
            now=_iso(pending.trusted),
            action="due times, leases and ages written since start moved with the clock",
        )
        return jump

    def status(self) -> dict[str, Any]:
        """For status.json / metrics: how far the box clock is off, and from what."""
        tb = self._pending or self.tb
        off = timebase.off_by(tb)
        return {
            "off_by": round(off, 1),
            "warn": abs(off) > self.warn_after,
            "network": tb.anchored,
            "source": self.network_source,
            "steps": self.steps,
        }


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def describe_offset(seconds: float) -> str:
    """ "3 d 4 h", "12 min" - a clock offset for operators (without its direction)."""
    s = round(abs(seconds) / 60) * 60
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    parts = [f"{d} d" if d else "", f"{h} h" if h else "", f"{m} min" if m or not (d or h) else ""]
    return " ".join(p for p in parts if p)


def network_time_from_sms(store: Store, clock: Clock, seen: int) -> int:
    """Feed the SMSC timestamps of SMS parts stored since ``seen`` to the clock (each one says
    "network time is at least this"). Returns the last part id looked at."""
    newest: datetime | None = None
    for part_id, scts in store.queries.part_times(after=seen):
        seen = part_id
        if scts is None:
            continue
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(scts)
            if when.tzinfo is not None and (newest is None or when > newest):
                newest = when
    if newest is not None:
        clock.network_time(newest, source="sms")
    return seen

"""How a long-running loop paces itself after failures. Pure: time is an argument.

A loop (modem worker, forwarder, status poller, reply sender) that fails again and again waits
longer each time: ``base``, ``2 * base``, ... up to ``cap``. A success resets the delay only
once it has *held* for ``settle`` seconds: a loop that comes up and fails again at once (a
modem that initialises, then chokes on its first poll) keeps climbing instead of retrying every
``base`` seconds for ever. After ``alarm_after`` failures in a row the loop raises an alarm;
the alarm ends with the trouble (a success that held).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Pacing:
    base: float = 1.0  # first delay, seconds
    cap: float = 60.0  # longest delay
    settle: float = 30.0  # a success counts once the loop has run this long without failing
    alarm_after: int = 3  # failures in a row that raise an alarm


@dataclass(frozen=True)
class Trouble:
    """A loop's run of failures. ``failures``: in a row (0: all well); ``ok_since``: when the
    loop last started succeeding after its last failure (None: not since)."""

    failures: int = 0
    first_at: float | None = None
    last_at: float | None = None
    last_error: str | None = None
    ok_since: float | None = None


CLEAR = Trouble()


def _settled(t: Trouble, now: float, p: Pacing) -> bool:
    return t.ok_since is not None and now - t.ok_since >= p.settle


def failed(t: Trouble, now: float, error: str, p: Pacing) -> Trouble:
    """One more failure at ``now``. A success that did not hold does not start a new run."""
    if t.failures == 0 or _settled(t, now, p):
        return Trouble(1, now, now, error, None)
    return Trouble(t.failures + 1, t.first_at, now, error, None)


def succeeded(t: Trouble, now: float, p: Pacing) -> Trouble:
    """The loop did its work at ``now``. The trouble ends once the success has held."""
    if t.failures == 0:
        return t
    if t.ok_since is None:
        t = replace(t, ok_since=now)
    return CLEAR if _settled(t, now, p) else t


def delay(t: Trouble, p: Pacing) -> float:
    """How long to wait before trying again (0 when all is well)."""
    if t.failures == 0:
        return 0.0
    return min(p.cap, p.base * 2.0 ** min(t.failures - 1, 40))


def alarming(t: Trouble, p: Pacing) -> bool:
    return t.failures >= p.alarm_after

"""Trusted time: the box's wall clock, corrected, and never a source of stalls or give-ups.

Pure: every reading (wall clock, monotonic clock, network time) is an argument.

The model. ``trusted = wall + offset``. Each observation compares how far the wall clock moved
with how far the monotonic clock moved; a difference above ``STEP`` is a *step* of the wall
clock (NTP setting a Raspberry Pi's clock after boot, an operator's ``date -s``).

- Without network time (no ``anchor``), trusted time never runs backwards: it follows the wall
  clock, except that a wall clock behind the last trusted time (stepped back, or booted with an
  old time) is overruled by the last trusted time plus the monotonic time since - the way
  fake-hwclock resumes from the last known time. A forward step is followed (NTP is usually
  right), and that is a *jump* of trusted time.
- With network time (the modem's clock with network time-zone updates, or the SMSC timestamp of
  an arriving SMS), the offset is what the network says; a later wall step is absorbed into the
  offset (trusted time stays continuous) and a network correction beyond ``TOLERANCE`` is a jump.

A jump ``j`` is what the store must apply to the times it wrote since this process started
(they were written in the old scale): due times, leases, queue ages and rate windows move with
it, so a queue neither stalls nor goes ``dead`` because of the clock.

An SMSC timestamp is only a lower bound of network time (an SMS can wait at the SMSC for hours):
it can say the box is behind, never that it is ahead. The modem's clock, once the network has
set it, says both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: a wall-clock move this far from the monotonic clock's is a step (NTP slews below this)
STEP = 5.0
#: network time differing by more than this from trusted time corrects it
TOLERANCE = 60.0
#: a network time before this is a modem clock that was never set (power-on default)
PLAUSIBLE_AFTER = 1735689600.0  # 2025-01-01T00:00:00Z


@dataclass(frozen=True)
class Timebase:
    """What the clock knows. ``wall``/``mono``/``trusted`` are the last observation."""

    wall: float
    mono: float
    trusted: float
    offset: float = 0.0  # trusted - wall
    anchored: bool = False  # the offset comes from network time
    since: float = 0.0  # when this process started, in the current scale (for rebasing)


@dataclass(frozen=True)
class Reading:
    timebase: Timebase
    step: float | None  # the wall clock stepped by this much (None: no step)
    jump: float  # trusted time moved this much beyond the monotonic clock (0.0: none)


def start(wall: float, mono: float, floor: float | None = None) -> Timebase:
    """The timebase at start: the wall clock, or ``floor`` (the newest time the store holds)
    when the wall clock is behind it - the box booted with an old time."""
    trusted = wall if floor is None or floor <= wall + STEP else floor
    return Timebase(wall, mono, trusted, trusted - wall, False, trusted)


def observe(tb: Timebase, wall: float, mono: float) -> Reading:
    """Read the clock again: the new trusted time, a wall step, a jump to rebase by."""
    elapsed = max(0.0, mono - tb.mono)
    continuous = tb.trusted + elapsed
    moved = (wall - tb.wall) - elapsed
    step = moved if abs(moved) > STEP else None
    if tb.anchored:
        offset = tb.offset - (step or 0.0)
        trusted = wall + offset
    elif wall >= continuous - STEP:
        trusted, offset = wall, 0.0  # the wall clock is right, or stepped forward
    else:
        trusted, offset = continuous, continuous - wall  # behind: hold on to what we knew
    jump = trusted - continuous
    if abs(jump) <= STEP:
        jump = 0.0
    tb2 = replace(tb, wall=wall, mono=mono, trusted=trusted, offset=offset, since=tb.since + jump)
    return Reading(tb2, step, jump)


def network(tb: Timebase, network_time: float, *, lower_bound: bool) -> Reading:
    """Network time seen at the last observation (``tb.wall``/``tb.mono``).

    ``lower_bound``: the network time is a "not before" (an SMSC timestamp) - it can only move
    trusted time forward. Otherwise (the modem's network-set clock) it sets it either way.
    """
    if network_time < PLAUSIBLE_AFTER:
        return Reading(tb, None, 0.0)
    gap = network_time - tb.trusted
    if abs(gap) <= TOLERANCE or (lower_bound and gap < 0):
        if not lower_bound and not tb.anchored:
            tb = replace(tb, anchored=True)  # confirmed: keep following the network
        return Reading(tb, None, 0.0)
    offset = network_time - tb.wall
    tb2 = replace(tb, trusted=network_time, offset=offset, anchored=True, since=tb.since + gap)
    return Reading(tb2, None, gap)


def off_by(tb: Timebase) -> float:
    """How far the box's wall clock is from trusted time (positive: the box is behind)."""
    return tb.offset


def clamp_due(due: float, now: float, cap: float) -> float:
    """A due time never lies further ahead than its longest possible delay: whatever a clock
    did to it, an item waits at most ``cap``."""
    return min(due, now + cap)

"""Pacing one upstream destination: how many requests may be in flight now, and how fast
they may start. Pure.

A ``429 Too Many Requests`` or ``503 Service Unavailable`` (with or without ``Retry-After``) is
a signal about the whole destination, not about the one complaint that got it: the destination
is paused for the ``Retry-After`` time (or a default), and its allowance of requests in flight
is cut (multiplicative decrease). Each answered request then widens it again, by one request
per full window of answers (additive increase), up to the configured concurrency, which is
never exceeded. The answers of requests that were already in flight when the signal came
(they often say the same) extend the pause but do not cut the allowance again.

The rate is learned as well: with a signal, the forwarder says how many of its requests the
upstream accepted in the second before the refused one started (what its limit let through).
The refusals of one episode (the requests already in flight when the first came back) each
say so; the one that started last saw the most of what got through, so the largest counts.
From then on request starts are spaced (a token bucket of one) to ``rate_share`` of that
learned rate, which is held for ``hold`` seconds: a limit seen once is not probed again at
once (each probe would cost a ``429`` and a pause). A new signal within the hold (refused
although paced below the learned rate) lowers the learned rate, never raises it. Once the
hold is over, the start rate grows gently again (``rate_increase`` of itself per second of
answers), so a limit that was lifted is found.

One :class:`Pace` per destination; time is a parameter (no clock here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

#: HTTP answers that mean "slow down" for the whole destination
SLOW_DOWN = frozenset({429, 503})


@dataclass(frozen=True)
class PaceRules:
    ceiling: int  # the destination's configured concurrency: never more in flight
    floor: int = 1  # never less than this once a pause is over
    decrease: float = 0.5  # the allowance is multiplied by this on a slow-down signal
    increase: float = 1.0  # ... and grows by this per window of answered requests
    default_pause: float = 1.0  # seconds, when the signal carries no Retry-After
    max_pause: float = 300.0  # a Retry-After longer than this is taken as this
    #: after a slow-down, request starts are spaced to this share of the rate the upstream
    #: accepted in the second before the refused request (a margin for the network's jitter)
    rate_share: float = 0.95
    #: seconds the learned rate is kept as the pace after a slow-down signal, ...
    hold: float = 60.0
    #: ... after which the start rate grows by this share of itself per second of answers
    rate_increase: float = 0.02

    def __post_init__(self) -> None:
        if self.ceiling < 1 or not 1 <= self.floor <= self.ceiling:
            raise ValueError("pacing needs 1 <= floor <= ceiling")
        if not 0 < self.decrease < 1 or self.increase <= 0:
            raise ValueError("pacing needs 0 < decrease < 1 and increase > 0")
        if not 0 < self.rate_share <= 1 or self.rate_increase <= 0 or self.hold < 0:
            raise ValueError("pacing needs 0 < rate_share <= 1, rate_increase > 0, hold >= 0")


@dataclass(frozen=True)
class Pace:
    limit: float  # requests allowed in flight (fractional while it grows)
    paused_until: float = 0.0
    signals: int = 0  # slow-down signals seen (429/503), for `status`
    rate: float | None = None  # requests started per second at most (None: no limit yet)
    #: the rate the upstream accepted when it last said "slow down", and until when the pace
    #: stays at ``rate_share`` of it
    learned: float | None = None
    hold_until: float = 0.0


def start(rules: PaceRules) -> Pace:
    """A destination starts at its configured concurrency."""
    return Pace(limit=float(rules.ceiling))


def allowed(pace: Pace, rules: PaceRules, now: float) -> int:
    """Requests that may be in flight at ``now`` (0 while paused)."""
    if now < pace.paused_until:
        return 0
    return max(rules.floor, min(rules.ceiling, math.floor(pace.limit + 1e-9)))


def answered(pace: Pace, rules: PaceRules, now: float) -> Pace:
    """A request was answered without a slow-down signal: widen by ``increase`` per window;
    the start rate (if one was set) stays at the learned pace during the hold, then grows by
    ``rate_increase`` of itself per second of answers (about ``rate`` answers a second)."""
    rate = pace.rate
    if rate is not None:
        held = pace.learned is not None and now < pace.hold_until
        rate = min(rate, _paced(pace.learned, rules)) if held else rate + rules.rate_increase
    grown = min(float(rules.ceiling), pace.limit + rules.increase / max(1.0, pace.limit))
    return replace(pace, limit=grown, rate=rate)


def start_interval(pace: Pace) -> float:
    """Seconds between request starts (0: as fast as the allowance in flight lets them go)."""
    return 0.0 if pace.rate is None else 1.0 / pace.rate


def next_start(pace: Pace, planned: float, started: float) -> float:
    """When the request after one that ``started`` (planned for ``planned``) may start: a
    token bucket of one at ``rate``, keeping to the plan when a start was a little late (so a
    late wake-up does not slow the pace) but never closer than 3/4 of an interval."""
    interval = start_interval(pace)
    return max(planned, started - interval / 4) + interval


def resume_at(rules: PaceRules, now: float, retry_after: float | None) -> float:
    """When a complaint answered ``429`` is tried again: when the pause ends. A 429 is about
    the pace of the destination, not about that complaint (no exponential backoff for it)."""
    wait = rules.default_pause if retry_after is None or retry_after <= 0 else retry_after
    return now + min(wait, rules.max_pause)


def slow_down(
    pace: Pace,
    rules: PaceRules,
    now: float,
    retry_after: float | None,
    accepted_per_s: float | None = None,
) -> Pace:
    """A 429/503 came back: pause the whole destination, and cut its allowance once.
    ``accepted_per_s``: the requests the upstream accepted in the second before the refused
    one started (its limit, seen from here): it becomes the learned rate (the largest of one
    episode's refusals; lowered, never raised, by a new signal within the hold) and request
    starts are spaced to ``rate_share`` of it for ``hold`` seconds."""
    until = resume_at(rules, now, retry_after)
    same = now < pace.paused_until  # an answer to a request sent before the pause: same signal
    learned, hold_until = pace.learned, pace.hold_until
    if accepted_per_s is not None and accepted_per_s > 0:
        if learned is None or not (same or now < hold_until):
            learned = accepted_per_s
        elif same:  # a refusal that started later saw more of what got through: the largest
            learned = max(learned, accepted_per_s)
        else:  # refused again although paced below it: the rate learned was too high
            learned = min(learned, accepted_per_s)
        hold_until = now + rules.hold
    if same:
        rate = pace.rate if learned is None else _paced(learned, rules)
        return replace(
            pace,
            paused_until=max(pace.paused_until, until),
            signals=pace.signals + 1,
            rate=rate,
            learned=learned,
            hold_until=hold_until,
        )
    limit = max(float(rules.floor), pace.limit * rules.decrease)
    rate = pace.rate
    if accepted_per_s is not None and accepted_per_s > 0:
        rate = _paced(learned, rules)
    elif rate is not None:
        rate = max(0.1, rate * rules.decrease)
    return Pace(
        limit=limit,
        paused_until=until,
        signals=pace.signals + 1,
        rate=rate,
        learned=learned,
        hold_until=hold_until,
    )


def _paced(learned: float | None, rules: PaceRules) -> float:
    return math.inf if learned is None else max(0.1, learned * rules.rate_share)

"""Pacing one upstream destination: how many requests may be in flight now. Pure.

A ``429 Too Many Requests`` or ``503 Service Unavailable`` (with or without ``Retry-After``) is
a signal about the whole destination, not about the one complaint that got it: the destination
is paused for the ``Retry-After`` time (or a default), and its allowance of requests in flight
is cut (multiplicative decrease). Each answered request then widens it again, by one request
per full window of answers (additive increase), up to the configured concurrency, which is
never exceeded. The answers of requests that were already in flight when the signal came
(they often say the same) extend the pause but do not cut the allowance again.

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

    def __post_init__(self) -> None:
        if self.ceiling < 1 or not 1 <= self.floor <= self.ceiling:
            raise ValueError("pacing needs 1 <= floor <= ceiling")
        if not 0 < self.decrease < 1 or self.increase <= 0:
            raise ValueError("pacing needs 0 < decrease < 1 and increase > 0")


@dataclass(frozen=True)
class Pace:
    limit: float  # requests allowed in flight (fractional while it grows)
    paused_until: float = 0.0
    signals: int = 0  # slow-down signals seen (429/503), for `status`


def start(rules: PaceRules) -> Pace:
    """A destination starts at its configured concurrency."""
    return Pace(limit=float(rules.ceiling))


def allowed(pace: Pace, rules: PaceRules, now: float) -> int:
    """Requests that may be in flight at ``now`` (0 while paused)."""
    if now < pace.paused_until:
        return 0
    return max(rules.floor, min(rules.ceiling, math.floor(pace.limit + 1e-9)))


def answered(pace: Pace, rules: PaceRules) -> Pace:
    """A request was answered without a slow-down signal: widen by ``increase`` per window."""
    if pace.limit >= rules.ceiling:
        return pace
    grown = pace.limit + rules.increase / max(1.0, pace.limit)
    return replace(pace, limit=min(float(rules.ceiling), grown))


def slow_down(pace: Pace, rules: PaceRules, now: float, retry_after: float | None) -> Pace:
    """A 429/503 came back: pause the whole destination, and cut its allowance once."""
    wait = rules.default_pause if retry_after is None or retry_after <= 0 else retry_after
    until = now + min(wait, rules.max_pause)
    if now < pace.paused_until:  # an answer to a request sent before the pause: same signal
        return replace(pace, paused_until=max(pace.paused_until, until), signals=pace.signals + 1)
    limit = max(float(rules.floor), pace.limit * rules.decrease)
    return Pace(limit=limit, paused_until=until, signals=pace.signals + 1)

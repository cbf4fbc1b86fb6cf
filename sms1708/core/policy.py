"""Retry policy: what happens after an attempt. Pure: time and randomness are arguments.

Capped exponential backoff with full jitter (delay drawn uniformly from [0, min(cap, base*2^n)]),
never below the server's ``Retry-After``, and a maximum age after which an item goes to ``dead``
with its reason: never dropped, never retried forever in silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sms1708.core.states import State


class Outcome(StrEnum):
    DELIVERED = "delivered"
    UNREACHABLE = "unreachable"  # never reached the server
    RETRYABLE = "retryable"  # server said: try again later (408/425/429/5xx)
    AMBIGUOUS = "ambiguous"  # sent, no answer: outcome unknown
    REJECTED = "rejected"  # server refused for good (other 4xx)


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 10.0
    cap: float = 1800.0
    max_age: float = 30 * 86400.0
    max_attempts: int | None = None


@dataclass(frozen=True)
class Decision:
    state: State
    next_attempt_at: float | None
    reason: str


def backoff(attempts: int, rand: float, policy: RetryPolicy, retry_after: float | None) -> float:
    """Delay before the next attempt after ``attempts`` failed attempts (``rand`` in [0, 1))."""
    exp = min(policy.cap, policy.base * (2.0 ** min(max(attempts - 1, 0), 30)))
    delay = rand * exp
    # a floor so that full jitter never turns into a hot loop
    delay = max(delay, min(1.0, policy.base))
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, policy.cap))
    return delay


def decide(
    outcome: Outcome,
    *,
    attempts: int,
    first_queued_at: float,
    now: float,
    rand: float,
    policy: RetryPolicy,
    retry_after: float | None = None,
    detail: str = "",
) -> Decision:
    """The next state of an item after an attempt with ``outcome`` (``attempts`` includes it)."""
    if outcome is Outcome.DELIVERED:
        return Decision(State.DELIVERED, None, "delivered")
    if outcome is Outcome.REJECTED:
        return Decision(State.DEAD, None, f"rejected: {detail}".strip())
    age = now - first_queued_at
    if age >= policy.max_age:
        return Decision(State.DEAD, None, f"gave up after {attempts} attempts: {detail}".strip())
    if policy.max_attempts is not None and attempts >= policy.max_attempts:
        return Decision(State.DEAD, None, f"gave up after {attempts} attempts: {detail}".strip())
    delay = backoff(attempts, rand, policy, retry_after)
    state = State.AMBIGUOUS if outcome is Outcome.AMBIGUOUS else State.RETRY
    return Decision(state, now + delay, detail or outcome.value)


def classify_status(status: int) -> Outcome:
    """Classify an HTTP status the way the wire format says."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in (408, 425, 429) or status >= 500:
        return Outcome.RETRYABLE
    if 400 <= status < 500:
        return Outcome.REJECTED
    # 1xx/3xx are not expected from an API endpoint: try again later rather than lose it
    return Outcome.RETRYABLE

"""Retry policy: backoff bounds, outcome -> state, HTTP status classification (P4, P5, P6)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core.policy import Decision, Outcome, RetryPolicy, backoff, classify_status, decide
from sms1708.core.states import TRANSITIONS, State

RAND = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
ATTEMPTS = st.integers(min_value=1, max_value=100)


@st.composite
def policies(draw: st.DrawFn) -> RetryPolicy:
    base = draw(st.floats(min_value=0.05, max_value=600.0))
    cap = draw(st.floats(min_value=base, max_value=86_400.0))
    return RetryPolicy(base=base, cap=cap)


def _floor(policy: RetryPolicy) -> float:
    return min(1.0, policy.base)


def _ceiling(attempts: int, policy: RetryPolicy) -> float:
    return min(policy.cap, policy.base * 2.0 ** (attempts - 1))


@settings(max_examples=300)
@given(ATTEMPTS, RAND, policies())
def test_backoff_is_within_floor_and_capped_exponential(
    attempts: int, rand: float, policy: RetryPolicy
) -> None:
    delay = backoff(attempts, rand, policy, None)
    assert _floor(policy) <= delay <= max(_floor(policy), _ceiling(attempts, policy)) * (1 + 1e-9)


@settings(max_examples=300)
@given(ATTEMPTS, RAND, policies(), st.floats(min_value=0.001, max_value=1e7))
def test_backoff_honours_retry_after_up_to_the_cap(
    attempts: int, rand: float, policy: RetryPolicy, retry_after: float
) -> None:
    delay = backoff(attempts, rand, policy, retry_after)
    assert delay >= min(retry_after, policy.cap)
    assert delay >= _floor(policy)
    assert delay <= max(_ceiling(attempts, policy), min(retry_after, policy.cap), _floor(policy))
    assert delay <= policy.cap


@pytest.mark.parametrize("retry_after", [None, 0.0, -5.0])
def test_backoff_ignores_absent_or_non_positive_retry_after(retry_after: float | None) -> None:
    policy = RetryPolicy(base=10.0, cap=1800.0)
    assert backoff(3, 0.5, policy, retry_after) == pytest.approx(20.0)


def test_backoff_grows_then_caps() -> None:
    policy = RetryPolicy(base=10.0, cap=1800.0)
    top = [backoff(n, 0.999999, policy, None) for n in range(1, 12)]
    assert top[:5] == pytest.approx([10.0, 20.0, 40.0, 80.0, 160.0], rel=1e-5)
    assert top[-1] == pytest.approx(1800.0, rel=1e-5)
    assert all(a <= b for a, b in itertools.pairwise(top))


def test_backoff_has_a_floor_so_full_jitter_is_not_a_hot_loop() -> None:
    assert backoff(1, 0.0, RetryPolicy(base=10.0), None) == 1.0
    assert backoff(1, 0.0, RetryPolicy(base=0.2, cap=10.0), None) == 0.2


def test_backoff_survives_huge_attempt_counts() -> None:
    policy = RetryPolicy(base=10.0, cap=1800.0)
    assert backoff(10**9, 0.5, policy, None) == pytest.approx(900.0)


# ------------------------------------------------------------------ decide

NOW = 1_700_000_000.0
POLICY = RetryPolicy(base=10.0, cap=1800.0, max_age=30 * 86400.0)


def _decide(outcome: Outcome, **kw: object) -> Decision:
    args: dict[str, object] = {
        "attempts": 1,
        "first_queued_at": NOW - 60,
        "now": NOW,
        "rand": 0.5,
        "policy": POLICY,
    }
    args.update(kw)
    return decide(outcome, **args)  # type: ignore[arg-type]


def test_delivered_goes_to_delivered() -> None:
    d = _decide(Outcome.DELIVERED)
    assert d.state is State.DELIVERED
    assert d.next_attempt_at is None


def test_rejected_goes_to_dead_with_its_reason() -> None:
    d = _decide(Outcome.REJECTED, detail="HTTP 422: field text missing")
    assert d.state is State.DEAD
    assert d.next_attempt_at is None
    assert "rejected" in d.reason and "HTTP 422: field text missing" in d.reason


def test_ambiguous_is_retried_later_and_stays_visible_as_ambiguous() -> None:
    d = _decide(Outcome.AMBIGUOUS, detail="read timeout after send")
    assert d.state is State.AMBIGUOUS
    assert d.next_attempt_at is not None and d.next_attempt_at > NOW
    assert d.reason == "read timeout after send"


@pytest.mark.parametrize("outcome", [Outcome.UNREACHABLE, Outcome.RETRYABLE])
def test_unreachable_and_retryable_go_to_retry(outcome: Outcome) -> None:
    d = _decide(outcome)
    assert d.state is State.RETRY
    assert d.next_attempt_at is not None and d.next_attempt_at > NOW
    assert d.reason == outcome.value  # no detail: the outcome is the reason


def test_retry_after_is_honoured_by_decide() -> None:
    d = _decide(Outcome.RETRYABLE, retry_after=600.0, detail="HTTP 429")
    assert d.next_attempt_at is not None and d.next_attempt_at >= NOW + 600.0


@pytest.mark.parametrize("outcome", [Outcome.UNREACHABLE, Outcome.RETRYABLE, Outcome.AMBIGUOUS])
def test_too_old_goes_to_dead_saying_it_gave_up(outcome: Outcome) -> None:
    d = _decide(outcome, attempts=412, first_queued_at=NOW - POLICY.max_age, detail="HTTP 503")
    assert d.state is State.DEAD
    assert d.next_attempt_at is None
    assert "gave up" in d.reason and "412" in d.reason and "HTTP 503" in d.reason


def test_just_younger_than_max_age_is_still_retried() -> None:
    d = _decide(Outcome.UNREACHABLE, attempts=412, first_queued_at=NOW - POLICY.max_age + 1)
    assert d.state is State.RETRY


@pytest.mark.parametrize("outcome", [Outcome.UNREACHABLE, Outcome.RETRYABLE, Outcome.AMBIGUOUS])
def test_max_attempts_goes_to_dead_saying_it_gave_up(outcome: Outcome) -> None:
    policy = RetryPolicy(base=30.0, cap=1800.0, max_attempts=5)
    assert _decide(outcome, attempts=4, policy=policy).state is not State.DEAD
    d = _decide(outcome, attempts=5, policy=policy)
    assert d.state is State.DEAD
    assert "gave up" in d.reason


def test_a_delivery_is_never_turned_into_dead_by_age_or_attempts() -> None:
    policy = RetryPolicy(max_age=1.0, max_attempts=1)
    d = _decide(Outcome.DELIVERED, attempts=99, first_queued_at=NOW - 1e9, policy=policy)
    assert d.state is State.DELIVERED


@settings(max_examples=300)
@given(
    st.sampled_from(list(Outcome)),
    ATTEMPTS,
    st.floats(min_value=0.0, max_value=60 * 86400.0),
    RAND,
    st.one_of(st.none(), st.floats(min_value=0.0, max_value=1e6)),
)
def test_every_decision_is_a_legal_move_from_sending(
    outcome: Outcome, attempts: int, age: float, rand: float, retry_after: float | None
) -> None:
    d = _decide(
        outcome, attempts=attempts, first_queued_at=NOW - age, rand=rand, retry_after=retry_after
    )
    assert d.state in TRANSITIONS[State.SENDING]
    if d.state in (State.RETRY, State.AMBIGUOUS):
        assert d.next_attempt_at is not None
        assert NOW < d.next_attempt_at <= NOW + max(POLICY.cap, 1.0)
    else:
        assert d.next_attempt_at is None
    assert d.reason


# ------------------------------------------------------------------ classify_status


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (400, Outcome.REJECTED),
        (401, Outcome.REJECTED),
        (403, Outcome.REJECTED),
        (404, Outcome.REJECTED),
        (408, Outcome.RETRYABLE),
        (409, Outcome.REJECTED),
        (422, Outcome.REJECTED),
        (425, Outcome.RETRYABLE),
        (429, Outcome.RETRYABLE),
        (500, Outcome.RETRYABLE),
        (502, Outcome.RETRYABLE),
        (503, Outcome.RETRYABLE),
        (504, Outcome.RETRYABLE),
        (301, Outcome.RETRYABLE),  # a redirect is not a delivery: keep it, try again
        (100, Outcome.RETRYABLE),
    ],
)
def test_classify_status(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome

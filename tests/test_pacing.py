"""Pacing one upstream destination (AIMD on requests in flight, 429/503 pause the destination):
properties of the pure core module."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms1708.core import pacing
from sms1708.core.pacing import PaceRules

RULES = st.builds(
    PaceRules,
    ceiling=st.integers(1, 64),
    decrease=st.floats(0.1, 0.9),
    increase=st.floats(0.1, 4.0),
    default_pause=st.floats(0.1, 10.0),
)
#: (seconds later, None: answered | retry-after seconds or -1 for a 429 without Retry-After)
EVENTS = st.lists(
    st.tuples(
        st.floats(0, 5.0),
        st.one_of(st.none(), st.just(-1.0), st.floats(0.0, 1000.0)),
    ),
    max_size=60,
)


def run(rules: PaceRules, events: list[tuple[float, float | None]]) -> list[tuple[float, object]]:
    pace, now, seen = pacing.start(rules), 1000.0, []
    for later, signal in events:
        now += later
        before = pace
        if signal is None:
            pace = pacing.answered(pace, rules)
        else:
            pace = pacing.slow_down(pace, rules, now, None if signal < 0 else signal)
        seen.append((now, (before, signal, pace)))
    return seen


@given(RULES, EVENTS)
def test_the_allowance_never_exceeds_the_configured_ceiling_nor_drops_below_the_floor(
    rules: PaceRules, events: list[tuple[float, float | None]]
) -> None:
    for now, (_before, _signal, pace) in run(rules, events):  # type: ignore[misc]
        assert rules.floor <= pace.limit <= rules.ceiling
        n = pacing.allowed(pace, rules, now)
        assert n == 0 or rules.floor <= n <= rules.ceiling
        assert pacing.allowed(pace, rules, pace.paused_until) >= rules.floor


@given(RULES, EVENTS)
def test_a_slow_down_pauses_the_whole_destination_for_its_retry_after(
    rules: PaceRules, events: list[tuple[float, float | None]]
) -> None:
    for now, (before, signal, pace) in run(rules, events):  # type: ignore[misc]
        if signal is None:
            assert pace.paused_until == before.paused_until
            assert pace.limit >= before.limit  # an answer never narrows
            continue
        wait = rules.default_pause if signal <= 0 else min(signal, rules.max_pause)
        assert pace.paused_until >= now + wait - 1e-9
        assert pacing.allowed(pace, rules, now) == 0 or wait < 1e-6
        if now >= before.paused_until:  # a new signal: cut once, multiplicatively
            assert pace.limit == max(rules.floor, before.limit * rules.decrease)
        else:  # answers to requests sent before the pause: no second cut
            assert pace.limit == before.limit


@given(RULES, st.integers(1, 5))
def test_after_a_cut_the_allowance_grows_back_gradually_to_the_ceiling(
    rules: PaceRules, cuts: int
) -> None:
    pace, now = pacing.start(rules), 0.0
    for _ in range(cuts):
        now = max(now, pace.paused_until)
        pace = pacing.slow_down(pace, rules, now, 1.0)
    low = pacing.allowed(pace, rules, pace.paused_until)
    steps = 0
    while pace.limit < rules.ceiling:
        grown = pacing.answered(pace, rules)
        # additive: one answer adds at most `increase` / allowance (one step per window)
        assert grown.limit - pace.limit <= rules.increase / max(1.0, pace.limit) + 1e-9
        pace, steps = grown, steps + 1
        assert steps < 100_000
    assert pacing.allowed(pace, rules, pace.paused_until) == rules.ceiling >= low


def test_examples() -> None:
    rules = PaceRules(ceiling=8)
    pace = pacing.start(rules)
    assert pacing.allowed(pace, rules, 0.0) == 8
    pace = pacing.slow_down(pace, rules, 10.0, 2.0)  # 429, Retry-After: 2
    assert pacing.allowed(pace, rules, 11.9) == 0
    assert pacing.allowed(pace, rules, 12.0) == 4
    pace = pacing.slow_down(pace, rules, 10.3, 2.0)  # the others in flight say the same
    assert pacing.allowed(pace, rules, 12.3) == 4
    for _ in range(5):
        pace = pacing.answered(pace, rules)
    assert pacing.allowed(pace, rules, 13.0) == 5  # about one more per window of answers
    with pytest.raises(ValueError):
        PaceRules(ceiling=0)


@given(RULES, st.floats(0.5, 200.0), st.integers(0, 500))
def test_after_a_429_starts_are_spaced_below_the_accepted_rate_and_speed_up_slowly(
    rules: PaceRules, accepted: float, answers: int
) -> None:
    pace = pacing.start(rules)
    assert pacing.start_interval(pace) == 0.0  # no spacing before any signal
    pace = pacing.slow_down(pace, rules, 0.0, 1.0, accepted)
    assert pace.rate == max(0.1, accepted * rules.rate_share)
    assert pacing.start_interval(pace) >= 1.0 / accepted  # below what the upstream took
    for _ in range(answers):
        before = pace.rate
        pace = pacing.answered(pace, rules)
        assert before is not None and pace.rate is not None
        assert 0 < pace.rate - before <= rules.rate_increase / max(1.0, before) + 1e-9

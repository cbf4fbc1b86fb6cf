"""Pacing one upstream destination (AIMD on requests in flight, 429/503 pause the destination,
the upstream's rate learned from the signal and kept below): properties of the pure core
module."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
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
            pace = pacing.answered(pace, rules, now)
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


@settings(deadline=None)  # many small steps back to the ceiling: no timing in a property
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
        grown = pacing.answered(pace, rules, now)
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
        pace = pacing.answered(pace, rules, 12.5)
    assert pacing.allowed(pace, rules, 13.0) == 5  # about one more per window of answers
    with pytest.raises(ValueError):
        PaceRules(ceiling=0)


@given(RULES, st.floats(0.5, 200.0), st.integers(0, 500), st.floats(0.0, 200.0))
def test_after_a_429_starts_are_spaced_below_the_learned_rate_held_then_grown_gently(
    rules: PaceRules, accepted: float, answers: int, later: float
) -> None:
    pace = pacing.start(rules)
    assert pacing.start_interval(pace) == 0.0  # no spacing before any signal
    pace = pacing.slow_down(pace, rules, 0.0, 1.0, accepted)
    assert pace.learned == accepted
    assert pace.rate == max(0.1, accepted * rules.rate_share)
    assert pacing.start_interval(pace) >= 1.0 / accepted  # below what the upstream took
    now = min(later, rules.hold) if later < rules.hold else later
    for i in range(answers):
        before = pace.rate
        pace = pacing.answered(pace, rules, now + i * 0.01)
        assert before is not None and pace.rate is not None
        if now + i * 0.01 < rules.hold:  # held: the pace stays at the learned rate
            assert pace.rate == before
        else:  # then it grows by a share of itself per second of answers (~rate answers)
            assert 0 < pace.rate - before <= rules.rate_increase + 1e-9


@given(RULES, st.lists(st.tuples(st.floats(0.0, 30.0), st.floats(0.5, 200.0)), max_size=20))
def test_one_episode_learns_its_largest_rate_a_new_signal_in_the_hold_never_raises_it(
    rules: PaceRules, signals: list[tuple[float, float]]
) -> None:
    pace, now = pacing.start(rules), 0.0
    for later, accepted in signals:
        now += later
        before = pace
        pace = pacing.slow_down(pace, rules, now, 1.0, accepted)
        assert pace.learned is not None and pace.rate is not None
        if before.learned is None:
            assert pace.learned == accepted
        elif now < before.paused_until:  # the same episode: the refusal that started last
            assert pace.learned == max(before.learned, accepted)
        elif now < before.hold_until:  # refused again while paced below it
            assert pace.learned == min(before.learned, accepted)
        else:
            assert pace.learned == accepted
        assert pace.rate <= max(0.1, pace.learned * rules.rate_share) + 1e-9
        assert pace.hold_until == now + rules.hold


@given(st.floats(0.5, 500.0), st.lists(st.floats(0.0, 2.0), min_size=2, max_size=60))
def test_spaced_starts_never_come_closer_than_the_rate_over_any_run_of_them(
    rate: float, lateness: list[float]
) -> None:
    """A token bucket of one: a late start keeps to the plan (the pace does not slip), but
    any k+1 consecutive starts span at least k intervals less a quarter of one."""
    pace = pacing.Pace(limit=1.0, rate=rate)
    interval, planned, starts = 1.0 / rate, 0.0, []
    for late in lateness:
        started = planned + late * interval
        starts.append(started)
        planned = pacing.next_start(pace, planned, started)
        assert planned >= started + 0.75 * interval - 1e-9
    for i in range(len(starts)):
        for j in range(i + 1, len(starts)):
            assert starts[j] - starts[i] >= (j - i) * interval - interval / 4 - 1e-9
    on_time = [pacing.next_start(pace, k * interval, k * interval) for k in range(3)]
    assert on_time == pytest.approx([interval, 2 * interval, 3 * interval])


def test_a_limit_of_ten_per_second_is_learned_and_kept_below() -> None:
    rules = PaceRules(ceiling=8)
    pace = pacing.slow_down(pacing.start(rules), rules, 100.0, 1.0, 10.0)  # 10 got through
    assert pacing.start_interval(pace) == pytest.approx(1 / 9.5)
    pace = pacing.slow_down(pace, rules, 100.2, 1.0, 8.0)  # one in flight that started early
    assert pace.learned == 10.0  # the same episode: the largest count stands
    pace = pacing.slow_down(pace, rules, 101.5, 1.0, 9.0)  # refused again, after the pause
    assert pace.learned == 9.0
    pace = pacing.slow_down(pace, rules, 102.0, 1.0, 10.0)  # that pause's own episode: largest
    assert pace.learned == 10.0
    pace = pacing.slow_down(pace, rules, 103.9, 1.0, 11.0)  # a new signal never raises it
    assert pace.learned == 10.0
    for i in range(590):  # a minute of answers (the hold runs from the last signal): 9.5/s
        pace = pacing.answered(pace, rules, 104.0 + i / 10)
    assert pace.rate == pytest.approx(9.5)
    for i in range(100):  # then growing by ~2 % a second again (a lifted limit is found)
        pace = pacing.answered(pace, rules, 164.0 + i / 10)
    assert pace.rate is not None and 9.5 < pace.rate <= 9.5 + 100 * rules.rate_increase + 1e-9

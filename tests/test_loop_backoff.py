"""The loops' backoff schedule (pure, time as a parameter), property-tested."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core.loopbackoff import CLEAR, Pacing, alarming, delay, failed, succeeded

PACING = st.builds(
    Pacing,
    base=st.floats(0.01, 10),
    cap=st.floats(10, 600),
    settle=st.floats(0.1, 120),
    alarm_after=st.integers(1, 10),
)
#: (seconds since the previous event, did the loop fail?)
EVENTS = st.lists(st.tuples(st.floats(0, 1000), st.booleans()), max_size=60)


@settings(max_examples=300)
@given(PACING, EVENTS)
def test_the_delay_never_exceeds_the_cap_and_grows_while_failures_come_fast(p, events) -> None:
    t, now, prev = CLEAR, 0.0, 0.0
    for gap, fail in events:
        now += gap
        if fail:
            quick = t.ok_since is None or now - t.ok_since < p.settle
            was = t.failures
            t = failed(t, now, "boom", p)
            assert 0 < delay(t, p) <= p.cap
            if was and quick:  # an immediate re-failure does not reset the delay
                assert delay(t, p) >= prev
                assert t.failures == was + 1
            prev = delay(t, p)
        else:
            t = succeeded(t, now, p)
        assert alarming(t, p) == (t.failures >= p.alarm_after)


@given(PACING, st.integers(1, 50))
def test_failures_in_a_row_double_the_delay_up_to_the_cap(p, n) -> None:
    t = CLEAR
    for i in range(n):
        t = failed(t, float(i), "x", p)
    assert delay(t, p) == min(p.cap, p.base * 2.0 ** (n - 1))
    assert t.first_at == 0.0 and t.last_at == float(n - 1) and t.last_error == "x"


@given(PACING, st.integers(1, 20), st.floats(0, 1000))
def test_a_success_resets_only_once_it_has_held(p, n, held) -> None:
    t = CLEAR
    for i in range(n):
        t = failed(t, float(i), "x", p)
    up = succeeded(t, 100.0, p)  # came up ...
    assert up.failures == n  # ... but not yet trusted: the alarm stays
    later = succeeded(up, 100.0 + held, p)
    again = failed(later, 100.0 + held, "y", p)
    if (100.0 + held) - 100.0 >= p.settle:
        assert later == CLEAR and again.failures == 1 and delay(again, p) == min(p.cap, p.base)
    else:
        assert again.failures == n + 1  # an immediate re-failure climbs on


def test_all_well_means_no_delay_and_no_alarm() -> None:
    p = Pacing()
    assert delay(CLEAR, p) == 0 and not alarming(CLEAR, p)
    assert succeeded(CLEAR, 5.0, p) is CLEAR

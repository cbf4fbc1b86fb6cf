from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sms1708.core.breaker import Breaker


def test_opens_after_threshold_failures_and_pauses_grow_to_the_cap() -> None:
    b = Breaker(threshold=3, base=5, cap=20)
    assert not b.record(False, 0) and not b.record(False, 1)
    assert b.allow(2)
    assert b.record(False, 2)  # third failure in a row opens it
    assert not b.allow(6.9) and b.allow(7)
    assert b.probing(7)
    assert b.record(False, 7)  # a failed probe reopens at once, for twice as long
    assert not b.allow(16.9) and b.allow(17)
    assert b.record(False, 17)
    assert b.open_until == 37  # capped at 20
    assert not b.record(True, 37)  # a success closes it
    assert b.allow(37) and not b.probing(37) and b.failures == 0


def test_a_success_between_failures_resets_the_count() -> None:
    b = Breaker(threshold=3)
    for t in range(10):
        b.record(False, t)
        b.record(False, t)
        b.record(True, t)
    assert b.allow(10) and b.openings == 0


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1000)), max_size=50))
def test_never_closed_forever_and_pause_never_above_cap(events: list[tuple[bool, float]]) -> None:
    b = Breaker(threshold=2, base=1, cap=60)
    now = 0.0
    for ok, dt in events:
        now += dt
        b.record(ok, now)
        assert b.open_until - now <= 60
    assert b.allow(now + 60)

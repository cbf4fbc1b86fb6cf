"""Properties of the one send gate (core.gate), whatever the traffic: no number ever gets more
than its hourly limit in any hour, no modem more than its daily budget in any day, whatever
the purpose of the SMS; an operator's override never passes a block."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core.gate import History, Outgoing, ceiling_until, decide
from sms1708.core.replies import Guard, same_number

NUMBERS = ["+6281234567890", "081234567890", "6281234567890", "+6285711112222", "087788889999"]
PURPOSES = ["receipt", "bantuan", "status", "tracking", "status_change", "operator"]
DAY = 86400.0

requests = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=4000, allow_nan=False),  # seconds since the last one
        st.sampled_from(NUMBERS),
        st.sampled_from(PURPOSES),
        st.sampled_from(["LAPOR jalan rusak", "lapor jalan RUSAK!", "LAPOR lampu mati", None]),
    ),
    max_size=80,
)
guards = st.builds(
    Guard,
    per_sender_per_hour=st.integers(min_value=0, max_value=5),
    daily_budget=st.integers(min_value=0, max_value=30),
    loop_repeats=st.integers(min_value=1, max_value=5),
)


def run(
    guard: Guard, reqs: list[tuple[float, str, str, str | None]], start: float
) -> list[tuple[float, str]]:
    """Feed the requests through the gate as the store would; return what was queued."""
    now = start
    queued: list[tuple[float, str]] = []
    received: list[tuple[float, str, str]] = []
    for gap, number, purpose, text in reqs:
        now += gap
        out = Outgoing("modem0", number, "tes", purpose, "international", answers_text=text)
        day_start = now - now % DAY
        history = History(
            to_number=[t for t, n in queued if same_number(n, number)],
            by_modem_today=[t for t, _ in queued if t >= day_start],
            day_start=day_start,
            from_number=[(t, x) for t, n, x in received if n == number],
        )
        if decide(out, guard, history, now=now).allowed:
            queued.append((now, number))
        if text is not None:
            received.append((now, number, text))
    return queued


@settings(max_examples=300, deadline=None)
@given(guards, requests, st.floats(min_value=0, max_value=DAY))
def test_no_number_ever_gets_more_than_its_limit_in_any_hour(
    guard: Guard, reqs: list[tuple[float, str, str, str | None]], offset: float
) -> None:
    queued = run(guard, reqs, 1_800_000_000.0 + offset)
    for t, number in queued:
        window = [u for u, n in queued if same_number(n, number) and t <= u <= t + 3600]
        assert len(window) <= guard.per_sender_per_hour


@settings(max_examples=300, deadline=None)
@given(guards, requests, st.floats(min_value=0, max_value=DAY))
def test_no_day_ever_goes_over_the_budget(
    guard: Guard, reqs: list[tuple[float, str, str, str | None]], offset: float
) -> None:
    queued = run(guard, reqs, 1_800_000_000.0 + offset)
    days: dict[float, int] = {}
    for t, _ in queued:
        days[t - t % DAY] = days.get(t - t % DAY, 0) + 1
    assert all(n <= guard.daily_budget for n in days.values())


@given(
    guards,
    st.lists(st.floats(min_value=0, max_value=7200), max_size=10),
    st.sampled_from(NUMBERS),
)
def test_the_purpose_makes_no_difference_to_the_limits(
    guard: Guard, ago: list[float], number: str
) -> None:
    now = 1_800_000_000.0
    history = History(to_number=[now - a for a in ago], by_modem_today=[], day_start=now - 10)
    verdicts = {
        decide(Outgoing("modem0", number, "tes", p), guard, history, now=now).refused
        for p in PURPOSES
    }
    assert len(verdicts) == 1


@given(guards, st.sampled_from(NUMBERS), st.booleans(), st.booleans())
def test_force_never_passes_a_block_or_the_own_number(
    guard: Guard, number: str, blocked: bool, own: bool
) -> None:
    g = Guard(
        own_number=number if own else "",
        per_sender_per_hour=guard.per_sender_per_hour,
        daily_budget=guard.daily_budget,
    )
    v = decide(
        Outgoing("modem0", number, "tes", "operator"),
        g,
        History(blocked=blocked, to_number=[0.0] * 9, by_modem_today=[0.0] * 40),
        now=10.0,
        force=True,
    )
    if blocked or own:
        assert not v.allowed
    else:
        assert v.allowed and v.overridden is not None


@given(st.lists(st.floats(min_value=0, max_value=10_000), max_size=30), st.integers(1, 10))
def test_the_sim_ceiling_never_lets_more_than_max_per_hour_out(
    gaps: list[float], max_per_hour: int
) -> None:
    """Sending whenever the ceiling allows: never more than max_per_hour in any hour."""
    now, sent = 0.0, []
    for gap in gaps:
        now += gap
        until = ceiling_until(sent, max_per_hour=max_per_hour, now=now)
        if until is None:
            sent.append(now)
        else:
            assert until > now
    for t in sent:
        assert sum(1 for u in sent if t <= u < t + 3600) <= max_per_hour

"""Trusted time (P15), the pure core: property tests on sms1708/core/timebase.py, and the shell
around it (sms1708/clock.py, the store's rebasing, the breaker's bound) with injected clocks.

The property that matters: a time written by this process, moved by every jump the clock
reports, always measures what really elapsed (the monotonic clock), whatever the wall clock did
- so a backoff never stalls a queue and an age against ``max_age`` never sends a complaint to
``dead`` because of a clock step.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.clock import Clock, describe_offset
from sms1708.core import timebase
from sms1708.core.breaker import Breaker
from sms1708.core.policy import Outcome, RetryPolicy, decide
from sms1708.core.states import State
from sms1708.store.store import Store

from .faults import query

T0 = 1_790_000_000.0  # 2026-09-21, a plausible "now"
DAY = 86400.0

#: one event in the life of the box: time passes (monotonic seconds), the wall clock is stepped
#: by that much, or network time is seen (the true time plus an SMSC delay for an SMS)
events = st.one_of(
    st.tuples(st.just("pass"), st.floats(0.0, 3 * DAY)),
    st.tuples(
        st.just("step"),
        st.one_of(
            st.floats(-400 * DAY, -2 * timebase.STEP), st.floats(2 * timebase.STEP, 400 * DAY)
        ),
    ),
    st.tuples(st.just("sms"), st.floats(0.0, DAY)),
    st.tuples(st.just("modem"), st.just(0.0)),
)


def run_events(
    start_offset: float, evs: list[tuple[str, float]]
) -> tuple[timebase.Timebase, float, float, list[float]]:
    """Replay ``evs`` on a box whose wall clock starts ``start_offset`` off the true time.
    Returns the timebase, the true time, a stamp written at start moved by every jump, and the
    trusted times seen."""
    true = T0
    wall = T0 + start_offset
    mono = 1000.0
    tb = timebase.start(wall, mono)
    stamp = tb.trusted  # e.g. a complaint's queued_at, written at start
    seen = [tb.trusted]
    for kind, value in evs:
        if kind == "pass":
            true, wall, mono = true + value, wall + value, mono + value
            r = timebase.observe(tb, wall, mono)
        elif kind == "step":
            wall += value
            r = timebase.observe(tb, wall, mono)
        elif kind == "sms":
            tb = timebase.observe(tb, wall, mono).timebase
            r = timebase.network(tb, true - value, lower_bound=True)
        else:
            tb = timebase.observe(tb, wall, mono).timebase
            r = timebase.network(tb, true, lower_bound=False)
        stamp += r.jump
        tb = r.timebase
        seen.append(tb.trusted)
    return tb, true, stamp, seen


@settings(max_examples=300, deadline=None)
@given(st.floats(-400 * DAY, 400 * DAY), st.lists(events, max_size=25))
def test_an_age_always_measures_what_really_elapsed_whatever_the_wall_clock_did(
    start_offset: float, evs: list[tuple[str, float]]
) -> None:
    tb, _true, stamp, _ = run_events(start_offset, evs)
    elapsed = sum(v for k, v in evs if k == "pass")
    # each observation may let a sub-STEP difference through (not a step): bounded, tiny
    assert tb.trusted - stamp == pytest.approx(elapsed, abs=timebase.STEP * (len(evs) + 1))


@settings(max_examples=300, deadline=None)
@given(st.floats(-400 * DAY, 400 * DAY), st.lists(events, max_size=25))
def test_since_moves_with_every_jump_so_rows_written_since_start_are_rebased(
    start_offset: float, evs: list[tuple[str, float]]
) -> None:
    tb, _true, stamp, _ = run_events(start_offset, evs)
    assert tb.since == pytest.approx(stamp)


@settings(max_examples=200, deadline=None)
@given(st.floats(-400 * DAY, 400 * DAY), st.lists(events.filter(lambda e: e[0] != "modem")))
def test_without_the_modem_clock_trusted_time_never_runs_backwards(
    start_offset: float, evs: list[tuple[str, float]]
) -> None:
    _tb, _true, _stamp, seen = run_events(start_offset, evs)
    assert all(b >= a - timebase.STEP for a, b in itertools.pairwise(seen))


@settings(max_examples=200, deadline=None)
@given(st.floats(-400 * DAY, 400 * DAY), st.lists(events, max_size=25))
def test_once_the_modem_clock_is_seen_trusted_time_is_network_time(
    start_offset: float, evs: list[tuple[str, float]]
) -> None:
    tb, true, _stamp, _ = run_events(start_offset, [*evs, ("modem", 0.0)])
    assert tb.anchored
    assert tb.trusted == pytest.approx(true, abs=timebase.TOLERANCE)


@settings(max_examples=200, deadline=None)
@given(st.floats(-400 * DAY, 400 * DAY), st.floats(-400 * DAY, 400 * DAY))
def test_after_network_time_a_wall_step_changes_nothing(offset: float, step: float) -> None:
    tb = timebase.start(T0 + offset, 10.0)
    tb = timebase.network(tb, T0, lower_bound=False).timebase
    r = timebase.observe(tb, T0 + offset + step + 5.0, 15.0)
    assert r.jump == 0.0
    assert r.timebase.trusted == pytest.approx(T0 + 5.0)


@given(st.floats(0.0, 400 * DAY))
def test_an_smsc_timestamp_never_moves_the_clock_back(delay: float) -> None:
    tb = timebase.start(T0, 0.0)
    r = timebase.network(tb, T0 - delay, lower_bound=True)
    assert r.jump == 0.0 and r.timebase.trusted == T0


def test_a_modem_clock_that_was_never_set_is_ignored() -> None:
    tb = timebase.start(T0, 0.0)
    never_set = dt.datetime(2004, 1, 1, tzinfo=dt.UTC).timestamp()
    r = timebase.network(tb, never_set, lower_bound=False)
    assert r.jump == 0.0 and not r.timebase.anchored


def test_a_box_booted_with_an_old_time_resumes_from_the_newest_stored_time() -> None:
    tb = timebase.start(T0 - 30 * DAY, 0.0, floor=T0)
    assert tb.trusted == T0 and tb.offset == 30 * DAY
    later = timebase.observe(tb, T0 - 30 * DAY + 60, 60.0)
    assert later.timebase.trusted == pytest.approx(T0 + 60) and later.jump == 0.0


@given(st.integers(1, 50), st.floats(0.0, 0.999), st.floats(-400 * DAY, 400 * DAY))
def test_no_clock_step_sends_a_complaint_to_dead_when_its_age_is_rebased(
    attempts: int, rand: float, step: float
) -> None:
    """The policy is pure: with the age measured on the rebased stamps, a step of any size is
    no reason to give up (max age one day, the complaint an hour old)."""
    policy = RetryPolicy(base=10, cap=1800, max_age=DAY)
    tb = timebase.start(T0, 0.0)
    queued_at = tb.trusted
    r = timebase.observe(tb, T0 + 3600 + step, 3600.0)
    d = decide(
        Outcome.UNREACHABLE,
        attempts=attempts,
        first_queued_at=queued_at + r.jump,
        now=r.timebase.trusted,
        rand=rand,
        policy=policy,
    )
    assert d.state is State.RETRY
    assert d.next_attempt_at is not None
    assert d.next_attempt_at - r.timebase.trusted <= policy.cap


@given(st.floats(-400 * DAY, 400 * DAY), st.integers(1, 12))
def test_a_breaker_pause_never_outlasts_its_cap_wherever_the_clock_went(
    moved: float, openings: int
) -> None:
    b = Breaker(threshold=1, base=5.0, cap=300.0)
    for _ in range(openings):
        assert b.record(False, T0)
    now = T0 + moved
    b.allow(now)  # the loop asks, on whatever the clock says now
    assert b.allow(now + 300.0)


def test_a_breaker_after_the_clock_went_back_a_month_opens_again_within_its_cap() -> None:
    b = Breaker(threshold=1, base=5.0, cap=300.0)
    b.record(False, T0)  # open until T0 + 5
    now = T0 - 30 * DAY
    assert not b.allow(now)  # paused, but not for 30 days:
    assert b.allow(now + 300.0)


def test_clamp_due() -> None:
    assert timebase.clamp_due(T0 + 30 * DAY, T0, 1800) == T0 + 1800
    assert timebase.clamp_due(T0 + 10, T0, 1800) == T0 + 10


# ------------------------------------------------------------------ the shell: sms1708/clock.py


class Box:
    """A wall clock and a monotonic clock a test moves."""

    def __init__(self, wall: float) -> None:
        self.w, self.m = wall, 100.0

    def wall(self) -> float:
        return self.w

    def mono(self) -> float:
        return self.m

    def passes(self, s: float) -> None:
        self.w += s
        self.m += s


def caps() -> dict[str, float]:
    return {"outbox": 1800, "outbox_lease": 120, "replies": 1800, "replies_lease": 120}


class Recorder:
    """Stands in for the module's structlog logger: the events, with their fields."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))


def test_a_step_is_logged_once_with_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import sms1708.clock

    log = Recorder()
    monkeypatch.setattr(sms1708.clock, "log", log)
    box = Box(T0)
    clock = Clock(wall=box.wall, mono=box.mono)
    clock.now()
    box.w -= 30 * DAY
    for _ in range(5):
        box.passes(1.0)
        clock.now()
    steps = [f for e, f in log.events if e == "clock_step"]
    assert len(steps) == 1 and clock.steps == 1
    assert steps[0]["size"] == pytest.approx(-30 * DAY)


def test_a_jump_waits_for_the_store_then_moves_what_was_written_since_start(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    store = Store.open(db)
    box = Box(T0 - 40 * DAY)  # booted 40 days behind, an empty store: nothing to resume from
    clock = Clock(wall=box.wall, mono=box.mono, floor=store.timeshift.newest())
    start = clock.now()
    with store.transaction() as c:
        c.execute(
            "INSERT INTO messages (id, key, modem, sender, sender_type, received_at, stored_at,"
            " raw_text, kind, text) VALUES (1, 'k', 'm', '+62812', 'intl', '', ?, 'x', 'pengaduan',"
            " 'x')",
            (start,),
        )
        c.execute(
            "INSERT INTO deliveries (message_id, destination, state, attempts, queued_at,"
            " next_attempt_at, updated_at) VALUES (1, 'upstream', 'retry', 2, ?, ?, ?)",
            (start, start + 60, start),
        )
    box.passes(30.0)
    box.w += 40 * DAY  # NTP steps the clock forward
    during = clock.now()
    assert during == pytest.approx(start + 30.0)  # continuous until the store has followed
    assert clock.date() == pytest.approx(T0 + 30.0)  # a date for others is right already
    assert clock.settle(store, caps=caps()) == pytest.approx(40 * DAY)
    after = clock.now()
    assert after == pytest.approx(T0 + 30.0)
    [row] = query(db, "SELECT queued_at, next_attempt_at FROM deliveries")
    assert after - row["queued_at"] == pytest.approx(30.0)  # the age: what really elapsed
    assert row["next_attempt_at"] - after == pytest.approx(30.0)  # still due in 30 s
    assert clock.settle(store, caps=caps()) == 0.0  # applied once
    store.close()


def test_due_times_left_far_ahead_by_an_earlier_clock_are_clamped(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = Store.open(db)
    with store.transaction() as c:
        c.execute(
            "INSERT INTO messages (id, key, modem, sender, sender_type, received_at, stored_at,"
            " raw_text, kind, text) VALUES (1, 'k', 'm', '+62812', 'intl', '', ?, 'x', 'pengaduan',"
            " 'x')",
            (T0,),
        )
        c.execute(
            "INSERT INTO deliveries (message_id, destination, state, attempts, queued_at,"
            " next_attempt_at, updated_at) VALUES (1, 'upstream', 'retry', 2, ?, ?, ?)",
            (T0, T0 + 30 * DAY, T0),
        )
    store.timeshift.rebase(0.0, since=T0 + 60 * DAY, now=T0, caps=caps())
    [row] = query(db, "SELECT next_attempt_at FROM deliveries")
    assert row["next_attempt_at"] == T0 + 1800
    store.close()


def test_status_says_how_far_off_the_box_clock_is() -> None:
    box = Box(T0 - 40 * DAY)
    clock = Clock(wall=box.wall, mono=box.mono, warn_after=180)
    assert clock.status()["warn"] is False
    clock.network_time(dt.datetime.fromtimestamp(T0, dt.UTC), source="modem")
    s = clock.status()
    assert s["warn"] is True and s["network"] is True and s["source"] == "modem"
    assert s["off_by"] == pytest.approx(40 * DAY)
    assert describe_offset(s["off_by"]) == "40 d"
    assert describe_offset(-200) == "3 min"

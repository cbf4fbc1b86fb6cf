"""Keeping a far upstream busy, politely (issue 12, part 3), against the real stand-in with its
real-world options (``latency``, ``rate_limit`` answering 429 + Retry-After): a 429 pauses the
whole destination, not only the complaint that got it; the requests in flight stay busy
instead of waiting for the slowest of a batch."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from sms1708.upstream.standin import StandIn

from . import test_forwarder
from .test_forwarder import Rig

rig = test_forwarder.rig  # the same rig fixture: the forwarder stepped with a fake clock


def test_the_stand_in_answers_429_with_retry_after_beyond_its_rate_limit(
    upstream: StandIn,
) -> None:
    upstream.rate_limit = 2
    with httpx.Client() as c:
        codes = [
            c.post(upstream.url, json={"n": i}, headers={"Idempotency-Key": f"k{i}"})
            for i in range(4)
        ]
    assert [r.status_code for r in codes] == [201, 201, 429, 429]
    assert codes[2].headers["Retry-After"] == "1"
    assert upstream.too_many == 2 and len(upstream.delivered()) == 2


def test_a_429_pauses_the_whole_destination_for_its_retry_after(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig(batch=20, concurrency=4, retry_base=0.001)
    mids = [r.sms(f"LAPOR keluhan nomor {i}") for i in range(8)]
    upstream.latency = 0.2  # the four first requests are in flight together
    upstream.rate_limit = 2
    r.clock.advance(1)
    r.step()
    # two accepted, the others already in flight got 429: nothing more was sent after it
    assert len(upstream.requests) <= 4 and upstream.too_many >= 1
    sent = len(upstream.requests)
    assert r.step() == 0  # paused: nothing claimed, nothing sent
    assert len(upstream.requests) == sent
    assert r.fwd.pace.signals >= 1
    assert not r.fwd.breaker.openings  # a 429 is an answer, not an outage
    upstream.rate_limit = None
    r.clock.advance(2)  # Retry-After: 1 is over; narrower now (AIMD), then wider again
    for _ in range(10):
        if not r.step():
            r.clock.advance(2)
    assert {r.row(m)["state"] for m in mids} == {"delivered"}


def test_the_requests_in_flight_do_not_wait_for_the_slowest_of_a_batch(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    """One slow answer among quick ones: while it takes its time, more complaints are claimed
    and sent on the free places (one step, more than one batch)."""
    r = rig(batch=4, concurrency=4, timeout=5.0)
    [r.sms(f"LAPOR keluhan nomor {i}") for i in range(20)]
    upstream.hang_seconds = 1.0
    upstream.hang_if = lambda body: body.get("text", "").endswith("nomor 0")
    r.clock.advance(1)
    assert r.step() > 4
    assert len(upstream.delivered()) > 4


def test_the_upstream_s_rate_limit_is_learned_and_the_starts_kept_below_it(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    """A 429 teaches the forwarder the rate the upstream let through (the requests accepted
    in the second before the refused one started); it then spaces its starts below that rate
    and keeps to it (no probing above it at once, which costs a 429 and a pause each time)."""
    r = rig(batch=10, concurrency=4, retry_base=0.001)
    mids = [r.sms(f"LAPOR keluhan nomor {i}") for i in range(30)]
    upstream.latency = 0.05
    upstream.rate_limit = 5
    r.clock.advance(1)
    deadline = time.monotonic() + 90  # a hang guard, not a speed test
    while {r.row(m)["state"] for m in mids} != {"delivered"}:
        assert time.monotonic() < deadline, "the backlog did not drain"
        if not r.step():
            r.clock.advance(2)  # the pause (Retry-After) is over on the daemon's clock ...
            time.sleep(1.0)  # ... and on the stand-in's, whose window is real time
    pace, rules = r.fwd.pace, r.fwd.pace_rules
    assert pace.signals >= 1 and pace.learned is not None and pace.rate is not None
    assert 1 <= pace.learned <= upstream.rate_limit + 1  # what got through, seen from here
    # 30 answers after the signal did not raise the pace above the learned rate
    assert pace.rate <= pace.learned * rules.rate_share + 1e-9 < upstream.rate_limit + 1
    assert upstream.too_many <= 2 * 4  # the discovery: at most the requests in flight, twice

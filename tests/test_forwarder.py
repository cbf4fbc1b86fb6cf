"""The forwarder, driven one step at a time with a fake clock, against the real stand-in on
127.0.0.1 and a real SQLite file: outages (P5), one stable key per complaint (P4), poison records
(P8), ambiguous timeouts (P6), giving up after the maximum age, and leases."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sms1708.config import Config, from_mapping
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.store.store import IncomingPart, Store
from sms1708.upstream.forwarder import Forwarder
from sms1708.upstream.standin import StandIn
from sms1708.upstream.webhook import WebhookClient

T0 = 1_714_532_400.0
WIB = timezone(timedelta(hours=7))
CITIZENS = ["+6281234567890", "+6285711112222", "+6287788889999"]


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def make_cfg(tmp_path: Path, url: str, **upstream: Any) -> Config:
    return from_mapping(
        {
            "store": {"path": str(tmp_path / "sms1708.db")},
            "upstream": {
                "url": url,
                "timeout": 2.0,
                "connect_timeout": 1.0,
                "retry_base": 10.0,
                "retry_cap": 600.0,
                "lease_seconds": 60.0,
                "max_age_days": 1.0,
                "breaker_threshold": 1000,  # the breaker has its own test below
                **upstream,
            },
        }
    )


class Rig:
    def __init__(self, tmp_path: Path, upstream: StandIn, **cfg: Any) -> None:
        self.cfg = make_cfg(tmp_path, upstream.url, **cfg)
        self.clock = Clock()
        self.stop = threading.Event()
        self.client = WebhookClient(self.cfg.upstream, immediate_retries=1)
        self.fwd = Forwarder(
            self.cfg, self.stop, client=self.client, clock=self.clock, rand=lambda: 0.5
        )
        self.store = Store.open(self.cfg.store.path)
        self.sms_count = 0

    def sms(self, text: str, sender: str | None = None) -> int:
        """A citizen's SMS through the real intake path, received now."""
        self.sms_count += 1
        sender = sender or CITIZENS[self.sms_count % len(CITIZENS)]
        scts = datetime(2024, 5, 1, 10, 0, tzinfo=WIB) + timedelta(minutes=self.sms_count)
        [pdu] = encode_deliver(sender, text, scts)
        [res] = self.store.intake.ingest(
            "modem0",
            [IncomingPart("SM", self.sms_count, pdu, decode_deliver(pdu))],
            now=self.clock(),
            rules=IntakeRules(),
        )
        [mid] = res.message_ids
        return mid

    def step(self) -> int:
        return self.fwd.step(self.store)

    def row(self, mid: int) -> dict[str, Any]:
        m = self.store.queries.message(mid)
        assert m is not None
        return m

    def close(self) -> None:
        self.client.close()
        self.store.close()


@pytest.fixture
def rig(tmp_path: Path, upstream: StandIn) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(**cfg: Any) -> Rig:
        r = Rig(tmp_path, upstream, **cfg)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def test_an_outage_is_waited_out_with_one_stable_key_per_complaint(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig()
    mids = [r.sms(f"LAPOR keluhan warga nomor {i}") for i in range(3)]
    keys = {mid: r.row(mid)["key"] for mid in mids}

    upstream.down()
    r.clock.advance(1)
    assert r.step() == 3
    for mid in mids:
        m = r.row(mid)
        assert (m["state"], m["attempts"]) == ("retry", 1)
        assert m["next_attempt_at"] > r.clock()
        assert "never reached" in m["last_error"]
    assert r.step() == 0  # backing off: nothing due yet, nothing attempted
    # the backoff lives in the database and grows: rand=0.5 of base*2^(n-1), base 10 s
    delays = [r.row(mids[0])["next_attempt_at"] - r.clock()]
    r.clock.t = r.row(mids[0])["next_attempt_at"]
    assert r.step() == 3
    delays.append(r.row(mids[0])["next_attempt_at"] - r.clock())
    assert delays == [5.0, 10.0]

    upstream.up()
    upstream.mode = "fail"  # back, but busy: 503 + Retry-After
    r.clock.advance(1000)
    assert r.step() == 3
    assert {r.row(mid)["state"] for mid in mids} == {"retry"}
    assert all(r.row(mid)["attempts_log"][-1]["http_status"] == 503 for mid in mids)

    upstream.mode = "up"
    r.clock.advance(1000)
    assert r.step() == 3
    for mid in mids:
        m = r.row(mid)
        assert (m["state"], m["attempts"], m["last_error"]) == ("delivered", 4, None)
        assert m["tracking_id"] == upstream.tracking[keys[mid]]
        assert [a["outcome"] for a in m["attempts_log"]] == [
            "unreachable",
            "unreachable",
            "retryable",
            "delivered",
        ]
    # P4: one distinct key per complaint, the same key on every attempt, in header and body
    seen = Counter(upstream.keys())
    assert set(seen) == set(keys.values()) and len(seen) == 3
    assert all(n == 2 for n in seen.values())  # the 503 attempt and the delivered one
    assert all(req.body["id"] == req.key for req in upstream.requests)
    assert r.step() == 0
    assert r.store.outbox.next_due() is None


def test_a_poison_record_goes_dead_without_blocking_the_others_and_can_be_replayed(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig()
    poison = r.sms("LAPOR RACUN isi yang ditolak oleh sistem hulu")
    good = [r.sms(f"LAPOR lampu jalan mati di gang {i}") for i in range(2)]
    upstream.reject_if = lambda body: "RACUN" in str(body.get("text"))

    assert r.step() == 3
    for mid in good:
        assert r.row(mid)["state"] == "delivered"
    p = r.row(poison)
    assert p["state"] == "dead"
    assert "422" in p["last_error"] and "record rejected by the stand-in" in p["last_error"]
    assert [(a["outcome"], a["http_status"]) for a in p["attempts_log"]] == [("rejected", 422)]
    r.clock.advance(10 * 86400)
    assert r.step() == 0  # dead is never retried by itself

    upstream.reject_if = None  # the upstream fixed its validation
    assert r.store.outbox.replay(state="dead", now=r.clock(), dry_run=False) == [poison]
    assert r.step() == 1
    p = r.row(poison)
    assert (p["state"], p["attempts"]) == ("delivered", 2)
    poison_requests = [q for q in upstream.requests if q.body.get("text", "").startswith("RACUN")]
    assert len(poison_requests) == 2
    assert {q.key for q in poison_requests} == {p["key"]}


def test_a_timeout_is_ambiguous_and_retried_with_the_same_key(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig(timeout=0.5)
    mid = r.sms("LAPOR pungutan liar di kantor desa")
    key = r.row(mid)["key"]
    upstream.mode = "hang"
    assert r.step() == 1
    m = r.row(mid)
    assert (m["state"], m["ambiguous_count"], m["attempts"]) == ("ambiguous", 1, 1)
    assert m["next_attempt_at"] > r.clock()
    assert m["tracking_id"] is None
    assert upstream.keys() == [key]  # it did arrive; we just never heard back
    assert r.store.queries.list_messages(state="ambiguous")[0]["id"] == mid  # shown to operators

    upstream.mode = "up"
    r.clock.advance(600)
    assert r.step() == 1
    m = r.row(mid)
    assert (m["state"], m["ambiguous_count"], m["attempts"]) == ("delivered", 1, 2)
    assert upstream.keys() == [key, key]
    assert list(upstream.tracking) == [key]  # the upstream saw one complaint, not two
    assert m["tracking_id"] == upstream.tracking[key]


def test_an_item_too_old_goes_dead_saying_it_gave_up(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig(max_age_days=1.0)
    old = r.sms("LAPOR antrean puskesmas terlalu lama")
    r.clock.advance(86400 - 5)
    young = r.sms("LAPOR sinyal hilang di dusun atas")
    upstream.down()
    r.clock.advance(10)
    assert r.step() == 2
    o = r.row(old)
    assert o["state"] == "dead" and "gave up" in o["last_error"]
    assert r.row(young)["state"] == "retry"
    assert [m["id"] for m in r.store.queries.list_messages(state="dead")] == [old]


def test_a_claim_by_a_process_that_died_is_taken_over_after_the_lease(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig(lease_seconds=60.0)
    mid = r.sms("LAPOR pipa air bocor di jalan utama")
    dying = Store.open(r.cfg.store.path)
    [claimed] = dying.outbox.claim(now=r.clock(), lease=60, limit=10)
    dying.close()  # it never recorded an outcome

    r.clock.advance(59)
    assert r.step() == 0
    assert upstream.requests == []
    assert r.row(mid)["state"] == "sending"
    r.clock.advance(1)
    assert r.step() == 1
    m = r.row(mid)
    assert (m["state"], m["attempts"]) == ("delivered", 1)
    assert upstream.keys() == [claimed.key] == [m["key"]]


def test_a_stop_during_a_step_gives_the_claimed_items_back(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig()
    mids = [r.sms(f"LAPOR hal {i}") for i in range(2)]
    r.stop.set()
    assert r.step() == 2
    assert upstream.requests == []
    assert {r.row(mid)["state"] for mid in mids} == {"queued"}
    r.stop.clear()
    assert r.step() == 2
    assert {r.row(mid)["state"] for mid in mids} == {"delivered"}


def test_the_circuit_breaker_stops_hammering_a_dead_upstream_and_probes_with_one(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig(breaker_threshold=2, breaker_pause=30.0, batch=10, concurrency=1, retry_base=0.001)
    mids = [r.sms(f"LAPOR keluhan {i}") for i in range(6)]
    upstream.down()
    r.clock.advance(1)
    assert r.step() == 6
    # a whole wave (concurrency = 1) failed: the other five were given back unattempted,
    # and the batch counts as one failure for the breaker, which is still closed
    attempted = [m for m in mids if r.row(m)["attempts"] == 1]
    assert len(attempted) == 1
    assert all(r.row(m)["state"] == "queued" for m in mids if m not in attempted)
    assert r.fwd.breaker.allow(r.clock())
    r.clock.advance(1)
    assert r.step() == 6
    # the second failing batch opens the circuit, once
    assert not r.fwd.breaker.allow(r.clock())
    assert r.fwd.breaker.openings == 1
    assert sum(r.row(m)["attempts"] for m in mids) == 2
    r.clock.advance(10)
    assert r.step() == 0  # circuit open: nothing claimed, nothing sent
    upstream.up()
    r.clock.advance(30)
    assert r.step() == 1  # the pause is over: one probe, not the whole batch
    r.clock.advance(1)
    assert r.step() == 5  # the probe worked: the backlog drains at full speed
    assert {r.row(m)["state"] for m in mids} == {"delivered"}

"""Replies never run away (P11): rate limit per number, daily budget, loop detection, block
list, the hourly ceiling of the gateway SIM. The report itself is always kept."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sms1708.core.gate import LOOP, History, Outgoing, decide
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.replies import Guard, near_identical
from sms1708.store.store import IncomingPart, Store

WIB = timezone(timedelta(hours=7))
NOW = time.time()


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "g.db")
    yield s
    s.close()


def sms(store: Store, sender: str, text: str, n: int, rules: IntakeRules, now: float = NOW):
    when = datetime(2026, 11, 23, 8, 0, tzinfo=WIB) + timedelta(seconds=n)
    [p] = encode_deliver(sender, text, when)
    [r] = store.intake.ingest(
        "modem0", [IncomingPart("SM", n, p, decode_deliver(p))], now=now, rules=rules
    )
    return r


def reply_states(store: Store) -> list[tuple[str, str | None]]:
    return [
        (row["state"], row["reason"])
        for row in store.conn.execute("SELECT state, reason FROM replies ORDER BY id")
    ]


def test_guard_decisions() -> None:
    g = Guard(per_sender_per_hour=3, daily_budget=10, loop_repeats=3, block_list=("08111",))
    ok = "+6281234567890"
    now = 100_000.0
    out = Outgoing("modem0", ok, "tes", "receipt", "international", answers_text="LAPOR x")

    def why(history: History, guard: Guard = g) -> str | None:
        return decide(out, guard, history, now=now).refused

    assert why(History()) is None
    assert why(History(to_number=[now - 10] * 3)) == "rate limit for this number"
    assert why(History(to_number=[now - 3601] * 3)) is None  # an hour ago does not count
    assert why(History(by_modem_today=[now] * 10, day_start=now - 5)) == (
        "daily reply budget reached"
    )
    assert why(History(by_modem_today=[now - 10] * 10, day_start=now - 5)) is None  # yesterday
    assert why(History(from_number=[(now - 5, "lapor X!")] * 2)) == LOOP
    assert why(History(from_number=[(now - 5, "lapor X!")])) is None
    assert why(History(blocked=True)) == "blocked number"
    assert why(History(), Guard(block_list=("081234567890",))) == "block list"


def test_near_identical() -> None:
    assert near_identical("LAPOR jalan rusak!!", "lapor  Jalan rusak")
    assert not near_identical("LAPOR jalan rusak", "LAPOR jalan rusak parah")
    assert not near_identical("", "")


def test_a_chatty_number_gets_at_most_n_replies_an_hour_but_every_report_is_kept(
    store: Store,
) -> None:
    rules = IntakeRules(guard=Guard(per_sender_per_hour=3, loop_repeats=99))
    for i in range(5):
        sms(store, "+6281234567890", f"LAPOR keluhan berbeda nomor {i}", i, rules)
    assert (
        reply_states(store)
        == [("queued", None)] * 3 + [("suppressed", "rate limit for this number")] * 2
    )
    assert store.queries.counts()["outbox"] == {"queued": 5}  # all five forwarded


def test_the_same_text_again_and_again_stops_the_replies(store: Store) -> None:
    rules = IntakeRules(guard=Guard(loop_repeats=3, per_sender_per_hour=99))
    for i in range(4):
        sms(store, "+6281234567890", "LAPOR jalan rusak" + "!" * i, i, rules)
    states = reply_states(store)
    assert states[:2] == [("queued", None)] * 2
    assert states[2:] == [("suppressed", "loop: same text again and again")] * 2
    assert store.queries.counts()["messages"]["total"] == 4


def test_the_daily_budget_is_per_modem_and_reported(store: Store) -> None:
    rules = IntakeRules(guard=Guard(daily_budget=2))
    results = [sms(store, f"+62812345678{i:02d}", f"LAPOR nomor {i}", i, rules) for i in range(4)]
    budget = ("daily reply budget reached",)
    assert [r.suppressed for r in results] == [(), (), budget, budget]
    assert store.queries.counts()["outbox"] == {"queued": 4}


def test_the_sim_waits_when_it_reached_its_hourly_ceiling(store: Store) -> None:
    rules = IntakeRules()
    for i in range(3):
        sms(store, f"+62812345678{i:02d}", f"LAPOR nomor {i}", i, rules)
    store.conn.execute("UPDATE replies SET state='sent', sent_at=?", (NOW - 600,))
    assert store.replies.throttled_until("modem0", now=NOW, max_per_hour=4) is None
    until = store.replies.throttled_until("modem0", now=NOW, max_per_hour=3)
    assert until == pytest.approx(NOW - 600 + 3600)
    assert store.replies.throttled_until("modem0", now=NOW + 3000, max_per_hour=3) is None

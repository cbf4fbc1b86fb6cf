"""The state machines of the two queues against the code: a walk through the real Store makes
every move the tables allow, and no other (the tables are what the system does, not a drawing
beside it); forbidden moves raise before anything is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sms1708.core.policy import Decision
from sms1708.core.routing import DEFAULT_DESTINATION
from sms1708.core.states import (
    CLAIMABLE,
    DELIVERIES,
    PENDING,
    REPLAYABLE,
    REPLIES,
    REPLY_TRANSITIONS,
    TERMINAL,
    TRANSITIONS,
    InvalidTransition,
    ReplyState,
    State,
    can,
    reply_outcome,
    transition,
)
from sms1708.errors import Sms1708Error
from sms1708.store.outbox import Attempt
from sms1708.store.store import Store
from sms1708.store.transitions import move_deliveries, move_replies
from tests.queues import MODEM, Moves, sms, states

T0 = 1_714_532_400.0
LEASE = 60.0
DELIVERED = Decision(State.DELIVERED, None, "delivered")
DEAD = Decision(State.DEAD, None, "rejected: HTTP 422")


def retry(now: float) -> Decision:
    return Decision(State.RETRY, now, "HTTP 503")


def ambiguous(now: float) -> Decision:
    return Decision(State.AMBIGUOUS, now, "timed out")


def edges(table: dict[Any, frozenset[Any]]) -> set[tuple[str, str]]:
    return {(a.value, b.value) for a, targets in table.items() for b in targets}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "sms1708.db")
    yield s
    s.close()


class Walk:
    """Runs store operations and records the moves each one made."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.now = T0
        self.moves = Moves()

    def __call__(self, op: Callable[[], Any]) -> Any:
        before = states(self.store)
        out = op()
        self.moves.add(before, states(self.store))
        return out

    # the upstream queue (the primary destination)
    def claim(self) -> list[int]:
        items = self(lambda: self.store.outbox.claim(now=self.now, lease=LEASE, limit=10))
        return [i.message_id for i in items]

    def outcome(self, mid: int, d: Decision) -> None:
        a = Attempt(mid, d, d.state.value, self.now, destination=DEFAULT_DESTINATION)
        self(lambda: self.store.outbox.record([a]))

    def replay(self, mid: int) -> None:
        self(lambda: self.store.outbox.replay(message_id=mid, now=self.now, dry_run=False))

    def release(self, mid: int) -> None:
        self(
            lambda: self.store.outbox.release([mid], now=self.now, destination=DEFAULT_DESTINATION)
        )

    # the reply queue
    def take_replies(self) -> list[int]:
        items = self(lambda: self.store.replies.claim(MODEM, now=self.now, lease=LEASE, limit=10))
        return [i.id for i in items]

    def reply_ends(self, rid: int, d: Decision) -> None:
        self(lambda: self.store.replies.done(rid, d, now=self.now))

    def later(self, seconds: float = LEASE + 1) -> None:
        self.now += seconds


def test_the_store_makes_every_move_of_the_tables_and_no_other(store: Store) -> None:
    w = Walk(store)
    one = w(lambda: sms(store, "+6281200000001", "LAPOR jalan rusak di desa satu", now=w.now))
    assert w.claim() == [one]  # queued -> sending
    w.later()
    assert w.claim() == [one]  # the lease ran out: sending -> sending, same key
    w.outcome(one, retry(w.now))  # sending -> retry
    assert w.claim() == [one]  # retry -> sending
    w.outcome(one, ambiguous(w.now))  # sending -> ambiguous
    assert w.claim() == [one]  # ambiguous -> sending
    w.outcome(one, DEAD)  # sending -> dead
    w.replay(one)  # dead -> queued
    w.outcome(one, DELIVERED)  # a late answer: queued -> delivered

    two = w(lambda: sms(store, "+6281200000002", "LAPOR lampu jalan mati di desa dua", now=w.now))
    for to_replay in (retry, ambiguous):
        assert w.claim() == [two]
        w.outcome(two, to_replay(w.now))
        w.replay(two)  # retry -> queued, ambiguous -> queued
    for late in (retry, ambiguous, lambda _now: DEAD):
        assert w.claim() == [two]
        w.outcome(two, late(w.now))
        if late is not retry:
            w.replay(two)
    assert w.claim() == [two]
    w.outcome(two, retry(w.now))
    w.outcome(two, DELIVERED)  # a late answer: retry -> delivered

    for n, last in ((4, ambiguous), (5, lambda _now: DEAD)):
        mid = w(lambda n=n: sms(store, f"+628120000000{n}", "LAPOR sampah menumpuk", now=w.now))
        assert w.claim() == [mid]
        w.outcome(mid, last(w.now))
        w.outcome(mid, DELIVERED)  # ambiguous -> delivered, dead -> delivered

    three = w(lambda: sms(store, "+6281200000003", "LAPOR banjir di desa tiga", now=w.now))
    assert w.claim() == [three]
    w.release(three)  # never attempted: sending -> queued
    assert w.claim() == [three]
    w.outcome(three, retry(w.now))
    assert w.claim() == [three]
    w.release(three)  # attempted before: sending -> retry
    assert w.claim() == [three]
    w.outcome(three, DELIVERED)  # sending -> delivered

    # the reply queue: every SMS above was answered with a receipt, in arrival order
    receipts = {
        str(r[1]): int(r[0])
        for r in store.conn.execute("SELECT id, recipient FROM replies ORDER BY id")
    }
    assert len(receipts) == 5
    w.take_replies()  # queued -> sending (all of them)
    w.later()
    w.take_replies()  # the lease ran out: sending -> sending
    w.reply_ends(receipts["+6281200000002"], retry(w.now))  # sending -> retry
    assert w.take_replies() == [receipts["+6281200000002"]]  # retry -> sending
    w.reply_ends(receipts["+6281200000002"], DELIVERED)  # sending -> sent
    w.reply_ends(receipts["+6281200000001"], retry(w.now + 3600))  # sending -> retry
    w.reply_ends(receipts["+6281200000004"], DEAD)  # sending -> dead
    w(lambda: store.replies.release([receipts["+6281200000005"]], now=w.now))  # -> queued
    for blocked in ("+6281200000001", "+6281200000003", "+6281200000005"):
        w(lambda blocked=blocked: store.blocked.block(blocked, by="t", now=w.now))
    w.later(3600 + LEASE)
    # blocked since they were queued: retry / sending (lease ran out) / queued -> suppressed
    assert w.take_replies() == []
    w(  # the gate refuses: born suppressed
        lambda: store.replies.queue_reply(
            modem=MODEM, recipient="+6281200000001", text="x", purpose="operator", now=w.now
        )
    )

    moved = w.moves.moved
    assert not w.moves.lost
    assert {(a, b) for t, a, b in moved if t == "deliveries"} == edges(TRANSITIONS)
    assert {(a, b) for t, a, b in moved if t == "replies"} == edges(REPLY_TRANSITIONS)
    assert {s for t, s in w.moves.born if t == "deliveries"} == {s.value for s in DELIVERIES.born}
    assert {s for t, s in w.moves.born if t == "replies"} == {s.value for s in REPLIES.born}


# ------------------------------------------------------------------ refusals, before writing


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (State.DELIVERED, State.QUEUED),  # no second delivery of a delivered complaint
        (State.DELIVERED, State.SENDING),
        (State.DEAD, State.SENDING),  # a dead item is replayed through queued, never sent
        (State.QUEUED, State.DEAD),  # nothing gives up without an attempt
        (State.QUEUED, State.RETRY),
    ],
)
def test_a_forbidden_delivery_move_raises_and_writes_nothing(
    store: Store, current: State, target: State
) -> None:
    mid = sms(store, "+6281200000009", "LAPOR jalan rusak", now=T0)
    before = states(store)
    with pytest.raises(InvalidTransition) as info, store.transaction() as c:
        move_deliveries(c, {current}, target, where="message_id = ?", args=[mid])
    assert f"{current} -> {target}" in str(info.value)
    assert states(store) == before


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ReplyState.SENT, ReplyState.QUEUED),
        (ReplyState.SUPPRESSED, ReplyState.QUEUED),  # a refused reply never goes out later
        (ReplyState.DEAD, ReplyState.SENDING),
        (ReplyState.QUEUED, ReplyState.SENT),  # nothing is sent without being claimed
    ],
)
def test_a_forbidden_reply_move_raises_and_writes_nothing(
    store: Store, current: ReplyState, target: ReplyState
) -> None:
    sms(store, "+6281200000009", "LAPOR jalan rusak", now=T0)
    before = states(store)
    with pytest.raises(InvalidTransition), store.transaction() as c:
        move_replies(c, {current}, target, where="1")
    assert states(store) == before


def test_a_reply_outcome_the_reply_queue_has_no_state_for_is_refused() -> None:
    assert reply_outcome(State.DELIVERED) is ReplyState.SENT
    with pytest.raises(InvalidTransition):
        reply_outcome(State.AMBIGUOUS)  # no reply is ever ambiguous: no state to store it


# ------------------------------------------------------------------ the tables' own shape


def test_the_module_functions_are_the_upstream_machine() -> None:
    assert can(State.SENDING, State.QUEUED) and not can(State.DELIVERED, State.QUEUED)
    assert transition("dead", "queued") is State.QUEUED
    with pytest.raises(InvalidTransition):
        transition("delivered", "sending")
    with pytest.raises(ValueError):
        transition("received", "queued")  # no such state any more


def test_invalid_transition_is_an_sms1708_error() -> None:
    assert issubclass(InvalidTransition, Sms1708Error)


def test_every_state_has_a_row_and_terminal_states_have_no_exit() -> None:
    assert set(TRANSITIONS) == set(State)
    assert set(REPLY_TRANSITIONS) == set(ReplyState)
    assert {s for s, targets in TRANSITIONS.items() if not targets} == set(TERMINAL)


def test_the_named_sets_agree_with_the_table() -> None:
    assert all(can(s, State.SENDING) for s in CLAIMABLE)
    assert all(can(s, State.QUEUED) for s in REPLAYABLE)
    assert CLAIMABLE <= PENDING and not PENDING & TERMINAL
    assert DELIVERIES.into(State.DELIVERED) == frozenset(State) - {State.DELIVERED}

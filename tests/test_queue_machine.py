"""The real Store (a SQLite file) driven through random sequences of what happens to the queues:
SMS arriving, claims, every outcome, leases running out, replays, purges and restarts. After
every step: no complaint and no queue row lost, one key per complaint and one delivery per
complaint and destination (the key never changes), only moves the state tables allow, and the
counts ``sms1708 status`` shows equal the rows."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sms1708.core.policy import Decision
from sms1708.core.states import DELIVERIES, REPLIES, State
from sms1708.store.outbox import Attempt
from sms1708.store.store import Store
from tests.queues import MODEM, ROUTING, Moves, sms, states

T0 = 1_714_532_400.0
LEASE = 60.0
DESTINATIONS = ROUTING.names
OUTCOMES = ("delivered", "retry", "ambiguous", "dead", "rejected")
#: the order `status` ranks a complaint's deliveries in (the one most needing an operator)
RANK = ("dead", "ambiguous", "retry", "sending", "queued", "delivered")


def decision(outcome: str, now: float) -> Decision:
    return {
        "delivered": Decision(State.DELIVERED, None, "delivered"),
        "retry": Decision(State.RETRY, now + 30, "HTTP 503"),
        "ambiguous": Decision(State.AMBIGUOUS, now + 30, "timed out"),
        "dead": Decision(State.DEAD, None, "gave up after 9 attempts"),
        "rejected": Decision(State.DEAD, None, "rejected: HTTP 422"),
    }[outcome]


class Queues(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="sms1708-machine-"))
        self.store = Store.open(self.dir / "sms1708.db")
        self.now = T0
        self.sent = 0  # SMS that arrived
        self.keys: dict[int, str] = {}
        self.claimed: dict[str, list[int]] = {d: [] for d in DESTINATIONS}
        self.claimed_replies: list[int] = []
        self.before = states(self.store)
        self.moves = Moves()

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ what happens

    @rule(citizen=st.integers(0, 5), kind=st.sampled_from(["LAPOR jalan rusak", "CEK 1", "?"]))
    def an_sms_arrives(self, citizen: int, kind: str) -> None:
        self.sent += 1
        sms(self.store, f"+62812000000{citizen:02d}", f"{kind} {self.sent}", now=self.now)

    @rule(destination=st.sampled_from(DESTINATIONS), limit=st.integers(1, 4))
    def the_upstream_side_claims(self, destination: str, limit: int) -> None:
        items = self.store.outbox.claim(
            now=self.now, lease=LEASE, limit=limit, destination=destination
        )
        self.claimed[destination] += [i.message_id for i in items]

    @precondition(lambda self: any(self.claimed.values()))
    @rule(data=st.data(), outcome=st.sampled_from(OUTCOMES))
    def an_attempt_ends(self, data: st.DataObject, outcome: str) -> None:
        """Also late: the item may have been released, re-claimed or replayed meanwhile."""
        destination = data.draw(st.sampled_from([d for d, ids in self.claimed.items() if ids]))
        mid = data.draw(st.sampled_from(self.claimed[destination]))
        d = decision(outcome, self.now)
        a = Attempt(mid, d, outcome, self.now, destination=destination)
        self.store.outbox.record([a])
        self.claimed[destination].remove(mid)

    @precondition(lambda self: any(self.claimed.values()))
    @rule(destination=st.sampled_from(DESTINATIONS))
    def a_stop_gives_claims_back(self, destination: str) -> None:
        self.store.outbox.release(self.claimed[destination], now=self.now, destination=destination)

    @rule(limit=st.integers(1, 4))
    def the_modem_claims_replies(self, limit: int) -> None:
        items = self.store.replies.claim(MODEM, now=self.now, lease=LEASE, limit=limit)
        self.claimed_replies += [i.id for i in items]

    @precondition(lambda self: self.claimed_replies)
    @rule(data=st.data(), outcome=st.sampled_from(["delivered", "retry", "dead"]))
    def a_reply_attempt_ends(self, data: st.DataObject, outcome: str) -> None:
        rid = data.draw(st.sampled_from(self.claimed_replies))
        self.store.replies.done(rid, decision(outcome, self.now), now=self.now)
        self.claimed_replies.remove(rid)

    @rule(seconds=st.sampled_from([1.0, 29.0, LEASE + 1, 3600.0]))
    def time_passes(self, seconds: float) -> None:
        """Leases run out (claimed again, same key), retries come due."""
        self.now += seconds

    @rule(state=st.sampled_from([None, "dead", "ambiguous", "retry"]))
    def an_operator_replays(self, state: str | None) -> None:
        self.store.outbox.replay(state=state, now=self.now, dry_run=False)

    @rule(age=st.sampled_from([0.0, 600.0]))
    def old_personal_data_is_purged(self, age: float) -> None:
        self.store.maintenance.purge(before=self.now - age, now=self.now, dead_before=self.now)

    @rule()
    def the_process_restarts(self) -> None:
        """A crash or a restart: whatever was claimed stays `sending` until its lease runs out."""
        self.store.close()
        self.store = Store.open(self.dir / "sms1708.db")
        self.claimed = {d: [] for d in DESTINATIONS}
        self.claimed_replies = []

    # ------------------------------------------------------------------ after every step

    @invariant()
    def only_allowed_moves_and_nothing_lost(self) -> None:
        after = states(self.store)
        step = Moves().add(self.before, after)
        assert not step.lost, f"rows disappeared: {step.lost}"
        machines = {"deliveries": DELIVERIES, "replies": REPLIES}
        for table, was, now in step.moved:
            assert machines[table].can(was, now), f"{table}: {was} -> {now}"
        for table, state in step.born:
            machines[table].check_born(state)
        self.moves.add(self.before, after)
        self.before = after

    @invariant()
    def every_sms_is_a_complaint_with_one_key_for_good(self) -> None:
        rows = self.store.conn.execute("SELECT id, key FROM messages").fetchall()
        assert len(rows) == self.sent
        for mid, key in rows:
            assert self.keys.setdefault(int(mid), str(key)) == key
        assert len({str(r[1]) for r in rows}) == len(rows)

    @invariant()
    def one_delivery_per_complaint_and_destination(self) -> None:
        per = Counter(
            (int(r[0]), str(r[1]))
            for r in self.store.conn.execute("SELECT message_id, destination FROM deliveries")
        )
        assert set(per.values()) <= {1}
        forwarded = {mid for mid, _ in per}
        for mid in forwarded:
            assert {d for m, d in per if m == mid} == set(DESTINATIONS)

    @invariant()
    def status_counts_equal_the_rows(self) -> None:
        counts = self.store.queries.counts()
        deliveries = self.store.conn.execute(
            "SELECT message_id, destination, state FROM deliveries"
        ).fetchall()
        by_complaint: dict[int, list[str]] = {}
        for mid, _dest, state in deliveries:
            by_complaint.setdefault(int(mid), []).append(str(state))
        worst = Counter(min(s, key=RANK.index) for s in by_complaint.values())
        assert counts["outbox"] == dict(worst)
        replies = Counter(str(r[0]) for r in self.store.conn.execute("SELECT state FROM replies"))
        assert counts["replies"] == dict(replies)
        assert counts["messages"]["total"] == self.sent
        per_destination: dict[str, Counter[str]] = {}
        for _mid, dest, state in deliveries:
            per_destination.setdefault(str(dest), Counter())[str(state)] += 1
        assert self.store.queries.destination_counts() == {
            d: dict(c) for d, c in per_destination.items()
        }
        pending = sum(n for s, n in replies.items() if s in ("queued", "retry", "sending"))
        assert self.store.queries.reply_backlog()[0] == pending


Queues.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_the_queues_under_random_operations = Queues.TestCase

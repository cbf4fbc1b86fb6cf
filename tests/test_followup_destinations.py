"""Follow-ups on several destinations: an update goes to exactly the destinations its report
was queued for (not routed anew), and reaches each only after the report reached it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.routing import Route, Routing
from sms1708.core.states import State
from sms1708.store.store import Attempt, IncomingPart, Store
from sms1708.table_files import default_tables

from .test_store import CITIZEN, MODEM, SCTS, T0

#: the report's place (desa Tanjung Raja) is in kecamatan 16.03.02: "spikm" takes it
TWO = Routing((("lapor", Route()), ("spikm", Route(location_codes=("16.03.02",)))), primary="lapor")
#: the same, and since the report was queued a third destination that takes everything
THREE = Routing((*TWO.routes, ("ppid", Route())), primary="lapor")


def sms(s: Store, text: str, routing: Routing, *, minutes: int = 0) -> int:
    [pdu] = encode_deliver(CITIZEN, text, SCTS + timedelta(minutes=minutes))
    rules = IntakeRules(keywords=default_tables(), routing=routing)
    part = IncomingPart("SM", 1, pdu, decode_deliver(pdu))
    [res] = s.intake.ingest(MODEM, [part], now=T0 + 60 * minutes, rules=rules)
    return res.message_ids[0]


def claim(s: Store, destination: str, now: float) -> list[int]:
    return [
        i.message_id for i in s.outbox.claim(now=now, lease=60, limit=10, destination=destination)
    ]


def attempt(s: Store, mid: int, destination: str, state: State, now: float) -> None:
    due = None if state is State.DELIVERED else now + 30
    s.outbox.record(
        [
            Attempt(
                mid,
                Decision(state, due, state.value),
                outcome=state.value,
                ended_at=now,
                destination=destination,
            )
        ]
    )


def destinations(s: Store, mid: int) -> list[str]:
    q = "SELECT destination FROM deliveries WHERE message_id = ? ORDER BY destination"
    return [r[0] for r in s.conn.execute(q, (mid,))]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path / "sms1708.db")
    yield s
    s.close()


def test_an_update_reaches_both_destinations_of_its_report_each_after_the_report(
    store: Store,
) -> None:
    report = sms(store, "LAPOR jalan rusak di desa Tanjung Raja", TWO)
    assert destinations(store, report) == ["lapor", "spikm"]
    # routing changed meanwhile (a destination taking everything was added): the update still
    # goes where its report went, and to no other destination
    more = sms(store, "lubangnya besar dekat SD 5, sudah 3 bulan", THREE, minutes=5)
    assert store.queries.message(more)["update_of"] == report  # type: ignore[index]
    assert destinations(store, more) == ["lapor", "spikm"]
    assert claim(store, "ppid", T0 + 400) == []

    now = T0 + 400
    # the report is delivered to lapor, fails at spikm: the update goes to lapor only
    assert claim(store, "lapor", now) == [report]
    assert claim(store, "spikm", now) == [report]
    attempt(store, report, "lapor", State.DELIVERED, now + 1)
    attempt(store, report, "spikm", State.RETRY, now + 1)
    assert claim(store, "spikm", now + 2) == []  # neither the report (backoff) nor the update
    assert store.outbox.next_due("spikm") == now + 31  # the report's retry, not "now"
    assert claim(store, "lapor", now + 2) == [more]
    attempt(store, more, "lapor", State.DELIVERED, now + 3)

    # the report reaches spikm: only then the update does
    assert claim(store, "spikm", now + 31) == [report]
    attempt(store, report, "spikm", State.DELIVERED, now + 32)
    assert claim(store, "spikm", now + 33) == [more]
    attempt(store, more, "spikm", State.DELIVERED, now + 34)

    states = store.conn.execute(
        "SELECT destination, state FROM deliveries WHERE message_id = ? ORDER BY destination",
        (more,),
    ).fetchall()
    assert [tuple(r) for r in states] == [("lapor", "delivered"), ("spikm", "delivered")]
    assert claim(store, "ppid", now + 100) == []


def test_a_report_dead_at_one_destination_holds_its_update_there_only(store: Store) -> None:
    report = sms(store, "LAPOR jalan rusak di desa Tanjung Raja", TWO)
    more = sms(store, "lubangnya besar", TWO, minutes=5)
    now = T0 + 400
    assert claim(store, "lapor", now) == [report]
    assert claim(store, "spikm", now) == [report]
    attempt(store, report, "lapor", State.DELIVERED, now + 1)
    attempt(store, report, "spikm", State.DEAD, now + 1)
    assert claim(store, "lapor", now + 2) == [more]  # not held by the dead destination
    assert claim(store, "spikm", now + 1000) == []  # held behind its dead report there
    assert store.outbox.next_due("spikm") is None  # and not counted as due
    # an operator replays the report to spikm: the update follows it there
    assert store.outbox.replay(
        message_id=report, destination="spikm", now=now + 2000, dry_run=False
    )
    assert claim(store, "spikm", now + 2001) == [report]
    attempt(store, report, "spikm", State.DELIVERED, now + 2002)
    assert claim(store, "spikm", now + 2003) == [more]

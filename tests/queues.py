"""Observing the two queues of a real Store: every row's state before and after an operation,
and the moves that operation made (for tests/test_states.py and tests/test_queue_machine.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.routing import DEFAULT_DESTINATION, Route, Routing
from sms1708.store.store import IncomingPart, Store

MODEM = "modem0"
SCTS = datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone(timedelta(hours=7)))
#: two destinations that take every complaint: one key per complaint, one delivery for each
ROUTING = Routing(((DEFAULT_DESTINATION, Route()), ("dinas", Route())), primary=DEFAULT_DESTINATION)
RULES = IntakeRules(routing=ROUTING)

#: (table, row key) -> (state, lease): a claim of an item whose lease ran out moves it from
#: sending to sending, seen as a new lease
Rows = dict[tuple[str, object], tuple[str, float | None]]


def states(store: Store) -> Rows:
    """Every delivery's and every reply's state (and lease)."""
    rows: Rows = {}
    for r in store.conn.execute(
        "SELECT message_id, destination, state, lease_until FROM deliveries"
    ):
        rows[("deliveries", (int(r[0]), str(r[1])))] = (str(r[2]), r[3])
    for r in store.conn.execute("SELECT id, state, lease_until FROM replies"):
        rows[("replies", int(r[0]))] = (str(r[1]), r[2])
    return rows


@dataclass
class Moves:
    """What one or more operations did to the queues' states."""

    moved: set[tuple[str, str, str]] = field(default_factory=set)  # (table, from, to)
    born: set[tuple[str, str]] = field(default_factory=set)  # (table, state)
    lost: set[tuple[str, object]] = field(default_factory=set)  # rows that disappeared

    def add(self, before: Rows, after: Rows) -> Moves:
        for key, (state, lease) in after.items():
            if key not in before:
                self.born.add((key[0], state))
                continue
            was, was_lease = before[key]
            if was != state or (state == "sending" and lease != was_lease):
                self.moved.add((key[0], was, state))
        self.lost |= set(before) - set(after)
        return self


def sms(store: Store, sender: str, text: str, *, now: float, rules: IntakeRules = RULES) -> int:
    """One single-part SMS through the real intake path; returns its message id."""
    [pdu] = encode_deliver(sender, text, SCTS, concat_ref=None, ref_bits=8)
    [res] = store.intake.ingest(
        MODEM, [IncomingPart("SM", 1, pdu, decode_deliver(pdu))], now=now, rules=rules
    )
    assert res.new and len(res.message_ids) == 1
    return res.message_ids[0]

"""Follow-ups in the store: the reports an SMS may join, the rule that an update waits behind
its report, an operator's detach, and reading a report with its follow-ups.

A follow-up is a message with ``update_of`` set (schema m015). It has delivery rows of its own
(its own idempotency key), one for each destination its report went to, each claimed like any
other once the report is delivered to that destination: an update never reaches a destination
before the report it adds to, and never one the report did not go to.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sms1708.core import followup, keys
from sms1708.core.grammar import FORWARDED_KINDS, GrammarTables, parse
from sms1708.core.replies import same_number
from sms1708.core.routing import Routing
from sms1708.store.base import RECORD_SET, Concern, record_values
from sms1708.store.deliveries import queue_deliveries
from sms1708.store.transitions import new_deliveries

#: a delivery row (``deliveries`` unaliased) that may be claimed now: not an update whose
#: report's delivery to the SAME destination is still undelivered (kept in one place: the claim
#: and the "next due" read both use it). An update is queued for exactly the destinations its
#: report was queued for (:func:`queue_update`), so each of its rows waits for one of the
#: report's; a report dead at one destination holds its updates there only.
READY = (
    "NOT EXISTS (SELECT 1 FROM messages u JOIN deliveries p ON p.message_id = u.update_of"
    " AND p.destination = deliveries.destination"
    " WHERE u.id = deliveries.message_id AND p.state != 'delivered')"
)

_REPORT_COLUMNS = (
    "id, sender, received_at, kind, forwarded, update_of, purged_at, anonymous, confidential,"
    " category, location, location_code"
)


def _report(row: sqlite3.Row, sender: str) -> followup.Report:
    return followup.Report(
        id=int(row["id"]),
        own=same_number(row["sender"], sender),
        at=followup.seconds(row["received_at"]),
        attachable=bool(row["forwarded"])
        and row["update_of"] is None
        and row["purged_at"] is None
        and row["kind"] in FORWARDED_KINDS,
        kind=str(row["kind"]),
        anonymous=bool(row["anonymous"]),
        confidential=bool(row["confidential"]),
        category=row["category"],
        location=row["location"],
        location_code=row["location_code"],
    )


def candidates(
    c: sqlite3.Connection, number: str | None, sender: str, exclude: int
) -> tuple[followup.Report | None, followup.Report | None]:
    """(the report ``number`` names: a local number or an upstream tracking id, the sender's
    own first; the sender's last report before message ``exclude``)."""
    named: followup.Report | None = None
    if number is not None and number.isdigit():
        local = int(number) if len(number) < 19 else -1
        rows = c.execute(
            f"SELECT {_REPORT_COLUMNS} FROM messages WHERE (id = ? OR tracking_id = ?)"
            " AND id != ? ORDER BY (id = ?) DESC, id",
            (local, number, exclude, local),
        ).fetchall()
        found = [_report(r, sender) for r in rows]
        named = next((r for r in found if r.own), found[0] if found else None)
    row = c.execute(
        f"SELECT {_REPORT_COLUMNS} FROM messages WHERE sender = ? AND id < ? AND forwarded = 1"
        " AND update_of IS NULL ORDER BY id DESC LIMIT 1",
        (sender, exclude),
    ).fetchone()
    return named, (_report(row, sender) if row is not None else None)


def queue_update(
    c: sqlite3.Connection, message_id: int, report_id: int, *, now: float
) -> tuple[str, ...]:
    """Queue follow-up ``message_id`` for exactly the destinations its report was queued for
    (inside the caller's transaction): not routed anew, so an update naming a place of its own
    still reaches the report's destinations and no other. Returns those destinations."""
    names = tuple(
        str(r[0])
        for r in c.execute(
            "SELECT destination FROM deliveries WHERE message_id = ? ORDER BY destination",
            (report_id,),
        )
    )
    new_deliveries(c, message_id, names, now=now)
    return names


def add_report_fields(c: sqlite3.Connection, records: list[dict[str, Any]]) -> None:
    """For the updates among claimed records: the report's key (``update_of_key``, what the
    wire's ``update_of`` names), local number and upstream tracking id."""
    for r in records:
        if r.get("update_of") is None:
            continue
        row = c.execute(
            "SELECT key, tracking_id FROM messages WHERE id = ?", (r["update_of"],)
        ).fetchone()
        if row is not None:
            r["update_of_key"], r["update_of_tracking_id"] = row["key"], row["tracking_id"]


def followups_of(c: sqlite3.Connection, report_id: int) -> list[dict[str, Any]]:
    """A report's follow-up SMS, in the order they arrived (for `queue show` and the console)."""
    return [
        dict(r)
        for r in c.execute(
            "SELECT m.id, m.key, m.received_at, m.text, m.detached_at,"
            " COALESCE(o.state, 'local') AS state, o.attempts, o.last_error"
            " FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
            " WHERE m.update_of = ? ORDER BY m.id",
            (report_id,),
        )
    ]


@dataclass(frozen=True)
class Detached:
    message_id: int
    report_id: int  # the report it was attached to
    kind: str  # what it is now
    forwarded: bool
    key: str  # its new idempotency key


class Followups(Concern):
    def detach(
        self, message_id: int, *, tables: GrammarTables, routing: Routing, now: float, dry_run: bool
    ) -> Detached:
        """Make a follow-up a report of its own: its whole SMS read again by the grammar, a
        fresh idempotency key, queued at once on the normal path (routed by ``routing`` as a
        new report). ``dry_run``: say what would happen, change nothing. Raises LookupError /
        ValueError with a reason for operators."""
        with self.transaction() as c:
            row = c.execute(
                "SELECT m.id, m.key, m.raw_text, m.sender_type, m.update_of, m.purged_at,"
                " o.state FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
                " WHERE m.id = ?",
                (message_id,),
            ).fetchone()
            if row is None:
                raise LookupError(f"no message with id {message_id}")
            if row["update_of"] is None:
                raise ValueError(f"message {message_id} is not a follow-up of a report")
            if row["purged_at"] is not None:
                raise ValueError(f"message {message_id} was purged: its text is gone")
            if row["state"] == "sending":
                raise ValueError(
                    f"message {message_id} is being sent upstream right now; try again shortly"
                )
            r = parse(row["raw_text"], tables)
            forward = r.kind in FORWARDED_KINDS and row["sender_type"] != "alphanumeric"
            key = keys.detached_key(row["key"])
            out = Detached(message_id, int(row["update_of"]), r.kind, forward, key)
            if dry_run:
                return out
            c.execute(
                "UPDATE messages SET update_of=NULL, detached_at=?, key=?,"
                f" {RECORD_SET}, forwarded=? WHERE id=?",
                (now, key, *record_values(r), int(forward), message_id),
            )
            c.execute("DELETE FROM deliveries WHERE message_id = ?", (message_id,))
            if forward:
                queue_deliveries(c, message_id, r, routing, now=now)
        return out

"""The upstream queue: claims with a lease, attempts and their outcomes, replay.

One delivery row per complaint and destination (table ``deliveries``, schema m014): each
destination claims, records and backs off on its own rows only, so one that is down never
holds back another. The complaint's key is the same for every destination.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sms1708.core import gate
from sms1708.core.policy import Decision
from sms1708.core.replies import Guard
from sms1708.core.routing import DEFAULT_DESTINATION
from sms1708.core.states import CLAIMABLE, DELIVERIES, REPLAYABLE, State
from sms1708.store.base import Concern, message_filters
from sms1708.store.followups import READY, add_report_fields
from sms1708.store.sendgate import queue_gated
from sms1708.store.transitions import Either, move_deliveries

DEFAULT = Guard()

#: a complaint whose status could not be asked this many times in a row is not asked again
STATUS_QUARANTINE_AFTER = 5


@dataclass(frozen=True)
class OutboxItem:
    message_id: int
    key: str
    attempts: int
    queued_at: float
    state: str
    record: dict[str, Any]
    destination: str = DEFAULT_DESTINATION


@dataclass(frozen=True)
class Attempt:
    """One upstream attempt and the decision it led to."""

    message_id: int
    decision: Decision
    outcome: str
    ended_at: float  # when the attempt ended (its answer, or giving up on one)
    http_status: int | None = None
    detail: str = ""
    tracking_id: str | None = None
    notify_text: str | None = None  # an SMS telling the citizen the tracking id
    destination: str = DEFAULT_DESTINATION
    #: the primary destination's tracking id is the complaint's (the one the citizen knows)
    primary: bool = True
    #: the receipt with the tracking id in it: replaces a receipt still waiting to be sent
    receipt_text: str | None = None


class Outbox(Concern):
    # ---------------------------------------------------------------- upstream queue

    def claim(
        self, *, now: float, lease: float, limit: int, destination: str = DEFAULT_DESTINATION
    ) -> list[OutboxItem]:
        """Claim one destination's due items (and its items whose sending lease ran out) for
        one attempt each."""
        # sorted, and spelled as in the partial index deliveries_claimable (schema m014)
        claimable = ", ".join(f"'{s}'" for s in sorted(x.value for x in CLAIMABLE))
        with self.transaction() as c:
            # two index walks (partial indexes outbox_leases and outbox_claimable), no sort:
            # first what a dead process left behind, then what is due, oldest first
            ids = [
                int(r[0])
                for r in c.execute(
                    "SELECT message_id FROM deliveries INDEXED BY deliveries_leases"
                    " WHERE destination = ? AND state = 'sending' AND lease_until <= ?"
                    " ORDER BY lease_until LIMIT ?",
                    (destination, now, limit),
                )
            ]
            if len(ids) < limit:
                ids += [
                    int(r[0])
                    for r in c.execute(
                        "SELECT message_id FROM deliveries INDEXED BY deliveries_claimable"
                        f" WHERE destination = ? AND state IN ({claimable})"
                        f" AND next_attempt_at <= ? AND {READY} ORDER BY next_attempt_at LIMIT ?",
                        (destination, now, limit - len(ids)),
                    )
                ]
            if not ids:
                return []
            marks = ",".join("?" for _ in ids)
            move_deliveries(
                c,
                CLAIMABLE | {State.SENDING},  # due, or its lease ran out
                State.SENDING,
                sets="lease_until=?, updated_at=?",
                values=[now + lease, now],
                where=f"destination = ? AND message_id IN ({marks})",
                args=[destination, *ids],
            )
            items = c.execute(
                f"SELECT m.*, o.attempts, o.queued_at, o.state AS qstate FROM messages m"
                f" JOIN deliveries o ON o.message_id = m.id AND o.destination = ?"
                f" WHERE m.id IN ({marks}) ORDER BY m.id",
                [destination, *ids],
            ).fetchall()
            records = [dict(r) for r in items]
            add_report_fields(c, records)  # an update names its report (store/followups.py)
        return [
            OutboxItem(
                message_id=int(r["id"]),
                key=r["key"],
                attempts=int(r["attempts"]),
                queued_at=float(r["queued_at"]),
                state=r["qstate"],
                record=rec,
                destination=destination,
            )
            for r, rec in zip(items, records, strict=True)
        ]

    def record(self, attempts: Sequence[Attempt], *, guard: Guard = DEFAULT) -> None:
        """Store a batch of attempts and their states, in one transaction.

        A tracking id is texted to the citizen (``notify_text``) through the gate, with
        ``guard`` (the ``[replies]`` config).

        Each attempt is always logged. The state moves only if the item is still ``sending``
        (a late answer must not undo an operator's replay), except that ``delivered`` always
        wins and is never undone.
        """
        if not attempts:
            return
        with self.transaction() as c:
            for a in attempts:
                self._record(c, a, guard)

    def _record(self, c: sqlite3.Connection, a: Attempt, guard: Guard) -> None:
        d = a.decision
        delivered = d.state is State.DELIVERED
        c.execute(
            "INSERT INTO attempts (message_id, destination, at, outcome, http_status, detail)"
            " VALUES (?,?,?,?,?,?)",
            (a.message_id, a.destination, a.ended_at, a.outcome, a.http_status, a.detail[:1000]),
        )
        # the outcome of an attempt moves a delivery still `sending` only (a late answer must
        # not undo an operator's replay), except that `delivered` always wins
        move_deliveries(
            c,
            DELIVERIES.into(State.DELIVERED) if delivered else {State.SENDING},
            d.state,
            sets="attempts=attempts+1, next_attempt_at=?,"
            " lease_until=NULL, last_error=?, updated_at=?,"
            " ambiguous_count=ambiguous_count + ?, delivered_at=?,"
            " tracking_id=COALESCE(?, tracking_id)",
            values=(
                d.next_attempt_at if d.next_attempt_at is not None else a.ended_at,
                None if delivered else d.reason[:1000],
                a.ended_at,
                1 if a.outcome == "ambiguous" else 0,
                a.ended_at if delivered else None,
                a.tracking_id[:64] if a.tracking_id else None,
            ),
            where="message_id=? AND destination=?",
            args=(a.message_id, a.destination),
        )
        if a.tracking_id and a.primary:
            prev = c.execute(
                "SELECT tracking_id, modem, sender, sender_type FROM messages WHERE id=?",
                (a.message_id,),
            ).fetchone()
            c.execute(
                "UPDATE messages SET tracking_id=? WHERE id=?", (a.tracking_id[:64], a.message_id)
            )
            first = prev is not None and prev[0] is None  # the complaint's first tracking id
            if a.receipt_text and first:
                # one SMS per complaint: a receipt still waiting (never tried) carries the id
                folded = c.execute(
                    "UPDATE replies SET text=?, next_attempt_at=MIN(next_attempt_at, ?)"
                    " WHERE message_id=? AND purpose='receipt' AND state='queued'"
                    " AND attempts=0 AND next_attempt_at > created_at",
                    (a.receipt_text, a.ended_at, a.message_id),
                ).rowcount
                if folded:
                    return
            if a.notify_text and first:
                # the citizen learns the tracking id once, through the one gate
                out = gate.follow_up(
                    "tracking",
                    a.notify_text,
                    modem=prev[1],
                    recipient=prev[2],
                    recipient_type=prev[3],
                    message_id=a.message_id,
                )
                queue_gated(c, out, guard, now=a.ended_at)

    def release(
        self, message_ids: Sequence[int], *, now: float, destination: str = DEFAULT_DESTINATION
    ) -> None:
        """Give back claimed items not attempted (graceful stop): due again at once."""
        if not message_ids:
            return
        marks = ",".join("?" for _ in message_ids)
        with self.transaction() as c:
            move_deliveries(
                c,
                {State.SENDING},
                Either("attempts > 0", State.RETRY, State.QUEUED),
                sets="lease_until=NULL, next_attempt_at=?, updated_at=?",
                values=[now, now],
                where=f"destination=? AND message_id IN ({marks})",
                args=[destination, *message_ids],
            )

    def next_due(self, destination: str | None = None) -> float | None:
        """When the next item (of one destination, or of any) is due."""
        where, args = ("", []) if destination is None else (" AND destination = ?", [destination])
        row = self.conn.execute(
            "SELECT MIN(CASE WHEN state='sending' THEN lease_until ELSE next_attempt_at END) "
            "FROM deliveries WHERE state IN ('queued','retry','ambiguous','sending')"
            f" AND {READY}{where}",
            args,
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def replay(
        self,
        *,
        state: str | None = None,
        message_id: int | None = None,
        since: float | None = None,
        until: float | None = None,
        now: float,
        dry_run: bool = True,
        destination: str | None = None,
    ) -> list[int]:
        """Move dead/ambiguous/retry deliveries back to queued (due now), with the same key.

        ``state`` is the delivery's state; ``destination`` limits the replay to one destination
        (default: every destination's deliveries that match). ``since``/``until`` select by
        when the complaint was stored (unix time). Returns the complaint ids (with ``dry_run``,
        the ids that would move).
        """
        where, args = message_filters(since=since, until=until)
        replayable = ",".join(f"'{s.value}'" for s in REPLAYABLE)
        # a purged complaint has no text left to send
        where = f"{where or ' WHERE 1'} AND d.state IN ({replayable}) AND m.purged_at IS NULL"
        if state:
            where += " AND d.state = ?"
            args.append(state)
        if message_id is not None:
            where += " AND m.id = ?"
            args.append(message_id)
        if destination is not None:
            where += " AND d.destination = ?"
            args.append(destination)
        with self.transaction() as c:
            rows = c.execute(
                "SELECT d.message_id, d.destination FROM messages m"
                f" JOIN deliveries d ON d.message_id = m.id{where} ORDER BY d.message_id",
                args,
            ).fetchall()
            if rows and not dry_run:
                move_deliveries(
                    c,
                    REPLAYABLE,
                    State.QUEUED,
                    sets="next_attempt_at=?, queued_at=?, lease_until=NULL, updated_at=?",
                    values=[now, now, now],
                    where="message_id=? AND destination=?",
                    many=[(int(r[0]), r[1]) for r in rows],
                )
        return sorted({int(r[0]) for r in rows})

    # ---------------------------------------------------------------- upstream status

    def status_due(
        self,
        *,
        now: float,
        interval: float,
        max_age: float,
        limit: int,
        destination: str = DEFAULT_DESTINATION,
    ) -> list[dict[str, Any]]:
        """Complaints delivered to (the primary) ``destination``, with a tracking id, whose
        upstream status should be asked again (reports: a follow-up's status is its report's)."""
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT m.id, m.key, m.tracking_id, m.upstream_status FROM messages m"
                " JOIN deliveries o ON o.message_id = m.id AND o.destination = ?"
                " WHERE o.state = 'delivered' AND m.update_of IS NULL"
                " AND m.tracking_id IS NOT NULL AND o.delivered_at >= ?"
                " AND (m.status_checked_at IS NULL OR m.status_checked_at <= ?)"
                " AND m.status_failures < ?"
                " ORDER BY m.status_checked_at IS NOT NULL, m.status_checked_at, m.id LIMIT ?",
                (destination, now - max_age, now - interval, STATUS_QUARANTINE_AFTER, limit),
            )
        ]

    def status_failed(self, message_id: int, error: str, *, now: float) -> int:
        """Asking about this complaint failed for a reason of its own: counted against it (it
        is asked again after the interval; after ``STATUS_QUARANTINE_AFTER`` failures, no
        more). Returns its failures so far."""
        with self.transaction() as c:
            c.execute(
                "UPDATE messages SET status_failures = status_failures + 1, status_error = ?,"
                " status_checked_at = ? WHERE id = ?",
                (error[:300], now, message_id),
            )
            row = c.execute(
                "SELECT status_failures FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def record_status(
        self,
        message_id: int,
        status: str | None,
        *,
        now: float,
        notify_text: str | None,
        guard: Guard = DEFAULT,
    ) -> bool:
        """Store what the upstream says now. Returns True when the status changed; then the
        citizen is told (``notify_text``) if the gate lets that SMS through."""
        with self.transaction() as c:
            row = c.execute(
                "SELECT upstream_status, modem, sender, sender_type FROM messages WHERE id = ?",
                (message_id,),
            ).fetchone()
            c.execute("UPDATE messages SET status_checked_at = ? WHERE id = ?", (now, message_id))
            if row is None or status is None or status == row[0]:
                return False
            c.execute(
                "UPDATE messages SET upstream_status = ?, upstream_status_at = ? WHERE id = ?",
                (status[:200], now, message_id),
            )
            c.execute(
                "INSERT INTO status_changes (message_id, status, at) VALUES (?, ?, ?)",
                (message_id, status[:200], now),
            )
            if notify_text and row[2]:
                out = gate.follow_up(
                    "status_change",
                    notify_text,
                    modem=row[1],
                    recipient=row[2],
                    recipient_type=row[3],
                    message_id=message_id,
                )
                queue_gated(c, out, guard, now=now)
            return True

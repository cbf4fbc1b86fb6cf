"""The SMS reply queue: claims, outcomes, operator messages."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sms1708.core import gate
from sms1708.core.gate import Outgoing
from sms1708.core.policy import Decision
from sms1708.core.replies import Guard, national_digits
from sms1708.core.states import REPLY_CLAIMABLE, ReplyState, State, reply_outcome
from sms1708.store.base import Concern
from sms1708.store.sendgate import Queued, queue_gated
from sms1708.store.transitions import Either, move_replies

DEFAULT = Guard()


@dataclass(frozen=True)
class ReplyItem:
    id: int
    message_id: int | None
    modem: str
    recipient: str
    text: str
    attempts: int
    created_at: float


class Replies(Concern):
    # ---------------------------------------------------------------- reply queue

    def claim(self, modem: str, *, now: float, lease: float, limit: int) -> list[ReplyItem]:
        with self.transaction() as c:
            rows = c.execute(
                "SELECT * FROM replies WHERE modem = ? AND ((state IN ('queued','retry') "
                "AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until <= ?)) "
                "ORDER BY id LIMIT ?",  # oldest first: citizens are answered in arrival order
                (modem, now, now, limit),
            ).fetchall()
            if not rows:
                return []
            rows = self._hold_back_blocked(c, rows)
            if not rows:
                return []
            ids = [int(r["id"]) for r in rows]
            marks = ",".join("?" for _ in ids)
            move_replies(
                c,
                REPLY_CLAIMABLE | {ReplyState.SENDING},  # due, or its lease ran out
                ReplyState.SENDING,
                sets="lease_until=?",
                values=[now + lease],
                where=f"id IN ({marks})",
                args=ids,
            )
        return [
            ReplyItem(
                int(r["id"]),
                r["message_id"],
                r["modem"],
                r["recipient"],
                r["text"],
                int(r["attempts"]),
                float(r["created_at"]),
            )
            for r in rows
        ]

    def _hold_back_blocked(self, c: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Any]:
        """Suppress claimed replies whose recipient was blocked after they were queued."""
        blocked = {str(r[0]) for r in c.execute("SELECT national FROM blocked_numbers")}
        if not blocked:
            return rows
        held = [int(r["id"]) for r in rows if national_digits(r["recipient"]) in blocked]
        if held:
            marks = ",".join("?" for _ in held)
            move_replies(
                c,
                REPLY_CLAIMABLE | {ReplyState.SENDING},
                ReplyState.SUPPRESSED,
                sets="reason='blocked number', lease_until=NULL",
                where=f"id IN ({marks})",
                args=held,
            )
        return [r for r in rows if int(r["id"]) not in held]

    def done(
        self,
        reply_id: int,
        decision: Decision,
        *,
        now: float,
        mr: int | None = None,
        detail: str = "",
        unconfirmed: bool = False,
    ) -> None:
        """Record one attempt. ``unconfirmed``: its outcome is unknown (the SMS may be out)."""
        state = decision.state
        with self.transaction() as c:
            move_replies(
                c,
                {ReplyState.SENDING},
                reply_outcome(state),
                sets="attempts=attempts+1, next_attempt_at=?, unconfirmed=unconfirmed+?,"
                " lease_until=NULL, last_error=?, sent_at=?, mr=COALESCE(?, mr),"
                " reason=CASE WHEN ?='dead' THEN ? ELSE reason END",
                values=(
                    decision.next_attempt_at if decision.next_attempt_at is not None else now,
                    int(unconfirmed),
                    None if state is State.DELIVERED else (detail or decision.reason)[:500],
                    now if state is State.DELIVERED else None,
                    mr,
                    state.value,
                    decision.reason[:500],
                ),
                where="id=?",
                args=(reply_id,),
            )

    def release(self, reply_ids: Sequence[int], *, now: float) -> None:
        """Give back claimed replies not sent (link lost, stopping): due again at once."""
        if not reply_ids:
            return
        marks = ",".join("?" for _ in reply_ids)
        with self.transaction() as c:
            move_replies(
                c,
                {ReplyState.SENDING},
                Either("attempts > 0", ReplyState.RETRY, ReplyState.QUEUED),
                sets="lease_until=NULL, next_attempt_at=?",
                values=[now],
                where=f"id IN ({marks})",
                args=reply_ids,
            )

    def queue(
        self, out: Outgoing, *, guard: Guard, now: float, force: bool = False, by: str = ""
    ) -> Queued:
        """Queue one SMS through the gate (:func:`sms1708.core.gate.decide`), in one
        transaction. A refused SMS is kept as ``suppressed`` with the reason; ``force`` (an
        operator's override, named ``by``) passes the counted guards and is recorded."""
        with self.transaction() as c:
            return queue_gated(c, out, guard, now=now, force=force, by=by)

    def queue_reply(
        self,
        *,
        modem: str,
        recipient: str,
        text: str,
        purpose: str,
        now: float,
        message_id: int | None = None,
        guard: Guard = DEFAULT,
    ) -> int:
        """:meth:`queue_sms` spelled with keywords; returns the reply's id (queued or not)."""
        out = Outgoing(modem, recipient, text, purpose, message_id=message_id)
        with self.transaction() as c:
            return queue_gated(c, out, guard, now=now).reply_id

    def throttled_until(self, modem: str, *, now: float, max_per_hour: int) -> float | None:
        """When ``modem`` may send again if it reached the SIM's hourly ceiling (None: it
        may send now); decided by :func:`sms1708.core.gate.ceiling_until`."""
        sent = [
            float(r[0])
            for r in self.conn.execute(
                "SELECT sent_at FROM replies WHERE modem = ? AND state = 'sent' AND sent_at > ?"
                " ORDER BY sent_at DESC LIMIT ?",
                (modem, now - gate.HOUR, max_per_hour),
            )
        ]
        return gate.ceiling_until(sent, max_per_hour=max_per_hour, now=now)

    def unconfirmed(self) -> dict[str, int]:
        """Replies with at least one attempt of unknown outcome, by state: ``dead`` ones gave
        up at the attempt limit and may or may not have reached the citizen."""
        return {
            str(r[0]): int(r[1])
            for r in self.conn.execute(
                "SELECT state, COUNT(*) FROM replies WHERE unconfirmed > 0 GROUP BY state"
            )
        }

    def next_due(self, modem: str) -> float | None:
        row = self.conn.execute(
            "SELECT MIN(CASE WHEN state='sending' THEN lease_until ELSE next_attempt_at END) "
            "FROM replies WHERE modem=? AND state IN ('queued','retry','sending')",
            (modem,),
        ).fetchone()
        return None if row[0] is None else float(row[0])

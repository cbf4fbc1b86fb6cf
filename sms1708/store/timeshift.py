"""Moving stored times when the daemon's trusted clock jumps (see :mod:`sms1708.clock`).

Times in the database outlive the process, so the monotonic clock alone cannot protect them:
when trusted time jumps by ``j`` (NTP steps a Raspberry Pi's clock forward; network time
corrects it), every time this process wrote since it started (``>= since``, in the old scale)
is moved by ``j``. Ages (``queued_at`` against ``max_age``), due times, leases, multipart
timeouts and the send gate's rate windows then measure what really elapsed. As a last line,
every pending due time is clamped to its longest possible delay from now.
"""

from __future__ import annotations

from sms1708.store.base import Concern

#: every time column the pipeline writes (table, column)
TIME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("parts", "stored_at"),
    ("messages", "stored_at"),
    ("messages", "status_checked_at"),
    ("messages", "upstream_status_at"),
    ("deliveries", "queued_at"),
    ("deliveries", "next_attempt_at"),
    ("deliveries", "lease_until"),
    ("deliveries", "delivered_at"),
    ("deliveries", "updated_at"),
    ("attempts", "at"),
    ("replies", "created_at"),
    ("replies", "next_attempt_at"),
    ("replies", "lease_until"),
    ("replies", "sent_at"),
    ("replies", "delivery_at"),
    ("reports", "stored_at"),
)

#: the columns that hold "the newest moment the store has seen" (a floor for a box booted
#: with an old time); each is written with "now"
_SEEN: tuple[tuple[str, str], ...] = (
    ("messages", "stored_at"),
    ("deliveries", "updated_at"),
    ("attempts", "at"),
    ("replies", "created_at"),
)


class TimeShift(Concern):
    def rebase(self, jump: float, *, since: float, now: float, caps: dict[str, float]) -> None:
        """Move the times written at or after ``since`` by ``jump``; clamp due times.

        ``caps``: the longest delay of each queue, ``outbox``/``replies`` (backoff cap) and
        ``outbox_lease``/``replies_lease`` (``outbox``: the upstream queue, the ``deliveries``
        table).
        """
        with self.transaction() as c:
            for table, column in TIME_COLUMNS:
                c.execute(
                    f"UPDATE {table} SET {column} = {column} + ? WHERE {column} >= ?",
                    (jump, since),
                )
            for table, cap in (("deliveries", "outbox"), ("replies", "replies")):
                c.execute(
                    f"UPDATE {table} SET next_attempt_at = MIN(next_attempt_at, ?)"
                    " WHERE state IN ('queued','retry','ambiguous')",
                    (now + caps.get(cap, 0.0),),
                )
                c.execute(
                    f"UPDATE {table} SET lease_until = MIN(lease_until, ?)"
                    " WHERE state = 'sending' AND lease_until IS NOT NULL",
                    (now + caps.get(f"{cap}_lease", 0.0),),
                )

    def newest(self) -> float | None:
        """The newest "now" the store has recorded (None for an empty store)."""
        newest: float | None = None
        for table, column in _SEEN:
            row = self.conn.execute(f"SELECT MAX({column}) FROM {table}").fetchone()
            if row[0] is not None and (newest is None or float(row[0]) > newest):
                newest = float(row[0])
        return newest

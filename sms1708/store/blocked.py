"""Blocked numbers: numbers an operator has told the gateway never to send an SMS to.

A blocked number's own SMS are still received, stored and forwarded (a citizen's report is
never refused); only what the gateway would send to it is held back, recorded as
``suppressed`` with the reason ``blocked number``. Numbers are compared the way
:func:`~sms1708.core.replies.same_number` does: ``+62812..``, ``62812..`` and ``0812..`` are
one number.
"""

from __future__ import annotations

from dataclasses import dataclass

from sms1708.core.replies import national_digits
from sms1708.store.base import Concern


@dataclass(frozen=True)
class BlockedNumber:
    number: str  # as the operator wrote it when blocking
    blocked_at: float
    by: str
    reason: str


def _key(number: str) -> str:
    key = national_digits(number)
    if not key:
        raise ValueError(f"{number!r} is not a phone number (no digits)")
    return key


class Blocked(Concern):
    # ---------------------------------------------------------------- blocked numbers

    def block(self, number: str, *, by: str, reason: str = "", now: float) -> None:
        """Block ``number`` (idempotent: blocking it again keeps the first entry)."""
        key = _key(number)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO blocked_numbers (national, number, blocked_at, blocked_by, reason)"
                " VALUES (?,?,?,?,?) ON CONFLICT(national) DO NOTHING",
                (key, number.strip(), now, by, reason),
            )

    def unblock(self, number: str, *, by: str, now: float) -> bool:
        """Unblock ``number``. False when it was not blocked (a text without digits never
        is)."""
        key = national_digits(number)
        if not key:
            return False
        with self.transaction() as c:
            cur = c.execute("DELETE FROM blocked_numbers WHERE national = ?", (key,))
            return cur.rowcount > 0

    def is_blocked(self, number: str) -> bool:
        key = national_digits(number)
        if not key:
            return False
        sql = "SELECT 1 FROM blocked_numbers WHERE national = ?"
        return self.conn.execute(sql, (key,)).fetchone() is not None

    def numbers(self) -> list[BlockedNumber]:
        """Every blocked number, oldest block first."""
        return [
            BlockedNumber(str(r[0]), float(r[1]), str(r[2]), str(r[3]))
            for r in self.conn.execute(
                "SELECT number, blocked_at, blocked_by, reason FROM blocked_numbers"
                " ORDER BY blocked_at, national"
            )
        ]

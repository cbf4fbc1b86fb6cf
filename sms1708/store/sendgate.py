"""The one place an SMS the gateway sends is queued (promise P11).

:func:`queue_gated` gathers what :func:`sms1708.core.gate.decide` needs from the database,
asks it, and records the answer in the caller's transaction: a ``queued`` reply, or a
``suppressed`` one with the reason it was refused. Receipts (intake), tracking ids and status
changes (the upstream side) and an operator's ``send`` all come through here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from sms1708 import sitetime
from sms1708.core import gate
from sms1708.core.replies import Guard, national_digits
from sms1708.core.states import ReplyState
from sms1708.store.transitions import new_reply


@dataclass(frozen=True)
class Queued:
    reply_id: int
    refused: str | None  # why it was not queued (it is kept as `suppressed`)
    overridden: str | None = None  # an operator's --force passed this guard


def day_start(now: float) -> float:
    """The site's midnight before ``now`` (``[site] timezone``, not the box's zone): where the
    daily budget starts counting."""
    return sitetime.day_start(now)


def spellings(number: str) -> list[str]:
    """The ways one number may be written in the reply queue (+62.., 62.., 0.., bare)."""
    n = national_digits(number)
    if not n:
        return [number]
    return sorted({number, f"+62{n}", f"62{n}", f"0{n}", n})


def history(c: sqlite3.Connection, out: gate.Outgoing, guard: Guard, *, now: float) -> gate.History:
    """What the gate needs to know about recent traffic, from the database."""
    hour_ago = now - gate.HOUR
    names = spellings(out.recipient)
    marks = ",".join("?" for _ in names)
    to_number = [
        float(r[0])
        for r in c.execute(
            f"SELECT created_at FROM replies WHERE recipient IN ({marks}) AND created_at >= ?"
            " AND state != 'suppressed' ORDER BY created_at DESC LIMIT ?",
            [*names, hour_ago, max(guard.per_sender_per_hour, 1)],
        )
    ]
    start = day_start(now)
    by_modem = [
        float(r[0])
        for r in c.execute(
            "SELECT created_at FROM replies INDEXED BY replies_budget"
            " WHERE modem = ? AND created_at >= ? AND state != 'suppressed' LIMIT ?",
            (out.modem, start, max(guard.daily_budget, 1)),
        )
    ]
    from_number: list[tuple[float, str]] = []
    if out.answers_text is not None:
        from_number = [
            (float(r[0]), str(r[1]))
            for r in c.execute(
                "SELECT stored_at, raw_text FROM messages WHERE sender = ? AND stored_at >= ?"
                " AND id IS NOT ? ORDER BY id DESC LIMIT 20",
                (out.recipient, hour_ago, out.message_id),
            )
        ]
    key = national_digits(out.recipient) or "-"
    blocked = (
        c.execute("SELECT 1 FROM blocked_numbers WHERE national = ?", (key,)).fetchone() is not None
    )
    receipt_refused: str | None = None
    if out.purpose in gate.FOLLOW_UPS:
        row = c.execute(
            "SELECT state, reason FROM replies WHERE message_id IS ? AND purpose = 'receipt'"
            " ORDER BY id LIMIT 1",
            (out.message_id,),
        ).fetchone()
        if row is None:
            receipt_refused = "no receipt"
        elif row[0] == ReplyState.SUPPRESSED.value:
            receipt_refused = str(row[1] or "suppressed")
    return gate.History(to_number, by_modem, start, from_number, blocked, receipt_refused)


def queue_gated(
    c: sqlite3.Connection,
    out: gate.Outgoing,
    guard: Guard,
    *,
    now: float,
    force: bool = False,
    by: str = "",
    due: float | None = None,
) -> Queued:
    """Decide and record one outgoing SMS inside the caller's transaction. ``force`` and
    ``by``: an operator's explicit override, recorded in the reply's ``reason``. ``due``:
    when it may go out (default ``now``; a receipt waiting for its tracking id is later)."""
    verdict = gate.decide(out, guard, history(c, out, guard, now=now), now=now, force=force)
    state = ReplyState.QUEUED if verdict.allowed else ReplyState.SUPPRESSED
    reason = verdict.refused
    if verdict.overridden:
        reason = f"operator override by {by or 'operator'}: {verdict.overridden}"
    reply_id = new_reply(c, out, state, reason=reason, now=now, due=now if due is None else due)
    return Queued(reply_id, verdict.refused, verdict.overridden)

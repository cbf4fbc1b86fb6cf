"""SMS status reports (the SMSC saying whether a reply reached the citizen's phone): stored,
and matched to the reply they are about."""

from __future__ import annotations

import sqlite3

from sms1708.core import keys
from sms1708.core.pdu import StatusReport
from sms1708.core.replies import same_number


def record_status_report(
    c: sqlite3.Connection, modem: str, pdu: str, rep: StatusReport, now: float
) -> tuple[str, bool]:
    """Store a status report and mark the reply it belongs to (same modem, TP-MR, number).
    Returns the part's key and whether it is new (not a re-read)."""
    pkey = keys.part_key(pdu)
    reply_id: int | None = None
    for row in c.execute(
        "SELECT id, recipient FROM replies WHERE modem = ? AND mr = ? AND state = 'sent' "
        "ORDER BY id DESC LIMIT 20",
        (modem, rep.reference),
    ):
        if same_number(row["recipient"], rep.recipient):
            reply_id = int(row["id"])
            break
    cur = c.execute(
        "INSERT INTO reports (part_key, modem, pdu, stored_at, reference, recipient, status,"
        " delivered, discharge, reply_id) VALUES (?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(part_key) DO NOTHING",
        (
            pkey,
            modem,
            pdu,
            now,
            rep.reference,
            rep.recipient,
            rep.status,
            int(rep.delivered),
            rep.discharge.isoformat(),
            reply_id,
        ),
    )
    new = cur.rowcount > 0
    final = rep.delivered or rep.status >= 0x40  # 0x20..0x3F: the SMSC is still trying
    if new and reply_id is not None and final:
        c.execute(
            "UPDATE replies SET delivery = ?, delivery_at = ? WHERE id = ?",
            ("delivered" if rep.delivered else "failed", now, reply_id),
        )
    return pkey, new

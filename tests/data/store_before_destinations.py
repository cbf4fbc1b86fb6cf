"""Wrote tests/data/store-before-destinations.db with the release before several destinations
(schema up to m012; run with that release on PYTHONPATH): complaints in every queue state."""

import sqlite3
import sys
from datetime import datetime, timedelta, timezone

from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.states import State
from sms1708.store.store import Attempt, IncomingPart, Store

out = sys.argv[1]
WIB = timezone(timedelta(hours=7))
T0 = 1_764_547_200.0
s = Store.open(out)
mids = []
texts = [
    "LAPOR jalan rusak di desa tanjung",
    "INFO anggaran dana desa 2026",
    "LAPOR#kesehatan#Lawang Kidul#puskesmas tutup",
    "ASPIRASI taman kota",
    "LAPOR sampah menumpuk di pasar",
    "LAPOR lampu jalan mati",
    "STATUS 1",
    "BANTUAN",
]
for i, t in enumerate(texts):
    [pdu] = encode_deliver(f"+62812345670{i:02d}", t, datetime(2026, 11, 30, 9, i, tzinfo=WIB))
    [r] = s.intake.ingest(
        "modem0",
        [IncomingPart("SM", i + 1, pdu, decode_deliver(pdu))],
        now=T0 + i,
        rules=IntakeRules(),
    )
    mids += r.message_ids
fwd = [m for m in mids if s.queries.message(m)["state"] != "local"]
now = T0 + 100
items = s.outbox.claim(now=now, lease=60, limit=100)
assert len(items) == 6, items
plan = [
    (Decision(State.DELIVERED, None, ""), "delivered", 201, "", "TRK-1"),
    (Decision(State.RETRY, now + 30, "HTTP 503"), "retryable", 503, "HTTP 503", None),
    (Decision(State.DEAD, None, "HTTP 422: rejected"), "rejected", 422, "HTTP 422: rejected", None),
    (Decision(State.AMBIGUOUS, now, "no answer"), "ambiguous", None, "no answer", None),
]
for it, (d, outcome, status, detail, trk) in zip(items, plan, strict=False):
    s.outbox.record(
        [
            Attempt(
                it.message_id,
                d,
                outcome=outcome,
                ended_at=now,
                http_status=status,
                detail=detail,
                tracking_id=trk,
            )
        ]
    )
# the fifth stays 'sending' (a lease a dead process left behind), the rest 'queued'
s.outbox.release([it.message_id for it in items[5:]], now=now)
s.close()
c = sqlite3.connect(out)
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.execute("PRAGMA journal_mode=DELETE")
c.execute("VACUUM")
print(c.execute("SELECT message_id, state, attempts FROM outbox").fetchall())
c.close()

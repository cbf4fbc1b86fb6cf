"""Follow-ups end to end: emulated modem on a pty -> `sms1708 run` -> SQLite -> the upstream
stand-in on 127.0.0.1. A report in two SMS reaches the upstream as a report and an update
that names it, never the update first; the citizen gets a receipt for each."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from gsmmodem.pdu import decodeSmsPdu

from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from .conftest import wait_until

CITIZEN = "+6281234567890"
NEIGHBOUR = "+6285711112222"


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in conn.execute(sql)]
    except sqlite3.OperationalError:
        return []  # the daemon has not created its tables yet
    finally:
        conn.close()


def test_a_followup_sms_reaches_the_upstream_as_an_update_after_its_report(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    db = tmp_path / "sms1708.db"
    upstream.mode = "fail"  # the office link is down: the report waits for a retry
    cfg = make_config(modem, upstream, upstream={"breaker_threshold": 1000})
    d = daemon(cfg)
    assert d.wait_event("modem_ready"), d.events()

    modem.receive_sms(CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja, mohon diperbaiki")
    assert wait_until(lambda: len(upstream.requests) >= 1, 30), d.events()
    report_key = upstream.requests[0].key
    modem.receive_sms(CITIZEN, "lubangnya besar dekat SD 5, sudah 3 bulan")
    # someone else naming that report: no wrong door, a report of its own
    modem.receive_sms(NEIGHBOUR, "#1 lampu jalan mati di desa Karang Raja")
    assert wait_until(lambda: len(rows(db, "SELECT id FROM messages")) == 3, 30), d.events()
    assert rows(db, "SELECT id, update_of FROM messages ORDER BY id") == [
        (1, None),
        (2, 1),
        (3, None),
    ]

    # while the report keeps failing, it is retried; its update is never sent ahead of it
    seen = len(upstream.requests)
    assert wait_until(
        lambda: sum(r.key == report_key for r in upstream.requests[seen:]) >= 2, 30
    ), d.events()
    assert all(r.body.get("update_of") is None for r in upstream.requests)

    upstream.mode = "up"
    assert wait_until(lambda: len(upstream.delivered()) == 3, 30), d.events()
    got = upstream.requests
    first_update = next(i for i, r in enumerate(got) if r.body.get("update_of"))
    report_ok = max(i for i, r in enumerate(got) if r.key == report_key)
    assert report_ok < first_update  # the report was delivered before its update was sent
    update = got[first_update]
    assert update.body["update_of"] == report_key == got[report_ok].body["id"]
    assert update.key == update.body["id"] != report_key
    assert update.body["text"] == "lubangnya besar dekat SD 5, sudah 3 bulan"
    assert update.body["sender"] == CITIZEN
    assert update.body["location_code"] == "16.03.02.2001"  # the report's place
    neighbour = next(r for r in got if r.body["sender"] == NEIGHBOUR)
    assert neighbour.body["update_of"] is None
    assert neighbour.body["text"] == "#1 lampu jalan mati di desa Karang Raja"

    # the citizen: a receipt for the report, a short one for the addition, the tracking id once
    def texts(number: str) -> list[str]:
        out = []
        for s in modem.sent:
            sms = decodeSmsPdu(s.pdu_hex)
            if sms["number"] == number:
                out.append(sms["text"])
        return out

    # the report's tracking id reaches the citizen once: in the receipt (one SMS per complaint)
    # or, when it came after the receipt was sent, in an SMS of its own
    def tracked(ts: list[str]) -> int:
        return sum("Tracking" in t and "laporan 1" in t.replace(":", "").casefold() for t in ts)

    update_receipt = "Tambahan untuk laporan 1 diterima. Terima kasih."
    assert wait_until(
        lambda: update_receipt in texts(CITIZEN) and tracked(texts(CITIZEN)) >= 1, 30
    ), texts(CITIZEN)
    assert sum("No. laporan: 1" in t for t in texts(CITIZEN)) == 1
    assert tracked(texts(CITIZEN)) == 1
    assert wait_until(
        lambda: rows(db, "SELECT state FROM outbox ORDER BY message_id") == [("delivered",)] * 3,
        30,
    )
    # the update's own tracking id is not texted (nor queued and refused): the report's is
    assert rows(db, "SELECT purpose FROM replies WHERE message_id = 2") == [("update_receipt",)]
    assert d.terminate() == 0

"""The whole pipeline through the real parts: emulated modem on a pty -> `sms1708 run` in a
subprocess -> SQLite file -> a real HTTP server on 127.0.0.1, and the reply back to the modem."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
from datetime import datetime
from pathlib import Path

from gsmmodem.pdu import decodeSmsPdu

from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from .conftest import wait_until

CITIZEN = "+6281234567890"
TOKEN = "test-token-1708"
SECRET = "signing-secret-1708"


def committed(db: Path, pdu: str) -> bool:
    """Is this PDU in the store, as another process sees it right now (committed data only)?"""
    if not db.exists():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM parts WHERE pdu = ?", (pdu,)).fetchone()[0] > 0
    finally:
        conn.close()


def test_sms_travels_from_modem_through_sqlite_to_upstream_and_back(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    db = tmp_path / "sms1708.db"
    deletions: list[tuple[str, int, bool]] = []
    modem.before_delete = lambda mem, idx, pdu: deletions.append((mem, idx, committed(db, pdu)))
    cfg = make_config(modem, upstream)
    d = daemon(cfg, env={"SMS1708_UPSTREAM_TOKEN": TOKEN, "SMS1708_SIGNING_SECRET": SECRET})
    assert d.wait_event("modem_ready"), d.events()

    modem.receive_sms(CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja, mohon diperbaiki")

    assert upstream.wait_for(1, timeout=30), d.events()
    req = next(iter(upstream.delivered().values()))
    body = req.body
    # the wire format of the design notes
    assert req.key == body["id"] and re.fullmatch(r"[0-9a-f-]{36}", body["id"])
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["kind"] == "pengaduan"
    assert body["text"] == "jalan rusak di desa Tanjung Raja, mohon diperbaiki"
    assert body["sender"] == CITIZEN
    assert body["anonymous"] is False and body["confidential"] is False
    assert body["category"] == "infrastruktur"
    assert body["location"] == "Desa Tanjung Raja, Kec. Muara Enim"
    assert body["location_code"] == "16.03.02.2001"  # Kemendagri kode wilayah
    assert datetime.fromisoformat(body["received_at"]).utcoffset() is not None
    # the signature covers timestamp and body
    sig = dict(p.split("=", 1) for p in req.headers["X-Sms1708-Signature"].split(","))
    raw = json.dumps(body, ensure_ascii=False).encode()
    want = hmac.new(SECRET.encode(), f"{sig['t']}.".encode() + raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sig["v1"], want)

    # the SMS left the SIM, and only after its commit
    assert wait_until(lambda: not modem.stored(), 30)
    assert deletions and all(ok for _m, _i, ok in deletions), deletions

    # the citizen got one GSM-7 receipt with the local reference and the upstream's tracking
    # id (the upstream answered within replies.receipt_wait_seconds: one SMS, not two)
    assert wait_until(lambda: len(modem.sent) == 1, 30)
    [receipt] = (decodeSmsPdu(s.pdu_hex) for s in modem.sent)
    assert receipt["type"] == "SMS-SUBMIT"
    assert receipt["number"] == CITIZEN
    assert "No. laporan: 1" in receipt["text"] and len(receipt["text"]) <= 160
    assert "1916449" in receipt["text"]

    # the database agrees: delivered, tracking id stored (the forwarder commits the outcome
    # right after the upstream answered, so give it a moment)
    def outbox() -> tuple[str, str | None]:
        conn = sqlite3.connect(db)
        try:
            row = conn.execute(
                "SELECT o.state, m.tracking_id FROM outbox o JOIN messages m ON m.id = o.message_id"
            ).fetchone()
            return (row[0], row[1])
        finally:
            conn.close()

    assert wait_until(lambda: outbox()[0] == "delivered", 30), outbox()
    assert outbox() == ("delivered", "1916449")

    assert d.terminate() == 0
    log = d.log_path.read_text(encoding="utf-8")
    assert CITIZEN not in log and CITIZEN[1:] not in log, "a phone number reached the log"
    assert TOKEN not in log and SECRET not in log
    assert any(e.get("event") == "daemon_stopped" for e in d.events())


def test_sms_waiting_on_the_sim_at_start_is_read_and_multipart_and_emoji_survive(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon
) -> None:
    long_text = (
        "Lapor pak, puskesmas di kecamatan Gelumbang sering tutup jam 11 siang padahal jadwal "
        "sampai jam 2. Warga yg datang dari desa jauh harus pulang tanpa diperiksa. Obat utk "
        "anak juga sering kosong. Mohon ditindaklanjuti."
    )
    emoji_text = "Lampu jalan mati sdh seminggu 😡🙏"
    # arrived while the daemon was not running: stored silently, in both memories
    modem.receive_sms("+6285312340002", long_text, notify=False, memory="SM", ref_bits=16)
    modem.receive_sms("+6282176540004", emoji_text, notify=False, memory="ME")
    assert len(modem.stored()) == 3

    d = daemon(make_config(modem, upstream))
    assert upstream.wait_for(2, timeout=30), d.events()
    texts = sorted(r.body["text"] for r in upstream.delivered().values())
    assert texts == sorted([long_text.removeprefix("Lapor "), emoji_text])
    # one receipt each, carrying the tracking id (the upstream answered within the wait)
    assert wait_until(lambda: not modem.stored() and len(modem.sent) == 2, 30)
    assert d.terminate() == 0


def test_damaged_database_is_refused_and_left_untouched(make_config, daemon, tmp_path) -> None:
    db = tmp_path / "sms1708.db"
    db.write_bytes(b"this is not a database, it was damaged by a power cut" * 100)
    before = db.read_bytes()
    d = daemon(make_config())
    assert d.proc is not None
    assert d.proc.wait(30) == 3
    out = d.log_path.read_text()
    assert "damaged" in out and str(db) in out
    assert db.read_bytes() == before

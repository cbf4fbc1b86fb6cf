"""Hostile and unusual input through the real serial path: random and mutated PDUs, random
bytes on the line, data SMS, 255-part floods, status reports for our replies."""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sms1708.core.intake import IntakeRules
from sms1708.core.keys import part_key
from sms1708.core.pdu import encode_deliver
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.modem.receiver import decode_incoming, drain_memory
from sms1708.store.store import Store
from sms1708.upstream.standin import StandIn

from .conftest import wait_until

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 23, 9, 30, tzinfo=WIB)


def drain(session: ATSession, store: Store, memory: str = "ME", rules: IntakeRules | None = None):
    return drain_memory(
        session,
        store,
        modem="modem0",
        memory=memory,
        rules=rules or IntakeRules(),
        now=time.time,
        list_timeout=120,
        command_timeout=10,
    )


@pytest.fixture
def big_modem(tmp_path: Path):
    m = EmulatedModem(tmp_path / "big", me_capacity=1200, sm_capacity=50)
    m.start()
    yield m
    m.stop()


@pytest.fixture
def session(big_modem: EmulatedModem):
    s = ATSession(big_modem.port)
    s.open()
    s.command("ATE0")
    yield s
    s.close()


def mutate(rng: random.Random, pdu: str) -> str:
    raw = bytearray.fromhex(pdu)
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(["flip", "cut", "extend", "byte"])
        if op == "flip" and raw:
            i = rng.randrange(len(raw))
            raw[i] ^= 1 << rng.randrange(8)
        elif op == "cut" and len(raw) > 12:
            raw = raw[: rng.randint(10, len(raw) - 1)]
        elif op == "extend":
            raw += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif raw:
            raw[rng.randrange(len(raw))] = rng.randrange(256)
    raw[0] = min(raw[0], 8)  # keep an SMSC length the emulator can step over
    if len(raw) <= raw[0] + 1:
        raw += b"\x04"
    return raw.hex().upper()


def test_a_thousand_random_and_mutated_pdus_never_crash_and_nothing_unstored_is_deleted(
    big_modem: EmulatedModem, session: ATSession, tmp_path: Path
) -> None:
    rng = random.Random(1708)
    good = [
        encode_deliver(f"+62812{rng.randrange(10**7):07d}", f"LAPOR nomor {i} 😡", T0)[0]
        for i in range(50)
    ]
    pdus = [mutate(rng, rng.choice(good)) for _ in range(800)]
    for _ in range(200):  # plain random bytes behind an SMSC length octet
        smsc = rng.randint(0, 8)
        raw = bytes([smsc]) + bytes(rng.randrange(256) for _ in range(smsc + rng.randint(2, 150)))
        pdus.append(raw.hex().upper())
    db = tmp_path / "sms1708.db"
    store = Store.open(db)
    unstored_deletes: list[int] = []

    def check(_m: str, idx: int, pdu: str) -> None:
        # committed = the same SMS identity is in the store (the TPDU for a decodable SMS, so
        # a copy whose SMSC prefix differs is the same SMS; the raw bytes otherwise)
        part = decode_incoming("ME", idx, pdu)
        key = part_key(part.deliver.tpdu_hex if part.deliver else pdu)
        conn = sqlite3.connect(db)
        n = conn.execute("SELECT COUNT(*) FROM parts WHERE part_key = ?", (key,)).fetchone()[0]
        n += conn.execute("SELECT COUNT(*) FROM reports WHERE pdu = ?", (pdu,)).fetchone()[0]
        conn.close()
        if n == 0:
            unstored_deletes.append(idx)

    big_modem.before_delete = check
    stored = [big_modem.deliver(p, memory="ME", notify=False) for p in pdus]
    assert all(i is not None for i in stored)
    total_committed = 0
    for _ in range(3):  # a few polls, with noise on the line between them
        big_modem.write_raw(bytes(rng.randrange(256) for _ in range(200)) + b"\r\n")
        r = drain(session, store)
        total_committed += r.committed
        if not big_modem.stored():
            break
    assert not unstored_deletes
    assert big_modem.stored() == {}
    counts = store.queries.counts()
    assert counts["parts"].get("quarantined", 0) > 100  # most mutations are undecodable
    assert total_committed >= len(pdus)
    assert session.alive
    store.close()


def test_random_bytes_on_the_line_between_commands_leave_the_session_usable(
    big_modem: EmulatedModem, session: ATSession
) -> None:
    rng = random.Random(7)
    for _ in range(50):
        big_modem.write_raw(bytes(rng.randrange(256) for _ in range(rng.randint(1, 100))))
        assert session.command("AT+CSQ", timeout=5)[-1].startswith("+CSQ:")


def test_an_8bit_data_sms_is_kept_raw_and_not_answered(
    big_modem: EmulatedModem, session: ATSession, tmp_path: Path
) -> None:
    [p] = encode_deliver("+6281234567890", "\x00\x01binary\xff", T0, encoding="8bit")
    big_modem.deliver(p, memory="ME", notify=False)
    store = Store.open(tmp_path / "sms1708.db")
    r = drain(session, store)
    assert (r.committed, r.messages, r.deleted) == (1, 0, 1)
    assert store.queries.counts()["parts"] == {"data": 1}
    assert store.queries.counts()["messages"]["total"] == 0
    store.close()


def test_a_255_part_flood_is_stored_and_bounded(
    big_modem: EmulatedModem, session: ATSession, tmp_path: Path
) -> None:
    text = "".join(f"bagian {i:03d} " + "x" * 141 for i in range(255))  # 255 x 153 chars
    parts = encode_deliver("+6281234567890", text, T0, concat_ref=0xBEEF, ref_bits=16)
    assert len(parts) == 255
    rng = random.Random(3)
    rng.shuffle(parts)
    for p in parts:
        big_modem.deliver(p, memory="ME", notify=False)
    store = Store.open(tmp_path / "sms1708.db")
    r = drain(session, store, rules=IntakeRules(max_text_chars=40 * 153))
    assert (r.new, r.messages, r.deleted) == (255, 1, 255)
    [m] = store.queries.list_messages()
    assert len(m["text"]) < 40 * 153 + 50 and "(cut at 6120 characters)" in m["text"]
    assert store.queries.counts()["parts"] == {"used": 255}  # every part kept raw
    store.close()


def status_report_pdu(mr: int, recipient: str, status: int = 0) -> str:
    """An SMS-STATUS-REPORT built by hand (3GPP TS 23.040 9.2.2.3), SMSC prefix "00"."""
    digits = recipient.lstrip("+")
    padded = digits + ("F" if len(digits) % 2 else "")
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    ts = "62113290035022"  # 2026-11-23 09:30:05 +07:00, semi-octets swapped
    return f"0006{mr:02X}{len(digits):02X}91{swapped}{ts}{ts}{status:02X}"


def test_a_status_report_is_matched_to_the_reply_it_reports_on(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    citizen = "+6281234567890"
    d = daemon(make_config(modem, upstream))
    assert d.wait_event("modem_ready")
    modem.receive_sms(citizen, "LAPOR jembatan putus")
    assert wait_until(lambda: len(modem.sent) >= 1, 30)
    sent = modem.sent[0]  # the receipt (a tracking-id SMS may follow)
    assert int(sent.pdu_hex[2:4], 16) & 0x20, "the reply asks for a status report (TP-SRR)"
    modem.status_report(status_report_pdu(sent.mr, citizen))

    def delivery() -> str | None:
        conn = sqlite3.connect(tmp_path / "sms1708.db")
        try:
            row = conn.execute("SELECT delivery FROM replies WHERE purpose = 'receipt'").fetchone()
            return None if row is None else row[0]
        finally:
            conn.close()

    assert wait_until(lambda: delivery() == "delivered", 30), d.events()
    assert wait_until(lambda: not modem.stored("SR"), 30)
    assert d.terminate() == 0

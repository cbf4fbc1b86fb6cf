"""Receiving through the real serial path: list, commit, then delete (P1, P2, P3, P8)."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import encode_deliver
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.modem.receiver import Listed, decode_listed, drain_memory, parse_cmgl
from sms1708.store.store import Store

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 23, 9, 30, 0, tzinfo=WIB)


def pdu(sender: str, text: str, minute: int = 0) -> str:
    [p] = encode_deliver(sender, text, T0 + timedelta(minutes=minute))
    return p


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "sms1708.db")
    yield s
    s.close()


@pytest.fixture
def session(modem: EmulatedModem):
    s = ATSession(modem.port)
    s.open()
    s.command("ATE0")
    s.command("AT+CMGF=0")
    yield s
    s.close()


def drain(session: ATSession, store: Store, memory: str = "SM"):
    return drain_memory(
        session,
        store,
        modem="modem0",
        memory=memory,
        rules=IntakeRules(),
        now=time.time,
        list_timeout=30,
        command_timeout=10,
    )


def test_parse_cmgl_pairs_headers_with_pdus_and_never_guesses() -> None:
    lines = [
        "+CMGL: 1,0,,24",
        "0791AABBCC",
        "+CMGL: 2,1,,30",  # PDU line missing
        "+CMGL: 3,0,,12",
        "NOT HEX AT ALL",
        "+CMGL: 4,0,,12",
        "ABC",  # odd length: not a PDU
    ]
    assert parse_cmgl(lines) == [
        Listed(1, "0791AABBCC"),
        Listed(2, None),
        Listed(3, None),
        Listed(4, None),
    ]
    assert parse_cmgl([]) == []
    assert parse_cmgl(["garbage", "+CMGL: x"]) == []


def test_delete_comes_only_after_the_commit(
    modem: EmulatedModem, session: ATSession, store: Store, tmp_path: Path
) -> None:
    seen: list[tuple[int, bool]] = []

    def check(_mem: str, idx: int, listed_pdu: str) -> None:
        other = sqlite3.connect(tmp_path / "sms1708.db")  # another connection: committed only
        n = other.execute("SELECT COUNT(*) FROM parts WHERE pdu = ?", (listed_pdu,)).fetchone()
        other.close()
        seen.append((idx, n[0] == 1))

    modem.before_delete = check
    for i in range(3):
        modem.deliver(pdu("+6281234567890", f"LAPOR nomor {i}", i), notify=False)
    r = drain(session, store)
    assert (r.committed, r.new, r.deleted, r.messages) == (3, 3, 3, 3)
    assert seen == [(1, True), (2, True), (3, True)]
    assert modem.stored() == {}


def test_a_failed_commit_deletes_nothing_and_the_next_poll_recovers(
    modem: EmulatedModem, session: ATSession, store: Store, tmp_path: Path
) -> None:
    for i in range(2):
        modem.deliver(pdu("+6281234567890", f"LAPOR {i}", i), notify=False)
    blocker = sqlite3.connect(tmp_path / "sms1708.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
    store.conn.execute("PRAGMA busy_timeout = 50")
    r = drain(session, store)
    assert r.store_failed and r.deleted == 0
    assert len(modem.stored()) == 2  # still on the SIM
    blocker.execute("ROLLBACK")
    blocker.close()
    r = drain(session, store)
    assert (r.new, r.deleted, r.messages) == (2, 2, 2)
    assert modem.stored() == {}


def test_a_reread_after_a_crash_is_not_a_second_complaint(
    modem: EmulatedModem, session: ATSession, store: Store
) -> None:
    p = pdu("+6281234567890", "LAPOR lampu jalan mati")
    modem.deliver(p, notify=False)
    # the crash: committed, but the process died before AT+CMGD
    store.intake.ingest(
        "modem0", [decode_listed("SM", Listed(1, p))], now=time.time(), rules=IntakeRules()
    )
    r = drain(session, store)
    assert (r.committed, r.new, r.duplicates, r.deleted, r.messages) == (1, 0, 1, 1, 0)
    counts = store.queries.counts()
    assert counts["messages"]["total"] == 1
    assert sum(counts["replies"].values()) == 1
    assert modem.stored() == {}


def test_undecodable_pdu_is_quarantined_and_the_right_slots_are_deleted(
    modem: EmulatedModem, session: ATSession, store: Store
) -> None:
    good1 = pdu("+6281234567890", "LAPOR satu", 1)
    bad = good1[:30] + "FF" * 3  # truncated user data: undecodable
    good2 = pdu("+6285312340002", "LAPOR dua", 2)
    deleted: dict[int, str] = {}
    modem.before_delete = lambda _m, idx, listed: deleted.__setitem__(idx, listed)
    for p in (good1, bad, good2):
        modem.deliver(p, notify=False)
    r = drain(session, store)
    assert (r.committed, r.quarantined, r.messages, r.deleted) == (3, 1, 2, 3)
    # each index was deleted holding exactly what was stored from it: no wrong-index delete
    assert deleted == {1: good1, 2: bad.upper(), 3: good2}
    q = store.queries.quarantined()
    assert len(q) == 1 and q[0]["pdu"].upper() == bad.upper() and q[0]["error"]
    texts = sorted(m["text"] for m in store.queries.list_messages())
    assert texts == ["dua", "satu"]


def test_both_memories_and_multipart_in_any_order(
    modem: EmulatedModem, session: ATSession, store: Store
) -> None:
    text = "Jembatan gantung di desa Lubuk Empelas putus sejak banjir bulan lalu. " * 4
    parts = encode_deliver("+6281377770003", text, T0, concat_ref=0x1234, ref_bits=16)
    assert len(parts) == 2
    modem.deliver(parts[1], memory="ME", notify=False)
    modem.deliver(parts[0], memory="SM", notify=False)
    r1 = drain(session, store, "SM")
    assert (r1.new, r1.messages) == (1, 0)  # first part stored, waiting for the other
    r2 = drain(session, store, "ME")
    assert (r2.new, r2.messages) == (1, 1)
    [m] = store.queries.list_messages()
    assert m["text"] == text.strip()
    assert modem.stored() == {}


def test_a_full_disk_means_backpressure_not_loss(
    modem: EmulatedModem, session: ATSession, store: Store
) -> None:
    """SQLITE_FULL (here: the database may not grow past its current pages, the same error a
    full disk gives): nothing is deleted from the SIM; when space returns, everything drains."""
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    long = "LAPOR " + "jalan berlubang dan tergenang air setiap hujan turun. " * 2
    for i in range(20):
        modem.deliver(pdu(f"+62812345678{i:02d}", long[:150], i), notify=False)
    r = drain(session, store)
    # what a batch committed before the disk filled is deleted; nothing else is
    assert r.store_failed and r.deleted == r.committed < 20
    assert len(modem.stored()) == 20 - r.committed
    first = r.new
    store.conn.execute("PRAGMA max_page_count = 1073741823")  # space is back
    r = drain(session, store)
    assert (first + r.new, r.deleted) == (20, 20 - first)
    assert len(store.queries.list_messages()) == 20
    assert modem.stored() == {}

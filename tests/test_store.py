"""The Store on a real SQLite file: opening, intake (P1, P3, P7, P8, P11), the upstream queue
(P4, P5), all driven with explicit ``now=`` values."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision, Outcome, RetryPolicy, decide
from sms1708.core.states import State
from sms1708.errors import PduDecodeError, StoreDamagedError, StoreError
from sms1708.store import schema
from sms1708.store.schema import migrations
from sms1708.store.store import Attempt, IncomingPart, IngestResult, Store

MODEM = "modem0"
CITIZEN = "+6281234567890"
NEIGHBOUR = "+6285711112222"
WIB = timezone(timedelta(hours=7))
SCTS = datetime(2024, 5, 1, 10, 0, 0, tzinfo=WIB)
T0 = 1_714_532_400.0
RULES = IntakeRules()
SHIPPED = sorted(n for n in vars(schema) if re.fullmatch(r"m[0-9]{3}_\w+", n))
LONG = (
    "LAPOR jalan di desa Tanjung Raja rusak parah sejak musim hujan, banyak lubang besar, "
    "sudah tiga motor jatuh minggu ini, mohon segera diperbaiki oleh dinas PU sebelum ada "
    "korban jiwa. Lokasi dekat masjid, sebelah sekolah dasar negeri 2, arah ke pasar lama, "
    "terima kasih atas perhatiannya bapak ibu petugas. Kami warga RT 03 RW 05 sudah melapor ke "
    "kepala desa tetapi belum ada tindakan sampai sekarang"
)


# ---------------------------------------------------------------- helpers


def pdus(sender: str, text: str, *, scts: datetime = SCTS, ref: int | None = None) -> list[str]:
    return encode_deliver(sender, text, scts, concat_ref=ref, ref_bits=8)


def part(pdu: str, index: int = 1, memory: str = "SM") -> IncomingPart:
    return IncomingPart(memory, index, pdu, decode_deliver(pdu))


def ingest(store: Store, *parts: IncomingPart, now: float = T0) -> list[IngestResult]:
    return store.intake.ingest(MODEM, list(parts), now=now, rules=RULES)


def sms(store: Store, sender: str, text: str, *, now: float = T0, scts: datetime = SCTS) -> int:
    """One single-part SMS through the real intake path; returns its message id."""
    [pdu] = pdus(sender, text, scts=scts)
    [res] = ingest(store, part(pdu), now=now)
    assert res.new and len(res.message_ids) == 1
    return res.message_ids[0]


def count(store: Store, table: str, where: str = "1", *args: Any) -> int:
    return int(
        store.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0]
    )


def outbox(store: Store, mid: int) -> dict[str, Any]:
    row = store.conn.execute("SELECT * FROM outbox WHERE message_id = ?", (mid,)).fetchone()
    assert row is not None, f"no outbox row for message {mid}"
    return dict(row)


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t: [tuple(r) for r in store.conn.execute(f"SELECT * FROM {t} ORDER BY 1")]
        for t in ("parts", "messages", "outbox", "attempts", "replies")
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "sms1708.db")
    yield s
    s.close()


# ---------------------------------------------------------------- opening


def test_open_creates_a_private_file_in_wal_with_synchronous_full(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sms1708.db"
    s = Store.open(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert s.journal_mode().lower() == "wal"
        assert s.synchronous() == 2  # FULL
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        sms(s, CITIZEN, "LAPOR lampu jalan mati")
        # the WAL and shared-memory files hold the same personal data: same mode
        for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra
    finally:
        s.close()
    # WAL is a property of the file: another connection reads it back
    other = sqlite3.connect(path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    finally:
        other.close()


def test_migrations_are_applied_once_and_reopening_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "sms1708.db"
    s = Store.open(path)
    mid = sms(s, CITIZEN, "LAPOR sampah menumpuk")
    s.close()
    for _ in range(2):
        s = Store.open(path)
        names = [
            r[0]
            for r in s.conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                (migrations.name,),
            )
        ]
        assert names == SHIPPED  # one row per migration, in order, none twice
        assert migrations.pending(s.db) == []
        assert s.queries.message(mid) is not None
        s.close()


def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "sms1708.db"
    content = b"these are not the bytes of an SQLite database\n" * 200
    path.write_bytes(content)
    with pytest.raises(StoreDamagedError):
        Store.open(path)
    assert path.read_bytes() == content


def test_a_damaged_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sms1708.db"
    s = Store.open(path)
    sms(s, CITIZEN, "LAPOR jembatan putus")
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = bytes((i * 37 + 11) % 256 for i in range(3996))  # page 1: the schema
    path.write_bytes(bytes(data))
    with pytest.raises(StoreDamagedError):
        Store.open(path)
    assert path.read_bytes() == bytes(data)


def test_another_applications_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "inventory.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO items (name) VALUES ('printer')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreDamagedError, match="not an sms1708 database"):
        Store.open(path)
    assert path.read_bytes() == before


def test_create_false_on_a_missing_path_is_a_store_error_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(StoreError):
        Store.open(path, create=False)
    assert not path.exists()


# ---------------------------------------------------------------- intake


def test_the_same_pdu_ingested_twice_makes_one_complaint(tmp_path: Path) -> None:
    path = tmp_path / "sms1708.db"
    [pdu] = pdus(CITIZEN, "LAPOR air PDAM tidak mengalir tiga hari")
    s = Store.open(path)
    [first] = ingest(s, part(pdu, index=4))
    s.close()
    # crash between COMMIT and AT+CMGD: the modem lists the same PDU again after the restart
    s = Store.open(path)
    [again] = ingest(s, part(pdu, index=4), now=T0 + 60)
    assert first.new and len(first.message_ids) == 1
    assert not again.new and again.message_ids == () and again.part_key == first.part_key
    assert count(s, "parts") == 1
    assert count(s, "messages") == 1
    assert count(s, "outbox") == 1
    assert count(s, "replies") == 1
    s.close()


def test_an_undecodable_part_is_quarantined_raw_and_does_not_block_the_batch(
    store: Store,
) -> None:
    bad = "07912618010000F0040C9126181" + "ZZ"  # truncated and not even hex
    with pytest.raises(PduDecodeError) as err:
        decode_deliver(bad)
    [good] = pdus(CITIZEN, "LAPOR lampu jalan mati")
    res = ingest(
        store,
        IncomingPart("SM", 1, bad, None, f"undecodable PDU: {err.value}"),
        part(good, index=2),
    )
    assert [r.quarantined for r in res] == [True, False]
    assert res[0].new and res[0].message_ids == ()
    assert len(res[1].message_ids) == 1
    [q] = store.queries.quarantined()
    assert q["pdu"] == bad and q["sim_index"] == 1 and "undecodable" in q["error"]
    assert count(store, "messages") == 1
    assert count(store, "parts", "status = 'quarantined' AND message_id IS NULL") == 1
    # read again (still on the SIM after a crash): recognised, not stored twice
    [again] = ingest(store, IncomingPart("SM", 1, bad, None, "undecodable PDU"))
    assert not again.new and count(store, "parts", "status = 'quarantined'") == 1


def test_a_multipart_message_out_of_order_completes_only_with_its_last_part(
    store: Store,
) -> None:
    p1, p2, p3 = pdus(CITIZEN, LONG, ref=42)
    [r3] = ingest(store, part(p3, index=3))
    assert r3.message_ids == () and count(store, "messages") == 0
    [r1] = ingest(store, part(p1, index=1), now=T0 + 5)
    assert r1.message_ids == () and count(store, "messages") == 0
    assert count(store, "parts", "status = 'pending'") == 2
    [r2] = ingest(store, part(p2, index=2), now=T0 + 9)
    assert len(r2.message_ids) == 1
    m = store.queries.message(r2.message_ids[0])
    assert m is not None
    assert m["raw_text"] == LONG
    assert m["kind"] == "pengaduan" and m["text"] == LONG.removeprefix("LAPOR ")
    assert m["part_count"] == 3 and m["partial"] == 0
    assert m["received_at"] == SCTS.isoformat()
    assert [p["concat_seq"] for p in m["parts"]] == [1, 2, 3]
    assert all(p["status"] == "used" for p in m["parts"])
    assert count(store, "messages") == 1 and count(store, "outbox") == 1


def test_duplicate_parts_do_not_break_a_multipart_message(store: Store) -> None:
    p1, p2, p3 = pdus(CITIZEN, LONG, ref=43)
    # the network delivers part 2 a second time with another SMSC timestamp: other bytes
    p2_again = pdus(CITIZEN, LONG, ref=43, scts=SCTS + timedelta(seconds=20))[1]
    assert p2_again != p2
    ingest(store, part(p1, 1))
    [dup] = ingest(store, part(p1, 5))  # the same PDU listed again
    assert not dup.new
    ingest(store, part(p2, 2), part(p2_again, 6))
    assert count(store, "messages") == 0
    [r3] = ingest(store, part(p3, 3))
    assert len(r3.message_ids) == 1
    m = store.queries.message(r3.message_ids[0])
    assert m is not None and m["raw_text"] == LONG and m["partial"] == 0
    assert count(store, "messages") == 1 and count(store, "outbox") == 1
    # every stored part (the re-sent one too) belongs to the message; none left pending
    assert count(store, "parts") == 4
    assert count(store, "parts", "status = 'used' AND message_id = ?", m["id"]) == 4
    # a late copy of a part of the finished message makes nothing new
    [late] = ingest(store, part(p3, 7), now=T0 + 30)
    assert not late.new and count(store, "messages") == 1


def test_a_reused_concat_reference_starts_a_new_message(store: Store) -> None:
    # an 8-bit reference wraps after 256 messages: the same phone reuses it for a later SMS
    later_text = LONG.replace("Tanjung Raja", "Sungai Lilin").replace("PU", "PUPR")
    first = pdus(CITIZEN, LONG, ref=45)
    later = pdus(CITIZEN, later_text, ref=45, scts=SCTS + timedelta(days=3))
    assert len(first) == len(later) == 3
    [a] = ingest(store, *(part(p, i) for i, p in enumerate(first, 1)))[-1:]
    [b] = ingest(store, *(part(p, i) for i, p in enumerate(later, 1)), now=T0 + 3 * 86400)[-1:]
    assert len(a.message_ids) == len(b.message_ids) == 1
    assert a.message_ids != b.message_ids
    ma, mb = store.queries.message(a.message_ids[0]), store.queries.message(b.message_ids[0])
    assert ma is not None and mb is not None
    assert (ma["raw_text"], mb["raw_text"]) == (LONG, later_text)
    assert ma["key"] != mb["key"]
    assert count(store, "outbox") == 2


def test_release_partials_flags_a_message_with_a_missing_part(store: Store) -> None:
    p1, _p2, p3 = pdus(CITIZEN, LONG, ref=44)
    ingest(store, part(p1, 1), now=T0)
    ingest(store, part(p3, 3), now=T0 + 10)
    assert store.intake.release_partials(now=T0 + 3599, timeout=3600, rules=RULES) == []
    assert count(store, "messages") == 0
    [mid] = store.intake.release_partials(now=T0 + 3600, timeout=3600, rules=RULES)
    m = store.queries.message(mid)
    assert m is not None
    assert m["partial"] == 1 and m["part_count"] == 3
    assert "[...]" in m["raw_text"]
    head, tail = m["raw_text"].split("[...]")
    assert LONG.startswith(head.strip()) and LONG.endswith(tail.strip())
    assert [(p["concat_seq"], p["status"]) for p in m["parts"]] == [(1, "used"), (3, "used")]
    assert outbox(store, mid)["state"] == "queued"  # forwarded like any complaint
    assert store.intake.release_partials(now=T0 + 9999, timeout=3600, rules=RULES) == []
    assert count(store, "messages") == 1


def test_a_status_query_answers_only_the_sender_of_the_report(store: Store) -> None:
    mid = sms(store, CITIZEN, "LAPOR pohon tumbang menutup jalan")
    own = sms(store, "081234567890", f"CEK {mid}", scts=SCTS + timedelta(minutes=1))
    other = sms(store, NEIGHBOUR, f"CEK {mid}", scts=SCTS + timedelta(minutes=2))
    for q in (own, other):
        m = store.queries.message(q)
        assert m is not None and m["kind"] == "status" and m["reference"] == str(mid)
        assert m["forwarded"] == 0 and m["state"] is None  # answered locally, no outbox row
    [own_reply] = store.queries.message(own)["replies"]  # type: ignore[index]
    [other_reply] = store.queries.message(other)["replies"]  # type: ignore[index]
    assert own_reply["purpose"] == "status" and own_reply["state"] == "queued"
    assert str(mid) in own_reply["text"] and "menunggu" in own_reply["text"]
    assert "tidak ditemukan" not in own_reply["text"]
    assert "tidak ditemukan" in other_reply["text"]
    assert "menunggu" not in other_reply["text"]


def test_an_alphanumeric_sender_is_recorded_but_neither_answered_nor_forwarded(
    store: Store,
) -> None:
    mid = sms(store, "TELKOMSEL", "LAPOR Paket internet murah, hanya hari ini")
    m = store.queries.message(mid)
    assert m is not None and m["sender_type"] == "alphanumeric" and m["forwarded"] == 0
    assert count(store, "outbox") == 0
    [reply] = m["replies"]
    assert reply["state"] == "suppressed" and reply["reason"] == "alphanumeric sender"
    assert store.replies.claim(MODEM, now=T0 + 1, lease=60, limit=10) == []


def test_a_row_the_database_refuses_quarantines_that_sms_only(tmp_path: Path) -> None:
    """P8 generalised: a statement failing for one SMS (here a trigger refusing one text)
    keeps that SMS raw in quarantine, without its text in the error; the batch goes on."""
    path = tmp_path / "sms1708.db"
    s = Store.open(path)
    saboteur = sqlite3.connect(path)
    saboteur.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.raw_text LIKE '%LONGSOR%' "
        "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
    )
    saboteur.commit()
    saboteur.close()
    [a] = pdus(CITIZEN, "LAPOR saluran air tersumbat")
    [b] = pdus(NEIGHBOUR, "LAPOR LONGSOR di jalan desa")
    batch = [
        IncomingPart("SM", 1, "00ZZ", None, "undecodable PDU"),
        part(a, 2),
        part(b, 3),
    ]
    res = ingest(s, *batch)
    assert [(r.new, r.quarantined) for r in res] == [(True, True), (True, False), (True, True)]
    assert res[2].error is not None and "IntegrityError" in res[2].error
    assert "LONGSOR" not in res[2].error
    assert count(s, "parts") == 3 and count(s, "messages") == 1 and count(s, "outbox") == 1
    row = s.conn.execute("SELECT pdu, status FROM parts WHERE sim_index = 3").fetchone()
    assert tuple(row) == (b, "quarantined")
    assert [r.new for r in ingest(s, *batch)] == [False, False, False]  # a re-read: known
    s.close()


def test_a_store_failure_rolls_back_the_whole_batch(tmp_path: Path) -> None:
    """A failure of the database itself (here: locked by another writer) fails the batch: the
    receiver then deletes nothing and the SIM keeps every SMS for the next poll."""
    path = tmp_path / "sms1708.db"
    s = Store.open(path)
    s.conn.execute("PRAGMA busy_timeout = 0")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    [a] = pdus(CITIZEN, "LAPOR saluran air tersumbat")
    with pytest.raises(StoreError):
        ingest(s, part(a, 2))
    blocker.execute("ROLLBACK")
    blocker.close()
    assert snapshot(s) == {t: [] for t in ("parts", "messages", "outbox", "attempts", "replies")}
    assert [r.new for r in ingest(s, part(a, 2))] == [True]
    s.close()


# ---------------------------------------------------------------- the upstream queue


def test_claimed_items_are_leased_until_the_lease_runs_out(store: Store) -> None:
    mids = [sms(store, CITIZEN, f"LAPOR keluhan nomor {i}", now=T0 + i) for i in range(3)]
    assert store.outbox.claim(now=T0 - 1, lease=60, limit=10) == []  # not due yet
    first = store.outbox.claim(now=T0 + 5, lease=60, limit=2)
    assert [i.message_id for i in first] == mids[:2]
    assert all(i.state == "sending" for i in first)
    [third] = store.outbox.claim(now=T0 + 5, lease=60, limit=10)
    assert third.message_id == mids[2]
    assert store.outbox.claim(now=T0 + 64.9, lease=60, limit=10) == []
    again = store.outbox.claim(now=T0 + 65, lease=60, limit=10)
    assert [(i.message_id, i.key) for i in again] == [
        (i.message_id, i.key) for i in [*first, third]
    ]
    keys = {i.key for i in again}
    assert len(keys) == 3
    assert keys == {store.queries.message(m)["key"] for m in mids}  # type: ignore[index]
    assert all(i.record["id"] == i.message_id for i in again)


def test_record_attempt_moves_the_state_and_logs_every_attempt(store: Store) -> None:
    mid = sms(store, CITIZEN, "LAPOR jalan berlubang")
    store.outbox.claim(now=T0, lease=60, limit=10)
    store.outbox.record(
        [
            Attempt(
                mid,
                Decision(State.RETRY, T0 + 100, "HTTP 503: busy"),
                outcome="retryable",
                ended_at=T0 + 1,
                http_status=503,
                detail="HTTP 503: busy",
            )
        ]
    )
    o = outbox(store, mid)
    assert (o["state"], o["attempts"], o["next_attempt_at"]) == ("retry", 1, T0 + 100)
    assert o["lease_until"] is None and o["last_error"] == "HTTP 503: busy"
    assert store.outbox.claim(now=T0 + 99, lease=60, limit=10) == []
    [item] = store.outbox.claim(now=T0 + 100, lease=60, limit=10)
    assert item.attempts == 1
    store.outbox.record(
        [
            Attempt(
                mid,
                Decision(State.AMBIGUOUS, T0 + 200, "timed out"),
                outcome="ambiguous",
                ended_at=T0 + 101,
                detail="timed out",
            )
        ]
    )
    o = outbox(store, mid)
    assert (o["state"], o["attempts"], o["ambiguous_count"]) == ("ambiguous", 2, 1)
    store.outbox.claim(now=T0 + 200, lease=60, limit=10)
    store.outbox.record(
        [
            Attempt(
                mid,
                Decision(State.DELIVERED, None, "delivered"),
                outcome="delivered",
                ended_at=T0 + 201,
                http_status=201,
                tracking_id="LPR-0042",
            )
        ]
    )
    m = store.queries.message(mid)
    assert m is not None
    assert (m["state"], m["attempts"], m["delivered_at"]) == ("delivered", 3, T0 + 201)
    assert m["last_error"] is None and m["tracking_id"] == "LPR-0042"
    assert m["ambiguous_count"] == 1
    assert [(a["outcome"], a["http_status"]) for a in m["attempts_log"]] == [
        ("retryable", 503),
        ("ambiguous", None),
        ("delivered", 201),
    ]
    assert store.outbox.claim(now=T0 + 10_000, lease=60, limit=10) == []


def test_replay_dry_run_changes_nothing_and_replay_requeues_dead_items(store: Store) -> None:
    dead, retry, done = (sms(store, CITIZEN, f"LAPOR masalah {i}", now=T0 + i) for i in range(3))
    store.outbox.claim(now=T0 + 5, lease=60, limit=10)
    store.outbox.record(
        [
            Attempt(
                dead,
                Decision(State.DEAD, None, "rejected: HTTP 422"),
                outcome="rejected",
                ended_at=T0 + 6,
            )
        ]
    )
    store.outbox.record(
        [
            Attempt(
                retry,
                Decision(State.RETRY, T0 + 500, "unreachable"),
                outcome="unreachable",
                ended_at=T0 + 6,
            )
        ]
    )
    store.outbox.record(
        [
            Attempt(
                done,
                Decision(State.DELIVERED, None, "delivered"),
                outcome="delivered",
                ended_at=T0 + 6,
            )
        ]
    )
    before = snapshot(store)
    assert store.outbox.replay(state="dead", now=T0 + 50) == [dead]  # dry run is the default
    assert store.outbox.replay(now=T0 + 50, dry_run=True) == [dead, retry]  # never a delivered one
    assert store.outbox.replay(state="delivered", now=T0 + 50, dry_run=True) == []
    assert snapshot(store) == before
    assert store.outbox.replay(state="dead", now=T0 + 50, dry_run=False) == [dead]
    o = outbox(store, dead)
    assert (o["state"], o["next_attempt_at"], o["queued_at"]) == ("queued", T0 + 50, T0 + 50)
    assert o["attempts"] == 1  # its history stays
    assert outbox(store, retry)["state"] == "retry" and outbox(store, done)["state"] == "delivered"
    [item] = store.outbox.claim(now=T0 + 50, lease=60, limit=10)
    assert item.message_id == dead


def test_release_claims_gives_items_back_due_at_once(store: Store) -> None:
    fresh, tried = (sms(store, CITIZEN, f"LAPOR hal {i}", now=T0 + i) for i in range(2))
    store.outbox.claim(now=T0 + 1, lease=60, limit=10)
    store.outbox.record(
        [
            Attempt(
                tried,
                Decision(State.RETRY, T0 + 2, "unreachable"),
                outcome="unreachable",
                ended_at=T0 + 1,
            )
        ]
    )
    store.outbox.claim(now=T0 + 2, lease=60, limit=10)
    assert {outbox(store, m)["state"] for m in (fresh, tried)} == {"sending"}
    store.outbox.release([fresh, tried], now=T0 + 3)
    assert outbox(store, fresh)["state"] == "queued"  # never attempted
    assert outbox(store, tried)["state"] == "retry"  # attempted before
    for m in (fresh, tried):
        assert outbox(store, m)["lease_until"] is None
    items = store.outbox.claim(now=T0 + 3, lease=60, limit=10)
    assert sorted(i.message_id for i in items) == [fresh, tried]
    # an item that is not being sent is left alone
    store.outbox.record(
        [
            Attempt(
                fresh,
                Decision(State.DELIVERED, None, "delivered"),
                outcome="delivered",
                ended_at=T0 + 4,
            )
        ]
    )
    store.outbox.release([fresh], now=T0 + 5)
    assert outbox(store, fresh)["state"] == "delivered"


def test_next_outbox_due(store: Store) -> None:
    assert store.outbox.next_due() is None
    mid = sms(store, CITIZEN, "LAPOR drainase mampet", now=T0)
    assert store.outbox.next_due() == T0
    store.outbox.claim(now=T0, lease=60, limit=10)
    assert store.outbox.next_due() == T0 + 60  # the lease end
    store.outbox.record(
        [Attempt(mid, Decision(State.RETRY, T0 + 300, "x"), outcome="unreachable", ended_at=T0 + 1)]
    )
    assert store.outbox.next_due() == T0 + 300
    store.outbox.claim(now=T0 + 300, lease=60, limit=10)
    store.outbox.record(
        [
            Attempt(
                mid, Decision(State.DEAD, None, "rejected"), outcome="rejected", ended_at=T0 + 301
            )
        ]
    )
    assert store.outbox.next_due() is None  # dead waits for an operator, not for a timer


# ---------------------------------------------------------------- property: the queue never loses


VALID_STATES = {"queued", "sending", "retry", "ambiguous", "dead", "delivered"}
N_ITEMS = 4

op = st.one_of(
    st.tuples(
        st.just("advance"),
        st.one_of(st.sampled_from([1, 30, 45, 59, 60, 61]), st.integers(0, 150)),
    ),
    st.tuples(st.just("claim"), st.integers(min_value=1, max_value=N_ITEMS)),
    st.tuples(
        st.just("attempt"),
        st.integers(min_value=0, max_value=N_ITEMS - 1),
        st.sampled_from(list(Outcome)),
        st.floats(min_value=0, max_value=0.999),
    ),
    st.tuples(st.just("release"), st.integers(min_value=0, max_value=N_ITEMS - 1)),
    st.tuples(st.just("replay"), st.sampled_from([None, "dead", "ambiguous", "retry"])),
)


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=st.lists(op, max_size=30))
def test_random_claims_and_outcomes_keep_every_row_valid(ops: list[tuple[Any, ...]]) -> None:
    policy = RetryPolicy(base=10, cap=120, max_age=1500)
    lease = 60.0
    with tempfile.TemporaryDirectory() as d:
        s = Store.open(os.path.join(d, "p.db"))
        try:
            mids = [sms(s, CITIZEN, f"LAPOR urusan {i}", now=T0) for i in range(N_ITEMS)]
            keys = {m: s.queries.message(m)["key"] for m in mids}  # type: ignore[index]
            now = T0
            held: dict[int, float] = {}  # message id -> lease end, as the model sees it
            logged = dict.fromkeys(mids, 0)
            for o in ops:
                if o[0] == "advance":
                    now += o[1]
                elif o[0] == "claim":
                    due = {
                        int(r["message_id"])
                        for r in s.conn.execute(
                            "SELECT message_id FROM outbox WHERE state IN "
                            "('queued','retry','ambiguous') AND next_attempt_at <= ?",
                            (now,),
                        )
                    } | {m for m, until in held.items() if until <= now}
                    items = s.outbox.claim(now=now, lease=lease, limit=o[1])
                    got = {it.message_id for it in items}
                    assert len(got) == len(items) == min(o[1], len(due))
                    assert got <= due  # nothing still leased, nothing not yet due
                    for it in items:
                        assert it.key == keys[it.message_id]
                        held[it.message_id] = now + lease
                elif o[0] == "attempt" and mids[o[1]] in held:
                    mid = mids[o[1]]
                    row = outbox(s, mid)
                    dec = decide(
                        o[2],
                        attempts=row["attempts"] + 1,
                        first_queued_at=row["queued_at"],
                        now=now,
                        rand=o[3],
                        policy=policy,
                    )
                    s.outbox.record([Attempt(mid, dec, outcome=o[2].value, ended_at=now)])
                    logged[mid] += 1
                    del held[mid]
                elif o[0] == "release":
                    before = outbox(s, mids[o[1]])
                    s.outbox.release([mids[o[1]]], now=now)
                    if held.pop(mids[o[1]], None) is None:
                        assert outbox(s, mids[o[1]]) == before  # only a claim is given back
                elif o[0] == "replay":
                    s.outbox.replay(state=o[1], now=now, dry_run=False)
                rows = {r["message_id"]: dict(r) for r in s.conn.execute("SELECT * FROM outbox")}
                assert sorted(rows) == sorted(mids)  # never a row lost (or added)
                for mid, r in rows.items():
                    assert r["state"] in VALID_STATES
                    assert (r["state"] == "sending") == (r["lease_until"] is not None)
                    assert (r["state"] == "sending") == (mid in held)
                    assert (r["state"] == "delivered") == (r["delivered_at"] is not None)
                    assert (
                        r["attempts"] == logged[mid] == count(s, "attempts", "message_id = ?", mid)
                    )
                    assert r["next_attempt_at"] is not None
            assert count(s, "messages") == N_ITEMS
        finally:
            s.close()


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "sms1708.db"
    Store.open(path).close()
    path.chmod(0o644)
    Store.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_two_long_sms_reusing_one_reference_are_not_spliced(tmp_path: Path) -> None:
    """A phone that reuses its concat reference: message A's last part is late, message B
    (same sender, same reference, same part count) comes whole in between."""
    from sms1708.core.pdu import encode_deliver as enc

    s = Store.open(tmp_path / "mp.db")
    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=WIB)
    a = "A" * 150 + " jembatan putus di dusun tiga sejak banjir kemarin sore"
    b = "B" * 150 + " lampu jalan mati di depan sekolah dasar negeri dua belas"
    a1, a2 = enc(CITIZEN, a, t0, concat_ref=7)
    b1, b2 = enc(CITIZEN, b, t0 + timedelta(hours=1), concat_ref=7)
    rules = IntakeRules()
    for i, p in enumerate((a1, b1, b2, a2)):
        s.intake.ingest(
            "modem0", [IncomingPart("SM", i + 1, p, decode_deliver(p))], now=1e9 + i, rules=rules
        )
    texts = sorted(m["text"] for m in s.queries.list_messages())
    s.close()
    assert texts == sorted([a, b])

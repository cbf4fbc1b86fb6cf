"""Decoding always produces storable text, and one bad SMS never stops the batch (P8, P13).

Through the real serial path: the emulated modem on a pty, an AT session, a real SQLite file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sms1708.core import intake
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import encode_deliver
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.modem.receiver import DrainResult, drain_memory
from sms1708.store.store import Store

from .faults import DeleteWatch, query
from .hostile import T0, split_pair_cut, ucs2_cut

EMOJI_LONG = (
    "Jalan depan SD Negeri 3 berlubang besar sudah sebulan, tolong 😡🙏 segera diperbaiki "
    "sebelum musim hujan, motor sering jatuh"
)


@pytest.fixture
def session(modem: EmulatedModem) -> Iterator[ATSession]:
    s = ATSession(modem.port)
    s.open()
    s.command("ATE0")
    s.command("AT+CMGF=0")
    yield s
    s.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sms1708.db"


def drain(session: ATSession, store: Store, memory: str = "SM") -> DrainResult:
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


def test_a_long_ucs2_sms_with_an_emoji_split_across_parts_is_stored_whole(
    modem: EmulatedModem, session: ATSession, db: Path
) -> None:
    """Today's failure: storing half an emoji raised UnicodeEncodeError, the whole poll rolled
    back and nothing was ever stored or deleted."""
    cut = split_pair_cut(EMOJI_LONG)
    pdus = ucs2_cut("+6281234500001", EMOJI_LONG, [cut], ref=77)
    for p in pdus:
        modem.deliver(p, memory="SM", notify=False)
    watch = DeleteWatch(modem, db)
    store = Store.open(db)
    try:
        r = drain(session, store)
    finally:
        store.close()
    assert (r.committed, r.deleted, r.messages, r.quarantined) == (len(pdus), len(pdus), 1, 0)
    assert modem.stored() == {} and watch.uncommitted == []
    [msg] = query(db, "SELECT raw_text FROM messages")
    assert msg["raw_text"] == EMOJI_LONG
    parts = query(db, "SELECT pdu, text FROM parts ORDER BY concat_seq")
    assert [p["pdu"] for p in parts] == pdus  # the raw PDUs, untouched
    assert len(parts) == 2  # the emoji straddles them: each part's own text has U+FFFD
    assert parts[0]["text"].endswith("\ufffd") and parts[1]["text"].startswith("\ufffd")


def test_a_lone_half_emoji_in_a_single_sms_becomes_a_replacement_character(
    modem: EmulatedModem, session: ATSession, db: Path
) -> None:
    data = "LAPOR lampu mati ".encode("utf-16-be") + b"\xd8\x3d"
    from .hostile import deliver_ud

    pdu = deliver_ud("+6281234500002", data)
    modem.deliver(pdu, memory="SM", notify=False)
    store = Store.open(db)
    try:
        r = drain(session, store)
    finally:
        store.close()
    assert (r.committed, r.deleted, r.messages) == (1, 1, 1)
    [msg] = query(db, "SELECT raw_text FROM messages")
    assert msg["raw_text"] == "LAPOR lampu mati \ufffd"
    assert query(db, "SELECT pdu FROM parts")[0]["pdu"] == pdu


def test_any_exception_while_taking_in_one_sms_quarantines_it_and_the_batch_goes_on(
    modem: EmulatedModem,
    session: ATSession,
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in the grammar (any exception, quoting the text) for one SMS: that SMS is kept raw
    in quarantine with an error that does not quote it; the others are stored; all deleted."""
    secret = "RAHASIA kepala desa minta uang 5 juta"
    real_plan = intake.plan

    def plan(mid, msg, rules, lookup, recent):  # type: ignore[no-untyped-def]
        if msg.text == secret:
            raise ValueError(f"cannot parse {msg.text!r}")
        return real_plan(mid, msg, rules, lookup, recent)

    monkeypatch.setattr(intake, "plan", plan)
    texts = ["LAPOR jalan rusak", secret, "LAPOR air mati"]
    pdus = [encode_deliver(f"+62812345000{i}", t, T0)[0] for i, t in enumerate(texts)]
    for p in pdus:
        modem.deliver(p, memory="SM", notify=False)
    watch = DeleteWatch(modem, db)
    store = Store.open(db)
    try:
        r = drain(session, store)
    finally:
        store.close()
    assert (r.committed, r.deleted, r.messages, r.quarantined) == (3, 3, 2, 1)
    assert modem.stored() == {} and watch.uncommitted == []
    assert sorted(m["raw_text"] for m in query(db, "SELECT raw_text FROM messages")) == sorted(
        [texts[0], texts[2]]
    )
    [q] = query(db, "SELECT pdu, error, text FROM parts WHERE status = 'quarantined'")
    assert q["pdu"] == pdus[1] and q["text"] is None
    assert "ValueError" in q["error"] and "RAHASIA" not in q["error"]
    assert "uang" not in q["error"]

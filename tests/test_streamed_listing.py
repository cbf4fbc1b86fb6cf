"""A long ``AT+CMGL`` listing is worked on as it arrives (issue 12, part 1): entries are committed
in small batches while the rest of the listing is still on the line, the forwarder is woken at
the first commit, and a listing cut off in the middle keeps what it already committed. P1 is
checked at every ``AT+CMGD`` from another connection (the emulator's ``before_delete`` hook)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import encode_deliver
from sms1708.errors import ModemGone, ModemTimeout
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.modem.receiver import CmglReader, DrainResult, drain_memory, parse_cmgl
from sms1708.store.store import Store

from .conftest import wait_until
from .faults import DeleteWatch, query

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 23, 9, 30, 0, tzinfo=WIB)


def fill(modem: EmulatedModem, n: int) -> list[str]:
    pdus = []
    for i in range(n):
        [p] = encode_deliver(f"+6281234{i:06d}", f"LAPOR jalan rusak nomor {i}", T0)
        modem.deliver(p, memory="SM", notify=False)
        pdus.append(p)
    return pdus


def open_session(modem: EmulatedModem) -> ATSession:
    s = ATSession(modem.port, baudrate=modem.baudrate or 115200)
    s.open()
    s.command("ATE0")
    s.command("AT+CMGF=0")
    return s


def drain(session: ATSession, store: Store, **kw: object) -> DrainResult:
    return drain_memory(
        session,
        store,
        modem="modem0",
        memory="SM",
        rules=IntakeRules(),
        now=time.time,
        list_timeout=120,
        command_timeout=10,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def slow_modem(tmp_path: Path) -> Iterator[EmulatedModem]:
    """A SIM with room for 250 SMS behind a 38400 baud line (a 200-SMS listing takes seconds)."""
    m = EmulatedModem(tmp_path / "modem", sm_capacity=250, baudrate=38400)
    m.start()
    yield m
    m.stop()


LINES = st.lists(
    st.one_of(
        st.builds(
            lambda i, s, n: f"+CMGL: {i},{s},,{n}",
            st.integers(0, 300),
            st.integers(0, 3),
            st.integers(0, 200),
        ),
        st.sampled_from(["0791AB", "07", "XYZ", "", "OK", "+CMGL: garbage", "0A0B0C0D"]),
        st.text(max_size=12),
    ),
    max_size=30,
)


@given(LINES)
def test_the_streaming_reader_pairs_lines_exactly_as_the_whole_listing_parser(
    lines: list[str],
) -> None:
    reader = CmglReader()
    got = [item for line in lines for item in reader.feed(line)] + reader.end()
    assert got == parse_cmgl(lines)


def test_entries_are_committed_while_the_listing_is_still_on_the_line(
    slow_modem: EmulatedModem, tmp_path: Path
) -> None:
    """The first commit (and the forwarder's wake-up) comes before the modem has finished
    answering AT+CMGL; later entries follow in small batches, one transaction each."""
    db = tmp_path / "sms1708.db"
    fill(slow_modem, 120)
    watch = DeleteWatch(slow_modem, db)
    commits: list[tuple[int, bool]] = []  # (committed so far, listing already answered?)

    def on_commit(so_far: DrainResult) -> None:
        # answered: the listing's final OK is written (a command is recorded before its answer)
        asked = [seq for seq, _t, c in list(slow_modem.commands) if "CMGL" in c]
        answered = bool(asked) and any(
            seq > asked[0] and way == "tx" and text.strip() == "OK"
            for seq, _t, way, text in list(slow_modem.log)
        )
        commits.append((so_far.committed, answered))

    store, session = Store.open(db), open_session(slow_modem)
    try:
        r = drain(session, store, on_commit=on_commit)
    finally:
        session.close()
        store.close()
    assert (r.committed, r.new, r.messages, r.deleted) == (120, 120, 120, 120)
    assert commits and commits[0] == (1, False), commits[:3]  # the first SMS at once
    assert len(commits) > 2 and all(b - a <= 20 for (a, _), (b, _) in itertools.pairwise(commits))
    assert slow_modem.stored() == {}
    assert watch.checked == 120 and watch.uncommitted == []


def test_an_unplug_in_the_middle_of_a_200_sms_listing_keeps_what_was_committed(
    slow_modem: EmulatedModem, tmp_path: Path
) -> None:
    """USB gone while a 200-SMS listing streams in: the batches committed before stay
    committed (nothing deleted yet: deletes come after the listing); after the replug the
    next poll recognises them (duplicates, not new complaints) and deletes everything, each
    SMS only once it is committed."""
    db = tmp_path / "sms1708.db"
    fill(slow_modem, 200)
    watch = DeleteWatch(slow_modem, db)

    def stored_parts() -> int:
        rows = query(db, "SELECT COUNT(*) AS n FROM parts")
        return int(rows[0]["n"]) if rows else 0

    def pull_the_plug() -> None:
        if wait_until(lambda: stored_parts() >= 40, 60):
            slow_modem.unplug()

    plug = threading.Thread(target=pull_the_plug, daemon=True)
    store, session = Store.open(db), open_session(slow_modem)
    plug.start()
    try:
        with pytest.raises(ModemGone):
            drain(session, store)
    finally:
        session.close()
        plug.join(timeout=90)
    kept = stored_parts()
    assert 40 <= kept < 200  # cut off in the middle, and the progress before it is there
    assert watch.checked == 0  # nothing deleted: the listing never finished
    assert len(slow_modem.stored()) == 200

    slow_modem.replug()
    session = open_session(slow_modem)
    try:
        r = drain(session, store)
    finally:
        session.close()
        store.close()
    assert (r.duplicates, r.new, r.deleted) == (kept, 200 - kept, 200)
    assert len(query(db, "SELECT id FROM messages")) == 200
    assert slow_modem.stored() == {}
    assert watch.checked == 200 and watch.uncommitted == []


def test_a_modem_that_hangs_in_the_middle_of_a_listing_is_asked_again_within_a_commands_wait(
    slow_modem: EmulatedModem,
) -> None:
    """A modem that says nothing for a command's timeout in the middle of a listing has hung:
    the rest of the listing it still owes is waited for only as long as a command's answer, so
    the next command (the re-initialisation) comes in seconds, not after the listing's minute:
    recovery does not depend on whether the hang is met by a listing or by a command."""
    fill(slow_modem, 60)
    session = open_session(slow_modem)
    try:
        got: list[str] = []
        with pytest.raises(ModemTimeout, match="went silent"):
            for line in session.stream("AT+CMGL=4", timeout=60.0, silence=1.0):
                got.append(line)
                if len(got) == 1:
                    slow_modem.hang(True)  # the rest of the listing never comes
        assert 0 < len(got) < 120, len(got)  # it hung in the middle of the listing
        slow_modem.hang(False)
        started = time.monotonic()
        lines = session.command("AT", timeout=5)
        # a hang guard far below the listing's 60 s timeout (a command's wait is OWED_WAIT)
        assert time.monotonic() - started < 30
        assert lines == []  # the line the hang cut off is not taken for the next answer
    finally:
        session.close()

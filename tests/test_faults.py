"""Fault at the Nth call: one store write or one upstream request fails, for N = 1, 2, 3, ...
until the scenario completes without the fault firing; the promises are checked after each N.

Real parts in one process: the emulated modem on a pty, a ``ModemWorker`` and a ``Forwarder``
thread on a real SQLite file, the upstream stand-in on 127.0.0.1. The fault is injected only
at the store seam (``store_factory``: a Store whose ``transaction()`` fails on the Nth call,
counted across both threads) or at the HTTP transport seam (a transport wrapping
``httpx.HTTPTransport`` whose Nth request fails). The forwarder's pause after a store error
(``stop.wait(5)``) is capped by the stop event so that the loop stays short; no decision depends
on it. The modem worker's own 5 s pause is left as it is: it makes up most of the run time.

Promises checked after every N: nothing leaves the SIM before its commit (P1, watched at each
``AT+CMGD`` from another connection), every SMS ends up delivered upstream under one key per
complaint (P4/P6), no duplicate complaint or part (P3), multipart and emoji intact (P7), every
citizen answered, at most one duplicate reply for the one fault, the database intact.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import serial

from sms1708.config import Config, from_mapping
from sms1708.core.grammar import parse
from sms1708.daemon import Daemon
from sms1708.errors import StoreError, StoreFullError
from sms1708.modem.emulator import EmulatedModem
from sms1708.store.store import Store
from sms1708.upstream.standin import StandIn
from sms1708.upstream.webhook import WebhookClient

from .conftest import wait_until
from .faults import (
    DeleteWatch,
    FaultyTransport,
    NthCall,
    QuickEvent,
    all_delivered,
    faulty_opener,
    faulty_status_client,
    faulty_store,
    integrity,
    query,
    tally_replies,
)

OWN_NUMBER = "+6281299990000"
LONG = (
    "LAPOR jembatan gantung di dusun 4 desa Sungai Rambutan putus sejak banjir minggu lalu, "
    "anak sekolah harus menyeberang sungai dengan rakit. Sudah dua kali rakit terbalik dan warga "
    "minta perbaikan segera sebelum musim hujan."
)
EMOJI = (
    "Air PDAM mati 3 hari 😡🙏 warga RT 05 terpaksa beli air galon, mohon petugas segera "
    "memeriksa pipa di jalan Merdeka 🚰"
)
#: (sender, text, memory, 16-bit concat reference?): a GSM-7 2-part SMS in SM and a UCS-2
#: 2-part SMS with emoji and a 16-bit reference in ME; each complaint gets a receipt and a
#: tracking-number notification
SMS: tuple[tuple[str, str, str, bool], ...] = (
    ("+6285712340002", LONG, "SM", False),
    ("+6287812340003", EMOJI, "ME", True),
)
HANG_GUARD = 45.0


def make_cfg(root: Path, port: str, url: str, status_url: str = "") -> Config:
    return from_mapping(
        {
            "modem": {
                "port": port,
                "poll_interval": 0.5,
                "command_timeout": 2.0,
                "send_timeout": 1.0,  # a reply cut off by a fault is sent again after 3 s
                "reconnect_max_delay": 1.0,
            },
            "store": {"path": str(root / "sms1708.db")},
            "upstream": {
                "url": url,
                "timeout": 2.0,
                "connect_timeout": 1.0,
                "retry_base": 0.2,
                "retry_cap": 1.0,
                "lease_seconds": 2.0,
                "status_url": status_url,
                "status_interval": 0.3,
            },
            "replies": {"own_number": OWN_NUMBER, "retry_base": 0.2, "retry_cap": 1.0},
        }
    )


@dataclass
class Run:
    db: Path
    modem: EmulatedModem
    upstream: StandIn
    watch: DeleteWatch
    parts_sent: dict[str, int]  # text -> number of PDUs the network delivered


def run_scenario(
    root: Path,
    *,
    store_factory: Callable[[str], Store] = Store.open,
    transport: FaultyTransport | None = None,
    opener: Callable[..., Any] | None = None,
    client_factory: Callable[[Config], WebhookClient] | None = None,
    status: bool = False,
    counter: NthCall,
) -> tuple[Run, bool]:
    """The citizens' SMS waiting on the SIM, the daemon (in this process: its modem worker and
    forwarder threads, the status file, the watchdog of dead loops) started, run until
    everything is done. The daemon must never stop by itself. Returns the run and whether the
    fault fired before the scenario completed."""
    root.mkdir(parents=True)
    db = root / "sms1708.db"
    modem = EmulatedModem(root / "modem").start()
    upstream = StandIn().up()
    try:
        parts_sent = {}
        for sender, text, memory, ref16 in SMS:
            got = modem.receive_sms(
                sender, text, memory=memory, notify=False, ref_bits=16 if ref16 else 8
            )
            parts_sent[text] = len(got)
        watch = DeleteWatch(modem, db)
        cfg = make_cfg(root, modem.port, upstream.url, upstream.status_url if status else "")
        if client_factory is None and transport is not None:

            def client_factory(c: Config) -> WebhookClient:
                return WebhookClient(c.upstream, transport=transport)

        d = Daemon(
            cfg,
            stop=QuickEvent(),
            opener=opener or serial.Serial,
            store_factory=store_factory,
            client_factory=client_factory,
        )
        d.start()  # opens and checks the store as `sms1708 run` does, then the loops
        try:

            def done() -> bool:
                d.tick()
                assert d.revive() == [], "a loop died"
                # statuses first: a status change and the reply telling it are committed
                # together, so a status seen here has its reply in the next read
                asked = query(db, "SELECT upstream_status FROM messages")
                replies = query(db, "SELECT state FROM replies")
                return (
                    all_delivered(modem, db, set(upstream.tracking), len(SMS))
                    and len(replies) >= len(SMS)
                    and all(r["state"] == "sent" for r in replies)
                    and (not status or all(m["upstream_status"] for m in asked))
                )

            completed = wait_until(done, HANG_GUARD)
            fired = counter.fired
            assert d.dead_threads() == [], "the daemon lost a loop"
        finally:
            d.shutdown()
        assert d.dead_threads() == [w.name for w in d.workers] + ["forwarder"]
        run = Run(db, modem, upstream, watch, parts_sent)
        assert completed, diagnose(run, counter)
        return run, fired
    finally:
        # the server's shutdown waits for its poll interval: let it go in the background
        threading.Thread(target=upstream.stop, daemon=True).start()
        modem.stop()


def diagnose(run: Run, counter: NthCall) -> str:
    return (
        f"scenario did not complete (fault {counter.fired_at} at call {counter.fire_at}); "
        f"SIM={run.modem.stored()} held={run.modem.held_back} "
        f"outbox={query(run.db, 'SELECT * FROM outbox')} "
        f"replies={query(run.db, 'SELECT id, state, attempts, last_error FROM replies')} "
        f"upstream={list(run.upstream.tracking)}"
    )


def check_promises(run: Run, counter: NthCall) -> dict[str, Any]:
    """Assert the promises after one run; return the figures worth reporting."""
    where = f"fault at call {counter.fire_at} ({counter.fired_at or 'did not fire'})"
    db, modem, upstream = run.db, run.modem, run.upstream
    # P1/P2: every AT+CMGD came after the commit, and the SIM is empty
    assert run.watch.checked > 0, where
    assert run.watch.uncommitted == [], where
    assert modem.stored() == {} and modem.held_back == [], where
    # P3/P7: one message per SMS, one stored part per PDU, none left pending
    messages = query(db, "SELECT id, key, sender, raw_text, part_count, partial FROM messages")
    assert sorted(m["raw_text"] for m in messages) == sorted(t for _s, t, _m, _r in SMS), where
    for m in messages:
        parts = query(db, "SELECT status FROM parts WHERE message_id = ?", (m["id"],))
        assert len(parts) == m["part_count"] == run.parts_sent[m["raw_text"]], where
        assert {p["status"] for p in parts} == {"used"} and not m["partial"], where
    assert len(query(db, "SELECT id FROM parts")) == sum(run.parts_sent.values()), where
    # P4/P6: the upstream holds exactly one complaint per message, under the message's key,
    # and every request for a key carried that key in header and body, with the same body
    keys = {m["key"]: m for m in messages}
    assert set(upstream.tracking) == set(keys), where
    bodies: dict[str, list[dict[str, Any]]] = {}
    for r in upstream.requests:
        assert r.key in keys and r.body["id"] == r.key, where
        bodies.setdefault(r.key, []).append(r.body)
    for key, seen in bodies.items():
        assert all(b == seen[0] for b in seen), (where, key)
        assert seen[0]["text"] == parse(keys[key]["raw_text"]).text, where
        assert seen[0]["sender"] == keys[key]["sender"], where
    outbox = query(
        db,
        "SELECT o.state, o.attempts, m.tracking_id, m.key FROM outbox o"
        " JOIN messages m ON m.id = o.message_id",
    )
    for o in outbox:
        assert o["state"] == "delivered" and o["tracking_id"] == upstream.tracking[o["key"]], where
    # every citizen answered: each reply in the queue went out, nothing else did, one receipt
    # per complaint and no reply queued twice; the one fault may have cost one duplicate SMS
    # (sent, then the commit of "sent" failed: sent again after the lease)
    t = tally_replies(modem, db)
    assert t.phantoms == [] and t.unsent == [] and t.unfinished == [], (where, t)
    assert {r["state"] for r in t.rows} == {"sent"}, (where, t.rows)  # no guard applies here
    for m in messages:
        purposes = t.per_message.get(m["id"], Counter())
        assert purposes["receipt"] == 1 and max(purposes.values()) == 1, (where, purposes)
    assert t.duplicates <= (1 if counter.fired else 0), (where, t.sent)
    assert integrity(db) == "ok", where
    return {
        "requests": len(upstream.requests),
        "attempts": sorted(o["attempts"] for o in outbox),
        "duplicate_replies": t.duplicates,
    }


def loop_until_clean(
    tmp_path: Path,
    make: Callable[[int, NthCall], dict[str, Any]],
    *,
    step: int = 1,
    where: str | None = None,
) -> None:
    """N = 1, 1 + step, 1 + 2 * step ... until a run completes without the fault firing
    (``where``: count only the calls at that seam)."""
    report = []
    for n in itertools.count(1, step):
        assert n <= 400, "the fault kept firing: the scenario never completes without it"
        counter = NthCall(fire_at=n, where=where)
        kwargs = make(n, counter)
        started = time.monotonic()
        run, fired = run_scenario(tmp_path / f"n{n:03d}", counter=counter, **kwargs)
        figures = check_promises(run, counter)
        figures["seconds"] = round(time.monotonic() - started, 1)
        report.append((n, counter.fired_at, figures))
        if not fired:
            break
    assert len(report) > 1, "the fault never fired: the seam is not used"
    print()
    for n, at, figures in report:
        print(f"  N={n:3d} fault in {at or ['-']}: {figures}")


#: odd N: the disk fills up at COMMIT (the writes are rolled back); even N: BEGIN is refused
STORE_FAULTS: tuple[tuple[type[StoreError], str], ...] = (
    (StoreError, "begin"),
    (StoreFullError, "commit"),
)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_store_write_failing_at_the_nth_call_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    def make(n: int, counter: NthCall) -> dict[str, Any]:
        error, at = STORE_FAULTS[n % 2]
        return {"store_factory": faulty_store(counter, error, at=at)}

    loop_until_clean(tmp_path, make)


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("kind", ["connect", "no_answer"])
def test_an_upstream_request_failing_at_the_nth_call_is_delivered_once_per_key(
    tmp_path: Path, kind: str
) -> None:
    loop_until_clean(tmp_path, lambda _n, counter: {"transport": FaultyTransport(counter, kind)})


def test_the_fault_helper_fails_the_nth_transaction_only_and_rolls_it_back(
    tmp_path: Path,
) -> None:
    """The harness itself: the 2nd transaction fails at commit and is rolled back."""
    counter = NthCall(fire_at=2)
    store = faulty_store(counter, StoreFullError)(str(tmp_path / "x.db"))
    try:
        for i in range(3):
            try:
                store.replies.queue_reply(
                    modem="m", recipient="+6281234567890", text=f"t{i}", purpose="p", now=0.0
                )
            except StoreFullError:
                assert i == 1
        rows = store.conn.execute("SELECT text FROM replies ORDER BY id").fetchall()
        assert [r[0] for r in rows] == ["t0", "t2"]
        assert (counter.calls, counter.fired_at) == (3, ["queue_reply@commit"])
    finally:
        store.close()


# ------------------------------------------------------------------ any exception, every seam


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_any_exception_from_the_store_at_the_nth_call_never_stops_the_daemon(
    tmp_path: Path,
) -> None:
    """Not a StoreError: an exception the loops do not expect (a bug, a driver), at BEGIN or at
    COMMIT of every second transaction of the scenario."""

    def make(n: int, counter: NthCall) -> dict[str, Any]:
        at = ("begin", "commit")[(n // 2) % 2]
        return {"store_factory": faulty_store(counter, RuntimeError, at=at)}

    loop_until_clean(tmp_path, make, step=2)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_any_exception_from_the_serial_port_at_the_nth_call_never_stops_the_daemon(
    tmp_path: Path,
) -> None:
    """The Nth open of or write to the serial port raises (every fifth call of the scenario)."""
    loop_until_clean(tmp_path, lambda _n, c: {"opener": faulty_opener(c)}, step=5)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_any_exception_from_the_http_stack_at_the_nth_request_never_stops_the_daemon(
    tmp_path: Path,
) -> None:
    loop_until_clean(tmp_path, lambda _n, c: {"transport": FaultyTransport(c, "bug")})


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_any_exception_from_a_status_fetch_at_the_nth_call_never_stops_the_daemon(
    tmp_path: Path,
) -> None:
    """The status poller (status_url set) fails at its Nth question: the complaint is asked
    again later; forwarding and replies are untouched."""
    loop_until_clean(
        tmp_path,
        lambda _n, c: {"client_factory": faulty_status_client(c), "status": True},
    )

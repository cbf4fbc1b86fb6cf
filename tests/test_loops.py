"""Every long-running loop survives any single bad item (P13): the status poller on a
tracking id the URL cannot carry and on a placeholder it does not know; the reply sender on a
reply it cannot send; the daemon starts a dead loop again instead of exiting."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sms1708.cli import main
from sms1708.config import from_mapping
from sms1708.core.intake import IntakeRules
from sms1708.core.loopbackoff import Pacing
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import RetryPolicy
from sms1708.daemon import intake_rules
from sms1708.health import Health, prometheus, write_atomic
from sms1708.loopguard import LoopGuard
from sms1708.modem import sender
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.modem.worker import ModemWorker
from sms1708.store.outbox import STATUS_QUARANTINE_AFTER
from sms1708.store.receiving import Intake
from sms1708.store.store import IncomingPart, Store
from sms1708.upstream.forwarder import Forwarder
from sms1708.upstream.standin import StandIn

from .conftest import wait_until, write_config
from .faults import QuickEvent, query

WIB = timezone(timedelta(hours=7))
POISON = "+6281234567801"


def complaint(store: Store, n: int) -> None:
    [p] = encode_deliver(
        f"+62812345670{n:02d}", f"LAPOR keluhan nomor {n}", datetime(2026, 11, 23, 9, n, tzinfo=WIB)
    )
    store.intake.ingest(
        "modem0", [IncomingPart("SM", n, p, decode_deliver(p))], now=0.0, rules=IntakeRules()
    )


@pytest.mark.parametrize("trouble", ["control character in a tracking id", "unknown placeholder"])
def test_the_status_poller_survives_a_complaint_it_cannot_ask_about(
    upstream: StandIn, tmp_path: Path, trouble: str
) -> None:
    """Today: httpx.InvalidURL (a tracking id with a control character) or KeyError (a
    status_url placeholder it does not know) killed the forwarder thread, and the daemon with
    it. Now the failure is counted against the complaint, the others go on, forwarding too."""
    db = tmp_path / "s.db"
    cfg = from_mapping(
        {
            "store": {"path": str(db)},
            "upstream": {
                "url": upstream.url,
                "status_url": upstream.status_url,
                "token_env": "",
                "status_interval": 0.2,
                "retry_base": 0.1,
            },
        }
    )
    if trouble == "unknown placeholder":
        # loading a config file refuses it now (test_upstream_trust); a config built in code
        # can still carry one, and the loop must survive it all the same
        bad_url = upstream.status_url + "?kab={kabupaten}"
        cfg = dataclasses.replace(
            cfg, upstream=dataclasses.replace(cfg.upstream, status_url=bad_url)
        )
    store = Store.open(db)
    complaint(store, 1)
    complaint(store, 2)
    stop = QuickEvent()
    f = Forwarder(cfg, stop)
    f.start()
    try:
        assert upstream.wait_for(2, 30)
        assert wait_until(
            lambda: len(query(db, "SELECT 1 FROM messages WHERE tracking_id IS NOT NULL")) == 2, 30
        )
        if trouble.startswith("control"):
            store.conn.execute("UPDATE messages SET tracking_id = '1916\n449' WHERE id = 1")
        bad = [1] if trouble.startswith("control") else [1, 2]

        def counted() -> bool:
            f.wake.set()  # the poller asks when idle; do not wait for the idle recheck
            rows = query(
                db, "SELECT id, status_failures, status_error, upstream_status FROM messages"
            )
            return all(
                r["status_failures"] >= STATUS_QUARANTINE_AFTER for r in rows if r["id"] in bad
            )

        assert wait_until(counted, 60), query(db, "SELECT * FROM messages")
        assert f.is_alive()
        rows = {r["id"]: r for r in query(db, "SELECT * FROM messages")}
        err = rows[1]["status_error"]
        assert ("UnusableTrackingId" if trouble.startswith("control") else "KeyError") in err
        if trouble.startswith("control"):
            assert rows[2]["upstream_status"] == "diterima"  # the other one was asked
        # forwarding goes on after the trouble
        complaint(store, 3)
        f.wake.set()
        assert upstream.wait_for(3, 30)
        assert f.is_alive()
        statuses = query(db, "SELECT status_checked_at FROM messages WHERE id = 1")
        before = statuses[0]["status_checked_at"]
        stop.wait(1.0)  # given up on: not asked again
        assert (
            query(db, "SELECT status_checked_at FROM messages WHERE id = 1")[0]["status_checked_at"]
            == before
        )
    finally:
        stop.set()
        f.wake.set()
        f.join(30)
        store.close()
    assert not f.is_alive()


def test_the_reply_sender_records_a_failure_against_the_reply_and_sends_the_others(
    modem: EmulatedModem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today: an unexpected exception while sending one reply gave it back without counting
    an attempt and stopped the sender (the worker reconnected): the same reply failed again
    on every turn, for ever. Now it is an attempt against that reply (dead after the attempt
    limit) and the replies behind it go out."""
    real = sender.send_text

    def send_text(session, number, text, **kw):  # type: ignore[no-untyped-def]
        if number == POISON:
            raise ValueError(f"cannot send {text!r}")
        return real(session, number, text, **kw)

    monkeypatch.setattr(sender, "send_text", send_text)
    store = Store.open(tmp_path / "s.db")
    session = ATSession(modem.port)
    session.open()
    try:
        session.command("ATE0")
        session.command("AT+CMGF=0")
        for number in (POISON, "+6281234567802"):
            store.replies.queue_reply(
                modem="modem0", recipient=number, text="Terima kasih", purpose="receipt", now=0.0
            )
        policy = RetryPolicy(base=0.0, cap=0.0, max_attempts=3)
        for turn in range(4):
            sender.send_due(
                session,
                store,
                modem="modem0",
                now=lambda t=turn: 10.0 * (t + 1),
                rand=lambda: 0.5,
                policy=policy,
                timeout=5.0,
                limit=5,
            )
        rows = {r["recipient"]: r for r in query(tmp_path / "s.db", "SELECT * FROM replies")}
        assert rows["+6281234567802"]["state"] == "sent"
        bad = rows[POISON]
        assert (bad["state"], bad["attempts"]) == ("dead", 3)
        assert "ValueError" in bad["last_error"] and "Terima" not in bad["last_error"]
        assert len(modem.sent) == 1
    finally:
        session.close()
        store.close()


def test_a_loop_that_keeps_failing_raises_an_alarm_in_status(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Store.open(db).close()
    config = write_config(tmp_path / "c.toml", {"store": {"path": str(db)}})
    health = Health()
    guard = LoopGuard(
        "forwarder", health, Pacing(base=1.0, cap=8.0, settle=30.0), clock=lambda: 1e9
    )
    waits = [guard.failed("store: database is locked") for _ in range(5)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0]
    write_atomic(f"{db}.status.json", json.dumps(health.snapshot()))
    r = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert r.exit_code == 1
    assert "loop forwarder keeps failing: 5 time(s) in a row" in r.output, r.output
    assert "database is locked" in r.output
    r = CliRunner().invoke(main, ["--config", str(config), "status", "--json"])
    assert json.loads(r.output)["loops"]["forwarder"]["failures"] == 5
    assert 'sms1708_loop_failures{loop="forwarder"} 5' in prometheus(health.snapshot(), {})
    guard.ok()  # it came back, but a success must hold before the alarm ends
    assert "forwarder" in health.snapshot()["loops"]
    guard.clock = lambda: 1e9 + 31
    guard.ok()
    assert health.snapshot()["loops"] == {}


def test_a_modem_that_comes_up_and_fails_at_once_backs_off_instead_of_retrying_every_second(
    modem: EmulatedModem, tmp_path: Path
) -> None:
    """Today's split-emoji loop: the modem initialised fine (which reset the delay to 1 s),
    the poll failed, and the worker reconnected and re-initialised every second for ever. An
    immediate re-failure no longer resets the delay: 1, 2, 4 s ... and an alarm."""
    modem.receive_sms("+6281234567890", "LAPOR jalan rusak", notify=False)

    def always_failing_ingest(path: str) -> Store:
        class Broken(Intake):
            def ingest(self, *args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("injected: a bug while storing")

        store = Store.open(path)
        store.intake = Broken(store)
        return store

    cfg = from_mapping(
        {
            "modem": {"port": modem.port, "poll_interval": 0.5, "reconnect_max_delay": 60.0},
            "store": {"path": str(tmp_path / "s.db")},
        }
    )
    health = Health()
    stop = threading.Event()
    w = ModemWorker(
        cfg, cfg.modem, intake_rules(cfg), stop, store_factory=always_failing_ingest, health=health
    )
    w.start()
    try:
        seen: list[float] = []

        def climbed() -> bool:
            t = health.snapshot()["loops"].get(w.name)
            if t and (not seen or seen[-1] != t["retry_in"]):
                seen.append(t["retry_in"])
            return bool(t) and t["failures"] >= 4

        assert wait_until(climbed, 60), seen
        assert seen[:4] == [1.0, 2.0, 4.0, 8.0]
        t = health.snapshot()["loops"][w.name]
        assert t["alarm"] and "RuntimeError" in t["last_error"]
        assert w.is_alive() and modem.stored()  # nothing deleted: it is not stored
    finally:
        stop.set()
        w.wake.set()
        w.join(30)


def test_a_complaint_whose_post_keeps_failing_with_a_bug_goes_to_dead_and_the_rest_flows(
    upstream: StandIn, tmp_path: Path
) -> None:
    """An unexpected error (not an upstream answer) for one complaint is an attempt against
    it; after ITEM_QUARANTINE_AFTER of them it goes to `dead` (replayable), the others are
    delivered meanwhile."""
    from sms1708.upstream.answers import ITEM_QUARANTINE_AFTER
    from sms1708.upstream.webhook import WebhookClient

    db = tmp_path / "s.db"
    cfg = from_mapping(
        {
            "store": {"path": str(db)},
            "upstream": {"url": upstream.url, "token_env": "", "retry_base": 0.1, "retry_cap": 0.1},
        }
    )

    class Picky(WebhookClient):
        def send(self, record: dict[str, Any], key: str) -> Any:
            if "nomor 1" in str(record.get("text")):
                raise TypeError(f"cannot serialise {record['text']!r}")
            return super().send(record, key)

    store = Store.open(db)
    complaint(store, 1)
    complaint(store, 2)
    t = [1000.0]  # the complaints were stored at 0.0: well within upstream.max_age_days
    f = Forwarder(cfg, threading.Event(), client=Picky(cfg.upstream), clock=lambda: t[0])
    try:
        for _ in range(ITEM_QUARANTINE_AFTER + 2):
            f.step(store)
            t[0] += 1.0
        rows = {r["message_id"]: r for r in query(db, "SELECT * FROM outbox")}
        assert rows[2]["state"] == "delivered"
        assert (rows[1]["state"], rows[1]["attempts"]) == ("dead", ITEM_QUARANTINE_AFTER)
        assert "TypeError" in rows[1]["last_error"] and "nomor" not in rows[1]["last_error"]
    finally:
        f.client.close()
        store.close()

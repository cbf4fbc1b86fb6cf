"""More receive and send scenarios through the daemon and the pty: a swallowed notice found by
the timer poll, direct delivery (+CMT), and replies the network refuses for a while or for good."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from gsmmodem.pdu import decodeSmsPdu

from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from .conftest import wait_until


def replies(db: Path) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(db)
    try:
        return [
            (r[0], r[1], r[2])
            for r in conn.execute(
                "SELECT recipient, state, attempts FROM replies WHERE purpose='receipt' ORDER BY id"
            )
        ]
    finally:
        conn.close()


def test_an_sms_whose_notice_was_lost_is_found_by_the_timer_poll(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon
) -> None:
    d = daemon(make_config(modem, upstream, modem={"poll_interval": 1.0}))
    assert d.wait_event("modem_ready")
    modem.deliver(
        "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
        notify=False,  # no +CMTI at all
    )
    assert upstream.wait_for(1, 30), d.events()
    assert wait_until(lambda: not modem.stored(), 30)
    assert d.terminate() == 0


def test_direct_delivery_with_cmt_is_stored_too(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon
) -> None:
    # a modem configured to hand SMS over directly (+CMT) instead of storing them
    d = daemon(make_config(modem, upstream, modem={"cnmi": ["2,2,0,0,0"]}))
    assert d.wait_event("modem_ready")
    modem.receive_sms("+6281234567890", "LAPOR lewat pengiriman langsung")
    assert upstream.wait_for(1, 30), d.events()
    body = next(iter(upstream.delivered().values())).body
    assert body["text"] == "lewat pengiriman langsung"
    assert d.terminate() == 0


def test_a_refused_number_goes_dead_at_once_and_a_busy_network_is_waited_out(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    bad, busy, fine = "+6281111111111", "+6282222222222", "+6283333333333"
    state = {"busy": True}

    def network(pdu: str) -> int | None:
        number = decodeSmsPdu(pdu)["number"]
        if number == bad:
            return 21  # short message transfer rejected: permanent
        if number == busy and state["busy"]:
            return 38  # network out of order: temporary
        return None

    modem.refuse_send = network
    d = daemon(
        make_config(
            modem, upstream, replies={"retry_base": 0.5, "retry_cap": 1.0, "notify_tracking": False}
        )
    )
    assert d.wait_event("modem_ready")
    for n in (bad, busy, fine):
        modem.receive_sms(n, f"LAPOR dari {n[-4:]}")
    db = tmp_path / "sms1708.db"
    assert wait_until(lambda: len(replies(db)) == 3 and (fine, "sent", 1) in replies(db), 30)
    assert wait_until(lambda: (bad, "dead", 1) in replies(db), 30), replies(db)
    assert wait_until(lambda: any(r[0] == busy and r[2] >= 2 for r in replies(db)), 30)
    state["busy"] = False
    assert wait_until(lambda: any(r[0] == busy and r[1] == "sent" for r in replies(db)), 30)
    assert upstream.wait_for(3, 30)  # the complaints themselves were never held up
    assert d.terminate() == 0


def test_an_unconfirmed_send_counts_as_an_attempt_and_is_not_repeated_at_once(
    modem: EmulatedModem, tmp_path: Path
) -> None:
    import time as _time

    from sms1708.core.policy import RetryPolicy
    from sms1708.errors import ModemTimeout
    from sms1708.modem.at import ATSession
    from sms1708.modem.sender import send_due
    from sms1708.store.store import Store

    store = Store.open(tmp_path / "s.db")
    rid = store.replies.queue_reply(
        modem="modem0",
        recipient="+6281234567890",
        text="Tes",
        purpose="operator",
        now=_time.time(),
    )
    modem.cmgs_latency = 1.5  # the network is slower than our patience
    s = ATSession(modem.port)
    s.open()
    try:
        s.command("ATE0")
        policy = RetryPolicy(base=60, cap=600, max_attempts=5)
        with pytest.raises(ModemTimeout):
            send_due(
                s,
                store,
                modem="modem0",
                now=_time.time,
                rand=lambda: 0.5,
                policy=policy,
                timeout=1.0,
            )
        row = store.conn.execute(
            "SELECT state, attempts, next_attempt_at FROM replies WHERE id=?", (rid,)
        ).fetchone()
        assert (row["state"], row["attempts"]) == ("retry", 1)
        assert row["next_attempt_at"] > _time.time() + 10  # backoff, not "due now"
        modem.cmgs_latency = 0.0
        assert (
            send_due(
                s,
                store,
                modem="modem0",
                now=_time.time,
                rand=lambda: 0.5,
                policy=policy,
                timeout=5.0,
            )
            == 0
        )  # nothing due: no second SMS now
        assert wait_until(lambda: len(modem.sent) == 1, 10)
    finally:
        s.close()
        store.close()

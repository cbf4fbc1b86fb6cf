"""The write side of the modem dialogue: a modem that stops reading, and a stick that resets on
the transmit burst (issue 9, item 3; promise P11).

How "stops reading" is made real on a pty: the emulated modem stops reading its master side
and fills the pty's queue towards itself (:meth:`EmulatedModem.stop_reading`), so the gateway's
next ``write()`` on the slave finds no room, exactly as on a USB port whose endpoint is stuck
or whose CTS is held low. RTS/CTS itself cannot be shown on a pty (Linux ptys have no modem
lines; ``CRTSCTS`` is ignored there), and ``tcdrain`` returns at once on a pty, so the one
check of the unbounded-``flush()`` hole uses a serial port whose ``flush`` never returns (the
``opener`` seam), as ``tcdrain`` does on a stuck ttyUSB.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import serial

from sms1708.core.pdu import encode_submit
from sms1708.errors import ModemGone, ModemGoneAfterSend, ModemTimeout
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem

from .conftest import wait_until
from .faults import cli, query

CITIZEN = "+6281234567890"
HANG_GUARD = 30.0  # seconds; only a guard against a hang, never a speed assertion


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``fn`` in a daemon thread; its result or exception lands in the dict."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as e:
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


# ------------------------------------------------------------------ a modem that stops reading


def test_a_modem_that_stops_reading_times_out_the_command(modem: EmulatedModem) -> None:
    s = ATSession(modem.port)
    s.open()
    try:
        s.command("ATE0")
        assert modem.stop_reading() > 0
        t, out = in_thread(lambda: s.command("AT+CSQ", timeout=1.0))
        t.join(HANG_GUARD)
        assert not t.is_alive(), "command() hung on a modem that stopped reading"
        assert isinstance(out.get("error"), ModemTimeout), out
        assert "stopped reading" in str(out["error"])
        # the lock was released: the next command is not stuck behind the first one
        t, out = in_thread(lambda: s.command("AT", timeout=1.0))
        t.join(HANG_GUARD)
        assert not t.is_alive() and isinstance(out.get("error"), ModemTimeout), out
        modem.resume_reading()
        assert s.command("AT", timeout=5.0) == []  # and the same session works again
    finally:
        s.close()


def test_a_long_listing_to_a_modem_that_stopped_reading_times_out_at_the_write(
    modem: EmulatedModem,
) -> None:
    """A listing may take a minute to arrive, but writing its command is bounded by a
    command's timeout: a modem that stopped reading is noticed then, not a minute later."""
    s = ATSession(modem.port)
    s.open()
    try:
        s.command("ATE0")
        assert modem.stop_reading() > 0
        t, out = in_thread(
            lambda: list(s.stream("AT+CMGL=4", timeout=3 * HANG_GUARD, write_timeout=1.0))
        )
        t.join(HANG_GUARD)
        assert not t.is_alive(), "the listing waited for its whole timeout to write"
        assert isinstance(out.get("error"), ModemTimeout), out
        assert "stopped reading" in str(out["error"])
    finally:
        s.close()


class StuckDrainSerial(serial.Serial):  # type: ignore[misc]
    """A port whose output never drains: ``flush()`` (tcdrain) never returns and the driver
    keeps bytes queued, as on a ttyUSB with CTS held low."""

    stuck = threading.Event()

    def flush(self) -> None:
        if self.stuck.is_set():
            threading.Event().wait()

    @property
    def out_waiting(self) -> int:
        return 64 if self.stuck.is_set() else 0


def test_an_output_queue_that_never_drains_times_out_the_command(modem: EmulatedModem) -> None:
    s = ATSession(modem.port, opener=StuckDrainSerial)
    s.open()
    try:
        assert s.command("AT") is not None
        StuckDrainSerial.stuck.set()
        t, out = in_thread(lambda: s.command("AT", timeout=1.0))
        t.join(HANG_GUARD)
        assert not t.is_alive(), "command() hung in flush()/tcdrain"
        assert isinstance(out.get("error"), ModemTimeout), out
    finally:
        StuckDrainSerial.stuck.clear()
        s.close()


def test_the_daemon_recovers_from_a_modem_that_stopped_reading(
    modem: EmulatedModem, make_config, daemon, tmp_path: Path
) -> None:
    """The recovery ladder runs (re-initialise, reset, reopen) instead of the worker hanging
    in a write with its lock held; once the modem reads again, SMS flow again."""
    d = daemon(make_config(modem, modem={"command_timeout": 2.0, "poll_interval": 1.0}))
    assert d.wait_event("modem_ready", HANG_GUARD), d.events()
    modem.stop_reading()
    assert d.wait_event("modem_not_answering", HANG_GUARD), d.events()
    modem.resume_reading()
    ready_before = sum(1 for e in d.events() if e.get("event") == "modem_ready")
    assert wait_until(
        lambda: sum(1 for e in d.events() if e.get("event") == "modem_ready") > ready_before,
        90,
    ), d.events()[-20:]
    modem.receive_sms(CITIZEN, "LAPOR setelah modem macet")
    db = tmp_path / "sms1708.db"
    assert wait_until(lambda: bool(query(db, "SELECT id FROM messages")), 60), d.events()[-20:]
    assert d.terminate() == 0


# ------------------------------------------------------------------ a stick that resets on send


def test_a_link_lost_after_the_ctrl_z_is_an_unconfirmed_send(modem: EmulatedModem) -> None:
    modem.reset_on_send = True
    modem.reboot_seconds = 0.2
    s = ATSession(modem.port)
    s.open()
    try:
        s.command("ATE0")
        [part] = encode_submit(CITIZEN, "Tes")
        with pytest.raises(ModemGoneAfterSend):
            s.command(f"AT+CMGS={part.tpdu_length}", data=part.hex, timeout=5.0)
        assert len(modem.sent) == 1
    finally:
        s.close()
    # a link lost before the SMS was handed over stays a plain ModemGone (give it back)
    assert wait_until(lambda: modem.plugged, HANG_GUARD)
    modem.reset_on_send = False
    s = ATSession(modem.port)
    s.open()
    try:
        modem.unplug()
        with pytest.raises(ModemGone) as e:
            s.command("AT", timeout=5.0)
        assert not isinstance(e.value, ModemGoneAfterSend)
    finally:
        s.close()


def test_a_stick_that_resets_on_every_send_gets_the_reply_at_most_cap_times(
    modem: EmulatedModem, make_config, daemon, tmp_path: Path
) -> None:
    """Before: the ModemGone after the Ctrl-Z gave the reply back without counting an attempt,
    and every reconnect sent the same SMS again, without end."""
    cap = 3
    modem.reset_on_send = True
    modem.reboot_seconds = 0.3
    config = make_config(modem, replies={"max_attempts": cap, "retry_base": 0.2, "retry_cap": 1.0})
    db = tmp_path / "sms1708.db"
    d = daemon(config)
    assert d.wait_event("modem_ready", HANG_GUARD), d.events()
    modem.receive_sms(CITIZEN, "LAPOR jalan rusak di desa Tanjung")

    def settled() -> bool:
        rows = query(db, "SELECT state FROM replies WHERE purpose='receipt'")
        return len(modem.sent) > cap or bool(rows and rows[0]["state"] == "dead")

    assert wait_until(settled, 180), (len(modem.sent), d.events()[-20:])
    [row] = query(
        db, "SELECT state, attempts, unconfirmed, reason FROM replies WHERE purpose='receipt'"
    )
    assert len(modem.sent) == cap, f"the same SMS went out {len(modem.sent)} times"
    assert (row["state"], row["attempts"], row["unconfirmed"]) == ("dead", cap, cap), row
    assert "gave up after 3 attempts" in row["reason"]
    assert modem.resets == cap
    assert d.terminate() == 0
    assert len(modem.sent) == cap  # and nothing more after giving up
    # the operator sees it: status (alarm, JSON) and queue show
    st = cli(config, "status", "--json")
    assert st.json()["replies_unconfirmed"] == {"dead": 1}, st.out
    human = cli(config, "status")
    assert "unknown outcome" in human.out, human.out
    [msg] = query(db, "SELECT id FROM messages")
    show = cli(config, "queue", "show", str(msg["id"]))
    assert f"dead attempts={cap} ({cap} with unknown outcome)" in show.out, show.out

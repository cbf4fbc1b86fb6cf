"""Receive has priority over send (issue 12, part 2), on the emulated modem's real-world timing
options: a slow ``AT+CMGS`` (the line blocked, ``+CMTI`` only after its answer), a small SIM,
and a network that holds SMS while the SIM is full and offers them again only much later."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sms1708.core.pdu import encode_submit
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from .conftest import wait_until


@pytest.fixture
def slow_send_modem(tmp_path: Path) -> Iterator[EmulatedModem]:
    """A 10-slot SIM, an AT+CMGS that takes 0.3 s, a network that retries after a minute."""
    m = EmulatedModem(tmp_path / "modem", sm_capacity=10, cmgs_latency=0.3, network_retry=60.0)
    m.start()
    yield m
    m.stop()


def test_a_new_sms_is_announced_only_after_the_slow_send_has_answered(
    slow_send_modem: EmulatedModem,
) -> None:
    modem = slow_send_modem
    [pdu] = encode_submit("+6281234567890", "Laporan Anda diterima")
    s = ATSession(modem.port)
    s.open()
    try:
        s.command("ATE0")
        s.command("AT+CMGF=0")
        sending = threading.Thread(
            target=lambda: s.command(f"AT+CMGS={pdu.tpdu_length}", data=pdu.hex), daemon=True
        )
        sending.start()
        assert modem.wait_until(lambda: bool(modem.sent), 10)  # handed over; not yet answered
        modem.receive_sms("+6285711112222", "LAPOR lampu jalan mati")
        sending.join(10)
    finally:
        s.close()
    text = modem.tx_text()
    assert text.index("+CMGS:") < text.index("+CMTI:")


def test_a_full_sim_holds_new_sms_in_the_network_and_counts_it(tmp_path: Path) -> None:
    modem = EmulatedModem(tmp_path / "modem", sm_capacity=2, network_retry=0.3).start()
    try:
        for i in range(3):
            modem.receive_sms(f"+62812345678{i}", f"LAPOR nomor {i}")
        assert modem.sim_full_events == 1 and len(modem.held_back) == 1
        with modem._lock:  # a slot frees (as AT+CMGD does): the network waits before retrying
            del modem._mems["SM"].slots[1]
            modem._drain_pending()
        assert len(modem.held_back) == 1
        assert wait_until(lambda: not modem.held_back, 10)  # offered again after the delay
        assert len(modem.stored("SM")) == 2
    finally:
        modem.stop()


def announced_reads_before_sends(modem: EmulatedModem) -> list[int]:
    """For every ``+CMTI`` the modem wrote: how many ``AT+CMGS`` started after it before the
    next ``AT+CMGL`` started (the rule: at most one send, then one storage read)."""
    counts: list[int] = []
    open_: list[int] = []  # one counter per +CMTI not yet followed by a listing
    for _seq, _t, direction, data in list(modem.log):
        if direction == "tx":
            open_ += [0] * data.count("+CMTI:")
        elif "AT+CMGL" in data:
            counts += open_
            open_ = []
        elif "AT+CMGS" in data:
            open_ = [n + 1 for n in open_]
    return counts + open_


def test_a_burst_with_slow_sends_and_a_small_sim_never_fills_the_sim(
    slow_send_modem: EmulatedModem, upstream: StandIn, make_config, daemon
) -> None:
    """40 citizens in 10 s, each owed a receipt that takes 0.3 s to send, a 10-slot SIM: the
    worker reads the storage after every send, so the SIM never fills (no SMS is held by the
    network), every complaint reaches the upstream and every receipt goes out."""
    modem = slow_send_modem
    cfg = make_config(modem, upstream, modem={"poll_interval": 30.0})
    d = daemon(cfg)
    assert d.wait_event("modem_ready"), d.events()
    for i in range(40):
        modem.receive_sms(f"+628123400{i:04d}", f"LAPOR jalan rusak di gang {i}")
        time.sleep(0.25)
    assert upstream.wait_for(40, timeout=120), d.events()
    assert wait_until(lambda: len(modem.sent) >= 40, 120)
    assert modem.sim_full_events == 0 and not modem.held_back
    counts = announced_reads_before_sends(modem)
    assert len(counts) == 40 and max(counts) <= 1, counts

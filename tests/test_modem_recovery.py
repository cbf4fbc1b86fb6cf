"""The modem comes back by itself (P10): unplug/replug, a hung modem, garbage on the line, PIN
trouble, several modems. Each scenario runs `sms1708 run` in a subprocess against the emulated
modem on a real pty and a real loopback upstream."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms1708.config import ModemConfig
from sms1708.errors import SimPinRejected
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.modem.setup import check_pin
from sms1708.upstream.standin import StandIn

from .conftest import wait_until, write_config

CITIZEN = "+6281234567890"


def test_unplug_and_replug_loses_nothing(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon
) -> None:
    d = daemon(make_config(modem, upstream, modem={"reconnect_max_delay": 1.0}))
    assert d.wait_event("modem_ready")
    modem.receive_sms(CITIZEN, "LAPOR sebelum dicabut")
    assert upstream.wait_for(1, 30)
    modem.unplug()
    assert d.wait_event("modem_link_lost", 30), d.events()
    # the network holds SMS while the modem is away; they arrive on replug
    modem.receive_sms("+6285312340002", "LAPOR selama dicabut")
    modem.replug()
    assert upstream.wait_for(2, 60), d.events()
    assert wait_until(lambda: not modem.stored() and len(modem.sent) >= 1, 30)
    assert sum(1 for e in d.events() if e.get("event") == "modem_ready") >= 2
    assert d.terminate() == 0


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_hung_modem_is_detected_and_the_daemon_recovers(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon
) -> None:
    cfg = make_config(
        modem,
        upstream,
        modem={"poll_interval": 1.0, "command_timeout": 2.0, "reconnect_max_delay": 1.0},
    )
    d = daemon(cfg)
    assert d.wait_event("modem_ready")
    modem.hang(True)
    assert d.wait_event("modem_not_answering", 30), d.events()
    modem.receive_sms(CITIZEN, "LAPOR modem sempat macet")  # stored on the SIM meanwhile
    modem.hang(False)
    # a hang guard: recovery takes seconds whether the hang is first met by a command or by a
    # listing (a listing abandoned for silence owes its answer only for a command's wait)
    assert upstream.wait_for(1, 60), d.events()
    assert wait_until(lambda: not modem.stored(), 30)
    assert d.terminate() == 0


def test_garbage_on_the_line_does_not_stop_receiving(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon
) -> None:
    d = daemon(make_config(modem, upstream))
    assert d.wait_event("modem_ready")
    modem.write_raw(b'\r\n\xff\xfe^BOOT:\x80\x81\x00garbage\r\n+CMTI: "XX",\r\n\xc3\x28\r\n')
    modem.receive_sms(CITIZEN, "LAPOR setelah sampah di jalur")
    assert upstream.wait_for(1, 30), d.events()
    assert d.terminate() == 0


def test_sim_pin_is_entered_from_the_environment(
    tmp_path: Path, upstream: StandIn, make_config, daemon
) -> None:
    with EmulatedModem(tmp_path / "pinmodem", pin="1234") as m:
        d = daemon(make_config(m, upstream), env={"SMS1708_SIM_PIN": "1234"})
        assert d.wait_event("modem_ready", 30), d.events()
        m.receive_sms(CITIZEN, "LAPOR dengan PIN")
        assert upstream.wait_for(1, 30)
        assert d.terminate() == 0


def test_a_wrong_pin_is_tried_once_and_never_again(tmp_path: Path, make_config, daemon) -> None:
    with EmulatedModem(tmp_path / "pinmodem", pin="1234") as m:
        d = daemon(make_config(m), env={"SMS1708_SIM_PIN": "0000"})
        assert d.wait_event("modem_sim_pin_rejected", 30), d.events()
        tries = [c for _s, _t, c in m.commands if c.upper().startswith("AT+CPIN=")]
        assert len(tries) == 1
        assert d.terminate() == 0
        # and the next attempt in the same process does not send it again
        s = ATSession(m.port)
        s.open()
        try:
            with pytest.raises(SimPinRejected):
                check_pin(s, ModemConfig(pin="0000"), may_enter_pin=False)
        finally:
            s.close()
        tries = [c for _s, _t, c in m.commands if c.upper().startswith("AT+CPIN=")]
        assert len(tries) == 1


def test_two_modems_each_answer_their_own_citizens(
    tmp_path: Path, upstream: StandIn, daemon
) -> None:
    with EmulatedModem(tmp_path / "m1") as m1, EmulatedModem(tmp_path / "m2") as m2:
        cfg = write_config(
            tmp_path / "two.toml",
            {
                "modems": [
                    {"name": "telkomsel", "port": m1.port, "poll_interval": 2.0},
                    {"name": "xl", "port": m2.port, "poll_interval": 2.0},
                ],
                "store": {"path": str(tmp_path / "two.db")},
                "upstream": {"url": upstream.url, "retry_base": 0.5},
                "log": {"format": "json"},
            },
        )
        d = daemon(cfg)
        assert wait_until(
            lambda: sum(1 for e in d.events() if e.get("event") == "modem_ready") == 2, 30
        ), d.events()
        m1.receive_sms("+6281234560001", "LAPOR lewat modem satu")
        m2.receive_sms("+6287734560002", "LAPOR lewat modem dua")
        assert upstream.wait_for(2, 30)
        # one receipt each, carrying the tracking id (the upstream answered within the wait)
        assert wait_until(lambda: len(m1.sent) == 1 and len(m2.sent) == 1, 30)
        from gsmmodem.pdu import decodeSmsPdu

        assert {decodeSmsPdu(s.pdu_hex)["number"] for s in m1.sent} == {"+6281234560001"}
        assert {decodeSmsPdu(s.pdu_hex)["number"] for s in m2.sent} == {"+6287734560002"}
        assert d.terminate() == 0


def test_a_full_sim_is_drained_and_what_the_network_held_back_arrives(
    tmp_path: Path, upstream: StandIn, make_config, daemon
) -> None:
    with EmulatedModem(tmp_path / "small", sm_capacity=3) as m:
        for i in range(5):  # 3 fit on the SIM, the network holds 2 back
            m.receive_sms(f"+62812345600{i:02d}", f"LAPOR nomor {i}", notify=False, memory="SM")
        assert len(m.stored()) == 3 and len(m.held_back) == 2
        d = daemon(make_config(m, upstream))
        assert d.wait_event("modem_storage_full", 30), d.events()
        assert upstream.wait_for(5, 60), d.events()
        assert wait_until(lambda: not m.stored() and not m.held_back, 30)
        assert d.terminate() == 0

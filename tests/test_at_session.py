"""The AT session against the emulated modem on a real pty, through pyserial."""

from __future__ import annotations

import threading
import time

import pytest

from sms1708.errors import CommandFailed, ModemGone, ModemTimeout
from sms1708.modem.at import ATSession, Urc, is_urc, response_prefix
from sms1708.modem.emulator import EmulatedModem

from .conftest import wait_until


@pytest.fixture
def urcs() -> list[Urc]:
    return []


@pytest.fixture
def session(modem: EmulatedModem, urcs: list[Urc]):
    s = ATSession(modem.port, on_urc=urcs.append)
    s.open()
    yield s
    s.close()


def test_commands_answer_with_their_lines_and_echo_is_ignored(session: ATSession) -> None:
    # echo is on at power-up: the echoed command line must not show up as an answer line
    assert session.command("AT+CGMI") == ["SMS1708"]
    session.command("ATE0")
    assert session.command("AT+CSQ") == ["+CSQ: 18,99"]


def test_error_answers_raise_with_their_code(session: ATSession) -> None:
    session.command("ATE0")
    session.command("AT+CMEE=1")
    with pytest.raises(CommandFailed) as e:
        session.command("AT+CMGR=7")
    assert e.value.code == 321
    with pytest.raises(CommandFailed):
        session.command("AT+NOSUCHTHING")
    assert session.try_command("AT+NOSUCHTHING") is None


def test_urc_arriving_inside_a_command_reply_is_not_swallowed(
    session: ATSession, modem: EmulatedModem, urcs: list[Urc]
) -> None:
    """python-gsmmodem loses +CMTI lines that land inside a reply; the session must not."""
    session.command("ATE0")
    modem.race_next_urc()
    modem.deliver("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    lines = session.command("AT+CSQ")
    assert lines == ["+CSQ: 18,99"]
    assert wait_until(lambda: any(u.name == "+CMTI" for u in urcs), 10), urcs


def test_urc_prefix_answers_its_own_query() -> None:
    assert response_prefix('AT+CPMS="SM"') == "+CPMS:"
    assert not is_urc("+CREG: 0,1", "+CREG:")
    assert is_urc("+CREG: 1", "+CSQ:")
    assert is_urc('+CMTI: "SM",3', "+CMGL:")


def test_garbage_bytes_do_not_kill_the_reader(
    session: ATSession, modem: EmulatedModem, urcs: list[Urc]
) -> None:
    session.command("ATE0")
    modem.write_raw(b"\r\n^SRVST: caf\xe9\xff\xfe\x00\r\n\x80\x81garbage\r\n")
    assert session.command("AT") == []
    modem.deliver("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    assert wait_until(lambda: any(u.name == "+CMTI" for u in urcs), 10)
    assert session.alive


def test_cmt_direct_delivery_keeps_its_pdu(
    session: ATSession, modem: EmulatedModem, urcs: list[Urc]
) -> None:
    session.command("ATE0")
    session.command("AT+CNMI=2,2,0,0,0")
    pdu = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
    modem.deliver(pdu)
    assert wait_until(lambda: any(u.name == "+CMT" for u in urcs), 10)
    cmt = next(u for u in urcs if u.name == "+CMT")
    assert cmt.pdu == pdu


def test_unplug_wakes_a_waiting_command_at_once(session: ATSession, modem: EmulatedModem) -> None:
    session.command("ATE0")
    modem.hang(True)
    result: list[BaseException] = []

    def waiting() -> None:
        try:
            session.command("AT", timeout=60)
        except BaseException as e:
            result.append(e)

    t = threading.Thread(target=waiting)
    t.start()
    assert wait_until(lambda: any(e[3].strip() == "AT" for e in modem.log if e[2] == "rx"), 10)
    modem.unplug()
    t.join(30)  # hang guard: the 60 s command timeout must not be what ends it
    assert not t.is_alive()
    assert result and isinstance(result[0], ModemGone)
    assert not session.alive
    with pytest.raises(ModemGone):
        session.command("AT")


def test_cmgs_sends_the_pdu_after_the_prompt(session: ATSession, modem: EmulatedModem) -> None:
    session.command("ATE0")
    pdu = "0001000B918132547698F0000004D4F29C0E"
    lines = session.command("AT+CMGS=17", data=pdu)
    assert lines and lines[0].startswith("+CMGS:")
    assert modem.sent[-1].pdu_hex == pdu


def test_a_late_answer_after_a_timeout_is_never_taken_for_the_next_commands(
    session: ATSession, modem: EmulatedModem
) -> None:
    session.command("ATE0")
    modem.latency = 1.0  # the modem is slow to answer ...
    with pytest.raises(ModemTimeout):
        session.command("AT+CGMI", timeout=0.3)  # ... so we give up before its answer comes
    modem.latency = 0.0
    # the late "SMS1708 / OK" arrives now; it must not become AT+CSQ's answer
    assert session.command("AT+CSQ", timeout=5) == ["+CSQ: 18,99"]
    assert session.command("AT+CGMI", timeout=5) == ["SMS1708"]


def test_a_modem_that_hangs_during_a_listing_is_noticed_by_its_silence(
    session: ATSession, modem: EmulatedModem
) -> None:
    """A listing may take a minute on a full SIM, but a modem that says nothing at all for a
    command's timeout has hung: the stream ends with ModemTimeout then, not after a minute."""
    modem.hang(True)
    started = time.monotonic()
    with pytest.raises(ModemTimeout, match="went silent"):
        list(session.stream("AT+CMGL=4", timeout=120.0, silence=1.0))
    assert time.monotonic() - started < 60  # a hang guard: far below the listing's timeout
    modem.hang(False)

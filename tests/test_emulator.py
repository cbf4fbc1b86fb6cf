"""The emulated GSM modem, driven through pyserial on its pty exactly as a client would."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from sms1708.modem.emulator import EmulatedModem

# SMS-DELIVER from +27838890001 (type C8), "hellohello"; SMSC part is 8 octets, TPDU 28 octets.
PDU = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
PDU_LEN = 28
# Another DELIVER (empty text, from +27831234567; TPDU 19 octets), so storage holds distinct PDUs.
PDU2 = "07917228000000F0040B917238214365F700009930925161958000"
# SMS-SUBMIT with a "00" SMSC prefix: AT+CMGS=26 (as python-gsmmodem sends it).
SUBMIT = "0021000B917238214365F700000E5474D8BD9EB340E7371D94A603"
FINAL = re.compile(rb"\r\n(OK|ERROR|\+CM[ES] ERROR: [^\r]*)\r\n|\r\n> ")


class AtClient:
    """A minimal DTE over pyserial: write a command line, read until the final result code."""

    def __init__(self, port: str) -> None:
        self.ser = serial.Serial(port, 115200, timeout=0.05)
        self.pending = b""  # read past the last match (e.g. URCs after a final result code)

    def read_until(self, pattern: re.Pattern[bytes] | bytes, timeout: float = 3.0) -> bytes:
        """Everything up to and including the first match of ``pattern``."""
        rx = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        while (m := rx.search(self.pending)) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {rx.pattern!r}: {self.pending!r}")
            self.pending += self.ser.read(self.ser.in_waiting or 1)
        got, self.pending = self.pending[: m.end()], self.pending[m.end() :]
        return got

    def cmd(self, line: str, timeout: float = 3.0) -> bytes:
        self.ser.write(line.encode() + b"\r")
        return self.read_until(FINAL, timeout)

    def quiet(self, seconds: float = 0.15) -> bytes:
        """Whatever arrives within a short read timeout (expected: nothing)."""
        self.ser.timeout = seconds
        try:
            got, self.pending = self.pending + bytes(self.ser.read(4096)), b""
            return got
        finally:
            self.ser.timeout = 0.05

    def close(self) -> None:
        self.ser.close()


@pytest.fixture
def modem(tmp_path: Path) -> Iterator[EmulatedModem]:
    with EmulatedModem(tmp_path / "ttyEMU0") as m:
        yield m


@pytest.fixture
def client(modem: EmulatedModem) -> Iterator[AtClient]:
    c = AtClient(modem.port)
    assert c.cmd("ATE0") == b"ATE0\r\r\nOK\r\n"
    yield c
    c.close()


def test_port_is_a_symlink_to_the_pty_and_stop_cleans_up(tmp_path: Path) -> None:
    link = tmp_path / "modem"
    link.symlink_to("/nonexistent")  # a stale link from an earlier run is replaced
    fds_before = len(os.listdir("/proc/self/fd"))
    m = EmulatedModem(link)
    assert m.deliver(PDU) is None  # not powered yet: the network holds it
    m.start()
    assert os.path.realpath(m.port).startswith("/dev/pts/")
    assert m.stored() == {("SM", 1): PDU}
    m.stop()
    assert not os.path.lexists(link)
    assert not m.plugged
    assert not [t for t in threading.enumerate() if t.name == "sms1708-emulator"]
    assert len(os.listdir("/proc/self/fd")) == fds_before


def test_echo_is_on_at_power_up_and_ate0_turns_it_off(modem: EmulatedModem) -> None:
    c = AtClient(modem.port)
    assert c.cmd("AT") == b"AT\r\r\nOK\r\n"
    assert c.cmd("ATE0") == b"ATE0\r\r\nOK\r\n"
    assert c.cmd("AT") == b"\r\nOK\r\n"
    c.ser.write(b"AT\r\n")  # \r\n is one terminator, not two commands
    assert c.read_until(FINAL) == b"\r\nOK\r\n"
    assert c.quiet() == b""
    assert c.cmd("ATE1") == b"\r\nOK\r\n"
    assert c.cmd("AT") == b"AT\r\r\nOK\r\n"
    c.close()


def test_identity_network_and_unknown_commands(modem: EmulatedModem, client: AtClient) -> None:
    assert client.cmd("AT+CSQ") == b"\r\n+CSQ: 18,99\r\n\r\nOK\r\n"
    modem.rssi = 9
    assert client.cmd("AT+CSQ") == b"\r\n+CSQ: 9,99\r\n\r\nOK\r\n"
    assert client.cmd("AT+CREG?") == b"\r\n+CREG: 0,1\r\n\r\nOK\r\n"
    assert client.cmd("AT+COPS?") == b'\r\n+COPS: 0,0,"TELKOMSEL",0\r\n\r\nOK\r\n'
    assert client.cmd("AT+COPS=3,0") == b"\r\nOK\r\n"
    assert client.cmd("AT+COPS=3,2") == b"\r\nOK\r\n"
    assert client.cmd("AT+COPS?") == b'\r\n+COPS: 0,2,"51010",0\r\n\r\nOK\r\n'
    assert client.cmd("AT+COPS=3,0") == b"\r\nOK\r\n"
    assert client.cmd("AT+CGSN") == f"\r\n{modem.imei}\r\n\r\nOK\r\n".encode()
    assert client.cmd("AT+CIMI") == b"\r\n510101234567890\r\n\r\nOK\r\n"
    assert b'+CNUM: "","+6281299990000",145' in client.cmd("AT+CNUM")
    assert client.cmd("AT+CSCA?") == b'\r\n+CSCA: "+6281100000",145\r\n\r\nOK\r\n'
    assert client.cmd('AT+CSCA="+6281100099"') == b"\r\nOK\r\n"
    assert b'+CSCA: "+6281100099",145' in client.cmd("AT+CSCA?")
    assert client.cmd("AT+CFUN?") == b"\r\n+CFUN: 1\r\n\r\nOK\r\n"
    assert client.cmd("AT+CMGF=0") == b"\r\nOK\r\n"
    assert client.cmd("AT+CMGF?") == b"\r\n+CMGF: 0\r\n\r\nOK\r\n"
    assert client.cmd('AT+CSCS="GSM"') == b"\r\nOK\r\n"
    assert client.cmd("AT+CSMP=17,167,0,0") == b"\r\nOK\r\n"
    assert client.cmd("AT+FOOBAR") == b"\r\nERROR\r\n"
    assert client.cmd("at+csq") == b"\r\n+CSQ: 9,99\r\n\r\nOK\r\n"


def test_cpin_ready_without_pin(client: AtClient) -> None:
    assert client.cmd("AT+CPIN?") == b"\r\n+CPIN: READY\r\n\r\nOK\r\n"


def test_pin_gates_sms_commands_until_entered(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", pin="1234") as m:
        c = AtClient(m.port)
        c.cmd("ATE0")
        assert c.cmd("AT+CPIN?") == b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
        assert c.cmd("AT+CMGL=4") == b"\r\nERROR\r\n"  # CMEE=0: plain ERROR
        assert c.cmd("AT+CMEE=1") == b"\r\nOK\r\n"
        assert c.cmd("AT+CMGL=4") == b"\r\n+CME ERROR: 11\r\n"
        assert c.cmd('AT+CPIN="0000"') == b"\r\n+CME ERROR: 16\r\n"
        assert c.cmd('AT+CPIN="1234"') == b"\r\nOK\r\n"
        assert c.cmd("AT+CPIN?") == b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
        assert c.cmd("AT+CMGL=4") == b"\r\nOK\r\n"
        c.close()


def test_three_wrong_pins_lock_the_sim_with_puk(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", pin="1234") as m:
        c = AtClient(m.port)
        c.cmd("ATE0")
        c.cmd("AT+CMEE=1")
        for _ in range(3):
            assert c.cmd('AT+CPIN="9999"') == b"\r\n+CME ERROR: 16\r\n"
        assert c.cmd("AT+CPIN?") == b"\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n"
        assert c.cmd('AT+CPIN="1234"') == b"\r\n+CME ERROR: 12\r\n"
        assert c.cmd("AT+CMGR=1") == b"\r\n+CME ERROR: 12\r\n"
        c.close()


def test_cpms_answers_and_selection(modem: EmulatedModem, client: AtClient) -> None:
    assert client.cmd("AT+CPMS=?") == (
        b'\r\n+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")\r\n\r\nOK\r\n'
    )
    modem.deliver(PDU, notify=False)
    assert client.cmd("AT+CPMS?") == b'\r\n+CPMS: "SM",1,30,"SM",1,30,"SM",1,30\r\n\r\nOK\r\n'
    assert client.cmd('AT+CPMS="ME","ME","ME"') == b"\r\n+CPMS: 0,100,0,100,0,100\r\n\r\nOK\r\n"
    assert client.cmd('AT+CPMS="SM"') == b"\r\n+CPMS: 1,30,0,100,0,100\r\n\r\nOK\r\n"
    assert client.cmd('AT+CPMS="XX"') == b"\r\n+CMS ERROR: 302\r\n"
    assert modem.deliver(PDU2) == 1  # mem3 is ME now
    assert client.read_until(b'+CMTI: "ME",1\r\n') == b'\r\n+CMTI: "ME",1\r\n'
    assert set(modem.stored()) == {("SM", 1), ("ME", 1)}


def test_deliver_notifies_and_cmgl_cmgr_read_it(modem: EmulatedModem, client: AtClient) -> None:
    assert modem.deliver(PDU) == 1
    assert client.read_until(b'"SM",1\r\n') == b'\r\n+CMTI: "SM",1\r\n'
    assert modem.deliver(PDU2, notify=False) == 2
    assert client.quiet() == b""
    assert client.cmd("AT+CMGL=4") == (
        f"\r\n+CMGL: 1,0,,{PDU_LEN}\r\n{PDU}\r\n+CMGL: 2,0,,19\r\n{PDU2}\r\n\r\nOK\r\n".encode()
    )
    assert client.cmd("AT+CMGL=0") == b"\r\nOK\r\n"  # listing marked them read
    assert client.cmd("AT+CMGL=1").count(b"+CMGL:") == 2
    assert client.cmd("AT+CMGR=1") == f"\r\n+CMGR: 1,,{PDU_LEN}\r\n{PDU}\r\n\r\nOK\r\n".encode()
    assert client.cmd("AT+CMGR=3") == b"\r\n+CMS ERROR: 321\r\n"
    modem.deliver(PDU, notify=False)
    assert client.cmd("AT+CMGR=3") == f"\r\n+CMGR: 0,,{PDU_LEN}\r\n{PDU}\r\n\r\nOK\r\n".encode()
    assert modem.status_of("SM", 3) == 1


def test_text_mode_is_accepted_but_sms_commands_refuse(client: AtClient) -> None:
    assert client.cmd("AT+CMGF=1") == b"\r\nOK\r\n"
    assert client.cmd("AT+CMGL=4") == b"\r\n+CMS ERROR: 302\r\n"
    assert client.cmd("AT+CMGR=1") == b"\r\n+CMS ERROR: 302\r\n"
    assert client.cmd('AT+CMGS="+6281234"') == b"\r\n+CMS ERROR: 302\r\n"


def test_cmgd_by_index_and_by_flag(modem: EmulatedModem, client: AtClient) -> None:
    for pdu in (PDU, PDU2, PDU):
        modem.deliver(pdu, notify=False)
    client.cmd("AT+CMGR=2")  # 2 is read now, 1 and 3 unread
    assert client.cmd("AT+CMGD=1") == b"\r\nOK\r\n"
    assert set(modem.stored("SM")) == {("SM", 2), ("SM", 3)}
    assert client.cmd("AT+CMGD=1,0") == b"\r\nOK\r\n"  # empty slot: OK like SIMCom
    assert client.cmd("AT+CMGD=31") == b"\r\n+CMS ERROR: 321\r\n"  # beyond the capacity
    modem.cmgd_empty_error = True
    assert client.cmd("AT+CMGD=1") == b"\r\n+CMS ERROR: 321\r\n"
    assert client.cmd("AT+CMGD=1,1") == b"\r\nOK\r\n"  # all read
    assert set(modem.stored("SM")) == {("SM", 3)}
    assert modem.deliver(PDU2, notify=False) == 1  # the first free index is reused
    assert client.cmd("AT+CMGD=1,4") == b"\r\nOK\r\n"
    assert modem.stored() == {}


def test_cmgs_prompt_ctrl_z_and_message_reference(modem: EmulatedModem, client: AtClient) -> None:
    for mr in (0, 1):
        assert client.cmd("AT+CMGS=26") == b"\r\n> "
        client.ser.write(SUBMIT.encode() + b"\x1a")
        assert client.read_until(FINAL) == f"\r\n+CMGS: {mr}\r\n\r\nOK\r\n".encode()
    assert [(s.pdu_hex, s.tpdu_len, s.mr) for s in modem.sent] == [(SUBMIT, 26, 0), (SUBMIT, 26, 1)]
    assert modem.wait_until(lambda: modem.commands[-1][2] == "AT+CMGS=26", 2)


def test_cmgs_escape_cancels_and_bad_pdu_is_refused(modem: EmulatedModem, client: AtClient) -> None:
    assert client.cmd("AT+CMGS=26") == b"\r\n> "
    client.ser.write(SUBMIT.encode() + b"\x1b")
    assert client.read_until(FINAL) == b"\r\nOK\r\n"
    assert client.cmd("AT+CMGS=25") == b"\r\n> "
    client.ser.write(SUBMIT.encode() + b"\x1a")  # length mismatch
    assert client.read_until(FINAL) == b"\r\n+CMS ERROR: 304\r\n"
    assert client.cmd("AT+CMGS=2") == b"\r\n> "
    client.ser.write(b"00ZZ11\x1a")  # not hex
    assert client.read_until(FINAL) == b"\r\n+CMS ERROR: 304\r\n"
    assert modem.sent == []
    assert client.cmd("AT") == b"\r\nOK\r\n"  # back in command mode


def test_urc_during_a_command_is_written_after_its_final_code(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", latency=0.5) as m:
        c = AtClient(m.port)  # echo stays on: the echo proves the command is being processed
        c.ser.write(b"AT+CSQ\r")
        assert m.wait_until(lambda: "AT+CSQ\r" in m.tx_text(), 3)
        m.deliver(PDU)
        got = c.read_until(b'+CMTI: "SM",1\r\n')
        assert got == b'AT+CSQ\r\r\n+CSQ: 18,99\r\n\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'
        c.close()


def test_race_next_urc_lands_before_the_final_code(modem: EmulatedModem, client: AtClient) -> None:
    modem.race_next_urc()
    assert modem.deliver(PDU) == 1
    assert client.quiet() == b""  # held for the next command
    assert client.cmd("AT+CSQ") == b'\r\n+CSQ: 18,99\r\n\r\n+CMTI: "SM",1\r\n\r\nOK\r\n'
    modem.deliver(PDU2)  # only the next URC races
    assert client.read_until(b'"SM",2\r\n') == b'\r\n+CMTI: "SM",2\r\n'


def test_sms_arriving_during_cmgs_is_announced_after_ok(
    modem: EmulatedModem, client: AtClient
) -> None:
    assert client.cmd("AT+CMGS=26") == b"\r\n> "
    modem.deliver(PDU)
    assert client.quiet() == b""
    client.ser.write(SUBMIT.encode() + b"\x1a")
    assert client.read_until(b'+CMTI: "SM",1\r\n') == (
        b'\r\n+CMGS: 0\r\n\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'
    )


def test_cnmi_mt2_delivers_directly_and_mt0_stores_silently(
    modem: EmulatedModem, client: AtClient
) -> None:
    assert client.cmd("AT+CNMI=?") == b"\r\n+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)\r\n\r\nOK\r\n"
    assert client.cmd("AT+CNMI=2,2,0,0,0") == b"\r\nOK\r\n"
    assert client.cmd("AT+CNMI?") == b"\r\n+CNMI: 2,2,0,0,0\r\n\r\nOK\r\n"
    assert modem.deliver(PDU) is None
    assert (
        client.read_until(PDU.encode() + b"\r\n") == f"\r\n+CMT: ,{PDU_LEN}\r\n{PDU}\r\n".encode()
    )
    assert modem.stored() == {}
    assert client.cmd("AT+CNMI=0,0") == b"\r\nOK\r\n"
    assert modem.deliver(PDU) == 1
    assert client.quiet() == b""


def test_full_sim_holds_back_then_releases_after_delete(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", sm_capacity=2) as m:
        c = AtClient(m.port)
        c.cmd("ATE0")
        assert [m.deliver(PDU), m.deliver(PDU2), m.deliver(PDU)] == [1, 2, None]
        got = c.read_until(b'^SMMEMFULL: "SM"\r\n')
        assert got == b'\r\n+CMTI: "SM",1\r\n\r\n+CMTI: "SM",2\r\n\r\n^SMMEMFULL: "SM"\r\n'
        assert m.held_back == [PDU]
        assert c.quiet() == b""  # announced once, not again for the held-back one
        assert c.cmd("AT+CMGD=2") == b"\r\nOK\r\n"
        got = c.read_until(b'^SMMEMFULL: "SM"\r\n')
        assert got == b'\r\n+CMTI: "SM",2\r\n\r\n^SMMEMFULL: "SM"\r\n'  # full again
        assert m.held_back == []
        assert m.stored() == {("SM", 1): PDU, ("SM", 2): PDU}
        c.close()


def test_smmemfull_can_be_switched_off(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", sm_capacity=1, smmemfull=False) as m:
        c = AtClient(m.port)
        assert [m.deliver(PDU), m.deliver(PDU2)] == [1, None]
        assert c.read_until(b'+CMTI: "SM",1\r\n')
        assert c.quiet() == b""
        c.close()


def test_unplug_breaks_the_client_and_replug_keeps_storage(
    modem: EmulatedModem, client: AtClient
) -> None:
    modem.deliver(PDU, notify=False)
    modem.unplug()
    assert not os.path.lexists(modem.port)
    with pytest.raises(serial.SerialException):
        client.ser.read(10)
        client.ser.write(b"AT\r")  # if the read did not raise, the write must
    client.close()
    assert modem.deliver(PDU2) is None  # the network holds SMS while the modem is away
    modem.replug()
    fresh = AtClient(modem.port)
    assert fresh.cmd("AT") == b"AT\r\r\nOK\r\n"  # power-up defaults: echo on again
    fresh.cmd("ATE0")
    assert fresh.cmd("AT+CMGL=4") == (
        f"\r\n+CMGL: 1,0,,{PDU_LEN}\r\n{PDU}\r\n+CMGL: 2,0,,19\r\n{PDU2}\r\n\r\nOK\r\n".encode()
    )
    fresh.close()


def test_write_raw_sends_bytes_verbatim(modem: EmulatedModem, client: AtClient) -> None:
    modem.write_raw(b"\r\n^SRVST: caf\xe9\xff\r\n")
    assert client.read_until(b"\xff\r\n") == b"\r\n^SRVST: caf\xe9\xff\r\n"
    assert client.cmd("AT") == b"\r\nOK\r\n"


def test_burst_cmti_writes_all_urcs_at_once(modem: EmulatedModem, client: AtClient) -> None:
    from gsmmodem.pdu import decodeSmsPdu  # an independent decoder for the default PDUs

    assert modem.burst_cmti(5) == [1, 2, 3, 4, 5]
    expected = b"".join(f'\r\n+CMTI: "SM",{i}\r\n'.encode() for i in range(1, 6))
    assert client.read_until(b'"SM",5\r\n') == expected
    assert any(e[2] == "tx" and e[3] == expected.decode() for e in modem.log)
    decoded = decodeSmsPdu(modem.stored()[("SM", 3)])
    assert (decoded["number"], decoded["text"]) == ("+6281200000000", "burst 2")


def test_hang_stops_answering_until_released(modem: EmulatedModem, client: AtClient) -> None:
    modem.hang(True)
    client.ser.write(b"AT\r")
    assert client.quiet(0.3) == b""
    modem.deliver(PDU)  # URCs are held too
    assert client.quiet() == b""
    modem.hang(False)
    assert client.read_until(b'+CMTI: "SM",1\r\n') == b'\r\n+CMTI: "SM",1\r\n'
    assert client.cmd("AT") == b"\r\nOK\r\n"


def test_baudrate_paces_the_line(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", baudrate=115200) as m:
        for _ in range(13):
            m.deliver(PDU, notify=False)
        c = AtClient(m.port)
        c.cmd("ATE0")
        t0 = time.monotonic()
        got = c.cmd("AT+CMGL=4", timeout=10)
        elapsed = time.monotonic() - t0
        assert got.count(b"+CMGL:") == 13 and len(got) >= 1152
        assert elapsed >= 0.9 * len(got) / 11520  # 11,520 bytes/s at 115200 baud
        c.close()


def test_before_delete_hook_runs_before_the_slot_is_cleared(
    modem: EmulatedModem, client: AtClient
) -> None:
    seen: list[tuple[str, int, str, bool]] = []

    def hook(mem: str, index: int, pdu: str) -> None:
        seen.append((mem, index, pdu, (mem, index) in modem.stored()))

    modem.before_delete = hook
    modem.deliver(PDU, notify=False)
    modem.deliver(PDU2, notify=False)
    assert client.cmd("AT+CMGD=2") == b"\r\nOK\r\n"
    assert seen == [("SM", 2, PDU2, True)]
    assert client.cmd("AT+CMGD=2") == b"\r\nOK\r\n"  # empty slot: no hook call
    assert len(seen) == 1
    assert modem.stored() == {("SM", 1): PDU}


def test_a_raising_before_delete_hook_prevents_the_delete(
    modem: EmulatedModem, client: AtClient
) -> None:
    def hook(mem: str, index: int, pdu: str) -> None:
        raise RuntimeError("not committed yet")

    modem.before_delete = hook
    modem.deliver(PDU, notify=False)
    assert client.cmd("AT+CMGD=1") == b"\r\nERROR\r\n"
    assert client.cmd("AT+CMGD=1,4") == b"\r\nERROR\r\n"
    assert modem.stored() == {("SM", 1): PDU}
    assert len(modem.hook_errors) == 2


def test_flag_delete_calls_the_hook_per_slot_and_unplug_inside_it_deletes_nothing(
    modem: EmulatedModem, client: AtClient
) -> None:
    calls: list[int] = []
    modem.before_delete = lambda mem, index, pdu: calls.append(index)
    for pdu in (PDU, PDU2, PDU):
        modem.deliver(pdu, notify=False)
    client.cmd("AT+CMGR=2")
    assert client.cmd("AT+CMGD=1,1") == b"\r\nOK\r\n"  # read ones only
    assert calls == [2]
    modem.before_delete = lambda mem, index, pdu: modem.unplug()  # USB gone at that instant
    client.ser.write(b"AT+CMGD=1\r")
    assert modem.wait_until(lambda: not modem.plugged, 3)
    assert set(modem.stored()) == {("SM", 1), ("SM", 3)}
    modem.before_delete = None
    modem.replug()
    fresh = AtClient(modem.port)
    assert fresh.cmd("AT+CMGD=1") == b"AT+CMGD=1\r\r\nOK\r\n"
    assert set(modem.stored()) == {("SM", 3)}
    fresh.close()


def test_status_reports_cdsi_and_cds(modem: EmulatedModem, client: AtClient) -> None:
    report = "07917283010010F506010B917238214365F7993092516195809930925161958000"
    assert client.cmd("AT+CNMI=2,1,0,2,0") == b"\r\nOK\r\n"
    assert modem.status_report(report) == 1
    assert client.read_until(b'+CDSI: "SR",1\r\n') == b'\r\n+CDSI: "SR",1\r\n'
    assert client.cmd('AT+CPMS="SR"') == b"\r\n+CPMS: 1,30,0,30,0,30\r\n\r\nOK\r\n"
    assert client.cmd("AT+CMGR=1") == f"\r\n+CMGR: 0,,25\r\n{report}\r\n\r\nOK\r\n".encode()
    assert client.cmd("AT+CNMI=2,1,0,1,0") == b"\r\nOK\r\n"
    assert modem.status_report(report) is None
    assert client.read_until(report.encode() + b"\r\n") == f"\r\n+CDS: 25\r\n{report}\r\n".encode()


def test_cfun_reset_restores_echo_and_cnmi(modem: EmulatedModem, client: AtClient) -> None:
    assert client.cmd("AT+CNMI=2,2,0,0,0") == b"\r\nOK\r\n"
    assert client.cmd("AT+CFUN=1,1") == b"\r\nOK\r\n"
    assert client.cmd("AT+CNMI?") == b"AT+CNMI?\r\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n"


def test_log_and_commands_are_ordered(modem: EmulatedModem, client: AtClient) -> None:
    """A command is recorded before it is answered: a test that reads ``commands`` as soon as
    the reply has arrived finds the command there (no wait, no race)."""
    client.cmd("AT+CSQ")
    seq, _, command = modem.commands[-1]
    assert command == "AT+CSQ"
    assert modem.wait_until(lambda: any(e[2] == "tx" and "+CSQ:" in e[3] for e in modem.log), 2)
    answer = [e for e in modem.log if e[2] == "tx" and "+CSQ:" in e[3]][-1]
    asked = [e for e in modem.log if e[2] == "rx" and "AT+CSQ" in e[3]][-1]
    assert asked[0] < seq < answer[0]  # recorded before the response was written


def test_a_prompted_command_is_recorded_before_its_answer(
    modem: EmulatedModem, client: AtClient
) -> None:
    assert client.cmd("AT+CMGS=26") == b"\r\n> "
    client.ser.write(SUBMIT.encode() + b"\x1a")
    assert client.read_until(FINAL) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    seq, _, command = modem.commands[-1]
    assert command == "AT+CMGS=26"
    assert modem.wait_until(lambda: any(e[2] == "tx" and "+CMGS:" in e[3] for e in modem.log), 2)
    answer = [e for e in modem.log if e[2] == "tx" and "+CMGS:" in e[3]][-1]
    assert seq < answer[0]  # recorded before the response was written


def test_control_lines(modem: EmulatedModem) -> None:
    assert "sms <sender>" in modem.handle_control_line("help")
    assert modem.handle_control_line("list") == "storage is empty"
    assert modem.handle_control_line("sent") == "nothing sent yet"
    modem.deliver(PDU, notify=False)
    assert modem.handle_control_line("list") == f"SM 1 stat=0 {PDU}"
    assert "unplugged" in modem.handle_control_line("unplug")
    assert not modem.plugged
    assert "replugged" in modem.handle_control_line("replug")
    assert modem.plugged and os.path.lexists(modem.port)
    assert "unknown command" in modem.handle_control_line("frobnicate")


def test_receive_sms_builds_and_delivers_pdus(modem: EmulatedModem, client: AtClient) -> None:
    pdu_module = pytest.importorskip("sms1708.core.pdu")
    if not hasattr(pdu_module, "encode_deliver"):
        pytest.skip("encode_deliver not written yet")
    from gsmmodem.pdu import decodeSmsPdu

    assert modem.receive_sms("+6281234567890", "lampu jalan mati") == [1]
    assert client.read_until(b'+CMTI: "SM",1\r\n')
    decoded = decodeSmsPdu(modem.stored()[("SM", 1)])
    assert (decoded["number"], decoded["text"]) == ("+6281234567890", "lampu jalan mati")
    assert modem.receive_sms("+6281234567890", "x" * 200) == [2, 3]
    refs = {decodeSmsPdu(modem.stored()[("SM", i)])["udh"][0].reference for i in (2, 3)}
    assert len(refs) == 1  # both parts carry the same auto-picked reference
    assert modem.handle_control_line("sms +6281234567890 halo") == (
        "SMS from +6281234567890 in 1 part(s): index 4"
    )


def test_python_gsmmodem_can_drive_the_emulator(tmp_path: Path) -> None:
    from gsmmodem.modem import GsmModem  # the third-party client, as an independent DTE

    with EmulatedModem(tmp_path / "m", pin="1234") as m:
        received: list[tuple[str, str]] = []

        def on_sms(sms: Any) -> None:
            received.append((sms.number, sms.text))

        gsm = GsmModem(m.port, 115200, smsReceivedCallbackFunc=on_sms)
        gsm.connect(pin="1234")
        try:
            assert (gsm.imei, gsm.signalStrength, gsm.networkName) == (m.imei, 18, "TELKOMSEL")
            m.deliver(PDU)
            assert m.wait_until(lambda: bool(received) and not m.stored(), 5)
            assert received == [("27838890001", "hellohello")]
            gsm.sendSms("+6281234567", "halo")
            assert len(m.sent) == 1 and m.sent[0].mr == 0
        finally:
            gsm.close()

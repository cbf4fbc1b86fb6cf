"""The SIM PIN is handled like a secret (P13): `check` never re-enters a refused PIN, and no
PIN-carrying AT command reaches an error text, a log line, `check` output or argv.

Everything runs against the emulated modem on a real pty; the refusal record is in a real
SQLite store, shared by `sms1708 run` and `sms1708 check`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sms1708 import logsetup
from sms1708.cli import main
from sms1708.config import ModemConfig
from sms1708.core.mask import redact_at
from sms1708.errors import CommandFailed, ModemTimeout
from sms1708.logsetup import get_logger
from sms1708.modem import pinrecord
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.store.store import Store

PIN_ENV = "SMS1708_SIM_PIN"


def cpin_tries(m: EmulatedModem) -> int:
    return sum(1 for _s, _t, c in m.commands if c.upper().startswith("AT+CPIN="))


def check(config: Path, pin: str) -> str:
    r = CliRunner().invoke(main, ["--config", str(config), "check"], env={PIN_ENV: pin})
    return r.output


def sim_line(output: str) -> list[str]:
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if " SIM:" in line:
            return lines[i : i + 2]
    raise AssertionError(output)


# ------------------------------------------------------------------ check honours refusals


def test_three_checks_with_a_wrong_pin_do_not_lock_the_sim(tmp_path: Path, make_config) -> None:
    """Reproduction of the report: three `check` runs with a wrong PIN locked the SIM (PUK).
    Now the first run enters it once and records the refusal; the next two do not enter it
    and say why in one line."""
    with EmulatedModem(tmp_path / "pinmodem", pin="1234") as m:
        config = make_config(m)
        first = check(config, "0000")
        assert "FAIL  modem0 SIM" in first and "refused" in first, first
        for _ in range(2):
            again = check(config, "0000")
            head, hint = sim_line(again)
            assert head.startswith("FAIL  modem0 SIM") and "not entering it again" in head
            assert "->" in hint and PIN_ENV in hint
        assert cpin_tries(m) == 1
        with ATSession(m.port) as s:  # not locked: two tries left for the right PIN
            assert s.command("AT+CPIN?") == ["+CPIN: SIM PIN"]


def test_check_honours_a_refusal_recorded_by_the_daemon(
    tmp_path: Path, make_config, daemon
) -> None:
    with EmulatedModem(tmp_path / "pinmodem", pin="1234") as m:
        config = make_config(m)
        d = daemon(config, env={PIN_ENV: "0000"})
        assert d.wait_event("modem_sim_pin_rejected", 30), d.events()
        assert d.terminate() == 0
        assert cpin_tries(m) == 1
        out = check(config, "0000")
        assert "not entering it again" in sim_line(out)[0], out
        assert cpin_tries(m) == 1
        # a different PIN (the operator fixed it) is tried once, and the SIM opens
        fixed = check(config, "1234")
        assert "PASS  modem0 SIM: ready (PIN accepted)" in fixed, fixed
        assert cpin_tries(m) == 2
    s = Store.open(tmp_path / "sms1708.db", create=False)
    try:
        assert not pinrecord.refused(s, "modem0", "0000")  # forgotten once a PIN was accepted
    finally:
        s.close()


def test_the_daemon_honours_a_refusal_recorded_by_check(
    tmp_path: Path, make_config, daemon
) -> None:
    with EmulatedModem(tmp_path / "pinmodem", pin="1234") as m:
        config = make_config(m)
        assert "refused" in check(config, "0000")
        d = daemon(config, env={PIN_ENV: "0000"})
        assert d.wait_event("modem_sim_pin_rejected", 30), d.events()
        assert d.terminate() == 0
        assert cpin_tries(m) == 1


def test_a_sim_asking_for_its_puk_is_never_given_a_pin(tmp_path: Path, make_config) -> None:
    with EmulatedModem(tmp_path / "pinmodem", pin="1234") as m:
        s = ATSession(m.port)
        with s:
            s.command("AT+CMEE=1")
            for _ in range(3):
                with pytest.raises(CommandFailed):
                    s.command('AT+CPIN="9999"')
        assert cpin_tries(m) == 3  # recorded before answered: there once the answer is in
        before = cpin_tries(m)
        out = check(make_config(m), "1234")
        head, _hint = sim_line(out)
        assert head.startswith("FAIL  modem0 SIM") and "PUK" in head and "phone" in head, out
        assert cpin_tries(m) == before


def test_check_enters_no_pin_when_it_cannot_record_a_refusal(tmp_path: Path, make_config) -> None:
    with EmulatedModem(tmp_path / "pinmodem", pin="1234") as m:
        foreign = tmp_path / "not-a-database.db"
        foreign.write_bytes(b"this is some other program's file, not SQLite\n" * 20)
        out = check(make_config(m, store={"path": str(foreign)}), "1234")
        head, hint = sim_line(out)
        assert "not entering the PIN" in head and "sudo -u sms1708" in hint, out
        assert cpin_tries(m) == 0


# ------------------------------------------------------------------ no PIN in any text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('AT+CPIN="1234"', "AT+CPIN=<hidden>"),
        ("at+cpin=1234", "at+cpin=<hidden>"),
        ('AT+CPIN="12345678","4321"', "AT+CPIN=<hidden>"),
        ("'AT+CPIN=\"1234\"' failed: +CME ERROR: 16", "'AT+CPIN=<hidden>' failed: +CME ERROR: 16"),
        ('AT+CPIN="1234": no answer within 2s', "AT+CPIN=<hidden>: no answer within 2s"),
        ('AT+CPWD="SC","1234","5678"', "AT+CPWD=<hidden>"),
        ('AT+CLCK="SC",0,"1234"', "AT+CLCK=<hidden>"),
        ('AT + CPIN = "1234"', "AT + CPIN = <hidden>"),
        ('AT+CPIN="12', "AT+CPIN=<hidden>"),  # cut off by a length limit
        ("AT+CPIN?", "AT+CPIN?"),
        ("+CPIN: SIM PIN", "+CPIN: SIM PIN"),
        ("AT+CMGS=23", "AT+CMGS=23"),
    ],
)
def test_redact_at(text: str, shown: str) -> None:
    assert redact_at(text) == shown


def test_a_timed_out_cpin_does_not_quote_the_pin(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", pin="1234") as m:
        m.swallow = lambda line: line.upper().startswith("AT+CPIN=")
        with ATSession(m.port) as s, pytest.raises(ModemTimeout) as e:
            s.command('AT+CPIN="1234"', timeout=0.5)
        assert "1234" not in str(e.value) and "AT+CPIN=" in str(e.value)


def test_a_refused_cpin_does_not_quote_the_pin(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", pin="1234") as m, ATSession(m.port) as s:
        s.command("AT+CMEE=1")
        with pytest.raises(CommandFailed) as e:
            s.command('AT+CPIN="9876"')
        assert "9876" not in str(e.value) and "9876" not in e.value.command
        assert e.value.code == 16


def test_check_output_never_shows_the_pin(tmp_path: Path, make_config) -> None:
    """The reported leak: a CPIN that times out was quoted whole in `check` output."""
    with EmulatedModem(tmp_path / "pinmodem", pin="4711") as m:
        m.swallow = lambda line: line.upper().startswith("AT+CPIN=")
        config = make_config(m, modem={"command_timeout": 1.0})
        out = check(config, "4711")
        assert "FAIL  modem0 SIM" in out and "AT+CPIN=<hidden>" in out, out
        assert "4711" not in out


def test_log_lines_hide_a_pin_inside_any_value() -> None:
    buf = io.StringIO()
    logsetup.setup("json", "debug", stream=buf)
    try:
        get_logger("t").warning(
            "x", error="'AT+CPIN=\"2468\"' failed", line='AT+CLCK="SC",1,"2468"'
        )
    finally:
        logsetup.setup("json", "info")
    event = json.loads(buf.getvalue())
    assert "2468" not in buf.getvalue()
    assert event["error"] == "'AT+CPIN=<hidden>' failed"


def test_modem_config_pin_env_is_the_documented_name() -> None:
    assert ModemConfig().pin_env == PIN_ENV


# ------------------------------------------------------------------ simulate: no PIN on argv


def test_simulate_takes_the_pin_from_the_environment(tmp_path: Path) -> None:
    link = str(tmp_path / "simmodem")
    r = CliRunner().invoke(
        main,
        ["simulate", "--link", link, "--pin-env", "TRAINING_PIN"],
        input="quit\n",
        env={"TRAINING_PIN": "8642"},
    )
    assert r.exit_code == 0, r.output
    assert "asks for the PIN in $TRAINING_PIN" in r.output and "8642" not in r.output


def test_simulate_refuses_a_pin_on_the_command_line(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["simulate", "--link", str(tmp_path / "s"), "--pin", "8642"])
    assert r.exit_code == 2 and "--pin-env" in r.output
    r = CliRunner().invoke(
        main, ["simulate", "--link", str(tmp_path / "s"), "--pin-env", "UNSET_PIN_X"], env={}
    )
    assert r.exit_code == 2 and "UNSET_PIN_X" in r.output

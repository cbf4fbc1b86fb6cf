"""Modem answers are answers (P10, P13): an ERROR to one command is handled where it happens,
never as a lost link. Through the daemon, the emulated modem on a pty and `sms1708 status`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from .conftest import DaemonProcess, wait_until
from .faults import cli


def commands(modem: EmulatedModem, text: str) -> int:
    return sum(1 for _seq, _t, c in list(modem.commands) if c.upper() == text.upper())


def count(d: DaemonProcess, event: str) -> int:
    return sum(1 for e in d.events() if e.get("event") == event)


def quick(make_config: Callable[..., Path], m: EmulatedModem, up: StandIn) -> Path:
    return make_config(m, up, modem={"poll_interval": 0.3}, replies={"enabled": False})


@pytest.fixture
def no_sr(tmp_path: Path) -> Iterator[EmulatedModem]:
    m = EmulatedModem(tmp_path / "no-sr", memories=("SM", "ME")).start()
    yield m
    m.stop()


def test_a_modem_without_sr_memory_is_asked_once_and_status_says_so(
    no_sr: EmulatedModem, upstream: StandIn, make_config: Any, daemon: Any
) -> None:
    config = quick(make_config, no_sr, upstream)
    d = daemon(config)
    assert d.wait_event("modem_ready")
    no_sr.receive_sms("+6281234567890", "LAPOR lampu jalan mati")
    assert upstream.wait_for(1, 30), d.events()
    # many polls later, "SR" was asked about once (today: on every poll)
    assert wait_until(lambda: commands(no_sr, "AT+CMGL=4") >= 12, 30)
    assert commands(no_sr, 'AT+CPMS="SR"') == 1
    assert count(d, "modem_ready") == 1 and count(d, "modem_memory_unsupported") == 1
    assert wait_until(lambda: cli(config, "status", "--json").json()["modems"], 10)
    st = cli(config, "status", "--json").json()
    assert st["modems"]["modem0"]["unsupported_memories"] == ["SR"]
    assert "no SR memory" in cli(config, "status").out
    assert d.terminate() == 0


def test_an_error_to_listing_a_memory_is_not_a_lost_link(
    tmp_path: Path, upstream: StandIn, make_config: Any, daemon: Any
) -> None:
    """Today: +CMS ERROR to AT+CMGL in "SR" raised, the worker closed the port, re-initialised
    the modem and started again, on every poll."""
    m = EmulatedModem(tmp_path / "unlistable", unlistable=("SR",)).start()
    try:
        d = daemon(quick(make_config, m, upstream))
        assert d.wait_event("modem_ready")
        m.receive_sms("+6281234567890", "LAPOR sampah menumpuk")
        assert upstream.wait_for(1, 30), d.events()
        assert wait_until(lambda: commands(m, "AT+CMGL=4") >= 12, 30)
        assert count(d, "modem_ready") == 1 and count(d, "modem_down") == 0
        assert commands(m, 'AT+CPMS="SR"') == 1
        assert d.terminate() == 0
    finally:
        m.stop()


def test_a_slot_that_refuses_deletion_is_retried_and_the_other_deletes_still_happen(
    modem: EmulatedModem, upstream: StandIn, make_config: Any, daemon: Any
) -> None:
    """Today: the refused AT+CMGD raised, the remaining deletes of that poll were skipped and
    the worker reconnected."""
    slots = [
        modem.receive_sms(
            f"+62812345678{i}", f"LAPOR keluhan nomor {i}", memory="SM", notify=False
        )[0]
        for i in range(3)
    ]
    assert None not in slots
    stuck = slots[0]
    assert stuck is not None
    modem.refuse_delete("SM", stuck, 3)
    d = daemon(quick(make_config, modem, upstream))
    assert d.wait_event("modem_ready")
    # the other two are deleted by the first poll; the stuck one later, after three refusals
    assert wait_until(lambda: not modem.stored(), 30), (modem.stored(), d.events())
    assert upstream.wait_for(3, 30)
    assert len(upstream.delivered()) == 3  # exactly once each, re-reads recognised
    refused = [e for e in d.events() if e.get("event") == "sms_delete_refused"]
    assert [e["times"] for e in refused] == [1, 2, 3]
    assert {(e["memory"], e["index"]) for e in refused} == {("SM", stuck)}
    cmds = [c.upper() for _seq, _t, c in list(modem.commands)]
    first_list = cmds.index("AT+CMGL=4")
    first_poll = cmds[first_list + 1 : cmds.index('AT+CPMS="ME"', first_list)]
    assert sorted(first_poll) == sorted(f"AT+CMGD={i}" for i in slots)
    assert count(d, "modem_ready") == 1 and count(d, "modem_down") == 0
    assert d.terminate() == 0


def test_check_names_the_memories_the_modem_does_not_have(
    no_sr: EmulatedModem, make_config: Any
) -> None:
    from click.testing import CliRunner

    from sms1708.cli import main

    r = CliRunner().invoke(main, ["--config", str(make_config(no_sr)), "check"])
    line = next(x for x in r.output.splitlines() if " memories:" in x)
    assert line.startswith("PASS") and "SM, ME" in line, r.output
    assert "not supported: SR (+CMS ERROR: 302)" in line, r.output
    none = EmulatedModem(no_sr.link + "-none", memories=("SR",)).start()
    try:
        r = CliRunner().invoke(main, ["--config", str(make_config(none)), "check"])
    finally:
        none.stop()
    line = next(x for x in r.output.splitlines() if " memories:" in x)
    assert line.startswith("FAIL") and r.exit_code == 1, r.output

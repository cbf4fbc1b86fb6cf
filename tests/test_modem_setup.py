"""Bringing a modem up: the init sequence and per-family profiles, on the emulated modem."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms1708.config import ModemConfig
from sms1708.modem import network
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.modem.setup import PROFILES, detect_profile, initialise, rssi_to_dbm


@pytest.mark.parametrize(
    ("identity", "family"),
    [
        ("huawei E173", "huawei"),
        ("HUAWEI Technologies K4510", "huawei"),
        ("SIMCOM_Ltd SIMCOM_SIM800L", "simcom"),
        ("WAVECOM MODEM MULTIBAND 900E 1800", "wavecom"),
        ("Sierra Wireless MC7304", "wavecom"),
        ("Quectel EC25", "quectel"),
        ("ZTE CORPORATION MF190", "zte"),
        ("SMS1708 EMU-800", "generic"),
        ("", "generic"),
    ],
)
def test_families_are_recognised_from_their_identity(identity: str, family: str) -> None:
    assert detect_profile(identity).name == family


def test_a_configured_family_wins_over_detection() -> None:
    assert detect_profile("huawei E173", "simcom").name == "simcom"
    with pytest.raises(ValueError):
        detect_profile("x", "nokia")
    assert {p.name for p in PROFILES} >= {"huawei", "simcom", "wavecom", "quectel", "generic"}


def test_rssi_to_dbm() -> None:
    assert rssi_to_dbm(0) == -113 and rssi_to_dbm(31) == -51 and rssi_to_dbm(99) is None


@pytest.mark.parametrize(
    ("manufacturer", "family", "extra"),
    [
        ("huawei", "huawei", "AT^CURC=0"),
        ("SIMCOM_Ltd", "simcom", "AT+CSDH=0"),
    ],
)
def test_init_runs_the_family_steps_and_carries_on_when_they_are_rejected(
    tmp_path: Path, manufacturer: str, family: str, extra: str
) -> None:
    with EmulatedModem(tmp_path / "m", manufacturer=manufacturer) as m:
        s = ATSession(m.port)
        s.open()
        try:
            info = initialise(s, ModemConfig(port=m.port))
        finally:
            s.close()
        assert info.family == family
        assert info.cnmi == "2,1,0,2,0" and info.smsc == "+6281100000" and info.signal == 18
        sent = [c for _s, _t, c in m.commands]
        assert extra in sent
        # PDU mode and notifications were set up after the family steps, whatever they answered
        assert "AT+CMGF=0" in sent and any(c.startswith("AT+CNMI=") for c in sent)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['+COPS: 0,0,"TELKOMSEL",7'], (0, "TELKOMSEL")),
        (['+COPS: 0,2,"51010",2'], (2, "51010")),
        (['+COPS: 1,1,"IM3"'], (1, "IM3")),
        (["+COPS: 0"], (None, None)),  # not registered: no operator
        (['+COPS: 0,0,"",0'], (None, None)),
        (["OK"], (None, None)),
    ],
)
def test_cops_answers_are_read(lines: list[str], expected: tuple[int | None, str | None]) -> None:
    assert network.parse_cops(lines) == expected


@pytest.mark.parametrize(("power_up_format", "asks_long_name"), [(0, False), (2, True)])
def test_the_operator_is_read_by_its_long_name(
    tmp_path: Path, power_up_format: int, asks_long_name: bool
) -> None:
    with EmulatedModem(tmp_path / "m", operator="TELKOMSEL", operator_format=power_up_format) as m:
        s = ATSession(m.port)
        s.open()
        try:
            assert network.read_operator(s, timeout=5) == "TELKOMSEL"
        finally:
            s.close()
        sent = [c for _s, _t, c in m.commands]
        assert ("AT+COPS=3,0" in sent) is asks_long_name


def test_a_modem_that_refuses_the_long_name_gives_the_numeric_one(tmp_path: Path) -> None:
    with EmulatedModem(tmp_path / "m", operator_format=2) as m:
        m.refuse_cops_format = True
        s = ATSession(m.port)
        s.open()
        try:
            assert network.read_operator(s, timeout=5) == "51010"
        finally:
            s.close()

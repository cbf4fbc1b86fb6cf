"""Network time (P15): the modem's clock (AT+CTZU=1, AT+CCLK?) on the emulated modem through the
real serial path, the in-process daemon correcting its clock from it, and the site's zone for
what people read."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms1708 import sitetime
from sms1708.clock import Clock
from sms1708.config import from_mapping
from sms1708.daemon import Daemon
from sms1708.errors import ConfigError
from sms1708.health import Health, prometheus
from sms1708.modem.at import ATSession
from sms1708.modem.emulator import EmulatedModem
from sms1708.modem.netclock import format_cclk, parse_cclk
from sms1708.store.sendgate import day_start

from .conftest import wait_until

WIB = dt.timezone(dt.timedelta(hours=7))
DAY = 86400.0


@pytest.fixture
def session(modem: EmulatedModem) -> Iterator[ATSession]:
    s = ATSession(modem.port)
    s.open()
    s.command("ATE0")
    yield s
    s.close()


def cclk(session: ATSession) -> dt.datetime | None:
    for line in session.command("AT+CCLK?"):
        if line.startswith("+CCLK:"):
            return parse_cclk(line)
    return None


def test_the_modem_clock_follows_the_network_only_with_time_zone_updates(
    modem: EmulatedModem, session: ATSession
) -> None:
    network = dt.datetime(2026, 12, 1, 9, 30, tzinfo=WIB)
    modem.set_network_time(network)
    unset = cclk(session)
    assert unset is not None and unset.year == 2004  # power-on default: not network time
    session.command("AT+CTZU=1")
    assert session.command("AT+CTZU?") == ["+CTZU: 1"]
    now = cclk(session)
    assert now is not None and abs((now - network).total_seconds()) < 60
    assert now.utcoffset() == dt.timedelta(hours=7)


def test_a_modem_without_time_zone_updates_answers_error(
    modem: EmulatedModem, session: ATSession
) -> None:
    modem.ctzu_supported = False
    assert session.try_command("AT+CTZU=1") is None


def test_an_sms_carries_the_network_time_as_its_smsc_timestamp(modem: EmulatedModem) -> None:
    network = dt.datetime(2026, 12, 1, 9, 30, tzinfo=WIB)
    modem.set_network_time(network)
    assert abs((modem.network_now() - network).total_seconds()) < 60


@given(
    st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31)),
    st.integers(-48, 56),
)
def test_cclk_round_trip(when: dt.datetime, quarters: int) -> None:
    zoned = when.replace(microsecond=0, tzinfo=dt.timezone(dt.timedelta(minutes=15 * quarters)))
    assert parse_cclk(format_cclk(zoned)) == zoned


@pytest.mark.parametrize(
    "line", ['+CCLK: "26/12/01,09:30:00"', "+CCLK: garbage", '+CCLK: "26/13/45,99:99:99+28"']
)
def test_a_cclk_answer_without_a_zone_or_out_of_range_is_not_network_time(line: str) -> None:
    assert parse_cclk(line) is None


@pytest.mark.timeout(60)
def test_the_daemon_takes_network_time_from_the_modem_clock(
    modem: EmulatedModem, tmp_path: Path
) -> None:
    """Option B: the in-process daemon with its wall clock injected 40 days behind."""
    network = dt.datetime.now(WIB)
    modem.set_network_time(network)
    behind = 40 * DAY
    t0 = _mono()
    clock = Clock(wall=lambda: network.timestamp() - behind + (_mono() - t0), mono=_mono)
    cfg = from_mapping(
        {
            "modem": {"port": modem.port, "poll_interval": 1.0},
            "store": {"path": str(tmp_path / "sms1708.db")},
            "replies": {"own_number": "+6281299990000"},
        }
    )
    d = Daemon(cfg, stop=threading.Event(), clock=clock)
    d.start()
    try:
        assert wait_until(lambda: clock.status()["network"], 30)
        d.tick()  # settles the jump, writes status
        s = clock.status()
        assert s["source"] == "modem" and s["warn"] is True
        assert s["off_by"] == pytest.approx(behind, abs=120)
        assert clock.now() == pytest.approx(network.timestamp(), abs=120)
        assert d.health.snapshot()["clock"]["off_by"] == pytest.approx(behind, abs=120)
    finally:
        d.shutdown()


def _mono() -> float:
    import time

    return time.monotonic()


# ------------------------------------------------------------------ the site's zone


@pytest.mark.parametrize(
    ("text", "hours"),
    [("WIB", 7), ("WITA", 8), ("wit", 9), ("Asia/Makassar", 8), ("+09:00", 9), ("+7", 7)],
)
def test_the_site_zone_is_an_indonesian_zone_a_name_or_an_offset(text: str, hours: int) -> None:
    zone = from_mapping({"site": {"timezone": text}}).site.zone()
    assert dt.datetime(2026, 12, 1, tzinfo=zone).utcoffset() == dt.timedelta(hours=hours)


def test_the_default_site_zone_is_wib_and_a_wrong_one_is_refused() -> None:
    zone = from_mapping({}).site.zone()
    assert dt.datetime(2026, 12, 1, tzinfo=zone).utcoffset() == dt.timedelta(hours=7)
    with pytest.raises(ConfigError, match=r"site\.timezone"):
        from_mapping({"site": {"timezone": "Mars/Olympus"}})


def test_the_daily_budget_starts_at_the_sites_midnight_not_the_boxs() -> None:
    """A box left in UTC in a WITA office: the day starts at 00:00 WITA (16:00 UTC)."""
    sitetime.use(from_mapping({"site": {"timezone": "WITA"}}))
    try:
        at = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC).timestamp()  # 11:00 WITA
        expected = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC).timestamp()
        assert day_start(at) == expected
        assert sitetime.local(at).strftime("%H:%M") == "11:00"
    finally:
        sitetime.use(from_mapping({}))


def test_the_metrics_carry_the_clock_offset() -> None:
    h = Health()
    h.update_clock({"off_by": 3600.0, "warn": True, "network": True, "source": "sms"})
    text = prometheus(h.snapshot(), {})
    assert "sms1708_clock_offset_seconds 3600.0" in text
    assert "sms1708_clock_wrong 1" in text


def test_status_shows_dates_in_the_sites_zone(tmp_path: Path) -> None:
    from sms1708.core.intake import IntakeRules
    from sms1708.core.pdu import decode_deliver, encode_deliver
    from sms1708.store.store import IncomingPart, Store

    from .conftest import write_config
    from .faults import cli

    db = tmp_path / "s.db"
    store = Store.open(db)
    [p] = encode_deliver(
        "+6281234567001", "LAPOR jalan rusak", dt.datetime(2026, 11, 30, 9, 0, tzinfo=WIB)
    )
    stored = dt.datetime(2026, 12, 1, 3, 4, 5, tzinfo=dt.UTC).timestamp()  # 11:04:05 WITA
    store.intake.ingest(
        "modem0", [IncomingPart("SM", 1, p, decode_deliver(p))], now=stored, rules=IntakeRules()
    )
    store.close()
    cfg = write_config(
        tmp_path / "c.toml", {"store": {"path": str(db)}, "site": {"timezone": "WITA"}}
    )
    out = cli(cfg, "status").out
    assert "oldest pending  2026-12-01 11:04:05" in out, out

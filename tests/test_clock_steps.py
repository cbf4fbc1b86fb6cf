"""Time you can trust (P15): `sms1708 run` as a process whose wall clock is stepped under it.

libfaketime moves the daemon's wall clock (only the daemon's: the emulated modem, the network's
time on it and the upstream stand-in run on the real clock in this process), the monotonic
clock is left alone, as when NTP steps a Raspberry Pi's clock. SMS arrive and the upstream is
down while the clock is stepped; afterwards every complaint is delivered exactly once, nothing
goes ``dead``, the daemon never restarts, and the step is logged once with its size.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from . import fakeclock
from .conftest import DaemonProcess, wait_until
from .faults import cli, query

DAY = 86400.0
HANG = 60.0  # hang guard for each wait; none of these is a speed assertion

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def libfaketime() -> str:
    lib = fakeclock.library()
    if lib is None:
        pytest.skip(f"clock-step tests need libfaketime: {fakeclock.why_not()}")
    return lib


def start(
    daemon: Any, cfg: Path, clock: fakeclock.FakeClock, lib: str, **env: str
) -> DaemonProcess:
    d: DaemonProcess = daemon(cfg, {**clock.env(lib), **env})
    assert d.wait_event("modem_ready", HANG), d.events()[-20:]
    return d


def outbox(db: Path) -> list[dict[str, Any]]:
    return query(db, "SELECT message_id, state, attempts, last_error FROM outbox ORDER BY 1")


def all_tried(db: Path, n: int, attempts: int = 1) -> bool:
    rows = outbox(db)
    return len(rows) == n and all(r["attempts"] >= attempts for r in rows)


def named(d: DaemonProcess, event: str) -> list[dict[str, Any]]:
    return [e for e in d.events() if e.get("event") == event]


def assert_delivered_once(upstream: StandIn, db: Path, n: int, since: int) -> None:
    """``n`` complaints accepted, none of them posted again after it was accepted."""
    assert upstream.wait_for(n, HANG), outbox(db)
    assert wait_until(lambda: all(r["state"] == "delivered" for r in outbox(db)), HANG), outbox(db)
    keys = [r.key for r in upstream.requests[since:]]
    assert sorted(set(keys)) == sorted(upstream.delivered()), keys
    assert len(keys) == n, f"a complaint was posted again after it was accepted: {keys}"


def assert_never_restarted(d: DaemonProcess) -> None:
    assert d.proc is not None and d.proc.poll() is None, "the daemon exited"
    assert len(named(d, "daemon_started")) == 1
    assert not named(d, "thread_died"), named(d, "thread_died")


def citizen(i: int) -> str:
    return f"+62812345678{i:02d}"


def test_clock_stepped_back_30_days_during_an_outage_the_queues_still_drain(
    modem: EmulatedModem,
    upstream: StandIn,
    make_config: Any,
    daemon: Any,
    tmp_path: Path,
    libfaketime: str,
) -> None:
    db = tmp_path / "sms1708.db"
    clock = fakeclock.FakeClock(tmp_path / "faketime", 0)
    upstream.mode = "fail"
    cfg = make_config(
        modem,
        upstream,
        modem={"poll_interval": 1.0},
        upstream={"breaker_pause": 0.5, "breaker_max_pause": 2.0},
    )
    d = start(daemon, cfg, clock, libfaketime)
    for i in range(2):
        modem.receive_sms(citizen(i), f"LAPOR jalan rusak di dusun {i} mohon diperbaiki")
    assert wait_until(lambda: all_tried(db, 2, attempts=2), HANG), outbox(db)

    clock.set(-30)  # the box's clock jumps back a month, the upstream is still down
    assert wait_until(lambda: bool(named(d, "clock_step")), HANG), d.events()[-20:]
    for i in range(2, 4):
        modem.receive_sms(citizen(i), f"LAPOR lampu jalan mati di gang {i} sudah seminggu")
    assert wait_until(lambda: all_tried(db, 4, attempts=1), HANG), outbox(db)

    since = len(upstream.requests)
    upstream.mode = "up"
    assert_delivered_once(upstream, db, 4, since)
    assert not [r for r in outbox(db) if r["state"] == "dead"]
    [step] = named(d, "clock_step")  # detected and logged once, with its size
    assert step["size"] == pytest.approx(-30 * DAY, abs=120)
    # nothing is due "in 30 days": every reply went out too
    assert wait_until(
        lambda: len(query(db, "SELECT id FROM replies WHERE state = 'sent'")) >= 4, HANG
    ), query(db, "SELECT state, next_attempt_at FROM replies")
    assert_never_restarted(d)
    # status says the box clock is off (it went back; trusted time did not follow it)
    status = cli(cfg, "status", "--json")
    data = json.loads(status.out)
    assert data["clock"]["warn"] is True, data["clock"]
    assert data["clock"]["off_by"] == pytest.approx(30 * DAY, abs=120)
    assert any("box clock off by 30 d" in a for a in data["alarms"]), data["alarms"]


def test_started_40_days_behind_then_ntp_steps_forward_nothing_goes_dead(
    modem: EmulatedModem,
    upstream: StandIn,
    make_config: Any,
    daemon: Any,
    tmp_path: Path,
    libfaketime: str,
) -> None:
    db = tmp_path / "sms1708.db"
    clock = fakeclock.FakeClock(tmp_path / "faketime", -40)
    upstream.mode = "fail"
    cfg = make_config(
        modem,
        upstream,
        modem={"poll_interval": 1.0},
        # a complaint older than a day gives up: a 40-day step on the wall clock would be that
        upstream={"max_age_days": 1.0, "breaker_pause": 0.5, "breaker_max_pause": 2.0},
        # no network time here: only the NTP step itself corrects the box
        clock={"network_time": False},
    )
    d = start(daemon, cfg, clock, libfaketime)
    for i in range(4):
        modem.receive_sms(citizen(i), f"LAPOR sampah menumpuk di pasar blok {i} bau sekali")
    assert wait_until(lambda: all_tried(db, 4, attempts=2), HANG), outbox(db)
    before = {r["message_id"]: r["attempts"] for r in outbox(db)}

    clock.set(0)  # NTP reaches a server and steps the clock forward 40 days
    assert wait_until(lambda: bool(named(d, "clock_rebased")), HANG), d.events()[-20:]
    # the upstream is still down: more failed attempts after the step, on the new clock
    assert wait_until(
        lambda: all(r["attempts"] > before[r["message_id"]] for r in outbox(db)), HANG
    ), outbox(db)
    assert not [r for r in outbox(db) if r["state"] == "dead"], outbox(db)

    since = len(upstream.requests)
    upstream.mode = "up"
    assert_delivered_once(upstream, db, 4, since)
    assert not any("gave up" in (r["last_error"] or "") for r in outbox(db)), outbox(db)
    [step] = named(d, "clock_step")
    assert step["size"] == pytest.approx(40 * DAY, abs=120)
    assert_never_restarted(d)
    # the ages measured what really elapsed (minutes), not the step
    ages = query(db, "SELECT delivered_at - queued_at AS age FROM outbox")
    assert all(0 <= r["age"] < DAY for r in ages), ages


def test_an_upstream_with_a_replay_window_accepts_once_network_time_corrects_the_box(
    modem: EmulatedModem,
    upstream: StandIn,
    make_config: Any,
    daemon: Any,
    tmp_path: Path,
    libfaketime: str,
) -> None:
    db = tmp_path / "sms1708.db"
    clock = fakeclock.FakeClock(tmp_path / "faketime", -40)  # a Pi booted without NTP
    upstream.signing_secret = "rahasia-bersama"
    upstream.replay_window = 300.0  # the upstream refuses a signature older than 5 minutes
    modem.nitz = False  # the operator sends no network time: the SMSC timestamps must do
    cfg = make_config(modem, upstream, modem={"poll_interval": 1.0})
    d = start(daemon, cfg, clock, libfaketime, SMS1708_SIGNING_SECRET="rahasia-bersama")
    for i in range(3):
        modem.receive_sms(citizen(i), f"LAPOR pungutan liar di kantor desa {i} tolong")
    assert_delivered_once(upstream, db, 3, 0)
    assert upstream.unauthorized == 0
    assert named(d, "clock_corrected"), d.events()[-20:]
    assert wait_until(lambda: bool(named(d, "clock_rebased")), HANG), d.events()[-20:]
    assert not [r for r in outbox(db) if r["state"] == "dead"]
    # every date the gateway wrote is on the network's clock, not 40 days back
    stored = query(db, "SELECT stored_at FROM messages")
    now = modem.network_now().timestamp()
    assert all(abs(r["stored_at"] - now) < DAY for r in stored), stored
    data = json.loads(cli(cfg, "status", "--json").out)
    assert data["clock"]["network"] is True
    assert data["clock"]["off_by"] == pytest.approx(40 * DAY, abs=300)
    assert any("box clock off by 40 d" in a for a in data["alarms"]), data["alarms"]
    assert_never_restarted(d)

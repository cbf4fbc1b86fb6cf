"""The daemon tells systemd and operators how it is: sd_notify READY/WATCHDOG, the status file
behind `sms1708 status`, the metrics file — and writes nothing when nothing happens."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from click.testing import CliRunner

from sms1708.cli import main
from sms1708.health import Health
from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

from .conftest import wait_until


def test_status_shows_the_running_daemon_and_its_modem(
    modem: EmulatedModem, upstream: StandIn, make_config, daemon, tmp_path: Path
) -> None:
    modem.cops_format = 2  # answers AT+COPS? with "51010" until asked for the long name
    cfg = make_config(
        modem, upstream, daemon={"metrics_file": str(tmp_path / "m.prom"), "metrics_interval": 1.0}
    )
    d = daemon(cfg)
    assert d.wait_event("modem_ready")
    modem.receive_sms("+6281234567890", "LAPOR lampu jalan mati")
    assert upstream.wait_for(1, 30)

    def status() -> dict:
        r = CliRunner().invoke(main, ["--config", str(cfg), "status", "--json"])
        return json.loads(r.output)

    assert wait_until(lambda: status()["modems"].get("modem0", {}).get("last_sms_at"), 30)
    s = status()
    assert s["daemon_running"] is True
    m = s["modems"]["modem0"]
    assert m["connected"] is True and m["family"] == "generic"
    assert m["operator"] == "TELKOMSEL"
    assert m["signal_dbm"] == -113 + 2 * 18
    assert m["storage"]["SM"][1] == 30
    assert s["replies_today"]["modem0"] >= 1
    human = CliRunner().invoke(main, ["--config", str(cfg), "status"])
    assert "connected, generic, signal -77 dBm, operator TELKOMSEL," in human.output
    assert wait_until(lambda: (tmp_path / "m.prom").exists(), 30)
    prom = (tmp_path / "m.prom").read_text()
    assert 'sms1708_modem_connected{modem="modem0"} 1' in prom
    assert "sms1708_queue_items" in prom
    assert d.terminate() == 0
    after = CliRunner().invoke(main, ["--config", str(cfg), "status", "--json"])
    assert after.exit_code == 1 and json.loads(after.output)["daemon_running"] is False


def test_sd_notify_ready_and_watchdog(
    modem: EmulatedModem, make_config, daemon, tmp_path: Path
) -> None:
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(30)
    try:
        d = daemon(
            make_config(modem),
            env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000"},
        )
        got: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            "READY=1" in got and got.count("WATCHDOG=1") >= 2
        ):
            got.append(sock.recv(4096).decode())
        assert "READY=1" in got and got.count("WATCHDOG=1") >= 2, got
        assert d.terminate() == 0
    finally:
        sock.close()


def test_an_idle_daemon_writes_nothing_to_disk(
    modem: EmulatedModem, make_config, daemon, tmp_path: Path
) -> None:
    cfg = make_config(modem, modem={"poll_interval": 0.5})
    d = daemon(cfg)
    assert d.wait_event("modem_ready")
    files = [
        tmp_path / "sms1708.db",
        tmp_path / "sms1708.db-wal",
        tmp_path / "sms1708.db.status.json",
    ]
    assert wait_until(lambda: all(f.exists() for f in files), 30)
    time.sleep(3)  # let start-up writes settle (this is not a timing assertion)
    before = {f: (os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in files}
    # several polls (every 0.5 s) happen now, with nothing arriving
    assert wait_until(lambda: len(d.events()) > 0, 5)
    polls_before = len(modem.commands)
    assert wait_until(lambda: len(modem.commands) > polls_before + 10, 30)
    after = {f: (os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in files}
    assert after == before
    assert d.terminate() == 0


def test_a_modem_is_reported_on_once_registered_and_asking_does_not_register_it() -> None:
    h = Health()
    assert h.modem("modem0") is None
    assert "modem0" not in h.snapshot()["modems"]
    entry = h.register_modem("modem0", "/dev/ttyUSB0")
    assert h.modem("modem0") is entry and h.register_modem("modem0") is entry

"""`sms1708 demo` and `sms1708 simulate`, run as a user runs them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import serial

from sms1708.store.store import Store
from sms1708.web import passwords

from .conftest import ROOT


def test_demo_ends_by_itself_with_exit_0_and_a_summary(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "sms1708", "demo", "--keep", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,  # hang guard; the demo itself promises under a minute
        cwd=ROOT,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "demo OK" in out
    assert "delivered upstream    6 of 6" in out
    assert "queue                 empty" in out and "emulated SIM          empty" in out
    assert "+6281234560001" not in out  # numbers masked on screen too
    # --keep leaves the data for `sms1708 status` and friends
    assert (tmp_path / "demo" / "sms1708.db").exists()
    # ... and for the web console, with an admin account whose password is printed once
    m = re.search(r"user: (\S+)   password: (\S+)", out)
    assert m and "web" in out and "http://127.0.0.1:8708/" in out, out
    store = Store.open(tmp_path / "demo" / "sms1708.db", create=False)
    user = store.accounts.user(m.group(1))
    assert user is not None and user.role == "admin"
    assert passwords.verify(user.password_hash, m.group(2))
    assert out.count(m.group(2)) == 1


def test_simulate_prints_its_port_and_takes_commands(tmp_path: Path) -> None:
    link = tmp_path / "sim-modem"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sms1708", "simulate", "--link", str(link)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        first = proc.stdout.readline()
        assert str(link) in first
        assert "--sms" in proc.stdout.readline()
        with serial.Serial(str(link), 115200, timeout=5) as port:
            proc.stdin.write("sms +6281234567890 LAPOR jalan rusak\n")
            proc.stdin.flush()
            answer = proc.stdout.readline()
            assert answer.strip(), answer
            port.write(b"ATE0\r")
            port.write(b"AT+CPMS?\r")
            seen = b""
            while b"+CPMS:" not in seen or not seen.rstrip().endswith(b"OK"):
                chunk = port.read(64)
                assert chunk, seen
                seen += chunk
            assert b'"SM",1,' in seen  # the injected SMS is stored on the emulated SIM
        # a second terminal plays another citizen through the control socket
        other = subprocess.run(
            [
                sys.executable,
                "-m",
                "sms1708",
                "simulate",
                "--link",
                str(link),
                "--sms",
                "+6285312340002",
                "ASPIRASI taman baca",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert other.returncode == 0, other.stdout + other.stderr
        with serial.Serial(str(link), 115200, timeout=5) as port:
            port.write(b"AT+CPMS?\r")
            seen = b""
            while b"+CPMS:" not in seen or not seen.rstrip().endswith(b"OK"):
                chunk = port.read(64)
                assert chunk, seen
                seen += chunk
            assert b'"SM",2,' in seen
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()

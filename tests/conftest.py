"""Shared fixtures: the real parts. An emulated modem on a pty (opened by pyserial exactly like
a USB modem), a real HTTP server on 127.0.0.1, real SQLite files, the daemon in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def modem(tmp_path: Path) -> Iterator[EmulatedModem]:
    m = EmulatedModem(tmp_path / "modem")
    m.start()
    yield m
    m.stop()


@pytest.fixture
def upstream() -> Iterator[StandIn]:
    s = StandIn().up()
    yield s
    s.stop()


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def write_config(path: Path, sections: dict[str, Any]) -> Path:
    """Write a TOML config: a dict is a [table], a list of dicts an [[array of tables]]."""
    lines: list[str] = []
    for name, values in sections.items():
        tables = values if isinstance(values, list) else [values]
        for table in tables:
            lines.append(f"[[{name}]]" if isinstance(values, list) else f"[{name}]")
            lines.extend(f"{k} = {toml_value(v)}" for k, v in table.items())
            lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    def make(
        emulated: EmulatedModem | None = None,
        standin: StandIn | None = None,
        /,
        **sections: dict[str, Any],
    ) -> Path:
        base: dict[str, dict[str, Any]] = {
            "modem": {"port": emulated.port if emulated else "", "poll_interval": 2.0},
            "store": {"path": str(tmp_path / "sms1708.db")},
            "upstream": {
                "url": standin.url if standin else "",
                "timeout": 3.0,
                "connect_timeout": 1.0,
                "retry_base": 0.5,
                "retry_cap": 2.0,
            },
            "replies": {"own_number": "+6281299990000"},
            "log": {"format": "json"},
        }
        for name, values in sections.items():
            base.setdefault(name, {}).update(values)
        return write_config(tmp_path / "sms1708.toml", base)

    return make


class DaemonProcess:
    """`sms1708 run` in a subprocess, its log captured to a file."""

    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.log_path = config.with_suffix(".log")
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sms1708", "--config", str(self.config), "run"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=ROOT,
        )
        return self

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"event": "<not json>", "line": line})
        return out

    def wait_event(self, name: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("event") == name for e in self.events()):
                return True
            if self.proc is not None and self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.stop()

    def kill(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        if not self._log.closed:
            self._log.close()


@pytest.fixture
def daemon() -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, env: dict[str, str] | None = None) -> DaemonProcess:
        d = DaemonProcess(config, env).start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def wait_until(cond: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``cond`` until true; the timeout is a hang guard, not a speed assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


#: lines a test wants shown in the terminal summary (the grammar's accuracy table)
SUMMARY_LINES: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY_LINES:
        terminalreporter.section("grammar accuracy (tests/data/sms_meaning.txt)")
        for line in SUMMARY_LINES:
            terminalreporter.write_line(line)

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
from hypothesis import HealthCheck, settings
from xdist.scheduler import LoadScopeScheduling

from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis: no per-example deadline and no "too slow" health check - both are timings, and the
# suite runs in parallel on a shared, loaded machine (pytest-timeout is the hang guard). CI
# (CI=true, as .ci/run is run) also derandomizes, so the same examples run every time there.
settings.register_profile(
    "sms1708", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("sms1708-ci", parent=settings.get_profile("sms1708"), derandomize=True)
settings.load_profile("sms1708-ci" if os.environ.get("CI") else "sms1708")

#: modules whose tests share an expensive module-scoped set-up (a pip install, a browser, the
#: console and its daemon), or run in order on one set-up (the browser tests): under
#: `pytest -n N --dist loadgroup` (as `make test` runs) each goes whole to one worker, so its
#: set-up runs once; every other test is scheduled on its own.
SHARED_SETUP = (
    "tests/test_deploy.py",
    "tests/web/test_web_browser.py",
    "tests/web/test_web_security.py",
    "tests/web/test_web_followups.py",
)


class _SharedSetUpScheduling(LoadScopeScheduling):
    """xdist's scope scheduling where a scope is a module of SHARED_SETUP or else one test.

    (xdist's own `loadgroup` marks groups by rewriting node ids, which pytest 9.2 no longer
    allows: pytest-xdist issue 1386; this needs neither marks nor rewritten ids.)"""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return path if path in SHARED_SETUP else nodeid


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadgroup":
        return None
    config.option.loadscopereorder = False  # keep the order below: the long ones first
    return _SharedSetUpScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The shared set-ups and the long scenarios first: a worker that picked one up last would
    finish alone while the others idle. (The order within a module is kept.)"""

    def rank(item: pytest.Item) -> int:
        if item.nodeid.split("::", 1)[0] in SHARED_SETUP:
            return 0
        return 1 if item.get_closest_marker("slow") else 2

    items.sort(key=rank)


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

"""Shared parts of the benchmarks: the daemon as a subprocess, /proc readers, the result rows."""

from __future__ import annotations

import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
LINE_BYTES_PER_SECOND = 115200 / 10  # 8N1: ten bits on the wire per byte


@dataclass
class Row:
    """One figure of the results table."""

    bench: str
    metric: str
    value: float | int | str | bool | None
    unit: str = ""
    goal: str = ""
    note: str = ""


@dataclass
class Outcome:
    """What one benchmark produced: its rows and any raw detail for ``--json``."""

    name: str
    rows: list[Row] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def add(self, metric: str, value: Any, unit: str = "", goal: str = "", note: str = "") -> None:
        self.rows.append(Row(self.name, metric, value, unit, goal, note))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": round(self.seconds, 2),
            "error": self.error,
            "rows": [asdict(r) for r in self.rows],
            "detail": self.detail,
        }


# ------------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "arch": platform.machine(),
        "cpu": model or platform.processor() or "?",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg": _loadavg(),
    }


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ------------------------------------------------------------------------------- config


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    lines: list[str] = []
    for name, table in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def daemon_config(
    workdir: Path,
    *,
    port: str = "",
    url: str = "",
    modem: dict[str, Any] | None = None,
    upstream: dict[str, Any] | None = None,
) -> Path:
    """A config for `sms1708 run`: store in ``workdir``, JSON logs, defaults otherwise."""
    sections: dict[str, dict[str, Any]] = {
        "modem": {"port": port, "baudrate": 115200, **(modem or {})},
        "store": {"path": str(workdir / "sms1708.db")},
        "upstream": {"url": url, **(upstream or {})},
        "replies": {"own_number": "+6281299990000"},
        "log": {"format": "json", "level": "info"},
    }
    return write_config(workdir / "sms1708.toml", sections)


# ------------------------------------------------------------------------------- daemon


def iso_to_epoch(stamp: str) -> float:
    """structlog's ISO timestamp (UTC, microseconds, trailing Z) -> unix time."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def mono_offset() -> float:
    """time.time() - time.monotonic(), sampled tightly (to map daemon wall times to ours)."""
    best = (1.0, 0.0)
    for _ in range(5):
        a = time.monotonic()
        w = time.time()
        b = time.monotonic()
        if b - a < best[0]:
            best = (b - a, w - (a + b) / 2)
    return best[1]


class Daemon:
    """`sms1708 run` in a subprocess (as tests/conftest.py does), its JSON log in a file."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log_path = config.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_mono = 0.0
        self._events: list[dict[str, Any]] = []
        self._offset = 0
        self._partial = b""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Daemon:
        with open(self.log_path, "ab") as log:
            self.started_mono = time.monotonic()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sms1708", "--config", str(self.config), "run"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                cwd=ROOT,
                start_new_session=True,  # a Ctrl-C at the terminal is ours to forward
            )
        return self

    def events(self) -> list[dict[str, Any]]:
        """All log events so far (read incrementally)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return self._events
        self._offset += len(data)
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            try:
                self._events.append(json.loads(line))
            except json.JSONDecodeError:
                self._events.append({"event": "<not json>", "line": line.decode(errors="replace")})
        return self._events

    def find(self, name: str) -> dict[str, Any] | None:
        return next((e for e in self.events() if e.get("event") == name), None)

    def wait_event(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            event = self.find(name)
            if event is not None:
                return event
            if self.proc is not None and self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(
                    f"daemon exited ({self.proc.returncode}) before {name!r}: " + " | ".join(tail)
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {name!r} event from the daemon within {timeout:g}s")
            time.sleep(0.01)

    def problems(self) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("level") in ("warning", "error", "critical")]

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not go. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


# ------------------------------------------------------------------------------- /proc


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM, ... in kB from /proc/<pid>/status."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key.startswith("Vm") and rest.strip().endswith("kB"):
            out[key] = int(rest.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


# ------------------------------------------------------------------------------- helpers


def wait_for(cond: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def ro_connect(db: Path) -> sqlite3.Connection:
    """A read-only connection (the daemon owns the file)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]

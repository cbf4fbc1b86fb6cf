"""Health: what the daemon knows about itself, for `sms1708 status`, metrics and the watchdog.

The daemon's loops report into one :class:`Health` object (thread-safe). The daemon writes a
snapshot to a small JSON status file *only when something an operator cares about changed*
(a modem connected or lost, storage use, signal, an SMS arrived, the upstream came back):
no periodic disk writes on an idle box, whose SD card would wear out. Under systemd the file
lives in ``/run/sms1708`` (RAM). Metrics in the Prometheus text format are written the same
way, to a file, only when configured.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sms1708.errors import describe, scrub

#: fields that change on every loop and do not make the status file "dirty" by themselves
VOLATILE = frozenset({"last_poll_at", "heartbeat"})


@dataclass
class ModemHealth:
    name: str
    port: str
    connected: bool = False
    family: str | None = None
    operator: str | None = None  # the network operator, as AT+COPS? names it ("TELKOMSEL")
    csq: int | None = None
    signal_dbm: int | None = None
    storage: dict[str, list[int]] = field(default_factory=dict)  # memory -> [used, total]
    last_sms_at: float | None = None
    last_poll_at: float | None = None
    problem: str | None = None  # the last thing that went wrong, for operators
    unsupported_memories: list[str] = field(default_factory=list)  # answered ERROR: not polled
    stuck_slots: dict[str, int] = field(default_factory=dict)  # "SM:3" -> refused deletions


class Health:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.modems: dict[str, ModemHealth] = {}
        self.upstream: dict[str, Any] = {
            "configured": False,
            "last_success_at": None,
            "circuit_open_until": None,
            "problem": None,
        }
        #: per destination (``[[upstream.destination]]``): name -> the same fields as upstream
        self.destinations: dict[str, dict[str, Any]] = {}
        self.heartbeats: dict[str, float] = {}
        #: loops in trouble: name -> failures in a row, since, last error, retry in, alarm
        self.loops: dict[str, dict[str, Any]] = {}
        self.started_at = time.time()
        #: the box clock against network time (see sms1708/clock.py)
        self.clock: dict[str, Any] = {"off_by": 0.0, "warn": False, "network": False}
        #: "now" for the dates written here: the daemon's trusted clock
        self.now: Callable[[], float] = time.time
        self._dirty = True

    def register_modem(self, name: str, port: str = "") -> ModemHealth:
        """Start reporting on modem ``name`` (once; a second call returns the same entry)."""
        with self._lock:
            if name not in self.modems:
                self.modems[name] = ModemHealth(name, port)
                self._dirty = True
            return self.modems[name]

    def modem(self, name: str) -> ModemHealth | None:
        """What is known about modem ``name`` (None: it was never registered)."""
        with self._lock:
            return self.modems.get(name)

    def update_modem(self, name: str, **changes: Any) -> None:
        changes = _scrubbed(changes)
        with self._lock:
            m = self.modems.setdefault(name, ModemHealth(name, ""))
            for k, v in changes.items():
                if getattr(m, k) != v:
                    setattr(m, k, v)
                    if k not in VOLATILE:
                        self._dirty = True

    def update_upstream(self, **changes: Any) -> None:
        changes = _scrubbed(changes)
        with self._lock:
            for k, v in changes.items():
                if self.upstream.get(k) != v:
                    self.upstream[k] = v
                    self._dirty = True

    def update_clock(self, status: dict[str, Any]) -> None:
        with self._lock:
            if status != self.clock:
                self.clock = dict(status)
                self._dirty = True

    def update_destination(self, name: str, *, primary: bool = True, **changes: Any) -> None:
        """One destination's state (`status` shows each); the primary's is the upstream's."""
        changes = _scrubbed(changes)
        with self._lock:
            d = self.destinations.setdefault(name, {"primary": primary})
            for k, v in changes.items():
                if d.get(k) != v:
                    d[k] = v
                    self._dirty = True
        if primary:
            self.update_upstream(**changes)

    def set_loop(self, name: str, trouble: dict[str, Any] | None) -> None:
        """A loop's trouble (None: all well again)."""
        with self._lock:
            if trouble is None:
                if self.loops.pop(name, None) is not None:
                    self._dirty = True
            elif self.loops.get(name) != trouble:
                self.loops[name] = trouble
                self._dirty = True

    def beat(self, loop: str) -> None:
        """A loop says it is alive (monotonic clock)."""
        self.heartbeats[loop] = time.monotonic()

    def stale(self, limits: dict[str, float]) -> list[str]:
        """Loops whose last heartbeat is older than their limit (seconds)."""
        now = time.monotonic()
        return [
            name for name, limit in limits.items() if now - self.heartbeats.get(name, 0.0) > limit
        ]

    def take_dirty(self) -> bool:
        with self._lock:
            dirty, self._dirty = self._dirty, False
            return dirty

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "pid": os.getpid(),
                "started_at": self.started_at,
                "written_at": self.now(),
                "clock": dict(self.clock),
                "modems": {n: asdict(m) for n, m in self.modems.items()},
                "upstream": dict(self.upstream),
                "destinations": {n: dict(d) for n, d in self.destinations.items()},
                "loops": {n: dict(t) for n, t in self.loops.items()},
            }


def _scrubbed(changes: dict[str, Any]) -> dict[str, Any]:
    """A ``problem`` (shown by `status`, written to status.json) never carries an SMS text."""
    problem = changes.get("problem")
    if isinstance(problem, BaseException):
        changes["problem"] = describe(problem)
    elif isinstance(problem, str):
        changes["problem"] = scrub(problem)
    return changes


def default_status_path(store_path: str) -> str:
    """``$RUNTIME_DIRECTORY/status.json`` under systemd, else next to the database."""
    runtime = os.environ.get("RUNTIME_DIRECTORY")
    if runtime:
        return str(Path(runtime.split(":")[0]) / "status.json")
    return f"{store_path}.status.json"


def status_candidates(status_file: str, store_path: str) -> list[str]:
    """Where a CLI should look for the daemon's status file (it may run outside systemd)."""
    if status_file:
        return [status_file]
    out = [default_status_path(store_path), "/run/sms1708/status.json", f"{store_path}.status.json"]
    return list(dict.fromkeys(out))


def latest_status(status_file: str, store_path: str) -> dict[str, Any] | None:
    found = [s for s in (read_status(p) for p in status_candidates(status_file, store_path)) if s]
    return max(found, key=lambda s: float(s.get("written_at") or 0), default=None)


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write via a temporary file and rename: a reader never sees half a file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o640)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_status(path: str) -> dict[str, Any] | None:
    """The daemon's last status snapshot, or None when there is none (daemon never ran)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prometheus(
    snapshot: dict[str, Any],
    counts: dict[str, dict[str, int]],
    destinations: dict[str, dict[str, int]] | None = None,
) -> str:
    """Metrics in the Prometheus text exposition format (``destinations``: deliveries by
    destination and state, :meth:`~sms1708.store.queries.ReadStore.destination_counts`)."""
    lines = [
        "# HELP sms1708_queue_items Complaints in the upstream queue, by state.",
        "# TYPE sms1708_queue_items gauge",
    ]
    for state, n in sorted(counts.get("outbox", {}).items()):
        lines.append(f'sms1708_queue_items{{state="{state}"}} {n}')
    lines += [
        "# HELP sms1708_replies Reply SMS, by state.",
        "# TYPE sms1708_replies gauge",
    ]
    for state, n in sorted(counts.get("replies", {}).items()):
        lines.append(f'sms1708_replies{{state="{state}"}} {n}')
    lines += [
        "# HELP sms1708_parts Stored SMS parts, by status.",
        "# TYPE sms1708_parts gauge",
    ]
    for status, n in sorted(counts.get("parts", {}).items()):
        lines.append(f'sms1708_parts{{status="{status}"}} {n}')
    lines += [
        "# HELP sms1708_modem_connected 1 when the modem is up.",
        "# TYPE sms1708_modem_connected gauge",
        "# HELP sms1708_modem_signal_dbm Signal strength in dBm.",
        "# TYPE sms1708_modem_signal_dbm gauge",
        "# HELP sms1708_modem_storage_used SMS stored on the modem/SIM, by memory.",
        "# TYPE sms1708_modem_storage_used gauge",
    ]
    for name, m in sorted(snapshot.get("modems", {}).items()):
        lines.append(f'sms1708_modem_connected{{modem="{name}"}} {int(bool(m["connected"]))}')
        if m.get("signal_dbm") is not None:
            lines.append(f'sms1708_modem_signal_dbm{{modem="{name}"}} {m["signal_dbm"]}')
        for mem, (used, _total) in sorted(m.get("storage", {}).items()):
            lines.append(f'sms1708_modem_storage_used{{modem="{name}",memory="{mem}"}} {used}')
    lines += [
        "# HELP sms1708_loop_failures Failures in a row of a long-running loop (0: all well).",
        "# TYPE sms1708_loop_failures gauge",
    ]
    for name, t in sorted(snapshot.get("loops", {}).items()):
        lines.append(f'sms1708_loop_failures{{loop="{name}"}} {int(t.get("failures") or 0)}')
    clock = snapshot.get("clock", {})
    lines += [
        "# HELP sms1708_clock_offset_seconds Network time minus the box clock (0: right).",
        "# TYPE sms1708_clock_offset_seconds gauge",
        f"sms1708_clock_offset_seconds {float(clock.get('off_by') or 0.0)}",
        "# HELP sms1708_clock_wrong 1 when the box clock is off by more than a few minutes.",
        "# TYPE sms1708_clock_wrong gauge",
        f"sms1708_clock_wrong {int(bool(clock.get('warn')))}",
    ]
    last = snapshot.get("upstream", {}).get("last_success_at")
    lines += [
        "# HELP sms1708_upstream_last_success_timestamp_seconds Last delivery upstream.",
        "# TYPE sms1708_upstream_last_success_timestamp_seconds gauge",
        f"sms1708_upstream_last_success_timestamp_seconds {last or 0}",
    ]
    lines += _destination_metrics(snapshot.get("destinations") or {}, destinations or {})
    return "\n".join(lines) + "\n"


def _destination_metrics(
    health: dict[str, dict[str, Any]], counts: dict[str, dict[str, int]]
) -> list[str]:
    lines = [
        "# HELP sms1708_deliveries Deliveries in the upstream queue, by destination and state.",
        "# TYPE sms1708_deliveries gauge",
    ]
    for name, states in sorted(counts.items()):
        for state, n in sorted(states.items()):
            lines.append(f'sms1708_deliveries{{destination="{name}",state="{state}"}} {n}')
    lines += [
        "# HELP sms1708_destination_last_success_timestamp_seconds Last delivery, by destination.",
        "# TYPE sms1708_destination_last_success_timestamp_seconds gauge",
        "# HELP sms1708_destination_circuit_open 1 while its breaker holds the queue.",
        "# TYPE sms1708_destination_circuit_open gauge",
    ]
    for name, h in sorted(health.items()):
        last = h.get("last_success_at") or 0
        lines.append(
            f'sms1708_destination_last_success_timestamp_seconds{{destination="{name}"}} {last}'
        )
        is_open = int(bool(h.get("circuit_open_until")))
        lines.append(f'sms1708_destination_circuit_open{{destination="{name}"}} {is_open}')
    return lines

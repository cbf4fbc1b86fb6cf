"""Benchmark 4: the idle daemon. Nothing arrives; what does it cost?

`sms1708 run` against the emulated modem (unpaced) and the StandIn. Three SMS go through the
whole pipeline first (stored, answered, forwarded), so the database is not a fresh file; then
nothing happens for the idle window. Measured: RSS at the end, CPU seconds per minute (utime +
stime of all threads, from /proc/<pid>/stat), AT traffic and log lines, and whether the database
files (``.db``, ``-wal``; ``-shm`` shown too) changed size or mtime, sampled every second.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Daemon,
    Outcome,
    cpu_seconds,
    daemon_config,
    proc_status,
    ro_connect,
    wait_for,
)
from benchmarks.corpus import sender_for
from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

SUFFIXES = ("", "-wal", "-shm")


def _stat(db: Path) -> dict[str, tuple[int, int] | None]:
    out: dict[str, tuple[int, int] | None] = {}
    for suffix in SUFFIXES:
        try:
            st = os.stat(f"{db}{suffix}")
            out[suffix or ".db"] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            out[suffix or ".db"] = None
    return out


def _busy(conn: sqlite3.Connection) -> int:
    """Upstream items and replies still to do."""
    n = 0
    for sql in (
        "SELECT COUNT(*) FROM outbox WHERE state IN ('queued','sending','retry','ambiguous')",
        "SELECT COUNT(*) FROM replies WHERE state IN ('queued','sending','retry')",
    ):
        n += int(conn.execute(sql).fetchone()[0])
    return n


def _reply_delays(conn: sqlite3.Connection) -> dict[str, float]:
    """Longest wait from queued to sent, per reply purpose (receipt, tracking, ...)."""
    try:
        rows = conn.execute(
            "SELECT purpose, MAX(sent_at - created_at) FROM replies"
            " WHERE sent_at IS NOT NULL GROUP BY purpose"
        ).fetchall()
    except sqlite3.Error:
        return {}
    return {str(p): float(d) for p, d in rows}


def _wait_still(modem: EmulatedModem, db: Path, quiet: float, timeout: float) -> None:
    """Until neither the line nor the database files changed for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, marks, since = _stat(db), len(modem.log), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.1)
        now, n = _stat(db), len(modem.log)
        if now != last or n != marks:
            last, marks, since = now, n, time.monotonic()


def run(quick: bool) -> Outcome:
    out = Outcome("idle")
    window = 5.0 if quick else 60.0
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-idle-") as tmp:
        work = Path(tmp)
        db = work / "sms1708.db"
        modem = EmulatedModem(work / "modem").start()
        server = StandIn().up()
        daemon: Daemon | None = None
        try:
            daemon = Daemon(daemon_config(work, port=modem.port, url=server.url)).start()
            daemon.wait_event("modem_ready", timeout=60)
            for i in range(3):
                modem.receive_sms(sender_for(9000 + i), f"LAPOR lampu jalan mati di dusun {i + 1}")
            if not server.wait_for(3, timeout=60):
                raise TimeoutError("the warm-up complaints were not forwarded")
            if not wait_for(lambda: len(modem.sent) >= 3, 60):
                raise TimeoutError("the warm-up receipts were not sent")
            conn = ro_connect(db)
            try:
                # settle: everything the warm-up queued is done (the replies a delivery queues
                # included), then the line and the files stay quiet for a moment
                settled = wait_for(lambda: _busy(conn) == 0, 60, interval=0.1)
                replies = _reply_delays(conn)
            finally:
                conn.close()
            _wait_still(modem, db, 2.0, 30.0)

            t0 = time.monotonic()
            cpu0 = cpu_seconds(daemon.pid)
            files0 = _stat(db)
            cmds0, log0, events0 = len(modem.commands), len(modem.log), len(daemon.events())
            changes: list[dict[str, Any]] = []
            last = files0
            while time.monotonic() - t0 < window:
                time.sleep(min(1.0, max(0.0, window - (time.monotonic() - t0))))
                now = _stat(db)
                for name, value in now.items():
                    if value != last[name]:
                        changes.append(
                            {"t": round(time.monotonic() - t0, 1), "file": name, "to": value}
                        )
                last = now
            elapsed = time.monotonic() - t0
            cpu = cpu_seconds(daemon.pid) - cpu0
            status = proc_status(daemon.pid)
            commands = [c for _s, _t, c in list(modem.commands)[cmds0:]]
            line = list(modem.log)[log0:]
            events = daemon.events()[events0:]
            changed = sorted({c["file"] for c in changes})
            out.detail = {
                "window_s": elapsed,
                "cpu_s": cpu,
                "cpu_s_per_min": cpu / elapsed * 60,
                "rss_kb": status.get("VmRSS"),
                "hwm_kb": status.get("VmHWM"),
                "files_before": files0,
                "files_after": last,
                "changes": changes,
                "at_commands": len(commands),
                "cmgl": sum(1 for c in commands if c.upper().startswith("AT+CMGL")),
                "polls": sum(1 for c in commands if c.upper() == 'AT+CPMS="SM"'),
                "line_bytes": sum(len(e[3]) for e in line),
                "log_events": [e.get("event") for e in events],
            }
            out.detail["warm_up_settled"] = settled
            out.detail["reply_delay_s"] = replies
            out.add(
                "idle window",
                round(elapsed, 1),
                "s",
                note="after 3 SMS went through (stored, answered, forwarded)"
                + ("" if settled else "; warm-up NOT settled within 60 s"),
            )
            if replies:
                out.add(
                    "warm-up: longest reply wait, queued -> sent",
                    ", ".join(f"{p} {d:.2f}" for p, d in sorted(replies.items())),
                    "s",
                    note="modem.poll_interval is 10 s by default",
                )
            out.add("RSS at the end (VmRSS)", round(status.get("VmRSS", 0) / 1024, 1), "MB")
            out.add(
                "CPU used per minute",
                round(cpu / elapsed * 60, 3),
                "s/min",
                note=f"{cpu:.2f} s in {elapsed:.0f} s ({cpu / elapsed * 100:.2f} % of a core)",
            )
            main_changed = [n for n in changed if n in (".db", "-wal")]
            out.add(
                "database files changed while idle",
                "yes: " + ", ".join(main_changed) if main_changed else "no",
                "",
                "no",
                f"{len(changes)} size/mtime changes seen"
                + (f" (incl. {', '.join(changed)})" if changes else ""),
            )
            out.add(
                "AT traffic while idle",
                f"{len(commands)} commands, {out.detail['line_bytes']} B",
                "",
                note=f"{out.detail['polls']} storage polls, {out.detail['cmgl']} AT+CMGL",
            )
            out.add(
                "log lines while idle",
                len(events),
                "",
                note=", ".join(sorted({str(e.get("event")) for e in events})) or "none",
            )
        finally:
            if daemon is not None:
                daemon.stop()
            server.stop()
            modem.stop()
    return out

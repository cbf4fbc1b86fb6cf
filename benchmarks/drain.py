"""Benchmark 1: drain a full SIM at the serial-line limit (and without pacing: the CPU ceiling).

The emulated modem holds a realistic mix of stored SMS (silently, across "SM" and "ME"); then
`sms1708 run` starts and we measure from its ``modem_ready`` event until the SIM is empty, and
what crossed the line meanwhile, from the emulator's ``log``.

How the emulator's ``log`` records bytes: one event per ``os.read`` (``rx``, stamped when read,
before the paced wait) and one per complete ``_write`` (``tx``, stamped after the last paced
chunk went out), each holding ``data.decode("utf-8", "backslashreplace")``. For pure ASCII
that text has exactly one character per byte; any other byte would widen (``\\xff`` is four
characters), so the benchmark counts ``len(text)`` only after checking that every event is
ASCII, and reports the line as not exact otherwise. (A ``tx`` write the DTE never read is not
logged at all; the benchmark checks that every part reached the database.)

The window: from the first byte the daemon sends after ``modem_ready`` (the daemon is another
process and may stamp ``modem_ready`` before the emulator has logged the last ``OK`` of the
init dialogue) to the record of the last ``AT+CMGD``, which the emulator writes after its
``OK``; elapsed time is measured from ``modem_ready`` itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import tempfile
import time
import tty
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import (
    LINE_BYTES_PER_SECOND,
    Daemon,
    Outcome,
    daemon_config,
    iso_to_epoch,
    mono_offset,
    proc_status,
    ro_connect,
)
from benchmarks.corpus import make_mix
from sms1708.modem.emulator import EmulatedModem, LogEvent

REPEATS = 3
REFERENCE = "Gammu SMSD 1.42 ~17 SMS/s (~6 s to start); SMS Server Tools 3 ~4 SMS/s"


def _line_busy(events: Sequence[LogEvent], t0: float, t1: float) -> float:
    """Seconds in [t0, t1] when at least one direction of a 115200 8N1 line was busy."""
    spans: list[tuple[float, float]] = []
    for _seq, t, direction, text in events:
        dur = len(text) / LINE_BYTES_PER_SECOND
        a, b = (t - dur, t) if direction == "tx" else (t, t + dur)
        spans.append((max(a, t0), min(b, t1)))
    spans.sort()
    busy, end = 0.0, t0
    for a, b in spans:
        if b <= end:
            continue
        busy += b - max(a, end)
        end = b
    return busy


def _idle(events: Sequence[LogEvent], t0: float, t1: float) -> dict[str, Any]:
    """Where the idle time of the line in [t0, t1] went.

    The line is idle either because it waits for the daemon (after the modem's answer, or after
    ``modem_ready``: the daemon's turn, e.g. the ingest commit after an ``AT+CMGL`` listing) or
    because it waits for the modem (after the daemon's command: the emulator's turn, including
    its pacing running slower than nominal on long answers).
    """
    gaps: list[dict[str, Any]] = []
    end, before, turn = t0, "modem_ready", "daemon"
    for _seq, t, direction, text in sorted(events, key=lambda e: e[1]):
        dur = len(text) / LINE_BYTES_PER_SECOND
        a, b = (t - dur, t) if direction == "tx" else (t, t + dur)
        if a > end:
            gaps.append({"s": a - end, "turn": turn, "after": before})
        if b > end:
            end = b
            first = text.strip().splitlines()[0] if text.strip() else text
            before = f"{direction} {first[:30]!r} ({len(text)} B)"
            turn = "daemon" if direction == "tx" else "modem"
    if t1 > end:
        gaps.append({"s": t1 - end, "turn": turn, "after": before})
    daemon = [g for g in gaps if g["turn"] == "daemon"]
    longest = max(daemon, key=lambda g: g["s"], default=None)
    return {
        "waiting_for_daemon_s": sum(g["s"] for g in daemon),
        "waiting_for_modem_s": sum(g["s"] for g in gaps if g["turn"] == "modem"),
        "daemon_turns": len(daemon),
        "longest_daemon_gap_ms": longest["s"] * 1000 if longest else 0.0,
        "longest_daemon_gap_after": longest["after"] if longest else "",
    }


def _talk(fd: int, command: str, timeout: float = 60.0) -> bytes:
    """Write one command, read until its final result code."""
    os.write(fd, command.encode() + b"\r")
    buf, deadline = b"", time.monotonic() + timeout
    while not re.search(rb"\r\n(OK|ERROR|\+CMS ERROR: \d+)\r\n$", buf):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{command}: no final result code")
        select.select([fd], [], [], 0.5)
        with contextlib.suppress(BlockingIOError):
            buf += os.read(fd, 65536)
    return buf


def tight_client(n_messages: int) -> dict[str, Any]:
    """The daemon's drain dialogue (AT, then per memory CPMS, CMGL=4 and one CMGD per part) by a
    client that does nothing else: what the paced emulator allows, the ceiling for the daemon."""
    mix = make_mix(n_messages)
    pdus = [p for s in mix for p in s.pdus]
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-ceiling-") as tmp:
        cap = max(300, len(pdus))
        modem = EmulatedModem(
            Path(tmp) / "modem", baudrate=115200, sm_capacity=cap, me_capacity=cap
        )
        modem.start()
        try:
            for i, pdu in enumerate(pdus):
                modem.deliver(pdu, memory="SM" if i < len(pdus) // 2 else "ME", notify=False)
            fd = os.open(modem.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                tty.setraw(fd)
                _talk(fd, "ATE0")
                t0, nbytes = time.monotonic(), 0
                nbytes += len(_talk(fd, "AT")) + 3
                for memory in ("SM", "ME"):
                    nbytes += len(_talk(fd, f'AT+CPMS="{memory}"')) + 12
                    listing = _talk(fd, "AT+CMGL=4")
                    nbytes += len(listing) + 10
                    for index in re.findall(rb"\+CMGL: (\d+),", listing):
                        cmd = f"AT+CMGD={int(index)}"
                        nbytes += len(_talk(fd, cmd)) + len(cmd) + 1
                elapsed = time.monotonic() - t0
            finally:
                os.close(fd)
            if modem.stored():
                raise RuntimeError("tight client left SMS on the SIM")
        finally:
            modem.stop()
    return {
        "elapsed_s": elapsed,
        "bytes": nbytes,
        "parts_per_s": len(pdus) / elapsed,
        "line_ratio": nbytes / LINE_BYTES_PER_SECOND / elapsed,
    }


def drain_once(n_messages: int, *, paced: bool) -> dict[str, Any]:
    mix = make_mix(n_messages)
    parts_total = sum(len(s.pdus) for s in mix)
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-drain-") as tmp:
        work = Path(tmp)
        modem = EmulatedModem(
            work / "modem",
            baudrate=115200 if paced else None,
            sm_capacity=max(300, parts_total),
            me_capacity=max(300, parts_total),
        )
        modem.start()
        daemon: Daemon | None = None
        try:
            # the first half of the parts in SM, the rest in ME (a multipart may straddle both)
            pdus = [p for s in mix for p in s.pdus]
            for i, pdu in enumerate(pdus):
                where = "SM" if i < len(pdus) // 2 else "ME"
                if modem.deliver(pdu, memory=where, notify=False) is None:
                    raise RuntimeError("the emulated SIM is full; raise its capacity")
            stored = len(modem.stored())
            daemon = Daemon(daemon_config(work, port=modem.port)).start()
            ready = daemon.wait_event("modem_ready", timeout=60)
            t_ready = iso_to_epoch(ready["timestamp"]) - mono_offset()
            if not modem.wait_until(lambda: not modem.stored(), timeout=300):
                raise TimeoutError(f"SIM not empty after 300 s: {len(modem.stored())} left")
            time.sleep(0.3)  # let the last OK go out and be recorded
            cmgd = [t for _s, t, c in list(modem.commands) if c.upper().startswith("AT+CMGD")]
            t_end = cmgd[-1]
            # The daemon may log modem_ready before the emulator has stamped the final OK of
            # the init dialogue (another process): the drain starts with the first byte the
            # daemon sends after modem_ready, and everything from there on is counted.
            log = list(modem.log)
            start = next(e[0] for e in log if e[2] == "rx" and e[1] > t_ready)
            window = [e for e in log if e[0] >= start and e[1] <= t_end]
            ascii_only = all(e[3].isascii() for e in window)
            rx = sum(len(e[3]) for e in window if e[2] == "rx")
            tx = sum(len(e[3]) for e in window if e[2] == "tx")
            commands = [c for q, t, c in list(modem.commands) if q > start and t <= t_end]
            elapsed = t_end - t_ready
            conn = ro_connect(work / "sms1708.db")
            try:
                db_parts = conn.execute("SELECT COUNT(*) FROM parts").fetchone()[0]
                db_msgs = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
                quarantined = conn.execute(
                    "SELECT COUNT(*) FROM parts WHERE status != 'used'"
                ).fetchone()[0]
            finally:
                conn.close()
            rss = proc_status(daemon.pid)
            result: dict[str, Any] = {
                "paced": paced,
                "messages": n_messages,
                "parts": parts_total,
                "stored_on_sim": stored,
                "startup_s": t_ready - daemon.started_mono,
                "elapsed_s": elapsed,
                "rx_bytes": rx,
                "tx_bytes": tx,
                "bytes": rx + tx,
                "bytes_exact": ascii_only,
                "commands": len(commands),
                "cmgl": sum(1 for c in commands if c.upper().startswith("AT+CMGL")),
                "cmgd": sum(1 for c in commands if c.upper().startswith("AT+CMGD")),
                "parts_per_s": parts_total / elapsed,
                "messages_per_s": n_messages / elapsed,
                "line_ratio": (rx + tx) / LINE_BYTES_PER_SECOND / elapsed,
                "bytes_per_part": (rx + tx) / parts_total,
                "bytes_per_message": (rx + tx) / n_messages,
                "db_parts": db_parts,
                "db_messages": db_msgs,
                "db_not_used": quarantined,
                "daemon_rss_kb": rss.get("VmRSS"),
                "daemon_hwm_kb": rss.get("VmHWM"),
                "problems": [e.get("event") for e in daemon.problems()],
            }
            if paced:
                result["line_busy_fraction"] = _line_busy(window, t_ready, t_end) / elapsed
                result["idle"] = _idle(window, t_ready, t_end)
            return result
        finally:
            if daemon is not None:
                daemon.stop()
            modem.stop()


def run(quick: bool) -> Outcome:
    out = Outcome("drain")
    n = 40 if quick else 200
    # The paced figures move with whatever else the two cores are doing: three runs each,
    # interleaved with the do-nothing client, and the median run is reported (one in quick).
    repeats = 1 if quick else REPEATS
    ceilings, runs = [], []
    for _ in range(repeats):
        ceilings.append(tight_client(n))
        runs.append(drain_once(n, paced=True))
    ceiling = sorted(ceilings, key=lambda c: c["elapsed_s"])[repeats // 2]
    paced_run = sorted(runs, key=lambda r: r["elapsed_s"])[repeats // 2]
    ratios = sorted(r["line_ratio"] for r in runs)
    out.detail["tight_client_runs"] = ceilings
    out.detail["paced_runs"] = runs
    for paced in (True, False):
        r = paced_run if paced else drain_once(n, paced=False)
        label = "paced 115200" if paced else "unpaced (CPU ceiling)"
        out.detail["paced" if paced else "unpaced"] = r
        if r["db_parts"] != r["parts"] or r["db_messages"] != r["messages"]:
            out.add(
                f"{label}: INCOMPLETE",
                f"{r['db_parts']}/{r['parts']} parts, {r['db_messages']}/{r['messages']} msgs",
            )
        out.add(
            f"{label}: SIM drained",
            f"{r['messages']} msgs / {r['parts']} parts",
            note="60% GSM-7, 20% UCS-2+emoji, 20% 2-3 part (8/16-bit ref); SM+ME",
        )
        out.add(f"{label}: start to modem_ready", round(r["startup_s"], 2), "s", "", "Gammu ~6 s")
        out.add(f"{label}: modem_ready to SIM empty", round(r["elapsed_s"], 3), "s")
        out.add(
            f"{label}: parts (stored SMS)/s",
            round(r["parts_per_s"], 1),
            "SMS/s",
            "line limit ~30-43" if paced else "",
            REFERENCE if paced else "",
        )
        out.add(f"{label}: messages/s", round(r["messages_per_s"], 1), "msg/s")
        out.add(
            f"{label}: bytes on the wire",
            r["bytes"],
            "B",
            note=f"rx {r['rx_bytes']} + tx {r['tx_bytes']}; {r['commands']} AT commands"
            + ("" if r["bytes_exact"] else "; NOT exact (non-ASCII on the line)"),
        )
        out.add(
            f"{label}: bytes per part / per message",
            f"{r['bytes_per_part']:.0f} / {r['bytes_per_message']:.0f}",
            "B",
        )
        out.add(
            f"{label}: line-limit ratio",
            round(r["line_ratio"], 3),
            "",
            ">= 0.9" if paced else "",
            "(bytes/11520)/elapsed"
            + (
                f"; median of {repeats} runs ({ratios[0]:.3f}-{ratios[-1]:.3f}); "
                f"busy (rx|tx) fraction {r['line_busy_fraction']:.3f}"
                if paced
                else "; >1: how many 115200 lines the daemon could keep busy"
            ),
        )
        if paced:
            out.add(
                f"{label}: vs a do-nothing client",
                round(ceiling["elapsed_s"] / r["elapsed_s"], 3),
                "",
                note=f"same dialogue, no store (median): {ceiling['elapsed_s']:.3f} s, "
                f"{ceiling['parts_per_s']:.1f} SMS/s, ratio {ceiling['line_ratio']:.3f} "
                "(the emulator's own ceiling)",
            )
        if paced:
            idle = r["idle"]
            out.add(
                f"{label}: line idle, waiting for daemon / modem",
                f"{idle['waiting_for_daemon_s'] * 1000:.0f} / "
                f"{idle['waiting_for_modem_s'] * 1000:.0f}",
                "ms",
                note=f"daemon's longest turn {idle['longest_daemon_gap_ms']:.1f} ms, after "
                f"{idle['longest_daemon_gap_after']}",
            )
    return out

"""Benchmark 2: latency from ``+CMTI`` to committed, on a paced line (115200 baud).

The daemon runs against the emulated modem; SMS arrive one at a time (``receive_sms``, which
stores the SMS and writes ``+CMTI``). Two ways to inject:

- back-to-back: the next SMS arrives as soon as the previous one is committed, so it may find
  the daemon still deleting (``AT+CMGD``), listing ME, or sending the receipt (``AT+CMGS``);
- quiet line: the next SMS arrives once the daemon has been silent on the line for 150 ms.

Latency = commit - (wall clock just before the injection). Two commit times are reported:
``parts.stored_at`` (the daemon's ``time.time()``, which the receiver takes just *before* the
ingest transaction begins, so it leaves out the commit itself), and the moment the row became
visible to a read-only connection polling the file every millisecond (an upper bound).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.common import (
    LINE_BYTES_PER_SECOND,
    Daemon,
    Outcome,
    daemon_config,
    percentile,
    ro_connect,
    wait_for,
)
from benchmarks.corpus import WIB, gsm7_text, sender_for
from sms1708.core import keys
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.modem.emulator import EmulatedModem

QUIET = 0.15


def _wait_quiet(modem: EmulatedModem, quiet: float, timeout: float = 10.0) -> None:
    """Until nothing crossed the line for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = modem.log[-1][1] if modem.log else 0.0
        idle = time.monotonic() - last
        if idle >= quiet:
            return
        time.sleep(quiet - idle + 0.001)


def _series(
    modem: EmulatedModem, db: Path, n: int, *, quiet: bool, start: int
) -> list[dict[str, float]]:
    import random

    rng = random.Random(start)
    conn = ro_connect(db)
    samples: list[dict[str, float]] = []
    try:
        for i in range(start, start + n):
            sender = sender_for(i)
            text = "LAPOR " + gsm7_text(rng, 90, 150)
            when = datetime(2026, 11, 23, 10, 0, tzinfo=WIB) + timedelta(seconds=i)
            pdu = encode_deliver(sender, text, when, smsc=modem.smsc)[0]
            pkey = keys.part_key(decode_deliver(pdu).tpdu_hex)
            if quiet:
                _wait_quiet(modem, QUIET)
            log_mark = len(modem.log)
            t0_wall = time.time()
            t0 = time.monotonic()
            modem.receive_sms(sender, text, when=when, notify=True)
            row = None
            deadline = t0 + 30
            while row is None:
                row = conn.execute(
                    "SELECT stored_at FROM parts WHERE part_key = ?", (pkey,)
                ).fetchone()
                if row is None:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"SMS {i} not committed within 30 s")
                    time.sleep(0.001)
            t_seen = time.monotonic()
            line = [e for e in modem.log[log_mark:] if t0 <= e[1] <= t_seen]
            samples.append(
                {
                    "stored_at_ms": (float(row[0]) - t0_wall) * 1000,
                    "visible_ms": (t_seen - t0) * 1000,
                    "line_bytes": sum(len(e[3]) for e in line),
                }
            )
    finally:
        conn.close()
    return samples


def _summary(samples: list[dict[str, float]], key: str) -> dict[str, float]:
    v = [s[key] for s in samples]
    return {
        "median": statistics.median(v),
        "p95": percentile(v, 95),
        "max": max(v),
        "min": min(v),
    }


def run(quick: bool) -> Outcome:
    out = Outcome("latency")
    n = 8 if quick else 50
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-latency-") as tmp:
        work = Path(tmp)
        modem = EmulatedModem(work / "modem", baudrate=115200).start()
        daemon: Daemon | None = None
        try:
            daemon = Daemon(daemon_config(work, port=modem.port)).start()
            daemon.wait_event("modem_ready", timeout=60)
            # the first storage poll (SM and ME) is over
            if not wait_for(
                lambda: sum(1 for c in modem.commands if c[2].upper() == "AT+CMGL=4") >= 2, 30
            ):
                raise TimeoutError("the daemon did not poll the modem")
            _wait_quiet(modem, 0.3)
            db = work / "sms1708.db"
            for quiet in (False, True):
                samples = _series(modem, db, n, quiet=quiet, start=1000 if quiet else 0)
                label = "quiet line" if quiet else "back-to-back"
                s = _summary(samples, "stored_at_ms")
                v = _summary(samples, "visible_ms")
                floor = statistics.median(
                    [x["line_bytes"] / LINE_BYTES_PER_SECOND * 1000 for x in samples]
                )
                out.detail[label] = {"stored_at": s, "visible": v, "samples": samples}
                out.add(
                    f"{label}: +CMTI -> stored_at, median / p95 / max",
                    f"{s['median']:.1f} / {s['p95']:.1f} / {s['max']:.1f}",
                    "ms",
                    "median < 100" if not quiet else "",
                    f"{n} SMS, 115200 baud, replies on",
                )
                out.add(
                    f"{label}: +CMTI -> row visible, median / p95 / max",
                    f"{v['median']:.1f} / {v['p95']:.1f} / {v['max']:.1f}",
                    "ms",
                    note="read-only poll every 1 ms; includes the commit (fsync)",
                )
                out.add(
                    f"{label}: bytes on the line meanwhile (median)",
                    f"{statistics.median([x['line_bytes'] for x in samples]):.0f}",
                    "B",
                    note=f"= {floor:.1f} ms of line time at 115200",
                )
            rx = [e for e in daemon.events() if e.get("event") in ("sms_received",)]
            out.detail["daemon_sms_received"] = len(rx)
            out.detail["problems"] = [e.get("event") for e in daemon.problems()]
        finally:
            if daemon is not None:
                daemon.stop()
            modem.stop()
    return out

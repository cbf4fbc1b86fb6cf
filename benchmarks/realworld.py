"""Benchmark 5: real-world timings (issue 12).

- ``stream``: a SIM holding N complaints at 115200 and at 19200 baud, the stand-in up: how soon
  the first complaint reaches the upstream after the listing starts, when the last one does
  compared with the moment the SIM is empty, and the line-limit share of the drain.
- ``burst``: citizens texting at a steady rate to a modem whose ``AT+CMGS`` takes seconds and
  whose SIM is small, the network retrying held SMS only after minutes: SIM-full events, arrival
  to upstream delivery, SMS the gateway sends per complaint.
- ``far``: a backlog of complaints to an upstream ``latency`` away with ``concurrency`` requests
  in flight, and the same against a rate limit (429 + Retry-After).
- ``modems``: K emulated modems draining N complaints each into one daemon, against one modem.

Times: the emulator and the stand-in run in this process (monotonic clock; the stand-in's
stamps are wall time, mapped with :func:`mono_offset`); the daemon runs in its own process.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import tty
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._standin import RemoteStandIn
from benchmarks.common import (
    Daemon,
    Outcome,
    daemon_config,
    iso_to_epoch,
    mono_offset,
    percentile,
    proc_status,
    ro_connect,
    write_config,
)
from benchmarks.corpus import WIB, complaint_pdu
from benchmarks.drain import _idle, _talk
from sms1708.modem.emulator import EmulatedModem
from sms1708.upstream.standin import StandIn

BASE = datetime(2026, 11, 23, 8, 0, tzinfo=WIB)


def _fill(modem: EmulatedModem, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        if modem.deliver(complaint_pdu(i, BASE + timedelta(seconds=i)), notify=False) is None:
            raise RuntimeError("the emulated SIM is full; raise its capacity")


def _ready_mono(d: Daemon, name: str = "modem_ready") -> float:
    return iso_to_epoch(d.wait_event(name, timeout=60)["timestamp"]) - mono_offset()


def stream(n: int, baud: int, *, upstream: bool = True) -> dict[str, Any]:
    """One modem, N complaints on the SIM, the upstream up and near (or none configured)."""
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-stream-") as tmp:
        work = Path(tmp)
        modem = EmulatedModem(work / "modem", baudrate=baud, sm_capacity=n + 10)
        modem.start()
        server = RemoteStandIn()  # not in the emulator's interpreter (see benchmarks._standin)
        d: Daemon | None = None
        try:
            _fill(modem, n)
            url = server.url if upstream else ""
            cfg = daemon_config(work, port=modem.port, url=url, modem={"baudrate": baud})
            d = Daemon(cfg).start()
            t_ready = _ready_mono(d)
            if not modem.wait_until(lambda: not modem.stored(), timeout=600):
                raise TimeoutError("SIM not empty after 600 s")
            if upstream and not server.wait_for(n, timeout=120):
                raise TimeoutError(f"{len(server.delivered_at())}/{n} upstream after 120 s")
            time.sleep(0.3)
            offset = mono_offset()
            cmgd = [t for _s, t, c in list(modem.commands) if c.upper().startswith("AT+CMGD")]
            sim_empty = cmgd[-1]
            log = list(modem.log)
            t_list = next(t for _s, t, di, x in log if di == "rx" and "AT+CMGL" in x)
            ups = sorted(at - offset for at in server.delivered_at().values()) or [float("nan")]
            start = next(e[0] for e in log if e[2] == "rx" and e[1] > t_ready)
            window = [e for e in log if e[0] >= start and e[1] <= sim_empty]
            nbytes = sum(len(e[3]) for e in window)
            elapsed = sim_empty - t_ready
            idle = _idle(window, t_ready, sim_empty)
            # the listing itself: the emulator writes it as one paced answer; how much longer
            # than its line time it took (the emulator's own pacing, starved of CPU or not)
            bps = baud / 10
            listing = max((e for e in window if e[2] == "tx"), key=lambda e: len(e[3]))
            cmgl_rx = max(e[1] for e in window if e[2] == "rx" and e[1] <= listing[1])
            deletes = [e for e in window if e[2] == "rx" and "AT+CMGD" in e[3]]
            return {
                "baud": baud,
                "upstream": upstream,
                "messages": n,
                "elapsed_s": elapsed,
                "sms_per_s": n / elapsed,
                "first_upstream_after_listing_s": ups[0] - t_list,
                "last_upstream_vs_sim_empty": (ups[-1] - t_ready) / elapsed,
                "line_ratio": nbytes / (baud / 10) / elapsed,
                "daemon_hwm_kb": proc_status(d.pid).get("VmHWM"),
                # where the time off the line went (seconds)
                "line_time_s": nbytes / bps,
                "waiting_for_daemon_s": idle["waiting_for_daemon_s"],
                "waiting_for_modem_s": idle["waiting_for_modem_s"],
                "daemon_turns": idle["daemon_turns"],
                "listing_bytes": len(listing[3]),
                "listing_s": listing[1] - cmgl_rx,
                "listing_line_s": len(listing[3]) / bps,
                "after_listing_s": sim_empty - listing[1],
                "deletes": len(deletes),
                "deletes_line_s": sum(
                    len(e[3]) for e in window if e[1] > listing[1] and e[1] <= sim_empty
                )
                / bps,
            }
        finally:
            if d is not None:
                d.stop()
            server.stop()
            modem.stop()


def ceiling(n: int, baud: int) -> dict[str, Any]:
    """The same SIM and the same dialogue (CPMS, CMGL=4, one CMGD per entry) by a client doing
    nothing else: the share of the line the paced emulator itself allows, the daemon's ceiling."""
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-ceiling-") as tmp:
        modem = EmulatedModem(Path(tmp) / "modem", baudrate=baud, sm_capacity=n + 10)
        modem.start()
        try:
            _fill(modem, n)
            fd = os.open(modem.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                tty.setraw(fd)
                t0 = time.monotonic()
                _talk(fd, 'AT+CPMS="SM"')
                listing = _talk(fd, "AT+CMGL=4", timeout=600)
                t_listed = time.monotonic()
                for index in re.findall(rb"\+CMGL: (\d+),", listing):
                    _talk(fd, f"AT+CMGD={int(index)}")
                elapsed = time.monotonic() - t0
            finally:
                os.close(fd)
            nbytes = sum(len(e[3]) for e in list(modem.log) if e[1] >= t0)
        finally:
            modem.stop()
    return {
        "elapsed_s": elapsed,
        "line_ratio": nbytes / (baud / 10) / elapsed,
        "listing_s": t_listed - t0,
        "deletes_s": elapsed - (t_listed - t0),
    }


def burst(n: int, per_s: float, cmgs: float, sim: int, settle: float) -> dict[str, Any]:
    """Citizens texting at ``per_s``; ``AT+CMGS`` takes ``cmgs`` s; a ``sim``-slot SIM."""
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-burst-") as tmp:
        work = Path(tmp)
        modem = EmulatedModem(
            work / "modem", cmgs_latency=cmgs, sm_capacity=sim, network_retry=300.0
        )
        modem.start()
        server = StandIn().up()
        d: Daemon | None = None
        try:
            cfg = daemon_config(work, port=modem.port, url=server.url)
            d = Daemon(cfg).start()
            _ready_mono(d)
            arrived: dict[str, float] = {}
            t0 = time.monotonic()
            for i in range(n):
                at = t0 + i / per_s
                with contextlib.suppress(ValueError):
                    time.sleep(max(0.0, at - time.monotonic()))
                sender = f"+62812{70000000 + i:08d}"
                arrived[sender] = time.monotonic()
                modem.receive_sms(sender, f"LAPOR jalan rusak di gang {i} desa Tanjung Raja")
            if not server.wait_for(n, timeout=120 + n):
                raise TimeoutError(f"{len(server.delivered())}/{n} upstream")
            offset = mono_offset()
            waits = [
                r.at - offset - arrived[str(r.body.get("sender"))]
                for r in server.delivered().values()
                if str(r.body.get("sender")) in arrived
            ]
            t_last_up = max(r.at for r in server.delivered().values()) - offset
            time.sleep(settle)  # let the forwarder fold the last tracking ids in
            conn = ro_connect(work / "sms1708.db")
            try:
                rows = conn.execute(
                    "SELECT state, COUNT(*), MIN(created_at) FROM replies GROUP BY state"
                ).fetchall()
                complaints = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
            finally:
                conn.close()
            by_state = {str(r[0]): int(r[1]) for r in rows}
            going = sum(v for k, v in by_state.items() if k != "suppressed")
            waiting = sum(v for k, v in by_state.items() if k in ("queued", "retry", "sending"))
            return {
                "messages": n,
                "per_s": per_s,
                "cmgs_s": cmgs,
                "sim_slots": sim,
                "sim_full_events": modem.sim_full_events,
                "held_back_now": len(modem.held_back),
                "p95_arrival_to_upstream_s": percentile(waits, 95),
                "max_arrival_to_upstream_s": max(waits),
                "sms_per_complaint": going / max(1, complaints),
                "replies": by_state,
                "replies_waiting_at_end": waiting,
                "sent_by_modem": len(modem.sent),
                "last_upstream_after_first_arrival_s": t_last_up - t0,
            }
        finally:
            if d is not None:
                d.stop()
            server.stop()
            modem.stop()


def far(
    n: int, latency: float, concurrency: int, limit: float | None, cap: float
) -> dict[str, Any]:
    """A backlog of N complaints to an upstream ``latency`` s away (optionally rate limited)."""
    from benchmarks.backlog import Corpus, fill

    with tempfile.TemporaryDirectory(prefix="sms1708-bench-far-") as tmp:
        work = Path(tmp)
        db = work / "sms1708.db"
        queued = fill(db, Corpus().take(n), 120.0)["queued"]
        server = StandIn().up()
        server.latency, server.rate_limit = latency, limit
        d: Daemon | None = None
        try:
            cfg = daemon_config(work, url=server.url, upstream={"concurrency": concurrency})
            d = Daemon(cfg).start()
            d.wait_event("daemon_started", timeout=60)
            server.wait_for(queued, timeout=cap)
            with server.lock:
                ok = sorted(r.at for r in server.requests if r.key in server.tracking)
                too_many = server.too_many
                limited = sorted(server.too_many_at)
            delivered = len(server.delivered())
            span = (ok[-1] - ok[0]) if len(ok) > 1 else 0.0
            first_429 = too_many > 0
            return {
                "queued": queued,
                "delivered": delivered,
                "latency_s": latency,
                "concurrency": concurrency,
                "rate_limit": limit,
                "per_s": (len(ok) - 1) / span if span else 0.0,
                "ideal_per_s": min(concurrency / latency, limit or 1e9),
                "429s": too_many,
                "429s_after_the_first": too_many - 1 if first_429 else 0,
                "seconds": span,
                # when the 429s came, seconds after the first accepted request arrived
                "429s_at_s": [round(t - ok[0] + latency, 2) for t in limited] if ok else [],
            }
        finally:
            if d is not None:
                d.stop()
            server.stop()


def modems(k: int, n: int) -> dict[str, Any]:
    """K emulated modems at 115200 baud, N complaints each, one daemon (upstream up)."""
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-modems-") as tmp:
        work = Path(tmp)
        sims = [
            EmulatedModem(work / f"modem{j}", baudrate=115200, sm_capacity=n + 10) for j in range(k)
        ]
        server = StandIn().up()
        d: Daemon | None = None
        try:
            for j, m in enumerate(sims):
                m.start()
                _fill(m, n, first=j * n)
            cfg = write_config(
                work / "sms1708.toml",
                {
                    "store": {"path": str(work / "sms1708.db")},
                    "upstream": {"url": server.url},
                    "replies": {"own_number": "+6281299990000"},
                    "log": {"format": "json", "level": "info"},
                },
            )
            with cfg.open("a", encoding="utf-8") as f:
                for j, m in enumerate(sims):
                    f.write(f'\n[[modems]]\nname = "m{j}"\nport = "{m.port}"\nbaudrate = 115200\n')
            d = Daemon(cfg).start()
            deadline = time.monotonic() + 60
            while sum(1 for e in d.events() if e.get("event") == "modem_ready") < k:
                if time.monotonic() > deadline:
                    raise TimeoutError("modems not ready")
                time.sleep(0.01)
            offset = mono_offset()
            t_ready = max(
                iso_to_epoch(e["timestamp"]) - offset
                for e in d.events()
                if e.get("event") == "modem_ready"
            )
            for m in sims:
                if not m.wait_until(lambda m=m: not m.stored(), timeout=600):  # type: ignore[misc]
                    raise TimeoutError("SIM not empty")
            time.sleep(0.3)
            ends = [
                max(t for _s, t, c in list(m.commands) if c.upper().startswith("AT+CMGD"))
                for m in sims
            ]
            elapsed = max(ends) - t_ready
            server.wait_for(k * n, timeout=120)
            return {
                "modems": k,
                "messages": k * n,
                "elapsed_s": elapsed,
                "sms_per_s": k * n / elapsed,
                "daemon_hwm_kb": proc_status(d.pid).get("VmHWM"),
                "upstream": len(server.delivered()),
            }
        finally:
            if d is not None:
                d.stop()
            server.stop()
            for m in sims:
                m.stop()


def _stream_rows(out: Outcome, s: dict[str, Any]) -> None:
    label = f"stream {s['baud']}"
    out.add(
        f"{label}: first complaint upstream after AT+CMGL",
        round(s["first_upstream_after_listing_s"], 3),
        "s",
        "<= 0.2",
        "includes the first entry's line time",
    )
    out.add(
        f"{label}: last upstream / SIM empty",
        round(s["last_upstream_vs_sim_empty"], 3),
        "x",
        "<= 1.05",
        f"{s['messages']} SMS in {s['elapsed_s']:.2f} s ({s['sms_per_s']:.1f} SMS/s)",
    )
    c = s.get("ceiling")
    out.add(
        f"{label}: line-limit share",
        round(s["line_ratio"], 3),
        "",
        ">= 0.94",
        f"listing {s['listing_s']:.2f} s for {s['listing_line_s']:.2f} s of line; deletes "
        f"{s['after_listing_s']:.2f} s for {s['deletes_line_s']:.2f} s of line; line waiting "
        f"for the daemon {s['waiting_for_daemon_s']:.2f} s in {s['daemon_turns']} turns"
        + (
            f"; a do-nothing client, same SIM: {c['line_ratio']:.3f} (listing "
            f"{c['listing_s']:.2f} s, deletes {c['deletes_s']:.2f} s)"
            if c
            else ""
        ),
    )


def _far_rows(out: Outcome, f: dict[str, Any]) -> None:
    if f["rate_limit"] is None:
        out.add(
            f"far: {f['delivered']} to an upstream {f['latency_s'] * 1000:.0f} ms away,"
            f" concurrency {f['concurrency']}",
            round(f["per_s"], 1),
            "req/s",
            f">= {0.9 * f['ideal_per_s']:.1f}",
            f"ideal {f['ideal_per_s']:.1f}",
        )
        return
    out.add(f"far, limit {f['rate_limit']:g}/s: rate", round(f["per_s"], 1), "req/s", "~limit")
    at = f["429s_at_s"]
    later = sum(1 for t in at if at and t > at[0] + 2.0)
    out.add(
        f"far, limit {f['rate_limit']:g}/s: 429s after the first",
        f["429s_after_the_first"],
        "",
        "a handful",
        f"{f['delivered']} delivered in {f['seconds']:.0f} s; {later} of them more than 2 s "
        f"after the first (the others: requests already in flight when it came); 429s at "
        f"{', '.join(f'{t:g}' for t in at[:12])}{' ...' if len(at) > 12 else ''} s",
    )


def run(quick: bool) -> Outcome:
    out = Outcome("realworld")
    if quick:  # the smoke run: one short streamed drain and one short far backlog
        s = stream(30, 115200)
        out.detail["stream_115200"] = s
        _stream_rows(out, s)
        f = far(100, 0.1, 8, None, 30)
        out.detail["far"] = f
        _far_rows(out, f)
        return out
    n = 200
    for baud in (115200, 19200):
        s = stream(n, baud)
        s["ceiling"] = ceiling(n, baud)
        out.detail[f"stream_{baud}"] = s
        _stream_rows(out, s)
    one = out.detail["stream_115200"]
    m = modems(4, n)
    out.detail["modems"] = m
    out.add(
        "4 modems x 200 SMS: aggregate / one modem",
        round(m["sms_per_s"] / one["sms_per_s"], 2),
        "x",
        ">= 3.5",
        f"{m['sms_per_s']:.1f} vs {one['sms_per_s']:.1f} SMS/s",
    )
    out.add("4 modems: daemon peak RSS", round((m["daemon_hwm_kb"] or 0) / 1024, 1), "MB", "< 80")
    b = burst(150, 2.0, 3.0, 25, 6.0)
    out.detail["burst"] = b
    label = (
        f"burst {b['messages']} @ {b['per_s']:g}/s, CMGS {b['cmgs_s']:g} s, SIM {b['sim_slots']}"
    )
    out.add(f"{label}: SIM-full events", b["sim_full_events"], "", "0")
    out.add(
        f"{label}: p95 arrival->upstream",
        round(b["p95_arrival_to_upstream_s"], 2),
        "s",
        "<= 30",
    )
    out.add(
        f"{label}: SMS per complaint",
        round(b["sms_per_complaint"], 3),
        "",
        "<= 1.1",
        f"replies {b['replies']}",
    )
    for f in (far(5000, 0.3, 8, None, 300), far(400, 0.3, 8, 10.0, 120)):
        out.detail["far" if f["rate_limit"] is None else "far_limited"] = f
        _far_rows(out, f)
    _http2_rows(out)
    return out


def _http2_rows(out: Outcome) -> None:
    """HTTP/1.1 keep-alive against HTTP/2 to the same far upstream (needs the bench extra)."""
    try:
        import h2  # noqa: F401
    except ImportError:
        out.add("far, HTTP/2 vs HTTP/1.1", "skipped", note="needs h2: pip install -e '.[bench]'")
        return
    from benchmarks.http2 import compare

    c = compare(400, 0.3, 8)
    out.detail["http2"] = c
    h1, h2_, shared = c["http1"], c["http2"], c["http2_shared_by_threads"]
    out.add(
        "far, 400 posts, 300 ms, 8 at a time: HTTP/1.1 / HTTP/2 / HTTP/2 shared by threads",
        f"{h1['per_s']:.1f} / {h2_['per_s']:.1f} / {shared['per_s']:.1f}",
        "req/s",
        "HTTP/2 kept only if it helps",
        f"ideal {c['ideal_per_s']:.1f}; HTTP/1.1: 8 keep-alive connections, HTTP/2: one"
        + (f"; HTTP/2 errors: {'; '.join(shared['errors'])}" if shared["errors"] else ""),
    )

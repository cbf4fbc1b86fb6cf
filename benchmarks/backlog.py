"""Benchmark 3: drain an upstream backlog of N queued complaints into the local StandIn.

The store is filled fast (``Store.ingest`` of real SMS-DELIVER PDUs, in big batches), then
`sms1708 run` starts with no modem port and the StandIn's URL, and we wait until every outbox
row is ``delivered``. The StandIn runs in this process; its capacity is measured on its own, by
a client in another process (``benchmarks._client``).

``sms1708/upstream/standin.py`` answers each request with two writes (headers, then body) on a
socket with Nagle's algorithm on; against a client that delays its ACKs this costs ~40 ms per
request. The N series therefore runs against the same StandIn with ``TCP_NODELAY`` set on its
accepted sockets (``disable_nagle_algorithm`` on its handler class, set here, from outside);
one short run against the StandIn exactly as shipped shows the difference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import (
    ROOT,
    Daemon,
    Outcome,
    cpu_seconds,
    daemon_config,
    iso_to_epoch,
    mono_offset,
    proc_status,
    ro_connect,
)
from benchmarks.corpus import WIB, complaint_pdu, make_mix
from sms1708.config import Config
from sms1708.core.pdu import decode_deliver
from sms1708.daemon import intake_rules
from sms1708.store.store import IncomingPart, Store
from sms1708.upstream.standin import StandIn

BATCH = 1000
#: seconds a drain may take before it is cut short (keeps `make bench` near five minutes even
#: when the forwarder is slow); the rate is then measured over what was delivered
TIME_CAP = {1000: 30.0, 10000: 45.0, 50000: 90.0}
TIME_CAP_QUICK = 15.0
#: seconds the fill may take (Store.ingest); a slower store gets a smaller backlog
FILL_CAP = 45.0
FILL_CAP_QUICK = 10.0


class Corpus:
    """Decoded single-part complaints, made once and reused by every N."""

    def __init__(self) -> None:
        self.parts: list[IncomingPart] = []
        self.base = datetime(2026, 11, 23, 8, 0, tzinfo=WIB)

    def take(self, n: int) -> list[IncomingPart]:
        for i in range(len(self.parts), n):
            pdu = complaint_pdu(i, self.base + timedelta(seconds=11 * i))
            self.parts.append(IncomingPart("SM", i % 250 + 1, pdu, decode_deliver(pdu)))
        return self.parts[:n]


def fill(db: Path, parts: list[IncomingPart], cap: float) -> dict[str, Any]:
    """Ingest ``parts`` in batches of ``BATCH`` until done or ``cap`` seconds have passed."""
    t0 = time.perf_counter()
    store = Store.open(db)
    rates: list[float] = []
    try:
        rules = intake_rules(Config())
        done = 0
        for k in range(0, len(parts), BATCH):
            if time.perf_counter() - t0 > cap:
                break
            batch = parts[k : k + BATCH]
            b0 = time.perf_counter()
            store.intake.ingest("modem0", batch, now=time.time(), rules=rules)
            rates.append(len(batch) / (time.perf_counter() - b0))
            done += len(batch)
        queued = int(
            store.conn.execute("SELECT COUNT(*) FROM outbox WHERE state='queued'").fetchone()[0]
        )
    finally:
        store.close()
    return {
        "filled": done,
        "queued": queued,
        "seconds": time.perf_counter() - t0,
        "first_batch_per_s": rates[0] if rates else None,
        "last_batch_per_s": rates[-1] if rates else None,
    }


def sim_batch_probe(db: Path) -> dict[str, Any]:
    """Time ``Store.ingest`` of the drain benchmark's full SIM (two batches, SM then ME, as
    the receiver commits them) on this database: the receive path's cost at this size."""
    mix = make_mix(200, seed=4711)
    pdus = [p for m in mix for p in m.pdus]
    half = len(pdus) // 2
    batches = [
        [IncomingPart(mem, i + 1, p, decode_deliver(p)) for i, p in enumerate(chunk)]
        for mem, chunk in (("SM", pdus[:half]), ("ME", pdus[half:]))
    ]
    store = Store.open(db)
    try:
        rules = intake_rules(Config())
        messages = int(store.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        t0 = time.perf_counter()
        for batch in batches:
            store.intake.ingest("modem0", batch, now=time.time(), rules=rules)
        seconds = time.perf_counter() - t0
    finally:
        store.close()
    return {"db_messages": messages, "parts": len(pdus), "seconds": seconds}


def standin(*, nodelay: bool) -> StandIn:
    s = StandIn().up()
    if nodelay:
        server = s._server
        assert server is not None
        server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    return s


def forwarder_concurrency() -> int:
    """How many posts the forwarder keeps in flight by default (1 before ``concurrency``)."""
    return int(getattr(Config().upstream, "concurrency", 1))


def capacity(url: str, n: int, concurrency: int = 1) -> dict[str, Any]:
    """Requests/s a keep-alive client in another process gets from the server at ``url``."""
    r = subprocess.run(
        [sys.executable, "-m", "benchmarks._client", url, str(n), str(concurrency)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def _deciles(stamps: list[float]) -> list[float]:
    """Attempts/s in each tenth of the drain (the first, ..., the last 10 % of the backlog)."""
    k = len(stamps) // 10
    if k < 2:
        return []
    return [(k - 1) / (stamps[i * k + k - 1] - stamps[i * k]) for i in range(10)]


def forward(
    n: int, corpus: Corpus, *, nodelay: bool, timeout: float, fill_cap: float, probe: bool = False
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-backlog-") as tmp:
        work = Path(tmp)
        db = work / "sms1708.db"
        filled = fill(db, corpus.take(n), fill_cap)
        queued = filled["queued"]
        server = standin(nodelay=nodelay)
        daemon: Daemon | None = None
        try:
            daemon = Daemon(daemon_config(work, url=server.url)).start()
            started = daemon.wait_event("daemon_started", timeout=60)
            t_start = iso_to_epoch(started["timestamp"]) - mono_offset()
            rss_start = proc_status(daemon.pid).get("VmRSS", 0)
            bench_cpu0 = cpu_seconds(os.getpid())
            conn = ro_connect(db)
            rss: list[int] = []
            try:
                delivered = 0
                deadline = time.monotonic() + timeout
                while delivered < queued:
                    if time.monotonic() > deadline:
                        break
                    if daemon.proc is not None and daemon.proc.poll() is not None:
                        raise RuntimeError(f"daemon exited: {daemon.proc.returncode}")
                    time.sleep(0.05)
                    rss.append(proc_status(daemon.pid).get("VmRSS", 0))
                    delivered = conn.execute(
                        "SELECT COUNT(*) FROM outbox WHERE state='delivered'"
                    ).fetchone()[0]
                t_done = time.monotonic()
                status = proc_status(daemon.pid)
                daemon_cpu = cpu_seconds(daemon.pid)
                bench_cpu = cpu_seconds(os.getpid()) - bench_cpu0
                first, last, attempts = conn.execute(
                    "SELECT MIN(at), MAX(at), COUNT(*) FROM attempts"
                ).fetchone()
                states = dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
                stamps = [float(r[0]) for r in conn.execute("SELECT at FROM attempts ORDER BY at")]
            finally:
                conn.close()
            elapsed = t_done - t_start
            span = (last - first) if attempts > 1 else float("nan")
            result = {
                "decile_per_s": _deciles(stamps),
                "n": n,
                "queued": queued,
                "fill": filled,
                "delivered": delivered,
                "complete": delivered >= queued,
                "states": states,
                "attempts": attempts,
                "standin_requests": len(server.requests),
                "standin_keys": len(server.tracking),
                "elapsed_s": elapsed,
                "per_s_wall": delivered / elapsed,
                "attempt_span_s": span,
                "per_s": (attempts - 1) / span if attempts > 1 else float("nan"),
                "first_attempt_after_s": first - (t_start + mono_offset()) if first else None,
                "rss_start_kb": rss_start,
                "rss_max_sampled_kb": max(rss) if rss else None,
                "hwm_kb": status.get("VmHWM"),
                "rss_end_kb": status.get("VmRSS"),
                "daemon_cpu_util": daemon_cpu / (elapsed + (t_start - daemon.started_mono)),
                "standin_cpu_util": bench_cpu / elapsed,
                "problems": sorted(
                    {str(e.get("event")) for e in daemon.problems()} - {"modem_no_port"}
                ),
                "nodelay": nodelay,
            }
        finally:
            if daemon is not None:
                daemon.stop()
            server.stop()
        if probe:
            result["sim_batch"] = sim_batch_probe(db)
        return result


def run(quick: bool) -> Outcome:
    out = Outcome("backlog")
    sizes = (300,) if quick else (1000, 10000, 50000)
    corpus = Corpus()

    conc = forwarder_concurrency()
    caps: dict[str, dict[str, Any]] = {}
    # the quick run leaves out the figures without a goal: the stand-in as shipped (Nagle)
    variants = (True,) if quick else (False, True)
    for nodelay in variants:
        server = standin(nodelay=nodelay)
        try:
            for c in sorted({1, conc}):
                n_req = (300 if quick else 4000) if nodelay else 120 * c
                caps[f"{'nodelay' if nodelay else 'as_shipped'}/{c}"] = capacity(
                    server.url, n_req, c
                )
        finally:
            server.stop()
    out.detail["standin_capacity"] = caps
    for nodelay in variants:
        tag = "nodelay" if nodelay else "as_shipped"
        per_s = " / ".join(f"{caps[f'{tag}/{c}']['per_s']:.1f}" for c in sorted({1, conc}))
        out.add(
            f"StandIn capacity, {'TCP_NODELAY' if nodelay else 'as shipped'}",
            per_s,
            "req/s",
            note=f"{' / '.join(str(c) for c in sorted({1, conc}))} in flight, httpx keep-alive, "
            "client in another process"
            + (
                "; disable_nagle_algorithm set by the benchmark"
                if nodelay
                else "; Nagle + delayed ACK: ~40 ms per request"
            ),
        )

    if not quick:
        small = forward(300, corpus, nodelay=False, timeout=30, fill_cap=30)
        out.detail["as_shipped"] = small
        out.add(
            f"N={small['n']}, StandIn as shipped: complaints/s",
            round(small["per_s"], 1),
            "/s",
            "",
            "server-bound: see StandIn capacity (the series below uses TCP_NODELAY)",
        )

    series: list[dict[str, Any]] = []
    for n in sizes:
        cap = TIME_CAP_QUICK if quick else TIME_CAP.get(n, 120.0)
        fill_cap = FILL_CAP_QUICK if quick else FILL_CAP
        r = forward(n, corpus, nodelay=True, timeout=cap, fill_cap=fill_cap, probe=True)
        series.append(r)
        tag = f"N={n:,}"
        f = r["fill"]
        out.add(
            f"{tag}: fill (Store.ingest, {BATCH:,}/txn)",
            f"{f['filled'] / f['seconds']:,.0f}",
            "msg/s",
            note=f"{f['filled']:,} in {f['seconds']:.1f} s; first batch "
            f"{f['first_batch_per_s']:,.0f}/s, last {f['last_batch_per_s']:,.0f}/s"
            + ("" if f["filled"] >= n else f"; CUT at the {fill_cap:g} s fill cap"),
        )
        if f["filled"] < n:
            tag = f"N={n:,} (filled {f['filled']:,})"
        if not r["complete"]:
            out.add(
                f"{tag}: INCOMPLETE (time cap {cap:g} s)",
                f"{r['delivered']:,}/{r['queued']:,} delivered",
                note="the rates below are for what was done within the cap",
            )
        out.add(
            f"{tag}: complaints/s",
            round(r["per_s"], 1),
            "/s",
            ">= 500",
            f"{'all ' if r['complete'] else ''}{r['delivered']:,} delivered in "
            f"{r['elapsed_s']:.1f} s from daemon_started ({r['per_s_wall']:.0f}/s); "
            f"{r['standin_requests']:,} POSTs",
        )
        if r["decile_per_s"] and n >= 10000:
            d = r["decile_per_s"]
            out.add(
                f"{tag}: complaints/s, first / last 10 % of the backlog",
                f"{d[0]:.0f} / {d[-1]:.0f}",
                "/s",
                note="rising: a cost per batch that grows with the backlog left; falling: one "
                "that grows with the history",
            )
        out.add(
            f"{tag}: forwarding process peak RSS (VmHWM)",
            round(r["hwm_kb"] / 1024, 1),
            "MB",
            "< 80, flat",
            f"RSS at start {r['rss_start_kb'] / 1024:.1f} MB, at end {r['rss_end_kb'] / 1024:.1f}",
        )
        sb = r["sim_batch"]
        out.add(
            f"{tag}: receive path: ingest of a full SIM ({sb['parts']} parts)",
            round(sb["seconds"] * 1000, 1),
            "ms",
            note=f"into this store afterwards ({sb['db_messages']:,} messages); the line needs "
            "~7.4 s for that SIM",
        )
        out.add(
            f"{tag}: CPU use (daemon / StandIn process)",
            f"{r['daemon_cpu_util']:.2f} / {r['standin_cpu_util']:.2f}",
            "cores",
        )
    out.detail["series"] = series
    return out

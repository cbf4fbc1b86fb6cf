"""Benchmark 5: the operator console on a big store.

The store is filled with complaints through ``Store.ingest`` (the backlog benchmark's corpus),
then `sms1708 web` runs as its own process and a logged-in client asks for the list and detail
pages. Measured: the server's own time per page (its ``Server-Timing`` header: routing,
session, SQL, rendering; not the network), median and worst of several requests, and the web
process's RSS (VmRSS now, VmHWM the peak) after all of them. Goals: list and detail < 200 ms,
RSS < 60 MB.
"""

from __future__ import annotations

import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.backlog import Corpus, fill
from benchmarks.common import ROOT, Outcome, proc_status, write_config
from sms1708.store.store import Store
from sms1708.web.passwords import hash_password

PASSWORD = "bench-password-123"
REPEAT = 15


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_ms(r: httpx.Response) -> float:
    m = re.search(r"dur=([0-9.]+)", r.headers.get("server-timing", ""))
    assert m, "the console reports Server-Timing"
    return float(m.group(1))


def run(quick: bool) -> Outcome:
    out = Outcome("web")
    n = 1000 if quick else 50000
    repeat = 5 if quick else REPEAT
    with tempfile.TemporaryDirectory(prefix="sms1708-bench-web-") as tmp:
        folder = Path(tmp)
        db = folder / "sms1708.db"
        filled = fill(db, Corpus().take(n), cap=600.0)
        store = Store.open(db)
        store.accounts.create_user("bench", "admin", hash_password(PASSWORD), now=time.time())
        newest = int(store.conn.execute("SELECT MAX(id) FROM messages").fetchone()[0])
        middle = newest // 2
        store.close()
        out.add("complaints in the store", filled["filled"])
        port = _port()
        cfg = write_config(
            folder / "sms1708.toml",
            {
                "store": {"path": str(db)},
                "web": {"listen": f"127.0.0.1:{port}"},
                "log": {"format": "json", "level": "warning"},
            },
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "sms1708", "--config", str(cfg), "web"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            client = httpx.Client(base_url=base, timeout=60)
            deadline = time.monotonic() + 60
            while True:
                try:
                    page = client.get("/login")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert token
            client.post(
                "/login", data={"csrf": token.group(1), "username": "bench", "password": PASSWORD}
            )
            pages = {
                "list, first page": "/laporan",
                "list, a page in the middle (keyset)": f"/laporan?before={middle}",
                "list filtered by kind": "/laporan?kind=aspirasi",
                "list filtered by state": "/laporan?state=queued",
                "list, text search": "/laporan?q=jembatan",
                "detail": f"/laporan/{middle}",
                "conversation": f"/percakapan/{middle}",
                "dashboard": "/",
            }
            for label, path in pages.items():
                times = []
                for _ in range(repeat if not label.startswith("dashboard") else 3):
                    r = client.get(path)
                    assert r.status_code == 200, (path, r.status_code)
                    times.append(_server_ms(r))
                goal = "" if label.startswith(("dashboard", "conversation")) else "< 200 ms"
                out.add(
                    f"{label}: server time median",
                    round(statistics.median(times), 1),
                    "ms",
                    goal,
                    f"max {max(times):.1f} ms of {len(times)}",
                )
            status = proc_status(proc.pid)
            out.add(
                "web process RSS after the pages",
                round(status["VmRSS"] / 1024, 1),
                "MB",
                "< 60 MB",
                f"peak (VmHWM) {status['VmHWM'] / 1024:.1f} MB",
            )
            out.detail = {"fill": filled}
        finally:
            proc.terminate()
            proc.wait(20)
    return out

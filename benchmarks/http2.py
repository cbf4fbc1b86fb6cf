"""Does HTTP/2 help against a far upstream? (issue 12, part 3; bench only, needs ``h2``).

The same workload over both protocols: ``n`` complaint-sized JSON posts, ``concurrency`` in
flight at a time (the forwarder's threads, each posting and waiting for its answer), to a
server that answers each after ``latency`` seconds (an upstream 300 ms away):

- HTTP/1.1: the stand-in (``sms1708.upstream.standin``), one keep-alive connection per thread;
- HTTP/2: a minimal cleartext HTTP/2 server (prior knowledge, h2c) built on the ``h2``
  protocol library, one connection carrying every request as its own stream.

The clients are httpx clients (``http2=True`` for the second), as the forwarder's is. What is
measured: requests per second over the run, and the connections opened. Loopback has no
round-trip time of its own, so what a new connection costs on a real far link (TCP and TLS
handshakes, 2-3 round trips each) is left out: with keep-alive that cost is paid once per
connection (``concurrency`` for HTTP/1.1, one for HTTP/2) at the start of a drain.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from sms1708.upstream.standin import StandIn


class H2Server:
    """A cleartext HTTP/2 server (prior knowledge): every POST is answered 201 with a tracking
    id after ``latency`` seconds; each connection has a reader thread, answers are sent by
    timers under the connection's lock."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.connections = 0
        self.requests = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="h2-accept", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/complaints"

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        import h2.config
        import h2.connection
        import h2.events

        h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        lock = threading.Lock()
        with lock:
            h2c.initiate_connection()
            conn.sendall(h2c.data_to_send())
        bodies: dict[int, bytes] = {}

        def answer(stream_id: int) -> None:
            with self._lock:
                self.requests += 1
                tracking = str(1916449 + self.requests)
            payload = json.dumps({"tracking_id": tracking, "status": "received"}).encode()
            headers = [
                (":status", "201"),
                ("content-type", "application/json"),
                ("content-length", str(len(payload))),
            ]
            with lock:
                try:
                    h2c.send_headers(stream_id, headers)
                    h2c.send_data(stream_id, payload, end_stream=True)
                    conn.sendall(h2c.data_to_send())
                except Exception:  # the client went away: nothing to answer
                    return

        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            with lock:
                events = h2c.receive_data(data)
                for e in events:
                    if isinstance(e, h2.events.DataReceived):
                        bodies[e.stream_id] = bodies.get(e.stream_id, b"") + e.data
                        h2c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                    elif isinstance(e, h2.events.StreamEnded):
                        bodies.pop(e.stream_id, None)
                        t = threading.Timer(self.latency, answer, args=(e.stream_id,))
                        t.daemon = True
                        t.start()
                conn.sendall(h2c.data_to_send())


BODY = {"sender": "+6281200000000", "text": "LAPOR jalan rusak di desa Tanjung Raja " * 3}


def _drive(url: str, n: int, concurrency: int, http2: bool) -> dict[str, Any]:
    """``concurrency`` threads sharing one httpx client (the forwarder's way)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    errors: list[str] = []
    with httpx.Client(http1=not http2, http2=http2, limits=limits, timeout=10) as client:

        def post(i: int) -> int:
            try:
                r = client.post(url, json={**BODY, "n": i}, headers={"Idempotency-Key": f"k{i}"})
            except Exception as e:  # counted: a shared HTTP/2 connection may fail here
                errors.append(f"{type(e).__name__}: {e}"[:120])
                return 0
            assert r.http_version == ("HTTP/2" if http2 else "HTTP/1.1"), r.http_version
            return r.status_code

        post(-1)  # the connection is up before the clock starts (keep-alive from then on)
        with ThreadPoolExecutor(concurrency) as pool:
            t0 = time.monotonic()
            codes = list(pool.map(post, range(n)))
            elapsed = time.monotonic() - t0
    ok = sum(c == 201 for c in codes)
    return {"per_s": ok / elapsed, "seconds": elapsed, "ok": ok, "errors": sorted(set(errors))}


def _drive_async(url: str, n: int, concurrency: int) -> dict[str, Any]:
    """HTTP/2 as it is meant to be used: one connection, ``concurrency`` streams at a time
    from one event loop (httpx.AsyncClient)."""

    async def main() -> dict[str, Any]:
        async with httpx.AsyncClient(http1=False, http2=True, timeout=10) as client:
            await client.post(url, json=BODY, headers={"Idempotency-Key": "k-1"})
            gate = asyncio.Semaphore(concurrency)

            async def post(i: int) -> int:
                async with gate:
                    r = await client.post(
                        url, json={**BODY, "n": i}, headers={"Idempotency-Key": f"k{i}"}
                    )
                    return r.status_code

            t0 = time.monotonic()
            codes = await asyncio.gather(*(post(i) for i in range(n)))
            elapsed = time.monotonic() - t0
        ok = sum(c == 201 for c in codes)
        return {"per_s": ok / elapsed, "seconds": elapsed, "ok": ok, "errors": []}

    return asyncio.run(main())


def compare(n: int, latency: float, concurrency: int) -> dict[str, Any]:
    with StandIn() as standin:
        standin.latency = latency
        h1 = _drive(standin.url, n, concurrency, http2=False)
    h2server = H2Server(latency)
    try:
        h2 = _drive_async(h2server.url, n, concurrency)
        h2["connections"] = h2server.connections
    finally:
        h2server.stop()
    h2server = H2Server(latency)
    try:
        h2_threads = _drive(h2server.url, n, concurrency, http2=True)
        h2_threads["connections"] = h2server.connections
    finally:
        h2server.stop()
    return {
        "n": n,
        "latency_s": latency,
        "concurrency": concurrency,
        "ideal_per_s": concurrency / latency,
        "http1": h1,
        "http2": h2,
        "http2_shared_by_threads": h2_threads,
    }

"""A local upstream stand-in: a real HTTP server on 127.0.0.1 that speaks the wire format.

Used by ``sms1708 demo`` and by the tests (a real server on loopback, not a mock). It records
every request, answers 201 with a ``tracking_id`` (the same one again for a repeated
``Idempotency-Key``, as an idempotent upstream would), and can be switched to misbehave:
``mode`` = ``up`` | ``fail`` (503) | ``reject`` (422) | ``hang`` (process, then stall past the
client's timeout) | ``reset`` (close the connection without answering); ``down()`` stops
listening altogether (connection refused) and ``up()`` listens again on the same port.
Modes that look like success but are not the upstream's acknowledgement (promise P14), where
the request never reaches the real upstream: ``portal`` (200 with an HTML login page, as a
captive portal or an exhausted data quota answers), ``empty`` (200 with no body), ``redirect``
(302 to a portal); and answers the upstream did give but badly: ``huge`` (201 with a JSON object
of ``huge_bytes``), ``trickle`` (201, the answer sent one byte every ``trickle_interval``
seconds). ``tracking_override``, when set, is the tracking id answered (odd ids, control
characters). ``reject_if``, when set, answers 422 (as ``reject``) to the requests whose JSON
body it returns true for, while ``mode`` is ``up``: one poison record among good ones.

Real-world timings: ``latency`` (seconds) delays every answer, as a server far away does;
``rate_limit`` (requests per second, over a sliding second) answers ``429`` with
``Retry-After`` (whole seconds until a place frees) to the requests beyond it, counted in
``too_many``.
``signing_secret`` with ``replay_window`` (seconds): the stand-in checks the HMAC signature and
answers 401 when it is wrong or its timestamp is further than the window from the stand-in's
clock, as an upstream that refuses replayed requests does.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    key: str | None
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.time)


class StandIn:
    def __init__(self, port: int = 0, *, hang_seconds: float = 30.0) -> None:
        self.port = port
        self.mode = "up"
        self.hang_seconds = hang_seconds
        self.reject_if: Callable[[dict[str, Any]], bool] | None = None
        #: like ``reject_if``, for a hang: one slow request among quick ones
        self.hang_if: Callable[[dict[str, Any]], bool] | None = None
        self.huge_bytes = 3 << 20
        self.trickle_interval = 1.0
        self.tracking_override: Any = None
        #: a rejection quotes the record's text back, as some validating APIs do
        self.reject_echo = False
        self.latency = 0.0
        self.rate_limit: float | None = None
        self.too_many = 0  # requests answered 429 by the rate limit
        self.too_many_at: list[float] = []  # when they arrived (time.time(), as Received.at)
        self._accepted_at: deque[float] = deque()
        self.signing_secret: str | None = None
        self.replay_window: float | None = None
        self.unauthorized = 0  # requests answered 401 (bad signature / outside the window)
        self.requests: list[Received] = []
        self.tracking: dict[str, str] = {}
        #: tracking id -> status text answered on GET /status/<tracking id>
        self.statuses: dict[str, str] = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()
        self._conns: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/complaints"

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/status/{{tracking_id}}"

    def up(self) -> StandIn:
        if self._server is not None:
            return self
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stall

            def log_message(self, *_a: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with owner.lock:
                    owner._conns.add(self.connection)

            def finish(self) -> None:
                with owner.lock:
                    owner._conns.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                owner._handle(self)

            def do_GET(self) -> None:
                owner._status(self)

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="standin", daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self.lock:  # kept-alive connections die too, as when the link drops
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._release.set()
        self.down()

    def __enter__(self) -> StandIn:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ observing

    def keys(self) -> list[str]:
        with self.lock:
            return [r.key or "" for r in self.requests]

    def delivered(self) -> dict[str, Received]:
        """Complaints accepted (answered 2xx), by idempotency key (first request wins)."""
        with self.lock:
            out: dict[str, Received] = {}
            for r in self.requests:
                if r.key in self.tracking and r.key not in out:
                    out[r.key] = r
            return out

    def wait_for(self, n: int, timeout: float) -> bool:
        """Wait until ``n`` distinct complaints have been accepted."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.tracking) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True

    # ------------------------------------------------------------------ serving

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = {"_unparsable": raw.decode("latin-1")}
        key = h.headers.get("Idempotency-Key")
        arrived = time.time()
        wait = self._over_limit()
        if self.latency > 0:
            self._release.wait(self.latency)
        if wait is not None:
            with self.changed:
                self.too_many += 1
                self.too_many_at.append(arrived)
                self.changed.notify_all()
            self._answer(h, 429, {"error": "too many requests"}, {"Retry-After": str(wait)})
            return
        mode = self.mode
        reject_if = self.reject_if
        if mode == "up" and reject_if is not None and reject_if(body):
            mode = "reject"
        hang_if = self.hang_if
        if mode == "up" and hang_if is not None and hang_if(body):
            mode = "hang"
        if mode == "up" and not self._signature_ok(h.headers.get("X-Sms1708-Signature"), raw):
            with self.changed:
                self.unauthorized += 1
            self._answer(h, 401, {"error": "signature invalid or outside the replay window"})
            return
        with self.changed:
            self.requests.append(Received(key, dict(h.headers.items()), body))
            if mode in ("up", "hang", "huge", "trickle") and key:
                self.tracking.setdefault(key, str(1916449 + len(self.tracking)))
            tracking = self.tracking.get(key or "")
            self.changed.notify_all()
        if mode == "fail":
            self._answer(h, 503, {"error": "temporarily unavailable"}, {"Retry-After": "1"})
        elif mode == "reject":
            error = "record rejected by the stand-in"
            if self.reject_echo:
                error = f"text {json.dumps(body.get('text'))} is not acceptable"
            self._answer(h, 422, {"error": error})
        elif mode == "reset":
            h.close_connection = True
            h.connection.close()
        elif mode == "hang":
            self._release.wait(self.hang_seconds)
            h.close_connection = True
        elif mode == "portal":
            page = b"<html><body><h1>Kuota internet Anda habis</h1><form>...</form></body></html>"
            self._raw(h, 200, "text/html; charset=utf-8", page)
        elif mode == "empty":
            self._raw(h, 200, "text/plain", b"")
        elif mode == "redirect":
            h.send_response(302)
            h.send_header("Location", "http://10.0.0.1/login?from=upstream")
            h.send_header("Content-Length", "0")
            h.end_headers()
        elif mode == "huge":
            pad = "x" * self.huge_bytes
            self._answer(h, 201, {"tracking_id": tracking, "pad": pad})
        elif mode == "trickle":
            payload = json.dumps({"tracking_id": tracking, "status": "received"}).encode()
            h.send_response(201)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.flush()
            for i in range(len(payload)):
                if self._release.wait(self.trickle_interval):
                    break
                try:
                    h.wfile.write(payload[i : i + 1])
                    h.wfile.flush()
                except OSError:
                    break
            h.close_connection = True
        else:
            if self.tracking_override is not None:
                tracking = self.tracking_override
            self._answer(h, 201, {"tracking_id": tracking, "status": "received"})

    def _over_limit(self) -> int | None:
        """None when this request is within ``rate_limit``; else the Retry-After seconds."""
        limit = self.rate_limit
        if limit is None:
            return None
        now = time.monotonic()
        with self.lock:
            window = self._accepted_at
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) < max(1, math.floor(limit)):
                window.append(now)
                return None
            return max(1, math.ceil(window[0] + 1.0 - now))

    def _signature_ok(self, header: str | None, raw: bytes) -> bool:
        if self.signing_secret is None:
            return True
        fields = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
        try:
            stamp = int(fields.get("t", ""))
        except ValueError:
            return False
        mac = hmac.new(self.signing_secret.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
        if not hmac.compare_digest(mac.hexdigest(), fields.get("v1", "")):
            return False
        return self.replay_window is None or abs(time.time() - stamp) <= self.replay_window

    def _status(self, h: BaseHTTPRequestHandler) -> None:
        tracking = h.path.rstrip("/").rsplit("/", 1)[-1]
        with self.lock:
            known = tracking in self.tracking.values()
            status = self.statuses.get(tracking, "diterima")
        if self.mode != "up" or not known:
            self._answer(h, 404 if known or self.mode == "up" else 503, {"error": "unknown"})
            return
        self._answer(h, 200, {"tracking_id": tracking, "status": status})

    @staticmethod
    def _raw(h: BaseHTTPRequestHandler, status: int, content_type: str, payload: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    @staticmethod
    def _answer(
        h: BaseHTTPRequestHandler,
        status: int,
        data: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = json.dumps(data).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)

"""Test helpers for people who build on sms1708 (an upstream profile of their own, a new site).

The same real parts the project's own tests use, nothing mocked: the emulated GSM modem on a
pseudo-terminal (opened with pyserial exactly like a USB modem), the upstream stand-in (a real
HTTP server on 127.0.0.1 that speaks the wire format and records what it received), and the
two fault seams of the product: a Store whose Nth transaction fails and an httpx transport
whose Nth request fails. No pytest needed (use them from any test runner)::

    from sms1708.config import UpstreamConfig
    from sms1708.testing import upstream_standin
    from sms1708.upstream.webhook import WebhookClient

    with upstream_standin() as upstream:
        client = WebhookClient(UpstreamConfig(url=upstream.url), mapper=my_mapper)
        client.send(record, "key-1")
        assert upstream.requests[0].body["judul"] == "Jalan rusak"

See the README ("Testing your own upstream profile") for a whole run: a citizen's SMS on the
emulated modem, the daemon in your test process, your mapping at the stand-in.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from sms1708.modem.emulator import EmulatedModem
from sms1708.store.store import Store
from sms1708.upstream.standin import Received, StandIn

__all__ = [
    "EmulatedModem",
    "FaultyTransport",
    "NthCall",
    "Received",
    "StandIn",
    "emulated_modem",
    "faulty_store",
    "upstream_standin",
]


@contextlib.contextmanager
def emulated_modem(
    link: str | os.PathLike[str] | None = None, **options: Any
) -> Iterator[EmulatedModem]:
    """The emulated modem, started on a new pty and stopped on exit.

    ``link``: a path the modem's port appears at (a symlink, as ``/dev/serial/by-id/...``);
    without it, ``modem.port`` is the pty's own name. ``options`` are
    :class:`~sms1708.modem.emulator.EmulatedModem`'s (``pin``, ``sm_capacity``, ``baudrate``,
    ``cmgs_latency``...). Citizens write with ``modem.receive_sms(sender, text)``; what the
    gateway sent is in ``modem.sent``::

        with emulated_modem(tmp_path / "modem") as modem:
            modem.receive_sms("+6281234567890", "LAPOR jalan rusak di Desa Sukamaju")
            ...  # point [modem] port at modem.port, run the gateway
            assert modem.wait_until(lambda: not modem.stored(), 30)  # read and deleted
    """
    modem = EmulatedModem(link, **options).start()
    try:
        yield modem
    finally:
        modem.stop()


@contextlib.contextmanager
def upstream_standin(**settings: Any) -> Iterator[StandIn]:
    """The upstream stand-in listening on 127.0.0.1 on a free port, stopped on exit.

    Yields the :class:`~sms1708.upstream.standin.StandIn`: ``url`` (POST complaints there),
    ``requests`` (every request received: ``key``, ``headers``, ``body``), ``delivered()``
    (one per idempotency key), ``wait_for(n, timeout)``. ``settings`` set its attributes
    (``mode="fail"``, ``latency=2.0``, ``rate_limit=5``...), and may be changed while it runs::

        with upstream_standin(mode="fail") as upstream:     # answers 503
            ...
            upstream.mode = "up"                            # and now accepts
            assert upstream.wait_for(1, timeout=30)
    """
    standin = StandIn()
    for name, value in settings.items():
        if not hasattr(standin, name):
            raise TypeError(f"StandIn has no setting {name!r}")
        setattr(standin, name, value)
    standin.up()
    try:
        yield standin
    finally:
        standin.stop()


@dataclass
class NthCall:
    """Counts calls across every object sharing it (threads included); the ``fire_at``-th
    call fails. Remembers where it fired (the Store method, or the request). ``where``: only
    calls whose place starts with it are counted (``"ingest"``, ``"connect POST"``)."""

    fire_at: int | None = None
    calls: int = 0
    fired_at: list[str] = field(default_factory=list)
    where: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self, where: str) -> bool:
        """Count one call made at ``where``; True when this is the one that fails."""
        if self.where is not None and not where.startswith(self.where):
            return False
        with self._lock:
            self.calls += 1
            if self.calls == self.fire_at:
                self.fired_at.append(where)
                return True
            return False

    @property
    def fired(self) -> bool:
        return bool(self.fired_at)


def _store_caller() -> str:
    """The Store method that opened the transaction being entered."""
    for frame in reversed(traceback.extract_stack()):
        in_store = "/sms1708/store/" in frame.filename.replace("\\", "/")
        if in_store and frame.name != "transaction":
            return frame.name
    return "?"


def faulty_store(
    counter: NthCall, error: type[Exception], *, at: Literal["begin", "commit"] = "commit"
) -> Callable[[str], Store]:
    """A ``store_factory`` (for ``Daemon``, ``ModemWorker``, ``Forwarder``) whose stores fail
    the ``counter.fire_at``-th ``transaction()`` of the process with ``error``.

    ``at="begin"``: before anything is written (``BEGIN`` refused, as with a locked database);
    ``at="commit"``: after the body ran, so its writes are rolled back (as when the disk fills
    up at commit). Place names are ``"<Store method>@<at>"``::

        counter = NthCall(fire_at=1, where="ingest")
        daemon = Daemon(cfg, store_factory=faulty_store(counter, StoreFullError))
    """

    class FaultyStore(Store):
        @contextlib.contextmanager
        def transaction(self) -> Iterator[sqlite3.Connection]:
            where = _store_caller()
            fire = counter.tick(f"{where}@{at}")
            if fire and at == "begin":
                raise error(f"{self.path}: injected fault at BEGIN of {where}")
            with super().transaction() as conn:
                yield conn
                if fire:
                    raise error(f"{self.path}: injected fault at COMMIT of {where}")

    return FaultyStore.open


class FaultyTransport(httpx.BaseTransport):
    """An httpx transport (``WebhookClient(..., transport=...)``) whose ``counter.fire_at``-th
    request fails; every other request goes through ``inner`` (a real ``HTTPTransport``).

    ``kind="connect"``: never sent (``httpx.ConnectError``); ``"no_answer"``: sent and
    processed by the server, the answer dropped (``httpx.ReadTimeout``: outcome unknown);
    ``"bug"``: a ``RuntimeError``, as a bug in a library would raise. Place names are
    ``"<kind> <method> key=<first 8 of the Idempotency-Key>"``::

        transport = FaultyTransport(NthCall(fire_at=1), "no_answer")
        client = WebhookClient(cfg.upstream, transport=transport)
        client.send(record, key)   # raises UpstreamAmbiguous; the stand-in has the record
    """

    def __init__(
        self,
        counter: NthCall,
        kind: Literal["connect", "no_answer", "bug"],
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        if kind not in ("connect", "no_answer", "bug"):
            raise ValueError(f"unknown fault kind {kind!r}")
        self.counter = counter
        self.kind = kind
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Idempotency-Key", "?")
        if not self.counter.tick(f"{self.kind} {request.method} key={key[:8]}"):
            return self.inner.handle_request(request)
        if self.kind == "connect":
            raise httpx.ConnectError("injected: connection refused", request=request)
        if self.kind == "bug":  # not an httpx error at all: what a bug in a library raises
            raise RuntimeError("injected: unexpected failure in the HTTP stack")
        response = self.inner.handle_request(request)
        response.read()
        response.close()
        raise httpx.ReadTimeout("injected: the answer never came", request=request)

    def close(self) -> None:
        self.inner.close()

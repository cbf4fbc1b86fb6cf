"""An httpx transport with a deadline for the whole request, not for each read.

httpx's timeouts apply to each socket operation: a server (or a captive portal, or a half-dead
mobile link) that trickles its answer one byte a second never trips a read timeout, and holds
the request - and a forwarder thread - for ever. This transport gives every request one
deadline on the monotonic clock: each read and write may wait only for what is left of it, and
once it has passed the next socket operation raises :class:`httpcore.ReadTimeout` /
:class:`httpcore.WriteTimeout`, which httpx turns into its timeout errors (an *ambiguous*
outcome: the request may have reached the upstream).

The deadline covers connecting, sending, the headers and the body (which the webhook client
streams and reads up to a limit). It is kept per thread, so the forwarder's pool threads each
have their own.
"""

from __future__ import annotations

import threading
import time
import typing

import httpcore
import httpx


class Deadline(threading.local):
    """The current thread's deadline (a :func:`time.monotonic` value), or None."""

    at: float | None = None

    def start(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self, timeout: float | None, error: type[Exception]) -> float | None:
        """The timeout for one socket operation: ``timeout`` capped by what is left."""
        at = self.at
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise error("the request's deadline has passed")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, self._deadline.left(timeout, httpcore.ConnectTimeout)
        )
        return _Stream(inner, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, deadline: Deadline) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host,
            port,
            self._deadline.left(timeout, httpcore.ConnectTimeout),
            local_address,
            socket_options,
        )
        return _Stream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - the upstream is reached over TCP
        stream = self._inner.connect_unix_socket(
            path, self._deadline.left(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _Stream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose requests each get ``total`` seconds, start to last byte.

    The deadline starts when a request is handed to the transport and stays in force while the
    caller reads the streamed body in the same thread.
    """

    def __init__(
        self,
        total: float,
        *,
        verify: bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=verify, limits=limits)
        self.total = total
        self.deadline = Deadline()
        ssl_context = httpx.create_ssl_context(verify=verify)
        # the same pool httpx builds, with the deadline-aware network backend
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=_Backend(self.deadline),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.deadline.start(self.total)
        return super().handle_request(request)

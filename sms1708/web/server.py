"""Serve the console with waitress (a pure-Python production WSGI server)."""

from __future__ import annotations

import signal
import sys
from typing import Any

import structlog

from sms1708.config import Config
from sms1708.web.app import App

log = structlog.get_logger("sms1708.web")


def fixed_mmap_threshold() -> None:
    """Give big blocks back to the system after use (glibc only).

    glibc raises its mmap threshold after the first large block is freed, so Argon2id's
    19 MiB work area is served from the heap at the next login and stays in the process's
    RSS for good. A fixed threshold keeps such blocks mmapped and returned at free().
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


def make_server(cfg: Config, listen: str | None = None) -> Any:
    from waitress.server import create_server

    fixed_mmap_threshold()

    app = App(cfg)
    app.store()  # open (and migrate) the store now: a broken database fails at start-up
    proxy = cfg.web.trusted_proxy
    return create_server(
        app,
        listen=listen or cfg.web.listen,
        threads=cfg.web.threads,
        trusted_proxy=proxy or None,
        trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"} if proxy else None,
        clear_untrusted_proxy_headers=True,
        ident="sms1708",
        max_request_body_size=1 << 20,
        channel_timeout=60,
    )


def serve(cfg: Config, listen: str | None = None) -> int:
    server = make_server(cfg, listen)
    host, port = server.effective_host, server.effective_port
    log.info("web_listening", url=f"http://{host}:{port}/")

    def stop(*_: object) -> None:
        sys.exit(0)  # unwinds server.run(); the finally below closes the sockets once

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0

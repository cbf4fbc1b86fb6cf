"""The console's real parts: `sms1708 web` in a subprocess on loopback, accounts made with the
real `sms1708 user add`, a store filled through the real intake path."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.store.store import IncomingPart, Store
from tests.conftest import ROOT, write_config

PASSWORD = "rahasia-sekali-123"
WIB = timezone(timedelta(hours=7))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(
    config: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sms1708", "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def add_user(config: Path, name: str, role: str, password: str = PASSWORD) -> None:
    r = run_cli(config, "user", "add", name, "--role", role, "--password-stdin", stdin=password)
    assert r.returncode == 0, r.stderr


def sms(store: Store, sender: str, text: str, *, minutes_ago: float = 0, index: int = 1) -> int:
    """One SMS through the real intake path; returns its complaint id."""
    scts = datetime.now(WIB) - timedelta(minutes=minutes_ago)
    [pdu] = encode_deliver(sender, text, scts)
    [res] = store.intake.ingest(
        "modem0",
        [IncomingPart("SM", index, pdu, decode_deliver(pdu))],
        now=time.time() - minutes_ago * 60,
        rules=IntakeRules(),
    )
    return res.message_ids[0]


class WebServer:
    """`sms1708 web` in a subprocess."""

    def __init__(self, config: Path, port: int) -> None:
        self.config = config
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = config.with_suffix(".web.log")
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sms1708", "--config", str(config), "web"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60  # a hang guard
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                raise RuntimeError(self.log_path.read_text(errors="replace"))
            try:
                httpx.get(self.url + "/login", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("sms1708 web did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(20)
        self._log.close()


@pytest.fixture(scope="module")
def start_web() -> Iterator[Callable[[Path], WebServer]]:
    started: list[WebServer] = []

    def start(config: Path) -> WebServer:
        s = WebServer(config, int(_listen_port(config)))
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def _listen_port(config: Path) -> str:
    m = re.search(r'listen = "127\.0\.0\.1:(\d+)"', config.read_text())
    assert m, "the web test configs name their port"
    return m.group(1)


def web_config(folder: Path, **sections: dict[str, Any]) -> Path:
    base: dict[str, dict[str, Any]] = {
        "store": {"path": str(folder / "sms1708.db")},
        "web": {"listen": f"127.0.0.1:{free_port()}"},
        "log": {"format": "json"},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    folder.mkdir(parents=True, exist_ok=True)
    return write_config(folder / "sms1708.toml", base)


class Browserless:
    """An HTTP client that logs in like a browser: cookies, the login form's token."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)

    def csrf_of(self, html: str) -> str:
        m = re.search(r'name="csrf" value="([^"]*)"', html)
        assert m, "the page has a form with a CSRF token"
        return m.group(1)

    def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        page = self.http.get("/login")
        return self.http.post(
            "/login",
            data={"csrf": self.csrf_of(page.text), "username": name, "password": password},
        )

    def token(self, path: str = "/laporan") -> str:
        return self.csrf_of(self.http.get(path).text)

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> Any:
        data = dict(data or {})
        if csrf:
            data["csrf"] = self.token()
        return self.http.post(path, data=data)

    def close(self) -> None:
        self.http.close()

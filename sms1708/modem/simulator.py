"""`sms1708 simulate`: the emulated modem for training, driven from its terminal or another one.

The simulator listens on a small Unix socket beside the modem's link (``<link>.ctl``, mode
0600), so a trainer can play citizens from a second terminal::

    sms1708 simulate --link /tmp/sms1708-modem            # terminal 1
    sms1708 simulate --link /tmp/sms1708-modem --sms +6281234567890 "LAPOR jalan rusak"
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path

from sms1708.modem.emulator import EmulatedModem


def control_path(link: str) -> str:
    return f"{link}.ctl"


def serve_control(modem: EmulatedModem, path: str, stop: threading.Event) -> threading.Thread:
    """Answer control lines (``sms SENDER TEXT``, ``list``, ``sent`` ...) on a Unix socket."""
    Path(path).unlink(missing_ok=True)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o600)
    srv.listen(4)
    srv.settimeout(0.5)

    def loop() -> None:
        with srv:
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                with conn:
                    conn.settimeout(5)
                    data = b""
                    with contextlib.suppress(OSError):
                        while not data.endswith(b"\n"):
                            chunk = conn.recv(4096)
                            if not chunk:
                                break
                            data += chunk
                    answer = modem.handle_control_line(data.decode("utf-8", "replace").strip())
                    with contextlib.suppress(OSError):
                        conn.sendall(answer.encode("utf-8") + b"\n")
        Path(path).unlink(missing_ok=True)

    t = threading.Thread(target=loop, name="simulate-control", daemon=True)
    t.start()
    return t


def send_control(path: str, line: str, timeout: float = 10.0) -> str:
    """Send one control line to a running simulator and return its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(line.encode("utf-8") + b"\n")
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    return out.decode("utf-8", "replace").strip()

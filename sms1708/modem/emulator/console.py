"""The emulated modem's operator console: `sms1708 simulate`, for training and trials.

:func:`handle_control_line` answers one operator line (``sms SENDER TEXT``, ``list``, ``sent``,
``unplug``, ``replug``, ``help``), typed at the simulator's terminal or sent from another one:
the simulator listens on a small Unix socket beside the modem's link (``<link>.ctl``, mode
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sms1708.modem.emulator.modem import EmulatedModem


def handle_control_line(modem: EmulatedModem, line: str) -> str:
    """One operator command; returns a readable answer."""
    words = line.strip().split(maxsplit=2)
    cmd = words[0].lower() if words else "help"
    try:
        if cmd == "sms" and len(words) == 3:
            where = modem.receive_sms(words[1], words[2])
            got = ", ".join("held back" if i is None else f"index {i}" for i in where)
            return f"SMS from {words[1]} in {len(where)} part(s): {got}"
        if cmd == "list":
            rows = [
                f"{m} {i} stat={modem.status_of(m, i)} {p}" for (m, i), p in modem.stored().items()
            ]
            return "\n".join(rows) or "storage is empty"
        if cmd == "sent":
            rows = [f"mr={s.mr} len={s.tpdu_len} {s.pdu_hex}" for s in list(modem.sent)]
            return "\n".join(rows) or "nothing sent yet"
        if cmd == "unplug":
            modem.unplug()
        if cmd == "replug":
            modem.replug()
        if cmd in ("unplug", "replug"):
            return f"modem {cmd}ged; port {modem.link or '(no link)'}"
    except Exception as exc:
        return f"error: {exc}"
    return (
        "commands: sms <sender> <text...> | list | sent | unplug | replug | help"
        if cmd == "help"
        else f"unknown command {line.strip()!r}; try help"
    )


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

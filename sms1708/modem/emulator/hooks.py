"""The emulated modem's test hooks: the faults of real modems, on demand.

A URC racing a final result code, a burst of ``+CMTI``, garbage on the line, a stick that resets
after an SMS's Ctrl-Z, a modem that stops reading or stops answering, a slot whose ``AT+CMGD``
fails. The attribute-style hooks (``swallow``, ``refuse_send``, ``before_delete``,
``reset_on_send``, ``refuse_cops_format``...) are plain attributes of the modem, read where they
act; this module holds the ones that do something.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sms1708.modem.emulator.network import ucs2_deliver

if TYPE_CHECKING:
    from sms1708.modem.emulator.modem import EmulatedModem


class Hooks:
    """Fault injection for one emulated modem (the modem's public methods delegate here)."""

    def __init__(self, modem: EmulatedModem) -> None:
        self.m = modem
        self.refused_deletes: dict[tuple[str, int], int] = {}

    def refuse_delete(self, memory: str, index: int, times: int) -> None:
        with self.m._lock:
            self.refused_deletes[(memory.upper(), index)] = times

    def delete_refused(self, memory: str, index: int) -> bool:
        """Does this ``AT+CMGD`` fail (and count down)? Called under the modem's lock."""
        if self.refused_deletes.get((memory, index), 0) > 0:
            self.refused_deletes[(memory, index)] -= 1
            return True
        return False

    def race_next_urc(self) -> None:
        with self.m.line.tx_lock:
            self.m.line.race_armed = True

    def burst_cmti(self, n: int, pdus: Sequence[str] | None, memory: str | None) -> list[int]:
        m = self.m
        now = m.network_now()
        if not pdus:
            pdus = [ucs2_deliver("+6281200000000", f"burst {i}", now, m.smsc) for i in range(n)]
        with m._lock:
            name = (memory or m.cpms[2]).upper()
            got = [m.deliver(pdus[i % len(pdus)], memory=memory, notify=False) for i in range(n)]
            indexes = [i for i in got if i is not None]
            if indexes:
                m.line.emit(b"".join(f'\r\n+CMTI: "{name}",{i}\r\n'.encode() for i in indexes))
        return indexes

    def reset_now(self) -> None:
        """Drop off the bus now (from the reader thread) and come back after a reboot."""
        m = self.m
        m.resets += 1
        m.unplug()

        def boot() -> None:
            with m._life:
                started = m._started
            if started:
                m.replug()

        timer = threading.Timer(m.reboot_seconds, boot)
        timer.daemon = True
        timer.start()

    def stop_reading(self) -> int:
        line = self.m.line
        with line.tx_lock:
            pty = line.pty
            line.deaf = True
        if pty is None:
            return 0
        os.set_blocking(pty.slave, False)
        filled = 0
        try:
            # to the last byte: a few bytes of room left would take a short command. The tty
            # layer moves data between its buffers in the background, so fill again until a
            # round finds no room at all.
            for _ in range(20):
                added = 0
                for size in (1024, 64, 1):
                    try:
                        while True:
                            added += os.write(pty.slave, b"\0" * size)
                    except (BlockingIOError, OSError):
                        pass
                filled += added
                if not added:
                    break
                time.sleep(0.02)
        finally:
            os.set_blocking(pty.slave, True)
        return filled

    def resume_reading(self) -> None:
        line = self.m.line
        pty = line.pty
        if pty is not None:
            with_data = True
            while with_data:
                try:
                    with_data = bool(os.read(pty.master, 65536))
                except (BlockingIOError, OSError):
                    with_data = False
            pty.buf.clear()
        line.deaf = False

    def hang(self, on: bool) -> None:
        line = self.m.line
        if on:  # at once, not after the lock: an answer being written stops in the middle
            line.hung = True
        with line.tx_lock:
            line.hung = on
            if not on and not line.busy and line.urc_queue:
                line.write(b"".join(line.urc_queue))
                line.urc_queue.clear()

"""The emulated modem's serial line: one pty pair, its reader thread, baud-rate pacing.

:class:`Line` owns everything about bytes on the wire: the reader thread that hands input to
the command interpreter, writes paced at ``baudrate``/10 bytes per second, unsolicited results
held while a command is answered (never inside a response), and the log of what went each way.
It knows nothing about AT commands: input goes to the ``consume`` callback it is given.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sms1708.modem.emulator.modem import EmulatedModem

logger = logging.getLogger("sms1708.modem.emulator")

LogEvent = tuple[int, float, Literal["rx", "tx"], str]


@dataclass
class Pty:
    """One plugged-in pty pair and its reader thread."""

    master: int
    slave: int
    name: str
    wake_r: int
    wake_w: int
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    buf: bytearray = field(default_factory=bytearray)
    tx_clock: float = 0.0
    rx_clock: float = 0.0
    teardown_on_exit: bool = False


def fmt(lines: Sequence[str]) -> bytes:
    """Lines as a modem writes them: each framed by CR LF."""
    return ("\r\n" + "\r\n".join(lines) + "\r\n").encode("latin-1", "replace")


class Line:
    """The line between the emulated modem and the DTE (see the module docstring).

    Lock order: the modem's ``_lock`` -> ``tx_lock`` -> ``log_lock`` -> ``changed``.
    """

    def __init__(self, modem: EmulatedModem, consume: Callable[[Pty], None]) -> None:
        self.m = modem
        self.consume = consume
        self.pty: Pty | None = None
        self.tx_lock = threading.RLock()  # the line: writes, busy flag, URC queues
        self.log_lock = threading.Lock()  # log, commands, seq
        self.changed = threading.Condition()
        self.seq = 0
        self.log: list[LogEvent] = []
        self.commands: list[tuple[int, float, str]] = []
        self.busy = self.hung = self.race_armed = self.deaf = False
        self.urc_queue: list[bytes] = []
        self.race_buf: list[bytes] = []

    def power_up(self, pty: Pty) -> None:
        """A fresh line: no command in progress, nothing queued, reading and answering."""
        with self.tx_lock:
            self.busy = self.race_armed = self.hung = self.deaf = False
            self.urc_queue.clear()
            self.race_buf.clear()
            self.pty = pty

    def run(self, pty: Pty, teardown: Callable[[Pty], None], on_error: Callable[[], None]) -> None:
        """The reader thread: input to ``consume`` until the pty is stopped."""
        try:
            while not pty.stop.is_set():
                ready, _, _ = select.select([pty.master, pty.wake_r], [], [], 1.0)
                if pty.stop.is_set():
                    break
                if self.deaf:  # not reading: what the DTE writes piles up in the pty
                    pty.stop.wait(0.05)
                    continue
                if pty.master not in ready:
                    continue
                try:
                    data = os.read(pty.master, 4096)
                except BlockingIOError:
                    continue
                except OSError:
                    pty.stop.wait(0.05)
                    continue
                self.event("rx", data)
                if self.m.baudrate:
                    pty.rx_clock = (
                        max(pty.rx_clock, time.monotonic()) + len(data) * 10 / self.m.baudrate
                    )
                    pty.stop.wait(max(0.0, pty.rx_clock - time.monotonic()))
                if self.hung:
                    continue
                pty.buf += data
                try:
                    self.consume(pty)
                except Exception:  # a bug here must not kill the line: drop the input, go on
                    logger.exception("emulated modem: input processing failed")
                    pty.buf.clear()
                    on_error()
        except Exception:  # the emulator must not die silently in a test run
            logger.exception("emulated modem reader failed")
        finally:
            if pty.teardown_on_exit:
                teardown(pty)

    def final(self, code: str | None) -> None:
        """End a command: its final result code (None: no answer), then the held URCs."""
        with self.tx_lock:
            if code is not None and not self.hung:
                if self.race_buf:
                    self.write(b"".join(self.race_buf))
                    self.race_buf.clear()
                self.write(fmt([code]))
            self.busy = False
            if self.urc_queue and not self.hung:
                self.write(b"".join(self.urc_queue))
                self.urc_queue.clear()

    def sleep(self, seconds: float) -> None:
        pty = self.pty
        if seconds > 0 and pty is not None:
            pty.stop.wait(seconds)

    def write(self, data: bytes) -> None:
        """Write to the DTE, paced at baudrate/10 bytes per second when a baudrate is set.
        A modem that hangs stops in the middle of what it was writing."""
        with self.tx_lock:
            pty = self.pty
            if pty is None or pty.stop.is_set() or not data:
                return
            bps = self.m.baudrate / 10 if self.m.baudrate else None
            step = max(1, int(bps * 0.005)) if bps else len(data)
            for pos in range(0, len(data), step):
                if self.hung:
                    data = data[:pos]
                    break
                chunk = data[pos : pos + step]
                if bps:
                    # the line's clock starts when the answer does; within one answer a slice
                    # that woke late is made up, as a UART sends at its baud rate whatever the
                    # host's scheduler did (never faster than the line over the whole answer)
                    if pos == 0:
                        pty.tx_clock = max(pty.tx_clock, time.monotonic())
                    pty.tx_clock += len(chunk) / bps
                    pty.stop.wait(max(0.0, pty.tx_clock - time.monotonic()))
                if not self._write_fd(pty, chunk):
                    return
            self.event("tx", data)

    def _write_fd(self, pty: Pty, data: bytes) -> bool:
        view, deadline = memoryview(data), time.monotonic() + self.m.write_timeout
        while view:
            if pty.stop.is_set():
                return False
            try:
                view = view[os.write(pty.master, view) :]
                continue
            except BlockingIOError:
                pass
            except OSError:
                return False
            if time.monotonic() > deadline:
                logger.warning("emulated modem: DTE not reading, %d bytes dropped", len(view))
                return False
            select.select([pty.wake_r], [pty.master], [], 0.05)
        return True

    def emit(self, data: bytes) -> None:
        """An unsolicited result: never inside a command response (see race_next_urc)."""
        with self.tx_lock:
            if self.race_armed:
                self.race_armed = False
                self.race_buf.append(data)
            elif self.busy or self.hung:
                self.urc_queue.append(data)
            else:
                self.write(data)

    def event(self, direction: Literal["rx", "tx"], data: bytes) -> None:
        with self.log_lock:
            self.seq += 1
            text = data.decode("utf-8", "backslashreplace")
            self.log.append((self.seq, time.monotonic(), direction, text))
        self.notify()

    def record(self, command: str) -> None:
        with self.log_lock:
            self.seq += 1
            self.commands.append((self.seq, time.monotonic(), command))
        self.notify()

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self.changed:
                self.changed.wait(min(remaining, 0.05))
        return True

    def tx_text(self) -> str:
        with self.log_lock:
            return "".join(e[3] for e in self.log if e[2] == "tx")

"""The AT session: one serial port, one reader thread, one command at a time.

Why our own and not python-gsmmodem's: there, an unsolicited line (``+CMTI``) that arrives while
a command waits for its reply is swallowed into that reply, one non-UTF-8 byte kills the reader,
and RTS/CTS is forced on. Here:

- every line is classified by prefix: unsolicited result codes (URCs) go to ``on_urc`` whatever
  command is pending; the rest belongs to the pending command;
- bytes are decoded leniently (garbage becomes U+FFFD, the reader lives on);
- ``+CMT:``/``+CDS:`` carry their PDU on the next line, which is kept with the URC;
- a failed port (unplugged) wakes the pending command at once with :class:`ModemGone`;
- every write is bounded by the command's timeout: a modem that stops reading (CTS held low,
  a stuck USB endpoint, a full buffer) raises :class:`ModemTimeout` instead of blocking the
  caller, and the lock, for ever. pyserial's ``flush()`` (an unbounded ``tcdrain``) is never
  called; the output queue is watched (``TIOCOUTQ``) until empty or the deadline instead;
- a link lost after an SMS was handed over (PDU and Ctrl-Z written) raises
  :class:`ModemGoneAfterSend`: the SMS may have gone out, the caller counts an attempt;
- flow control and baud rate come from the config.

What a line means (URC or answer, final result codes) is in :mod:`sms1708.modem.at_lines`.

The serial port is opened through ``opener`` (``serial.Serial`` by default), so tests and the
emulator use the same path as a USB modem: a real pty opened by pyserial.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import select
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import serial

from sms1708.core.mask import redact_at
from sms1708.errors import (
    CommandFailed,
    ModemError,
    ModemGone,
    ModemTimeout,
)
from sms1708.logsetup import get_logger
from sms1708.modem.at_lines import (
    _FINAL_ERROR,
    PDU_URCS,
    Urc,
    _after_send,
    _check_final,
    _Pending,
    is_urc,
    response_prefix,
)

__all__ = ["OWED_WAIT", "PDU_URCS", "ATSession", "Urc", "is_urc", "response_prefix"]

log = get_logger("sms1708.modem")

#: after a timeout, the next command waits at least this long (or as long as the timed-out
#: command was given) for the late answer to go by (seconds)
OWED_WAIT = 5.0


class ATSession:
    """A serial link to one modem. Thread-safe: commands are serialised by a lock."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        rtscts: bool = False,
        on_urc: Callable[[Urc], None] | None = None,
        opener: Callable[..., Any] = serial.Serial,
        name: str = "modem0",
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.rtscts = rtscts
        self.on_urc = on_urc or (lambda _u: None)
        self._opener = opener
        self.name = name
        self._ser: Any = None
        self._lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: _Pending | None = None
        self._reader: threading.Thread | None = None
        self._closing = False
        self._owed = 0  # answers still due for commands that timed out
        self._owed_wait = 0.0
        self._owed_done = threading.Event()
        self._owed_done.set()
        self._lost_partial = False  # the reader drops the cut line a lost answer left behind
        self.gone: ModemGone | None = None

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        try:
            self._ser = self._opener(
                self.port,
                self.baudrate,
                timeout=0.2,
                rtscts=self.rtscts,
                dsrdtr=False,
                xonxoff=False,
                exclusive=True,  # one program per modem: `check` must not steal the daemon's bytes
            )
        except (serial.SerialException, OSError, ValueError) as e:
            raise ModemGone(f"cannot open {self.port}: {e}") from e
        self._closing = False
        self.gone = None
        self._reader = threading.Thread(
            target=self._read_loop, name=f"{self.name}-reader", daemon=True
        )
        self._reader.start()

    def close(self) -> None:
        self._closing = True
        ser, self._ser = self._ser, None
        if ser is not None:
            # drop output a stuck modem never took: closing a real serial port waits for it
            # to drain (closing_wait, 30 s by default)
            with contextlib.suppress(Exception):
                ser.reset_output_buffer()
            with contextlib.suppress(Exception):
                ser.close()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=2)
        self._fail_pending(ModemGone("session closed"))

    def __enter__(self) -> ATSession:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._ser is not None and self.gone is None

    # ------------------------------------------------------------------ commands

    def command(self, command: str, *, timeout: float = 10.0, data: str | None = None) -> list[str]:
        """Send one AT command; return its information lines (without the final ``OK``).

        With ``data``, wait for the ``> `` prompt, send ``data`` and Ctrl-Z (AT+CMGS).
        Raises CommandFailed (ERROR / +CME / +CMS), ModemTimeout, ModemGone.
        """
        with self._lock:
            if self.gone is not None or self._ser is None:
                raise self.gone or ModemGone("session not open")
            if self._owed:
                self._wait_owed()
            pending = _Pending(command, response_prefix(command), data)
            shown = redact_at(command)  # what error texts and logs may quote (no PIN)
            with self._state_lock:
                self._pending = pending
            try:
                self._write((command + "\r").encode("ascii", "replace"), timeout, shown)
                if data is not None:
                    if not pending.prompt.wait(timeout) and not pending.done.is_set():
                        self._write(b"\x1b", timeout, shown)  # cancel the data entry
                        self._owe(timeout)
                        raise ModemTimeout(f"{shown}: no '> ' prompt within {timeout:g}s")
                    if not pending.done.is_set():
                        pending.handed_over = True
                        self._write(data.encode("ascii", "replace") + b"\x1a", timeout, shown)
                if not pending.done.wait(timeout):
                    # its answer may still come: it must not be read as the next command's
                    self._owe(timeout)
                    raise ModemTimeout(f"{shown}: no answer within {timeout:g}s")
            except ModemGone as e:
                after = _after_send(pending, shown, e)
                if after is e:
                    raise
                raise after from e
            finally:
                with self._state_lock:
                    self._pending = None
            if pending.error is not None:
                if isinstance(pending.error, ModemGone):
                    raise _after_send(pending, shown, pending.error)
                raise pending.error
            _check_final(shown, pending.final or "")
            return pending.lines

    def stream(
        self,
        command: str,
        *,
        timeout: float = 10.0,
        idle: float | None = None,
        write_timeout: float | None = None,
        silence: float | None = None,
    ) -> Iterator[str]:
        """Send one AT command and yield its information lines as they arrive (a long
        ``AT+CMGL`` listing is worked on while the rest of it is still on the line).

        The session stays locked until the generator ends; a consumer that stops early (an
        exception, ``close()``) leaves the rest of the answer owed, as after a timeout. The
        final result is checked at the end: ERROR / +CME / +CMS raise CommandFailed after the
        lines that came before it were yielded; ModemTimeout and ModemGone as for
        :meth:`command`. ``timeout`` bounds the whole answer. With ``idle``, an empty string
        is yielded whenever no line came for that long (the consumer can act on a quiet line).
        ``write_timeout`` bounds writing the command itself (a modem that does not take a few
        bytes within a command's timeout has stopped reading; default: ``timeout``).
        ``silence``: a modem that says nothing at all for that long, before its first line or
        between two, has hung (a listing streams its lines without pauses): ModemTimeout then,
        rather than after the whole listing's ``timeout``.
        """
        with self._lock:
            if self.gone is not None or self._ser is None:
                raise self.gone or ModemGone("session not open")
            if self._owed:
                self._wait_owed()
            pending = _Pending(command, response_prefix(command), sink=queue.SimpleQueue())
            assert pending.sink is not None
            shown = redact_at(command)
            deadline = time.monotonic() + timeout
            with self._state_lock:
                self._pending = pending
            finished, owed_wait = False, None
            try:
                self._write(
                    (command + "\r").encode("ascii", "replace"), write_timeout or timeout, shown
                )
                quiet_since = last_line = time.monotonic()
                while True:
                    try:
                        yield pending.sink.get(timeout=0.05)
                        quiet_since = last_line = time.monotonic()
                        continue
                    except queue.Empty:
                        pass
                    if (
                        silence is not None
                        and not pending.done.is_set()
                        and time.monotonic() - last_line >= silence
                    ):
                        owed_wait = silence  # hung: its answer is owed as a command's
                        raise ModemTimeout(f"{shown}: the modem went silent for {silence:g}s")
                    if idle is not None and time.monotonic() - quiet_since >= idle:
                        quiet_since = time.monotonic()
                        yield ""
                    if pending.done.is_set() and pending.sink.empty():
                        break  # lines are queued before ``done`` is set: none is left behind
                    if time.monotonic() >= deadline:
                        raise ModemTimeout(f"{shown}: no answer within {timeout:g}s")
                finished = True
            finally:
                if not finished and not pending.done.is_set():
                    # a hung modem's answer is waited for as a command's; a listing still
                    # talking, or cut off by its consumer, may have its whole timeout to end
                    self._owe(owed_wait or max(timeout, deadline - time.monotonic()))
                with self._state_lock:
                    self._pending = None
            if pending.error is not None:
                raise pending.error
            _check_final(shown, pending.final or "")

    def _owe(self, timeout: float) -> None:
        with self._state_lock:
            self._owed += 1
            self._owed_wait = max(self._owed_wait, timeout, OWED_WAIT)
            self._owed_done.clear()

    def _wait_owed(self) -> None:
        """Before the next command, let the answer still owed for a timed-out one arrive (the
        modem answers in order) and drop it; if it never comes (as long again as the command
        was given), the modem lost it. A closed or lost port ends the wait at once."""
        deadline = time.monotonic() + self._owed_wait
        while not self._owed_done.wait(0.2):
            if self.gone is not None or self._closing or time.monotonic() >= deadline:
                log.info("modem_answer_lost", modem=self.name, owed=self._owed)
                self._lost_partial = True
                break
        with self._state_lock:
            self._owed = 0
            self._owed_wait = 0.0
            self._owed_done.set()

    def try_command(self, command: str, *, timeout: float = 10.0) -> list[str] | None:
        """Like :meth:`command`, but an ERROR answer returns None (optional commands)."""
        try:
            return self.command(command, timeout=timeout)
        except CommandFailed as e:
            log.info(
                "modem_optional_command_rejected", modem=self.name, command=e.command, reply=e.reply
            )
            return None

    def write_raw(self, data: bytes, *, timeout: float = 5.0) -> None:
        with self._lock:
            self._write(data, timeout, "raw write")

    def _write(self, data: bytes, timeout: float, what: str) -> None:
        """Write all of ``data`` and let the port's output queue drain, within ``timeout``.

        A modem that stops reading (CTS low with rtscts, a stuck USB endpoint, a full pty)
        raises ModemTimeout: the recovery ladder runs instead of this thread hanging here.
        """
        ser = self._ser
        if ser is None:
            raise self.gone or ModemGone("session not open")
        deadline = time.monotonic() + timeout
        try:
            fd = ser.fileno()
            view = memoryview(data)
            while view:
                if self._closing:
                    raise ModemGone("session closed")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ModemTimeout(
                        f"{what}: the modem stopped reading ({len(data) - len(view)} of "
                        f"{len(data)} bytes written in {timeout:g}s)"
                    )
                _, ready, _ = select.select([], [fd], [], min(left, 0.2))
                if ready:
                    with contextlib.suppress(BlockingIOError, InterruptedError):
                        view = view[os.write(fd, view) :]
            while ser.out_waiting:  # TIOCOUTQ: bytes the driver still holds (0 on a pty)
                if self._closing:
                    raise ModemGone("session closed")
                if time.monotonic() >= deadline:
                    raise ModemTimeout(
                        f"{what}: the modem stopped reading ({ser.out_waiting} bytes still "
                        f"queued after {timeout:g}s)"
                    )
                time.sleep(0.01)
        except ModemError:
            raise
        except Exception as e:  # SerialException, OSError, termios.error...: the link is gone
            gone = ModemGone(f"write to {self.port} failed: {e!r}")
            self._mark_gone(gone)
            raise gone from e

    # ------------------------------------------------------------------ reader

    def _read_loop(self) -> None:
        buf = b""
        urc_waiting_pdu: str | None = None
        while not self._closing:
            ser = self._ser
            if ser is None:
                break
            try:
                chunk = ser.read(ser.in_waiting or 1)
            except Exception as e:  # SerialException, OSError, termios.error...: link gone
                if not self._closing:
                    self._mark_gone(ModemGone(f"read from {self.port} failed: {e!r}"))
                return
            if not chunk:
                continue
            if self._lost_partial:  # a line cut off by a modem that hung: not the next answer's
                self._lost_partial, buf = False, b""
            buf += chunk
            while True:
                m = re.search(rb"[\r\n]", buf)
                if m is None:
                    break
                raw, buf = buf[: m.start()], buf[m.end() :]
                line = raw.decode("utf-8", errors="replace").strip()
                if not line:
                    continue
                if urc_waiting_pdu is not None:
                    self._dispatch_urc(Urc(urc_waiting_pdu, line))
                    urc_waiting_pdu = None
                    continue
                urc_waiting_pdu = self._handle_line(line)
            if buf.lstrip(b"\r\n").startswith(b">"):
                with self._state_lock:
                    p = self._pending
                if p is not None and p.data is not None:
                    buf = b""
                    p.prompt.set()
            if len(buf) > 65536:  # a line that never ends: garbage, drop it
                log.warning("modem_garbage_dropped", modem=self.name, size=len(buf))
                buf = b""

    def _handle_line(self, line: str) -> str | None:
        """Route one line. Returns the URC line when a PDU line is expected next."""
        with self._state_lock:
            p = self._pending
        prefix = p.response_prefix if p else None
        if is_urc(line, prefix):
            if line.startswith(PDU_URCS):
                return line
            self._dispatch_urc(Urc(line))
            return None
        if "\ufffd" in line or any(ord(c) < 32 for c in line):
            # undecodable or control bytes: line noise, never part of a valid answer
            log.info("modem_line_noise", modem=self.name, line=redact_at(line[:80]))
            return None
        if p is None and self._owed:
            if line == "OK" or _FINAL_ERROR.match(line):
                with self._state_lock:
                    self._owed = max(0, self._owed - 1)
                    if not self._owed:
                        self._owed_done.set()
            log.debug("modem_late_answer_dropped", modem=self.name, line=redact_at(line[:200]))
            return None
        if p is None:
            if line not in ("OK",):
                log.debug("modem_unexpected_line", modem=self.name, line=redact_at(line[:200]))
            return None
        if line == p.command or (p.data is not None and line.lstrip("> ").strip() == p.data):
            return None  # echo
        if line.startswith(">") and p.data is not None:
            p.prompt.set()
            return None
        if line == "OK" or _FINAL_ERROR.match(line):
            p.final = line
            p.done.set()
            return None
        if p.sink is not None:
            p.sink.put(line)
        else:
            p.lines.append(line)
        return None

    def _dispatch_urc(self, urc: Urc) -> None:
        try:
            self.on_urc(urc)
        except Exception as e:  # the reader must survive a faulty handler
            log.error("modem_urc_handler_failed", modem=self.name, urc=urc.line, error=repr(e))

    def _mark_gone(self, gone: ModemGone) -> None:
        if self.gone is None:
            self.gone = gone
            log.warning("modem_link_lost", modem=self.name, port=self.port, error=str(gone))
        self._fail_pending(gone)

    def _fail_pending(self, err: ModemError) -> None:
        with self._state_lock:
            p = self._pending
        if p is not None and not p.done.is_set():
            p.error = err
            p.prompt.set()
            p.done.set()

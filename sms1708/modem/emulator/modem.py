"""The emulated modem itself: its settings, its life on a pty, and its public face.

:class:`EmulatedModem` is made of parts with one job each: the :class:`~.line.Line` (pty, reader
thread, pacing, URC timing, log), the :class:`~.commands.Commands` table (AT interpreter and
handlers), the :class:`~.sim.Sim` (storage memories, PIN), the :class:`~.network.Network`
(SMS arriving and leaving, SIM-full holding, network time) and the :class:`~.hooks.Hooks`
(fault injection). This class holds the settings they read (attributes, so tests change them),
plugs and unplugs the pty, and offers the public methods, which delegate to the parts.
See :mod:`sms1708.modem.emulator` for the behaviour and the test hooks.
"""

from __future__ import annotations

import os
import threading
import time
import tty
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from types import TracebackType

from sms1708.modem.emulator import console
from sms1708.modem.emulator.commands import Commands
from sms1708.modem.emulator.hooks import Hooks
from sms1708.modem.emulator.line import Line, LogEvent, Pty
from sms1708.modem.emulator.network import Network, SentSms
from sms1708.modem.emulator.sim import Sim

_DEFAULT_CNMI = (2, 1, 0, 0, 0)  # SIMCom power-up default: +CMTI for new SMS


class EmulatedModem:
    """An AT-command GSM modem on a pty (see :mod:`sms1708.modem.emulator`)."""

    def __init__(
        self,
        link: str | os.PathLike[str] | None = None,
        *,
        pin: str | None = None,
        own_number: str = "+6281299990000",
        smsc: str = "+6281100000",
        imei: str = "867773020000018",
        imsi: str = "510101234567890",
        operator: str = "TELKOMSEL",
        operator_format: int = 0,
        rssi: int = 18,
        sm_capacity: int = 30,
        me_capacity: int = 100,
        sr_capacity: int = 30,
        baudrate: int | None = None,
        latency: float = 0.0,
        cmgs_latency: float = 0.0,
        network_retry: float = 0.0,
        smmemfull: bool = True,
        cmgd_empty_error: bool = False,
        manufacturer: str = "SMS1708",
        model: str = "EMU-800",
        revision: str = "EMU01R01",
        write_timeout: float = 10.0,
        memories: Sequence[str] = ("SM", "ME", "SR"),
        unlistable: Sequence[str] = (),
    ) -> None:
        self.link = os.fspath(link) if link is not None else None
        self.pin, self.own_number, self.smsc = pin, own_number, smsc
        self.imei, self.imsi = imei, imsi
        self.operator, self.rssi, self.smmemfull = operator, rssi, smmemfull
        #: how AT+COPS? names the operator after power-up (0 long, 1 short, 2 numeric
        #: MCC+MNC from the IMSI), until AT+COPS=3,<format> changes it
        self.operator_format, self.cops_format = operator_format, operator_format
        #: test hook: AT+COPS=3,<format> answers ERROR (a modem that keeps its numeric names)
        self.refuse_cops_format = False
        self.manufacturer, self.model, self.revision = manufacturer, model, revision
        self.baudrate, self.latency, self.cmgs_latency = baudrate, latency, cmgs_latency
        self.cmgd_empty_error, self.write_timeout = cmgd_empty_error, write_timeout
        #: seconds the "network" waits before it offers SMS again that found the SIM full
        #: (real networks: minutes); 0: offered again as soon as a slot is free
        self.network_retry = network_retry
        #: memories AT+CPMS accepts (a modem without "SR" answers +CMS ERROR: 302 to it), and
        #: those it accepts but cannot list (AT+CMGL answers +CMS ERROR: 302 there)
        self.memories = tuple(m.upper() for m in memories)
        self.unlistable = tuple(m.upper() for m in unlistable)
        self.before_delete: Callable[[str, int, str], None] | None = None
        #: test hook: PDU -> a +CMS ERROR code the "network" answers AT+CMGS with, or None
        self.refuse_send: Callable[[str], int | None] | None = None
        #: test hook: command line -> True when the modem reads it but never answers
        self.swallow: Callable[[str], bool] | None = None
        #: a stick that resets on the transmit burst: right after the Ctrl-Z of an AT+CMGS the
        #: SMS reaches the network (it is in ``sent``), then the modem drops off the bus before
        #: answering and comes back ``reboot_seconds`` later (see :meth:`unplug`/:meth:`replug`)
        self.reset_on_send = False
        self.reboot_seconds = 0.5
        self.resets = 0
        self.hook_errors: list[BaseException] = []
        #: the network's time, as the SMSC stamps it and NITZ sends it: this process's clock
        #: moved by ``network_offset`` seconds (see :meth:`set_network_time`); ``nitz``: the
        #: operator sends time updates (a modem with AT+CTZU=1 then keeps its clock right)
        self.network_offset = 0.0
        self.network_zone = timezone(timedelta(hours=7))
        self.nitz = True
        self.ctzu_supported = True
        #: the modem's own clock (AT+CCLK): this process's clock moved by this many seconds
        self.rtc_offset = datetime(2004, 1, 1, tzinfo=UTC).timestamp() - time.time()
        # Lock order: _life -> _lock -> line.tx_lock -> line.log_lock -> line.changed.
        self._lock = threading.RLock()  # storage and settings
        self._life = threading.Lock()  # start/stop/unplug/replug
        self._started = False
        # the parts, each with one job; they reach each other through this object
        self.sim = Sim(sm_capacity, me_capacity, sr_capacity)
        self.network = Network(self)
        self.at = Commands(self)
        self.line = Line(self, self.at.consume)
        self.hooks = Hooks(self)
        #: observation: what went over the line, the commands handled (each recorded before
        #: its answer is written), the SMS sent
        self.log: list[LogEvent] = self.line.log
        self.commands: list[tuple[int, float, str]] = self.line.commands
        self.sent: list[SentSms] = self.network.sent
        self._mems = self.sim.mems  # (tests free a slot under _lock, as AT+CMGD does)
        self.reset_settings(power_cycle=True)

    # ---------------------------------------------------------------- lifecycle

    @property
    def port(self) -> str:
        """The path to open: the symlink, or the slave device name when no link was given."""
        if self.link is not None:
            return self.link
        if self.line.pty is None:
            raise RuntimeError("emulated modem is not plugged in")
        return self.line.pty.name

    def start(self) -> EmulatedModem:
        with self._life:
            if not self._started:
                self._plug()
                self._started = True
        with self._lock:
            self.network.drain_pending()
        return self

    def stop(self) -> None:
        with self._life:
            self._unplug()
            self._started = False

    def __enter__(self) -> EmulatedModem:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def unplug(self) -> None:
        """Simulate USB removal: stop the reader, close both pty ends, remove the symlink."""
        with self._life:
            self._unplug()

    def replug(self) -> None:
        """A new pty behind the same symlink; storage survives, settings are power-up defaults."""
        with self._life:
            old = self.line.pty
            if old is not None and old.stop.is_set() and old.thread is not None:
                old.thread.join()  # unplugged from a hook: its reader is still tearing down
            if self.line.pty is None:
                self._plug()
        with self._lock:
            self.network.drain_pending()

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        wake_r, wake_w = os.pipe()
        pty = Pty(master, slave, os.ttyname(slave), wake_r, wake_w)
        try:
            if self.link is not None:
                if os.path.lexists(self.link) and not os.path.islink(self.link):
                    raise FileExistsError(f"{self.link} exists and is not a symlink")
                tmp = f"{self.link}.{os.getpid()}.tmp"
                os.symlink(pty.name, tmp)
                os.replace(tmp, self.link)
        except BaseException:
            for fd in (master, slave, wake_r, wake_w):
                os.close(fd)
            raise
        with self._lock, self.line.tx_lock:
            self.reset_settings(power_cycle=True)
            self.at.prompt = None
            self.line.power_up(pty)
        pty.thread = threading.Thread(
            target=self.line.run,
            args=(pty, self._teardown, self.at.abort),
            name="sms1708-emulator",
            daemon=True,
        )
        pty.thread.start()

    def _unplug(self) -> None:
        pty = self.line.pty
        if pty is None:
            return
        pty.stop.set()
        os.write(pty.wake_w, b"x")
        if threading.current_thread() is pty.thread:
            pty.teardown_on_exit = True  # called from a hook: the reader tears down on exit
            return
        if pty.thread is not None:
            pty.thread.join()
        self._teardown(pty)

    def _teardown(self, pty: Pty) -> None:
        with self.line.tx_lock:
            if self.line.pty is pty:
                self.line.pty = None
            for fd in (pty.master, pty.slave, pty.wake_r, pty.wake_w):
                os.close(fd)
        if self.link and os.path.islink(self.link) and os.readlink(self.link) == pty.name:
            os.unlink(self.link)
        self.line.notify()

    def reset_settings(self, *, power_cycle: bool) -> None:
        """The settings after ATZ, or (``power_cycle``) after power-up or AT+CFUN=1,1."""
        with self._lock:
            self.echo, self.cmee, self.cmgf, self.cscs = True, 0, 0, "GSM"
            self.cnmi = list(_DEFAULT_CNMI)
            self.cpms = ["SM", "SM", "SM"]
            if power_cycle:
                self.cfun, self.creg_n = 1, 0
                self.cops_format = self.operator_format
                self.ctzu = 0
                self.sim.power_up(self.pin)

    # ---------------------------------------------------------------- the network side

    def deliver(
        self, pdu_hex: str, *, memory: str | None = None, notify: bool = True
    ) -> int | None:
        """An SMS arrives (PDU with SMSC prefix): stored in mem3 (or ``memory``) with ``+CMTI``
        when CNMI mt=1, silently when mt=0 or ``notify`` is false, or sent directly as ``+CMT``
        (not stored) when mt=2. Returns the index, or None (held back by the network because the
        memory is full or the modem is unplugged, or delivered directly)."""
        return self.network.deliver(pdu_hex, memory=memory, notify=notify)

    def receive_sms(
        self,
        sender: str,
        text: str,
        *,
        when: datetime | None = None,
        memory: str | None = None,
        concat_ref: int | None = None,
        ref_bits: int = 8,
        notify: bool = True,
    ) -> list[int | None]:
        """Build SMS-DELIVER PDU(s) with ``sms1708.core.pdu.encode_deliver`` and deliver each."""
        return self.network.receive_sms(
            sender,
            text,
            when=when,
            memory=memory,
            concat_ref=concat_ref,
            ref_bits=ref_bits,
            notify=notify,
        )

    def status_report(self, pdu_hex: str) -> int | None:
        """A status report arrives: ``+CDS`` (not stored) when CNMI ds=1, else stored in "SR"
        with ``+CDSI`` when ds=2. Returns the SR index, or None."""
        return self.network.status_report(pdu_hex)

    @property
    def sim_full_events(self) -> int:
        """SMS that arrived (or were offered again) while the SIM was full."""
        return self.network.sim_full_events

    def _drain_pending(self, *, retry: bool = False) -> None:
        self.network.drain_pending(retry=retry)

    def network_now(self) -> datetime:
        """The network's time now (what the SMSC stamps on a delivered SMS)."""
        return self.network.now()

    def set_network_time(self, when: datetime) -> None:
        """Make the network's time ``when`` now (it then runs on with this process's clock)."""
        self.network_offset = when.timestamp() - time.time()

    def modem_clock(self) -> datetime:
        """What AT+CCLK? answers: network time when AT+CTZU=1 and the network sends NITZ,
        else the modem's own clock (power-on default 2004-01-01, or what AT+CCLK= set)."""
        if self.ctzu and self.nitz:
            return self.network_now()
        return datetime.fromtimestamp(time.time() + self.rtc_offset, UTC)

    # ---------------------------------------------------------------- test hooks

    def refuse_delete(self, memory: str, index: int, times: int) -> None:
        """The next ``times`` ``AT+CMGD=<index>`` on that slot answer ``+CMS ERROR: 500`` (seen
        on worn SIMs and busy modems); the SMS stays in the slot."""
        self.hooks.refuse_delete(memory, index, times)

    def race_next_urc(self) -> None:
        """The next URC is written just before the next final result code (bug #1 on demand)."""
        self.hooks.race_next_urc()

    def burst_cmti(
        self, n: int, pdus: Sequence[str] | None = None, *, memory: str | None = None
    ) -> list[int]:
        """Store ``n`` SMS silently, then write all their ``+CMTI`` in one write (regardless of
        CNMI). Without ``pdus``, distinct UCS2 messages "burst <i>" from +6281200000000 are used.
        Messages that do not fit are held back by the network and get no URC."""
        return self.hooks.burst_cmti(n, pdus, memory)

    def write_raw(self, data: bytes) -> None:
        """Write bytes verbatim (garbage, non-UTF-8), with URC timing (never inside a reply)."""
        self.line.emit(bytes(data))

    def stop_reading(self) -> int:
        """A modem that stops reading (a stuck USB endpoint, CTS held low): nothing the DTE
        writes is taken any more, and the pty's queue towards the modem is full, so the DTE's
        next ``write()`` blocks, as it does on a real stuck port. Rather than have the DTE
        push ~20 KiB first, the queue is filled from the emulator's own handle on the slave
        side. Returns the number of filler bytes. Answers and URCs can still be written."""
        return self.hooks.stop_reading()

    def resume_reading(self) -> None:
        """Read again; whatever piled up while not reading is lost (as in a stuck endpoint)."""
        self.hooks.resume_reading()

    def hang(self, on: bool = True) -> None:
        """Stop answering entirely (input is read and dropped, URCs are held, an answer being
        written stops in the middle and its final result never comes), or recover."""
        self.hooks.hang(on)

    # ---------------------------------------------------------------- observation

    def stored(self, memory: str | None = None) -> dict[tuple[str, int], str]:
        """Stored PDUs by (memory, index), for one memory or all."""
        with self._lock:
            return self.sim.stored(memory)

    def status_of(self, memory: str, index: int) -> int | None:
        """The stat (0 unread, 1 read) of a stored message, None for an empty slot."""
        with self._lock:
            return self.sim.status_of(memory, index)

    @property
    def held_back(self) -> list[str]:
        """PDUs the "network" holds back (memory full or modem unplugged)."""
        with self._lock:
            return [p for p, _, _ in self.network.pending]

    @property
    def plugged(self) -> bool:
        return self.line.pty is not None

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` is true (re-checked on every emulator event)."""
        return self.line.wait_until(predicate, timeout)

    def tx_text(self) -> str:
        """Everything written to the DTE so far, as text."""
        return self.line.tx_text()

    def handle_control_line(self, line: str) -> str:
        """Operator commands for training (``sms1708 simulate``); returns a readable answer."""
        return console.handle_control_line(self, line)

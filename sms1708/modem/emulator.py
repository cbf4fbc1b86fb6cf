"""The built-in emulated GSM modem: an AT-command modem on a pseudo-terminal.

:class:`EmulatedModem` sits on the master side of ``os.openpty()`` and exposes the slave side
through a stable symlink, so the daemon, ``sms1708 simulate`` / ``sms1708 demo`` and the tests open
it with pyserial exactly as they would open a USB modem at ``/dev/serial/by-id/...``. It behaves
like a SIMCom/Huawei-class modem in PDU mode: echo (on at power-up), CMEE, SIM PIN/PUK gating,
SM/ME/SR storage with per-index status, ``+CMTI``/``+CMT``/``+CDSI``/``+CDS``, ``^SMMEMFULL`` and
``AT+CMGS`` with the ``> `` prompt. Behaviour worth knowing:

- ``AT+CMGF=1`` answers OK, but read/list/send commands then answer ``+CMS ERROR: 302``: the
  emulator speaks PDU mode only. Lines not starting with ``AT`` are echoed and otherwise ignored.
- Power-up (start, replug, ``AT+CFUN=1,1``) means echo on, CMEE 0, CNMI ``2,1,0,0,0`` (SIMCom's
  default: ``+CMTI`` for new SMS), CPMS ``"SM","SM","SM"`` and the PIN asked again.
- URCs are never written inside a command response; they wait for its final result code.
- The "network" holds an SMS back while mem3 is full or the modem is unplugged (or not started)
  and stores it as soon as it can.

Usage::

    with EmulatedModem("/tmp/modem0") as modem:
        ser = serial.Serial(modem.port, 115200, timeout=1)
        modem.deliver("0791...")                        # store + "+CMTI" (or "+CMT" when mt=2)
        modem.wait_until(lambda: bool(modem.sent), 5)   # condition-based waiting, no sleeps

Test hooks: :meth:`race_next_urc`, :meth:`burst_cmti`, :meth:`write_raw`, :meth:`unplug` /
:meth:`replug`, :meth:`hang`, :meth:`stop_reading` / :meth:`resume_reading` (a modem whose
input is stuck: the DTE's writes block), ``reset_on_send`` (a stick that resets right after an
SMS's Ctrl-Z), ``swallow`` (commands read but never answered), :meth:`refuse_delete` (a slot
whose ``AT+CMGD`` answers ``+CMS ERROR: 500`` N times), ``memories`` (a modem without "SR":
``AT+CPMS="SR"`` answers ``+CMS ERROR: 302``), ``unlistable`` (memories whose ``AT+CMGL``
answers ``+CMS ERROR: 302``), ``latency`` / ``cmgs_latency`` (a real ``AT+CMGS`` takes 2-6 s;
the line is blocked meanwhile and URCs wait for its answer) / ``baudrate`` pacing, the SIM's size
(``sm_capacity``), ``network_retry`` (the network holds SMS while the SIM is full and offers them
again only after that many seconds; each such SMS counts in ``sim_full_events``) and
``before_delete``; observation through ``log``, ``commands``,
``sent``, :meth:`stored` and :meth:`wait_until`. It runs in-process with one reader thread per
pty; public methods are thread-safe. Only the stdlib is used (:meth:`receive_sms` imports
``encode_deliver`` lazily).
"""

from __future__ import annotations

import logging
import os
import re
import select
import threading
import time
import tty
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import TracebackType
from typing import Literal

from sms1708.modem.netclock import format_cclk, parse_cclk

__all__ = ["EmulatedModem", "LogEvent", "SentSms"]

logger = logging.getLogger(__name__)

LogEvent = tuple[int, float, Literal["rx", "tx"], str]
CTRL_Z, ESC = 0x1A, 0x1B
_CME_TEXT = {3: "operation not allowed", 10: "SIM not inserted", 11: "SIM PIN required",
             12: "SIM PUK required", 16: "incorrect password"}  # fmt: skip
_CMGD_FLAG_STATS = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}
_DEFAULT_CNMI = (2, 1, 0, 0, 0)  # SIMCom power-up default: +CMTI for new SMS
_CLAC = ("AT+CCLK", "AT+CFUN", "AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT+CMEE",
         "AT+CMGD", "AT+CMGF", "AT+CMGL", "AT+CMGR", "AT+CMGS", "AT+CNMI", "AT+CNUM", "AT+COPS",
         "AT+CPIN", "AT+CPMS", "AT+CREG", "AT+CSCA", "AT+CSCS", "AT+CSMP", "AT+CSQ",
         "AT+CTZU")  # fmt: skip


@dataclass(frozen=True)
class SentSms:
    """One PDU the DTE sent with AT+CMGS (``pdu_hex`` includes the SMSC prefix)."""

    pdu_hex: str
    tpdu_len: int
    mr: int
    t: float


@dataclass
class _Slot:
    pdu: str
    stat: int  # 0 unread, 1 read, 2 stored unsent, 3 stored sent


@dataclass
class _Memory:
    name: str
    capacity: int
    slots: dict[int, _Slot] = field(default_factory=dict)
    full_announced: bool = False

    def free_index(self) -> int | None:
        return next((i for i in range(1, self.capacity + 1) if i not in self.slots), None)


@dataclass
class _Reply:
    lines: list[str] = field(default_factory=list)
    final: str = "OK"
    prompt: int | None = None  # AT+CMGS: expected TPDU length


@dataclass
class _Line:
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


Handler = Callable[[re.Match[str]], _Reply]


def tpdu_length(pdu_hex: str) -> int:
    """Octets of a PDU after its SMSC part (the ``<length>`` of +CMGR/+CMGL/+CMT/AT+CMGS)."""
    return len(pdu_hex) // 2 - 1 - int(pdu_hex[:2], 16)


def _swap(digits: str) -> str:
    digits += "F" * (len(digits) % 2)
    return "".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def _ucs2_deliver(sender: str, text: str, scts: datetime, smsc: str) -> str:
    """A minimal UCS2 SMS-DELIVER PDU (burst_cmti's default messages; stdlib only)."""
    sca = ("91" if smsc.startswith("+") else "81") + _swap(smsc.lstrip("+"))
    num = sender.lstrip("+")
    oa = f"{len(num):02X}{'91' if sender.startswith('+') else '81'}{_swap(num)}"
    offset = scts.utcoffset()
    quarters = int(offset.total_seconds() // 900) if offset else 0
    tz = int(_swap(f"{abs(quarters):02d}"), 16) | (0x08 if quarters < 0 else 0)
    ts = _swap(scts.strftime("%y%m%d%H%M%S")) + f"{tz:02X}"
    ud = text[:70].encode("utf-16-be")
    return f"{len(sca) // 2:02X}{sca}04{oa}0008{ts}{len(ud):02X}{ud.hex().upper()}"


def _fmt(lines: Sequence[str]) -> bytes:
    return ("\r\n" + "\r\n".join(lines) + "\r\n").encode("latin-1", "replace")


def _toa(number: str) -> int:
    return 145 if number.startswith("+") else 129


def _ok(m: re.Match[str]) -> _Reply:
    return _Reply()


def _info(value: Callable[[], str]) -> Handler:
    return lambda m: _Reply([value()])


class EmulatedModem:
    """An AT-command GSM modem on a pty (see the module docstring)."""

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
        #: SMS that arrived (or were offered again) while the SIM was full
        self.sim_full_events = 0
        self._held_until = 0.0  # monotonic: the network offers held SMS again after this
        #: memories AT+CPMS accepts (a modem without "SR" answers +CMS ERROR: 302 to it), and
        #: those it accepts but cannot list (AT+CMGL answers +CMS ERROR: 302 there)
        self.memories = tuple(m.upper() for m in memories)
        self.unlistable = tuple(m.upper() for m in unlistable)
        self._refused_deletes: dict[tuple[str, int], int] = {}
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
        self.log: list[LogEvent] = []
        self.commands: list[tuple[int, float, str]] = []
        self.sent: list[SentSms] = []
        self.hook_errors: list[BaseException] = []
        self._mems = {
            "SM": _Memory("SM", sm_capacity),
            "ME": _Memory("ME", me_capacity),
            "SR": _Memory("SR", sr_capacity),
        }
        self._pending: list[tuple[str, str | None, bool]] = []  # held back by the "network"
        # Lock order: _life -> _lock -> _tx_lock -> _log_lock -> _changed (never the reverse).
        self._lock = threading.RLock()  # storage and settings
        self._tx_lock = threading.RLock()  # the line: writes, busy flag, URC queues
        self._log_lock = threading.Lock()  # log, commands, seq
        self._life = threading.Lock()  # start/stop/unplug/replug
        self._changed = threading.Condition()
        self._seq = 0
        self._line: _Line | None = None
        self._started = False
        self._busy = self._hung = self._race_armed = self._deaf = False
        self._urc_queue: list[bytes] = []
        self._race_buf: list[bytes] = []
        self._prompt: tuple[int, str] | None = None
        self._mr = 0
        self._concat_ref = 0
        self._pin_attempts = 3
        self._pin_state = "READY"
        #: the network's time, as the SMSC stamps it and NITZ sends it: this process's clock
        #: moved by ``network_offset`` seconds (see :meth:`set_network_time`); ``nitz``: the
        #: operator sends time updates (a modem with AT+CTZU=1 then keeps its clock right)
        self.network_offset = 0.0
        self.network_zone = timezone(timedelta(hours=7))
        self.nitz = True
        self.ctzu_supported = True
        self._rtc_offset = datetime(2004, 1, 1, tzinfo=UTC).timestamp() - time.time()
        self._reset_settings(power_cycle=True)
        self._handlers = self._build_table()

    # ---------------------------------------------------------------- lifecycle

    @property
    def port(self) -> str:
        """The path to open: the symlink, or the slave device name when no link was given."""
        if self.link is not None:
            return self.link
        if self._line is None:
            raise RuntimeError("emulated modem is not plugged in")
        return self._line.name

    def start(self) -> EmulatedModem:
        with self._life:
            if not self._started:
                self._plug()
                self._started = True
        with self._lock:
            self._drain_pending()
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
            old = self._line
            if old is not None and old.stop.is_set() and old.thread is not None:
                old.thread.join()  # unplugged from a hook: its reader is still tearing down
            if self._line is None:
                self._plug()
        with self._lock:
            self._drain_pending()

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        wake_r, wake_w = os.pipe()
        line = _Line(master, slave, os.ttyname(slave), wake_r, wake_w)
        try:
            if self.link is not None:
                if os.path.lexists(self.link) and not os.path.islink(self.link):
                    raise FileExistsError(f"{self.link} exists and is not a symlink")
                tmp = f"{self.link}.{os.getpid()}.tmp"
                os.symlink(line.name, tmp)
                os.replace(tmp, self.link)
        except BaseException:
            for fd in (master, slave, wake_r, wake_w):
                os.close(fd)
            raise
        with self._lock, self._tx_lock:
            self._reset_settings(power_cycle=True)
            self._busy = self._race_armed = self._hung = self._deaf = False
            self._urc_queue.clear()
            self._race_buf.clear()
            self._prompt = None
            self._line = line
        line.thread = threading.Thread(
            target=self._run, args=(line,), name="sms1708-emulator", daemon=True
        )
        line.thread.start()

    def _unplug(self) -> None:
        line = self._line
        if line is None:
            return
        line.stop.set()
        os.write(line.wake_w, b"x")
        if threading.current_thread() is line.thread:
            line.teardown_on_exit = True  # called from a hook: the reader tears down on exit
            return
        if line.thread is not None:
            line.thread.join()
        self._teardown(line)

    def _teardown(self, line: _Line) -> None:
        with self._tx_lock:
            if self._line is line:
                self._line = None
            for fd in (line.master, line.slave, line.wake_r, line.wake_w):
                os.close(fd)
        if self.link and os.path.islink(self.link) and os.readlink(self.link) == line.name:
            os.unlink(self.link)
        self._notify()

    def _reset_settings(self, *, power_cycle: bool) -> None:
        with self._lock:
            self.echo, self.cmee, self.cmgf, self.cscs = True, 0, 0, "GSM"
            self.cnmi = list(_DEFAULT_CNMI)
            self.cpms = ["SM", "SM", "SM"]
            if power_cycle:
                self.cfun, self.creg_n = 1, 0
                self.cops_format = self.operator_format
                self.ctzu = 0
                if self.pin and self._pin_state != "SIM PUK":
                    self._pin_state = "SIM PIN"

    # ---------------------------------------------------------------- the line

    def _run(self, line: _Line) -> None:
        try:
            while not line.stop.is_set():
                ready, _, _ = select.select([line.master, line.wake_r], [], [], 1.0)
                if line.stop.is_set():
                    break
                if self._deaf:  # not reading: what the DTE writes piles up in the pty
                    line.stop.wait(0.05)
                    continue
                if line.master not in ready:
                    continue
                try:
                    data = os.read(line.master, 4096)
                except BlockingIOError:
                    continue
                except OSError:
                    line.stop.wait(0.05)
                    continue
                self._event("rx", data)
                if self.baudrate:
                    line.rx_clock = (
                        max(line.rx_clock, time.monotonic()) + len(data) * 10 / self.baudrate
                    )
                    line.stop.wait(max(0.0, line.rx_clock - time.monotonic()))
                if self._hung:
                    continue
                line.buf += data
                try:
                    self._consume(line)
                except Exception:  # a bug here must not kill the line: drop the input, go on
                    logger.exception("emulated modem: input processing failed")
                    line.buf.clear()
                    self._prompt = None
                    self._final("ERROR")
        except Exception:  # the emulator must not die silently in a test run
            logger.exception("emulated modem reader failed")
        finally:
            if line.teardown_on_exit:
                self._teardown(line)

    def _consume(self, line: _Line) -> None:
        while not line.stop.is_set():
            if self._prompt is not None:
                i = next((k for k, b in enumerate(line.buf) if b in (CTRL_Z, ESC)), -1)
                if i < 0:
                    return
                body, end = bytes(line.buf[:i]), line.buf[i]
                del line.buf[: i + 1]
                self._finish_cmgs(body, end)
                continue
            i = next((k for k, b in enumerate(line.buf) if b in (0x0D, 0x0A)), -1)
            if i < 0:
                if len(line.buf) > 4096:
                    line.buf.clear()
                return
            raw, term = bytes(line.buf[:i]), bytes(line.buf[i : i + 1])
            del line.buf[: i + 1]
            if raw.strip():
                self._handle_line(raw, term)

    def _handle_line(self, raw: bytes, term: bytes) -> None:
        text = raw.decode("ascii", "replace").strip()
        with self._tx_lock:
            self._busy = True
            if self.echo:
                self._write(raw + term)
        if text[:2].upper() != "AT" or (self.swallow is not None and self.swallow(text)):
            self._final(None)
            return
        self._sleep(self.latency)
        reply = self._dispatch(text[2:].strip())
        if reply.lines:
            self._write(_fmt(reply.lines))
        if reply.prompt is not None:
            self._prompt = (reply.prompt, text)
            self._write(b"\r\n> ")
            return
        self._final(reply.final)
        self._record(text)

    def _finish_cmgs(self, body: bytes, term: int) -> None:
        assert self._prompt is not None
        length, cmdline = self._prompt
        self._prompt = None
        if self.echo and body:
            self._write(body)
        pdu = re.sub(r"\s+", "", body.decode("ascii", "replace")).upper()
        refused = self.refuse_send(pdu) if self.refuse_send is not None else None
        if term == ESC:
            self._final("OK")
        elif not re.fullmatch(r"(?:[0-9A-F]{2})+", pdu) or tpdu_length(pdu) != length:
            self._final("+CMS ERROR: 304")
        elif refused is not None:  # the network refuses this SMS (test hook)
            self._final(f"+CMS ERROR: {refused}")
        else:
            self._sleep(self.cmgs_latency)
            with self._lock:
                mr, self._mr = self._mr, (self._mr + 1) % 256
                self.sent.append(SentSms(pdu, length, mr, time.monotonic()))
            if self.reset_on_send:
                self._record(cmdline)
                self._reset_now()
                return
            self._write(_fmt([f"+CMGS: {mr}"]))
            self._final("OK")
        self._record(cmdline)

    def _final(self, code: str | None) -> None:
        with self._tx_lock:
            if code is not None:
                if self._race_buf:
                    self._write(b"".join(self._race_buf))
                    self._race_buf.clear()
                self._write(_fmt([code]))
            self._busy = False
            if self._urc_queue and not self._hung:
                self._write(b"".join(self._urc_queue))
                self._urc_queue.clear()

    def _sleep(self, seconds: float) -> None:
        line = self._line
        if seconds > 0 and line is not None:
            line.stop.wait(seconds)

    def _write(self, data: bytes) -> None:
        """Write to the DTE, paced at baudrate/10 bytes per second when a baudrate is set."""
        with self._tx_lock:
            line = self._line
            if line is None or line.stop.is_set() or not data:
                return
            bps = self.baudrate / 10 if self.baudrate else None
            step = max(1, int(bps * 0.005)) if bps else len(data)
            for pos in range(0, len(data), step):
                chunk = data[pos : pos + step]
                if bps:
                    line.tx_clock = max(line.tx_clock, time.monotonic()) + len(chunk) / bps
                    line.stop.wait(max(0.0, line.tx_clock - time.monotonic()))
                if not self._write_fd(line, chunk):
                    return
            self._event("tx", data)

    def _write_fd(self, line: _Line, data: bytes) -> bool:
        view, deadline = memoryview(data), time.monotonic() + self.write_timeout
        while view:
            if line.stop.is_set():
                return False
            try:
                view = view[os.write(line.master, view) :]
                continue
            except BlockingIOError:
                pass
            except OSError:
                return False
            if time.monotonic() > deadline:
                logger.warning("emulated modem: DTE not reading, %d bytes dropped", len(view))
                return False
            select.select([line.wake_r], [line.master], [], 0.05)
        return True

    def _emit(self, data: bytes) -> None:
        """An unsolicited result: never inside a command response (see race_next_urc)."""
        with self._tx_lock:
            if self._race_armed:
                self._race_armed = False
                self._race_buf.append(data)
            elif self._busy or self._hung:
                self._urc_queue.append(data)
            else:
                self._write(data)

    def _event(self, direction: Literal["rx", "tx"], data: bytes) -> None:
        with self._log_lock:
            self._seq += 1
            text = data.decode("utf-8", "backslashreplace")
            self.log.append((self._seq, time.monotonic(), direction, text))
        self._notify()

    def _record(self, command: str) -> None:
        with self._log_lock:
            self._seq += 1
            self.commands.append((self._seq, time.monotonic(), command))
        self._notify()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # ---------------------------------------------------------------- commands

    def _build_table(self) -> dict[re.Pattern[str], tuple[Handler, bool]]:
        """Command (after ``AT``) regex -> (handler, needs the SIM unlocked)."""
        ok, info, cnmi = _ok, _info, self._cmd_cnmi
        table: list[tuple[str, Handler, bool]] = [
            (r"", ok, False),
            (r"Z0?", self._cmd_atz, False),
            (r"E([01]?)", self._set("echo", lambda v: v == "1"), False),
            (r"I\d?", info(lambda: f"{self.manufacturer} {self.model}"), False),
            (r"\+CMEE=([012])", self._set("cmee"), False),
            (r"\+CMEE\?", info(lambda: f"+CMEE: {self.cmee}"), False),
            (r"\+CFUN\?", info(lambda: f"+CFUN: {self.cfun}"), False),
            (r"\+CFUN=([014])(?:,([01]))?", self._cmd_cfun, False),
            (r"\+CPIN\?", info(lambda: f"+CPIN: {self._pin_state}"), False),
            (r'\+CPIN="?([^",]*)"?(?:,"?[^"]*"?)?', self._cmd_cpin, False),
            (r"\+CSQ", info(lambda: f"+CSQ: {self.rssi},99"), False),
            (r"\+CCLK\?", info(lambda: format_cclk(self.modem_clock())), False),
            (r'\+CCLK="([^"]*)"', self._cmd_cclk_set, False),
            (r"\+CTZU=([01])", self._cmd_ctzu, False),
            (r"\+CTZU\?", self._cmd_ctzu_query, False),
            (r"\+CREG\?", info(lambda: f"+CREG: {self.creg_n},1"), False),
            (r"\+CREG=([0-2])", self._set("creg_n"), False),
            (r"\+COPS\?", info(self._cops), False),
            (r"\+COPS=3,([012])", self._cmd_cops_format, False),
            (r"\+COPS=.*", ok, False),
            (r"\+CGMI", info(lambda: self.manufacturer), False),
            (r"\+CGMM", info(lambda: self.model), False),
            (r"\+CGMR", info(lambda: f"Revision:{self.revision}"), False),
            (r"\+CGSN", info(lambda: self.imei), False),
            (r"\+CIMI", info(lambda: self.imsi), True),
            (
                r"\+CNUM",
                info(lambda: f'+CNUM: "","{self.own_number}",{_toa(self.own_number)}'),
                True,
            ),
            (r"\+CLAC", lambda m: _Reply(list(_CLAC)), False),
            (r"\+CSCS=\?", info(lambda: '+CSCS: ("GSM","UCS2","IRA")'), False),
            (r"\+CSCS\?", info(lambda: f'+CSCS: "{self.cscs}"'), False),
            (r'\+CSCS="(\w+)"', self._set("cscs", str), False),
            (r"\+(?:CLIP|CRC|CVHU|CNMA|CMMS|CSMS|CSMP).*", ok, False),
            (r"\+CSCA\?", info(lambda: f'+CSCA: "{self.smsc}",{_toa(self.smsc)}'), True),
            (r'\+CSCA="([^"]*)"(?:,\d+)?', self._set("smsc", str), True),
            (r"\+CMGF=([01])", self._set("cmgf"), True),
            (r"\+CMGF\?", info(lambda: f"+CMGF: {self.cmgf}"), True),
            (r"\+CMGF=\?", info(lambda: "+CMGF: (0,1)"), True),
            (r"\+CNMI=\?", info(lambda: "+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)"), True),
            (r"\+CNMI\?", info(lambda: "+CNMI: " + ",".join(map(str, self.cnmi))), True),
            (r"\+CNMI=([0-3])(?:,([0-3])(?:,([0-3])(?:,([0-2])(?:,([01]))?)?)?)?", cnmi, True),
            (r"\+CPMS=\?", info(self._cpms_ranges), True),
            (r"\+CPMS\?", self._cmd_cpms_query, True),
            (r'\+CPMS="(\w\w)"(?:,"(\w\w)"(?:,"(\w\w)")?)?', self._cmd_cpms_set, True),
            (r"\+CMGL=\?", info(lambda: "+CMGL: (0-4)"), True),
            (r"\+CMGL(?:=(\d))?", self._cmd_cmgl, True),
            (r"\+CMGR=(\d+)", self._cmd_cmgr, True),
            (
                r"\+CMGD=\?",
                info(lambda: f"+CMGD: (1-{self._mems[self.cpms[0]].capacity}),(0-4)"),
                True,
            ),
            (r"\+CMGD=(\d+)(?:,(\d))?", self._cmd_cmgd, True),
            (r"\+CMGS=(.+)", self._cmd_cmgs, True),
        ]
        return {re.compile(p, re.IGNORECASE): (h, sim) for p, h, sim in table}

    def _dispatch(self, cmd: str) -> _Reply:
        for pattern, (handler, needs_sim) in self._handlers.items():
            m = pattern.fullmatch(cmd)
            if m is None:
                continue
            if needs_sim and self._pin_state != "READY":
                return self._cme(12 if self._pin_state == "SIM PUK" else 11)
            try:
                return handler(m)
            except Exception:
                logger.exception("emulated modem: handler for %r failed", cmd)
                return _Reply(final="ERROR")
        return _Reply(final="ERROR")

    def _cme(self, code: int) -> _Reply:
        if self.cmee == 0:
            return _Reply(final="ERROR")
        text = _CME_TEXT.get(code, str(code)) if self.cmee == 2 else str(code)
        return _Reply(final=f"+CME ERROR: {text}")

    @staticmethod
    def _cms(code: int) -> _Reply:
        return _Reply(final=f"+CMS ERROR: {code}")

    def _cmd_atz(self, m: re.Match[str]) -> _Reply:
        self._reset_settings(power_cycle=False)
        return _Reply()

    def _set(self, attr: str, convert: Callable[[str], object] = int) -> Handler:
        """A handler that stores the first group of the match in ``attr``."""

        def handler(m: re.Match[str]) -> _Reply:
            setattr(self, attr, convert(m[1]))
            return _Reply()

        return handler

    def _cops(self) -> str:
        name = {0: self.operator, 1: self.operator[:8], 2: self.imsi[:5]}[self.cops_format]
        return f'+COPS: 0,{self.cops_format},"{name}",0'

    def _cmd_cops_format(self, m: re.Match[str]) -> _Reply:
        if self.refuse_cops_format:
            return _Reply(final="ERROR")
        self.cops_format = int(m[1])
        return _Reply()

    # ---------------------------------------------------------------- network time

    def network_now(self) -> datetime:
        """The network's time now (what the SMSC stamps on a delivered SMS)."""
        return datetime.fromtimestamp(time.time() + self.network_offset, self.network_zone)

    def set_network_time(self, when: datetime) -> None:
        """Make the network's time ``when`` now (it then runs on with this process's clock)."""
        self.network_offset = when.timestamp() - time.time()

    def modem_clock(self) -> datetime:
        """What AT+CCLK? answers: network time when AT+CTZU=1 and the network sends NITZ,
        else the modem's own clock (power-on default 2004-01-01, or what AT+CCLK= set)."""
        if self.ctzu and self.nitz:
            return self.network_now()
        return datetime.fromtimestamp(time.time() + self._rtc_offset, UTC)

    def _cmd_cclk_set(self, m: re.Match[str]) -> _Reply:
        when = parse_cclk(f'+CCLK: "{m[1]}"')
        if when is None:
            return self._cme(3)
        self._rtc_offset = when.timestamp() - time.time()
        return _Reply()

    def _cmd_ctzu(self, m: re.Match[str]) -> _Reply:
        if not self.ctzu_supported:
            return _Reply(final="ERROR")
        self.ctzu = int(m[1])
        return _Reply()

    def _cmd_ctzu_query(self, m: re.Match[str]) -> _Reply:
        if not self.ctzu_supported:
            return _Reply(final="ERROR")
        return _Reply([f"+CTZU: {self.ctzu}"])

    def _cmd_cfun(self, m: re.Match[str]) -> _Reply:
        if m[2] == "1":
            self._reset_settings(power_cycle=True)  # reset: echo on, CNMI reset, PIN again
        self.cfun = int(m[1])
        return _Reply()

    def _cmd_cpin(self, m: re.Match[str]) -> _Reply:
        with self._lock:
            if self._pin_state == "SIM PUK":
                return self._cme(12)
            if self._pin_state == "READY":
                return _Reply()
            if m[1] == self.pin:
                self._pin_state, self._pin_attempts = "READY", 3
                return _Reply()
            self._pin_attempts -= 1
            if self._pin_attempts <= 0:
                self._pin_state = "SIM PUK"
            return self._cme(16)

    def _cmd_cnmi(self, m: re.Match[str]) -> _Reply:
        with self._lock:
            for i, value in enumerate(m.groups()):
                if value is not None:
                    self.cnmi[i] = int(value)
        return _Reply()

    def _cpms_ranges(self) -> str:
        def names(allowed: tuple[str, ...]) -> str:
            return ",".join(f'"{n}"' for n in allowed if n in self.memories)

        return (
            f"+CPMS: ({names(('SM', 'ME', 'SR'))}),({names(('SM', 'ME'))}),({names(('SM', 'ME'))})"
        )

    def _usage(self) -> str:
        return ",".join(f"{len(self._mems[n].slots)},{self._mems[n].capacity}" for n in self.cpms)

    def _cmd_cpms_query(self, m: re.Match[str]) -> _Reply:
        with self._lock:
            parts = [
                f'"{n}",{len(self._mems[n].slots)},{self._mems[n].capacity}' for n in self.cpms
            ]
            return _Reply(["+CPMS: " + ",".join(parts)])

    def _cmd_cpms_set(self, m: re.Match[str]) -> _Reply:
        names = [g.upper() if g else None for g in m.groups()]
        have = set(self.memories)
        allowed = ({"SM", "ME", "SR"} & have, {"SM", "ME"} & have, {"SM", "ME"} & have)
        if any(n is not None and n not in ok for n, ok in zip(names, allowed, strict=True)):
            return self._cms(302)
        with self._lock:
            for i, name in enumerate(names):
                if name is not None:
                    self.cpms[i] = name
            self._drain_pending()
            return _Reply([f"+CPMS: {self._usage()}"])

    def _cmd_cmgl(self, m: re.Match[str]) -> _Reply:
        stat = int(m[1] or 0)
        if self.cmgf == 1 or stat > 4 or self.cpms[0] in self.unlistable:
            return self._cms(302)
        lines: list[str] = []
        with self._lock:
            for index, slot in sorted(self._mems[self.cpms[0]].slots.items()):
                if stat == 4 or slot.stat == stat:
                    lines += [f"+CMGL: {index},{slot.stat},,{tpdu_length(slot.pdu)}", slot.pdu]
                    slot.stat = 1 if slot.stat == 0 else slot.stat
        return _Reply(lines)

    def _cmd_cmgr(self, m: re.Match[str]) -> _Reply:
        if self.cmgf == 1:
            return self._cms(302)
        with self._lock:
            slot = self._mems[self.cpms[0]].slots.get(int(m[1]))
            if slot is None:
                return self._cms(321)
            lines = [f"+CMGR: {slot.stat},,{tpdu_length(slot.pdu)}", slot.pdu]
            slot.stat = 1 if slot.stat == 0 else slot.stat
            return _Reply(lines)

    def _cmd_cmgd(self, m: re.Match[str]) -> _Reply:
        index, flag = int(m[1]), int(m[2] or 0)
        with self._lock:
            mem = self._mems[self.cpms[0]]
            if flag == 0:
                if self._refused_deletes.get((mem.name, index), 0) > 0:
                    self._refused_deletes[(mem.name, index)] -= 1
                    return self._cms(500)  # unknown error: the slot stays as it is
                slot = mem.slots.get(index)
                if not 1 <= index <= mem.capacity or (slot is None and self.cmgd_empty_error):
                    return self._cms(321)
                victims = [(index, slot.pdu)] if slot is not None else []
            elif flag in _CMGD_FLAG_STATS:
                stats = _CMGD_FLAG_STATS[flag]
                victims = [(i, s.pdu) for i, s in sorted(mem.slots.items()) if s.stat in stats]
            else:
                return _Reply(final="ERROR")
        hook = self.before_delete
        for i, pdu in victims:
            if hook is None:
                break
            try:
                hook(mem.name, i, pdu)  # called without the lock: the hook may use the modem
            except Exception as exc:
                logger.exception("emulated modem: before_delete hook failed, not deleting")
                self.hook_errors.append(exc)
                return _Reply(final="ERROR")
        line = self._line
        if line is None or line.stop.is_set():  # unplugged by the hook: the modem never acted
            return _Reply(final="ERROR")
        with self._lock:
            for i, pdu in victims:
                if (slot := mem.slots.get(i)) is not None and slot.pdu == pdu:
                    del mem.slots[i]
                    mem.full_announced = False
            self._drain_pending()
        self._notify()
        return _Reply()

    def _cmd_cmgs(self, m: re.Match[str]) -> _Reply:
        if self.cmgf == 1:
            return self._cms(302)
        if not m[1].isdigit() or not 1 <= int(m[1]) <= 255:
            return self._cms(304)
        return _Reply(prompt=int(m[1]))

    # ---------------------------------------------------------------- the network side

    def _arrive(
        self, pdu: str, memory: str | None, notify: bool, retry: bool = False
    ) -> int | None:
        with self._lock:
            if self._line is None or (self._pending and not retry):
                self._pending.append((pdu, memory, notify))  # unplugged, or keep arrival order
                return None
            if notify and self.cnmi[1] == 2:
                self._emit(f"\r\n+CMT: ,{tpdu_length(pdu)}\r\n{pdu}\r\n".encode())
                return None
            mem = self._mems[(memory or self.cpms[2]).upper()]
            index = mem.free_index()
            if index is None:
                self._pending.append((pdu, memory, notify))
                self._sim_full()
                self._announce_full(mem)
                return None
            mem.slots[index] = _Slot(pdu, 0)
            if notify and self.cnmi[1] in (1, 3):
                self._emit(f'\r\n+CMTI: "{mem.name}",{index}\r\n'.encode())
            if mem.free_index() is None:
                self._announce_full(mem)
        self._notify()
        return index

    def _announce_full(self, mem: _Memory) -> None:
        if self.smmemfull and not mem.full_announced:
            mem.full_announced = True
            self._emit(f'\r\n^SMMEMFULL: "{mem.name}"\r\n'.encode())

    def _sim_full(self) -> None:
        """An SMS found the SIM full: counted; with ``network_retry`` the network offers the
        held SMS again only after that delay (a timer), as real networks do."""
        self.sim_full_events += 1
        if self.network_retry > 0 and time.monotonic() >= self._held_until:
            self._held_until = time.monotonic() + self.network_retry
            timer = threading.Timer(self.network_retry, self._retry_held)
            timer.daemon = True
            timer.start()

    def _retry_held(self) -> None:
        with self._lock:
            self._held_until = 0.0
            self._drain_pending(retry=True)

    def _drain_pending(self, *, retry: bool = False) -> None:
        with self._lock:
            if self.network_retry > 0 and time.monotonic() < self._held_until:
                return  # the network offers them again later
            while self._pending and self._line is not None:
                pdu, memory, notify = self._pending[0]
                mem = self._mems[(memory or self.cpms[2]).upper()]
                if mem.free_index() is None and not (notify and self.cnmi[1] == 2):
                    if retry:
                        self._sim_full()  # offered again, still full
                    return
                self._pending.pop(0)
                self._arrive(pdu, memory, notify, retry=True)

    @staticmethod
    def _clean_pdu(pdu_hex: str) -> str:
        pdu = re.sub(r"\s+", "", pdu_hex).upper()
        if not re.fullmatch(r"(?:[0-9A-F]{2})+", pdu) or tpdu_length(pdu) <= 0:
            raise ValueError(f"not a PDU with SMSC prefix: {pdu_hex!r}")
        return pdu

    def deliver(
        self, pdu_hex: str, *, memory: str | None = None, notify: bool = True
    ) -> int | None:
        """An SMS arrives (PDU with SMSC prefix): stored in mem3 (or ``memory``) with ``+CMTI``
        when CNMI mt=1, silently when mt=0 or ``notify`` is false, or sent directly as ``+CMT``
        (not stored) when mt=2. Returns the index, or None (held back by the network because the
        memory is full or the modem is unplugged, or delivered directly)."""
        if memory is not None and memory.upper() not in ("SM", "ME"):
            raise ValueError(f"unknown memory {memory!r}")
        return self._arrive(self._clean_pdu(pdu_hex), memory, notify)

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
        from sms1708.core.pdu import encode_deliver  # lazily: optional for the emulator itself

        scts = when or self.network_now()

        def encode(ref: int | None) -> list[str]:
            return encode_deliver(
                sender, text, scts, smsc=self.smsc, concat_ref=ref, ref_bits=ref_bits
            )

        def auto_ref() -> int:
            with self._lock:
                self._concat_ref = self._concat_ref % (0xFFFF if ref_bits == 16 else 0xFF) + 1
                return self._concat_ref

        if concat_ref is not None:
            pdus = encode(concat_ref)
        else:
            try:
                pdus = encode(None)
            except ValueError:  # the encoder may insist on a reference for several parts
                pdus = []
            if len(pdus) != 1:
                pdus = encode(auto_ref())
        return [self.deliver(p, memory=memory, notify=notify) for p in pdus]

    def status_report(self, pdu_hex: str) -> int | None:
        """A status report arrives: ``+CDS`` (not stored) when CNMI ds=1, else stored in "SR"
        with ``+CDSI`` when ds=2. Returns the SR index, or None."""
        pdu = self._clean_pdu(pdu_hex)
        with self._lock:
            if self.cnmi[3] == 1:
                self._emit(f"\r\n+CDS: {tpdu_length(pdu)}\r\n{pdu}\r\n".encode())
                return None
            mem = self._mems["SR"]
            index = mem.free_index()
            if index is None:
                logger.warning("emulated modem: SR memory full, status report dropped")
                return None
            mem.slots[index] = _Slot(pdu, 0)
            if self.cnmi[3] == 2:
                self._emit(f'\r\n+CDSI: "SR",{index}\r\n'.encode())
        self._notify()
        return index

    # ---------------------------------------------------------------- test hooks

    def refuse_delete(self, memory: str, index: int, times: int) -> None:
        """The next ``times`` ``AT+CMGD=<index>`` on that slot answer ``+CMS ERROR: 500`` (seen
        on worn SIMs and busy modems); the SMS stays in the slot."""
        with self._lock:
            self._refused_deletes[(memory.upper(), index)] = times

    def race_next_urc(self) -> None:
        """The next URC is written just before the next final result code (bug #1 on demand)."""
        with self._tx_lock:
            self._race_armed = True

    def burst_cmti(
        self, n: int, pdus: Sequence[str] | None = None, *, memory: str | None = None
    ) -> list[int]:
        """Store ``n`` SMS silently, then write all their ``+CMTI`` in one write (regardless of
        CNMI). Without ``pdus``, distinct UCS2 messages "burst <i>" from +6281200000000 are used.
        Messages that do not fit are held back by the network and get no URC."""
        now = self.network_now()
        if not pdus:
            pdus = [_ucs2_deliver("+6281200000000", f"burst {i}", now, self.smsc) for i in range(n)]
        with self._lock:
            name = (memory or self.cpms[2]).upper()
            got = [self.deliver(pdus[i % len(pdus)], memory=memory, notify=False) for i in range(n)]
            indexes = [i for i in got if i is not None]
            if indexes:
                self._emit(b"".join(f'\r\n+CMTI: "{name}",{i}\r\n'.encode() for i in indexes))
        return indexes

    def write_raw(self, data: bytes) -> None:
        """Write bytes verbatim (garbage, non-UTF-8), with URC timing (never inside a reply)."""
        self._emit(bytes(data))

    def _reset_now(self) -> None:
        """Drop off the bus now (from the reader thread) and come back after a reboot."""
        self.resets += 1
        self.unplug()

        def boot() -> None:
            with self._life:
                started = self._started
            if started:
                self.replug()

        timer = threading.Timer(self.reboot_seconds, boot)
        timer.daemon = True
        timer.start()

    def stop_reading(self) -> int:
        """A modem that stops reading (a stuck USB endpoint, CTS held low): nothing the DTE
        writes is taken any more, and the pty's queue towards the modem is full, so the DTE's
        next ``write()`` blocks, as it does on a real stuck port. Rather than have the DTE
        push ~20 KiB first, the queue is filled from the emulator's own handle on the slave
        side. Returns the number of filler bytes. Answers and URCs can still be written."""
        with self._tx_lock:
            line = self._line
            self._deaf = True
        if line is None:
            return 0
        os.set_blocking(line.slave, False)
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
                            added += os.write(line.slave, b"\0" * size)
                    except (BlockingIOError, OSError):
                        pass
                filled += added
                if not added:
                    break
                time.sleep(0.02)
        finally:
            os.set_blocking(line.slave, True)
        return filled

    def resume_reading(self) -> None:
        """Read again; whatever piled up while not reading is lost (as in a stuck endpoint)."""
        line = self._line
        if line is not None:
            with_data = True
            while with_data:
                try:
                    with_data = bool(os.read(line.master, 65536))
                except (BlockingIOError, OSError):
                    with_data = False
            line.buf.clear()
        self._deaf = False

    def hang(self, on: bool = True) -> None:
        """Stop answering entirely (input is read and dropped, URCs are held), or recover."""
        with self._tx_lock:
            self._hung = on
            if not on and not self._busy and self._urc_queue:
                self._write(b"".join(self._urc_queue))
                self._urc_queue.clear()

    # ---------------------------------------------------------------- observation

    def stored(self, memory: str | None = None) -> dict[tuple[str, int], str]:
        """Stored PDUs by (memory, index), for one memory or all."""
        with self._lock:
            mems = [self._mems[memory.upper()]] if memory else list(self._mems.values())
            return {(m.name, i): s.pdu for m in mems for i, s in sorted(m.slots.items())}

    def status_of(self, memory: str, index: int) -> int | None:
        """The stat (0 unread, 1 read) of a stored message, None for an empty slot."""
        with self._lock:
            slot = self._mems[memory.upper()].slots.get(index)
            return None if slot is None else slot.stat

    @property
    def held_back(self) -> list[str]:
        """PDUs the "network" holds back (memory full or modem unplugged)."""
        with self._lock:
            return [p for p, _, _ in self._pending]

    @property
    def plugged(self) -> bool:
        return self._line is not None

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` is true (re-checked on every emulator event)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._changed:
                self._changed.wait(min(remaining, 0.05))
        return True

    def tx_text(self) -> str:
        """Everything written to the DTE so far, as text."""
        with self._log_lock:
            return "".join(e[3] for e in self.log if e[2] == "tx")

    # ---------------------------------------------------------------- operator console

    def handle_control_line(self, line: str) -> str:
        """Operator commands for training (``sms1708 simulate``); returns a readable answer."""
        words = line.strip().split(maxsplit=2)
        cmd = words[0].lower() if words else "help"
        try:
            if cmd == "sms" and len(words) == 3:
                where = self.receive_sms(words[1], words[2])
                got = ", ".join("held back" if i is None else f"index {i}" for i in where)
                return f"SMS from {words[1]} in {len(where)} part(s): {got}"
            if cmd == "list":
                rows = [
                    f"{m} {i} stat={self.status_of(m, i)} {p}"
                    for (m, i), p in self.stored().items()
                ]
                return "\n".join(rows) or "storage is empty"
            if cmd == "sent":
                rows = [f"mr={s.mr} len={s.tpdu_len} {s.pdu_hex}" for s in list(self.sent)]
                return "\n".join(rows) or "nothing sent yet"
            if cmd == "unplug":
                self.unplug()
            if cmd == "replug":
                self.replug()
            if cmd in ("unplug", "replug"):
                return f"modem {cmd}ged; port {self.link or '(no link)'}"
        except Exception as exc:
            return f"error: {exc}"
        return (
            "commands: sms <sender> <text...> | list | sent | unplug | replug | help"
            if cmd == "help"
            else f"unknown command {line.strip()!r}; try help"
        )

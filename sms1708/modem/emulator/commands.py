"""The emulated modem's AT interpreter: command lines in, answers out, through one table.

Input arrives from the line (:mod:`~sms1708.modem.emulator.line`) and is cut into command lines
(CR or LF) or, after ``AT+CMGS``'s ``> `` prompt, into a PDU ending in Ctrl-Z (send) or ESC
(cancel). Each command (after ``AT``) is matched against the table of regular expressions; a
command marked as needing the SIM answers ``+CME ERROR`` while the PIN is asked. Lines not
starting with ``AT`` are echoed and otherwise ignored. The SMS storage and sending commands
live in :mod:`~sms1708.modem.emulator.storage`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sms1708.modem.emulator.line import Pty, fmt
from sms1708.modem.emulator.reply import Handler, Reply, cme, info, ok
from sms1708.modem.emulator.sim import tpdu_length
from sms1708.modem.emulator.storage import StorageCommands
from sms1708.modem.netclock import format_cclk, parse_cclk

if TYPE_CHECKING:
    from sms1708.modem.emulator.modem import EmulatedModem

logger = logging.getLogger("sms1708.modem.emulator")

CTRL_Z, ESC = 0x1A, 0x1B
_CLAC = ("AT+CCLK", "AT+CFUN", "AT+CGMI", "AT+CGMM", "AT+CGMR", "AT+CGSN", "AT+CIMI", "AT+CMEE",
         "AT+CMGD", "AT+CMGF", "AT+CMGL", "AT+CMGR", "AT+CMGS", "AT+CNMI", "AT+CNUM", "AT+COPS",
         "AT+CPIN", "AT+CPMS", "AT+CREG", "AT+CSCA", "AT+CSCS", "AT+CSMP", "AT+CSQ",
         "AT+CTZU")  # fmt: skip


def _toa(number: str) -> int:
    return 145 if number.startswith("+") else 129


class Commands:
    """The AT command table of one emulated modem and the interpreter around it."""

    def __init__(self, modem: EmulatedModem) -> None:
        self.m = modem
        self.storage = StorageCommands(modem)
        self.prompt: tuple[int, str] | None = None  # AT+CMGS waiting for its PDU
        self.handlers = self._build_table()

    # ---------------------------------------------------------------- the interpreter

    def consume(self, pty: Pty) -> None:
        """Handle every complete command line (or prompted PDU) in the pty's input buffer."""
        while not pty.stop.is_set():
            if self.prompt is not None:
                i = next((k for k, b in enumerate(pty.buf) if b in (CTRL_Z, ESC)), -1)
                if i < 0:
                    return
                body, end = bytes(pty.buf[:i]), pty.buf[i]
                del pty.buf[: i + 1]
                self._finish_cmgs(body, end)
                continue
            i = next((k for k, b in enumerate(pty.buf) if b in (0x0D, 0x0A)), -1)
            if i < 0:
                if len(pty.buf) > 4096:
                    pty.buf.clear()
                return
            raw, term = bytes(pty.buf[:i]), bytes(pty.buf[i : i + 1])
            del pty.buf[: i + 1]
            if raw.strip():
                self._handle_line(raw, term)

    def abort(self) -> None:
        """The input could not be handled: forget a pending prompt, answer ERROR."""
        self.prompt = None
        self.m.line.final("ERROR")

    def _handle_line(self, raw: bytes, term: bytes) -> None:
        line, swallow = self.m.line, self.m.swallow
        text = raw.decode("ascii", "replace").strip()
        with line.tx_lock:
            line.busy = True
            if self.m.echo:
                line.write(raw + term)
        if text[:2].upper() != "AT" or (swallow is not None and swallow(text)):
            line.final(None)
            return
        line.sleep(self.m.latency)
        reply = self.dispatch(text[2:].strip())
        if reply.prompt is None:
            line.record(text)  # before the answer: whoever has the answer finds it recorded
        if reply.lines:
            line.write(fmt(reply.lines))
        if reply.prompt is not None:
            self.prompt = (reply.prompt, text)
            line.write(b"\r\n> ")
            return
        line.final(reply.final)

    def _finish_cmgs(self, body: bytes, term: int) -> None:
        assert self.prompt is not None
        modem, line = self.m, self.m.line
        length, cmdline = self.prompt
        self.prompt = None
        if modem.echo and body:
            line.write(body)
        line.record(cmdline)  # before the answer, as every command
        pdu = re.sub(r"\s+", "", body.decode("ascii", "replace")).upper()
        refused = modem.refuse_send(pdu) if modem.refuse_send is not None else None
        if term == ESC:
            line.final("OK")
        elif not re.fullmatch(r"(?:[0-9A-F]{2})+", pdu) or tpdu_length(pdu) != length:
            line.final("+CMS ERROR: 304")
        elif refused is not None:  # the network refuses this SMS (test hook)
            line.final(f"+CMS ERROR: {refused}")
        else:
            line.sleep(modem.cmgs_latency)
            mr = modem.network.accept(pdu, length)
            if modem.reset_on_send:
                modem.hooks.reset_now()
                return
            line.write(fmt([f"+CMGS: {mr}"]))
            line.final("OK")

    # ---------------------------------------------------------------- the table

    def _build_table(self) -> dict[re.Pattern[str], tuple[Handler, bool]]:
        """Command (after ``AT``) regex -> (handler, needs the SIM unlocked)."""
        m, sms = self.m, self.storage
        table: list[tuple[str, Handler, bool]] = [
            (r"", ok, False),
            (r"Z0?", self._atz, False),
            (r"E([01]?)", self._set("echo", lambda v: v == "1"), False),
            (r"I\d?", info(lambda: f"{m.manufacturer} {m.model}"), False),
            (r"\+CMEE=([012])", self._set("cmee"), False),
            (r"\+CMEE\?", info(lambda: f"+CMEE: {m.cmee}"), False),
            (r"\+CFUN\?", info(lambda: f"+CFUN: {m.cfun}"), False),
            (r"\+CFUN=([014])(?:,([01]))?", self._cfun, False),
            (r"\+CPIN\?", info(lambda: f"+CPIN: {m.sim.pin_state}"), False),
            (r'\+CPIN="?([^",]*)"?(?:,"?[^"]*"?)?', self._cpin, False),
            (r"\+CSQ", info(lambda: f"+CSQ: {m.rssi},99"), False),
            (r"\+CCLK\?", info(lambda: format_cclk(m.modem_clock())), False),
            (r'\+CCLK="([^"]*)"', self._cclk_set, False),
            (r"\+CTZU=([01])", self._ctzu, False),
            (r"\+CTZU\?", self._ctzu_query, False),
            (r"\+CREG\?", info(lambda: f"+CREG: {m.creg_n},1"), False),
            (r"\+CREG=([0-2])", self._set("creg_n"), False),
            (r"\+COPS\?", info(self._cops), False),
            (r"\+COPS=3,([012])", self._cops_format, False),
            (r"\+COPS=.*", ok, False),
            (r"\+CGMI", info(lambda: m.manufacturer), False),
            (r"\+CGMM", info(lambda: m.model), False),
            (r"\+CGMR", info(lambda: f"Revision:{m.revision}"), False),
            (r"\+CGSN", info(lambda: m.imei), False),
            (r"\+CIMI", info(lambda: m.imsi), True),
            (r"\+CNUM", info(lambda: f'+CNUM: "","{m.own_number}",{_toa(m.own_number)}'), True),
            (r"\+CLAC", lambda _: Reply(list(_CLAC)), False),
            (r"\+CSCS=\?", info(lambda: '+CSCS: ("GSM","UCS2","IRA")'), False),
            (r"\+CSCS\?", info(lambda: f'+CSCS: "{m.cscs}"'), False),
            (r'\+CSCS="(\w+)"', self._set("cscs", str), False),
            (r"\+(?:CLIP|CRC|CVHU|CNMA|CMMS|CSMS|CSMP).*", ok, False),
            (r"\+CSCA\?", info(lambda: f'+CSCA: "{m.smsc}",{_toa(m.smsc)}'), True),
            (r'\+CSCA="([^"]*)"(?:,\d+)?', self._set("smsc", str), True),
            (r"\+CMGF=([01])", self._set("cmgf"), True),
            (r"\+CMGF\?", info(lambda: f"+CMGF: {m.cmgf}"), True),
            (r"\+CMGF=\?", info(lambda: "+CMGF: (0,1)"), True),
            (r"\+CNMI=\?", info(lambda: "+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)"), True),
            (r"\+CNMI\?", info(lambda: "+CNMI: " + ",".join(map(str, m.cnmi))), True),
            (
                r"\+CNMI=([0-3])(?:,([0-3])(?:,([0-3])(?:,([0-2])(?:,([01]))?)?)?)?",
                self._cnmi,
                True,
            ),
            (r"\+CPMS=\?", info(sms.cpms_ranges), True),
            (r"\+CPMS\?", sms.cpms_query, True),
            (r'\+CPMS="(\w\w)"(?:,"(\w\w)"(?:,"(\w\w)")?)?', sms.cpms_set, True),
            (r"\+CMGL=\?", info(lambda: "+CMGL: (0-4)"), True),
            (r"\+CMGL(?:=(\d))?", sms.cmgl, True),
            (r"\+CMGR=(\d+)", sms.cmgr, True),
            (r"\+CMGD=\?", info(sms.cmgd_ranges), True),
            (r"\+CMGD=(\d+)(?:,(\d))?", sms.cmgd, True),
            (r"\+CMGS=(.+)", sms.cmgs, True),
        ]
        return {re.compile(p, re.IGNORECASE): (h, sim) for p, h, sim in table}

    def dispatch(self, cmd: str) -> Reply:
        for pattern, (handler, needs_sim) in self.handlers.items():
            match = pattern.fullmatch(cmd)
            if match is None:
                continue
            if needs_sim and (code := self.m.sim.locked_error()) is not None:
                return cme(self.m.cmee, code)
            try:
                return handler(match)
            except Exception:
                logger.exception("emulated modem: handler for %r failed", cmd)
                return Reply(final="ERROR")
        return Reply(final="ERROR")

    # ---------------------------------------------------------------- settings

    def _atz(self, m: re.Match[str]) -> Reply:
        self.m.reset_settings(power_cycle=False)
        return Reply()

    def _set(self, attr: str, convert: Callable[[str], object] = int) -> Handler:
        """A handler that stores the first group of the match in the modem's ``attr``."""

        def handler(m: re.Match[str]) -> Reply:
            setattr(self.m, attr, convert(m[1]))
            return Reply()

        return handler

    def _cops(self) -> str:
        m = self.m
        name = {0: m.operator, 1: m.operator[:8], 2: m.imsi[:5]}[m.cops_format]
        return f'+COPS: 0,{m.cops_format},"{name}",0'

    def _cops_format(self, m: re.Match[str]) -> Reply:
        if self.m.refuse_cops_format:
            return Reply(final="ERROR")
        self.m.cops_format = int(m[1])
        return Reply()

    def _cclk_set(self, m: re.Match[str]) -> Reply:
        when = parse_cclk(f'+CCLK: "{m[1]}"')
        if when is None:
            return cme(self.m.cmee, 3)
        self.m.rtc_offset = when.timestamp() - time.time()
        return Reply()

    def _ctzu(self, m: re.Match[str]) -> Reply:
        if not self.m.ctzu_supported:
            return Reply(final="ERROR")
        self.m.ctzu = int(m[1])
        return Reply()

    def _ctzu_query(self, m: re.Match[str]) -> Reply:
        if not self.m.ctzu_supported:
            return Reply(final="ERROR")
        return Reply([f"+CTZU: {self.m.ctzu}"])

    def _cfun(self, m: re.Match[str]) -> Reply:
        if m[2] == "1":
            self.m.reset_settings(power_cycle=True)  # reset: echo on, CNMI reset, PIN again
        self.m.cfun = int(m[1])
        return Reply()

    def _cpin(self, m: re.Match[str]) -> Reply:
        with self.m._lock:
            code = self.m.sim.enter_pin(m[1], self.m.pin)
        return Reply() if code is None else cme(self.m.cmee, code)

    def _cnmi(self, m: re.Match[str]) -> Reply:
        with self.m._lock:
            for i, value in enumerate(m.groups()):
                if value is not None:
                    self.m.cnmi[i] = int(value)
        return Reply()

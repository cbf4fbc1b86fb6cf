"""The emulated modem's network side: SMS arriving, status reports, SMS leaving, network time.

An arriving SMS is stored in the SIM with ``+CMTI`` (CNMI mt=1) or handed over as ``+CMT``
(mt=2). While the memory is full or the modem unplugged the network holds it back and offers
it again as soon as it can, or, with ``network_retry``, only after that many seconds (as real
networks do, each such SMS counting in ``sim_full_events``). ``AT+CMGS`` hands an SMS to the
network here, which numbers it (the message reference) and records it in ``sent``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sms1708.modem.emulator.sim import Memory, Slot, tpdu_length

if TYPE_CHECKING:
    from sms1708.modem.emulator.modem import EmulatedModem

logger = logging.getLogger("sms1708.modem.emulator")


@dataclass(frozen=True)
class SentSms:
    """One PDU the DTE sent with AT+CMGS (``pdu_hex`` includes the SMSC prefix)."""

    pdu_hex: str
    tpdu_len: int
    mr: int
    t: float


def _swap(digits: str) -> str:
    digits += "F" * (len(digits) % 2)
    return "".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def ucs2_deliver(sender: str, text: str, scts: datetime, smsc: str) -> str:
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


def clean_pdu(pdu_hex: str) -> str:
    """A PDU with SMSC prefix as upper-case hex without blanks (ValueError if it is none)."""
    pdu = re.sub(r"\s+", "", pdu_hex).upper()
    if not re.fullmatch(r"(?:[0-9A-F]{2})+", pdu) or tpdu_length(pdu) <= 0:
        raise ValueError(f"not a PDU with SMSC prefix: {pdu_hex!r}")
    return pdu


class Network:
    """What the operator's network does to the emulated modem (see the module docstring)."""

    def __init__(self, modem: EmulatedModem) -> None:
        self.m = modem
        self.pending: list[tuple[str, str | None, bool]] = []  # held back by the network
        self.held_until = 0.0  # monotonic: the network offers held SMS again after this
        self.sim_full_events = 0
        self.sent: list[SentSms] = []
        self.mr = 0
        self.concat_ref = 0

    # ---------------------------------------------------------------- SMS arriving

    def arrive(self, pdu: str, memory: str | None, notify: bool, retry: bool = False) -> int | None:
        m = self.m
        with m._lock:
            if m.line.pty is None or (self.pending and not retry):
                self.pending.append((pdu, memory, notify))  # unplugged, or keep arrival order
                return None
            if notify and m.cnmi[1] == 2:
                m.line.emit(f"\r\n+CMT: ,{tpdu_length(pdu)}\r\n{pdu}\r\n".encode())
                return None
            mem = m.sim.memory(memory or m.cpms[2])
            index = mem.free_index()
            if index is None:
                self.pending.append((pdu, memory, notify))
                self.sim_full()
                self.announce_full(mem)
                return None
            mem.slots[index] = Slot(pdu, 0)
            if notify and m.cnmi[1] in (1, 3):
                m.line.emit(f'\r\n+CMTI: "{mem.name}",{index}\r\n'.encode())
            if mem.free_index() is None:
                self.announce_full(mem)
        m.line.notify()
        return index

    def announce_full(self, mem: Memory) -> None:
        if self.m.smmemfull and not mem.full_announced:
            mem.full_announced = True
            self.m.line.emit(f'\r\n^SMMEMFULL: "{mem.name}"\r\n'.encode())

    def sim_full(self) -> None:
        """An SMS found the SIM full: counted; with ``network_retry`` the network offers the
        held SMS again only after that delay (a timer), as real networks do."""
        self.sim_full_events += 1
        retry = self.m.network_retry
        if retry > 0 and time.monotonic() >= self.held_until:
            self.held_until = time.monotonic() + retry
            timer = threading.Timer(retry, self.retry_held)
            timer.daemon = True
            timer.start()

    def retry_held(self) -> None:
        with self.m._lock:
            self.held_until = 0.0
            self.drain_pending(retry=True)

    def drain_pending(self, *, retry: bool = False) -> None:
        m = self.m
        with m._lock:
            if m.network_retry > 0 and time.monotonic() < self.held_until:
                return  # the network offers them again later
            while self.pending and m.line.pty is not None:
                pdu, memory, notify = self.pending[0]
                mem = m.sim.memory(memory or m.cpms[2])
                if mem.free_index() is None and not (notify and m.cnmi[1] == 2):
                    if retry:
                        self.sim_full()  # offered again, still full
                    return
                self.pending.pop(0)
                self.arrive(pdu, memory, notify, retry=True)

    def deliver(self, pdu_hex: str, *, memory: str | None, notify: bool) -> int | None:
        if memory is not None and memory.upper() not in ("SM", "ME"):
            raise ValueError(f"unknown memory {memory!r}")
        return self.arrive(clean_pdu(pdu_hex), memory, notify)

    def receive_sms(
        self,
        sender: str,
        text: str,
        *,
        when: datetime | None,
        memory: str | None,
        concat_ref: int | None,
        ref_bits: int,
        notify: bool,
    ) -> list[int | None]:
        from sms1708.core.pdu import encode_deliver  # lazily: optional for the emulator itself

        scts = when or self.now()

        def encode(ref: int | None) -> list[str]:
            return encode_deliver(
                sender, text, scts, smsc=self.m.smsc, concat_ref=ref, ref_bits=ref_bits
            )

        def auto_ref() -> int:
            with self.m._lock:
                self.concat_ref = self.concat_ref % (0xFFFF if ref_bits == 16 else 0xFF) + 1
                return self.concat_ref

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
        m = self.m
        pdu = clean_pdu(pdu_hex)
        with m._lock:
            if m.cnmi[3] == 1:
                m.line.emit(f"\r\n+CDS: {tpdu_length(pdu)}\r\n{pdu}\r\n".encode())
                return None
            mem = m.sim.memory("SR")
            index = mem.free_index()
            if index is None:
                logger.warning("emulated modem: SR memory full, status report dropped")
                return None
            mem.slots[index] = Slot(pdu, 0)
            if m.cnmi[3] == 2:
                m.line.emit(f'\r\n+CDSI: "SR",{index}\r\n'.encode())
        m.line.notify()
        return index

    # ---------------------------------------------------------------- SMS leaving

    def accept(self, pdu: str, length: int) -> int:
        """The network takes an SMS the DTE sent: its message reference."""
        with self.m._lock:
            mr, self.mr = self.mr, (self.mr + 1) % 256
            self.sent.append(SentSms(pdu, length, mr, time.monotonic()))
        return mr

    # ---------------------------------------------------------------- network time

    def now(self) -> datetime:
        """The network's time now (what the SMSC stamps on a delivered SMS)."""
        return datetime.fromtimestamp(time.time() + self.m.network_offset, self.m.network_zone)

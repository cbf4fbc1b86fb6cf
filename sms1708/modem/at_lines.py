"""What the lines from a modem mean: unsolicited result codes (URCs) or the pending command's
answer, final result codes, and the state of the command waiting for them.

Pure data and classification, used by :class:`sms1708.modem.at.ATSession` (its reader thread
routes every line with :func:`is_urc`).
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from dataclasses import dataclass, field

from sms1708.errors import CommandFailed, ModemError, ModemGone, ModemGoneAfterSend

#: prefixes of unsolicited result codes (matched on the start of a line)
URC_PREFIXES: tuple[str, ...] = (
    "+CMTI:",
    "+CMT:",
    "+CDSI:",
    "+CDS:",
    "+CBM:",
    "RING",
    "+CRING:",
    "+CLIP:",
    "NO CARRIER",
    "+CREG:",
    "+CGREG:",
    "+CEREG:",
    "+CUSD:",
    "+CPIN:",
    "+CFUN:",
    "^SMMEMFULL",
    "^RSSI:",
    "^HCSQ:",
    "^BOOT:",
    "^MODE:",
    "^SRVST:",
    "^SIMST:",
    "^SYSSTART",
    "^STIN:",
    "^CEND:",
    "^ORIG:",
    "^CONF:",
    "^CONN:",
    "RDY",
    "Call Ready",
    "SMS Ready",
    "+PBREADY",
    "+QIND:",
)
#: URCs whose PDU follows on the next line
PDU_URCS = ("+CMT:", "+CDS:", "+CBM:")

_FINAL_ERROR = re.compile(r"^(?:ERROR|COMMAND NOT SUPPORT|\+CM([ES]) ERROR:\s*(.*))$")
_RESPONSE_PREFIX = re.compile(r"^AT([+^][A-Z0-9]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Urc:
    """An unsolicited line from the modem (with its PDU line for +CMT / +CDS)."""

    line: str
    pdu: str | None = None

    @property
    def name(self) -> str:
        return self.line.split(":", 1)[0].strip()


@dataclass
class _Pending:
    command: str
    response_prefix: str | None
    data: str | None = None
    lines: list[str] = field(default_factory=list)
    final: str | None = None
    error: ModemError | None = None
    handed_over: bool = False  # the SMS data (PDU + Ctrl-Z) went to the port: it may be sent
    #: when streaming (:meth:`ATSession.stream`): each information line as it arrives
    sink: queue.SimpleQueue[str] | None = None
    prompt: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


def response_prefix(command: str) -> str | None:
    """``AT+CREG?`` -> ``+CREG:``: lines with this prefix answer the command, not a URC."""
    m = _RESPONSE_PREFIX.match(command)
    return f"{m.group(1).upper()}:" if m else None


def is_urc(line: str, pending_prefix: str | None) -> bool:
    if pending_prefix and line.upper().startswith(pending_prefix):
        return False
    return line.startswith(URC_PREFIXES)


def _check_final(shown: str, final: str) -> None:
    """Raise CommandFailed unless the final result code is OK."""
    if final == "OK":
        return
    m = _FINAL_ERROR.match(final)
    code = None
    if m and m.group(2):
        with contextlib.suppress(ValueError):
            code = int(m.group(2).strip())
    raise CommandFailed(shown, final, code)


def _after_send(pending: _Pending, shown: str, gone: ModemGone) -> ModemGone:
    """A link lost once the SMS was handed over: the SMS may be out (count an attempt)."""
    if not pending.handed_over or isinstance(gone, ModemGoneAfterSend):
        return gone
    return ModemGoneAfterSend(f"{shown}: link lost after the SMS was handed to the modem: {gone}")

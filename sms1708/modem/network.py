"""The network operator a modem is registered with, for the status file, `status`, `check`
and the console's dashboard ("TELKOMSEL", not the modem's family).

``AT+COPS?`` answers ``+COPS: <mode>[,<format>,"<oper>"[,<AcT>]]`` (3GPP TS 27.007 7.3); the
format is 0 (long alphanumeric), 1 (short) or 2 (numeric MCC+MNC, "51010"). Many sticks give
the numeric form after power-up: then ``AT+COPS=3,0`` asks for the long name (it sets the
format only; it never makes the modem search the network again) and ``AT+COPS?`` is asked
once more. A modem that refuses that keeps its numeric name, which is still shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sms1708.health import Health
    from sms1708.modem.at import ATSession

_COPS = re.compile(r'^\+COPS:\s*\d+\s*,\s*(\d)\s*,\s*"([^"]*)"')
LONG = 0


def parse_cops(lines: Sequence[str]) -> tuple[int | None, str | None]:
    """(format, operator) from an ``AT+COPS?`` answer; (None, None) when not registered."""
    for line in lines:
        m = _COPS.match(line.strip())
        if m and m.group(2).strip():
            return int(m.group(1)), m.group(2).strip()
    return None, None


def read_operator(session: ATSession, *, timeout: float) -> str | None:
    """The operator's long name (or what the modem can give); None when not registered or
    the modem does not answer ``AT+COPS?``."""
    fmt, name = parse_cops(session.try_command("AT+COPS?", timeout=timeout) or [])
    if name is None or fmt == LONG:
        return name
    if session.try_command("AT+COPS=3,0", timeout=timeout) is None:
        return name
    _fmt, long_name = parse_cops(session.try_command("AT+COPS?", timeout=timeout) or [])
    return long_name or name


def refresh_operator(session: ATSession, health: Health, modem: str, *, timeout: float) -> None:
    """Read the operator into the modem's health (kept as it was when it cannot be read)."""
    name = read_operator(session, timeout=timeout)
    if name is not None:
        health.update_modem(modem, operator=name[:40])

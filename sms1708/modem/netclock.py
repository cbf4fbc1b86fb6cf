"""The modem's clock as a source of network time (3GPP TS 27.007 ``+CCLK``, ``+CTZU``).

With ``AT+CTZU=1`` a modem sets its clock from the network's time-zone updates (NITZ), where
the operator sends them. ``AT+CCLK?`` answers ``+CCLK: "yy/MM/dd,hh:mm:ss±zz"`` (``zz`` in
quarter hours). A modem whose clock was never set answers its power-on default (2004, 1980,
2070 ...): :func:`sms1708.core.timebase.network` ignores such implausible times.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_CCLK = re.compile(
    r'^\+CCLK:\s*"?(\d{2,4})/(\d{1,2})/(\d{1,2}),(\d{1,2}):(\d{2}):(\d{2})([+-]\d{1,2})?"?'
)


def parse_cclk(line: str) -> datetime | None:
    """The time in a ``+CCLK:`` line, or None (no zone given: not usable as network time)."""
    m = _CCLK.match(line.strip())
    if not m or m[7] is None:
        return None
    year = int(m[1])
    year = year + 2000 if year < 100 else year
    try:
        zone = timezone(timedelta(minutes=15 * int(m[7])))
        return datetime(year, int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=zone)
    except ValueError:
        return None


def format_cclk(when: datetime) -> str:
    """``when`` as a ``+CCLK:`` answer (in its own zone; UTC when naive)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    quarters = int((when.utcoffset() or timedelta(0)).total_seconds() // 900)
    return f'+CCLK: "{when:%y/%m/%d,%H:%M:%S}{quarters:+03d}"'

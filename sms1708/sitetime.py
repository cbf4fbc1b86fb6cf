"""The site's time for what people read and for the dates the command line writes.

Dates are shown in the office's zone (``[site] timezone``: WIB, WITA, WIT; default WIB), not the
box's local zone (a Raspberry Pi image is often left in UTC). The command line runs in its own
process: it takes the daemon's clock correction from status.json (``clock.off_by``, how far the
box clock is behind trusted time), so a date an operator's command writes (a block, a replay,
an operator SMS) is on the same clock as the daemon's.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sms1708.config import Config, parse_zone

#: the zone used where no config says otherwise (and by the send gate's day)
_zone: dt.tzinfo = parse_zone("Asia/Jakarta")
_offset = 0.0


def use(cfg: Config, daemon_status: dict[str, Any] | None = None) -> None:
    """Take the site's zone from ``cfg`` and the clock correction from the daemon's status."""
    global _zone, _offset
    _zone = cfg.site.zone()
    clock = (daemon_status or {}).get("clock") or {}
    try:
        _offset = float(clock.get("off_by") or 0.0)
    except (TypeError, ValueError):
        _offset = 0.0


def zone() -> dt.tzinfo:
    return _zone


def now() -> float:
    """Trusted unix time as far as this process knows it."""
    return time.time() + _offset


def local(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, _zone)


def day_start(ts: float) -> float:
    """The site's midnight before ``ts``: where a day (the reply budget, a stats day) starts."""
    day = local(ts).date()
    return dt.datetime(day.year, day.month, day.day, tzinfo=_zone).timestamp()

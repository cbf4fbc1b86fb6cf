"""Moments, periods and places for the statistics (:mod:`sms1708.reports`): when a report
came in, which day or ISO week it belongs to in the site's time zone, which kecamatan it names,
quantiles and ranked counts. Pure."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

Period = Literal["day", "week"]


def zone_label(tz: dt.tzinfo | None) -> str:
    """``"Asia/Jakarta"``, ``"UTC+07:00"``; None (the machine's zone): ``"lokal UTC+07:00"``."""
    if tz is None:
        return "lokal " + zone_label(dt.datetime.now().astimezone().tzinfo or dt.UTC)
    key = getattr(tz, "key", None)  # zoneinfo.ZoneInfo
    if isinstance(key, str):
        return key
    off = tz.utcoffset(None)
    if off is None:
        off = dt.datetime.now(tz).utcoffset() or dt.timedelta(0)
    minutes = int(off.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


#: an SMS centre's stamp this far after our own commit, or this long before it, is a wrong
#: clock (an SMS waits at most 63 weeks, its longest validity period), not a real time
AHEAD_LIMIT = 3600.0
BEHIND_LIMIT = 441 * 86400.0


def received_time(received_at: Any, stored_at: Any) -> float | None:
    """Unix time the SMS centre received the SMS; ``stored_at`` where that cannot be read or
    is implausible next to it (see AHEAD_LIMIT, BEHIND_LIMIT)."""
    stored = (
        float(stored_at)
        if isinstance(stored_at, int | float) and not isinstance(stored_at, bool)
        else None
    )
    if isinstance(received_at, str) and received_at:
        try:
            t = dt.datetime.fromisoformat(received_at)
        except ValueError:
            t = None
        if t is not None and t.tzinfo is not None:
            ts = t.timestamp()
            if stored is None or stored - BEHIND_LIMIT <= ts <= stored + AHEAD_LIMIT:
                return ts
    return stored


def period_key(ts: float, period: Period, tz: dt.tzinfo | None) -> str:
    """The day or ISO week of ``ts`` in ``tz`` (None: the machine's zone, DST included)."""
    day = dt.datetime.fromtimestamp(ts, tz).date()
    if period == "day":
        return day.isoformat()
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def period_start(key: str) -> dt.date:
    """The first day of a period key (a date, or the Monday of an ISO week)."""
    if "-W" in key:
        year, week = key.split("-W")
        return dt.date.fromisocalendar(int(year), int(week), 1)
    return dt.date.fromisoformat(key)


def span(first: str, last: str, period: Period) -> list[str]:
    step = dt.timedelta(days=1 if period == "day" else 7)
    d, end = period_start(first), period_start(last)
    out: list[str] = []
    while d <= end:
        out.append(d.isoformat() if period == "day" else week_key(d))
        d += step
    return out


def week_key(d: dt.date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def kecamatan_of(location: str | None) -> str | None:
    """``"Kec. Y"`` from ``"Desa X, Kec. Y"``, ``"Kel. X, Kec. Y"`` or ``"Kec. Y"``, else None."""
    if not location:
        return None
    for piece in location.split(","):
        words = piece.split()
        if len(words) >= 2 and words[0].lower() in ("kec.", "kec", "kecamatan"):
            return "Kec. " + " ".join(words[1:])
    return None


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the nearest ranks (the median for q=0.5)."""
    if not values:
        return None
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def ranked(counter: Counter[str], last: str) -> dict[str, int]:
    items = sorted(
        ((k, v) for k, v in counter.items() if k != last), key=lambda kv: (-kv[1], kv[0])
    )
    out = dict(items)
    if counter.get(last):
        out[last] = counter[last]
    return out


def local(ts: float | None, tz: dt.tzinfo | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def text(v: Any) -> str | None:
    if v is None:
        return None
    s = " ".join(str(v).split())
    return s or None

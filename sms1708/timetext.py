"""Moments as an operator reads them: the site's date and time, and how long ago."""

from __future__ import annotations

from sms1708 import sitetime


def when(ts: float | None) -> str:
    """``2026-11-01 08:00:00`` in the site's zone, ``-`` for none."""
    if ts is None:
        return "-"
    return sitetime.local(ts).strftime("%Y-%m-%d %H:%M:%S")


def ago(ts: float | None, now: float | None = None) -> str:
    """``42s ago``, ``5m ago``, ``3h ago``, ``2d ago`` (from ``now``, default the site's now)."""
    if ts is None:
        return "-"
    s = int((sitetime.now() if now is None else now) - ts)
    if s < 120:
        return f"{s}s ago"
    if s < 7200:
        return f"{s // 60}m ago"
    if s < 172800:
        return f"{s // 3600}h ago"
    return f"{s // 86400}d ago"

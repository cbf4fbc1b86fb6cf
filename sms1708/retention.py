"""How long personal data is kept (``sms1708 purge``): the two ages, finished complaints and
dead ones (never delivered: kept longer, never for ever), and what they select now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sms1708.config import RetentionConfig

DAY = 86400.0


@dataclass(frozen=True)
class Window:
    """Finished complaints older than ``days``, dead ones older than ``dead_days``."""

    days: float
    dead_days: float

    def cutoffs(self, now: float) -> tuple[float, float]:
        """(before, dead_before): the times before which each kind of complaint is purged."""
        return now - self.days * DAY, now - self.dead_days * DAY

    def describe(self) -> str:
        return f"older than {self.days:g} days, dead ones older than {self.dead_days:g} days"


def window(
    retention: RetentionConfig, days: float | None = None, dead_days: float | None = None
) -> Window:
    """The ages asked for, else the configured ones; dead ones are never kept shorter than
    finished ones unless asked. ``ValueError`` when an age is not positive."""
    keep = days if days is not None else retention.days
    keep_dead = dead_days if dead_days is not None else max(retention.dead_days, keep)
    if keep <= 0 or keep_dead <= 0:
        raise ValueError("--days and --dead-days must be positive")
    return Window(keep, keep_dead)


def preview(store: Any, w: Window, now: float) -> tuple[int, int]:
    """(complaints a purge would reach now, how many of them are dead), changing nothing."""
    before, dead_before = w.cutoffs(now)
    ids = store.maintenance.purge_candidates(before=before, dead_before=dead_before)
    return len(ids), len(ids) - len(store.maintenance.purge_candidates(before=before))

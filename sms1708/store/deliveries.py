"""Putting a complaint in the upstream queue: one delivery row per destination it goes to."""

from __future__ import annotations

import sqlite3
from typing import Protocol

from sms1708.core.routing import Routing
from sms1708.store.transitions import new_deliveries


class Routable(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def category(self) -> str | None: ...
    @property
    def location(self) -> str | None: ...
    @property
    def location_code(self) -> str | None: ...


def queue_deliveries(
    c: sqlite3.Connection, message_id: int, record: Routable, routing: Routing, *, now: float
) -> tuple[str, ...]:
    """Queue ``message_id`` for every destination ``routing`` sends it to (inside the caller's
    transaction). Returns those destinations' names."""
    names = routing.select(record.kind, record.category, record.location, record.location_code)
    new_deliveries(c, message_id, names, now=now)
    return names

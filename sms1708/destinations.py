"""Destinations as operators see them (`status`, `queue`, `replay`): configured ones and any
the queue still holds rows for."""

from __future__ import annotations

from typing import Any

from sms1708 import config

PENDING = ("queued", "sending", "retry", "ambiguous")


def unknown_destination(store: Any, name: str) -> str | None:
    """Why ``name`` is refused (a typo: no complaint goes there), naming the known ones."""
    known = sorted(store.queries.destination_counts())
    if name in known:
        return None
    return (
        f"no complaint goes to a destination named {name!r}"
        f" (known: {', '.join(known) or 'none yet'})"
    )


def destination_status(
    cfg: config.Config, store: Any, daemon: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each destination: configured or not, primary, its queue, and what the daemon knows."""
    counts = store.queries.destination_counts()
    routing = cfg.upstream.routing()
    health = daemon.get("destinations") or {}
    out: dict[str, dict[str, Any]] = {}
    for name in [*routing.names, *sorted(set(counts) - set(routing.names))]:
        h = health.get(name) or {}
        out[name] = {
            "configured": name in routing.names,
            "primary": name == routing.primary,
            "queue": counts.get(name, {}),
            "last_delivery_at": h.get("last_success_at"),
            "circuit_open_until": h.get("circuit_open_until"),
            "problem": h.get("problem"),
        }
    return out

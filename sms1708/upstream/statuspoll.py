"""Asking the upstream what became of delivered complaints (``upstream.status_url``): a changed
status is stored, and the citizen is texted through the one gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sms1708.core import gate
from sms1708.errors import UpstreamError, safe_error
from sms1708.logsetup import get_logger
from sms1708.store.outbox import STATUS_QUARANTINE_AFTER
from sms1708.store.store import Store

if TYPE_CHECKING:
    from sms1708.upstream.forwarder import Forwarder

log = get_logger("sms1708.upstream")

#: with few statuses due, the next look is at most this far away (s)
IDLE_STATUS_RECHECK = 100.0


def poll_statuses(fwd: Forwarder, store: Store, limit: int = 20) -> int:
    """Ask the upstream what became of delivered complaints (``upstream.status_url``);
    a changed status is stored and texted to the citizen. Returns how many were asked."""
    up = fwd.cfg.upstream
    now = fwd.clock()
    if now < fwd.next_status_poll or not fwd.breaker.allow(now):
        return 0
    due = store.outbox.status_due(
        now=now,
        interval=up.status_interval,
        max_age=up.status_max_age_days * 86400,
        limit=limit,
        destination=fwd.dest.name,
    )
    if len(due) < limit:
        fwd.next_status_poll = now + min(up.status_interval, IDLE_STATUS_RECHECK)
    for row in due:
        if fwd.stop_event.is_set():
            break
        try:
            status = fwd.client.fetch_status(row["tracking_id"], row["key"])
        except UpstreamError as e:
            log.warning("upstream_status_failed", message_id=row["id"], error=str(e))
            fwd.next_status_poll = fwd.clock() + up.status_interval / 4
            break
        except Exception as e:  # about this complaint alone: counted against it
            error = safe_error("asking its status", e)
            failures = store.outbox.status_failed(row["id"], error, now=fwd.clock())
            log.warning(
                "upstream_status_item_failed",
                message_id=row["id"],
                error=error,
                failures=failures,
                action="asked again later"
                if failures < STATUS_QUARANTINE_AFTER
                else "not asked again (see `queue show`)",
            )
            continue
        text = gate.status_change_text(
            status,
            ref=str(row["id"]),
            tracking=row["tracking_id"],
            language=fwd.cfg.replies.language,
            notify=fwd.cfg.replies.notify_tracking,
        )
        changed = store.outbox.record_status(
            row["id"],
            status,
            now=fwd.clock(),
            notify_text=text,
            guard=fwd.cfg.replies.guard(),
        )
        if changed:
            log.info("upstream_status_changed", message_id=row["id"], status=status)
            fwd.on_reply()
    return len(due)

"""How long personal data is kept (sms1708.retention): the two ages, their defaults, the cut-off
times, and what a purge would reach on a real store, changing nothing (no CLI involved)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sms1708.config import RetentionConfig
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.states import State
from sms1708.retention import DAY, Window, preview, window
from sms1708.store.store import Attempt, IncomingPart, Store

NOW = 1_800_000_000.0
WIB = timezone(timedelta(hours=7))


def test_the_configured_ages_by_default() -> None:
    assert window(RetentionConfig()) == Window(365.0, 730.0)
    assert window(RetentionConfig(days=30, dead_days=90)) == Window(30, 90)


def test_dead_ones_are_not_kept_shorter_than_finished_ones_unless_asked() -> None:
    assert window(RetentionConfig(days=365, dead_days=730), days=1000) == Window(1000, 1000)
    assert window(RetentionConfig(days=400, dead_days=100)) == Window(400, 400)
    assert window(RetentionConfig(), days=1000, dead_days=10) == Window(1000, 10)


@pytest.mark.parametrize(("days", "dead_days"), [(0, None), (-1, None), (30, 0), (None, -5)])
def test_an_age_that_is_not_positive_is_refused(
    days: float | None, dead_days: float | None
) -> None:
    with pytest.raises(ValueError, match="--days and --dead-days must be positive"):
        window(RetentionConfig(), days, dead_days)


def test_cutoffs_and_how_a_window_reads() -> None:
    w = Window(30, 90.5)
    assert w.cutoffs(NOW) == (NOW - 30 * DAY, NOW - 90.5 * DAY)
    assert w.describe() == "older than 30 days, dead ones older than 90.5 days"


def test_preview_counts_what_a_purge_would_reach_and_changes_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite", create=True)

    def receive(n: int, text: str, at: float) -> int:
        sent = datetime(2026, 1, 1, 8, n, tzinfo=WIB)
        [p] = encode_deliver(f"+62812345678{n:02d}", text, sent)
        [r] = store.intake.ingest(
            "modem0", [IncomingPart("SM", n, p, decode_deliver(p))], now=at, rules=IntakeRules()
        )
        return r.message_ids[0]

    try:
        receive(1, "?", NOW - 400 * DAY)  # handled locally, past 365 days: reached
        receive(2, "?", NOW - 10 * DAY)  # recent: kept
        receive(3, "LAPOR jalan rusak", NOW - 400 * DAY)  # still queued: never purged
        dead = receive(4, "LAPOR pungli", NOW - 800 * DAY)
        store.outbox.claim(now=NOW, lease=60, limit=5)
        store.outbox.record(
            [
                Attempt(
                    dead,
                    Decision(State.DEAD, None, "rejected: HTTP 422"),
                    outcome="rejected",
                    ended_at=NOW,
                    http_status=422,
                )
            ]
        )
        assert preview(store, Window(365, 730), NOW) == (2, 1)
        assert preview(store, Window(365, 900), NOW) == (1, 0)
        assert preview(store, Window(5, 5), NOW) == (3, 1)
        assert store.queries.message(1)["sender"] is not None  # type: ignore[index]
    finally:
        store.close()

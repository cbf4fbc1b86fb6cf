"""Retention (P12): `purge` removes personal data from everything old enough, on a real store:
finished complaints, operator-sent SMS, attempt details and error texts, and (after the longer
`retention.dead_days`) complaints that never got through."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sms1708.cli import main
from sms1708.config import from_mapping
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.states import State
from sms1708.errors import ConfigError
from sms1708.store.store import Attempt, IncomingPart, Store

from .conftest import write_config

WIB = timezone(timedelta(hours=7))
DAY = 86400.0
NOW = 1_800_000_000.0
OLD = NOW - 400 * DAY  # past retention.days (365)
ANCIENT = NOW - 800 * DAY  # past retention.dead_days (730)


def receive(s: Store, n: int, text: str, at: float) -> int:
    [p] = encode_deliver(f"+62812345678{n:02d}", text, datetime(2026, 1, 1, 8, n, tzinfo=WIB))
    [r] = s.intake.ingest(
        "modem0", [IncomingPart("SM", n, p, decode_deliver(p))], now=at, rules=IntakeRules()
    )
    return r.message_ids[0]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "db.sqlite")
    # 1 delivered long ago, after a failed attempt whose error quoted personal data
    receive(s, 1, "LAPOR jalan rusak di desa Tanjung", OLD)
    s.outbox.claim(now=OLD, lease=60, limit=1)
    s.outbox.record(
        [
            Attempt(
                1,
                Decision(State.RETRY, OLD + 10, "HTTP 503"),
                outcome="retryable",
                ended_at=OLD,
                http_status=503,
                detail="HTTP 503: pelapor +6281234567801 jalan rusak",
            )
        ]
    )
    s.outbox.claim(now=OLD + 10, lease=60, limit=1)
    s.outbox.record(
        [
            Attempt(
                1,
                Decision(State.DELIVERED, None, "delivered"),
                outcome="delivered",
                ended_at=OLD + 10,
                http_status=201,
                tracking_id="1916449",
            )
        ]
    )
    # 2 dead, 400 days old: kept (dead_days is longer); 3 dead, 800 days old: purged
    for mid, at in (
        (receive(s, 2, "LAPOR pungli di kantor desa", OLD), OLD),
        (receive(s, 3, "LAPOR RAHASIA kades minta uang", ANCIENT), ANCIENT),
    ):
        s.outbox.claim(now=at, lease=60, limit=5)
        s.outbox.record(
            [
                Attempt(
                    mid,
                    Decision(State.DEAD, None, "rejected: HTTP 422 'LAPOR pungli'"),
                    outcome="rejected",
                    ended_at=at,
                    http_status=422,
                    detail="HTTP 422: text 'LAPOR pungli'",
                )
            ]
        )
    # 4 delivered recently: kept
    receive(s, 4, "LAPOR lampu jalan mati", NOW - 10 * DAY)
    # an operator's SMS long ago, and one recently, with a send error
    s.replies.queue_reply(
        modem="modem0",
        recipient="+6285711112222",
        text="Pak Budi, laporan Anda ...",
        purpose="operator",
        now=OLD,
    )
    s.replies.queue_reply(
        modem="modem0",
        recipient="+6285711113333",
        text="Tes baru",
        purpose="operator",
        now=NOW - DAY,
    )
    s.conn.execute("UPDATE replies SET last_error = '+CMS ERROR: 500 to +6285711112222'")
    return s


def personal(s: Store) -> dict[str, Any]:
    q = s.conn.execute
    return {
        "senders": sorted(r[0] for r in q("SELECT sender FROM messages") if r[0]),
        "operator": [
            tuple(r)
            for r in q("SELECT recipient, text FROM replies WHERE message_id IS NULL ORDER BY id")
        ],
        "details": [tuple(r) for r in q("SELECT message_id, detail FROM attempts ORDER BY id")],
        "last_error": {r[0]: r[1] for r in q("SELECT message_id, last_error FROM outbox")},
        "reply_errors": [r[0] for r in q("SELECT last_error FROM replies ORDER BY id")],
    }


def test_purge_clears_operator_sms_attempt_details_errors_and_old_dead_complaints(
    store: Store,
) -> None:
    ids = store.maintenance.purge(before=NOW - 365 * DAY, dead_before=NOW - 730 * DAY, now=NOW)
    assert ids == [1, 3]
    p = personal(store)
    assert p["senders"] == ["+6281234567802", "+6281234567804"]
    assert p["operator"] == [("", ""), ("+6285711113333", "Tes baru")]
    assert p["details"] == [(1, None), (1, None), (2, "HTTP 422: text 'LAPOR pungli'"), (3, None)]
    assert p["last_error"][1] is None and p["last_error"][3] is None
    assert p["last_error"][2] is not None  # dead, but not old enough for dead_days
    errors = p["reply_errors"]
    assert errors[0] is None and errors[-1] is not None  # old replies cleared, new kept
    # what statistics need stays
    dead = store.queries.message(3)
    assert dead is not None and dead["state"] == "dead" and dead["kind"] == "pengaduan"
    assert dead["purged_at"] == NOW and dead["text"] == ""
    outcomes = store.conn.execute("SELECT outcome, http_status FROM attempts WHERE message_id = 1")
    assert [tuple(r) for r in outcomes] == [("retryable", 503), ("delivered", 201)]
    # a purged dead complaint cannot be replayed with an empty text
    assert store.outbox.replay(state="dead", now=NOW, dry_run=False) == [2]


def test_without_dead_before_dead_complaints_are_never_purged(store: Store) -> None:
    assert store.maintenance.purge(before=NOW - 365 * DAY, now=NOW) == [1]
    assert personal(store)["senders"][0] == "+6281234567802"
    assert "+6281234567803" in personal(store)["senders"]


def test_dead_days_is_configurable_and_never_shorter_than_days() -> None:
    assert from_mapping({"retention": {"dead_days": 1000}}).retention.dead_days == 1000
    assert from_mapping({}).retention.dead_days >= from_mapping({}).retention.days
    with pytest.raises(ConfigError, match=r"retention\.dead_days"):
        from_mapping({"retention": {"days": 400, "dead_days": 100}})


def test_cli_purge_counts_then_purges_dead_after_dead_days(store: Store, tmp_path: Path) -> None:
    store.conn.execute("UPDATE messages SET stored_at = stored_at - ?", (NOW - time.time(),))
    store.close()
    cfg = write_config(tmp_path / "c.toml", {"store": {"path": str(tmp_path / "db.sqlite")}})
    r = CliRunner().invoke(main, ["--config", str(cfg), "purge"])
    assert "would purge personal data of 2 complaint(s)" in r.output, r.output
    assert "1 dead" in r.output
    r = CliRunner().invoke(main, ["--config", str(cfg), "purge", "--yes"])
    assert "purged personal data of 2 complaint(s)" in r.output
    r = CliRunner().invoke(main, ["--config", str(cfg), "purge", "--dead-days", "390", "--yes"])
    assert "purged personal data of 1 complaint(s)" in r.output

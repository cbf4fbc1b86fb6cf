"""Blocked numbers: on a real SQLite file, through intake, the reply queue and the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from sms1708.cli import main
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.store.store import BlockedNumber, IncomingPart, Store

from .conftest import write_config

WIB = timezone(timedelta(hours=7))
T0 = 1_790_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "db.sqlite")


def receive(store: Store, sender: str, text: str, index: int, now: float) -> int:
    [pdu] = encode_deliver(sender, text, datetime(2026, 11, 1, 8, index, tzinfo=WIB))
    [res] = store.intake.ingest(
        "modem0",
        [IncomingPart("SM", index, pdu, decode_deliver(pdu))],
        now=now,
        rules=IntakeRules(),
    )
    return res.message_ids[0]


def test_block_is_idempotent_and_every_spelling_is_one_number(store: Store) -> None:
    assert not store.blocked.is_blocked("+6281234567890")
    store.blocked.block("+6281234567890", by="ani", reason="asked to stop", now=T0)
    store.blocked.block("081234567890", by="budi", reason="again", now=T0 + 5)
    for spelling in ("+6281234567890", "6281234567890", "081234567890", "0812-3456-7890"):
        assert store.blocked.is_blocked(spelling), spelling
    assert not store.blocked.is_blocked("+6281234567891")
    assert not store.blocked.is_blocked("")
    assert store.blocked.numbers() == [BlockedNumber("+6281234567890", T0, "ani", "asked to stop")]
    assert store.blocked.unblock("6281234567890", by="ani", now=T0 + 10) is True
    assert store.blocked.unblock("6281234567890", by="ani", now=T0 + 11) is False
    assert not store.blocked.is_blocked("+6281234567890")
    assert store.blocked.numbers() == []


def test_a_block_survives_reopening_the_file(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "db.sqlite")
    s.blocked.block("+6281111111111", by="ani", now=T0)
    s.close()
    s = Store.open(tmp_path / "db.sqlite")
    assert s.blocked.is_blocked("081111111111")
    assert [b.by for b in s.blocked.numbers()] == ["ani"]


def test_a_number_without_digits_cannot_be_blocked(store: Store) -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        store.blocked.block("TELKOMSEL", by="ani", now=T0)
    assert store.blocked.unblock("TELKOMSEL", by="ani", now=T0) is False


def test_a_blocked_number_is_still_heard_but_not_answered(store: Store) -> None:
    store.blocked.block("081234567890", by="ani", now=T0)
    mid = receive(store, "+6281234567890", "LAPOR jalan rusak di desa Tanjung", 1, T0 + 1)
    m = store.queries.message(mid)
    assert m is not None and m["kind"] == "pengaduan" and m["state"] == "queued"
    assert [(r["state"], r["reason"]) for r in m["replies"]] == [("suppressed", "blocked number")]
    assert store.replies.claim("modem0", now=T0 + 2, lease=60, limit=10) == []


def test_a_reply_queued_before_the_block_is_not_sent(store: Store) -> None:
    rid = store.replies.queue_reply(
        modem="modem0", recipient="+6281234567890", text="tes", purpose="operator", now=T0
    )
    other = store.replies.queue_reply(
        modem="modem0", recipient="+6281234567899", text="tes", purpose="operator", now=T0
    )
    store.blocked.block("6281234567890", by="ani", now=T0 + 1)
    claimed = store.replies.claim("modem0", now=T0 + 2, lease=60, limit=10)
    assert [c.id for c in claimed] == [other]
    row = store.conn.execute("SELECT state, reason FROM replies WHERE id = ?", (rid,)).fetchone()
    assert tuple(row) == ("suppressed", "blocked number")


def test_cli_block_unblock_blocked(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", {"store": {"path": str(tmp_path / "db.sqlite")}})

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, ["--config", str(cfg), *args], catch_exceptions=False)

    r = run("block", "+6281234567890", "--reason", "asked to stop")
    assert r.exit_code == 0 and "+62812******90 is now blocked" in r.output
    assert "was already blocked" in run("block", "081234567890").output
    listed = run("blocked")
    assert "+62812******90" in listed.output and "asked to stop" in listed.output
    assert "6281234567890" not in listed.output
    data = json.loads(run("blocked", "--json").output)
    assert [d["number"] for d in data] == ["+62812******90"]
    data = json.loads(run("blocked", "--json", "--show-numbers").output)
    assert [d["number"] for d in data] == ["+6281234567890"]
    assert data[0]["reason"] == "asked to stop" and data[0]["by"]
    assert run("block", "TELKOMSEL").exit_code == 2
    assert run("unblock", "0812 3456 7890").exit_code == 0
    r = run("unblock", "+6281234567890")
    assert r.exit_code == 1 and "was not blocked" in r.output
    assert "no blocked numbers" in run("blocked").output

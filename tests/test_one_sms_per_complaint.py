"""One SMS per complaint wherever possible (issue 12, part 2): the receipt of a forwarded
complaint waits ``replies.receipt_wait_seconds`` for the upstream's tracking id; when the id comes
in time, the one receipt carries both numbers; when it comes later, a separate tracking SMS goes
out as before. Replies go oldest first; ``status`` tells how long the reply queue is."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from sms1708.cli import main
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.states import State
from sms1708.store.store import IncomingPart
from sms1708.upstream.standin import StandIn

from . import test_forwarder
from .test_forwarder import WIB, Rig

rig = test_forwarder.rig
WAIT = IntakeRules(receipt_wait=5.0)


def sms(r: Rig, text: str, sender: str, rules: IntakeRules = WAIT) -> int:
    r.sms_count += 1
    scts = datetime(2024, 5, 1, 10, 0, tzinfo=WIB) + timedelta(minutes=r.sms_count)
    [pdu] = encode_deliver(sender, text, scts)
    [res] = r.store.intake.ingest(
        "modem0",
        [IncomingPart("SM", r.sms_count, pdu, decode_deliver(pdu))],
        now=r.clock(),
        rules=rules,
    )
    [mid] = res.message_ids
    return mid


def replies(r: Rig) -> list[dict[str, object]]:
    return [
        dict(row)
        for row in r.store.conn.execute(
            "SELECT id, message_id, purpose, state, text, created_at, next_attempt_at"
            " FROM replies ORDER BY id"
        )
    ]


def test_an_upstream_that_answers_in_time_gives_one_receipt_with_both_numbers(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig()
    mid = sms(r, "LAPOR jalan rusak di desa Tanjung", "+6285711112222")
    [receipt] = replies(r)
    assert receipt["next_attempt_at"] == r.clock() + 5.0  # held for the tracking id
    assert r.store.replies.claim("modem0", now=r.clock() + 1, lease=60, limit=5) == []
    r.clock.advance(1)
    assert r.step() == 1
    [receipt] = replies(r)  # no second SMS: the receipt carries the tracking id
    assert receipt["purpose"] == "receipt" and receipt["state"] == "queued"
    assert f"No. laporan: {mid}" in str(receipt["text"]) and "1916449" in str(receipt["text"])
    assert len(str(receipt["text"])) <= 160
    assert receipt["next_attempt_at"] == r.clock()  # due at once now
    [item] = r.store.replies.claim("modem0", now=r.clock(), lease=60, limit=5)
    assert item.text == receipt["text"]


def test_a_tracking_id_that_comes_after_the_receipt_went_out_is_its_own_sms(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig()
    upstream.down()
    mid = sms(r, "LAPOR lampu jalan mati di desa Lubuk", "+6285711112222")
    r.clock.advance(6)
    r.step()  # the upstream is not there: the receipt goes out with the local number
    [item] = r.store.replies.claim("modem0", now=r.clock(), lease=60, limit=5)
    assert f"No. laporan: {mid}" in item.text and "Tracking" not in item.text
    r.store.replies.done(item.id, Decision(State.DELIVERED, None, "sent"), now=r.clock())
    upstream.up()
    r.clock.advance(600)
    assert r.step() == 1
    rows = replies(r)
    got = [(x["purpose"], x["state"]) for x in rows]
    assert got == [("receipt", "sent"), ("tracking", "queued")]
    assert "1916449" in str(rows[1]["text"])


def test_without_a_wait_the_receipt_is_due_at_once_and_the_tracking_id_is_separate(
    rig: Callable[..., Rig], upstream: StandIn
) -> None:
    r = rig()
    sms(r, "LAPOR jalan rusak di desa Tanjung", "+6285711112222", IntakeRules())
    [receipt] = replies(r)
    assert receipt["next_attempt_at"] == receipt["created_at"]
    r.clock.advance(1)
    r.step()
    assert [x["purpose"] for x in replies(r)] == ["receipt", "tracking"]


def test_replies_go_out_oldest_first(rig: Callable[..., Rig], upstream: StandIn) -> None:
    """A receipt held for its tracking id and then made due keeps its place before a reply
    queued after it (arrival order), even though that one was due earlier."""
    r = rig()
    first = sms(r, "LAPOR jalan rusak di desa Tanjung", "+6285711112222")
    r.clock.advance(1)
    sms(r, "BANTUAN", "+6281377778888")  # the help text is due at once
    r.clock.advance(1)
    r.step()  # the upstream answers: the first receipt is due now, after the help text's time
    got = r.store.replies.claim("modem0", now=r.clock(), lease=60, limit=5)
    assert got[0].message_id == first


def test_status_tells_how_long_the_reply_queue_is_and_how_old_its_oldest_item(
    rig: Callable[..., Rig], upstream: StandIn, tmp_path: Path
) -> None:
    r = rig()
    sms(r, "LAPOR jalan rusak di desa Tanjung", "+6285711112222")
    sms(r, "BANTUAN", "+6281377778888")
    cfg = tmp_path / "status.toml"
    cfg.write_text(f'[store]\npath = "{r.cfg.store.path}"\n')
    out = CliRunner().invoke(main, ["--config", str(cfg), "status", "--json"])
    data = json.loads(out.output)
    assert data["reply_queue"]["waiting"] == 2
    assert data["reply_queue"]["oldest_queued_at"] == r.clock()
    human = CliRunner().invoke(main, ["--config", str(cfg), "status"])
    assert "reply queue     2 waiting, oldest queued" in human.output

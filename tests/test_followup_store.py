"""Follow-ups in the store: joining, the update waiting behind its report, the wire body,
detach, what operators read, and the m015 upgrade of a store written before it."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner

from sms1708 import reports
from sms1708.cli import main
from sms1708.config import LaporConfig
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.core.policy import Decision
from sms1708.core.routing import Routing
from sms1708.core.states import State
from sms1708.store.schema import migrations
from sms1708.store.store import Attempt, IncomingPart, Store
from sms1708.table_files import default_tables
from sms1708.upstream import lapor, webhook

from .conftest import write_config
from .test_store import CITIZEN, MODEM, NEIGHBOUR, SCTS, T0, count, outbox

RULES = IntakeRules(keywords=default_tables())  # with the shipped places and categories


def sms(s: Store, sender: str, text: str, *, now: float = T0, scts: datetime = SCTS) -> int:
    [pdu] = encode_deliver(sender, text, scts)
    [res] = s.intake.ingest(
        MODEM, [IncomingPart("SM", 1, pdu, decode_deliver(pdu))], now=now, rules=RULES
    )
    assert res.new and len(res.message_ids) == 1
    return res.message_ids[0]


LATER = SCTS + timedelta(minutes=5)


def deliver(s: Store, mid: int, now: float, tracking: str | None = None) -> None:
    s.outbox.record(
        [
            Attempt(
                mid,
                Decision(State.DELIVERED, None, ""),
                outcome="delivered",
                ended_at=now,
                tracking_id=tracking,
            )
        ]
    )


def claim_ids(s: Store, now: float) -> list[int]:
    return [i.message_id for i in s.outbox.claim(now=now, lease=60, limit=10)]


def message(s: Store, mid: int) -> dict[str, Any]:
    return dict(s.conn.execute("SELECT * FROM messages WHERE id = ?", (mid,)).fetchone())


def replies(s: Store, mid: int) -> list[tuple[str, str, str]]:
    return [
        (r["purpose"], r["state"], r["text"])
        for r in s.conn.execute("SELECT * FROM replies WHERE message_id = ? ORDER BY id", (mid,))
    ]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path / "sms1708.db")
    yield s
    s.close()


# ------------------------------------------------------------------ joining


def test_a_keywordless_sms_after_a_report_joins_it_with_a_short_receipt(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    more = sms(
        store, CITIZEN, "lubangnya besar dekat SD 5, sudah 3 bulan", scts=LATER, now=T0 + 300
    )
    m = message(store, more)
    assert m["update_of"] == report
    assert m["text"] == "lubangnya besar dekat SD 5, sudah 3 bulan"
    assert m["location_code"] == message(store, report)["location_code"]  # the report's place
    assert outbox(store, more)["state"] == "queued"  # its own row, its own key
    assert m["key"] != message(store, report)["key"]
    assert replies(store, more) == [
        ("update_receipt", "queued", f"Tambahan untuk laporan {report} diterima. Terima kasih.")
    ]


def test_the_receipt_of_a_followup_passes_the_one_send_gate(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    store.blocked.block(CITIZEN, by="op", now=T0)
    more = sms(store, CITIZEN, "lubangnya besar", scts=LATER)
    assert message(store, more)["update_of"] == report  # still joined and forwarded
    [(purpose, state, _text)] = replies(store, more)
    assert (purpose, state) == ("update_receipt", "suppressed")
    reason = store.conn.execute("SELECT reason FROM replies WHERE message_id = ?", (more,))
    assert reason.fetchone()[0] == "blocked number"


def test_after_the_window_or_from_another_number_it_is_a_report_of_its_own(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    late = sms(store, CITIZEN, "lampu jalan mati", scts=SCTS + timedelta(minutes=31))
    other = sms(store, NEIGHBOUR, "lubangnya besar", scts=LATER)
    assert message(store, late)["update_of"] is None
    assert message(store, other)["update_of"] is None
    assert [p for p, _s, _t in replies(store, late)] == ["receipt"]
    # a named report joins whatever the time
    named = sms(store, CITIZEN, f"TAMBAH {report} sudah 3 bulan", scts=SCTS + timedelta(days=9))
    assert message(store, named)["update_of"] == report
    assert message(store, named)["text"] == "sudah 3 bulan"


def test_naming_someone_elses_report_never_joins_it(store: Store) -> None:
    theirs = sms(store, NEIGHBOUR, "LAPOR pungli di kantor desa")
    mine = sms(store, CITIZEN, f"#{theirs} jalan rusak parah", scts=LATER)
    m = message(store, mine)
    assert m["update_of"] is None and m["text"] == f"#{theirs} jalan rusak parah"
    assert [p for p, _s, _t in replies(store, mine)] == ["receipt"]


def test_cek_and_a_keyword_never_join(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    cek = sms(store, CITIZEN, f"CEK {report}", scts=LATER)
    again = sms(store, CITIZEN, "LAPOR lampu jalan mati", scts=LATER + timedelta(minutes=1))
    assert message(store, cek)["update_of"] is None and message(store, cek)["kind"] == "status"
    assert message(store, again)["update_of"] is None


def test_a_followup_never_joins_a_followup_but_its_report(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    first = sms(store, CITIZEN, "lubangnya besar", scts=LATER)
    second = sms(store, CITIZEN, "sudah 3 bulan", scts=LATER + timedelta(minutes=1))
    third = sms(store, CITIZEN, f"#{first} ada foto", scts=LATER + timedelta(minutes=2))
    assert [message(store, i)["update_of"] for i in (first, second)] == [report, report]
    assert message(store, third)["update_of"] is None  # a follow-up is not a report to join


# ------------------------------------------------------------------ upstream: wait, then update


def test_an_update_waits_behind_its_undelivered_report_then_names_it(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    more = sms(store, CITIZEN, "lubangnya besar", scts=LATER)
    assert claim_ids(store, T0 + 1) == [report]  # the update is not claimed with it
    store.outbox.record(
        [
            Attempt(
                report,
                Decision(State.RETRY, T0 + 30, "HTTP 503"),
                outcome="retryable",
                ended_at=T0 + 2,
            )
        ]
    )
    assert claim_ids(store, T0 + 10) == []  # the report waits for its retry; so does the update
    assert store.outbox.next_due() == T0 + 30  # not "now": the forwarder does not spin
    assert claim_ids(store, T0 + 31) == [report]
    deliver(store, report, T0 + 32, tracking="1916449")
    [item] = store.outbox.claim(now=T0 + 33, lease=60, limit=10)
    assert item.message_id == more
    body = webhook.body(item.record, item.key)
    assert body["id"] == item.key != message(store, report)["key"]
    assert body["update_of"] == message(store, report)["key"]
    assert (body["text"], body["sender"], body["kind"]) == ("lubangnya besar", CITIZEN, "pengaduan")
    assert body["received_at"] == LATER.isoformat()
    assert body["location_code"] == "16.03.02.2001"  # from the report
    # the LAPOR! profile: a marked submission naming the report (assumed; see lapor.py)
    sub = lapor.body(item.record, item.key, LaporConfig())
    assert sub["idempotency_key"] == item.key
    assert sub["content"] == "Tambahan untuk laporan #1916449: lubangnya besar"
    assert sub["parent_tracking_id"] == "1916449"
    assert sub["parent_idempotency_key"] == message(store, report)["key"]


def test_the_upstream_status_of_an_update_is_not_polled(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    more = sms(store, CITIZEN, "lubangnya besar", scts=LATER)
    deliver(store, report, T0 + 1, tracking="1916449")
    deliver(store, more, T0 + 2, tracking="1916450")
    due = store.outbox.status_due(now=T0 + 10, interval=1, max_age=86400, limit=10)
    assert [r["id"] for r in due] == [report]


def test_a_report_body_says_update_of_null(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    [item] = store.outbox.claim(now=T0 + 1, lease=60, limit=10)
    assert item.message_id == report
    assert webhook.body(item.record, item.key)["update_of"] is None
    assert "parent_tracking_id" not in lapor.body(item.record, item.key, LaporConfig())


# ------------------------------------------------------------------ detach


def test_detach_makes_a_followup_its_own_report_with_a_fresh_key(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    wrong = sms(store, CITIZEN, "lampu jalan mati di desa Karang Raja", scts=LATER)
    assert message(store, wrong)["update_of"] == report
    deliver(store, report, T0 + 5)
    deliver(store, wrong, T0 + 6)  # already sent as an update
    before = message(store, wrong)
    tables = default_tables()
    d = store.followups.detach(wrong, tables=tables, routing=Routing(), now=T0 + 100, dry_run=True)
    assert (d.report_id, d.kind, d.forwarded) == (report, "pengaduan", True)
    assert message(store, wrong) == before  # a dry run changes nothing
    store.followups.detach(wrong, tables=tables, routing=Routing(), now=T0 + 100, dry_run=False)
    after = message(store, wrong)
    assert after["update_of"] is None and after["detached_at"] == T0 + 100
    assert after["key"] == d.key != before["key"]
    assert after["text"] == "lampu jalan mati di desa Karang Raja"
    row = outbox(store, wrong)
    assert (row["state"], row["attempts"], row["delivered_at"]) == ("queued", 0, None)
    [item] = store.outbox.claim(now=T0 + 101, lease=60, limit=10)
    assert item.message_id == wrong and item.key == d.key
    assert webhook.body(item.record, item.key)["update_of"] is None  # a report now
    with pytest.raises(ValueError, match="not a follow-up"):
        store.followups.detach(
            report, tables=tables, routing=Routing(), now=T0 + 200, dry_run=False
        )
    with pytest.raises(LookupError):
        store.followups.detach(999, tables=tables, routing=Routing(), now=T0 + 200, dry_run=False)


def test_detach_refuses_while_the_update_is_being_sent(store: Store) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    more = sms(store, CITIZEN, "lubangnya besar", scts=LATER)
    deliver(store, report, T0 + 1)
    assert claim_ids(store, T0 + 2) == [more]  # in flight with its old key
    with pytest.raises(ValueError, match="being sent"):
        store.followups.detach(
            more, tables=default_tables(), routing=Routing(), now=T0 + 3, dry_run=False
        )


# ------------------------------------------------------------------ what operators read


def test_operators_see_reports_with_their_followups_and_stats_count_reports(
    store: Store, tmp_path: Path
) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    a = sms(store, CITIZEN, "lubangnya besar", scts=LATER)
    b = sms(store, CITIZEN, "sudah 3 bulan", scts=LATER + timedelta(minutes=1))
    other = sms(store, NEIGHBOUR, "LAPOR lampu jalan mati", scts=LATER)
    listed = store.queries.list_messages()
    assert [m["id"] for m in listed] == [other, report]
    assert next(m for m in listed if m["id"] == report)["followups"] == 2
    assert [m["id"] for m in store.queries.list_messages(state="queued")] == [other, b, a, report]
    shown = store.queries.message(report)
    assert shown is not None
    assert [(f["id"], f["text"]) for f in shown["followups"]] == [
        (a, "lubangnya besar"),
        (b, "sudah 3 bulan"),
    ]
    stats = reports.load(store)
    assert stats.total == 2  # reports, not SMS
    rows = {r["id"]: r for r in store.queries.export_rows()}
    assert rows[a]["update_of"] == report and rows[report]["update_of"] is None
    # the commands
    cfg = write_config(tmp_path / "c.toml", {"store": {"path": store.path}})
    runner = CliRunner()
    out = runner.invoke(main, ["--config", str(cfg), "queue", "show", str(report)])
    assert out.exit_code == 0, out.output
    assert out.output.index(f"#{a} ") < out.output.index(f"#{b} ")
    assert "followups:" in out.output and "sudah 3 bulan" in out.output
    data = json.loads(
        runner.invoke(main, ["--config", str(cfg), "queue", "show", str(report), "--json"]).output
    )
    assert [f["id"] for f in data["followups"]] == [a, b]
    out = runner.invoke(main, ["--config", str(cfg), "queue", "show", str(a)])
    assert f"a follow-up of report #{report}" in out.output
    out = runner.invoke(main, ["--config", str(cfg), "queue", "list"])
    assert "(+2 tambahan)" in out.output and "lubangnya" not in out.output
    export = runner.invoke(main, ["--config", str(cfg), "export", "--format", "json"]).output
    assert {r["id"]: r["update_of"] for r in json.loads(export)}[a] == report


def test_the_detach_command_is_a_dry_run_first(store: Store, tmp_path: Path) -> None:
    report = sms(store, CITIZEN, "LAPOR jalan rusak di desa Tanjung Raja")
    more = sms(store, CITIZEN, "lampu mati di desa Karang Raja", scts=LATER)
    cfg = write_config(tmp_path / "c.toml", {"store": {"path": store.path}})
    runner = CliRunner()
    out = runner.invoke(main, ["--config", str(cfg), "detach", str(more)])
    assert out.exit_code == 0 and "--yes" in out.output, out.output
    assert message(store, more)["update_of"] == report
    out = runner.invoke(main, ["--config", str(cfg), "detach", str(more), "--yes"])
    assert out.exit_code == 0 and f"detached SMS #{more} from report #{report}" in out.output
    [entry] = store.accounts.audit_log(action="detach", limit=5)
    assert entry["actor"].startswith("cli:") and entry["target"] == f"laporan {more}"
    assert message(store, more)["update_of"] is None
    out = runner.invoke(main, ["--config", str(cfg), "detach", str(report), "--yes"])
    assert out.exit_code == 1 and "not a follow-up" in out.output


# ------------------------------------------------------------------ migration m015


def test_a_store_written_before_m015_upgrades_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m015_followups")
    db.conn.executescript(
        """
        INSERT INTO messages (id, key, modem, sender, sender_type, received_at, stored_at,
            raw_text, kind, text) VALUES
            (1, 'k1', 'modem0', '+6281234567890', 'international', '2024-05-01T10:00:00+07:00',
             1714532400, 'LAPOR jalan rusak', 'pengaduan', 'jalan rusak'),
            (2, 'k2', 'modem0', '+6281234567890', 'international', '2024-05-01T10:01:00+07:00',
             1714532460, 'lubangnya besar', 'pengaduan', 'lubangnya besar');
        INSERT INTO deliveries (message_id, destination, state, queued_at, next_attempt_at,
            updated_at) VALUES
            (1, 'upstream', 'delivered', 1714532400, 1714532400, 1714532400),
            (2, 'upstream', 'queued', 1714532460, 1714532460, 1714532460);
        """
    )
    db.conn.commit()
    assert "update_of" not in {c.name for c in db["messages"].columns}
    db.conn.close()
    s = Store.open(path)
    try:
        assert count(s, "messages") == 2 and count(s, "outbox") == 2
        assert [message(s, i)["update_of"] for i in (1, 2)] == [None, None]  # reports stay
        assert [m["id"] for m in s.queries.list_messages()] == [2, 1]
        assert claim_ids(s, 1714532500) == [2]
    finally:
        s.close()

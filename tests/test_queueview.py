"""The complaint queue as the terminal shows it (sms1708.queueview), on rows made by hand and
on one complaint read back from a real Store (no CLI involved)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from sms1708 import config, sitetime
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.queueview import (
    PDU_HIDDEN,
    SHOWN_FIELDS,
    hide_numbers,
    list_lines,
    mask_senders,
    show_lines,
)
from sms1708.store.store import IncomingPart, Store

NUMBER = "+6281234567800"


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "id": 7,
        "state": "queued",
        "kind": "pengaduan",
        "sender": NUMBER,
        "received_at": "2026-11-01T08:00:00+07:00",
        "text": "jalan rusak",
        "update_of": None,
        "followups": 0,
    }
    return {**base, **changes}


def test_an_empty_list_says_so_with_the_state_asked_for() -> None:
    assert list_lines([]) == ["no complaints"]
    assert list_lines([], "dead") == ["no complaints in state dead"]


def test_the_list_marks_followups_and_cuts_long_texts() -> None:
    rows = [
        row(),
        row(id=8, followups=2),
        row(id=9, update_of=7, text="tambah\x1b[31m foto"),
        row(id=10, text="x" * 60),
    ]
    lines = list_lines(rows)
    assert lines[0] == f"{'ID':>6}  {'STATE':<10} {'KIND':<10} {'SENDER':<16} {'RECEIVED':<25} TEXT"
    assert lines[1] == (
        "     7  queued     pengaduan  +6281234567800   2026-11-01T08:00:00+07:00 jalan rusak"
    )
    assert lines[2].endswith(" (+2 tambahan) jalan rusak")
    assert lines[3].endswith(" (tambahan #7) tambah[31m foto")  # no escape reaches the terminal
    assert lines[4].endswith(" " + "x" * 47 + "...")


def test_masking_senders_and_hiding_pdus() -> None:
    rows = [row(), row(sender="+6281299990000")]
    mask_senders(rows)
    assert [r["sender"] for r in rows] == ["+62812******00", "+62812******00"]
    m = {"sender": NUMBER, "parts": [{"pdu": "0791...A0"}, {"pdu": "0791...B0"}]}
    hide_numbers(m)
    assert m == {"sender": "+62812******00", "parts": [{"pdu": PDU_HIDDEN}, {"pdu": PDU_HIDDEN}]}


def test_one_complaint_in_full_from_a_real_store(tmp_path: Path) -> None:
    sitetime.use(config.Config())
    store = Store.open(tmp_path / "db.sqlite", create=True)
    try:
        when = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
        [pdu] = encode_deliver(NUMBER, "LAPOR jalan rusak di desa Tanjung", when)
        store.intake.ingest(
            "modem0",
            [IncomingPart("SM", 3, pdu, decode_deliver(pdu))],
            now=time.time(),
            rules=IntakeRules(),
        )
        m = store.queries.message(1)
    finally:
        store.close()
    assert m is not None
    hide_numbers(m)
    lines = show_lines(m)
    shown = [k for k in SHOWN_FIELDS if k != "update_of"]  # a report: no update_of line
    assert [line.split(":")[0].strip() for line in lines[: len(shown)]] == shown
    assert "       sender: +62812******00" in lines
    assert "         kind: pengaduan" in lines
    assert "     category: -" in lines
    assert lines.index("        parts:") < lines.index("   deliveries:")
    assert f"    #1 SM:3 seq=1 {PDU_HIDDEN}" in lines
    [delivery] = [line for line in lines if line.startswith("    upstream: ")]
    assert delivery.startswith("    upstream: queued attempts=0 next ")
    # no attempt yet; the receipt waits for the modem
    assert lines[-3:] == ["     attempts:", "      replies:", "    #1 receipt queued attempts=0"]
    assert "followups:" not in "\n".join(lines)


def test_a_followup_names_its_report_and_a_report_lists_its_followups() -> None:
    base = {k: None for k in SHOWN_FIELDS}
    empty = {"parts": [], "deliveries": [], "attempts_log": [], "replies": []}
    followup = {**base, **empty, "update_of": 4, "followups": []}
    lines = show_lines(followup)
    assert "    update_of: 4" in lines
    assert "    (a follow-up of report #4: sent upstream after it)" in lines
    report = {
        **base,
        **empty,
        "followups": [{"id": 9, "received_at": "t", "state": "queued", "text": "foto"}],
        "replies": [
            {
                "id": 2,
                "purpose": "receipt",
                "state": "dead",
                "attempts": 3,
                "unconfirmed": 1,
                "reason": None,
                "last_error": "CMS ERROR 500",
            },
            {
                "id": 3,
                "purpose": "tracking",
                "state": "queued",
                "attempts": 0,
                "unconfirmed": 0,
                "reason": None,
                "last_error": None,
            },
        ],
    }
    lines = show_lines(report)
    assert "update_of" not in "\n".join(lines)
    assert lines[lines.index("    followups:") + 1] == "    #9 t queued foto"
    assert lines[-2:] == [
        "    #2 receipt dead attempts=3 (1 with unknown outcome) CMS ERROR 500",
        "    #3 tracking queued attempts=0",
    ]

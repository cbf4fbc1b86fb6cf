"""Reading stored SMS again (sms1708.reparse): the record as stored, the field-by-field
difference, the changes over stored rows, and the lines operators read (no CLI involved)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from sms1708 import config
from sms1708.core.grammar import parse
from sms1708.core.intake import IntakeRules
from sms1708.core.pdu import decode_deliver, encode_deliver
from sms1708.daemon import grammar_tables
from sms1708.reparse import Change, changes, diff, record
from sms1708.store.maintenance import RECORD_FIELDS
from sms1708.store.store import IncomingPart, Store

TANJUNG = "LAPOR jalan rusak di desa Tanjung Raja kec. Muara Enim"


@pytest.fixture(scope="module")
def tables() -> Any:
    return grammar_tables(config.Config())


def stored(raw_text: str, tables: Any, message_id: int = 1, **fields: Any) -> dict[str, Any]:
    """A row as ``records_for_reparse`` gives it: the record as read now, with changes."""
    return {"id": message_id, "raw_text": raw_text, **record(raw_text, tables), **fields}


def test_the_record_is_the_grammars_with_flags_as_the_store_keeps_them(tables: Any) -> None:
    r = record("LAPOR#RAHASIA pungli di kantor desa", tables)
    assert r["confidential"] == 1 and r["anonymous"] == 0
    assert type(r["confidential"]) is int and type(r["anonymous"]) is int
    as_read = parse("LAPOR#RAHASIA pungli di kantor desa", tables).as_dict()
    assert {k: v for k, v in r.items() if k not in ("anonymous", "confidential")} == {
        k: v for k, v in as_read.items() if k not in ("anonymous", "confidential")
    }


def test_a_record_read_the_same_way_has_no_difference(tables: Any) -> None:
    assert diff(stored(TANJUNG, tables), tables) == {}


def test_the_difference_holds_only_changed_record_fields_with_their_new_value(
    tables: Any,
) -> None:
    row = stored(TANJUNG, tables, kind="aspirasi", category=None, location=None, sender="+62")
    new = record(TANJUNG, tables)
    assert diff(row, tables) == {
        "kind": "pengaduan",
        "category": new["category"],
        "location": "Desa Tanjung Raja, Kec. Muara Enim",
    }
    assert list(diff(row, tables)) == [k for k in RECORD_FIELDS if k in diff(row, tables)]


def test_changes_skip_unchanged_rows_and_keep_their_order(tables: Any) -> None:
    rows = [
        stored(TANJUNG, tables, 3, confidential=1),
        stored("aspirasi taman baca", tables, 5),
        stored("aspirasi taman baca", tables, 9, kind="pengaduan"),
    ]
    found = list(changes(rows, tables))
    assert [(c.message_id, c.after) for c in found] == [
        (3, {"confidential": 0}),
        (9, {"kind": "aspirasi"}),
    ]
    assert found[1].before is rows[2]


def test_the_lines_and_the_summary_operators_read() -> None:
    c = Change(12, {"kind": "pengaduan", "category": None}, {"kind": "aspirasi", "category": "x"})
    assert c.lines() == [
        "#12     kind         'pengaduan' -> 'aspirasi'",
        "#12     category     None -> 'x'",
    ]
    assert c.summary() == "kind: 'pengaduan' -> 'aspirasi'; category: None -> 'x'"
    assert Change(1, {}, {}).lines() == [] and Change(1, {}, {}).summary() == ""


def test_stored_rows_changed_then_applied_read_the_same(tmp_path: Path, tables: Any) -> None:
    store = Store.open(tmp_path / "db.sqlite", create=True)
    try:
        for i, text in enumerate(["LAPOR jalan rusak", "aspirasi taman baca"]):
            when = dt.datetime(2026, 11, 1, 8, i, tzinfo=dt.UTC)
            [pdu] = encode_deliver(f"+628123456780{i}", text, when)
            store.intake.ingest(
                "modem0",
                [IncomingPart("SM", i + 1, pdu, decode_deliver(pdu))],
                now=time.time(),
                rules=IntakeRules(),
            )
        # stored without the shipped lexicon: the category comes with reading them again
        first = {
            c.message_id: c.after for c in changes(store.maintenance.records_for_reparse(), tables)
        }
        assert first == {1: {"category": "infrastruktur"}}
        store.maintenance.apply_records(first)
        assert list(changes(store.maintenance.records_for_reparse(), tables)) == []
        store.maintenance.apply_records({2: {"kind": "pengaduan", "category": "lainnya"}})
        [change] = changes(store.maintenance.records_for_reparse(), tables)
        assert change.message_id == 2 and change.after["kind"] == "aspirasi"
        store.maintenance.apply_records({change.message_id: change.after})
        assert list(changes(store.maintenance.records_for_reparse(), tables)) == []
    finally:
        store.close()

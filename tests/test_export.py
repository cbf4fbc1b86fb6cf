"""Complaints written out (sms1708.export): the documented CSV columns, formula-like cells
quoted, JSON as stored (no CLI involved)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sms1708 import reports
from sms1708.export import write, write_csv


def rows() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "key": "k1",
            "received_at": "2026-11-01T08:00:00+07:00",
            "sender": "+6281234567800",
            "kind": "pengaduan",
            "text": '=HYPERLINK("http://x")',
            "anonymous": 0,
            "confidential": 1,
            "category": None,
            "location": "Desa Tanjung",
            "location_code": "16.03.02.2001",
            "partial": 0,
            "tracking_id": "1916449",
            "state": "delivered",
            "update_of": None,
            "raw_text": "not a column",
        }
    ]


def test_csv_has_the_documented_columns_and_quotes_formulas() -> None:
    out = io.StringIO()
    write_csv(out, rows())
    read = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(read[0]) == reports.EXPORT_FIELDS  # raw_text is not exported
    assert read[0]["text"] == '\'=HYPERLINK("http://x")'
    assert read[0]["sender"] == "'+6281234567800"  # stays text, not 6.28E+12
    assert read[0]["location"] == "Desa Tanjung" and read[0]["update_of"] == ""


def test_write_chooses_csv_or_json() -> None:
    as_csv, as_json = io.StringIO(), io.StringIO()
    write(as_csv, rows(), "csv")
    write(as_json, rows(), "json")
    assert as_csv.getvalue().startswith("id,key,received_at,sender,")
    assert json.loads(as_json.getvalue()) == rows()  # JSON keeps the values as they are
    assert as_json.getvalue().endswith("]\n") and '\n  {\n    "id": 1,' in as_json.getvalue()


def test_no_rows_is_a_header_only_or_an_empty_list() -> None:
    as_csv, as_json = io.StringIO(), io.StringIO()
    write(as_csv, [], "csv")
    write(as_json, [], "json")
    assert as_csv.getvalue() == ",".join(reports.EXPORT_FIELDS) + "\r\n"
    assert as_json.getvalue() == "[]\n"

"""Complaints written out for spreadsheets and reports (``sms1708 export``, the console's
download): CSV with the documented columns, every cell a spreadsheet would run as a formula
quoted (OWASP's advice), or JSON."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from sms1708 import reports
from sms1708.core.cells import spreadsheet_safe


def write_csv(out: TextIO, rows: list[dict[str, Any]]) -> None:
    """``store.queries.export_rows()`` as CSV: a header, then one row each (the columns of
    ``reports.EXPORT_FIELDS``; formula-like cells start with ``'``)."""
    w = csv.DictWriter(out, fieldnames=reports.EXPORT_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows({k: spreadsheet_safe(v) for k, v in r.items()} for r in rows)


def write(out: TextIO, rows: list[dict[str, Any]], fmt: str) -> None:
    """The rows as ``fmt``: ``csv`` or ``json`` (an indented list, then a newline)."""
    if fmt == "json":
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    else:
        write_csv(out, rows)

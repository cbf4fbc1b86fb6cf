"""How well the grammar reads what people mean: accuracy per field on real-style SMS.

``tests/data/sms_meaning.txt`` holds more than 200 SMS written the way citizens type (help asked
in words, questions, status with the number anywhere, aspirations, privacy asked in a phrase,
two kecamatan, abbreviated place names, Palembang/Musi Malay, Javanese and Sundanese words).
Each field (kind, flags, reference, category, location) is scored separately; the figures are
printed in the terminal summary and in the README, and each has a floor here: a change to the
tables or the grammar that reads people worse fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sms1708.core.grammar import KINDS, Record, parse_strict
from sms1708.table_files import default_tables
from tests.conftest import SUMMARY_LINES

TABLE = Path(__file__).parent / "data" / "sms_meaning.txt"
FIELDS = ("kind", "flags", "reference", "category", "location")
#: the floors (the measured figures are in the README; a floor sits a little under them)
FLOORS = {"kind": 0.97, "flags": 0.98, "reference": 0.98, "category": 0.95, "location": 0.97}


@dataclass(frozen=True)
class Row:
    line: int
    sms: str
    expected: dict[str, str]


def _none(value: str) -> str:
    return "" if value == "-" else value


def load_rows() -> list[Row]:
    rows = []
    for n, raw in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        kind, flags, ref, category, location, sms = (x.strip() for x in raw.split(" | ", 5))
        rows.append(
            Row(
                n,
                sms,
                {
                    "kind": kind,
                    "flags": _none(flags),
                    "reference": _none(ref),
                    "category": _none(category),
                    "location": _none(location),
                },
            )
        )
    return rows


def got(r: Record) -> dict[str, str]:
    flags = "+".join(f for f, on in (("anonim", r.anonymous), ("rahasia", r.confidential)) if on)
    return {
        "kind": r.kind,
        "flags": flags,
        "reference": r.reference or "",
        "category": r.category or "",
        "location": r.location or "",
    }


def test_the_table_is_well_formed() -> None:
    rows = load_rows()
    assert len(rows) >= 200
    assert len({r.sms for r in rows}) == len(rows), "an SMS is listed twice"
    tables = default_tables()
    for row in rows:
        e = row.expected
        assert e["kind"] in KINDS, row
        assert e["flags"] in ("", "anonim", "rahasia", "anonim+rahasia"), row
        assert e["category"] in ("", *tables.lexicon.categories), row
        assert not e["reference"] or e["kind"] == "status", row


def test_accuracy_per_field_stays_above_its_floor() -> None:
    rows = load_rows()
    tables = default_tables()
    right = dict.fromkeys(FIELDS, 0)
    misses: dict[str, list[str]] = {f: [] for f in FIELDS}
    for row in rows:
        actual = got(parse_strict(row.sms, tables))
        for f in FIELDS:
            if actual[f] == row.expected[f]:
                right[f] += 1
            else:
                misses[f].append(f"  line {row.line}: {actual[f]!r} != {row.expected[f]!r}")
    SUMMARY_LINES.clear()
    SUMMARY_LINES.append(f"{len(rows)} SMS")
    for f in FIELDS:
        SUMMARY_LINES.append(
            f"{f:<10} {right[f]:>4}/{len(rows)}  {100 * right[f] / len(rows):5.1f} %"
            f"  (floor {100 * FLOORS[f]:.0f} %)"
        )
    for f in FIELDS:
        SUMMARY_LINES.extend(f"{f} miss{m}" for m in misses[f])
    low = {f: right[f] / len(rows) for f in FIELDS if right[f] / len(rows) < FLOORS[f]}
    assert not low, (low, misses)


@pytest.mark.parametrize("field", FIELDS)
def test_every_field_has_a_floor(field: str) -> None:
    assert 0.5 < FLOORS[field] <= 1.0

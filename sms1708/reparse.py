"""Reading stored SMS again with the current grammar tables (``sms1708 reparse``, the console's
"read again"): what each stored record would become, field by field.

A record is compared as the Store keeps it (the flags as 0/1), on the record fields only:
kind, text, flags, category, location and its code, reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sms1708.core.grammar import parse
from sms1708.store.maintenance import RECORD_FIELDS

if TYPE_CHECKING:
    from sms1708.core.grammar_tables import GrammarTables


@dataclass(frozen=True)
class Change:
    """What reading one stored SMS again changes in its record."""

    message_id: int
    #: the record fields as stored
    before: Mapping[str, Any]
    #: only the fields that change, with their new value (in RECORD_FIELDS order)
    after: dict[str, Any]

    def lines(self) -> list[str]:
        """``#12     category     'jalan' -> 'jembatan'``, one line per changed field."""
        return [
            f"#{self.message_id:<6} {k:<12} {self.before[k]!r} -> {v!r}"
            for k, v in self.after.items()
        ]

    def summary(self) -> str:
        """``category: 'jalan' -> 'jembatan'; ...`` (one line, for the audit log)."""
        return "; ".join(f"{k}: {self.before[k]!r} -> {v!r}" for k, v in self.after.items())


def record(raw_text: str, tables: GrammarTables) -> dict[str, Any]:
    """The record the grammar makes of ``raw_text``, as the Store keeps it."""
    new = parse(raw_text, tables).as_dict()
    new["anonymous"], new["confidential"] = int(new["anonymous"]), int(new["confidential"])
    return new


def diff(row: Mapping[str, Any], tables: GrammarTables) -> dict[str, Any]:
    """The record fields of the stored ``row`` (its ``raw_text`` and record) that the grammar
    now reads differently, with their new value; ``{}`` when nothing changes."""
    new = record(row["raw_text"], tables)
    return {k: new[k] for k in RECORD_FIELDS if new[k] != row[k]}


def changes(rows: Iterable[Mapping[str, Any]], tables: GrammarTables) -> Iterator[Change]:
    """The stored rows (``store.maintenance.records_for_reparse()``) whose record would change,
    in order."""
    for row in rows:
        after = diff(row, tables)
        if after:
            yield Change(int(row["id"]), row, after)

"""Maintenance: backups through SQLite's backup API, retention of personal data."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sms1708.errors import StoreDamagedError, StoreError
from sms1708.store.base import Concern, _translate

RECORD_FIELDS = (
    "kind",
    "text",
    "anonymous",
    "confidential",
    "category",
    "location",
    "location_code",
    "reference",
)


class Maintenance(Concern):
    def records_for_reparse(self, *, since: float | None = None) -> list[dict[str, Any]]:
        """Stored messages with their raw text and current record (purged ones excluded, and
        follow-ups: their record is their report's, see core.followup)."""
        sql = (
            "SELECT id, raw_text, " + ", ".join(RECORD_FIELDS) + " FROM messages"
            " WHERE purged_at IS NULL AND update_of IS NULL"
        )
        args: list[Any] = []
        if since is not None:
            sql += " AND stored_at >= ?"
            args.append(since)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def apply_records(self, changes: dict[int, dict[str, Any]]) -> None:
        """Write re-parsed records (only the record fields), in one transaction."""
        with self.transaction() as c:
            for mid, fields in changes.items():
                cols = [k for k in RECORD_FIELDS if k in fields]
                if not cols:
                    continue
                sets = ", ".join(f"{k} = ?" for k in cols)
                c.execute(
                    f"UPDATE messages SET {sets} WHERE id = ?",
                    [fields[k] for k in cols] + [mid],
                )

    # ---------------------------------------------------------------- maintenance

    def backup(self, dest: str | os.PathLike[str]) -> int:
        """Copy the database with SQLite's online backup API (safe while the daemon runs).

        The copy is created 0600 and must not exist yet. Returns its size in bytes.
        """
        d = Path(dest)
        if d.exists():
            raise StoreError(f"{d}: already exists; choose a new file name")
        d.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(d, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        target = sqlite3.connect(str(d))
        try:
            self.conn.backup(target)
            check = target.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as e:
            raise _translate(e, str(d)) from e
        finally:
            target.close()
        if check != "ok":
            raise StoreDamagedError(f"{d}: the backup failed its check: {check}")
        return d.stat().st_size

    def purge_candidates(self, *, before: float, dead_before: float | None = None) -> list[int]:
        """Messages stored before ``before`` that are finished: delivered upstream, or handled
        locally (status, bantuan); and, with ``dead_before``, ``dead`` ones stored before that
        (a longer retention). Other undelivered ones are never purged."""
        sql = (
            "SELECT m.id FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
            " WHERE m.purged_at IS NULL AND ((m.stored_at < ?"
            " AND (o.state IS NULL OR o.state = 'delivered'))"
        )
        args: list[Any] = [before]
        if dead_before is not None:
            # dead for one destination, and no other destination still trying
            sql += (
                " OR (o.state = 'dead' AND m.stored_at < ? AND NOT EXISTS (SELECT 1 FROM"
                " deliveries d WHERE d.message_id = m.id AND d.state NOT IN ('delivered', 'dead')))"
            )
            args.append(dead_before)
        return [int(r[0]) for r in self.conn.execute(sql + ") ORDER BY m.id", args)]

    def purge(self, *, before: float, now: float, dead_before: float | None = None) -> list[int]:
        """Remove personal data from messages past their retention (UU 27/2022): finished ones
        stored before ``before``, dead ones stored before ``dead_before`` (None: never).

        Kept for statistics: kind, category, location, dates, states, attempt outcomes and
        HTTP statuses. Removed: the number, the text, the raw PDUs of its parts, reply texts,
        recipients and send errors, report recipients, upstream attempt details and the last
        error text. SMS an operator sent (`sms1708 send`) and their errors go after ``before``
        too, as do quarantined parts and unmatched delivery reports.
        """
        ids = self.purge_candidates(before=before, dead_before=dead_before)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            with self.transaction() as c:
                c.execute(
                    f"UPDATE messages SET sender='', raw_text='', text='', reference=NULL,"
                    f" purged_at=? WHERE id IN ({marks})",
                    [now, *chunk],
                )
                c.execute(
                    f"UPDATE parts SET pdu='', sender=NULL, text=NULL, error=NULL"
                    f" WHERE message_id IN ({marks})",
                    chunk,
                )
                c.execute(
                    f"UPDATE replies SET recipient='', text='', last_error=NULL"
                    f" WHERE message_id IN ({marks})",
                    chunk,
                )
                c.execute(
                    f"UPDATE reports SET recipient='', pdu='' WHERE reply_id IN"
                    f" (SELECT id FROM replies WHERE message_id IN ({marks}))",
                    chunk,
                )
                c.execute(f"UPDATE attempts SET detail=NULL WHERE message_id IN ({marks})", chunk)
                c.execute(
                    f"UPDATE deliveries SET last_error=NULL WHERE message_id IN ({marks})", chunk
                )
        with self.transaction() as c:  # what belongs to no complaint ages out too
            c.execute(
                "UPDATE parts SET pdu='', sender=NULL, text=NULL, error=NULL"
                " WHERE message_id IS NULL AND status IN ('quarantined', 'data')"
                " AND stored_at < ? AND pdu != ''",
                (before,),
            )
            c.execute(
                "UPDATE reports SET recipient='', pdu='' WHERE reply_id IN (SELECT id FROM"
                " replies WHERE message_id IS NULL AND created_at < ? AND recipient != '')",
                (before,),
            )
            c.execute(
                "UPDATE replies SET recipient='', text='', last_error=NULL"
                " WHERE message_id IS NULL AND created_at < ? AND recipient != ''",
                (before,),
            )
            c.execute(
                "UPDATE reports SET recipient='', pdu='' WHERE reply_id IS NULL"
                " AND stored_at < ? AND pdu != ''",
                (before,),
            )
        return ids

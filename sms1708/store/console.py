"""Reading and correcting for the operator console: filtered lists with keyset pagination,
one complaint's whole story, one number's conversation, operators' corrections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sms1708.core import keys
from sms1708.errors import StoreError
from sms1708.store.base import Concern
from sms1708.store.followups import followups_of
from sms1708.store.transitions import new_deliveries

CORRECTABLE = ("category", "location")

_LIST_COLUMNS = (
    "m.id, m.sender, m.sender_type, m.received_at, m.stored_at, m.kind, m.text, m.category,"
    " m.location, m.partial, m.tracking_id, m.anonymous, m.confidential,"
    " COALESCE(o.state, 'local') AS state, o.attempts"
)


@dataclass(frozen=True)
class ComplaintFilter:
    state: str | None = None
    kind: str | None = None
    category: str | None = None
    kecamatan: str | None = None  # "Kec. Gelumbang" or "Gelumbang"
    since: float | None = None  # unix time of storage
    until: float | None = None
    text: str | None = None  # words searched in the report's text
    #: only complaints going to this destination; ``state`` is then their state there
    destination: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if self.destination:
            cond = " AND d.state = ?" if self.state else ""
            where.append(
                "EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id"
                f" AND d.destination = ?{cond})"
            )
            args += [self.destination, self.state] if self.state else [self.destination]
        elif self.state:
            where.append("COALESCE(o.state, 'local') = ?")
            args.append(self.state)
        if self.kind:
            where.append("m.kind = ?")
            args.append(self.kind)
        if self.category:
            where.append("m.category = ?")
            args.append(self.category)
        if self.kecamatan:
            name = self.kecamatan.strip()
            for prefix in ("kecamatan ", "kec. ", "kec "):
                if name.lower().startswith(prefix):
                    name = name[len(prefix) :]
            where.append("m.location LIKE ? ESCAPE '\\'")
            args.append(f"%Kec. {_like(name.strip())}%")
        if self.since is not None:
            where.append("m.stored_at >= ?")
            args.append(self.since)
        if self.until is not None:
            where.append("m.stored_at < ?")
            args.append(self.until)
        if self.text:
            for word in self.text.split()[:8]:
                where.append("m.text LIKE ? ESCAPE '\\'")
                args.append(f"%{_like(word)}%")
        return (" AND ".join(where) or "1"), args


def _like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Console(Concern):
    def limit_cache(self, kib: int) -> None:
        """Keep this connection's page cache small (the console runs one per thread)."""
        self.conn.execute(f"PRAGMA cache_size = -{int(kib)}")

    def complaints(
        self, f: ComplaintFilter, *, before_id: int | None = None, limit: int = 50
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page, newest first, and the id to continue from (None: last page).

        Keyset pagination on the primary key: a page costs the same on the first and the
        thousandth page.
        """
        where, args = f.where()
        if before_id is not None:
            where += " AND m.id < ?"
            args.append(before_id)
        rows = [
            dict(r)
            for r in self.conn.execute(
                f"SELECT {_LIST_COLUMNS} FROM messages m"
                f" LEFT JOIN outbox o ON o.message_id = m.id WHERE {where}"
                " ORDER BY m.id DESC LIMIT ?",
                [*args, limit + 1],
            )
        ]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (int(rows[-1]["id"]) if more and rows else None)

    def categories(self) -> list[str]:
        return [
            str(r[0])
            for r in self.conn.execute(
                "SELECT DISTINCT category FROM messages WHERE category IS NOT NULL ORDER BY 1"
            )
        ]

    def timeline(self, message_id: int) -> dict[str, Any] | None:
        """Everything about one complaint, for its detail page."""
        row = self.conn.execute(
            "SELECT m.*, COALESCE(o.state, 'local') AS state, o.attempts, o.last_error,"
            " o.next_attempt_at, o.delivered_at, o.queued_at, o.ambiguous_count"
            " FROM messages m LEFT JOIN outbox o ON o.message_id = m.id WHERE m.id = ?",
            (message_id,),
        ).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["parts"] = self._rows(
            "SELECT id, memory, sim_index, status, concat_seq, concat_total, stored_at, scts,"
            " encoding FROM parts WHERE message_id = ? ORDER BY concat_seq, id",
            message_id,
        )
        out["attempts_log"] = self._rows(
            "SELECT at, destination, outcome, http_status, detail FROM attempts"
            " WHERE message_id = ?"
            " ORDER BY id",
            message_id,
        )
        out["replies"] = self._rows(
            "SELECT id, purpose, state, reason, text, attempts, created_at, sent_at, last_error,"
            " delivery, delivery_at FROM replies WHERE message_id = ? ORDER BY id",
            message_id,
        )
        out["followups"] = followups_of(self.conn, message_id)  # in the order they arrived
        out["status_history"] = self._rows(
            "SELECT destination, status, at FROM status_changes WHERE message_id = ?"
            " ORDER BY at, id",
            message_id,
        )
        out["corrections"] = self._rows(
            "SELECT field, old, new, by, at FROM corrections WHERE message_id = ? ORDER BY id",
            message_id,
        )
        return out

    def conversation(self, message_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
        """Every SMS from and to the sender of ``message_id``, oldest first."""
        row = self.conn.execute(
            "SELECT sender FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            return []
        sender = str(row[0])
        items = self._rows(
            "SELECT 'in' AS direction, id AS message_id, stored_at AS at, raw_text AS text,"
            " kind, NULL AS state, NULL AS delivery FROM messages WHERE sender = ?"
            " UNION ALL SELECT 'out', message_id, created_at, text, purpose, state, delivery"
            " FROM replies WHERE recipient = ? ORDER BY at DESC, direction DESC LIMIT ?",
            sender,
            sender,
            limit,
        )
        return list(reversed(items))

    def sender_of(self, message_id: int) -> str | None:
        row = self.conn.execute(
            "SELECT sender FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def correct(
        self, message_id: int, field: str, value: str | None, *, by: str, now: float
    ) -> str | None:
        """An operator's correction of category or location: the record changes, the old
        value is kept in ``corrections``. A complaint not yet delivered goes upstream with the
        corrected record (the forwarder reads the record at each attempt). Returns the old
        value."""
        if field not in CORRECTABLE:
            raise StoreError(f"only {', '.join(CORRECTABLE)} can be corrected")
        with self.transaction() as c:
            row = c.execute(f"SELECT {field} FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise StoreError(f"no complaint with id {message_id}")
            old = row[0]
            c.execute(f"UPDATE messages SET {field} = ? WHERE id = ?", (value, message_id))
            c.execute(
                "INSERT INTO corrections (message_id, field, old, new, by, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (message_id, field, old, value, by, now),
            )
            return None if old is None else str(old)

    def queue_correction(
        self, message_id: int, summary: str, *, by: str, now: float, received_at: str
    ) -> tuple[str, ...]:
        """Send an operator's correction of a report that a destination already has, as an
        update (``update_of``) with its own key, to each destination the report was delivered
        to (a destination still waiting for the report gets the corrected record itself, since
        the forwarder reads the record at each attempt). The update carries the corrected
        category, location and code, and ``summary`` as its text. Returns the destinations."""
        with self.transaction() as c:
            m = c.execute(
                "SELECT key, modem, sender, sender_type, kind, anonymous, confidential,"
                " category, location, location_code, update_of FROM messages WHERE id = ?",
                (message_id,),
            ).fetchone()
            if m is None:
                raise StoreError(f"no complaint with id {message_id}")
            if m["update_of"] is not None:
                raise StoreError(f"message {message_id} is a follow-up; correct its report")
            delivered = [
                str(r[0])
                for r in c.execute(
                    "SELECT destination FROM deliveries WHERE message_id = ?"
                    " AND state = 'delivered' ORDER BY destination",
                    (message_id,),
                )
            ]
            if not delivered:
                return ()
            n = c.execute(
                "SELECT COUNT(*) FROM corrections WHERE message_id = ?", (message_id,)
            ).fetchone()[0]
            text = f"Koreksi operator ({by}): {summary}"
            cur = c.execute(
                "INSERT INTO messages (key, modem, sender, sender_type, received_at, stored_at,"
                " raw_text, kind, text, anonymous, confidential, category, location,"
                " location_code, partial, part_count, forwarded, update_of)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,1,?)",
                (
                    keys.correction_key(m["key"], int(n)),
                    m["modem"],
                    m["sender"],
                    m["sender_type"],
                    received_at,
                    now,
                    text,
                    m["kind"],
                    text,
                    m["anonymous"],
                    m["confidential"],
                    m["category"],
                    m["location"],
                    m["location_code"],
                    message_id,
                ),
            )
            update = int(cur.lastrowid or 0)
            new_deliveries(c, update, delivered, now=now, ignore_existing=False)
            return tuple(delivered)

    def _rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(sql, args)]

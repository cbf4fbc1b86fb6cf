"""Reading for operators: counts, lists, one complaint in full, exports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sms1708.store.base import Concern, message_filters, window
from sms1708.store.followups import followups_of


class Queries(Concern):
    # ---------------------------------------------------------------- reading

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {"outbox": {}, "replies": {}, "parts": {}}
        tables = {
            # complaints by the state that most needs an operator (as the outbox view says),
            # in one pass over the deliveries
            "outbox": "(SELECT CASE MIN(CASE state WHEN 'dead' THEN 0 WHEN 'ambiguous' THEN 1"
            " WHEN 'retry' THEN 2 WHEN 'sending' THEN 3 WHEN 'queued' THEN 4 ELSE 5 END)"
            " WHEN 0 THEN 'dead' WHEN 1 THEN 'ambiguous' WHEN 2 THEN 'retry' WHEN 3 THEN"
            " 'sending' WHEN 4 THEN 'queued' ELSE 'delivered' END AS state"
            " FROM deliveries GROUP BY message_id)",
            "replies": "replies",
            "parts": "parts",
        }
        for table, source in tables.items():
            for r in self.conn.execute(
                f"SELECT {'status' if table == 'parts' else 'state'} AS s, COUNT(*) AS n "
                f"FROM {source} GROUP BY s"
            ):
                out[table][str(r["s"])] = int(r["n"])
        out["messages"] = {
            "total": int(self.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        }
        return out

    def reply_backlog(self) -> tuple[int, float | None]:
        """Replies waiting to be sent (queued, retry, sending) and when the oldest was queued."""
        row = self.conn.execute(
            "SELECT COUNT(*), MIN(created_at) FROM replies"
            " WHERE state IN ('queued', 'retry', 'sending')"
        ).fetchone()
        return int(row[0]), None if row[1] is None else float(row[1])

    def destination_counts(self) -> dict[str, dict[str, int]]:
        """Deliveries by destination and state (one complaint may go to several)."""
        out: dict[str, dict[str, int]] = {}
        for r in self.conn.execute(
            "SELECT destination, state, COUNT(*) AS n FROM deliveries GROUP BY destination, state"
        ):
            out.setdefault(str(r["destination"]), {})[str(r["state"])] = int(r["n"])
        return out

    def deliveries(self, message_id: int) -> list[dict[str, Any]]:
        """One complaint's delivery to each destination."""
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT destination, state, attempts, queued_at, next_attempt_at, last_error,"
                " ambiguous_count, delivered_at, tracking_id FROM deliveries"
                " WHERE message_id = ? ORDER BY destination",
                (message_id,),
            )
        ]

    def reply_counts(self) -> dict[str, dict[str, int]]:
        """Replies by purpose (receipt, tracking, bantuan, status, operator) and state."""
        out: dict[str, dict[str, int]] = {}
        for r in self.conn.execute(
            "SELECT purpose, state, COUNT(*) AS n FROM replies GROUP BY purpose, state"
        ):
            out.setdefault(str(r["purpose"]), {})[str(r["state"])] = int(r["n"])
        return out

    def replies_since(self, since: float) -> dict[str, int]:
        """Replies queued or sent since ``since`` (the daily budget), per modem."""
        return {
            str(r[0]): int(r[1])
            for r in self.conn.execute(
                "SELECT modem, COUNT(*) FROM replies WHERE created_at >= ?"
                " AND state != 'suppressed' GROUP BY modem",
                (since,),
            )
        }

    def oldest_pending(self) -> float | None:
        row = self.conn.execute(
            "SELECT MIN(queued_at) FROM deliveries WHERE state IN "
            "('queued','sending','retry','ambiguous')"
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def last_delivery(self) -> float | None:
        row = self.conn.execute("SELECT MAX(delivered_at) FROM deliveries").fetchone()
        return None if row[0] is None else float(row[0])

    def list_messages(
        self,
        *,
        state: str | None = None,
        kind: str | None = None,
        since: float | None = None,
        until: float | None = None,
        sender: str | None = None,
        limit: int | None = 100,
        destination: str | None = None,
    ) -> list[dict[str, Any]]:
        """Complaints, newest first, filtered. ``since``/``until`` are unix times of storage;
        with ``destination``, ``state`` is that delivery's state. Follow-up SMS are listed on
        their report (``followups`` counts them), not apart, unless a ``state`` is asked for
        (a dead or waiting update must be findable)."""
        where, args = message_filters(
            state=state,
            kind=kind,
            since=since,
            until=until,
            sender=sender,
            destination=destination,
        )
        if not state:
            where = f"{where or ' WHERE 1'} AND m.update_of IS NULL"
        sql = (
            "SELECT m.id, m.key, m.sender, m.sender_type, m.received_at, m.kind, m.text,"
            " m.anonymous, m.confidential, m.category, m.location, m.location_code, m.partial,"
            " m.tracking_id, m.update_of,"
            " (SELECT COUNT(*) FROM messages f WHERE f.update_of = m.id) AS followups,"
            " COALESCE(o.state, 'local') AS state, o.attempts, o.last_error, o.next_attempt_at"
            f" FROM messages m LEFT JOIN outbox o ON o.message_id = m.id{where}"
            " ORDER BY m.id DESC"
        )
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [dict(r) for r in self.conn.execute(sql, args)]

    def message(self, message_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT m.*, o.state, o.attempts, o.last_error, o.next_attempt_at, o.delivered_at,"
            " o.ambiguous_count FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
            " WHERE m.id = ?",
            (message_id,),
        ).fetchone()
        if row is None:
            return None
        out = dict(row)
        # a report's follow-up SMS, in the order they arrived (schema m015)
        out["followups"] = followups_of(self.conn, message_id)
        out["parts"] = [
            dict(r)
            for r in self.conn.execute(
                "SELECT id, memory, sim_index, pdu, status, concat_seq, concat_total, stored_at"
                " FROM parts WHERE message_id = ? ORDER BY concat_seq, id",
                (message_id,),
            )
        ]
        out["attempts_log"] = [
            dict(r)
            for r in self.conn.execute(
                "SELECT at, destination, outcome, http_status, detail FROM attempts"
                " WHERE message_id = ?"
                " ORDER BY id",
                (message_id,),
            )
        ]
        out["deliveries"] = self.deliveries(message_id)
        out["replies"] = [
            dict(r)
            for r in self.conn.execute(
                "SELECT id, purpose, state, reason, text, attempts, unconfirmed, sent_at,"
                " last_error FROM replies WHERE message_id = ? ORDER BY id",
                (message_id,),
            )
        ]
        return out

    def quarantined(self) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT id, modem, memory, sim_index, pdu, error, stored_at FROM parts"
                " WHERE status = 'quarantined' ORDER BY id"
            )
        ]

    def export_rows(
        self,
        *,
        state: str | None = None,
        kind: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[dict[str, Any]]:
        where, args = message_filters(state=state, kind=kind, since=since, until=until)
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT m.id, m.key, m.received_at, m.sender, m.kind, m.text, m.anonymous,"
                " m.confidential, m.category, m.location, m.location_code, m.partial,"
                " m.tracking_id, m.update_of,"
                " COALESCE(o.state, 'local') AS state, o.delivered_at FROM messages m"
                f" LEFT JOIN outbox o ON o.message_id = m.id{where} ORDER BY m.id",
                args,
            )
        ]

    # ---------------------------------------------------------------- statistics (reports.py)

    def report_rows(self) -> list[dict[str, Any]]:
        """One row per report (not per SMS: a follow-up adds to its report) for the statistics:
        when it came, what the grammar read, its complaint state and delivery time."""
        return self._dicts(
            "SELECT m.received_at, m.stored_at, m.kind, m.category, m.location,"
            " m.location_code, m.sender_type, o.state, o.delivered_at"
            " FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
            " WHERE m.update_of IS NULL"
        )

    def reply_rows(
        self, *, since: float | None = None, until: float | None = None
    ) -> list[dict[str, Any]]:
        """Every SMS the gateway queued (``purpose``, ``state``, ``created_at``), optionally
        those created in ``[since, until)``."""
        where: list[str] = []
        args: list[Any] = []
        window(where, args, "created_at", since, until)
        cond = " WHERE " + " AND ".join(where) if where else ""
        return self._dicts("SELECT purpose, state, created_at FROM replies" + cond, args)

    # ---------------------------------------------------------------- the clock (daemon.py)

    def last_part_id(self) -> int:
        """The id of the newest stored SMS part (0: none)."""
        return int(self.conn.execute("SELECT MAX(id) FROM parts").fetchone()[0] or 0)

    def part_times(self, *, after: int, limit: int = 200) -> list[tuple[int, str | None]]:
        """``(id, SMSC timestamp)`` of the parts stored after part ``after``, oldest first."""
        return [
            (int(r[0]), r[1])
            for r in self.conn.execute(
                "SELECT id, scts FROM parts WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
            )
        ]

    def _dicts(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

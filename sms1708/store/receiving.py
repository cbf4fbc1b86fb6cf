"""Receiving into the store: parts, multipart assembly, messages, their queue entries and
replies, delivery reports — each batch in one transaction (promises P1, P3, P7, P8)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sms1708.core import intake, keys, multipart
from sms1708.core.grammar import Record
from sms1708.core.pdu import decode_deliver
from sms1708.core.replies import same_number
from sms1708.errors import PduDecodeError, StoreError, safe_error
from sms1708.store import followups
from sms1708.store.base import RECORD_SET, Concern, record_values
from sms1708.store.deliveries import queue_deliveries
from sms1708.store.incoming import IncomingPart, IngestResult
from sms1708.store.sendgate import queue_gated
from sms1708.store.statusreports import record_status_report


class Intake(Concern):
    # ---------------------------------------------------------------- receiving

    def ingest(
        self,
        modem: str,
        parts: Sequence[IncomingPart],
        *,
        now: float,
        rules: intake.IntakeRules,
    ) -> list[IngestResult]:
        """Commit a batch of listed parts, and every message they complete, in one transaction.

        After this returns, each part is durable and may be deleted from the SIM. A part seen
        before (same TPDU) is recognised and not stored twice.
        """
        results: list[IngestResult] = []
        with self.transaction() as c:
            for part in parts:
                results.append(self._ingest_guarded(c, modem, part, now, rules))
        return results

    def _ingest_guarded(
        self,
        c: sqlite3.Connection,
        modem: str,
        part: IncomingPart,
        now: float,
        rules: intake.IntakeRules,
    ) -> IngestResult:
        """One part in its own savepoint: anything that goes wrong with this one SMS (its text,
        the grammar, a row the database refuses) quarantines it with its raw PDU, and the batch
        goes on (P8, P13). Only what concerns the whole database (disk full, locked, damaged)
        fails the batch, so that nothing is deleted from the SIM."""
        c.execute("SAVEPOINT ingest_part")
        try:
            result = self._ingest_one(c, modem, part, now, rules)
        except Exception as e:
            c.execute("ROLLBACK TO ingest_part")
            c.execute("RELEASE ingest_part")
            if _whole_batch(e):
                raise
            return self._quarantine(c, modem, part, now, safe_error("storing the SMS", e))
        c.execute("RELEASE ingest_part")
        return result

    def _quarantine(
        self, c: sqlite3.Connection, modem: str, part: IncomingPart, now: float, error: str
    ) -> IngestResult:
        """Keep the raw PDU, untouched, with why it could not be taken in."""
        d = part.deliver
        pkey = keys.part_key(d.tpdu_hex if d else part.pdu)
        cur = c.execute(
            "INSERT INTO parts (part_key, modem, memory, sim_index, pdu, stored_at, status, error)"
            " VALUES (?,?,?,?,?,?,'quarantined',?) ON CONFLICT(part_key) DO NOTHING",
            (pkey, modem, part.memory, part.index, part.pdu, now, error),
        )
        return IngestResult(part.memory, part.index, pkey, cur.rowcount > 0, True, (), (), error)

    def _ingest_one(
        self,
        c: sqlite3.Connection,
        modem: str,
        part: IncomingPart,
        now: float,
        rules: intake.IntakeRules,
    ) -> IngestResult:
        d = part.deliver
        if part.report is not None:
            pkey, new = record_status_report(c, modem, part.pdu, part.report, now)
            return IngestResult(part.memory, part.index, pkey, new, False, ())
        pkey = keys.part_key(d.tpdu_hex if d else part.pdu)
        row: dict[str, Any] = {
            "part_key": pkey,
            "modem": modem,
            "memory": part.memory,
            "sim_index": part.index,
            "pdu": part.pdu,
            "stored_at": now,
            "status": "quarantined" if d is None else "pending",
            "error": part.error,
        }
        if d is not None and d.encoding == "8bit":
            # a data SMS (OTA settings, WAP push ...): not text, nothing to answer. Kept raw.
            row.update(status="data", error=f"8-bit data SMS ({len(d.data)} bytes), kept raw")
        if d is not None:
            row.update(
                sender=d.sender,
                sender_type=d.sender_type,
                scts=d.scts.isoformat(),
                encoding=d.encoding,
                text=d.text,
            )
            if d.concat is not None and d.concat.total > 1:
                row.update(
                    concat_ref=d.concat.ref,
                    concat_total=d.concat.total,
                    concat_seq=d.concat.seq,
                    concat_bits=d.concat.ref_bits,
                    group_key=keys.group_key(
                        d.sender, d.concat.ref_bits, d.concat.ref, d.concat.total
                    ),
                )
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cur = c.execute(
            f"INSERT INTO parts ({cols}) VALUES ({marks}) ON CONFLICT(part_key) DO NOTHING",
            list(row.values()),
        )
        if cur.rowcount == 0:
            return IngestResult(part.memory, part.index, pkey, False, d is None, ())
        if d is None:
            return IngestResult(part.memory, part.index, pkey, True, True, (), (), part.error)
        if row["status"] == "data":
            return IngestResult(part.memory, part.index, pkey, True, False, ())
        group = row.get("group_key")
        if group is None:
            mid, why = self._create_message(
                c,
                intake.NewMessage(modem, d.sender, d.sender_type, d.text, d.scts.isoformat()),
                [pkey],
                now,
                rules,
                record=part.record,
            )
            return IngestResult(part.memory, part.index, pkey, True, False, (mid,), why)
        assert d.concat is not None
        stored = self._pending_group(c, group)
        done = multipart.complete(d.concat.total, stored)
        if done is None:
            return IngestResult(part.memory, part.index, pkey, True, False, ())
        first = c.execute(
            "SELECT sender, sender_type, scts FROM parts WHERE part_key = ?", (done.part_keys[0],)
        ).fetchone()
        mid, why = self._create_message(
            c,
            intake.NewMessage(
                modem,
                first["sender"],
                first["sender_type"],
                done.text,
                first["scts"],
                part_count=d.concat.total,
            ),
            list(done.part_keys),
            now,
            rules,
            group=group,
        )
        return IngestResult(part.memory, part.index, pkey, True, False, (mid,), why)

    def _pending_group(self, c: sqlite3.Connection, group: str) -> list[multipart.StoredPart]:
        rows = c.execute(
            "SELECT concat_seq, text, part_key, scts, encoding, pdu FROM parts "
            "WHERE status = 'pending' AND group_key = ? ORDER BY id",
            (group,),
        ).fetchall()
        return [
            multipart.StoredPart(r[0], r[1] or "", r[2], _timestamp(r[3]), _ucs2_data(r[4], r[5]))
            for r in rows
        ]

    def _create_message(
        self,
        c: sqlite3.Connection,
        msg: intake.NewMessage,
        part_keys: list[str],
        now: float,
        rules: intake.IntakeRules,
        group: str | None = None,
        record: Record | None = None,
    ) -> tuple[int, tuple[str, ...]]:
        """Create the message (unless its key exists), its queue entry and its reply.

        Returns the message id and, when its reply was suppressed, the reason.
        """
        why: tuple[str, ...] = ()
        mkey = keys.message_key(part_keys[0])
        msg = replace(msg, text=multipart.cap_text(msg.text, rules.max_text_chars))
        existing = c.execute("SELECT id FROM messages WHERE key = ?", (mkey,)).fetchone()
        if existing is not None:
            mid = int(existing[0])
        else:
            cur = c.execute(
                "INSERT INTO messages (key, modem, sender, sender_type, received_at, stored_at,"
                " raw_text, kind, text, partial, part_count) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    mkey,
                    msg.modem,
                    msg.sender,
                    msg.sender_type,
                    msg.received_at,
                    now,
                    msg.text,
                    "pengaduan",
                    msg.text,
                    int(msg.partial),
                    msg.part_count,
                ),
            )
            mid = int(cur.lastrowid or 0)
            plan = intake.plan(
                mid,
                msg,
                rules,
                lambda ref, snd: self._lookup(c, ref, snd),
                lambda ref, snd: followups.candidates(c, ref, snd, mid),
                record=record,
            )
            r = plan.record
            c.execute(
                f"UPDATE messages SET {RECORD_SET}, forwarded=?, update_of=? WHERE id=?",
                (*record_values(r), int(plan.forward), plan.update_of, mid),
            )
            if plan.update_of is not None:  # to the report's destinations, not routed anew
                followups.queue_update(c, mid, plan.update_of, now=now)
            elif plan.forward:
                queue_deliveries(c, mid, r, rules.routing, now=now)
            out = intake.reply(msg, mid, plan)
            if out is not None:
                queued = queue_gated(
                    c, out, intake.guard(rules), now=now, due=intake.reply_due(plan, rules, now)
                )
                why = (queued.refused,) if queued.refused else ()
        marks = ",".join("?" for _ in part_keys)
        c.execute(
            f"UPDATE parts SET status='used', message_id=? WHERE part_key IN ({marks})",
            [mid, *part_keys],
        )
        if group is not None:
            # true duplicates of the parts used (same number, same text, other PDU bytes) go
            # with the message; a different text under the same number waits for its own
            c.execute(
                "UPDATE parts SET status='used', message_id=? WHERE status='pending'"
                " AND group_key=? AND EXISTS (SELECT 1 FROM parts u WHERE u.message_id=?"
                " AND u.group_key=parts.group_key AND u.concat_seq=parts.concat_seq"
                " AND u.text IS parts.text)",
                (mid, group, mid),
            )
        return mid, why

    def _lookup(self, c: sqlite3.Connection, ref: str, sender: str) -> str | None:
        if not ref.isdigit():
            return None
        # the citizen's own reports only; a local number first, then an upstream tracking id
        rows = c.execute(
            "SELECT m.sender, o.state, m.upstream_status FROM messages m"
            " JOIN outbox o ON o.message_id = m.id"
            " WHERE m.id = ? OR m.tracking_id = ? ORDER BY (m.id = ?) DESC, m.id",
            (int(ref) if len(ref) < 19 else -1, ref, int(ref) if len(ref) < 19 else -1),
        ).fetchall()
        for row in rows:
            if same_number(row["sender"], sender):
                # what the upstream last said, when it said something; else the local state
                return str(row["upstream_status"] or row["state"])
        return None

    def release_partials(
        self, *, now: float, timeout: float, rules: intake.IntakeRules
    ) -> list[int]:
        """Release multipart messages still missing parts after ``timeout`` seconds, flagged."""
        rows = self.conn.execute(
            "SELECT group_key, MIN(stored_at) AS first, MAX(concat_total) AS total, "
            "MIN(modem) AS modem FROM parts WHERE status='pending' AND group_key IS NOT NULL "
            "GROUP BY group_key"
        ).fetchall()
        released: list[int] = []
        for r in rows:
            if not multipart.expired(r["first"], now, timeout):
                continue
            try:
                mid = self._release_group(r["group_key"], int(r["total"]), now, rules)
            except Exception as e:
                if _whole_batch(e):
                    raise
                self._quarantine_group(r["group_key"], now, safe_error("releasing the SMS", e))
                continue
            if mid is not None:
                released.append(mid)
        return released

    def _quarantine_group(self, group: str, now: float, error: str) -> None:
        """A multipart message that cannot be made: its parts are kept raw, in quarantine."""
        with self.transaction() as c:
            c.execute(
                "UPDATE parts SET status = 'quarantined', error = ? WHERE status = 'pending'"
                " AND group_key = ?",
                (error, group),
            )

    def _release_group(
        self, group: str, total: int, now: float, rules: intake.IntakeRules
    ) -> int | None:
        with self.transaction() as c:
            stored = self._pending_group(c, group)
            if not stored:
                return None
            asm = multipart.release(total, stored)
            first = c.execute(
                "SELECT sender, sender_type, scts, modem FROM parts WHERE part_key = ?",
                (asm.part_keys[0],),
            ).fetchone()
            mid, _why = self._create_message(
                c,
                intake.NewMessage(
                    first["modem"],
                    first["sender"],
                    first["sender_type"],
                    asm.text,
                    first["scts"],
                    partial=True,
                    part_count=total,
                ),
                list(asm.part_keys),
                now,
                rules,
                group=group,
            )
            return mid


def _timestamp(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def _ucs2_data(encoding: str | None, pdu: str) -> bytes | None:
    """A stored UCS-2 part's raw user data, read again from its raw PDU (joined at the byte
    level, so an emoji split across parts is mended); None for other parts."""
    if encoding != "ucs2":
        return None
    try:
        return decode_deliver(pdu).data
    except PduDecodeError:
        return None


#: sqlite3 errors that concern one row, not the database: the SMS is quarantined
_ROW_ERRORS = (
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
)


def _whole_batch(e: Exception) -> bool:
    """Does this failure concern the database as a whole (disk full, locked, damaged, I/O)?
    Then nothing of the batch may be committed, and nothing is deleted from the SIM."""
    if isinstance(e, StoreError):
        return True
    return isinstance(e, sqlite3.Error) and not isinstance(e, _ROW_ERRORS)

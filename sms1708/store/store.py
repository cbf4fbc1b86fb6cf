"""The Store: SQLite in WAL mode with ``synchronous=FULL``, one transaction per change.

This is the only module that writes SQL for the pipeline. Every multi-row change (a batch of
received parts with the messages, queue entries and replies they complete; an upstream
attempt and its outcome) is one ``BEGIN IMMEDIATE`` ... ``COMMIT``.

Errors come out as :class:`~sms1708.errors.StoreError` subclasses: ``StoreFullError`` when the
disk is full (the receiver then stops deleting from the SIM), ``StoreDamagedError`` when the
file is not a healthy sms1708 database (the daemon refuses to start; the file is never touched).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from sms1708.core import intake, keys, multipart
from sms1708.core.pdu import Deliver, StatusReport
from sms1708.core.policy import Decision
from sms1708.core.replies import same_number
from sms1708.core.states import CLAIMABLE, REPLAYABLE, State
from sms1708.errors import StoreDamagedError, StoreError, StoreFullError
from sms1708.store.schema import migrations

_FULL_CODES = {13}  # SQLITE_FULL
_DAMAGED_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


def _translate(e: sqlite3.Error, path: str) -> StoreError:
    code = getattr(e, "sqlite_errorcode", None)
    msg = str(e)
    if code in _FULL_CODES or "disk is full" in msg:
        return StoreFullError(f"{path}: disk or database full: {msg}")
    if code in _DAMAGED_CODES or "not a database" in msg or "malformed" in msg:
        return StoreDamagedError(f"{path}: database file is damaged: {msg}")
    return StoreError(f"{path}: {msg}")


def _tighten_mode(path: str) -> None:
    """Personal data (P12): the database and its WAL files are readable by their owner only."""
    for f in (path, f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(OSError):
            if os.stat(f).st_mode & 0o077:
                os.chmod(f, 0o600)


def _refuse_foreign(conn: sqlite3.Connection, path: str) -> None:
    """Raise StoreDamagedError for an SQLite file that holds tables but is not ours."""
    tables = {
        str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if not tables - {"_sqlite_migrations", "sqlite_sequence"}:
        return  # new, or a first open that stopped before its first migration
    if "_sqlite_migrations" in tables:
        sql = "SELECT 1 FROM _sqlite_migrations WHERE migration_set = ? LIMIT 1"
        if conn.execute(sql, (migrations.name,)).fetchone() is not None:
            return
    raise StoreDamagedError(
        f"{path}: not an sms1708 database (it holds tables {', '.join(sorted(tables))});"
        " refusing to touch it"
    )


@dataclass(frozen=True)
class IncomingPart:
    """One SMS part as listed by the modem, decoded (or not) by the core."""

    memory: str
    index: int
    pdu: str
    deliver: Deliver | None
    error: str | None = None
    report: StatusReport | None = None


@dataclass(frozen=True)
class IngestResult:
    memory: str
    index: int
    part_key: str
    new: bool  # False: we had it already (a re-read after a crash)
    quarantined: bool
    message_ids: tuple[int, ...]  # messages completed by this part


@dataclass(frozen=True)
class OutboxItem:
    message_id: int
    key: str
    attempts: int
    queued_at: float
    state: str
    record: dict[str, Any]


@dataclass(frozen=True)
class Attempt:
    """One upstream attempt and the decision it led to."""

    message_id: int
    decision: Decision
    outcome: str
    now: float
    http_status: int | None = None
    detail: str = ""
    tracking_id: str | None = None


@dataclass(frozen=True)
class ReplyItem:
    id: int
    message_id: int | None
    modem: str
    recipient: str
    text: str
    attempts: int
    created_at: float


class Store:
    """A connection to the sms1708 database. One per thread; cheap to open."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.db = sqlite_utils.Database(conn)

    # ---------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> Store:
        """Open (and if needed create, mode 0600) the database, apply migrations.

        Raises StoreDamagedError for a file that is not a healthy sms1708 SQLite database
        (another application's database included); such a file is left untouched.
        """
        p = Path(path)
        spath = str(p)
        if not p.exists():
            if not create:
                raise StoreError(f"{spath}: no database here (has `sms1708 run` been started?)")
            p.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            fd = os.open(spath, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(spath, isolation_level=None, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 30000")
            _refuse_foreign(conn, spath)  # before the WAL switch and the migrations write to it
            _tighten_mode(spath)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn, spath)
            if str(mode).lower() != "wal" or store.synchronous() != 2:
                raise StoreError(f"{spath}: could not enable WAL + synchronous=FULL (got {mode})")
            migrations.apply(store.db)
        except BaseException as e:
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            if isinstance(e, sqlite3.Error):
                raise _translate(e, spath) from e
            raise
        return store

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def journal_mode(self) -> str:
        return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0])

    def synchronous(self) -> int:
        return int(self.conn.execute("PRAGMA synchronous").fetchone()[0])

    def quick_check(self) -> str:
        try:
            rows = self.conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.Error as e:
            raise _translate(e, self.path) from e
        return "; ".join(str(r[0]) for r in rows)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise _translate(e, self.path) from e
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as e:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error):
                raise _translate(e, self.path) from e
            raise

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
                results.append(self._ingest_one(c, modem, part, now, rules))
        return results

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
            return self._ingest_report(c, modem, part, part.report, now)
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
            return IngestResult(part.memory, part.index, pkey, True, True, ())
        if row["status"] == "data":
            return IngestResult(part.memory, part.index, pkey, True, False, ())
        group = row.get("group_key")
        if group is None:
            mid = self._create_message(
                c,
                intake.NewMessage(modem, d.sender, d.sender_type, d.text, d.scts.isoformat()),
                [pkey],
                now,
                rules,
            )
            return IngestResult(part.memory, part.index, pkey, True, False, (mid,))
        assert d.concat is not None
        stored = self._pending_group(c, group)
        done = multipart.complete(d.concat.total, stored)
        if done is None:
            return IngestResult(part.memory, part.index, pkey, True, False, ())
        first = c.execute(
            "SELECT sender, sender_type, scts FROM parts WHERE part_key = ?", (done.part_keys[0],)
        ).fetchone()
        mid = self._create_message(
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
        return IngestResult(part.memory, part.index, pkey, True, False, (mid,))

    def _ingest_report(
        self,
        c: sqlite3.Connection,
        modem: str,
        part: IncomingPart,
        rep: StatusReport,
        now: float,
    ) -> IngestResult:
        """Store a status report and mark the reply it belongs to (same modem, TP-MR, number)."""
        pkey = keys.part_key(part.pdu)
        reply_id: int | None = None
        for row in c.execute(
            "SELECT id, recipient FROM replies WHERE modem = ? AND mr = ? AND state = 'sent' "
            "ORDER BY id DESC LIMIT 20",
            (modem, rep.reference),
        ):
            if same_number(row["recipient"], rep.recipient):
                reply_id = int(row["id"])
                break
        cur = c.execute(
            "INSERT INTO reports (part_key, modem, pdu, stored_at, reference, recipient, status,"
            " delivered, discharge, reply_id) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(part_key) DO NOTHING",
            (
                pkey,
                modem,
                part.pdu,
                now,
                rep.reference,
                rep.recipient,
                rep.status,
                int(rep.delivered),
                rep.discharge.isoformat(),
                reply_id,
            ),
        )
        new = cur.rowcount > 0
        final = rep.delivered or rep.status >= 0x40  # 0x20..0x3F: the SMSC is still trying
        if new and reply_id is not None and final:
            c.execute(
                "UPDATE replies SET delivery = ?, delivery_at = ? WHERE id = ?",
                ("delivered" if rep.delivered else "failed", now, reply_id),
            )
        return IngestResult(part.memory, part.index, pkey, new, False, ())

    def _pending_group(self, c: sqlite3.Connection, group: str) -> list[multipart.StoredPart]:
        rows = c.execute(
            "SELECT concat_seq, text, part_key FROM parts "
            "WHERE status = 'pending' AND group_key = ? ORDER BY id",
            (group,),
        ).fetchall()
        return [multipart.StoredPart(r[0], r[1] or "", r[2]) for r in rows]

    def _create_message(
        self,
        c: sqlite3.Connection,
        msg: intake.NewMessage,
        part_keys: list[str],
        now: float,
        rules: intake.IntakeRules,
        group: str | None = None,
    ) -> int:
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
            plan = intake.plan(mid, msg, rules, lambda ref, snd: self._lookup(c, ref, snd))
            r = plan.record
            c.execute(
                "UPDATE messages SET kind=?, text=?, anonymous=?, confidential=?, category=?,"
                " location=?, reference=?, forwarded=? WHERE id=?",
                (
                    r.kind,
                    r.text,
                    int(r.anonymous),
                    int(r.confidential),
                    r.category,
                    r.location,
                    r.reference,
                    int(plan.forward),
                    mid,
                ),
            )
            if plan.forward:
                c.execute(
                    "INSERT INTO outbox (message_id, state, queued_at, next_attempt_at,"
                    " updated_at) VALUES (?, 'queued', ?, ?, ?)",
                    (mid, now, now, now),
                )
            if plan.reply_text is not None:
                state = State.SUPPRESSED if plan.suppressed else State.QUEUED
                c.execute(
                    "INSERT INTO replies (message_id, modem, recipient, text, purpose, state,"
                    " reason, created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        mid,
                        msg.modem,
                        msg.sender,
                        plan.reply_text,
                        plan.reply_purpose,
                        state.value,
                        plan.suppressed,
                        now,
                        now,
                    ),
                )
        marks = ",".join("?" for _ in part_keys)
        c.execute(
            f"UPDATE parts SET status='used', message_id=? WHERE part_key IN ({marks})",
            [mid, *part_keys],
        )
        if group is not None:
            # duplicates of parts already used (same seq, other PDU bytes) go with the message
            c.execute(
                "UPDATE parts SET status='used', message_id=? "
                "WHERE status='pending' AND group_key=?",
                (mid, group),
            )
        return mid

    def _lookup(self, c: sqlite3.Connection, ref: str, sender: str) -> str | None:
        if not ref.isdigit():
            return None
        # the citizen's own reports only; a local number first, then an upstream tracking id
        rows = c.execute(
            "SELECT m.sender, o.state FROM messages m JOIN outbox o ON o.message_id = m.id "
            "WHERE m.id = ? OR m.tracking_id = ? ORDER BY (m.id = ?) DESC, m.id",
            (int(ref) if len(ref) < 19 else -1, ref, int(ref) if len(ref) < 19 else -1),
        ).fetchall()
        for row in rows:
            if same_number(row["sender"], sender):
                return str(row["state"])
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
            with self.transaction() as c:
                stored = self._pending_group(c, r["group_key"])
                if not stored:
                    continue
                asm = multipart.release(int(r["total"]), stored)
                first = c.execute(
                    "SELECT sender, sender_type, scts, modem FROM parts WHERE part_key = ?",
                    (asm.part_keys[0],),
                ).fetchone()
                mid = self._create_message(
                    c,
                    intake.NewMessage(
                        first["modem"],
                        first["sender"],
                        first["sender_type"],
                        asm.text,
                        first["scts"],
                        partial=True,
                        part_count=int(r["total"]),
                    ),
                    list(asm.part_keys),
                    now,
                    rules,
                    group=r["group_key"],
                )
                released.append(mid)
        return released

    # ---------------------------------------------------------------- upstream queue

    def claim_outbox(self, *, now: float, lease: float, limit: int) -> list[OutboxItem]:
        """Claim due items (and items whose sending lease ran out) for one attempt each."""
        claimable = ",".join(f"'{s.value}'" for s in CLAIMABLE)
        with self.transaction() as c:
            rows = c.execute(
                f"SELECT o.message_id FROM outbox o WHERE (o.state IN ({claimable}) "
                "AND o.next_attempt_at <= ?) OR (o.state = 'sending' AND o.lease_until <= ?) "
                "ORDER BY o.next_attempt_at, o.message_id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            ids = [int(r[0]) for r in rows]
            if not ids:
                return []
            marks = ",".join("?" for _ in ids)
            c.execute(
                f"UPDATE outbox SET state='sending', lease_until=?, updated_at=? "
                f"WHERE message_id IN ({marks})",
                [now + lease, now, *ids],
            )
            items = c.execute(
                f"SELECT m.*, o.attempts, o.queued_at, o.state AS qstate FROM messages m "
                f"JOIN outbox o ON o.message_id = m.id WHERE m.id IN ({marks}) ORDER BY m.id",
                ids,
            ).fetchall()
        return [
            OutboxItem(
                message_id=int(r["id"]),
                key=r["key"],
                attempts=int(r["attempts"]),
                queued_at=float(r["queued_at"]),
                state=r["qstate"],
                record=dict(r),
            )
            for r in items
        ]

    def record_attempt(
        self,
        message_id: int,
        decision: Decision,
        *,
        outcome: str,
        now: float,
        http_status: int | None = None,
        detail: str = "",
        tracking_id: str | None = None,
    ) -> None:
        """Store one attempt and the state it leads to, in one transaction."""
        self.record_attempts(
            [Attempt(message_id, decision, outcome, now, http_status, detail, tracking_id)]
        )

    def record_attempts(self, attempts: Sequence[Attempt]) -> None:
        """Store a batch of attempts and their states, in one transaction.

        Each attempt is always logged. The state moves only if the item is still ``sending``
        (a late answer must not undo an operator's replay), except that ``delivered`` always
        wins and is never undone.
        """
        if not attempts:
            return
        with self.transaction() as c:
            for a in attempts:
                self._record(c, a)

    def _record(self, c: sqlite3.Connection, a: Attempt) -> None:
        d = a.decision
        delivered = d.state is State.DELIVERED
        c.execute(
            "INSERT INTO attempts (message_id, at, outcome, http_status, detail)"
            " VALUES (?,?,?,?,?)",
            (a.message_id, a.now, a.outcome, a.http_status, a.detail[:1000]),
        )
        c.execute(
            "UPDATE outbox SET state=?, attempts=attempts+1, next_attempt_at=?,"
            " lease_until=NULL, last_error=?, updated_at=?,"
            " ambiguous_count=ambiguous_count + ?, delivered_at=? WHERE message_id=?"
            " AND state != 'delivered' AND (state = 'sending' OR ? = 'delivered')",
            (
                d.state.value,
                d.next_attempt_at if d.next_attempt_at is not None else a.now,
                None if delivered else d.reason[:1000],
                a.now,
                1 if a.outcome == "ambiguous" else 0,
                a.now if delivered else None,
                a.message_id,
                d.state.value,
            ),
        )
        if a.tracking_id:
            c.execute(
                "UPDATE messages SET tracking_id=? WHERE id=?", (a.tracking_id[:64], a.message_id)
            )

    def release_claims(self, message_ids: Sequence[int], *, now: float) -> None:
        """Give back claimed items not attempted (graceful stop): due again at once."""
        if not message_ids:
            return
        marks = ",".join("?" for _ in message_ids)
        with self.transaction() as c:
            c.execute(
                f"UPDATE outbox SET state=CASE WHEN attempts>0 THEN 'retry' ELSE 'queued' END,"
                f" lease_until=NULL, next_attempt_at=?, updated_at=? "
                f"WHERE state='sending' AND message_id IN ({marks})",
                [now, now, *message_ids],
            )

    def next_outbox_due(self) -> float | None:
        row = self.conn.execute(
            "SELECT MIN(CASE WHEN state='sending' THEN lease_until ELSE next_attempt_at END) "
            "FROM outbox WHERE state IN ('queued','retry','ambiguous','sending')"
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def replay(
        self,
        *,
        state: str | None = None,
        message_id: int | None = None,
        now: float,
        dry_run: bool = True,
    ) -> list[int]:
        """Move dead/ambiguous/retry items back to queued (due now). Returns the ids."""
        where: list[str] = []
        args: list[Any] = []
        replayable = ",".join(f"'{s.value}'" for s in REPLAYABLE)
        where.append(f"state IN ({replayable})")
        if state:
            where.append("state = ?")
            args.append(state)
        if message_id is not None:
            where.append("message_id = ?")
            args.append(message_id)
        sql_where = " AND ".join(where)
        with self.transaction() as c:
            ids = [
                int(r[0])
                for r in c.execute(
                    f"SELECT message_id FROM outbox WHERE {sql_where} ORDER BY message_id", args
                )
            ]
            if ids and not dry_run:
                marks = ",".join("?" for _ in ids)
                c.execute(
                    f"UPDATE outbox SET state='queued', next_attempt_at=?, queued_at=?,"
                    f" lease_until=NULL, updated_at=? WHERE message_id IN ({marks})",
                    [now, now, now, *ids],
                )
        return ids

    # ---------------------------------------------------------------- reply queue

    def claim_replies(self, modem: str, *, now: float, lease: float, limit: int) -> list[ReplyItem]:
        with self.transaction() as c:
            rows = c.execute(
                "SELECT * FROM replies WHERE modem = ? AND ((state IN ('queued','retry') "
                "AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until <= ?)) "
                "ORDER BY next_attempt_at, id LIMIT ?",
                (modem, now, now, limit),
            ).fetchall()
            if not rows:
                return []
            ids = [int(r["id"]) for r in rows]
            marks = ",".join("?" for _ in ids)
            c.execute(
                f"UPDATE replies SET state='sending', lease_until=? WHERE id IN ({marks})",
                [now + lease, *ids],
            )
        return [
            ReplyItem(
                int(r["id"]),
                r["message_id"],
                r["modem"],
                r["recipient"],
                r["text"],
                int(r["attempts"]),
                float(r["created_at"]),
            )
            for r in rows
        ]

    def reply_done(
        self,
        reply_id: int,
        decision: Decision,
        *,
        now: float,
        mr: int | None = None,
        detail: str = "",
    ) -> None:
        state = decision.state
        with self.transaction() as c:
            c.execute(
                "UPDATE replies SET state=?, attempts=attempts+1, next_attempt_at=?,"
                " lease_until=NULL, last_error=?, sent_at=?, mr=COALESCE(?, mr),"
                " reason=CASE WHEN ?='dead' THEN ? ELSE reason END WHERE id=?",
                (
                    "sent" if state is State.DELIVERED else state.value,
                    decision.next_attempt_at if decision.next_attempt_at is not None else now,
                    None if state is State.DELIVERED else (detail or decision.reason)[:500],
                    now if state is State.DELIVERED else None,
                    mr,
                    state.value,
                    decision.reason[:500],
                    reply_id,
                ),
            )

    def release_replies(self, reply_ids: Sequence[int], *, now: float) -> None:
        """Give back claimed replies not sent (link lost, stopping): due again at once."""
        if not reply_ids:
            return
        marks = ",".join("?" for _ in reply_ids)
        with self.transaction() as c:
            c.execute(
                f"UPDATE replies SET state=CASE WHEN attempts>0 THEN 'retry' ELSE 'queued' END,"
                f" lease_until=NULL, next_attempt_at=? WHERE state='sending' AND id IN ({marks})",
                [now, *reply_ids],
            )

    def queue_reply(
        self,
        *,
        modem: str,
        recipient: str,
        text: str,
        purpose: str,
        now: float,
        message_id: int | None = None,
    ) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO replies (message_id, modem, recipient, text, purpose, state,"
                " created_at, next_attempt_at) VALUES (?,?,?,?,?,'queued',?,?)",
                (message_id, modem, recipient, text, purpose, now, now),
            )
            return int(cur.lastrowid or 0)

    def next_reply_due(self, modem: str) -> float | None:
        row = self.conn.execute(
            "SELECT MIN(CASE WHEN state='sending' THEN lease_until ELSE next_attempt_at END) "
            "FROM replies WHERE modem=? AND state IN ('queued','retry','sending')",
            (modem,),
        ).fetchone()
        return None if row[0] is None else float(row[0])

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

    def purge_candidates(self, *, before: float) -> list[int]:
        """Messages stored before ``before`` that are finished: delivered upstream, or handled
        locally (status, bantuan). Undelivered ones (dead included) are never purged."""
        return [
            int(r[0])
            for r in self.conn.execute(
                "SELECT m.id FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
                " WHERE m.purged_at IS NULL AND m.stored_at < ?"
                " AND (o.state IS NULL OR o.state = 'delivered') ORDER BY m.id",
                (before,),
            )
        ]

    def purge(self, *, before: float, now: float) -> list[int]:
        """Remove personal data from finished messages older than ``before`` (UU 27/2022).

        Kept for statistics: kind, category, location, dates, states. Removed: the number,
        the text, the raw PDUs of its parts, reply texts and recipients, report recipients.
        """
        ids = self.purge_candidates(before=before)
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
                    f"UPDATE parts SET pdu='', sender=NULL, text=NULL"
                    f" WHERE message_id IN ({marks})",
                    chunk,
                )
                c.execute(
                    f"UPDATE replies SET recipient='', text='' WHERE message_id IN ({marks})",
                    chunk,
                )
                c.execute(
                    f"UPDATE reports SET recipient='', pdu='' WHERE reply_id IN"
                    f" (SELECT id FROM replies WHERE message_id IN ({marks}))",
                    chunk,
                )
        with self.transaction() as c:  # quarantined/data parts and unmatched reports age out too
            c.execute(
                "UPDATE parts SET pdu='', sender=NULL, text=NULL WHERE message_id IS NULL"
                " AND status IN ('quarantined', 'data') AND stored_at < ? AND pdu != ''",
                (before,),
            )
            c.execute(
                "UPDATE reports SET recipient='', pdu='' WHERE reply_id IS NULL"
                " AND stored_at < ? AND pdu != ''",
                (before,),
            )
        return ids

    # ---------------------------------------------------------------- reading

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {"outbox": {}, "replies": {}, "parts": {}}
        for table in out:
            for r in self.conn.execute(
                f"SELECT {'status' if table == 'parts' else 'state'} AS s, COUNT(*) AS n "
                f"FROM {table} GROUP BY s"
            ):
                out[table][str(r["s"])] = int(r["n"])
        out["messages"] = {
            "total": int(self.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        }
        return out

    def oldest_pending(self) -> float | None:
        row = self.conn.execute(
            "SELECT MIN(queued_at) FROM outbox WHERE state IN "
            "('queued','sending','retry','ambiguous')"
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def last_delivery(self) -> float | None:
        row = self.conn.execute("SELECT MAX(delivered_at) FROM outbox").fetchone()
        return None if row[0] is None else float(row[0])

    def list_messages(self, *, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql = (
            "SELECT m.id, m.key, m.sender, m.sender_type, m.received_at, m.kind, m.text,"
            " m.anonymous, m.confidential, m.category, m.location, m.partial, m.tracking_id,"
            " COALESCE(o.state, 'local') AS state, o.attempts, o.last_error, o.next_attempt_at"
            " FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
        )
        args: list[Any] = []
        if state:
            sql += " WHERE COALESCE(o.state, 'local') = ?"
            args.append(state)
        sql += " ORDER BY m.id DESC LIMIT ?"
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
                "SELECT at, outcome, http_status, detail FROM attempts WHERE message_id = ?"
                " ORDER BY id",
                (message_id,),
            )
        ]
        out["replies"] = [
            dict(r)
            for r in self.conn.execute(
                "SELECT id, purpose, state, reason, text, attempts, sent_at, last_error"
                " FROM replies WHERE message_id = ? ORDER BY id",
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

    def export_rows(self) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.conn.execute(
                "SELECT m.id, m.key, m.received_at, m.sender, m.kind, m.text, m.anonymous,"
                " m.confidential, m.category, m.location, m.partial, m.tracking_id,"
                " COALESCE(o.state, 'local') AS state FROM messages m"
                " LEFT JOIN outbox o ON o.message_id = m.id ORDER BY m.id"
            )
        ]

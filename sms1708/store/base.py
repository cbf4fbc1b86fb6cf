"""The store's foundation: the connection, its durability settings, transactions, errors."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlite_utils

from sms1708.errors import StoreDamagedError, StoreError, StoreFullError
from sms1708.store.schema import migrations

if TYPE_CHECKING:
    from sms1708.core.grammar import Record

#: the grammar's reading of a message as stored on it (intake and detach write these together)
RECORD_SET = (
    "kind=?, text=?, anonymous=?, confidential=?, category=?, location=?, location_code=?,"
    " reference=?"
)


def record_values(r: Record) -> tuple[Any, ...]:
    """The values for :data:`RECORD_SET`, in its order."""
    return (
        r.kind,
        r.text,
        int(r.anonymous),
        int(r.confidential),
        r.category,
        r.location,
        r.location_code,
        r.reference,
    )


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


def window(
    where: list[str], args: list[Any], column: str, since: float | None, until: float | None
) -> None:
    """Add ``since <= column < until`` (either end optional) to a WHERE clause being built."""
    if since is not None:
        where.append(f"{column} >= ?")
        args.append(since)
    if until is not None:
        where.append(f"{column} < ?")
        args.append(until)


def message_filters(
    *,
    state: str | None = None,
    kind: str | None = None,
    since: float | None = None,
    until: float | None = None,
    sender: str | None = None,
    destination: str | None = None,
) -> tuple[str, list[Any]]:
    """A WHERE clause over ``messages m LEFT JOIN outbox o`` for the operator's filters.

    With ``destination``, only complaints going there, and ``state`` is the state of the
    delivery to that destination (else the complaint's state, see the ``outbox`` view)."""
    where: list[str] = []
    args: list[Any] = []
    if destination:
        cond = " AND d.state = ?" if state else ""
        where.append(
            "EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id"
            f" AND d.destination = ?{cond})"
        )
        args += [destination, state] if state else [destination]
    elif state:
        where.append("COALESCE(o.state, 'local') = ?")
        args.append(state)
    if kind:
        where.append("m.kind = ?")
        args.append(kind)
    window(where, args, "m.stored_at", since, until)
    if sender:
        digits = "".join(c for c in sender if c.isdigit())
        national = digits[2:] if digits.startswith("62") else digits.lstrip("0")
        where.append("m.sender LIKE ?")
        args.append(f"%{national}")
    return (" WHERE " + " AND ".join(where) if where else ""), args


class StoreBase:
    """A connection to the sms1708 database; the parts of the Store API build on it."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.db = sqlite_utils.Database(conn)

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

    def setting(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str | None, *, now: float) -> None:
        """Set (or with None, remove) a setting, in its own transaction."""
        with self.transaction() as c:
            if value is None:
                c.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                c.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    (key, value, now),
                )


class Concern:
    """One concern of the Store (receiving, the upstream queue, the reply queue ...): it shares
    the Store's connection and goes through the Store's one :meth:`StoreBase.transaction`."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self._store.conn

    @property
    def path(self) -> str:
        return self._store.path

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._store.transaction()

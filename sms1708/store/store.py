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
from pathlib import Path

from sms1708.errors import StoreError
from sms1708.store.accounts import Accounts
from sms1708.store.base import StoreBase, _refuse_foreign, _tighten_mode, _translate
from sms1708.store.blocked import Blocked, BlockedNumber
from sms1708.store.console import Console
from sms1708.store.followups import Followups
from sms1708.store.incoming import IncomingPart, IngestResult
from sms1708.store.maintenance import Maintenance
from sms1708.store.outbox import Attempt, Outbox, OutboxItem
from sms1708.store.queries import Queries
from sms1708.store.receiving import Intake
from sms1708.store.replyqueue import Replies, ReplyItem
from sms1708.store.schema import migrations
from sms1708.store.timeshift import TimeShift
from sms1708.store.topics import Topics

__all__ = [
    "Attempt",
    "BlockedNumber",
    "IncomingPart",
    "IngestResult",
    "OutboxItem",
    "ReplyItem",
    "Store",
    "StoreBase",
]


class Store(StoreBase):
    """A connection to the sms1708 database. One per thread; cheap to open.

    One object per concern, all sharing this connection and its one :meth:`transaction`:

    ============================  =============================================================
    ``store.intake``              receiving: parts, multipart assembly, messages, receipts
    ``store.outbox``              the upstream queue: claims, attempts, replay, upstream status
    ``store.replies``             the reply queue: every SMS the gateway sends, claims, outcomes
    ``store.blocked``             numbers an operator blocked
    ``store.maintenance``         backups, re-parsing, retention (purge)
    ``store.queries``             reading for operators: counts, lists, one complaint, exports
    ``store.console``             the web console's views and corrections
    ``store.accounts``            the web console's accounts, sessions and audit log
    ``store.followups``           follow-up SMS made reports of their own
    ``store.topics``              the LAPOR! topic list
    ``store.timeshift``           moving stored times (the test clock)
    ============================  =============================================================
    """

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        super().__init__(conn, path)
        self.intake = Intake(self)
        self.outbox = Outbox(self)
        self.replies = Replies(self)
        self.blocked = Blocked(self)
        self.maintenance = Maintenance(self)
        self.queries = Queries(self)
        self.console = Console(self)
        self.accounts = Accounts(self)
        self.followups = Followups(self)
        self.topics = Topics(self)
        self.timeshift = TimeShift(self)

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

"""The database schema, as sqlite-utils migrations (applied in order, each one transaction).

Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Migrations

migrations = Migrations("sms1708")

Db = Any  # sqlite_utils.Database (untyped library)


@migrations()
def m001_initial(db: Db) -> None:
    db.executescript(
        """
        CREATE TABLE parts (
            id INTEGER PRIMARY KEY,
            part_key TEXT NOT NULL UNIQUE,     -- hash of the TPDU: a re-read is not a new part
            modem TEXT NOT NULL,
            memory TEXT,
            sim_index INTEGER,
            pdu TEXT NOT NULL,                 -- the raw PDU exactly as the modem listed it
            stored_at REAL NOT NULL,           -- unix time of the ingest (its commit follows)
            status TEXT NOT NULL,              -- pending | used | quarantined
            error TEXT,                        -- why it was quarantined
            sender TEXT,
            sender_type TEXT,
            scts TEXT,                         -- SMSC timestamp, ISO 8601 with offset
            encoding TEXT,
            text TEXT,
            concat_ref INTEGER,
            concat_total INTEGER,
            concat_seq INTEGER,
            concat_bits INTEGER,
            group_key TEXT,
            message_id INTEGER REFERENCES messages(id)
        );
        CREATE INDEX parts_pending ON parts(status, group_key);
        CREATE INDEX parts_message ON parts(message_id);

        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,            -- also the citizen's local report number
            key TEXT NOT NULL UNIQUE,          -- idempotency key sent upstream
            modem TEXT NOT NULL,
            sender TEXT NOT NULL,
            sender_type TEXT NOT NULL,
            received_at TEXT NOT NULL,         -- SMSC timestamp of the first part, with offset
            stored_at REAL NOT NULL,
            raw_text TEXT NOT NULL,            -- the whole SMS text as the citizen sent it
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            anonymous INTEGER NOT NULL DEFAULT 0,
            confidential INTEGER NOT NULL DEFAULT 0,
            category TEXT,
            location TEXT,
            reference TEXT,                    -- for kind=status: the report asked about
            partial INTEGER NOT NULL DEFAULT 0,
            part_count INTEGER NOT NULL DEFAULT 1,
            forwarded INTEGER NOT NULL DEFAULT 1,  -- 0: handled locally (status, bantuan)
            tracking_id TEXT
        );
        CREATE INDEX messages_sender ON messages(sender);

        CREATE TABLE outbox (                  -- the upstream queue, one row per complaint
            message_id INTEGER PRIMARY KEY REFERENCES messages(id),
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            queued_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            lease_until REAL,
            last_error TEXT,
            ambiguous_count INTEGER NOT NULL DEFAULT 0,
            delivered_at REAL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX outbox_due ON outbox(state, next_attempt_at);

        CREATE TABLE attempts (                -- every upstream attempt, for operators
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            at REAL NOT NULL,
            outcome TEXT NOT NULL,
            http_status INTEGER,
            detail TEXT
        );
        CREATE INDEX attempts_message ON attempts(message_id);

        CREATE TABLE replies (                 -- the SMS reply queue
            id INTEGER PRIMARY KEY,
            message_id INTEGER REFERENCES messages(id),
            modem TEXT NOT NULL,
            recipient TEXT NOT NULL,
            text TEXT NOT NULL,
            purpose TEXT NOT NULL,             -- receipt | bantuan | status | operator | ...
            state TEXT NOT NULL,
            reason TEXT,                       -- why suppressed / dead
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            lease_until REAL,
            last_error TEXT,
            sent_at REAL,
            mr INTEGER                         -- TP message reference(s) of the last part sent
        );
        CREATE INDEX replies_due ON replies(modem, state, next_attempt_at);
        """
    )


@migrations()
def m002_delivery_reports(db: Db) -> None:
    db.executescript(
        """
        CREATE TABLE reports (                 -- SMS-STATUS-REPORTs for our replies
            id INTEGER PRIMARY KEY,
            part_key TEXT NOT NULL UNIQUE,
            modem TEXT NOT NULL,
            pdu TEXT NOT NULL,
            stored_at REAL NOT NULL,
            reference INTEGER NOT NULL,        -- TP-MR of the reply it reports on
            recipient TEXT NOT NULL,
            status INTEGER NOT NULL,           -- TP-ST (0x00..0x1F delivered)
            delivered INTEGER NOT NULL,
            discharge TEXT,
            reply_id INTEGER REFERENCES replies(id)
        );
        ALTER TABLE replies ADD COLUMN delivery TEXT;   -- delivered | failed | NULL (unknown)
        ALTER TABLE replies ADD COLUMN delivery_at REAL;
        CREATE INDEX replies_mr ON replies(modem, mr);
        """
    )


@migrations()
def m003_retention(db: Db) -> None:
    db.executescript(
        """
        ALTER TABLE messages ADD COLUMN purged_at REAL;  -- personal data removed (retention)
        CREATE INDEX messages_stored ON messages(stored_at);
        """
    )


@migrations()
def m004_settings(db: Db) -> None:
    db.executescript(
        """
        CREATE TABLE settings (                -- small facts that must survive a restart
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at REAL NOT NULL
        );
        """
    )


@migrations()
def m005_upstream_status(db: Db) -> None:
    db.executescript(
        """
        ALTER TABLE messages ADD COLUMN upstream_status TEXT;   -- as the upstream last said
        ALTER TABLE messages ADD COLUMN upstream_status_at REAL;
        ALTER TABLE messages ADD COLUMN status_checked_at REAL;
        """
    )


@migrations()
def m006_indexes(db: Db) -> None:
    """Keep per-SMS and per-delivery lookups flat as the history grows (measured by the
    backlog benchmark: without them, both slowed down linearly with the number of replies)."""
    db.executescript(
        """
        CREATE INDEX replies_message ON replies(message_id, purpose);
        CREATE INDEX replies_recipient ON replies(recipient, created_at);
        CREATE INDEX replies_modem_created ON replies(modem, created_at);
        CREATE INDEX outbox_claimable ON outbox(next_attempt_at)
            WHERE state IN ('ambiguous', 'queued', 'retry');
        CREATE INDEX outbox_leases ON outbox(lease_until) WHERE state = 'sending';
        """
    )


@migrations()
def m007_budget_index(db: Db) -> None:
    """The daily budget counts only replies that count against it: a partial index keeps that
    count bounded by the budget, however many suppressed replies a busy day has."""
    db.executescript(
        """
        DROP INDEX replies_modem_created;
        CREATE INDEX replies_budget ON replies(modem, created_at) WHERE state != 'suppressed';
        """
    )


@migrations()
def m008_status_failures(db: Db) -> None:
    """Asking the upstream about one complaint's status can fail for that complaint alone (a
    tracking id the URL cannot carry): counted against it, and after a few it is not asked
    again (the poller goes on with the others)."""
    db.executescript(
        """
        ALTER TABLE messages ADD COLUMN status_failures INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN status_error TEXT;
        """
    )


@migrations()
def m009_reply_unconfirmed(db: Db) -> None:
    """How many of a reply's attempts ended with an unknown outcome (the link was lost after
    the SMS was handed to the modem, or AT+CMGS got no final answer): the SMS may have
    reached the citizen. They count against replies.max_attempts like any attempt; operators
    see the number in `queue show` and `status`."""
    db.executescript(
        """
        ALTER TABLE replies ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0;
        """
    )


@migrations()
def m010_blocked_numbers(db: Db) -> None:
    """Numbers an operator blocked: they get no SMS from the gateway (their SMS are still
    received, stored and forwarded). ``national`` is the number as
    :func:`sms1708.core.replies.national_digits` spells it, so +62/0/62 forms are one entry."""
    db.executescript(
        """
        CREATE TABLE blocked_numbers (
            national TEXT PRIMARY KEY,         -- digits without +62 / 62 / 0
            number TEXT NOT NULL,              -- as the operator wrote it
            blocked_at REAL NOT NULL,
            blocked_by TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT ''
        );
        """
    )


@migrations()
def m011_web_console(db: Db) -> None:
    """The operator console: accounts, sessions, login failures (throttling), the audit log,
    and operators' corrections of what the grammar read."""
    db.executescript(
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,                -- viewer | operator | admin
            password_hash TEXT NOT NULL,       -- Argon2id, PHC string
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,       -- SHA-256 of the cookie's token, never the token
            user_id INTEGER NOT NULL REFERENCES users(id),
            csrf TEXT NOT NULL,
            created_at REAL NOT NULL,
            seen_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            address TEXT
        );
        CREATE INDEX sessions_user ON sessions(user_id);
        CREATE TABLE login_failures (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            account TEXT NOT NULL,
            address TEXT NOT NULL
        );
        CREATE INDEX login_failures_account ON login_failures(account, at);
        CREATE INDEX login_failures_address ON login_failures(address, at);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            actor TEXT NOT NULL,               -- account name, or "-" before a login
            action TEXT NOT NULL,
            target TEXT,
            detail TEXT,
            address TEXT
        );
        CREATE INDEX audit_at ON audit(at);
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            field TEXT NOT NULL,               -- category | location
            old TEXT,
            new TEXT,
            by TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX corrections_message ON corrections(message_id);
        -- the console's category filter lists the categories in use without a table scan
        CREATE INDEX messages_category ON messages(category);
        CREATE INDEX messages_kind ON messages(kind);  -- with the rowid: newest of a kind first
        """
    )


@migrations()
def m012_place_codes_and_lapor_topics(db: Db) -> None:
    """Official place codes on each record, and the SP4N-LAPOR! topic tree as last synced."""
    db.executescript(
        """
        ALTER TABLE messages ADD COLUMN location_code TEXT;   -- Kemendagri kode wilayah
        CREATE TABLE lapor_topics (            -- SP4N-LAPOR! gettopics, as last fetched
            id INTEGER PRIMARY KEY,            -- the topic id LAPOR! gave
            parent INTEGER NOT NULL,           -- 0: a top-level topic
            name TEXT NOT NULL,
            synced_at REAL NOT NULL
        );
        """
    )


@migrations()
def m014_destinations(db: Db) -> None:
    """Several destinations: one delivery row per complaint and destination, each with its own
    state, attempts, backoff and lease (the complaint's key, its ``id`` upstream, is the same
    for all). Every row of the old one-destination queue moves, as it was, to the destination
    named ``upstream`` (the ``[upstream] url`` shorthand). ``outbox`` becomes a view with one
    row per complaint (its deliveries summed up: the state that most needs an operator), so
    everything that reads the queue per complaint reads it as before."""
    db.executescript(
        """
        CREATE TABLE deliveries (              -- the upstream queue: complaint x destination
            message_id INTEGER NOT NULL REFERENCES messages(id),
            destination TEXT NOT NULL,         -- [[upstream.destination]] name
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            queued_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            lease_until REAL,
            last_error TEXT,
            ambiguous_count INTEGER NOT NULL DEFAULT 0,
            delivered_at REAL,
            updated_at REAL NOT NULL,
            tracking_id TEXT,                  -- as this destination answered
            PRIMARY KEY (message_id, destination)
        );
        INSERT INTO deliveries (message_id, destination, state, attempts, queued_at,
            next_attempt_at, lease_until, last_error, ambiguous_count, delivered_at, updated_at,
            tracking_id)
            SELECT o.message_id, 'upstream', o.state, o.attempts, o.queued_at,
                o.next_attempt_at, o.lease_until, o.last_error, o.ambiguous_count,
                o.delivered_at, o.updated_at, m.tracking_id
            FROM outbox o LEFT JOIN messages m ON m.id = o.message_id;
        DROP TABLE outbox;
        CREATE INDEX deliveries_due ON deliveries(destination, state, next_attempt_at);
        CREATE INDEX deliveries_claimable ON deliveries(destination, next_attempt_at)
            WHERE state IN ('ambiguous', 'queued', 'retry');
        CREATE INDEX deliveries_leases ON deliveries(destination, lease_until)
            WHERE state = 'sending';
        CREATE INDEX deliveries_delivered ON deliveries(delivered_at)
            WHERE state = 'delivered';

        ALTER TABLE attempts ADD COLUMN destination TEXT NOT NULL DEFAULT 'upstream';

        -- one row per complaint (flattened into the queries that join it: no scan)
        CREATE VIEW outbox AS SELECT
            x.message_id AS message_id,
            (SELECT CASE MIN(CASE state WHEN 'dead' THEN 0 WHEN 'ambiguous' THEN 1
                WHEN 'retry' THEN 2 WHEN 'sending' THEN 3 WHEN 'queued' THEN 4 ELSE 5 END)
                WHEN 0 THEN 'dead' WHEN 1 THEN 'ambiguous' WHEN 2 THEN 'retry'
                WHEN 3 THEN 'sending' WHEN 4 THEN 'queued' ELSE 'delivered' END
                FROM deliveries d WHERE d.message_id = x.message_id) AS state,
            (SELECT MAX(attempts)
                FROM deliveries d WHERE d.message_id = x.message_id) AS attempts,
            (SELECT MIN(queued_at)
                FROM deliveries d WHERE d.message_id = x.message_id) AS queued_at,
            (SELECT COALESCE(MIN(CASE WHEN state != 'delivered' THEN next_attempt_at END),
                MAX(next_attempt_at))
                FROM deliveries d WHERE d.message_id = x.message_id) AS next_attempt_at,
            (SELECT MAX(lease_until)
                FROM deliveries d WHERE d.message_id = x.message_id) AS lease_until,
            (SELECT CASE WHEN COUNT(*) = 1 THEN MAX(last_error)
                ELSE group_concat(destination || ': ' || last_error, '; ') END
                FROM deliveries d WHERE d.message_id = x.message_id) AS last_error,
            (SELECT SUM(ambiguous_count)
                FROM deliveries d WHERE d.message_id = x.message_id) AS ambiguous_count,
            (SELECT CASE WHEN MIN(state = 'delivered') = 1 THEN MAX(delivered_at) END
                FROM deliveries d WHERE d.message_id = x.message_id) AS delivered_at,
            (SELECT MAX(updated_at)
                FROM deliveries d WHERE d.message_id = x.message_id) AS updated_at,
            (SELECT COUNT(*)
                FROM deliveries d WHERE d.message_id = x.message_id) AS destinations
        FROM deliveries x WHERE x.destination = (SELECT MIN(destination) FROM deliveries d
            WHERE d.message_id = x.message_id);
        """
    )

"""Shared helpers for the breaking-it suites (crash loop, upstream chaos, faults, graceful stop).

Fault injection happens only at two seams of the product: the store (a :class:`Store` subclass
handed to ``ModemWorker``/``Forwarder`` through ``store_factory``) and the HTTP transport (an
``httpx`` transport wrapping the real one, handed to ``WebhookClient``); both come from
:mod:`sms1708.testing`, where integrators find them too. Everything else is
real: the emulated modem on a pty, SQLite files, loopback HTTP servers, ``sms1708`` processes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from gsmmodem.pdu import decodeSmsPdu

from sms1708.modem.emulator import EmulatedModem
from sms1708.testing import FaultyTransport as FaultyTransport
from sms1708.testing import NthCall
from sms1708.testing import faulty_store as faulty_store

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------------------ observing


def committed(db: Path, pdu: str) -> bool:
    """Is this PDU in the store, as another connection sees it right now (committed only)?"""
    if not db.exists():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT COUNT(*) FROM parts WHERE pdu = ?", (pdu,)).fetchone()[0] > 0
    except sqlite3.OperationalError:  # no tables yet: nothing committed
        return False
    finally:
        conn.close()


def query(db: Path, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of ``sql`` through a fresh read-only connection (what another process sees)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return []
        raise
    finally:
        conn.close()


def all_delivered(modem: EmulatedModem, db: Path, tracked: set[str], count: int) -> bool:
    """The SIM is empty, nothing is held back, and ``count`` complaints are delivered upstream
    under keys the upstream acknowledged."""
    if modem.stored() or modem.held_back:
        return False
    rows = query(db, "SELECT m.key, o.state FROM messages m JOIN outbox o ON o.message_id = m.id")
    return (
        len(rows) >= count
        and all(r["state"] == "delivered" for r in rows)
        and {r["key"] for r in rows} <= tracked
    )


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


class DeleteWatch:
    """Installed as the emulator's ``before_delete`` hook: at the instant of every ``AT+CMGD``,
    check from another connection that the SMS being deleted is committed (P1/P2)."""

    def __init__(self, modem: EmulatedModem, db: Path) -> None:
        self.db = db
        self.checked = 0
        self.uncommitted: list[tuple[str, int, str]] = []
        self._lock = threading.Lock()
        modem.before_delete = self

    def __call__(self, memory: str, index: int, pdu: str) -> None:
        ok = committed(self.db, pdu)
        with self._lock:
            self.checked += 1
            if not ok:
                self.uncommitted.append((memory, index, pdu))


def sent_replies(modem: EmulatedModem) -> list[tuple[str, str]]:
    """(recipient, text) of every SMS the gateway sent through the emulated modem."""
    out = []
    for s in list(modem.sent):
        d = decodeSmsPdu(s.pdu_hex)
        out.append((str(d["number"]), str(d["text"])))
    return out


@dataclass
class ReplyTally:
    """What the modem sent, checked against the reply queue in the database."""

    rows: list[dict[str, Any]]  # the replies table
    sent: Counter[tuple[str, str]]  # (recipient, text) -> times sent by the modem
    duplicates: int  # SMS sent more often than the queue says
    phantoms: list[tuple[str, str]]  # sent, but not a 'sent' reply in the queue (or suppressed)
    unsent: list[dict[str, Any]]  # 'sent' in the queue, never seen by the modem
    unfinished: list[dict[str, Any]]  # neither sent nor suppressed
    per_message: dict[int, Counter[str]]  # message id -> purposes of its replies
    recipients: set[str]  # numbers that got at least one SMS


def tally_replies(modem: EmulatedModem, db: Path) -> ReplyTally:
    rows = query(db, "SELECT id, message_id, recipient, text, purpose, state, reason FROM replies")
    sent = Counter(sent_replies(modem))
    want = Counter((r["recipient"], r["text"]) for r in rows if r["state"] == "sent")
    per_message: dict[int, Counter[str]] = {}
    for r in rows:
        per_message.setdefault(r["message_id"], Counter())[r["purpose"]] += 1
    return ReplyTally(
        rows=rows,
        sent=sent,
        duplicates=sum(max(0, n - want[k]) for k, n in sent.items() if k in want),
        phantoms=[k for k in sent if k not in want],
        unsent=[r for r in rows if r["state"] == "sent" and sent[(r["recipient"], r["text"])] == 0],
        unfinished=[r for r in rows if r["state"] not in ("sent", "suppressed")],
        per_message=per_message,
        recipients={number for number, _text in sent},
    )


# ------------------------------------------------------------------------------ the CLI


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli(config: Path, *args: str, timeout: float = 60) -> CliResult:
    """``sms1708 --config CONFIG ARGS...`` as an operator would run it, in another process."""
    p = subprocess.run(
        [sys.executable, "-m", "sms1708", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    return CliResult(p.returncode, p.stdout, p.stderr)


# ------------------------------------------------------------------------------ time compression


class QuickEvent(threading.Event):
    """A stop event whose timed waits are capped: the pauses the product takes with
    ``stop.wait(...)`` after an error (the forwarder's 5 s after a store error) shrink to
    ``cap`` seconds. ``wait`` still returns whether the event is set, so only the pacing
    changes, never a decision."""

    def __init__(self, cap: float = 0.3) -> None:
        super().__init__()
        self.cap = cap

    def wait(self, timeout: float | None = None) -> bool:
        return super().wait(self.cap if timeout is None else min(timeout, self.cap))


# ------------------------------------------------------------------------------ Nth-call faults
# NthCall, faulty_store and FaultyTransport are shipped to integrators in sms1708.testing.


class FaultySerial:
    """A real ``serial.Serial`` whose ``counter.fire_at``-th ``write`` raises (``RuntimeError``:
    not a serial error the session expects). Reads are not counted: the reader thread polls."""

    def __init__(self, counter: NthCall, inner: Any) -> None:
        self._counter = counter
        self._inner = inner

    def write(self, data: bytes) -> int | None:
        if self._counter.tick(f"serial write {bytes(data)[:12]!r}"):
            raise RuntimeError("injected: the serial driver failed a write")
        return self._inner.write(data)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def faulty_opener(counter: NthCall) -> Callable[..., Any]:
    """An ``opener`` for ``ModemWorker``/``Daemon``: the Nth open or write fails."""
    import serial

    def opener(*args: Any, **kwargs: Any) -> Any:
        if counter.tick("serial open"):
            raise RuntimeError("injected: the serial driver failed to open the port")
        return FaultySerial(counter, serial.Serial(*args, **kwargs))

    return opener


def faulty_status_client(counter: NthCall, transport: httpx.BaseTransport | None = None) -> Any:
    """A ``client_factory``: a real ``WebhookClient`` whose Nth ``fetch_status`` raises."""
    from sms1708.upstream.webhook import WebhookClient

    class FaultyClient(WebhookClient):
        def fetch_status(self, tracking_id: str, key: str) -> str | None:
            if counter.tick("status fetch"):
                raise RuntimeError("injected: unexpected failure while asking a status")
            return super().fetch_status(tracking_id, key)

    return lambda cfg: FaultyClient(cfg.upstream, transport=transport)

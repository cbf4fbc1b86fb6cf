"""Receiving: list the modem's storage, commit to SQLite, then delete by index (P1, P2, P3).

The order is the whole point. A part is deleted from the SIM only after the transaction that
holds its raw PDU has committed. A crash between the commit and the delete leaves the part on
the SIM; the next poll reads it again and the store recognises it (same TPDU, same part key),
so nothing is lost and nothing is counted twice.

If the commit fails (disk full, database locked), nothing is deleted: the SIM keeps the SMS
and the next poll tries again. An undecodable PDU, or one whose intake fails in any other way,
is stored raw in quarantine, with the reason (never its text), and then deleted: it never
blocks the slot or the queue behind it (P8, P13).

An ``ERROR`` answer is an answer, not a lost link: a memory the modem refuses (``AT+CPMS``) or
cannot list (``AT+CMGL``) is reported in :class:`DrainResult` for the worker to stop polling
it; a slot that refuses ``AT+CMGD`` is reported and left for the next poll, and the other
deletes of the poll still happen.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sms1708.core.grammar import parse
from sms1708.core.intake import IntakeRules
from sms1708.core.multipart import cap_text
from sms1708.core.pdu import decode_deliver, decode_status_report
from sms1708.errors import (
    CommandFailed,
    ModemError,
    PduDecodeError,
    StoreError,
    StoreFullError,
    safe_error,
)
from sms1708.logsetup import get_logger
from sms1708.modem.at import ATSession
from sms1708.store.incoming import IngestResult
from sms1708.store.store import IncomingPart, Store

log = get_logger("sms1708.receive")

_CMGL = re.compile(r"^\+CMGL:\s*(\d+)\s*,\s*(\d+)\s*,[^,]*,\s*(\d+)\s*$")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


@dataclass(frozen=True)
class Listed:
    index: int
    pdu: str | None  # None: the PDU line was missing or not hex (not deleted; re-read later)


def parse_cmgl(lines: list[str]) -> list[Listed]:
    """Parse the lines of an ``AT+CMGL`` answer in PDU mode. Pure; never raises."""
    out: list[Listed] = []
    i = 0
    while i < len(lines):
        m = _CMGL.match(lines[i].strip())
        if not m:
            i += 1
            continue
        idx = int(m.group(1))
        pdu: str | None = None
        if i + 1 < len(lines) and not _CMGL.match(lines[i + 1].strip()):
            candidate = lines[i + 1].strip()
            pdu = candidate if _HEX.match(candidate) and len(candidate) % 2 == 0 else None
            i += 2
        else:
            i += 1
        out.append(Listed(idx, pdu))
    return out


_CPMS = re.compile(r"^\+CPMS:\s*(\d+)\s*,\s*(\d+)")


def storage_usage(lines: list[str]) -> tuple[int, int]:
    """(used, total) of the read memory from a ``+CPMS`` answer; (0, 0) when absent."""
    for line in lines:
        m = _CPMS.match(line.strip())
        if m:
            return int(m.group(1)), int(m.group(2))
    return 0, 0


def decode_incoming(memory: str, index: int, pdu: str) -> IncomingPart:
    """Decode what the modem handed us: an SMS-DELIVER, else a status report, else quarantine."""
    try:
        return IncomingPart(memory, index, pdu, decode_deliver(pdu))
    except Exception as e:  # the codec raises PduDecodeError; anything else is kept raw too
        why = (
            f"undecodable PDU: {e}" if isinstance(e, PduDecodeError) else safe_error("decoding", e)
        )
        try:
            return IncomingPart(memory, index, pdu, None, report=decode_status_report(pdu))
        except Exception:
            return IncomingPart(memory, index, pdu, None, why)


def decode_listed(memory: str, item: Listed) -> IncomingPart:
    assert item.pdu is not None
    return decode_incoming(memory, item.index, item.pdu)


@dataclass
class DrainResult:
    committed: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    deleted: int = 0
    messages: int = 0
    store_failed: bool = False
    used: int = 0  # storage use before the drain (from +CPMS)
    total: int = 0
    #: the modem refused this memory (AT+CPMS) or to list it (AT+CMGL): its answer, else None
    refused: str | None = None
    refused_by: str = ""  # "AT+CPMS" or "AT+CMGL"
    #: slots whose AT+CMGD was refused: (index, the modem's answer); left for the next poll
    undeleted: list[tuple[int, str]] = field(default_factory=list)


#: entries committed per transaction at most while a listing streams in
BATCH_PARTS = 20
#: a batch waits at most this long for more entries before it is committed (seconds)
BATCH_SECONDS = 0.1


class CmglReader:
    """Incremental :func:`parse_cmgl`: feed the lines of an ``AT+CMGL`` answer one at a time,
    get each entry as soon as its PDU line is in. Pure; never raises."""

    def __init__(self) -> None:
        self._header: int | None = None  # the index of a header waiting for its PDU line

    def feed(self, line: str) -> list[Listed]:
        m = _CMGL.match(line.strip())
        out: list[Listed] = []
        if self._header is not None:
            idx = self._header
            self._header = None
            if not m:
                candidate = line.strip()
                ok = _HEX.match(candidate) and len(candidate) % 2 == 0
                return [Listed(idx, candidate if ok else None)]
            out.append(Listed(idx, None))
        if m:
            self._header = int(m.group(1))
        return out

    def end(self) -> list[Listed]:
        """The listing ended: a header still waiting for its PDU line has none."""
        if self._header is None:
            return []
        idx = self._header
        self._header = None
        return [Listed(idx, None)]


def prepare(memory: str, item: Listed, rules: IntakeRules) -> IncomingPart:
    """Decode a listed entry and, for a one-part SMS, read its grammar: the CPU work of taking
    an SMS in, done before (outside) the write transaction that stores it."""
    part = decode_listed(memory, item)
    d = part.deliver
    if d is None or d.encoding == "8bit" or (d.concat is not None and d.concat.total > 1):
        return part
    try:
        record = parse(cap_text(d.text, rules.max_text_chars), rules.keywords)
    except Exception:  # read again inside the store, where a failure quarantines this SMS
        return part
    return replace(part, record=record)


def drain_memory(
    session: ATSession,
    store: Store,
    *,
    modem: str,
    memory: str,
    rules: IntakeRules,
    now: Callable[[], float],
    list_timeout: float,
    command_timeout: float,
    on_commit: Callable[[DrainResult], None] | None = None,
    batch_parts: int = BATCH_PARTS,
    batch_seconds: float = BATCH_SECONDS,
) -> DrainResult:
    """One storage poll of one memory: list, commit, delete. Returns what happened.

    The listing is worked on as it arrives: each entry is decoded (and its grammar read) as
    soon as its PDU line is in, and entries are committed in small batches (the first at
    once, then every ``batch_parts`` entries or ``batch_seconds``), one transaction each;
    ``on_commit`` is called after each commit (the forwarder is woken at the first). A
    listing cut off in the middle (unplug, timeout) keeps what was committed: the next poll
    recognises those SMS and deletes them. Deletes come after the listing, for committed
    entries only (P1).
    """
    result = DrainResult()
    try:
        cpms = session.command(f'AT+CPMS="{memory}"', timeout=command_timeout)
    except CommandFailed as e:  # an answer, not a lost link: this memory is not there
        result.refused, result.refused_by = e.reply, "AT+CPMS"
        return result
    result.used, result.total = storage_usage(cpms)
    if result.total and result.used >= result.total:
        log.warning(
            "modem_storage_full",
            modem=modem,
            memory=memory,
            used=result.used,
            total=result.total,
            action="draining; the network holds new SMS meanwhile",
        )
    reader = CmglReader()
    batch: list[IncomingPart] = []
    batch_started = 0.0
    indexes: list[int] = []  # committed slots, in listing order

    def take(items: list[Listed]) -> None:
        nonlocal batch_started
        for item in items:
            if item.pdu is None:
                log.warning(
                    "sms_listing_unreadable",
                    modem=modem,
                    memory=memory,
                    index=item.index,
                    action="left on the SIM; read again on the next poll",
                )
                continue
            if not batch:
                batch_started = time.monotonic()
            batch.append(prepare(memory, item, rules))

    def flush() -> None:
        if not batch or result.store_failed:
            return
        parts = list(batch)
        batch.clear()
        try:
            results = store.intake.ingest(modem, parts, now=now(), rules=rules)
        except StoreError as e:
            result.store_failed = True
            log.error(
                "store_full" if isinstance(e, StoreFullError) else "store_commit_failed",
                modem=modem,
                memory=memory,
                count=len(parts),
                error=str(e),
                action="not deleted from the SIM (it holds the SMS); retrying on the next poll"
                + ("; free disk space on the box" if isinstance(e, StoreFullError) else ""),
            )
            return
        _account(result, results, modem=modem, memory=memory)
        indexes.extend(r.index for r in results)
        if on_commit is not None:
            on_commit(result)

    try:
        listing = session.stream(
            "AT+CMGL=4",
            timeout=list_timeout,
            idle=batch_seconds,
            write_timeout=command_timeout,
            silence=command_timeout,  # a hung modem is noticed in seconds, not after a minute
        )
        for line in listing:
            if line:
                take(reader.feed(line))
            if batch and (
                not result.committed  # the first entries at once: the forwarder starts
                or not line  # the line is quiet
                or len(batch) >= batch_parts
                or time.monotonic() - batch_started >= batch_seconds
            ):
                flush()
    except CommandFailed as e:
        result.refused, result.refused_by = e.reply, "AT+CMGL"
    except ModemError:
        flush()  # whole entries already in: kept, so the next poll only deletes them
        raise
    take(reader.end())
    flush()
    # delete only what a committed transaction holds, and each slot once: a slot freed by
    # the first delete may already hold a new SMS that is not stored yet
    for index in dict.fromkeys(indexes):
        try:
            session.command(f"AT+CMGD={index}", timeout=command_timeout)
        except CommandFailed as e:
            if e.code == _CMS_INVALID_INDEX:  # already empty: nothing left to delete
                result.deleted += 1
                continue
            # the slot refuses deletion: it is stored, it stays on the SIM, the next poll
            # lists it again (recognised, not stored twice) and deletes it again
            result.undeleted.append((index, e.reply))
            continue
        result.deleted += 1
    return result


def _account(result: DrainResult, results: list[IngestResult], *, modem: str, memory: str) -> None:
    """Count one committed batch into ``result`` and log what it holds."""
    result.committed += len(results)
    for r in results:
        result.new += int(r.new)
        result.duplicates += int(not r.new)
        result.quarantined += int(r.quarantined and r.new)
        result.messages += len(r.message_ids)
        if r.quarantined and r.new:
            log.warning(
                "sms_quarantined",
                modem=modem,
                memory=memory,
                index=r.index,
                part_key=r.part_key,
                reason=r.error,
                action="kept raw in the store (queue show / parts); deleted from the SIM",
            )
        for mid in r.message_ids:
            log.info("sms_received", modem=modem, message_id=mid)
        for why in r.suppressed:
            if why == "daily reply budget reached":
                log.error(
                    "reply_budget_reached",
                    modem=modem,
                    action="no more replies today; reports are still stored and forwarded",
                )
            else:
                log.info("reply_suppressed", modem=modem, reason=why)


#: +CMS ERROR 321, "invalid memory index": some modems answer it for a slot already empty
_CMS_INVALID_INDEX = 321

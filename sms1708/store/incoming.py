"""What receiving takes (a part as the modem listed it) and gives back (what became of it)."""

from __future__ import annotations

from dataclasses import dataclass

from sms1708.core.grammar import Record
from sms1708.core.pdu import Deliver, StatusReport


@dataclass(frozen=True)
class IncomingPart:
    """One SMS part as listed by the modem, decoded (or not) by the core."""

    memory: str
    index: int
    pdu: str
    deliver: Deliver | None
    error: str | None = None
    report: StatusReport | None = None
    #: the grammar's reading of a one-part SMS, done before the write transaction (or None)
    record: Record | None = None


@dataclass(frozen=True)
class IngestResult:
    memory: str
    index: int
    part_key: str
    new: bool  # False: we had it already (a re-read after a crash)
    quarantined: bool
    message_ids: tuple[int, ...]  # messages completed by this part
    suppressed: tuple[str, ...] = ()  # why replies to those messages were not sent
    error: str | None = None  # why it was quarantined (never the SMS text)

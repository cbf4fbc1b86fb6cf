"""Multipart (concatenated) SMS: deciding when a message is complete. Pure.

Parts are stored as they arrive (promise P7); this module looks at what is stored for one
group and says whether the message is complete, and builds the text of a complete message or
of a partial one released after the timeout (missing parts marked, never dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sms1708.core.pdu import join_parts

MISSING_MARK = "[...]"


@dataclass(frozen=True)
class StoredPart:
    seq: int
    text: str
    part_key: str
    sent_at: float | None = None  # SMSC timestamp (unix seconds), to tell apart two messages
    data: bytes | None = None  # a UCS-2 part's raw user data: joined before decoding

    @property
    def piece(self) -> str | bytes:
        """What :func:`join_parts` joins: the raw UCS-2 data where there is some."""
        return self.text if self.data is None else self.data


@dataclass(frozen=True)
class Assembly:
    text: str
    part_keys: tuple[str, ...]  # the parts used, in order (a duplicate seq keeps the first)
    missing: tuple[int, ...]  # part numbers that never arrived

    @property
    def partial(self) -> bool:
        return bool(self.missing)


def _by_seq(parts: Sequence[StoredPart]) -> dict[int, StoredPart]:
    chosen: dict[int, StoredPart] = {}
    for p in parts:
        chosen.setdefault(p.seq, p)
    return chosen


#: parts of one message reach the SMS centre within this many seconds of each other (a phone
#: sends them back to back; half an hour leaves room for a network that holds some back)
MAX_SPREAD = 1800.0


def complete(total: int, parts: Sequence[StoredPart]) -> Assembly | None:
    """The assembled message if every part 1..total is there, else None.

    Normally a group holds one message (repeated parts are duplicates). A phone that reuses
    its reference can put two messages in one group, so a message is made only of parts
    sent close together (``MAX_SPREAD``); other parts wait for their own message (or for the
    timeout, which releases them with nothing lost).
    """
    by_seq: dict[int, list[StoredPart]] = {}
    for p in parts:
        same = by_seq.setdefault(p.seq, [])
        if all(q.piece != p.piece for q in same):
            same.append(p)  # a repeated part with the same text is a duplicate: keep the first
    if any(seq not in by_seq for seq in range(1, total + 1)):
        return None
    found = _consistent(total, by_seq)
    if found is None:
        return None
    ordered = found
    return Assembly(join_parts([p.piece for p in ordered]), tuple(p.part_key for p in ordered), ())


def _consistent(total: int, by_seq: dict[int, list[StoredPart]]) -> list[StoredPart] | None:
    """One part per number, all sent within MAX_SPREAD of the first part, earliest first.
    Without timestamps, the first arrival of each number (nothing better to go on)."""
    stamps = {id(p): p.sent_at for c in by_seq.values() for p in c}
    if any(t is None for t in stamps.values()):
        return [by_seq[s][0] for s in range(1, total + 1)]

    def at(p: StoredPart) -> float:
        return p.sent_at or 0.0

    for first in by_seq[1]:
        chosen = [first]
        for seq in range(2, total + 1):
            near = [p for p in by_seq[seq] if abs(at(p) - at(first)) <= MAX_SPREAD]
            if not near:
                break
            chosen.append(min(near, key=lambda p: abs(at(p) - at(first))))
        else:
            return chosen
    return None


def release(total: int, parts: Sequence[StoredPart]) -> Assembly:
    """Assemble whatever is there, marking each run of missing parts with ``[...]``."""
    chosen = _by_seq(parts)
    present: list[StoredPart | None] = []  # None: a run of missing parts
    missing: list[int] = []
    for seq in range(1, total + 1):
        if seq in chosen:
            present.append(chosen[seq])
        else:
            missing.append(seq)
            if not present or present[-1] is not None:
                present.append(None)
    # a part numbered outside 1..total: keep its text rather than drop it
    present += [p for s, p in sorted(chosen.items()) if s > total or s < 1]
    # the mark gets a space on each side that has a neighbour not already spaced there; the
    # parts' own text (line breaks, double spaces) is kept exactly as it arrived
    pieces: list[str | bytes] = []
    for i, p in enumerate(present):
        if p is None:
            prev, nxt = (
                present[i - 1] if i else None,
                present[i + 1] if i + 1 < len(present) else None,
            )
            before = prev is not None and prev.text[-1:].strip() != ""
            after = nxt is not None and nxt.text[:1].strip() != ""
            pieces.append(f"{' ' if before else ''}{MISSING_MARK}{' ' if after else ''}")
        else:
            pieces.append(p.piece)
    keys = tuple(p.part_key for p in present if p is not None)
    return Assembly(join_parts(pieces), keys, tuple(missing))


def expired(first_seen: float, now: float, timeout: float) -> bool:
    return now - first_seen >= timeout


def cap_text(text: str, limit: int) -> str:
    """Bound a complaint's text (a 255-part flood is ~39,000 characters); the parts stay raw."""
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()} {MISSING_MARK} (cut at {limit} characters)"

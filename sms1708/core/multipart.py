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


def complete(total: int, parts: Sequence[StoredPart]) -> Assembly | None:
    """The assembled message if every part 1..total is there, else None."""
    chosen = _by_seq(parts)
    if any(seq not in chosen for seq in range(1, total + 1)):
        return None
    ordered = [chosen[s] for s in range(1, total + 1)]
    return Assembly(join_parts([p.text for p in ordered]), tuple(p.part_key for p in ordered), ())


def release(total: int, parts: Sequence[StoredPart]) -> Assembly:
    """Assemble whatever is there, marking each run of missing parts with ``[...]``."""
    chosen = _by_seq(parts)
    texts: list[str] = []
    keys: list[str] = []
    missing: list[int] = []
    for seq in range(1, total + 1):
        if seq in chosen:
            texts.append(chosen[seq].text)
            keys.append(chosen[seq].part_key)
        else:
            missing.append(seq)
            if not texts or texts[-1] != MISSING_MARK:
                texts.append(MISSING_MARK)
    extra = [p for s, p in sorted(chosen.items()) if s > total or s < 1]
    for p in extra:  # a part numbered outside 1..total: keep its text rather than drop it
        texts.append(p.text)
        keys.append(p.part_key)
    # the mark gets a space on each side that has a neighbour not already spaced there; the
    # parts' own text (line breaks, double spaces) is kept exactly as it arrived
    pieces: list[str] = []
    for i, t in enumerate(texts):
        if t == MISSING_MARK:
            before = i > 0 and texts[i - 1][-1:].strip() != ""
            after = i + 1 < len(texts) and texts[i + 1][:1].strip() != ""
            t = f"{' ' if before else ''}{MISSING_MARK}{' ' if after else ''}"
        pieces.append(t)
    return Assembly(join_parts(pieces), tuple(keys), tuple(missing))


def expired(first_seen: float, now: float, timeout: float) -> bool:
    return now - first_seen >= timeout


def cap_text(text: str, limit: int) -> str:
    """Bound a complaint's text (a 255-part flood is ~39,000 characters); the parts stay raw."""
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()} {MISSING_MARK} (cut at {limit} characters)"

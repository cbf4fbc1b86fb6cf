"""The SMS grammar: one citizen's SMS text -> one complaint record. Pure and total.

Accepts what people type on feature phones: any case, doubled spaces, the usual separators
(``# * . : , / -``) between a keyword and the rest, a keyword glued to its separator
(``LAPOR#jalan rusak``). No keyword at all means a complaint with the whole text: there is no
wrong door, and no "format salah" reply.

Flags ``RAHASIA`` (confidential: the whole report hidden from the public) and ``ANONIM``
(anonymous: the reporter's identity hidden) may appear anywhere as words or fields.

Keywords come from a :class:`Keywords` table; the defaults are Bahasa Indonesia.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("pengaduan", "aspirasi", "informasi", "status", "bantuan")
FORWARDED_KINDS = frozenset({"pengaduan", "aspirasi", "informasi"})

DEFAULT_KEYWORDS: Mapping[str, Sequence[str]] = {
    "pengaduan": ("LAPOR", "LAPORAN", "ADUAN", "ADU", "PENGADUAN", "KOMPLAIN", "KELUHAN"),
    "aspirasi": ("ASPIRASI", "USUL", "USULAN", "SARAN"),
    "informasi": ("INFO", "INFORMASI", "TANYA"),
    "status": ("CEK", "STATUS"),
    "bantuan": ("BANTUAN", "HELP", "MENU"),
}
DEFAULT_FLAGS: Mapping[str, Sequence[str]] = {
    "confidential": ("RAHASIA",),
    "anonymous": ("ANONIM", "ANONYM", "ANONYMOUS"),
}

SEPARATORS = "#*.:,/-"
_SEP_CLASS = re.escape(SEPARATORS)
_LEAD = re.compile(rf"^[\s{_SEP_CLASS}]*([A-Za-z]+)(?=$|[\s{_SEP_CLASS}?])")
_TOKEN = re.compile(rf"[^\s{_SEP_CLASS}]+")
_REFERENCE = re.compile(r"#?\s*([0-9]{1,12})(?![0-9])")
_FIELD_SEP = re.compile(rf"\s*[{_SEP_CLASS}]")


@dataclass(frozen=True)
class Keywords:
    """Keyword table: kind -> words, flag -> words (upper case)."""

    kinds: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_KEYWORDS)
    flags: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_FLAGS)

    def kind_of(self, word: str) -> str | None:
        w = word.upper()
        for kind, words in self.kinds.items():
            if w in words:
                return kind
        return None

    def flag_of(self, word: str) -> str | None:
        w = word.upper()
        for flag, words in self.flags.items():
            if w in words:
                return flag
        return None


@dataclass(frozen=True)
class Record:
    kind: str
    text: str
    anonymous: bool = False
    confidential: bool = False
    category: str | None = None
    location: str | None = None
    reference: str | None = None
    keyword: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def clean(text: str) -> str:
    """Control characters out, whitespace collapsed, NFC; emoji and letters kept as they are."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        cat = unicodedata.category(ch)
        if ch in "\r\n\t" or cat == "Zs":
            out.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            if ch == "\u200d":  # keep zero-width joiner inside emoji sequences
                out.append(ch)
            continue
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def _strip_flags(text: str, table: Keywords) -> tuple[str, set[str]]:
    flags: set[str] = set()
    kept: list[str] = []
    pos = 0
    last = ""  # the last non-space character kept so far
    for m in _TOKEN.finditer(text):
        flag = table.flag_of(m.group(0))
        if flag:
            flags.add(flag)
            segment = text[pos : m.start()].rstrip()
            kept.append(segment)
            last = segment[-1:] or last
            pos = m.end()
            # the flag's own field separator goes with it ("LAPOR#RAHASIA#isi" -> "LAPOR#isi"),
            # and only that one: separators in the citizen's text ("Rp 50.000,-") stay as typed
            after = _FIELD_SEP.match(text, pos)
            if after and (not last or last in SEPARATORS):
                pos = after.end()
            kept.append(" ")
    kept.append(text[pos:])
    return " ".join("".join(kept).split()), flags


def _strip_lead_separators(text: str) -> str:
    return text.lstrip(SEPARATORS + " ").strip()


def parse(text: str, table: Keywords | None = None) -> Record:
    """Parse one SMS text. Never raises; any string gives a record."""
    table = table or Keywords()
    body = clean(text if isinstance(text, str) else str(text))
    if body in ("", "?") or set(body) <= set(SEPARATORS + "? "):
        return Record(kind="bantuan", text="")
    body, flags = _strip_flags(body, table)
    kind = "pengaduan"
    keyword: str | None = None
    m = _LEAD.match(body)
    if m and (found := table.kind_of(m.group(1))):
        kind, keyword = found, m.group(1).upper()
        body = _strip_lead_separators(body[m.end() :])
    elif body.startswith("?"):
        kind = "bantuan"
        body = _strip_lead_separators(body[1:])
    reference: str | None = None
    if kind == "status":
        r = _REFERENCE.match(body)
        if r:
            reference = r.group(1)
            body = _strip_lead_separators(body[r.end() :])
    return Record(
        kind=kind,
        text=body,
        anonymous="anonymous" in flags,
        confidential="confidential" in flags,
        reference=reference,
        keyword=keyword,
    )

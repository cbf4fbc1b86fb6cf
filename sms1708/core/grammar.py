"""The SMS grammar: one citizen's SMS text -> one complaint record. Pure and total.

Read as people type on feature phones, and never reject ("no wrong door"):

- The first word, after any privacy flags, may be a keyword of a kind (``LAPOR``, ``ASPIRASI``,
  ``INFO``, ``CEK``, ``BANTUAN`` ...): any case, glued to a separator (``LAPOR#``, ``lapor:``) or
  followed by a space; ``CEK1916449`` and ``cek#123`` carry the report number. Keywords of 5+
  letters forgive one typo (8+ letters: two; Damerau-Levenshtein, first letter right), except for
  the everyday words of the stop list (``lapar`` is hungry, not ``lapor``).
- No keyword: a ``pengaduan`` with the whole text. Only ``?`` or an empty SMS is ``bantuan``.
  ``BANTUAN`` followed by a real report ("bantuan sosial tidak sampai ke warga") and ``CEK``
  without a number followed by one are complaints with the whole text: nothing is lost.
- ``RAHASIA`` (confidential) and ``ANONIM`` (anonymous) set their flag wherever they are, with
  the same typo tolerance. At the start, at the end or as a whole ``#`` field they are markers and
  leave the text; inside a sentence they set the flag and stay (the sentence stays readable).
- ``LAPOR#<kategori>#<lokasi>#<isi>`` and ``LAPOR <kecamatan> <isi>``: a field that is a category
  name or a place of the gazetteer fills ``category`` / ``location`` and leaves the text; a field
  that is anything else stays in the text as typed.
- ``category`` comes from the lexicon and ``location`` from the gazetteer (see
  :mod:`sms1708.core.lexicon` and :mod:`sms1708.core.places`), ``None`` when unsure.
- A pengaduan or aspirasi of fewer than ``short_report_words`` words gets ``hint="short"``.

Keywords, flags, the stop list, the lexicon and the gazetteer come from a
:class:`~sms1708.core.grammar_tables.GrammarTables`; the shipped defaults are the TOML files in
``sms1708/data`` (read and checked by :mod:`sms1708.table_files`, since reading files is not the
core's business). ``GrammarTables()`` alone has the default keywords and flags but no lexicon
and no gazetteer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set
from dataclasses import asdict, dataclass, field
from typing import Any

from sms1708.core.grammar_tables import (
    DEFAULT_FOLLOWUP_WORDS,
    FORWARDED_KINDS,
    KINDS,
    GrammarTables,
)
from sms1708.core.lexicon import FUZZY_WORDS, count_words
from sms1708.core.places import Place

__all__ = [
    "DEFAULT_FOLLOWUP_WORDS",
    "FORWARDED_KINDS",
    "HINT_SHORT",
    "KINDS",
    "SEPARATORS",
    "GrammarTables",
    "Record",
    "clean",
    "parse",
    "parse_strict",
]

HINT_SHORT = "short"

SEPARATORS = "#*.:,/-"
_GAP = SEPARATORS + " "
_FIELD_SEPARATORS = "#*"
#: a word of the head (keywords, flags): anything up to a space, a separator, ``?`` or ``!``
_TOKEN = re.compile(r"[^\s#*.:,/\-?!]+")
_GLUED_REFERENCE = re.compile(r"([^\W\d_]+)([0-9]{1,12})")
_DIGITS = re.compile(r"[0-9]{1,12}")
_FIELDS = re.compile(r"([#*])")
_FEW_WORDS = 3  # BANTUAN / CEK without a number followed by more: a complaint
_MAX_HEAD = 12  # head words looked at (flags and the keyword)


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
    hint: str | None = None  # "short": a very short report (the reply may ask for more)
    location_code: str | None = None  # Kemendagri code of the most specific place, if known

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


def parse(text: str, table: GrammarTables | None = None) -> Record:
    """Parse one SMS text. Never raises: any string gives a record.

    Should a bug ever make the grammar fail, the message is still recorded, as a complaint
    with the cleaned text (the tests run :func:`parse_strict`, which has no such net).
    """
    try:
        return parse_strict(text, table)
    except Exception:  # pragma: no cover - a safety net, not a code path
        try:
            return Record(kind="pengaduan", text=clean(str(text)))
        except Exception:
            return Record(kind="pengaduan", text="")


@dataclass
class _Head:
    flags: set[str] = field(default_factory=set)
    kind: str | None = None
    keyword: str | None = None
    typed: str = ""  # the keyword as typed
    reference: str | None = None
    end: int = 0  # offset after the last head word
    consumed: bool = False


def _read_head(body: str, t: GrammarTables, exempt: Set[int]) -> _Head:
    """Flags and at most one keyword at the start of the message."""
    head = _Head()
    pos = 0
    for _ in range(_MAX_HEAD):
        while pos < len(body) and body[pos] in _GAP:
            pos += 1
        m = _TOKEN.match(body, pos)
        if not m:
            break
        word = m.group()
        end = m.end()
        flag = t.flag_of(word) if m.start() not in exempt else None
        if flag:
            head.flags.add(flag)
        elif head.kind is not None:
            break
        elif hit := t.keyword_of(word):
            head.kind, head.keyword, head.typed = hit[0], hit[1], word
        elif (g := _GLUED_REFERENCE.fullmatch(word)) and t.kind_of(g.group(1)) == "status":
            head.kind, head.typed, head.reference = "status", word, g.group(2)
            head.keyword = g.group(1).upper()
        elif glued := _glued_aspiration(word, t):
            head.kind, head.keyword, head.typed = "aspirasi", glued, word[: len(glued)]
            end = m.start() + len(glued)
        else:
            break
        pos = head.end = end
        head.consumed = True
    return head


_SUFFIXES = ("kan", "nya", "lah", "kah", "an", "ku", "mu", "in")


def _glued_aspiration(word: str, t: GrammarTables) -> str | None:
    """``USULperbaikan``, ``aspirasipembangunan``: an aspirasi keyword glued to the next word."""
    if not word.isalpha() or word.lower() in t.never:
        return None
    up = word.upper()
    for kw in sorted(t.kinds.get("aspirasi", ()), key=len, reverse=True):
        kw = kw.upper()
        tail = up[len(kw) :].lower()
        if up.startswith(kw) and len(tail) >= 4 and not tail.startswith(_SUFFIXES):
            return kw
    return None


def _exempt(body: str, t: GrammarTables) -> set[int]:
    """Offsets of flag words used in another sense ("rahasia umum", "surat kaleng anonim")."""
    tokens = [m for _, m in zip(range(600), _TOKEN.finditer(body), strict=False)]
    spans = t.phrases.not_flag_spans([m.group().lower() for m in tokens])
    return {tokens[i].start() for i in spans}


def _body_flags(
    rest: str, t: GrammarTables, exempt: Set[int] = frozenset(), shift: int = 0
) -> tuple[str, set[str]]:
    """Flags in the body: all set their flag; trailing ones and whole ``#`` fields are removed.
    ``exempt``: offsets (in the message, ``shift`` before ``rest``) of words that are no flag."""
    matches = _TOKEN.finditer(rest)
    tokens = [
        (m, None if m.start() + shift in exempt else t.flag_of(m.group(), fuzzy=i < FUZZY_WORDS))
        for i, m in enumerate(matches)
    ]
    flags = {f for _, f in tokens if f}
    if not flags:
        return rest, flags
    cuts: list[tuple[int, int]] = []
    tail = len(tokens)
    while tail > 0 and tokens[tail - 1][1]:
        tail -= 1
    if tail < len(tokens):
        start = tokens[tail][0].start()
        while start > 0 and rest[start - 1] in " #*,:/-":
            start -= 1
        cuts.append((start, tokens[-1][0].end()))
    for m, flag in tokens[:tail]:
        before = rest[: m.start()].rstrip()
        after = rest[m.end() :].lstrip()
        if flag and (not before or before[-1] in _FIELD_SEPARATORS) and after[:1] in ("#", "*"):
            cuts.append((m.start(), len(rest) - len(after) + 1))
    for start, end in sorted(cuts, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    return " ".join(rest.split()), flags


def _reference(rest: str, t: GrammarTables) -> tuple[str | None, str]:
    """``(number, rest)`` for ``12345``, ``#12345``, ``no. 12345``, ``laporan saya 12345``."""
    pos = 0
    for m in _TOKEN.finditer(rest):
        if rest[pos : m.start()].strip(_GAP) or m.start() > 60:
            break
        word = m.group()
        if _DIGITS.fullmatch(word):
            return word, rest[m.end() :].lstrip(_GAP)
        if not t.is_reference_word(word):
            break
        pos = m.end()
    return None, rest


def _structured(rest: str, t: GrammarTables) -> tuple[str, str | None, Place | None]:
    """``<kategori>#<lokasi>#<isi>`` fields and ``<kecamatan> <isi>``: (text, category, place).

    Only a field that is wholly a category name or a place leaves the text; a field that is one
    term of the lexicon ("jalan rusak") sets the category and stays. Anything else stays as typed.
    """
    parts = _FIELDS.split(rest)
    fields, seps = parts[0::2], parts[1::2]
    category: str | None = None
    place: Place | None = None
    gone: set[int] = set()
    if len(fields) >= 2:
        for i, raw in enumerate(fields[:2]):
            f = raw.strip()
            if not f:
                continue
            name, pure = t.lexicon.label(f) if category is None else (None, False)
            if name:
                category = name
                if pure:
                    gone.add(i)
                continue
            found = t.gazetteer.whole_place(f) if place is None else None
            if found:
                place = found
                gone.add(i)
                continue
            break
    if gone:
        kept = [
            (f, seps[i] if i < len(seps) else "") for i, f in enumerate(fields) if i not in gone
        ]
        text = "".join(f + s for f, s in kept).strip()
        if len(fields) - 1 in gone:
            text = text.rstrip(_FIELD_SEPARATORS + " ")
        return text, category, place
    lead = t.gazetteer.leading_place(rest)
    if lead:
        place, end = lead
        rest = rest[end:].lstrip(_GAP)
    return rest, category, place


def parse_strict(text: str, table: GrammarTables | None = None) -> Record:
    """:func:`parse` without the safety net (for tests: a bug here raises)."""
    t = table if table is not None else GrammarTables()
    body = clean(text if isinstance(text, str) else str(text))
    if not body.strip(SEPARATORS + "? "):
        return Record(kind="bantuan", text="")
    exempt = _exempt(body, t)
    head = _read_head(body, t, exempt)
    kind = head.kind or "pengaduan"
    keyword = head.keyword
    reference = head.reference
    after = body[head.end :]
    if keyword and not reference and after.strip(_GAP) and not after.strip(_GAP + "?"):
        # "lapor?", "CEK?": asking how it works
        return Record("bantuan", "", *_flags(head.flags), keyword=keyword)
    rest = after.lstrip(_GAP + ("?!" if keyword else "")) if head.consumed else body
    rest, flags = _body_flags(rest, t, exempt, len(body) - len(rest))
    flags |= head.flags | t.phrases.privacy_flags(rest)
    if keyword and kind == "pengaduan" and t.is_reference_word(keyword):
        # "laporan saya nomor 77 sudah sampai mana?": asking about a report
        asked = t.phrases.status_reference(f"{head.typed} {rest}", strict=True)
        if asked is not None:
            kind, reference = "status", asked
    if kind == "status" and reference is None:
        reference, rest_after = _reference(rest, t)
        if reference is not None:
            rest = rest_after
        elif count_words(rest) > _FEW_WORDS:  # "cek jalan rusak di desa ...": a report
            kind, keyword, rest = "pengaduan", None, f"{head.typed} {rest}"
    elif kind == "bantuan" or (keyword is None and rest.startswith("?")):
        question = rest if keyword else rest.lstrip("?!" + _GAP)
        if count_words(question) <= _FEW_WORDS and not t.lexicon.scores(question):
            kind, rest = "bantuan", question
        else:  # "bantuan sosial tidak sampai ke warga": a report
            kind = "pengaduan"
            rest = f"{head.typed} {rest}" if keyword else rest  # the whole text, "?" too
            keyword = None
    elif keyword is None and not rest and head.consumed:
        kind = "bantuan"  # only flags: "RAHASIA"
    elif keyword is None and kind == "pengaduan" and rest:
        kind, keyword, reference, rest = _meaning(rest, t)
    category: str | None = None
    location: Place | None = None
    whole = rest  # the report before category/place fields were taken out of it
    if kind in FORWARDED_KINDS:
        field_category = field_place = None
        if keyword is not None:
            rest, field_category, field_place = _structured(rest, t)
        category = field_category or t.lexicon.infer(rest)
        # a place field is the citizen's own word; a desa named in the text may refine it
        location = (t.gazetteer.find_place(whole) or field_place) if field_place else None
        location = location or t.gazetteer.find_place(rest)
    rest = " ".join(rest.split())
    hint = None  # fields that named a category or place count as words of the report
    if kind in ("pengaduan", "aspirasi") and count_words(whole) < t.short_report_words:
        hint = HINT_SHORT
    return Record(
        kind=kind,
        text=rest,
        anonymous="anonymous" in flags,
        confidential="confidential" in flags,
        category=category,
        location=location.label() if location else None,
        reference=reference if kind == "status" else None,
        keyword=keyword,
        hint=hint,
        location_code=location.code if location else None,
    )


def _meaning(rest: str, t: GrammarTables) -> tuple[str, str | None, str | None, str]:
    """A message without a keyword: (kind, keyword, reference, text) from its phrasing.
    Anything not recognised stays a complaint with the whole text."""
    ph = t.phrases
    if (asked := ph.status_reference(rest)) is not None:
        return "status", None, asked, rest
    if ph.is_help(rest):
        return "bantuan", None, None, rest
    if ph.asks(rest):
        return "informasi", None, None, rest
    tokens = list(_TOKEN.finditer(rest))
    last = t.keyword_of(tokens[-1].group(), fuzzy=False) if len(tokens) >= 2 else None
    if last is not None and last[0] == "aspirasi":  # "... tolong dibangun jembatan. ASPIRASI"
        return "aspirasi", last[1], None, rest[: tokens[-1].start()].rstrip(_GAP + "#*")
    if ph.is_aspiration(rest):
        return "aspirasi", None, None, rest
    if ph.is_question(rest):
        return "informasi", None, None, rest
    return "pengaduan", None, None, rest


def _flags(flags: set[str]) -> tuple[bool, bool]:
    return "anonymous" in flags, "confidential" in flags

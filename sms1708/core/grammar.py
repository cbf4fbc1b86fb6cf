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

Keywords, flags, the stop list, the lexicon and the gazetteer come from a :class:`Tables`; the
shipped defaults are the TOML files in ``sms1708/data`` (loaded by :mod:`sms1708.tables`, since
reading files is not the core's business). ``Tables()`` alone has the default keywords and flags
but no lexicon and no gazetteer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence, Set
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from sms1708.core.lexicon import (
    FUZZY_WORDS,
    Lexicon,
    count_words,
    near,
    typo_budget,
    typo_thresholds,
)
from sms1708.core.meaning import Phrases, phrases_from_dict
from sms1708.core.places import Gazetteer, Place
from sms1708.errors import ConfigError

KINDS = ("pengaduan", "aspirasi", "informasi", "status", "bantuan")
FORWARDED_KINDS = frozenset({"pengaduan", "aspirasi", "informasi"})
HINT_SHORT = "short"

# The built-in defaults: the same as sms1708/data/keywords.toml (a test keeps them equal).
DEFAULT_KEYWORDS: Mapping[str, Sequence[str]] = {
    "pengaduan": (
        "LAPOR",
        "LAPORAN",
        "MELAPOR",
        "ADUAN",
        "MENGADU",
        "PENGADUAN",
        "KOMPLAIN",
        "KOMPLEN",
        "KELUHAN",
    ),
    "aspirasi": ("ASPIRASI", "USUL", "USULAN", "SARAN"),
    "informasi": ("INFO", "INFORMASI", "TANYA", "NANYA", "INPO", "IMFO"),
    "status": ("CEK", "STATUS"),
    "bantuan": ("BANTUAN", "HELP", "MENU"),
}
DEFAULT_FLAGS: Mapping[str, Sequence[str]] = {
    "confidential": ("RAHASIA",),
    "anonymous": ("ANONIM", "ANONYM", "ANONYMOUS", "ANONIMUS"),
}
#: everyday words within typo distance of a keyword or flag, never read as one (lower case)
_NEVER = """
    lapar laper lapo lapir lapur lopor lampor laparan laboran
    acuan ajuan akuan adaan adun adunan abuan adnan aruan
    pengadaan pengajuan pengadilan pengajian pengairan pengaturan penganan peraduan pengaitan
    pengalian penjamuan penjadian pengada pengaduh pengaduhan pengandaan pengapan penadaan
    penaduan pemaduan
    komplet keluan keruhan ketuhan
    aspiran aspirat aspiratif inflamasi informal informan informatif
    usilan usutan
    saban sahan saman sara saraf sarai sarak sarana sarang sarap sarat sarau sarean saren saron
    sartan sawan seran siaran
    tanda tania tanpa tasnya tuanya
    statis stratus
    bantun batuan buntuan
    alonim antonim
    """
DEFAULT_NEVER: frozenset[str] = frozenset(_NEVER.split())
#: words that name the report an SMS adds to ("TAMBAH 125 ..."): see sms1708.core.followup
DEFAULT_FOLLOWUP_WORDS: Sequence[str] = ("TAMBAH", "TAMBAHAN", "TAMBAHKAN")
DEFAULT_REFERENCE_WORDS: Sequence[str] = (
    "NO",
    "NOMOR",
    "NOMER",
    "NMR",
    "LAPORAN",
    "PENGADUAN",
    "ADUAN",
    "TIKET",
    "ID",
    "STATUS",
    "SAYA",
    "SY",
    "KAMI",
    "YG",
    "YANG",
    "DONG",
    "DONK",
    "DULU",
    "YA",
    "PAK",
    "BU",
    "MIN",
    "KAK",
    "TOLONG",
    "MOHON",
    "LAGI",
    "NIH",
    "PUNYA",
    "UTK",
    "UNTUK",
)

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
class _WordIndex:
    keywords: dict[str, str]  # upper -> kind
    flags: dict[str, str]  # upper -> flag
    fuzzy_keywords: tuple[tuple[str, str, int], ...]  # (lower, kind, budget)
    fuzzy_flags: tuple[tuple[str, str, int], ...]
    reference_words: frozenset[str]


@dataclass(frozen=True)
class Tables:
    """Everything the grammar reads a message with. ``Tables()``: built-in keywords and flags,
    no category lexicon, no gazetteer (use :func:`sms1708.tables.default_tables` for those)."""

    kinds: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_KEYWORDS)
    flags: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_FLAGS)
    never: frozenset[str] = DEFAULT_NEVER
    reference_words: Sequence[str] = DEFAULT_REFERENCE_WORDS
    typo_one_from: int = 5
    typo_two_from: int = 8
    short_report_words: int = 3
    lexicon: Lexicon = field(default_factory=Lexicon)
    gazetteer: Gazetteer = field(default_factory=Gazetteer)
    phrases: Phrases = field(default_factory=Phrases)
    followup_words: Sequence[str] = DEFAULT_FOLLOWUP_WORDS

    @cached_property
    def _index(self) -> _WordIndex:
        def budget(word: str) -> int:
            return typo_budget(len(word), self.typo_one_from, self.typo_two_from)

        keywords = {w.upper(): kind for kind, ws in self.kinds.items() for w in ws}
        flags = {w.upper(): flag for flag, ws in self.flags.items() for w in ws}
        return _WordIndex(
            keywords=keywords,
            flags=flags,
            fuzzy_keywords=tuple(
                (w.lower(), k, budget(w)) for w, k in keywords.items() if budget(w)
            ),
            fuzzy_flags=tuple((w.lower(), f, budget(w)) for w, f in flags.items() if budget(w)),
            reference_words=frozenset(w.upper() for w in self.reference_words),
        )

    def _closest(self, word: str, table: tuple[tuple[str, str, int], ...]) -> str | None:
        """The canonical word closest to a typo ``word``, if one is clearly closest."""
        low = word.lower()
        if not low.isalpha() or low in self.never:
            return None
        best: list[tuple[str, str]] = []
        best_d = 99
        for target, meaning, b in table:
            d = near(low, target, b)
            if d is not None and d <= best_d:
                best = [*best, (target, meaning)] if d == best_d else [(target, meaning)]
                best_d = d
        if len({meaning for _, meaning in best}) != 1:
            return None  # nothing near, or as near to two different kinds: not a guess
        return min(best)[0].upper()

    def keyword_of(self, word: str, fuzzy: bool = True) -> tuple[str, str] | None:
        """``(kind, KEYWORD)`` for a keyword, a typo of one (``fuzzy``), or ``None``."""
        ix = self._index
        up = word.upper()
        if up in ix.keywords:
            return ix.keywords[up], up
        found = self._closest(word, ix.fuzzy_keywords) if fuzzy else None
        return (ix.keywords[found], found) if found else None

    def is_reference_word(self, word: str) -> bool:
        """A word allowed between a status keyword and the number (``cek no. 12``)."""
        return word.upper() in self._index.reference_words

    def kind_of(self, word: str) -> str | None:
        hit = self.keyword_of(word)
        return hit[0] if hit else None

    def flag_of(self, word: str, fuzzy: bool = True) -> str | None:
        """``confidential`` / ``anonymous`` for a flag word or a typo of one, else ``None``."""
        ix = self._index
        up = word.upper()
        if up in ix.flags:
            return ix.flags[up]
        found = self._closest(word, ix.fuzzy_flags) if fuzzy else None
        return ix.flags[found] if found else None


#: the name intake and older callers use
Keywords = Tables


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


def parse(text: str, table: Tables | None = None) -> Record:
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


def _read_head(body: str, t: Tables, exempt: Set[int]) -> _Head:
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


def _glued_aspiration(word: str, t: Tables) -> str | None:
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


def _exempt(body: str, t: Tables) -> set[int]:
    """Offsets of flag words used in another sense ("rahasia umum", "surat kaleng anonim")."""
    tokens = [m for _, m in zip(range(600), _TOKEN.finditer(body), strict=False)]
    spans = t.phrases.not_flag_spans([m.group().lower() for m in tokens])
    return {tokens[i].start() for i in spans}


def _body_flags(
    rest: str, t: Tables, exempt: Set[int] = frozenset(), shift: int = 0
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


def _reference(rest: str, t: Tables) -> tuple[str | None, str]:
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


def _structured(rest: str, t: Tables) -> tuple[str, str | None, Place | None]:
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


def parse_strict(text: str, table: Tables | None = None) -> Record:
    """:func:`parse` without the safety net (for tests: a bug here raises)."""
    t = table if table is not None else Tables()
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


def _meaning(rest: str, t: Tables) -> tuple[str, str | None, str | None, str]:
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


# ------------------------------------------------------------------ building tables from TOML


def _word_list(value: Any, key: str, *, letters_only: bool = True) -> tuple[str, ...]:
    pattern = r"[^\W\d_]+" if letters_only else r"[^\W_]+"
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, "must be a list of words")
    for v in value:
        if not re.fullmatch(pattern, v):
            what = "letters" if letters_only else "letters or digits"
            raise ConfigError(key, f"{v!r} must be one word of {what} (no spaces or symbols)")
    return tuple(value)


def keywords_from_dict(data: Mapping[str, Any]) -> Tables:
    """Tables (keywords, flags, stop list, hints; no lexicon, no gazetteer) from a parsed
    keywords.toml. Raises :class:`ConfigError` naming the key and the problem."""
    sections = {"kinds", "flags", "typos", "status", "hints", "phrases", "privacy", "followups"}
    for key, value in data.items():
        if key not in sections:
            raise ConfigError(key, f"unknown section (expected {', '.join(sorted(sections))})")
        if not isinstance(value, Mapping):
            raise ConfigError(key, "must be a table")
    kinds_in = data.get("kinds")
    if not isinstance(kinds_in, Mapping) or not kinds_in:
        raise ConfigError("kinds", "missing: the table of keywords per kind")
    owner: dict[str, str] = {}
    kinds: dict[str, tuple[str, ...]] = {}
    for kind, words in kinds_in.items():
        if kind not in KINDS:
            raise ConfigError(f"kinds.{kind}", f"unknown kind (expected one of {', '.join(KINDS)})")
        kinds[kind] = tuple(w.upper() for w in _word_list(words, f"kinds.{kind}"))
        for w in kinds[kind]:
            if owner.setdefault(w, kind) != kind:
                raise ConfigError(f"kinds.{kind}", f"{w!r} is also a keyword of {owner[w]!r}")
    flags: dict[str, tuple[str, ...]] = {}
    for flag, words in data.get("flags", DEFAULT_FLAGS).items():
        if flag not in ("confidential", "anonymous"):
            raise ConfigError(f"flags.{flag}", "unknown flag (expected confidential, anonymous)")
        flags[flag] = tuple(w.upper() for w in _word_list(list(words), f"flags.{flag}"))
        for w in flags[flag]:
            if owner.setdefault(w, flag) != flag:
                raise ConfigError(f"flags.{flag}", f"{w!r} is also {owner[w]!r}")
    typos = dict(data.get("typos", {}))
    never = frozenset(w.lower() for w in _word_list(typos.pop("never", []), "typos.never"))
    for w in never:
        if w.upper() in owner:
            raise ConfigError("typos.never", f"{w!r} is a keyword or flag, it cannot be in never")
    one, two = typo_thresholds(typos, default_two=8)
    status = data.get("status", {})
    if set(status) - {"reference_words"}:
        raise ConfigError("status", "unknown key (expected reference_words)")
    refs = _word_list(
        status.get("reference_words", []), "status.reference_words", letters_only=False
    )
    hints = data.get("hints", {})
    if set(hints) - {"short_report_words"}:
        raise ConfigError("hints", "unknown key (expected short_report_words)")
    short = hints.get("short_report_words", 3)
    if not isinstance(short, int) or isinstance(short, bool) or not 0 <= short <= 50:
        raise ConfigError("hints.short_report_words", "must be a whole number from 0 to 50")
    followups = data.get("followups", {})
    if set(followups) - {"words"}:
        raise ConfigError("followups", "unknown key (expected words)")
    words = _word_list(followups.get("words", list(DEFAULT_FOLLOWUP_WORDS)), "followups.words")
    for w in words:
        if w.upper() in owner:
            raise ConfigError("followups.words", f"{w!r} is also a keyword or flag")
    return Tables(
        kinds=kinds,
        flags=flags,
        never=never,
        reference_words=tuple(r.upper() for r in refs),
        typo_one_from=one,
        typo_two_from=two,
        short_report_words=short,
        phrases=phrases_from_dict(data.get("phrases"), data.get("privacy")),
        followup_words=tuple(w.upper() for w in words),
    )

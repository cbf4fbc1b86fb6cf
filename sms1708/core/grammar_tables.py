"""The words the grammar reads a message with: kinds and their keywords, privacy flags, the stop
list of everyday words, report-reference words, and the typo budget. Pure.

:class:`GrammarTables` bundles them with the category lexicon (:mod:`sms1708.core.lexicon`), the
gazetteer (:mod:`sms1708.core.places`) and the phrase tables (:mod:`sms1708.core.meaning`). The
shipped tables are the TOML files in ``sms1708/data``, read and checked by
:mod:`sms1708.table_files` (reading files is not the core's business); the core takes them ready
made. ``GrammarTables()`` alone has the built-in keywords and flags but no lexicon and no
gazetteer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sms1708.core.lexicon import Lexicon, near, typo_budget
from sms1708.core.meaning import Phrases
from sms1708.core.places import Gazetteer

KINDS = ("pengaduan", "aspirasi", "informasi", "status", "bantuan")
FORWARDED_KINDS = frozenset({"pengaduan", "aspirasi", "informasi"})

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


@dataclass(frozen=True)
class _WordIndex:
    keywords: dict[str, str]  # upper -> kind
    flags: dict[str, str]  # upper -> flag
    fuzzy_keywords: tuple[tuple[str, str, int], ...]  # (lower, kind, budget)
    fuzzy_flags: tuple[tuple[str, str, int], ...]
    reference_words: frozenset[str]


@dataclass(frozen=True)
class GrammarTables:
    """Everything the grammar reads a message with. ``GrammarTables()``: built-in keywords and
    flags, no category lexicon, no gazetteer (:func:`sms1708.table_files.default_tables` gives
    the shipped ones)."""

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

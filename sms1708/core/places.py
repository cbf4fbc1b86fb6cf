"""Place names: find where a report is about, from a configurable gazetteer. Pure.

The gazetteer lists one kabupaten, its kecamatan and (some of) their desa and kelurahan; the
format and the matching rules are described in ``sms1708/data/places-muara-enim.toml``. The
result is a string naming the most specific place, e.g. ``"Desa Tanjung Raja, Kec. Muara Enim"``,
``"Kel. Tanjung Enim, Kec. Lawang Kidul"``, ``"Kec. Gelumbang"``, ``"Kab. Muara Enim"``, or
``None`` when no place, or no single place, is named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sms1708.core.lexicon import (
    FUZZY_WORDS,
    WORD,
    Word,
    near,
    split_words,
    typo_budget,
)

KABUPATEN, KECAMATAN, DESA, KELURAHAN = "kabupaten", "kecamatan", "desa", "kelurahan"
VILLAGE_LEVELS = (DESA, KELURAHAN)
#: every level, the widest first
LEVELS = (KABUPATEN, KECAMATAN, DESA, KELURAHAN)
_TITLE = {KABUPATEN: "Kab.", KECAMATAN: "Kec.", DESA: "Desa", KELURAHAN: "Kel."}

DEFAULT_PREFIXES: Mapping[str, Sequence[str]] = {
    KABUPATEN: ("kab", "kabupaten", "bupati", "pemkab", "pemda", "dprd", "polres"),
    KECAMATAN: ("kec", "kecamatan", "kc"),
    DESA: ("desa", "ds", "dsa"),
    KELURAHAN: ("kel", "kelurahan", "kelurhan"),
}


#: common abbreviations of words of place names: "Tj. Enim" = "Tanjung Enim"
DEFAULT_ABBREVIATIONS: Mapping[str, Sequence[str]] = {
    "tanjung": ("tj", "tg", "tjg", "tnjg", "tanjong"),
    "sungai": ("sei", "sng", "sg", "sungei"),
    "gunung": ("gn", "gng", "gunong"),
    "muara": ("ma", "mr", "m", "muare"),
    "pulau": ("pl", "p"),
    "air": ("ai",),
    "talang": ("tl", "tlg"),
    "karang": ("krg",),
    "lubuk": ("lbk",),
    "semende": ("semendo", "smd"),
    "darat": ("drt",),
    "tengah": ("tgh", "tngh"),
    "kidul": ("kdl",),
    "baru": ("br",),
    "jaya": ("jy",),
}
#: words before a place that say it is where the reporter lives, not where the problem is
HOME_WORDS = frozenset({"warga", "penduduk", "tinggal", "domisili", "asal", "alamat", "beralamat"})
#: words before a place that say it is where the problem is
HERE_WORDS = frozenset({"di", "lokasi", "lokasinya", "tempat", "tkp", "dlm", "dalam"})


@dataclass(frozen=True)
class Place:
    level: str
    name: str
    kecamatan: str | None = None  # the kecamatan of a desa or kelurahan
    code: str | None = field(default=None, compare=False)  # Kemendagri kode wilayah

    def label(self) -> str:
        own = f"{_TITLE[self.level]} {self.name}"
        return f"{own}, Kec. {self.kecamatan}" if self.kecamatan else own


def name_words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in WORD.findall(name))


@dataclass(frozen=True)
class _Entry:
    words: tuple[str, ...]
    joined: str
    place: Place


@dataclass(frozen=True)
class _Index:
    exact: dict[tuple[str, ...], list[Place]]
    joined: dict[str, list[Place]]
    shapes: dict[tuple[int, str], list[_Entry]]  # (word count, first letter) -> names
    prefixes: dict[str, str]  # prefix word -> level it announces
    longest: int


@dataclass(frozen=True)
class _Match:
    places: tuple[Place, ...]
    hint: str | None  # the level announced by a prefix
    role: str | None = None  # "home" (warga X), "here" (di X) or None


@dataclass(frozen=True)
class Gazetteer:
    """Places with their spellings (the first is the name); see the module docstring."""

    places: Sequence[tuple[Place, Sequence[str]]] = ()
    common_words: frozenset[str] = frozenset()  # lower case, spaces removed
    prefixes: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_PREFIXES)
    typo_one_from: int = 5
    typo_two_from: int = 10
    abbreviations: Mapping[str, Sequence[str]] = field(
        default_factory=lambda: DEFAULT_ABBREVIATIONS
    )

    @cached_property
    def kecamatan_places(self) -> dict[str, Place]:
        """Kecamatan name -> its place (with its code)."""
        return {p.name: p for p, _ in self.places if p.level == KECAMATAN}

    def _variants(self, words: tuple[str, ...]) -> list[tuple[str, ...]]:
        """A name of two or more words with each word also in its abbreviations."""
        out = [words]
        if len(words) < 2:
            return out
        for i, w in enumerate(words):
            for short in self.abbreviations.get(w, ()):
                out += [(*v[:i], short, *v[i + 1 :]) for v in list(out) if v[i] == w]
        return out[:32]

    @cached_property
    def _index(self) -> _Index:
        exact: dict[tuple[str, ...], list[Place]] = {}
        joined: dict[str, list[Place]] = {}
        shapes: dict[tuple[int, str], list[_Entry]] = {}
        for place, spellings in self.places:
            for spelling in spellings:
                words = name_words(spelling)
                if not words:
                    continue
                entry = _Entry(words, "".join(words), place)
                for bucket in (exact.setdefault(words, []), joined.setdefault(entry.joined, [])):
                    if place not in bucket:
                        bucket.append(place)
                shapes.setdefault((len(words), words[0][0]), []).append(entry)
                for short in self._variants(words)[1:]:  # "tj enim": exact only, no typos
                    bucket = exact.setdefault(short, [])
                    if place not in bucket:
                        bucket.append(place)
        prefixes = {p.lower(): level for level, ps in self.prefixes.items() for p in ps}
        longest = max((len(k) for k in exact), default=1)
        return _Index(exact, joined, shapes, prefixes, longest)

    # ------------------------------------------------------------------------- matching

    def _fuzzy(self, key: tuple[str, ...], prefixed: bool) -> list[Place]:
        best: list[Place] = []
        best_d = 99
        joined = "".join(key)
        for entry in self._index.shapes.get((len(key), key[0][0]), []):
            if prefixed:
                budget = typo_budget(len(entry.joined), self.typo_one_from, self.typo_two_from)
                d = near(joined, entry.joined, budget)
            else:
                d = self._one_word_typo(key, entry)
            if d is not None and d <= best_d:
                best = [*best, entry.place] if d == best_d else [entry.place]
                best_d = d
        return best

    def _one_word_typo(self, key: tuple[str, ...], entry: _Entry) -> int | None:
        """Without a prefix: one edit, in one word of 5+ letters, of a 2+ word, 10+ letter name."""
        if len(key) < 2 or len(entry.joined) < 10:
            return None
        differ = [(k, w) for k, w in zip(key, entry.words, strict=True) if k != w]
        if len(differ) != 1:
            return None
        typed, name = differ[0]
        return near(typed, name, 1 if len(name) >= self.typo_one_from else 0)

    def _match_at(
        self, words: list[Word], i: int, field: bool = False
    ) -> tuple[_Match, int] | None:
        """A place named at word ``i`` (after an optional prefix): the match and the next index.
        A ``#`` field (``field``) counts as a prefix: everyday-word names and typos allowed."""
        ix = self._index
        hint = ix.prefixes.get(words[i].low)
        start = i + 1 if hint else i
        lows = [w.low for w in words]
        tries = [(start, hint)] + ([(i, None)] if hint else [])  # "desa" may start a name
        for j, level in tries:
            for n in range(min(ix.longest, len(words) - j), 0, -1):
                key = tuple(lows[j : j + n])
                found = list(ix.exact.get(key, ()))
                if n == 1:
                    found += [p for p in ix.joined.get(key[0], ()) if p not in found]
                if not level and not field and "".join(key) in self.common_words:
                    found = []
                if not found and j < FUZZY_WORDS and (level or field or n >= 2):
                    found = self._fuzzy(key, prefixed=level is not None or field)
                found = [p for p in found if _fits(p, level)]
                if not level and not field:  # "Bogor" may be the kota: kab. needs its prefix
                    found = [p for p in found if p.level != KABUPATEN]
                if found:
                    return _Match(tuple(found), level), j + n
        return None

    def matches(self, text: str) -> list[tuple[_Match, int, int]]:
        """Every place named in ``text``: (match, start offset, end offset)."""
        if not self.places:
            return []
        words = split_words(text)
        out: list[tuple[_Match, int, int]] = []
        i = 0
        home_until = -1  # "warga ds teluk kec barat": a place right after a home place is home
        while i < len(words):
            got = self._match_at(words, i)
            if got is None:
                i += 1
                continue
            match, nxt = got
            before = {w.low for w in words[max(0, i - 2) : i]}
            role = "home" if before & HOME_WORDS or i == home_until else None
            role = role or ("here" if before & HERE_WORDS else None)
            home_until = nxt if role == "home" else -1
            out.append((_Match(match.places, match.hint, role), words[i].start, words[nxt - 1].end))
            i = nxt
        return out

    def leading(self, text: str) -> tuple[str, int] | None:
        got = self.leading_place(text)
        return (got[0].label(), got[1]) if got else None

    def leading_place(self, text: str) -> tuple[Place, int] | None:
        """A place named by the first words of ``text`` (``LAPOR Gelumbang jalan rusak``):
        its label and the offset where the rest of the text starts; ``None`` if none, or if the
        name alone does not say which place."""
        words = split_words(text, limit=8)
        if not words or words[0].start != 0 or not self.places:
            return None
        got = self._match_at(words, 0)
        if got is None:
            return None
        match, nxt = got
        place = self._resolve([match])
        return (place, words[nxt - 1].end) if place else None

    def whole(self, text: str) -> str | None:
        place = self.whole_place(text)
        return place.label() if place else None

    def whole_place(self, text: str) -> Place | None:
        """The label of a place if ``text`` is nothing but its name (a ``#`` field)."""
        words = split_words(text, limit=8)
        if not words or not self.places:
            return None
        got = self._match_at(words, 0, field=True)
        if got is None or got[1] != len(words):
            return None
        return self._resolve([got[0]])

    def find(self, text: str) -> str | None:
        """The label of the most specific single place named anywhere in ``text``, or ``None``."""
        place = self.find_place(text)
        return place.label() if place else None

    def find_place(self, text: str) -> Place | None:
        """The most specific single place named anywhere in ``text``, or ``None``.

        When places in several kecamatan are named, the one the report is about is kept if the
        words before say so: "warga X" (where the reporter lives) gives way, "di X" (where it
        happened) is kept. A route ("dari X ke Y") or two places "di": no single place.
        """
        found = [m for m, _, _ in self.matches(text)]
        away = [m for m in found if m.role != "home"]
        if not any(p.level != KABUPATEN for m in away for p in m.places):
            away = found  # only the kabupaten besides: the reporter's own place is all we have
        place = self._resolve(away)
        if place is None and len(away) > 1:
            here = [m for m in away if m.role == "here"]
            place = self._resolve(here) if 0 < len(here) < len(away) else None
        return place

    def _resolve(self, matches: Sequence[_Match]) -> Place | None:
        label = _resolve(matches)
        if label is None:
            return None
        level, name, _kec = label
        if level == KECAMATAN:
            return self.kecamatan_places.get(name, Place(KECAMATAN, name))
        if level == KABUPATEN:
            return next((p for p, _ in self.places if p.level == KABUPATEN), Place(level, name))
        return next(
            (p for m in matches for p in m.places if (p.level, p.name, p.kecamatan) == label),
            None,
        )


def _fits(place: Place, level: str | None) -> bool:
    if level is None:
        return True
    if level in VILLAGE_LEVELS:
        return place.level in VILLAGE_LEVELS
    return place.level == level


def _resolve(matches: Sequence[_Match]) -> tuple[str, str, str | None] | None:
    """The most specific single place of the matches, or ``None`` if they disagree."""
    named: set[str] = set()  # kecamatan named as such
    villages: set[Place] = set()
    kabupaten: set[str] = set()
    for m in matches:
        by_level = {lvl: [p for p in m.places if p.level == lvl] for lvl in _TITLE}
        if by_level[KECAMATAN]:  # a bare name that is also a desa is read as the kecamatan
            named.update(p.name for p in by_level[KECAMATAN])
        elif by_level[DESA] or by_level[KELURAHAN]:
            villages.update(by_level[DESA] + by_level[KELURAHAN])
        else:
            kabupaten.update(p.name for p in by_level[KABUPATEN])
    if named:  # the kecamatan said wins over a desa of the same name elsewhere
        villages = {v for v in villages if v.kecamatan in named}
    involved = named | {v.kecamatan for v in villages if v.kecamatan}
    if len(involved) > 1:
        return None  # several kecamatan: the report is not about one place
    if len(villages) == 1:
        v = next(iter(villages))
        return v.level, v.name, v.kecamatan
    if involved:
        return KECAMATAN, next(iter(involved)), None
    return (KABUPATEN, next(iter(kabupaten)), None) if len(kabupaten) == 1 else None

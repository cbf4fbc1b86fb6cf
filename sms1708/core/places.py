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
from typing import Any

from sms1708.core.lexicon import (
    FUZZY_WORDS,
    WORD,
    Word,
    near,
    split_words,
    typo_budget,
    typo_thresholds,
)
from sms1708.errors import ConfigError

KABUPATEN, KECAMATAN, DESA, KELURAHAN = "kabupaten", "kecamatan", "desa", "kelurahan"
VILLAGE_LEVELS = (DESA, KELURAHAN)
_TITLE = {KABUPATEN: "Kab.", KECAMATAN: "Kec.", DESA: "Desa", KELURAHAN: "Kel."}

DEFAULT_PREFIXES: Mapping[str, Sequence[str]] = {
    KABUPATEN: ("kab", "kabupaten"),
    KECAMATAN: ("kec", "kecamatan", "kc"),
    DESA: ("desa", "ds", "dsa"),
    KELURAHAN: ("kel", "kelurahan", "kelurhan"),
}


@dataclass(frozen=True)
class Place:
    level: str
    name: str
    kecamatan: str | None = None  # the kecamatan of a desa or kelurahan

    def label(self) -> str:
        own = f"{_TITLE[self.level]} {self.name}"
        return f"{own}, Kec. {self.kecamatan}" if self.kecamatan else own


def _words(name: str) -> tuple[str, ...]:
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


@dataclass(frozen=True)
class Gazetteer:
    """Places with their spellings (the first is the name); see the module docstring."""

    places: Sequence[tuple[Place, Sequence[str]]] = ()
    common_words: frozenset[str] = frozenset()  # lower case, spaces removed
    prefixes: Mapping[str, Sequence[str]] = field(default_factory=lambda: DEFAULT_PREFIXES)
    typo_one_from: int = 5
    typo_two_from: int = 10

    @cached_property
    def _index(self) -> _Index:
        exact: dict[tuple[str, ...], list[Place]] = {}
        joined: dict[str, list[Place]] = {}
        shapes: dict[tuple[int, str], list[_Entry]] = {}
        for place, spellings in self.places:
            for spelling in spellings:
                words = _words(spelling)
                if not words:
                    continue
                entry = _Entry(words, "".join(words), place)
                for bucket in (exact.setdefault(words, []), joined.setdefault(entry.joined, [])):
                    if place not in bucket:
                        bucket.append(place)
                shapes.setdefault((len(words), words[0][0]), []).append(entry)
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
        while i < len(words):
            got = self._match_at(words, i)
            if got is None:
                i += 1
                continue
            match, nxt = got
            out.append((match, words[i].start, words[nxt - 1].end))
            i = nxt
        return out

    def leading(self, text: str) -> tuple[str, int] | None:
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
        label = _resolve([match])
        return (label, words[nxt - 1].end) if label else None

    def whole(self, text: str) -> str | None:
        """The label of a place if ``text`` is nothing but its name (a ``#`` field)."""
        words = split_words(text, limit=8)
        if not words or not self.places:
            return None
        got = self._match_at(words, 0, field=True)
        if got is None or got[1] != len(words):
            return None
        return _resolve([got[0]])

    def find(self, text: str) -> str | None:
        """The most specific single place named anywhere in ``text``, or ``None``."""
        return _resolve([m for m, _, _ in self.matches(text)])


def _fits(place: Place, level: str | None) -> bool:
    if level is None:
        return True
    if level in VILLAGE_LEVELS:
        return place.level in VILLAGE_LEVELS
    return place.level == level


def _resolve(matches: Sequence[_Match]) -> str | None:
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
        return next(iter(villages)).label()
    if involved:
        return Place(KECAMATAN, next(iter(involved))).label()
    return Place(KABUPATEN, next(iter(kabupaten))).label() if len(kabupaten) == 1 else None


def gazetteer_from_dict(data: Mapping[str, Any]) -> Gazetteer:
    """Build a :class:`Gazetteer` from a parsed places file; :class:`ConfigError` if invalid."""
    known = {"kabupaten", "common_words", "prefixes", "typos", "kecamatan"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(sorted(unknown)[0], f"unknown key (expected {', '.join(sorted(known))})")
    places: list[tuple[Place, tuple[str, ...]]] = []
    kab = data.get("kabupaten")
    if kab is not None:
        places.append((Place(KABUPATEN, _name(kab, "kabupaten")), (kab,)))
    blocks = data.get("kecamatan", [])
    if not isinstance(blocks, list) or not blocks:
        raise ConfigError("kecamatan", "needs at least one [[kecamatan]] block")
    seen: set[str] = set()
    for n, block in enumerate(blocks):
        key = f"kecamatan[{n}]"
        if not isinstance(block, Mapping):
            raise ConfigError(key, "must be a table ([[kecamatan]])")
        extra = set(block) - {"name", "aliases", "desa", "kelurahan"}
        if extra:
            raise ConfigError(f"{key}.{sorted(extra)[0]}", "unknown key")
        kec = _name(block.get("name"), f"{key}.name")
        if kec.lower() in seen:
            raise ConfigError(f"{key}.name", f"kecamatan {kec!r} is listed twice")
        seen.add(kec.lower())
        aliases = _names(block.get("aliases", []), f"{key}.aliases")
        places.append((Place(KECAMATAN, kec), (kec, *aliases)))
        villages: set[str] = set()
        for level in VILLAGE_LEVELS:
            for v in _names(block.get(level, []), f"{key}.{level}"):
                if v.lower() in villages:
                    raise ConfigError(f"{key}.{level}", f"{v!r} is listed twice in {kec!r}")
                villages.add(v.lower())
                places.append((Place(level, v, kec), (v,)))
    common = _names(data.get("common_words", []), "common_words")
    prefixes = data.get("prefixes", {})
    if not isinstance(prefixes, Mapping) or set(prefixes) - set(_TITLE):
        raise ConfigError("prefixes", f"must be a table with keys among {', '.join(_TITLE)}")
    clean_prefixes = dict(DEFAULT_PREFIXES)  # a level left out keeps its default prefixes
    for level, ps in prefixes.items():
        clean_prefixes[level] = tuple(p.lower() for p in _names(ps, f"prefixes.{level}"))
    typos = data.get("typos", {})
    one, two = typo_thresholds(typos, default_two=10)
    return Gazetteer(
        places=tuple(places),
        common_words=frozenset("".join(_words(c)) for c in common),
        prefixes=clean_prefixes,
        typo_one_from=one,
        typo_two_from=two,
    )


def _name(value: Any, key: str) -> str:
    if not isinstance(value, str) or not WORD.search(value):
        raise ConfigError(key, "must be a name with at least one letter")
    return " ".join(value.split())


def _names(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(key, "must be a list of names")
    return tuple(_name(v, key) for v in value)

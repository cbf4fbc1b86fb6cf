"""Words: splitting, typo distance, and the category lexicon. Pure.

The category of a report is inferred from a configurable lexicon (``sms1708/data/categories.toml``
describes the format): each category lists words and phrases; a message scores, per category,
the number of words of the terms it contains, and the best category is chosen only when it is a
clear winner. Otherwise the category stays ``None``: an operator sorts it, rather than the
gateway making a confident wrong guess.

Work is bounded: only the first :data:`SCAN_WORDS` words of a message are looked at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

#: a word: letters and digits of any script (emoji, punctuation and ``_`` separate words)
WORD = re.compile(r"[^\W_]+")
#: words of a message looked at for categories and places (an SMS of 5 parts has ~150 words)
SCAN_WORDS = 600
#: words of a message tried for typo-tolerant matches
FUZZY_WORDS = 200


@dataclass(frozen=True)
class Word:
    text: str  # as typed
    low: str  # lower case
    start: int
    end: int


def split_words(text: str, limit: int = SCAN_WORDS) -> list[Word]:
    """The first ``limit`` words of ``text`` with their positions."""
    out: list[Word] = []
    for m in WORD.finditer(text):
        if len(out) >= limit:
            break
        w = m.group()
        out.append(Word(w, w.lower(), m.start(), m.end()))
    return out


def count_words(text: str) -> int:
    return sum(1 for _ in WORD.finditer(text))


def typo_budget(length: int, one_from: int, two_from: int) -> int:
    """Edits forgiven in a word of ``length`` letters: 0, 1 (from ``one_from``) or 2."""
    if length >= two_from:
        return 2
    return 1 if length >= one_from else 0


def distance(a: str, b: str, limit: int) -> int | None:
    """Damerau-Levenshtein distance (optimal string alignment: a swap of two neighbouring
    letters is one edit) between ``a`` and ``b`` if it is at most ``limit``, else ``None``.

    Stops as soon as a whole row of the table exceeds ``limit``: O(len(a) * len(b)) at worst,
    and the callers only pass short words of similar length.
    """
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return None
    before: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        ca = a[i - 1]
        for j in range(1, lb + 1):
            cb = b[j - 1]
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, before[j - 2] + 1)
            cur[j] = v
        if min(cur) > limit:
            return None
        before, prev = prev, cur
    return prev[lb] if prev[lb] <= limit else None


def near(word: str, target: str, budget: int) -> int | None:
    """Distance of a typo ``word`` from ``target`` within ``budget``; first letters must match."""
    if budget <= 0 or not word or word[0] != target[0]:
        return None
    return distance(word, target, budget)


# ----------------------------------------------------------------------------- the lexicon


def term_words(term: str) -> tuple[str, ...]:
    return tuple(WORD.findall(term))


def _normal(low: str, vocabulary: frozenset[str]) -> str:
    """Informal endings off: ``jalan2`` -> ``jalan``, ``sekolahnya`` -> ``sekolah``."""
    w = low.rstrip("0123456789") or low
    if w not in vocabulary and w.endswith("nya") and w[:-3] in vocabulary:
        w = w[:-3]
    return w


@dataclass(frozen=True)
class _LexiconIndex:
    phrases: dict[tuple[str, ...], str]  # lower-case words -> category
    upper: dict[str, str]  # case-sensitive one-word acronyms -> category
    stems: tuple[tuple[str, str], ...]  # (prefix, category)
    names: dict[str, str]  # category name (lower) -> category
    vocabulary: frozenset[str]
    longest: int


@dataclass(frozen=True)
class Lexicon:
    """Category name -> terms (see categories.toml); ``min_score`` and ``margin`` decide."""

    categories: Mapping[str, Sequence[str]] = field(default_factory=dict)
    min_score: int = 1
    margin: float = 1.5
    weights: Mapping[str, int] = field(default_factory=dict)  # category -> weight (default 1)

    @cached_property
    def _index(self) -> _LexiconIndex:
        phrases: dict[tuple[str, ...], str] = {}
        upper: dict[str, str] = {}
        stems: list[tuple[str, str]] = []
        names: dict[str, str] = {}
        for name, terms in self.categories.items():
            names[" ".join(term_words(name.lower()))] = name
            for term in (name.lower(), *terms):
                words = term_words(term)
                if not words:
                    continue
                if len(words) == 1 and term.endswith("*"):
                    stems.append((words[0].lower(), name))
                elif len(words) == 1 and words[0].isupper():
                    upper[words[0]] = name
                else:
                    phrases.setdefault(tuple(w.lower() for w in words), name)
        vocabulary = frozenset(w for key in phrases for w in key)
        longest = max((len(k) for k in phrases), default=1)
        return _LexiconIndex(phrases, upper, tuple(stems), names, vocabulary, longest)

    def scores(self, text: str) -> dict[str, int]:
        """Category -> score: the words of the terms found (longest phrase first), times the
        category's weight."""
        ix = self._index
        found: dict[str, int] = {}
        if not ix.names:
            return found
        words = split_words(text)
        lows = [_normal(w.low, ix.vocabulary) for w in words]
        i = 0
        while i < len(words):
            hit: str | None = None
            size = 1
            for n in range(min(ix.longest, len(words) - i), 0, -1):
                cat = ix.phrases.get(tuple(lows[i : i + n]))
                if cat is not None:
                    hit, size = cat, n
                    break
            if hit is None:
                hit = ix.upper.get(words[i].text)
            if hit is None:
                hit = next((c for stem, c in ix.stems if lows[i].startswith(stem)), None)
            # a reduplicated word ("jalan jalan", "jalan2") counts once
            if hit is not None and not (size == 1 and i > 0 and lows[i] == lows[i - 1]):
                found[hit] = found.get(hit, 0) + size * self.weights.get(hit, 1)
            i += size
        return found

    def infer(self, text: str) -> str | None:
        """The clear winner among the categories, or ``None`` when unsure."""
        ranked = sorted(self.scores(text).items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked:
            return None
        best, score = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0
        if score >= self.min_score and score > second and score >= self.margin * second:
            return best
        return None

    def label(self, field_text: str) -> tuple[str | None, bool]:
        """What a structured field (``LAPOR#<kategori>#...``) says about the category.

        ``(name, True)`` when the field is a category name (typos forgiven as for keywords):
        a pure label, removed from the text. ``(name, False)`` when the whole field is one term
        of the lexicon ("jalan rusak"): it decides the category but stays in the text.
        """
        ix = self._index
        words = split_words(field_text, limit=8)
        if not words or len(words) >= 8:
            return None, False
        joined = " ".join(w.low for w in words)
        if joined in ix.names:
            return ix.names[joined], True
        for name_low, name in ix.names.items():
            budget = typo_budget(len(name_low), 5, 8)
            if near(joined, name_low, budget) is not None:
                return name, True
        lows = tuple(_normal(w.low, ix.vocabulary) for w in words)
        if lows in ix.phrases:
            return ix.phrases[lows], False
        if len(words) == 1:
            cat = ix.upper.get(words[0].text)
            cat = cat or next((c for stem, c in ix.stems if lows[0].startswith(stem)), None)
            if cat is not None:
                return cat, False
        return None, False

"""Phrases looked up by their first word (sms1708/core/meaning.py ``PhraseIndex``) find exactly
what trying every phrase at every word finds: the same spans, in the same order, duplicates
included. The straightforward matcher is kept here as the reference."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sms1708.core.meaning import (
    DEFAULT_PHRASES,
    DEFAULT_PRIVACY,
    Phrase,
    PhraseIndex,
    Phrases,
    find,
    phrase_words,
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference(words: Sequence[str], phrases: Sequence[Phrase]) -> list[tuple[int, int]]:
    """Every phrase tried at every word: a word ending in ``*`` matches every word starting
    with it, any other word matches itself."""

    def word_match(pattern: str, word: str) -> bool:
        return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern

    out: list[tuple[int, int]] = []
    for i in range(len(words)):
        for p in phrases:
            if not p or i + len(p) > len(words):
                continue
            if all(word_match(q, w) for q, w in zip(p, words[i : i + len(p)], strict=True)):
                out.append((i, i + len(p)))
    return out


_TABLES = {
    k: tuple(phrase_words(x) for x in v) for k, v in {**DEFAULT_PHRASES, **DEFAULT_PRIVACY}.items()
}
_PATTERNS = sorted({w for ps in _TABLES.values() for p in ps for w in p})
_PLAIN = sorted({w.rstrip("*") for w in _PATTERNS})
_NOISE = st.text(alphabet="abcdeinorstuy", min_size=1, max_size=6)

#: a word of a message: a table word, a table word with more letters (what ``prefix*`` and
#: near misses are about), a prefix of one, or noise
_WORD = st.one_of(
    st.sampled_from(_PLAIN),
    st.builds(lambda w, tail: w + tail, st.sampled_from(_PLAIN), _NOISE),
    st.builds(lambda w, n: w[: max(1, n)], st.sampled_from(_PLAIN), st.integers(1, 6)),
    _NOISE,
)
#: a phrase: table words (some with ``*``), noise, sometimes empty
_PATTERN = st.one_of(
    st.sampled_from(_PATTERNS),
    st.builds(lambda w: w + "*", st.sampled_from(_PLAIN)),
    _NOISE,
    st.builds(lambda w: w + "*", _NOISE),
)
_PHRASE = st.lists(_PATTERN, min_size=0, max_size=3).map(tuple)


@FAST
@given(st.lists(_PHRASE, max_size=12), st.lists(_WORD, max_size=40))
@example([("a*",), ("ab",), ("a*", "b"), ("ab",)], ["ab", "b", "ab"])  # order and duplicates
@example([(), ("x",)], ["x"])  # an empty phrase matches nowhere
def test_the_index_finds_what_every_phrase_at_every_word_finds(
    phrases: list[Phrase], words: list[str]
) -> None:
    assert PhraseIndex.of(phrases).find(words) == _reference(words, phrases)
    assert find(words, phrases) == _reference(words, phrases)


@FAST
@given(st.sampled_from(sorted(_TABLES)), st.lists(_WORD, max_size=60))
def test_each_shipped_table_finds_what_the_reference_finds(key: str, words: list[str]) -> None:
    assert Phrases()._find(words, key) == _reference(words, _TABLES[key])


def test_a_word_that_starts_no_phrase_tries_none() -> None:
    """The point of the index: at a word no phrase starts with, nothing is compared."""
    index = PhraseIndex.of(_TABLES["withhold"])
    assert "jangan" in index.exact and "sebut" not in index.exact
    assert not index.prefixed
    assert index.find(["sebut", "nama"]) == []
    assert index.find(["jangan", "sebut", "nama"]) == [(0, 2)]

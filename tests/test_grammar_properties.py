"""Properties of the grammar with the shipped tables (Hypothesis).

- Total: any text (emoji, control characters, up to 10,000 characters) gives a well-formed
  record, in bounded time.
- A keyword at the start decides the kind, whatever follows; flags anywhere set the flag.
- Typo tolerance: one edit of a long keyword is still the keyword; a stop-listed everyday word
  never is; the distance is a true Damerau-Levenshtein (optimal string alignment) distance.
- Never lose text: the body field of ``LAPOR#<kategori>#<lokasi>#<isi>`` stays in the text.
- No category and no place on noise.

The tests run :func:`parse_strict` (no safety net), so a bug raises here instead of being hidden.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from sms1708.core.grammar import KINDS, SEPARATORS, Record, clean, parse_strict
from sms1708.core.lexicon import WORD, distance
from sms1708.table_files import default_tables

TABLES = default_tables()
KEYWORDS = {w: kind for kind, ws in TABLES.kinds.items() for w in ws}
FLAG_WORDS = {w: flag for flag, ws in TABLES.flags.items() for w in ws}
LOCATION = re.compile(r"^((Desa|Kel\.) [^,]+, Kec\. [^,]+|Kec\. [^,]+|Kab\. [^,]+)$")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(text: str) -> Record:
    return parse_strict(text, TABLES)


_ANY = st.text(max_size=10_000)
_UTF8 = st.characters(codec="utf-8")
#: SMS-like: keyword, flag, place and lexicon fragments, separators, digits, emoji, anything
_SMS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                *SEPARATORS,
                " ",
                "?",
                "\n",
                "\x00",
                "LAPOR",
                "lapr",
                "rahasia",
                "ANONIM",
                "cek",
                "info",
                "bantuan",
                "1916449",
                "jalan",
                "KK",
                "desa",
                "kec.",
                "tanjung raja",
                "gelumbang",
                "muara enim",
                "😡",
                "'; DROP TABLE x;--",
            ]
        ),
        st.text(_UTF8, max_size=8),
    ),
    max_size=40,
).map("".join)


def _clean_text(text: str) -> bool:
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp") or (cat == "Cf" and ch != "\u200d"):
            return False
    return True


# ------------------------------------------------------------------------------ totality


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_ANY, _SMS))
@example("\x00\x1b\x7f\u0085\u2028\u2029\ufeff\u200b\u200d")
@example("LAPOR" * 2000)
@example("lapor " + "desa tanjung raja kec " * 450)
@example("rahsia " * 1400)
@example("#" * 10_000)
@example("😡" * 10_000)
def test_any_text_gives_a_well_formed_record(text: str) -> None:
    r = parse(text)
    assert r.kind in KINDS
    assert isinstance(r.text, str) and _clean_text(r.text)
    assert r.text == r.text.strip() and "  " not in r.text
    assert isinstance(r.anonymous, bool) and isinstance(r.confidential, bool)
    assert r.reference is None or (r.kind == "status" and re.fullmatch(r"[0-9]{1,12}", r.reference))
    assert r.category is None or r.category in TABLES.lexicon.categories
    assert r.location is None or LOCATION.match(r.location)
    assert r.hint in (None, "short")
    assert r.keyword is None or r.keyword in KEYWORDS
    assert json.loads(json.dumps(r.as_dict())) == r.as_dict()


_WORD_LIST = (
    "lapor rahasia anonim desa kec ds tanjung raja gelumbang gelumbng muara enim jalan jln "
    "rusak sampah banjir pungli SD KK air pdam lubai ulu semende darat laut lampu tanjungenim "
    "lapar sarana 123 😡 # * : ,"
)
_WORDS = st.sampled_from(_WORD_LIST.split())


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(st.lists(_WORDS, min_size=1500, max_size=2500))
def test_long_messages_are_parsed_in_bounded_time(words: list[str]) -> None:
    text = " ".join(words)[:10_000]
    start = time.perf_counter()
    parse(text)
    # a hang guard, not a speed test (a shared, loaded machine): parsing takes ~15 ms, while
    # catastrophic backtracking or a quadratic scan of 10,000 characters takes minutes
    assert time.perf_counter() - start < 10.0


# ------------------------------------------------------------------------------ keywords

_SEP = st.sampled_from([" ", "#", "*", ".", ":", ",", "/", "-", " # ", ": ", "  ", "#  "])
_CASE = st.sampled_from([str.upper, str.lower, str.capitalize])


@FAST
@given(
    st.sampled_from(
        sorted(w for w, k in KEYWORDS.items() if k in ("pengaduan", "aspirasi", "informasi"))
    ),
    _CASE,
    _SEP,
    _SMS,
)
def test_a_report_keyword_at_the_start_decides_the_kind(
    keyword: str, case: object, sep: str, t: str
) -> None:
    spelled = case(keyword)  # type: ignore[operator]
    r = parse(f"{spelled}{sep}{t}")
    assert r.keyword == keyword
    if r.kind == "bantuan":  # "LAPOR ?": asking how it works
        assert "?" in t and r.text == ""
    else:
        assert r.kind == KEYWORDS[keyword]


@FAST
@given(
    st.sampled_from(sorted(w for w, k in KEYWORDS.items() if k == "status")),
    _CASE,
    st.sampled_from(["", " ", "#", " #", ":", " no. ", " laporan ", "*"]),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    _SMS,
)
def test_a_status_keyword_with_a_number_asks_about_that_number(
    keyword: str, case: object, sep: str, number: str, t: str
) -> None:
    r = parse(f"{case(keyword)}{sep}{number} {t}")  # type: ignore[operator]
    assert (r.kind, r.reference, r.keyword) == ("status", number, keyword)


@FAST
@given(
    st.sampled_from(sorted(w for w, k in KEYWORDS.items() if k == "bantuan")),
    _CASE,
    st.sampled_from(["", "?", " ?", "??", "#", " !"]),
)
def test_a_help_keyword_alone_gives_help(keyword: str, case: object, tail: str) -> None:
    r = parse(f"{case(keyword)}{tail}")  # type: ignore[operator]
    assert (r.kind, r.text) == ("bantuan", "")


@FAST
@given(st.sampled_from(sorted(FLAG_WORDS)), _CASE, st.lists(_WORDS, max_size=12), st.data())
def test_a_flag_anywhere_sets_the_flag(
    flag: str, case: object, words: list[str], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(words)))
    text = " ".join([*words[:at], case(flag), *words[at:]])  # type: ignore[operator]
    r = parse(text)
    assert getattr(r, FLAG_WORDS[flag]) is True


# ------------------------------------------------------------------------------ typos


def _osa(a: str, b: str) -> int:
    """Reference optimal-string-alignment distance (full table, no shortcuts)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


@settings(max_examples=300, deadline=None)
@given(st.text("abcde", max_size=9), st.text("abcde", max_size=9), st.integers(0, 3))
def test_distance_is_the_optimal_string_alignment_distance(a: str, b: str, limit: int) -> None:
    true = _osa(a, b)
    assert distance(a, b, limit) == (true if true <= limit else None)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _budget(word: str) -> int:
    if len(word) >= TABLES.typo_two_from:
        return 2
    return 1 if len(word) >= TABLES.typo_one_from else 0


@st.composite
def _one_edit(draw: st.DrawFn) -> tuple[str, str]:
    """(keyword, a typo of it by one edit that keeps the first letter)."""
    kw = draw(st.sampled_from(sorted(w for w in KEYWORDS if _budget(w) > 0))).lower()
    op = draw(st.sampled_from(["delete", "swap", "replace", "insert"]))
    i = draw(st.integers(1, len(kw) - 1))
    c = draw(st.sampled_from(_LETTERS))
    if op == "delete":
        typo = kw[:i] + kw[i + 1 :]
    elif op == "swap" and i < len(kw) - 1:
        typo = kw[:i] + kw[i + 1] + kw[i] + kw[i + 2 :]
    elif op == "replace":
        typo = kw[:i] + c + kw[i + 1 :]
    else:
        typo = kw[:i] + c + kw[i:]
    return kw.upper(), typo


@settings(max_examples=300, deadline=None)
@given(_one_edit(), _CASE, st.sampled_from([" ", "#", ": "]), st.lists(_WORDS, max_size=6))
def test_one_typo_in_a_long_keyword_is_forgiven(
    edit: tuple[str, str], case: object, sep: str, words: list[str]
) -> None:
    keyword, typo = edit
    assume(typo.upper() not in KEYWORDS and typo not in TABLES.never)
    assume(typo.upper() not in FLAG_WORDS)
    # the typo must be closest to this keyword's kind, not equally close to another kind
    dists = {w: _osa(typo, w.lower()) for w in KEYWORDS if w[0] == keyword[0]}
    best = min(d for w, d in dists.items() if d <= _budget(w))
    kinds = {KEYWORDS[w] for w, d in dists.items() if d == best and d <= _budget(w)}
    assume(kinds == {KEYWORDS[keyword]})
    body = " ".join(w for w in words if w not in ("?",))
    r = parse(f"{case(typo)}{sep}{body}")  # type: ignore[operator]
    if KEYWORDS[keyword] in ("status", "bantuan"):
        assert r.keyword is None or KEYWORDS[r.keyword] == KEYWORDS[keyword]
    else:
        assert KEYWORDS[r.keyword or ""] == KEYWORDS[keyword]
        assert r.kind == KEYWORDS[keyword] or (r.kind == "bantuan" and r.text == "")


@FAST
@given(st.sampled_from(sorted(TABLES.never)), _CASE, st.sampled_from([" ", "#", ": "]), _SMS)
def test_a_stop_listed_word_is_never_a_keyword_or_a_flag(
    word: str, case: object, sep: str, t: str
) -> None:
    spelled = case(word)  # type: ignore[operator]
    r = parse(f"{spelled}{sep}x {t}")
    assert r.keyword is None
    # the stop-listed word decides nothing: the SMS reads as it would with a neutral word
    # there (the rest may still ask a question or propose something, in words)
    assert r.kind == parse(f"zzz{sep}x {t}").kind
    assert r.text.startswith(spelled)
    alone = parse(f"{spelled}{sep}x")
    assert not alone.anonymous and not alone.confidential


def test_both_directions_of_the_lapor_lapar_pair() -> None:
    assert parse("lapor jalan rusak").keyword == "LAPOR"
    assert parse("lapr jalan rusak").keyword == "LAPOR"
    assert parse("laopr jalan rusak").keyword == "LAPOR"
    hungry = parse("lapar pak, beras habis")
    assert (hungry.keyword, hungry.text) == (None, "lapar pak, beras habis")
    assert parse("saran: perbaiki jalan").kind == "aspirasi"
    assert parse("sarana jalan rusak").keyword is None
    assert parse("info jalan").kind == "informasi"
    assert parse("inf jalan rusak").keyword is None  # short keywords: exact only
    assert parse("usl jalan rusak").keyword is None
    assert parse("status 12").kind == "status" and parse("statis 12").kind == "pengaduan"


# ------------------------------------------------------------------------------ never lose text

_FIELD = st.text(st.characters(codec="utf-8", exclude_characters="#*"), max_size=30)


@FAST
@given(_FIELD, _FIELD, _FIELD)
def test_the_body_field_of_the_structured_form_is_kept(a: str, b: str, c: str) -> None:
    r = parse(f"LAPOR#{a}#{b}#{c}")
    if r.kind == "bantuan":
        return  # "LAPOR###?": only question marks, nothing to keep
    kept = set(WORD.findall(r.text))
    for w in WORD.findall(clean(c)):  # as cleaned: control characters are dropped first
        if TABLES.flag_of(w) is None and TABLES.keyword_of(w) is None:
            assert w in kept, (w, r)


@FAST
@given(_FIELD, _FIELD)
def test_fields_that_are_not_categories_or_places_stay_in_the_text(a: str, b: str) -> None:
    assume(TABLES.lexicon.label(a.strip())[0] is None and TABLES.gazetteer.whole(a) is None)
    r = parse(f"LAPOR#{a}#{b}")
    if r.kind == "bantuan":
        return
    kept = set(WORD.findall(r.text))
    for w in WORD.findall(clean(a)):
        if TABLES.flag_of(w) is None and TABLES.keyword_of(w) is None:
            assert w in kept, (w, r)


# ------------------------------------------------------------------------------ noise

#: no ASCII letters: digits, punctuation, emoji, other scripts, control characters
_NOISE = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters=_LETTERS + _LETTERS.upper()),
    max_size=400,
)
_OFF_TOPIC_WORDS = (
    "saya kamu dia kami mereka ini itu yang dan atau tapi dengan untuk dari ke di pada "
    "sudah belum tidak bisa mau akan ada apa kapan kenapa bagaimana tolong mohon terima "
    "kasih pak bu mas mbak selamat pagi siang malam sore hari besok kemarin"
)
_OFF_TOPIC = st.lists(st.sampled_from(_OFF_TOPIC_WORDS.split()), max_size=30).map(" ".join)


@FAST
@given(st.one_of(_NOISE, _OFF_TOPIC))
def test_noise_has_no_category_and_no_place(text: str) -> None:
    r = parse(text)
    assert r.category is None
    assert r.location is None

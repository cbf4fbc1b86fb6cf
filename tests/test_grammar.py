"""The SMS grammar (first version): what it makes of what citizens type on feature phones."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sms1708.core.grammar import (
    DEFAULT_FLAGS,
    DEFAULT_KEYWORDS,
    KINDS,
    SEPARATORS,
    Keywords,
    Record,
    clean,
    parse,
)

P, A, IN, S, B = "pengaduan", "aspirasi", "informasi", "status", "bantuan"

# text -> (kind, text, anonymous, confidential, reference)
CASES: list[tuple[str, tuple[str, str, bool, bool, str | None]]] = [
    # the keyword, in every way people type it
    ("LAPOR jalan rusak", (P, "jalan rusak", False, False, None)),
    ("lapor#jalan rusak", (P, "jalan rusak", False, False, None)),
    ("LAPOR:jalan", (P, "jalan", False, False, None)),
    ("  Lapor   jalan  ", (P, "jalan", False, False, None)),
    ("Lapor, jalan di RT 03 berlubang", (P, "jalan di RT 03 berlubang", False, False, None)),
    ("LAPOR/lampu jalan mati", (P, "lampu jalan mati", False, False, None)),
    ("LAPOR-sampah menumpuk", (P, "sampah menumpuk", False, False, None)),
    ("LAPOR*air PDAM mati 3 hari", (P, "air PDAM mati 3 hari", False, False, None)),
    ("lapor. pungli di kantor desa", (P, "pungli di kantor desa", False, False, None)),
    ("LAPOR # jembatan putus", (P, "jembatan putus", False, False, None)),
    ("lapor\njalan\r\nrusak", (P, "jalan rusak", False, False, None)),
    ("lapor\tbanjir", (P, "banjir", False, False, None)),
    ("laporan jalan licin", (P, "jalan licin", False, False, None)),
    ("ADUAN air mati", (P, "air mati", False, False, None)),
    ("Keluhan listrik padam tiap malam", (P, "listrik padam tiap malam", False, False, None)),
    ("komplain raskin tdk sampai", (P, "raskin tdk sampai", False, False, None)),
    ("lapor", (P, "", False, False, None)),
    ("LAPOR.", (P, "", False, False, None)),
    (
        "Lapor: Jalan rusak di Ds. Sukamaju RT 02/RW 03",
        (P, "Jalan rusak di Ds. Sukamaju RT 02/RW 03", False, False, None),
    ),
    # the citizen's own punctuation stays as typed
    (
        "lapor harga beras Rp 50.000,- terlalu mahal",
        (P, "harga beras Rp 50.000,- terlalu mahal", False, False, None),
    ),
    ("lapor jalan rusak... tolong", (P, "jalan rusak... tolong", False, False, None)),
    ("LAPOR#ANONIM#jalan#rusak", (P, "jalan#rusak", True, False, None)),
    # other kinds
    ("ASPIRASI tambah lampu jalan", (A, "tambah lampu jalan", False, False, None)),
    ("usul taman bermain anak", (A, "taman bermain anak", False, False, None)),
    ("Saran: perbaiki drainase", (A, "perbaiki drainase", False, False, None)),
    ("INFO jadwal posyandu", (IN, "jadwal posyandu", False, False, None)),
    ("tanya syarat bikin KTP", (IN, "syarat bikin KTP", False, False, None)),
    ("informasi#vaksin", (IN, "vaksin", False, False, None)),
    ("cek 12345", (S, "", False, False, "12345")),
    ("status #1916449", (S, "", False, False, "1916449")),
    ("CEK#1916449", (S, "", False, False, "1916449")),
    ("Cek 1916449 kapan ditindak", (S, "kapan ditindak", False, False, "1916449")),
    ("cek", (S, "", False, False, None)),
    ("cek 123456789012", (S, "", False, False, "123456789012")),
    # 13 digits is not a reference: not cut into a 12-digit one plus a stray digit
    ("cek 1234567890123", (S, "1234567890123", False, False, None)),
    ("?", (B, "", False, False, None)),
    ("??", (B, "", False, False, None)),
    ("", (B, "", False, False, None)),
    ("   ", (B, "", False, False, None)),
    ("# #", (B, "", False, False, None)),
    ("BANTUAN", (B, "", False, False, None)),
    ("help", (B, "", False, False, None)),
    ("menu", (B, "", False, False, None)),
    ("? apa ini", (B, "apa ini", False, False, None)),
    # flags, anywhere
    ("RAHASIA lapor pungli", (P, "pungli", False, True, None)),
    ("lapor anonim pungli bansos", (P, "pungli bansos", True, False, None)),
    ("LAPOR#RAHASIA#isi", (P, "isi", False, True, None)),
    ("LAPOR # RAHASIA # isi", (P, "isi", False, True, None)),
    ("RAHASIA#LAPOR#isi", (P, "isi", False, True, None)),
    ("LAPOR#ANONIM#RAHASIA#pungli", (P, "pungli", True, True, None)),
    ("lapor rahasia anonim jalan", (P, "jalan", True, True, None)),
    ("ANONIM LAPOR kades korupsi", (P, "kades korupsi", True, False, None)),
    ("rahasia: lapor: jalan", (P, "jalan", False, True, None)),
    ("aspirasi anonim ganti kades", (A, "ganti kades", True, False, None)),
    ("lapor anonimitas", (P, "anonimitas", False, False, None)),  # a word, not the flag
    # no keyword: a complaint with the whole text (no wrong door)
    ("jalan berlubang di desa", (P, "jalan berlubang di desa", False, False, None)),
    ("jalan lapor", (P, "jalan lapor", False, False, None)),
    ("saya mau lapor jalan rusak", (P, "saya mau lapor jalan rusak", False, False, None)),
    ("Pak tolong info bantuan", (P, "Pak tolong info bantuan", False, False, None)),
    ("1 2 3", (P, "1 2 3", False, False, None)),
    ("LAPORjalan rusak", (P, "LAPORjalan rusak", False, False, None)),
    # hostile or unusual text is data, nothing more
    ("'; DROP TABLE messages;--", (P, "'; DROP TABLE messages;--", False, False, None)),
    ("lapor x' OR '1'='1", (P, "x' OR '1'='1", False, False, None)),
    ("lapor jalan 😡😡", (P, "jalan 😡😡", False, False, None)),
    ("😡", (P, "😡", False, False, None)),
    ("lapor 081234567890 menipu", (P, "081234567890 menipu", False, False, None)),
]


def _expected(record: Record) -> tuple[str, str, bool, bool, str | None]:
    return (record.kind, record.text, record.anonymous, record.confidential, record.reference)


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({t for t, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("sms", "expected"), CASES, ids=[repr(t)[:40] for t, _ in CASES])
def test_parse_table(sms: str, expected: tuple[str, str, bool, bool, str | None]) -> None:
    assert _expected(parse(sms)) == expected


@pytest.mark.parametrize(
    ("sms", "keyword"),
    [("lapor#jalan", "LAPOR"), ("Usul taman", "USUL"), ("jalan lapor", None), ("?", None)],
)
def test_keyword_is_recorded_upper_case(sms: str, keyword: str | None) -> None:
    assert parse(sms).keyword == keyword


def test_category_and_location_are_not_guessed_yet() -> None:
    record = parse("LAPOR jalan rusak di Desa Sukamaju Kec. Cibeber")
    assert record.category is None and record.location is None


def test_as_dict_has_the_contract_keys() -> None:
    d = parse("status #1916449").as_dict()
    for key in ("kind", "text", "anonymous", "confidential", "category", "location", "reference"):
        assert key in d
    assert d["kind"] == "status" and d["reference"] == "1916449"


@pytest.mark.parametrize(("kind", "words"), list(DEFAULT_KEYWORDS.items()))
def test_every_default_keyword_gives_its_kind(kind: str, words: tuple[str, ...]) -> None:
    for word in words:
        for spelled in (word, word.lower(), word.capitalize()):
            for sep in (" ", "#", ":", "."):
                assert parse(f"{spelled}{sep}isi laporan").kind == kind, (spelled, sep)


@pytest.mark.parametrize(("flag", "words"), list(DEFAULT_FLAGS.items()))
def test_every_default_flag_is_recognised_and_removed(flag: str, words: tuple[str, ...]) -> None:
    for word in words:
        record = parse(f"LAPOR {word.lower()} jalan rusak")
        assert getattr(record, flag) is True
        assert record.text == "jalan rusak"


def test_custom_keyword_table() -> None:
    table = Keywords(kinds={"pengaduan": ("ADUKAN",), "bantuan": ("TOLONG",)}, flags={})
    assert parse("adukan jalan rusak", table).kind == "pengaduan"
    assert parse("adukan jalan rusak", table).text == "jalan rusak"
    assert parse("tolong", table).kind == "bantuan"
    # LAPOR is not in this table: no keyword, the whole text is the complaint
    assert _expected(parse("lapor rahasia x", table)) == (P, "lapor rahasia x", False, False, None)


def test_clean_collapses_whitespace_and_drops_control_characters() -> None:
    assert clean(" a\u00a0\u00a0b\r\n c\x07") == "a b c"
    assert clean("e\u0301") == "é"  # NFC


def test_parse_accepts_a_non_string_without_raising() -> None:
    assert parse(12345).kind == "pengaduan"  # type: ignore[arg-type]


# ------------------------------------------------------------------ properties

_FLAG_WORDS = {w for words in DEFAULT_FLAGS.values() for w in words}
_ANY_TEXT = st.text(max_size=10_000)
_SMS_ALPHABET = st.characters(codec="utf-8")  # utf-8: no lone surrogates
#: SMS-like text: keyword, flag and digit fragments mixed with separators and any characters
_SMS_TEXT = st.lists(
    st.one_of(
        st.sampled_from(
            [*SEPARATORS, " ", "?", "\n", "LAPOR", "rahasia", "ANONIM", "cek", "info", "1916449"]
        ),
        st.text(_SMS_ALPHABET, max_size=8),
    ),
    max_size=30,
).map("".join)


def _no_control(text: str) -> bool:
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp"):
            return False
        if cat == "Cf" and ch != "\u200d":  # ZWJ is kept inside emoji sequences
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.one_of(_ANY_TEXT, _SMS_TEXT))
@example("\x00\x1b\x7f\u0085\u2028\u2029\ufeff\u200b\u200d")
@example("LAPOR" * 2000)
@example("#" * 10_000)
def test_parse_is_total(text: str) -> None:
    record = parse(text)
    assert isinstance(record, Record)
    assert record.kind in KINDS
    assert isinstance(record.text, str)
    assert _no_control(record.text)
    assert record.text == record.text.strip()
    assert "  " not in record.text
    assert isinstance(record.anonymous, bool) and isinstance(record.confidential, bool)
    if record.reference is not None:
        assert record.kind == "status" and record.reference.isdigit()


@settings(max_examples=300, deadline=None)
@given(_SMS_TEXT)
def test_lapor_prefix_always_gives_a_complaint(t: str) -> None:
    record = parse("LAPOR " + t)
    assert record.kind == "pengaduan"
    assert record.keyword == "LAPOR"


_KEYWORD_WORDS = sorted({w for words in DEFAULT_KEYWORDS.values() for w in words})


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_KEYWORD_WORDS),
    st.sampled_from(sorted(_FLAG_WORDS)),
    st.sampled_from([" ", "#", "*", ":", " # "]),
    st.booleans(),
    _SMS_TEXT,
)
def test_a_flag_after_the_keyword_only_sets_the_flag(
    keyword: str, flag: str, sep: str, lower: bool, t: str
) -> None:
    if lower:
        keyword, flag = keyword.lower(), flag.lower()
    plain = parse(f"{keyword}{sep}{t}")
    flagged = parse(f"{keyword}{sep}{flag}{sep}{t}")
    attr = "confidential" if flag.upper() in DEFAULT_FLAGS["confidential"] else "anonymous"
    assert getattr(flagged, attr) is True
    assert (flagged.kind, flagged.text, flagged.reference, flagged.keyword) == (
        plain.kind,
        plain.text,
        plain.reference,
        plain.keyword,
    )


@settings(max_examples=300, deadline=None)
@given(_SMS_TEXT)
def test_keywordless_complaint_body_parses_to_itself(t: str) -> None:
    record = parse(t)
    if record.kind != "pengaduan" or record.keyword is not None:
        return
    if set(record.text) <= set(SEPARATORS + "? "):
        return  # flags around bare punctuation ("RAHASIA -"): see the report
    again = parse(record.text)
    assert (again.kind, again.text, again.keyword) == ("pengaduan", record.text, None)

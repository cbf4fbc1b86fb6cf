"""Meanings said in words (sms1708/core/meaning.py): the rules one by one, and their table."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms1708.core.grammar import GrammarTables, parse_strict
from sms1708.core.lexicon import WORD
from sms1708.core.meaning import DEFAULT_PHRASES, DEFAULT_PRIVACY, Phrases
from sms1708.errors import ConfigError
from sms1708.table_files import default_tables
from sms1708.table_files.keywords import keywords_from_dict

T = default_tables()


def _p(sms: str) -> tuple[str, str | None, bool, bool]:
    r = parse_strict(sms, T)
    return r.kind, r.reference, r.anonymous, r.confidential


def test_the_built_in_phrases_are_the_shipped_file() -> None:
    shipped = T.phrases
    assert {k: tuple(v) for k, v in shipped.phrases.items()} == {
        k: tuple(v) for k, v in DEFAULT_PHRASES.items()
    }
    assert {k: tuple(v) for k, v in shipped.privacy.items()} == {
        k: tuple(v) for k, v in DEFAULT_PRIVACY.items()
    }
    assert GrammarTables().phrases == Phrases()


@pytest.mark.parametrize(
    ("sms", "expected"),
    [
        ("gimana caranya lapor", ("bantuan", None, False, False)),
        ("format smsnya apa", ("bantuan", None, False, False)),
        # a help phrase inside a real report is part of the report
        (
            "cara lapor pak, jalan di desa kami rusak parah sudah tiga bulan tidak diperbaiki",
            ("pengaduan", None, False, False),
        ),
        ("INPO jadwal vaksin", ("informasi", None, False, False)),
        ("IMFO jadwal vaksin", ("informasi", None, False, False)),
        ("numpang tanya, kapan blt cair", ("informasi", None, False, False)),
        ("kapan pendaftaran pppk dibuka?", ("informasi", None, False, False)),
        ("kenapa jalan blm diperbaiki?", ("pengaduan", None, False, False)),
        ("laporan saya nomor 77 sudah sampai mana?", ("status", "77", False, False)),
        ("cek dong 88", ("status", "88", False, False)),
        ("saya sudah lapor 2 kali, gimana ini?", ("pengaduan", None, False, False)),
        ("LAPORAN jalan rusak 3 bulan gimana ini", ("pengaduan", None, False, False)),
        ("kami mengusulkan jembatan gantung", ("aspirasi", None, False, False)),
        ("tolong bangun posyandu. ASPIRASI", ("aspirasi", None, False, False)),
        ("USULperbaikan jalan desa", ("aspirasi", None, False, False)),
        ("tolong masukan nama saya ke dtks", ("pengaduan", None, False, False)),
        ("tolong rahasiakan nama saya, kades pungli", ("pengaduan", None, True, False)),
        ("jangan sebut nama saya ya", ("pengaduan", None, True, False)),
        ("identitas saya dirahasiakan", ("pengaduan", None, True, False)),
        ("mohon dirahasiakan, ada pungli", ("pengaduan", None, False, True)),
        ("sudah jadi rahasia umum kades korupsi", ("pengaduan", None, False, False)),
        ("rahasia umum: kades korupsi", ("pengaduan", None, False, False)),
        ("ada surat kaleng anonim soal kades", ("pengaduan", None, False, False)),
        ("ini bukan rahasia lagi, kades korupsi", ("pengaduan", None, False, True)),
    ],
)
def test_meanings(sms: str, expected: tuple[str, str | None, bool, bool]) -> None:
    assert _p(sms) == expected


def test_a_keyword_still_decides_and_the_text_is_never_cut_for_a_phrase() -> None:
    r = parse_strict("Sy mau tanya, apakah ada info loker?", T)
    assert (r.kind, r.keyword, r.text) == (
        "informasi",
        None,
        "Sy mau tanya, apakah ada info loker?",
    )
    assert parse_strict("LAPOR mau tanya kenapa jalan rusak", T).kind == "pengaduan"


def test_phrase_tables_are_checked() -> None:
    base = {"kinds": {"pengaduan": ["LAPOR"]}}
    t = keywords_from_dict({**base, "phrases": {"ask": ["takon"]}})
    assert parse_strict("takon jadwal posyandu", t).kind == "informasi"
    assert t.phrases.phrases["help"] == DEFAULT_PHRASES["help"]  # a key left out: default
    for bad, key in (
        ({"phrases": {"nope": ["x"]}}, "phrases.nope"),
        ({"phrases": {"ask": "mau tanya"}}, "phrases.ask"),
        ({"privacy": {"hide": ["!!"]}}, "privacy.hide"),
        ({"privacy": []}, "privacy"),
    ):
        with pytest.raises(ConfigError) as e:
            keywords_from_dict({**base, **bad})
        assert e.value.key == key


_PHRASE_TEXT = (
    "mau tanya numpang gimana caranya lapor format sms laporan nomor 77 sudah sampai mana "
    "usul mengusulkan masukan ke nama rahasiakan jangan sebut identitas dirahasiakan rahasia "
    "umum surat kaleng anonim kapan apakah kenapa rusak jalan dalan ayek dak galak nyuwun "
    "punten desa kepur tj enim warga di kec gelumbang ? , . #"
)
_PHRASE_WORDS = _PHRASE_TEXT.split()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PHRASE_WORDS), min_size=1, max_size=25))
def test_a_meaning_read_from_words_never_loses_a_word(words: list[str]) -> None:
    """Whatever kind the phrasing gives a message without a keyword, its words are kept."""
    text = " ".join(words)
    r = parse_strict(text, T)
    if r.keyword is not None:
        return  # a keyword (at the start or the end) is a marker and leaves the text
    kept = set(WORD.findall(r.text.lower()))
    for w in WORD.findall(text.lower()):
        if T.flag_of(w) is None:
            assert w in kept, (w, r)
    assert r.reference is None or r.kind == "status"

"""The SMS grammar (first version): what it makes of what citizens type on feature phones."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sms1708.core.grammar import KINDS, SEPARATORS, Record, clean, parse, parse_strict
from sms1708.core.grammar_tables import DEFAULT_FLAGS, DEFAULT_KEYWORDS, GrammarTables
from sms1708.core.lexicon import near, typo_budget
from sms1708.core.places import Gazetteer
from sms1708.errors import ConfigError
from sms1708.table_files import default_tables, load_tables
from sms1708.table_files.categories import lexicon_from_dict
from sms1708.table_files.places import gazetteer_from_dict

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


def test_category_and_location_come_from_the_tables() -> None:
    # GrammarTables() alone has no lexicon and no gazetteer: nothing is guessed
    record = parse("LAPOR jalan rusak di Desa Sukamaju Kec. Cibeber")
    assert record.category is None and record.location is None
    # the shipped tables know "jalan"; Sukamaju and Cibeber are not in Kabupaten Muara Enim
    record = parse("LAPOR jalan rusak di Desa Sukamaju Kec. Cibeber", default_tables())
    assert (record.category, record.location) == ("infrastruktur", None)
    record = parse("LAPOR jalan rusak di Desa Kepur Kec. Muara Enim", default_tables())
    assert record.location == "Desa Kepur, Kec. Muara Enim"


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
    table = GrammarTables(kinds={"pengaduan": ("ADUKAN",), "bantuan": ("TOLONG",)}, flags={})
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
    record = parse_strict(text)
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
    record = parse_strict("LAPOR " + t)
    assert record.keyword == "LAPOR"
    if record.kind == "bantuan":  # "LAPOR ?" asks how to report (deliberate, see the table)
        assert "?" in t and record.text == ""
        return
    assert record.kind == "pengaduan"


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
    plain = parse_strict(f"{keyword}{sep}{t}")
    flagged = parse_strict(f"{keyword}{sep}{flag}{sep}{t}")
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
    record = parse_strict(t)
    if record.kind != "pengaduan" or record.keyword is not None:
        return
    if set(record.text) <= set(SEPARATORS + "? "):
        return  # flags around bare punctuation ("RAHASIA -"): see the report
    again = parse_strict(record.text)
    assert (again.kind, again.text, again.keyword) == ("pengaduan", record.text, None)


# ------------------------------------------------------------------ the tables (TOML files)


def test_the_built_in_keywords_are_the_shipped_file() -> None:
    """GrammarTables() (what parse() uses without a table) and keywords.toml say the same."""
    shipped, built_in = default_tables(), GrammarTables()
    assert {k: tuple(v) for k, v in shipped.kinds.items()} == {
        k: tuple(v) for k, v in built_in.kinds.items()
    }
    assert {k: tuple(v) for k, v in shipped.flags.items()} == {
        k: tuple(v) for k, v in built_in.flags.items()
    }
    assert shipped.never == built_in.never
    assert tuple(shipped.reference_words) == tuple(built_in.reference_words)
    assert tuple(shipped.followup_words) == tuple(built_in.followup_words)
    assert (shipped.typo_one_from, shipped.typo_two_from, shipped.short_report_words) == (
        built_in.typo_one_from,
        built_in.typo_two_from,
        built_in.short_report_words,
    )


def test_the_shipped_tables_load_from_the_package() -> None:
    t = default_tables()
    assert t is default_tables()  # read once
    assert set(t.lexicon.categories) >= {"infrastruktur", "kesehatan", "pungli", "dana desa"}
    kecamatan = [p.name for p, _ in t.gazetteer.places if p.level == "kecamatan"]
    assert len(kecamatan) == 22 and "Semende Darat Laut" in kecamatan


def test_the_stop_list_holds_no_keyword_and_every_entry_is_near_one() -> None:
    t = default_tables()
    words = [w.lower() for ws in [*t.kinds.values(), *t.flags.values()] for w in ws]
    for w in t.never:
        assert w.upper() not in {x.upper() for x in words}
        # a stop word only makes sense if typo tolerance could otherwise match it
        assert any(
            near(w, k, typo_budget(len(k), t.typo_one_from, t.typo_two_from)) is not None
            for k in words
        ), w


def _write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_operator_files_replace_the_shipped_ones(tmp_path: Path) -> None:
    keywords = _write(
        tmp_path,
        "kw.toml",
        '[kinds]\npengaduan = ["SAMBAT", "LAPOR"]\nbantuan = ["TULUNG"]\n'
        '[typos]\nnever = ["sambal"]\n',
    )
    categories = _write(tmp_path, "cat.toml", '[categories]\n"jalan raya" = ["aspal"]\n')
    places = _write(
        tmp_path,
        "pl.toml",
        'kabupaten = "Contoh"\n[[kecamatan]]\nname = "Kota Lama"\ndesa = ["Sukamaju"]\n',
    )
    t = load_tables(keywords, categories, places)
    r = parse("sambat aspal rusak di ds sukamaju", t)
    assert (r.kind, r.keyword, r.text) == ("pengaduan", "SAMBAT", "aspal rusak di ds sukamaju")
    assert (r.category, r.location) == ("jalan raya", "Desa Sukamaju, Kec. Kota Lama")
    assert parse("sambal pedas", t).keyword is None  # the local stop list
    assert parse("smbat jalan", t).keyword == "SAMBAT"  # 6 letters: one edit forgiven
    assert parse("smbt jalan", t).keyword is None  # two edits are not
    assert parse("tulung", t).kind == "bantuan"
    assert parse("RAHASIA x", t).confidential  # no [flags]: the default flags
    # a file left out is the shipped one
    assert load_tables(keywords).lexicon == default_tables().lexicon


@pytest.mark.parametrize(
    ("which", "content", "in_message"),
    [
        ("keywords", "[kinds\n", "not valid TOML"),
        ("keywords", '[kinds]\nlaporan = ["X"]\n', "kinds.laporan: unknown kind"),
        ("keywords", '[kinds]\npengaduan = ["LAPOR"]\naspirasi = ["lapor"]\n', "also a keyword"),
        ("keywords", '[kinds]\npengaduan = ["LAPOR JALAN"]\n', "one word of letters"),
        ("keywords", '[kinds]\npengaduan = "LAPOR"\n', "must be a list"),
        ("keywords", '[kinds]\npengaduan = ["LAPOR"]\n[typos]\nnever = ["lapor"]\n', "never"),
        ("keywords", '[kinds]\npengaduan = ["A"]\n[typos]\ndistance_1_from = 9\n', "greater"),
        ("keywords", '[kinds]\npengaduan = ["A"]\n[flags]\nsecret = ["X"]\n', "unknown flag"),
        ("keywords", '[kinds]\npengaduan = ["A"]\n[extra]\nx = 1\n', "unknown section"),
        ("keywords", '[kinds]\npengaduan = ["A"]\n[hints]\nshort_report_words = -1\n', "0 to"),
        ("categories", '[categories]\na = ["jalan"]\nb = ["JALAN", "jalan"]\n', "also under"),
        ("categories", '[categories]\na = ["x*"]\n', "4+ letters"),
        ("categories", "[categories]\n", "at least one category"),
        ("categories", '[categories]\na = ["x"]\n[weights]\nb = 2\n', "no such category"),
        ("categories", '[categories]\na = ["x"]\n[settings]\nmargin = 0.5\n', "margin"),
        ("places", 'kabupaten = "X"\n', "at least one [[kecamatan]]"),
        ("places", '[[kecamatan]]\nname = "A"\n[[kecamatan]]\nname = "a"\n', "listed twice"),
        ("places", '[[kecamatan]]\nname = "A"\ndesa = ["B", "b"]\n', "listed twice"),
        ("places", '[[kecamatan]]\nname = "A"\ndusun = ["B"]\n', "unknown key"),
        ("places", '[[kecamatan]]\nname = ""\n', "at least one letter"),
    ],
)
def test_bad_table_files_are_clear_config_errors(
    tmp_path: Path, which: str, content: str, in_message: str
) -> None:
    path = _write(tmp_path, f"{which}.toml", content)
    with pytest.raises(ConfigError) as err:
        load_tables(**{which: path})
    assert path in str(err.value) and in_message in str(err.value)


def test_a_missing_or_unreadable_table_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_tables(places=str(tmp_path / "nope.toml"))
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe[kinds]")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_tables(keywords=str(tmp_path / "bin.toml"))


# ------------------------------------------------------------------ places and categories


def _gazetteer() -> Gazetteer:
    return gazetteer_from_dict(
        {
            "kabupaten": "Contoh",
            "kecamatan": [
                {"name": "Barat", "desa": ["Sukajadi", "Teluk"]},
                {"name": "Timur", "desa": ["Sukajadi"], "kelurahan": ["Timur"]},
            ],
        }
    )


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("banjir di ds sukajadi", None),  # a desa in two kecamatan: which one?
        ("banjir di ds sukajadi kec barat", "Desa Sukajadi, Kec. Barat"),
        ("banjir di sukajadi timur", "Desa Sukajadi, Kec. Timur"),
        ("jalan teluk rusak", "Desa Teluk, Kec. Barat"),
        ("banjir di Timur", "Kec. Timur"),  # a kecamatan and a kelurahan: the kecamatan
        ("banjir di kel. Timur", "Kel. Timur, Kec. Timur"),
        ("dari barat ke timur", None),  # two kecamatan
        ("ds teluk kec timur", "Kec. Timur"),  # the kecamatan said wins
        # two kecamatan: where the reporter lives ("warga ...") gives way to where it is ("di")
        ("warga ds teluk kec barat, lapor banjir di timur", "Kec. Timur"),
        ("banjir di timur dan di barat", None),  # two places "di": no single place
        ("kab contoh", "Kab. Contoh"),
        ("contoh", None),  # the kabupaten only after kab./kabupaten
        ("kec barrat", "Kec. Barat"),  # a typo after a prefix
        ("barrat", None),  # a short single word: exact only
    ],
)
def test_places_are_resolved_to_the_most_specific_single_one(
    text: str, location: str | None
) -> None:
    assert _gazetteer().find(text) == location


def test_category_lexicon_rules() -> None:
    lex = lexicon_from_dict(
        {
            "categories": {
                "pendidikan": ["SD", "sekolah", "guru"],
                "infrastruktur": ["jalan", "lubang*"],
                "bencana": ["banjir"],
            },
            "weights": {"bencana": 2},
        }
    )
    assert lex.infer("anak SD") == "pendidikan"
    assert lex.infer("jam 8 sd 12") is None  # lower-case "sd": sampai dengan
    assert lex.infer("jalannya berlubang2") == "infrastruktur"  # -nya, stem, 2
    assert lex.scores("jalan jalan") == {"infrastruktur": 1}  # reduplication counts once
    assert lex.infer("sekolah dan jalan") is None  # a tie: no guess
    assert lex.infer("sekolah kebanjiran, banjir") == "bencana"  # weight 2 x 1 vs 1
    assert lex.infer("pendidikan") == "pendidikan"  # the name is a term
    assert lex.label("pendidkan") == ("pendidikan", True)  # a label field, typo forgiven
    assert lex.label("jalan") == ("infrastruktur", False)  # a term: decides but stays
    assert lex.label("jalan rusak parah") == (None, False)


def test_short_reports_get_a_hint_but_are_still_reports() -> None:
    t = default_tables()
    assert parse("LAPOR jalan", t).hint == "short"
    assert parse("LAPOR jalan rusak parah", t).hint is None
    assert parse("LAPOR Gelumbang jalan rusak", t).hint is None  # the place counts
    assert parse("INFO ktp", t).hint is None  # questions may be short
    r = parse("usul", t)
    assert (r.kind, r.hint) == ("aspirasi", "short")

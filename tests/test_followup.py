"""Follow-up SMS join their report (core.followup, core.intake): examples and properties."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core import followup, intake
from sms1708.core.followup import Report, decide, reference
from sms1708.core.grammar import parse
from sms1708.table_files import default_tables

T = default_tables()
WIB = timezone(timedelta(hours=7))
AT = datetime(2026, 11, 30, 9, 0, tzinfo=WIB).timestamp()
WINDOW = 30 * 60.0
CITIZEN = "+6281234567890"


def mine(rid: int = 125, at: float = AT, **kw: object) -> Report:
    return Report(rid, own=True, at=at, **kw)  # type: ignore[arg-type]


def judge(
    text: str,
    *,
    named: Report | None = None,
    last: Report | None = None,
    now: float = AT + 60,
    window: float = WINDOW,
    sender_type: str = "international",
) -> followup.Attach | None:
    ref = reference(text, T.followup_words)
    rest = parse(ref.text, T) if ref else None
    return decide(
        parse(text, T),
        ref,
        rest,
        named,
        last,
        now=now,
        window=window,
        sender_type=sender_type,
        keyword_first=followup.opens_with_keyword(ref.text if ref else text, T),
    )


# ------------------------------------------------------------------ naming a report


@pytest.mark.parametrize(
    ("text", "number", "rest"),
    [
        ("#125 lubangnya besar dekat SD 5", "125", "lubangnya besar dekat SD 5"),
        ("# 125: sudah 3 bulan", "125", "sudah 3 bulan"),
        ("TAMBAH 125 lubangnya besar", "125", "lubangnya besar"),
        ("tambah#125 lubangnya besar", "125", "lubangnya besar"),
        ("Tambahan no. 125: sudah 3 bulan", "125", "sudah 3 bulan"),
        ("TAMBAHAN laporan 125 jalannya licin", "125", "jalannya licin"),
        ("tambahkan 1916449 ada foto di FB desa", "1916449", "ada foto di FB desa"),
        (
            "Terima kasih, laporan Anda sudah kami terima. No. laporan: 125. Untuk cek status,"
            " kirim: CEK 125 lubangnya makin besar",
            "125",
            "lubangnya makin besar",
        ),
        ("lubangnya makin besar. No. laporan: 125", "125", "lubangnya makin besar."),
        (
            "Laporan Anda kami terima, No. 77. Agar bisa ditindaklanjuti, kirim lagi: LAPOR apa"
            " masalahnya, di desa/kecamatan mana, sejak kapan. Di desa Karang Raja sejak Juni",
            "77",
            "Di desa Karang Raja sejak Juni",
        ),
    ],
)
def test_the_report_an_sms_names_is_read_with_the_rest_of_the_text(
    text: str, number: str, rest: str
) -> None:
    ref = reference(text, T.followup_words)
    assert ref is not None
    assert (ref.number, ref.text) == (number, rest)


@pytest.mark.parametrize(
    "text",
    [
        "lubangnya besar dekat SD 5",
        "LAPOR jalan rusak 125 meter",
        "tambah parah jalannya",  # TAMBAH without a number: no report named
        "CEK 125",
        "laporan saya nomor 77 sudah sampai mana?",
        "harga #1 di pasar naik",  # not at the start
    ],
)
def test_an_sms_that_names_no_report(text: str) -> None:
    assert reference(text, T.followup_words) is None


def test_naming_the_senders_own_report_attaches_whatever_the_time() -> None:
    days_later = AT + 40 * 86400
    got = judge("TAMBAH 125 lubangnya besar", named=mine(), now=days_later)
    assert got is not None and (got.report_id, got.why) == (125, "named")
    assert got.record.text == "lubangnya besar"


def test_naming_someone_elses_report_makes_a_report_of_its_own_whole() -> None:
    other = Report(125, own=False, at=AT)
    assert judge("#125 lubangnya besar", named=other, last=mine(124)) is None
    # nor does it join the sender's own last report by time: it named another one
    assert judge("#125 lubangnya besar", named=None, last=mine(124)) is None
    # and the record stays the whole SMS (no wrong door: nothing is cut away)
    assert parse("#125 lubangnya besar", T).text == "#125 lubangnya besar"


def test_a_named_report_that_cannot_take_an_update_is_not_joined() -> None:
    assert judge("#125 lagi", named=mine(attachable=False)) is None


@pytest.mark.parametrize(
    "text",
    ["TAMBAH 125", "#125", "#125 CEK 125", "TAMBAH 125 BANTUAN", "#125 INFO kapan?", "#125 ?"],
)
def test_naming_a_report_with_nothing_to_add_or_a_keyword_is_not_a_followup(text: str) -> None:
    assert judge(text, named=mine()) is None


# ------------------------------------------------------------------ joining by time


def test_a_keywordless_sms_soon_after_the_senders_report_joins_it() -> None:
    got = judge("lubangnya besar dekat SD 5, sudah 3 bulan", last=mine())
    assert got is not None and (got.report_id, got.why) == (125, "window")


@pytest.mark.parametrize(
    ("now", "window", "joins"),
    [
        (AT, WINDOW, True),
        (AT + WINDOW, WINDOW, True),
        (AT + WINDOW + 1, WINDOW, False),
        (AT - 1, WINDOW, False),  # earlier than the report by the network's clock
        (AT + 60, 0, False),  # window 0: joining by time is off
    ],
)
def test_the_window_is_measured_from_the_report(now: float, window: float, joins: bool) -> None:
    got = judge("lubangnya besar dekat SD 5", last=mine(), now=now, window=window)
    assert (got is not None) == joins


@pytest.mark.parametrize(
    "text",
    [
        "LAPOR lampu jalan mati di desa Lubuk Enau",
        "CEK 125",
        "CEK jalan rusak di desa Lubuk Enau sudah lama",  # a complaint for the grammar
        "RAHASIA lapr pungli di kantor desa",  # a typo of a keyword, after a flag
        "BANTUAN sosial tidak sampai ke warga",
        "INFO kapan pendaftaran PPPK dibuka",
        "BANTUAN",
        "?",
        "mau tanya syarat KTP",
        "ASPIRASI bangun jembatan",
    ],
)
def test_keywords_cek_info_bantuan_and_questions_never_join_by_time(text: str) -> None:
    assert judge(text, last=mine()) is None


def test_no_report_unknown_time_or_a_company_sender_never_joins() -> None:
    assert judge("lubangnya besar", last=None) is None
    assert judge("lubangnya besar", last=mine(at=None)) is None  # type: ignore[arg-type]
    assert judge("lubangnya besar", last=mine(), sender_type="alphanumeric") is None
    assert judge("lubangnya besar", last=Report(125, own=False, at=AT)) is None


def test_the_followup_carries_the_reports_kind_flags_and_place_unless_it_names_its_own() -> None:
    report = mine(
        kind="aspirasi",
        confidential=True,
        category="infrastruktur",
        location="Kec. Gelumbang",
        location_code="16.03.05",
    )
    got = judge("dekat SD 5", last=report)
    assert got is not None
    r = got.record
    assert (r.kind, r.confidential, r.anonymous) == ("aspirasi", True, False)
    assert (r.category, r.location, r.location_code) == (
        "infrastruktur",
        "Kec. Gelumbang",
        "16.03.05",
    )
    own = judge("ANONIM di desa Tanjung Raja juga", last=report)
    assert own is not None
    assert own.record.anonymous and own.record.confidential  # privacy holds on either side
    assert own.record.location_code == "16.03.02.2001"


# ------------------------------------------------------------------ the plan


def test_the_plan_of_a_followup_is_an_update_with_a_short_receipt() -> None:
    rules = intake.IntakeRules(keywords=T)
    msg = intake.NewMessage(
        "modem0",
        CITIZEN,
        "international",
        "lubangnya besar",
        datetime.fromtimestamp(AT + 120, WIB).isoformat(),
    )
    p = intake.plan(7, msg, rules, lambda r, s: None, lambda ref, snd: (None, mine()))
    assert (p.update_of, p.forward, p.reply_purpose) == (125, True, "update_receipt")
    assert p.reply_text == "Tambahan untuk laporan 125 diterima. Terima kasih."
    # without the reports, or outside the window, it is a report of its own
    alone = intake.plan(7, msg, rules, lambda r, s: None)
    assert (alone.update_of, alone.reply_purpose) == (None, "receipt")
    off = intake.IntakeRules(keywords=T, followup_window=0)
    p = intake.plan(7, msg, off, lambda r, s: None, lambda ref, snd: (None, mine()))
    assert p.update_of is None


# ------------------------------------------------------------------ properties

TEXTS = st.text(
    alphabet=st.sampled_from(list("abcdeilmnoprstuAEILOR #:.,?0123456789")), max_size=60
) | st.sampled_from(
    [
        "LAPOR jalan rusak",
        "lubangnya besar",
        "CEK 125",
        "#125 lagi",
        "TAMBAH 125 foto",
        "INFO kapan",
        "BANTUAN",
        "No. laporan: 125 ini tambahannya",
    ]
)
REPORTS = st.builds(
    Report,
    id=st.integers(1, 300),
    own=st.booleans(),
    at=st.none() | st.floats(AT - 7200, AT + 7200),
    attachable=st.booleans(),
    kind=st.sampled_from(["pengaduan", "aspirasi", "informasi"]),
)


@settings(max_examples=300, deadline=None)
@given(
    text=TEXTS,
    named=st.none() | REPORTS,
    last=st.none() | REPORTS,
    now=st.none() | st.floats(AT - 7200, AT + 7200),
    window=st.sampled_from([0.0, 60.0, WINDOW, 86400.0]),
)
def test_property_an_sms_joins_only_the_senders_own_report_that_can_take_it(
    text: str, named: Report | None, last: Report | None, now: float | None, window: float
) -> None:
    ref = reference(text, T.followup_words)
    rest = parse(ref.text, T) if ref else None
    record = parse(text, T)
    first = followup.opens_with_keyword(ref.text if ref else text, T)
    got = decide(record, ref, rest, named, last, now=now, window=window, keyword_first=first)
    if got is None:
        return
    joined = named if got.why == "named" else last
    assert joined is not None and joined.id == got.report_id
    assert joined.own and joined.attachable  # no wrong door
    if ref is not None:
        assert got.why == "named"  # a named report is never swapped for the last one
    else:
        assert got.why == "window" and window > 0
        assert now is not None and joined.at is not None and 0 <= now - joined.at <= window
        assert record.keyword is None and record.kind == "pengaduan" and not first
    assert got.record.kind in ("pengaduan", "aspirasi", "informasi")
    assert got.record.text  # something to add


@settings(max_examples=200, deadline=None)
@given(
    keyword=st.sampled_from(["CEK", "INFO", "BANTUAN", "LAPOR", "ASPIRASI", "STATUS", "HELP"]),
    tail=st.text(alphabet=st.sampled_from(list("abcdefg 0123")), max_size=30),
    delta=st.floats(0, WINDOW),
)
def test_property_an_sms_with_a_keyword_never_joins_by_time(
    keyword: str, tail: str, delta: float
) -> None:
    assert judge(f"{keyword} {tail}", last=mine(), now=AT + delta) is None


@settings(max_examples=200, deadline=None)
@given(
    number=st.integers(1, 10**9),
    words=st.lists(st.sampled_from(["lubang", "besar", "sejak", "Juni", "dekat"]), min_size=1),
    form=st.sampled_from(["#{n} {t}", "TAMBAH {n} {t}", "tambahan no. {n}: {t}", "#{n}: {t}"]),
)
def test_property_a_named_report_keeps_every_word_of_the_addition(
    number: int, words: list[str], form: str
) -> None:
    text = " ".join(words)
    ref = reference(form.format(n=number, t=text), T.followup_words)
    assert ref is not None and ref.number == str(number) and ref.text == text


@settings(max_examples=200, deadline=None)
@given(at=st.floats(AT - 3600, AT + 3600), d1=st.floats(0, WINDOW), d2=st.floats(0, WINDOW))
def test_property_joining_by_time_is_monotonic_in_the_window(
    at: float, d1: float, d2: float
) -> None:
    """Joined at some delay -> joined at every shorter delay; never joined past the window."""
    short, long = sorted((d1, d2))
    report = mine(at=at)
    if judge("lubangnya besar", last=report, now=at + long) is not None:
        assert judge("lubangnya besar", last=report, now=at + short) is not None
    assert judge("lubangnya besar", last=report, now=at + WINDOW + 1 + long) is None


# ------------------------------------------------------------------ configuration


def test_the_window_is_configured_in_minutes_and_zero_turns_it_off() -> None:
    from sms1708.config import from_mapping
    from sms1708.daemon import intake_rules
    from sms1708.errors import ConfigError

    assert intake_rules(from_mapping({})).followup_window == 30 * 60
    assert intake_rules(from_mapping({"followups": {"window_minutes": 0}})).followup_window == 0
    for bad in (-1, "30", True, 20000):
        with pytest.raises(ConfigError, match=r"followups\.window_minutes"):
            from_mapping({"followups": {"window_minutes": bad}})


def test_the_followup_words_are_a_table_operators_can_edit() -> None:
    from sms1708.errors import ConfigError
    from sms1708.table_files.keywords import keywords_from_dict

    t = keywords_from_dict({"kinds": {"pengaduan": ["LAPOR"]}, "followups": {"words": ["IMBUH"]}})
    assert t.followup_words == ("IMBUH",)
    ref = reference("imbuh 12 sudah 3 bulan", t.followup_words)
    assert ref is not None and (ref.number, ref.text) == ("12", "sudah 3 bulan")
    with pytest.raises(ConfigError, match=r"followups\.words"):
        keywords_from_dict({"kinds": {"pengaduan": ["LAPOR"]}, "followups": {"words": ["LAPOR"]}})

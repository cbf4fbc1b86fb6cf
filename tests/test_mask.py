"""Phone numbers are masked in logs and on operator screens (P12)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core.mask import mask_number, mask_text


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+6281234567890", "+62812******90"),
        ("081234567890", "0812******90"),
        ("6281234567890", "6281*******90"),
        ("+628123456789", "+62812*****89"),
        ("0251876543", "0251****43"),  # a landline with area code
        ("+1 202 555 0147", "+12025****47"),
    ],
)
def test_mask_number(number: str, masked: str) -> None:
    assert mask_number(number) == masked


@pytest.mark.parametrize(
    "sender", ["1708", "3636", "123456", "TELKOMSEL", "BANK BRI", "INFO-PLN", "", "+62"]
)
def test_short_codes_and_alphanumeric_senders_stay_as_they_are(sender: str) -> None:
    assert mask_number(sender) == sender


def test_mask_text_masks_numbers_inside_sentences() -> None:
    assert mask_text("hubungi 081234567890 segera") == "hubungi 0812******90 segera"
    assert mask_text("dari +6281234567890: LAPOR jalan") == "dari +62812******90: LAPOR jalan"
    out = mask_text("no hp 0812-3456-7890 atau 0812 3456 7891.")
    assert "3456" not in out
    assert out.startswith("no hp 0812") and out.endswith("91.")


def test_mask_text_masks_every_number() -> None:
    out = mask_text("sender=+6281234567890 own=+6285711112222 to=081399998888")
    for middle in ("1234567", "5711112", "1399998"):
        assert middle not in out
    assert out.count("*") == 6 + 6 + 6


@pytest.mark.parametrize(
    "text",
    [
        "laporan 1916449 sudah diteruskan",
        "CEK 1916449",
        "tracking_id=1916449",
        "RT 02/RW 03, jam 10.30, Rp 50.000",
        "kirim ke 1708",
        "no sms here",
        "",
    ],
)
def test_mask_text_keeps_tracking_ids_and_small_numbers_readable(text: str) -> None:
    assert mask_text(text) == text


MIDDLE = st.text("0123456789", min_size=8, max_size=11)


@settings(max_examples=300)
@given(MIDDLE)
def test_indonesian_mobile_numbers_never_show_their_middle(rest: str) -> None:
    number = f"+628{rest}"
    digits = number[1:]
    head, middle, tail = digits[:5], digits[5:-2], digits[-2:]
    masked = mask_number(number)
    # prefix and last two digits kept, every middle digit replaced by one star
    assert masked == f"+{head}{'*' * len(middle)}{tail}"
    assert re.sub(r"\D", "", masked) == head + tail
    # the middle run cannot be read from the masked form (unless it happens to repeat the prefix)
    if middle not in f"+{head}":
        assert middle not in masked


@settings(max_examples=300)
@given(
    MIDDLE, st.sampled_from(["+628", "628", "08"]), st.sampled_from([" ", ". ", ", ", "\n", ")"])
)
def test_numbers_in_text_are_masked_in_every_spelling(rest: str, prefix: str, after: str) -> None:
    number = prefix + rest
    masked = mask_text(f"LAPOR penipuan dari {number}{after}tolong")
    assert number not in masked
    assert masked.startswith("LAPOR penipuan dari ")
    assert masked.endswith(f"{after}tolong")
    assert "*" in masked


@pytest.mark.parametrize(
    "text", ["HP081234567890", "dari081234567890tolong", "no.+6281234567890!", "wa:6281234567890"]
)
def test_numbers_glued_to_words_are_masked(text: str) -> None:
    digits = "".join(c for c in text if c.isdigit())
    masked = mask_text(text)
    assert digits not in "".join(c for c in masked if c.isdigit() or c == "*")
    assert "*" in masked


# ------------------------------------------------------------------ numbers with separators

GROUP = st.text("0123456789", min_size=3, max_size=4)
SEPARATOR = st.sampled_from([" ", "  ", "-", ".", "/", " - "])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("hp 0812.3456.7890 ya", "hp 0812******90 ya"),
        ("hp (0812) 3456-7890 ya", "hp 0812******90 ya"),
        ("hp 0811/7654321 ya", "hp 0811*****21 ya"),
        ("hp +62 812-3456-7890 ya", "hp +62812******90 ya"),
        ("hp 0812  3456  7890 ya", "hp 0812******90 ya"),
        ("kantor (021) 555-1234", "kantor 0215****34"),
        ("tgl 01-12-2026 0812 3456 7890", "tgl 01-12-2026 0812******90"),
    ],
)
def test_numbers_written_with_separators_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@settings(max_examples=300)
@given(
    st.sampled_from(["+62 8", "+628", "62 8", "08", "(08", "+62-8"]),
    st.text("0123456789", min_size=2, max_size=3),
    st.lists(GROUP, min_size=2, max_size=3),
    SEPARATOR,
    st.sampled_from(["", " ", ", ", ".", ")"]),
)
def test_no_middle_group_of_a_separated_number_survives(
    prefix: str, operator: str, groups: list[str], sep: str, after: str
) -> None:
    head = prefix + operator + (") " if prefix.startswith("(") else sep)
    number = head + sep.join(groups)
    masked = mask_text(f"LAPOR penipuan dari {number}{after}tolong")
    assert "*" in masked
    assert masked.endswith(f"{after}tolong")
    digits = "".join(c for c in number if c.isdigit())
    shown = "".join(c for c in masked if c.isdigit())
    # only the prefix (4 digits, 5 with a +) and the last two digits are shown
    head = 5 if number.startswith("+") else 4
    assert shown == digits[:head] + digits[-2:]


dates = st.dates(min_value=date(1990, 1, 1))
times = st.tuples(st.integers(0, 23), st.integers(0, 59))


@settings(max_examples=300)
@given(
    dates,
    times,
    st.integers(min_value=0, max_value=10**13),
    st.integers(min_value=1_000_000, max_value=9_999_999),
    st.integers(min_value=1, max_value=999_999),
)
def test_dates_amounts_tracking_ids_and_report_numbers_stay_readable(
    day: Any, hm: tuple[int, int], amount: int, tracking: int, report: int
) -> None:
    rupiah = f"{amount:,}".replace(",", ".")
    h, m = hm
    for text in (
        f"kejadian {day.isoformat()} jam {h:02d}:{m:02d}",
        f"tgl {day:%d/%m/%Y} {h:02d}.{m:02d}-{(h + 1) % 24:02d}.{m:02d} WIB",
        f"tgl {day:%d.%m.%Y} {h:02d}.{m:02d} dan {day:%d-%m-%Y}",
        f"pungli Rp {rupiah} di kantor desa",
        f"CEK {tracking} laporan {report} RT 02/RW 03",
    ):
        assert mask_text(text) == text

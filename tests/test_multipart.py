"""Multipart SMS: complete when every part is there, else released flagged as partial (P7)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core.multipart import (
    MAX_SPREAD,
    MISSING_MARK,
    Assembly,
    StoredPart,
    complete,
    expired,
    release,
)

# citizens' text without "[" so that a literal "[...]" cannot be confused with the mark
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="["), max_size=300)


@st.composite
def split_message(draw: st.DrawFn) -> tuple[str, list[StoredPart]]:
    """A text cut into n parts (1..12) at arbitrary points, each part with its own key."""
    text = draw(TEXT)
    n = draw(st.integers(1, 12))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, len(text)]
    parts = [
        StoredPart(seq, text[bounds[seq - 1] : bounds[seq]], f"key-{seq}")
        for seq in range(1, n + 1)
    ]
    return text, parts


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[str, int, list[StoredPart], set[int]]:
    """Some of the parts, in any order, some of them more than once (modem redelivery)."""
    text, parts = draw(split_message())
    n = len(parts)
    present = draw(st.sets(st.integers(1, n), max_size=n))
    if draw(st.booleans()):
        present = set(range(1, n + 1))
    chosen = [p for p in parts if p.seq in present]
    dupes = draw(st.lists(st.sampled_from(chosen), max_size=5)) if chosen else []
    shuffled = draw(st.permutations(chosen + dupes))
    return text, n, list(shuffled), present


@settings(max_examples=300, deadline=None)
@given(arrivals())
def test_complete_iff_every_part_is_there(
    case: tuple[str, int, list[StoredPart], set[int]],
) -> None:
    text, n, parts, present = case
    got = complete(n, parts)
    if present == set(range(1, n + 1)):
        assert got is not None
        assert got.text == text
        assert got.part_keys == tuple(f"key-{s}" for s in range(1, n + 1))
        assert got.missing == ()
        assert not got.partial
    else:
        assert got is None


@settings(max_examples=300, deadline=None)
@given(arrivals())
def test_release_keeps_every_present_part_and_marks_the_missing(
    case: tuple[str, int, list[StoredPart], set[int]],
) -> None:
    text, n, parts, present = case
    got = release(n, parts)
    missing = [s for s in range(1, n + 1) if s not in present]
    assert got.missing == tuple(missing)
    assert got.partial == bool(missing)
    assert got.part_keys == tuple(f"key-{s}" for s in sorted(present))
    # every present part's text, in order, exactly as it arrived
    by_seq = {p.seq: p.text for p in parts}
    pos = 0
    for seq in sorted(present):
        found = got.text.find(by_seq[seq], pos)
        assert found >= 0, (seq, by_seq[seq], got.text)
        pos = found + len(by_seq[seq])
    # one mark per run of consecutive missing parts
    runs = sum(1 for i, s in enumerate(missing) if i == 0 or missing[i - 1] != s - 1)
    assert got.text.count(MISSING_MARK) == runs
    if not missing:
        assert got.text == text
        assert got == complete(n, parts)


def test_release_example() -> None:
    parts = [
        StoredPart(1, "LAPOR jalan rusak di desa Suka", "k1"),
        StoredPart(3, "mohon segera diperbaiki", "k3"),
        StoredPart(5, "terima kasih", "k5"),
    ]
    got = release(6, parts)
    assert got == Assembly(
        "LAPOR jalan rusak di desa Suka [...] mohon segera diperbaiki [...] terima kasih [...]",
        ("k1", "k3", "k5"),
        (2, 4, 6),
    )
    assert got.partial


def test_release_keeps_line_breaks_and_spacing_of_present_parts() -> None:
    got = release(3, [StoredPart(1, "RT 02\nRW 03 ", "k1"), StoredPart(3, " jalan  rusak", "k3")])
    assert got.text == f"RT 02\nRW 03 {MISSING_MARK} jalan  rusak"


def test_release_with_only_the_last_part() -> None:
    got = release(3, [StoredPart(3, "sudah 3 bulan", "k3")])
    assert got.text == f"{MISSING_MARK} sudah 3 bulan"
    assert got.missing == (1, 2)
    assert got.part_keys == ("k3",)


def test_duplicate_seq_keeps_the_first_arrival() -> None:
    parts = [StoredPart(1, "first", "a"), StoredPart(1, "other", "b"), StoredPart(2, "!", "c")]
    got = complete(2, parts)
    assert got is not None and got.text == "first!" and got.part_keys == ("a", "c")
    assert release(2, parts).part_keys == ("a", "c")


def test_a_part_numbered_outside_the_total_is_kept_by_release() -> None:
    got = release(2, [StoredPart(1, "satu", "k1"), StoredPart(7, "tujuh", "k7")])
    assert "satu" in got.text and "tujuh" in got.text
    assert set(got.part_keys) == {"k1", "k7"}
    assert got.missing == (2,)


def test_emoji_split_across_parts_is_mended() -> None:
    # UCS-2 parts may end and start with the two halves of one surrogate pair
    parts = [StoredPart(2, "\ude21 tolong", "k2"), StoredPart(1, "jalan rusak \ud83d", "k1")]
    got = complete(2, parts)
    assert got is not None and got.text == "jalan rusak 😡 tolong"


def test_a_lone_half_next_to_a_missing_part_becomes_a_replacement_character() -> None:
    got = release(3, [StoredPart(1, "jalan \ud83d", "k1"), StoredPart(3, "x", "k3")])
    assert "\ud83d" not in got.text
    assert got.text.startswith("jalan \ufffd")
    got.text.encode("utf-8")  # storable: no lone surrogate left


def test_nothing_at_all() -> None:
    assert complete(2, []) is None
    got = release(2, [])
    assert got.missing == (1, 2) and got.part_keys == () and got.text == MISSING_MARK


def test_expired() -> None:
    assert not expired(1000.0, 1000.0, 3600.0)
    assert not expired(1000.0, 4599.9, 3600.0)
    assert expired(1000.0, 4600.0, 3600.0)
    assert expired(1000.0, 1e9, 3600.0)
    assert not expired(1000.0, 900.0, 3600.0)  # a clock that went backwards does not release


@given(st.floats(0, 1e9), st.floats(0, 1e6), st.floats(min_value=1, max_value=1e6))
def test_expired_is_monotonic_in_now(first: float, waited: float, timeout: float) -> None:
    if expired(first, first + waited, timeout):
        assert expired(first, first + waited + 1.0, timeout)
    assert expired(first, first + timeout + 1.0, timeout)
    assert not expired(first, first + timeout * 0.5, timeout)


@given(
    st.integers(2, 5),
    st.randoms(use_true_random=False),
    st.floats(MAX_SPREAD + 10, 86400),
)
def test_two_messages_under_one_reference_are_never_spliced(total, rnd, gap) -> None:
    a = [StoredPart(i, f"a{i}", f"ka{i}", 1000.0 + i) for i in range(1, total + 1)]
    b = [StoredPart(i, f"b{i}", f"kb{i}", 1000.0 + gap + i) for i in range(1, total + 1)]
    parts = a + b
    rnd.shuffle(parts)
    asm = complete(total, parts)
    assert asm is not None
    assert asm.text in ("".join(p.text for p in a), "".join(p.text for p in b))
    # with a part of each missing, no message can be made from the other's parts
    missing_a = [p for p in parts if p.part_key != "ka1"]
    missing_both = [p for p in missing_a if p.part_key != f"kb{total}"]
    assert complete(total, missing_both) is None
    got = complete(total, missing_a)
    assert got is not None and got.text == "".join(p.text for p in b)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8"), min_size=1, max_size=200), st.data())
def test_ucs2_parts_cut_anywhere_even_inside_an_emoji_are_joined_exactly(
    text: str, data: st.DataObject
) -> None:
    """Parts carry their raw UTF-16-BE data; joined at the byte level, a surrogate pair cut in
    half by the phone comes back as one character, in complete() and in release()."""
    raw = text.encode("utf-16-be")
    units = len(raw) // 2
    cuts = sorted(data.draw(st.lists(st.integers(0, units), max_size=5)))
    bounds = [0, *(2 * c for c in cuts), len(raw)]
    parts = [
        StoredPart(seq, raw[a:b].decode("utf-16-be", "replace"), f"k{seq}", data=raw[a:b])
        for seq, (a, b) in enumerate(itertools.pairwise(bounds), start=1)
    ]
    got = complete(len(parts), parts)
    assert got is not None and got.text == text
    assert release(len(parts), parts).text == text

"""Identities derived from what the network sent: stable across re-reads and restarts (P3, P4)."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core.keys import group_key, message_key, part_key

# SMS-DELIVER TPDUs (no SMSC prefix): two different messages from the same sender
TPDU_A = "040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
TPDU_B = "040B917238214365F70000993092516195800AE8329BFD4697D9EC38"

HEX = st.text("0123456789ABCDEF", min_size=2, max_size=400).filter(lambda s: len(s) % 2 == 0)


def test_part_key_ignores_case_and_surrounding_whitespace() -> None:
    key = part_key(TPDU_A)
    assert part_key(TPDU_A.lower()) == key
    assert part_key(f"  {TPDU_A}\r\n") == key
    assert part_key(f"\t{TPDU_A.lower()} ") == key


def test_part_key_is_stable_and_short() -> None:
    key = part_key(TPDU_A)
    assert key == part_key(TPDU_A)
    assert len(key) == 32 and all(c in "0123456789abcdef" for c in key)
    # pinned: a change here would re-key every stored part and break dedup across upgrades
    assert key == "ca19ee8463b4569757619cc3f5e82dad"


def test_part_key_differs_for_different_pdus() -> None:
    assert part_key(TPDU_A) != part_key(TPDU_B)
    assert part_key(TPDU_A) != part_key(TPDU_A[:-2])


def test_part_key_does_not_raise_on_garbage() -> None:
    assert len(part_key("zz\x00 é 😡")) == 32
    assert len(part_key("")) == 32


@settings(max_examples=200)
@given(HEX, HEX)
def test_part_key_distinguishes_pdus(a: str, b: str) -> None:
    assert (part_key(a) == part_key(b)) == (a == b)
    assert part_key(a.lower()) == part_key(a)


def test_message_key_is_a_uuid_string() -> None:
    key = message_key(part_key(TPDU_A))
    parsed = uuid.UUID(key)
    assert str(parsed) == key
    assert parsed.version == 5


def test_message_key_is_stable() -> None:
    first = part_key(TPDU_A)
    # pinned: the upstream dedups on this value, so it must survive upgrades too
    assert message_key(first) == "7ccc4263-69e1-5cac-a376-7eda439aa9ce"
    assert message_key(first) == message_key(first)
    assert message_key(first) == message_key(part_key(f" {TPDU_A.lower()} "))


def test_message_key_differs_for_different_parts() -> None:
    assert message_key(part_key(TPDU_A)) != message_key(part_key(TPDU_B))


@settings(max_examples=200)
@given(HEX, HEX)
def test_message_keys_collide_only_for_the_same_part(a: str, b: str) -> None:
    ka, kb = message_key(part_key(a)), message_key(part_key(b))
    assert (ka == kb) == (a == b)


def test_message_key_is_not_the_plain_uuid5_of_a_public_namespace() -> None:
    first = part_key(TPDU_A)
    for ns in (uuid.NAMESPACE_DNS, uuid.NAMESPACE_URL, uuid.NAMESPACE_OID, uuid.NAMESPACE_X500):
        assert message_key(first) != str(uuid.uuid5(ns, first))


def test_group_key_is_stable_and_distinguishes_every_field() -> None:
    base = group_key("+6281234567890", 8, 42, 3)
    assert base == group_key("+6281234567890", 8, 42, 3)
    assert group_key("+6281234567890", 16, 42, 3) != base  # 8-bit vs 16-bit reference
    assert group_key("+6281234567891", 8, 42, 3) != base
    assert group_key("+6281234567890", 8, 43, 3) != base
    assert group_key("+6281234567890", 8, 42, 4) != base


@settings(max_examples=200)
@given(
    st.text(max_size=20).filter(lambda s: "|" not in s),
    st.sampled_from([8, 16]),
    st.integers(0, 65535),
    st.integers(1, 255),
    st.text(max_size=20).filter(lambda s: "|" not in s),
    st.sampled_from([8, 16]),
    st.integers(0, 65535),
    st.integers(1, 255),
)
def test_group_keys_collide_only_for_the_same_group(
    s1: str, b1: int, r1: int, t1: int, s2: str, b2: int, r2: int, t2: int
) -> None:
    same = (s1, b1, r1, t1) == (s2, b2, r2, t2)
    assert (group_key(s1, b1, r1, t1) == group_key(s2, b2, r2, t2)) == same

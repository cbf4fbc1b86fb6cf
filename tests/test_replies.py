"""Replies: every text is one GSM-7 SMS; replies never go where they must not (P11)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms1708.core.gate import History, Outgoing, decide
from sms1708.core.pdu import gsm7_septets
from sms1708.core.replies import (
    SMS_LIMIT,
    STATE_WORDS,
    TEMPLATES,
    Guard,
    fit_one_sms,
    receipt,
    render,
    same_number,
    state_words,
)
from sms1708.core.states import State

WORST_REF = "999999999999"  # 12 digits: the longest reference the grammar accepts
WORST_TRACKING = "9" * 20  # an upstream tracking id, as long as sms1708 lets one through
LANGUAGES = sorted(TEMPLATES)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _worst_fillings(language: str) -> list[dict[str, str]]:
    words = {state_words(s.value, language) for s in State} | set(STATE_WORDS[language].values())
    return [{"ref": WORST_REF, "state": w, "tracking": WORST_TRACKING} for w in sorted(words)]


def test_both_languages_have_the_same_templates() -> None:
    assert set(LANGUAGES) >= {"id", "en"}
    assert set(TEMPLATES["id"]) == set(TEMPLATES["en"])
    assert {"receipt", "bantuan", "status", "status_unknown"} <= set(TEMPLATES["id"])


def test_templates_only_use_known_fields() -> None:
    for language in LANGUAGES:
        for name, template in TEMPLATES[language].items():
            assert _fields(template) <= {"ref", "state", "tracking"}, (language, name)


@pytest.mark.parametrize(
    ("language", "name"), [(lang, name) for lang in LANGUAGES for name in TEMPLATES[lang]]
)
def test_every_template_filled_with_worst_case_values_is_one_gsm7_sms(
    language: str, name: str
) -> None:
    template = TEMPLATES[language][name]
    for values in _worst_fillings(language):
        text = template.format(**values)  # unfilled by render: no trimming to hide an overflow
        septets = gsm7_septets(text)
        assert septets is not None, (language, name, text)
        assert septets <= SMS_LIMIT, (language, name, septets, text)
        assert render(name, language, **values) == text  # so render never needs to trim


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_state_has_gsm7_words(language: str) -> None:
    for state in State:
        words = state_words(state.value, language)
        assert words and gsm7_septets(words) is not None


def test_state_words_for_pending_states_say_waiting() -> None:
    for s in ("queued", "sending", "retry", "ambiguous"):
        assert state_words(s) == STATE_WORDS["id"]["queued"]
    assert state_words("delivered") == STATE_WORDS["id"]["delivered"]
    assert state_words("dead", "en") == STATE_WORDS["en"]["dead"]


def test_receipt_names_the_reference_twice() -> None:
    text = receipt("1916449")
    assert text.count("1916449") == 2
    assert "CEK 1916449" in text


def test_unknown_language_falls_back_to_indonesian() -> None:
    assert render("bantuan", "fr") == TEMPLATES["id"]["bantuan"]
    assert state_words("dead", "fr") == STATE_WORDS["id"]["dead"]


def test_render_trims_an_overlong_value_to_one_sms() -> None:
    text = render("status", "id", ref="1" * 300, state="x")
    assert text.startswith("Laporan 111")
    assert gsm7_septets(text) == SMS_LIMIT


# ------------------------------------------------------------------ fit_one_sms


def test_fit_one_sms_replaces_emoji_with_question_marks() -> None:
    assert fit_one_sms("Terima kasih 😡 👍") == "Terima kasih ? ?"
    assert fit_one_sms("Pak Ñoño à €") == "Pak Ñoño à €"  # all GSM-7 (basic and extension)
    assert fit_one_sms("Ĉu 中文") == "?u ??"


def test_fit_one_sms_trims_to_160_septets() -> None:
    assert fit_one_sms("a" * 200) == "a" * 160
    assert fit_one_sms("a" * 160) == "a" * 160
    assert fit_one_sms("€" * 100) == "€" * 80  # extension characters take two septets
    assert fit_one_sms("a" * 159 + "€") == "a" * 159  # never half an escape sequence


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_fit_one_sms_always_gives_one_gsm7_part(text: str) -> None:
    out = fit_one_sms(text)
    septets = gsm7_septets(out)
    assert septets is not None and septets <= SMS_LIMIT
    assert len(out) <= len(text)
    mapped = "".join(c if gsm7_septets(c) is not None else "?" for c in text)
    assert mapped.startswith(out)
    if (gsm7_septets(mapped) or 0) <= SMS_LIMIT:
        assert out == mapped  # nothing cut that fitted


# ------------------------------------------------------------------ who gets a reply

OWN = "+6281234567890"
GUARD = Guard(own_number=OWN)


def refuse_reason(sender: str, sender_type: str, guard: Guard) -> str | None:
    """The gate's answer for a receipt to ``sender`` with no earlier traffic."""
    out = Outgoing("modem0", sender, "tes", "receipt", recipient_type=sender_type)
    return decide(out, guard, History(), now=0.0).refused


@pytest.mark.parametrize(
    ("sender", "sender_type", "reason"),
    [
        ("TELKOMSEL", "alphanumeric", "alphanumeric sender"),
        ("BANK BRI", "alphanumeric", "alphanumeric sender"),
        ("6281298765432", "alphanumeric", "alphanumeric sender"),  # the type decides
        ("1708", "other", "short code"),
        ("3636", "other", "short code"),
        ("3636", "national", "short code"),
        ("+1708", "international", "short code"),
        ("123456", "other", "short code"),
        ("+6281234567890", "international", "own number"),
        ("081234567890", "national", "own number"),
        ("081234567890", "other", "own number"),
        ("6281234567890", "other", "own number"),
        ("INFO", "other", "not a phone number"),
        ("", "other", "not a phone number"),
        ("0812 3456 7890", "other", "not a phone number"),
        ("*123#", "other", "not a phone number"),
        ("+6281298765432", "international", None),
        ("081298765432", "national", None),
        ("6281298765432", "other", None),
        ("02518765432", "other", None),  # a landline with area code
    ],
)
def test_refuse_reason(sender: str, sender_type: str, reason: str | None) -> None:
    assert refuse_reason(sender, sender_type, GUARD) == reason


def test_own_number_may_be_configured_in_any_spelling() -> None:
    for own in ("+6281234567890", "081234567890", "6281234567890", "0812-3456-7890"):
        guard = Guard(own_number=own)
        for sender in ("+6281234567890", "081234567890", "6281234567890"):
            assert refuse_reason(sender, "international", guard) == "own number", (own, sender)
        assert refuse_reason("+6281298765432", "international", guard) is None


def test_no_own_number_configured_refuses_nobody_for_it() -> None:
    assert refuse_reason("+6281234567890", "international", Guard()) is None


def test_min_sender_digits_is_configurable() -> None:
    assert refuse_reason("12345678", "other", Guard(min_sender_digits=8)) is None
    assert refuse_reason("12345678", "other", Guard(min_sender_digits=9)) == "short code"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("+6281234567890", "081234567890", True),
        ("+6281234567890", "6281234567890", True),
        ("081234567890", "6281234567890", True),
        ("+6281234567890", "+6281234567890", True),
        ("+62 812-3456-7890", "081234567890", True),
        ("+6281234567890", "+6281234567891", False),
        ("081234567890", "08123456789", False),
        ("+6281234567890", "+6581234567890", False),  # Singapore, not Indonesia
        ("+6281234567890", "", False),
        ("", "", False),
        ("TELKOMSEL", "TELKOMSEL", False),
    ],
)
def test_same_number(a: str, b: str, same: bool) -> None:
    assert same_number(a, b) is same
    assert same_number(b, a) is same


@given(st.text("0123456789", min_size=9, max_size=11))
def test_same_number_across_the_three_spellings(rest: str) -> None:
    spellings = [f"+628{rest}", f"08{rest}", f"628{rest}"]
    for a in spellings:
        for b in spellings:
            assert same_number(a, b)
    assert not same_number(f"+628{rest}", f"+628{rest[:-1]}{(int(rest[-1]) + 1) % 10}")

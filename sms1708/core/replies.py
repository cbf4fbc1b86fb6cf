"""Replies to citizens: texts and the guards that keep replies from running away (P11). Pure.

Every template is GSM-7 and fits one SMS part once filled in (tests check each one), so a reply
costs exactly one SMS. A reply is never sent to an alphanumeric sender (a bank, the operator),
a short code, the gateway's own number, or anything that is not a plain phone number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sms1708.core.pdu import gsm7_septets

TEMPLATES: Mapping[str, Mapping[str, str]] = {
    "id": {
        "receipt": (
            "Terima kasih, laporan Anda sudah kami terima. No. laporan: {ref}. "
            "Untuk cek status, kirim: CEK {ref}"
        ),
        "receipt_tracking": (
            "Terima kasih, laporan Anda diterima. No. laporan: {ref}, No. Tracking LAPOR!: "
            "{tracking}. Untuk cek status, kirim: CEK {ref}"
        ),
        "status_change": "Laporan {ref} (LAPOR! {tracking}): {state}",
        "receipt_short": (
            "Laporan Anda kami terima, No. {ref}. Agar bisa ditindaklanjuti, kirim lagi: "
            "LAPOR apa masalahnya, di desa/kecamatan mana, sejak kapan"
        ),
        "bantuan": (
            "Kirim: LAPOR isi laporan. Usul/saran: ASPIRASI isi. Tanya: INFO isi. "
            "Cek laporan: CEK nomor. Tambah RAHASIA atau ANONIM bila perlu."
        ),
        "status": "Laporan {ref}: {state}.",
        "update_receipt": "Tambahan untuk laporan {ref} diterima. Terima kasih.",
        "status_unknown": "Laporan {ref} tidak ditemukan untuk nomor ini. Kirim CEK nomor laporan.",
        "tracking": (
            "Laporan {ref} sudah diteruskan ke LAPOR! dengan No. Tracking {tracking}. "
            "Pantau di lapor.go.id atau kirim CEK {tracking}"
        ),
    },
    "en": {
        "receipt": (
            "Thank you, your report was received. Report no. {ref}. To check: send CEK {ref}"
        ),
        "receipt_tracking": (
            "Thank you, your report was received. Report no. {ref}, LAPOR! tracking no. "
            "{tracking}. To check: send CEK {ref}"
        ),
        "status_change": "Report {ref} (LAPOR! {tracking}): {state}",
        "receipt_short": (
            "Report received, no. {ref}. So that it can be acted on, send again: "
            "LAPOR what the problem is, which village/district, since when"
        ),
        "bantuan": (
            "Send: LAPOR your report. Suggestion: ASPIRASI text. Question: INFO text. "
            "Check a report: CEK number. Add RAHASIA or ANONIM if needed."
        ),
        "status": "Report {ref}: {state}.",
        "update_receipt": "Addition to report {ref} received. Thank you.",
        "status_unknown": "Report {ref} was not found for this number. Send CEK report number.",
        "tracking": (
            "Report {ref} was forwarded to LAPOR! with tracking no. {tracking}. "
            "Follow it on lapor.go.id or send CEK {tracking}"
        ),
    },
}

STATE_WORDS: Mapping[str, Mapping[str, str]] = {
    "id": {
        "queued": "sudah diterima, menunggu dikirim ke LAPOR",
        "delivered": "sudah diteruskan ke LAPOR",
        "dead": "sedang diperiksa petugas",
    },
    "en": {
        "queued": "received, waiting to be forwarded",
        "delivered": "forwarded to LAPOR",
        "dead": "being checked by staff",
    },
}

SMS_LIMIT = 160


def render(name: str, language: str = "id", **values: str) -> str:
    """Fill a template. The result is trimmed to one GSM-7 SMS if a value made it too long."""
    text = TEMPLATES.get(language, TEMPLATES["id"])[name].format(**values)
    return fit_one_sms(text)


def fit_one_sms(text: str) -> str:
    """Replace non-GSM-7 characters with '?' and cut to one 160-septet part."""
    safe = "".join(ch if gsm7_septets(ch) is not None else "?" for ch in text)
    while (gsm7_septets(safe) or 0) > SMS_LIMIT:
        safe = safe[:-1]
    return safe


def receipt(ref: str, language: str = "id") -> str:
    return render("receipt", language, ref=ref)


def state_words(state: str, language: str = "id") -> str:
    words = STATE_WORDS.get(language, STATE_WORDS["id"])
    if state in ("queued", "sending", "retry", "ambiguous"):
        return words["queued"]
    return words.get(state, words["queued"])


def describe(state: str, language: str = "id") -> str:
    """Words for a local queue state; an upstream's own status text is passed on as it is."""
    local = {"queued", "sending", "retry", "ambiguous", "delivered", "dead"}
    return state_words(state, language) if state in local else state


@dataclass(frozen=True)
class Guard:
    """The cost and loop guards of promise P11 (all configurable under ``[replies]``), applied
    to every SMS the gateway sends by :func:`sms1708.core.gate.decide`."""

    own_number: str = ""
    min_sender_digits: int = 8
    block_list: tuple[str, ...] = ()
    per_sender_per_hour: int = 3  # SMS to one number in any hour
    daily_budget: int = 300  # SMS per modem per calendar day (local time of the box)
    loop_repeats: int = 3  # the same sender sending near-identical text this often in an hour
    enabled: bool = True  # False: no automatic SMS at all (an operator's `send` still goes)


def near_identical(a: str, b: str) -> bool:
    """Same text but for case, spacing and punctuation (a loop or a stuck phone resending)."""

    def norm(t: str) -> str:
        return "".join(ch for ch in t.casefold() if ch.isalnum())

    na, nb = norm(a), norm(b)
    return bool(na) and na == nb


def digits_of(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


def national_digits(number: str) -> str:
    """The digits that name a subscriber whatever the spelling: ``+62812..``, ``0812..`` and
    ``62812..`` all give ``812..``. Empty when the number has no digits."""
    d = digits_of(number)
    if d.startswith("62"):
        return d[2:]
    if d.startswith("0"):
        return d[1:]
    return d


def same_number(a: str, b: str) -> bool:
    """True when two numbers are the same subscriber (+62812... == 0812... == 62812...)."""
    if not digits_of(a) or not digits_of(b):
        return False
    return national_digits(a) == national_digits(b)

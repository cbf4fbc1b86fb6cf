"""Deterministic, realistic citizens' SMS: Indonesian complaint texts, UCS-2 with emoji,
multipart messages with 8- and 16-bit references, encoded as SMS-DELIVER PDUs."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sms1708.core.pdu import encode_deliver

WIB = timezone(timedelta(hours=7))
SMSC = "+6281100000"

_KEYWORDS = ("LAPOR", "LAPOR", "LAPOR", "ASPIRASI", "INFO", "")
_SUBJECTS = (
    "jalan rusak parah",
    "lampu jalan mati sudah dua minggu",
    "jembatan gantung hampir putus",
    "sampah menumpuk di pinggir pasar",
    "air PDAM tidak mengalir sejak kemarin",
    "sekolah kekurangan guru honorer",
    "posyandu tutup tanpa pemberitahuan",
    "saluran irigasi tersumbat lumpur",
    "bantuan sembako belum dibagikan",
    "puskesmas tidak ada dokter jaga",
    "banjir setinggi lutut tiap hujan",
    "sinyal hilang di dusun atas",
)
_PLACES = (
    "desa Tanjung Raja",
    "dusun 3 desa Lubuk Baru",
    "kecamatan Sungai Lilin",
    "desa Sukamaju RT 04",
    "kelurahan Pasar Lama",
    "desa Karang Anyar dekat masjid",
)
_TAILS = (
    "mohon segera ditindaklanjuti pak",
    "warga sudah lapor ke kepala desa tapi belum ada tanggapan",
    "anak sekolah terpaksa memutar jauh",
    "kami mohon perhatian dinas terkait",
    "sudah banyak motor yang jatuh di sini",
    "terima kasih atas perhatiannya",
    "tolong dicek secepatnya karena membahayakan warga",
)
_EMOJI = ("🙏", "😡", "😢", "⚠️", "🚧", "💧", "🙏🙏")


@dataclass(frozen=True)
class Sms:
    """One citizen's SMS: its text, kind of encoding, and its PDUs (one per part)."""

    sender: str
    text: str
    kind: str  # gsm7 | ucs2 | multipart8 | multipart16
    pdus: tuple[str, ...]


def _sentence(rng: random.Random) -> str:
    kw = rng.choice(_KEYWORDS)
    body = f"{rng.choice(_SUBJECTS)} di {rng.choice(_PLACES)}, {rng.choice(_TAILS)}"
    return f"{kw} {body}".strip()


def gsm7_text(rng: random.Random, lo: int = 100, hi: int = 160) -> str:
    """A GSM-7 text of lo..hi characters (one part)."""
    target = rng.randint(lo, hi)
    text = _sentence(rng)
    while len(text) < target:
        text += ". " + rng.choice(_TAILS)
    return text[:target].rstrip()


def ucs2_text(rng: random.Random) -> str:
    """A single-part UCS-2 text with emoji (at most 70 UTF-16 units)."""
    emoji = rng.choice(_EMOJI)
    room = 70 - len(emoji.encode("utf-16-be")) // 2 - 1
    base = _sentence(rng)[: rng.randint(30, room)].rstrip()
    return f"{base} {emoji}"


def long_text(rng: random.Random, parts: int) -> str:
    """A GSM-7 text that needs exactly ``parts`` parts (153 septets each)."""
    target = rng.randint(153 * (parts - 1) + 20, 153 * parts - 5)
    text = _sentence(rng)
    while len(text) < target:
        text += ". " + _sentence(rng)
    return text[:target].rstrip()


def sender_for(i: int) -> str:
    return f"+62812{3000000 + i * 7919 % 7000000:07d}"


def make_mix(n: int, *, seed: int = 1708) -> list[Sms]:
    """``n`` messages: ~60 % GSM-7 single part (100-160 chars), ~20 % UCS-2 with emoji,
    ~20 % multipart (2 or 3 parts; 8- and 16-bit references alternating)."""
    rng = random.Random(seed)
    base = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)
    out: list[Sms] = []
    for i in range(n):
        sender = sender_for(i)
        when = base + timedelta(seconds=37 * i)
        slot = i % 10
        if slot < 6:
            text, kind = gsm7_text(rng), "gsm7"
            pdus = encode_deliver(sender, text, when, smsc=SMSC)
        elif slot < 8:
            text, kind = ucs2_text(rng), "ucs2"
            pdus = encode_deliver(sender, text, when, smsc=SMSC)
        else:
            bits = 8 if slot == 8 else 16
            text, kind = long_text(rng, rng.choice((2, 3))), f"multipart{bits}"
            ref = (i % 250) + 1 if bits == 8 else 1000 + i
            pdus = encode_deliver(sender, text, when, smsc=SMSC, concat_ref=ref, ref_bits=bits)
        out.append(Sms(sender, text, kind, tuple(pdus)))
    rng.shuffle(out)
    return out


def complaint_pdu(i: int, when: datetime) -> str:
    """One single-part GSM-7 complaint PDU (for filling a backlog fast)."""
    rng = random.Random(i)
    text = "LAPOR " + gsm7_text(rng, 94, 154)  # a keyword, so that every one is forwarded
    return encode_deliver(sender_for(i), text, when, smsc=SMSC)[0]

"""Tests of sms1708.core.pdu.

Vectors are published examples or built here byte by byte with helpers that share no code with
the module (septets are packed through one big little-endian integer; the GSM-7 table is
gsmmodem's, with its one known error fixed). gsmmodem.pdu is used as an oracle where it is right.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from gsmmodem import pdu as gsmpdu
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sms1708.core import pdu
from sms1708.core.pdu import (
    Concat,
    Deliver,
    decode_deliver,
    decode_status_report,
    encode_deliver,
    encode_submit,
    gsm7_septets,
    join_parts,
    segments,
)
from sms1708.errors import PduDecodeError, PduEncodeError

# ------------------------------------------------------------------ independent helpers

# 3GPP TS 23.038 default alphabet: gsmmodem's table, whose 0x5F is wrongly "`" instead of "§".
TABLE = gsmpdu.GSM7_BASIC.replace("`", "§")
EXT = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F}
EXT |= {"[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}
GSM_CHARS = [c for c in TABLE if c != "\x1b"] + list(EXT)

WIB = timezone(timedelta(hours=7))
SCTS = datetime(2024, 5, 6, 7, 8, 9, tzinfo=WIB)
SCTS_HEX = "42506070809082"  # 24-05-06 07:08:09, +28 quarters (swapped semi-octets)
OA_INTL = "0D91261832547698F0"  # +6281234567890
SENDER = "+6281234567890"


def septets_of(text: str) -> list[int]:
    out: list[int] = []
    for c in text:
        out += [0x1B, EXT[c]] if c in EXT else [TABLE.index(c)]
    return out


def text_of(septets: Sequence[int]) -> str:
    inverse = {v: k for k, v in EXT.items()}
    out, it = [], iter(septets)
    for s in it:
        out.append(inverse[next(it)] if s == 0x1B else TABLE[s])
    return "".join(out)


def pack7(septets: Sequence[int], offset: int = 0) -> bytes:
    """Septet i at bit 7 * (offset + i) of one little-endian bit stream."""
    value = sum(s << (7 * (offset + i)) for i, s in enumerate(septets))
    return value.to_bytes((7 * (offset + len(septets)) + 7) // 8, "little")


def unpack7(octets: bytes, count: int) -> list[int]:
    value = int.from_bytes(octets, "little")
    return [(value >> (7 * i)) & 0x7F for i in range(count)]


def gsm7_ud(text: str, udh: bytes = b"") -> str:
    """UDL + UD hex of GSM-7 ``text`` after an optional UDH (with fill bits)."""
    septets = septets_of(text)
    if not udh:
        return f"{len(septets):02X}" + pack7(septets).hex().upper()
    header = bytes([len(udh)]) + udh
    skip = -(-len(header) * 8 // 7)
    body = pack7(septets, skip)
    return f"{skip + len(septets):02X}" + (header + body[len(header) :]).hex().upper()


def deliver_hex(oa: str, dcs: int, ud: str, *, first: int = 0x04, smsc: str = "00") -> str:
    return f"{smsc}{first:02X}{oa}00{dcs:02X}{SCTS_HEX}{ud}".upper()


def parse_submit(hex_: str) -> dict[str, Any]:
    """Tiny SMS-SUBMIT parser (no SMSC, relative VP) for checking encode_submit."""
    b = bytes.fromhex(hex_)
    assert b[0] == 0x00
    first, mr, dalen, toa = b[1], b[2], b[3], b[4]
    assert first & 0x03 == 0x01 and (first >> 3) & 3 == 2
    i = 5 + (dalen + 1) // 2
    nibbles = "".join(f"{x:02X}"[::-1] for x in b[5:i])[:dalen]
    pid, dcs, vp, udl, ud = b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4 :]
    header = ud[: ud[0] + 1] if first & 0x40 else b""
    if dcs == 0x00:
        assert len(ud) == (7 * udl + 7) // 8 and udl <= 160
        payload = unpack7(ud, udl)[-(-len(header) * 8 // 7) :]
    else:
        assert dcs == 0x08 and len(ud) == udl <= 140
        payload = list(ud[len(header) :])
    number = ("+" if toa == 0x91 else "") + nibbles
    fields = dict(first=first, mr=mr, toa=toa, number=number, pid=pid, dcs=dcs, vp=vp)
    return fields | dict(udl=udl, header=header, payload=payload)


def test_module_is_pure() -> None:
    tree = ast.parse(Path(pdu.__file__).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    forbidden = {"sqlite3", "serial", "httpx", "gsmmodem", "time", "random", "socket", "os"}
    forbidden |= {"threading", "subprocess"}
    assert not {name.split(".")[0] for name in names} & forbidden


# ------------------------------------------------------------------ published vectors


def test_classic_23040_example_hellohello() -> None:
    d = decode_deliver("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    assert d.smsc == "+27381000015"
    # TOA 0xC8 is TON 4 (abbreviated), not international: no "+" (gsmmodem agrees).
    assert (d.sender, d.sender_type) == ("27838890001", "other")
    assert d.scts == datetime(1999, 3, 29, 15, 16, 59, tzinfo=timezone(timedelta(hours=2)))
    assert d.scts.utcoffset() == timedelta(hours=2)
    assert (d.text, d.encoding, d.concat, d.pid, d.dcs) == ("hellohello", "gsm7", None, 0, 0)
    assert d.tpdu_hex == "040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
    assert d.data == bytes.fromhex("E8329BFD4697D9EC37")


def test_how_are_you_example() -> None:
    d = decode_deliver(
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
    )
    assert (d.smsc, d.sender, d.sender_type) == ("+31624000000", "+31641600986", "international")
    assert d.text == "How are you?"
    # TZ octet 0x08: sign bit set, zero quarters -> UTC (gsmmodem agrees).
    assert d.scts == datetime(2002, 8, 26, 19, 37, 41, tzinfo=UTC)


def test_lowercase_and_whitespace_accepted() -> None:
    pdu_hex = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
    assert decode_deliver(f"  {pdu_hex.lower()}\r\n").text == "hellohello"


# ------------------------------------------------------------------ hand-built vectors


def test_gsm7_extension_chars_and_at_sign() -> None:
    text = "@ Harga 5€ [x] {y} a\\b ^~| @"
    d = decode_deliver(deliver_hex(OA_INTL, 0x00, gsm7_ud(text)))
    assert d.text == text
    assert (d.sender, d.sender_type, d.smsc, d.scts) == (SENDER, "international", None, SCTS)
    assert gsm7_septets(text) == len(text) + 9  # nine extension characters


def test_at_sign_at_end_of_eight_septets_survives() -> None:
    # gsmmodem drops a final "@" whose septet fills the last octet exactly.
    ud = gsm7_ud("abcdefg@")
    assert ud == "08" + "61F1985C369F01"
    assert decode_deliver(deliver_hex(OA_INTL, 0x00, ud)).text == "abcdefg@"
    assert gsmpdu.decodeSmsPdu(deliver_hex(OA_INTL, 0x00, ud))["text"] == "abcdefg"


def test_section_sign_is_septet_5f() -> None:
    d = decode_deliver(deliver_hex(OA_INTL, 0x00, "02" + pack7([0x5F, 0x60]).hex()))
    assert d.text == "§¿"
    assert pdu._BASIC == TABLE  # our table is gsmmodem's with only that error fixed


def test_8bit_concat_three_parts() -> None:
    texts = ["Jalan rusak parah di ", "Desa Sukamaju, mohon ", "segera diperbaiki."]
    parts = []
    for seq, text in enumerate(texts, 1):
        udh = bytes([0x00, 0x03, 0x2A, 0x03, seq])
        parts.append(decode_deliver(deliver_hex(OA_INTL, 0x00, gsm7_ud(text, udh), first=0x44)))
    assert [p.concat for p in parts] == [Concat(0x2A, 3, s, 8) for s in (1, 2, 3)]
    assert [p.text for p in parts] == texts
    assert join_parts([p.text for p in parts]) == "".join(texts)


SIXTEEN_BIT_PART_1 = "0044" + OA_INTL + "0000" + SCTS_HEX + "0D" + "06080412340201" + "C6B47C4E07"


def test_16bit_concat_first_character_survives() -> None:
    # Hand-packed: UDH 06 08 04 1234 02 01 is 7 octets = 8 septets exactly (no fill bits),
    # then "First" = C6 B4 7C 4E 07.
    assert gsm7_ud("First", bytes.fromhex("080412340201")) == ("0D06080412340201C6B47C4E07")
    one = decode_deliver(SIXTEEN_BIT_PART_1)
    two = decode_deliver(
        "00" + "44" + OA_INTL + "0000" + SCTS_HEX + gsm7_ud("Second", bytes.fromhex("080412340202"))
    )
    assert (one.text, two.text) == ("First", "Second")
    assert (one.concat, two.concat) == (Concat(0x1234, 2, 1, 16), Concat(0x1234, 2, 2, 16))
    assert gsmpdu.decodeSmsPdu(SIXTEEN_BIT_PART_1)["text"] != "First"  # the bug we fix


def test_16bit_concat_with_fill_after_other_ie() -> None:
    # Port addressing IE (04 02 ...) + 16-bit concat: UDHL 10 -> 11 octets -> 13 septets.
    udh = bytes.fromhex("04020B84" + "0804ABCD0301")
    d = decode_deliver(deliver_hex(OA_INTL, 0x00, gsm7_ud("Xylo", udh), first=0x44))
    assert (d.text, d.concat) == ("Xylo", Concat(0xABCD, 3, 1, 16))


def test_ucs2_bmp_indonesian_and_check_mark() -> None:
    text = "Terima kasih ✓"
    ud = "0054006500720069006D00610020006B0061007300690068" + "0020" + "2713"
    d = decode_deliver(deliver_hex(OA_INTL, 0x08, f"{len(ud) // 2:02X}{ud}"))
    assert (d.text, d.encoding, d.dcs) == (text, "ucs2", 0x08)
    assert d.data == bytes.fromhex(ud)


EMOJI_UD = "00420061006E006A0069007200200020" + "D83DDE00"  # "Banjir  😀"


def test_ucs2_emoji_single_part() -> None:
    pdu_hex = deliver_hex(OA_INTL, 0x08, f"{len(EMOJI_UD) // 2:02X}{EMOJI_UD}")
    assert decode_deliver(pdu_hex).text == "Banjir  😀"
    assert "\ud83d" in gsmpdu.decodeSmsPdu(pdu_hex)["text"]  # gsmmodem: lone surrogates


def test_ucs2_emoji_pair_straddling_two_parts() -> None:
    ud1 = "0500037702010041D83D"  # "A" + high surrogate
    ud2 = "050003770202DE000042"  # low surrogate + "B"
    one = decode_deliver(deliver_hex(OA_INTL, 0x08, f"0A{ud1}", first=0x44))
    two = decode_deliver(deliver_hex(OA_INTL, 0x08, f"0A{ud2}", first=0x44))
    # each part's own text is storable (no lone surrogate); the raw data mends the pair
    assert (one.text, two.text) == ("A\ufffd", "\ufffdB")
    assert join_parts([one.data, two.data]) == "A😀B"
    assert join_parts([two.data, one.data]) == "\ufffdBA\ufffd"  # wrong order: no false repair
    assert join_parts([one.data]).encode("utf-8") == b"A\xef\xbf\xbd"
    assert join_parts([one.data, "x", two.data]) == "A\ufffdx\ufffdB"


def test_lone_surrogates_inside_a_part_are_replaced() -> None:
    # Single part: even a trailing high surrogate cannot straddle, so it becomes U+FFFD.
    d = decode_deliver(deliver_hex(OA_INTL, 0x08, "06DE000041D83D"))
    assert d.text == "\ufffdA\ufffd"
    d.text.encode("utf-8")


def test_alphanumeric_sender() -> None:
    oa = "10D0" + pack7(septets_of("Telkomsel")).hex()  # 9 septets = 63 bits = 16 semi-octets
    d = decode_deliver(deliver_hex(oa, 0x00, gsm7_ud("Sisa pulsa Rp5000")))
    assert (d.sender, d.sender_type, d.text) == ("Telkomsel", "alphanumeric", "Sisa pulsa Rp5000")


def test_alphanumeric_sender_with_octet_padded_length() -> None:
    # gsmmodem gives 7 characters the length 14 (7 octets); the 7 pad bits are not an "@".
    oa = gsmpdu._encodeAddressField("INFOSMS").hex()
    assert oa.upper() == "0ED049A7F1396D4E01"
    assert decode_deliver(deliver_hex(oa, 0x00, gsm7_ud("hi"))).sender == "INFOSMS"


@pytest.mark.parametrize(
    ("oa", "sender", "kind"),
    [
        ("0BA18021436587F9", "08123456789", "national"),
        ("0481" + "7180", "1708", "other"),
        ("05A1" + "B1A2F3", "1#2*3", "national"),
    ],
)
def test_numeric_senders(oa: str, sender: str, kind: str) -> None:
    d = decode_deliver(deliver_hex(oa, 0x00, gsm7_ud("ok")))
    assert (d.sender, d.sender_type) == (sender, kind)


def test_smsc_less_pdu_and_smsc_prefix() -> None:
    body = deliver_hex(OA_INTL, 0x00, gsm7_ud("x"))[2:]
    assert decode_deliver("00" + body).smsc is None
    d = decode_deliver("06912618010000" + body)
    assert d.smsc == "+6281100000"
    assert d.tpdu_hex == body


@pytest.mark.parametrize(
    ("dcs", "encoding"),
    [
        *[(0x00, "gsm7"), (0x10, "gsm7"), (0xF0, "gsm7"), (0xC8, "gsm7"), (0x08, "ucs2")],
        *[(0x18, "ucs2"), (0x48, "ucs2"), (0xE8, "ucs2"), (0x04, "8bit"), (0xF4, "8bit")],
        (0x20, "8bit"),  # compressed GSM-7: kept as data
    ],
)
def test_data_coding_groups(dcs: int, encoding: str) -> None:
    ud = gsm7_ud("Hi") if encoding == "gsm7" else "0400480069"
    d = decode_deliver(deliver_hex(OA_INTL, dcs, ud))
    assert d.encoding == encoding
    assert d.text == {"gsm7": "Hi", "ucs2": "Hi", "8bit": ""}[encoding]


def test_8bit_data() -> None:
    d = decode_deliver(deliver_hex(OA_INTL, 0x04, "0501FF00C07F", first=0x04))
    assert (d.encoding, d.text, d.data) == ("8bit", "", bytes.fromhex("01FF00C07F"))


def test_negative_timezone() -> None:
    # TZ octet 0x02: tens 2 (low nibble), units 0 -> +20 quarters; 0x0A: sign bit 0x08 set.
    d = decode_deliver("00" + "04" + OA_INTL + "0000" + "42506070809002" + gsm7_ud("x"))
    assert d.scts.utcoffset() == timedelta(hours=5)
    d = decode_deliver("00" + "04" + OA_INTL + "0000" + "4250607080900A" + gsm7_ud("x"))
    assert d.scts.utcoffset() == timedelta(hours=-5)


STATUS_REPORT = "00" + "06" + "2A" + OA_INTL + SCTS_HEX + "42506070809582" + "00"


def test_status_report() -> None:
    r = decode_status_report(STATUS_REPORT)
    assert (r.reference, r.recipient, r.status, r.delivered) == (0x2A, SENDER, 0, True)
    assert r.scts == SCTS and r.discharge == SCTS + timedelta(seconds=50)
    failed = decode_status_report(STATUS_REPORT[:-2] + "46")  # validity period expired
    assert (failed.status, failed.delivered) == (0x46, False)
    assert decode_status_report(STATUS_REPORT[:-2] + "1F").delivered  # last "completed" code
    assert not decode_status_report(STATUS_REPORT[:-2] + "20").delivered  # still trying
    assert gsmpdu.decodeSmsPdu(STATUS_REPORT)["reference"] == 0x2A


def test_types_are_kept_apart() -> None:
    with pytest.raises(PduDecodeError):
        decode_deliver(STATUS_REPORT)
    with pytest.raises(PduDecodeError):
        decode_status_report(SIXTEEN_BIT_PART_1)
    with pytest.raises(PduDecodeError):  # an SMS-SUBMIT
        decode_deliver(encode_submit(SENDER, "hi")[0].hex)


@pytest.mark.parametrize(
    "bad",
    [
        *["", "0", "zz", "00", "0004", SIXTEEN_BIT_PART_1[:-2], "00 04", "000" + "4" * 40],
        "0004" + OA_INTL + "0000" + "4250607080AA82" + "0100",  # non-decimal timestamp
        "0004" + OA_INTL + "0000" + "42136070809082" + "0100",  # month 31
        "0004" + OA_INTL + "0000" + SCTS_HEX + "A1" + "00" * 150,  # UDL 161 septets
    ],
)
def test_bad_pdus_raise_decode_error(bad: str) -> None:
    with pytest.raises(PduDecodeError):
        decode_deliver(bad)


def test_non_string_input_is_a_decode_error() -> None:
    with pytest.raises(PduDecodeError):
        decode_deliver(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------ SUBMIT


def test_submit_single_gsm7_cross_checked_with_gsmmodem() -> None:
    [p] = encode_submit("+6281234567890", "Laporan diterima, no. 1708 @ [ok]", reference=7)
    fields = parse_submit(p.hex)
    assert (fields["first"], fields["mr"], fields["vp"], fields["dcs"]) == (0x11, 7, 0xA7, 0)
    assert p.tpdu_length == len(p.hex) // 2 - 1 and p.reference == 7
    g = gsmpdu.decodeSmsPdu(p.hex)
    assert (g["number"], g["text"], g["reference"]) == (
        SENDER,
        "Laporan diterima, no. 1708 @ [ok]",
        7,
    )
    assert g["validity"] == timedelta(hours=24)


def test_submit_national_number_and_status_report_flag() -> None:
    [p] = encode_submit("08123456789", "x", status_report=True)
    fields = parse_submit(p.hex)
    assert (fields["number"], fields["toa"], fields["first"]) == ("08123456789", 0x81, 0x31)


def test_submit_three_parts_cross_checked_with_gsmmodem() -> None:
    text = "".join(f"Kalimat nomor {i} dari laporan warga. " for i in range(11))
    parts = encode_submit(SENDER, text, reference=254, concat_ref=0x1FF)
    decoded = [gsmpdu.decodeSmsPdu(p.hex) for p in parts]
    assert "".join(d["text"] for d in decoded) == text
    assert [d["udh"][0].number for d in decoded] == [1, 2, 3]
    assert {(d["udh"][0].reference, d["udh"][0].parts) for d in decoded} == {(0xFF, 3)}
    assert [p.reference for p in parts] == [254, 255, 0]
    assert [d["reference"] for d in decoded] == [254, 255, 0]


def test_submit_never_splits_an_escape() -> None:
    text = "a" * 152 + "€" + "b" * 10
    parts = [parse_submit(p.hex) for p in encode_submit(SENDER, text)]
    assert [len(p["payload"]) for p in parts] == [152, 12]
    assert text_of(parts[0]["payload"] + parts[1]["payload"]) == text


def test_submit_emoji_in_ucs2() -> None:
    text = "Terima kasih 🙏 laporan Anda sudah kami terima 😀"
    [p] = encode_submit(SENDER, text)
    fields = parse_submit(p.hex)
    assert fields["dcs"] == 0x08
    assert bytes(fields["payload"]).decode("utf-16-be") == text
    with pytest.raises(ValueError):
        gsmpdu.encodeSmsSubmitPdu(SENDER, text)  # gsmmodem cannot


def test_submit_never_splits_a_surrogate_pair() -> None:
    text = "x" * 66 + "😀" * 3
    parts = [parse_submit(p.hex) for p in encode_submit(SENDER, text)]
    assert [len(p["payload"]) for p in parts] == [132, 12]
    assert "".join(bytes(p["payload"]).decode("utf-16-be") for p in parts) == text


def test_submit_part_limits() -> None:
    assert len(encode_submit(SENDER, "a" * 153 * 255)) == 255
    with pytest.raises(PduEncodeError):
        encode_submit(SENDER, "a" * (153 * 255 + 1))


@pytest.mark.parametrize("number", ["", "+", "abc", "+62 812", "62-812", "1" * 21, "+٣٣", "12a"])
def test_submit_rejects_bad_numbers(number: str) -> None:
    with pytest.raises(PduEncodeError):
        encode_submit(number, "hi")


def test_submit_accepts_twenty_digits_and_rejects_lone_surrogate() -> None:
    assert parse_submit(encode_submit("+" + "1" * 20, "hi")[0].hex)["number"] == "+" + "1" * 20
    with pytest.raises(PduEncodeError):
        encode_submit(SENDER, "a\ud800")


@pytest.mark.parametrize(
    ("text", "count"),
    [
        *[("", 1), ("a" * 160, 1), ("a" * 161, 2), ("€" * 80, 1), ("€" * 81, 2)],
        *[("a" * 306, 2), ("a" * 307, 3), ("é" * 70, 1), ("ê" * 70, 1), ("ê" * 71, 2)],
        *[("😀" * 35, 1), ("😀" * 36, 2), ("ê" * 134, 2), ("ê" * 135, 3)],
    ],
)
def test_segments(text: str, count: int) -> None:
    assert segments(text) == count


def test_gsm7_septets() -> None:
    assert gsm7_septets("") == 0
    assert gsm7_septets("@{}") == 5
    assert gsm7_septets("ê") is None
    assert gsm7_septets("\x1b") is None  # the escape itself is not a character


# ------------------------------------------------------------------ encode_deliver


def test_encode_deliver_matches_hand_built_pdus() -> None:
    pdus = encode_deliver(
        SENDER, "First" + "x" * 158, SCTS, smsc=None, concat_ref=0x1234, ref_bits=16
    )
    assert len(pdus) == 2  # 152 septets per part with a 16-bit reference
    head = "0044" + OA_INTL + "0000" + SCTS_HEX
    assert pdus[0].startswith(head + "A0" + "06080412340201" + "C6B47C4E")
    assert pdus[1] == head + gsm7_ud("x" * 11, bytes.fromhex("080412340202"))
    text = "@ Harga 5€ [x] {y} a\\b ^~| @"
    assert encode_deliver(SENDER, text, SCTS, smsc=None) == [deliver_hex(OA_INTL, 0, gsm7_ud(text))]
    ud = "0054006500720069006D00610020006B0061007300690068" + "0020" + "2713"
    assert encode_deliver(SENDER, "Terima kasih ✓", SCTS, smsc=None) == [
        deliver_hex(OA_INTL, 0x08, f"{len(ud) // 2:02X}{ud}")
    ]
    assert encode_deliver(SENDER, "Banjir  😀", SCTS, smsc=None) == [
        deliver_hex(OA_INTL, 0x08, f"{len(EMOJI_UD) // 2:02X}{EMOJI_UD}")
    ]
    assert encode_deliver("08123456789", "ok", SCTS)[0] == deliver_hex(
        "0BA18021436587F9", 0, gsm7_ud("ok"), smsc="06912618010000"
    )
    oa = "10D0" + pack7(septets_of("Telkomsel")).hex()
    assert encode_deliver("Telkomsel", "ok", SCTS, smsc=None) == [deliver_hex(oa, 0, gsm7_ud("ok"))]


def test_encode_deliver_errors() -> None:
    with pytest.raises(PduEncodeError):
        encode_deliver(SENDER, "a" * 200, SCTS)  # multipart without concat_ref
    with pytest.raises(PduEncodeError):
        encode_deliver(SENDER, "a" * 200, SCTS, concat_ref=1, parts_limit=1)
    with pytest.raises(PduEncodeError):
        encode_deliver(SENDER, "hi", SCTS.replace(tzinfo=None))
    with pytest.raises(PduEncodeError):
        encode_deliver("VeryLongSender", "hi", SCTS)
    with pytest.raises(PduEncodeError):
        encode_deliver(SENDER, "ê", SCTS, encoding="gsm7")
    with pytest.raises(PduEncodeError):
        encode_deliver(SENDER, "hi", SCTS, ref_bits=12)


def test_encode_deliver_8bit() -> None:
    [hex_] = encode_deliver(SENDER, "\x00\xff", SCTS, encoding="8bit", smsc=None)
    assert hex_ == "0004" + OA_INTL + "0004" + SCTS_HEX + "0200FF"


# ------------------------------------------------------------------ properties

ALNUM = st.text(st.sampled_from(GSM_CHARS), min_size=1, max_size=11).filter(
    lambda s: (
        (gsm7_septets(s) or 99) <= 11
        and not re.fullmatch(r"\+?[0-9]{1,20}", s)
        and not ((gsm7_septets(s) or 0) % 8 == 0 and s[-1] in "@\r")
    )
)
SENDERS = st.one_of(
    st.from_regex(r"\+[1-9][0-9]{0,19}", fullmatch=True),
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
    ALNUM,
)
EMOJI = st.sampled_from("😀🙏🇮🇩👍🏽\U0010fffd𝄞")
TEXTS = st.one_of(
    st.text(max_size=300),
    st.text(st.sampled_from(GSM_CHARS), max_size=400),
    st.text(st.one_of(EMOJI, st.sampled_from("ab @€\n")), max_size=200),
    st.text(st.characters(max_codepoint=0x1F), max_size=200),
)
TIMES = st.datetimes(
    min_value=datetime(1969, 1, 1),
    max_value=datetime(2068, 12, 31, 23, 59, 59),
    timezones=st.integers(-79, 79).map(lambda q: timezone(timedelta(minutes=15 * q))),
).map(lambda t: t.replace(microsecond=0))


@settings(max_examples=300, deadline=None)
@given(SENDERS, TEXTS, TIMES, st.sampled_from([8, 16]), st.integers(0, 0xFFFF))
def test_deliver_round_trip(sender: str, text: str, scts: datetime, bits: int, ref: int) -> None:
    pdus = encode_deliver(sender, text, scts, concat_ref=ref, ref_bits=bits)
    parts = [decode_deliver(p) for p in pdus]
    assert join_parts([p.text for p in parts]) == text
    assert all(p.sender == sender and p.scts == scts for p in parts)
    assert all(p.scts.utcoffset() == scts.utcoffset() for p in parts)
    assert all(p.smsc == "+6281100000" for p in parts)
    if len(parts) > 1:
        mask = 0xFF if bits == 8 else 0xFFFF
        want = [Concat(ref & mask, len(parts), i, bits) for i in range(1, len(parts) + 1)]
        assert [p.concat for p in parts] == want
    else:
        assert parts[0].concat is None
    kind = "gsm7" if gsm7_septets(text) is not None else "ucs2"
    assert {p.encoding for p in parts} == {kind}


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([8, 16]))
def test_deliver_round_trip_8bit(data: bytes, bits: int) -> None:
    text = data.decode("latin-1")
    pdus = encode_deliver(SENDER, text, SCTS, encoding="8bit", concat_ref=9, ref_bits=bits)
    parts = [decode_deliver(p) for p in pdus]
    assert b"".join(p.data for p in parts) == data
    assert {p.text for p in parts} == {""}


GSM_SAFE = st.text(st.sampled_from([c for c in GSM_CHARS if c not in "§\f@"]), max_size=400)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        GSM_SAFE,
        st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]), max_size=300),
    )
)
def test_deliver_cross_checked_with_gsmmodem(text: str) -> None:
    # gsmmodem decodes GSM-7 (8-bit concat) and BMP UCS-2 correctly, except for the bugs
    # shown above: "§" and "\f" (its table), an "@" ending a part (its septet unpacker).
    assume(gsm7_septets(text) is None or not set(text) & set("§\f@"))
    for hex_ in encode_deliver(SENDER, text, SCTS, concat_ref=3):
        ours, theirs = decode_deliver(hex_), gsmpdu.decodeSmsPdu(hex_)
        assert ours.text == theirs["text"]
        assert (ours.sender, ours.scts) == (theirs["number"], theirs["time"])


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.integers(0, 255), st.integers(0, 255))
def test_submit_parts(text: str, reference: int, concat_ref: int) -> None:
    pdus = encode_submit("+62812", text, reference=reference, concat_ref=concat_ref)
    assert len(pdus) == segments(text)
    fields = [parse_submit(p.hex) for p in pdus]
    assert [p.reference for p in pdus] == [(reference + i) & 0xFF for i in range(len(pdus))]
    assert [f["mr"] for f in fields] == [p.reference for p in pdus]
    assert all(p.tpdu_length == len(p.hex) // 2 - 1 for p in pdus)
    if fields[0]["dcs"] == 0x00:
        assert all(f["payload"][-1:] != [0x1B] for f in fields)  # escape never split
        assert text_of([s for f in fields for s in f["payload"]]) == text
    else:  # each part is valid UTF-16 on its own: no pair is split
        assert "".join(bytes(f["payload"]).decode("utf-16-be") for f in fields) == text
    if len(pdus) > 1:
        headers = [f["header"] for f in fields]
        want = [bytes([5, 0, 3, concat_ref, len(pdus), i + 1]) for i in range(len(pdus))]
        assert headers == want
        assert all(f["payload"] for f in fields)
    else:
        assert fields[0]["header"] == b""


# totality: random strings and mutated valid PDUs

VALID = [
    "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
    SIXTEEN_BIT_PART_1,
    deliver_hex(OA_INTL, 0x08, "0A0500037702010041D83D", first=0x44),
    deliver_hex("10D0" + pack7(septets_of("Telkomsel")).hex(), 0x00, gsm7_ud("Sisa {x}")),
    deliver_hex(OA_INTL, 0x04, "0501FF00C07F"),
    STATUS_REPORT,
]


def check_total(pdu_hex: str) -> None:
    try:
        d = decode_deliver(pdu_hex)
    except PduDecodeError:
        pass
    else:
        assert isinstance(d, Deliver)
        join_parts([d.text]).encode("utf-8")
        if d.concat is None:
            d.text.encode("utf-8")
    with contextlib.suppress(PduDecodeError):
        decode_status_report(pdu_hex)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    data = bytearray.fromhex(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "truncate", "extend", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "extend":
            data += draw(st.binary(min_size=1, max_size=20))
        elif op == "delete" and data:
            del data[at]
    return data.hex()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_decode_is_total_on_mutated_pdus(pdu_hex: str) -> None:
    check_total(pdu_hex)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text("0123456789abcdefABCDEF \n"), st.binary().map(bytes.hex)))
def test_decode_is_total_on_random_strings(pdu_hex: str) -> None:
    check_total(pdu_hex)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=())), max_size=5))
def test_join_parts_is_always_utf8(texts: list[str]) -> None:
    joined = join_parts(texts)
    joined.encode("utf-8")
    if not any(re.search("[\ud800-\udfff]", t) for t in texts):
        assert joined == "".join(texts)


@settings(max_examples=200, deadline=None)
@given(st.text(st.one_of(EMOJI, st.characters(exclude_categories=["Cs"]))), st.data())
def test_join_parts_mends_any_utf16_split(text: str, data: st.DataObject) -> None:
    units = text.encode("utf-16-be")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(units) // 2), max_size=4)))
    bounds = [0, *(2 * c for c in cuts), len(units)]
    pieces = [
        units[a:b].decode("utf-16-be", "surrogatepass") for a, b in itertools.pairwise(bounds)
    ]
    assert join_parts(pieces) == text

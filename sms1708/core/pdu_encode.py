"""Encoding PDUs: SMS-SUBMIT for AT+CMGS, SMS-DELIVER as a network would deliver (tests, the
emulated modem), and how many parts a text takes.

Part of the PDU codec (:mod:`sms1708.core.pdu`); pure. The encoders never split a surrogate
pair or a GSM-7 escape across parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sms1708.core.gsm7 import gsm7_items, gsm7_septets, pack_septets
from sms1708.core.pdu_decode import raises_only
from sms1708.errors import PduEncodeError

_NUMBER = re.compile(r"\+?[0-9]{1,20}")
_VALIDITY = 0xA7  # TP-VP, relative format: 0xA7 = 24 hours
# Per-part capacity in payload units (septets for gsm7, octets otherwise):
# (single part, part with 8-bit concat UDH, part with 16-bit concat UDH)
_CAPACITY = {"gsm7": (160, 153, 152), "ucs2": (140, 134, 132), "8bit": (140, 134, 133)}
_DCS = {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}


@dataclass(frozen=True)
class SubmitPdu:
    """``hex`` (starting "00": the SIM's SMSC) goes after ``AT+CMGS=<tpdu_length>``."""

    hex: str
    tpdu_length: int
    reference: int


def _items(text: str, encoding: str) -> list[bytes]:
    """``text`` as one encoded item per character (never split across parts)."""
    if encoding == "gsm7":
        items = gsm7_items(text)
        if items is None:
            raise PduEncodeError("text is not GSM-7 representable")
        return items
    if encoding == "ucs2":
        return [c.encode("utf-16-be", "surrogatepass") for c in text]
    if encoding == "8bit":
        return [bytes([b]) for b in text.encode("latin-1")]
    raise PduEncodeError(f"unknown encoding {encoding!r}")


def _choose(text: str, encoding: str | None = None) -> tuple[str, list[bytes]]:
    if encoding is None:
        encoding = "ucs2" if gsm7_septets(text) is None else "gsm7"
    return encoding, _items(text, encoding)


def _split(items: list[bytes], encoding: str, ref_bits: int = 8) -> list[bytes]:
    single, multi8, multi16 = _CAPACITY[encoding]
    if sum(map(len, items)) <= single:
        return [b"".join(items)]
    limit = multi16 if ref_bits == 16 else multi8
    parts: list[bytes] = []
    current = b""
    for item in items:
        if len(current) + len(item) > limit:
            parts.append(current)
            current = b""
        current += item
    return [*parts, current]


def segments(text: str) -> int:
    """How many SMS parts ``text`` takes when sent (GSM-7 if it can, else UCS-2)."""
    encoding, items = _choose(text)
    return len(_split(items, encoding))


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PduEncodeError("text contains a lone surrogate") from exc


def _number(number: str) -> bytes:
    """Address field (length in digits, type, BCD) of a "+..." or digits-only number."""
    if not _NUMBER.fullmatch(number):
        raise PduEncodeError(f"invalid phone number {number!r}")
    digits = number.lstrip("+")
    return bytes([len(digits), 0x91 if number[0] == "+" else 0x81]) + _to_bcd(digits)


def _to_bcd(digits: str) -> bytes:
    padded = digits + "F" * (len(digits) % 2)
    return bytes(int(padded[i + 1] + padded[i], 16) for i in range(0, len(padded), 2))


def _user_data(payload: bytes, encoding: str, udh: bytes) -> bytes:
    """UDL octet and user data (UDH, fill bits, payload)."""
    header = bytes([len(udh)]) + udh if udh else b""
    if encoding != "gsm7":
        return bytes([len(header) + len(payload)]) + header + payload
    septets = bytes((len(header) * 8 + 6) // 7) + payload
    packed = bytearray(pack_septets(septets))
    packed[: len(header)] = header
    return bytes([len(septets)]) + packed


def _concat_udh(ref: int, total: int, seq: int, ref_bits: int) -> bytes:
    if total == 1:
        return b""
    if ref_bits == 16:
        return bytes([0x08, 4, ref >> 8 & 0xFF, ref & 0xFF, total, seq])
    return bytes([0x00, 3, ref & 0xFF, total, seq])


def _check_parts(count: int, limit: int = 255) -> None:
    if count > min(limit, 255):
        raise PduEncodeError(f"text needs {count} parts (limit {min(limit, 255)})")


@raises_only(PduEncodeError)
def encode_submit(
    number: str,
    text: str,
    *,
    reference: int = 0,
    concat_ref: int = 0,
    status_report: bool = False,
) -> list[SubmitPdu]:
    """SMS-SUBMIT PDUs for AT+CMGS (PDU mode), one per part, using the SIM's SMSC.

    The PDU carries TP-VP 0xA7 (relative, 24 hours), PID 0, and TP-SRR if ``status_report``.
    Digits-only numbers use type-of-address 0x81 (unknown, ISDN), "+..." 0x91.
    """
    _check_text(text)
    destination = _number(number)
    encoding, items = _choose(text)
    parts = _split(items, encoding)
    _check_parts(len(parts))
    result = []
    for i, payload in enumerate(parts):
        udh = _concat_udh(concat_ref, len(parts), i + 1, 8)
        mr = (reference + i) & 0xFF
        first = 0x11 | (0x20 if status_report else 0) | (0x40 if udh else 0)
        tpdu = bytes([first, mr]) + destination + bytes([0x00, _DCS[encoding], _VALIDITY])
        tpdu += _user_data(payload, encoding, udh)
        result.append(SubmitPdu("00" + tpdu.hex().upper(), len(tpdu), mr))
    return result


def _sender(sender: str) -> bytes:
    if _NUMBER.fullmatch(sender):
        if sender[0] == "+":
            return _number(sender)
        return bytes([len(sender), 0xA1]) + _to_bcd(sender)  # national
    septets = b"".join(_items(sender, "gsm7"))
    if not 0 < len(septets) <= 11 or (len(septets) % 8 == 0 and sender[-1] in "@\r"):
        raise PduEncodeError(f"invalid alphanumeric sender {sender!r}")
    return bytes([(len(septets) * 7 + 3) // 4, 0xD0]) + pack_septets(septets)


def _timestamp(ts: datetime) -> bytes:
    offset = ts.utcoffset()
    if offset is None:
        raise PduEncodeError("timestamp must be timezone-aware")
    quarters, rest = divmod(abs(int(offset.total_seconds())), 900)
    if rest or quarters > 79 or not 1969 <= ts.year <= 2068:
        raise PduEncodeError(f"timestamp {ts.isoformat()} cannot be encoded")
    fields = (ts.year % 100, ts.month, ts.day, ts.hour, ts.minute, ts.second, quarters)
    raw = bytearray((v % 10) << 4 | v // 10 for v in fields)
    raw[6] |= 0x08 if offset < timedelta(0) else 0
    return bytes(raw)


@raises_only(PduEncodeError)
def encode_deliver(
    sender: str,
    text: str,
    scts: datetime,
    *,
    smsc: str | None = "+6281100000",
    encoding: str | None = None,
    concat_ref: int | None = None,
    ref_bits: int = 8,
    parts_limit: int = 255,
) -> list[str]:
    """SMS-DELIVER PDUs (hex, SMSC prefix included) as a network would deliver ``text``.

    For ``encoding="8bit"`` the user data is ``text.encode("latin-1")``.
    """
    _check_text(text)
    if ref_bits not in (8, 16):
        raise PduEncodeError(f"ref_bits must be 8 or 16, not {ref_bits}")
    prefix = b"\x00" if smsc is None else _number(smsc)
    if smsc is not None:  # the SMSC length counts octets (type + BCD), not digits
        prefix = bytes([len(prefix) - 1]) + prefix[1:]
    originator, stamp = _sender(sender), _timestamp(scts)
    encoding, items = _choose(text, encoding)
    parts = _split(items, encoding, ref_bits)
    _check_parts(len(parts), parts_limit)
    if len(parts) > 1 and concat_ref is None:
        raise PduEncodeError("concat_ref is required for a multipart message")
    result = []
    for i, payload in enumerate(parts):
        udh = _concat_udh(concat_ref or 0, len(parts), i + 1, ref_bits)
        tpdu = bytes([0x44 if udh else 0x04]) + originator + bytes([0x00, _DCS[encoding]])
        tpdu += stamp + _user_data(payload, encoding, udh)
        result.append((prefix + tpdu).hex().upper())
    return result

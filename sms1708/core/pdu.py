"""SMS PDU codec (3GPP TS 23.040 / 23.038): SMS-DELIVER and STATUS-REPORT in, SMS-SUBMIT out.

This module replaces, for sms1708, the codec of python-gsmmodem-new 0.13.0 (``gsmmodem.pdu``),
which the tests keep as a cross-checking oracle; it is re-implemented rather than wrapped because
importing ``gsmmodem.pdu`` runs ``gsmmodem/__init__`` (modem, pyserial, threading), which the pure
core must not import, and because every helper it would reuse has a defect of its own. It fixes
the two known bugs of ``gsmmodem.pdu``: (1) with a 16-bit concatenation reference (IEI 0x08,
7-octet UDH) the septet fill bits were computed wrongly and the first character of every GSM-7
part was lost (babca/python-gsmmodem#99, PR #109): here the header is skipped as
ceil(8 * (UDHL + 1) / 7) septets; (2) UCS-2 was handled as one code point per 16-bit unit, so
received emoji became lone surrogates (sqlite3 then fails) and sending one raised ValueError
(#120, PR #98): here UCS-2 is UTF-16-BE; a part's text never holds a lone surrogate (U+FFFD
instead, so it is always storable), a pair split across two parts is mended by joining the parts'
raw user data before decoding (:func:`join_parts`), and the encoders never split a pair (or a
GSM-7 escape) across parts. On the way it also fixes: a final ``@`` on a septet-8n boundary
being dropped, ``§`` decoded as a backquote, DCS coding groups other than ``00xx`` read as
GSM-7, unbounded reads on truncated PDUs. Decoding is total: any string gives a result or
:class:`PduDecodeError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import ParamSpec, TypeVar

from sms1708.errors import PduDecodeError, PduEncodeError, Sms1708Error

# 3GPP TS 23.038 default alphabet (index = septet) and extension table (after ESC 0x1B).
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXT = dict(zip(b"\x0a\x14\x28\x29\x2f\x3c\x3d\x3e\x40\x65", "\f^{}\\[~]|€", strict=True))
_GSM7: dict[str, bytes] = {c: bytes([i]) for i, c in enumerate(_BASIC) if i != 0x1B}
_GSM7 |= {c: bytes([0x1B, i]) for i, c in _EXT.items()}
assert len(_BASIC) == 128

_ESC = 0x1B
_BCD = "0123456789*#abc"  # semi-octet values; 0xF is the filler
_NUMBER = re.compile(r"\+?[0-9]{1,20}")
_VALIDITY = 0xA7  # TP-VP, relative format: 0xA7 = 24 hours
# Per-part capacity in payload units (septets for gsm7, octets otherwise):
# (single part, part with 8-bit concat UDH, part with 16-bit concat UDH)
_CAPACITY = {"gsm7": (160, 153, 152), "ucs2": (140, 134, 132), "8bit": (140, 134, 133)}
_DCS = {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Concat:
    """Concatenation IE of a part: reference, number of parts, 1-based part number, 8/16 bits."""

    ref: int
    total: int
    seq: int
    ref_bits: int


@dataclass(frozen=True)
class Deliver:
    """One received part. ``sender_type``: international (sender "+..."), national, alphanumeric
    (sender is the decoded name) or other. ``encoding``: gsm7, ucs2 or 8bit (text ""; DCS with
    compression also counts as 8bit). ``data``: raw user data after the UDH. ``text`` never holds
    a lone surrogate (U+FFFD instead); a pair split across parts is mended from ``data`` by
    :func:`join_parts`. ``tpdu_hex``: the PDU without the SMSC prefix, upper case."""

    sender: str
    sender_type: str
    smsc: str | None
    scts: datetime
    encoding: str
    text: str
    data: bytes
    concat: Concat | None
    pid: int
    dcs: int
    tpdu_hex: str


@dataclass(frozen=True)
class StatusReport:
    """An SMS-STATUS-REPORT: ``reference`` is the TP-MR it reports on; delivered = TP-ST < 0x20."""

    reference: int
    recipient: str
    scts: datetime
    discharge: datetime
    status: int
    delivered: bool


@dataclass(frozen=True)
class SubmitPdu:
    """``hex`` (starting "00": the SIM's SMSC) goes after ``AT+CMGS=<tpdu_length>``."""

    hex: str
    tpdu_length: int
    reference: int


def _only(error: type[Sms1708Error]) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Let ``error`` through and turn any other exception into it."""

    def decorate(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(fn)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return fn(*args, **kwargs)
            except error:
                raise
            except Exception as exc:
                raise error(f"{fn.__name__}: {type(exc).__name__}: {exc}") from exc

        return wrapper

    return decorate


# ---------------------------------------------------------------- septets and GSM-7 text


def _pack(septets: bytes) -> bytes:
    out = bytearray((len(septets) * 7 + 7) // 8)
    for i, s in enumerate(septets):
        byte, shift = divmod(7 * i, 8)
        out[byte] |= (s << shift) & 0xFF
        if shift > 1:
            out[byte + 1] |= s >> (8 - shift)
    return bytes(out)


def _unpack(octets: bytes, count: int) -> bytes:
    out = bytearray()
    for i in range(count):
        byte, shift = divmod(7 * i, 8)
        value = octets[byte] >> shift
        if shift > 1:
            value |= octets[byte + 1] << (8 - shift)
        out.append(value & 0x7F)
    return bytes(out)


def _gsm7_text(septets: bytes) -> str:
    out: list[str] = []
    i = 0
    while i < len(septets):
        s = septets[i]
        if s == _ESC and i + 1 < len(septets):
            nxt = septets[i + 1]  # unknown extension: show the basic character (23.038 6.2.1.1)
            out.append(_EXT.get(nxt, " " if nxt == _ESC else _BASIC[nxt]))
            i += 2
            continue
        if s != _ESC:  # a lone trailing ESC is dropped
            out.append(_BASIC[s])
        i += 1
    return "".join(out)


def _gsm7_items(text: str) -> list[bytes] | None:
    items = [_GSM7.get(c) for c in text]
    return None if None in items else [i for i in items if i is not None]


def gsm7_septets(text: str) -> int | None:
    """Septets ``text`` takes in GSM-7 (extension characters count 2), or None if not GSM-7."""
    items = _gsm7_items(text)
    return None if items is None else sum(map(len, items))


# ---------------------------------------------------------------- decoding


class _Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise PduDecodeError(f"PDU truncated at octet {self.pos} (wanted {n} more)")
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def byte(self) -> int:
        return self.take(1)[0]


def _bcd(raw: bytes, digits: int) -> str:
    nibbles = (raw[i // 2] >> (4 * (i % 2)) & 0x0F for i in range(digits))
    return "".join(_BCD[n] for n in nibbles if n < 15)


def _parse_hex(pdu_hex: str) -> bytes:
    text = pdu_hex.strip()
    if not re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", text):
        raise PduDecodeError("not an even-length hex string")
    return bytes.fromhex(text)


def _read_smsc(r: _Reader) -> str | None:
    length = r.byte()
    if length == 0:
        return None
    toa = r.byte()
    digits = _bcd(r.take(length - 1), 2 * (length - 1))
    return "+" + digits if (toa >> 4) & 7 == 1 else digits


def _read_address(r: _Reader) -> tuple[str, str]:
    length, toa = r.byte(), r.byte()
    raw = r.take((length + 1) // 2)
    ton = (toa >> 4) & 7
    if ton == 5:
        count = length * 4 // 7
        text = _gsm7_text(_unpack(raw, count))
        if count % 8 == 0 and text[-1:] in ("@", "\r"):  # 7 padding bits read as a septet
            text = text[:-1]
        return text, "alphanumeric"
    digits = _bcd(raw, length)
    if ton == 1:
        return "+" + digits, "international"
    return digits, "national" if ton == 2 else "other"


def _read_timestamp(r: _Reader) -> datetime:
    raw = r.take(7)
    if any((b & 0x0F) > 9 or (b >> 4) > 9 for b in raw[:6]):
        raise PduDecodeError(f"timestamp {raw.hex()} is not decimal")
    yy, month, day, hour, minute, second = ((b & 0x0F) * 10 + (b >> 4) for b in raw[:6])
    quarters = (raw[6] & 0x07) * 10 + (raw[6] >> 4)  # lenient: units nibble may exceed 9
    offset = timedelta(minutes=15 * quarters) * (-1 if raw[6] & 0x08 else 1)
    year = 2000 + yy if yy < 69 else 1900 + yy  # the POSIX %y pivot, as gsmmodem does
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))


def _alphabet(dcs: int) -> str:
    group = dcs >> 4
    if group < 8:  # general data coding (00xx) and automatic deletion (01xx)
        if dcs & 0x20:  # compressed: not decodable as text
            return "8bit"
        return ("gsm7", "8bit", "ucs2", "gsm7")[(dcs >> 2) & 3]
    if group == 0xE:  # message waiting indication, UCS-2
        return "ucs2"
    if group == 0xF:  # data coding / message class
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"  # message waiting (GSM-7) and reserved groups


def _parse_udh(header: bytes) -> Concat | None:
    """First valid concatenation IE of a UDH; a malformed tail of IEs is ignored."""
    i = 0
    while i + 2 <= len(header):
        iei, size = header[i], header[i + 1]
        data = header[i + 2 : i + 2 + size]
        if len(data) != size:
            break
        i += 2 + size
        if (iei, size) == (0x00, 3):
            concat = Concat(data[0], data[1], data[2], 8)
        elif (iei, size) == (0x08, 4):
            concat = Concat(data[0] << 8 | data[1], data[2], data[3], 16)
        else:
            continue
        if 1 <= concat.seq <= concat.total:  # else "ignore the IE" (23.040 9.2.3.24.1)
            return concat
    return None


def _ucs2_text(body: bytes) -> str:
    """UTF-16-BE text; a lone surrogate (or an odd last octet) becomes U+FFFD."""
    return body.decode("utf-16-be", "replace")


@_only(PduDecodeError)
def decode_deliver(pdu_hex: str) -> Deliver:
    """Decode an SMS-DELIVER as the modem lists it in PDU mode (SMSC prefix, then the TPDU)."""
    data = _parse_hex(pdu_hex)
    r = _Reader(data)
    smsc = _read_smsc(r)
    tpdu_start = r.pos
    first = r.byte()
    if first & 0x03 != 0:
        raise PduDecodeError(f"not an SMS-DELIVER (first octet {first:02X})")
    sender, sender_type = _read_address(r)
    pid, dcs = r.byte(), r.byte()
    scts = _read_timestamp(r)
    encoding = _alphabet(dcs)
    udl = r.byte()
    if udl > (160 if encoding == "gsm7" else 140):
        raise PduDecodeError(f"user data length {udl} too large for {encoding}")
    ud = r.take((udl * 7 + 7) // 8 if encoding == "gsm7" else udl)  # trailing octets ignored
    header_octets, concat = 0, None
    if first & 0x40 and ud:
        header_octets = ud[0] + 1
        if header_octets > len(ud):
            raise PduDecodeError("user data header longer than the user data")
        concat = _parse_udh(ud[1:header_octets])
    if encoding == "gsm7":
        skip = (header_octets * 8 + 6) // 7  # the header plus its fill bits, in septets
        if skip > udl:
            raise PduDecodeError("user data header longer than the user data")
        text = _gsm7_text(_unpack(ud, udl)[skip:])
    elif encoding == "ucs2":
        text = _ucs2_text(ud[header_octets:])
    else:
        text = ""
    return Deliver(
        sender=sender,
        sender_type=sender_type,
        smsc=smsc,
        scts=scts,
        encoding=encoding,
        text=text,
        data=ud[header_octets:],
        concat=concat,
        pid=pid,
        dcs=dcs,
        tpdu_hex=data[tpdu_start:].hex().upper(),
    )


@_only(PduDecodeError)
def decode_status_report(pdu_hex: str) -> StatusReport:
    """Decode an SMS-STATUS-REPORT (MTI 2), SMSC prefix included."""
    r = _Reader(_parse_hex(pdu_hex))
    _read_smsc(r)
    first = r.byte()
    if first & 0x03 != 0x02:
        raise PduDecodeError(f"not an SMS-STATUS-REPORT (first octet {first:02X})")
    reference = r.byte()
    recipient, _ = _read_address(r)
    scts, discharge = _read_timestamp(r), _read_timestamp(r)
    status = r.byte()
    return StatusReport(reference, recipient, scts, discharge, status, status < 0x20)


def join_parts(pieces: Sequence[str | bytes]) -> str:
    """Join the parts of a message in order into storable text.

    A ``bytes`` piece is a UCS-2 part's raw user data (UTF-16-BE): consecutive ones are joined
    at the byte level before decoding, so a surrogate pair split across parts becomes one
    character. A ``str`` piece is a decoded text. Whatever stays unpaired becomes U+FFFD.
    """
    out: list[str] = []
    run = bytearray()
    for piece in [*pieces, ""]:
        if isinstance(piece, bytes):
            run += piece
            continue
        if run:
            out.append(bytes(run).decode("utf-16-be", "replace"))
            run.clear()
        out.append(piece)
    joined = "".join(out).encode("utf-16-be", "surrogatepass")
    return joined.decode("utf-16-be", "replace")


# ---------------------------------------------------------------- encoding


def _items(text: str, encoding: str) -> list[bytes]:
    """``text`` as one encoded item per character (never split across parts)."""
    if encoding == "gsm7":
        items = _gsm7_items(text)
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
    packed = bytearray(_pack(septets))
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


@_only(PduEncodeError)
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
    return bytes([(len(septets) * 7 + 3) // 4, 0xD0]) + _pack(septets)


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


@_only(PduEncodeError)
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

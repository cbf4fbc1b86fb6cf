"""Decoding PDUs: an SMS-DELIVER or SMS-STATUS-REPORT as the modem lists it, and joining parts.

Part of the PDU codec (:mod:`sms1708.core.pdu`, which says what it fixes); pure and total:
any string gives a result or :class:`~sms1708.errors.PduDecodeError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import ParamSpec, TypeVar

from sms1708.core.gsm7 import septets_text, unpack_septets
from sms1708.errors import PduDecodeError, Sms1708Error

_BCD = "0123456789*#abc"  # semi-octet values; 0xF is the filler

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


def raises_only(error: type[Sms1708Error]) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
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
        text = septets_text(unpack_septets(raw, count))
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


@raises_only(PduDecodeError)
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
        text = septets_text(unpack_septets(ud, udl)[skip:])
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


@raises_only(PduDecodeError)
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

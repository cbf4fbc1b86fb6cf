"""GSM-7, the SMS default alphabet (3GPP TS 23.038): its tables, septet packing, text.

Part of the PDU codec (:mod:`sms1708.core.pdu`); pure.
"""

from __future__ import annotations

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


def pack_septets(septets: bytes) -> bytes:
    out = bytearray((len(septets) * 7 + 7) // 8)
    for i, s in enumerate(septets):
        byte, shift = divmod(7 * i, 8)
        out[byte] |= (s << shift) & 0xFF
        if shift > 1:
            out[byte + 1] |= s >> (8 - shift)
    return bytes(out)


def unpack_septets(octets: bytes, count: int) -> bytes:
    out = bytearray()
    for i in range(count):
        byte, shift = divmod(7 * i, 8)
        value = octets[byte] >> shift
        if shift > 1:
            value |= octets[byte + 1] << (8 - shift)
        out.append(value & 0x7F)
    return bytes(out)


def septets_text(septets: bytes) -> str:
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


def gsm7_items(text: str) -> list[bytes] | None:
    items = [_GSM7.get(c) for c in text]
    return None if None in items else [i for i in items if i is not None]


def gsm7_septets(text: str) -> int | None:
    """Septets ``text`` takes in GSM-7 (extension characters count 2), or None if not GSM-7."""
    items = gsm7_items(text)
    return None if items is None else sum(map(len, items))

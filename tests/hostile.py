"""SMS-DELIVER PDUs a phone or network can really produce but the gateway's own encoder never
does: UCS-2 parts cut through a surrogate pair, and hostile variants (a UDH longer than the
user data, a TP-UDL that lies, truncated PDUs, random bytes). Built by hand, octet by octet."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sms1708.core.pdu import _sender, _timestamp

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 23, 9, 30, tzinfo=WIB)


def deliver_ud(
    sender: str,
    ud: bytes,
    *,
    dcs: int = 0x08,
    udhi: bool = False,
    udl: int | None = None,
    scts: datetime = T0,
) -> str:
    """One SMS-DELIVER (SMSC prefix "00") with the user data ``ud`` exactly as given."""
    first = 0x44 if udhi else 0x04
    tpdu = bytes([first]) + _sender(sender) + bytes([0x00, dcs]) + _timestamp(scts)
    tpdu += bytes([len(ud) if udl is None else udl]) + ud
    return "00" + tpdu.hex().upper()


def ucs2_cut(
    sender: str, text: str, cuts: list[int], *, ref: int, scts: datetime = T0
) -> list[str]:
    """``text`` as UTF-16-BE cut at the given even octet offsets, one concatenated UCS-2 part
    per piece (8-bit reference; more cuts where a piece would not fit in one part). A cut
    inside a surrogate pair splits the emoji across parts, as some phones do."""
    data = text.encode("utf-16-be")
    bounds = [0]
    for cut in [*cuts, len(data)]:
        while cut - bounds[-1] > 134:  # fill the parts between the cuts
            bounds.append(bounds[-1] + 134)
        bounds.append(cut)
    total = len(bounds) - 1
    out = []
    for seq in range(1, total + 1):
        piece = data[bounds[seq - 1] : bounds[seq]]
        udh = bytes([5, 0x00, 3, ref & 0xFF, total, seq])
        out.append(deliver_ud(sender, udh + piece, udhi=True, scts=scts))
    return out


def split_pair_cut(text: str) -> int:
    """The octet offset that cuts the first surrogate pair of ``text`` in half."""
    for units, c in enumerate(text):
        if ord(c) > 0xFFFF:
            return (units + 1) * 2
    raise ValueError("no character outside the BMP")

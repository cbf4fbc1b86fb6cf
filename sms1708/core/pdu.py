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

The codec is three modules, re-exported here (import from ``sms1708.core.pdu``):
:mod:`sms1708.core.gsm7` (the alphabet, septet packing), :mod:`sms1708.core.pdu_decode`
(DELIVER, STATUS-REPORT, joining parts) and :mod:`sms1708.core.pdu_encode` (SUBMIT, DELIVER,
counting parts).
"""

from sms1708.core.gsm7 import _BASIC, gsm7_septets
from sms1708.core.pdu_decode import (
    Concat,
    Deliver,
    StatusReport,
    decode_deliver,
    decode_status_report,
    join_parts,
)
from sms1708.core.pdu_encode import (
    SubmitPdu,
    _sender,
    _timestamp,
    encode_deliver,
    encode_submit,
    segments,
)

__all__ = [
    "_BASIC",
    "Concat",
    "Deliver",
    "StatusReport",
    "SubmitPdu",
    "_sender",
    "_timestamp",
    "decode_deliver",
    "decode_status_report",
    "encode_deliver",
    "encode_submit",
    "gsm7_septets",
    "join_parts",
    "segments",
]

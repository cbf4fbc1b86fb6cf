"""Making outside text safe to show: spreadsheet cells and terminal lines. Pure.

* :func:`spreadsheet_safe`: a CSV cell a spreadsheet would run as a formula (it starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading single quote, as OWASP
  advises against CSV injection. This includes senders written ``+62...``: the cell shows
  ``'+6281234567890`` and stays text (unquoted, a spreadsheet would also turn it into the number
  6.28E+12 and lose the +). Numbers (ids, counts) are not text and are left alone.
* :func:`printable`: strings an upstream supplies (tracking ids, status texts, error texts)
  lose terminal control characters (escape sequences could rewrite the operator's screen or
  hide lines) before the CLI prints them. Newlines and tabs become spaces.
"""

from __future__ import annotations

import unicodedata

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value`` unchanged, or, for text a spreadsheet would run as a formula, quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def printable(text: str) -> str:
    """``text`` without control characters (C0, DEL, C1, bidi overrides); line breaks and
    tabs become spaces."""
    out = []
    for ch in text:
        if ch in "\n\r\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            continue  # control and format characters (ESC, CSI, RLO ...); ZWJ keeps emoji whole
        else:
            out.append(ch)
    return "".join(out)

"""Masking of phone numbers for logs and operator screens (promise P12)."""

from __future__ import annotations

import re

# What counts as a phone number inside free text (logs, error texts, operator screens):
#
# 1. an unbroken run of 9 or more digits, with or without a leading +, wherever it is, even
#    glued to a word ("HP081234567890"). A long digit run inside a hex key is masked too,
#    which costs nothing in a log line. Tracking ids (7 digits) and report numbers stay.
# 2. a number written with separators (one or two spaces, "-", ".", "/", parentheses) when it
#    is shaped like a phone number: it starts with "+" and a country code, with "62", or with
#    a trunk "0" and an operator/area code of 2-4 more digits ("0812", "(0812)", "021"); every
#    later group has at least 3 digits (right after +62/62 the area code may have 2: "21");
#    and it has 9 or more digits in all. So "0812.3456.7890", "(0812) 3456-7890",
#    "0811/7654321", "+62 812-3456-7890", "0812  3456  7890" are masked, while dates
#    ("2026-11-01", "01/12/2026", "01.12.2026 08.30": groups of 2, or not starting with 0),
#    amounts ("Rp 1.500.000", "12.500.000.000": they do not start with 0, 62 or +; and
#    "62.500.000.000", only dots and groups of exactly 3, is an amount) and RT/RW numbers
#    stay readable.
_RUN = re.compile(r"(?<![\d+])\+?\d{9,}(?!\d)")
_SEP = r"(?:[ ]?[-./][ ]?|[ ]{1,2}|\)[ ]?|[ ]?\()"  # [ ]: a space, also in verbose mode
_SEPARATED = re.compile(
    rf"""
    (?<![\d+])(?<!\d[-./])                       # not inside a longer number or an amount
    (?:
        \+\d{{1,3}}(?:{_SEP}\(?\d{{2,}}\)?)?   # +62 812, +62 (21), +1 202
      | \+\d{{4,}}                              # +62812
      | 62(?={_SEP}){_SEP}\(?\d{{2,}}\)?       # 62 812, 62-21
      | 62\d{{3,}}                               # 62812
      | \(?0\d{{2,4}}\)?                        # 0812, (0812), 021
    )
    (?:{_SEP}\d{{3,}})+                          # and groups of 3 digits or more
    (?!\d)
    """,
    re.X,
)
_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+")


def _mask_separated(m: re.Match[str]) -> str:
    found = m.group(0)
    if sum(c.isdigit() for c in found) < 9 or _AMOUNT.fullmatch(found):
        return found
    return mask_number(found)


def mask_number(number: str) -> str:
    """Keep the prefix and the last two digits: ``+6281234567890`` -> ``+62812******90``.

    Short codes and alphanumeric senders are not personal numbers and stay as they are.
    """
    digits = [c for c in number if c.isdigit()]
    if len(digits) < 7:
        return number
    plus = "+" if number.startswith("+") else ""
    head = 5 if plus else 4
    kept = "".join(digits[:head])
    tail = "".join(digits[-2:])
    return f"{plus}{kept}{'*' * (len(digits) - head - 2)}{tail}"


def mask_text(text: str) -> str:
    """Mask every phone-number-looking run inside free text (the rule is written above)."""
    text = _SEPARATED.sub(_mask_separated, text)
    return _RUN.sub(lambda m: mask_number(m.group(0)), text)

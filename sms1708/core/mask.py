"""Masking of phone numbers for logs and operator screens (promise P12)."""

from __future__ import annotations

import re

# a run of 9+ digits (Indonesian mobile and landline numbers with area code), optionally with a
# leading +; digits may be split by one space or dash. Tracking ids (7 digits) stay readable.
# Only digits bound the run, so a number glued to a word ("HP081234567890") is masked too; a
# long digit run inside a hex key gets masked as well, which costs nothing in a log line.
_PHONE = re.compile(r"(?<![\d+])\+?\d(?:[ -]?\d){8,}(?!\d)")


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
    """Mask every phone-number-looking run inside free text."""
    return _PHONE.sub(lambda m: mask_number(m.group(0)), text)

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


# AT commands whose arguments carry a SIM PIN, PUK or facility password (3GPP TS 27.007:
# +CPIN=<pin>[,<newpin>], +CPWD=<fac>,<oldpwd>,<newpwd>, +CLCK=<fac>,<mode>[,<passwd>[,...]]).
# Everything after the "=" up to the end of the argument list is hidden, quoted or not.
_SECRET_AT = re.compile(
    r"(?i)(\bAT\s*\+\s*(?:CPIN|CPWD|CLCK)\s*=\s*)"  # the command, kept
    r"(?:\"[^\"\r\n]*\"?|[^\s,'\"]*)"  # first argument
    r"(?:\s*,\s*(?:\"[^\"\r\n]*\"?|[^\s,'\"]*))*"  # further arguments
)
REDACTED = "<hidden>"


def redact_at(text: str) -> str:
    """Hide the arguments of PIN-carrying AT commands wherever one is rendered into text:
    ``'AT+CPIN="1234"' failed`` -> ``'AT+CPIN=<hidden>' failed``. Queries (``AT+CPIN?``) and
    answers (``+CPIN: SIM PIN``) carry no secret and stay as they are."""
    return _SECRET_AT.sub(lambda m: m.group(1) + REDACTED, text)

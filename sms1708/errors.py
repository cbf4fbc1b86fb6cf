"""The one exception tree of sms1708.

Adapters raise these; the shell turns them into outcomes; the core decides what happens next.
Upstream errors say *what happened*, the way retry logic needs it:

- :class:`UpstreamUnreachable`: the request never reached the server (safe to retry).
- :class:`UpstreamAmbiguous`: the request was sent but no answer came (outcome unknown;
  retried with the same idempotency key and shown to operators).
- :class:`UpstreamRetryable`: the server answered "try again later" (408, 425, 429, 5xx).
- :class:`UpstreamNotAcknowledged`: a 2xx/3xx that is not an acknowledgement (captive portal,
  quota page, redirect): retried like a temporary failure, with an alarm.
- :class:`UpstreamRejected`: the server refused the record for good (other 4xx).
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterable


class Sms1708Error(Exception):
    """Base class of every error sms1708 raises on purpose."""


class ConfigError(Sms1708Error):
    """The configuration is invalid. ``key`` names the offending key (``section.name``)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config error: {key}: {problem}")
        self.key = key
        self.problem = problem


class StoreError(Sms1708Error):
    """The SQLite store failed."""


class StoreFullError(StoreError):
    """The disk (or the database) is full: stop deleting from the SIM, keep running."""


class StoreDamagedError(StoreError):
    """The database file is damaged or not an sms1708 database: refuse to start."""


class PduDecodeError(Sms1708Error, ValueError):
    """A PDU could not be decoded (it is quarantined raw, never dropped)."""


class PduEncodeError(Sms1708Error, ValueError):
    """A text or number could not be encoded into an SMS-SUBMIT PDU."""


class ModemError(Sms1708Error):
    """The modem misbehaved or the serial link failed."""


class ModemGone(ModemError):
    """The serial port vanished or failed (unplugged, closed): reconnect."""


class ModemGoneAfterSend(ModemGone):
    """The link failed after an SMS was handed to the modem (its PDU and Ctrl-Z written, or an
    earlier part of it confirmed): it may have gone out. Counts as a send attempt."""


class ModemTimeout(ModemError):
    """The modem did not answer a command in time, or stopped reading what we write."""


class CommandFailed(ModemError):
    """The modem answered a command with ERROR, +CME ERROR or +CMS ERROR."""

    def __init__(self, command: str, reply: str, code: int | None = None) -> None:
        super().__init__(f"{command!r} failed: {reply}")
        self.command = command
        self.reply = reply
        self.code = code


class SimPinError(ModemError):
    """The SIM needs a PIN/PUK, or the configured PIN is wrong. Never retried automatically."""


class SimPinRejected(SimPinError):
    """The SIM refused the configured PIN. The PIN is never sent again until a restart."""


class UpstreamError(Sms1708Error):
    """Forwarding a record upstream failed."""

    retry_after: float | None = None


class UpstreamUnreachable(UpstreamError):
    """The request never reached the server (DNS, refused, no route, TLS). Retry."""


class UpstreamAmbiguous(UpstreamError):
    """The request was sent but no answer came: the outcome is unknown. Retry, same key."""


class UpstreamRetryable(UpstreamError):
    """The server answered with a temporary failure (408, 425, 429, 5xx). Retry later."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class UpstreamNotAcknowledged(UpstreamRetryable):
    """The server answered 2xx/3xx with something that is not the upstream's acknowledgement
    (an HTML captive-portal or quota page, an empty or non-JSON body, a redirect). Not a
    delivery: retried with the same key, and an alarm says so."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message, status, None)


class UnusableTrackingId(Sms1708Error, ValueError):
    """A stored tracking id that cannot be put in a status URL (control characters, too long):
    a problem of that one complaint, never of the upstream link."""


class UpstreamRejected(UpstreamError):
    """The server refused the record (other 4xx). Goes to ``dead``; operators can replay."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------- errors without data

#: ``repr()`` of a UnicodeEncodeError/UnicodeDecodeError carries the whole string it failed
#: on, which for a citizen's SMS is the report itself
_UNICODE_REPR = re.compile(
    r"(Unicode(?:En|De)codeError)\(\s*'([^']*)',\s*(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
    r"|b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\"),\s*(\d+),\s*(\d+),\s*'([^']*)'\)",
    re.S,
)
TEXT_MARK = "[SMS text]"
#: upper-case hex with letters and digits, 24+ long: a PDU (keys and hashes are lower-case)
_PDU = re.compile(
    r"(?<![0-9A-Za-z])(?=[0-9A-F]*[A-F])(?=[0-9A-F]*[0-9])[0-9A-F]{24,}(?![0-9A-Za-z])"
)


def describe(e: BaseException) -> str:
    """An exception for a log line, a status field or an error text: its type and message,
    never the data it was handling (``repr`` of a UnicodeError holds the whole text)."""
    if isinstance(e, UnicodeEncodeError | UnicodeDecodeError | UnicodeTranslateError):
        codec = getattr(e, "encoding", "?")
        verb = "encode" if isinstance(e, UnicodeEncodeError) else "decode"
        return f"{type(e).__name__}: {codec} cannot {verb} at position {e.start}: {e.reason}"
    text = str(e)
    return f"{type(e).__name__}: {scrub(text)}" if text else type(e).__name__


def scrub(text: str) -> str:
    """``text`` with the data of any UnicodeError ``repr`` inside it removed, and any raw PDU
    (a run of 24 or more upper-case hex digits, as modems list them: it holds the sender's
    number in semi-octets and the SMS text) replaced by its length."""
    text = _UNICODE_REPR.sub(
        lambda m: (
            f"{m.group(1)}({m.group(2)!r}, {TEXT_MARK}, {m.group(3)}, {m.group(4)}, {m.group(5)!r})"
        ),
        text,
    )
    return _PDU.sub(lambda m: f"[PDU, {len(m.group(0)) // 2} bytes]", text)


def redact_texts(text: str, texts: Iterable[str | None]) -> str:
    """``text`` (an upstream's error answer, say) with every copy of the citizen's SMS texts
    replaced by ``[SMS text]``: whole, JSON-escaped, or their first 40 characters."""
    for t in sorted({t for t in texts if t and len(t.strip()) >= 4}, key=len, reverse=True):
        forms = {t, json.dumps(t, ensure_ascii=False)[1:-1], json.dumps(t)[1:-1]}
        if len(t) >= 20:
            forms |= {f[:40] for f in list(forms)}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, TEXT_MARK)
    return text


def safe_error(doing: str, e: BaseException) -> str:
    """What went wrong, for the quarantine record and the log, without the exception's message
    (it may quote the citizen's SMS text): its type and where in sms1708 it was raised."""
    where = ""
    for frame in traceback.extract_tb(e.__traceback__):
        if "/sms1708/" in frame.filename.replace("\\", "/"):
            module = frame.filename.replace("\\", "/").rsplit("/sms1708/", 1)[1]
            where = f" at {module}:{frame.lineno} ({frame.name})"
    return f"{doing} failed: {type(e).__name__}{where}"

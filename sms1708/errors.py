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


class UpstreamRejected(UpstreamError):
    """The server refused the record (other 4xx). Goes to ``dead``; operators can replay."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status

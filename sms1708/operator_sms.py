"""An SMS an operator sends from the command line (``sms1708 send``): which modem sends it, the
number as dialled, whether the text can be sent at all, and what to do when a guard refuses it.
It passes the same gate as every SMS the gateway sends (:mod:`sms1708.core.gate`)."""

from __future__ import annotations

from typing import Any

from sms1708 import config
from sms1708.core import gate
from sms1708.core.gate import COUNTED_GUARDS
from sms1708.core.pdu import encode_submit
from sms1708.errors import PduEncodeError

#: what a dialled number may hold besides digits and ``+``, dropped before sending
SEPARATORS = " -.()/"


class NotSendable(ValueError):
    """The SMS cannot be sent as asked (an unknown modem, a text no PDU holds); the message
    says why."""


def modem_name(cfg: config.Config, asked: str | None) -> str:
    """The modem asked for, else the first configured one."""
    names = [m.name for m in cfg.modems]
    name = asked or names[0]
    if name not in names:
        raise NotSendable(f"no modem named {name!r} (configured: {', '.join(names)})")
    return name


def dialled(number: str) -> str:
    """``0812-3456 7890`` -> ``081234567890``: the number without its separators."""
    return "".join(c for c in number.strip() if c not in SEPARATORS)


def check(number: str, text: str) -> None:
    """Raise :class:`NotSendable` when no SMS can carry ``text`` to ``number``."""
    try:
        encode_submit(number, text)
    except PduEncodeError as e:
        raise NotSendable(f"cannot send: {e}") from None


def queue(
    store: Any,
    cfg: config.Config,
    *,
    modem: str,
    number: str,
    text: str,
    now: float,
    force: bool,
    by: str,
) -> Any:
    """Queue it through the gate (a refusal is recorded as a suppressed reply); the Store's
    ``Queued`` says which reply, and any guard that refused it or that ``force`` passed."""
    out = gate.operator_sms(modem, number, text)
    return store.replies.queue(out, guard=cfg.replies.guard(), now=now, force=force, by=by)


def refusal_hint(refused: str) -> str:
    """What an operator can do about a refusal (``""``: nothing to do from here)."""
    if refused in COUNTED_GUARDS:
        return "; add --force to send it anyway (recorded with your name)"
    if refused == "blocked number":
        return "; `sms1708 unblock` it first if it should get SMS again"
    return ""

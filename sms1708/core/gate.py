"""The one gate every SMS the gateway sends passes (promise P11). Pure: time is a parameter.

Receipts, help texts, answers to CEK, tracking ids, status changes and an operator's
``sms1708 send`` are all decided here, by :func:`decide`, from what the store saw of the
recent traffic (:class:`History`). The store records the outcome in one place
(``store/sendgate.py``): an allowed SMS is queued, a refused one is kept as ``suppressed`` with
the reason. Nothing the gateway sends is queued any other way.

The guards, in the order they are checked:

1. never: a name (alphanumeric sender), anything that is not a plain phone number, a short
   code, the gateway's own number, a number in ``replies.block_list``, a number blocked with
   ``sms1708 block``. No override.
2. automatic SMS only: ``replies.enabled = false``; a tracking id or status change for a report
   whose receipt was not sent (the citizen who was not answered is not texted later either).
3. counted (an operator's ``send --force`` may pass these, and the override is recorded):
   the same text again and again from the number (loop), more than ``per_sender_per_hour``
   SMS to the number in any hour, more than ``daily_budget`` SMS from the modem today.

The hourly ceiling of the gateway SIM (``replies.max_per_hour``) is not a refusal: it delays.
It is applied when an SMS is about to go out (retries spend the SIM too), by
:func:`ceiling_until`, for every SMS alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sms1708.core.replies import Guard, digits_of, near_identical, same_number

HOUR = 3600.0

#: purposes of SMS the gateway sends by itself, following a report it already answered
FOLLOW_UPS = frozenset({"tracking", "status_change"})
#: the operator's own SMS (`sms1708 send`): not an automatic reply
OPERATOR = "operator"
LOOP = "loop: same text again and again"
RATE = "rate limit for this number"
BUDGET = "daily reply budget reached"
#: the guards an operator's `send --force` may pass
COUNTED_GUARDS = frozenset({LOOP, RATE, BUDGET})


@dataclass(frozen=True)
class Outgoing:
    """One SMS the gateway wants to send."""

    modem: str
    recipient: str
    text: str
    purpose: str  # receipt | bantuan | status | tracking | status_change | operator
    recipient_type: str = "unknown"  # the sender type of the PDU it answers, where there is one
    message_id: int | None = None
    #: the citizen's SMS this answers (receipts, help, CEK): for the loop guard
    answers_text: str | None = None


@dataclass(frozen=True)
class History:
    """What the store saw, for one decision. Times are unix seconds."""

    #: when earlier SMS to this number (any spelling) were queued, refused ones not counted;
    #: at least those of the last hour
    to_number: Sequence[float] = ()
    #: when SMS on this modem were queued since ``day_start``, refused ones not counted
    by_modem_today: Sequence[float] = ()
    day_start: float = 0.0  # the box's local midnight before now
    #: earlier SMS from this number within the last hour: (stored at, text)
    from_number: Sequence[tuple[float, str]] = ()
    blocked: bool = False  # blocked with `sms1708 block`
    #: for a follow-up: why its report's receipt was not sent (None: it was)
    receipt_refused: str | None = None


@dataclass(frozen=True)
class Verdict:
    refused: str | None  # the reason, or None: queue it
    overridden: str | None = None  # with force: the counted guard it passed

    @property
    def allowed(self) -> bool:
        return self.refused is None


def _never(out: Outgoing, guard: Guard, history: History) -> str | None:
    if out.recipient_type == "alphanumeric":
        return "alphanumeric sender"
    digits = digits_of(out.recipient)
    if not digits or any(c not in "+0123456789" for c in out.recipient):
        return "not a phone number"
    if len(digits) < guard.min_sender_digits:
        return "short code"
    if guard.own_number and same_number(out.recipient, guard.own_number):
        return "own number"
    if any(same_number(out.recipient, b) for b in guard.block_list):
        return "block list"
    if history.blocked:
        return "blocked number"
    return None


def _counted(out: Outgoing, guard: Guard, history: History, now: float) -> str | None:
    if out.answers_text is not None:
        similar = sum(
            1
            for at, text in history.from_number
            if now - HOUR <= at <= now and near_identical(text, out.answers_text)
        )
        if similar + 1 >= guard.loop_repeats:
            return LOOP
    if sum(1 for t in history.to_number if now - HOUR <= t <= now) >= guard.per_sender_per_hour:
        return RATE
    today = sum(1 for t in history.by_modem_today if history.day_start <= t <= now)
    if today >= guard.daily_budget:
        return BUDGET
    return None


def decide(
    out: Outgoing, guard: Guard, history: History, *, now: float, force: bool = False
) -> Verdict:
    """May ``out`` be queued now? ``force`` (an operator's explicit override, for
    ``purpose == "operator"`` only) passes the counted guards, never the others."""
    never = _never(out, guard, history)
    if never is not None:
        return Verdict(never)
    if out.purpose != OPERATOR:
        if not guard.enabled:
            return Verdict("replies disabled")
        if out.purpose in FOLLOW_UPS and history.receipt_refused is not None:
            return Verdict(f"no receipt was sent ({history.receipt_refused})"[:200])
    counted = _counted(out, guard, history, now)
    if counted is not None:
        if force and out.purpose == OPERATOR:
            return Verdict(None, overridden=counted)
        return Verdict(counted)
    return Verdict(None)


def ceiling_until(sent: Sequence[float], *, max_per_hour: int, now: float) -> float | None:
    """When the modem may send again, if it sent ``max_per_hour`` SMS in the last hour
    (``sent``: when its SMS went out). None: it may send now.

    Operators treat a burst of SMS from one number as spam (XL: more than 360 an hour);
    staying well below keeps the gateway's SIM alive.
    """
    recent = sorted((t for t in sent if t > now - HOUR), reverse=True)
    if len(recent) < max_per_hour:
        return None
    return recent[max_per_hour - 1] + HOUR
